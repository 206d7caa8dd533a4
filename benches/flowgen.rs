//! `flowgen`: writes seeded, realistic flow records for a policy's
//! workflows (and optional noise) to a file, for `zonal replay` and
//! `zonal learn` and their benchmark (docs/performance.md, docs/observe.md).
//!
//! ```text
//! cargo run --release -p zonal_bench --bin flowgen -- POLICY.zonal OUT \
//!     [--format zeek|zeek-json|conntrack|nf-conntrack|csv] [--records N] [--seed S] [--noise PERCENT]
//! ```

use std::io::Write as _;
use std::process::ExitCode;

use zonal_model::{Date, MemoryLoader, Options, load};
use zonal_observe::Format;
use zonal_observe::traffic::{Traffic, TrafficConfig, header, write_record};

#[expect(
    clippy::disallowed_methods,
    reason = "a developer tool outside the CLI reports its own error"
)]
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "flowgen: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut format = Format::Zeek;
    let mut config = TrafficConfig::clean(1, 10_000);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("`{a}` needs a value"));
        match a.as_str() {
            "--format" => {
                let v = value()?;
                format = Format::parse(v).ok_or(format!("unknown format `{v}`"))?;
            }
            "--records" => config.records = value()?.parse().map_err(|_| "bad --records")?,
            "--seed" => config.seed = value()?.parse().map_err(|_| "bad --seed")?,
            "--noise" => config.noise_percent = value()?.parse().map_err(|_| "bad --noise")?,
            _ => positional.push(a.clone()),
        }
    }
    let [policy_path, out_path] = positional.as_slice() else {
        return Err(
            "usage: flowgen POLICY.zonal OUT [--format F] [--records N] [--seed S] [--noise P]"
                .into(),
        );
    };
    let text = std::fs::read_to_string(policy_path).map_err(|e| format!("{policy_path}: {e}"))?;
    let options = Options {
        today: Date::new(2026, 12, 1).ok_or("date")?,
    };
    let loaded = load(
        &MemoryLoader::single(policy_path, &text),
        policy_path,
        &options,
    );
    let policy = match loaded.policy {
        Some(p) if !loaded.diagnostics.has_input_errors() => p,
        _ => return Err(format!("{policy_path} has errors; run `zonal check`")),
    };
    let file = std::fs::File::create_new(out_path).map_err(|e| format!("{out_path}: {e}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut line = header(format);
    for (i, f) in Traffic::new(&policy, config).enumerate() {
        write_record(format, &f, i as u64, &mut line);
        if line.len() > 1 << 16 {
            w.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
            line.clear();
        }
    }
    w.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())
}
