//! The cases that made the analysis miss a violation or report a false
//! one (issue 10), one fixture each under `policies/exactness/`: what must
//! and must not be reported, every witness re-decided by `decide`, and the
//! findings snapshotted as `zonal check` prints them.

use zonal_diagnostics::render;
use zonal_lint::{LintConfig, check};
use zonal_model::Action;
use zonal_tests::load;

use crate::oracle::printed_packets;

/// (fixture, codes that must be raised, codes that must not).
const CASES: &[(&str, &[&str], &[&str])] = &[
    ("family-chain", &["L0305"], &[]),
    ("icmpv6-hop", &["L0305"], &[]),
    ("self-packet", &["L0203"], &["L0305"]),
    ("listener-invariant", &["L0305"], &[]),
    ("listener-deny", &[], &["L0305", "L0306"]),
    ("icmp-family", &["L0203"], &["L0305", "L0306"]),
    ("implicit-internet", &["L0302", "L0303"], &[]),
    ("untrusted-legacy", &["L0301"], &[]),
    (
        "moved-ports",
        &["L0307", "L0308", "L0402", "L0403", "L0407"],
        &[],
    ),
];

/// A fixture's model, its findings with default levels, and the findings
/// as `zonal check` prints them.
fn findings(file: &str) -> (zonal_model::Policy, zonal_diagnostics::Diagnostics, String) {
    let l = load(file);
    assert!(
        !l.diagnostics.has_input_errors(),
        "{}",
        zonal_tests::render_diagnostics(&l)
    );
    let Some(policy) = l.policy.clone() else {
        panic!("{file}: no model")
    };
    let diags = check(&policy, &LintConfig::default());
    let text = diags
        .iter()
        .map(|d| render::human(&l.db, d))
        .collect::<Vec<_>>()
        .join("\n");
    (policy, diags, text)
}

#[test]
fn exactness_cases_report_exactly_the_real_violations() {
    for (name, raised, silent) in CASES {
        let file = format!("policies/exactness/{name}.zonal");
        let (policy, diags, text) = findings(&file);
        for code in *raised {
            assert!(
                diags.iter().any(|d| d.code == *code),
                "{file} must raise {code}:\n{text}"
            );
        }
        for code in *silent {
            assert!(
                !diags.iter().any(|d| d.code == *code),
                "{file} must not raise {code}:\n{text}"
            );
        }
        for d in diags
            .iter()
            .filter(|d| ["L0305", "L0306"].contains(&d.code))
        {
            let want = if d.code == "L0306" {
                Action::Deny
            } else {
                Action::Allow
            };
            for (s, t, p, sel) in printed_packets(d) {
                assert_ne!(s, t, "{file}: a packet from a host to itself");
                assert_eq!(
                    policy.decide(s, t, p, sel).action,
                    want,
                    "{file}: {s} -> {t}"
                );
            }
        }
        insta::with_settings!({snapshot_path => "../snapshots/exactness", prepend_module_to_snapshot => false, input_file => file.clone()}, {
            insta::assert_snapshot!(*name, text);
        });
    }
}

#[test]
fn an_icmpv6_hop_is_printed_as_icmpv6_echo() {
    let l = load("policies/exactness/icmpv6-hop.zonal");
    let Some(policy) = &l.policy else {
        panic!("no model")
    };
    let diags = check(policy, &LintConfig::default());
    let Some(d) = diags.iter().find(|d| d.code == "L0305") else {
        panic!("no L0305")
    };
    let packets = printed_packets(d);
    assert!(
        packets.iter().any(|(_, _, p, sel)| *p == 58 && *sel == 128),
        "{packets:?}"
    );
    assert!(!packets.iter().any(|(s, _, p, _)| *p == 1 && s.is_ipv6()));
}

#[test]
fn a_zone_wide_allow_does_not_open_the_default_port_on_a_moved_listener() {
    let policy = zonal_tests::policy_of("policies/exactness/listener-deny.zonal");
    let ip = |s: &str| s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    let (pacs, ct, mr) = (ip("10.6.0.10"), ip("10.7.0.10"), ip("10.7.0.11"));
    assert_eq!(policy.decide(pacs, ct, 6, 104).action, Action::Deny);
    assert_eq!(policy.decide(pacs, ct, 6, 11112).action, Action::Deny);
    assert_eq!(policy.decide(pacs, mr, 6, 104).action, Action::Allow);
    assert_eq!(
        policy.decide(pacs, ip("10.7.0.99"), 6, 104).action,
        Action::Allow
    );
}

/// Realistic policies written to measure the lints (`policies/realistic/`):
/// their findings are snapshotted, so any new finding (or a lost one) on a
/// policy shaped like a real hospital's shows in review.
#[test]
fn realistic_policies_findings() {
    for file in zonal_tests::fixtures("policies/realistic") {
        let (_, diags, text) = findings(&file);
        assert!(
            !diags
                .iter()
                .any(|d| d.severity >= zonal_diagnostics::Severity::Critical),
            "{file}: a realistic policy has no critical finding"
        );
        let name = file.rsplit('/').next().unwrap_or(&file).to_string();
        insta::with_settings!({snapshot_path => "../snapshots/exactness", prepend_module_to_snapshot => false, input_file => file.clone()}, {
            insta::assert_snapshot!(format!("realistic@{name}"), text);
        });
    }
}
