//! `zonal drift`: a hand-edited rule is named, with the packets it
//! changes, in a saved vendor configuration and in a real kernel. The
//! kernel test needs root and `nft` (CI runs as root); it fails, never
//! skips, when they are missing. Its network namespace is `z13drift-<pid>`.

use std::path::Path;
use std::process::Command;

use zonal_tests::{Run, repo_root as repo, temp_dir};

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";
const RULE: &str = "allow-mwl-consumers-to-mwl-1-dicom";

fn zonal(args: &[&str]) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, &repo())
}

fn build(target: &str, dir: &Path) -> String {
    let r = zonal(&["build", EXAMPLE, "--target", target]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = dir.join(format!("rendered.{target}"));
    std::fs::write(&path, &r.stdout).unwrap_or_else(|e| panic!("{e}"));
    r.stdout
}

#[test]
fn a_hand_edited_rule_in_a_saved_srx_configuration_is_named_with_its_packets() {
    let dir = temp_dir("drift-srx");
    let rendered = build("srx", &dir);
    let saved = dir.join("running.set");
    let s = saved.display().to_string();
    // As deployed: no drift.
    std::fs::write(&saved, &rendered).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["drift", EXAMPLE, "--target", "srx", "--ruleset", &s]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("no drift"), "{}", r.stdout);
    // A foreign line is listed, and drift only with --strict.
    let foreign = format!("{rendered}set system host-name rad-fw1\n");
    std::fs::write(&saved, &foreign).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["drift", EXAMPLE, "--target", "srx", "--ruleset", &s]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("  set system host-name rad-fw1"),
        "{}",
        r.stdout
    );
    let r = zonal(&[
        "drift",
        EXAMPLE,
        "--target",
        "srx",
        "--ruleset",
        &s,
        "--strict",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Someone widened the worklist rule to any application.
    let needle = format!("policy {RULE}-modalities-imaging-servers-4 match application ");
    let edited: String = foreign
        .lines()
        .map(|l| match l.find(&needle) {
            Some(i) => format!("{}{needle}any\n", &l[..i]),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(edited, foreign, "the rule is in the rendered configuration");
    std::fs::write(&saved, &edited).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["drift", EXAMPLE, "--target", "srx", "--ruleset", &s]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("changed  rule `{RULE}` in configuration")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("match application any"), "{}", r.stdout);
    // The packets: the worklist broker is now open to every port from the consumers.
    assert!(
        r.stdout.contains("packet-level consequences"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("mismatch: new ")
            && l.contains("-> 10.20.120.20:")
            && l.contains("policy says deny")
            && l.contains(&format!("policy {RULE}-"))),
        "{}",
        r.stdout
    );
    let r = zonal(&[
        "drift",
        EXAMPLE,
        "--target",
        "srx",
        "--ruleset",
        &s,
        "--report",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["drift"], true);
    assert_eq!(v["changes"][0]["rule"], RULE);
    assert!(v["consequences"]["packets"].as_u64().unwrap_or(0) > 0);
    // Errors: no saved file for a vendor target, an unknown target.
    assert_eq!(zonal(&["drift", EXAMPLE, "--target", "srx"]).code, 2);
    assert_eq!(zonal(&["drift", EXAMPLE, "--target", "nope"]).code, 2);
}

/// Deletes the test's namespace on every path.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

fn sh(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {args:?}: {e} (the kernel test needs root, ip and nft)")
        });
    if let Some(text) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{args:?} failed (the kernel test needs root, ip and nft): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario on one device: deploy, check, edit, check live and saved"
)]
fn a_rule_changed_by_hand_with_nft_is_named_with_the_packets_it_changes() {
    let dir = temp_dir("drift-nft");
    let rendered = build("nftables", &dir);
    let ns = Netns(format!("z13drift-{}", std::process::id()));
    sh(&["ip", "netns", "add", &ns.0], None);
    sh(
        &["ip", "netns", "exec", &ns.0, "nft", "-f", "/dev/stdin"],
        Some(&rendered),
    );
    sh(
        &[
            "ip",
            "netns",
            "exec",
            &ns.0,
            "nft",
            "add",
            "table",
            "ip",
            "z13foreign",
        ],
        None,
    );
    let live = |extra: &[&str]| {
        let mut args = vec![
            "netns",
            "exec",
            &ns.0,
            env!("CARGO_BIN_EXE_zonal"),
            "drift",
            EXAMPLE,
            "--target",
            "nftables",
        ];
        args.extend_from_slice(extra);
        zonal_tests::run_command(Command::new("ip").args(&args), &repo())
    };
    // As deployed: no drift; the foreign table is listed, and counts with --strict.
    let r = live(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("no drift"), "{}", r.stdout);
    assert!(r.stdout.contains("table ip z13foreign"), "{}", r.stdout);
    assert_eq!(live(&["--strict", "--no-probe"]).code, 1);
    // At 3 a.m. someone moves the worklist rule to another port.
    let chain = "zp_modalities_to_imaging_servers";
    let listing = sh(
        &[
            "ip",
            "netns",
            "exec",
            &ns.0,
            "nft",
            "-a",
            "list",
            "chain",
            "inet",
            "zonal_riverbend_radiology",
            chain,
        ],
        None,
    );
    let line = listing
        .lines()
        .find(|l| l.contains(RULE))
        .unwrap_or_else(|| panic!("{RULE} in {listing}"));
    let (rule, handle) = line
        .trim()
        .rsplit_once(" # handle ")
        .unwrap_or_else(|| panic!("{line}"));
    let rule = rule
        .replace("tcp dport 104", "tcp dport 11112")
        .replace(" packets 0 bytes 0", "");
    let cmd =
        format!("replace rule inet zonal_riverbend_radiology {chain} handle {handle} {rule}\n");
    sh(
        &["ip", "netns", "exec", &ns.0, "nft", "-f", "/dev/stdin"],
        Some(&cmd),
    );
    let r = live(&[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("changed  rule `{RULE}` in chain {chain}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("tcp dport 11112"), "{}", r.stdout);
    // The packets it changes, seen by the kernel proof of the device's table.
    assert!(
        r.stdout.contains("packet-level consequences"),
        "{}",
        r.stdout
    );
    let mismatches: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("mismatch: "))
        .collect();
    assert!(!mismatches.is_empty(), "{}", r.stdout);
    for m in &mismatches {
        assert!(
            m.contains("-> imaging-servers/mwl-1 (10.20.120.20) tcp/104"),
            "{m}\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains(&format!("expected: allow by rule `{RULE}`")),
        "{}",
        r.stdout
    );
    // The same from a saved `nft -j list ruleset` and a saved text listing.
    for args in [&["-j", "list", "ruleset"][..], &["list", "ruleset"][..]] {
        let mut all = vec!["ip", "netns", "exec", &ns.0, "nft"];
        all.extend_from_slice(args);
        let saved = dir.join("saved");
        std::fs::write(&saved, sh(&all, None)).unwrap_or_else(|e| panic!("{e}"));
        let r = zonal(&[
            "drift",
            EXAMPLE,
            "--target",
            "nftables",
            "--ruleset",
            &saved.display().to_string(),
            "--no-probe",
        ]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!("changed  rule `{RULE}`")),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("1 change(s)"), "{}", r.stdout);
    }
}
