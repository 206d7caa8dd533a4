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
                && bytes[i + 1] == b'E'
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
