//! Renders a checked Zonal policy into firewall configurations.
//!
//! Rendering is two steps. [`plan`] builds a [`FirewallPlan`] once per
//! firewall: the zones it enforces and, per zone pair, the rule fragments
//! it must apply (see `plan.rs`); nothing in it depends on the target.
//! [`render_plan`] then renders the plan for one [`Target`]: the target's
//! row of the target table (`targets/mod.rs`) names its minijinja
//! templates under `templates/<target>/` (embedded at compile time) and
//! its render function, which builds an explicit, serializable view model
//! from the plan that the templates turn into text. [`render`] does both
//! for one request. Templates run with strict undefined
//! variables, keep trailing newlines, and interpolate values through a
//! per-target output check (see `env.rs` and `escape.rs`): a value that could
//! break out of a comment, a quoted string or a line is an error, never
//! output.
//!
//! Where the rules go is described by a deployment [`Binding`] (YAML, see
//! [`parse_binding`]); without one, a single firewall enforces every zone by
//! address ([`Firewall::by_address`]).
//!
//! This crate never touches the filesystem: template overrides
//! (`--templates DIR`) and binding files are read by the CLI and passed in as
//! text.

mod binding;
mod checks;
mod device;
mod env;
mod escape;
mod objects;
mod plan;
mod targets;

use std::collections::BTreeMap;
use std::fmt;

use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_lint::Checked;
use zonal_model::Policy;

pub use binding::{Binding, Firewall, Logging, Naming, PanosOptions, ZoneBinding, parse_binding};
pub use device::{DeviceTraffic, Fhrp, PfMode, Routing};
pub use plan::FirewallPlan;

/// A firewall configuration format Zonal renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Linux nftables (`nft -f`), one `inet` table.
    Nftables,
    /// Linux iptables/ip6tables (`iptables-restore`, `ip6tables-restore`).
    Iptables,
    /// OpenBSD pf (`pfctl -f`).
    Pf,
    /// Cisco IOS/IOS-XE named extended ACLs (stateless).
    Ios,
    /// Cisco ASA access lists.
    Asa,
    /// Juniper SRX security policies (set commands).
    Srx,
    /// Palo Alto PAN-OS security rules (set commands).
    Panos,
    /// Fortinet FortiGate firewall policies.
    Fortigate,
}

impl Target {
    /// Every target, in the order they are documented and rendered.
    pub const ALL: [Target; 8] = [
        Target::Nftables,
        Target::Iptables,
        Target::Pf,
        Target::Ios,
        Target::Asa,
        Target::Srx,
        Target::Panos,
        Target::Fortigate,
    ];

    /// The name used on the command line, in binding files and as the
    /// template folder name.
    pub fn name(self) -> &'static str {
        targets::spec(self).name
    }

    /// Parses a target name (exact, lower case).
    pub fn parse(s: &str) -> Option<Target> {
        targets::TARGETS
            .iter()
            .find(|spec| spec.name == s)
            .map(|spec| spec.target)
    }

    /// The extension of the main output file (`riverbend.<ext>`).
    pub fn extension(self) -> &'static str {
        targets::spec(self).extension
    }

    /// A one-line description, for `--help`.
    pub fn description(self) -> &'static str {
        targets::spec(self).description
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One template file supplied by the user (`--templates DIR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateFile {
    /// The path diagnostics print (relative to the current directory).
    pub path: String,
    /// Its text.
    pub text: String,
}

/// User overrides of the embedded templates, per target and file name
/// (`DIR/<target>/<file>`). A file with the name of an embedded template
/// replaces it; other files can be included by the templates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates {
    overrides: BTreeMap<Target, BTreeMap<String, TemplateFile>>,
}

impl Templates {
    /// The embedded templates only.
    pub fn embedded() -> Self {
        Templates::default()
    }

    /// Adds an override for `target`'s template `name` (e.g. `main.nft.j2`).
    pub fn set_override(&mut self, target: Target, name: impl Into<String>, file: TemplateFile) {
        self.overrides
            .entry(target)
            .or_default()
            .insert(name.into(), file);
    }

    /// The overrides of one target.
    fn for_target(&self, target: Target) -> Option<&BTreeMap<String, TemplateFile>> {
        self.overrides.get(&target)
    }

    /// The names of the embedded template files of a target (what a user
    /// can override).
    pub fn embedded_names(target: Target) -> Vec<&'static str> {
        targets::spec(target)
            .templates
            .iter()
            .map(|(n, _)| *n)
            .collect()
    }
}

/// One rendered output file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// The file-name extension (`nft`, `iptables`, `ip6tables`, …); the CLI
    /// writes `<firewall>.<extension>`.
    pub extension: String,
    /// The configuration text.
    pub text: String,
    /// How many filtering rules (rules, ACEs, policies) it contains,
    /// including the final explicit deny.
    pub rule_count: usize,
    /// Build warnings about this file (`W03xx`): what the target cannot
    /// enforce or had to shorten. They never block the build.
    pub warnings: Diagnostics,
}

/// The result of rendering one firewall for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The target.
    pub target: Target,
    /// The firewall's name.
    pub firewall: String,
    /// One or more files (iptables renders an IPv4 and an IPv6 file).
    pub artifacts: Vec<Artifact>,
}

impl Rendered {
    /// Every warning of every artifact.
    pub fn warnings(&self) -> Diagnostics {
        Diagnostics(
            self.artifacts
                .iter()
                .flat_map(|a| a.warnings.iter().cloned())
                .collect(),
        )
    }

    /// The total rule count over all artifacts.
    pub fn rule_count(&self) -> usize {
        self.artifacts.iter().map(|a| a.rule_count).sum()
    }
}

/// What to render.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The checked policy: the lints ran and left no error-level finding.
    pub checked: &'a Checked,
    /// The firewall (from a binding, or [`Firewall::by_address`]).
    pub firewall: &'a Firewall,
    /// Template overrides.
    pub templates: &'a Templates,
}

impl<'a> Request<'a> {
    /// The policy being rendered.
    pub fn policy(&self) -> &'a Policy {
        self.checked.policy()
    }
}

/// Builds what `firewall` enforces for the checked policy, once for every
/// target of that firewall (see [`render_plan`]).
pub fn plan<'p>(checked: &'p Checked, firewall: &'p Firewall) -> FirewallPlan<'p> {
    FirewallPlan::build(checked.policy(), firewall)
}

impl FirewallPlan<'_> {
    /// The firewall this plan is for.
    pub fn firewall(&self) -> &Firewall {
        self.firewall
    }
}

/// Renders a firewall's plan for one target.
///
/// Template errors and names that cannot be made safe for the target are
/// returned as diagnostics; template files involved are registered in `db`
/// so that the diagnostics point at their file and line.
pub fn render_plan(
    target: Target,
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Rendered, Diagnostics> {
    let mut refused = checks::dates(target, plan);
    refused.extend(checks::vendor_zone_collisions(target, plan));
    if !refused.is_empty() {
        return Err(refused);
    }
    let mut artifacts = (targets::spec(target).render)(plan, templates, db)?;
    if let Some(first) = artifacts.first_mut() {
        first.warnings.extend(checks::same_subnet(target, plan));
        first.warnings.extend(checks::cut_comments(target, plan));
    }
    Ok(Rendered {
        target,
        firewall: plan.firewall.name.clone(),
        artifacts,
    })
}

/// Renders one firewall for one target: [`plan`], then [`render_plan`].
/// To render several targets of one firewall, build the plan once instead.
pub fn render(
    target: Target,
    req: &Request<'_>,
    db: &mut SourceDb,
) -> Result<Rendered, Diagnostics> {
    render_plan(target, &plan(req.checked, req.firewall), req.templates, db)
}

/// The render gate with default levels, for unit tests.
#[cfg(test)]
pub(crate) fn checked_for_tests(policy: Policy) -> Checked {
    let config = zonal_lint::LintConfig::default();
    match Checked::new(policy, &config, &zonal_lint::Baseline::empty()) {
        Ok(c) => c,
        Err(r) => panic!("refused by the render gate: {:?}", r.blocking()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_round_trip() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.name()), Some(t));
            assert!(!t.extension().is_empty());
        }
        assert_eq!(Target::parse("nft"), None);
        assert_eq!(Target::ALL.len(), 8);
    }

    #[test]
    fn every_target_has_embedded_templates() {
        for t in Target::ALL {
            assert!(!Templates::embedded_names(t).is_empty(), "{t}");
        }
    }
}
