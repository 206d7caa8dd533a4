//! `zonal build`: check the policy, then render it for one target, every
//! target, or every firewall of a deployment binding.
//!
//! Nothing is written unless everything renders: all outputs are rendered
//! in memory first, then each file is written atomically (temporary file in
//! the same directory, then rename).

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

    // 3. Render everything in memory.
    let mut overrides = BTreeMap::new();
    if let Some(dir) = &args.templates {
        for job in &jobs {
            if let std::collections::btree_map::Entry::Vacant(e) = overrides.entry(job.target) {
                e.insert(read_templates(dir, job.target)?);
            }
        }
    }
    let templates = |t: Target| overrides.get(&t).cloned().unwrap_or_default();
    let outputs = match zonal_pipeline::render(&gated.checked, &jobs, &templates, &mut gated.db) {
        Ok(o) => o,
        Err(failure) => return super::report(&gated.db, failure, "written"),
    };

    let warnings = Diagnostics(
        outputs
            .iter()
            .flat_map(|o| o.warnings.iter().cloned())
            .collect(),
    );
    if !warnings.is_empty() {
        super::print_diagnostics(&gated.db, &warnings);
        printer::error(&format!(
            "warning: {} build warning(s); the files are still written",
            warnings.len()
        ));
    }

    // 4. Write (or print a single file).
    write(args.output.as_deref(), needs_dir, &outputs)?;
    // The process is about to exit: freeing the checked model and the
    // rendered text piece by piece costs a tenth of a build, and the
    // operating system reclaims it at once (as `zonal check` does).
    std::mem::forget(gated);
    std::mem::forget(outputs);
    Ok(ExitStatus::Success)
}

/// Prints the one rendered file, or writes every file atomically: into a
/// directory (`needs_dir`, an existing directory, or a path ending in
/// `/`), or to the one file `-o` names. Several files are never printed
/// as one, nor written to one file name.
fn write(output: Option<&Path>, needs_dir: bool, outputs: &[Output]) -> anyhow::Result<()> {
    let names = || {
        outputs
            .iter()
            .map(|o| format!("`{}`", o.file))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match output {
        None => {
            // Several files (iptables: IPv4 and IPv6) concatenated on stdout
            // would load as one broken ruleset: refuse.
            if outputs.len() > 1 {
                anyhow::bail!(
                    "{} files were rendered ({}); they cannot be printed as one: write them with `-o DIR`",
                    outputs.len(),
                    names()
                );
            }
            for o in outputs {
                printer::out(&o.text);
            }
        }
        Some(out) => {
            let as_dir = needs_dir || out.is_dir() || out.to_string_lossy().ends_with('/');
            if !as_dir && outputs.len() > 1 {
                anyhow::bail!(
                    "`-o {}` names one file, but {} files were rendered ({}): give a directory, e.g. `-o out/`",
                    out.display(),
                    outputs.len(),
                    names()
                );
            }
            if as_dir {
                std::fs::create_dir_all(out)
                    .with_context(|| format!("cannot create `{}`", out.display()))?;
            }
            let cwd = std::env::current_dir().ok();
            let paths: Vec<PathBuf> = outputs
                .iter()
                .map(|o| {
                    if as_dir {
                        out.join(&o.file)
                    } else {
                        out.to_path_buf()
                    }
                })
                .collect();
            // All or nothing: every file is staged first, then all are
            // renamed; on any failure every old file stays as it was.
            let mut staged = Staged::default();
            for (o, path) in outputs.iter().zip(&paths) {
                staged.stage(path, o.text.as_bytes())?;
            }
            staged.commit()?;
            for (o, path) in outputs.iter().zip(&paths) {
                printer::error(&format!(
                    "wrote {} ({}, firewall {}, {} rules)",
                    display_path(cwd.as_deref(), path),
                    o.target,
                    o.firewall,
                    o.rules
                ));
            }
        }
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
