//! The three forms of a [`Review`]: human (optionally coloured), Markdown
//! (a pull-request comment, a collapsible section per rendered file) and
//! JSON. Every user string is escaped for the form: control characters
//! are dropped from human output, Markdown and HTML syntax is escaped in
//! Markdown.

use std::fmt::Write as _;

use crate::{Change, PathChange, Review};

/// The review as JSON (the [`Review`] structure, pretty-printed).
pub fn json(r: &Review) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn count(r: &Review, f: impl Fn(&Review) -> Vec<Change>, c: Change) -> usize {
    f(r).into_iter().filter(|x| *x == c).count()
}

/// One line: what changes, in numbers.
fn summary(r: &Review) -> String {
    let rules = |r: &Review| r.rules.iter().map(|x| x.change).collect();
    let paths = |r: &Review| r.paths.iter().map(|x| x.change).collect();
    let finds = |r: &Review| r.findings.iter().map(|x| x.change).collect();
    let gained = r.reach.iter().filter(|x| x.gained.is_some()).count();
    let lost = r.reach.iter().filter(|x| x.lost.is_some()).count();
    format!(
        "rules: {} added, {} removed, {} changed; reachability: {} gained, {} lost; paths into legacy or modality zones: {} new, {} removed; findings: {} new, {} fixed; rendered files changed: {}{}",
        count(r, rules, Change::Added),
        count(r, rules, Change::Removed),
        count(r, rules, Change::Changed),
        plural(gained, "pair", "pairs"),
        plural(lost, "pair", "pairs"),
        count(r, paths, Change::Added),
        count(r, paths, Change::Removed),
        count(r, finds, Change::Added),
        count(r, finds, Change::Removed),
        r.targets.len(),
        if r.not_rendered.is_some() {
            " (not compared)"
        } else {
            ""
        }
    )
}

const NO_CHANGE: &str = "no semantic change: the models are identical (a reformat or a reordering)";

// ------------------------------------------------------------------ human

/// Terminal styles, empty without colour.
struct Style {
    add: &'static str,
    del: &'static str,
    chg: &'static str,
    head: &'static str,
    reset: &'static str,
}

impl Style {
    fn new(color: bool) -> Style {
        if color {
            Style {
                add: "\x1b[32m",
                del: "\x1b[31m",
                chg: "\x1b[33m",
                head: "\x1b[1m",
                reset: "\x1b[0m",
            }
        } else {
            Style {
                add: "",
                del: "",
                chg: "",
                head: "",
                reset: "",
            }
        }
    }

    fn of(&self, c: Change) -> &'static str {
        match c {
            Change::Added => self.add,
            Change::Removed => self.del,
            Change::Changed => self.chg,
        }
    }
}

/// Text without control characters (no terminal escapes from user text).
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The review for a terminal; `color` adds ANSI colours.
pub fn human(r: &Review, color: bool) -> String {
    let st = Style::new(color);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}policy `{}`: digest {} -> {}{}",
        st.head,
        plain(&r.new_policy),
        r.old_digest,
        r.new_digest,
        st.reset
    );
    if !r.semantic_change {
        let _ = writeln!(o, "{NO_CHANGE}");
        return o;
    }
    let _ = writeln!(o, "{}", summary(r));
    human_rules(r, &st, &mut o);
    human_reach(r, &st, &mut o);
    human_paths(r, &st, &mut o);
    human_findings(r, &st, &mut o);
    human_targets(r, &st, &mut o);
    o
}

fn human_rules(r: &Review, st: &Style, o: &mut String) {
    if !r.rules.is_empty() {
        let _ = writeln!(o, "\n{}rules{}", st.head, st.reset);
    }
    for c in &r.rules {
        let _ = writeln!(
            o,
            "  {}{} {}{}  {}  ({})",
            st.of(c.change),
            c.change.sign(),
            plain(&c.name),
            st.reset,
            plain(&c.summary),
            plain(&c.location)
        );
        for f in &c.fields {
            let _ = writeln!(
                o,
                "      {}: {} -> {}",
                f.field,
                plain(&f.old),
                plain(&f.new)
            );
        }
    }
    if !r.places.is_empty() {
        let _ = writeln!(o, "\n{}zones and devices{}", st.head, st.reset);
    }
    for p in &r.places {
        let _ = writeln!(
            o,
            "  {}{} {} {}{}",
            st.of(p.change),
            p.change.sign(),
            p.kind,
            plain(&p.name),
            st.reset
        );
        for f in &p.fields {
            let _ = writeln!(o, "      {}", plain(f));
        }
    }
}

fn human_reach(r: &Review, st: &Style, o: &mut String) {
    if r.reach.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{}reachability{}", st.head, st.reset);
    let mut last = None;
    for c in &r.reach {
        let pair = (&c.src_zone, &c.dst_zone);
        if last != Some(pair) {
            let _ = writeln!(o, "  {} -> {}", c.src_zone, c.dst_zone);
            last = Some(pair);
        }
        let places = format!("{} [{}] -> {} [{}]", c.src, c.src_addrs, c.dst, c.dst_addrs);
        if let Some(g) = &c.gained {
            let _ = writeln!(o, "    {}+ {places}: {g}{}", st.add, st.reset);
        }
        if let Some(l) = &c.lost {
            let _ = writeln!(o, "    {}- {places}: {l}{}", st.del, st.reset);
        }
        if let Some(e) = &c.example {
            let _ = writeln!(o, "        e.g. {e}");
        }
    }
}

fn path_title(p: &PathChange) -> String {
    format!(
        "{} ~> {} ({}), {}",
        p.from,
        p.to,
        p.why,
        plural(p.hops.len(), "hop", "hops")
    )
}

fn human_paths(r: &Review, st: &Style, o: &mut String) {
    if r.paths.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n{}paths into legacy and modality zones{}",
        st.head, st.reset
    );
    for p in &r.paths {
        let what = if p.change == Change::Added {
            "new"
        } else {
            "removed"
        };
        let _ = writeln!(
            o,
            "  {}{} {what}: {}{}",
            st.of(p.change),
            p.change.sign(),
            path_title(p),
            st.reset
        );
        for (i, h) in p.hops.iter().enumerate() {
            let _ = writeln!(
                o,
                "      {}. {} -> {}: {} via `{}`",
                i + 1,
                h.from,
                h.to,
                h.packet,
                h.rule
            );
        }
    }
}

fn human_findings(r: &Review, st: &Style, o: &mut String) {
    if r.findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{}findings{}", st.head, st.reset);
    for f in &r.findings {
        let what = if f.change == Change::Added {
            "new"
        } else {
            "fixed"
        };
        let _ = writeln!(
            o,
            "  {}{} {what} {}[{}]: {}{}  ({})",
            st.of(f.change),
            f.change.sign(),
            f.level.as_str(),
            f.code,
            plain(&f.message),
            st.reset,
            plain(&f.location)
        );
        for n in &f.notes {
            let _ = writeln!(o, "      {}", plain(n));
        }
    }
}

fn human_targets(r: &Review, st: &Style, o: &mut String) {
    if r.targets.is_empty() && r.not_rendered.is_none() {
        return;
    }
    let _ = writeln!(o, "\n{}rendered configuration{}", st.head, st.reset);
    if let Some(n) = &r.not_rendered {
        let _ = writeln!(o, "  not compared: {}", plain(n));
    }
    for t in &r.targets {
        let _ = writeln!(
            o,
            "  {} ({}): +{} -{} lines",
            plain(&t.file),
            t.target,
            t.added,
            t.removed
        );
        if let Some(n) = &t.note {
            let _ = writeln!(o, "      {}", plain(n));
        }
        for line in t.diff.lines() {
            let c = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => st.add,
                Some(b'-') if !line.starts_with("---") => st.del,
                _ => "",
            };
            let _ = writeln!(
                o,
                "    {c}{}{}",
                plain(line),
                if c.is_empty() { "" } else { st.reset }
            );
        }
    }
}

// --------------------------------------------------------------- markdown

/// Free text for Markdown: HTML's `<`, `>`, `&` as entities; the
/// characters that open emphasis, code, links, tables, strike-through and
/// mentions backslash-escaped anywhere, those that open a heading, a list
/// or a quote at the start; line breaks as spaces.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '~' | '@' => {
                o.push('\\');
                o.push(c);
            }
            '#' | '+' | '-' | '=' if i == 0 => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// A code span holding `s` whatever backticks it contains.
fn code(s: &str) -> String {
    let s: String = plain(s).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Text inside HTML (the `<summary>` of a section).
fn html(s: &str) -> String {
    plain(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn md_sign(c: Change) -> &'static str {
    match c {
        Change::Added => "➕",
        Change::Removed => "➖",
        Change::Changed => "✏️",
    }
}

/// The review as a Markdown pull-request comment.
pub fn markdown(r: &Review) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### Zonal policy review: {}\n", code(&r.new_policy));
    if !r.semantic_change {
        let _ = writeln!(
            o,
            "**No semantic change**: the models are identical (digest {}), so a reformat or a reordering. No rule, reachability, finding or rendered line changes.",
            code(&r.new_digest)
        );
        return o;
    }
    let _ = writeln!(
        o,
        "Digest {} → {}. {}\n",
        code(&r.old_digest),
        code(&r.new_digest),
        md(&summary(r))
    );
    md_paths(r, &mut o);
    md_findings(r, &mut o);
    md_rules(r, &mut o);
    md_reach(r, &mut o);
    md_targets(r, &mut o);
    o
}

fn md_paths(r: &Review, o: &mut String) {
    if r.paths.is_empty() {
        return;
    }
    let _ = writeln!(o, "#### Paths into legacy and modality zones\n");
    for p in &r.paths {
        let what = if p.change == Change::Added {
            "⚠️ **new path**"
        } else {
            "✅ **path removed**"
        };
        let _ = writeln!(
            o,
            "- {what} {} ⇝ {} ({}), {}:",
            code(&p.from),
            code(&p.to),
            md(&p.why),
            plural(p.hops.len(), "hop", "hops")
        );
        for (i, h) in p.hops.iter().enumerate() {
            let _ = writeln!(
                o,
                "  {}. {} → {}: {} via {}",
                i + 1,
                code(&h.from),
                code(&h.to),
                code(&h.packet),
                code(&h.rule)
            );
        }
    }
    o.push('\n');
}

fn md_findings(r: &Review, o: &mut String) {
    if r.findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "#### Findings\n");
    for f in &r.findings {
        let what = if f.change == Change::Added {
            "new"
        } else {
            "fixed"
        };
        let _ = writeln!(
            o,
            "- {} {what} **{}** {}: {} ({})",
            md_sign(f.change),
            f.level.as_str(),
            code(&f.code),
            md(&f.message),
            code(&f.location)
        );
        for n in &f.notes {
            let _ = writeln!(o, "  - {}", md(n));
        }
    }
    o.push('\n');
}

fn md_rules(r: &Review, o: &mut String) {
    if !r.rules.is_empty() {
        let _ = writeln!(o, "#### Rules\n");
    }
    for c in &r.rules {
        let _ = writeln!(
            o,
            "- {} {}: {} ({})",
            md_sign(c.change),
            code(&c.name),
            code(&c.summary),
            code(&c.location)
        );
        for f in &c.fields {
            let _ = writeln!(o, "  - {}: {} → {}", md(&f.field), md(&f.old), md(&f.new));
        }
    }
    if !r.rules.is_empty() {
        o.push('\n');
    }
    if r.places.is_empty() {
        return;
    }
    let _ = writeln!(o, "#### Zones and devices\n");
    for p in &r.places {
        let _ = writeln!(o, "- {} {} {}", md_sign(p.change), p.kind, code(&p.name));
        for f in &p.fields {
            let _ = writeln!(o, "  - {}", md(f));
        }
    }
    o.push('\n');
}

fn md_reach(r: &Review, o: &mut String) {
    if r.reach.is_empty() {
        return;
    }
    let _ = writeln!(o, "#### Reachability\n");
    let mut last = None;
    for c in &r.reach {
        let pair = (&c.src_zone, &c.dst_zone);
        if last != Some(pair) {
            let _ = writeln!(o, "- {} → {}", code(&c.src_zone), code(&c.dst_zone));
            last = Some(pair);
        }
        let places = format!(
            "{} ({}) → {} ({})",
            code(&c.src),
            md(&c.src_addrs),
            code(&c.dst),
            md(&c.dst_addrs)
        );
        if let Some(g) = &c.gained {
            let _ = writeln!(o, "  - ➕ gained {places}: {}", code(g));
        }
        if let Some(l) = &c.lost {
            let _ = writeln!(o, "  - ➖ lost {places}: {}", code(l));
        }
        if let Some(e) = &c.example {
            let _ = writeln!(o, "    - e.g. {}", md(e));
        }
    }
    o.push('\n');
}

fn md_targets(r: &Review, o: &mut String) {
    if r.targets.is_empty() && r.not_rendered.is_none() {
        return;
    }
    let _ = writeln!(o, "#### Rendered configuration\n");
    if let Some(n) = &r.not_rendered {
        let _ = writeln!(o, "Not compared: {}\n", md(n));
    }
    for t in &r.targets {
        let _ = writeln!(
            o,
            "<details><summary>{} · {}: +{} −{} lines</summary>\n",
            html(&t.target),
            html(&t.file),
            t.added,
            t.removed
        );
        if let Some(n) = &t.note {
            let _ = writeln!(o, "{}\n", md(n));
        }
        if !t.diff.is_empty() {
            // A fence longer than any run of backticks in the text.
            let mut longest = 0;
            let mut run = 0;
            for c in t.diff.chars() {
                run = if c == '`' { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            let fence = "`".repeat((longest + 1).max(3));
            let nl = if t.diff.ends_with('\n') { "" } else { "\n" };
            let _ = writeln!(o, "{fence}diff\n{}{nl}{fence}\n", t.diff);
        }
        let _ = writeln!(o, "</details>\n");
    }
}
