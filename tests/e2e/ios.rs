//! Cisco IOS: safe on a shared, living switch (issue 9). Reflexive replies
//! instead of stateless holes, the switch's own traffic before any deny,
//! partial bindings, `until` as a time range, aggregated IPv6 complements,
//! versioned objects and the redeploy simulation on a running
//! configuration seeded with foreign config.

use std::collections::BTreeMap;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{fixtures, policy_of, policy_of_text, render_or_panic};
use zonal_xcheck::{Config, Report};

/// Renders IOS for a firewall; all artifacts joined.
fn render(policy: &Policy, fw: &Firewall) -> String {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &Templates::embedded(),
    };
    render_or_panic(Target::Ios, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A binding of `zones` (zone → interface) for an IOS firewall, with an
/// optional `device:` block (YAML lines, indented by six spaces).
fn binding(policy: &Policy, zones: &[(&str, &str)], device: &str) -> Firewall {
    let mut yaml = String::from("firewalls:\n  - name: sw\n    target: ios\n    zones:\n");
    for (z, i) in zones {
        yaml.push_str(&format!("      {z}: {{ interface: {i} }}\n"));
    }
    if !device.is_empty() {
        yaml.push_str("    device:\n");
        yaml.push_str(device);
    }
    let mut db = SourceDb::new();
    let id = db.add("sw.yaml", yaml.clone());
    let mut b =
        zonal_backend::parse_binding(id, &yaml, policy).unwrap_or_else(|d| panic!("{d:?}\n{yaml}"));
    b.firewalls.remove(0)
}

fn sides(fw: &Firewall) -> BTreeMap<String, Option<String>> {
    fw.zones
        .iter()
        .flatten()
        .map(|b| (b.zone.clone(), b.interface.clone()))
        .collect()
}

fn check(policy: &Policy, fw: Option<&Firewall>, text: &str) -> Report {
    let config = Config {
        zones: fw.map(sides),
        ..Config::default()
    };
    zonal_xcheck::cross_check(policy, zonal_xcheck::Target::Ios, text, &config).unwrap_or_else(
        |e| {
            panic!(
                "{}: the reader rejects the output: {e}\n{text}",
                policy.name
            )
        },
    )
}

/// Every fixture and example, by address and with every zone bound: zero
/// mismatches with the strict reply rule (only genuine replies of open
/// sessions may pass where `decide()` denies).
#[test]
fn ios_fixtures_are_exact_with_strict_replies() {
    let mut files = fixtures("policies/examples");
    files.extend(fixtures("policies/valid"));
    let mut failures = Vec::new();
    for f in &files {
        let policy = policy_of(f);
        let fw = Firewall::by_address(policy.name.clone());
        let r = check(&policy, None, &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("{f}: {}", r.summary(5)));
        }
        let zones: Vec<(String, String)> = policy
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.name.clone(), format!("Vlan{}", 100 + i)))
            .collect();
        for take in [zones.len(), zones.len().div_ceil(2)] {
            let z: Vec<(&str, &str)> = zones
                .iter()
                .take(take)
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let fw = binding(&policy, &z, "");
            let r = check(&policy, Some(&fw), &render(&policy, &fw));
            if !r.is_clean() {
                failures.push(format!("{f} bound to {take} zones: {}", r.summary(5)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Random `zonal_synth` policies, bound fully and partially.
#[test]
fn ios_synth_policies_are_exact_with_strict_replies() {
    let mut failures = Vec::new();
    for seed in 0..20 {
        let text = zonal_synth::generate(&zonal_synth::SynthConfig::small(seed));
        let policy = policy_of_text(&format!("synthetic-{seed}.zonal"), &text);
        let fw = Firewall::by_address(policy.name.clone());
        let r = check(&policy, None, &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("seed {seed}: {}", r.summary(5)));
        }
        let zones: Vec<(String, String)> = policy
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.name.clone(), format!("Vlan{}", 100 + i)))
            .collect();
        let z: Vec<(&str, &str)> = zones
            .iter()
            .take(zones.len().div_ceil(2))
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fw = binding(&policy, &z, "");
        let r = check(&policy, Some(&fw), &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("seed {seed} partial: {}", r.summary(5)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ios_debug_summary() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let fw = Firewall::by_address(policy.name.clone());
    let text = render(&policy, &fw);
    eprintln!("{}", check(&policy, None, &text).summary(3));
    let fw = binding(
        &policy,
        &[("modalities", "Vlan110"), ("imaging-servers", "Vlan120")],
        "",
    );
    let text = render(&policy, &fw);
    eprintln!("{}", check(&policy, Some(&fw), &text).summary(3));
    std::fs::write("/tmp/ios-bound.txt", &text).unwrap();
}
