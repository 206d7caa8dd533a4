//! `zonal replay PATH --flows FILE…`: what would this policy block of the
//! traffic observed? Every record is judged by `Policy::decide`; the
//! inputs are streamed line by line (constant memory), with a progress
//! line on a terminal. Exit 0: done (1 with `--fail-on-denied` when some
//! observed connection would be denied); 2: usage, input or I/O error.

use std::io::BufRead as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_observe::{Feed, FlowReader, Format, Replay, report};

use crate::ExitStatus;
use crate::args::{FlowFormat, ReplayArgs, ReplayReport};
use crate::printer;

/// The policy at `path`, refusing one with input errors.
pub(crate) fn policy_of(loaded: &zonal_model::Loaded, what: &str) -> anyhow::Result<Policy> {
    match &loaded.policy {
        Some(p) if !loaded.diagnostics.has_input_errors() => Ok(p.clone()),
        _ => {
            for d in &loaded.diagnostics {
                printer::err(&printer::human(&loaded.db, d, printer::Stream::Stderr));
            }
            bail!("the policy has errors; fix them before {what}");
        }
    }
}

/// `file:line` of a span.
pub(crate) fn line_of(db: &SourceDb, span: zonal_diagnostics::Span) -> String {
    let lc = db.line_col(span.file, span.range.start);
    format!("{}:{}", db.name(span.file), lc.line)
}

/// The format `--format` forces.
pub(crate) fn forced(f: FlowFormat) -> Option<Format> {
    match f {
        FlowFormat::Auto => None,
        FlowFormat::Zeek => Some(Format::Zeek),
        FlowFormat::ZeekJson => Some(Format::ZeekJson),
        FlowFormat::Conntrack => Some(Format::Conntrack),
        FlowFormat::NfConntrack => Some(Format::NfConntrack),
        FlowFormat::Csv => Some(Format::Csv),
    }
}

/// What the reader gives, per line.
pub(crate) enum Line<'a> {
    /// A decoded line.
    Text(&'a str),
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Streams the lines of `file` (`-` is standard input) to `each`, with the
/// 1-based line number. Stops early when `each` returns an error.
pub(crate) fn stream_lines(
    file: &Path,
    mut each: impl FnMut(u64, Line<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot read `{}`", file.display()))?;
        if meta.is_dir() {
            bail!(
                "`{}` is a directory, not a flow-record file",
                file.display()
            );
        }
        Box::new(
            std::fs::File::open(file)
                .with_context(|| format!("cannot read `{}`", file.display()))?,
        )
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, input);
    let mut buf = Vec::with_capacity(512);
    let mut n = 0u64;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read `{}`", file.display()))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        match std::str::from_utf8(&buf) {
            Ok(s) => each(n, Line::Text(s))?,
            Err(_) => each(n, Line::NotUtf8)?,
        }
    }
}

/// A progress line on a terminal (stderr), every 2^20 records.
pub(crate) struct Progress {
    on: bool,
    shown: bool,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Progress {
            on: printer::stderr_is_terminal(),
            shown: false,
        }
    }

    pub(crate) fn tick(&mut self, records: u64, file: &str) {
        if self.on && records.is_multiple_of(1 << 20) {
            printer::err(&format!("\r  {records} records read ({file})…"));
            self.shown = true;
        }
    }

    pub(crate) fn done(&mut self) {
        if self.shown {
            printer::err("\r\x1b[2K");
            self.shown = false;
        }
    }
}

pub(crate) fn run(args: &ReplayArgs) -> anyhow::Result<ExitStatus> {
    let loaded = super::load(&args.path, &args.policy)?;
    let policy = policy_of(&loaded, "replaying traffic against it")?;
    let mut replay = Replay::new(&policy);
    let mut progress = Progress::new();
    let mut flows = 0u64;
    for file in &args.flows {
        let name = file.display().to_string();
        replay.source(&name);
        let mut reader = FlowReader::new(forced(args.format));
        stream_lines(file, |n, line| {
            let feed = match line {
                Line::Text(s) => reader.feed(s),
                Line::NotUtf8 => Feed::Bad("not UTF-8 text".into()),
            };
            match feed {
                Feed::Flow(f) => {
                    flows += 1;
                    replay.observe(&f);
                }
                Feed::Related => replay.related(),
                Feed::Skip => {}
                Feed::Bad(why) => replay.bad(&name, n, why),
                Feed::Undetected => bail!(
                    "cannot tell the format of `{name}` from line {n}: pass `--format` (zeek, zeek-json, conntrack, nf-conntrack, csv)"
                ),
            }
            progress.tick(replay.records(), &name);
            Ok(())
        })
        .inspect_err(|_| progress.done())?;
    }
    progress.done();
    let report = replay.finish(&|id| line_of(&loaded.db, policy.rule(id).span));
    if flows == 0 && report.bad > 0 {
        printer::err(&report::human(&report));
        bail!("no flow record could be read; check the format (`--format`)");
    }
    printer::out(&match args.report {
        ReplayReport::Human => report::human(&report),
        ReplayReport::Markdown => report::markdown(&report),
        ReplayReport::Json => report::json(&report),
        ReplayReport::Csv => report::csv(&report),
    });
    if report.bad > 0 && args.report != ReplayReport::Human {
        printer::error(&format!(
            "warning: {} unreadable record(s); the first at {}:{}",
            report.bad,
            report
                .bad_examples
                .first()
                .map_or("", |b| b.source.as_str()),
            report.bad_examples.first().map_or(0, |b| b.line)
        ));
    }
    Ok(if args.fail_on_denied && report.denied > 0 {
        printer::error(&format!(
            "error: {} observed connection(s) would be denied (--fail-on-denied)",
            report.denied
        ));
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}
