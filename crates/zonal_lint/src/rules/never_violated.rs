//! L0305 `never-violated`: a `never` invariant is contradicted.
//!
//! `never A -> B [: S]` is violated by any permitted packet from A to B
//! (of S); `never A ~> B` by any chain of permitted flows from A to B,
//! shown hop by hop (shortest first). With `pivot-services` configured,
//! intermediate hops must permit one of them.
//!
//! S means what it means in rules: toward a device that moves a service
//! with `listens S on PORT`, its listener port. Reachability is per address
//! family (a dual-stack host reached over IPv4 goes on over IPv6), every hop
//! joins two different hosts, and every packet shown is one that `decide`
//! permits (see docs/semantics.md).

use zonal_diagnostics::Severity;
use zonal_model::InvariantKind;

use crate::ctx::Ctx;
use crate::graph::PathOptions;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0305",
    name: "never-violated",
    severity: Severity::Critical,
    summary: "a `never` invariant is violated, directly or over a chain of flows",
    doc: lint_doc!("L0305"),
};

fn names(list: &[(String, zonal_diagnostics::Span)]) -> String {
    list.iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    for inv in &cx.policy.invariants {
        let src = an.endpoints_atoms(&inv.src);
        let (from, to) = (names(&inv.src_written), names(&inv.dst_written));
        match inv.kind {
            InvariantKind::NeverDirect => {
                // Each term: the services toward its destinations (listener
                // ports applied).
                let mut flows: Vec<crate::ctx::Flow> = Vec::new();
                for t in &inv.terms {
                    let dst = an.term_dst_atoms(t);
                    for f in cx.direct_flows(&src, &dst, Some(&t.services)) {
                        if !flows.iter().any(|g| g.rule == f.rule) {
                            flows.push(f);
                        }
                    }
                }
                flows.sort_by_key(|f| f.rule);
                let Some(first) = flows.first() else { continue };
                let mut d = cx
                    .diag(
                        &INFO,
                        format!("`never {from} -> {to}` is violated"),
                        inv.span,
                        "invariant",
                    )
                    .with_note(cx.permitted_note(first));
                if flows.len() > 1 {
                    d = d.with_note(format!("{} allow rules violate it", flows.len()));
                }
                for f in flows.iter().take(5) {
                    let r = cx.policy.rule(f.rule);
                    d = d.with_secondary(r.span, format!("permitted by `{}`", r.name));
                }
                let d =
                    d.with_help("remove or narrow the allow rules, or add a deny for this traffic");
                cx.push(d);
            }
            InvariantKind::NeverTransitive => {
                let shortest = inv
                    .terms
                    .iter()
                    .filter_map(|t| {
                        let opts = PathOptions {
                            pivots: cx.config.pivot_services.as_ref(),
                            last_hop: inv.services_written.then_some(&t.services),
                        };
                        cx.graph.path_atoms(&src, &an.term_dst_atoms(t), &opts)
                    })
                    .min_by_key(Vec::len);
                let Some(hops) = shortest else {
                    continue;
                };
                let how = if hops.len() == 1 {
                    "directly".to_string()
                } else {
                    format!("over {} hops", hops.len())
                };
                let d = cx.diag(
                    &INFO,
                    format!("`never {from} ~> {to}` is violated {how}"),
                    inv.span,
                    "invariant",
                );
                let d = cx.with_path(d, &hops).with_help(
                    "deny one hop of the path (the shortest path is shown; fix and re-run)",
                );
                cx.push(d);
            }
            InvariantKind::Require => {}
        }
    }
}
