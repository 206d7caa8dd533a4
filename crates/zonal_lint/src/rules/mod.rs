//! The lints, one file per lint. Each file has the lint's `INFO` (code,
//! name, default severity, summary, documentation page) and its `run`; its
//! row in [`crate::registry::LINTS`] registers both.

/// The documentation page of a lint, embedded at compile time.
macro_rules! lint_doc {
    ($code:literal) => {
        include_str!(concat!("../../../../docs/diagnostics/", $code, ".md"))
    };
}

use crate::ctx::Ctx;
use crate::registry::{LINTS, LintInfo, Run, Schedule};

pub(crate) mod admin_from_non_management;
pub(crate) mod allow_deny_overlap;
pub(crate) mod any_address;
pub(crate) mod any_service;
pub(crate) mod blast_radius;
pub(crate) mod broad_port_range;
pub(crate) mod cleartext_across_boundary;
pub(crate) mod expired_flow;
pub(crate) mod expired_suppression;
pub(crate) mod external_covers_private;
pub(crate) mod group_spans_trust;
pub(crate) mod guest_to_clinical;
pub(crate) mod internet_inbound;
pub(crate) mod modality_internet_egress;
pub(crate) mod never_violated;
pub(crate) mod redundant_rule;
pub(crate) mod remote_control_to_legacy;
pub(crate) mod required_flow_missing;
pub(crate) mod reverse_leg_missing;
pub(crate) mod reverse_leg_too_broad;
pub(crate) mod shadowed_rule;
pub(crate) mod smb_to_legacy;
pub(crate) mod suppression_without_reason;
pub(crate) mod telnet_or_ftp;
pub(crate) mod unmatchable_rule;
pub(crate) mod untrusted_reaches_legacy;
pub(crate) mod unused_device;
pub(crate) mod unused_service;
pub(crate) mod unused_suppression;
pub(crate) mod unused_zone;
pub(crate) mod vendor_access_not_brokered;
pub(crate) mod workflow_listener_undeclared;
pub(crate) mod zone_missing_attributes;
pub(crate) mod zone_mixes_wireless_clinical;

/// The policy lints of a schedule (suppression lints run afterwards, in
/// [`crate::suppress`]).
fn policy_lints(heavy: bool) -> impl Iterator<Item = (&'static LintInfo, Run)> {
    LINTS.iter().filter_map(move |l| match l.schedule {
        Schedule::Policy(run) if !heavy => Some((&l.info, run)),
        Schedule::Heavy(run) if heavy => Some((&l.info, run)),
        _ => None,
    })
}

/// Runs every enabled policy lint; findings come back in a fixed order
/// (the heavy lints' last), whatever the threads' timing.
pub(crate) fn run_all(cx: &mut Ctx<'_, '_>) {
    let (graph, config) = (cx.graph, cx.config);
    let heavy = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let mut other = Ctx::new(graph, config);
            for (info, run) in policy_lints(true) {
                if config.enabled(info) {
                    run(&mut other);
                }
            }
            other.out
        });
        for (info, run) in policy_lints(false) {
            if config.enabled(info) {
                run(cx);
            }
        }
        handle.join()
    });
    match heavy {
        Ok(mut out) => cx.out.append(&mut out),
        Err(_) => {
            // The thread panicked (a bug): run the lints here so that they
            // are reported rather than lost.
            for (info, run) in policy_lints(true) {
                if config.enabled(info) {
                    run(cx);
                }
            }
        }
    }
}

/// The shadowed allow rules (computed once): active allows whose every
/// packet is matched by an active deny.
pub(crate) fn shadowed(cx: &Ctx<'_, '_>) -> Vec<bool> {
    cx.shadowed
        .get_or_init(|| {
            let an = cx.an();
            cx.policy
                .rules
                .iter()
                .map(|r| {
                    if !r.is_active() || r.action != zonal_model::Action::Allow {
                        return false;
                    }
                    let range = an.rule_terms[r.id.index()].clone();
                    let empty = zonal_model::ServiceSet::empty();
                    let mut any_packet = false;
                    for t in range {
                        for cell in an.term_cells(t) {
                            let denied = cx.denied(cell).unwrap_or(&empty);
                            match an.covered_in_cell(cell, an.services(t), denied) {
                                Some(true) => any_packet = true,
                                Some(false) => return false,
                                None => {}
                            }
                        }
                    }
                    any_packet
                })
                .collect()
        })
        .clone()
}

/// Builds a service set from `(proto, lo, hi)` triples.
pub(crate) fn services(list: &[(u8, u16, u16)]) -> zonal_model::ServiceSet {
    list.iter()
        .fold(zonal_model::ServiceSet::empty(), |acc, (p, lo, hi)| {
            acc.union(&zonal_model::ServiceSet::ports(*p, *lo, *hi))
        })
}
