//! `cargo bench -p zonal_bench --bench broad`: the broad-rule benchmark of
//! the analysis issue: 5,000 zones (one device each), five group → group
//! rules over most of the network, an `allow all -> all : https` and a
//! `require all -> all : https`, checked with every lint. The bar is under
//! 2 s of CPU and 500 MiB for the whole check.
//!
//! Options (after `--`): `--zones N` (default 5,000), `--per-lint` (also
//! time each lint alone), `--write FILE` (save the policy, to time
//! `zonal check FILE` itself).

use std::fmt::Write as _;

use zonal_bench::{cpu_s, peak_rss_kib};
use zonal_lint::{LintConfig, ZoneGraph, check_with_graph};
use zonal_model::{Date, Options, load_str};

/// The policy text.
fn policy(n: usize) -> String {
    let mut out = String::from("policy broad { owner \"bench\" }\n");
    for i in 0..n {
        let (a, b) = (i / 256, i % 256);
        // Every kind the zone lints look at: modalities (some end of
        // support), clinical desktops, servers, guest Wi-Fi.
        let (trust, kind, eos) = match i % 8 {
            0 | 1 => ("low", "modality", ""),
            2 => ("low", "modality", "  end-of-support"),
            3 | 4 => ("medium", "clinical", ""),
            5 | 6 => ("high", "servers", ""),
            _ => ("untrusted", "guest", ""),
        };
        let _ = writeln!(
            out,
            "zone z{i} {{ network 10.{a}.{b}.0/24  trust {trust}  kind {kind}{eos}  device d{i} {{ address 10.{a}.{b}.10 }} }}"
        );
    }
    out.push_str("zone internet { external  trust untrusted }\n");
    let names: Vec<String> = (0..n).map(|i| format!("z{i}")).collect();
    let _ = writeln!(out, "group all = {}", names.join(", "));
    for g in 0..5 {
        let a = &names[(g * n / 50).min(n)..(g * n / 50 + n * 4 / 5).min(n)];
        let b = &names[(n / 5).saturating_sub(g * n / 50)..n - g * n / 50];
        let _ = writeln!(out, "group ga{g} = {}", a.join(", "));
        let _ = writeln!(out, "group gb{g} = {}", b.join(", "));
        let _ = writeln!(out, "allow ga{g} -> gb{g} : tcp {} \"broad {g}\"", 8000 + g);
    }
    out.push_str("allow all -> all : https \"intranet\"\n");
    out.push_str("require all -> all : https \"everyone reaches everyone on https\"\n");
    out
}

#[expect(clippy::print_stdout, reason = "a benchmark binary reports on stdout")]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--zones")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000usize);
    let text = policy(n);
    if let Some(file) = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        && let Err(e) = std::fs::write(file, &text)
    {
        println!("cannot write {file}: {e}");
        std::process::exit(2);
    }
    let options = Options {
        today: Date {
            year: 2026,
            month: 12,
            day: 6,
        },
    };
    let c = cpu_s();
    let loaded = load_str("broad.zonal", &text, &options);
    let load_s = cpu_s() - c;
    let Some(policy) = loaded
        .policy
        .as_ref()
        .filter(|_| !loaded.diagnostics.has_input_errors())
    else {
        println!(
            "the generated policy does not resolve: {:?}",
            loaded.diagnostics.0.first()
        );
        std::process::exit(2);
    };
    let c = cpu_s();
    let graph = ZoneGraph::new(policy);
    let graph_s = cpu_s() - c;
    println!("{n} zones; {}", graph.index_stats());
    let c = cpu_s();
    let findings = check_with_graph(&graph, &LintConfig::default()).len();
    let lint_s = cpu_s() - c;
    println!(
        "load {load_s:.2} s, graph {graph_s:.2} s, lints {lint_s:.2} s ({findings} findings); check total {:.2} s CPU, peak {} MiB",
        load_s + graph_s + lint_s,
        peak_rss_kib().unwrap_or(0) / 1024
    );
    if args.iter().any(|a| a == "--per-lint") {
        for line in zonal_bench::per_lint(&graph) {
            println!("{line}");
        }
    }
}
