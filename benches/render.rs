//! `cargo bench -p zonal_bench --bench render`: renders a synthetic policy
//! (`zonal_synth`) for every target with the implicit by-address firewall
//! and prints the wall and CPU time, output size and rule count per target.
//!
//! Options (after `--`): `--seed N`, `--zones N`, `--devices N`, `--flows N`
//! (default: 200 zones, 2,000 devices, 5,000 flows), `--write DIR` (save the
//! rendered files, e.g. to time `nft -c -f` on them).

use std::time::Instant;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_bench::cpu_s;
use zonal_diagnostics::SourceDb;
use zonal_model::{Date, Options, load_str};
use zonal_synth::{SynthConfig, generate};

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
    let t = Instant::now();
    let loaded = load_str("synthetic.zonal", &text, &options);
    let load_s = t.elapsed().as_secs_f64();
    let mut loaded = loaded;
    let project = zonal_pipeline::ProjectConfig::defaults(std::path::Path::new("."));
    let t = Instant::now();
    let checked = match zonal_pipeline::gate(&mut loaded, &project, &zonal_lint::Baseline::empty())
    {
        Ok(c) => c,
        Err(e) => {
            println!("the generated policy does not pass the render gate: {e:?}");
            std::process::exit(2);
        }
    };
    let check_s = t.elapsed().as_secs_f64();
    let policy = checked.policy();
    println!(
        "policy: seed {}, {} zones, {} devices, {} flow lines -> {} rules; load {load_s:.3} s, check {check_s:.3} s",
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
    println!("target        wall       cpu     bytes     rules");
    for target in Target::ALL {
        let mut db = SourceDb::new();
        let (t, c) = (Instant::now(), cpu_s());
        let result = zonal_backend::render(target, &req, &mut db);
        let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_s() - c);
        match result {
            Ok(r) => {
                let bytes: usize = r.artifacts.iter().map(|a| a.text.len()).sum();
                println!(
                    "{:<10} {wall:7.3} s {cpu:7.2} s {bytes:9} {:9}",
                    target.name(),
                    r.rule_count()
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
