//! Shared helpers for the end-to-end tests: the repository layout and one
//! way to load a fixture, as the CLI would.

use std::path::{Path, PathBuf};

use zonal_model::{Date, Loaded, Options, SourceLoader};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The fixed date the tests judge expiry against.
pub fn today() -> Date {
    Date {
        year: 2026,
        month: 11,
        day: 28,
    }
}

/// Reads files relative to the repository root, so that diagnostics print
/// `policies/...` paths.
pub struct RepoLoader;

impl SourceLoader for RepoLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(repo_root().join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            _ => e.to_string(),
        })
    }

    fn is_dir(&self, path: &str) -> bool {
        repo_root().join(path).is_dir()
    }

    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = std::fs::read_dir(repo_root().join(dir))
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "zonal"))
            .filter_map(|p| {
                p.file_name()
                    .map(|n| format!("{}/{}", dir.trim_end_matches('/'), n.to_string_lossy()))
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// Loads a policy given relative to the repository root.
pub fn load(rel: &str) -> Loaded {
    zonal_model::load(&RepoLoader, rel, &Options { today: today() })
}

/// The `*.zonal` files of a flat fixture folder, relative to the root, sorted.
pub fn fixtures(folder: &str) -> Vec<String> {
    let dir = repo_root().join(folder);
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "zonal"))
        .filter_map(|p| {
            p.file_name()
                .map(|n| format!("{folder}/{}", n.to_string_lossy()))
        })
        .collect();
    out.sort();
    out
}

/// Renders every diagnostic of a load like the CLI's human format.
pub fn render_diagnostics(l: &Loaded) -> String {
    l.diagnostics
        .iter()
        .map(|d| zonal_diagnostics::render::human(&l.db, d))
        .collect::<Vec<_>>()
        .join("\n")
}
