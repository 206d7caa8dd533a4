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

use std::io::Write as _;
use std::process::ExitCode;

#[expect(
    clippy::disallowed_methods,
    reason = "a developer tool outside the CLI writes its policy and reports its own error"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.get(1).and_then(|v| v.parse::<usize>().ok());
    let text = match (args.first().map(String::as_str), n) {
        (Some("broad"), Some(n)) if n >= 2 => zonal_bench::broad_policy(n),
        (Some("zones"), Some(n)) => zonal_bench::zones_policy(n),
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
