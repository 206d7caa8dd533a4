//! Lint configuration: per-lint severity, pivot services, thresholds.
//!
//! The CLI reads `zonal.toml` and fills this in; this crate never reads files.

use std::collections::BTreeMap;

use zonal_diagnostics::Severity;
use zonal_model::ServiceSet;

use crate::registry::{LintInfo, find_lint};

/// How the lints run.
#[derive(Clone, Debug)]
pub struct LintConfig {
    /// Overridden levels by lint code: `Some(severity)` or `None` (off).
    levels: BTreeMap<&'static str, Option<Severity>>,
    /// Services an attacker can pivot through on transitive paths (`never
    /// A ~> B`, untrusted-reaches-legacy, blast radius). `None`: every
    /// permitted flow pivots (packet reachability).
    pub pivot_services: Option<ServiceSet>,
    /// Blast radius: a zone reaching more than this many modality zones is flagged.
    pub blast_radius: usize,
    /// How blast radius counts a hop.
    pub blast_radius_model: BlastRadiusModel,
    /// Blast radius, [`BlastRadiusModel::Exploit`]: the services over which
    /// a compromised host can take over the next one (defaults:
    /// [`default_blast_radius_vectors`]).
    pub blast_radius_vectors: ServiceSet,
    /// Broad port range: a rule with more TCP or UDP ports than this is flagged.
    pub max_port_range: u64,
}

/// How the blast-radius lint (L0309) counts a hop from one host to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BlastRadiusModel {
    /// A hop is an exploitation vector: a service of
    /// [`LintConfig::blast_radius_vectors`], or any TCP/UDP service but the
    /// infrastructure sinks (DNS, NTP, syslog, SNMP traps) toward an
    /// end-of-support host. Never ICMP, never a flow into a collector.
    #[default]
    Exploit,
    /// Packet reachability: any permitted flow is a hop (with
    /// `pivot-services`, every hop but the last must permit one of them).
    Packet,
}

impl BlastRadiusModel {
    /// Parses `exploit` or `packet`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exploit" => Some(BlastRadiusModel::Exploit),
            "packet" => Some(BlastRadiusModel::Packet),
            _ => None,
        }
    }
}

/// The default exploitation vectors of the blast radius: remote control
/// (ssh tcp 22, telnet tcp 23, rdp tcp/udp 3389, vnc tcp 5900-5901, winrm
/// tcp 5985-5986), file sharing and RPC (smb tcp 445, netbios tcp 139 and
/// udp 137-138, msrpc endpoint mapper tcp 135) — MITRE ATT&CK TA0008
/// (T1021 remote services, T1210 exploitation of remote services).
pub fn default_blast_radius_vectors() -> ServiceSet {
    use zonal_model::service::{TCP, UDP};
    [
        (TCP, 22, 23),
        (TCP, 3389, 3389),
        (UDP, 3389, 3389),
        (TCP, 5900, 5901),
        (TCP, 5985, 5986),
        (TCP, 445, 445),
        (TCP, 139, 139),
        (UDP, 137, 138),
        (TCP, 135, 135),
    ]
    .iter()
    .fold(ServiceSet::empty(), |acc, (p, lo, hi)| {
        acc.union(&ServiceSet::ports(*p, *lo, *hi))
    })
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            levels: BTreeMap::new(),
            pivot_services: None,
            blast_radius: 3,
            blast_radius_model: BlastRadiusModel::Exploit,
            blast_radius_vectors: default_blast_radius_vectors(),
            max_port_range: 100,
        }
    }
}

impl LintConfig {
    /// Sets a lint's level by name or code: `Some(severity)`, or `None` to turn it off.
    pub fn set_level(&mut self, lint: &str, level: Option<Severity>) -> Result<(), String> {
        match find_lint(lint) {
            Some(info) => {
                self.levels.insert(info.code, level);
                Ok(())
            }
            None => Err(crate::registry::unknown_lint_message(lint)),
        }
    }

    /// The effective level of a lint (`None` when it is off).
    pub fn level(&self, info: &LintInfo) -> Option<Severity> {
        match self.levels.get(info.code) {
            Some(level) => *level,
            None => Some(info.severity),
        }
    }

    /// Whether a lint runs.
    pub fn enabled(&self, info: &LintInfo) -> bool {
        self.level(info).is_some()
    }
}
