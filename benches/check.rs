//! `cargo bench -p zonal_bench`: generates the synthetic policy of issue 3
//! (2,000 zones, 20,000 devices, 50,000 flows) with `zonal_synth`, then
//! loads it (parse + resolve), builds the zone graph and runs every lint,
//! printing the wall time of each phase and the peak resident memory
//! (`VmHWM` from `/proc/self/status`).
//!
//! Options (after `--`): `--seed N`, `--zones N`, `--devices N`, `--flows N`.

use std::collections::BTreeMap;
use std::time::Instant;

use zonal_lint::{LintConfig, ZoneGraph, check_with_graph};
use zonal_model::{Date, Options, load_str};
use zonal_synth::{SynthConfig, generate};

/// Peak resident set size in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

#[expect(clippy::print_stdout, reason = "a benchmark binary reports on stdout")]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut config = SynthConfig::benchmark(arg(&args, "--seed").unwrap_or(1));
    let size = |name: &str, default: usize| {
        arg(&args, name)
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(default)
    };
    config.zones = size("--zones", config.zones);
    config.devices = size("--devices", config.devices);
    config.flows = size("--flows", config.flows);

    let t = Instant::now();
    let text = generate(&config);
    let generate_s = t.elapsed().as_secs_f64();

    let options = Options {
        today: Date::new(2026, 11, 28).unwrap_or(Date {
            year: 2026,
            month: 11,
            day: 28,
        }),
    };
    let t = Instant::now();
    let loaded = load_str("synthetic.zonal", &text, &options);
    let load_s = t.elapsed().as_secs_f64();
    let Some(policy) = loaded
        .policy
        .as_ref()
        .filter(|_| !loaded.diagnostics.has_input_errors())
    else {
        for d in loaded.diagnostics.iter().take(5) {
            println!("{}", zonal_diagnostics::render::short(&loaded.db, d));
        }
        println!("the generated policy does not resolve");
        std::process::exit(2);
    };

    let t = Instant::now();
    let graph = ZoneGraph::new(policy);
    let graph_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let findings = check_with_graph(&graph, &LintConfig::default());
    let lint_s = t.elapsed().as_secs_f64();

    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for d in findings.iter() {
        *by_code.entry(d.code).or_default() += 1;
    }
    println!(
        "policy: seed {}, {} zones, {} devices, {} flow lines -> {} rules, {} invariants; {:.1} MiB of text",
        config.seed,
        policy.zones.len(),
        policy.devices.len(),
        config.flows,
        policy.rules.len(),
        policy.invariants.len(),
        text.len() as f64 / 1_048_576.0
    );
    println!(
        "zone graph: {} places, {} nodes, {} edges",
        graph.place_count(),
        graph.node_count(),
        graph.edge_count()
    );
    println!("generate        {generate_s:8.3} s");
    println!("load (parse+resolve) {load_s:8.3} s");
    println!("zone graph      {graph_s:8.3} s");
    println!("lints           {lint_s:8.3} s");
    println!(
        "check = load + graph + lints: {:.3} s",
        load_s + graph_s + lint_s
    );
    match peak_rss_kib() {
        Some(k) => println!("peak RSS (VmHWM): {:.1} MiB", k as f64 / 1024.0),
        None => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
    let summary: Vec<String> = by_code.iter().map(|(c, n)| format!("{c}:{n}")).collect();
    println!("findings: {} ({})", findings.len(), summary.join(" "));
}
