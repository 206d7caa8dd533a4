//! `cargo bench -p zonal_bench --bench micro`: divan micro-benchmarks that
//! catch regressions phase by phase on one small, fixed policy (the
//! `zonal_synth` benchmark generator, seed 1, 100 zones, 1,000 devices,
//! 2,500 flows) and on the broad-rule policy of `policygen broad 300`:
//!
//! - `parse`: the syntax tree of the text;
//! - `load`: parse + resolve (`zonal_model::load_str`);
//! - `graph`: the zone graph and lint index;
//! - `lints::<category>`: each lint family alone (every lint of the
//!   category on, the others off), on a prebuilt graph;
//! - `check`: graph + every lint;
//! - `plan`: what one firewall enforces;
//! - `render::<target>` and `render_broad::<target>`: one target from a
//!   prebuilt plan.
//!
//! Options after `--` are divan's (`--sample-count`, a name filter, …).
//! Times are compared between runs on the same machine, never asserted.

use std::sync::LazyLock;

use zonal_backend::{Firewall, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_lint::{Checked, LintConfig, ZoneGraph, check_with_graph};
use zonal_model::{Date, Options, load_str};
use zonal_synth::{SynthConfig, generate};

fn main() {
    divan::main();
}

const OPTIONS: Options = Options {
    today: Date {
        year: 2026,
        month: 11,
        day: 28,
    },
};

/// The synthetic policy's text.
static TEXT: LazyLock<String> = LazyLock::new(|| {
    let mut config = SynthConfig::benchmark(1);
    config.zones = 100;
    config.devices = 1_000;
    config.flows = 2_500;
    generate(&config)
});

/// A policy through the render gate, with the lints `off` turned off (as
/// a `zonal.toml` would).
fn checked(text: &str, off: &[&str]) -> Checked {
    let loaded = load_str("bench.zonal", text, &OPTIONS);
    let Some(policy) = loaded.policy else {
        panic!("the benchmark policy does not resolve");
    };
    let mut config = LintConfig::default();
    for code in off {
        let _ = config.set_level(code, None);
    }
    match Checked::new(policy, &config, &zonal_lint::Baseline::empty()) {
        Ok(c) => c,
        Err(_) => panic!("the benchmark policy does not pass the render gate"),
    }
}

static CHECKED: LazyLock<Checked> = LazyLock::new(|| checked(&TEXT, &[]));

/// `policygen broad 300`: 300 zones, `any -> any : icmp-echo` and five
/// group → group rules over 80% of the zones each.
static BROAD: LazyLock<Checked> = LazyLock::new(|| {
    let text = zonal_bench::broad_policy(300);
    checked(&text, &["L0303"])
});

#[divan::bench]
fn parse() -> usize {
    let mut db = SourceDb::new();
    let file = db.add("bench.zonal", TEXT.as_str());
    zonal_syntax::parse(file, &TEXT).file.items.len()
}

#[divan::bench]
fn load() -> usize {
    let loaded = load_str("bench.zonal", &TEXT, &OPTIONS);
    let n = loaded.policy.as_ref().map_or(0, |p| p.rules.len());
    std::mem::forget(loaded);
    n
}

#[divan::bench]
fn graph() -> usize {
    ZoneGraph::new(CHECKED.policy()).node_count()
}

#[divan::bench]
fn check() -> usize {
    let graph = ZoneGraph::new(CHECKED.policy());
    check_with_graph(&graph, &LintConfig::default()).len()
}

#[divan::bench(args = ["structure", "rule-anomaly", "zone-intent", "protocol-hygiene", "workflow", "time", "suppression"])]
fn lints(bencher: divan::Bencher<'_, '_>, category: &str) {
    let graph = ZoneGraph::new(CHECKED.policy());
    let mut only = LintConfig::default();
    for info in zonal_lint::registry() {
        if info.category() != category {
            let _ = only.set_level(info.code, None);
        }
    }
    bencher.bench_local(|| check_with_graph(&graph, &only).len());
}

#[divan::bench]
fn plan() -> usize {
    let fw = Firewall::by_address(CHECKED.policy().name.clone());
    let plan = zonal_backend::plan(&CHECKED, &fw);
    std::hint::black_box(&plan);
    CHECKED.policy().zones.len()
}

const TARGETS: [Target; 8] = Target::ALL;

fn render_one(bencher: divan::Bencher<'_, '_>, checked: &Checked, target: Target) {
    let fw = Firewall::by_address(checked.policy().name.clone());
    let plan = zonal_backend::plan(checked, &fw);
    let templates = Templates::embedded();
    bencher.bench_local(|| {
        let mut db = SourceDb::new();
        zonal_backend::render_plan(target, &plan, &templates, &mut db)
            .map(|r| r.rule_count())
            .unwrap_or(0)
    });
}

#[divan::bench(args = TARGETS)]
fn render(bencher: divan::Bencher<'_, '_>, target: Target) {
    render_one(bencher, &CHECKED, target);
}

#[divan::bench(args = TARGETS)]
fn render_broad(bencher: divan::Bencher<'_, '_>, target: Target) {
    render_one(bencher, &BROAD, target);
}
