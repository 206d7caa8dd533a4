//! Loading a policy: files, directories and includes, through a
//! [`SourceLoader`] supplied by the caller (the CLI reads the real
//! filesystem; tests use [`MemoryLoader`]). This crate never touches the
//! filesystem itself.

use std::collections::BTreeMap;

use zonal_diagnostics::{Diagnostics, FileId, SourceDb};
use zonal_syntax::ast;

use crate::ir::{Date, Policy};

/// Options of resolution.
#[derive(Clone, Debug)]
pub struct Options {
    /// The date expiry is judged against.
    pub today: Date,
}

/// Where policy text comes from. Paths use `/` separators.
pub trait SourceLoader {
    /// Reads a file.
    fn read(&self, path: &str) -> Result<String, String>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// The `*.zonal` files directly inside a directory, as paths, sorted.
    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String>;
    /// The name diagnostics print for `path` (relative to the current directory).
    fn display(&self, path: &str) -> String {
        path.to_string()
    }
}

/// An in-memory file tree, for tests and tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    /// Path to text.
    pub files: BTreeMap<String, String>,
}

impl MemoryLoader {
    /// A tree with one file.
    pub fn single(path: &str, text: &str) -> Self {
        let mut files = BTreeMap::new();
        files.insert(path.to_string(), text.to_string());
        MemoryLoader { files }
    }
}

impl SourceLoader for MemoryLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }
    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        !self.files.contains_key(path) && self.files.keys().any(|k| k.starts_with(&prefix))
    }
    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        Ok(self
            .files
            .keys()
            .filter(|k| {
                k.starts_with(&prefix) && !k[prefix.len()..].contains('/') && k.ends_with(".zonal")
            })
            .cloned()
            .collect())
    }
}

/// The result of loading and resolving a policy.
#[derive(Debug)]
pub struct Loaded {
    /// Every file read (policy files and the prelude).
    pub db: SourceDb,
    /// The parsed files, in load order (the prelude is not included).
    pub files: Vec<(FileId, ast::SourceFile)>,
    /// The model, when resolution produced one (it may still have errors
    /// in `diagnostics`; phases that need a valid model check
    /// `diagnostics.has_input_errors()`).
    pub policy: Option<Policy>,
    /// Syntax and resolution diagnostics.
    pub diagnostics: Diagnostics,
}

/// Loads the policy at `path` (a file or a directory of `*.zonal` files).
pub fn load(loader: &dyn SourceLoader, path: &str, options: &Options) -> Loaded {
    crate::resolve::load(loader, path, options)
}

/// Loads a policy from one in-memory text (tests, fuzzing, benchmarks).
pub fn load_str(name: &str, text: &str, options: &Options) -> Loaded {
    load(&MemoryLoader::single(name, text), name, options)
}
