//! Benchmarks of Zonal (`check.rs`, `render.rs`, `items.rs`, `micro.rs`;
//! figures in `docs/performance.md`), and what they share: the process's
//! CPU time and peak memory from `/proc/self`, and the generated policies
//! of `policygen`.

use std::fmt::Write as _;

/// The benchmarks run with the allocator of the `zonal` binary
/// (`crates/zonal_cli/src/main.rs`), so that their figures are the ones a
/// user sees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time (user + system) of this process in seconds, from `/proc/self/stat`.
pub fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th field overall.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

/// Peak resident set size in KiB, from `/proc/self/status`.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The broad-rule policy of `policygen broad N` (see `policygen.rs`).
pub fn broad_policy(n: usize) -> String {
    let mut out =
        String::from("policy broad {\n  owner \"net\"\n  description \"broad rules\"\n}\n");
    for i in 0..n {
        let (a, b) = (i / 250, i % 250);
        let _ = writeln!(
            out,
            "zone z{i} {{\n  network 10.{a}.{b}.0/24\n  network fd00:{i:x}::/64\n  device d{i} {{\n    address 10.{a}.{b}.10\n  }}\n}}"
        );
    }
    let width = n * 4 / 5;
    let members = |start: usize| -> String {
        (0..width)
            .map(|k| format!("z{}", (start + k) % n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for g in 0..5 {
        let lo = g * n / 10;
        let _ = writeln!(out, "group ga{g} = {}", members(lo));
        let _ = writeln!(out, "group gb{g} = {}", members(lo + n / 2));
    }
    out.push_str("allow any -> any : icmp-echo \"ping everywhere\"\n");
    for g in 0..5 {
        let _ = writeln!(out, "allow ga{g} -> gb{g} : https \"wide {g}\"");
    }
    out
}

/// Zones alone, the policy of `policygen zones N`.
pub fn zones_policy(n: usize) -> String {
    let mut out = String::from("policy zones {\n  owner \"net\"\n}\n");
    for i in 0..n {
        let (a, b, c) = (i / 65_536, (i / 256) % 256, i % 256);
        let _ = writeln!(out, "zone z{i} {{ network 1{a}.{b}.{c}.0/25 }}");
    }
    out
}

/// Each lint alone on an already built graph: one line per lint with its
/// code, name, CPU and wall time and the number of findings (`--per-lint`
/// of the `check`, `items` and `broad` benchmarks).
pub fn per_lint(graph: &zonal_lint::ZoneGraph<'_>) -> Vec<String> {
    zonal_lint::registry()
        .iter()
        .map(|info| {
            let mut only = zonal_lint::LintConfig::default();
            for other in zonal_lint::registry() {
                if other.code != info.code {
                    let _ = only.set_level(other.code, None);
                }
            }
            let c = cpu_s();
            let t = std::time::Instant::now();
            let found = zonal_lint::check_with_graph(graph, &only).len();
            format!(
                "  {} {:<32} {:6.2} s CPU {:6.2} s wall {found:7} findings",
                info.code,
                info.name,
                cpu_s() - c,
                t.elapsed().as_secs_f64()
            )
        })
        .collect()
}
