//! `policygen`: writes the synthetic policies of the performance issue's
//! measurements to standard output (docs/performance.md).
//!
//! ```text
//! cargo run --release -p zonal_bench --bin policygen -- broad N > broad.zonal
//! cargo run --release -p zonal_bench --bin policygen -- zones N > zones.zonal
//! ```
//!
//! - `broad N`: N zones (an IPv4 /24 and an IPv6 /64 with one device
//!   each), `allow any -> any : icmp-echo`, and five group → group rules,
//!   each group holding 80% of the zones (most of the network).
//! - `zones N`: N zones alone (an IPv4 /25 each, so that neighbouring
//!   zones never merge into one range), no rule: the cost of resolving
//!   zones.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

/// The broad-rule policy.
fn broad(n: usize) -> String {
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

/// Zones alone.
fn zones(n: usize) -> String {
    let mut out = String::from("policy zones {\n  owner \"net\"\n}\n");
    for i in 0..n {
        let (a, b, c) = (i / 65_536, (i / 256) % 256, i % 256);
        let _ = writeln!(out, "zone z{i} {{ network 1{a}.{b}.{c}.0/25 }}");
    }
    out
}

#[expect(
    clippy::disallowed_methods,
    reason = "a developer tool outside the CLI writes its policy and reports its own error"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.get(1).and_then(|v| v.parse::<usize>().ok());
    let text = match (args.first().map(String::as_str), n) {
        (Some("broad"), Some(n)) if n >= 2 => broad(n),
        (Some("zones"), Some(n)) => zones(n),
        _ => {
            let _ = writeln!(std::io::stderr().lock(), "usage: policygen broad|zones N");
            return ExitCode::from(2);
        }
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "policygen: {e}");
            ExitCode::from(2)
        }
    }
}
