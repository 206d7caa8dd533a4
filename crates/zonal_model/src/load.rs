//! Loading a policy: files, directories and includes, through a
//! [`SourceLoader`] supplied by the caller (the CLI reads the real
//! filesystem; tests use [`MemoryLoader`]). This crate never touches the
//! filesystem itself.

use std::collections::{BTreeMap, BTreeSet};

use zonal_diagnostics::{Diagnostics, FileId, SourceDb, Span, TextRange};
use zonal_syntax::ast::{self, ItemKind};

use crate::ir::Policy;
pub use crate::resolve::Options;
use crate::resolve::errors;

/// Most files one policy may consist of (directory members and includes).
const MAX_FILES: usize = 4096;
/// Deepest include chain.
const MAX_INCLUDE_DEPTH: usize = 32;
const PRELUDE: &str = include_str!("prelude.zonal");
/// The name the prelude file has in diagnostics.
const PRELUDE_NAME: &str = "<prelude>";

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
    let mut db = SourceDb::new();
    let mut diags = Diagnostics::new();
    let prelude_id = db.add(PRELUDE_NAME, PRELUDE);
    let prelude = zonal_syntax::parse(prelude_id, PRELUDE);
    // INVARIANT: the prelude is ours and parses cleanly; a test checks it.
    diags.extend(prelude.diagnostics);

    let mut files: Vec<(FileId, ast::SourceFile)> = Vec::new();
    let mut loading = Loading {
        loader,
        db: &mut db,
        diags: &mut diags,
        files: &mut files,
        seen: BTreeSet::new(),
    };
    let several = loading.load_path(path);

    // A directory of several policies is one clear error, not the
    // cascade of duplicates that merging them would report.
    let policy = if several {
        None
    } else {
        crate::resolve::resolve(
            &db,
            options,
            &mut diags,
            (prelude_id, &prelude.file),
            &files,
        )
    };
    diags.sort();
    Loaded {
        db,
        files,
        policy,
        diagnostics: diags,
    }
}

/// Loads a policy from one in-memory text (tests, fuzzing, benchmarks).
pub fn load_str(name: &str, text: &str, options: &Options) -> Loaded {
    load(&MemoryLoader::single(name, text), name, options)
}

/// The files of one load: every file read, in load order, and the
/// diagnostics of reading them.
struct Loading<'a> {
    loader: &'a dyn SourceLoader,
    db: &'a mut SourceDb,
    diags: &'a mut Diagnostics,
    files: &'a mut Vec<(FileId, ast::SourceFile)>,
    seen: BTreeSet<String>,
}

impl Loading<'_> {
    /// Loads a file, or every `*.zonal` file directly inside a directory.
    /// Returns whether the directory holds several policies (reported).
    fn load_path(&mut self, path: &str) -> bool {
        let loader = self.loader;
        if !loader.is_dir(path) {
            self.load_file(path, None, 0, &mut Vec::new());
            return false;
        }
        match loader.list_zonal(path) {
            Ok(list) if list.is_empty() => {
                let at = self.file_span(path);
                self.diags
                    .push(errors::empty_directory(&loader.display(path), at));
            }
            Ok(list) => {
                for p in list {
                    self.load_file(&p, None, 0, &mut Vec::new());
                }
                let headers: Vec<(String, Span)> = self
                    .files
                    .iter()
                    .flat_map(|(id, file)| {
                        file.items.iter().filter_map(move |i| match &i.kind {
                            ItemKind::Policy(p) => {
                                Some((p.name.name.clone(), Span::new(*id, p.name.range)))
                            }
                            _ => None,
                        })
                    })
                    .collect();
                if headers.iter().any(|(n, _)| *n != headers[0].0) {
                    self.diags
                        .push(errors::several_policies(&loader.display(path), &headers));
                    return true;
                }
            }
            Err(e) => {
                let at = self.file_span(path);
                self.diags
                    .push(errors::unreadable_directory(&loader.display(path), &e, at));
            }
        }
        false
    }

    /// A span naming `path` itself: an empty entry of that name in the
    /// source database, so that a diagnostic points at the file (or
    /// directory), never at the prelude, and never echoes its bytes.
    fn file_span(&mut self, path: &str) -> Span {
        let id = self.db.add(self.loader.display(path), String::new());
        Span::new(id, TextRange::new(0, 0))
    }

    /// Loads one file and, depth first, the files it includes. `stack`
    /// holds the includes being followed, to report cycles.
    fn load_file(&mut self, path: &str, from: Option<Span>, depth: usize, stack: &mut Vec<String>) {
        let norm = normalize(path);
        if stack.contains(&norm) {
            let chain: Vec<String> = stack
                .iter()
                .chain(std::iter::once(&norm))
                .map(|p| self.loader.display(p))
                .collect();
            self.diags
                .push(errors::include_cycle(&chain, from.unwrap_or_default()));
            return;
        }
        if self.seen.contains(&norm) {
            return;
        }
        if depth > MAX_INCLUDE_DEPTH || self.seen.len() >= MAX_FILES {
            self.diags.push(errors::too_many_files(
                &self.loader.display(path),
                from.unwrap_or_default(),
                MAX_FILES,
                MAX_INCLUDE_DEPTH,
            ));
            return;
        }
        if let Some(at) = from
            && !norm.ends_with(".zonal")
        {
            self.diags
                .push(errors::include_not_zonal(&self.loader.display(&norm), at));
            return;
        }
        let text = match self.loader.read(&norm) {
            Ok(t) => t,
            Err(e) => {
                let at = match from {
                    Some(at) => at,
                    None => self.file_span(&norm),
                };
                self.diags.push(errors::unreadable_file(
                    &self.loader.display(&norm),
                    &e,
                    at,
                    from.is_some(),
                ));
                return;
            }
        };
        self.seen.insert(norm.clone());
        let id = self.db.add(self.loader.display(&norm), text);
        let parsed = zonal_syntax::parse(id, self.db.text(id));
        self.diags.extend(parsed.diagnostics);
        let includes: Vec<(String, TextRange)> = parsed
            .file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Include(inc) => Some((inc.path.value.clone(), inc.path.range)),
                _ => None,
            })
            .collect();
        self.files.push((id, parsed.file));
        stack.push(norm.clone());
        for (inc, range) in includes {
            let target = join(&norm, &inc);
            self.load_file(&target, Some(Span::new(id, range)), depth + 1, stack);
        }
        stack.pop();
    }
}

/// Joins an include path to the directory of the including file.
fn join(from: &str, inc: &str) -> String {
    if inc.starts_with('/') {
        return normalize(inc);
    }
    match from.rfind('/') {
        Some(i) => normalize(&format!("{}/{}", &from[..i], inc)),
        None => normalize(inc),
    }
}

/// Removes `.` and `a/..` segments.
fn normalize(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if abs {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}
