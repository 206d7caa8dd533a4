//! `zonal diff OLD NEW` and `zonal diff PATH --git REV`: what a change does,
//! computed from the two models by `zonal_review`. This module only reads
//! the two sides (files, or git objects through `git`) and prints.

use std::path::Path;

use anyhow::{Context as _, bail};
use zonal_diagnostics::Severity;
use zonal_pipeline::ProjectConfig;
use zonal_review::{BindingText, Side, Unusable};

use crate::ExitStatus;
use crate::args::{DiffArgs, DiffFormat};
use crate::fs::display_path;
use crate::git::GitLoader;
use crate::printer;

/// Loads one side; `Err(status)` after printing why it cannot be reviewed.
fn side(
    which: &str,
    loaded: zonal_model::Loaded,
    project: &ProjectConfig,
    binding: Option<BindingText<'_>>,
) -> anyhow::Result<Result<Side, ExitStatus>> {
    match zonal_review::prepare(loaded, project, binding) {
        Ok(s) => Ok(Ok(s)),
        Err(Unusable::Invalid { diagnostics, db }) => {
            super::print_diagnostics(&db, &diagnostics);
            printer::error(&format!(
                "error: the {which} policy has errors; nothing to compare (see `zonal check`)"
            ));
            Ok(Err(ExitStatus::Error))
        }
        Err(Unusable::Config(e)) => bail!("the {which} policy: {e}"),
    }
}

fn load_git(path: &Path, rev: &str, args: &DiffArgs) -> anyhow::Result<zonal_model::Loaded> {
    let (loader, rel) = GitLoader::new(path, rev, args.policy.allow_include_outside)?;
    let options = zonal_model::Options {
        today: super::today(&args.policy)?,
    };
    Ok(zonal_model::load(&loader, &rel, &options))
}

pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let fail_on_new = match &args.fail_on_new {
        None => None,
        Some(l) => Some(Severity::parse(l).with_context(|| {
            format!(
                "`--fail-on-new {l}` is not a severity: use info, low, medium, high or critical"
            )
        })?),
    };
    let binding_text = match &args.deploy {
        None => None,
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the binding file `{}`", f.display()))?;
            let cwd = std::env::current_dir().ok();
            Some((display_path(cwd.as_deref(), f), text))
        }
    };
    let binding = binding_text
        .as_ref()
        .map(|(name, text)| BindingText { name, text });
    // The old side, the new side, and the project configuration of each.
    let (old, new, old_project, new_project) = match (&args.git, args.paths.as_slice()) {
        (Some(rev), [path]) => {
            let old = load_git(path, rev, args)?;
            let new = super::load(path, &args.policy)?;
            // The lint levels of the working tree judge both sides.
            let project = super::project(path)?;
            (old, new, super::project(path)?, project)
        }
        (None, [old, new]) => (
            super::load(old, &args.policy)?,
            super::load(new, &args.policy)?,
            super::project(old)?,
            super::project(new)?,
        ),
        (Some(_), _) => {
            bail!("with `--git REV`, give one policy path: `zonal diff PATH --git REV`")
        }
        (None, _) => bail!("give two policies (`zonal diff OLD NEW`), or one with `--git REV`"),
    };
    let old = match side("old", old, &old_project, binding)? {
        Ok(s) => s,
        Err(status) => return Ok(status),
    };
    let new = match side("new", new, &new_project, binding)? {
        Ok(s) => s,
        Err(status) => return Ok(status),
    };
    let review = zonal_review::review(&old, &new);
    match args.format {
        DiffFormat::Human => printer::out(&zonal_review::human(
            &review,
            printer::colored(printer::Stream::Stdout),
        )),
        DiffFormat::Markdown => printer::out(&zonal_review::markdown(&review)),
        DiffFormat::Json => printer::outln(&zonal_review::json(&review)),
    }
    if let Some(level) = fail_on_new {
        let new_findings = review.new_findings_at_or_above(level);
        if !new_findings.is_empty() {
            printer::error(&format!(
                "error: the change introduces {} finding(s) at or above `{}`",
                new_findings.len(),
                level.as_str()
            ));
            return Ok(ExitStatus::Findings);
        }
    }
    Ok(ExitStatus::Success)
}
