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
