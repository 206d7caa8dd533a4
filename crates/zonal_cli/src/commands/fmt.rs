//! `zonal fmt`: canonical layout, comments kept, idempotent.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zonal_diagnostics::SourceDb;

use crate::ExitStatus;
use crate::args::FmtArgs;
use crate::fs::{FsLoader, write_atomic};
use crate::printer;

pub(crate) fn run(args: &FmtArgs) -> anyhow::Result<ExitStatus> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)?;
    }
    let loader = FsLoader::new(Path::new("."), true);
    let mut status = ExitStatus::Success;
    for f in files {
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("cannot read `{}`", f.display()))?;
        let mut db = SourceDb::new();
        let name = zonal_model::SourceLoader::display(&loader, &f.to_string_lossy());
        let id = db.add(name.clone(), text.clone());
        let parsed = zonal_syntax::parse(id, &text);
        if !parsed.diagnostics.is_empty() {
            for d in &parsed.diagnostics {
                printer::err(&printer::human(&db, d, printer::Stream::Stderr));
            }
            printer::error(&format!("error: `{name}` has syntax errors; not formatted"));
            status = ExitStatus::Error;
            continue;
        }
        let formatted = zonal_syntax::format(&parsed.file, &text);
        if formatted == text {
            continue;
        }
        if args.check {
            printer::outln(&format!("would reformat `{name}`"));
            if status == ExitStatus::Success {
                status = ExitStatus::Findings;
            }
        } else {
            write_atomic(&f, formatted.as_bytes())?;
            printer::outln(&format!("formatted `{name}`"));
        }
    }
    Ok(status)
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("cannot read directory `{}`", p.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "zonal") {
                collect(&e, out)?;
            }
        }
    } else if p.exists() {
        out.push(p.to_path_buf());
    } else {
        anyhow::bail!("cannot read `{}`: no such file or directory", p.display());
    }
    Ok(())
}
