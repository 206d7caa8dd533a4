//! `cargo bench -p zonal_bench --bench items`: the item-count benchmark of
//! the security issue: a policy of 100,000 services, 100,000 devices and
//! 100,000 rules (three files, each within the 100,000-item limit of one
//! file) is loaded and checked with every lint, and the CPU time of each
//! phase is printed. `zonal check` on it must stay under 5 s of CPU.
//!
//! Options (after `--`): `--items N` (default 100,000), `--per-lint`
//! (also time each lint alone), `--write DIR` (save the three files, to
//! time `zonal check DIR` itself).

use zonal_bench::cpu_s;
use zonal_lint::{LintConfig, ZoneGraph, check_with_graph};
use zonal_model::{Date, MemoryLoader, Options, load};

/// The three files: services, zones with their devices, rules.
fn files(n: usize) -> [(String, String); 3] {
    let mut rng = zonal_synth::Rng::new(11);
    let mut services = String::new();
    for i in 0..n {
        services.push_str(&format!("service svc-{i} = tcp {}\n", 1 + i % 65_535));
    }
    let per_zone = 100;
    let zones = n.div_ceil(per_zone);
    let mut zone_text = String::from("policy items { owner \"bench\" }\n");
    for z in 0..zones {
        let (a, b) = (z / 250, z % 250);
        zone_text.push_str(&format!(
            "zone z{z} {{\n  network 10.{a}.{b}.0/24\n  trust medium\n  kind servers\n"
        ));
        for d in 0..per_zone.min(n - z * per_zone) {
            zone_text.push_str(&format!(
                "  device d{z}-{d} {{ address 10.{a}.{b}.{} }}\n",
                d + 1
            ));
        }
        zone_text.push_str("}\n");
    }
    let mut rules = String::new();
    for r in 0..n {
        let (s, sd) = (rng.below(zones), rng.below(per_zone));
        let (d, dd) = (rng.below(zones), rng.below(per_zone));
        rules.push_str(&format!(
            "allow d{s}-{sd} -> d{d}-{dd} : svc-{} \"r{r}\"\n",
            rng.below(n)
        ));
    }
    [
        ("items/services.zonal".into(), services),
        ("items/zones.zonal".into(), zone_text),
        ("items/rules.zonal".into(), rules),
    ]
}

#[expect(clippy::print_stdout, reason = "a benchmark binary reports on stdout")]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--items")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000usize);
    let files = files(n);
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
    {
        for (name, text) in &files {
            let path = format!("{dir}/{}", name.trim_start_matches("items/"));
            if let Err(e) = std::fs::write(&path, text) {
                println!("cannot write {path}: {e}");
                std::process::exit(2);
            }
        }
    }
    let loader = MemoryLoader {
        files: files.into_iter().collect(),
    };
    let options = Options {
        today: Date {
            year: 2026,
            month: 11,
            day: 28,
        },
    };
    let c = cpu_s();
    let loaded = load(&loader, "items", &options);
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
    println!(
        "{} services, {} devices, {} rules; load {load_s:.2} s CPU",
        policy.services.len(),
        policy.devices.len(),
        policy.rules.len()
    );
    let c = cpu_s();
    let graph = ZoneGraph::new(policy);
    let graph_s = cpu_s() - c;
    let c = cpu_s();
    let findings = check_with_graph(&graph, &LintConfig::default()).len();
    let lint_s = cpu_s() - c;
    println!(
        "graph {graph_s:.2} s, lints {lint_s:.2} s ({findings} findings); check total {:.2} s CPU",
        load_s + graph_s + lint_s
    );
    if args.iter().any(|a| a == "--per-lint") {
        for line in zonal_bench::per_lint(&graph) {
            println!("{line}");
        }
    }
}
