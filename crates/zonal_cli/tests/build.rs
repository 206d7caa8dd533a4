//! `zonal build` as a user runs it: targets, output files, atomic writes,
//! refusing to render a policy with errors, bindings and template overrides.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

const TARGETS: [&str; 8] = [
    "nftables",
    "iptables",
    "pf",
    "ios",
    "asa",
    "srx",
    "panos",
    "fortigate",
];

#[test]
fn help_lists_every_target_by_name() {
    let r = zonal(&["build", "--help"], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    for t in TARGETS {
        assert!(
            r.stdout.contains(t),
            "`{t}` missing from `zonal build --help`:\n{}",
            r.stdout
        );
    }
}

#[test]
fn target_all_writes_one_file_per_target_and_family() {
    let out = temp_dir("all");
    let o = out.to_string_lossy().to_string();
    let r = zonal(&["build", EXAMPLE, "--target", "all", "-o", &o], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        files_in(&out),
        [
            "riverbend-radiology.asa.txt",
            "riverbend-radiology.fortigate.conf",
            "riverbend-radiology.ios.txt",
            "riverbend-radiology.ip6tables",
            "riverbend-radiology.iptables",
            "riverbend-radiology.nft",
            "riverbend-radiology.panos.set",
            "riverbend-radiology.pf.conf",
            "riverbend-radiology.srx.set",
        ]
    );
    assert!(r.stderr.contains("rules)"), "{}", r.stderr);
    // The same build twice writes the same bytes.
    let first = std::fs::read(out.join("riverbend-radiology.nft")).unwrap();
    let r = zonal(&["build", EXAMPLE, "--target", "all", "-o", &o], &repo());
    assert_eq!(r.code, 0);
    assert_eq!(
        std::fs::read(out.join("riverbend-radiology.nft")).unwrap(),
        first
    );
    // No temporary file is left behind.
    assert!(files_in(&out).iter().all(|f| !f.contains("zonal-tmp")));
}

#[test]
fn a_comma_list_of_targets_writes_those_targets_only() {
    let out = temp_dir("some");
    let o = out.to_string_lossy().to_string();
    // Any order, repeated names once: files in the target table's order.
    let r = zonal(
        &[
            "build",
            EXAMPLE,
            "--target",
            "iptables,nftables,iptables",
            "-o",
            &o,
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        files_in(&out),
        [
            "riverbend-radiology.ip6tables",
            "riverbend-radiology.iptables",
            "riverbend-radiology.nft",
        ]
    );
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("wrote "))
        .collect();
    assert_eq!(lines.len(), 3, "{}", r.stderr);
    assert!(lines[0].contains(".nft"), "{}", r.stderr);
    // `all` stands alone; an unknown name is refused before anything runs.
    let r = zonal(&["build", EXAMPLE, "--target", "all,pf", "-o", &o], &repo());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("give it alone"), "{}", r.stderr);
    let r = zonal(
        &["build", EXAMPLE, "--target", "nftables,junos", "-o", &o],
        &repo(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("junos"), "{}", r.stderr);
}

#[test]
fn single_target_goes_to_stdout_or_to_a_file() {
    let r = zonal(&["build", EXAMPLE, "--target", "nftables"], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("#!/usr/sbin/nft -f\n"), "{}", r.stdout);
    let out = temp_dir("single");
    let file = out.join("fw.nft");
    let r = zonal(
        &[
            "build",
            EXAMPLE,
            "--target",
            "nftables",
            "-o",
            &file.to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        zonal(&["build", EXAMPLE, "--target", "nftables"], &repo()).stdout
    );
}

/// iptables renders an IPv4 and an IPv6 file: concatenated on stdout they
/// would load as one broken ruleset, and `-o FILE` must not silently become
/// a directory.
#[test]
fn two_files_are_never_printed_as_one_or_written_to_a_file_name() {
    let r = zonal(&["build", EXAMPLE, "--target", "iptables"], &repo());
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("-o DIR"), "{}", r.stderr);
    let out = temp_dir("two-files");
    let file = out.join("fw.rules");
    let r = zonal(
        &[
            "build",
            EXAMPLE,
            "--target",
            "iptables",
            "-o",
            &file.to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("names one file"), "{}", r.stderr);
    assert!(!file.exists(), "-o FILE became {}", file.display());
    let dir = out.join("fw/");
    let r = zonal(
        &[
            "build",
            EXAMPLE,
            "--target",
            "iptables",
            "-o",
            &dir.to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        files_in(&dir),
        [
            "riverbend-radiology.ip6tables",
            "riverbend-radiology.iptables"
        ]
    );
}

#[test]
fn several_files_need_an_output_directory() {
    let r = zonal(&["build", EXAMPLE, "--target", "all"], &repo());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("-o DIR"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn a_policy_with_errors_is_not_rendered_and_nothing_is_written() {
    let dir = temp_dir("broken");
    let policy = dir.join("broken.zonal");
    std::fs::write(
        &policy,
        "policy broken {}\nzone a { network 10.0.0.0/24 }\nallow a -> nowhere : https\n",
    )
    .unwrap();
    let out = dir.join("out");
    let r = zonal(
        &[
            "build",
            "broken.zonal",
            "--target",
            "all",
            "-o",
            &out.to_string_lossy(),
        ],
        &dir,
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        files_in(&out).is_empty(),
        "files were written: {:?}",
        files_in(&out)
    );
}

#[test]
fn a_failing_template_leaves_no_partial_output() {
    let dir = temp_dir("template");
    let tpl = dir.join("tpl/pf");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("main.pf.j2"), "ok\n{{ no_such_variable }}\n").unwrap();
    let out = dir.join("out");
    let example = repo().join(EXAMPLE);
    let r = zonal(
        &[
            "build",
            &example.to_string_lossy(),
            "--target",
            "all",
            "-o",
            &out.to_string_lossy(),
            "--templates",
            "tpl",
        ],
        &dir,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("E0310"), "{}", r.stderr);
    assert!(r.stderr.contains("tpl/pf/main.pf.j2:2:"), "{}", r.stderr);
    // Every other target rendered, but nothing was written.
    assert!(
        files_in(&out).is_empty(),
        "files were written: {:?}",
        files_in(&out)
    );
}

#[test]
fn a_binding_writes_one_file_per_firewall() {
    let out = temp_dir("deploy");
    let r = zonal(
        &[
            "build",
            EXAMPLE,
            "--deploy",
            "policies/deploy/riverbend.yaml",
            "-o",
            &out.to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files_in(&out), ["core-router.nft", "radiology-acl.ios.txt"]);
    let nft = std::fs::read_to_string(out.join("core-router.nft")).unwrap();
    assert!(nft.contains("\"vlan110\" . \"vlan120\""), "{nft}");
}

#[test]
fn a_bad_binding_is_an_error_with_a_position() {
    let dir = temp_dir("badbinding");
    std::fs::write(
        dir.join("b.yaml"),
        "firewalls:\n  - name: fw\n    target: nftable\n",
    )
    .unwrap();
    let example = repo().join(EXAMPLE);
    let r = zonal(
        &[
            "build",
            &example.to_string_lossy(),
            "--deploy",
            "b.yaml",
            "-o",
            "out",
        ],
        &dir,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("E0302"), "{}", r.stderr);
    assert!(r.stderr.contains("b.yaml:3:13"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `nftables`?"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("out").exists());
}

#[test]
fn error_level_findings_refuse_to_render_with_exit_1() {
    let out = temp_dir("critical");
    let r = zonal(
        &[
            "build",
            "policies/lint/L0305-never-violated/flagged.zonal",
            "--target",
            "nftables",
            "-o",
            &out.join("fw.nft").to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("L0305"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(files_in(&out).is_empty());
}
