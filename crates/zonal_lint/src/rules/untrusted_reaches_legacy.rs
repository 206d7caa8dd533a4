//! L0301 `untrusted-reaches-legacy`: an untrusted zone reaches a legacy /
//! end-of-support zone or device, directly or over any chain of permitted
//! flows.
//!
//! Untrusted zones are those with `trust untrusted`, external zones and
//! guest zones. One breadth-first search from all of them over the zone
//! graph finds, for every legacy target, a shortest path, shown hop by hop.
//! With `pivot-services` configured, intermediate hops must permit one of
//! them (pivot reachability); otherwise any permitted flow pivots.
//!
//! Legacy means the `end-of-support` / `legacy` property of the zone or
//! device, whatever its trust: a legacy zone marked `trust untrusted` (how
//! a Windows XP zone is often modelled) is a target of the other untrusted
//! zones. Without a catch-all external zone, the addresses in no zone are
//! the internet, an untrusted source.

use zonal_diagnostics::Severity;

use crate::analysis::AtomKind;
use crate::ctx::{Ctx, zones};
use crate::graph::PathOptions;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0301",
    name: "untrusted-reaches-legacy",
    severity: Severity::Critical,
    summary: "untrusted zone reaches a legacy or end-of-support zone or device",
    doc: lint_doc!("L0301"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    let sources = cx.zone_atoms_where(zones::is_untrusted);
    if sources.is_empty() {
        return;
    }
    let opts = PathOptions {
        pivots: cx.config.pivot_services.as_ref(),
        last_hop: None,
    };
    let mut reach = crate::graph::Reach::new(cx.graph);
    cx.graph.bfs(&mut reach, &sources, &opts, None);
    let mut other = crate::graph::Reach::new(cx.graph);
    for (a, atom) in an.atoms.iter().enumerate() {
        let a = a as u32;
        if !an.atom_is_legacy(a) {
            continue;
        }
        // A legacy zone that is itself untrusted (how a Windows XP zone is
        // often modelled) is still a target: of the other untrusted zones.
        let hops = match cx.atom_zone(a) {
            Some(z) if zones::is_untrusted(z) => {
                let others: Vec<u32> = sources
                    .iter()
                    .copied()
                    .filter(|s| cx.atom_zone(*s).is_none_or(|x| x.id != z.id))
                    .collect();
                cx.graph.path_atoms_with(&mut other, &others, &[a], &opts)
            }
            _ if reach.via[a as usize].is_some() => cx.graph.path_to(&reach, a, &opts),
            _ => None,
        };
        let Some(hops) = hops else {
            continue;
        };
        let Some(first) = hops.first() else { continue };
        let origin = cx.graph.place_name(first.from);
        let origin_zone = match first.from {
            crate::graph::Place::Device(d) => cx.policy.zone(cx.policy.device(d).zone).name.clone(),
            _ => origin.clone(),
        };
        let (what, span) = match atom.kind {
            AtomKind::Device(d) => (
                format!("legacy device `{}`", cx.policy.device(d).name),
                cx.policy.device(d).span,
            ),
            AtomKind::Zone(z) => (
                format!("legacy zone `{}`", cx.policy.zone(z).name),
                cx.policy.zone(z).span,
            ),
            AtomKind::Unassigned => continue,
        };
        let how = if hops.len() == 1 {
            "directly".to_string()
        } else {
            format!("over {} hops", hops.len())
        };
        let d = cx.diag(
            &INFO,
            format!("{what} is reachable from untrusted zone `{origin_zone}` {how}"),
            span,
            "end of support",
        );
        let d = cx
            .with_path(d, &hops)
            .with_help("deny one hop of the path, or reach the device only from a managed jump host that untrusted zones cannot reach");
        cx.push(d);
    }
}
