//! `zonal verify` as an admin runs it: the probe matrix and exit 0 on a
//! correct configuration, exit 1 and a mismatch report on a broken
//! template, exit 2 with an explanation without root. Needs root (CI runs
//! as root); it fails, never skips, when the proof cannot run.

use std::path::Path;
use std::process::Command;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

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

fn namespaces_of(pid: u32) -> Vec<String> {
    let prefix = format!("zv{pid}x");
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// SIGINT, SIGTERM and SIGHUP in the middle of a proof: the run deletes
/// its namespaces before it exits (status 130).
#[test]
fn an_interrupted_verify_leaves_no_namespace_behind() {
    // Early (the preflight's namespace) and late (the network built).
    for (signal, wanted) in [("INT", 1), ("TERM", 5), ("HUP", 10), ("INT", 15)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zonal"))
            .args(["verify", EXAMPLE, "--target", "nftables", "--quiet"])
            .current_dir(zonal_tests::repo_root())
            .env("ZONAL_TODAY", "2026-11-28")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run zonal: {e}"));
        let pid = child.id();
        let start = std::time::Instant::now();
        while namespaces_of(pid).len() < wanted {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "SIG{signal}: zonal verify made no namespace in 60 s"
            );
            if child.try_wait().ok().flatten().is_some() {
                panic!("SIG{signal}: zonal verify ended before it could be interrupted");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let sig = match signal {
            "INT" => Signal::SIGINT,
            "TERM" => Signal::SIGTERM,
            _ => Signal::SIGHUP,
        };
        let raw = i32::try_from(pid).unwrap_or_else(|e| panic!("pid {pid}: {e}"));
        kill(Pid::from_raw(raw), sig).unwrap_or_else(|e| panic!("SIG{signal}: {e}"));
        let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status:?}");
        assert_eq!(namespaces_of(pid), Vec::<String>::new(), "SIG{signal}");
    }
}

/// `zonal verify --cleanup` deletes the namespaces of a run that is gone
/// (killed with SIGKILL, which no handler sees) and says which.
#[test]
fn cleanup_deletes_namespaces_of_runs_that_are_gone() {
    // No process can have this pid: it is above the kernel's pid_max limit.
    let stale = "zv4194399x0";
    let made = Command::new("ip")
        .args(["netns", "add", stale])
        .status()
        .unwrap_or_else(|e| panic!("ip: {e}"));
    assert!(made.success(), "ip netns add failed (root needed)");
    let r = run(Command::new(env!("CARGO_BIN_EXE_zonal")).args(["verify", "--cleanup"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(stale), "{}", r.stderr);
    assert!(!Path::new("/run/netns").join(stale).exists());
    let r = run(Command::new(env!("CARGO_BIN_EXE_zonal")).args(["verify", "--cleanup"]));
    assert!(r.stderr.contains("no namespace"), "{}", r.stderr);
}
