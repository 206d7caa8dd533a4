//! `zonal replay` as a user runs it: formats, exit codes, bad records, the
//! change-board note.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo, run_snapshot as snapshot, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";
const SAMPLE: &str = "policies/examples/traffic/riverbend.conn.log";

/// The example without one rule, in a temporary directory.
fn broken_example(dir: &Path, line_start: &str) -> String {
    let text = std::fs::read_to_string(repo().join(EXAMPLE)).unwrap_or_else(|e| panic!("{e}"));
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(line_start))
        .collect();
    assert_eq!(kept.len() + 1, text.lines().count(), "{line_start}");
    let path = dir.join("policy.zonal");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    path.display().to_string()
}

#[test]
fn replay_of_the_sample_lists_the_noise_and_fails_on_denied_only_when_asked() {
    let r = zonal(&["replay", EXAMPLE, "--flows", SAMPLE], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("would be DENIED"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("LOOKS LIKE A THREAT: guest network to an internal system")
    );
    let r = zonal(
        &["replay", EXAMPLE, "--flows", SAMPLE, "--fail-on-denied"],
        &repo(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("would be denied (--fail-on-denied)"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_change_board_note_names_the_broken_workflow() {
    let dir = temp_dir("replay-note");
    let policy = broken_example(&dir, "allow ris-1 -> hie-1 : hl7-res");
    let flows = dir.join("flows.csv");
    let sample = std::fs::read_to_string(repo().join(SAMPLE)).unwrap();
    // The clean part of the sample, as CSV: every record of the workflows.
    let mut csv = String::from("src,dst,proto,dport,count,first_seen,last_seen\n");
    for l in sample.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split('\t').collect();
        let ts = f[0].split('.').next().unwrap();
        let port = if f[6] == "icmp" { f[3] } else { f[5] };
        csv.push_str(&format!("{},{},{},{port},1,{ts},{ts}\n", f[2], f[4], f[6]));
    }
    std::fs::write(&flows, csv).unwrap();
    let r = zonal(
        &[
            "replay",
            &policy,
            "--flows",
            &flows.display().to_string(),
            "--report",
            "markdown",
            "--fail-on-denied",
        ],
        &dir,
    );
    assert_eq!(r.code, 1);
    let out = r.stdout.replace(&dir.display().to_string(), "TMP");
    assert!(
        out.contains("allow ris-1 -> hie-1 : hl7-res \"observed"),
        "{out}"
    );
    let start = out.find("## Would be blocked").unwrap();
    let end = out.find("## Allowed, by rule").unwrap();
    insta::assert_snapshot!("replay_change_board_note", &out[..end.max(start)]);
}

#[test]
fn bad_records_are_counted_with_line_numbers_and_the_run_continues() {
    let dir = temp_dir("replay-bad");
    let flows = dir.join("flows.csv");
    std::fs::write(
        &flows,
        b"src,dst,proto,dport\n10.20.110.11,10.20.120.10,tcp,104\n10.20.110.11,10.20.120.999,tcp,104\n\xff\xfe,1,2,3\n10.20.110.11,10.20.120.10,tcp,104\n",
    )
    .unwrap();
    let r = zonal(
        &["replay", EXAMPLE, "--flows", &flows.display().to_string()],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.stdout.replace(&dir.display().to_string(), "TMP");
    assert!(out.contains("allowed 2 connection(s)"), "{out}");
    assert!(
        out.contains("TMP/flows.csv:3: dst `10.20.120.999` is not an IP address"),
        "{out}"
    );
    assert!(out.contains("TMP/flows.csv:4: not UTF-8 text"), "{out}");
    // JSON carries them too, and says so on stderr.
    let r = zonal(
        &[
            "replay",
            EXAMPLE,
            "--flows",
            &flows.display().to_string(),
            "--report",
            "json",
        ],
        &repo(),
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["bad"], 2);
    assert_eq!(v["bad_examples"][0]["line"], 3);
    assert!(r.stderr.contains("2 unreadable record(s)"), "{}", r.stderr);
}

#[test]
fn unreadable_inputs_are_errors() {
    let dir = temp_dir("replay-errors");
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "hello world\n").unwrap();
    let j = junk.display().to_string();
    let r = zonal(&["replay", EXAMPLE, "--flows", &j], &repo());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot tell the format") && r.stderr.contains("--format"),
        "{}",
        r.stderr
    );
    let r = zonal(
        &["replay", EXAMPLE, "--flows", &j, "--format", "csv"],
        &repo(),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no flow record could be read"),
        "{}",
        r.stderr
    );
    let r = zonal(&["replay", EXAMPLE, "--flows", "no-such-file.log"], &repo());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read `no-such-file.log`"),
        "{}",
        r.stderr
    );
    let r = zonal(&["replay", EXAMPLE], &repo());
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("replay_without_flows", snapshot(&r));
}

#[test]
fn learn_drafts_a_policy_that_checks_and_replays_clean() {
    let dir = temp_dir("learn");
    // With the example as the inventory: the workflows are drafted, the
    // noise is flagged and left out.
    let draft = dir.join("draft.zonal").display().to_string();
    let r = zonal(
        &[
            "learn",
            "--flows",
            SAMPLE,
            "--inventory",
            EXAMPLE,
            "-o",
            &draft,
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("suspected threat(s) left out"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&draft).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.contains("# guest network to an internal system: allow guest-wifi -> drp-1 : vnc"),
        "{text}"
    );
    let r = zonal(&["fmt", "--check", &draft], &repo());
    assert_eq!(
        r.code, 0,
        "the draft is in the canonical layout: {}{}",
        r.stdout, r.stderr
    );
    let r = zonal(&["check", &draft, "--format", "short"], &repo());
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let r = zonal(
        &["replay", &draft, "--flows", SAMPLE, "--report", "json"],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let denied = v["denied_aggregates"]
        .as_array()
        .unwrap_or_else(|| panic!("array"));
    assert!(!denied.is_empty());
    for d in denied {
        assert!(
            d["threat"].is_string(),
            "only the flagged threats are denied: {d}"
        );
    }
    // Without an inventory: zones from subnets, a device per address;
    // the same traffic replays with nothing denied.
    let bare = dir.join("bare.zonal").display().to_string();
    let r = zonal(
        &["learn", "--flows", SAMPLE, "--name", "site-a", "-o", &bare],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = zonal(&["check", &bare, "--format", "short"], &repo());
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let r = zonal(
        &["replay", &bare, "--flows", SAMPLE, "--fail-on-denied"],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("no observed connection would be denied"),
        "{}",
        r.stdout
    );
    let r = zonal(&["learn", "--flows", SAMPLE, "--name", "any"], &repo());
    assert_eq!(r.code, 2);
}

#[test]
fn the_threats_learn_leaves_out_are_what_check_reports_once_allowed() {
    let dir = temp_dir("learn-threats");
    let draft = dir.join("draft.zonal");
    let d = draft.display().to_string();
    let r = zonal(
        &["learn", "--flows", SAMPLE, "--inventory", EXAMPLE, "-o", &d],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&draft).unwrap_or_else(|e| panic!("{e}"));
    // Each flagged flow is a comment `# WHY: allow … "…" (PACKET)`; a
    // reviewer who uncomments them gets exactly the findings of check.
    let mut uncommented = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        let rule = l
            .strip_prefix("# ")
            .and_then(|r| r.split_once(": allow "))
            .and_then(|(_, rest)| rest.rsplit_once(" ("))
            .map(|(rule, _)| format!("allow {rule}"));
        match rule {
            Some(rule) => {
                lines.push(rule);
                uncommented.push(lines.len());
            }
            None => lines.push(l.to_string()),
        }
    }
    assert_eq!(uncommented.len(), 10, "{text}");
    let allowed = dir.join("allowed.zonal");
    std::fs::write(&allowed, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let a = allowed.display().to_string();
    let r = zonal(&["check", &a, "--format", "short"], &repo());
    assert_ne!(r.code, 2, "{}{}", r.stdout, r.stderr);
    for n in &uncommented {
        let at = format!("{a}:{n}:1: ");
        let found: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with(&at)).collect();
        assert!(
            found.iter().any(|f| f.contains("critical[L0304]")
                || f.contains("high[L0302]")
                || f.contains("[L0301]")),
            "line {n} ({}) is reported by check: {found:?}\n{}",
            lines[n - 1],
            r.stdout
        );
    }
    // And the inventory's invariants say it too.
    for never in [
        "`never guest-wifi ~> modalities`",
        "`never modalities -> internet`",
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains("[L0305]") && l.contains(never)),
            "{never}\n{}",
            r.stdout
        );
    }
}
