//! Tiny adversarial policies for differential tests: few zones with very
//! small networks (so a brute-force evaluator can try every host), and
//! every feature that has tripped the analysis before: IPv4-only, IPv6-only
//! and dual-stack zones and devices, nested zones, external zones with and
//! without networks, groups mixing families, `any`, ICMP and ICMPv6,
//! composite services, listener ports moved per device, denies, expired
//! rules, workflows, and `never ->`, `never ~>` and `require` invariants.

use std::fmt::Write as _;

use crate::Rng;

/// Address families of a zone or device.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fam {
    V4,
    V6,
    Dual,
}

impl Fam {
    fn v4(self) -> bool {
        self != Fam::V6
    }
    fn v6(self) -> bool {
        self != Fam::V4
    }
}

/// Services a rule or invariant may name (prelude names, a composite, inline terms).
const SERVICES: &[&str] = &[
    "dicom",
    "https",
    "http",
    "dicom-tls",
    "icmp-echo",
    "icmp echo-request",
    "icmpv6 echo-request",
    "tcp 100-110",
    "udp 53",
    "tcp 104",
    "imaging",
    "web",
    "rdp",
    "smb",
    "ssh",
    "syslog",
    "any",
];

/// Generates one tiny policy. The same seed always gives the same text.
#[expect(
    clippy::too_many_lines,
    reason = "one generator, written top to bottom like the policy it emits"
)]
pub fn generate_tiny(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x7a6f_6e61_6c5f_7469);
    let mut out = String::new();
    let _ = writeln!(out, "policy tiny-{seed} {{ owner \"differential test\" }}");
    let _ = writeln!(out, "service imaging = dicom, tcp 8080");
    let _ = writeln!(out, "service web = http, https");
    let n_zones = 2 + rng.below(4);
    let mut names: Vec<String> = Vec::new();
    let mut devices: Vec<String> = Vec::new();
    let mut z0_v4_29 = false;
    let kinds = ["modality", "guest", "clinical", "pacs", "servers", "vendor"];
    let trusts = ["low", "untrusted", "medium", "high"];
    for z in 0..n_zones {
        let fam = match rng.below(5) {
            0 => Fam::V4,
            1 => Fam::V6,
            _ => Fam::Dual,
        };
        let name = format!("z{z}");
        let mut nets = Vec::new();
        // Networks of 4 or 8 addresses (/30, /29; /126, /125); a /31 or
        // /127 now and then, so some zones have no room for a second host.
        let v4_len = [29, 30, 31, 29][rng.below(4)];
        let v6_len = [125, 126, 127, 125][rng.below(4)];
        if fam.v4() {
            nets.push(format!("10.{z}.0.0/{v4_len}"));
        }
        if fam.v6() {
            nets.push(format!("fd00:{z}::/{v6_len}"));
        }
        let _ = writeln!(out, "zone {name} {{");
        let _ = writeln!(out, "  network {}", nets.join(", "));
        let _ = writeln!(out, "  trust {}", trusts[rng.below(trusts.len())]);
        let _ = writeln!(out, "  kind {}", kinds[rng.below(kinds.len())]);
        if rng.chance(20) {
            let _ = writeln!(out, "  end-of-support");
        }
        // Devices at the first host addresses of the networks (one in a
        // network of two addresses).
        let room = if v4_len == 31 || v6_len == 127 { 2 } else { 3 };
        let n_dev = rng.below(room);
        for d in 0..n_dev {
            let dev_fam = match (fam, rng.below(3)) {
                (Fam::Dual, 0) => Fam::V4,
                (Fam::Dual, 1) => Fam::V6,
                (f, _) => f,
            };
            let mut addrs = Vec::new();
            if dev_fam.v4() {
                addrs.push(format!("10.{z}.0.{}", d + 1));
            }
            if dev_fam.v6() {
                addrs.push(format!("fd00:{z}::{}", d + 1));
            }
            let dname = format!("d{z}x{d}");
            let mut line = format!("  device {dname} {{ address {}", addrs.join(", "));
            if rng.chance(35) {
                let port = [11112, 8443, 104, 2762][rng.below(4)];
                let svc = ["dicom", "https", "dicom"][rng.below(3)];
                let _ = write!(line, "  listens {svc} on {port}");
            }
            if rng.chance(15) {
                line.push_str("  end-of-support");
            }
            line.push_str(" }");
            let _ = writeln!(out, "{line}");
            devices.push(dname);
        }
        let _ = writeln!(out, "}}");
        names.push(name);
        if z == 0 {
            z0_v4_29 = fam.v4() && v4_len == 29;
        }
    }
    // A zone nested in the first zone, in its upper half (when it has one).
    if z0_v4_29 && rng.chance(40) {
        let _ = writeln!(
            out,
            "zone inner {{ within z0  network 10.0.0.4/30  trust high  kind servers }}"
        );
        names.push("inner".into());
    }
    // External zones: a catch-all (or not), and one with networks.
    if rng.chance(60) {
        let _ = writeln!(out, "zone internet {{ external  trust untrusted }}");
        names.push("internet".into());
    }
    if rng.chance(40) {
        let _ = writeln!(
            out,
            "zone peers {{ external  network 198.51.100.0/30, 2001:db8:5::/126  trust low }}"
        );
        names.push("peers".into());
    }
    let mut endpoints: Vec<String> = names.iter().chain(&devices).cloned().collect();
    if rng.chance(60) && endpoints.len() >= 2 {
        let a = endpoints[rng.below(endpoints.len())].clone();
        let b = endpoints[rng.below(endpoints.len())].clone();
        if a != b {
            let _ = writeln!(out, "group g0 = {a}, {b}");
            endpoints.push("g0".into());
        }
    }
    let pick = |rng: &mut Rng, endpoints: &[String]| -> String {
        if rng.chance(8) {
            return "any".into();
        }
        let n = 1 + usize::from(rng.chance(25));
        let mut v: Vec<String> = (0..n)
            .map(|_| endpoints[rng.below(endpoints.len())].clone())
            .collect();
        v.sort();
        v.dedup();
        v.join(", ")
    };
    let services = |rng: &mut Rng| -> String {
        let n = 1 + usize::from(rng.chance(30));
        let mut v: Vec<&str> = (0..n)
            .map(|_| SERVICES[rng.below(SERVICES.len())])
            .collect();
        v.sort_unstable();
        v.dedup();
        if v.contains(&"any") {
            return "any".into();
        }
        v.join(", ")
    };
    let n_rules = 2 + rng.below(7);
    for _ in 0..n_rules {
        let action = if rng.chance(25) { "deny" } else { "allow" };
        let (s, d) = (pick(&mut rng, &endpoints), pick(&mut rng, &endpoints));
        let svc = services(&mut rng);
        let until = match rng.below(10) {
            0 => " until 2020-01-01",
            1 => " until 2099-12-31",
            _ => "",
        };
        let _ = writeln!(out, "{action} {s} -> {d} : {svc}{until}");
    }
    if !devices.is_empty() && rng.chance(30) {
        let a = &devices[rng.below(devices.len())];
        let b = &devices[rng.below(devices.len())];
        if a != b {
            let _ = writeln!(out, "storage-commitment {a} -> {b}");
        }
    }
    if !devices.is_empty() && rng.chance(20) {
        let a = &devices[rng.below(devices.len())];
        let b = &devices[rng.below(devices.len())];
        if a != b {
            let _ = writeln!(out, "c-move {a} -> {b}");
        }
    }
    let n_inv = 1 + rng.below(4);
    for _ in 0..n_inv {
        let (s, d) = (pick(&mut rng, &endpoints), pick(&mut rng, &endpoints));
        match rng.below(5) {
            0 | 1 => {
                let svc = if rng.chance(50) {
                    format!(" : {}", services(&mut rng))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "never {s} -> {d}{svc}");
            }
            2 | 3 => {
                let svc = if rng.chance(40) {
                    format!(" : {}", services(&mut rng))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "never {s} ~> {d}{svc}");
            }
            _ => {
                let _ = writeln!(out, "require {s} -> {d} : {}", services(&mut rng));
            }
        }
    }
    out
}
