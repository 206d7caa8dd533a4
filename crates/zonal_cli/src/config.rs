//! `zonal.toml`: the project configuration beside a policy.
//!
//! ```toml
//! [lints]
//! shadowed-rule = "critical"   # per-lint severity by name or code, or "off"
//!
//! [analysis]
//! pivot-services = ["ssh", "rdp", "vnc", "smb", "winrm"]
//! blast-radius = 3
//! max-port-range = 100
//!
//! [baseline]
//! file = "zonal-baseline.json"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use zonal_diagnostics::Severity;
use zonal_lint::LintConfig;
use zonal_model::{Policy, ServiceSet};

/// The file name looked for beside the policy.
pub(crate) const FILE_NAME: &str = "zonal.toml";

/// The default baseline file, relative to the configuration's directory.
pub(crate) const DEFAULT_BASELINE: &str = "zonal-baseline.json";

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    lints: BTreeMap<String, String>,
    #[serde(default)]
    analysis: RawAnalysis,
    #[serde(default)]
    baseline: RawBaseline,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAnalysis {
    pivot_services: Option<Vec<String>>,
    blast_radius: Option<usize>,
    max_port_range: Option<u64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    file: Option<String>,
}

/// The project configuration of one policy.
#[derive(Debug)]
pub(crate) struct ProjectConfig {
    /// Where it was read from (`None`: no `zonal.toml`, defaults).
    pub(crate) path: Option<PathBuf>,
    lint: LintConfig,
    pivot_services: Option<Vec<String>>,
    /// The baseline file of accepted findings.
    pub(crate) baseline: PathBuf,
}

/// The directory a policy path's configuration lives in: the directory
/// itself, or the file's directory.
fn config_dir(policy: &Path) -> PathBuf {
    if policy.is_dir() {
        policy.to_path_buf()
    } else {
        policy.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Reads `zonal.toml` beside `policy`, if there is one.
pub(crate) fn load(policy: &Path) -> anyhow::Result<ProjectConfig> {
    let dir = config_dir(policy);
    let path = dir.join(FILE_NAME);
    if !path.is_file() {
        return Ok(ProjectConfig {
            path: None,
            lint: LintConfig::default(),
            pivot_services: None,
            baseline: dir.join(DEFAULT_BASELINE),
        });
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    parse(&text, &path, &dir)
}

/// Parses the text of a `zonal.toml` found at `path` in `dir`.
pub(crate) fn parse(text: &str, path: &Path, dir: &Path) -> anyhow::Result<ProjectConfig> {
    let raw: RawConfig = toml::from_str(text)
        .with_context(|| format!("`{}` is not a valid configuration", path.display()))?;
    let mut lint = LintConfig::default();
    for (name, level) in &raw.lints {
        let level = match level.as_str() {
            "off" | "allow" => None,
            s => match Severity::parse(s) {
                Some(sev) if sev != Severity::Error => Some(sev),
                _ => bail!(
                    "`{}`: `{name} = \"{level}\"` is not a level: use critical, high, medium, low, info or off",
                    path.display()
                ),
            },
        };
        lint.set_level(name, level)
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?;
    }
    if let Some(n) = raw.analysis.blast_radius {
        lint.blast_radius = n;
    }
    if let Some(n) = raw.analysis.max_port_range {
        lint.max_port_range = n;
    }
    let baseline = dir.join(raw.baseline.file.as_deref().unwrap_or(DEFAULT_BASELINE));
    Ok(ProjectConfig {
        path: Some(path.to_path_buf()),
        lint,
        pivot_services: raw.analysis.pivot_services,
        baseline,
    })
}

impl ProjectConfig {
    /// The lint configuration for a resolved policy (pivot services are
    /// looked up by name in the policy).
    pub(crate) fn lint_config(&self, policy: &Policy) -> anyhow::Result<LintConfig> {
        let mut config = self.lint.clone();
        if let Some(names) = &self.pivot_services {
            let mut set = ServiceSet::empty();
            for n in names {
                let Some(s) = policy.service_by_name(n) else {
                    bail!(
                        "`{}`: pivot service `{n}` is not defined in the policy or the prelude",
                        self.path
                            .as_deref()
                            .unwrap_or(Path::new(FILE_NAME))
                            .display()
                    );
                };
                set = set.union(&s.set);
            }
            config.pivot_services = Some(set);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> anyhow::Result<ProjectConfig> {
        parse(text, Path::new("dir/zonal.toml"), Path::new("dir"))
    }

    #[test]
    fn levels_thresholds_and_baseline() {
        let c = parse_str(
            "[lints]\nshadowed-rule = \"critical\"\nL0102 = \"off\"\n[analysis]\nblast-radius = 5\n[baseline]\nfile = \"accepted.json\"\n",
        )
        .unwrap();
        let shadowed = zonal_lint::find_lint("L0201").unwrap();
        let unused = zonal_lint::find_lint("unused-service").unwrap();
        assert_eq!(c.lint.level(shadowed), Some(Severity::Critical));
        assert_eq!(c.lint.level(unused), None);
        assert_eq!(c.lint.blast_radius, 5);
        assert_eq!(c.baseline, Path::new("dir/accepted.json"));
    }

    #[test]
    fn unknown_lints_and_levels_are_errors() {
        let e = parse_str("[lints]\nshadowed-rules = \"high\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `shadowed-rule`"), "{e}");
        let e = parse_str("[lints]\nshadowed-rule = \"severe\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a level"), "{e}");
        assert!(parse_str("[lint]\n").is_err());
    }
}
