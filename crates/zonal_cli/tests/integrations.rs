//! CI and editor integrations: the pre-commit hooks and CI files parse as
//! YAML and name real commands; `zonal init`, `zonal fmt -`, `zonal fmt
//! --check`'s diff, `zonal man` and `zonal completions`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use zonal_tests::{Run, repo_root as repo, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

fn yaml(rel: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

/// Every `zonal SUBCOMMAND` in `text` names a subcommand of the binary.
fn commands_exist(text: &str, what: &str) -> usize {
    let mut n = 0;
    for (i, _) in text.match_indices("zonal ") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "-_/.*".contains(c)) {
            continue;
        }
        let Some(sub) = text[i + 6..].split_whitespace().next() else {
            continue;
        };
        if !sub.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let r = zonal(&[sub, "--help"], &repo());
        assert_eq!(r.code, 0, "{what}: `zonal {sub}` is not a command");
        n += 1;
    }
    n
}

#[test]
fn ci_files_and_hooks_parse_and_name_real_commands() {
    let gh = yaml("docs/ci/github-actions.yml");
    let jobs = gh["jobs"].as_mapping().expect("jobs");
    assert!(jobs.contains_key("check") && jobs.contains_key("review"));
    let steps = |job: &str| -> Vec<serde_yaml::Value> {
        gh["jobs"][job]["steps"]
            .as_sequence()
            .expect("steps")
            .clone()
    };
    assert!(steps("check").iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
    }));
    assert!(steps("check").iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("zonal check --format sarif"))
    }));
    assert!(steps("review").iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("--format markdown") && r.contains("zonal diff"))
    }));
    let gl = yaml("docs/ci/gitlab-ci.yml");
    assert!(gl["zonal"]["script"].as_sequence().is_some());
    assert!(gl["zonal-review"]["rules"].as_sequence().is_some());
    let hooks = yaml(".pre-commit-hooks.yaml");
    let ids: Vec<&str> = hooks
        .as_sequence()
        .expect("a list of hooks")
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    assert_eq!(ids, ["zonal-fmt", "zonal-check"]);
    let mut n = 0;
    for f in [
        "docs/ci/github-actions.yml",
        "docs/ci/gitlab-ci.yml",
        ".pre-commit-hooks.yaml",
    ] {
        let text = std::fs::read_to_string(repo().join(f)).unwrap_or_else(|e| panic!("{e}"));
        n += commands_exist(&text, f);
    }
    assert!(n >= 10, "only {n} zonal commands found");
}

#[test]
fn init_scaffolds_a_directory_that_check_accepts_and_builds() {
    let dir = temp_dir("init");
    let site = dir.join("my-hospital");
    let r = zonal(&["init", "my-hospital"], &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["policy.zonal", "zonal.toml", "deploy.yaml"] {
        assert!(site.join(f).is_file(), "{f}");
    }
    let r = zonal(&["check", "my-hospital"], &dir);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "ok: no findings\n"),
        "{}",
        r.stderr
    );
    let r = zonal(&["fmt", "--check", "my-hospital"], &dir);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = zonal(
        &[
            "build",
            "my-hospital",
            "--deploy",
            "my-hospital/deploy.yaml",
            "-o",
            "out",
        ],
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    assert!(dir.join("out/core-router.nft").is_file());
    // Never overwrites.
    let before = std::fs::read_to_string(site.join("policy.zonal")).unwrap_or_default();
    std::fs::write(site.join("policy.zonal"), "# mine\n").unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["init", "my-hospital"], &dir);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(site.join("policy.zonal")).unwrap_or_default(),
        "# mine\n"
    );
    assert_ne!(before, "# mine\n");
}

fn with_stdin(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("stdin"))
        .write_all(input.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn fmt_reads_stdin_and_check_shows_the_diff() {
    let example =
        std::fs::read_to_string(repo().join("policies/examples/riverbend-radiology.zonal"))
            .unwrap_or_else(|e| panic!("{e}"));
    let untidy = example.replace(
        "allow guest-wifi -> internet : https, dns",
        "allow   guest-wifi  ->  internet :https,dns",
    );
    assert_ne!(untidy, example);
    let r = with_stdin(&["fmt", "-"], &untidy);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, example);
    let r = with_stdin(&["fmt", "--check", "-"], &untidy);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("-allow   guest-wifi  ->  internet :https,dns"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("+allow guest-wifi -> internet : https, dns"),
        "{}",
        r.stdout
    );
    let r = with_stdin(&["fmt", "--check", "-"], &example);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    let r = with_stdin(&["fmt", "-"], "zone {\n");
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    // A file: the diff under `would reformat`.
    let dir = temp_dir("fmt-diff");
    std::fs::write(dir.join("p.zonal"), &untidy).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["fmt", "--check", "p.zonal"], &dir);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("would reformat `p.zonal`:\n--- old/p.zonal\n+++ new/p.zonal\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn man_page_and_completions_cover_every_command() {
    let r = zonal(&["man"], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH zonal 1"),
        "{}",
        r.stdout
    );
    let r2 = zonal(&["completions", "bash"], &repo());
    assert_eq!(r2.code, 0);
    for cmd in [
        "check",
        "fmt",
        "diff",
        "report",
        "graph",
        "init",
        "man",
        "completions",
    ] {
        assert!(r.stdout.contains(cmd), "man: {cmd}");
        assert!(r2.stdout.contains(cmd), "completions: {cmd}");
    }
}
