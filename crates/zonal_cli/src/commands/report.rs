//! `zonal report PATH`: the offline HTML report or the CSV of the matrix
//! and per-place reach (`zonal_review::report`); this module reads the
//! policy, runs the lints as `zonal check` does, and writes the file.

use anyhow::Context as _;

use crate::ExitStatus;
use crate::args::{ReportArgs, ReportFormat};
use crate::printer;

/// Parses `--expiring-within`.
pub(crate) fn days(text: &str) -> anyhow::Result<u32> {
    zonal_review::expiry::parse_days(text).with_context(|| {
        format!("`--expiring-within {text}` is not a number of days: write e.g. `30d` or `4w`")
    })
}

pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let within = days(&args.expiring_within)?;
    let loaded = super::load(&args.path, &args.policy)?;
    let policy = match &loaded.policy {
        Some(p) if !loaded.diagnostics.has_input_errors() => p,
        _ => {
            super::print_diagnostics(&loaded.db, &loaded.diagnostics);
            printer::error("error: the policy has errors; nothing was written (see `zonal check`)");
            return Ok(ExitStatus::Error);
        }
    };
    let lint = crate::lint_output::run(&args.path, policy, false)?;
    if let Some(note) = &lint.note {
        printer::error(note);
    }
    let input = zonal_review::report::Input {
        policy,
        db: &loaded.db,
        findings: &lint.findings,
        expiring_within: within,
    };
    let text = match args.format {
        ReportFormat::Html => zonal_review::report::html(&input),
        ReportFormat::Csv => zonal_review::report::csv(&input),
    };
    super::print_or_write(args.output.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}
