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

/// Runs `iptables ARGS` (or `ip6tables`, …) inside the namespace.
fn in_ns(ns: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut all = vec!["ip", "netns", "exec", ns];
    all.extend_from_slice(args);
    sh(&all, stdin)
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario on one device: deploy, check, edit, check live and saved"
)]
fn a_rule_changed_by_hand_with_iptables_is_named_with_the_packets_it_changes() {
    let dir = temp_dir("drift-ipt");
    let out = dir.join("out");
    let r = zonal(&[
        "build",
        EXAMPLE,
        "--target",
        "iptables",
        "-o",
        &format!("{}/", out.display()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ns = Netns(format!("z13b-ipt-{}", std::process::id()));
    sh(&["ip", "netns", "add", &ns.0], None);
    // Deployed as docs/targets/iptables.md says, on a host with foreign rules.
    let script = dir.join("deploy.sh");
    std::fs::write(&script, zonal_verify::IPTABLES_DEPLOY).unwrap_or_else(|e| panic!("{e}"));
    for (tool, ext) in [("iptables", "iptables"), ("ip6tables", "ip6tables")] {
        let file = out.join(format!("riverbend-radiology.{ext}"));
        in_ns(
            &ns.0,
            &[
                "sh",
                &script.display().to_string(),
                tool,
                &file.display().to_string(),
            ],
            None,
        );
    }
    in_ns(
        &ns.0,
        &[
            "iptables",
            "-A",
            "FORWARD",
            "-s",
            "192.0.2.99",
            "-j",
            "ACCEPT",
        ],
        None,
    );
    in_ns(
        &ns.0,
        &[
            "iptables",
            "-t",
            "nat",
            "-A",
            "POSTROUTING",
            "-j",
            "MASQUERADE",
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
            "iptables",
        ];
        args.extend_from_slice(extra);
        zonal_tests::run_command(Command::new("ip").args(&args), &repo())
    };
    // As deployed: no drift; the foreign rules are listed, and count with --strict.
    let r = live(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("no drift"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("  iptables: -A FORWARD -s 192.0.2.99/32 -j ACCEPT"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  iptables: table nat (1 rule(s))"),
        "{}",
        r.stdout
    );
    assert_eq!(live(&["--strict", "--no-probe"]).code, 1);
    // At 3 a.m. someone moves the first worklist rule to another port.
    let all = in_ns(&ns.0, &["iptables", "-S"], None);
    let line = all
        .lines()
        .find(|l| l.contains(RULE))
        .unwrap_or_else(|| panic!("{RULE} in {all}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let chain = words[1].to_string();
    let listing = in_ns(&ns.0, &["iptables", "-S", &chain], None);
    let position = listing
        .lines()
        .filter(|l| l.starts_with("-A "))
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line} in {listing}"))
        + 1;
    assert!(line.contains("--dport 104 "), "{line}");
    let edited = line.replacen("--dport 104 ", "--dport 11112 ", 1);
    let spec = shell_words(&edited);
    let mut args = vec![
        "iptables".to_string(),
        "-R".into(),
        chain.clone(),
        position.to_string(),
    ];
    args.extend(spec.into_iter().skip(2));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    in_ns(&ns.0, &args, None);
    let r = live(&[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(1 change(s))"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("changed  rule `{RULE}` in iptables chain {chain}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--dport 11112"), "{}", r.stdout);
    // The packets it changes, seen by the kernel proof of the device's chains.
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
    // The same from saved dumps: both families in one file, or two files.
    let v4 = in_ns(&ns.0, &["iptables-save"], None);
    let v6 = in_ns(&ns.0, &["ip6tables-save"], None);
    let both = dir.join("saved-both");
    let (f4, f6) = (dir.join("saved-v4"), dir.join("saved-v6"));
    std::fs::write(&both, format!("{v4}{v6}")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&f4, &v4).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&f6, &v6).unwrap_or_else(|e| panic!("{e}"));
    let (both, f4, f6) = (
        both.display().to_string(),
        f4.display().to_string(),
        f6.display().to_string(),
    );
    for files in [
        &["--ruleset", &both][..],
        &["--ruleset", &f4, "--ruleset6", &f6][..],
    ] {
        let mut args = vec!["drift", EXAMPLE, "--target", "iptables", "--no-probe"];
        args.extend_from_slice(files);
        let r = zonal(&args);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!("changed  rule `{RULE}`")),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("(1 change(s))"), "{}", r.stdout);
        assert!(!r.stdout.contains("note:"), "{}", r.stdout);
    }
    // Only the IPv4 dump: IPv6 is said to be not compared.
    let r = zonal(&[
        "drift",
        EXAMPLE,
        "--target",
        "iptables",
        "--no-probe",
        "--ruleset",
        &f4,
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("note: ip6tables: no"), "{}", r.stdout);
    // The jump from FORWARD deleted: nothing of Zonal's is enforced.
    in_ns(
        &ns.0,
        &["iptables", "-D", "FORWARD", "-j", "zonal_forward"],
        None,
    );
    let r = live(&["--no-probe", "--report", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        v["changes"].as_array().is_some_and(|c| c
            .iter()
            .any(|c| c["place"] == "iptables chain FORWARD"
                && c["kind"] == "removed"
                && c["expected"] == "-A FORWARD -j zonal_forward")),
        "{}",
        r.stdout
    );
}

/// Splits an `iptables -S` line into words, keeping a quoted comment as one.
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => word.extend(chars.next()),
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}
