//! `zonal query`, `zonal check --format sarif|json|short`, `--fail-on`,
//! `zonal.toml` and `--write-baseline`, as a user runs them.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo, run_snapshot as snapshot};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

/// "Can ct-1 reach pacs-1 on dicom?" — the verdict, the rule and its line.
#[test]
fn query_names_the_deciding_rule_and_its_line() {
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "ct-1",
            "--to",
            "pacs-1",
            "--service",
            "dicom",
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", snapshot(&r));
    assert!(
        r.stdout
            .contains("allow tcp 10.20.110.11 -> 10.20.120.10:104"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(repo().join(EXAMPLE)).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("allow modalities-all -> pacs-1 : dicom"))
        .map(|i| i + 1)
        .expect("the example archives images");
    let location = format!("{EXAMPLE}:{line}:1");
    assert!(r.stdout.contains(&location), "{location} in {}", r.stdout);
}

#[test]
fn query_reports_the_default_deny_and_paths() {
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "guest-wifi",
            "--to",
            "10.20.110.11",
            "--proto",
            "tcp",
            "--port",
            "3389",
            "--path",
        ],
        &repo(),
    );
    assert_eq!(r.code, 1, "{}", snapshot(&r));
    assert!(r.stdout.contains("by the default deny"), "{}", r.stdout);
    assert!(
        r.stdout.contains("no chain of permitted flows"),
        "{}",
        r.stdout
    );
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "dr-1",
            "--to",
            "pacs-1",
            "--service",
            "dicom",
            "--path",
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", snapshot(&r));
    assert!(r.stdout.contains("path (1 hop):"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("1. dr-1 -> pacs-1 : tcp 10.20.110.21 -> 10.20.120.10:104"),
        "{}",
        r.stdout
    );
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "ct1",
            "--to",
            "pacs-1",
            "--service",
            "dicom",
        ],
        &repo(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `ct-1`"), "{}", r.stderr);
}

#[test]
fn check_sarif_short_and_fail_on() {
    let flagged = "policies/lint/L0305-never-violated/flagged.zonal";
    let r = zonal(&["check", flagged, "--format", "sarif"], &repo());
    assert_eq!(r.code, 1, "critical findings fail at the default level");
    let log: serde_json::Value = serde_json::from_str(&r.stdout).expect("SARIF on stdout");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        results
            .iter()
            .any(|x| x["ruleId"] == "L0305" && x["codeFlows"].is_array())
    );
    let r = zonal(
        &[
            "check",
            flagged,
            "--format",
            "short",
            "--fail-on",
            "critical",
        ],
        &repo(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(flagged) && l.contains("critical[L0305]")),
        "{}",
        r.stdout
    );
    let clean = "policies/lint/L0101-unused-zone/flagged.zonal";
    let r = zonal(
        &["check", clean, "--format", "short", "--fail-on", "medium"],
        &repo(),
    );
    assert_eq!(r.code, 0, "only a low finding: {}", snapshot(&r));
    let r = zonal(
        &["check", clean, "--format", "short", "--fail-on", "low"],
        &repo(),
    );
    assert_eq!(r.code, 1);
}

/// `zonal.toml` beside the policy changes levels; `--write-baseline`
/// accepts the current findings so the next run reports none.
#[test]
fn project_config_and_baseline() {
    let dir = std::env::temp_dir().join(format!("zonal-lint-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let policy =
        std::fs::read_to_string(repo().join("policies/lint/L0101-unused-zone/flagged.zonal"))
            .unwrap();
    std::fs::write(dir.join("policy.zonal"), policy).unwrap();
    let r = zonal(&["check", "policy.zonal", "--format", "short"], &dir);
    assert!(r.stdout.contains("low[L0101]"), "{}", snapshot(&r));

    std::fs::write(
        dir.join("zonal.toml"),
        "[lints]\nunused-zone = \"critical\"\n",
    )
    .unwrap();
    let r = zonal(&["check", "policy.zonal", "--format", "short"], &dir);
    assert!(r.stdout.contains("critical[L0101]"), "{}", snapshot(&r));
    assert_eq!(r.code, 1);

    std::fs::write(dir.join("zonal.toml"), "[lints]\nunused-zones = \"off\"\n").unwrap();
    let r = zonal(&["check", "policy.zonal"], &dir);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `unused-zone`"),
        "{}",
        r.stderr
    );

    std::fs::write(
        dir.join("zonal.toml"),
        "[lints]\nunused-zone = \"high\"\n[baseline]\nfile = \"accepted.json\"\n",
    )
    .unwrap();
    let r = zonal(&["check", "policy.zonal", "--write-baseline"], &dir);
    assert_eq!(r.code, 0, "{}", snapshot(&r));
    assert!(
        r.stderr.contains("wrote 1 accepted finding(s)"),
        "{}",
        r.stderr
    );
    let baseline = std::fs::read_to_string(dir.join("accepted.json")).unwrap();
    assert!(baseline.contains("\"code\": \"L0101\""), "{baseline}");
    let r = zonal(&["check", "policy.zonal", "--format", "short"], &dir);
    assert_eq!(r.code, 0, "{}", snapshot(&r));
    assert!(!r.stdout.contains("L0101"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
