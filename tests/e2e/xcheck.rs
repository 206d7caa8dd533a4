//! The cross-check of the six targets without a kernel here (issue 5 §2):
//! every rendered pf, IOS, ASA, SRX, PAN-OS and FortiGate config is read
//! back by an independent reader (`zonal_xcheck`, which shares no code
//! with the renderers) into that device's evaluation model, and at least
//! 10,000 seeded packets per policy and target are compared with
//! `Policy::decide`. Zero mismatches is the only pass. A template with
//! one rule's port changed must be caught on every target.

use std::collections::BTreeMap;

use zonal_backend::{Firewall, Request, Target, TemplateFile, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{
    fixtures, load_text, on_workers, policy_of, policy_of_text, render_or_panic, repo_root,
};
use zonal_xcheck::{Config, Report};

/// The targets read back here, with the reader for each.
const TARGETS: &[(Target, zonal_xcheck::Target)] = &[
    (Target::Pf, zonal_xcheck::Target::Pf),
    (Target::Ios, zonal_xcheck::Target::Ios),
    (Target::Asa, zonal_xcheck::Target::Asa),
    (Target::Srx, zonal_xcheck::Target::Srx),
    (Target::Panos, zonal_xcheck::Target::PanOs),
    (Target::Fortigate, zonal_xcheck::Target::FortiGate),
];

/// Renders with the implicit by-address firewall; all artifacts joined.
/// PAN-OS is rendered with `panos: { default-deny: true }`, so that
/// same-zone traffic is Zonal's and compared too (without it, same-zone
/// traffic no rule matches is left to `intrazone-default` and not
/// compared; the redeploy simulation checks that default).
fn render(policy: &Policy, target: Target, templates: &Templates) -> String {
    let mut fw = Firewall::by_address(policy.name.clone());
    fw.panos.default_deny = target == Target::Panos;
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fw,
        templates,
    };
    render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(policy: &Policy, target: Target, reader: zonal_xcheck::Target, text: &str) -> Report {
    zonal_xcheck::cross_check(policy, reader, text, &Config::default()).unwrap_or_else(|e| {
        panic!(
            "{}: {target}: the reader rejects the output: {e}",
            policy.name
        )
    })
}

/// The outcome of cross-checking many policies on every target.
#[derive(Default)]
struct Totals {
    /// New-connection packets compared (at least 10,000 per policy and target).
    packets: usize,
    /// Reply probes (IOS, and ICMP on an ASA without `inspect icmp`).
    replies: usize,
    /// Per target: packets compared.
    per_target: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// Renders and cross-checks every `(label, policy)` on every target, on
/// two worker threads.
fn cross_check_all(policies: &[(String, Policy)]) -> Totals {
    let jobs: Vec<(usize, usize)> = (0..policies.len())
        .flat_map(|p| (0..TARGETS.len()).map(move |t| (p, t)))
        .collect();
    let totals = std::sync::Mutex::new(Totals::default());
    on_workers(&jobs, 2, |(pi, ti)| {
        let (label, policy) = &policies[pi];
        let (target, reader) = TARGETS[ti];
        let text = render(policy, target, &Templates::embedded());
        let report = check(policy, target, reader, &text);
        let new = report.evaluated - report.replies;
        assert!(
            new >= Config::default().packets,
            "{label}: {target}: only {new} packets could be placed ({} skipped)",
            report.skipped
        );
        let mut t = totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.packets += new;
        t.replies += report.replies;
        *t.per_target.entry(target.to_string()).or_default() += new;
        if !report.is_clean() {
            t.failures.push(format!("{label}: {}", report.summary(5)));
        }
    });
    totals
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[expect(
    clippy::print_stderr,
    reason = "the figures of the cross-check are part of the test output"
)]
fn report_totals(what: &str, totals: &Totals) {
    eprintln!(
        "cross-check of {what}: {} packets compared (+{} reply probes), per target {:?}, {} mismatching configs",
        totals.packets,
        totals.replies,
        totals.per_target,
        totals.failures.len()
    );
    assert!(
        totals.failures.is_empty(),
        "mismatches:\n{}",
        totals.failures.join("\n")
    );
}

/// Every example and valid fixture, on every target: zero mismatches on
/// at least 10,000 packets each.
#[test]
fn every_fixture_is_enforced_exactly_on_every_target() {
    let mut files = fixtures("policies/examples");
    files.extend(fixtures("policies/valid"));
    let policies: Vec<(String, Policy)> = files.iter().map(|f| (f.clone(), policy_of(f))).collect();
    let totals = cross_check_all(&policies);
    report_totals(&format!("{} fixtures", policies.len()), &totals);
}

/// A tiny seeded generator for the synthetic policies below.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// A random hospital-shaped policy: zones (some dual-stack, some nested,
/// an external one), devices with listeners on moved ports, services with
/// ranges, ICMP and IP protocols, allow and deny rules between zones,
/// devices and `any`, expired and future `until` dates, and workflows.
#[expect(
    clippy::too_many_lines,
    reason = "one block per kind of policy statement the random generator writes"
)]
fn synth_policy(seed: u64) -> String {
    let mut r = Lcg(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2026);
    let a = 1 + r.below(250);
    let mut out = format!("policy synth-{seed} {{ owner \"xcheck\" }}\n\n");
    let mut services = vec![
        "any".to_string(),
        "icmp".to_string(),
        "proto 47".to_string(),
        "tcp 100-200".to_string(),
        "tcp 150-250".to_string(),
        "udp".to_string(),
        "dicom".to_string(),
        "https".to_string(),
        "ssh".to_string(),
        "dns".to_string(),
        "ntp".to_string(),
        "hl7".to_string(),
        "tcp 8080".to_string(),
        "udp 5000-5010".to_string(),
        "icmp echo-request".to_string(),
        "icmpv6 echo-request".to_string(),
        "esp".to_string(),
        "tcp 1-1023".to_string(),
    ];
    for k in 0..r.below(3) {
        let def = match r.below(5) {
            0 => format!("tcp {}", 1024 + r.below(60_000)),
            1 => {
                let lo = 2000 + r.below(20_000);
                format!("tcp {lo}-{}, udp {}", lo + r.below(50), 100 + r.below(900))
            }
            2 => "icmp echo-request, icmpv6 echo-request".to_string(),
            3 => format!(
                "proto {}",
                [47, 50, 51, 132][usize::try_from(r.below(4)).unwrap_or(0)]
            ),
            _ => format!("udp {}, tcp {}", r.below(65_536), r.below(65_536)),
        };
        out.push_str(&format!("service s{k} = {def}\n"));
        services.push(format!("s{k}"));
    }
    let nz = 2 + r.below(4);
    let mut endpoints: Vec<String> = Vec::new();
    let mut listeners: Vec<String> = Vec::new();
    for z in 0..nz {
        let v6 = r.chance(50);
        // Some zones are IPv6 only.
        let v6_only = v6 && r.chance(25);
        let nets = if v6_only {
            format!("fd{a:02x}:{z}::/64")
        } else if v6 {
            format!("10.{a}.{z}.0/24, fd{a:02x}:{z}::/64")
        } else {
            format!("10.{a}.{z}.0/24")
        };
        out.push_str(&format!("\nzone z{z} {{\n  network {nets}\n"));
        endpoints.push(format!("z{z}"));
        for d in 0..r.below(4) {
            let mut addr = format!("10.{a}.{z}.{}", 10 + d);
            if v6_only {
                addr = format!("fd{a:02x}:{z}::{:x}", 10 + d);
            } else if v6 && r.chance(60) {
                addr.push_str(&format!(", fd{a:02x}:{z}::{:x}", 10 + d));
            }
            let listens = match r.below(4) {
                0 => String::new(),
                1 => "  listens dicom".to_string(),
                2 => format!("  listens dicom on {}", 1024 + r.below(30_000)),
                _ => "  listens dicom, https".to_string(),
            };
            if !listens.is_empty() {
                listeners.push(format!("d{z}x{d}"));
            }
            out.push_str(&format!(
                "  device d{z}x{d} {{ address {addr}{listens} }}\n"
            ));
            endpoints.push(format!("d{z}x{d}"));
        }
        out.push_str("}\n");
        if r.chance(20) && !v6_only {
            out.push_str(&format!(
                "zone z{z}-inner {{\n  within z{z}\n  network 10.{a}.{z}.128/26\n}}\n"
            ));
            endpoints.push(format!("z{z}-inner"));
        }
    }
    if r.chance(60) {
        out.push_str("\nzone internet { external }\n");
        endpoints.push("internet".to_string());
    }
    if r.chance(30) {
        // An external zone with its own networks (a vendor's peers).
        out.push_str(&format!(
            "zone peers {{ external  network 198.51.{}.0/28, 2001:db8:{a:x}::/48 }}\n",
            a % 200
        ));
        endpoints.push("peers".to_string());
    }
    // Groups of zones and devices (possibly nested).
    for g in 0..r.below(3) {
        let k = 1 + r.below(3);
        let mut members: Vec<String> = Vec::new();
        for _ in 0..k {
            let m =
                endpoints[usize::try_from(r.below(endpoints.len() as u64)).unwrap_or(0)].clone();
            if !members.contains(&m) {
                members.push(m);
            }
        }
        out.push_str(&format!("group g{g} = {}\n", members.join(", ")));
        endpoints.push(format!("g{g}"));
    }
    out.push('\n');
    let pick = |r: &mut Lcg, v: &[String]| {
        v[usize::try_from(r.below(v.len() as u64)).unwrap_or(0)].clone()
    };
    for _ in 0..3 + r.below(10) {
        let src = if r.chance(5) {
            "any".to_string()
        } else {
            pick(&mut r, &endpoints)
        };
        let dst = if r.chance(5) {
            "any".to_string()
        } else {
            pick(&mut r, &endpoints)
        };
        let mut svc = pick(&mut r, &services);
        if r.chance(30) {
            svc = format!("{svc}, {}", pick(&mut r, &services));
        }
        let until = match r.below(8) {
            0 => " until 2025-01-31",
            1 => " until 2027-06-30",
            2 => " until 2026-11-28",
            _ => "",
        };
        if r.chance(20) {
            let svc = if r.chance(50) {
                String::new()
            } else {
                format!(" : {svc}")
            };
            out.push_str(&format!("deny {src} -> {dst}{svc}{until}\n"));
        } else {
            out.push_str(&format!("allow {src} -> {dst} : {svc}{until}\n"));
        }
    }
    if listeners.len() >= 2 && r.chance(40) {
        let req = pick(&mut r, &listeners);
        let archive = pick(&mut r, &listeners);
        let dest = pick(&mut r, &listeners);
        if req != archive && dest != archive {
            out.push_str(&format!("c-move {req} -> {archive} to {dest}\n"));
        }
    }
    if listeners.len() >= 2 && r.chance(40) {
        let m = pick(&mut r, &listeners);
        let a2 = pick(&mut r, &listeners);
        if m != a2 {
            out.push_str(&format!("storage-commitment {m} -> {a2}\n"));
        }
    }
    out
}

/// Seeded random policies: at least 20 valid ones, each on every target.
#[test]
fn synthetic_policies_are_enforced_exactly_on_every_target() {
    let mut policies = Vec::new();
    let mut seed = 0;
    while policies.len() < 24 && seed < 200 {
        seed += 1;
        let text = synth_policy(seed);
        let l = load_text(&format!("synth-{seed}.zonal"), &text);
        if let Some(policy) = l.policy.filter(|_| !l.diagnostics.has_input_errors()) {
            policies.push((format!("seed {seed}:\n{text}\n"), policy));
        }
    }
    assert!(
        policies.len() >= 20,
        "only {} of {seed} synthetic policies were valid",
        policies.len()
    );
    let totals = cross_check_all(&policies);
    report_totals(&format!("{} random policies", policies.len()), &totals);
}

/// Seeded hospital-shaped policies from the synthetic generator of the
/// analysis issue (`zonal_synth`), each on every target.
#[test]
fn zonal_synth_policies_are_enforced_exactly_on_every_target() {
    let policies: Vec<(String, Policy)> = (0..SYNTH_SEEDS)
        .map(|seed| {
            let text = zonal_synth::generate(&zonal_synth::SynthConfig::small(seed));
            let policy = policy_of_text(&format!("synthetic-{seed}.zonal"), &text);
            (format!("zonal_synth seed {seed}"), policy)
        })
        .collect();
    let totals = cross_check_all(&policies);
    report_totals(&format!("{SYNTH_SEEDS} zonal_synth policies"), &totals);
}

/// How many `zonal_synth` seeds the cross-check runs.
const SYNTH_SEEDS: u64 = 20;

/// The readers' view of a firewall of a binding: each listed zone with
/// the device's name for it. pf and IOS name interfaces; SRX, PAN-OS and
/// FortiGate name vendor zones; the ASA reader takes the interface from
/// the renderer's `! Zone …: traffic entering interface …` comments.
fn sides_of(fw: &Firewall, target: Target) -> BTreeMap<String, Option<String>> {
    fw.zones
        .iter()
        .flatten()
        .map(|b| {
            let name = match target {
                Target::Pf | Target::Ios => b.interface.clone(),
                Target::Srx | Target::Panos | Target::Fortigate => {
                    Some(b.vendor_zone.clone().unwrap_or_else(|| b.zone.clone()))
                }
                _ => None,
            };
            (b.zone.clone(), name)
        })
        .collect()
}

/// Renders one firewall of a binding and cross-checks it on the packets
/// between the zones it lists.
fn check_bound(
    policy: &Policy,
    fw: &Firewall,
    target: Target,
    reader: zonal_xcheck::Target,
) -> Report {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &Templates::embedded(),
    };
    let text = render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config {
        zones: Some(sides_of(fw, target)),
        ..Config::default()
    };
    zonal_xcheck::cross_check(policy, reader, &text, &config)
        .unwrap_or_else(|e| panic!("{}: {target}: the reader rejects the output: {e}", fw.name))
}

/// Firewalls bound to interfaces and vendor zones: the shipped deployment
/// bindings, and for every target a binding of the hospital example that
/// puts four zones behind named interfaces and renamed vendor zones.
#[test]
fn bound_firewalls_are_enforced_exactly_between_their_zones() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let mut firewalls: Vec<(Firewall, Target)> = Vec::new();
    for file in [
        "policies/deploy/riverbend.yaml",
        "policies/deploy/riverbend-address.yaml",
    ] {
        let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
        let mut db = SourceDb::new();
        let id = db.add(file, text.clone());
        let binding = zonal_backend::parse_binding(id, &text, &policy)
            .unwrap_or_else(|d| panic!("{file}: {d:?}"));
        for fw in binding.firewalls {
            if let Some(t) = fw.target.filter(|t| TARGETS.iter().any(|(x, _)| x == t)) {
                firewalls.push((fw, t));
            }
        }
    }
    for &(target, _) in TARGETS {
        let yaml = format!(
            "firewalls:\n  - name: xcheck-{target}\n    target: {target}\n    zones:\n      \
             modalities: {{ interface: vlan110, vendor-zone: MOD }}\n      \
             imaging-servers: {{ interface: vlan120, vendor-zone: SRV }}\n      \
             reading: {{ interface: vlan130, vendor-zone: READ }}\n      \
             vendor-dmz: {{ interface: vlan250, vendor-zone: VENDOR }}\n"
        );
        let mut db = SourceDb::new();
        let id = db.add("xcheck.yaml", yaml.clone());
        let binding = zonal_backend::parse_binding(id, &yaml, &policy)
            .unwrap_or_else(|d| panic!("{target}: {d:?}\n{yaml}"));
        for fw in binding.firewalls {
            firewalls.push((fw, target));
        }
    }
    let mut failures = Vec::new();
    for (fw, target) in &firewalls {
        let reader = TARGETS
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, r)| *r)
            .unwrap();
        let report = check_bound(&policy, fw, *target, reader);
        eprintln!("binding {}: {}", fw.name, report.summary(3));
        assert!(
            report.evaluated - report.replies >= Config::default().packets,
            "{}: {target}: only {} packets between its zones",
            fw.name,
            report.evaluated
        );
        if !report.is_clean() {
            failures.push(format!("binding {}: {}", fw.name, report.summary(5)));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

/// The port of the first line of a rendered config that permits a
/// port (`eq N`, `destination-port N`, `port N`, `tcp-portrange N`).
fn first_permitted_port(text: &str) -> Option<u16> {
    let keys = [
        "eq ",
        "destination-port ",
        "port ",
        "tcp-portrange ",
        "udp-portrange ",
    ];
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('!')
            || t.starts_with('#')
            || t.contains("remark")
            || t.contains("deny")
            || t.contains("block")
        {
            continue;
        }
        for key in keys {
            for (at, _) in line.match_indices(key) {
                let start = at + key.len();
                let digits: String = line[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(port) = digits.parse::<u16>()
                    && port > 0
                    && port < u16::MAX
                {
                    return Some(port);
                }
            }
        }
    }
    None
}

/// Breaks a template: every printed value is passed through a macro that
/// changes the first value equal to (or ending in) ` PORT` into `PORT+1`,
/// once. The template's own expressions are otherwise kept, so this
/// models a template that renders one rule with a wrong port.
fn break_template(original: &str, port: u16) -> String {
    let mut out = format!(
        "{{% set zx = namespace(done=false) %}}{{% macro zx_fix(v) %}}{{% set s = v|string %}}\
         {{% if not zx.done and (s == \"{port}\" or s[-{len1}:] == \" {port}\") %}}{{% set zx.done = true %}}\
         {{{{ s[:s|length - {len}] }}}}{changed}{{% else %}}{{{{ v }}}}{{% endif %}}{{% endmacro %}}",
        len = port.to_string().len(),
        len1 = port.to_string().len() + 1,
        changed = port + 1
    );
    let mut rest = original;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let close = open + close;
        out.push_str(&rest[..open]);
        let inner = &rest[open + 2..close];
        let (lead, inner) = inner.strip_prefix('-').map_or(("", inner), |i| ("-", i));
        let (inner, trail) = inner.strip_suffix('-').map_or((inner, ""), |i| (i, "-"));
        out.push_str(&format!("{{{{{lead} zx_fix({}) {trail}}}}}", inner.trim()));
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

/// A template override that changes one rule's port is caught on every
/// target: the cross-check must report a mismatch on that port.
#[test]
fn a_template_with_one_port_changed_is_caught_on_every_target() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    for &(target, reader) in TARGETS {
        let good = render(&policy, target, &Templates::embedded());
        assert!(
            check(&policy, target, reader, &good).is_clean(),
            "{target}: the unbroken output must pass"
        );
        let port = first_permitted_port(&good)
            .unwrap_or_else(|| panic!("{target}: no permit with a port in the output"));
        let name = Templates::embedded_names(target)[0];
        let path = format!("templates/{target}/{name}");
        let original = std::fs::read_to_string(repo_root().join(&path)).unwrap();
        let mut templates = Templates::embedded();
        templates.set_override(
            target,
            name,
            TemplateFile {
                path,
                text: break_template(&original, port),
            },
        );
        let broken = render(&policy, target, &templates);
        let changed: Vec<(&str, &str)> = good
            .lines()
            .zip(broken.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            changed.len(),
            1,
            "{target}: exactly one line must change: {changed:?}"
        );
        let report = check(&policy, target, reader, &broken);
        eprintln!(
            "{target}: `{}` became `{}`: {}",
            changed[0].0.trim(),
            changed[0].1.trim(),
            report.summary(2)
        );
        assert!(
            !report.is_clean(),
            "{target}: a changed port went unnoticed"
        );
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.packet.selector == port || m.packet.selector == port + 1),
            "{target}: the mismatches do not involve port {port}: {}",
            report.summary(5)
        );
    }
}
