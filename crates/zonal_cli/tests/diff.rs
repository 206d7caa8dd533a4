//! `zonal diff`: two files, a git revision, the three formats and
//! `--fail-on-new`.

use std::path::Path;
use std::process::Command;

use zonal_tests::{Run, repo_root as repo, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";
const ANCHOR: &str = "allow guest-wifi -> internet : https, dns \"guest internet\"\n";
const GUEST_TO_PRA: &str = "allow guest-wifi -> pra-1 : https \"guest access to the PRA portal\"\n";

fn example_text() -> String {
    std::fs::read_to_string(repo().join(EXAMPLE)).unwrap_or_else(|e| panic!("the example: {e}"))
}

/// The example with a guest rule that opens guest-wifi -> pra-1 -> a modality.
fn opened() -> String {
    let text = example_text();
    assert!(text.contains(ANCHOR));
    text.replace(ANCHOR, &format!("{ANCHOR}{GUEST_TO_PRA}"))
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=zonal-test",
            "-c",
            "user.email=test@example.org",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("`git` is needed by this test and cannot run: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_files_markdown_shows_the_new_path_and_fail_on_new_exits_1() {
    let dir = temp_dir("diff-files");
    std::fs::write(dir.join("old.zonal"), example_text()).expect("write");
    std::fs::write(dir.join("new.zonal"), opened()).expect("write");
    let r = zonal(
        &["diff", "old.zonal", "new.zonal", "--format", "markdown"],
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("**new path** `guest-wifi` ⇝ `modalities`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("1. `guest-wifi` → `pra-1`"),
        "{}",
        r.stdout
    );
    let r = zonal(
        &[
            "diff",
            "old.zonal",
            "new.zonal",
            "--fail-on-new",
            "critical",
        ],
        &dir,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("introduces 2 finding(s) at or above `critical`"),
        "{}",
        r.stderr
    );
    // The reverse change fixes them: nothing new.
    let r = zonal(
        &["diff", "new.zonal", "old.zonal", "--fail-on-new", "info"],
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("- fixed critical[L0305]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("- removed: guest-wifi ~> modalities"),
        "{}",
        r.stdout
    );
}

#[test]
fn json_is_one_object_and_human_is_plain_off_a_terminal() {
    let dir = temp_dir("diff-json");
    std::fs::write(dir.join("old.zonal"), example_text()).expect("write");
    std::fs::write(dir.join("new.zonal"), opened()).expect("write");
    let r = zonal(
        &["diff", "old.zonal", "new.zonal", "--format", "json"],
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("stdout is JSON");
    assert_eq!(v["semantic_change"], true);
    assert_eq!(v["paths"][0]["hops"][0]["to"], "pra-1");
    assert_eq!(v["rules"][0]["change"], "added");
    let r = zonal(&["diff", "old.zonal", "new.zonal"], &dir);
    assert!(!r.stdout.contains('\x1b'));
    let r = zonal(
        &["--color", "always", "diff", "old.zonal", "new.zonal"],
        &dir,
    );
    assert!(r.stdout.contains("\x1b[32m+"), "{}", r.stdout);
}

#[test]
fn against_a_git_revision_without_checkout() {
    let dir = temp_dir("diff-git");
    std::fs::create_dir_all(dir.join("policy")).expect("mkdir");
    let file = dir.join("policy/riverbend.zonal");
    std::fs::write(&file, example_text()).expect("write");
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "v1"]);
    // A reformat (zonal fmt of an untidy copy) is no semantic change.
    std::fs::write(
        &file,
        example_text().replace(ANCHOR, &format!("   {ANCHOR}")),
    )
    .expect("write");
    let r = zonal(&["fmt", "policy/riverbend.zonal"], &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = zonal(&["diff", "policy/riverbend.zonal", "--git", "HEAD"], &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("no semantic change"), "{}", r.stdout);
    // The change, from a subdirectory, and a directory policy.
    std::fs::write(&file, opened()).expect("write");
    let r = zonal(
        &[
            "diff",
            "riverbend.zonal",
            "--git",
            "HEAD",
            "--format",
            "markdown",
        ],
        &dir.join("policy"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("**new path** `guest-wifi` ⇝ `modalities`"),
        "{}",
        r.stdout
    );
    let r = zonal(&["diff", "policy", "--git", "HEAD"], &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("+ allow-guest-wifi-to-pra-1-https"),
        "{}",
        r.stdout
    );
    // The old side's file names say where they come from.
    git(&dir, &["commit", "-q", "-am", "v2"]);
    let r = zonal(&["diff", "policy", "--git", "HEAD~1"], &dir);
    assert!(
        r.stdout.contains("(policy/riverbend.zonal:357)"),
        "{}",
        r.stdout
    );
    let r = zonal(&["diff", "new.zonal", "old.zonal", "--git", "HEAD"], &dir);
    assert_eq!(r.code, 2);
    // Errors: an unknown revision, a path absent at the revision, an option as a revision.
    let r = zonal(&["diff", "policy", "--git", "no-such-branch"], &dir);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`no-such-branch` is not a commit"),
        "{}",
        r.stderr
    );
    std::fs::write(dir.join("policy/extra.zonal"), "").expect("write");
    let r = zonal(&["diff", "policy/extra.zonal", "--git", "HEAD"], &dir);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does not exist at `HEAD`"),
        "{}",
        r.stderr
    );
    let r = zonal(&["diff", "policy", "--git=--output=/tmp/x"], &dir);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a revision"), "{}", r.stderr);
}

#[test]
fn an_invalid_side_exits_2_with_its_errors() {
    let r = zonal(
        &["diff", EXAMPLE, "policies/invalid/unknown-zone.zonal"],
        &repo(),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("the new policy has errors"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("policies/invalid/unknown-zone.zonal:"),
        "{}",
        r.stderr
    );
    let r = zonal(&["diff", EXAMPLE], &repo());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("give two policies"), "{}", r.stderr);
    let r = zonal(
        &["diff", EXAMPLE, EXAMPLE, "--fail-on-new", "severe"],
        &repo(),
    );
    assert_eq!(r.code, 2);
}
