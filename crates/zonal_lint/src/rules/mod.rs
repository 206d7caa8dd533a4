//! The lints, one file per lint. Each file has the lint's `INFO` (code,
//! name, default severity, summary, documentation page) and its `run`.

/// The documentation page of a lint, embedded at compile time.
macro_rules! lint_doc {
    ($code:literal) => {
        include_str!(concat!("../../../../docs/diagnostics/", $code, ".md"))
    };
}

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) mod admin_from_non_management;
pub(crate) mod allow_deny_overlap;
pub(crate) mod any_address;
pub(crate) mod any_service;
pub(crate) mod blast_radius;
pub(crate) mod broad_port_range;
pub(crate) mod cleartext_across_boundary;
pub(crate) mod expired_flow;
pub(crate) mod expired_suppression;
pub(crate) mod group_spans_trust;
pub(crate) mod guest_to_clinical;
pub(crate) mod internet_inbound;
pub(crate) mod modality_internet_egress;
pub(crate) mod never_violated;
pub(crate) mod redundant_rule;
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
pub(crate) mod zone_missing_attributes;
pub(crate) mod zone_mixes_wireless_clinical;

type Run = fn(&mut Ctx<'_, '_>);

/// The lints that look at the policy (suppression lints run afterwards, in
/// [`crate::suppress`]).
const POLICY_LINTS: &[(&LintInfo, Run)] = &[
    (&unused_zone::INFO, unused_zone::run),
    (&unused_service::INFO, unused_service::run),
    (&unused_device::INFO, unused_device::run),
    (&zone_missing_attributes::INFO, zone_missing_attributes::run),
    (
        &zone_mixes_wireless_clinical::INFO,
        zone_mixes_wireless_clinical::run,
    ),
    (&group_spans_trust::INFO, group_spans_trust::run),
    (&shadowed_rule::INFO, shadowed_rule::run),
    (&redundant_rule::INFO, redundant_rule::run),
    (&unmatchable_rule::INFO, unmatchable_rule::run),
    (&allow_deny_overlap::INFO, allow_deny_overlap::run),
    (
        &untrusted_reaches_legacy::INFO,
        untrusted_reaches_legacy::run,
    ),
    (
        &modality_internet_egress::INFO,
        modality_internet_egress::run,
    ),
    (&internet_inbound::INFO, internet_inbound::run),
    (&guest_to_clinical::INFO, guest_to_clinical::run),
    (&never_violated::INFO, never_violated::run),
    (&required_flow_missing::INFO, required_flow_missing::run),
    (
        &vendor_access_not_brokered::INFO,
        vendor_access_not_brokered::run,
    ),
    (
        &admin_from_non_management::INFO,
        admin_from_non_management::run,
    ),
    (&blast_radius::INFO, blast_radius::run),
    (
        &cleartext_across_boundary::INFO,
        cleartext_across_boundary::run,
    ),
    (&telnet_or_ftp::INFO, telnet_or_ftp::run),
    (&smb_to_legacy::INFO, smb_to_legacy::run),
    (&any_service::INFO, any_service::run),
    (&any_address::INFO, any_address::run),
    (&broad_port_range::INFO, broad_port_range::run),
    (&reverse_leg_missing::INFO, reverse_leg_missing::run),
    (&reverse_leg_too_broad::INFO, reverse_leg_too_broad::run),
    (&expired_flow::INFO, expired_flow::run),
];

/// The lint that costs the most on large policies (one pass over the
/// strongly connected components plus a path per finding); it runs on its
/// own thread while the others run on the caller's.
const HEAVY: &str = "L0309";

/// Runs every enabled policy lint; findings come back in a fixed order
/// (the heavy lint's last), whatever the threads' timing.
pub(crate) fn run_all(cx: &mut Ctx<'_, '_>) {
    let (graph, config) = (cx.graph, cx.config);
    let heavy = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let mut other = Ctx::new(graph, config);
            for (info, run) in POLICY_LINTS.iter().filter(|(i, _)| i.code == HEAVY) {
                if config.enabled(info) {
                    run(&mut other);
                }
            }
            other.out
        });
        for (info, run) in POLICY_LINTS.iter().filter(|(i, _)| i.code != HEAVY) {
            if config.enabled(info) {
                run(cx);
            }
        }
        handle.join()
    });
    match heavy {
        Ok(mut out) => cx.out.append(&mut out),
        Err(_) => {
            // The thread panicked (a bug): run the lint here so that it is
            // reported rather than lost.
            for (info, run) in POLICY_LINTS.iter().filter(|(i, _)| i.code == HEAVY) {
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
                    let mut any_cell = false;
                    for t in range {
                        for cell in an.term_cells(t) {
                            any_cell = true;
                            match cx.denied(cell) {
                                Some(d) if an.services(t).is_subset(d) => {}
                                _ => return false,
                            }
                        }
                    }
                    any_cell
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
