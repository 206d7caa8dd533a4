//! One module per subcommand.

mod build;
mod check;
mod diff;
mod drift;
mod explain;
mod fmt;
mod graph;
mod import;
mod init;
mod learn;
mod query;
mod replay;
mod report;
mod verify;

use std::path::Path;

use anyhow::{Context as _, bail};
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_lint::{Baseline, Checked};
use zonal_pipeline::{Failure, ProjectConfig, project};

use crate::ExitStatus;
use crate::args::{Cli, Command, PolicyArgs};
use crate::fs::{FsLoader, display_path};
use crate::printer;

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Build(a) => build::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Fmt(a) => fmt::run(&a),
        Command::Graph(a) => graph::run(&a),
        Command::Init(a) => init::run(&a),
        Command::Import(a) => import::run(&a),
        Command::Man => {
            use clap::CommandFactory as _;
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            crate::printer::out(&String::from_utf8_lossy(&buf));
            Ok(ExitStatus::Success)
        }
        Command::Explain(a) => explain::run(&a),
        Command::Query(a) => query::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Learn(a) => learn::run(&a),
        Command::Drift(a) => drift::run(&a),
        Command::Report(a) => report::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Completions(a) => {
            use clap::CommandFactory as _;
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "zonal", &mut buf);
            crate::printer::out(&String::from_utf8_lossy(&buf));
            Ok(ExitStatus::Success)
        }
    }
}

/// The date expiry is judged against: `--today`, else the system clock.
pub(crate) fn today(args: &PolicyArgs) -> anyhow::Result<zonal_model::Date> {
    if let Some(t) = &args.today {
        return zonal_model::Date::parse(t)
            .with_context(|| format!("`--today {t}` is not a date: write YYYY-MM-DD"));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    Ok(zonal_model::Date::from_unix_days(
        i64::try_from(secs / 86_400).unwrap_or(0),
    ))
}

/// Loads and resolves the policy at `path` (file or directory). Fails only
/// when the path itself cannot be read; problems inside the policy are
/// diagnostics in the result.
pub(crate) fn load(path: &Path, args: &PolicyArgs) -> anyhow::Result<zonal_model::Loaded> {
    if !path.exists() {
        bail!(
            "cannot read `{}`: no such file or directory",
            path.display()
        );
    }
    let options = zonal_model::Options {
        today: today(args)?,
    };
    let p = path.to_string_lossy().replace('\\', "/");
    Ok(zonal_model::load(
        &FsLoader::new(path, args.allow_include_outside),
        &p,
        &options,
    ))
}

/// Reads `zonal.toml` beside the policy at `path` (the directory itself,
/// or the file's directory), if there is one.
pub(crate) fn project(path: &Path) -> anyhow::Result<ProjectConfig> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let file = dir.join(project::FILE_NAME);
    if !file.is_file() {
        return Ok(ProjectConfig::defaults(&dir));
    }
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    Ok(project::parse(&text, &file, &dir)?)
}

/// Reads the project's baseline of accepted findings (empty when there is
/// no baseline file).
pub(crate) fn baseline(project: &ProjectConfig) -> anyhow::Result<Baseline> {
    if !project.baseline.is_file() {
        return Ok(Baseline::empty());
    }
    let text = std::fs::read_to_string(&project.baseline)
        .with_context(|| format!("cannot read the baseline `{}`", project.baseline.display()))?;
    Baseline::parse(&text).with_context(|| {
        format!(
            "the baseline `{}` is not a zonal baseline file",
            project.baseline.display()
        )
    })
}

/// A policy through the render gate, with its source database.
pub(crate) struct Gated {
    pub(crate) checked: Checked,
    pub(crate) db: SourceDb,
}

/// Loads the policy at `path` and runs it through the render gate
/// (resolution errors, then the lints with `zonal.toml` and the baseline,
/// exactly as `zonal check` runs them). On refusal the reasons are printed
/// and the exit status is returned; `what` completes "nothing was …".
pub(crate) fn gate(
    path: &Path,
    args: &PolicyArgs,
    what: &str,
) -> anyhow::Result<Result<Gated, ExitStatus>> {
    let mut loaded = load(path, args)?;
    let project = project(path)?;
    let baseline = baseline(&project)?;
    match zonal_pipeline::gate(&mut loaded, &project, &baseline) {
        Ok(checked) => {
            let findings = checked.findings();
            if findings.accepted > 0 {
                printer::error(&format!(
                    "{} finding(s) accepted in the baseline `{}`",
                    findings.accepted,
                    project.baseline.display()
                ));
            }
            if !findings.findings.is_empty() {
                printer::error(&format!(
                    "note: {} finding(s) below error level; run `zonal check` to see them",
                    findings.findings.len()
                ));
            }
            Ok(Ok(Gated {
                checked,
                db: loaded.db,
            }))
        }
        Err(failure) => Ok(Err(report(&loaded.db, failure, what)?)),
    }
}

/// Reads a deployment binding and parses it against the checked policy.
pub(crate) fn bind(
    gated: &mut Gated,
    file: &Path,
) -> anyhow::Result<Result<zonal_backend::Binding, ExitStatus>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the binding file `{}`", file.display()))?;
    let cwd = std::env::current_dir().ok();
    let id = gated
        .db
        .add(display_path(cwd.as_deref(), file), text.clone());
    match zonal_pipeline::bind(&gated.checked, id, &text) {
        Ok(b) => Ok(Ok(b)),
        Err(failure) => Ok(Err(report(&gated.db, failure, "written")?)),
    }
}

/// Prints why the pipeline stopped; returns the exit status (usage-like
/// failures become errors of the command).
pub(crate) fn report(db: &SourceDb, failure: Failure, what: &str) -> anyhow::Result<ExitStatus> {
    Ok(match failure {
        Failure::Invalid(diags) => {
            print_diagnostics(db, &diags);
            printer::error(&format!(
                "error: the policy has errors; nothing was {what} (see `zonal check`)"
            ));
            ExitStatus::Error
        }
        Failure::Config(e) => return Err(e.into()),
        Failure::Refused(refused) => {
            let blocking = refused.blocking();
            print_diagnostics(db, &blocking);
            printer::error(&format!(
                "error: {} error-level finding(s) remain; nothing was {what} (see `zonal check`)",
                blocking.len()
            ));
            ExitStatus::Findings
        }
        Failure::Binding(diags) => {
            print_diagnostics(db, &diags);
            printer::error(&format!(
                "error: the binding file is invalid; nothing was {what}"
            ));
            ExitStatus::Error
        }
        Failure::NoFirewall(why) => bail!("{why}"),
        Failure::Render(diags) => {
            print_diagnostics(db, &diags);
            printer::error(&format!("error: rendering failed; nothing was {what}"));
            ExitStatus::Error
        }
    })
}

/// Prints diagnostics in the human format, sorted.
pub(crate) fn print_diagnostics(db: &SourceDb, diags: &Diagnostics) {
    let mut sorted = diags.clone();
    sorted.sort();
    for d in sorted.iter() {
        printer::err(&printer::human(db, d, printer::Stream::Stderr));
        printer::err("\n");
    }
}

/// Prints `text`, or writes it atomically to `file` (never into a
/// directory of that name) and says so.
pub(crate) fn print_or_write(file: Option<&Path>, text: &str) -> anyhow::Result<()> {
    let Some(file) = file else {
        printer::out(text);
        return Ok(());
    };
    if file.is_dir() {
        anyhow::bail!(
            "`{}` is a directory: name the file to write",
            file.display()
        );
    }
    crate::fs::write_atomic(file, text.as_bytes())?;
    printer::error(&format!("wrote `{}`", file.display()));
    Ok(())
}
