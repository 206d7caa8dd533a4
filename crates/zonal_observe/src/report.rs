//! The replay report as text, Markdown (a change-board note), JSON and CSV.

use std::fmt::Write as _;

use crate::replay::{ReplayReport, RuleUse};

/// `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn period(first: Option<&String>, last: Option<&String>) -> String {
    match (first, last) {
        (Some(f), Some(l)) if f == l => f.clone(),
        (Some(f), Some(l)) => format!("{f} .. {l}"),
        _ => "-".into(),
    }
}

/// Plain text for a terminal.
pub fn human(r: &ReplayReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "replayed {} record(s) from {} against policy `{}`",
        thousands(r.records),
        r.sources.join(", "),
        r.policy
    );
    let _ = writeln!(
        o,
        "  allowed {} connection(s), denied {}, related not judged {}, unreadable records {}",
        thousands(r.allowed),
        thousands(r.denied),
        thousands(r.related),
        thousands(r.bad)
    );
    if r.denied_aggregates.is_empty() {
        let _ = writeln!(o, "\nno observed connection would be denied");
    } else {
        let _ = writeln!(
            o,
            "\nwould be DENIED ({} aggregate(s)):",
            r.denied_aggregates.len()
        );
        for d in &r.denied_aggregates {
            let packet = if d.packet == d.service {
                String::new()
            } else {
                format!(" ({})", d.packet)
            };
            let _ = writeln!(
                o,
                "  {} -> {} : {}{packet}, {} connection(s), {}, {}",
                d.from,
                d.to,
                d.service,
                thousands(d.count),
                period(d.first_seen.as_ref(), d.last_seen.as_ref()),
                d.decided_by
            );
            if let Some(t) = &d.threat {
                let _ = writeln!(
                    o,
                    "    LOOKS LIKE A THREAT: {t}; investigate before allowing anything"
                );
            }
            if let Some(s) = &d.suggestion {
                let _ = writeln!(o, "    suggest: {s}");
            }
            if let Some(n) = &d.note {
                let _ = writeln!(o, "    note: {n}");
            }
        }
    }
    if !r.rules.is_empty() {
        let _ = writeln!(o, "\nallowed, by rule:");
        for u in &r.rules {
            let _ = writeln!(
                o,
                "  {} ({}): {} connection(s), last seen {}",
                u.rule,
                u.location,
                thousands(u.count),
                u.last_seen.as_deref().unwrap_or("-")
            );
        }
    }
    if !r.unused_rules.is_empty() {
        let _ = writeln!(
            o,
            "\nrules no observed traffic used (candidates for removal after a representative period):"
        );
        for u in &r.unused_rules {
            let _ = writeln!(o, "  {} ({}), {}", u.rule, u.location, u.leg);
        }
    }
    if r.bad > 0 {
        let _ = writeln!(
            o,
            "\n{} unreadable record(s){}:",
            thousands(r.bad),
            if r.bad > r.bad_examples.len() as u64 {
                format!(", the first {}", r.bad_examples.len())
            } else {
                String::new()
            }
        );
        for b in &r.bad_examples {
            let _ = writeln!(o, "  {}:{}: {}", b.source, b.line, b.reason);
        }
    }
    o
}

/// Text safe in a Markdown table cell or paragraph.
fn md(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '&' => {
                let _ = write!(o, "&#{};", u32::from(c));
            }
            '\n' | '\r' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A name in code style, safe in Markdown (names hold no backtick, but
/// file paths may).
fn code(text: &str) -> String {
    if text.contains('`') || text.contains('|') || text.contains('\n') {
        md(text)
    } else {
        format!("`{text}`")
    }
}

fn rule_rows(o: &mut String, rules: &[RuleUse]) {
    let _ = writeln!(
        o,
        "| rule | declared at | leg | connections | first seen | last seen |"
    );
    let _ = writeln!(o, "|---|---|---|---:|---|---|");
    for u in rules {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            code(&u.rule),
            code(&u.location),
            md(&u.leg),
            thousands(u.count),
            md(u.first_seen.as_deref().unwrap_or("-")),
            md(u.last_seen.as_deref().unwrap_or("-"))
        );
    }
}

/// Markdown, readable as a note to a change board.
#[expect(
    clippy::too_many_lines,
    reason = "one document, section after section, in reading order"
)]
pub fn markdown(r: &ReplayReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Traffic replay against `{}`\n", md(&r.policy));
    let sources: Vec<String> = r.sources.iter().map(|s| code(s)).collect();
    let _ = writeln!(
        o,
        "Observed traffic from {} ({} records) was judged by the policy's own decision function.\n",
        sources.join(", "),
        thousands(r.records)
    );
    if r.denied_aggregates.is_empty() {
        let _ = writeln!(o, "**Result: no observed connection would be blocked.**\n");
    } else {
        let _ = writeln!(
            o,
            "**Result: {} observed connection(s) in {} group(s) would be blocked.** Each needs a decision: add the suggested rule, or confirm the traffic is unwanted.\n",
            thousands(r.denied),
            r.denied_aggregates.len()
        );
    }
    let _ = writeln!(o, "| | connections |\n|---|---:|");
    let _ = writeln!(o, "| allowed | {} |", thousands(r.allowed));
    let _ = writeln!(o, "| would be blocked | {} |", thousands(r.denied));
    let _ = writeln!(
        o,
        "| related, not judged (ICMP errors, neighbour discovery) | {} |",
        thousands(r.related)
    );
    let _ = writeln!(o, "| unreadable records | {} |", thousands(r.bad));
    if !r.denied_aggregates.is_empty() {
        let _ = writeln!(o, "\n## Would be blocked\n");
        let _ = writeln!(
            o,
            "| from | to | service | connections | first seen | last seen | decided by | looks like a threat |"
        );
        let _ = writeln!(o, "|---|---|---|---:|---|---|---|---|");
        for d in &r.denied_aggregates {
            let _ = writeln!(
                o,
                "| {} | {} | {} ({}) | {} | {} | {} | {} | {} |",
                code(&d.from),
                code(&d.to),
                code(&d.service),
                md(&d.packet),
                thousands(d.count),
                md(d.first_seen.as_deref().unwrap_or("-")),
                md(d.last_seen.as_deref().unwrap_or("-")),
                md(&d.decided_by),
                md(d.threat.as_deref().unwrap_or("no"))
            );
        }
        let suggestions: Vec<String> = r
            .denied_aggregates
            .iter()
            .filter_map(|d| {
                let s = d.suggestion.as_deref()?;
                Some(match &d.threat {
                    // Commented out: a reviewer must not paste it blindly.
                    Some(t) => format!("# looks like a threat ({t}), investigate first:\n# {s}"),
                    None => s.to_string(),
                })
            })
            .collect();
        if !suggestions.is_empty() {
            let _ = writeln!(
                o,
                "\nSuggested rules, one per group (review each before adding it):\n"
            );
            let _ = writeln!(o, "```zonal");
            for s in suggestions {
                // A suggestion is one line of policy syntax; a fence
                // cannot occur in it (names hold no backtick).
                let _ = writeln!(o, "{}", s.replace('`', "'"));
            }
            let _ = writeln!(o, "```");
        }
        for d in r.denied_aggregates.iter().filter(|d| d.note.is_some()) {
            let _ = writeln!(
                o,
                "\n- {} → {} ({}): {}",
                code(&d.from),
                code(&d.to),
                md(&d.packet),
                md(d.note.as_deref().unwrap_or(""))
            );
        }
    }
    if !r.rules.is_empty() {
        let _ = writeln!(o, "\n## Allowed, by rule\n");
        rule_rows(&mut o, &r.rules);
    }
    if !r.unused_rules.is_empty() {
        let _ = writeln!(
            o,
            "\n## Rules no observed traffic used\n\nCandidates for removal, if the observation period covered every workflow (monthly and yearly jobs too):\n"
        );
        for u in &r.unused_rules {
            let _ = writeln!(
                o,
                "- {} ({}), {}",
                code(&u.rule),
                code(&u.location),
                md(&u.leg)
            );
        }
    }
    if r.bad > 0 {
        let _ = writeln!(o, "\n## Unreadable records ({})\n", thousands(r.bad));
        for b in &r.bad_examples {
            let _ = writeln!(
                o,
                "- {}, line {}: {}",
                code(&b.source),
                b.line,
                md(&b.reason)
            );
        }
    }
    o
}

/// Pretty JSON.
pub fn json(r: &ReplayReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

/// A CSV field: quoted, quotes doubled, a leading formula character
/// neutralised for spreadsheets.
fn csv_field(text: &str) -> String {
    let t = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", t.replace('"', "\"\""))
}

/// CSV, one row per denied aggregate, used rule and unused rule.
pub fn csv(r: &ReplayReport) -> String {
    let mut o = String::from(
        "kind,from,to,service,packet,connections,first_seen,last_seen,decided_by,suggestion,threat\n",
    );
    for d in &r.denied_aggregates {
        let _ = writeln!(
            o,
            "denied,{},{},{},{},{},{},{},{},{},{}",
            csv_field(&d.from),
            csv_field(&d.to),
            csv_field(&d.service),
            csv_field(&d.packet),
            d.count,
            csv_field(d.first_seen.as_deref().unwrap_or("")),
            csv_field(d.last_seen.as_deref().unwrap_or("")),
            csv_field(&d.decided_by),
            csv_field(d.suggestion.as_deref().or(d.note.as_deref()).unwrap_or("")),
            csv_field(d.threat.as_deref().unwrap_or(""))
        );
    }
    for (kind, rules) in [("allowed", &r.rules), ("unused", &r.unused_rules)] {
        for u in rules {
            let _ = writeln!(
                o,
                "{kind},,,,,{},{},{},{},,",
                u.count,
                csv_field(u.first_seen.as_deref().unwrap_or("")),
                csv_field(u.last_seen.as_deref().unwrap_or("")),
                csv_field(&format!("{} ({})", u.rule, u.location)),
            );
        }
    }
    o
}
