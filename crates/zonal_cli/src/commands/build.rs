//! `zonal build`: check the policy, then render it for one target, several,
//! every target, or every firewall of a deployment binding.
//!
//! Nothing is written unless everything renders: each output is staged (a
//! temporary file in its destination's directory) as soon as its target
//! has rendered, and only when every target rendered are the staged files
//! renamed over their destinations; on any failure they are removed.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use anyhow::Context as _;
use zonal_backend::{Target, TemplateFile, Templates};
use zonal_diagnostics::Diagnostics;
use zonal_pipeline::{Failure, Output};

use crate::ExitStatus;
use crate::args::BuildArgs;
use crate::fs::{Staged, display_path};
use crate::printer;

pub(crate) fn run(args: &BuildArgs) -> anyhow::Result<ExitStatus> {
    let targets: Option<Vec<Target>> = if args.target.is_empty() {
        None
    } else if args.target.iter().any(|t| t == "all") {
        if args.target.len() > 1 {
            anyhow::bail!("`--target all` already names every target; give it alone");
        }
        Some(Target::ALL.to_vec())
    } else {
        // In the order of the target table, each once.
        let mut named = Vec::new();
        for name in &args.target {
            named.push(Target::parse(name).with_context(|| format!("unknown target `{name}`"))?);
        }
        Some(
            Target::ALL
                .into_iter()
                .filter(|t| named.contains(t))
                .collect(),
        )
    };
    if targets.is_none() && args.deploy.is_none() {
        anyhow::bail!(
            "give `--target TARGET` (or `--target all`), or a binding file with `--deploy FILE`"
        );
    }

    // 1. The render gate: resolution errors, then error-level findings
    //    (the same lints as `zonal check`, with `zonal.toml` and the baseline).
    let mut gated = match super::gate(&args.path, &args.policy, "written")? {
        Ok(g) => g,
        Err(status) => return Ok(status),
    };

    // 2. Which firewalls and targets.
    let binding = match &args.deploy {
        None => None,
        Some(file) => match super::bind(&mut gated, file)? {
            Ok(b) => Some(b),
            Err(status) => return Ok(status),
        },
    };
    let jobs = match zonal_pipeline::jobs(&gated.checked, binding, targets.as_deref()) {
        Ok(jobs) => jobs,
        Err(Failure::NoFirewall(why)) => anyhow::bail!(
            "the binding file `{}` has {why}",
            args.deploy.as_deref().unwrap_or(Path::new("")).display()
        ),
        Err(failure) => return super::report(&gated.db, failure, "written"),
    };

    let needs_dir = args.deploy.is_some() || targets.as_ref().is_some_and(|t| t.len() > 1);
    if needs_dir && args.output.is_none() {
        anyhow::bail!("several files would be written: give an output directory with `-o DIR`");
    }

    // 3. Render. With `-o`, each output is staged (written to a temporary
    //    file beside its destination) as soon as its target has rendered,
    //    and its text freed; the files replace their destinations only when
    //    every target rendered. Without `-o`, the one output is printed.
    let mut overrides = BTreeMap::new();
    if let Some(dir) = &args.templates {
        for job in &jobs {
            if let std::collections::btree_map::Entry::Vacant(e) = overrides.entry(job.target) {
                e.insert(read_templates(dir, job.target)?);
            }
        }
    }
    let templates = |t: Target| overrides.get(&t).cloned().unwrap_or_default();
    let Some(out) = args.output.as_deref() else {
        let outputs = match zonal_pipeline::render(&gated.checked, &jobs, &templates, &mut gated.db)
        {
            Ok(o) => o,
            Err(failure) => return super::report(&gated.db, failure, "written"),
        };
        print_warnings(&gated.db, outputs.iter().map(|o| &o.warnings));
        print_one(&outputs)?;
        std::mem::forget(gated);
        return Ok(ExitStatus::Success);
    };
    let status = write_staged(&mut gated, &jobs, &templates, out, needs_dir)?;
    // The process is about to exit: freeing the checked model piece by
    // piece costs a tenth of a build, and the operating system reclaims it
    // at once (as `zonal check` does).
    std::mem::forget(gated);
    Ok(status)
}

/// Renders every job and stages each output as soon as it has rendered
/// (its text is freed then), into the directory `out` or the one file
/// `out`; renames them all over their destinations once every job
/// rendered, and reports what was written.
fn write_staged(
    gated: &mut super::Gated,
    jobs: &[zonal_pipeline::Job],
    templates: &dyn Fn(Target) -> Templates,
    out: &Path,
    needs_dir: bool,
) -> anyhow::Result<ExitStatus> {
    let as_dir = needs_dir || out.is_dir() || out.to_string_lossy().ends_with('/');
    if as_dir {
        std::fs::create_dir_all(out)
            .with_context(|| format!("cannot create `{}`", out.display()))?;
    }
    let mut staged = Staged::default();
    let mut written: Vec<(usize, Written)> = Vec::new();
    let mut stage_error = None;
    let rendered = zonal_pipeline::render_each(
        &gated.checked,
        jobs,
        templates,
        &mut gated.db,
        &mut |i, o| {
            let path = if as_dir {
                out.join(&o.file)
            } else {
                out.to_path_buf()
            };
            // One file name never receives two files (checked below).
            if stage_error.is_none() && (as_dir || written.is_empty()) {
                stage_error = staged.stage(&path, o.text.as_bytes()).err();
            }
            written.push((
                i,
                Written {
                    file: o.file,
                    path,
                    target: o.target,
                    firewall: o.firewall,
                    rules: o.rules,
                    warnings: o.warnings,
                },
            ));
        },
    );
    if let Err(failure) = rendered {
        // Dropping `staged` removes the temporary files.
        return super::report(&gated.db, failure, "written");
    }
    // In job order, whatever order the targets finished in.
    written.sort_by_key(|(i, _)| *i);
    let written: Vec<Written> = written.into_iter().map(|(_, w)| w).collect();
    if !as_dir && written.len() > 1 {
        anyhow::bail!(
            "`-o {}` names one file, but {} files were rendered ({}): give a directory, e.g. `-o out/`",
            out.display(),
            written.len(),
            names(written.iter().map(|w| w.file.as_str()))
        );
    }
    if let Some(e) = stage_error {
        return Err(e);
    }
    print_warnings(&gated.db, written.iter().map(|w| &w.warnings));

    // 4. All or nothing: every file was staged; now all are renamed.
    staged.commit()?;
    let cwd = std::env::current_dir().ok();
    for w in &written {
        printer::error(&format!(
            "wrote {} ({}, firewall {}, {} rules)",
            display_path(cwd.as_deref(), &w.path),
            w.target,
            w.firewall,
            w.rules
        ));
    }
    Ok(ExitStatus::Success)
}

/// What was staged for one output, to report once everything is written.
struct Written {
    file: String,
    path: PathBuf,
    target: Target,
    firewall: String,
    rules: usize,
    warnings: Diagnostics,
}

/// `` `a`, `b` `` for an error message.
fn names<'a>(files: impl Iterator<Item = &'a str>) -> String {
    files
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints the build warnings of every output; they never block.
fn print_warnings<'a>(
    db: &zonal_diagnostics::SourceDb,
    each: impl Iterator<Item = &'a Diagnostics>,
) {
    let warnings = Diagnostics(each.flat_map(|w| w.iter().cloned()).collect());
    if !warnings.is_empty() {
        super::print_diagnostics(db, &warnings);
        printer::error(&format!(
            "warning: {} build warning(s); the files are still written",
            warnings.len()
        ));
    }
}

/// Prints the one rendered file on stdout. Several files (iptables: IPv4
/// and IPv6) concatenated would load as one broken ruleset: refused.
fn print_one(outputs: &[Output]) -> anyhow::Result<()> {
    if outputs.len() > 1 {
        anyhow::bail!(
            "{} files were rendered ({}); they cannot be printed as one: write them with `-o DIR`",
            outputs.len(),
            names(outputs.iter().map(|o| o.file.as_str()))
        );
    }
    for o in outputs {
        printer::out(&o.text);
    }
    Ok(())
}

/// Reads the overrides of one target from `DIR/<target>/`; a target
/// without a folder keeps its embedded templates.
pub(super) fn read_templates(dir: &Path, target: Target) -> anyhow::Result<Templates> {
    let mut templates = Templates::embedded();
    if !dir.is_dir() {
        anyhow::bail!("the templates directory `{}` does not exist", dir.display());
    }
    let sub = dir.join(target.name());
    if !sub.is_dir() {
        return Ok(templates);
    }
    let cwd = std::env::current_dir().ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sub)
        .with_context(|| format!("cannot read templates in `{}`", sub.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        templates.set_override(
            target,
            name,
            TemplateFile {
                path: display_path(cwd.as_deref(), &path),
                text,
            },
        );
    }
    Ok(templates)
}
