//! Linux iptables: one `iptables-restore` file and one `ip6tables-restore`
//! file. `FORWARD` has policy `DROP`, accepts established and related
//! packets, drops invalid ones, dispatches new connections to one user
//! chain per zone pair (by source then destination address, or by input
//! and output interface), and ends in an explicit deny that logs. ipset
//! cannot be created from a restore file, so address lists are expanded:
//! an entry with several source and several destination prefixes gets its
//! own chain (one jump per source prefix, one rule per destination prefix
//! and service) instead of the full cross product.

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, Family};

use crate::escape::{self, Namer};
use crate::view::{self, FamilyServices, Header, Plan, family_name};
use crate::{Artifact, Request, Target};

const T: Target = Target::Iptables;

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.iptables.j2",
    include_str!("../../../../templates/iptables/main.iptables.j2"),
)];

#[derive(Serialize)]
struct IptView {
    header: Header,
    family: &'static str,
    tool: &'static str,
    chains: Vec<String>,
    rules: Vec<IptRule>,
    log_prefix: String,
    notes: Vec<String>,
    rule_count: usize,
}

#[derive(Serialize)]
struct IptRule {
    chain: String,
    /// Match options (`-s 10.0.0.0/24 -p tcp --dport 104`), safe characters only.
    matches: String,
    comment: String,
    target: String,
    /// For `LOG` rules: the log prefix.
    log: Option<String>,
    /// A blank line and this comment line before the rule.
    section: Option<String>,
}

/// Renders the two restore files.
pub(crate) fn render(req: &Request<'_>, db: &mut SourceDb) -> Result<Vec<Artifact>, Diagnostics> {
    let plan = Plan::build(req.policy, req.firewall);
    let mut out = Vec::new();
    for (fam, ext) in [(Family::V4, "iptables"), (Family::V6, "ip6tables")] {
        let view = view_model(req, &plan, fam);
        let text = crate::env::render_template(T, req.templates, "main.iptables.j2", &view, db)?;
        out.push(Artifact {
            extension: ext.into(),
            text,
            rule_count: view.rule_count,
        });
    }
    Ok(out)
}

/// Nothing beyond the binding checks: every name is generated.
pub(crate) fn check(_req: &Request<'_>) -> Diagnostics {
    Diagnostics::new()
}

fn view_model(req: &Request<'_>, plan: &Plan, fam: Family) -> IptView {
    let policy = req.policy;
    let fw = req.firewall;
    let mut namer = Namer::new();
    let mut chains = Vec::new();
    let mut rules: Vec<IptRule> = Vec::new();
    let prefix = escape::ident(T, "", &fw.naming.prefix);
    let deny_target = if fw.logging.deny {
        let c = namer.unique(T, format!("{prefix}_log_deny"));
        chains.push(c.clone());
        rules.push(rule(
            &c,
            "",
            "",
            "LOG",
            Some("log, then drop: explicit deny rules".into()),
        ));
        if let Some(r) = rules.last_mut() {
            r.log = Some(format!("{} deny", fw.logging.prefix));
        }
        rules.push(rule(&c, "", "", "DROP", None));
        c
    } else {
        "DROP".to_string()
    };
    let allow_target = if fw.logging.allow {
        let c = namer.unique(T, format!("{prefix}_log_allow"));
        chains.push(c.clone());
        rules.push(rule(
            &c,
            "",
            "",
            "LOG",
            Some("log, then accept: permitted new connections".into()),
        ));
        if let Some(r) = rules.last_mut() {
            r.log = Some(format!("{} allow", fw.logging.prefix));
        }
        rules.push(rule(&c, "", "", "ACCEPT", None));
        c
    } else {
        "ACCEPT".to_string()
    };
    let (sflag, dflag) = ("-s", "-d");

    // Zone-pair chains.
    let mut pair_chains = Vec::new();
    for pair in &plan.pairs {
        let (Some(sz), Some(dz)) = (plan.zones.get(pair.src), plan.zones.get(pair.dst)) else {
            continue;
        };
        let fam_entries: Vec<_> = pair
            .entries
            .iter()
            .filter_map(|e| e.family(fam).ok())
            .collect();
        if fam_entries.is_empty() {
            continue;
        }
        let chain = namer.name(T, "zp_", &format!("{}_{}", sz.name, dz.name));
        chains.push(chain.clone());
        let mut first = true;
        for fe in fam_entries {
            let e = fe.entry;
            let target = if e.action == Action::Deny {
                deny_target.clone()
            } else {
                allow_target.clone()
            };
            let comment = e.comment(T);
            let time = e
                .until
                .filter(|d| d.year < 2038)
                .map(|d| format!(" -m time --datestop {d}T23:59:59"));
            let time = time.unwrap_or_default();
            let srcs = view::prefix_strings(&fe.src);
            let dsts = view::prefix_strings(&fe.dst);
            let svcs = services(&fe.services, fam);
            let section = if first {
                first = false;
                Some(escape::comment(
                    T,
                    &format!("zone pair {} to {}", sz.name, dz.name),
                ))
            } else {
                None
            };
            let mut sec = section;
            if srcs.len() > 1 && dsts.len() > 1 {
                let ec = namer.name(T, "e_", &e.name);
                chains.push(ec.clone());
                for s in &srcs {
                    let m = format!("{sflag} {s}");
                    rules.push(rule(&chain, &m, &comment, &ec, sec.take()));
                }
                for d in &dsts {
                    for svc in &svcs {
                        let m = join(&[&format!("{dflag} {d}"), svc, &time]);
                        rules.push(rule(&ec, &m, &comment, &target, None));
                    }
                }
            } else {
                for s in &srcs {
                    for d in &dsts {
                        for svc in &svcs {
                            let m = join(&[&format!("{sflag} {s} {dflag} {d}"), svc, &time]);
                            rules.push(rule(&chain, &m, &comment, &target, sec.take()));
                        }
                    }
                }
            }
        }
        pair_chains.push((pair.src, pair.dst, chain));
    }

    // Dispatch from FORWARD.
    let mut dispatch = Vec::new();
    if plan.by_interface {
        for (s, d, chain) in &pair_chains {
            let (Some(si), Some(di)) = (
                plan.zones.get(*s).and_then(|z| z.interface.clone()),
                plan.zones.get(*d).and_then(|z| z.interface.clone()),
            ) else {
                continue;
            };
            dispatch.push(rule(
                "FORWARD",
                &format!("-i {si} -o {di}"),
                "",
                chain,
                None,
            ));
        }
    } else {
        for (zi, zone) in plan.zones.iter().enumerate() {
            let targets: Vec<_> = pair_chains.iter().filter(|(s, _, _)| *s == zi).collect();
            if targets.is_empty() || !zone.addrs.has_family(fam) {
                continue;
            }
            let from = namer.name(T, "from_", &zone.name);
            chains.push(from.clone());
            let mut sec = Some(escape::comment(T, &format!("source zone {}", zone.name)));
            for p in view::prefix_strings(&zone.addrs.family(fam)) {
                dispatch.push(rule(
                    "FORWARD",
                    &format!("{sflag} {p}"),
                    "",
                    &from,
                    sec.take(),
                ));
            }
            for (_, d, chain) in targets {
                let Some(dz) = plan.zones.get(*d) else {
                    continue;
                };
                for p in view::prefix_strings(&dz.addrs.family(fam)) {
                    rules.push(rule(&from, &format!("{dflag} {p}"), "", chain, None));
                }
            }
        }
    }

    let mut notes: Vec<String> = plan.notes.iter().map(|n| escape::comment(T, n)).collect();
    notes.extend(
        plan.family_notes(policy, fam)
            .iter()
            .map(|n| escape::comment(T, n)),
    );
    // Conntrack (2), dispatch, the final LOG and DROP (2).
    let rule_count = rules.len() + dispatch.len() + 4;
    let mut all = dispatch;
    all.extend(rules);
    IptView {
        header: Header::new(policy, fw, T),
        family: family_name(fam),
        tool: if fam == Family::V4 {
            "iptables-restore"
        } else {
            "ip6tables-restore"
        },
        chains,
        rules: all,
        log_prefix: format!("{} DENY", fw.logging.prefix),
        notes,
        rule_count,
    }
}

fn rule(
    chain: &str,
    matches: &str,
    comment: &str,
    target: &str,
    section: Option<String>,
) -> IptRule {
    IptRule {
        chain: chain.to_string(),
        matches: matches.to_string(),
        comment: comment.to_string(),
        target: target.to_string(),
        log: None,
        section,
    }
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The protocol matches of one family: one string per rule.
fn services(fs: &FamilyServices, fam: Family) -> Vec<String> {
    if fs.all {
        return vec![String::new()];
    }
    let mut out = Vec::new();
    for s in &fs.protos {
        let pname = match s.proto {
            TCP => "tcp".to_string(),
            UDP => "udp".to_string(),
            ICMP => "icmp".to_string(),
            ICMPV6 => "ipv6-icmp".to_string(),
            50 => "esp".to_string(),
            51 => "ah".to_string(),
            n => n.to_string(),
        };
        if s.whole {
            out.push(format!("-p {pname}"));
            continue;
        }
        match s.proto {
            TCP | UDP => {
                // multiport takes at most 15 ports; a range counts as two.
                let mut chunk: Vec<String> = Vec::new();
                let mut slots = 0;
                let mut chunks = Vec::new();
                for &(a, b) in &s.ranges {
                    let (text, cost) = if a == b {
                        (a.to_string(), 1)
                    } else {
                        (format!("{a}:{b}"), 2)
                    };
                    if slots + cost > 15 {
                        chunks.push(std::mem::take(&mut chunk));
                        slots = 0;
                    }
                    chunk.push(text);
                    slots += cost;
                }
                chunks.push(chunk);
                for c in chunks {
                    if let [one] = c.as_slice() {
                        out.push(format!("-p {pname} --dport {one}"));
                    } else {
                        out.push(format!("-p {pname} -m multiport --dports {}", c.join(",")));
                    }
                }
            }
            ICMP | ICMPV6 => {
                let flag = if fam == Family::V4 {
                    "--icmp-type"
                } else {
                    "--icmpv6-type"
                };
                for &(a, b) in &s.ranges {
                    for t in a..=b {
                        out.push(format!("-p {pname} {flag} {t}"));
                    }
                }
            }
            _ => out.push(format!("-p {pname}")),
        }
    }
    out
}
