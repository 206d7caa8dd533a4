//! `zonal check`: parse, resolve and lint; print every finding.

use zonal_diagnostics::{Diagnostics, Severity, SourceDb, render};

use crate::ExitStatus;
use crate::args::{CheckArgs, Format};
use crate::printer;

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let Some(fail_on) = Severity::parse(&args.fail_on) else {
        anyhow::bail!(
            "`--fail-on {}` is not a severity: use info, low, medium, high, critical or error",
            args.fail_on
        );
    };
    let expiring_within = match &args.expiring_within {
        Some(t) => Some(super::report::days(t)?),
        None => None,
    };
    let mut status = ExitStatus::Success;
    let mut json_all = Vec::new();
    let mut sarif = crate::lint_output::Sarif::default();
    for path in &args.paths {
        let loaded = super::load(path, &args.policy)?;
        let mut diags = loaded.diagnostics.clone();
        if let Some(policy) = &loaded.policy
            && !loaded.diagnostics.has_input_errors()
        {
            let lint = crate::lint_output::run(path, policy, args.write_baseline)?;
            if let Some(note) = &lint.note {
                printer::err(&format!("{note}\n"));
            }
            diags.extend(lint.findings);
        }
        diags.sort();
        match args.format {
            Format::Human | Format::Short => print_text(&loaded.db, &diags, args.format),
            Format::Sarif => sarif.add(&loaded.db, &diags),
            Format::Json => {
                json_all.extend(diags.iter().map(|d| render::json(&loaded.db, d)));
            }
        }
        if let (Some(within), Some(policy), Format::Human | Format::Short) =
            (expiring_within, &loaded.policy, args.format)
        {
            print_expiring(&loaded.db, policy, within);
        }
        let s = exit_for(&diags, fail_on);
        if s == ExitStatus::Error || (s == ExitStatus::Findings && status == ExitStatus::Success) {
            status = s;
        }
        // The process is about to exit: freeing a large model piece by
        // piece costs more than a tenth of the run on big policies, and
        // the operating system reclaims it at once.
        std::mem::forget(loaded);
    }
    if args.format == Format::Json {
        printer::outln(&serde_json::to_string_pretty(&json_all)?);
    }
    if args.format == Format::Sarif {
        printer::outln(&serde_json::to_string_pretty(&sarif.finish())?);
    }
    Ok(status)
}

fn exit_for(diags: &Diagnostics, fail_on: Severity) -> ExitStatus {
    if diags.has_input_errors() {
        ExitStatus::Error
    } else if diags.iter().any(|d| d.severity >= fail_on) {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    }
}

fn print_text(db: &SourceDb, diags: &Diagnostics, format: Format) {
    // One write for all findings: a large policy can have tens of thousands.
    let mut out = String::new();
    for d in diags {
        match format {
            Format::Short => out.push_str(&render::short(db, d)),
            _ => out.push_str(&printer::human(db, d, printer::Stream::Stdout)),
        }
        out.push('\n');
    }
    printer::out(&out);
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let findings = diags.len() - errors;
    if format == Format::Human {
        if diags.is_empty() {
            printer::out("ok: no findings\n");
        } else {
            printer::out(&format!("{errors} error(s), {findings} finding(s)\n"));
        }
    }
}

/// The rules whose `until` is at most `within` days away (expired ones too).
fn print_expiring(db: &SourceDb, policy: &zonal_model::Policy, within: u32) {
    let list = zonal_review::expiry::expiring(policy, within);
    let mut out = format!(
        "{} rule(s) expire within {within} day(s) of {}\n",
        list.len(),
        policy.today
    );
    for e in &list {
        let r = policy.rule(e.rule);
        let lc = db.line_col(r.span.file, r.span.range.start);
        let left = if e.days_left < 0 {
            "expired".to_string()
        } else {
            format!("in {} day(s)", e.days_left)
        };
        out.push_str(&format!(
            "  {}:{}:{}: `{}` until {} ({left})\n",
            db.name(r.span.file),
            lc.line,
            lc.col,
            r.name,
            e.until
        ));
    }
    printer::out(&out);
}
