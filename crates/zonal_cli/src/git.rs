//! Reading a policy as it was at a git revision, through `git` itself
//! (`git cat-file`, `git ls-tree`): no checkout, the working tree is not
//! touched. Used by `zonal diff PATH --git REV`.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The most a policy file may hold (as for files on disk).
const MAX_FILE_BYTES: u64 = zonal_syntax::MAX_FILE_BYTES as u64;

/// A [`zonal_model::SourceLoader`] over one commit of a repository. Paths
/// are relative to the repository's top directory; every file is confined
/// to the policy's directory (as on disk) unless reading outside is allowed.
pub(crate) struct GitLoader {
    top: PathBuf,
    /// The commit, as a full hash.
    commit: String,
    /// The revision as the user wrote it, for file names in messages.
    rev: String,
    /// The policy's directory (repository-relative), `None` when reading
    /// outside it is allowed.
    root: Option<String>,
}

fn git(top: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `git`: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `a/./b/../c` as `a/c`; `None` when it climbs above the top.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

impl GitLoader {
    /// A loader for the policy at `path` (as named on the command line) at
    /// revision `rev`; returns it with the path to load, relative to the
    /// repository's top directory.
    pub(crate) fn new(
        path: &Path,
        rev: &str,
        allow_outside: bool,
    ) -> anyhow::Result<(Self, String)> {
        if rev.starts_with('-') || rev.is_empty() {
            bail!("`--git {rev}` is not a revision");
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let abs = cwd.join(path);
        // The deepest existing ancestor, made canonical (the policy may be
        // gone from the working tree and exist only at `rev`).
        let mut existing = abs.as_path();
        let mut rest: Vec<std::ffi::OsString> = Vec::new();
        while !existing.exists() {
            let Some(parent) = existing.parent() else {
                break;
            };
            if let Some(name) = existing.file_name() {
                rest.push(name.to_os_string());
            }
            existing = parent;
        }
        let mut real = std::fs::canonicalize(existing)
            .with_context(|| format!("cannot read `{}`", existing.display()))?;
        for name in rest.iter().rev() {
            real.push(name);
        }
        let probe = if real.is_dir() {
            real.clone()
        } else {
            real.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let mut dir = probe.as_path();
        while !dir.exists() {
            dir = dir.parent().unwrap_or(Path::new("/"));
        }
        let top = git(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|e| anyhow::anyhow!("`{}` is not in a git repository: {e}", path.display()))?;
        let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        let Ok(rel) = real.strip_prefix(&top) else {
            bail!(
                "`{}` is outside the repository `{}`",
                path.display(),
                top.display()
            );
        };
        let rel: String = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let commit = git(
            &top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "`{rev}` is not a commit of the repository `{}`",
                top.display()
            )
        })?;
        let commit = String::from_utf8_lossy(&commit).trim().to_string();
        let mut loader = GitLoader {
            top,
            commit,
            rev: rev.to_string(),
            root: None,
        };
        if !loader.exists(&rel) {
            bail!("`{}` does not exist at `{rev}`", path.display());
        }
        if !allow_outside {
            let root = if loader.is_tree(&rel) {
                rel.clone()
            } else {
                rel.rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default()
            };
            loader.root = Some(root);
        }
        Ok((loader, rel))
    }

    fn object(&self, path: &str) -> String {
        format!("{}:{path}", self.commit)
    }

    fn kind(&self, path: &str) -> Option<String> {
        let path = normalise(path)?;
        git(&self.top, &["cat-file", "-t", &self.object(&path)])
            .ok()
            .map(|t| String::from_utf8_lossy(&t).trim().to_string())
    }

    fn exists(&self, path: &str) -> bool {
        self.kind(path).is_some()
    }

    fn is_tree(&self, path: &str) -> bool {
        self.kind(path).as_deref() == Some("tree")
    }

    /// The repository-relative path, checked against the root.
    fn confined(&self, path: &str) -> Result<String, String> {
        let Some(p) = normalise(path) else {
            return Err("it is outside the repository".into());
        };
        if let Some(root) = &self.root
            && !(root.is_empty() || p == *root || p.starts_with(&format!("{root}/")))
        {
            return Err(format!(
                "it is outside the policy's directory `{root}`; Zonal reads only files below it \
                 (`--allow-include-outside` lifts this)"
            ));
        }
        Ok(p)
    }
}

impl zonal_model::SourceLoader for GitLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        let p = self.confined(path)?;
        match self.kind(&p).as_deref() {
            Some("blob") => {}
            Some(other) => return Err(format!("it is a git {other}, not a file")),
            None => return Err(format!("no such file at `{}`", self.rev)),
        }
        let size = git(&self.top, &["cat-file", "-s", &self.object(&p)])?;
        let size: u64 = String::from_utf8_lossy(&size)
            .trim()
            .parse()
            .unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "the file is larger than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ));
        }
        let bytes = git(&self.top, &["cat-file", "blob", &self.object(&p)])?;
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "the file is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })
    }

    fn is_dir(&self, path: &str) -> bool {
        self.confined(path).is_ok_and(|p| self.is_tree(&p))
    }

    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let d = self.confined(dir)?;
        let listing = git(
            &self.top,
            &["ls-tree", "-z", "--name-only", &self.object(&d)],
        )?;
        let mut out: Vec<String> = listing
            .split(|b| *b == 0)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .filter(|n| !n.is_empty() && !n.starts_with('.') && n.ends_with(".zonal"))
            .map(|n| if d.is_empty() { n } else { format!("{d}/{n}") })
            .collect();
        out.sort();
        Ok(out)
    }

    fn display(&self, path: &str) -> String {
        format!(
            "{}:{}",
            self.rev,
            normalise(path).unwrap_or_else(|| path.to_string())
        )
    }
}
