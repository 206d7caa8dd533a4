//! Cisco IOS / IOS-XE named extended ACLs with reflexive replies.
//!
//! Without interface binding there is one IPv4 ACL and one IPv6 ACL that
//! filter by address; with a binding that names interfaces, each bound
//! zone gets an inbound ACL on its interface that holds every flow leaving
//! the zone (to bound zones, to zones the binding does not list and to
//! addresses in no zone: an SVI's inbound ACL sees all of them), and an
//! outbound ACL that only records the sessions of flows entering the zone
//! from outside the bound zones (then permits everything: those flows are
//! not this firewall's to filter).
//!
//! Replies are never written as stateless reverse entries (`permit udp
//! SERVER eq 53 CLIENT` admits any datagram from port 53, `permit ip PEER
//! HOST` any protocol): every permit carries `reflect R` and every inbound
//! ACL starts its policy part with `evaluate R`, so a reply passes only
//! while the connection it belongs to is open.
//!
//! An inbound ACL, in order:
//! 1. on IPv6, neighbour and router discovery (before every deny);
//! 2. the device's own traffic from the binding's `device:` block: ICMP
//!    errors and PMTUD, routing protocols, FHRP, DHCP relay, management,
//!    IPsec peers;
//! 3. `evaluate R` (replies of open sessions);
//! 4. the permits, denies already subtracted (as unions of address ×
//!    address × service products), each with `reflect R`; large address sets
//!    written as their complement (`deny` the internal aggregates, then
//!    `permit … any`), after the fix-up permits that keep the order exact;
//! 5. the explicit denies (they log; nothing they match is permitted above);
//! 6. `deny … any any log`.
//!
//! Versions: every object Zonal creates (ACLs, object groups, time ranges)
//! ends in the version tag, a hash of everything the version renders, so a
//! new version is created beside the old one, bound (`ip access-group`
//! replaces a binding atomically) and the old one removed afterwards with
//! the removal lines of its own artifact. No step edits an object in use.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, Severity, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family, Prefix};

use super::overlap::OverlapIndex;
use crate::device::{DeviceTraffic, Fhrp, Routing};
use crate::escape::{self, Namer};
use crate::plan::{self, AddressBook, Entry, FamilyServices, FirewallPlan, Header};
use crate::{Artifact, Target, Templates};

const T: Target = Target::Ios;

/// The placeholder for the version tag while the view is built: a byte no
/// sanitised value contains; replaced by the tag once everything is known.
const VERSION: &str = "\u{1}";

/// Longest name body before `_<tag>` (and a possible `_N`) is appended.
const NAME_BODY_MAX: usize = 50;

/// An address set with more prefixes than this is written as its
/// complement when that is shorter.
const COMPLEMENT_MIN_PREFIXES: usize = 8;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.ios.j2",
    include_str!("../../../../templates/ios/main.ios.j2"),
)];

#[derive(Serialize)]
struct IosView {
    header: Header,
    /// The version tag every created object's name ends in.
    tag: String,
    groups: Vec<Group>,
    time_ranges: Vec<TimeRange>,
    acls: Vec<Acl>,
    interfaces: Vec<Interface>,
    /// The lines that remove this version (`no …`), in a safe order.
    removal: Vec<String>,
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
struct TimeRange {
    name: String,
    /// `HH:MM D Month YYYY`.
    end: String,
}

#[derive(Serialize)]
struct Acl {
    name: String,
    v6: bool,
    /// Inbound (filters; ends in a deny) or outbound (records sessions;
    /// ends in a permit).
    inbound: bool,
    /// The reflexive list evaluated at the top of an inbound ACL.
    reflect: String,
    /// The device's own traffic (inbound ACLs).
    device: Vec<Ace>,
    aces: Vec<Ace>,
    /// `ip` or `ipv6`.
    final_proto: &'static str,
}

#[derive(Clone, Serialize)]
struct Ace {
    /// A remark line before the entry, if any.
    remark: Option<String>,
    /// The entry (`permit tcp host 10.0.0.1 …`).
    text: String,
    /// Whether it records a session in the ACL's reflexive list (the
    /// template appends `reflect <list>`).
    reflect: bool,
}

#[derive(Serialize)]
struct Interface {
    name: String,
    zone: String,
    acl4_in: Option<String>,
    acl6_in: Option<String>,
    acl4_out: Option<String>,
    acl6_out: Option<String>,
}

/// Renders the IOS configuration.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let (view, warnings) = view_model(plan)?;
    let rule_count = view.rule_count;
    let expected = crate::env::expected_bytes(rule_count);
    let text = crate::env::render_template(T, templates, "main.ios.j2", view, expected, db)?;
    Ok(vec![Artifact {
        extension: T.extension().into(),
        text,
        rule_count,
        warnings,
    }])
}

/// Entries of one ACL by section.
#[derive(Default)]
struct Sections<'p> {
    permit: Vec<Ace>,
    deny: Vec<Ace>,
    /// Permits written as a complement: the entry, its family part's
    /// complemented side and that side's complement (the aggregates).
    complement: Vec<(Entry<'p>, Side, AddrSet)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Src,
    Dst,
}

/// How an ACL treats what it matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// An inbound ACL: permits reflect, the rest is denied.
    In,
    /// An outbound ACL: permits reflect, the rest passes.
    Out,
}

struct Ctx<'a> {
    plan: &'a FirewallPlan<'a>,
    namer: Namer,
    book: AddressBook,
    time_ranges: BTreeMap<Date, String>,
    log_deny: bool,
    log_allow: bool,
    /// The rules with at least one entry in some ACL.
    rendered: std::collections::BTreeSet<zonal_model::RuleId>,
}

impl Ctx<'_> {
    fn mark(&mut self, e: &Entry<'_>) {
        self.rendered.insert(e.rule.id);
        self.rendered.extend(e.also.iter().map(|r| r.id));
    }

    /// A versioned name: `<body>_<tag>`.
    fn versioned(&mut self, prefix: &str, raw: &str) -> String {
        let body = escape::ident(T, prefix, raw);
        let body = body.get(..NAME_BODY_MAX).unwrap_or(&body).to_string();
        let body = self.namer.unique(T, body.trim_end_matches('_').to_string());
        format!("{body}_{VERSION}")
    }

    fn time_range(&mut self, until: Date) -> String {
        if let Some(n) = self.time_ranges.get(&until) {
            return n.clone();
        }
        let base = self.plan.firewall.naming.acl.clone();
        let name = self.versioned(
            "",
            &format!(
                "{base}_UNTIL_{:04}{:02}{:02}",
                until.year, until.month, until.day
            ),
        );
        self.time_ranges.insert(until, name.clone());
        name
    }
}

/// The flows of one ACL: lists of entries (denies and allows of one
/// source/destination scope each).
type Lists<'p> = Vec<Vec<Entry<'p>>>;

#[expect(
    clippy::too_many_lines,
    reason = "builds the whole view model in the order the template writes it (groups, time ranges, ACLs, interfaces, removal)"
)]
fn view_model(plan: &FirewallPlan<'_>) -> Result<(IosView, Diagnostics), Diagnostics> {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut warnings = Diagnostics::new();
    let device = device_section(plan, &mut warnings)?;
    let mut cx = Ctx {
        plan,
        namer: Namer::new(),
        book: AddressBook::default(),
        time_ranges: BTreeMap::new(),
        log_deny: fw.logging.deny,
        log_allow: fw.logging.allow,
        rendered: std::collections::BTreeSet::new(),
    };
    let base = escape::ident(T, "", &fw.naming.acl);
    let reflect = [
        cx.namer.unique(T, format!("{base}_R4")),
        cx.namer.unique(T, format!("{base}_R6")),
    ];
    let mut acls = Vec::new();
    let mut interfaces = Vec::new();
    if plan.by_interface {
        let outside = plan.outside();
        for (zi, zone) in plan.zone_ids() {
            let Some(ifname) = &zone.interface else {
                continue;
            };
            // Leaving the zone: to bound zones (the plan's pairs; with
            // interfaces the plan has no wide entries) and to everything
            // outside them.
            let mut leaving: Lists<'_> = plan
                .narrow
                .iter()
                .filter(|p| p.src == zi)
                .map(|p| p.entries.clone())
                .collect();
            leaving.push(plan.entries_between(&zone.addrs, &outside));
            // Entering the zone from outside the bound zones: only the
            // sessions of what is allowed are recorded.
            let entering = vec![plan.entries_between(&outside, &zone.addrs)];
            let mut names: [Option<String>; 4] = [None, None, None, None];
            for (k, fam) in [Family::V4, Family::V6].into_iter().enumerate() {
                let suffix = if fam == Family::V4 { "V4" } else { "V6" };
                let r = &reflect[k];
                let name = cx.versioned("", &format!("{base}_{}_{suffix}_IN", zone.name));
                let aces = acl_aces(&mut cx, &leaving, fam, Dir::In);
                acls.push(acl(name.clone(), fam, Dir::In, r, &device, aces));
                names[k] = Some(name);
                let name = cx.versioned("", &format!("{base}_{}_{suffix}_OUT", zone.name));
                let aces = acl_aces(&mut cx, &entering, fam, Dir::Out);
                acls.push(acl(name.clone(), fam, Dir::Out, r, &device, aces));
                names[2 + k] = Some(name);
            }
            let [acl4_in, acl6_in, acl4_out, acl6_out] = names;
            interfaces.push(Interface {
                name: ifname.clone(),
                zone: escape::comment(T, &zone.name),
                acl4_in,
                acl6_in,
                acl4_out,
                acl6_out,
            });
        }
    } else {
        let lists = vec![plan.by_rule()];
        for (k, fam) in [Family::V4, Family::V6].into_iter().enumerate() {
            let suffix = if fam == Family::V4 { "V4" } else { "V6" };
            let r = &reflect[k];
            let name = cx.versioned("", &format!("{base}_{suffix}"));
            let aces = acl_aces(&mut cx, &lists, fam, Dir::In);
            acls.push(acl(name, fam, Dir::In, r, &device, aces));
        }
    }
    let groups: Vec<Group> = std::mem::take(&mut cx.book)
        .objects()
        .iter()
        .map(|o| Group {
            name: format!("{}_{VERSION}", o.name),
            description: escape::comment(T, &o.what),
            members: o.set.to_prefixes().iter().map(member).collect(),
        })
        .collect();
    let time_ranges: Vec<TimeRange> = cx
        .time_ranges
        .iter()
        .map(|(d, name)| TimeRange {
            name: name.clone(),
            end: expiry_instant(*d),
        })
        .collect();
    let raw_notes: Vec<String> = if plan.by_interface {
        // The plan's notes count only flows between listed zones; an
        // interface ACL also renders the flows to and from the others.
        plan.ingress_notes(&cx.rendered)
    } else {
        plan.notes.clone()
    };
    let mut notes: Vec<String> = raw_notes.iter().map(|n| escape::comment(T, n)).collect();
    for fam in [Family::V4, Family::V6] {
        notes.extend(plan.family_notes(fam).iter().map(|n| escape::comment(T, n)));
    }
    let rule_count = acls
        .iter()
        .map(|a| {
            a.aces.len()
                + if a.inbound { a.device.len() } else { 0 }
                + match (a.inbound, a.v6) {
                    (true, false) => TEMPLATE_ACES_IN,
                    (true, true) => TEMPLATE_ACES_IN6,
                    (false, _) => TEMPLATE_ACES_OUT,
                }
        })
        .sum();
    let mut removal = Vec::new();
    for a in &acls {
        removal.push(if a.v6 {
            format!("no ipv6 access-list {}", a.name)
        } else {
            format!("no ip access-list extended {}", a.name)
        });
    }
    for g in &groups {
        removal.push(format!("no object-group network {}", g.name));
    }
    for t in &time_ranges {
        removal.push(format!("no time-range {}", t.name));
    }
    let mut view = IosView {
        header: Header::new(policy, fw, T),
        tag: String::new(),
        groups,
        time_ranges,
        acls,
        interfaces,
        removal,
        notes,
        rule_count,
    };
    let tag = version_tag(&view);
    set_tag(&mut view, &tag);
    Ok((view, warnings))
}

/// The ACEs `main.ios.j2` writes in every inbound IPv4 ACL: the final deny.
const TEMPLATE_ACES_IN: usize = 1;
/// In every inbound IPv6 ACL: neighbour and router discovery (four ACEs)
/// and the final deny.
const TEMPLATE_ACES_IN6: usize = 5;
/// In every outbound ACL: the final permit.
const TEMPLATE_ACES_OUT: usize = 1;

fn acl(
    name: String,
    fam: Family,
    dir: Dir,
    reflect: &str,
    device: &[Vec<Ace>; 2],
    aces: Vec<Ace>,
) -> Acl {
    let v6 = fam == Family::V6;
    Acl {
        name,
        v6,
        inbound: dir == Dir::In,
        reflect: reflect.to_string(),
        device: if dir == Dir::In {
            device[usize::from(v6)].clone()
        } else {
            Vec::new()
        },
        aces,
        final_proto: if v6 { "ipv6" } else { "ip" },
    }
}

/// The version tag: a hash of everything the version renders (names with
/// the placeholder, members, entries, bindings, expiry instants).
fn version_tag(view: &IosView) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for g in &view.groups {
        eat(&g.name);
        g.members.iter().for_each(|m| eat(m));
    }
    for t in &view.time_ranges {
        eat(&t.name);
        eat(&t.end);
    }
    for a in &view.acls {
        eat(&a.name);
        eat(&a.reflect);
        for e in a.device.iter().chain(&a.aces) {
            eat(&e.text);
            eat(if e.reflect { "reflect" } else { "-" });
        }
    }
    for i in &view.interfaces {
        eat(&i.name);
        for n in [&i.acl4_in, &i.acl6_in, &i.acl4_out, &i.acl6_out] {
            eat(n.as_deref().unwrap_or("-"));
        }
    }
    format!("{:08X}", h & 0xffff_ffff)
}

/// Replaces the version placeholder by the tag everywhere.
fn set_tag(view: &mut IosView, tag: &str) {
    let fix = |s: &mut String| {
        if s.contains(VERSION) {
            *s = s.replace(VERSION, tag);
        }
    };
    view.tag = tag.to_string();
    for g in &mut view.groups {
        fix(&mut g.name);
    }
    for t in &mut view.time_ranges {
        fix(&mut t.name);
    }
    for a in &mut view.acls {
        fix(&mut a.name);
        for e in a.aces.iter_mut().chain(a.device.iter_mut()) {
            fix(&mut e.text);
        }
    }
    for i in &mut view.interfaces {
        for n in [
            &mut i.acl4_in,
            &mut i.acl6_in,
            &mut i.acl4_out,
            &mut i.acl6_out,
        ]
        .into_iter()
        .flatten()
        {
            fix(n);
        }
    }
    view.removal.iter_mut().for_each(fix);
}

/// `00:00 D Month YYYY` of the day after `until`: the instant a rule
/// `until D` stops (the same instant as every target's, docs/semantics.md).
fn expiry_instant(until: Date) -> String {
    let days = crate::plan::end_of_day_unix(until).div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "00:00 {d} {} {y}",
        crate::targets::vendor::month_name(u8::try_from(m).unwrap_or(1))
    )
}

/// The civil date of a day number since 1970-01-01 (Howard Hinnant).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The policy part of one ACL: for each list, its permits (denies
/// subtracted, each reflecting), then the complement-written permits with
/// their fix-ups, then (inbound) the explicit denies.
fn acl_aces<'p>(cx: &mut Ctx<'_>, lists: &Lists<'p>, fam: Family, dir: Dir) -> Vec<Ace> {
    let mut sec = Sections::default();
    for list in lists {
        if dir == Dir::In {
            for e in list.iter().filter(|e| e.action() == Action::Deny) {
                deny(cx, &mut sec, e, fam);
            }
        }
        for e in subtract_denies(list) {
            permit(cx, &mut sec, &e, fam, true);
        }
    }
    // Complement-written permits: each is `<blocker> S C` then `permit S
    // any … reflect`; a packet of a later one inside an earlier one's
    // aggregates would be caught by that blocker, so those parts are
    // permitted explicitly first.
    let comp = std::mem::take(&mut sec.complement);
    // Each blocker's addresses once (not once per later entry), and pairs
    // that cannot overlap skipped before any intersection is built.
    let blocks: Vec<(AddrSet, AddrSet)> = comp
        .iter()
        .map(|(ej, side, c)| blocked(ej, *side, c, fam))
        .collect();
    // The blockers whose source meets an entry's, through an index (not
    // every earlier entry); in their order, as before.
    let by_src = OverlapIndex::new(blocks.iter().map(|(bs, _)| bs));
    for (k, (ek, _, _)) in comp.iter().enumerate() {
        for j in by_src.meeting(&ek.src).into_iter().take_while(|&j| j < k) {
            let ((ej, _, _), (bs, bd)) = (&comp[j], &blocks[j]);
            if !bd.overlaps(&ek.dst) || !ej.services.overlaps(&ek.services) {
                continue;
            }
            let fix = Entry {
                rule: ek.rule,
                also: Vec::new(),
                src: bs.intersect(&ek.src),
                dst: bd.intersect(&ek.dst),
                services: ej.services.intersect(&ek.services),
                injected: false,
            };
            if !fix.src.is_empty() && !fix.dst.is_empty() && !fix.services.is_empty() {
                permit(cx, &mut sec, &fix, fam, false);
            }
        }
    }
    let tail = complement_tail(cx, &comp, fam, dir);
    let mut out = sec.permit;
    out.extend(tail);
    out.extend(sec.deny);
    out
}

/// The complement-written permits themselves: per service, the blocker of
/// the aggregates, then `permit … any … reflect`.
fn complement_tail(
    cx: &mut Ctx<'_>,
    comp: &[(Entry<'_>, Side, AddrSet)],
    fam: Family,
    dir: Dir,
) -> Vec<Ace> {
    let mut tail = Vec::new();
    for (e, side, c) in comp {
        let Ok(fe) = e.family(fam) else { continue };
        // The aggregates go into one object group like any other list (one
        // blocker ACE per service, not one per aggregate prefix), named
        // after the side they complement (`not_internet`).
        let (srcs, dsts) = match side {
            Side::Src => {
                let hint = super::vendor::side_hint(cx.plan, &fe.src, &e.rule.src_written);
                (
                    named_operands(cx, c, fam, &format!("not_{hint}")),
                    operands(cx, &fe.dst, fam, &e.rule.dst_written),
                )
            }
            Side::Dst => {
                let hint = super::vendor::side_hint(cx.plan, &fe.dst, &e.rule.dst_written);
                (
                    operands(cx, &fe.src, fam, &e.rule.src_written),
                    named_operands(cx, c, fam, &format!("not_{hint}")),
                )
            }
        };
        let any = vec!["any".to_string()];
        let (asrc, adst) = match side {
            Side::Src => (&any, &dsts),
            Side::Dst => (&srcs, &any),
        };
        let tr = e.until().map(|u| cx.time_range(u));
        let mut first = Some(escape::comment(
            T,
            &format!("{} (as its complement)", e.comment_raw()),
        ));
        for (proto, op) in items(&fe.services, fam) {
            let blocker = if dir == Dir::In { "deny" } else { "permit" };
            for s in &srcs {
                for d in &dsts {
                    tail.push(Ace {
                        remark: first.take(),
                        text: join(&[blocker, &proto, s, d, &op, tr_kw(&tr).0, tr_kw(&tr).1]),
                        reflect: false,
                    });
                }
            }
            let rf = reflects(&proto, &op, fam);
            for s in asrc {
                for d in adst {
                    tail.push(Ace {
                        remark: None,
                        text: join(&[
                            "permit",
                            &proto,
                            s,
                            d,
                            &op,
                            if cx.log_allow { "log" } else { "" },
                            tr_kw(&tr).0,
                            tr_kw(&tr).1,
                        ]),
                        reflect: rf,
                    });
                }
            }
        }
    }
    tail
}

fn tr_kw(tr: &Option<String>) -> (&'static str, &str) {
    match tr {
        Some(n) => ("time-range", n.as_str()),
        None => ("", ""),
    }
}

/// What the blocker of a complement-written entry matches: the entry with
/// its complemented side replaced by the aggregates `c` (family part).
fn blocked(e: &Entry<'_>, side: Side, c: &AddrSet, fam: Family) -> (AddrSet, AddrSet) {
    match side {
        Side::Src => (c.clone(), e.dst.family(fam)),
        Side::Dst => (e.src.family(fam), c.clone()),
    }
}

/// The complement of a large set within its family, when it is shorter
/// (the "internet" of a policy: everything but the internal aggregates).
fn complement_of(set: &AddrSet, fam: Family) -> Option<AddrSet> {
    let n = set.prefix_count();
    if n <= COMPLEMENT_MIN_PREFIXES {
        return None;
    }
    let c = AddrSet::full_family(fam).subtract(set);
    (c.prefix_count() < n).then_some(c)
}

/// Whether a permit of `(proto, op)` records a reflexive session: every
/// protocol, ICMP only for echo requests (other ICMP types have no reply).
fn reflects(proto: &str, op: &str, fam: Family) -> bool {
    let echo = if fam == Family::V4 { "8" } else { "128" };
    proto != "icmp" || op.is_empty() || op == echo
}

/// The entries of one permit (denies already subtracted), each recording
/// a session with `reflect`. Large address sets go to the complement section
/// when `complement` is allowed.
fn permit<'p>(
    cx: &mut Ctx<'_>,
    sec: &mut Sections<'p>,
    e: &Entry<'p>,
    fam: Family,
    complement: bool,
) {
    let Ok(fe) = e.family(fam) else { return };
    cx.mark(e);
    if complement {
        let by_side = complement_of(&fe.dst, fam)
            .map(|c| (Side::Dst, c))
            .or_else(|| complement_of(&fe.src, fam).map(|c| (Side::Src, c)));
        if let Some((side, c)) = by_side {
            sec.complement.push((e.clone(), side, c));
            return;
        }
    }
    let srcs = operands(cx, &fe.src, fam, &e.rule.src_written);
    let dsts = operands(cx, &fe.dst, fam, &e.rule.dst_written);
    let tr = e.until().map(|u| cx.time_range(u));
    let mut remark = Some(e.comment(T));
    for (proto, op) in items(&fe.services, fam) {
        let rf = reflects(&proto, &op, fam);
        for s in &srcs {
            for d in &dsts {
                let text = join(&[
                    "permit",
                    &proto,
                    s,
                    d,
                    &op,
                    if cx.log_allow { "log" } else { "" },
                    tr_kw(&tr).0,
                    tr_kw(&tr).1,
                ]);
                sec.permit.push(Ace {
                    remark: remark.take(),
                    text,
                    reflect: rf,
                });
            }
        }
    }
}

/// The entries of one explicit deny (logged). They come after every
/// permit, so a large side (the internet) is written `any`: nothing after them
/// permits, so the verdict is the same.
fn deny(cx: &mut Ctx<'_>, sec: &mut Sections<'_>, e: &Entry<'_>, fam: Family) {
    let Ok(fe) = e.family(fam) else { return };
    cx.mark(e);
    let any = vec!["any".to_string()];
    let srcs = if complement_of(&fe.src, fam).is_some() {
        any.clone()
    } else {
        operands(cx, &fe.src, fam, &e.rule.src_written)
    };
    let dsts = if complement_of(&fe.dst, fam).is_some() {
        any
    } else {
        operands(cx, &fe.dst, fam, &e.rule.dst_written)
    };
    let tr = e.until().map(|u| cx.time_range(u));
    let mut remark = Some(e.comment(T));
    for (proto, op) in items(&fe.services, fam) {
        for s in &srcs {
            for d in &dsts {
                let text = join(&[
                    "deny",
                    &proto,
                    s,
                    d,
                    &op,
                    if cx.log_deny { "log" } else { "" },
                    tr_kw(&tr).0,
                    tr_kw(&tr).1,
                ]);
                sec.deny.push(Ace {
                    remark: remark.take(),
                    text,
                    reflect: false,
                });
            }
        }
    }
}

/// An object-group member line: `host A`, `A MASK` (IPv4) or `P/len`
/// (IPv6; IOS XE network object groups hold both families).
fn member(p: &Prefix) -> String {
    if p.is_host() {
        format!("host {}", p.addr())
    } else if p.is_v4() {
        format!("{} {}", p.addr(), p.netmask())
    } else {
        p.to_string()
    }
}

/// One address operand: `host A`, `A WILDCARD`, `P/len` or `any`.
fn operand(p: &Prefix) -> String {
    if p.len() == 0 {
        "any".to_string()
    } else if p.is_host() {
        format!("host {}", p.addr())
    } else if p.is_v4() {
        format!("{} {}", p.addr(), p.hostmask())
    } else {
        p.to_string()
    }
}

/// Address operands of one side: the prefix itself, or `object-group G` for
/// a list of more than one prefix (named by content, family and version),
/// so an ACE costs one line whatever the sizes of its sides.
fn operands(
    cx: &mut Ctx<'_>,
    set: &AddrSet,
    fam: Family,
    written: &[(String, zonal_diagnostics::Span)],
) -> Vec<String> {
    if let Some(op) = single_operand(cx, set) {
        return op;
    }
    // Named by what the group holds, never after the first rule using it.
    let hint = super::vendor::side_hint(cx.plan, set, written);
    group_operand(cx, set, fam, &hint)
}

/// [`operands`] with the group's name hint given.
fn named_operands(cx: &mut Ctx<'_>, set: &AddrSet, fam: Family, hint: &str) -> Vec<String> {
    if let Some(op) = single_operand(cx, set) {
        return op;
    }
    group_operand(cx, set, fam, hint)
}

/// The operand of an empty set or a single prefix, or of a group already
/// declared for `set` (found without building its prefixes).
fn single_operand(cx: &Ctx<'_>, set: &AddrSet) -> Option<Vec<String>> {
    if set.is_empty() {
        return Some(Vec::new());
    }
    if let Some(p) = plan::one_prefix(set) {
        return Some(vec![operand(&p)]);
    }
    cx.book
        .get(set)
        .map(|name| vec![format!("object-group {name}_{VERSION}")])
}

/// `object-group G` for `set` (more than one prefix), declaring the group on
/// first use with a name from `hint`.
fn group_operand(cx: &mut Ctx<'_>, set: &AddrSet, fam: Family, hint: &str) -> Vec<String> {
    let fam_tag = if fam == Family::V4 { "v4" } else { "v6" };
    let hint: String = format!("{hint}_{fam_tag}")
        .chars()
        .take(NAME_BODY_MAX - 3)
        .collect();
    let name = cx.book.intern(&mut cx.namer, T, "OG_", set, &hint);
    vec![format!("object-group {name}_{VERSION}")]
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

/// The device's own traffic, per family (IPv4, IPv6), from the binding's
/// `device:` block. Unicast services to the box (management, BGP, unicast
/// routing, IPsec) need its addresses (`device.addresses`): without them
/// they are an error (E0321), never a permit to `any`.
#[expect(
    clippy::too_many_lines,
    reason = "one block per kind of device traffic, in the order docs/targets/ios.md lists them"
)]
fn device_section(
    plan: &FirewallPlan<'_>,
    warnings: &mut Diagnostics,
) -> Result<[Vec<Ace>; 2], Diagnostics> {
    let fw = plan.firewall;
    let dev: &DeviceTraffic = &fw.device;
    let needs_addresses = dev.needs_addresses();
    if !needs_addresses.is_empty()
        && dev.addresses.is_empty()
        && let Some(span) = fw.span
    {
        let mut d = Diagnostics::new();
        d.push(
            Diagnostic::error(
                "E0321",
                format!(
                    "the `device` block of `{}` needs the switch's own addresses for {}",
                    fw.name,
                    needs_addresses
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                span,
                "an IOS ACL cannot name the switch itself",
            )
            .with_help(
                "list the switch's SVI and loopback addresses under `device:` as `addresses: [10.20.110.1]`",
            ),
        );
        return Err(d);
    }
    if plan.by_interface
        && dev.management.is_empty()
        && let Some(span) = fw.span
    {
        warnings.push(
            Diagnostic::new(
                "W0311",
                Severity::Low,
                format!(
                    "no management source may reach `{}` through the inbound ACLs Zonal binds",
                    fw.name
                ),
                span,
                "no `device: management` sources",
            )
            .with_help(
                "list the management sources and the switch's addresses under `device:` (`management: [...]`, `addresses: [...]`), or manage the switch out of band",
            ),
        );
    }
    let mut out: [Vec<Ace>; 2] = [Vec::new(), Vec::new()];
    for (k, fam) in [Family::V4, Family::V6].into_iter().enumerate() {
        let v6 = fam == Family::V6;
        let mine: Vec<String> = dev
            .addresses
            .iter()
            .filter(|p| p.is_v4() != v6)
            .map(operand)
            .collect();
        let list = &mut out[k];
        let mut section = |remark: &str, lines: Vec<String>| {
            let mut r = Some(escape::comment(T, remark));
            for text in lines {
                list.push(Ace {
                    remark: r.take(),
                    text,
                    reflect: false,
                });
            }
        };
        if dev.icmp_errors {
            let types: &[&str] = if v6 {
                &[
                    "unreachable",
                    "packet-too-big",
                    "time-exceeded",
                    "parameter-problem",
                ]
            } else {
                &["unreachable", "time-exceeded"]
            };
            section(
                "ICMP errors and path-MTU discovery (RFC 4890)",
                types
                    .iter()
                    .map(|t| format!("permit icmp any any {t}"))
                    .collect(),
            );
        }
        let to_mine = |head: &str, tail: &str| -> Vec<String> {
            mine.iter().map(|a| join(&[head, a, tail])).collect()
        };
        for r in &dev.routing {
            let mut lines = Vec::new();
            let (groups, head, tail): (&[&str], &str, &str) = match (r, v6) {
                (Routing::Ospf, false) => (&["224.0.0.5", "224.0.0.6"], "permit ospf any", ""),
                (Routing::Ospfv3, true) => (&["FF02::5", "FF02::6"], "permit 89 any", ""),
                (Routing::Eigrp, false) => (&["224.0.0.10"], "permit eigrp any", ""),
                (Routing::Eigrp, true) => (&["FF02::A"], "permit 88 any", ""),
                (Routing::Rip, false) => (&["224.0.0.9"], "permit udp any", "eq 520"),
                (Routing::Ripng, true) => (&["FF02::9"], "permit udp any", "eq 521"),
                (Routing::Pim, false) => (&["224.0.0.13"], "permit pim any", ""),
                (Routing::Pim, true) => (&["FF02::D"], "permit 103 any", ""),
                (Routing::Bgp, _) => (&[], "", ""),
                _ => continue,
            };
            for g in groups {
                lines.push(join(&[head, &format!("host {g}"), tail]));
            }
            if *r == Routing::Bgp {
                lines.extend(to_mine("permit tcp any", "eq 179"));
                lines.extend(mine.iter().map(|a| join(&["permit tcp any eq 179", a])));
            } else if !matches!(r, Routing::Rip | Routing::Ripng) {
                lines.extend(to_mine(head, tail));
            }
            if !lines.is_empty() {
                section(&format!("routing: {}", r.name()), lines);
            }
        }
        for f in &dev.fhrp {
            let lines: Vec<String> = match (f, v6) {
                (Fhrp::Hsrp, false) => vec![
                    "permit udp any host 224.0.0.2 eq 1985".into(),
                    "permit udp any host 224.0.0.102 eq 1985".into(),
                ],
                (Fhrp::Hsrp, true) => vec!["permit udp any host FF02::66 eq 2029".into()],
                (Fhrp::Vrrp | Fhrp::Carp, false) => vec!["permit 112 any host 224.0.0.18".into()],
                (Fhrp::Vrrp | Fhrp::Carp, true) => vec!["permit 112 any host FF02::12".into()],
            };
            section(&format!("first-hop redundancy: {}", f.name()), lines);
        }
        if dev.dhcp_relay {
            let mut lines = if v6 {
                vec!["permit udp any eq 546 host FF02::1:2 eq 547".to_string()]
            } else {
                vec!["permit udp any eq 68 host 255.255.255.255 eq 67".to_string()]
            };
            if v6 {
                lines.extend(to_mine("permit udp any eq 546", "eq 547"));
                lines.extend(to_mine("permit udp any eq 547", "eq 547"));
            } else {
                lines.extend(to_mine("permit udp any eq 68", "eq 67"));
                lines.extend(to_mine("permit udp any eq 67", "eq 67"));
            }
            section(
                "DHCP relay: clients to the relay, servers to the relay",
                lines,
            );
        }
        let fam_services = crate::plan::family_services(&dev.management_services, fam);
        let mgmt: Vec<&Prefix> = dev.management.iter().filter(|p| p.is_v4() != v6).collect();
        if let Some(fs) = &fam_services
            && !mgmt.is_empty()
        {
            let mut lines = Vec::new();
            for p in &mgmt {
                for a in &mine {
                    for (proto, op) in items(fs, fam) {
                        lines.push(join(&["permit", &proto, &operand(p), a, &op]));
                    }
                }
            }
            section("management of the switch itself", lines);
        }
        let peers: Vec<&Prefix> = dev.ipsec_peers.iter().filter(|p| p.is_v4() != v6).collect();
        if !peers.is_empty() {
            let ipsec = DeviceTraffic::ipsec_services();
            let mut lines = Vec::new();
            if let Some(fs) = crate::plan::family_services(&ipsec, fam) {
                for p in &peers {
                    for a in &mine {
                        for (proto, op) in items(&fs, fam) {
                            lines.push(join(&["permit", &proto, &operand(p), a, &op]));
                        }
                    }
                }
            }
            section("IPsec peers terminating on the switch", lines);
        }
    }
    Ok(out)
}

/// The allow entries with every deny entry of the same list subtracted
/// (as unions of products), so that an ACL can permit without a deny in
/// front; the denies follow for the log.
fn subtract_denies<'p>(entries: &[Entry<'p>]) -> Vec<Entry<'p>> {
    let denies: Vec<&Entry<'_>> = entries
        .iter()
        .filter(|e| e.action() == Action::Deny)
        .collect();
    // Only the denies whose source meets the allow's can cut it (pieces
    // are subsets of the allow); they are taken in list order, as before.
    let index = OverlapIndex::new(denies.iter().map(|d| &d.src));
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.action() == Action::Allow) {
        let mut pieces = vec![(e.src.clone(), e.dst.clone(), e.services.clone())];
        for d in index.meeting(&e.src).into_iter().map(|k| denies[k]) {
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
            injected: false,
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

    #[test]
    fn expiry_is_the_start_of_the_next_day() {
        let d = |y, m, d| Date::new(y, m, d).unwrap();
        assert_eq!(expiry_instant(d(2027, 6, 30)), "00:00 1 July 2027");
        assert_eq!(expiry_instant(d(2026, 12, 31)), "00:00 1 January 2027");
        assert_eq!(expiry_instant(d(2028, 2, 28)), "00:00 29 February 2028");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn only_echo_requests_reflect_among_icmp_types() {
        assert!(reflects("icmp", "8", Family::V4));
        assert!(reflects("icmp", "128", Family::V6));
        assert!(!reflects("icmp", "3", Family::V4));
        assert!(reflects("icmp", "", Family::V4));
        assert!(reflects("udp", "eq 53", Family::V4));
    }
}
