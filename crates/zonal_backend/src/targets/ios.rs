//! Cisco IOS / IOS-XE named extended ACLs (stateless).
//!
//! Without interface binding there is one IPv4 ACL and one IPv6 ACL that
//! filter by address; with a binding that names interfaces, each zone gets
//! an inbound ACL on its interface. A stateless ACL must let the replies of
//! permitted connections through even where a deny rule covers the reverse
//! direction, so the denies are subtracted from the allows first (as
//! unions of address × address × service products) and an ACL holds, in
//! order:
//! 1. the permits (what the policy allows, denies already taken out);
//! 2. their replies: TCP `permit tcp DST eq PORT SRC established`, scoped
//!    to the exact hosts and ports (never a `permit tcp host X eq 104 any`
//!    hole), UDP `permit udp DST eq PORT SRC`, ICMP echo replies, other
//!    protocols in reverse; for "any service" permits, the TCP and ICMP
//!    packets that are not replies are refused before `permit ip DST SRC`;
//! 3. the explicit denies (they log; nothing they match is permitted above);
//! 4. on IPv6, the neighbour-discovery permits IOS would otherwise lose,
//!    then `deny … any any log`.
//!
//! IPv4 address lists use `object-group network`; IPv6 entries are expanded.

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Family, Prefix};

use crate::escape::{self, Namer};
use crate::plan::{AddressBook, Entry, FamilyServices, FirewallPlan, Header};
use crate::{Artifact, Target, Templates};

const T: Target = Target::Ios;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.ios.j2",
    include_str!("../../../../templates/ios/main.ios.j2"),
)];

#[derive(Serialize)]
struct IosView {
    header: Header,
    groups: Vec<Group>,
    acls: Vec<Acl>,
    interfaces: Vec<Interface>,
    notes: Vec<String>,
    rule_count: usize,
}

#[derive(Serialize)]
struct Group {
    name: String,
    description: String,
    members: Vec<String>,
}

#[derive(Serialize)]
struct Acl {
    name: String,
    v6: bool,
    aces: Vec<Ace>,
    /// The final deny (`ip` or `ipv6`).
    final_proto: &'static str,
}

#[derive(Serialize)]
struct Ace {
    /// A remark line before the entry, if any.
    remark: Option<String>,
    /// The entry (`permit tcp host 10.0.0.1 …`).
    text: String,
}

#[derive(Serialize)]
struct Interface {
    name: String,
    zone: String,
    acl4: Option<String>,
    acl6: Option<String>,
}

/// Renders the IOS configuration.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view_model(plan);
    let text = crate::env::render_template(T, templates, "main.ios.j2", &view, db)?;
    Ok(vec![Artifact {
        extension: T.extension().into(),
        text,
        rule_count: view.rule_count,
        warnings: Diagnostics::new(),
    }])
}

/// Entries of one ACL by section.
#[derive(Default)]
struct Sections {
    permit: Vec<Ace>,
    reverse: Vec<Ace>,
    tail: Vec<Ace>,
    deny: Vec<Ace>,
}

impl Sections {
    /// Permits (denies already subtracted), the replies of what they
    /// permit, the tail of "any service" replies, then the explicit denies
    /// (for logging: nothing they match is permitted above).
    fn into_aces(self) -> Vec<Ace> {
        let mut out = self.permit;
        out.extend(self.reverse);
        out.extend(self.tail);
        out.extend(self.deny);
        out
    }
}

struct Ctx<'a> {
    plan: &'a FirewallPlan<'a>,
    namer: Namer,
    book: AddressBook,
    log_deny: bool,
    log_allow: bool,
}

#[expect(
    clippy::too_many_lines,
    reason = "builds the whole view model in the order the template writes it (permits, replies, denies)"
)]
fn view_model(plan: &FirewallPlan<'_>) -> IosView {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut cx = Ctx {
        plan,
        namer: Namer::new(),
        book: AddressBook::default(),
        log_deny: fw.logging.deny,
        log_allow: fw.logging.allow,
    };
    let base = escape::ident(T, "", &fw.naming.acl);
    let mut acls = Vec::new();
    let mut interfaces = Vec::new();
    if plan.by_interface {
        for (zi, zone) in plan.zone_ids() {
            let Some(ifname) = &zone.interface else {
                continue;
            };
            let mut names = [None, None];
            for (k, fam) in [Family::V4, Family::V6].into_iter().enumerate() {
                let mut sec = Sections::default();
                for pair in &plan.pairs {
                    let effective = subtract_denies(&pair.entries);
                    if pair.src == zi {
                        for e in pair
                            .entries
                            .iter()
                            .filter(|e| e.action() == Action::Deny)
                            .chain(&effective)
                        {
                            forward(&mut cx, &mut sec, e, fam);
                        }
                    }
                    if pair.dst == zi {
                        for e in &effective {
                            returns(&mut cx, &mut sec, e, fam);
                        }
                    }
                }
                let suffix = if fam == Family::V4 { "V4" } else { "V6" };
                let name = cx
                    .namer
                    .name(T, "", &format!("{base}_{}_{suffix}_IN", zone.name));
                names[k] = Some(name.clone());
                acls.push(acl(name, fam, sec));
            }
            let [acl4, acl6] = names;
            interfaces.push(Interface {
                name: ifname.clone(),
                zone: escape::comment(T, &zone.name),
                acl4,
                acl6,
            });
        }
    } else {
        let entries = plan.by_rule();
        for fam in [Family::V4, Family::V6] {
            let mut sec = Sections::default();
            let effective = subtract_denies(&entries);
            for e in entries
                .iter()
                .filter(|e| e.action() == Action::Deny)
                .chain(&effective)
            {
                forward(&mut cx, &mut sec, e, fam);
            }
            for e in &effective {
                returns(&mut cx, &mut sec, e, fam);
            }
            let suffix = if fam == Family::V4 { "V4" } else { "V6" };
            let name = cx.namer.unique(T, format!("{base}_{suffix}"));
            acls.push(acl(name, fam, sec));
        }
    }
    let groups = cx
        .book
        .objects()
        .iter()
        .map(|o| Group {
            name: o.name.clone(),
            description: escape::comment(T, &o.what),
            members: o.set.to_prefixes().iter().map(member).collect(),
        })
        .collect();
    let mut notes: Vec<String> = plan.notes.iter().map(|n| escape::comment(T, n)).collect();
    for fam in [Family::V4, Family::V6] {
        notes.extend(plan.family_notes(fam).iter().map(|n| escape::comment(T, n)));
    }
    notes.push(escape::comment(
        T,
        "stateless ACLs: return TCP traffic is permitted with established (ACK or RST set), UDP and ICMP replies by exact reverse entries",
    ));
    let rule_count = acls
        .iter()
        .map(|a| {
            a.aces.len()
                + if a.v6 {
                    V6_TEMPLATE_ACES
                } else {
                    TEMPLATE_ACES
                }
        })
        .sum();
    IosView {
        header: Header::new(policy, fw, T),
        groups,
        acls,
        interfaces,
        notes,
        rule_count,
    }
}

/// The ACEs `main.ios.j2` ends every ACL with: the explicit default deny.
const TEMPLATE_ACES: usize = 1;
/// The same for IPv6 ACLs: neighbour discovery (two ACEs) and the deny.
const V6_TEMPLATE_ACES: usize = 3;

fn acl(name: String, fam: Family, sec: Sections) -> Acl {
    let v6 = fam == Family::V6;
    Acl {
        name,
        v6,
        aces: sec.into_aces(),
        final_proto: if v6 { "ipv6" } else { "ip" },
    }
}

/// An object-group member line for an IPv4 prefix.
fn member(p: &Prefix) -> String {
    if p.is_host() {
        format!("host {}", p.addr())
    } else {
        format!("{} {}", p.addr(), p.netmask())
    }
}

/// Address operands of one side: `host A`, `A WILDCARD`, `P/len`, `any`,
/// or `object-group G` (IPv4 lists).
fn operands(cx: &mut Ctx<'_>, set: &AddrSet, fam: Family, fallback: &str) -> Vec<String> {
    let prefixes = set.to_prefixes();
    let one = |p: &Prefix| -> String {
        if p.len() == 0 {
            "any".to_string()
        } else if p.is_host() {
            format!("host {}", p.addr())
        } else if fam == Family::V4 {
            format!("{} {}", p.addr(), p.hostmask())
        } else {
            p.to_string()
        }
    };
    if prefixes.len() <= 1 || fam == Family::V6 {
        return prefixes.iter().map(one).collect();
    }
    let hint = cx
        .plan
        .describe(set)
        .unwrap_or_else(|| fallback.to_string());
    let name = cx
        .book
        .intern(&mut cx.namer, T, "og_", set, &format!("{hint}_v4"));
    vec![format!("object-group {name}")]
}

/// Service items: `(protocol, destination port operator or ICMP type)`.
fn items(fs: &FamilyServices, fam: Family) -> Vec<(String, String)> {
    let ipkw = if fam == Family::V4 { "ip" } else { "ipv6" };
    if fs.all {
        return vec![(ipkw.to_string(), String::new())];
    }
    let mut out = Vec::new();
    for s in &fs.protos {
        let name = match s.proto {
            TCP => "tcp".to_string(),
            UDP => "udp".to_string(),
            ICMP | ICMPV6 => "icmp".to_string(),
            50 => "esp".to_string(),
            51 => "ahp".to_string(),
            47 => "gre".to_string(),
            p => p.to_string(),
        };
        if s.whole {
            out.push((name, String::new()));
            continue;
        }
        match s.proto {
            TCP | UDP => {
                for &(a, b) in &s.ranges {
                    let op = if a == b {
                        format!("eq {a}")
                    } else {
                        format!("range {a} {b}")
                    };
                    out.push((name.clone(), op));
                }
            }
            ICMP | ICMPV6 => {
                for &(a, b) in &s.ranges {
                    for t in a..=b {
                        out.push((name.clone(), t.to_string()));
                    }
                }
            }
            _ => out.push((name, String::new())),
        }
    }
    out
}

/// The forward entries of one entry (permit or deny).
fn forward(cx: &mut Ctx<'_>, sec: &mut Sections, e: &Entry<'_>, fam: Family) {
    let Ok(fe) = e.family(fam) else { return };
    let srcs = operands(cx, &fe.src, fam, &format!("{}_src", e.name()));
    let dsts = operands(cx, &fe.dst, fam, &format!("{}_dst", e.name()));
    let (verb, log, list) = match e.action() {
        Action::Deny => ("deny", cx.log_deny, &mut sec.deny),
        Action::Allow => ("permit", cx.log_allow, &mut sec.permit),
    };
    let mut remark = Some(e.comment(T));
    for (proto, op) in items(&fe.services, fam) {
        for s in &srcs {
            for d in &dsts {
                let text = join(&[verb, &proto, s, d, &op, if log { "log" } else { "" }]);
                list.push(Ace {
                    remark: remark.take(),
                    text,
                });
            }
        }
    }
}

/// The return-traffic entries of a permit: TCP `established` (exact hosts
/// and source ports), UDP and other protocols as exact reverse entries,
/// ICMP echo replies.
fn returns(cx: &mut Ctx<'_>, sec: &mut Sections, e: &Entry<'_>, fam: Family) {
    if e.action() != Action::Allow {
        return;
    }
    let Ok(fe) = e.family(fam) else { return };
    let srcs = operands(cx, &fe.src, fam, &format!("{}_src", e.name()));
    let dsts = operands(cx, &fe.dst, fam, &format!("{}_dst", e.name()));
    let echo_request = if fam == Family::V4 { "8" } else { "128" };
    let echo_reply = if fam == Family::V4 { "0" } else { "129" };
    let mut remark = Some(escape::comment(
        T,
        &format!("return traffic of {}", e.name()),
    ));
    let ipkw = if fam == Family::V4 { "ip" } else { "ipv6" };
    for (proto, op) in items(&fe.services, fam) {
        // (protocol, source port operator, trailing keyword) of the replies.
        let replies: Vec<(&str, String, &str)> = match proto.as_str() {
            "ip" | "ipv6" => vec![
                ("tcp", String::new(), "established"),
                ("udp", String::new(), ""),
                ("icmp", String::new(), echo_reply),
            ],
            "tcp" => vec![("tcp", op.clone(), "established")],
            "icmp" if op == echo_request || op.is_empty() => {
                vec![("icmp", String::new(), echo_reply)]
            }
            // Other ICMP types have no reply.
            "icmp" => Vec::new(),
            other => vec![(other, op.clone(), "")],
        };
        for s in &srcs {
            for d in &dsts {
                // Reply: from the listener (source port = the service port)
                // back to the initiator.
                for (p, src_op, tail) in &replies {
                    let text = join(&["permit", p, d, src_op, s, tail]);
                    sec.reverse.push(Ace {
                        remark: remark.take(),
                        text,
                    });
                }
                if proto == ipkw {
                    // Replies of every other protocol: after the TCP and
                    // ICMP replies above, refuse the rest of TCP and ICMP
                    // from the listener, then permit the other protocols.
                    for text in [
                        join(&["deny tcp", d, s]),
                        join(&["deny icmp", d, s]),
                        join(&["permit", ipkw, d, s]),
                    ] {
                        sec.tail.push(Ace { remark: None, text });
                    }
                }
            }
        }
    }
}

/// The allow entries with every deny entry of the same list subtracted
/// (as unions of products), so that an ACL can permit without a deny in
/// front: a stateless ACL must let the replies of permitted connections
/// through even where a deny covers the reverse direction, so denies
/// cannot come first.
fn subtract_denies<'p>(entries: &[Entry<'p>]) -> Vec<Entry<'p>> {
    let denies: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| e.action() == Action::Deny)
        .collect();
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.action() == Action::Allow) {
        let mut pieces = vec![(e.src.clone(), e.dst.clone(), e.services.clone())];
        for d in &denies {
            let mut next = Vec::new();
            for (s, t, v) in pieces {
                let (si, ti, vi) = (
                    s.intersect(&d.src),
                    t.intersect(&d.dst),
                    v.intersect(&d.services),
                );
                if si.is_empty() || ti.is_empty() || vi.is_empty() {
                    next.push((s, t, v));
                    continue;
                }
                next.push((s.subtract(&d.src), t.clone(), v.clone()));
                next.push((si.clone(), t.subtract(&d.dst), v.clone()));
                next.push((si, ti, v.subtract(&d.services)));
            }
            pieces = next
                .into_iter()
                .filter(|(s, t, v)| !s.is_empty() && !t.is_empty() && !v.is_empty())
                .collect();
        }
        for (s, t, v) in pieces {
            out.push(Entry {
                src: s,
                dst: t,
                services: v,
                ..e.clone()
            });
        }
    }
    out
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy with one allow rule (`a`) and one deny rule (`d`).
    fn two_rules() -> zonal_model::Policy {
        use crate::targets::vendor::fixture::{R, policy};
        let any = zonal_model::ServiceSet::any();
        policy(
            &[("all", &["0.0.0.0/0"][..])],
            vec![
                R::allow("a", &["any"], &["any"], any.clone()),
                R::deny("d", &["any"], &["any"], any),
            ],
        )
    }

    fn entry<'p>(
        policy: &'p zonal_model::Policy,
        action: Action,
        src: &str,
        dst: &str,
        services: zonal_model::ServiceSet,
    ) -> Entry<'p> {
        let set = |p: &str| AddrSet::from_prefixes(&[Prefix::parse(p).unwrap()]);
        let rule = policy
            .rules
            .iter()
            .find(|r| r.action == action)
            .expect("a rule of the action");
        Entry {
            rule,
            also: Vec::new(),
            src: set(src),
            dst: set(dst),
            services,
        }
    }

    #[test]
    fn denies_are_subtracted_exactly() {
        use zonal_model::service::TCP;
        let dicom = zonal_model::ServiceSet::ports(TCP, 104, 104);
        let p = two_rules();
        let allow = entry(
            &p,
            Action::Allow,
            "10.0.0.0/24",
            "10.1.0.0/24",
            dicom.clone(),
        );
        let deny = entry(
            &p,
            Action::Deny,
            "10.0.0.5/32",
            "10.1.0.0/25",
            zonal_model::ServiceSet::whole_proto(TCP),
        );
        let out = subtract_denies(&[allow.clone(), deny]);
        let covers = |ip: &str, dst: &str| {
            out.iter().any(|e| {
                e.src.contains(ip.parse().unwrap())
                    && e.dst.contains(dst.parse().unwrap())
                    && e.services == dicom
            })
        };
        assert!(covers("10.0.0.4", "10.1.0.1"));
        assert!(!covers("10.0.0.5", "10.1.0.1"));
        assert!(covers("10.0.0.5", "10.1.0.200"));
        assert!(out.iter().all(|e| e.action() == Action::Allow));
        // Without denies the allow is unchanged.
        assert_eq!(subtract_denies(std::slice::from_ref(&allow)).len(), 1);
    }

    #[test]
    fn members_and_join() {
        assert_eq!(
            member(&Prefix::parse("10.0.0.0/24").unwrap()),
            "10.0.0.0 255.255.255.0"
        );
        assert_eq!(
            member(&Prefix::parse("10.0.0.5/32").unwrap()),
            "host 10.0.0.5"
        );
        assert_eq!(join(&["permit", "tcp", "", "any"]), "permit tcp any");
    }
}
