//! `cargo bench -p zonal_bench`: generates the synthetic policy of issue 3
//! (2,000 zones, 20,000 devices, 50,000 flows) with `zonal_synth`, then
//! loads it (parse + resolve), builds the zone graph and runs every lint,
//! printing the wall time of each phase and the peak resident memory
//! (`VmHWM` from `/proc/self/status`).
//!
//! Options (after `--`): `--seed N`, `--zones N`, `--devices N`, `--flows N`,
//! `--per-lint` (also time each lint alone), `--write FILE` (save the policy,
//! e.g. to time `zonal check FILE` itself).

use std::collections::BTreeMap;
use std::time::Instant;

use zonal_bench::{cpu_s, peak_rss_kib};
use zonal_lint::{LintConfig, ZoneGraph, check_with_graph};
use zonal_model::{Date, Options, load_str};
use zonal_synth::{SynthConfig, generate};

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

    let (t, c) = (Instant::now(), cpu_s());
    let text = generate(&config);
    let (generate_s, generate_c) = (t.elapsed().as_secs_f64(), cpu_s() - c);
    if let Some(i) = args.iter().position(|a| a == "--write")
        && let Some(path) = args.get(i + 1)
        && let Err(e) = std::fs::write(path, &text)
    {
        println!("cannot write {path}: {e}");
    }

    let options = Options {
        today: Date::new(2026, 11, 28).unwrap_or(Date {
            year: 2026,
            month: 11,
            day: 28,
        }),
    };
    let (t, c) = (Instant::now(), cpu_s());
    let loaded = load_str("synthetic.zonal", &text, &options);
    let (load_s, load_c) = (t.elapsed().as_secs_f64(), cpu_s() - c);
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

    let (t, c) = (Instant::now(), cpu_s());
    let graph = ZoneGraph::new(policy);
    let (graph_s, graph_c) = (t.elapsed().as_secs_f64(), cpu_s() - c);
    let (t, c) = (Instant::now(), cpu_s());
    let findings = check_with_graph(&graph, &LintConfig::default());
    let (lint_s, lint_c) = (t.elapsed().as_secs_f64(), cpu_s() - c);

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
    println!("index: {}", graph.index_stats());
    println!("phase                  wall       cpu");
    println!("generate             {generate_s:6.3} s  {generate_c:6.2} s");
    println!("load (parse+resolve) {load_s:6.3} s  {load_c:6.2} s");
    println!("zone graph           {graph_s:6.3} s  {graph_c:6.2} s");
    println!("lints                {lint_s:6.3} s  {lint_c:6.2} s");
    println!(
        "check = load + graph + lints: {:.3} s wall, {:.2} s cpu",
        load_s + graph_s + lint_s,
        load_c + graph_c + lint_c
    );
    println!("(wall > cpu: the machine was busy with other work; cpu is what this process needed)");
    match peak_rss_kib() {
        Some(k) => println!("peak RSS (VmHWM): {:.1} MiB", k as f64 / 1024.0),
        None => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
    let summary: Vec<String> = by_code.iter().map(|(c, n)| format!("{c}:{n}")).collect();
    println!("findings: {} ({})", findings.len(), summary.join(" "));
    if args.iter().any(|a| a == "--per-lint") {
        for line in zonal_bench::per_lint(&graph) {
            println!("{line}");
        }
    }
}
