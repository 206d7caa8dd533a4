//! One module per target, and [`TARGETS`], the table that describes them.
//!
//! A target is one [`TargetSpec`] row: its name, file extension,
//! description, embedded templates, render function and limits. Everything
//! that varies by target and is not the rendering itself (the CLI's
//! `--target` values and help, template lookup, escaping limits) reads that
//! row; no other code matches on [`Target`] to find them.
//!
//! A target module provides:
//! - `TEMPLATES: &[(&str, &str)]`: `(file name, text)` of its templates,
//!   embedded with `include_str!` from `templates/<target>/`;
//! - `render(plan, templates, db) -> Result<Vec<Artifact>, Diagnostics>`,
//!   which builds its view model from the firewall's plan (see `plan.rs`)
//!   and renders it,
//!   and refuses (with diagnostics) what cannot be rendered safely; the CLI
//!   renders every file in memory before it writes any.

mod asa;
mod fortigate;
mod ios;
mod iptables;
mod nftables;
mod overlap;
mod panos;
mod pf;
mod srx;
mod vendor;

use zonal_diagnostics::{Diagnostics, SourceDb};

use crate::escape::Limits;
use crate::plan::FirewallPlan;
use crate::{Artifact, Target, Templates};

/// Renders one firewall for one target into its artifacts.
pub(crate) type RenderFn =
    fn(&FirewallPlan<'_>, &Templates, &mut SourceDb) -> Result<Vec<Artifact>, Diagnostics>;

/// Everything Zonal knows about one target, as data.
pub(crate) struct TargetSpec {
    /// The target.
    pub(crate) target: Target,
    /// The name used on the command line, in binding files and as the
    /// template folder name.
    pub(crate) name: &'static str,
    /// The extension of the main output file (`riverbend.<ext>`).
    pub(crate) extension: &'static str,
    /// A one-line description, for `--help`.
    pub(crate) description: &'static str,
    /// `(file name, text)` of the embedded templates.
    pub(crate) templates: &'static [(&'static str, &'static str)],
    /// The renderer.
    pub(crate) render: RenderFn,
    /// Identifier, comment and name limits (see `escape.rs`; from the
    /// vendors' documentation, summarised in docs/targets/).
    pub(crate) limits: Limits,
}

/// Every target, in the order of [`Target::ALL`] (checked by a test).
pub(crate) static TARGETS: [TargetSpec; Target::ALL.len()] = [
    TargetSpec {
        target: Target::Nftables,
        name: "nftables",
        extension: "nft",
        description: "Linux nftables, one atomic `inet` table (nft -f)",
        templates: nftables::TEMPLATES,
        render: nftables::render,
        // Names up to 255 bytes; comments 128 bytes.
        limits: Limits {
            ident_max: 64,
            comment_max: 120,
            upper: false,
            dash: false,
            interface_max: 15,
            vendor_zone_max: 31,
            last_until: Some(date(2262, 4, 10)),
        },
    },
    TargetSpec {
        target: Target::Iptables,
        name: "iptables",
        extension: "iptables",
        description: "Linux iptables-restore and ip6tables-restore files (two files)",
        templates: iptables::TEMPLATES,
        render: iptables::render,
        // Chain names 28; comments truncated silently past 255.
        limits: Limits {
            ident_max: 28,
            comment_max: 240,
            upper: false,
            dash: false,
            interface_max: 15,
            vendor_zone_max: 31,
            last_until: Some(date(2038, 1, 18)),
        },
    },
    TargetSpec {
        target: Target::Pf,
        name: "pf",
        extension: "pf.conf",
        description: "OpenBSD pf.conf (pfctl -f)",
        templates: pf::TEMPLATES,
        render: pf::render,
        // Tables 31, labels 63.
        limits: Limits {
            ident_max: 31,
            comment_max: 200,
            upper: false,
            dash: false,
            interface_max: 15,
            vendor_zone_max: 31,
            last_until: None,
        },
    },
    TargetSpec {
        target: Target::Ios,
        name: "ios",
        extension: "ios.txt",
        description: "Cisco IOS/IOS-XE named extended ACLs (stateless)",
        templates: ios::TEMPLATES,
        render: ios::render,
        // Object groups 64; remarks 100.
        limits: Limits {
            ident_max: 64,
            comment_max: 100,
            upper: true,
            dash: false,
            interface_max: 64,
            vendor_zone_max: 31,
            last_until: Some(date(2035, 12, 30)),
        },
    },
    TargetSpec {
        target: Target::Asa,
        name: "asa",
        extension: "asa.txt",
        description: "Cisco ASA access lists and object groups",
        templates: asa::TEMPLATES,
        render: asa::render,
        // Objects 64; remarks 100 (Aerleon's limit).
        limits: Limits {
            ident_max: 64,
            comment_max: 100,
            upper: true,
            dash: false,
            interface_max: 48,
            vendor_zone_max: 48,
            last_until: Some(date(2035, 12, 30)),
        },
    },
    TargetSpec {
        target: Target::Srx,
        name: "srx",
        extension: "srx.set",
        description: "Juniper SRX security policies (set commands)",
        templates: srx::TEMPLATES,
        render: srx::render,
        // Names 63; descriptions 900.
        limits: Limits {
            ident_max: 63,
            comment_max: 900,
            upper: false,
            dash: true,
            interface_max: 64,
            vendor_zone_max: 63,
            last_until: Some(date(2037, 12, 30)),
        },
    },
    TargetSpec {
        target: Target::Panos,
        name: "panos",
        extension: "panos.set",
        description: "Palo Alto PAN-OS security rules (set commands)",
        templates: panos::TEMPLATES,
        render: panos::render,
        // Names 63, schedules and zones 31; descriptions 1023.
        limits: Limits {
            ident_max: 31,
            comment_max: 1000,
            upper: false,
            dash: true,
            interface_max: 64,
            vendor_zone_max: 31,
            last_until: Some(date(2037, 12, 30)),
        },
    },
    TargetSpec {
        target: Target::Fortigate,
        name: "fortigate",
        extension: "fortigate.conf",
        description: "Fortinet FortiGate firewall policies",
        templates: fortigate::TEMPLATES,
        render: fortigate::render,
        // Policy names 35, schedules 31; comments 1023.
        limits: Limits {
            ident_max: 31,
            comment_max: 200,
            upper: false,
            dash: true,
            interface_max: 15,
            vendor_zone_max: 35,
            last_until: Some(date(2037, 12, 30)),
        },
    },
];

/// The row of a target.
pub(crate) fn spec(target: Target) -> &'static TargetSpec {
    // The rows are in declaration order (checked by the test below), and
    // the array has one row per variant, so the discriminant is the row.
    &TARGETS[target as usize]
}

/// A date of the target table (the values are valid dates).
const fn date(year: u16, month: u8, day: u8) -> zonal_model::Date {
    zonal_model::Date { year, month, day }
}

/// The vendor zone name of a plan zone on `target` (see `vendor::zone_name`).
pub(crate) fn vendor_zone_name(target: Target, z: &crate::plan::PlanZone) -> String {
    vendor::zone_name(target, z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_target_once_in_order() {
        assert_eq!(TARGETS.len(), Target::ALL.len());
        for (i, t) in Target::ALL.into_iter().enumerate() {
            assert_eq!(TARGETS[i].target, t);
            assert_eq!(t as usize, i);
            assert!(std::ptr::eq(spec(t), &TARGETS[i]));
            assert!(!TARGETS[i].templates.is_empty(), "{t}");
            assert!(!TARGETS[i].description.is_empty(), "{t}");
        }
        let names: std::collections::BTreeSet<_> = TARGETS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), TARGETS.len());
    }
}
