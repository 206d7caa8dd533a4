//! Running the lints for `zonal check` (with `zonal.toml` and the baseline)
//! and rendering findings as SARIF 2.1.0.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
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

fn physical(db: &SourceDb, span: Span) -> Value {
    let s = db.line_col(span.file, span.range.start);
    let e = db.line_col(span.file, span.range.end);
    json!({
        "artifactLocation": { "uri": uri(db.name(span.file)), "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": s.line.max(1),
            "startColumn": s.col.max(1),
            "endLine": e.line.max(s.line).max(1),
            "endColumn": e.col.max(1),
        }
    })
}

/// Collects the results of every checked policy into one SARIF run.
#[derive(Default)]
pub(crate) struct Sarif {
    results: Vec<Value>,
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
            let mut text = d.message.clone();
            for n in &d.notes {
                text.push('\n');
                text.push_str(n);
            }
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| json!({ "id": i + 1, "physicalLocation": physical(db, l.span), "message": { "text": l.message } }))
                .collect();
            let hops: Vec<Value> = d
                .secondary
                .iter()
                .filter(|l| l.message.starts_with("hop "))
                .map(|l| json!({ "location": { "physicalLocation": physical(db, l.span), "message": { "text": l.message } } }))
                .collect();
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [ { "physicalLocation": physical(db, d.primary.span), "message": { "text": d.primary.message } } ],
                "partialFingerprints": { "primaryLocationLineHash": fp.clone(), "zonalFinding/v1": fp },
                "properties": { "severity": d.severity.as_str() },
            });
            if let Some(obj) = result.as_object_mut() {
                if !related.is_empty() {
                    obj.insert("relatedLocations".into(), Value::Array(related));
                }
                if hops.len() > 1 {
                    obj.insert(
                        "codeFlows".into(),
                        json!([ { "threadFlows": [ { "locations": hops } ] } ]),
                    );
                }
            }
            self.results.push(result);
        }
    }

    /// The SARIF log.
    pub(crate) fn finish(self) -> Value {
        let mut rules: Vec<Value> = zonal_lint::registry()
            .iter()
            .map(|l| {
                let mut props = json!({
                    "tags": ["security", l.category(), l.name],
                    "precision": "very-high",
                    "problem.severity": level(l.severity),
                });
                if let (Some(score), Some(obj)) =
                    (security_severity(l.severity), props.as_object_mut())
                {
                    obj.insert("security-severity".into(), Value::String(score.into()));
                }
                json!({
                    "id": l.code,
                    "name": l.name,
                    "shortDescription": { "text": l.summary },
                    "fullDescription": { "text": l.summary },
                    "help": { "text": l.summary, "markdown": l.doc },
                    "defaultConfiguration": { "level": level(l.severity) },
                    "properties": props,
                })
            })
            .collect();
        for (code, sev) in &self.extra_rules {
            rules.push(json!({
                "id": code,
                "name": code,
                "shortDescription": { "text": "the policy is invalid" },
                "help": { "text": format!("run `zonal explain {code}`") },
                "defaultConfiguration": { "level": level(*sev) },
                "properties": { "tags": ["correctness"], "precision": "very-high" },
            }));
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [ {
                "tool": { "driver": {
                    "name": "zonal",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                } },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "the directory zonal ran in" } } },
                "results": self.results,
            } ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SARIF of real findings (a multi-hop path included) is valid
    /// against the SARIF 2.1.0 schema in `<repo>/../shared/data/`.
    #[test]
    fn sarif_validates_against_the_schema() {
        let schema_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/sarif-schema-2.1.0.json"
        );
        let schema_text =
            std::fs::read_to_string(schema_path).unwrap_or_else(|e| panic!("{schema_path}: {e}"));
        let schema: Value = serde_json::from_str(&schema_text).unwrap();
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
