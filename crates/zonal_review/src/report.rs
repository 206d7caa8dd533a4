//! `zonal report`: one self-contained, offline HTML page (the zone × zone
//! matrix of permitted services with links to the rules, a section per
//! device with what it reaches and what reaches it, multi-hop chains into
//! it included, the findings with their source lines, the rules that
//! expire soon, every rule), and the same matrix and per-device reach as
//! CSV. Every user string is escaped; the page loads nothing (its
//! Content-Security-Policy forbids every fetch).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use zonal_diagnostics::{Diagnostics, SourceDb, Span};
use zonal_lint::{PathOptions, ZoneGraph};
use zonal_model::{Action, AddrSet, Endpoint, Policy, ServiceSet};

use crate::expiry::{Expiring, expiring};
use crate::places::addrs_text;
use crate::reach::{Allowed, allowed};

/// What a report is made from.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The resolved policy.
    pub policy: &'a Policy,
    /// Its files, for locations and source lines.
    pub db: &'a SourceDb,
    /// The lint findings to show (as `zonal check` reports them).
    pub findings: &'a Diagnostics,
    /// Rules whose `until` is at most this many days away are listed.
    pub expiring_within: u32,
}

/// The place pairs with what they permit and the allow rules behind it.
struct Facts<'a> {
    pairs: Vec<(Allowed, BTreeSet<&'a str>)>,
    /// (source zone, destination zone) -> services, rules.
    matrix: BTreeMap<(String, String), (ServiceSet, BTreeSet<&'a str>)>,
}

fn facts(p: &Policy) -> Facts<'_> {
    let all = AddrSet::full();
    let mut pairs = Vec::new();
    let mut matrix: BTreeMap<(String, String), (ServiceSet, BTreeSet<&str>)> = BTreeMap::new();
    for a in allowed(p, &all, &all) {
        let rules: BTreeSet<&str> = p
            .rules
            .iter()
            .filter(|r| r.is_active() && r.action == Action::Allow)
            .filter(|r| {
                r.terms.iter().any(|t| {
                    t.src.overlaps(&a.src_addrs)
                        && t.dst.overlaps(&a.dst_addrs)
                        && t.services.overlaps(&a.services)
                })
            })
            .map(|r| r.name.as_str())
            .collect();
        let cell = matrix
            .entry((a.src_zone.clone(), a.dst_zone.clone()))
            .or_insert_with(|| (ServiceSet::empty(), BTreeSet::new()));
        cell.0 = cell.0.union(&a.services);
        cell.1.extend(rules.iter().copied());
        pairs.push((a, rules));
    }
    Facts { pairs, matrix }
}

/// Text for HTML element content and attribute values.
fn h(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

fn location(db: &SourceDb, span: Span) -> String {
    let lc = db.line_col(span.file, span.range.start);
    format!("{}:{}", db.name(span.file), lc.line)
}

fn rule_links(rules: &BTreeSet<&str>) -> String {
    rules
        .iter()
        .map(|r| format!("<a href=\"#rule-{0}\">{0}</a>", h(r)))
        .collect::<Vec<_>>()
        .join(" ")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#111;background:#fff}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:.25em .5em;vertical-align:top;font-size:.9em}\
th{background:#e8eef5}td.none{color:#aaa;text-align:center}td.allow{background:#fdf1d6}\
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.5em;overflow-x:auto}\
.critical,.high{color:#a00;font-weight:bold}.medium{color:#b60}.low,.info{color:#555}\
section.device{border-top:1px solid #ccc;margin-top:1em}nav a{margin-right:1em}";

/// The report as one HTML page.
pub fn html(input: &Input<'_>) -> String {
    let p = input.policy;
    let f = facts(p);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Zonal report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        h(&p.name)
    );
    let _ = writeln!(
        o,
        "<h1>Zonal report: <code>{}</code></h1>\n<p>Digest <code>{}</code>, judged on {}. {} zones, {} devices, {} rules, {} findings.</p>",
        h(&p.name),
        h(&p.digest),
        p.today,
        p.zones.len(),
        p.devices.len(),
        p.rules.len(),
        input.findings.len()
    );
    o.push_str("<nav><a href=\"#matrix\">Matrix</a><a href=\"#graph\">Graph</a><a href=\"#devices\">Devices</a><a href=\"#findings\">Findings</a><a href=\"#expiring\">Expiring rules</a><a href=\"#rules\">Rules</a></nav>\n");
    matrix_html(p, &f, &mut o);
    graph_html(p, &mut o);
    devices_html(p, &f, &mut o);
    findings_html(input, &mut o);
    expiring_html(input, &mut o);
    rules_html(input, &mut o);
    o.push_str("</body>\n</html>\n");
    o
}

fn matrix_html(p: &Policy, f: &Facts<'_>, o: &mut String) {
    let zones: Vec<&str> = p.zones.iter().map(|z| z.name.as_str()).collect();
    o.push_str("<h2>Zone × zone: permitted services</h2>\n<p>Rows are sources, columns destinations; each cell lists the services some place of the row's zone may open to some place of the column's zone, and the rules that allow them.</p>\n<table id=\"matrix\">\n<tr><th>from \\ to</th>");
    for z in &zones {
        let _ = write!(o, "<th>{}</th>", h(z));
    }
    o.push_str("</tr>\n");
    for s in &zones {
        let _ = write!(o, "<tr><th>{}</th>", h(s));
        for d in &zones {
            match f.matrix.get(&((*s).to_string(), (*d).to_string())) {
                Some((services, rules)) => {
                    let _ = write!(
                        o,
                        "<td class=\"allow\"><code>{}</code><br>{}</td>",
                        h(&services.to_string()),
                        rule_links(rules)
                    );
                }
                None => o.push_str("<td class=\"none\">–</td>"),
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// The zone graph, inline (laid out in Rust, as `zonal graph --format svg`).
fn graph_html(p: &Policy, o: &mut String) {
    o.push_str("<h2>Zones and flows</h2>\n<section id=\"graph\">\n");
    match crate::graph::svg(p, &crate::graph::Options::default()) {
        Ok(svg) => {
            let body = svg.find("<svg").map_or("", |i| &svg[i..]);
            o.push_str("<div style=\"overflow-x:auto\">");
            o.push_str(body);
            o.push_str("</div>\n");
        }
        Err(e) => {
            let _ = writeln!(o, "<p>The graph could not be laid out: {}</p>", h(&e));
        }
    }
    o.push_str("</section>\n");
}

fn reach_table(rows: &[&(Allowed, BTreeSet<&str>)], outward: bool, o: &mut String) {
    if rows.is_empty() {
        o.push_str("<p>Nothing.</p>\n");
        return;
    }
    let _ = writeln!(
        o,
        "<table><tr><th>{}</th><th>zone</th><th>addresses</th><th>services</th><th>rules</th></tr>",
        if outward { "to" } else { "from" }
    );
    for (a, rules) in rows {
        let (name, zone, addrs) = if outward {
            (&a.dst, &a.dst_zone, &a.dst_addrs)
        } else {
            (&a.src, &a.src_zone, &a.src_addrs)
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            h(name),
            h(zone),
            h(&addrs_text(addrs, 4)),
            h(&a.services.to_string()),
            rule_links(rules)
        );
    }
    o.push_str("</table>\n");
}

fn devices_html(p: &Policy, f: &Facts<'_>, o: &mut String) {
    let graph = ZoneGraph::new(p);
    o.push_str("<h2 id=\"devices\">Devices</h2>\n");
    for d in &p.devices {
        let zone = &p.zone(d.zone).name;
        let _ = writeln!(
            o,
            "<section class=\"device\" id=\"device-{0}\">\n<h3>{0}</h3>\n<p>Zone <code>{1}</code>, addresses {2}{3}{4}{5}.</p>",
            h(&d.name),
            h(zone),
            h(&addrs_text(&d.addrs, 8)),
            d.kind
                .as_deref()
                .map(|k| format!(", kind {}", h(k)))
                .unwrap_or_default(),
            d.os.as_deref()
                .map(|k| format!(", OS {}", h(k)))
                .unwrap_or_default(),
            if d.legacy {
                ", <strong>end of support</strong>"
            } else {
                ""
            }
        );
        if let Some(text) = &d.description {
            let _ = writeln!(o, "<p>{}</p>", h(text));
        }
        let out: Vec<_> = f.pairs.iter().filter(|(a, _)| a.src == d.name).collect();
        let inn: Vec<_> = f.pairs.iter().filter(|(a, _)| a.dst == d.name).collect();
        o.push_str("<h4>What it can reach</h4>\n");
        reach_table(&out, true, o);
        o.push_str("<h4>What can reach it</h4>\n");
        reach_table(&inn, false, o);
        // Chains of two or more hops from every other zone.
        let mut chains = String::new();
        for z in p.zones.iter().filter(|z| z.id != d.zone) {
            let Some(hops) = graph.shortest_path(
                &[Endpoint::Zone(z.id)],
                &[Endpoint::Device(d.id)],
                &PathOptions::default(),
            ) else {
                continue;
            };
            if hops.len() < 2 {
                continue;
            }
            let steps: Vec<String> = hops
                .iter()
                .map(|hop| {
                    format!(
                        "{} → {} (<code>{}</code>, <a href=\"#rule-{3}\">{3}</a>)",
                        h(&graph.place_name(hop.from)),
                        h(&graph.place_name(hop.to)),
                        h(&hop.packet.to_string()),
                        h(&p.rule(hop.rule).name)
                    )
                })
                .collect();
            let _ = writeln!(
                chains,
                "<li>from <code>{}</code>, {} hops: {}</li>",
                h(&z.name),
                hops.len(),
                steps.join("; ")
            );
        }
        o.push_str("<h4>Multi-hop reach into it</h4>\n");
        if chains.is_empty() {
            o.push_str("<p>No chain of two or more flows from another zone.</p>\n");
        } else {
            let _ = writeln!(o, "<ul>\n{chains}</ul>");
        }
        o.push_str("</section>\n");
    }
}

fn findings_html(input: &Input<'_>, o: &mut String) {
    let db = input.db;
    o.push_str("<h2>Findings</h2>\n<section id=\"findings\">\n");
    if input.findings.is_empty() {
        o.push_str("<p>No findings.</p>\n");
    }
    for d in input.findings {
        let span = d.primary.span;
        let lc = db.line_col(span.file, span.range.start);
        let _ = writeln!(
            o,
            "<div class=\"finding\"><p><span class=\"{0}\">{0}</span> <code>{1}</code>: {2} <small>({3})</small></p>\n<pre>{4:>5} | {5}</pre>",
            d.severity.as_str(),
            h(d.code),
            h(&d.message),
            h(&location(db, span)),
            lc.line,
            h(db.line_text(span.file, lc.line).trim_end())
        );
        for n in &d.notes {
            let _ = writeln!(o, "<p class=\"note\">{}</p>", h(n));
        }
        if let Some(help) = &d.help {
            let _ = writeln!(o, "<p class=\"help\">help: {}</p>", h(help));
        }
        o.push_str("</div>\n");
    }
    o.push_str("</section>\n");
}

fn expiring_html(input: &Input<'_>, o: &mut String) {
    let p = input.policy;
    let list = expiring(p, input.expiring_within);
    let _ = writeln!(
        o,
        "<h2>Expiring rules</h2>\n<section id=\"expiring\">\n<p>Rules whose <code>until</code> is at most {} days after {} (expired ones included).</p>",
        input.expiring_within, p.today
    );
    if list.is_empty() {
        o.push_str("<p>None.</p>\n");
    } else {
        o.push_str(
            "<table><tr><th>rule</th><th>until</th><th>days left</th><th>justification</th></tr>\n",
        );
        for Expiring {
            rule,
            until,
            days_left,
        } in &list
        {
            let r = p.rule(*rule);
            let _ = writeln!(
                o,
                "<tr><td><a href=\"#rule-{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td></tr>",
                h(&r.name),
                until,
                if *days_left < 0 {
                    "expired".to_string()
                } else {
                    days_left.to_string()
                },
                h(r.justification.as_deref().unwrap_or(""))
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("</section>\n");
}

fn rules_html(input: &Input<'_>, o: &mut String) {
    let p = input.policy;
    o.push_str("<h2 id=\"rules\">Rules</h2>\n<table><tr><th>name</th><th>rule</th><th>justification</th><th>where</th></tr>\n");
    for r in &p.rules {
        let _ = writeln!(
            o,
            "<tr id=\"rule-{0}\"><td>{0}</td><td><code>{1}</code>{2}</td><td>{3}</td><td>{4}</td></tr>",
            h(&r.name),
            h(&crate::rules::summary(r)),
            if r.expired {
                " <strong>(expired)</strong>"
            } else {
                ""
            },
            h(r.justification.as_deref().unwrap_or("")),
            h(&location(input.db, r.span))
        );
    }
    o.push_str("</table>\n");
}

/// One CSV field: always quoted, quotes doubled, and a leading `=`, `+`,
/// `-`, `@`, tab or carriage return defused with `'` (no spreadsheet
/// formula from user text).
pub fn csv_field(s: &str) -> String {
    let s: String = s.chars().map(|c| if c == '\n' { ' ' } else { c }).collect();
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The matrix (`zone-pair` rows) and the reach of every place (`place`
/// rows: devices and the rest of each zone) as CSV.
pub fn csv(input: &Input<'_>) -> String {
    let f = facts(input.policy);
    let mut o = String::from("kind,from,from_zone,to,to_zone,services,rules\r\n");
    let join = |r: &BTreeSet<&str>| r.iter().copied().collect::<Vec<_>>().join(" ");
    for ((s, d), (services, rules)) in &f.matrix {
        let _ = write!(
            o,
            "zone-pair,{},{},{},{},{},{}\r\n",
            csv_field(s),
            csv_field(s),
            csv_field(d),
            csv_field(d),
            csv_field(&services.to_string()),
            csv_field(&join(rules))
        );
    }
    for (a, rules) in &f.pairs {
        let _ = write!(
            o,
            "place,{},{},{},{},{},{}\r\n",
            csv_field(&a.src),
            csv_field(&a.src_zone),
            csv_field(&a.dst),
            csv_field(&a.dst_zone),
            csv_field(&a.services.to_string()),
            csv_field(&join(rules))
        );
    }
    o
}
