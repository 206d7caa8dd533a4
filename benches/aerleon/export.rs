//! `aerleon-export`: writes one generated policy for both tools, for the
//! side-by-side harness (`benches/aerleon/run.sh`, docs/performance.md).
//!
//! ```text
//! aerleon-export --zones N --flows F [--devices D] [--seed S] OUT_DIR
//! ```
//!
//! Writes `OUT_DIR/zonal/policy/NNN.zonal` (the `zonal_synth` benchmark
//! generator's text, cut between top-level items into files of at most
//! 4 MiB and 20,000 items, well within one file's limits, so that XL
//! loads: `zonal check OUT_DIR/zonal/policy`) and, for Aerleon, `OUT_DIR/aerleon/def/{networks,services}.yaml`
//! and one policy per target in `OUT_DIR/aerleon/policies/<target>.yaml`.
//! Each active Zonal rule term becomes one Aerleon term per family, with
//! the term's own source and destination addresses (named network objects,
//! one per distinct set) and services, in Zonal's decision order: every
//! deny before every allow (deny wins), then the default deny: the same
//! rules in the same decision order for both tools, neither given the
//! zone pairs. Approximations: ICMP types other than echo request and
//! reply are written as the whole protocol (the generator uses echo only);
//! Zonal's outputs also carry what Aerleon's do not (established/related
//! returns, device traffic, logging of the default deny).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name, selector_domain};
use zonal_model::{Action, AddrSet, Date, Family, MemoryLoader, Options, load};
use zonal_synth::{SynthConfig, generate};

/// The Aerleon targets compared, with their filter headers (iptables:
/// one IPv4 and one IPv6 filter, as Zonal writes iptables and ip6tables).
const TARGETS: [(&str, &[&str]); 7] = [
    ("nftables", &["nftables: mixed forward"]),
    (
        "iptables",
        &["iptables: FORWARD DROP", "iptables: FORWARD DROP inet6"],
    ),
    ("pf", &["packetfilter: zonal mixed"]),
    ("ios", &["cisco: ZONAL mixed"]),
    ("asa", &["ciscoasa: ZONAL"]),
    ("srx", &["srx: from-zone all to-zone all"]),
    ("panos", &["paloalto: from-zone any to-zone any"]),
];

/// Most bytes and top-level items of one written policy file.
const PART_BYTES: usize = 4 << 20;
const PART_ITEMS: usize = 20_000;

/// Cuts generated policy text into parts between top-level items: a cut
/// goes before a line that starts an item at brace depth 0, never after an
/// `@` annotation (which belongs to the item below it).
fn split_policy(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let (mut depth, mut items, mut after_annotation) = (0i64, 0usize, false);
    for line in text.split_inclusive('\n') {
        let starts_item = depth == 0 && line.starts_with(|c: char| c.is_ascii_alphabetic());
        if starts_item && !after_annotation {
            let cur = parts.last().map_or(0, String::len);
            if cur >= PART_BYTES || items >= PART_ITEMS {
                parts.push(String::new());
                items = 0;
            }
            items += 1;
        }
        after_annotation = depth == 0 && line.starts_with('@');
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted => break,
                '{' if !quoted => depth += 1,
                '}' if !quoted => depth -= 1,
                _ => {}
            }
        }
        if let Some(p) = parts.last_mut() {
            p.push_str(line);
        }
    }
    parts
}

fn arg(args: &[String], name: &str) -> Option<usize> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

#[expect(
    clippy::disallowed_methods,
    reason = "a developer tool outside the CLI writes its files and reports its own error"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "aerleon-export: {e}");
            ExitCode::from(2)
        }
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "a developer tool outside the CLI writes its files"
)]
#[expect(
    clippy::too_many_lines,
    reason = "one pass from the Zonal rules to the Aerleon files, in the order they are written"
)]
fn run(args: &[String]) -> Result<(), String> {
    let out = args
        .last()
        .filter(|a| !a.starts_with("--"))
        .ok_or("usage: aerleon-export --zones N --flows F [--devices D] [--seed S] OUT_DIR")?;
    let mut config = SynthConfig::benchmark(arg(args, "--seed").unwrap_or(1) as u64);
    config.zones = arg(args, "--zones").unwrap_or(100);
    config.flows = arg(args, "--flows").unwrap_or(config.zones * 4);
    config.devices = arg(args, "--devices").unwrap_or(config.zones * 4);
    let text = generate(&config);
    let options = Options {
        today: Date {
            year: 2026,
            month: 11,
            day: 28,
        },
    };
    let dir = std::path::Path::new(out);
    for sub in ["zonal/policy", "aerleon/def", "aerleon/policies"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    // Written first, so that a policy that does not load can be checked.
    let mut files = BTreeMap::new();
    for (i, part) in split_policy(&text).into_iter().enumerate() {
        let name = format!("{i:03}.zonal");
        std::fs::write(dir.join("zonal/policy").join(&name), &part).map_err(|e| e.to_string())?;
        files.insert(format!("policy/{name}"), part);
    }
    drop(text);
    let loaded = load(&MemoryLoader { files }, "policy", &options);
    let policy = loaded
        .policy
        .ok_or("the generated policy does not resolve (see `zonal check OUT_DIR/zonal/policy`)")?;

    let mut nets: BTreeMap<AddrSet, String> = BTreeMap::new();
    let mut svcs: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut terms = [String::new(), String::new()]; // denies, allows
    let mut count = 0usize;
    for rule in policy.rules.iter().filter(|r| !r.expired) {
        for term in &rule.terms {
            for family in [Family::V4, Family::V6] {
                let (src, dst) = (term.src.family(family), term.dst.family(family));
                let services = term.services.for_family(family);
                if src.is_empty() || dst.is_empty() || services.is_empty() {
                    continue;
                }
                let mut name_of = |set: AddrSet| -> String {
                    let next = format!("NET{}", nets.len());
                    nets.entry(set).or_insert(next).clone()
                };
                let (s, d) = (name_of(src), name_of(dst));
                // One term per protocol: TCP/UDP ports as a service object,
                // ICMP types as icmp-type, other protocols whole.
                let mut parts: Vec<String> = Vec::new();
                if services
                    .union(&zonal_model::ServiceSet::whole_proto(
                        if family == Family::V4 { ICMPV6 } else { ICMP },
                    ))
                    .is_any()
                {
                    parts.push(String::new());
                } else {
                    for (p, sel) in services.iter() {
                        let whole = *sel == selector_domain(p);
                        let pname = proto_name(p);
                        let mut t = format!("        protocol: {pname}\n");
                        if !whole && (p == TCP || p == UDP) {
                            let key: Vec<String> = sel
                                .ranges()
                                .iter()
                                .map(|(a, b)| format!("{a}-{b}"))
                                .collect();
                            let key = format!("{pname}:{}", key.join(","));
                            let next = format!("SVC{}", svcs.len());
                            let mut body = String::new();
                            for (a, b) in sel.ranges() {
                                let port = if a == b {
                                    a.to_string()
                                } else {
                                    format!("{a}-{b}")
                                };
                                let _ =
                                    writeln!(body, "    - port: {port}\n      protocol: {pname}");
                            }
                            let name = svcs.entry(key).or_insert((next, body)).0.clone();
                            let _ = writeln!(t, "        destination-port: {name}");
                        } else if !whole && (p == ICMP || p == ICMPV6) {
                            // Aerleon names ICMP types; echo requests are what
                            // the generator uses.
                            let names: Vec<&str> = sel
                                .ranges()
                                .iter()
                                .flat_map(|&(a, b)| a..=b)
                                .filter_map(|ty| match (p, ty) {
                                    (ICMP, 8) | (ICMPV6, 128) => Some("echo-request"),
                                    (ICMP, 0) | (ICMPV6, 129) => Some("echo-reply"),
                                    _ => None,
                                })
                                .collect();
                            if !names.is_empty() {
                                let _ = writeln!(t, "        icmp-type: {}", names.join(" "));
                            }
                        }
                        parts.push(t);
                    }
                }
                let action = match rule.action {
                    Action::Allow => "accept",
                    Action::Deny => "deny",
                };
                let slot = usize::from(rule.action == Action::Allow);
                for p in parts {
                    count += 1;
                    let _ = write!(
                        terms[slot],
                        "      - name: t{count}\n        source-address: {s}\n        destination-address: {d}\n{p}        action: {action}\n"
                    );
                }
            }
        }
    }
    let mut networks = String::from("networks:\n");
    for (set, name) in &nets {
        let _ = writeln!(networks, "  {name}:\n    values:");
        for p in set.to_prefixes() {
            let _ = writeln!(networks, "      - address: {p}");
        }
    }
    let mut services = String::from("services:\n");
    for (name, body) in svcs.values() {
        let _ = write!(services, "  {name}:\n{body}");
    }
    if svcs.is_empty() {
        services.push_str("  UNUSED:\n    - port: 1\n      protocol: tcp\n");
    }
    std::fs::write(dir.join("aerleon/def/networks.yaml"), networks).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("aerleon/def/services.yaml"), services).map_err(|e| e.to_string())?;
    for (target, headers) in TARGETS {
        let mut pol = String::from("filters:\n");
        for header in headers {
            let (k, v) = header.split_once(": ").unwrap_or((header, ""));
            let _ = write!(
                pol,
                "  - header:\n      targets:\n        {k}: {v}\n    terms:\n"
            );
            pol.push_str(&terms[0]);
            pol.push_str(&terms[1]);
            pol.push_str("      - name: default-deny\n        action: deny\n");
        }
        std::fs::write(dir.join(format!("aerleon/policies/{target}.yaml")), pol)
            .map_err(|e| e.to_string())?;
    }
    let _ = writeln!(
        std::io::stdout().lock(),
        "{} zones, {} rules, {count} Aerleon terms, {} network objects",
        policy.zones.len(),
        policy.rules.len(),
        nets.len()
    );
    Ok(())
}
