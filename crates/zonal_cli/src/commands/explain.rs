//! `zonal explain CODE`: prints `docs/diagnostics/CODE.md`, embedded at build time.

use crate::ExitStatus;
use crate::args::ExplainArgs;
use crate::printer;

include!(concat!(env!("OUT_DIR"), "/explain_pages.rs"));

pub(crate) fn run(args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    if args.list {
        for (code, page) in PAGES {
            let title = page
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches('#')
                .trim();
            printer::outln(&format!("{code}  {title}"));
        }
        return Ok(ExitStatus::Success);
    }
    let Some(code) = args.code.as_deref() else {
        anyhow::bail!("name a code, e.g. `zonal explain E0104`, or use `--list`");
    };
    let wanted = code.trim();
    let page = PAGES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(wanted))
        .or_else(|| {
            // Lint pages may be looked up by their kebab-case name, which is
            // written on the page as "name: `kebab-name`".
            PAGES.iter().find(|(_, p)| {
                p.contains(&format!("`{wanted}`")) && p.lines().take(5).any(|l| l.contains(wanted))
            })
        });
    match page {
        Some((_, text)) => {
            printer::out(text);
            Ok(ExitStatus::Success)
        }
        None => anyhow::bail!(
            "no documentation for `{wanted}`; `zonal explain --list` shows every code"
        ),
    }
}
