//! Filesystem access: the [`zonal_model::SourceLoader`] over real files,
//! atomic writes, and path display relative to the current directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Reads policies from disk.
pub(crate) struct FsLoader {
    cwd: Option<PathBuf>,
}

impl FsLoader {
    pub(crate) fn new() -> Self {
        FsLoader {
            cwd: std::env::current_dir().ok(),
        }
    }
}

impl zonal_model::SourceLoader for FsLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        let meta = std::fs::metadata(path).map_err(|e| io_message(&e))?;
        if meta.len() > 16 * 1024 * 1024 {
            return Err("file is larger than 16 MiB".into());
        }
        let bytes = std::fs::read(path).map_err(|e| io_message(&e))?;
        String::from_utf8(bytes).map_err(|_| "file is not valid UTF-8".into())
    }

    fn is_dir(&self, path: &str) -> bool {
        Path::new(path).is_dir()
    }

    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let rd = std::fs::read_dir(dir).map_err(|e| io_message(&e))?;
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| io_message(&e))?;
            let p = e.path();
            if p.is_file() && p.extension().is_some_and(|x| x == "zonal") {
                out.push(p.to_string_lossy().replace('\\', "/"));
            }
        }
        out.sort();
        Ok(out)
    }

    fn display(&self, path: &str) -> String {
        display_path(self.cwd.as_deref(), Path::new(path))
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `path` relative to `cwd` when it is below it, else as given.
pub(crate) fn display_path(cwd: Option<&Path>, path: &Path) -> String {
    let shown = match (cwd, path.is_absolute()) {
        (Some(cwd), true) => path
            .strip_prefix(cwd)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let s = shown.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, flushed and synced, then renamed over the target. A failure
/// leaves no partial file behind.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.zonal-tmp-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create `{}`", tmp.display()))?;
        f.write_all(contents)
            .with_context(|| format!("cannot write `{}`", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("cannot sync `{}`", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename to `{}`", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
