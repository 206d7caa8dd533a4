//! OpenBSD pf: tables for address objects, a leading `block log all`
//! (pf is last-match and passes by default), explicit deny rules as `block
//! … quick`, then every allow as `pass … quick … keep state`, so the
//! first matching rule decides, deny before allow. With a binding that names
//! interfaces, each zone pair is filtered inbound on the source zone's
//! interface and tagged, and the tagged packets pass outbound on the
//! destination zone's interface.

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Family};

use crate::escape::{self, Namer};
use crate::plan::{self, AddressBook, Entry, FamilyServices, FirewallPlan, Header};
use crate::{Artifact, Target, Templates};

const T: Target = Target::Pf;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.pf.j2",
    include_str!("../../../../templates/pf/main.pf.j2"),
)];

#[derive(Serialize)]
struct PfView {
    header: Header,
    macros: Vec<Macro>,
    tables: Vec<Table>,
    rules: Vec<PfRule>,
    passes_out: Vec<PassOut>,
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
    let text = crate::env::render_template(T, templates, "main.pf.j2", &view, db)?;
    Ok(vec![Artifact {
        extension: T.extension().into(),
        text,
        rule_count: view.rule_count,
        warnings: Diagnostics::new(),
    }])
}

fn view_model(plan: &FirewallPlan<'_>) -> PfView {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut namer = Namer::new();
    let mut book = AddressBook::default();
    let mut macros = Vec::new();
    let mut rules = Vec::new();
    let mut passes_out = Vec::new();
    let logs = (fw.logging.deny, fw.logging.allow);

    if plan.by_interface {
        for z in &plan.zones {
            if let Some(ifname) = &z.interface {
                let name = namer.name(T, "if_", &z.name);
                macros.push(Macro {
                    name,
                    value: ifname.clone(),
                });
            }
        }
        for pair in &plan.pairs {
            let (sz, dz) = (&plan[pair.src], &plan[pair.dst]);
            let macro_of = |zone: &str| {
                let z = ident_of(zone);
                macros
                    .iter()
                    .find(|m| m.name == z)
                    .map(|m| m.name.clone())
                    .unwrap_or_default()
            };
            let (on_in, on_out) = (macro_of(&sz.name), macro_of(&dz.name));
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
    let rule_count = denies.len() + passes_out.len() + TEMPLATE_RULES;
    PfView {
        header: Header::new(policy, fw, T),
        macros,
        tables,
        rules: denies,
        passes_out,
        notes,
        rule_count,
    }
}

/// The rules `main.pf.j2` writes whatever the data: `block log all`.
const TEMPLATE_RULES: usize = 1;

fn ident_of(zone: &str) -> String {
    escape::ident(T, "if_", zone)
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
    let p = plan::prefix_strings_short(set);
    if let [one] = p.as_slice() {
        return (
            if one == "0.0.0.0/0" || one == "::/0" {
                "any".to_string()
            } else {
                one.clone()
            },
            false,
        );
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
