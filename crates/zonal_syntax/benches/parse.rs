//! Throughput of `parse` and `format` on a large generated policy and on
//! pathological inputs. Run with `cargo bench -p zonal_syntax`.
//!
//! A plain `harness = false` benchmark (std only): each case runs for about
//! a second and reports the best time per run and the throughput.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use zonal_diagnostics::FileId;

/// A realistic but large policy: `zones` zones of 20 devices, 5 flows per zone.
fn large_policy(zones: usize) -> String {
    let mut s = String::from("# generated\npolicy big { owner \"bench\" }\n\n");
    for z in 0..zones {
        let (a, b) = (z / 250, z % 250);
        let _ = writeln!(
            s,
            "zone z{z} {{  # zone {z}\n  network 10.{a}.{b}.0/24\n  vlan {}\n  trust low",
            z % 4000 + 1
        );
        for d in 0..20 {
            let _ = writeln!(
                s,
                "  device h{z}-{d} {{ address 10.{a}.{b}.{}  kind ct  vendor \"V\"  ae H{d}  listens dicom on 11112 }}",
                d + 1
            );
        }
        s.push_str("}\n\n");
    }
    for z in 1..zones {
        let p = z - 1;
        let _ = writeln!(
            s,
            "allow z{z} -> h{p}-1 : dicom, tcp 18016-18019, 18030 \"archiving\""
        );
        let _ = writeln!(s, "deny z{z} -> z{p} : smb");
        let _ = writeln!(s, "storage-commitment h{z}-2 -> h{p}-1");
        let _ = writeln!(s, "never z{z} ~> z{p} : telnet");
        let _ = writeln!(s, "allow h{z}-3 -> h{p}-4 : https until 2027-01-31");
    }
    s
}

fn bench(name: &str, text: &str, f: impl Fn(&str)) {
    // `cargo bench -p zonal_syntax -- WORD` runs only the cases whose name contains WORD.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !filter.iter().all(|w| name.contains(w.as_str())) {
        return;
    }
    let mut best = Duration::MAX;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed() < Duration::from_secs(1) {
        let t = Instant::now();
        f(black_box(text));
        best = best.min(t.elapsed());
        runs += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "a throughput figure")]
    let mib_s = text.len() as f64 / (1024.0 * 1024.0) / best.as_secs_f64();
    #[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
    {
        println!(
            "{name:<40} {:>9} bytes  best {best:>12.3?}  {mib_s:>8.1} MiB/s  ({runs} runs)",
            text.len()
        );
    }
}

fn main() {
    let large = large_policy(2000);
    let parsed = zonal_syntax::parse(FileId(0), &large);
    assert!(
        parsed.diagnostics.is_empty(),
        "the generated policy must be valid"
    );
    bench("parse: 2000 zones, 40000 devices", &large, |t| {
        black_box(zonal_syntax::parse(FileId(0), t));
    });
    bench("format: same file (parsed once)", &large, |t| {
        black_box(zonal_syntax::format(&parsed.file, t));
    });

    let broken = large.replace("allow ", "allow =>");
    bench("parse: same file, 4000 syntax errors", &broken, |t| {
        black_box(zonal_syntax::parse(FileId(0), t));
    });
    let spaces = format!("zoen{}", " ".repeat(4 * 1024 * 1024));
    bench("parse: error then 4 MiB of spaces", &spaces, |t| {
        black_box(zonal_syntax::parse(FileId(0), t));
    });
    let braces = format!("zone a {}", "{".repeat(4 * 1024 * 1024));
    bench("parse: 4 MiB of `{`", &braces, |t| {
        black_box(zonal_syntax::parse(FileId(0), t));
    });
    let comments = "# a comment line\n".repeat(250_000);
    bench("parse: 250000 comment lines", &comments, |t| {
        black_box(zonal_syntax::parse(FileId(0), t));
    });
}
