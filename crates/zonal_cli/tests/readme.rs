//! Every shell block of the README runs as a newcomer would run it, on a
//! fresh copy of the repository's tracked files, and changes none of them.
//!
//! `zonal` is the binary Cargo built for this test; `cargo run --release --`
//! is the same binary. The cargo commands that build and test the project
//! itself (`cargo test`, `cargo fmt`, `cargo clippy`, `INSTA_UPDATE=…`) are
//! what `.ci/run` runs; running them here would run this test inside
//! itself, so the test checks instead that `.ci/run` runs the README's test
//! command. A trailing `# exits N` states a command's expected exit code
//! (0 otherwise). `zonal verify` needs root, as the README says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use zonal_tests::{repo_root, temp_dir};

/// The shell blocks of a Markdown text, in order.
fn shell_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh" | "```bash" | "```shell") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "the README has an unclosed code block");
    blocks
}

/// The tracked files of the repository.
fn tracked_files() -> Vec<PathBuf> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("git must be installed to list the tracked files: {e}"));
    assert!(out.status.success(), "git ls-files failed");
    out.stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect()
}

fn snapshot(root: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    files
        .iter()
        .map(|f| (f.clone(), std::fs::read(root.join(f)).ok()))
        .collect()
}

/// The expected exit code of a command line (`# exits N`).
fn expected_exit(line: &str) -> i32 {
    line.split_once("# exits ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn every_readme_command_runs_cleanly_on_a_fresh_copy() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).expect(".ci/run");
    let blocks = shell_blocks(&readme);
    assert!(blocks.len() >= 5, "the README lost its examples");

    // A clone-like copy: the tracked files only.
    let copy = temp_dir("readme");
    let files = tracked_files();
    for f in &files {
        let to = copy.join(f);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).expect("create a directory of the copy");
        }
        // A tracked file deleted in the work tree is not copied.
        if std::fs::metadata(repo_root().join(f)).is_ok() {
            std::fs::copy(repo_root().join(f), &to).expect("copy a tracked file");
        }
    }
    let before = snapshot(&copy, &files);

    let bin = PathBuf::from(env!("CARGO_BIN_EXE_zonal"));
    let bin_dir = bin.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut ran = 0;
    let mut test_command_found = false;
    for block in &blocks {
        for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if line.starts_with('#') {
                continue;
            }
            let command = line.replace("cargo run --release --", "zonal");
            if command.starts_with("cargo ") || command.starts_with("INSTA_UPDATE=") {
                if command.starts_with("cargo test --workspace") {
                    test_command_found = true;
                    assert!(
                        ci.lines()
                            .any(|l| l.trim_start().starts_with("cargo test --workspace")),
                        "`.ci/run` must run the README's test command `{command}`"
                    );
                }
                continue;
            }
            assert!(
                command.starts_with("zonal "),
                "the README runs something other than zonal or cargo: `{command}`"
            );
            let out = Command::new("sh")
                .args(["-c", &command])
                .current_dir(&copy)
                .env("PATH", &path)
                .env("ZONAL_TODAY", "2026-11-28")
                .output()
                .expect("run sh");
            let code = out.status.code().unwrap_or(-1);
            assert_eq!(
                code,
                expected_exit(line),
                "README command `{line}` exited {code}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(
        test_command_found,
        "the README has no `cargo test --workspace` block"
    );
    assert!(ran >= 8, "only {ran} README commands ran");

    let after = snapshot(&copy, &files);
    let changed: Vec<String> = before
        .iter()
        .filter(|(f, bytes)| after.get(*f) != Some(bytes))
        .map(|(f, _)| f.display().to_string())
        .collect();
    assert!(
        changed.is_empty(),
        "README commands changed tracked files: {changed:?}"
    );
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn shell_blocks_and_exit_annotations_are_read() {
    let md = "text\n```sh\na\n\nb # exits 1\n```\n```\nnot shell\n```\n```bash\nc\n```\n";
    assert_eq!(shell_blocks(md), vec!["a\n\nb # exits 1\n", "c\n"]);
    assert_eq!(expected_exit("zonal query x  # exits 1: no chain"), 1);
    assert_eq!(expected_exit("zonal check x"), 0);
}
