//! `zonal`: the segmentation-policy compiler for hospital imaging networks.
//!
//! This crate is the only one that prints or touches the filesystem.

mod args;
mod commands;
mod fs;
mod git;
mod lint_output;
mod printer;
mod signals;

use std::process::ExitCode;

use clap::Parser as _;

/// The allocator of the `zonal` process. Loading, checking and rendering
/// allocate many small, short-lived values (rule terms, address sets,
/// template values); with the system allocator, `malloc` and `free` were
/// a third of a build's time (`docs/performance.md`, "Allocation").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How `zonal` exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// 0: valid, nothing at or above the failure threshold.
    Success,
    /// 1: error-level findings (or findings at or above `--fail-on`).
    Findings,
    /// 2: invalid input, I/O or usage error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            };
            // clap renders help, version and usage errors itself.
            let _ = e.print();
            return code.into();
        }
    };
    printer::set_color(cli.color);
    signals::install();
    let status = match commands::run(cli) {
        Ok(s) => s,
        Err(e) => {
            printer::error(&format!("error: {e:#}"));
            ExitStatus::Error
        }
    };
    signals::wait_if_interrupted();
    status.into()
}
