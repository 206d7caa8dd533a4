//! One module per subcommand.

mod build;
mod check;
mod explain;
mod fmt;
mod query;
mod verify;

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::ExitStatus;
use crate::args::{Cli, Command, PolicyArgs};
use crate::fs::FsLoader;

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Build(a) => build::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Fmt(a) => fmt::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Query(a) => query::run(&a),
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
    Ok(zonal_model::load(&FsLoader::new(), &p, &options))
}
