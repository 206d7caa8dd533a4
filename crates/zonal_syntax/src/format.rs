//! The canonical formatter.
//!
//! Layout: 2-space indent; one top-level item per line; blank lines between
//! items kept but collapsed to one, and always one around a `zone` block;
//! zone properties one per line; a device on one line when it fits in 100
//! columns and has no comment inside, else one property per line; lists as
//! `a, b, c`; strings re-escaped.
//!
//! Comments are placed by position: a comment on a line of its own stays
//! before the node that follows it, a comment at the end of a line stays at
//! the end of the output line of the node it follows. A comment in the
//! middle of a node that is printed on one line (e.g. inside a flow written
//! over several lines) is moved to its own line before that node.

use std::fmt::Write as _;

use crate::ast::{
    AeTitle, Comment, DateLit, DeviceDecl, DevicePropKind, Endpoint, EndpointList, IcmpType, Item,
    ItemKind, Listener, PortProto, PortRange, Reach, ServiceTerm, ServiceTermKind, SourceFile,
    StrLit, Suppression, WorkflowKind, ZonePropKind,
};
use crate::parser::is_ae_char;

/// Maximum width of a one-line device or policy header.
const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a parsed file in the canonical layout. `text` is the text it was
/// parsed from. Items that failed to parse are copied verbatim.
pub(crate) fn format(file: &SourceFile, text: &str) -> String {
    let mut f = Formatter {
        text,
        comments: &file.comments,
        next: 0,
        out: String::new(),
        last_end: 0,
        fresh: true,
    };
    let mut prev_zone = false;
    for item in &file.items {
        let is_zone = matches!(item.kind, ItemKind::Zone(_));
        let blank = if is_zone || prev_zone {
            Blank::Force
        } else {
            Blank::Source
        };
        let mut mode = blank;
        // Annotations in the order they are written.
        let mut annotations: Vec<(zonal_diagnostics::TextRange, String)> = item
            .suppressions
            .iter()
            .map(|s| (s.range, suppression(s)))
            .chain(
                item.name
                    .iter()
                    .map(|n| (n.range, format!("@name {}", n.name.name))),
            )
            .collect();
        annotations.sort_by_key(|(r, _)| r.start);
        for (range, text) in &annotations {
            f.begin(range.start, 0, mode);
            f.hoist(range.end, 0);
            f.out.push_str(text);
            f.end(range.end);
            mode = Blank::Never;
        }
        f.begin(item.range.start, 0, mode);
        f.item(item);
        prev_zone = is_zone;
    }
    f.begin(
        u32::MAX,
        0,
        if prev_zone {
            Blank::Force
        } else {
            Blank::Source
        },
    );
    f.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Blank {
    /// Never put a blank line before this node.
    Never,
    /// Put one if the source has one.
    Source,
    /// Always put one (unless at the start of the file or block).
    Force,
}

struct Formatter<'a> {
    text: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet printed.
    next: usize,
    out: String,
    /// Source offset of the end of the last printed node or comment.
    last_end: u32,
    /// Nothing printed yet in the file or the current block.
    fresh: bool,
}

impl Formatter<'_> {
    /// Prints the comments before `pos` on their own lines, then a blank line
    /// if wanted, and the indentation of the node at `pos`.
    fn begin(&mut self, pos: u32, depth: usize, blank: Blank) {
        let mut first = true;
        while let Some(c) = self.comments.get(self.next).filter(|c| c.range.start < pos) {
            let want = blank != Blank::Never
                && (self.source_blank(self.last_end, c.range.start)
                    || (first && blank == Blank::Force));
            self.blank_line(want);
            self.indent(depth);
            self.out.push_str(c.text.trim_end());
            self.out.push('\n');
            self.last_end = c.range.end;
            self.next += 1;
            first = false;
        }
        if pos == u32::MAX {
            return;
        }
        let want = blank != Blank::Never
            && (self.source_blank(self.last_end, pos) || (first && blank == Blank::Force));
        self.blank_line(want);
        self.indent(depth);
        self.fresh = false;
    }

    /// Prints comments that start before `pos` on their own lines, before the
    /// line being built (used for comments inside a node printed on one line).
    fn hoist(&mut self, pos: u32, depth: usize) {
        let mut hoisted = String::new();
        while let Some(c) = self.comments.get(self.next).filter(|c| c.range.start < pos) {
            hoisted.push_str(c.text.trim_end());
            hoisted.push('\n');
            hoisted.push_str(&INDENT.repeat(depth));
            self.last_end = c.range.end;
            self.next += 1;
        }
        if !hoisted.is_empty() {
            // The indentation of the current line is already printed: insert
            // the comments there and indent again after each.
            self.out.push_str(&hoisted);
        }
    }

    /// Ends the current line, appending the comment that trails `end` on the
    /// same source line, if any.
    fn end(&mut self, end: u32) {
        self.last_end = self.last_end.max(end);
        if let Some(c) = self.comments.get(self.next) {
            let gap = self.text.get(end as usize..c.range.start as usize);
            if c.range.start >= end
                && gap.is_some_and(|g| g.chars().all(|ch| ch == ' ' || ch == '\t'))
            {
                self.out.push_str("  ");
                self.out.push_str(c.text.trim_end());
                self.last_end = c.range.end;
                self.next += 1;
            }
        }
        self.out.push('\n');
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
    }

    fn blank_line(&mut self, want: bool) {
        if want && !self.fresh && !self.out.ends_with("\n\n") && !self.out.is_empty() {
            self.out.push('\n');
        }
        self.fresh = false;
    }

    /// Whether the source between `a` and `b` contains an empty line.
    fn source_blank(&self, a: u32, b: u32) -> bool {
        let Some(gap) = self.text.get(a as usize..b as usize) else {
            return false;
        };
        let mut newlines = 0;
        for ch in gap.chars() {
            match ch {
                '\n' => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' => {}
                _ => newlines = 0,
            }
        }
        false
    }

    /// Whether any comment starts inside `start..end`.
    fn has_comment_in(&self, start: u32, end: u32) -> bool {
        // Comments are sorted by position: binary search, not a scan.
        let first_after = self.comments.partition_point(|c| c.range.start <= start);
        self.comments
            .get(first_after)
            .is_some_and(|c| c.range.start < end)
    }

    /// The offset of the first `{` after `from`, outside comments.
    fn open_brace(&self, from: u32) -> u32 {
        let b = self.text.as_bytes();
        let mut p = from as usize;
        while let Some(&c) = b.get(p) {
            match c {
                b'{' => return u32::try_from(p).unwrap_or(from),
                b'#' => {
                    while b.get(p).is_some_and(|&c| c != b'\n') {
                        p += 1;
                    }
                }
                _ => p += 1,
            }
        }
        from
    }

    fn item(&mut self, item: &Item) {
        let r = item.range;
        match &item.kind {
            ItemKind::Zone(z) => {
                let open = self.open_brace(z.name.range.end);
                self.hoist(open, 0);
                let _ = write!(self.out, "zone {} {{", z.name.name);
                self.end(open + 1);
                self.fresh = true;
                for p in &z.props {
                    if let ZonePropKind::Device(d) = &p.kind {
                        self.device(d, p.range.start, p.range.end);
                        continue;
                    }
                    self.begin(p.range.start, 1, Blank::Source);
                    self.hoist(p.range.end, 1);
                    let line = self.zone_prop(&p.kind, p.range.start, p.range.end);
                    self.out.push_str(&line);
                    self.end(p.range.end);
                }
                let close = r.end.saturating_sub(1);
                self.fresh_block_end(close, 1);
                self.out.push('}');
                self.end(r.end);
            }
            ItemKind::Policy(p) => {
                self.hoist(r.end, 0);
                let mut fields = Vec::new();
                if let Some(o) = &p.owner {
                    fields.push(format!("owner {}", string(o)));
                }
                if let Some(d) = &p.description {
                    fields.push(format!("description {}", string(d)));
                }
                let one = if fields.is_empty() {
                    format!("policy {} {{}}", p.name.name)
                } else {
                    format!("policy {} {{ {} }}", p.name.name, fields.join("  "))
                };
                if one.chars().count() <= MAX_WIDTH {
                    self.out.push_str(&one);
                } else {
                    let _ = write!(self.out, "policy {} {{", p.name.name);
                    for field in fields {
                        let _ = write!(self.out, "\n{INDENT}{field}");
                    }
                    self.out.push_str("\n}");
                }
                self.end(r.end);
            }
            ItemKind::Error => {
                let raw = self
                    .text
                    .get(r.start as usize..r.end as usize)
                    .unwrap_or_default();
                self.out.push_str(raw);
                // Comments inside the verbatim text are part of it.
                while self
                    .comments
                    .get(self.next)
                    .is_some_and(|c| c.range.start < r.end)
                {
                    self.next += 1;
                }
                self.end(r.end);
            }
            kind => {
                self.hoist(r.end, 0);
                let line = simple_item(kind);
                self.out.push_str(&line);
                self.end(r.end);
            }
        }
    }

    /// Prints the comments before a block's `}` and its indentation.
    fn fresh_block_end(&mut self, close: u32, depth: usize) {
        self.begin(close, depth, Blank::Never);
        // `begin` indented for a node at `depth`; the `}` is one level out.
        for _ in 0..INDENT.len() {
            self.out.pop();
        }
        self.fresh = false;
    }

    fn device(&mut self, d: &DeviceDecl, start: u32, end: u32) {
        let mut mode = Blank::Source;
        for s in &d.suppressions {
            self.begin(s.range.start, 1, mode);
            self.hoist(s.range.end, 1);
            self.out.push_str(&suppression(s));
            self.end(s.range.end);
            mode = Blank::Never;
        }
        self.begin(start, 1, mode);
        // Comments between `device` and `{` go before the device in either
        // layout, so only comments inside the braces choose the layout
        // (otherwise a second run would choose differently).
        let open = self.open_brace(d.name.range.end);
        self.hoist(open, 1);
        let props: Vec<String> = d
            .props
            .iter()
            .map(|p| self.device_prop(&p.kind, p.range.start, p.range.end))
            .collect();
        let one = if props.is_empty() {
            format!("device {} {{}}", d.name.name)
        } else {
            format!("device {} {{ {} }}", d.name.name, props.join("  "))
        };
        if !self.has_comment_in(open, end) && INDENT.len() + one.chars().count() <= MAX_WIDTH {
            self.out.push_str(&one);
            self.end(end);
            return;
        }
        let _ = write!(self.out, "device {} {{", d.name.name);
        self.end(open + 1);
        self.fresh = true;
        for (p, line) in d.props.iter().zip(props) {
            self.begin(p.range.start, 2, Blank::Source);
            self.hoist(p.range.end, 2);
            self.out.push_str(&line);
            self.end(p.range.end);
        }
        self.fresh_block_end(end.saturating_sub(1), 2);
        self.out.push('}');
        self.end(end);
    }

    /// The keyword as written for `legacy` / `end-of-support`.
    fn legacy_word(&self, start: u32, end: u32) -> &'static str {
        match self.text.get(start as usize..end as usize) {
            Some("end-of-support") => "end-of-support",
            _ => "legacy",
        }
    }

    fn zone_prop(&self, kind: &ZonePropKind, start: u32, end: u32) -> String {
        match kind {
            ZonePropKind::Network(a) => {
                format!("network {}", join(a.iter().map(|a| a.text.clone())))
            }
            ZonePropKind::Vlan(n) => format!("vlan {}", n.value),
            ZonePropKind::Trust(n) => format!("trust {}", n.name),
            ZonePropKind::Kind(n) => format!("kind {}", n.name),
            ZonePropKind::Tags(t) => format!("tags {}", join(t.iter().map(|t| t.name.clone()))),
            ZonePropKind::Description(s) => format!("description {}", string(s)),
            ZonePropKind::Legacy => self.legacy_word(start, end).to_owned(),
            ZonePropKind::External => "external".to_owned(),
            ZonePropKind::Within(n) => format!("within {}", n.name),
            ZonePropKind::Device(d) => format!("device {} {{}}", d.name.name),
        }
    }

    fn device_prop(&self, kind: &DevicePropKind, start: u32, end: u32) -> String {
        match kind {
            DevicePropKind::Address(a) => {
                format!("address {}", join(a.iter().map(|a| a.text.clone())))
            }
            DevicePropKind::Kind(n) => format!("kind {}", n.name),
            DevicePropKind::Vendor(s) => format!("vendor {}", string(s)),
            DevicePropKind::Model(s) => format!("model {}", string(s)),
            DevicePropKind::Os(s) => format!("os {}", string(s)),
            DevicePropKind::Description(s) => format!("description {}", string(s)),
            DevicePropKind::Legacy => self.legacy_word(start, end).to_owned(),
            DevicePropKind::Wireless => "wireless".to_owned(),
            DevicePropKind::StorageCommitment => "storage-commitment".to_owned(),
            DevicePropKind::MoveDestination => "move-destination".to_owned(),
            DevicePropKind::Ae(a) => format!("ae {}", ae(a)),
            DevicePropKind::Listens(l) => format!("listens {}", join(l.iter().map(listener))),
        }
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// A string literal with `"` and `\` escaped.
fn string(s: &StrLit) -> String {
    let mut out = String::with_capacity(s.value.len() + 2);
    out.push('"');
    for c in s.value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn ae(a: &AeTitle) -> String {
    if !a.value.is_empty() && a.value.chars().all(is_ae_char) {
        a.value.clone()
    } else {
        string(&StrLit {
            value: a.value.clone(),
            range: a.range,
        })
    }
}

fn listener(l: &Listener) -> String {
    match &l.port {
        Some(p) => format!("{} on {}", l.service.name, p.value),
        None => l.service.name.clone(),
    }
}

fn date(d: &DateLit) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

fn suppression(s: &Suppression) -> String {
    let mut out = format!("@suppress {}", s.lint.name);
    if let Some(r) = &s.reason {
        let _ = write!(out, " {}", string(r));
    }
    if let Some(d) = &s.until {
        let _ = write!(out, " until {}", date(d));
    }
    out
}

fn endpoints(e: &EndpointList) -> String {
    join(e.items.iter().map(|e| match e {
        Endpoint::Name(n) => n.name.clone(),
        Endpoint::Any(_) => "any".to_owned(),
    }))
}

fn port(p: &PortRange) -> String {
    match &p.hi {
        Some(hi) => format!("{}-{}", p.lo.value, hi.value),
        None => p.lo.value.to_string(),
    }
}

fn term(t: &ServiceTerm) -> String {
    match &t.kind {
        ServiceTermKind::Ports { proto, ports } => {
            let kw = match proto {
                PortProto::Tcp => "tcp",
                PortProto::Udp => "udp",
            };
            if ports.is_empty() {
                kw.to_owned()
            } else {
                format!("{kw} {}", join(ports.iter().map(port)))
            }
        }
        ServiceTermKind::Icmp { v6, types } => {
            let kw = if *v6 { "icmpv6" } else { "icmp" };
            if types.is_empty() {
                kw.to_owned()
            } else {
                let types = join(types.iter().map(|t| match t {
                    IcmpType::Named(n) => n.name.clone(),
                    IcmpType::Number(n) => n.value.to_string(),
                }));
                format!("{kw} {types}")
            }
        }
        ServiceTermKind::Protocol(n) => format!("proto {}", n.value),
        ServiceTermKind::Any => "any".to_owned(),
        ServiceTermKind::Ref(n) => n.name.clone(),
    }
}

fn terms(t: &[ServiceTerm]) -> String {
    join(t.iter().map(term))
}

/// Appends ` : services`, ` until DATE` and ` "why"` when present.
fn tail(
    out: &mut String,
    services: Option<&[ServiceTerm]>,
    until: Option<&DateLit>,
    why: Option<&StrLit>,
) {
    if let Some(s) = services {
        let _ = write!(out, " : {}", terms(s));
    }
    if let Some(d) = until {
        let _ = write!(out, " until {}", date(d));
    }
    if let Some(w) = why {
        let _ = write!(out, " {}", string(w));
    }
}

/// A one-line item.
fn simple_item(kind: &ItemKind) -> String {
    let mut out = String::new();
    match kind {
        ItemKind::Include(i) => {
            let _ = write!(out, "include {}", string(&i.path));
        }
        ItemKind::Service(s) => {
            if s.override_kw.is_some() {
                out.push_str("override ");
            }
            let _ = write!(out, "service {} = {}", s.name.name, terms(&s.terms));
            if let Some(d) = &s.description {
                let _ = write!(out, " description {}", string(d));
            }
        }
        ItemKind::Group(g) => {
            let _ = write!(
                out,
                "group {} = {}",
                g.name.name,
                join(g.members.iter().map(|m| m.name.clone()))
            );
            if let Some(d) = &g.description {
                let _ = write!(out, " description {}", string(d));
            }
        }
        ItemKind::Flow(f) => {
            let kw = match f.action {
                crate::ast::FlowAction::Allow => "allow",
                crate::ast::FlowAction::Deny => "deny",
            };
            let _ = write!(out, "{kw} {} -> {}", endpoints(&f.src), endpoints(&f.dst));
            tail(
                &mut out,
                f.services.as_deref(),
                f.until.as_ref(),
                f.justification.as_ref(),
            );
        }
        ItemKind::Workflow(w) => {
            let kw = match w.kind {
                WorkflowKind::StorageCommitment => "storage-commitment",
                WorkflowKind::CMove => "c-move",
            };
            let _ = write!(out, "{kw} {} -> {}", endpoints(&w.src), endpoints(&w.dst));
            if let Some(to) = &w.to {
                let _ = write!(out, " to {}", endpoints(to));
            }
            tail(
                &mut out,
                w.services.as_deref(),
                w.until.as_ref(),
                w.justification.as_ref(),
            );
        }
        ItemKind::Never(n) => {
            let arrow = match n.reach {
                Reach::Direct => "->",
                Reach::Transitive => "~>",
            };
            let _ = write!(
                out,
                "never {} {arrow} {}",
                endpoints(&n.src),
                endpoints(&n.dst)
            );
            tail(
                &mut out,
                n.services.as_deref(),
                None,
                n.justification.as_ref(),
            );
        }
        ItemKind::Require(r) => {
            let _ = write!(
                out,
                "require {} -> {}",
                endpoints(&r.src),
                endpoints(&r.dst)
            );
            tail(&mut out, Some(&r.services), None, r.justification.as_ref());
        }
        // Handled by the caller.
        ItemKind::Zone(_) | ItemKind::Policy(_) | ItemKind::Error => {}
    }
    out
}
