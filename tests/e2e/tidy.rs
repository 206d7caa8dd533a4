//! Repository invariants that are cheap to check.

use std::collections::BTreeSet;
use std::path::Path;

use zonal_tests::repo_root;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Error codes written as string literals in the sources.
fn codes_in_sources() -> BTreeSet<String> {
    let mut files = Vec::new();
    walk(&repo_root().join("crates"), &mut files);
    let mut codes = BTreeSet::new();
    for f in files.iter().filter(|f| {
        f.extension().is_some_and(|x| x == "rs") && f.to_string_lossy().contains("/src/")
    }) {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let bytes = text.as_bytes();
        for i in 0..bytes.len().saturating_sub(6) {
            if bytes[i] == b'"'
                && matches!(bytes[i + 1], b'E' | b'W')
                && bytes[i + 2..i + 6].iter().all(u8::is_ascii_digit)
                && bytes[i + 6] == b'"'
            {
                codes.insert(text[i + 1..i + 6].to_string());
            }
        }
    }
    codes
}

#[test]
fn every_error_code_has_a_doc_page() {
    let docs = repo_root().join("docs/diagnostics");
    let codes = codes_in_sources();
    assert!(codes.len() >= 20, "found only {codes:?}");
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !docs.join(format!("{c}.md")).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "error codes without docs/diagnostics/<CODE>.md: {missing:?}"
    );
}

#[test]
fn no_pending_snapshots_are_committed() {
    let mut files = Vec::new();
    walk(&repo_root(), &mut files);
    let pending: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .filter(|p| p.ends_with(".snap.new") || p.ends_with(".pending-snap"))
        .collect();
    assert!(
        pending.is_empty(),
        "review or delete these pending snapshots: {pending:?}"
    );
}

#[test]
fn diagnostics_snapshots_match_fixtures() {
    let dir = repo_root().join("tests/snapshots/diagnostics");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        panic!("missing {}", dir.display());
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(fixture) = name
            .strip_prefix("invalid@")
            .and_then(|n| n.strip_suffix(".snap"))
        else {
            panic!("unexpected snapshot {name}");
        };
        // A fixture is a file, or a directory loaded as one policy.
        let path = repo_root().join("policies/invalid").join(fixture);
        assert!(
            path.is_file() || path.is_dir(),
            "orphaned snapshot {name}: no policies/invalid/{fixture}"
        );
    }
}

#[test]
fn snapshots_hold_no_absolute_paths_or_colours() {
    let mut files = Vec::new();
    walk(&repo_root().join("tests/snapshots"), &mut files);
    let root = repo_root().to_string_lossy().to_string();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !text.contains(&root),
            "{} contains the absolute repository path",
            f.display()
        );
        assert!(
            !text.contains('\u{1b}'),
            "{} contains an ANSI escape",
            f.display()
        );
    }
}

/// The library source of a crate, without its test code: files under
/// `tests/`, files named `tests.rs`, and everything from a file's first
/// `#[cfg(test)]` on (test modules close the file, as rustfmt leaves them).
fn library_source(crate_dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    walk(&crate_dir.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|x| x == "rs"))
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lib = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            (f, lib)
        })
        .collect()
}

/// Only the CLI touches the filesystem, runs programs and opens sockets;
/// `zonal_verify` runs `ip`, `nft` and `iptables-restore` and probes with
/// real sockets because that is its purpose.
#[test]
fn only_the_cli_and_the_kernel_proof_do_io() {
    let mut offenders = Vec::new();
    let Ok(rd) = std::fs::read_dir(repo_root().join("crates")) else {
        panic!("no crates/");
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name == "zonal_cli" || name == "zonal_verify" {
            continue;
        }
        for (f, text) in library_source(&e.path()) {
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let io = [
                    "std::fs",
                    "std::process",
                    "TcpStream",
                    "TcpListener",
                    "UdpSocket",
                    "std::env::current_dir",
                ]
                .iter()
                .any(|p| code.contains(p))
                    || (code.contains("use std::{")
                        && (code.contains(" fs")
                            || code.contains("{fs")
                            || code.contains("process")));
                if io {
                    offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "filesystem or process access outside zonal_cli and zonal_verify:\n{}",
        offenders.join("\n")
    );
}

/// The dependency names of one section of a `Cargo.toml`.
fn dependencies(manifest: &str, section: &str) -> Vec<String> {
    let header = format!("[{section}]");
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .split(['=', '.', ' '])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Every dependency a crate declares is used by its code (a crate's name
/// appears as a path in the sources that section serves).
#[test]
fn no_crate_declares_an_unused_dependency() {
    let mut crates: Vec<std::path::PathBuf> = std::fs::read_dir(repo_root().join("crates"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    crates.push(repo_root().join("tests"));
    crates.push(repo_root().join("benches"));
    crates.sort();
    let mut unused = Vec::new();
    for dir in crates {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let mut files = Vec::new();
        walk(&dir, &mut files);
        let rust: String = files
            .iter()
            .filter(|f| f.extension().is_some_and(|x| x == "rs"))
            .filter(|f| !f.components().any(|c| c.as_os_str() == "fuzz"))
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            for dep in dependencies(&manifest, section) {
                let path = dep.replace('-', "_");
                let used = rust.match_indices(&path).any(|(i, _)| {
                    let before = rust[..i].chars().next_back();
                    let after = rust[i + path.len()..].chars().next();
                    let ident =
                        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !ident(before) && !ident(after)
                });
                if !used {
                    unused.push(format!("{}: [{section}] {dep}", dir.display()));
                }
            }
        }
    }
    assert!(
        unused.is_empty(),
        "unused dependencies:\n{}",
        unused.join("\n")
    );
}

#[test]
fn dependency_sections_are_read() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\na.workspace = true\nb-c = \"1\"\n# no\n[dev-dependencies]\nd = { path = \"../d\" }\n";
    assert_eq!(dependencies(manifest, "dependencies"), ["a", "b-c"]);
    assert_eq!(dependencies(manifest, "dev-dependencies"), ["d"]);
}

/// The redeploy pairs every target's simulation uses are real edits that
/// load, and they cover each kind of edit.
#[test]
fn redeploy_pairs_are_real_edits() {
    let pairs = zonal_tests::redeploy_pairs(12);
    assert!(pairs.len() >= 20, "only {} pairs", pairs.len());
    for kind in ["added", "removed", "widened", "narrowed", "renamed"] {
        assert!(
            pairs.iter().any(|p| p.label.contains(kind)),
            "no pair with an edit `{kind}`"
        );
    }
    assert!(pairs.iter().all(|p| p.v1 != p.v2));
    assert_eq!(
        zonal_tests::rename_word("allow a -> a-b : x\nzone a {", "a", "z"),
        "allow z -> a-b : x\nzone z {"
    );
}
