//! Real captures as a second traffic source: the kernel proof's own probes
//! of the bundled example, sent through a router that only watches (the
//! visibility step: every connection forwarded and tracked), captured from
//! the router namespace's connection table (`/proc/net/nf_conntrack`), and
//! replayed against the policy. The probes the policy allows replay with
//! zero denied; the ones it denies are denied, exactly those.
//!
//! `the_kernel_proofs_probes_captured_in_the_kernel_replay_as_the_policy_decides`
//! needs root, `ip` and `nft` (CI runs as root; it fails, never skips);
//! with `ZONAL_REGENERATE_CAPTURE=1` it rewrites the saved capture
//! `policies/examples/traffic/riverbend.nf_conntrack`, which the other
//! test replays without root.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use zonal_model::{Action, Date, Options, Policy, load_str};
use zonal_observe::{Feed, Flow, FlowReader, Format, Replay};
use zonal_verify::{Config, Plan, Ruleset};

const EXAMPLE: &str = include_str!("../../../policies/examples/riverbend-radiology.zonal");
const SAVED: &str = "policies/examples/traffic/riverbend.nf_conntrack";

/// A router that forwards everything and tracks every connection: what a
/// network looks like before enforcement, while its traffic is watched.
const VISIBILITY: &str = "table inet z13b_visibility {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tct state established,related accept
\t\tct state new accept
\t}
}
";

fn policy() -> Policy {
    let loaded = load_str(
        "riverbend-radiology.zonal",
        EXAMPLE,
        &Options {
            today: Date::new(2026, 12, 6).unwrap_or_else(|| panic!("date")),
        },
    );
    assert!(
        !loaded.diagnostics.has_input_errors(),
        "{:?}",
        loaded.diagnostics
    );
    loaded.policy.unwrap_or_else(|| panic!("no policy"))
}

fn config() -> Config {
    Config {
        capture_conntrack: true,
        ..Config::default()
    }
}

type Tuple = (IpAddr, IpAddr, u8, u16);

fn tuple(f: &Flow) -> Tuple {
    (f.src, f.dst, f.proto, f.selector)
}

/// Reads a capture, replays the flows of the probes the policy allows and
/// of those it denies separately, and checks both against the plan.
fn check(p: &Policy, plan: &Plan, lines: &[&str]) {
    let mut reader = FlowReader::new(None);
    let mut flows = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        match reader.feed(line) {
            Feed::Flow(f) => flows.push(f),
            Feed::Skip | Feed::Related => {}
            Feed::Bad(why) => panic!("line {}: {why}: {line}", n + 1),
            Feed::Undetected => panic!("the capture's format is not detected: {line}"),
        }
    }
    assert_eq!(reader.format(), Some(Format::NfConntrack));
    let mut expected: BTreeMap<Tuple, Action> = BTreeMap::new();
    for probe in &plan.probes {
        let Some((src, dst)) = plan.addrs(probe) else {
            continue;
        };
        let (proto, selector) = probe.kind.proto_selector(probe.v6);
        expected.insert((src, dst, proto, selector), probe.expected.action);
    }
    let seen: BTreeSet<Tuple> = flows.iter().map(tuple).collect();
    // Every probe is in the capture, and the capture is nothing but probes.
    let missing: Vec<&Tuple> = expected.keys().filter(|t| !seen.contains(t)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} probes are not in the capture, e.g. {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
    // Besides the probes, the router's table holds the hosts' own
    // multicast membership reports (IGMP to 224.0.0.22): not traffic
    // between zones, left out of the replay.
    let strays: Vec<&Tuple> = seen
        .iter()
        .filter(|t| !expected.contains_key(t) && !t.1.is_multicast())
        .collect();
    assert!(strays.is_empty(), "records of no probe: {strays:?}");
    flows.retain(|f| !f.dst.is_multicast());
    for action in [Action::Allow, Action::Deny] {
        let mut r = Replay::new(p);
        r.source("capture");
        let mut n = 0u64;
        for f in flows.iter().filter(|f| expected[&tuple(f)] == action) {
            r.observe(f);
            n += 1;
        }
        let report = r.finish(&|id| format!("rule {}", id.index()));
        assert!(n > 0, "no {action:?} probe captured");
        match action {
            // Zero denied for the probes the policy allows ...
            Action::Allow => {
                assert_eq!(report.denied, 0, "{:?}", report.denied_aggregates);
                assert_eq!(report.allowed, n);
            }
            // ... and the ones it denies are denied, every one.
            Action::Deny => {
                assert_eq!(report.allowed, 0, "{:?}", report.rules);
                assert_eq!(report.denied, n);
            }
        }
    }
}

#[test]
fn the_kernel_proofs_probes_captured_in_the_kernel_replay_as_the_policy_decides() {
    let p = policy();
    let report = zonal_verify::verify(&p, &Ruleset::Nftables(VISIBILITY.into()), &config())
        .unwrap_or_else(|e| panic!("{e} (this test needs root, ip and nft)"));
    // Nothing was blocked: the router only watched.
    let blocked = report
        .observed
        .iter()
        .filter(|o| !matches!(o, zonal_verify::Observed::Passed(_)))
        .count();
    assert_eq!(blocked, 0, "the visibility router blocked probes");
    assert!(!report.conntrack.is_empty(), "nothing captured");
    let lines: Vec<&str> = report.conntrack.iter().map(String::as_str).collect();
    check(&p, &report.plan, &lines);
    if std::env::var_os("ZONAL_REGENERATE_CAPTURE").is_some() {
        let mut text = String::new();
        for l in &report.conntrack {
            text.push_str(l);
            text.push('\n');
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SAVED);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn the_saved_capture_of_the_probes_replays_as_the_policy_decides() {
    let p = policy();
    let plan = zonal_verify::plan(&p, &config()).unwrap_or_else(|e| panic!("{e}"));
    let saved = include_str!("../../../policies/examples/traffic/riverbend.nf_conntrack");
    let lines: Vec<&str> = saved.lines().collect();
    assert!(
        lines.len() >= plan.probes.len(),
        "{SAVED} is stale: regenerate it (as root) with\n  ZONAL_REGENERATE_CAPTURE=1 cargo test -p zonal_observe --test capture"
    );
    check(&p, &plan, &lines);
}
