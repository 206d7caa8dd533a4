//! Embeds every `docs/diagnostics/<CODE>.md` page for `zonal explain`.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = manifest.join("../../docs/diagnostics");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut pages: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md")
                && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
            {
                println!("cargo:rerun-if-changed={}", p.display());
                pages.push((stem.to_string(), p.canonicalize().unwrap_or(p.clone())));
            }
        }
    }
    pages.sort();
    let mut out = String::from(
        "/// Every diagnostic page, sorted by code.\npub(crate) static PAGES: &[(&str, &str)] = &[\n",
    );
    for (code, path) in &pages {
        let _ = writeln!(
            out,
            "    ({code:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("explain_pages.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
