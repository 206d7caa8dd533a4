//! Unit tests of the lint engine on small policies.

use zonal_diagnostics::render;
use zonal_model::{Date, Options, load_str};

use crate::{LintConfig, check};

fn options() -> Options {
    Options {
        today: Date::new(2026, 11, 28).unwrap(),
    }
}

/// Loads a policy and runs every lint; returns the codes and the rendered findings.
fn lint(text: &str) -> (Vec<&'static str>, String) {
    let loaded = load_str("test.zonal", text, &options());
    let rendered: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| render::human(&loaded.db, d))
        .collect();
    assert!(
        !loaded.diagnostics.has_input_errors(),
        "{}",
        rendered.join("\n")
    );
    let policy = loaded.policy.unwrap();
    let found = check(&policy, &LintConfig::default());
    let codes = found.iter().map(|d| d.code).collect();
    let text = found
        .iter()
        .map(|d| render::human(&loaded.db, d))
        .collect::<Vec<_>>()
        .join("\n");
    (codes, text)
}

/// The hospital example has no critical or high finding, and its one
/// suppression (the portable DR on the clinical SSID) is honoured.
#[test]
fn riverbend_example_has_no_serious_findings() {
    let text = include_str!("../../../policies/examples/riverbend-radiology.zonal");
    let (codes, out) = lint(text);
    assert!(!codes.contains(&"L0105"), "{out}");
    assert!(!codes.contains(&"L0703"), "{out}");
    let serious = [
        "L0301", "L0302", "L0303", "L0304", "L0305", "L0306", "L0201", "L0203",
    ];
    assert!(codes.iter().all(|c| !serious.contains(c)), "{out}");
}

/// Redundancy is found for a rule covered only by several rules together,
/// and the deny-wins semantics makes a fully denied allow shadowed.
#[test]
fn cover_by_several_rules() {
    let text = include_str!("../../../policies/lint/L0202-redundant-rule/flagged.zonal");
    let (codes, out) = lint(text);
    assert_eq!(codes.iter().filter(|c| **c == "L0202").count(), 1, "{out}");
    assert!(out.contains("covered by 2 rules together"), "{out}");
    let text = include_str!("../../../policies/lint/L0201-shadowed-rule/flagged.zonal");
    let (_, out) = lint(text);
    assert!(out.contains("covered by 2 deny rules together"), "{out}");
}

/// Every lint's flagged fixture raises it; its clean fixture does not.
#[test]
fn fixtures_flag_and_clean() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/lint");
    let mut failures = Vec::new();
    for info in crate::registry() {
        let dir = format!("{root}/{}-{}", info.code, info.name);
        for (kind, expect) in [("flagged", true), ("clean", false)] {
            let path = format!("{dir}/{kind}.zonal");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let (codes, out) = lint(&text);
            if codes.contains(&info.code) != expect {
                failures.push(format!(
                    "{path}: expected {} {}; got {codes:?}\n{out}",
                    if expect { "" } else { "no" },
                    info.code
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// With pivot services configured, a chain continues only through hops that
/// permit one of them: the guest -> jump host hop is RDP, so pivoting
/// through SSH alone breaks the chain, and through RDP keeps it.
#[test]
fn pivot_services_restrict_transitive_paths() {
    let text = include_str!("../../../policies/lint/L0305-never-violated/flagged.zonal");
    let loaded = load_str("test.zonal", text, &options());
    let policy = loaded.policy.unwrap();
    let transitive = |config: &LintConfig| {
        check(&policy, config)
            .iter()
            .any(|d| d.code == "L0305" && d.message.contains("~>"))
    };
    let mut config = LintConfig::default();
    assert!(transitive(&config));
    config.pivot_services = Some(policy.service_by_name("ssh").unwrap().set.clone());
    assert!(!transitive(&config));
    config.pivot_services = Some(policy.service_by_name("rdp").unwrap().set.clone());
    assert!(transitive(&config));
}

/// The graph answers direct and transitive questions with concrete hops.
#[test]
fn graph_paths_and_direct_flows() {
    let text = include_str!("../../../policies/lint/L0305-never-violated/flagged.zonal");
    let loaded = load_str("test.zonal", text, &options());
    let policy = loaded.policy.unwrap();
    let graph = crate::ZoneGraph::new(&policy);
    let guest = zonal_model::Endpoint::Zone(policy.zone_by_name("guest-wifi").unwrap().id);
    let ct = zonal_model::Endpoint::Device(policy.device_by_name("ct-1").unwrap().id);
    assert!(graph.direct(&[guest], &[ct], None).is_none());
    let hops = graph
        .shortest_path(&[guest], &[ct], &crate::PathOptions::default())
        .unwrap();
    let names: Vec<String> = hops
        .iter()
        .map(|h| format!("{}>{}", graph.place_name(h.from), graph.place_name(h.to)))
        .collect();
    assert_eq!(names, ["guest-wifi>jump-1", "jump-1>ct-1"]);
    assert_eq!(
        hops[1].packet.to_string(),
        "tcp 10.20.240.10 -> 10.20.110.11:3389"
    );
    let https = policy.service_by_name("https").unwrap().set.clone();
    let opts = crate::PathOptions {
        pivots: None,
        last_hop: Some(&https),
    };
    assert!(
        graph.shortest_path(&[guest], &[ct], &opts).is_none(),
        "the last hop is RDP only"
    );
}

/// `any -> any` rules are kept out of the cell enumeration (one default
/// cell and one hub instead of a cell per pair of classes) and still count
/// everywhere: in paths, in covers and in direct flows.
#[test]
fn any_to_any_rules_use_the_default_cell() {
    let text = r#"policy global { owner "t" }
zone modalities {
  network 10.20.110.0/24
  trust low
  kind modality
  device ct-1 { address 10.20.110.11  kind ct  listens dicom }
}
zone archive {
  network 10.20.120.0/24
  trust medium
  kind pacs
  device pacs-1 { address 10.20.120.10  kind pacs  listens dicom }
}
zone guest-wifi { network 172.31.0.0/16  trust untrusted  kind guest }
zone internet { external }
allow ct-1 -> pacs-1 : dicom "images"
allow any -> any : icmp-echo "ping everywhere"
deny any -> any : telnet "never telnet"
allow ct-1 -> pacs-1 : telnet "old console"
never guest-wifi ~> modalities
"#;
    let (codes, out) = lint(text);
    assert!(codes.contains(&"L0405"), "{out}");
    assert!(
        codes.contains(&"L0305"),
        "the ping rule lets guests reach the CT:\n{out}"
    );
    assert!(
        out.contains("1. guest-wifi -> modalities : icmp 172.31.0.1 -> 10.20.110.1 type 8"),
        "{out}"
    );
    assert!(
        codes.contains(&"L0201"),
        "the telnet allow is shadowed by the global deny:\n{out}"
    );
    assert!(
        codes.contains(&"L0304"),
        "guest to clinical through ping:\n{out}"
    );
}

/// A service used only as part of a used composite is used; one that only
/// covers the same port without being named is not; an invariant naming a
/// service uses it.
#[test]
fn unused_service_follows_composites_and_names() {
    let text = "policy p { owner \"n\" }\n\
        service viewer-a = tcp 8443\n\
        service viewer-b = tcp 8444\n\
        service viewer = viewer-a, viewer-b\n\
        service same-as-a = tcp 8443\n\
        service audited = tcp 9000\n\
        zone a { network 10.0.1.0/24  trust medium  kind clinical }\n\
        zone b { network 10.0.2.0/24  trust medium  kind servers }\n\
        allow a -> b : viewer \"web\"\n\
        never b -> a : audited \"no audit traffic back\"\n";
    let (_, out) = lint(text);
    let unused: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("info[L0102]"))
        .collect();
    assert_eq!(
        unused,
        ["info[L0102]: service `same-as-a` is never used"],
        "{out}"
    );
}
