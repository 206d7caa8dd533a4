//! `zonal fmt`: canonical layout, comments kept, idempotent.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zonal_diagnostics::SourceDb;

use crate::ExitStatus;
use crate::args::FmtArgs;
use crate::fs::{FsLoader, write_atomic};
use crate::printer;

/// `zonal fmt -`: the text on stdin, formatted, on stdout (for editors);
/// with `--check`, the diff on stdout and exit 1 when it is not formatted.
fn stdin(check: bool) -> anyhow::Result<ExitStatus> {
    use std::io::Read as _;
    let mut text = String::new();
    std::io::stdin()
        .take(zonal_syntax::MAX_FILE_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .context("cannot read stdin as UTF-8 text")?;
    if text.len() > zonal_syntax::MAX_FILE_BYTES {
        anyhow::bail!("stdin is larger than a policy file may be");
    }
    let mut db = SourceDb::new();
    let id = db.add("<stdin>", text.clone());
    let parsed = zonal_syntax::parse(id, &text);
    if !parsed.diagnostics.is_empty() {
        for d in &parsed.diagnostics {
            printer::err(&printer::human(&db, d, printer::Stream::Stderr));
        }
        printer::error("error: stdin has syntax errors; not formatted");
        return Ok(ExitStatus::Error);
    }
    let formatted = zonal_syntax::format(&parsed.file, &text);
    if !check {
        printer::out(&formatted);
        return Ok(ExitStatus::Success);
    }
    if formatted == text {
        return Ok(ExitStatus::Success);
    }
    printer::out(&zonal_review::unified_diff(&text, &formatted, "<stdin>").2);
    Ok(ExitStatus::Findings)
}

pub(crate) fn run(args: &FmtArgs) -> anyhow::Result<ExitStatus> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            anyhow::bail!("`zonal fmt -` formats stdin alone: name no other path");
        }
        return stdin(args.check);
    }
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
            printer::outln(&format!("would reformat `{name}`:"));
            printer::out(&zonal_review::unified_diff(&text, &formatted, &name).2);
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
