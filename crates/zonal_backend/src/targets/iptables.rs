//! Linux iptables: one `iptables-restore` file and one `ip6tables-restore`
//! file, each loaded with `--noflush`. Zonal owns only the user chains whose
//! names start with its prefix (`zonal_`): the file declares (creates or
//! flushes) and fills them, and never names `INPUT`, `OUTPUT`, `FORWARD`
//! or a foreign chain. `FORWARD` reaches Zonal through one jump into the
//! entry chain (`zonal_forward`), inserted once by the deploy script
//! (docs/targets/iptables.md). The entry chain accepts established and
//! related packets, drops invalid ones, dispatches new connections to one
//! chain per zone pair (by source then destination address, or by input
//! and output interface), and ends in an explicit deny that logs (rate
//! limited): every forwarded packet of the family is decided there. ipset
//! cannot be created from a restore file, so address lists are expanded:
//! an entry with several source and several destination prefixes gets its
//! own chain (one jump per source prefix, one rule per destination prefix
//! and service) instead of the full cross product.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Family};

use crate::escape::{self, Namer};
use crate::plan::{self, FamilyServices, FirewallPlan, Header, PlanZoneId, family_name};
use crate::{Artifact, Target, Templates};

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
    /// `iptables` or `ip6tables`.
    command: &'static str,
    /// The entry chain `FORWARD` jumps to; also the first of `chains`.
    entry: String,
    /// The prefix every chain of Zonal starts with (`zonal_`).
    owned: String,
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
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let mut out = Vec::new();
    for (fam, ext) in [(Family::V4, "iptables"), (Family::V6, "ip6tables")] {
        let view = view_model(plan, fam);
        let rule_count = view.rule_count;
        let expected = crate::env::expected_bytes(rule_count);
        let text =
            crate::env::render_template(T, templates, "main.iptables.j2", view, expected, db)?;
        out.push(Artifact {
            extension: ext.into(),
            text,
            rule_count,
            warnings: Diagnostics::new(),
        });
    }
    Ok(out)
}

/// The last UNIX second `-m time --datestop` can hold everywhere: the
/// module stores a 32-bit value and iptables parses dates with the C
/// library's `time_t` (32 bits on some systems), so 2038-01-19T03:14:07.
const DATESTOP_MAX: i64 = 2_147_483_647;

/// `--datestop` for an expiry date: the last second of the day (UTC), or
/// `None` when it lies beyond [`DATESTOP_MAX`] (never reached: the target
/// table's last `until` day makes such a date E0308 before rendering).
fn datestop(d: zonal_model::Date) -> Option<String> {
    (plan::end_of_day_unix(d) - 1 <= DATESTOP_MAX).then(|| format!("{d}T23:59:59"))
}

#[expect(
    clippy::too_many_lines,
    reason = "builds the whole view model in the order the template writes its chains"
)]
fn view_model(plan: &FirewallPlan<'_>, fam: Family) -> IptView {
    let (policy, fw) = (plan.policy, plan.firewall);
    let mut namer = Namer::new();
    let mut rules: Vec<IptRule> = Vec::new();
    let owned = owned_prefix(&fw.naming.prefix);
    let p = owned.as_str();
    let entry = namer.name(T, p, "forward");
    let mut chains = vec![entry.clone()];
    let deny_target = if fw.logging.deny {
        let c = namer.name(T, p, "log_deny");
        chains.push(c.clone());
        rules.push(rule(
            &c,
            LOG_LIMIT,
            "",
            "LOG",
            Some("log (rate limited), then drop: explicit deny rules".into()),
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
        let c = namer.name(T, p, "log_allow");
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
    // Zone-pair chains.
    let mut pair_chains = Vec::new();
    let mut cx = EntryCx {
        namer: &mut namer,
        rules: &mut rules,
        chains: &mut chains,
        p,
        fam,
        deny_target: &deny_target,
        allow_target: &allow_target,
    };
    for pair in &plan.narrow {
        let (sz, dz) = (&plan[pair.src], &plan[pair.dst]);
        let fam_entries: Vec<_> = pair
            .entries
            .iter()
            .filter_map(|e| e.family(fam).ok())
            .collect();
        if fam_entries.is_empty() {
            continue;
        }
        let chain = cx
            .namer
            .name(T, &format!("{p}zp_"), &format!("{}_{}", sz.name, dz.name));
        cx.chains.push(chain.clone());
        let mut sec = Some(escape::comment(
            T,
            &format!("zone pair {} to {}", sz.name, dz.name),
        ));
        for fe in fam_entries {
            // Dispatch by address already guarantees that the source is in
            // the source zone and the destination in the destination zone:
            // a side that is the whole zone needs no match.
            let whole =
                |set: &AddrSet, zone: &AddrSet| !plan.by_interface && *set == zone.family(fam);
            let (ws, wd) = (whole(&fe.src, &sz.addrs), whole(&fe.dst, &dz.addrs));
            cx.push(&chain, &fe, ws, wd, &mut sec);
        }
        pair_chains.push((pair.src, pair.dst, chain));
    }
    // The wide entries: one chain, reached where a packet's zone pair did
    // not decide it, before the default deny.
    let wide_entries: Vec<_> = plan
        .wide
        .iter()
        .filter_map(|e| e.family(fam).ok())
        .collect();
    let wide_chain = (!wide_entries.is_empty()).then(|| {
        let chain = cx.namer.name(T, p, "wide");
        cx.chains.push(chain.clone());
        let mut sec = Some(escape::comment(
            T,
            "rules spanning many zone pairs, after the zone pairs",
        ));
        let full = AddrSet::full_family(fam);
        for fe in &wide_entries {
            let (ws, wd) = (fe.src == full, fe.dst == full);
            cx.push(&chain, fe, ws, wd, &mut sec);
        }
        chain
    });
    let (sflag, dflag) = ("-s", "-d");

    // Dispatch from the entry chain.
    let mut dispatch = Vec::new();
    if plan.by_interface {
        for (s, d, chain) in &pair_chains {
            let (Some(si), Some(di)) = (plan[*s].interface.clone(), plan[*d].interface.clone())
            else {
                continue;
            };
            dispatch.push(rule(&entry, &format!("-i {si} -o {di}"), "", chain, None));
        }
    } else {
        // By address. When the zones cover the whole address space of the
        // family (always, unless a binding lists only some zones), the zone
        // with the most prefixes (usually the external one) is the
        // catch-all: every other zone is dispatched by its prefixes first.
        // Every `from_` and zone-pair chain then ends in the logged deny,
        // so a packet never falls through to a catch-all it does not
        // belong to.
        let covered = AddrSet::union_all(plan.zones.iter().map(|z| z.addrs.family(fam)));
        let catch_all = if covered == AddrSet::full_family(fam) {
            plan.zone_ids()
                .max_by_key(|(i, z)| (z.addrs.family(fam).prefix_count(), std::cmp::Reverse(*i)))
                .map(|(i, _)| i)
        } else {
            None
        };
        let deny_chain = namer.name(T, p, "deny");
        chains.push(deny_chain.clone());
        rules.push(IptRule {
            log: Some(format!("{} DENY", fw.logging.prefix)),
            ..rule(
                &deny_chain,
                LOG_LIMIT,
                "",
                "LOG",
                Some("default deny, logged".into()),
            )
        });
        rules.push(rule(&deny_chain, "", "", "DROP", None));
        // Where a zone pair did not decide, the wide entries do, then the deny.
        let fallback = match &wide_chain {
            Some(w) => {
                rules.push(rule(w, "", "", &deny_chain, None));
                w.clone()
            }
            None => deny_chain.clone(),
        };
        for (_, _, chain) in &pair_chains {
            rules.push(rule(chain, "", "", &fallback, None));
        }
        let order: Vec<PlanZoneId> = plan
            .zone_ids()
            .map(|(i, _)| i)
            .filter(|i| Some(*i) != catch_all)
            .chain(catch_all)
            .collect();
        // A catch-all is only used where it is needed: in the entry chain when the
        // catch-all zone has outgoing pairs, in `from_X` when X has a pair to
        // it. Elsewhere only the zones with pairs are listed and the chain
        // ends in the deny, so the dispatch stays linear in the prefixes.
        let src_catch = catch_all.filter(|c| pair_chains.iter().any(|(s, _, _)| s == c));
        // Each source zone's pair chains, in dispatch order (one pass over
        // the pairs, not every zone against every zone).
        let mut pos = vec![usize::MAX; plan.zones.len()];
        for (k, zi) in order.iter().enumerate() {
            pos[zi.index()] = k;
        }
        let mut by_src: BTreeMap<PlanZoneId, Vec<(usize, PlanZoneId, &String)>> = BTreeMap::new();
        for (s, d, c) in &pair_chains {
            by_src.entry(*s).or_default().push((pos[d.index()], *d, c));
        }
        for targets in by_src.values_mut() {
            targets.sort_unstable_by_key(|t| t.0);
        }
        // A `from_` chain with a pair to the catch-all zone first sends the
        // destinations of every other zone to the fallback: the zones are
        // disjoint, so their union, aggregated, is the same match. Used by
        // more than one source zone, it is one shared chain (`zoned`)
        // instead of every such chain listing every other zone again.
        let catch_users = catch_all.map_or(0, |c| {
            by_src
                .iter()
                .filter(|(s, t)| {
                    plan[**s].addrs.has_family(fam) && t.iter().any(|(_, d, _)| *d == c)
                })
                .count()
        });
        let zoned_addrs = if catch_users == 0 {
            AddrSet::empty()
        } else {
            AddrSet::union_all(
                plan.zone_ids()
                    .filter(|(i, _)| Some(*i) != catch_all)
                    .map(|(_, z)| z.addrs.family(fam)),
            )
        };
        let dst_matches = |set: &AddrSet| -> Vec<String> {
            plan::prefix_strings(set)
                .into_iter()
                .map(|p| format!("{dflag} {p}"))
                .collect()
        };
        let mut zoned: Option<String> = None;
        for &zi in &order {
            let zone = &plan[zi];
            if !zone.addrs.has_family(fam) {
                continue;
            }
            let targets = by_src.get(&zi).map(Vec::as_slice).unwrap_or_default();
            let src_match: Vec<String> = if Some(zi) == catch_all {
                vec![String::new()]
            } else {
                plan::prefix_strings(&zone.addrs.family(fam))
                    .into_iter()
                    .map(|p| format!("{sflag} {p}"))
                    .collect()
            };
            let mut sec = Some(escape::comment(T, &format!("source zone {}", zone.name)));
            if targets.is_empty() {
                // Nothing is allowed from this zone; only needed before a catch-all.
                if src_catch.is_some() && Some(zi) != catch_all {
                    for m in &src_match {
                        dispatch.push(rule(&entry, m, "", &fallback, sec.take()));
                    }
                }
                continue;
            }
            let from = namer.name(T, &format!("{p}from_"), &zone.name);
            chains.push(from.clone());
            for m in &src_match {
                dispatch.push(rule(&entry, m, "", &from, sec.take()));
            }
            let mut to_catch = None;
            for &(_, di, chain) in targets {
                let dz = &plan[di];
                if !dz.addrs.has_family(fam) {
                    continue;
                }
                if Some(di) == catch_all {
                    to_catch = Some(chain);
                } else {
                    for p in plan::prefix_strings(&dz.addrs.family(fam)) {
                        rules.push(rule(&from, &format!("{dflag} {p}"), "", chain, None));
                    }
                }
            }
            match to_catch {
                Some(chain) if catch_users > 1 => {
                    let z = zoned.get_or_insert_with(|| {
                        let z = namer.name(T, p, "zoned");
                        chains.push(z.clone());
                        z
                    });
                    rules.push(rule(&from, "", "", z, None));
                    rules.push(rule(&from, "", "", chain, None));
                }
                Some(chain) => {
                    // The only user: inline, without the zones it has pairs to
                    // (already dispatched above).
                    let own = AddrSet::union_all(
                        targets.iter().map(|(_, d, _)| plan[*d].addrs.family(fam)),
                    );
                    for m in dst_matches(&zoned_addrs.subtract(&own)) {
                        rules.push(rule(&from, &m, "", &fallback, None));
                    }
                    rules.push(rule(&from, "", "", chain, None));
                }
                None => rules.push(rule(&from, "", "", &fallback, None)),
            }
        }
        if let Some(z) = &zoned {
            let mut sec = Some(escape::comment(
                T,
                "destination in a zone other than the catch-all, no pair of the source zone to it",
            ));
            for m in dst_matches(&zoned_addrs) {
                rules.push(rule(z, &m, "", &fallback, sec.take()));
            }
        }
    }

    if let Some(w) = &wide_chain {
        // Packets no dispatch rule took (the wide chain ends in the deny).
        dispatch.push(rule(&entry, "", "", w, None));
    }
    let mut notes: Vec<String> = plan.notes.iter().map(|n| escape::comment(T, n)).collect();
    notes.extend(plan.family_notes(fam).iter().map(|n| escape::comment(T, n)));
    let rule_count = rules.len() + dispatch.len() + TEMPLATE_RULES;
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
        command: if fam == Family::V4 {
            "iptables"
        } else {
            "ip6tables"
        },
        entry,
        owned,
        chains,
        rules: all,
        log_prefix: format!("{} DENY", fw.logging.prefix),
        notes,
        rule_count,
    }
}

/// The entry-chain lines `main.iptables.j2` writes whatever the data: the
/// two conntrack rules, and the final LOG and DROP.
const TEMPLATE_RULES: usize = 4;

/// The rate limit of every deny log line (the template's default-deny LOG
/// writes the same): a flood of denied packets cannot flood syslog.
const LOG_LIMIT: &str = "-m limit --limit 10/min --limit-burst 20";

/// The prefix every Zonal chain starts with: the binding's naming prefix
/// (at most 12 characters, so that shortened chain names keep it whole)
/// and `_`.
fn owned_prefix(raw: &str) -> String {
    let p = escape::ident(T, "", raw);
    let p = p.get(..12).unwrap_or(&p).trim_end_matches('_');
    let p = if p.is_empty() { "zonal" } else { p };
    format!("{p}_")
}

/// What turns plan entries into rules of a chain.
struct EntryCx<'a> {
    namer: &'a mut Namer,
    rules: &'a mut Vec<IptRule>,
    chains: &'a mut Vec<String>,
    /// The owned chain prefix.
    p: &'a str,
    fam: Family,
    deny_target: &'a str,
    allow_target: &'a str,
}

impl EntryCx<'_> {
    /// The rules of one entry in `chain`; a side marked whole needs no
    /// match. Several source prefixes with several destination prefixes or
    /// services get a chain of their own (one jump per source prefix).
    fn push(
        &mut self,
        chain: &str,
        fe: &plan::FamilyEntry<'_>,
        whole_src: bool,
        whole_dst: bool,
        sec: &mut Option<String>,
    ) {
        let e = fe.entry;
        let target = if e.action() == Action::Deny {
            self.deny_target
        } else {
            self.allow_target
        };
        let comment = e.comment(T);
        let time = e
            .until()
            .and_then(datestop)
            .map(|d| format!(" -m time --datestop {d}"))
            .unwrap_or_default();
        let side = |whole: bool, set: &AddrSet, flag: &str| -> Vec<String> {
            if whole {
                vec![String::new()]
            } else {
                plan::prefix_strings(set)
                    .into_iter()
                    .map(|p| format!("{flag} {p}"))
                    .collect()
            }
        };
        let srcs = side(whole_src, &fe.src, "-s");
        let dsts = side(whole_dst, &fe.dst, "-d");
        let svcs = services(&fe.services, self.fam);
        if srcs.len() > 1 && dsts.len() * svcs.len() > 1 {
            let ec = self.namer.name(T, &format!("{}e_", self.p), e.name());
            self.chains.push(ec.clone());
            for s in &srcs {
                self.rules.push(rule(chain, s, &comment, &ec, sec.take()));
            }
            for d in &dsts {
                for svc in &svcs {
                    let m = join(&[d, svc, &time]);
                    self.rules.push(rule(&ec, &m, &comment, target, None));
                }
            }
        } else {
            for s in &srcs {
                for d in &dsts {
                    for svc in &svcs {
                        let m = join(&[s, d, svc, &time]);
                        self.rules
                            .push(rule(chain, &m, &comment, target, sec.take()));
                    }
                }
            }
        }
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
