//! Filesystem access: the [`zonal_model::SourceLoader`] over real files,
//! atomic writes, and path display relative to the current directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;

/// The most a policy file may hold; read with a hard limit whatever the
/// file's metadata says (`/dev/zero` reports a length of 0).
const MAX_FILE_BYTES: u64 = zonal_syntax::MAX_FILE_BYTES as u64;

/// Reads policies from disk, under one policy for files, directories and
/// includes: regular files only (a dangling link, a FIFO, a device or a
/// directory named `*.zonal` is an error, never skipped), read with a hard
/// byte limit and without blocking, hidden files ignored in directories,
/// and every file confined to the policy's root (the directory named on
/// the command line, or the named file's directory) unless the user allows
/// reading outside it.
pub(crate) struct FsLoader {
    cwd: Option<PathBuf>,
    /// The canonical root, `None` when reading outside it is allowed.
    root: Option<PathBuf>,
}

impl FsLoader {
    /// A loader for the policy at `path`; with `allow_outside`, includes
    /// may name files outside the policy's directory.
    pub(crate) fn new(path: &Path, allow_outside: bool) -> Self {
        // The path named on the command line is the user's choice: a link
        // there is resolved first, and the root is the real directory (of
        // the real file). Links *inside* the policy are what is confined.
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = if real.is_dir() {
            real
        } else {
            real.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        FsLoader {
            cwd: std::env::current_dir().ok(),
            root: if allow_outside {
                None
            } else {
                std::fs::canonicalize(dir).ok()
            },
        }
    }

    /// Checks that `path` is a regular file inside the root; returns why not.
    fn check(&self, path: &str) -> Result<(), String> {
        let link = std::fs::symlink_metadata(path).map_err(|e| io_message(&e))?;
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(_) if link.file_type().is_symlink() => {
                return Err("it is a symbolic link to a file that does not exist".into());
            }
            Err(e) => return Err(io_message(&e)),
        };
        if !meta.is_file() {
            return Err(format!("it is {}, not a regular file", kind_of(&meta)));
        }
        if let Some(root) = &self.root {
            let real = std::fs::canonicalize(path).map_err(|e| io_message(&e))?;
            if !real.starts_with(root) {
                return Err(format!(
                    "it is outside the policy's directory `{}`; Zonal reads only files below it \
                     (`--allow-include-outside` lifts this)",
                    display_path(self.cwd.as_deref(), root)
                ));
            }
        }
        Ok(())
    }
}

/// What a non-regular file is, for messages.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

impl zonal_model::SourceLoader for FsLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        use std::io::Read as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        self.check(path)?;
        // Non-blocking, so a file swapped for a FIFO after the check cannot
        // hang the run; the type is checked again on the open file.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .map_err(|e| io_message(&e))?;
        let meta = file.metadata().map_err(|e| io_message(&e))?;
        if !meta.is_file() {
            return Err(format!("it is {}, not a regular file", kind_of(&meta)));
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_message(&e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(format!(
                "the file is larger than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ));
        }
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "the file is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })
    }

    fn is_dir(&self, path: &str) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
            || (Path::new(path).is_dir() && self.check_dir(path))
    }

    /// Every `*.zonal` entry of the directory whatever its type (a link, a
    /// FIFO or a directory of that name is reported when it is read, never
    /// skipped); hidden entries (`.x.zonal`) are ignored.
    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let rd = std::fs::read_dir(dir).map_err(|e| io_message(&e))?;
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| io_message(&e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".zonal") {
                continue;
            }
            out.push(e.path().to_string_lossy().replace('\\', "/"));
        }
        out.sort();
        Ok(out)
    }

    fn display(&self, path: &str) -> String {
        display_path(self.cwd.as_deref(), Path::new(path))
    }
}

impl FsLoader {
    /// A directory reached through a link counts only inside the root.
    fn check_dir(&self, path: &str) -> bool {
        match &self.root {
            None => true,
            Some(root) => std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(root)),
        }
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

/// Temporary files of this process that are not renamed yet: a signal
/// handler removes them before the process exits.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary file this process still has (on a signal).
pub(crate) fn remove_temporaries() {
    for p in live().drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// Refuses to write over a symbolic link or a directory: Zonal runs as
/// root, and a link planted where an output goes must not redirect the
/// write (documented in docs/security.md).
fn refuse_link(dest: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "`{}` is a symbolic link; Zonal does not write through links: remove it, or write to the file it points to",
            dest.display()
        ),
        Ok(m) if m.is_dir() => {
            anyhow::bail!("`{}` is a directory, not a file", dest.display())
        }
        _ => Ok(()),
    }
}

/// Files written together: each is staged in a temporary file created
/// exclusively (never through an existing name or link) in its target's
/// directory and synced; only when every file is staged are they renamed
/// over their targets. A failure before that leaves every old file in
/// place and removes the temporaries; so does dropping the value.
#[derive(Default)]
pub(crate) struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// Writes `contents` to a new temporary file beside `dest`.
    pub(crate) fn stage(&mut self, dest: &Path, contents: &[u8]) -> anyhow::Result<()> {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        refuse_link(dest)?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "out".into());
        // Keep the mode of the file being replaced; new files get 0644.
        let mode = std::fs::metadata(dest).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        let mut n = 0u32;
        let (tmp, mut file) = loop {
            let tmp = dir.join(format!(".{name}.zonal-tmp-{}-{n}", std::process::id()));
            // O_CREAT|O_EXCL: fails on any existing name, a link included.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&tmp)
            {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create `{}`", tmp.display()));
                }
            }
        };
        live().push(tmp.clone());
        self.files.push((tmp.clone(), dest.to_path_buf()));
        file.write_all(contents)
            .with_context(|| format!("cannot write `{}`", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot sync `{}`", tmp.display()))?;
        Ok(())
    }

    /// Renames every staged file over its target.
    pub(crate) fn commit(mut self) -> anyhow::Result<()> {
        for (_, dest) in &self.files {
            refuse_link(dest)?;
        }
        let files = std::mem::take(&mut self.files);
        let mut dirs: Vec<PathBuf> = Vec::new();
        for (i, (tmp, dest)) in files.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, dest) {
                // Put the rest back so that `drop` removes them.
                self.files = files[i..].to_vec();
                return Err(e).with_context(|| format!("cannot rename to `{}`", dest.display()));
            }
            live().retain(|p| p != tmp);
            if let Some(d) = dest.parent() {
                dirs.push(d.to_path_buf());
            }
        }
        dirs.sort();
        dirs.dedup();
        for d in dirs {
            let d = if d.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                d
            };
            if let Ok(f) = std::fs::File::open(&d) {
                let _ = f.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in self.files.drain(..) {
            let _ = std::fs::remove_file(&tmp);
            live().retain(|p| p != &tmp);
        }
    }
}

/// Writes `contents` to `path` atomically (see [`Staged`]).
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut staged = Staged::default();
    staged.stage(path, contents)?;
    staged.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link planted under the temporary name a write would use is never
    /// followed: the write takes the next name, and the link's target is
    /// untouched.
    #[test]
    fn a_planted_link_at_the_temporary_name_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("zonal-fs-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let dest = dir.join("fw.nft");
        let planted = dir.join(format!(".fw.nft.zonal-tmp-{}-0", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_atomic(&dest, b"table inet zonal {}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(
            std::fs::read_to_string(&dest).unwrap(),
            "table inet zonal {}\n"
        );
        assert!(
            !std::fs::symlink_metadata(&dest)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!live().iter().any(|p| p.starts_with(&dir)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dropped_stage_removes_its_temporaries() {
        let dir = std::env::temp_dir().join(format!("zonal-fs-drop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        {
            let mut staged = Staged::default();
            staged.stage(&dir.join("a"), b"a").unwrap();
            staged.stage(&dir.join("b"), b"b").unwrap();
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
