//! `zonal.toml`: the project configuration beside a policy.
//!
//! ```toml
//! [lints]
//! shadowed-rule = "critical"   # per-lint severity by name or code, or "off"
//!
//! [analysis]
//! pivot-services = ["ssh", "rdp", "vnc", "smb", "winrm"]
//! blast-radius = 3
//! blast-radius-model = "exploit"   # or "packet"
//! blast-radius-vectors = ["ssh", "telnet", "rdp", "vnc", "winrm", "smb", "netbios"]
//! max-port-range = 100
//!
//! [baseline]
//! file = "zonal-baseline.json"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zonal_diagnostics::Severity;
use zonal_lint::LintConfig;
use zonal_model::{Policy, ServiceSet};

/// The file name looked for beside the policy (the CLI reads it).
pub const FILE_NAME: &str = "zonal.toml";

/// The default baseline file, relative to the configuration's directory.
pub const DEFAULT_BASELINE: &str = "zonal-baseline.json";

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
    blast_radius_model: Option<String>,
    blast_radius_vectors: Option<Vec<String>>,
    max_port_range: Option<u64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    file: Option<String>,
}

/// The project configuration of one policy.
#[derive(Debug)]
pub struct ProjectConfig {
    /// Where it was read from (`None`: no `zonal.toml`, defaults).
    pub path: Option<PathBuf>,
    lint: LintConfig,
    pivot_services: Option<Vec<String>>,
    blast_radius_vectors: Option<Vec<String>>,
    /// The baseline file of accepted findings.
    pub baseline: PathBuf,
}

impl ProjectConfig {
    /// The configuration of a policy whose directory `dir` has no `zonal.toml`.
    pub fn defaults(dir: &Path) -> Self {
        ProjectConfig {
            path: None,
            lint: LintConfig::default(),
            pivot_services: None,
            blast_radius_vectors: None,
            baseline: dir.join(DEFAULT_BASELINE),
        }
    }
}

/// Why a `zonal.toml` cannot be used.
#[derive(Debug)]
pub struct ConfigError(String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

macro_rules! bail {
    ($($t:tt)*) => { return Err(ConfigError(format!($($t)*))) };
}

/// Parses the text of a `zonal.toml` found at `path` in `dir`.
pub fn parse(text: &str, path: &Path, dir: &Path) -> Result<ProjectConfig, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        ConfigError(format!(
            "`{}` is not a valid configuration: {e}",
            path.display()
        ))
    })?;
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
            .map_err(|e| ConfigError(format!("`{}`: {e}", path.display())))?;
    }
    if let Some(n) = raw.analysis.blast_radius {
        lint.blast_radius = n;
    }
    if let Some(m) = &raw.analysis.blast_radius_model {
        match zonal_lint::BlastRadiusModel::parse(m) {
            Some(model) => lint.blast_radius_model = model,
            None => bail!(
                "`{}`: `blast-radius-model = \"{m}\"` is not a model: use \"exploit\" or \"packet\"",
                path.display()
            ),
        }
    }
    if let Some(n) = raw.analysis.max_port_range {
        lint.max_port_range = n;
    }
    let baseline = dir.join(raw.baseline.file.as_deref().unwrap_or(DEFAULT_BASELINE));
    Ok(ProjectConfig {
        path: Some(path.to_path_buf()),
        lint,
        pivot_services: raw.analysis.pivot_services,
        blast_radius_vectors: raw.analysis.blast_radius_vectors,
        baseline,
    })
}

impl ProjectConfig {
    /// The lint configuration for a resolved policy (pivot services are
    /// looked up by name in the policy).
    pub fn lint_config(&self, policy: &Policy) -> Result<LintConfig, ConfigError> {
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
        if let Some(names) = &self.blast_radius_vectors {
            let mut set = ServiceSet::empty();
            for n in names {
                let Some(s) = policy.service_by_name(n) else {
                    bail!(
                        "`{}`: blast-radius vector `{n}` is not defined in the policy or the prelude",
                        self.path
                            .as_deref()
                            .unwrap_or(Path::new(FILE_NAME))
                            .display()
                    );
                };
                set = set.union(&s.set);
            }
            config.blast_radius_vectors = set;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ProjectConfig, ConfigError> {
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

    #[test]
    fn blast_radius_model_and_vectors() {
        let c = parse_str("[analysis]\nblast-radius-model = \"packet\"\n").unwrap();
        assert_eq!(
            c.lint.blast_radius_model,
            zonal_lint::BlastRadiusModel::Packet
        );
        let c = parse_str("").unwrap();
        assert_eq!(
            c.lint.blast_radius_model,
            zonal_lint::BlastRadiusModel::Exploit
        );
        let e = parse_str("[analysis]\nblast-radius-model = \"paths\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a model"), "{e}");
        let options = zonal_model::Options {
            today: zonal_model::Date::new(2026, 11, 28).expect("a valid date"),
        };
        let l = zonal_model::load_str("p.zonal", "policy p { owner \"x\" }\n", &options);
        let policy = l.policy.unwrap();
        let c = parse_str("[analysis]\nblast-radius-vectors = [\"rdp\", \"ssh\"]\n").unwrap();
        let config = c.lint_config(&policy).unwrap();
        assert!(
            config
                .blast_radius_vectors
                .contains(zonal_model::service::TCP, 22)
        );
        assert!(
            config
                .blast_radius_vectors
                .contains(zonal_model::service::TCP, 3389)
        );
        assert!(
            !config
                .blast_radius_vectors
                .contains(zonal_model::service::TCP, 445)
        );
        let c = parse_str("[analysis]\nblast-radius-vectors = [\"rdpp\"]\n").unwrap();
        let e = c.lint_config(&policy).unwrap_err().to_string();
        assert!(e.contains("blast-radius vector `rdpp`"), "{e}");
    }
}
