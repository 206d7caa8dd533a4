//! `cargo bench -p zonal_bench --bench render`: renders a synthetic policy
//! (`zonal_synth`) for every target with the implicit by-address firewall
//! and prints the wall and CPU time, output size and rule count per target.
//!
//! Options (after `--`): `--seed N`, `--zones N`, `--devices N`, `--flows N`
//! (default: 200 zones, 2,000 devices, 5,000 flows), `--repeat N` (time the
//! check and every target N times, print medians; default 1), `--write DIR`
//! (save the rendered files, e.g. to time `nft -c -f` on them).
//!
//! The last column compares each target with the check of the same run
//! (`load` + the render gate, i.e. what `zonal check` computes): issue 14
//! asks that rendering one target cost no more than the check. The
//! harness's M policy is `--zones 500 --devices 2000 --flows 2000`.

use std::time::Instant;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_bench::cpu_s;
use zonal_diagnostics::SourceDb;
use zonal_model::{Date, Options, load_str};
use zonal_synth::{SynthConfig, generate};

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

#[expect(clippy::print_stdout, reason = "a benchmark binary reports on stdout")]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = |name: &str, default: usize| {
        arg(&args, name)
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(default)
    };
    let mut config = SynthConfig::benchmark(arg(&args, "--seed").unwrap_or(1));
    config.zones = size("--zones", 200);
    config.devices = size("--devices", 2_000);
    config.flows = size("--flows", 5_000);
    let text = generate(&config);
    let options = Options {
        today: Date {
            year: 2026,
            month: 11,
            day: 28,
        },
    };
    let repeat = size("--repeat", 1).max(1);
    let project = zonal_pipeline::ProjectConfig::defaults(std::path::Path::new("."));
    let mut load_times = Vec::new();
    let mut check_times = Vec::new();
    let mut kept = None;
    for _ in 0..repeat {
        let t = Instant::now();
        let mut loaded = load_str("synthetic.zonal", &text, &options);
        load_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let gated = zonal_pipeline::gate(&mut loaded, &project, &zonal_lint::Baseline::empty());
        check_times.push(t.elapsed().as_secs_f64());
        match gated {
            Ok(c) => kept = Some(c),
            Err(e) => {
                println!("the generated policy does not pass the render gate: {e:?}");
                std::process::exit(2);
            }
        }
    }
    let Some(checked) = kept else { return };
    let load_s = median(&mut load_times);
    let check_s = median(&mut check_times);
    let whole_check = load_s + check_s;
    let policy = checked.policy();
    println!(
        "policy: seed {}, {} zones, {} devices, {} flow lines -> {} rules; load {load_s:.4} s + gate {check_s:.4} s = check {whole_check:.4} s (medians of {repeat})",
        config.seed,
        policy.zones.len(),
        policy.devices.len(),
        config.flows,
        policy.rules.len()
    );
    let fw = Firewall::by_address(policy.name.clone());
    let templates = Templates::embedded();
    let req = Request {
        checked: &checked,
        firewall: &fw,
        templates: &templates,
    };
    let out_dir = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1));
    println!("target        wall       cpu     bytes     rules  render / check");
    for target in Target::ALL {
        let mut walls = Vec::new();
        let mut result = None;
        let c = cpu_s();
        for _ in 0..repeat {
            let mut db = SourceDb::new();
            let t = Instant::now();
            let r = zonal_backend::render(target, &req, &mut db);
            walls.push(t.elapsed().as_secs_f64());
            result = Some(r);
        }
        let cpu = (cpu_s() - c) / repeat as f64;
        let wall = median(&mut walls);
        let Some(result) = result else { continue };
        match result {
            Ok(r) => {
                let bytes: usize = r.artifacts.iter().map(|a| a.text.len()).sum();
                println!(
                    "{:<10} {wall:7.4} s {cpu:7.3} s {bytes:9} {:9}  {:.2}",
                    target.name(),
                    r.rule_count(),
                    wall / whole_check
                );
                if let Some(dir) = out_dir {
                    for a in &r.artifacts {
                        let path = format!("{dir}/synthetic.{}", a.extension);
                        if let Err(e) = std::fs::write(&path, &a.text) {
                            println!("cannot write {path}: {e}");
                        }
                    }
                }
            }
            Err(d) => println!("{:<10} failed: {} diagnostic(s)", target.name(), d.len()),
        }
    }
}
