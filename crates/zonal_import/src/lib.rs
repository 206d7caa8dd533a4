//! `zonal import`: an asset-inventory export (CSV, JSON or YAML) turned
//! into zone and device declarations in the canonical layout, without I/O.
//!
//! Columns map to [`Field`]s through a [`Mapping`] (a [`preset`] plus
//! `COLUMN=FIELD` overrides). Zones come from the zone column, else the
//! subnet, else the VLAN (whose subnet another row gives), else the
//! address's prefix of a given length. Unsupported operating systems set
//! `end-of-support`; names are made valid and unique. Rows that cannot be
//! used are reported with their row numbers and nothing is produced; the
//! produced text is parsed and resolved before it is returned, so it is
//! always a valid policy.

mod rows;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use zonal_model::{Date, Prefix};

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// The device name (host name).
    Name,
    /// Its IPv4 or IPv6 address.
    Ip,
    /// Its kind (`ct`, `mr`, `pacs`, …).
    Kind,
    /// Manufacturer.
    Vendor,
    /// Model.
    Model,
    /// Operating system.
    Os,
    /// VLAN number.
    Vlan,
    /// Subnet (CIDR, or an address with a mask length).
    Subnet,
    /// End of support: yes/no, or a date.
    EndOfSupport,
    /// DICOM AE title.
    Ae,
    /// DICOM port (the device listens for DICOM there).
    DicomPort,
    /// The zone's name.
    Zone,
    /// A column to ignore.
    Ignore,
}

impl Field {
    /// Every field, by the name `--map COLUMN=FIELD` uses.
    pub const NAMES: [(&'static str, Field); 13] = [
        ("name", Field::Name),
        ("ip", Field::Ip),
        ("kind", Field::Kind),
        ("vendor", Field::Vendor),
        ("model", Field::Model),
        ("os", Field::Os),
        ("vlan", Field::Vlan),
        ("subnet", Field::Subnet),
        ("end-of-support", Field::EndOfSupport),
        ("ae", Field::Ae),
        ("dicom-port", Field::DicomPort),
        ("zone", Field::Zone),
        ("ignore", Field::Ignore),
    ];

    /// Parses a field name.
    pub fn parse(s: &str) -> Option<Field> {
        Field::NAMES
            .iter()
            .find(|(n, _)| *n == s.trim().to_ascii_lowercase())
            .map(|(_, f)| *f)
    }
}

/// Column names (compared case-insensitively, ignoring spaces, `_`, `-`
/// and `.`) to fields.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    columns: BTreeMap<String, Field>,
}

fn key(column: &str) -> String {
    column
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Mapping {
    /// Maps `column` to `field` (replacing what a preset said).
    pub fn set(&mut self, column: &str, field: Field) {
        self.columns.insert(key(column), field);
    }

    fn field(&self, column: &str) -> Option<Field> {
        self.columns.get(&key(column)).copied()
    }
}

/// The presets, by name, with their columns.
pub const PRESETS: [(&str, &[(&str, Field)]); 2] = [
    (
        "generic",
        &[
            ("name", Field::Name),
            ("hostname", Field::Name),
            ("host name", Field::Name),
            ("device name", Field::Name),
            ("ip", Field::Ip),
            ("ip address", Field::Ip),
            ("address", Field::Ip),
            ("kind", Field::Kind),
            ("type", Field::Kind),
            ("device type", Field::Kind),
            ("category", Field::Kind),
            ("vendor", Field::Vendor),
            ("manufacturer", Field::Vendor),
            ("model", Field::Model),
            ("os", Field::Os),
            ("operating system", Field::Os),
            ("vlan", Field::Vlan),
            ("vlan id", Field::Vlan),
            ("subnet", Field::Subnet),
            ("network", Field::Subnet),
            ("end of support", Field::EndOfSupport),
            ("eos", Field::EndOfSupport),
            ("end of life", Field::EndOfSupport),
            ("ae title", Field::Ae),
            ("ae", Field::Ae),
            ("dicom port", Field::DicomPort),
            ("zone", Field::Zone),
        ],
    ),
    (
        // The field names of Armis device records (the `device` object
        // its API and connectors use).
        "armis",
        &[
            ("name", Field::Name),
            ("ipAddress", Field::Ip),
            ("type", Field::Kind),
            ("manufacturer", Field::Vendor),
            ("model", Field::Model),
            ("operatingSystem", Field::Os),
        ],
    ),
];

/// A preset's mapping.
pub fn preset(name: &str) -> Option<Mapping> {
    let (_, cols) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let mut m = Mapping::default();
    for (c, f) in *cols {
        m.set(c, *f);
    }
    Some(m)
}

/// The input's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON list of objects (or an object holding one list).
    Json,
    /// A YAML list of mappings.
    Yaml,
}

/// How to import.
#[derive(Clone, Debug)]
pub struct Options {
    /// Column mapping.
    pub mapping: Mapping,
    /// For rows with neither zone, subnet nor VLAN: the zone is the
    /// address's prefix of this length (e.g. 24).
    pub prefix_len: Option<u8>,
    /// The policy's name.
    pub policy: String,
    /// End-of-support dates before this day set `end-of-support`.
    pub today: Date,
}

/// A row that cannot be used, or a problem of the whole input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row (`None`: the whole input).
    pub row: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(f, "row {r}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// What an import produced.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The policy text, in the canonical layout.
    pub text: String,
    /// Zones.
    pub zones: usize,
    /// Devices.
    pub devices: usize,
    /// Columns no field was mapped to (left out).
    pub unmapped: Vec<String>,
}

/// Operating systems that no longer get security updates (lower case,
/// matched as substrings of the OS cell).
pub const UNSUPPORTED_OS: &[&str] = &[
    "windows xp",
    "windows 2000",
    "windows nt",
    "windows 95",
    "windows 98",
    "windows me",
    "windows vista",
    "windows 7",
    "windows 8",
    "server 2003",
    "server 2008",
    "server 2012",
    "xp embedded",
    "embedded standard 2009",
    "embedded posready 2009",
    "windows ce",
    "centos 6",
    "centos 7",
    "centos linux 7",
    "red hat enterprise linux 6",
    "rhel 6",
    "ubuntu 14.04",
    "ubuntu 16.04",
    "ubuntu 18.04",
];

fn unsupported(os: &str) -> bool {
    let os = os.to_ascii_lowercase();
    UNSUPPORTED_OS.iter().any(|u| {
        os.match_indices(u).any(|(i, m)| {
            // `windows 7` must not match `windows 70`, `server 2012` is not `server 2012 r2`'s successor.
            !os[i + m.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
    })
}

/// A valid Zonal name from free text: letters, digits and `-`, lower
/// case, starting with a letter, at most 63 characters, not reserved.
/// An inventory's device type as a word of Zonal's device vocabulary
/// (`MRI` → `mr`, `Infusion Pump` → `infusion-pump`), else a `custom:`
/// label that keeps what the inventory says and that no lint interprets.
fn device_kind(text: &str) -> String {
    const SYNONYMS: &[(&str, &str)] = &[
        ("mri", "mr"),
        ("magnetic-resonance", "mr"),
        ("ct-scanner", "ct"),
        ("computed-tomography", "ct"),
        ("x-ray", "dx"),
        ("xray", "dx"),
        ("digital-radiography", "dx"),
        ("radiography", "dx"),
        ("ultrasound", "us"),
        ("mammography", "mg"),
        ("nuclear-medicine", "nm"),
        ("pet-ct", "pet"),
        ("c-arm", "xa-mobile"),
        ("angiography", "xa"),
        ("fluoroscopy", "rf"),
        ("dexa", "bmd"),
        ("bone-densitometer", "bmd"),
        ("pacs-server", "pacs"),
        ("imaging-archive", "archive"),
        ("worklist", "mwl"),
        ("modality-worklist", "mwl"),
        ("infusion", "infusion-pump"),
        ("patient-monitoring", "patient-monitor"),
        ("vital-signs-monitor", "patient-monitor"),
        ("pc", "workstation"),
        ("desktop", "workstation"),
        ("computer", "workstation"),
        ("ip-camera", "camera"),
        ("voip-phone", "phone"),
        ("ip-phone", "phone"),
        ("domain-controller", "directory"),
    ];
    let n = name_of(text, "kind");
    if zonal_model::vocab::DEVICE_KINDS.contains(&n.as_str()) {
        return n;
    }
    if let Some((_, k)) = SYNONYMS.iter().find(|(s, _)| *s == n) {
        return (*k).to_string();
    }
    format!("{}{n}", zonal_model::vocab::CUSTOM_PREFIX)
}

fn name_of(text: &str, fallback: &str) -> String {
    let mut s = String::new();
    for c in deunicode::deunicode(text)
        .chars()
        .flat_map(|c| c.to_lowercase())
    {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let mut s = s.trim_end_matches('-').to_string();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s = format!("{fallback}-{s}").trim_end_matches('-').to_string();
    }
    s.truncate(60);
    let s = s.trim_end_matches('-').to_string();
    if zonal_syntax::RESERVED.contains(&s.as_str()) {
        format!("{s}-1")
    } else {
        s
    }
}

/// Text for a string literal: quotes and backslashes escaped, control and
/// bidirectional-format characters dropped.
fn string(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

struct Asset {
    row: usize,
    original: String,
    ip: IpAddr,
    zone_key: String,
    kind: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    os: Option<String>,
    eos: bool,
    ae: Option<String>,
    dicom_port: Option<u16>,
}

struct ZoneInfo {
    name: String,
    vlan: Option<u16>,
    networks: BTreeSet<Prefix>,
}

fn truthy(v: &str, today: Date) -> bool {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "x" | "eos" | "eol" | "unsupported" => true,
        other => Date::parse(other.get(..10).unwrap_or(other)).is_some_and(|d| d <= today),
    }
}

/// Imports `text`.
pub fn import(text: &str, format: Format, opts: &Options) -> Result<Imported, Vec<RowError>> {
    let whole = |m: String| {
        vec![RowError {
            row: None,
            message: m,
        }]
    };
    let rows = match format {
        Format::Csv => rows::csv(text),
        Format::Json => rows::json(text),
        Format::Yaml => rows::yaml(text),
    }
    .map_err(whole)?;
    if rows.is_empty() {
        return Err(whole("no asset rows".into()));
    }
    let mut errors = Vec::new();
    let mut zones: BTreeMap<String, ZoneInfo> = BTreeMap::new();
    let mut vlan_subnets: BTreeMap<u16, BTreeSet<Prefix>> = BTreeMap::new();
    let mut unmapped: BTreeSet<String> = BTreeSet::new();
    let parsed = read_rows(&rows, opts, &mut errors, &mut vlan_subnets, &mut unmapped);
    let assets = place(parsed, opts, &vlan_subnets, &mut errors, &mut zones);
    let named = names(assets, &zones, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }
    let text = write(opts, &zones, &named);
    // The text must be a valid policy: parse and resolve it.
    let loaded = zonal_model::load_str(
        "imported.zonal",
        &text,
        &zonal_model::Options { today: opts.today },
    );
    if loaded.diagnostics.has_input_errors() {
        return Err(loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == zonal_diagnostics::Severity::Error)
            .map(|d| RowError {
                row: None,
                message: format!(
                    "the imported policy would be invalid: {} ({})",
                    d.message, d.code
                ),
            })
            .collect());
    }
    let parsed = zonal_syntax::parse(zonal_diagnostics::FileId(0), &text);
    let text = zonal_syntax::format(&parsed.file, &text);
    Ok(Imported {
        text,
        zones: zones.len(),
        devices: named.len(),
        unmapped: unmapped.into_iter().collect(),
    })
}

/// One row's cells, read: number, name, address, VLAN, subnet, fields.
type Parsed = (
    usize,
    String,
    IpAddr,
    Option<u16>,
    Option<Prefix>,
    BTreeMap<Field, String>,
);

/// The cells of every row by field; the subnets each VLAN's rows give.
fn read_rows(
    rows: &[rows::Row],
    opts: &Options,
    errors: &mut Vec<RowError>,
    vlan_subnets: &mut BTreeMap<u16, BTreeSet<Prefix>>,
    unmapped: &mut BTreeSet<String>,
) -> Vec<Parsed> {
    let mut parsed = Vec::new();
    for row in rows {
        let mut f: BTreeMap<Field, String> = BTreeMap::new();
        for (col, val) in &row.cells {
            match opts.mapping.field(col) {
                Some(Field::Ignore) => {}
                Some(field) if !val.is_empty() => {
                    f.entry(field).or_insert_with(|| val.clone());
                }
                Some(_) => {}
                None => {
                    unmapped.insert(col.clone());
                }
            }
        }
        let err = |m: String| RowError {
            row: Some(row.number),
            message: m,
        };
        let Some(name) = f.get(&Field::Name).cloned() else {
            errors.push(err("no name (map a column to `name`)".into()));
            continue;
        };
        let Some(ip_text) = f.get(&Field::Ip) else {
            errors.push(err(format!(
                "`{name}` has no IP address (map a column to `ip`)"
            )));
            continue;
        };
        let Ok(ip) = ip_text.parse::<IpAddr>() else {
            errors.push(err(format!(
                "`{name}`: `{ip_text}` is not an IPv4 or IPv6 address"
            )));
            continue;
        };
        let vlan = match f.get(&Field::Vlan) {
            None => None,
            Some(v) => match v
                .trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == ' ')
                .parse::<u16>()
            {
                Ok(n) if (1..=4094).contains(&n) => Some(n),
                _ => {
                    errors.push(err(format!(
                        "`{name}`: VLAN `{v}` is not a number from 1 to 4094"
                    )));
                    continue;
                }
            },
        };
        let subnet = match f.get(&Field::Subnet) {
            None => None,
            Some(s) => match Prefix::parse(s) {
                Ok(p) => Some(p),
                Err(_) => {
                    errors.push(err(format!("`{name}`: subnet `{s}` is not a network in CIDR notation (e.g. 10.20.110.0/24)")));
                    continue;
                }
            },
        };
        if let (Some(v), Some(s)) = (vlan, subnet) {
            vlan_subnets.entry(v).or_default().insert(s);
        }
        parsed.push((row.number, name, ip, vlan, subnet, f));
    }
    parsed
}

/// Each row's zone, checked against the zone's subnets.
#[expect(
    clippy::too_many_lines,
    reason = "one row's zone, address check and device fields, in the order a reader checks them"
)]
fn place(
    parsed: Vec<Parsed>,
    opts: &Options,
    vlan_subnets: &BTreeMap<u16, BTreeSet<Prefix>>,
    errors: &mut Vec<RowError>,
    zones: &mut BTreeMap<String, ZoneInfo>,
) -> Vec<Asset> {
    let mut assets = Vec::new();
    for (row, name, ip, vlan, subnet, f) in parsed {
        let err = |m: String| RowError {
            row: Some(row),
            message: m,
        };
        // The zone: explicit, subnet, VLAN, or the address's prefix.
        let (zone_key, zone_name, networks): (String, String, BTreeSet<Prefix>) =
            if let Some(z) = f.get(&Field::Zone) {
                let nets: BTreeSet<Prefix> = subnet
                    .into_iter()
                    .chain(
                        vlan.and_then(|v| vlan_subnets.get(&v))
                            .into_iter()
                            .flatten()
                            .copied(),
                    )
                    .collect();
                (
                    format!("z:{}", name_of(z, "zone")),
                    name_of(z, "zone"),
                    nets,
                )
            } else if let Some(v) = vlan {
                let nets = vlan_subnets.get(&v).cloned().unwrap_or_default();
                (format!("v:{v}"), format!("vlan-{v}"), nets)
            } else if let Some(s) = subnet {
                (
                    format!("s:{s}"),
                    name_of(&format!("net {s}"), "net"),
                    BTreeSet::from([s]),
                )
            } else if let Some(len) = opts.prefix_len {
                let Some(p) = Prefix::new(
                    ip,
                    if ip.is_ipv4() {
                        len.min(32)
                    } else {
                        len.min(128)
                    },
                ) else {
                    errors.push(err(format!("`{name}`: no prefix of length {len} for {ip}")));
                    continue;
                };
                let p = p.to_set().to_prefixes().into_iter().next().unwrap_or(p);
                (
                    format!("s:{p}"),
                    name_of(&format!("net {p}"), "net"),
                    BTreeSet::from([p]),
                )
            } else {
                errors.push(err(format!(
                    "`{name}` has no zone, subnet or VLAN (map one, or give `--prefix-len 24`)"
                )));
                continue;
            };
        if networks.is_empty() {
            errors.push(err(format!(
                "`{name}`: no row gives a subnet for its zone `{zone_name}` (map a subnet column)"
            )));
            continue;
        }
        if !networks.iter().any(|n| n.contains(ip)) {
            let nets: Vec<String> = networks.iter().map(ToString::to_string).collect();
            errors.push(err(format!(
                "`{name}`: {ip} is outside every subnet of its zone `{zone_name}` ({})",
                nets.join(", ")
            )));
            continue;
        }
        let z = zones.entry(zone_key.clone()).or_insert_with(|| ZoneInfo {
            name: zone_name.clone(),
            vlan,
            networks: BTreeSet::new(),
        });
        z.networks.extend(networks);
        let os = f.get(&Field::Os).cloned();
        let eos = f
            .get(&Field::EndOfSupport)
            .is_some_and(|v| truthy(v, opts.today))
            || os.as_deref().is_some_and(unsupported);
        let dicom_port = match f.get(&Field::DicomPort) {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.push(err(format!(
                        "`{name}`: DICOM port `{p}` is not a port number"
                    )));
                    continue;
                }
            },
        };
        assets.push(Asset {
            row,
            original: name,
            ip,
            zone_key,
            kind: f.get(&Field::Kind).map(|k| device_kind(k)),
            vendor: f.get(&Field::Vendor).cloned(),
            model: f.get(&Field::Model).cloned(),
            os,
            eos,
            ae: f.get(&Field::Ae).cloned().filter(|a| a.len() <= 16),
            dicom_port,
        });
    }
    assets
}

/// Valid, unique names; the same name or address twice is an error.
fn names(
    assets: Vec<Asset>,
    zones: &BTreeMap<String, ZoneInfo>,
    errors: &mut Vec<RowError>,
) -> Vec<(String, Asset)> {
    // Names: the same name twice, or the same address twice, is an error;
    // different names that become one are numbered.
    let mut seen_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_ip: BTreeMap<IpAddr, usize> = BTreeMap::new();
    let mut taken: BTreeSet<String> = zones.values().map(|z| z.name.clone()).collect();
    let mut named = Vec::new();
    for a in assets {
        if let Some(first) = seen_name.insert(a.original.to_lowercase(), a.row) {
            errors.push(RowError {
                row: Some(a.row),
                message: format!("duplicate name `{}` (row {first} has it too)", a.original),
            });
            continue;
        }
        if let Some(first) = seen_ip.insert(a.ip, a.row) {
            errors.push(RowError {
                row: Some(a.row),
                message: format!(
                    "`{}`: address {} is already row {first}'s",
                    a.original, a.ip
                ),
            });
            continue;
        }
        let base = name_of(&a.original, "dev");
        let mut n = base.clone();
        let mut k = 2;
        while taken.contains(&n) {
            n = format!("{base}-{k}");
            k += 1;
        }
        taken.insert(n.clone());
        named.push((n, a));
    }
    named
}

fn write(opts: &Options, zones: &BTreeMap<String, ZoneInfo>, named: &[(String, Asset)]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Imported by `zonal import`: {} zones, {} devices. Review the zones'\n# trust and kind, then write the flows.\n",
        zones.len(),
        named.len()
    );
    let _ = writeln!(
        o,
        "policy {} {{ owner \"imported from the asset inventory\" }}\n",
        name_of(&opts.policy, "site")
    );
    for (key, z) in zones {
        let nets: Vec<String> = z.networks.iter().map(ToString::to_string).collect();
        let _ = writeln!(o, "zone {} {{", z.name);
        let _ = writeln!(o, "  network {}", nets.join(", "));
        if let Some(v) = z.vlan {
            let _ = writeln!(o, "  vlan {v}");
        }
        for (n, a) in named.iter().filter(|(_, a)| &a.zone_key == key) {
            let _ = write!(o, "  device {n} {{ address {}", a.ip);
            if let Some(k) = &a.kind {
                let _ = write!(o, "  kind {k}");
            }
            if let Some(v) = &a.vendor {
                let _ = write!(o, "  vendor \"{}\"", string(v));
            }
            if let Some(m) = &a.model {
                let _ = write!(o, "  model \"{}\"", string(m));
            }
            if let Some(s) = &a.os {
                let _ = write!(o, "  os \"{}\"", string(s));
            }
            if a.eos {
                o.push_str("  end-of-support");
            }
            if let Some(ae) = &a.ae {
                let _ = write!(o, "  ae \"{}\"", string(ae));
            }
            match a.dicom_port {
                Some(104) => o.push_str("  listens dicom"),
                Some(p) => {
                    let _ = write!(o, "  listens dicom on {p}");
                }
                None => {}
            }
            let _ = writeln!(
                o,
                " }}  # row {}: {}",
                a.row,
                string(&a.original).replace('\n', " ")
            );
        }
        o.push_str("}\n\n");
    }
    o
}

#[cfg(test)]
mod tests;
