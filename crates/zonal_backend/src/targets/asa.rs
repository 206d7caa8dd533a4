//! Cisco ASA: one inbound ACL per interface (zone), object groups for
//! addresses and services, an explicit `deny ip any any log` at the end of
//! every ACL, and same-security traffic disabled so that only the ACLs
//! decide.
//!
//! Every interface gets an ACL, so security levels never permit anything by
//! themselves: an ACE is needed for every flow. ACL names carry the policy
//! digest: loading a new version creates new ACLs, and `access-group`
//! rebinds each interface in one step, with no window where an interface
//! has no ACL. Object-group names carry a hash of their content, so
//! re-pasting never adds members to a group an ACE already uses.
//!
//! Same-security traffic (between interfaces of equal level, and hairpin
//! traffic of a zone with several networks) is permitted: with an ACL on
//! every interface this lets the ACLs decide alone, where `no
//! same-security-traffic` would silently drop flows the policy allows
//! (every `nameif` but `inside` defaults to level 0).
//!
//! An ACL is bound inbound on the source zone's interface, so one ACE covers
//! every destination zone of a rule: the destinations of one rule, source
//! and service are merged across zone pairs.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family, Prefix};

use super::vendor::{self, Placed};
use crate::escape::{Namer, comment, comment_max};
use crate::objects::ObjectBook;
use crate::plan::{FamilyServices, FirewallPlan, Header, family_name};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] =
    &[("main.j2", include_str!("../../../../templates/asa/main.j2"))];

/// Remark lines are at most this long.
const REMARK_MAX: usize = 100;

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view(plan);
    vendor::single_artifact(Target::Asa, templates, db, &view, view.rule_count)
}

/// The view model of `templates/asa/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AsaView {
    /// Header.
    pub(crate) header: Header,
    /// `object-group network` blocks.
    pub(crate) network_groups: Vec<Group>,
    /// `object-group service` blocks.
    pub(crate) service_groups: Vec<Group>,
    /// `time-range` blocks for rules with `until`.
    pub(crate) time_ranges: Vec<TimeRange>,
    /// One ACL per interface.
    pub(crate) acls: Vec<Acl>,
    /// Whether ICMP is permitted (then `inspect icmp` is enabled so that
    /// replies pass as return traffic).
    pub(crate) inspect_icmp: bool,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of ACEs, including the final denies.
    pub(crate) rule_count: usize,
}

/// An object group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    /// Its name.
    pub(crate) name: String,
    /// Its description.
    pub(crate) description: String,
    /// `network-object …` / `service-object …` operands, one per line.
    pub(crate) members: Vec<String>,
}

/// A `time-range`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TimeRange {
    /// Its name.
    pub(crate) name: String,
    /// `HH:MM DD Month YYYY`.
    pub(crate) end: String,
}

/// One interface ACL.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Acl {
    /// ACL name.
    pub(crate) name: String,
    /// Interface `nameif`.
    pub(crate) interface: String,
    /// Zonal zone name (sanitised).
    pub(crate) zone: String,
    /// The ACEs, denies first.
    pub(crate) aces: Vec<Ace>,
}

/// One ACE with its remarks.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Ace {
    /// Remark lines (each within the remark limit).
    pub(crate) remarks: Vec<String>,
    /// `permit` or `deny`.
    pub(crate) action: String,
    /// The rest of the ACE after the action (protocol or service group,
    /// source, destination, ports, options), as tokens.
    pub(crate) tokens: Vec<String>,
}

/// Builds the ASA view of a policy for a firewall.
pub(crate) fn view(plan: &FirewallPlan<'_>) -> AsaView {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    let tag = policy.digest.get(..8).unwrap_or(&policy.digest);
    let mut acls: Vec<Acl> = plan
        .zones
        .iter()
        .map(|z| Acl {
            name: b.namer.name(
                Target::Asa,
                "",
                &format!("{}_{}_IN_{tag}", firewall.naming.acl, z.name),
            ),
            interface: vendor::zone_name(Target::Asa, z),
            zone: comment(Target::Asa, &z.name),
            aces: Vec::new(),
        })
        .collect();
    let mut inspect_icmp = false;
    // One ACE per (source zone, rule, family, source, services): the
    // destinations of the zone pairs are merged, which is exact since the
    // ACL is bound on the source interface.
    let mut merged: Vec<(Placed<'_>, AddrSet)> = Vec::new();
    for p in vendor::placed(plan) {
        let same = merged.iter_mut().find(|(q, _)| {
            q.src == p.src
                && q.family == p.family
                && q.entry().rule.id == p.entry().rule.id
                && q.fe.src == p.fe.src
                && q.fe.services == p.fe.services
        });
        match same {
            Some((_, dst)) => *dst = dst.union(&p.fe.dst),
            None => {
                let dst = p.fe.dst.clone();
                merged.push((p, dst));
            }
        }
    }
    for (p, dst) in &merged {
        let e = p.entry();
        inspect_icmp |= e.action() == Action::Allow
            && (p.fe.services.all
                || p.fe
                    .services
                    .protos
                    .iter()
                    .any(|s| s.proto == ICMP || s.proto == ICMPV6));
        let ace = b.ace(plan, p, dst, firewall);
        if let Some(acl) = acls.get_mut(p.src.index()) {
            acl.aces.push(ace);
        }
    }
    // Every ACL ends with the template's `deny ip any any log`.
    let rule_count = acls.iter().map(|a| a.aces.len() + 1).sum();
    AsaView {
        header: Header::new(policy, firewall, Target::Asa),
        network_groups: b
            .network_groups
            .in_key_order()
            .into_iter()
            .map(|o| o.value)
            .collect(),
        service_groups: b.service_groups.into_values().collect(),
        time_ranges: b.time_ranges.into_values().collect(),
        acls,
        inspect_icmp,
        notes: vendor::notes(plan)
            .iter()
            .map(|n| comment_max(n, 400))
            .collect(),
        rule_count,
    }
}

#[derive(Default)]
struct Builder {
    namer: Namer,
    /// Keyed by content, so equal groups are shared.
    network_groups: ObjectBook<String, Group>,
    service_groups: BTreeMap<String, Group>,
    time_ranges: BTreeMap<Date, TimeRange>,
}

impl Builder {
    fn ace(
        &mut self,
        plan: &FirewallPlan<'_>,
        p: &Placed<'_>,
        dst: &AddrSet,
        firewall: &Firewall,
    ) -> Ace {
        let e = p.entry();
        let zone = plan[p.src].name.as_str();
        let mut tokens = Vec::new();
        let (proto, tail) = self.service(e.name(), &p.fe.services, p.family);
        tokens.extend(proto);
        tokens.extend(self.address(&format!("{}_{zone}_src", e.name()), &p.fe.src, p.family));
        tokens.extend(self.address(&format!("{}_dst", e.name()), dst, p.family));
        tokens.extend(tail);
        let log = match e.action() {
            Action::Allow => firewall.logging.allow,
            Action::Deny => firewall.logging.deny,
        };
        if log {
            tokens.push("log".into());
        }
        if let Some(until) = e.until() {
            tokens.push("time-range".into());
            tokens.push(self.time_range(until));
        }
        let remark = format!("{} ({zone} {})", e.comment_raw(), family_name(p.family));
        Ace {
            remarks: vendor::split_lines(&comment_max(&remark, 4 * REMARK_MAX), REMARK_MAX),
            action: match e.action() {
                Action::Allow => "permit".into(),
                Action::Deny => "deny".into(),
            },
            tokens,
        }
    }

    /// The protocol tokens before the addresses and the port or type tokens
    /// after them.
    fn service(
        &mut self,
        rule: &str,
        s: &FamilyServices,
        family: Family,
    ) -> (Vec<String>, Vec<String>) {
        if s.all {
            return (vec!["ip".into()], Vec::new());
        }
        if let [one] = s.protos.as_slice() {
            let name = asa_proto(one.proto);
            if one.whole {
                return (vec![name], Vec::new());
            }
            if let [(lo, hi)] = one.ranges.as_slice() {
                match one.proto {
                    TCP | UDP if lo == hi => {
                        return (vec![name], vec!["eq".into(), lo.to_string()]);
                    }
                    TCP | UDP => {
                        return (
                            vec![name],
                            vec!["range".into(), lo.to_string(), hi.to_string()],
                        );
                    }
                    ICMP | ICMPV6 if lo == hi => return (vec![name], vec![lo.to_string()]),
                    _ => {}
                }
            }
        }
        let mut members = Vec::new();
        for ps in &s.protos {
            let name = asa_proto(ps.proto);
            if ps.whole {
                members.push(name);
                continue;
            }
            for &(lo, hi) in &ps.ranges {
                match ps.proto {
                    TCP | UDP if lo == hi => members.push(format!("{name} destination eq {lo}")),
                    TCP | UDP => members.push(format!("{name} destination range {lo} {hi}")),
                    _ => members.extend((lo..=hi).map(|t| format!("{name} {t}"))),
                }
            }
        }
        let key = members.join("|");
        let name = match self.service_groups.get(&key) {
            Some(g) => g.name.clone(),
            None => {
                let raw = format!("{rule}_{}", vendor::content_hash(&key));
                let name = self.namer.name(Target::Asa, "SVC_", &raw);
                let description = comment(
                    Target::Asa,
                    &format!("services of {rule} ({})", family_name(family)),
                );
                self.service_groups.insert(
                    key,
                    Group {
                        name: name.clone(),
                        description,
                        members,
                    },
                );
                name
            }
        };
        (vec!["object-group".into(), name], Vec::new())
    }

    /// The tokens of one address operand.
    fn address(&mut self, hint: &str, a: &AddrSet, family: Family) -> Vec<String> {
        if *a == AddrSet::full_family(family) {
            return vec![match family {
                Family::V4 => "any4".into(),
                Family::V6 => "any6".into(),
            }];
        }
        let prefixes = a.to_prefixes();
        if let [p] = prefixes.as_slice() {
            return address_tokens(p);
        }
        let members: Vec<String> = prefixes
            .iter()
            .map(|p| address_tokens(p).join(" "))
            .collect();
        let namer = &mut self.namer;
        let name = self.network_groups.intern(members.join("|"), |key| {
            let raw = format!("{hint}_{}", vendor::content_hash(key));
            let name = namer.name(Target::Asa, "NET_", &raw);
            let description = comment(
                Target::Asa,
                &format!(
                    "{hint}: {} {} prefixes",
                    prefixes.len(),
                    family_name(family)
                ),
            );
            let group = Group {
                name: name.clone(),
                description,
                members,
            };
            (name, group)
        });
        vec!["object-group".into(), name]
    }

    fn time_range(&mut self, until: Date) -> String {
        let namer = &mut self.namer;
        self.time_ranges
            .entry(until)
            .or_insert_with(|| TimeRange {
                name: namer.name(Target::Asa, "UNTIL_", &until.to_string()),
                end: format!(
                    "23:59 {} {} {}",
                    until.day,
                    vendor::month_name(until.month),
                    until.year
                ),
            })
            .name
            .clone()
    }
}

/// The ASA protocol keyword.
fn asa_proto(p: u8) -> String {
    match p {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmp6".into(),
        n => n.to_string(),
    }
}

/// `host A`, `A MASK`, or `A/len` for IPv6.
fn address_tokens(p: &Prefix) -> Vec<String> {
    if p.is_host() {
        vec!["host".into(), p.addr().to_string()]
    } else if p.is_v4() {
        vec![p.addr().to_string(), p.netmask().to_string()]
    } else {
        vec![p.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::{ICMP, TCP};

    use super::*;
    use crate::Request;
    use crate::Templates;
    use crate::targets::vendor::fixture::{R, policy, zones};
    use zonal_model::Policy;

    fn render_text(p: &Policy) -> String {
        let fw = Firewall::by_address("fw");
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let mut db = SourceDb::new();
        let out = crate::render(Target::Asa, &req, &mut db).expect("renders");
        out.artifacts.into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn every_interface_gets_an_acl_ending_in_deny() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.5"],
                &["10.30.0.0/24"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        for nameif in ["imaging", "pacs", "legacy", "internet"] {
            let line = out.lines().find(|l| {
                l.starts_with("access-group ") && l.ends_with(&format!(" in interface {nameif}"))
            });
            let line = line.unwrap_or_else(|| panic!("no access-group for {nameif}:\n{out}"));
            let acl = line.split(' ').nth(1).unwrap();
            let last = out
                .lines()
                .rfind(|l| l.starts_with(&format!("access-list {acl} extended")))
                .unwrap();
            assert_eq!(
                last,
                format!("access-list {acl} extended deny ip any any log")
            );
        }
        // Equal security levels and hairpins reach the ACLs, which decide alone.
        assert!(
            out.lines()
                .any(|l| l == "same-security-traffic permit inter-interface")
        );
        assert!(
            out.lines()
                .any(|l| l == "same-security-traffic permit intra-interface")
        );
        assert!(
            out.contains("extended permit tcp host 10.20.0.5 10.30.0.0 255.255.255.0 eq 104"),
            "{out}"
        );
    }

    #[test]
    fn never_widens_a_family_without_addresses() {
        // IPv4-only source, dual-stack destination: no IPv6 ACE, and no `any`.
        let p = policy(
            &zones(),
            vec![R::allow(
                "v4only",
                &["10.40.0.7"],
                &["10.20.0.0/24", "2001:db8:20::/64"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        let out = render_text(&p);
        let aces: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(" extended permit"))
            .collect();
        assert_eq!(
            aces,
            [
                "access-list ZONAL_LEGACY_IN_01234567 extended permit tcp host 10.40.0.7 10.20.0.0 255.255.255.0 eq 443"
            ]
        );
        assert!(out.contains("v4only is not rendered for IPv6"), "{out}");
    }

    #[test]
    fn denies_come_first_and_expiry_is_a_time_range() {
        let mut allow = R::allow(
            "vendor",
            &["any"],
            &["10.20.0.5"],
            ServiceSet::ports(TCP, 3389, 3389),
        );
        allow.until = Date::new(2026, 12, 31);
        let p = policy(
            &zones(),
            vec![
                allow,
                R::deny(
                    "block",
                    &["10.40.0.0/24"],
                    &["10.20.0.0/24"],
                    ServiceSet::any(),
                ),
            ],
        );
        let out = render_text(&p);
        let acl: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("access-list ZONAL_LEGACY_IN_01234567 extended"))
            .collect();
        assert_eq!(acl.len(), 3, "{out}");
        assert!(
            acl[0].contains("extended deny ip 10.40.0.0 255.255.255.0 10.20.0.0 255.255.255.0 log"),
            "{}",
            acl[0]
        );
        assert!(acl[1].contains(
            "permit tcp 10.40.0.0 255.255.255.0 host 10.20.0.5 eq 3389 time-range UNTIL_2026_12_31"
        ));
        assert!(
            out.contains("time-range UNTIL_2026_12_31\n absolute end 23:59 31 December 2026\n"),
            "{out}"
        );
    }

    #[test]
    fn icmp_uses_groups_and_inspection() {
        let svc = ServiceSet::proto(ICMP, zonal_model::sets::IntervalSet::single(8))
            .union(&ServiceSet::ports(TCP, 104, 105));
        let p = policy(
            &zones(),
            vec![R::allow(
                "ping",
                &["10.20.0.0/24"],
                &["10.30.0.1", "10.30.0.9"],
                svc,
            )],
        );
        let out = render_text(&p);
        assert!(
            out.contains(" service-object icmp 8\n service-object tcp destination range 104 105\n"),
            "{out}"
        );
        assert!(out.contains("inspect icmp\n"));
        assert!(
            out.contains(" network-object host 10.30.0.1\n network-object host 10.30.0.9\n"),
            "{out}"
        );
    }

    #[test]
    fn a_binding_names_the_interfaces_and_the_acls() {
        use crate::ZoneBinding;
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.5"],
                &["10.30.0.5"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let mut fw = Firewall::by_address("edge");
        let bind = |zone: &str, interface: &str| ZoneBinding {
            zone: zone.into(),
            interface: Some(interface.into()),
            vendor_zone: None,
            span: zonal_diagnostics::Span::default(),
        };
        fw.zones = Some(vec![bind("imaging", "inside"), bind("pacs", "dmz")]);
        fw.naming.acl = "RAD".into();
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let out: String = crate::render(Target::Asa, &req, &mut SourceDb::new())
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect();
        let groups: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("access-group "))
            .collect();
        assert_eq!(
            groups,
            [
                "access-group RAD_IMAGING_IN_01234567 in interface inside",
                "access-group RAD_PACS_IN_01234567 in interface dmz"
            ]
        );
        assert!(out.contains("access-list RAD_IMAGING_IN_01234567 extended permit tcp host 10.20.0.5 host 10.30.0.5 eq 104\n"));
    }

    #[test]
    fn hostile_justification_stays_in_its_remark() {
        let mut r = R::allow(
            "x",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 1, 1),
        );
        r.justification = Some("ok\naccess-list ZONAL_IMAGING_IN permit ip any any ! \"x\"");
        let out = render_text(&policy(&zones(), vec![r]));
        assert!(
            !out.lines()
                .any(|l| l.starts_with("access-list ZONAL_IMAGING_IN permit")),
            "{out}"
        );
        assert!(
            out.lines()
                .filter(|l| l.contains("permit ip any any"))
                .all(|l| l.contains(" remark ")),
            "{out}"
        );
    }
}
