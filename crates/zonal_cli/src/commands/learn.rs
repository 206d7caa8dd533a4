//! `zonal learn --flows FILE… [--inventory POLICY] [-o OUT]`: a draft
//! policy from observed traffic, for review (see docs/observe.md).

use std::path::Path;

use anyhow::bail;
use zonal_observe::learn::{Learn, inventory_declarations};
use zonal_observe::{Feed, FlowReader};

use super::replay::{Line, Progress, forced, policy_of, stream_lines};
use crate::ExitStatus;
use crate::args::LearnArgs;
use crate::fs::write_atomic;
use crate::printer;

pub(crate) fn run(args: &LearnArgs) -> anyhow::Result<ExitStatus> {
    let inventory = match &args.inventory {
        Some(path) => {
            let loaded = super::load(path, &args.policy)?;
            let policy = policy_of(&loaded, "drafting from it")?;
            Some((inventory_declarations(&loaded), policy))
        }
        None => None,
    };
    if !valid_name(&args.name) {
        bail!(
            "`--name {}` is not a policy name: letters, digits, `-`, `_`, `.`",
            args.name
        );
    }
    let mut learn = Learn::new(inventory.as_ref().map(|(_, p)| p));
    let mut progress = Progress::new();
    let (mut records, mut flows, mut bad) = (0u64, 0u64, 0u64);
    let mut first_bad = None;
    for file in &args.flows {
        let name = file.display().to_string();
        let mut reader = FlowReader::new(forced(args.format));
        stream_lines(file, |n, line| {
            records += 1;
            let feed = match line {
                Line::Text(s) => reader.feed(s),
                Line::NotUtf8 => Feed::Bad("not UTF-8 text".into()),
            };
            match feed {
                Feed::Flow(f) => {
                    flows += 1;
                    learn.observe(&f);
                }
                Feed::Related | Feed::Skip => {}
                Feed::Bad(why) => {
                    bad += 1;
                    first_bad.get_or_insert_with(|| format!("{name}:{n}: {why}"));
                }
                Feed::Undetected => bail!(
                    "cannot tell the format of `{name}` from line {n}: pass `--format` (zeek, zeek-json, conntrack, nf-conntrack, csv)"
                ),
            }
            progress.tick(records, &name);
            Ok(())
        })
        .inspect_err(|_| progress.done())?;
    }
    progress.done();
    if let Some(b) = &first_bad {
        printer::error(&format!(
            "warning: {bad} unreadable record(s); the first: {b}"
        ));
    }
    if flows == 0 {
        bail!("no flow record could be read; nothing to draft from");
    }
    let draft = learn.draft(&args.name, inventory.as_ref().map(|(t, _)| t.as_str()));
    match &args.output {
        Some(out) => write_atomic(Path::new(out), draft.text.as_bytes())?,
        None => printer::out(&draft.text),
    }
    printer::error(&format!(
        "drafted {} rule(s) from {flows} flow record(s); {} suspected threat(s) left out (listed at the end of the draft); review it, then `zonal check` and `zonal replay`",
        draft.rules,
        draft.threats.len()
    ));
    if draft.unplaced > 0 {
        printer::error(&format!(
            "warning: {} connection(s) with an address in no zone of the inventory were left out",
            draft.unplaced
        ));
    }
    Ok(ExitStatus::Success)
}

/// Whether the language takes `n` as a policy name.
fn valid_name(n: &str) -> bool {
    n.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && zonal_syntax::parse(zonal_diagnostics::FileId(0), &format!("policy {n} {{}}\n"))
            .diagnostics
            .is_empty()
}
