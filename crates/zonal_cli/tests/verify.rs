//! `zonal verify` as an admin runs it: the probe matrix and exit 0 on a
//! correct configuration, exit 1 and a mismatch report on a broken
//! template, exit 2 with an explanation without root. Needs root (CI runs
//! as root); it fails, never skips, when the proof cannot run.

use std::process::Command;

use zonal_tests::{Run, repo_root as repo};

fn run(cmd: &mut Command) -> Run {
    zonal_tests::run_command(cmd, &repo())
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

#[test]
fn a_correct_configuration_prints_the_matrix_and_exits_0() {
    let r =
        run(Command::new(env!("CARGO_BIN_EXE_zonal"))
            .args(["verify", EXAMPLE, "--target", "nftables"]));
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("zonal verify: policy `riverbend-radiology`"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("FROM "), "{}", r.stdout);
    assert!(r.stdout.contains("EXPECTED  OBSERVED"), "{}", r.stdout);
    let summary = r
        .stdout
        .lines()
        .find(|l| l.starts_with("nftables: "))
        .expect("a summary line");
    assert!(summary.contains(" 0 mismatched"), "{summary}");
    assert!(!r.stdout.contains("MISMATCH"), "{}", r.stdout);
}

#[test]
fn a_broken_template_exits_1_and_names_the_rule() {
    // A template override in which one rule's port is changed.
    let dir = std::env::temp_dir().join(format!("zonal-verify-cli-{}", std::process::id()));
    let sub = dir.join("iptables");
    std::fs::create_dir_all(&sub).unwrap();
    let name = "main.iptables.j2";
    let text = std::fs::read_to_string(repo().join("templates/iptables").join(name)).unwrap();
    let from = "{{ r.matches }}";
    assert_eq!(text.matches(from).count(), 1);
    let to = "{% if r.comment and \"allow-hie-1-to-ris-1-hl7:\" in r.comment %}{{ r.matches|replace(\"2575\", \"2577\") }}{% else %}{{ r.matches }}{% endif %}";
    std::fs::write(sub.join(name), text.replace(from, to)).unwrap();
    let r = run(Command::new(env!("CARGO_BIN_EXE_zonal")).args([
        "verify",
        EXAMPLE,
        "--target",
        "iptables",
        "--quiet",
        "--templates",
        &dir.to_string_lossy(),
    ]));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("FROM "),
        "--quiet prints no matrix:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("mismatch: hospital-core/hie-1 (10.20.200.11) -> hospital-core/ris-1 (10.20.200.10) tcp/2575"), "{}", r.stdout);
    assert!(
        r.stdout.contains("expected: allow by rule `allow-hie-1-to-ris-1-hl7` at policies/examples/riverbend-radiology.zonal:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("observed: deny"), "{}", r.stdout);
}

#[test]
fn without_root_it_explains_and_exits_2() {
    // Drop to `nobody` for this one run.
    let r = run(Command::new("setpriv").args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        env!("CARGO_BIN_EXE_zonal"),
        "verify",
        EXAMPLE,
        "--target",
        "nftables",
    ]));
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("the kernel proof cannot run here"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("must run as root"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn a_target_without_a_kernel_is_a_usage_error() {
    let r =
        run(Command::new(env!("CARGO_BIN_EXE_zonal")).args(["verify", EXAMPLE, "--target", "pf"]));
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("nftables") && r.stderr.contains("iptables"),
        "{}",
        r.stderr
    );
}
