//! Running the lints for `zonal check` (with `zonal.toml` and the baseline)
//! and rendering findings as SARIF 2.1.0.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use serde_sarif::sarif;
use zonal_diagnostics::{Diagnostics, Severity, SourceDb, Span};
use zonal_lint::Baseline;
use zonal_model::Policy;

/// What the lints report for one policy, after `zonal.toml` and the baseline.
pub(crate) struct LintRun {
    /// Findings not in the baseline.
    pub(crate) findings: Diagnostics,
    /// A message for stderr (baseline written, findings accepted).
    pub(crate) note: Option<String>,
}

/// Runs the lints on a resolved policy loaded from `path`; with
/// `write_baseline`, accepts every finding in the project's baseline file.
pub(crate) fn run(path: &Path, policy: &Policy, write_baseline: bool) -> anyhow::Result<LintRun> {
    let project = crate::commands::project(path)?;
    let lint_config = project.lint_config(policy)?;
    if write_baseline {
        let found = zonal_lint::check(policy, &lint_config);
        let text = Baseline::write(&found);
        crate::fs::write_atomic(&project.baseline, text.as_bytes())?;
        return Ok(LintRun {
            findings: Diagnostics::new(),
            note: Some(format!(
                "wrote {} accepted finding(s) to `{}`",
                found.len(),
                project.baseline.display()
            )),
        });
    }
    let baseline = crate::commands::baseline(&project)?;
    let run = zonal_lint::lint(policy, &lint_config, &baseline);
    let note = (run.accepted > 0).then(|| {
        format!(
            "{} finding(s) accepted in the baseline `{}`",
            run.accepted,
            project.baseline.display()
        )
    });
    Ok(LintRun {
        findings: run.findings,
        note,
    })
}

/// SARIF `level` of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error | Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The typed SARIF `level` of a result.
fn result_level(s: Severity) -> sarif::ResultLevel {
    match level(s) {
        "error" => sarif::ResultLevel::Error,
        "warning" => sarif::ResultLevel::Warning,
        _ => sarif::ResultLevel::Note,
    }
}

/// GitHub's `security-severity` score of a severity.
fn security_severity(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Error | Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// A repository-relative URI of a file name as printed.
fn uri(name: &str) -> String {
    let mut out = String::new();
    for c in name.replace('\\', "/").trim_start_matches("./").chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | '/' => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

fn physical(db: &SourceDb, span: Span) -> sarif::PhysicalLocation {
    let s = db.line_col(span.file, span.range.start);
    let e = db.line_col(span.file, span.range.end);
    let n = |x: u32| i64::from(x.max(1));
    sarif::PhysicalLocation::builder()
        .artifact_location(
            sarif::ArtifactLocation::builder()
                .uri(uri(db.name(span.file)))
                .uri_base_id(SRCROOT)
                .build(),
        )
        .region(
            sarif::Region::builder()
                .start_line(n(s.line))
                .start_column(n(s.col))
                .end_line(n(e.line.max(s.line)))
                .end_column(n(e.col))
                .build(),
        )
        .build()
}

/// The base of every artifact URI: the directory zonal ran in.
const SRCROOT: &str = "%SRCROOT%";

fn text(t: impl Into<String>) -> sarif::Message {
    sarif::Message::builder().text(t.into()).build()
}

fn multiformat(t: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder().text(t).build()
}

fn location(db: &SourceDb, span: Span, message: &str) -> sarif::Location {
    sarif::Location::builder()
        .physical_location(physical(db, span))
        .message(text(message))
        .build()
}

fn properties(pairs: &[(&str, Value)], tags: Option<Vec<String>>) -> sarif::PropertyBag {
    let additional: BTreeMap<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    match tags {
        Some(tags) => sarif::PropertyBag::builder()
            .tags(tags)
            .additional_properties(additional)
            .build(),
        None => sarif::PropertyBag::builder()
            .additional_properties(additional)
            .build(),
    }
}

fn configuration(level: &str) -> sarif::ReportingConfiguration {
    sarif::ReportingConfiguration::builder()
        .level(Value::String(level.into()))
        .build()
}

/// Collects the results of every checked policy into one SARIF run, built
/// from typed SARIF 2.1.0 structures (`serde-sarif`).
#[derive(Default)]
pub(crate) struct Sarif {
    results: Vec<sarif::Result>,
    extra_rules: BTreeMap<String, Severity>,
}

impl Sarif {
    /// Adds the findings of one policy.
    pub(crate) fn add(&mut self, db: &SourceDb, diags: &Diagnostics) {
        let fps = zonal_lint::fingerprints(diags.iter());
        for (d, fp) in diags.iter().zip(fps) {
            if zonal_lint::find_lint(d.code).is_none() {
                self.extra_rules
                    .entry(d.code.to_string())
                    .or_insert(d.severity);
            }
            let mut message = d.message.clone();
            for n in &d.notes {
                message.push('\n');
                message.push_str(n);
            }
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let related: Vec<sarif::Location> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    sarif::Location::builder()
                        .id(i64::try_from(i + 1).unwrap_or(i64::MAX))
                        .physical_location(physical(db, l.span))
                        .message(text(l.message.as_str()))
                        .build()
                })
                .collect();
            let hops: Vec<sarif::ThreadFlowLocation> = d
                .secondary
                .iter()
                .filter(|l| l.message.starts_with("hop "))
                .map(|l| {
                    sarif::ThreadFlowLocation::builder()
                        .location(location(db, l.span, &l.message))
                        .build()
                })
                .collect();
            let fingerprints: BTreeMap<String, String> = [
                ("primaryLocationLineHash".to_string(), fp.clone()),
                ("zonalFinding/v1".to_string(), fp),
            ]
            .into();
            let mut result = sarif::Result::builder()
                .rule_id(d.code)
                .level(result_level(d.severity))
                .message(text(message))
                .locations(vec![location(db, d.primary.span, &d.primary.message)])
                .partial_fingerprints(fingerprints)
                .properties(properties(
                    &[("severity", Value::String(d.severity.as_str().into()))],
                    None,
                ))
                .build();
            if !related.is_empty() {
                result.related_locations = Some(related);
            }
            if hops.len() > 1 {
                let flow = sarif::ThreadFlow::builder().locations(hops).build();
                result.code_flows = Some(vec![
                    sarif::CodeFlow::builder().thread_flows(vec![flow]).build(),
                ]);
            }
            self.results.push(result);
        }
    }

    /// The SARIF log, as JSON (object keys sorted, as `serde_json` writes
    /// them, so the output is byte-for-byte deterministic).
    pub(crate) fn finish(self) -> Value {
        let mut rules: Vec<sarif::ReportingDescriptor> = zonal_lint::registry()
            .iter()
            .map(|l| {
                let mut props = vec![
                    ("precision", Value::String("very-high".into())),
                    ("problem.severity", Value::String(level(l.severity).into())),
                ];
                if let Some(score) = security_severity(l.severity) {
                    props.push(("security-severity", Value::String(score.into())));
                }
                let tags = vec![
                    "security".to_string(),
                    l.category().to_string(),
                    l.name.to_string(),
                ];
                sarif::ReportingDescriptor::builder()
                    .id(l.code)
                    .name(l.name)
                    .short_description(multiformat(l.summary))
                    .full_description(multiformat(l.summary))
                    .help(
                        sarif::MultiformatMessageString::builder()
                            .text(l.summary)
                            .markdown(l.doc)
                            .build(),
                    )
                    .default_configuration(configuration(level(l.severity)))
                    .properties(properties(&props, Some(tags)))
                    .build()
            })
            .collect();
        for (code, sev) in &self.extra_rules {
            rules.push(
                sarif::ReportingDescriptor::builder()
                    .id(code.as_str())
                    .name(code.as_str())
                    .short_description(multiformat("the policy is invalid"))
                    .help(multiformat(&format!("run `zonal explain {code}`")))
                    .default_configuration(configuration(level(*sev)))
                    .properties(properties(
                        &[("precision", Value::String("very-high".into()))],
                        Some(vec!["correctness".to_string()]),
                    ))
                    .build(),
            );
        }
        let driver = sarif::ToolComponent::builder()
            .name("zonal")
            .semantic_version(env!("CARGO_PKG_VERSION"))
            .rules(rules)
            .build();
        let base: BTreeMap<String, sarif::ArtifactLocation> = [(
            SRCROOT.to_string(),
            sarif::ArtifactLocation::builder()
                .description(text("the directory zonal ran in"))
                .build(),
        )]
        .into();
        let run = sarif::Run::builder()
            .tool(sarif::Tool::builder().driver(driver).build())
            .column_kind(Value::String("unicodeCodePoints".into()))
            .original_uri_base_ids(base)
            .results(self.results)
            .build();
        let log = sarif::Sarif::builder()
            .schema("https://json.schemastore.org/sarif-2.1.0.json")
            .version(Value::String("2.1.0".into()))
            .runs(vec![run])
            .build();
        // Plain data structures: serialising them cannot fail.
        serde_json::to_value(&log).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SARIF of real findings (a multi-hop path included) is valid
    /// against the official OASIS SARIF 2.1.0 schema (errata 01), kept in
    /// the repository so the test reads nothing outside it.
    #[test]
    fn sarif_validates_against_the_schema() {
        let schema_text = include_str!("../tests/data/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(schema_text).unwrap();
        let mut sarif = Sarif::default();
        let options = zonal_model::Options {
            today: zonal_model::Date::new(2026, 11, 28).unwrap(),
        };
        for (name, text) in [
            (
                "policies/lint/L0305-never-violated/flagged.zonal",
                include_str!("../../../policies/lint/L0305-never-violated/flagged.zonal"),
            ),
            (
                "policies/examples/riverbend-radiology.zonal",
                include_str!("../../../policies/examples/riverbend-radiology.zonal"),
            ),
            (
                "policies/invalid/unknown-zone.zonal",
                include_str!("../../../policies/invalid/unknown-zone.zonal"),
            ),
        ] {
            let loaded = zonal_model::load_str(name, text, &options);
            let mut diags = loaded.diagnostics.clone();
            if let Some(p) = &loaded.policy
                && !loaded.diagnostics.has_input_errors()
            {
                diags.extend(zonal_lint::check(p, &zonal_lint::LintConfig::default()));
            }
            sarif.add(&loaded.db, &diags);
        }
        let log = sarif.finish();
        let results = log["runs"][0]["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(results.iter().any(|r| {
            r["codeFlows"][0]["threadFlows"][0]["locations"]
                .as_array()
                .is_some_and(|l| l.len() == 2)
        }));
        assert!(
            results
                .iter()
                .any(|r| r["ruleId"].as_str().is_some_and(|c| c.starts_with('E')))
        );
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            rules
                .iter()
                .any(|r| r["properties"]["security-severity"] == "9.5")
        );

        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource("sarif-schema-2.1.0.json", schema)
            .unwrap();
        let index = compiler
            .compile("sarif-schema-2.1.0.json", &mut schemas)
            .unwrap();
        if let Err(e) = schemas.validate(&log, index) {
            panic!("SARIF does not validate: {e:#}");
        }
        // A broken log must fail, so the check above is not vacuous.
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["level"] = Value::String("fatal".into());
        assert!(schemas.validate(&broken, index).is_err());
    }

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(uri("./policies/a b.zonal"), "policies/a%20b.zonal");
        assert_eq!(uri("policies\\x.zonal"), "policies/x.zonal");
    }

    #[test]
    fn levels_follow_the_severity_table() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(security_severity(Severity::High), Some("8.0"));
        assert_eq!(security_severity(Severity::Info), None);
    }
}
