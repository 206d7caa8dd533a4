//! A seeded generator of synthetic, hospital-shaped Zonal policies.
//!
//! [`generate`] writes `.zonal` text for a seed and sizes: departments of
//! about twenty zones (modality rooms, an archive, reading rooms, clinician
//! desktops, core servers, a management zone with a jump host, a vendor
//! DMZ and guest Wi-Fi) plus the internet; devices with realistic kinds,
//! listeners, storage-commitment and end-of-support flags; and flows that
//! follow the radiology workflows (C-STORE to the archive, worklist,
//! storage commitment, C-MOVE, DNS/NTP, audit, vendor sessions, guest
//! internet, a few denies and cross-department transfers), `never` and
//! `require` invariants and a few suppressions.
//!
//! The same seed and sizes always give the same text. The generator has its
//! own small PRNG ([`Rng`], SplitMix64), so it needs no dependency; it is
//! the workspace's one seeded generator: property tests, `zonal_verify`'s
//! sampled probes and `zonal_xcheck`'s probe sets use it too.

use std::collections::BTreeSet;
use std::fmt::Write as _;

mod rng;
mod tiny;

pub use rng::Rng;
pub use tiny::generate_tiny;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Number of zones, the `internet` zone included (at least 2).
    pub zones: usize,
    /// Number of devices.
    pub devices: usize,
    /// Number of flow lines (`allow`, `deny`, `storage-commitment`, `c-move`).
    pub flows: usize,
}

impl SynthConfig {
    /// The benchmark size of issue 3: 2,000 zones, 20,000 devices, 50,000 flows.
    pub fn benchmark(seed: u64) -> Self {
        SynthConfig {
            seed,
            zones: 2_000,
            devices: 20_000,
            flows: 50_000,
        }
    }

    /// A small policy for tests.
    pub fn small(seed: u64) -> Self {
        SynthConfig {
            seed,
            zones: 24,
            devices: 60,
            flows: 80,
        }
    }
}

/// The role of a zone within its department.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Modality,
    Archive,
    Reading,
    Staff,
    Servers,
    Management,
    Vendor,
    Guest,
}

/// The roles of a department's zones, in order (twenty zones).
const PATTERN: [Role; 20] = [
    Role::Archive,
    Role::Servers,
    Role::Management,
    Role::Guest,
    Role::Vendor,
    Role::Modality,
    Role::Reading,
    Role::Staff,
    Role::Modality,
    Role::Modality,
    Role::Reading,
    Role::Modality,
    Role::Staff,
    Role::Modality,
    Role::Reading,
    Role::Modality,
    Role::Servers,
    Role::Modality,
    Role::Staff,
    Role::Modality,
];

impl Role {
    fn tag(self) -> &'static str {
        match self {
            Role::Modality => "mod",
            Role::Archive => "arc",
            Role::Reading => "read",
            Role::Staff => "staff",
            Role::Servers => "srv",
            Role::Management => "mgmt",
            Role::Vendor => "vendor",
            Role::Guest => "guest",
        }
    }

    fn trust_kind(self) -> (&'static str, &'static str) {
        match self {
            Role::Modality => ("low", "modality"),
            Role::Archive => ("medium", "pacs"),
            Role::Reading | Role::Staff => ("medium", "clinical"),
            Role::Servers => ("high", "servers"),
            Role::Management => ("high", "management"),
            Role::Vendor => ("low", "vendor"),
            Role::Guest => ("untrusted", "guest"),
        }
    }

    /// Relative share of the devices.
    fn device_weight(self) -> u32 {
        match self {
            Role::Modality => 6,
            Role::Archive | Role::Reading => 4,
            Role::Servers => 3,
            Role::Management | Role::Vendor => 1,
            Role::Staff | Role::Guest => 0,
        }
    }
}

#[derive(Clone, Debug)]
struct Zone {
    name: String,
    role: Role,
    dept: usize,
    index: usize,
    v6: bool,
    devices: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Device {
    name: String,
    kind: &'static str,
}

const MODALITY_KINDS: [&str; 8] = ["ct", "mr", "dx", "us", "mg", "nm", "xa", "pet"];

/// Devices of each kind in a department, for the flow templates.
#[derive(Default, Clone, Debug)]
struct Dept {
    zones: Vec<usize>,
    modalities: Vec<usize>,
    archives: Vec<usize>,
    worklists: Vec<usize>,
    workstations: Vec<usize>,
    directories: Vec<usize>,
    syslogs: Vec<usize>,
    jumps: Vec<usize>,
    vendors: Vec<usize>,
    guest_zones: Vec<usize>,
    staff_zones: Vec<usize>,
    modality_zones: Vec<usize>,
    group: Option<String>,
}

/// Generates a policy.
pub fn generate(config: &SynthConfig) -> String {
    let mut rng = Rng::new(config.seed);
    let internal = config.zones.max(2) - 1;
    let n_depts = internal.div_ceil(PATTERN.len()).max(1);
    let mut zones = Vec::with_capacity(internal);
    for i in 0..internal {
        let dept = i / PATTERN.len();
        let role = PATTERN[i % PATTERN.len()];
        let n = zones
            .iter()
            .filter(|z: &&Zone| z.dept == dept && z.role == role)
            .count();
        zones.push(Zone {
            name: format!("d{dept:03}-{}{n}", role.tag()),
            role,
            dept,
            index: i,
            v6: rng.chance(25),
            devices: Vec::new(),
        });
    }
    // Devices, spread over the device-holding zones by weight, at most 200 per zone.
    let weights: Vec<u32> = zones.iter().map(|z| z.role.device_weight()).collect();
    let mut devices: Vec<Device> = Vec::with_capacity(config.devices);
    for _ in 0..config.devices {
        let Some(mut zi) = rng.weighted(&weights) else {
            break;
        };
        let mut guard = 0;
        while zones[zi].devices.len() >= 200 && guard < zones.len() {
            zi = (zi + 1) % zones.len();
            guard += 1;
        }
        if zones[zi].devices.len() >= 200 || weights[zi] == 0 {
            break;
        }
        let k = zones[zi].devices.len();
        let kind = match zones[zi].role {
            Role::Modality => *rng.pick(&MODALITY_KINDS).unwrap_or(&"ct"),
            Role::Archive => ["pacs", "mwl", "vna", "dose"][k % 4],
            Role::Reading => "workstation",
            Role::Servers => ["directory", "syslog", "file-server"][k % 3],
            Role::Management => "jump-host",
            Role::Vendor => "pra",
            Role::Staff | Role::Guest => "workstation",
        };
        let name = format!("{}-{kind}{k}", zones[zi].name);
        zones[zi].devices.push(devices.len());
        devices.push(Device { name, kind });
    }

    let mut depts = vec![Dept::default(); n_depts];
    for z in &zones {
        let d = &mut depts[z.dept];
        d.zones.push(z.index);
        match z.role {
            Role::Guest => d.guest_zones.push(z.index),
            Role::Staff => d.staff_zones.push(z.index),
            Role::Modality => d.modality_zones.push(z.index),
            _ => {}
        }
        for dev in &z.devices {
            let list = match devices[*dev].kind {
                "pacs" | "vna" => &mut d.archives,
                "mwl" => &mut d.worklists,
                "workstation" => &mut d.workstations,
                "directory" => &mut d.directories,
                "syslog" => &mut d.syslogs,
                "jump-host" => &mut d.jumps,
                "pra" => &mut d.vendors,
                "dose" | "file-server" => continue,
                _ => &mut d.modalities,
            };
            list.push(*dev);
        }
    }

    let mut out = String::with_capacity(config.flows * 80 + config.devices * 120);
    let _ = writeln!(
        out,
        "# Synthetic hospital-shaped policy: seed {}, {} zones, {} devices, {} flows.\n# Generated by zonal_synth; do not edit.\npolicy synthetic-{} {{ owner \"zonal_synth\" description \"benchmark policy\" }}\n",
        config.seed, config.zones, config.devices, config.flows, config.seed
    );
    write_zones(&mut out, &mut rng, &zones, &devices);
    out.push_str("zone internet { external  trust untrusted }\n\n");
    for (i, d) in depts.iter_mut().enumerate() {
        if d.modalities.len() >= 2 {
            let members: Vec<&str> = d
                .modalities
                .iter()
                .take(8)
                .map(|m| devices[*m].name.as_str())
                .collect();
            let name = format!("d{i:03}-scanners");
            let _ = writeln!(out, "group {name} = {}", members.join(", "));
            d.group = Some(name);
        }
    }
    out.push('\n');
    write_flows(&mut out, &mut rng, config.flows, &zones, &devices, &depts);
    write_invariants(&mut out, &mut rng, &zones, &devices, &depts);
    out
}

fn v4(z: &Zone) -> String {
    format!("10.{}.{}", z.index >> 8, z.index & 255)
}

fn write_zones(out: &mut String, rng: &mut Rng, zones: &[Zone], devices: &[Device]) {
    for z in zones {
        let (trust, kind) = z.role.trust_kind();
        let net6 = if z.v6 {
            format!(", fd00:{:x}::/64", z.index + 1)
        } else {
            String::new()
        };
        if z.devices.is_empty() && rng.chance(10) && z.role != Role::Guest && z.role != Role::Staff
        {
            out.push_str("@suppress unused-zone \"reserved for the next build phase\"\n");
        }
        let _ = writeln!(
            out,
            "zone {} {{\n  network {}.0/24{net6}\n  trust {trust}\n  kind {kind}",
            z.name,
            v4(z)
        );
        if z.role == Role::Staff {
            out.push_str("  tags workstations\n");
        }
        for (k, dev) in z.devices.iter().enumerate() {
            let d = &devices[*dev];
            let addr6 = if z.v6 {
                format!(", fd00:{:x}::{:x}", z.index + 1, k + 10)
            } else {
                String::new()
            };
            let mut props = String::new();
            match d.kind {
                "pacs" | "vna" => props.push_str("  listens dicom, dicom-tls, https, hl7"),
                "mwl" => props.push_str("  listens dicom, hl7"),
                "dose" => props.push_str("  listens dicom, https"),
                "workstation" => props.push_str("  listens dicom  move-destination"),
                "directory" => props.push_str("  listens dns, ntp"),
                "syslog" => props.push_str("  listens syslog, syslog-tls"),
                "file-server" => props.push_str("  listens smb"),
                "jump-host" | "pra" => {}
                _ => {
                    props.push_str("  listens dicom");
                    if rng.chance(40) {
                        props.push_str("  storage-commitment");
                    }
                    if rng.chance(3) {
                        props.push_str("  os \"Windows XP\"  end-of-support");
                    }
                }
            }
            let _ = writeln!(
                out,
                "  device {} {{ address {}.{}{addr6}  kind {}{props} }}",
                d.name,
                v4(z),
                k + 10,
                d.kind
            );
        }
        out.push_str("}\n\n");
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per flow template reads best in one place"
)]
fn write_flows(
    out: &mut String,
    rng: &mut Rng,
    n: usize,
    zones: &[Zone],
    devices: &[Device],
    depts: &[Dept],
) {
    // Template weights: see the match below.
    const WEIGHTS: [u32; 16] = [30, 10, 5, 10, 5, 5, 8, 6, 4, 4, 1, 2, 3, 1, 2, 1];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut attempts = 0usize;
    let dev = |i: usize| devices[i].name.as_str();
    let zone = |i: usize| zones[i].name.as_str();
    while seen.len() < n && attempts < n * 50 {
        attempts += 1;
        let d = &depts[rng.below(depts.len())];
        let other = &depts[rng.below(depts.len())];
        let line = match rng.weighted(&WEIGHTS).unwrap_or(0) {
            0 => pair(rng, &d.modalities, &d.archives)
                .map(|(a, b)| format!("allow {} -> {} : dicom \"C-STORE images\"", dev(a), dev(b))),
            1 => pair(rng, &d.modalities, &d.worklists).map(|(a, b)| {
                format!(
                    "allow {} -> {} : dicom \"worklist and MPPS\"",
                    dev(a),
                    dev(b)
                )
            }),
            2 => pair(rng, &d.modalities, &d.archives).map(|(a, b)| {
                format!(
                    "storage-commitment {} -> {} \"commit before delete\"",
                    dev(a),
                    dev(b)
                )
            }),
            3 => pair(rng, &d.workstations, &d.archives).map(|(a, b)| {
                format!(
                    "allow {} -> {} : dicom, https \"query and viewer\"",
                    dev(a),
                    dev(b)
                )
            }),
            4 => pair(rng, &d.workstations, &d.archives).map(|(a, b)| {
                format!(
                    "c-move {} -> {} \"retrieve to the workstation\"",
                    dev(a),
                    dev(b)
                )
            }),
            5 => rng.pick(&d.directories).copied().and_then(|b| {
                rng.pick(&d.zones).map(|z| {
                    format!(
                        "allow {} -> {} : dns, ntp \"names and time\"",
                        zone(*z),
                        dev(b)
                    )
                })
            }),
            6 => rng.pick(&d.syslogs).copied().and_then(|b| {
                let all: Vec<usize> = d
                    .zones
                    .iter()
                    .flat_map(|z| zones[*z].devices.iter().copied())
                    .collect();
                rng.pick(&all).map(|a| {
                    format!(
                        "allow {} -> {} : syslog, syslog-tls \"audit\"",
                        dev(*a),
                        dev(b)
                    )
                })
            }),
            7 => pair(rng, &d.staff_zones, &d.archives)
                .map(|(a, b)| format!("allow {} -> {} : https \"web viewer\"", zone(a), dev(b))),
            8 => pair(rng, &d.jumps, &d.modalities).map(|(a, b)| {
                format!(
                    "allow {} -> {} : ssh, rdp \"administration\"",
                    dev(a),
                    dev(b)
                )
            }),
            9 => pair(rng, &d.vendors, &d.modalities).map(|(a, b)| {
                format!(
                    "allow {} -> {} : rdp, vnc until 2035-06-30 \"vendor service\"",
                    dev(a),
                    dev(b)
                )
            }),
            10 => rng.pick(&d.guest_zones).map(|g| {
                format!(
                    "allow {} -> internet : https, dns \"guest internet\"",
                    zone(*g)
                )
            }),
            11 => pair(rng, &d.guest_zones, &d.modality_zones).map(|(a, b)| {
                format!(
                    "deny {} -> {} \"guests never reach scanners\"",
                    zone(a),
                    zone(b)
                )
            }),
            12 => pair(rng, &d.modalities, &other.archives).map(|(a, b)| {
                format!(
                    "allow {} -> {} : dicom \"cross-site archive\"",
                    dev(a),
                    dev(b)
                )
            }),
            13 => pair(rng, &d.archives, &other.archives).map(|(a, b)| {
                format!(
                    "allow {} -> {} : dicom \"archive replication\"",
                    dev(a),
                    dev(b)
                )
            }),
            14 => d.group.as_ref().and_then(|g| {
                rng.pick(&d.archives)
                    .map(|b| format!("allow {g} -> {} : dicom-tls \"secure C-STORE\"", dev(*b)))
            }),
            _ => pair(rng, &d.vendors, &d.modalities).map(|(a, b)| {
                format!(
                    "allow {} -> {} : rdp until 2025-01-31 \"installation support\"",
                    dev(a),
                    dev(b)
                )
            }),
        };
        if let Some(line) = line
            && seen.insert(line.clone())
        {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push('\n');
}

fn pair(rng: &mut Rng, a: &[usize], b: &[usize]) -> Option<(usize, usize)> {
    let x = *rng.pick(a)?;
    let y = *rng.pick(b)?;
    (x != y).then_some((x, y))
}

fn write_invariants(
    out: &mut String,
    rng: &mut Rng,
    zones: &[Zone],
    devices: &[Device],
    depts: &[Dept],
) {
    for d in depts {
        if let (Some(g), Some(m)) = (d.guest_zones.first(), d.modality_zones.first()) {
            let _ = writeln!(
                out,
                "never {} ~> {} \"guests never reach a scanner\"",
                zones[*g].name, zones[*m].name
            );
            let _ = writeln!(
                out,
                "never {} -> internet \"no direct egress\"",
                zones[*m].name
            );
        }
        if let Some((a, b)) = pair(rng, &d.modalities, &d.archives) {
            let _ = writeln!(
                out,
                "require {} -> {} : dicom \"images reach the archive\"",
                devices[a].name, devices[b].name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str, prefixes: &[&str]) -> usize {
        text.lines()
            .filter(|l| prefixes.iter().any(|p| l.starts_with(p)))
            .count()
    }

    #[test]
    fn same_seed_same_text_and_sizes_are_respected() {
        let c = SynthConfig {
            seed: 7,
            zones: 61,
            devices: 300,
            flows: 400,
        };
        let a = generate(&c);
        assert_eq!(a, generate(&c));
        assert_ne!(a, generate(&SynthConfig { seed: 8, ..c }));
        assert_eq!(count(&a, &["zone "]), 61);
        assert_eq!(count(&a, &["  device "]), 300);
        assert_eq!(
            count(&a, &["allow ", "deny ", "storage-commitment ", "c-move "]),
            400
        );
    }

    #[test]
    fn generated_policies_resolve_without_errors() {
        let options = zonal_model::Options {
            today: zonal_model::Date::new(2026, 11, 28).unwrap(),
        };
        for seed in 0..5 {
            let text = generate(&SynthConfig::small(seed));
            let loaded = zonal_model::load_str("synthetic.zonal", &text, &options);
            let errors: Vec<String> = loaded
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(
                !loaded.diagnostics.has_input_errors(),
                "seed {seed}: {errors:?}\n{text}"
            );
            let policy = loaded.policy.unwrap();
            assert_eq!(policy.zones.len(), 24);
            assert_eq!(policy.devices.len(), 60);
        }
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut r = Rng::new(1);
        let mut buckets = [0u32; 4];
        for _ in 0..4000 {
            buckets[r.below(4)] += 1;
        }
        assert!(
            buckets.iter().all(|b| (800..1200).contains(b)),
            "{buckets:?}"
        );
        assert_eq!(r.weighted(&[0, 0]), None);
        assert_eq!(r.weighted(&[0, 5]), Some(1));
    }
}
