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

#[test]
fn riverbend_example() {
    let text = include_str!("../../../policies/examples/riverbend-radiology.zonal");
    let (_, out) = lint(text);
    println!("{out}");
}
