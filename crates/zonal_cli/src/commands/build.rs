//! `zonal build`: check the policy, then render it for one target, every
//! target, or every firewall of a deployment binding.
//!
//! Nothing is written unless everything renders: all outputs are rendered
//! in memory first, then each file is written atomically (temporary file in
//! the same directory, then rename).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zonal_backend::{Firewall, Request, Target, TemplateFile, Templates};
use zonal_diagnostics::{Diagnostics, SourceDb, render};

use crate::ExitStatus;
use crate::args::BuildArgs;
use crate::fs::{display_path, write_atomic};
use crate::printer;

/// One output file.
struct Output {
    file: String,
    text: String,
    target: Target,
    firewall: String,
    rules: usize,
}

pub(crate) fn run(args: &BuildArgs) -> anyhow::Result<ExitStatus> {
    let targets: Option<Vec<Target>> = match args.target.as_deref() {
        None => None,
        Some("all") => Some(Target::ALL.to_vec()),
        Some(name) => Some(vec![
            Target::parse(name).with_context(|| format!("unknown target `{name}`"))?,
        ]),
    };
    if targets.is_none() && args.deploy.is_none() {
        anyhow::bail!(
            "give `--target TARGET` (or `--target all`), or a binding file with `--deploy FILE`"
        );
    }

    // 1. Checks: resolution errors, then error-level lint findings.
    let mut loaded = super::load(&args.path, &args.policy)?;
    if loaded.diagnostics.has_input_errors() {
        print_diagnostics(&loaded.db, &loaded.diagnostics);
        printer::error("error: the policy has errors; nothing was written (see `zonal check`)");
        return Ok(ExitStatus::Error);
    }
    let Some(policy) = loaded.policy.take() else {
        print_diagnostics(&loaded.db, &loaded.diagnostics);
        printer::error("error: the policy could not be resolved; nothing was written");
        return Ok(ExitStatus::Error);
    };
    let mut db = loaded.db;
    // The same lints as `zonal check`: `zonal.toml` levels and the baseline apply.
    let lint = crate::lint_output::run(&args.path, &policy, false)?;
    if let Some(note) = &lint.note {
        printer::error(note);
    }
    let findings = lint.findings;
    if findings.has_errors() {
        let blocking = Diagnostics(
            findings
                .iter()
                .filter(|d| d.severity.is_error_level())
                .cloned()
                .collect(),
        );
        print_diagnostics(&db, &blocking);
        printer::error(&format!(
            "error: {} error-level finding(s) remain; nothing was written (see `zonal check`)",
            blocking.len()
        ));
        return Ok(ExitStatus::Findings);
    }
    if !findings.is_empty() {
        printer::error(&format!(
            "note: {} finding(s) below error level; run `zonal check` to see them",
            findings.len()
        ));
    }

    // 2. Which firewalls and targets.
    let jobs: Vec<(Firewall, Target)> = match &args.deploy {
        None => {
            let fw = Firewall::by_address(policy.name.clone());
            targets
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|t| (fw.clone(), t))
                .collect()
        }
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the binding file `{}`", file.display()))?;
            let cwd = std::env::current_dir().ok();
            let id = db.add(display_path(cwd.as_deref(), file), text.clone());
            let binding = match zonal_backend::parse_binding(id, &text, &policy) {
                Ok(b) => b,
                Err(diags) => {
                    print_diagnostics(&db, &diags);
                    printer::error("error: the binding file is invalid; nothing was written");
                    return Ok(ExitStatus::Error);
                }
            };
            let jobs: Vec<(Firewall, Target)> = binding
                .firewalls
                .into_iter()
                .filter_map(|f| f.target.map(|t| (f, t)))
                .filter(|(_, t)| targets.as_ref().is_none_or(|ts| ts.contains(t)))
                .collect();
            if jobs.is_empty() {
                anyhow::bail!(
                    "the binding file `{}` has no firewall with the requested target",
                    file.display()
                );
            }
            jobs
        }
    };

    let needs_dir = args.deploy.is_some() || targets.as_ref().is_some_and(|t| t.len() > 1);
    if needs_dir && args.output.is_none() {
        anyhow::bail!("several files would be written: give an output directory with `-o DIR`");
    }

    // 3. Render everything in memory.
    let mut outputs = Vec::new();
    let mut failed = Diagnostics::new();
    for (fw, target) in &jobs {
        let templates = match &args.templates {
            Some(dir) => read_templates(dir, *target)?,
            None => Templates::embedded(),
        };
        let req = Request {
            policy: &policy,
            firewall: fw,
            templates: &templates,
        };
        match zonal_backend::render(*target, &req, &mut db) {
            Ok(r) => {
                for a in r.artifacts {
                    outputs.push(Output {
                        file: format!("{}.{}", r.firewall, a.extension),
                        text: a.text,
                        target: *target,
                        firewall: r.firewall.clone(),
                        rules: a.rule_count,
                    });
                }
            }
            Err(d) => failed.extend(d),
        }
    }
    if !failed.is_empty() {
        print_diagnostics(&db, &failed);
        printer::error("error: rendering failed; nothing was written");
        return Ok(ExitStatus::Error);
    }

    // 4. Write (or print a single target).
    match &args.output {
        None => {
            let single = outputs.len() == 1;
            for o in &outputs {
                if !single {
                    printer::outln(&format!("# ---- {} ----", o.file));
                }
                printer::out(&o.text);
            }
        }
        Some(out) => {
            let as_dir = needs_dir
                || outputs.len() > 1
                || out.is_dir()
                || out.to_string_lossy().ends_with('/');
            if as_dir {
                std::fs::create_dir_all(out)
                    .with_context(|| format!("cannot create `{}`", out.display()))?;
            }
            let cwd = std::env::current_dir().ok();
            for o in &outputs {
                let path: PathBuf = if as_dir {
                    out.join(&o.file)
                } else {
                    out.clone()
                };
                write_atomic(&path, o.text.as_bytes())?;
                printer::error(&format!(
                    "wrote {} ({}, firewall {}, {} rules)",
                    display_path(cwd.as_deref(), &path),
                    o.target,
                    o.firewall,
                    o.rules
                ));
            }
        }
    }
    Ok(ExitStatus::Success)
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

fn print_diagnostics(db: &SourceDb, diags: &Diagnostics) {
    let mut sorted = diags.clone();
    sorted.sort();
    for d in sorted.iter() {
        printer::err(&render::human(db, d));
        printer::err("\n");
    }
}
