//! `zonal explain CODE`: prints `docs/diagnostics/CODE.md`, embedded at build time.

use crate::ExitStatus;
use crate::args::ExplainArgs;
use crate::printer;

include!(concat!(env!("OUT_DIR"), "/explain_pages.rs"));

pub(crate) fn run(args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    if args.list {
        let mut out = String::new();
        for (code, page) in PAGES {
            out.push_str(&list_line(code, page));
            out.push('\n');
        }
        printer::out(&out);
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

/// One line of `zonal explain --list`: the code once, its default
/// severity (lints) or `error` (diagnostics of the front end and
/// backends), and the page's title.
fn list_line(code: &str, page: &str) -> String {
    let heading = page
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('#')
        .trim();
    let title = heading
        .strip_prefix(code)
        .map(|t| t.trim_start_matches(':').trim())
        .unwrap_or(heading);
    match zonal_lint::find_lint(code) {
        Some(lint) => format!(
            "{code}  {:<8}  {}: {}",
            lint.severity.as_str(),
            lint.name,
            lint.summary
        ),
        // Build warnings (`W03xx`) never block; every other code is an error.
        None if code.starts_with('W') => format!("{code}  {:<8}  {title}", "warning"),
        None => format!("{code}  {:<8}  {title}", "error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_shows_each_code_once_with_severity_and_title() {
        let line = list_line("E0104", "# E0104: unknown zone, device or group\n");
        assert_eq!(line, "E0104  error     unknown zone, device or group");
        let line = list_line("W0303", "# W0303: a rule inside one subnet\n");
        assert_eq!(line, "W0303  warning   a rule inside one subnet");
        let lint = zonal_lint::registry().first().expect("a lint");
        let page = PAGES
            .iter()
            .find(|(c, _)| *c == lint.code)
            .map(|(_, p)| *p)
            .expect("every lint has a page");
        let line = list_line(lint.code, page);
        assert_eq!(
            line,
            format!(
                "{}  {:<8}  {}: {}",
                lint.code,
                lint.severity.as_str(),
                lint.name,
                lint.summary
            )
        );
        assert_eq!(line.matches(lint.code).count(), 1, "{line}");
    }
}
