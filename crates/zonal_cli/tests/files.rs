//! Reading and writing files as root among files others can write
//! (docs/security.md): links, FIFOs, devices, directories named like
//! policies, includes outside the policy, invalid UTF-8, interrupted and
//! partial writes. Every case runs for real in a temporary directory.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use zonal_tests::{Run, repo_root, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const POLICY: &str = "policy p { owner \"n\" }\n\
zone a { network 10.0.1.0/24  trust medium  kind clinical }\n\
zone b { network 10.0.2.0/24  trust medium  kind servers }\n";

const RULE: &str = "allow a -> b : https \"web\"\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// A policy directory holding `p.zonal` and `rules.zonal`.
fn policy_dir(name: &str) -> std::path::PathBuf {
    let d = temp_dir(name);
    write(&d, "p.zonal", POLICY);
    write(&d, "rules.zonal", RULE);
    d
}

#[test]
fn a_dangling_link_named_like_a_policy_file_is_an_error_not_a_skip() {
    let d = policy_dir("dangling");
    symlink(d.join("gone.zonal.orig"), d.join("deny.zonal")).expect("symlink");
    let r = zonal(&["check", "."], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("error[E0101]"), "{}", r.stdout);
    assert!(r.stdout.contains("deny.zonal"), "{}", r.stdout);
    assert!(r.stdout.contains("does not exist"), "{}", r.stdout);
    assert!(!r.stdout.contains("<prelude>"), "{}", r.stdout);
}

#[test]
fn a_fifo_a_device_and_a_directory_named_like_policy_files_are_errors() {
    let d = policy_dir("special");
    let fifo = d.join("fifo.zonal");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    std::fs::create_dir(d.join("dir.zonal")).expect("mkdir");
    symlink("/dev/zero", d.join("zero.zonal")).expect("symlink");
    // A FIFO must not hang the run: it is refused before it is opened.
    let r = zonal(&["check", "--allow-include-outside", "."], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    for (file, what) in [
        ("fifo.zonal", "a FIFO"),
        ("dir.zonal", "a directory"),
        ("zero.zonal", "a device"),
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains(file) && l.contains(what)),
            "{file}: {what} not reported:\n{}",
            r.stdout
        );
    }
}

#[test]
fn hidden_files_are_ignored_and_links_outside_the_directory_refused() {
    let d = policy_dir("hidden");
    // A hidden file with a syntax error is not part of the policy.
    write(&d, ".scratch.zonal", "this is not zonal\n");
    let r = zonal(&["check", "."], &d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // A link to a policy file outside the directory is refused.
    let outside = temp_dir("hidden-outside");
    write(&outside, "extra.zonal", "deny a -> b\n");
    symlink(outside.join("extra.zonal"), d.join("extra.zonal")).expect("symlink");
    let r = zonal(&["check", "."], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("outside the policy's directory"),
        "{}",
        r.stdout
    );
}

#[test]
fn includes_stay_inside_the_policy_and_never_echo_other_files() {
    let d = temp_dir("include");
    let sub = d.join("policy");
    std::fs::create_dir_all(&sub).expect("mkdir");
    write(&d, "outside.zonal", RULE);
    write(
        &sub,
        "p.zonal",
        &format!("{POLICY}include \"/etc/passwd\"\ninclude \"../outside.zonal\"\n"),
    );
    let r = zonal(&["check", "policy"], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("is not a `.zonal` file"), "{}", r.stdout);
    assert!(!r.stdout.contains("root:"), "{}", r.stdout);
    assert!(
        r.stdout.contains("outside the policy's directory"),
        "{}",
        r.stdout
    );
    // Allowed explicitly, the include outside is read; /etc/passwd never.
    write(
        &sub,
        "p.zonal",
        &format!("{POLICY}include \"../outside.zonal\"\n"),
    );
    let r = zonal(&["check", "--allow-include-outside", "policy"], &d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn file_errors_point_at_the_file_never_at_the_prelude() {
    let d = temp_dir("file-errors");
    std::fs::write(d.join("bad.zonal"), b"policy p { owner \"\xff\xfe\" }\n").expect("write");
    let r = zonal(&["check", "bad.zonal"], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("--> bad.zonal:1:1"), "{}", r.stdout);
    assert!(
        r.stdout.contains("not valid UTF-8 (byte 18)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("prelude"), "{}", r.stdout);
    std::fs::create_dir(d.join("empty")).expect("mkdir");
    let r = zonal(&["check", "empty"], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("--> empty:1:1"), "{}", r.stdout);
    assert!(!r.stdout.contains("prelude"), "{}", r.stdout);
}

#[test]
fn an_output_that_is_a_link_is_refused_and_its_target_untouched() {
    let d = policy_dir("out-link");
    let out = d.join("out");
    std::fs::create_dir(&out).expect("mkdir");
    write(&d, "victim", "precious\n");
    symlink(d.join("victim"), out.join("p.nft")).expect("symlink");
    let r = zonal(
        &["build", ".", "--target", "nftables", "-o", "out/p.nft"],
        &d,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("victim")).expect("victim"),
        "precious\n"
    );
    assert!(
        std::fs::symlink_metadata(out.join("p.nft"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let left: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["p.nft"], "temporaries left behind");
}

#[test]
fn a_multi_file_build_is_all_or_nothing() {
    let d = policy_dir("all-or-nothing");
    let r = zonal(&["build", ".", "--target", "all", "-o", "out/"], &d);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let old_v4 = std::fs::read_to_string(d.join("out/p.iptables")).expect("v4");
    // The next version adds a rule, but one of its files cannot be written
    // (a directory stands where the IPv6 file goes).
    write(&d, "more.zonal", "allow b -> a : ssh \"admin\"\n");
    std::fs::remove_file(d.join("out/p.ip6tables")).expect("rm");
    std::fs::create_dir(d.join("out/p.ip6tables")).expect("mkdir");
    let r = zonal(&["build", ".", "--target", "all", "-o", "out/"], &d);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("out/p.iptables")).expect("v4"),
        old_v4,
        "a file was replaced although the build failed"
    );
    let temps: Vec<String> = std::fs::read_dir(d.join("out"))
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("zonal-tmp"))
        .collect();
    assert_eq!(temps, Vec::<String>::new());
}

#[test]
fn the_repository_examples_still_load_with_the_file_policy() {
    let r = zonal(
        &["check", "policies/examples/riverbend-radiology.zonal"],
        &repo_root(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// The policy named on the command line may itself be a link (a checkout
/// elsewhere): it is resolved, and its own directory is the root.
#[test]
fn a_policy_named_through_a_link_is_read_from_its_real_directory() {
    let d = policy_dir("named-link");
    let elsewhere = temp_dir("named-link-elsewhere");
    symlink(d.join("p.zonal"), elsewhere.join("policy.zonal")).expect("symlink");
    symlink(&d, elsewhere.join("policy-dir")).expect("symlink");
    let r = zonal(&["check", "policy.zonal"], &elsewhere);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = zonal(&["check", "policy-dir"], &elsewhere);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
