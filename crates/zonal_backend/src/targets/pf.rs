//! OpenBSD pf: tables for address objects, explicit deny rules as `block
//! … quick`, then every allow as `pass … quick … keep state`, so the first
//! matching rule decides, deny before allow. With a binding that names
//! interfaces, each zone pair is filtered inbound on the source zone's
//! interface and tagged, and the tagged packets pass outbound on the
//! destination zone's interface.
//!
//! Two modes (`pf-mode` in the binding):
//! - **anchor** (default): the rules of the anchor `<prefix>/<policy>`,
//!   loaded with `pfctl -a`; the main ruleset stays the admin's and holds
//!   `anchor "<prefix>/*"` once. The anchor ends with a quick default deny
//!   for forwarded traffic only (`from ! <zonal_local> to ! <zonal_local>`,
//!   the table holding `self`, link-local, multicast and broadcast), so the
//!   firewall's own traffic, neighbour discovery, CARP, pfsync and routing
//!   stay the main ruleset's.
//! - **ruleset**: a complete pf.conf (`pfctl -f`): `block log all` first
//!   (pf is last-match and passes by default), then the device's own
//!   traffic from the binding's `device:` block (neighbour discovery, ICMP
//!   errors, management, routing, FHRP/CARP, DHCP relay, IPsec peers,
//!   pfsync, the firewall's outgoing connections), before every deny.
//!
//! pf cannot expire a rule: a rule with `until` is rendered with a build
//! warning (W0331) naming it and its date.

use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, Severity, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Family, ServiceSet};

use crate::escape::{self, Namer};
use crate::plan::{self, AddressBook, Entry, FamilyServices, FirewallPlan, Header};
use crate::{Artifact, DeviceTraffic, PfMode, Target, Templates};

const T: Target = Target::Pf;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.pf.j2",
    include_str!("../../../../templates/pf/main.pf.j2"),
)];

#[derive(Serialize)]
struct PfView {
    header: Header,
    /// `anchor` or `ruleset`.
    mode: &'static str,
    /// The anchor path (`zonal/<policy>`).
    anchor: String,
    /// The first part of the anchor path (the naming prefix): the main
    /// ruleset evaluates `anchor "<prefix>/*"`.
    anchor_prefix: String,
    macros: Vec<Macro>,
    tables: Vec<Table>,
    /// The firewall's own traffic (ruleset mode), before every deny.
    device: Vec<PfRule>,
    rules: Vec<PfRule>,
    passes_out: Vec<PassOut>,
    /// Interface macros the final deny is restricted to (interface mode).
    deny_on: Vec<String>,
    notes: Vec<String>,
    rule_count: usize,
}

#[derive(Serialize)]
struct Macro {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Table {
    name: String,
    comment: String,
    elements: Vec<String>,
}

#[derive(Serialize)]
struct PfRule {
    /// `block drop` or `pass`.
    action: &'static str,
    /// `in` (interface mode) or empty.
    dir: &'static str,
    log: bool,
    /// Interface macro (without `$`), or empty.
    on: String,
    af: &'static str,
    /// Protocols (`tcp`, `{ tcp udp }` is written by the template from the list).
    protos: Vec<String>,
    src: String,
    /// Whether `src` names a table.
    src_table: bool,
    dst: String,
    /// Whether `dst` names a table.
    dst_table: bool,
    /// Ports (`104`, `5000:5010`) or ICMP types.
    ports: Vec<String>,
    /// `icmp-type`, `icmp6-type` or empty.
    icmp_kw: &'static str,
    tag: String,
    label: String,
    comment: String,
}

#[derive(Serialize)]
struct PassOut {
    on: String,
    tag: String,
}

/// Renders pf.conf.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view_model(plan);
    let rule_count = view.rule_count;
    let expected = crate::env::expected_bytes(rule_count);
    let text = crate::env::render_template(T, templates, "main.pf.j2", view, expected, db)?;
    Ok(vec![Artifact {
        extension: T.extension().into(),
        text,
        rule_count,
        warnings: until_warnings(plan),
    }])
}

/// W0331: one warning per rendered rule with `until` (pf has no time match).
fn until_warnings(plan: &FirewallPlan<'_>) -> Diagnostics {
    let mut out = Diagnostics::new();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    {
        for e in plan.all_entries() {
            let (Some(until), rule) = (e.until(), e.rule) else {
                continue;
            };
            if !seen.insert(&rule.name) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    "W0331",
                    Severity::Low,
                    format!(
                        "rule `{}` ends on {until}, but pf cannot expire a rule: on firewall `{}` it stays in force until the policy is rebuilt and reloaded",
                        rule.name, plan.firewall.name
                    ),
                    rule.span,
                    "`until` is not enforced by pf",
                )
                .with_help(format!(
                    "rebuild and reload the pf output after {until} (Zonal leaves expired rules out), e.g. from a daily job"
                )),
            );
        }
    }
    out
}

#[expect(
    clippy::too_many_lines,
    reason = "one pass per dispatch mode, then the view; the steps share the namer and the address book"
)]
fn view_model(plan: &FirewallPlan<'_>) -> PfView {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut namer = Namer::new();
    namer.unique(T, LOCAL_TABLE.into());
    let mut book = AddressBook::default();
    let mut macros = Vec::new();
    let mut rules = Vec::new();
    let mut passes_out = Vec::new();
    let logs = (fw.logging.deny, fw.logging.allow);

    if plan.by_interface {
        // The macro of each plan zone, by zone: two zones whose names
        // sanitise alike get distinct macros, and each rule uses its own
        // zone's (never looked up again by sanitised name).
        let mut macro_of_zone: Vec<String> = vec![String::new(); plan.zones.len()];
        for (i, z) in plan.zones.iter().enumerate() {
            if let Some(ifname) = &z.interface {
                let name = namer.name(T, "if_", &z.name);
                macro_of_zone[i] = name.clone();
                macros.push(Macro {
                    name,
                    value: ifname.clone(),
                });
            }
        }
        // With interfaces the plan has no wide entries.
        for pair in &plan.narrow {
            let (sz, dz) = (&plan[pair.src], &plan[pair.dst]);
            let (on_in, on_out) = (
                macro_of_zone[pair.src.index()].clone(),
                macro_of_zone[pair.dst.index()].clone(),
            );
            let tag = namer.name(T, "zp_", &format!("{}_{}", sz.name, dz.name));
            let before = rules.len();
            for e in &pair.entries {
                push_entry(
                    &mut rules, &mut namer, &mut book, plan, e, "in", &on_in, &tag, logs,
                );
            }
            if rules
                .get(before..)
                .is_some_and(|r| r.iter().any(|r| r.action == "pass"))
            {
                passes_out.push(PassOut { on: on_out, tag });
            }
        }
    } else {
        for e in plan.by_rule() {
            push_entry(
                &mut rules, &mut namer, &mut book, plan, &e, "", "", "", logs,
            );
        }
    }

    // Denies before allows across zone pairs too (each pair already is).
    let (mut denies, allows): (Vec<PfRule>, Vec<PfRule>) =
        rules.into_iter().partition(|r| r.action != "pass");
    denies.extend(allows);
    let tables = book
        .objects()
        .into_iter()
        .map(|o| Table {
            name: o.name,
            comment: escape::comment(T, &o.what),
            elements: plan::prefix_strings_short(&o.set),
        })
        .collect();
    let mut notes: Vec<String> = plan.notes.iter().map(|n| escape::comment(T, n)).collect();
    for fam in [Family::V4, Family::V6] {
        notes.extend(plan.family_notes(fam).iter().map(|n| escape::comment(T, n)));
    }
    let mode = fw.pf_mode;
    let device = if mode == PfMode::Ruleset {
        if let Some(ifname) = &fw.device.pfsync {
            macros.push(Macro {
                name: namer.unique(T, PFSYNC_MACRO.into()),
                value: ifname.clone(),
            });
        }
        device_rules(&fw.device)
    } else {
        Vec::new()
    };
    let deny_on: Vec<String> = if plan.by_interface {
        macros
            .iter()
            .filter(|m| m.name != PFSYNC_MACRO)
            .map(|m| m.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let fixed = match mode {
        PfMode::Anchor => ANCHOR_RULES,
        PfMode::Ruleset => RULESET_RULES,
    };
    let rule_count = device.len() + denies.len() + passes_out.len() + fixed;
    let anchor = format!(
        "{}/{}",
        escape::ident(T, "", &fw.naming.prefix),
        escape::ident(T, "", &policy.name)
    );
    PfView {
        header: Header::new(policy, fw, T),
        mode: match mode {
            PfMode::Anchor => "anchor",
            PfMode::Ruleset => "ruleset",
        },
        anchor_prefix: escape::ident(T, "", &fw.naming.prefix),
        anchor,
        macros,
        tables,
        device,
        rules: denies,
        passes_out,
        deny_on,
        notes,
        rule_count,
    }
}

/// The rules `main.pf.j2` writes whatever the data, per mode: the final
/// quick deny of forwarded traffic (anchor); `block log all`, the
/// neighbour-discovery passes and the passes of the firewall's outgoing
/// connections (ruleset).
const ANCHOR_RULES: usize = 1;
const RULESET_RULES: usize = 4;

/// Adds one device pass: what, source, destination, services, family.
type AddFn<'a> = dyn FnMut(&str, &str, &str, &ServiceSet, Option<Family>) + 'a;

/// The macro of the pfsync interface (ruleset mode).
const PFSYNC_MACRO: &str = "if_pfsync";

/// The anchor-scoped table of addresses whose traffic is never forwarded
/// or is the firewall's own: `self`, link-local, multicast, broadcast.
const LOCAL_TABLE: &str = "zonal_local";

/// The passes of the firewall's own traffic (ruleset mode), from the
/// binding's `device:` block; each is restricted to traffic from or to
/// `<zonal_local>` (the firewall, link-local, multicast), so none passes
/// forwarded traffic.
#[expect(
    clippy::too_many_lines,
    reason = "one block per kind of device traffic, in the order of the binding's device block"
)]
fn device_rules(d: &DeviceTraffic) -> Vec<PfRule> {
    let mut out = Vec::new();
    let mut add =
        |what: &str, src: &str, dst: &str, services: &ServiceSet, only: Option<Family>| {
            for fam in [Family::V4, Family::V6] {
                if only.is_some_and(|f| f != fam) {
                    continue;
                }
                let Some(fs) = plan::family_services(services, fam) else {
                    continue;
                };
                for (protos, ports, icmp_kw) in self::services(&fs, fam) {
                    out.push(PfRule {
                        action: "pass",
                        dir: "",
                        log: false,
                        on: String::new(),
                        af: if fam == Family::V4 { "inet" } else { "inet6" },
                        protos,
                        src: src.to_string(),
                        src_table: src == LOCAL_TABLE,
                        dst: dst.to_string(),
                        dst_table: dst == LOCAL_TABLE,
                        ports,
                        icmp_kw,
                        tag: String::new(),
                        label: escape::ident(T, "", &format!("zonal_device_{what}")),
                        comment: escape::comment(T, &format!("the firewall own traffic: {what}")),
                    });
                }
            }
        };
    let both = |add: &mut AddFn<'_>, what: &str, s: &ServiceSet| {
        add(what, "any", LOCAL_TABLE, s, None);
        add(what, LOCAL_TABLE, "any", s, None);
    };
    let fam_of = |p: &zonal_model::Prefix| Some(if p.is_v4() { Family::V4 } else { Family::V6 });
    if d.icmp_errors {
        let errors = ServiceSet::proto(ICMP, zonal_model::sets::IntervalSet::single(3))
            .union(&ServiceSet::proto(
                ICMP,
                zonal_model::sets::IntervalSet::single(11),
            ))
            .union(&ServiceSet::proto(
                ICMPV6,
                zonal_model::sets::IntervalSet::range(1, 4),
            ));
        both(&mut add, "icmp_errors", &errors);
    }
    if !d.management.is_empty() {
        let mut mgmt: Vec<zonal_model::Prefix> = d.management.clone();
        mgmt.sort();
        mgmt.dedup();
        for p in mgmt {
            add(
                "management",
                &p.to_string(),
                "self",
                &d.management_services,
                fam_of(&p),
            );
        }
    }
    for r in &d.routing {
        both(&mut add, r.name(), &r.services());
    }
    for f in &d.fhrp {
        both(&mut add, f.name(), &f.services());
    }
    if d.dhcp_relay {
        both(&mut add, "dhcp_relay", &DeviceTraffic::dhcp_services());
    }
    for p in &d.ipsec_peers {
        let peer = p.to_string();
        add(
            "ipsec",
            &peer,
            "self",
            &DeviceTraffic::ipsec_services(),
            fam_of(p),
        );
        add(
            "ipsec",
            "self",
            &peer,
            &DeviceTraffic::ipsec_services(),
            fam_of(p),
        );
    }
    if d.pfsync.is_some() {
        out.push(PfRule {
            action: "pass",
            dir: "",
            log: false,
            on: PFSYNC_MACRO.into(),
            af: "",
            protos: vec!["pfsync".into()],
            src: "any".into(),
            src_table: false,
            dst: "any".into(),
            dst_table: false,
            ports: Vec::new(),
            icmp_kw: "",
            tag: String::new(),
            label: "zonal_device_pfsync".into(),
            comment: "the firewall own traffic: pfsync on its link".into(),
        });
    }
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site per dispatch mode; a struct would only rename them"
)]
fn push_entry(
    rules: &mut Vec<PfRule>,
    namer: &mut Namer,
    book: &mut AddressBook,
    plan: &FirewallPlan<'_>,
    e: &Entry<'_>,
    dir: &'static str,
    on: &str,
    tag: &str,
    logs: (bool, bool),
) {
    for fam in [Family::V4, Family::V6] {
        let Ok(fe) = e.family(fam) else { continue };
        let src = addr(plan, namer, book, &fe.src, &format!("{}_src", e.name()));
        let dst = addr(plan, namer, book, &fe.dst, &format!("{}_dst", e.name()));
        let af = if fam == Family::V4 { "inet" } else { "inet6" };
        let label = escape::ident(T, "", e.name());
        let label = if label.len() > 63 {
            label.get(..63).unwrap_or(&label).to_string()
        } else {
            label
        };
        for (protos, ports, icmp_kw) in services(&fe.services, fam) {
            rules.push(PfRule {
                action: if e.action() == Action::Deny {
                    "block drop"
                } else {
                    "pass"
                },
                dir,
                log: if e.action() == Action::Deny {
                    logs.0
                } else {
                    logs.1
                },
                on: on.to_string(),
                af,
                protos,
                src: src.0.clone(),
                src_table: src.1,
                dst: dst.0.clone(),
                dst_table: dst.1,
                ports,
                icmp_kw,
                tag: if e.action() == Action::Allow {
                    tag.to_string()
                } else {
                    String::new()
                },
                label: label.clone(),
                comment: e.comment(T),
            });
        }
    }
}

/// An address operand: `(text, is a table)`.
fn addr(
    plan: &FirewallPlan<'_>,
    namer: &mut Namer,
    book: &mut AddressBook,
    set: &AddrSet,
    fallback: &str,
) -> (String, bool) {
    if let Some(one) = plan::one_prefix(set) {
        return (
            if one.len() == 0 {
                "any".to_string()
            } else {
                plan::prefix_short(&one)
            },
            false,
        );
    }
    if let Some(name) = book.get(set) {
        return (name.to_string(), true);
    }
    let hint = plan.describe(set).unwrap_or_else(|| fallback.to_string());
    let fam = if set.has_family(Family::V4) {
        "v4"
    } else {
        "v6"
    };
    (
        book.intern(namer, T, "t_", set, &format!("{hint}_{fam}")),
        true,
    )
}

/// `(protocols, ports or types, icmp keyword)` per rule.
fn services(fs: &FamilyServices, fam: Family) -> Vec<(Vec<String>, Vec<String>, &'static str)> {
    if fs.all {
        return vec![(Vec::new(), Vec::new(), "")];
    }
    let mut out = Vec::new();
    let mut whole = Vec::new();
    let ported = |p: u8| fs.protos.iter().find(|s| s.proto == p && !s.whole);
    match (ported(TCP), ported(UDP)) {
        (Some(t), Some(u)) if t.ranges == u.ranges => {
            out.push((
                vec!["tcp".into(), "udp".into()],
                super::nftables::ranges(&t.ranges, ":"),
                "",
            ));
        }
        (t, u) => {
            for s in [t, u].into_iter().flatten() {
                out.push((
                    vec![s.name.clone()],
                    super::nftables::ranges(&s.ranges, ":"),
                    "",
                ));
            }
        }
    }
    for s in &fs.protos {
        let name = match s.proto {
            ICMPV6 => "icmp6".to_string(),
            50 => "esp".to_string(),
            51 => "ah".to_string(),
            47 => "gre".to_string(),
            p if p == TCP || p == UDP || p == ICMP => s.name.clone(),
            p => p.to_string(),
        };
        if s.whole {
            whole.push(name);
            continue;
        }
        match s.proto {
            ICMP if fam == Family::V4 => {
                let types = s
                    .ranges
                    .iter()
                    .flat_map(|&(a, b)| (a..=b).map(|t| t.to_string()))
                    .collect();
                out.push((vec![name], types, "icmp-type"));
            }
            ICMPV6 if fam == Family::V6 => {
                let types = s
                    .ranges
                    .iter()
                    .flat_map(|&(a, b)| (a..=b).map(|t| t.to_string()))
                    .collect();
                out.push((vec![name], types, "icmp6-type"));
            }
            TCP | UDP => {}
            _ => whole.push(name),
        }
    }
    if !whole.is_empty() {
        out.push((whole, Vec::new(), ""));
    }
    out
}
