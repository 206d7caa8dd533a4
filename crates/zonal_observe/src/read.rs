//! Flow-record readers over lines of text, one line at a time.
//!
//! | format | what it is | initiator |
//! |---|---|---|
//! | `zeek` | Zeek `conn.log`, TSV with its `#fields` header | `id.orig_h` → `id.resp_h`:`id.resp_p` |
//! | `zeek-json` | Zeek `conn.log` as JSON, one object a line | the same fields |
//! | `conntrack` | `conntrack -L` (also `-E` events) and `/proc/net/nf_conntrack` | the original-direction tuple (the first `src=`/`dst=`) |
//! | `csv` | `src,dst,proto,dport[,count,first_seen,last_seen]` | `src` → `dst`:`dport` |
//!
//! For ICMP and ICMPv6 the selector is the ICMP type (Zeek's `id.orig_p`,
//! conntrack's first `type=`, the CSV's `dport`). Zeek writes `icmp` for
//! both families; an IPv6 pair makes it ICMPv6.

use std::net::IpAddr;

use serde::Deserialize;
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};

use crate::flow::{Flow, Timestamp};

/// A flow-record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Zeek `conn.log`, tab-separated with `#fields`.
    Zeek,
    /// Zeek `conn.log` as JSON lines.
    ZeekJson,
    /// `conntrack -L` output.
    Conntrack,
    /// `/proc/net/nf_conntrack` (conntrack lines after the family columns).
    NfConntrack,
    /// Zonal's CSV: `src,dst,proto,dport[,count,first_seen,last_seen]`.
    Csv,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Zeek,
        Format::ZeekJson,
        Format::Conntrack,
        Format::NfConntrack,
        Format::Csv,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
            Format::Conntrack => "conntrack",
            Format::NfConntrack => "nf-conntrack",
            Format::Csv => "csv",
        }
    }

    /// A format by name.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Tells the format from the first line that is not blank (and, for
    /// CSV, not a `#` comment); `None` when no format fits.
    pub fn detect(line: &str) -> Option<Format> {
        let t = line.trim();
        if t.starts_with("#separator") || t.starts_with("#fields") || t.starts_with("#path") {
            return Some(Format::Zeek);
        }
        if t.starts_with('{') {
            return Some(Format::ZeekJson);
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if (first == "ipv4" || first == "ipv6") && t.contains("src=") {
            return Some(Format::NfConntrack);
        }
        if t.contains("src=") && t.contains("dst=") {
            return Some(Format::Conntrack);
        }
        if t.split(',').count() >= 4 {
            return Some(Format::Csv);
        }
        None
    }
}

/// What one line gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feed {
    /// A flow.
    Flow(Flow),
    /// Nothing to judge: a blank line, a comment or header, a CSV header,
    /// `conntrack`'s summary line.
    Skip,
    /// A flow that is not a new connection: an ICMP error or neighbour
    /// discovery message (related traffic every stateful target passes).
    Related,
    /// An unreadable record, and why.
    Bad(String),
    /// The format cannot be told from this first data line.
    Undetected,
}

/// Column positions of a Zeek TSV log.
#[derive(Clone, Debug, Default)]
struct ZeekColumns {
    separator: char,
    ts: Option<usize>,
    orig_h: usize,
    orig_p: usize,
    resp_h: usize,
    resp_p: usize,
    proto: usize,
    width: usize,
}

/// Reads the lines of one input, in order. Feed every line; the reader
/// keeps the little state a format needs (the Zeek header).
#[derive(Clone, Debug)]
pub struct FlowReader {
    format: Option<Format>,
    separator: char,
    zeek: Option<ZeekColumns>,
}

impl FlowReader {
    /// A reader of `format`, or of the format detected from the first data
    /// line when `None`.
    pub fn new(format: Option<Format>) -> Self {
        FlowReader {
            format,
            separator: '\t',
            zeek: None,
        }
    }

    /// The format being read (once known).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Reads one line (without its newline).
    pub fn feed(&mut self, line: &str) -> Feed {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return Feed::Skip;
        }
        let format = match self.format {
            Some(f) => f,
            None => {
                if line.starts_with('#') && Format::detect(line) != Some(Format::Zeek) {
                    return Feed::Skip;
                }
                match Format::detect(line) {
                    Some(f) => {
                        self.format = Some(f);
                        f
                    }
                    None => return Feed::Undetected,
                }
            }
        };
        let result = match format {
            Format::Zeek => self.zeek_tsv(line),
            Format::ZeekJson => zeek_json(line),
            Format::Conntrack | Format::NfConntrack => conntrack(line),
            Format::Csv => csv(line),
        };
        match result {
            Ok(Some(flow)) if is_related(&flow) => Feed::Related,
            Ok(Some(flow)) => Feed::Flow(flow),
            Ok(None) => Feed::Skip,
            Err(why) => Feed::Bad(why),
        }
    }

    fn zeek_tsv(&mut self, line: &str) -> Result<Option<Flow>, String> {
        if let Some(rest) = line.strip_prefix('#') {
            let (key, value) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
            match key {
                "separator" => {
                    self.separator = unescape_separator(value.trim())
                        .ok_or_else(|| format!("unsupported Zeek separator `{}`", value.trim()))?;
                }
                "fields" => {
                    let names: Vec<&str> = value.split(self.separator).collect();
                    let col = |n: &str| names.iter().position(|x| *x == n);
                    let need = |n: &str| {
                        col(n).ok_or_else(|| format!("the `#fields` header has no `{n}` column"))
                    };
                    self.zeek = Some(ZeekColumns {
                        separator: self.separator,
                        ts: col("ts"),
                        orig_h: need("id.orig_h")?,
                        orig_p: need("id.orig_p")?,
                        resp_h: need("id.resp_h")?,
                        resp_p: need("id.resp_p")?,
                        proto: need("proto")?,
                        width: names.len(),
                    });
                }
                _ => {}
            }
            return Ok(None);
        }
        let Some(c) = &self.zeek else {
            return Err("a Zeek record before the `#fields` header".into());
        };
        let fields: Vec<&str> = line.split(c.separator).collect();
        if fields.len() != c.width {
            return Err(format!(
                "{} fields where the `#fields` header names {}",
                fields.len(),
                c.width
            ));
        }
        let ts = match c.ts {
            Some(i) => Timestamp::parse(fields[i]),
            None => None,
        };
        zeek_flow(
            fields[c.orig_h],
            fields[c.orig_p],
            fields[c.resp_h],
            fields[c.resp_p],
            fields[c.proto],
            ts,
        )
        .map(Some)
    }
}

fn unescape_separator(v: &str) -> Option<char> {
    if let Some(hex) = v.strip_prefix("\\x") {
        return u8::from_str_radix(hex, 16).ok().map(char::from);
    }
    let mut chars = v.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

fn addr(text: &str, what: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} `{}` is not an IP address", clip(text)))
}

/// At most 40 characters of a field, for messages.
fn clip(text: &str) -> String {
    let t: String = text.chars().take(40).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

fn port(text: &str, what: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} `{}` is not a number from 0 to 65535", clip(text)))
}

fn check_family(src: IpAddr, dst: IpAddr) -> Result<(), String> {
    if src.is_ipv4() == dst.is_ipv4() {
        Ok(())
    } else {
        Err(format!("`{src}` and `{dst}` are of different IP families"))
    }
}

fn zeek_flow(
    orig_h: &str,
    orig_p: &str,
    resp_h: &str,
    resp_p: &str,
    proto: &str,
    ts: Option<Timestamp>,
) -> Result<Flow, String> {
    let src = addr(orig_h, "id.orig_h")?;
    let dst = addr(resp_h, "id.resp_h")?;
    check_family(src, dst)?;
    let (proto, selector) = match proto {
        "tcp" => (TCP, port(resp_p, "id.resp_p")?),
        "udp" => (UDP, port(resp_p, "id.resp_p")?),
        // Zeek puts the ICMP type of the originator's message in orig_p.
        "icmp" => {
            let t = port(orig_p, "id.orig_p (ICMP type)")?;
            if t > 255 {
                return Err(format!("ICMP type {t} is above 255"));
            }
            (if src.is_ipv4() { ICMP } else { ICMPV6 }, t)
        }
        other => {
            return Err(format!(
                "Zeek protocol `{}` does not say which IP protocol it is",
                clip(other)
            ));
        }
    };
    Ok(Flow {
        src,
        dst,
        proto,
        selector,
        count: 1,
        first: ts,
        last: ts,
    })
}

/// The fields Zonal reads from a Zeek JSON record.
#[derive(Deserialize)]
struct ZeekJson<'a> {
    #[serde(default)]
    ts: Option<serde_json::Value>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: std::borrow::Cow<'a, str>,
    #[serde(rename = "id.orig_p")]
    orig_p: u64,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: std::borrow::Cow<'a, str>,
    #[serde(rename = "id.resp_p")]
    resp_p: u64,
    #[serde(borrow)]
    proto: std::borrow::Cow<'a, str>,
}

fn zeek_json(line: &str) -> Result<Option<Flow>, String> {
    let r: ZeekJson<'_> = serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        format!("not a Zeek conn record: {}", clip(&msg))
    })?;
    let ts = match &r.ts {
        Some(serde_json::Value::Number(n)) => n.as_f64().map(|f| {
            #[expect(clippy::cast_possible_truncation, reason = "seconds fit in i64")]
            Timestamp(f.floor() as i64)
        }),
        Some(serde_json::Value::String(s)) => Timestamp::parse(s),
        _ => None,
    };
    zeek_flow(
        &r.orig_h,
        &r.orig_p.to_string(),
        &r.resp_h,
        &r.resp_p.to_string(),
        &r.proto,
        ts,
    )
    .map(Some)
}

fn conntrack(line: &str) -> Result<Option<Flow>, String> {
    let mut tokens = line.split_whitespace().peekable();
    if line.starts_with("conntrack v") {
        return Ok(None);
    }
    let mut ts = None;
    // `conntrack -E -o timestamp`: `[1733040000.123456]  [NEW] tcp …`.
    while let Some(t) = tokens.peek() {
        if let Some(inner) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if let Some(s) = Timestamp::parse(inner) {
                ts = Some(s);
            }
            tokens.next();
        } else {
            break;
        }
    }
    if matches!(tokens.peek(), Some(&("ipv4" | "ipv6"))) {
        tokens.next();
        tokens.next();
    }
    let _name = tokens.next().ok_or("an empty conntrack entry")?;
    let proto: u8 = tokens
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or("no protocol number after the protocol name")?;
    let (mut src, mut dst, mut sel) = (None, None, None);
    for t in tokens {
        let Some((key, value)) = t.split_once('=') else {
            continue;
        };
        match key {
            "src" if src.is_none() => src = Some(addr(value, "src")?),
            "dst" if dst.is_none() => dst = Some(addr(value, "dst")?),
            // The reply tuple starts with the second `src=`.
            "src" => break,
            "dport" if sel.is_none() => sel = Some(port(value, "dport")?),
            "type" if sel.is_none() => sel = Some(port(value, "type")?),
            _ => {}
        }
    }
    let src = src.ok_or("no `src=` in the conntrack entry")?;
    let dst = dst.ok_or("no `dst=` in the conntrack entry")?;
    check_family(src, dst)?;
    let selector = match proto {
        TCP | UDP => sel.ok_or("no `dport=` in the conntrack entry")?,
        ICMP | ICMPV6 => sel.ok_or("no `type=` in the conntrack entry")?,
        _ => 0,
    };
    Ok(Some(Flow {
        src,
        dst,
        proto,
        selector,
        count: 1,
        first: ts,
        last: ts,
    }))
}

/// A protocol by name or number.
pub fn protocol(text: &str) -> Option<u8> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Some(TCP),
        "udp" => Some(UDP),
        "icmp" => Some(ICMP),
        "icmpv6" | "ipv6-icmp" => Some(ICMPV6),
        "esp" => Some(50),
        "ah" => Some(51),
        "gre" => Some(47),
        "sctp" => Some(132),
        n => n.parse().ok(),
    }
}

fn csv(line: &str) -> Result<Option<Flow>, String> {
    if line.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields
        .first()
        .is_some_and(|f| f.eq_ignore_ascii_case("src"))
    {
        return Ok(None);
    }
    if !(4..=7).contains(&fields.len()) {
        return Err(format!(
            "{} fields; the CSV has src,dst,proto,dport[,count,first_seen,last_seen]",
            fields.len()
        ));
    }
    let src = addr(fields[0], "src")?;
    let dst = addr(fields[1], "dst")?;
    check_family(src, dst)?;
    let proto = protocol(fields[2]).ok_or_else(|| {
        format!(
            "proto `{}` is not a protocol name or number",
            clip(fields[2])
        )
    })?;
    let proto = if proto == ICMP && src.is_ipv6() {
        ICMPV6
    } else {
        proto
    };
    let selector = match proto {
        TCP | UDP => port(fields[3], "dport")?,
        ICMP | ICMPV6 => {
            let t = port(fields[3], "dport (ICMP type)")?;
            if t > 255 {
                return Err(format!("ICMP type {t} is above 255"));
            }
            t
        }
        _ => 0,
    };
    let count = match fields.get(4) {
        None | Some(&"") => 1,
        Some(c) => match c.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("count `{}` is not a number above 0", clip(c))),
        },
    };
    let time = |i: usize, what: &str| -> Result<Option<Timestamp>, String> {
        match fields.get(i) {
            None | Some(&"") => Ok(None),
            Some(t) => Timestamp::parse(t).map(Some).ok_or_else(|| {
                format!(
                    "{what} `{}` is not UNIX seconds or an RFC 3339 time",
                    clip(t)
                )
            }),
        }
    };
    let first = time(5, "first_seen")?;
    let last = time(6, "last_seen")?.or(first);
    if let (Some(a), Some(b)) = (first, last)
        && b < a
    {
        return Err("last_seen is before first_seen".into());
    }
    Ok(Some(Flow {
        src,
        dst,
        proto,
        selector,
        count,
        first,
        last,
    }))
}

/// ICMP errors and neighbour discovery: related to a connection (or to no
/// routed traffic), not new connections a rule permits.
fn is_related(flow: &Flow) -> bool {
    match flow.proto {
        // destination unreachable, source quench, redirect, time exceeded, parameter problem
        ICMP => matches!(flow.selector, 3 | 4 | 5 | 11 | 12),
        // the ICMPv6 errors, and router and neighbour discovery
        ICMPV6 => flow.selector < 128 || (133..=137).contains(&flow.selector),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(format: Option<Format>, text: &str) -> Vec<Feed> {
        let mut r = FlowReader::new(format);
        text.lines().map(|l| r.feed(l)).collect()
    }

    fn flow(src: &str, dst: &str, proto: u8, selector: u16) -> Flow {
        Flow {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            selector,
            count: 1,
            first: None,
            last: None,
        }
    }

    #[test]
    fn zeek_tsv_takes_the_originator_and_icmp_types() {
        let text = "#separator \\x09\n#set_separator\t,\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n1733040000.5\tC1\t10.0.0.1\t51000\t10.0.0.2\t104\ttcp\tSF\n1733040001.0\tC2\tfd00::1\t128\tfd00::2\t0\ticmp\tOTH\n1733040002.0\tC3\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\tOTH\n1733040003.0\tC4\t10.0.0.1\t3\t10.0.0.2\t1\ticmp\tOTH\n#close\t2026-12-01-09-00-00";
        let out = flows(None, text);
        let mut f1 = flow("10.0.0.1", "10.0.0.2", TCP, 104);
        f1.first = Some(Timestamp(1_733_040_000));
        f1.last = f1.first;
        assert_eq!(out[4], Feed::Flow(f1));
        let Feed::Flow(f2) = &out[5] else {
            panic!("{:?}", out[5])
        };
        assert_eq!((f2.proto, f2.selector), (ICMPV6, 128));
        let Feed::Flow(f3) = &out[6] else {
            panic!("{:?}", out[6])
        };
        assert_eq!((f3.proto, f3.selector), (ICMP, 8));
        assert_eq!(out[7], Feed::Related);
        assert_eq!(out[8], Feed::Skip);
    }

    #[test]
    fn zeek_tsv_bad_records_say_why() {
        let mut r = FlowReader::new(Some(Format::Zeek));
        assert!(matches!(r.feed("1\tC1\t10.0.0.1"), Feed::Bad(m) if m.contains("#fields")));
        r.feed("#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto");
        assert!(
            matches!(r.feed("1\t10.0.0.1\t5\t10.0.0.2"), Feed::Bad(m) if m.contains("4 fields"))
        );
        assert!(
            matches!(r.feed("1\t10.0.0.999\t5\t10.0.0.2\t80\ttcp"), Feed::Bad(m) if m.contains("not an IP"))
        );
        assert!(
            matches!(r.feed("1\t10.0.0.1\t5\t10.0.0.2\t80\tunknown_transport"), Feed::Bad(m) if m.contains("IP protocol"))
        );
        assert!(
            matches!(r.feed("1\t10.0.0.1\t5\tfd00::2\t80\ttcp"), Feed::Bad(m) if m.contains("families"))
        );
    }

    #[test]
    fn zeek_json() {
        let line = r#"{"ts":1733040000.25,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"10.0.0.2","id.resp_p":2575,"proto":"tcp","conn_state":"S0"}"#;
        let out = flows(None, line);
        let mut f = flow("10.0.0.1", "10.0.0.2", TCP, 2575);
        f.first = Some(Timestamp(1_733_040_000));
        f.last = f.first;
        assert_eq!(out, vec![Feed::Flow(f)]);
        let iso = r#"{"ts":"2024-12-01T08:00:00.000000Z","id.orig_h":"10.0.0.1","id.orig_p":8,"id.resp_h":"10.0.0.2","id.resp_p":0,"proto":"icmp"}"#;
        let Feed::Flow(f) = &flows(None, iso)[0] else {
            panic!()
        };
        assert_eq!(
            (f.proto, f.selector, f.first),
            (ICMP, 8, Some(Timestamp(1_733_040_000)))
        );
        assert!(
            matches!(&flows(Some(Format::ZeekJson), "{\"ts\":1}")[0], Feed::Bad(m) if m.contains("not a Zeek"))
        );
    }

    #[test]
    fn conntrack_takes_the_original_direction() {
        let text = "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=51234 dport=104 src=10.0.0.2 dst=10.0.0.1 sport=104 dport=51234 [ASSURED] mark=0 use=1\n\
udp      17 28 src=10.0.0.1 dst=10.0.0.3 sport=40000 dport=53 [UNREPLIED] src=10.0.0.3 dst=10.0.0.1 sport=53 dport=40000 mark=0 use=1\n\
icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=77 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=77 mark=0 use=1\n\
unknown  50 599 src=10.0.0.1 dst=192.0.2.1 src=192.0.2.1 dst=10.0.0.1 mark=0 use=1\n\
conntrack v1.4.8 (conntrack-tools): 4 flow entries have been shown.";
        let out = flows(None, text);
        assert_eq!(out[0], Feed::Flow(flow("10.0.0.1", "10.0.0.2", TCP, 104)));
        assert_eq!(out[1], Feed::Flow(flow("10.0.0.1", "10.0.0.3", UDP, 53)));
        assert_eq!(out[2], Feed::Flow(flow("10.0.0.1", "10.0.0.2", ICMP, 8)));
        assert_eq!(out[3], Feed::Flow(flow("10.0.0.1", "192.0.2.1", 50, 0)));
        assert_eq!(out[4], Feed::Skip);
        let proc = "ipv6     10 tcp      6 117 SYN_SENT src=fd00:0020:0120:0000:0000:0000:0000:0010 dst=fd00:0020:0130:0000:0000:0000:0000:0011 sport=40000 dport=443 [UNREPLIED] src=fd00:0020:0130:0000:0000:0000:0000:0011 dst=fd00:0020:0120:0000:0000:0000:0000:0010 sport=443 dport=40000 mark=0 zone=0 use=2";
        let mut r = FlowReader::new(None);
        assert_eq!(
            r.feed(proc),
            Feed::Flow(flow("fd00:20:120::10", "fd00:20:130::11", TCP, 443))
        );
        assert_eq!(r.format(), Some(Format::NfConntrack));
        let event = "[1733040000.123456]\t    [NEW] tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=22 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=22 dport=1";
        let Feed::Flow(f) = FlowReader::new(Some(Format::Conntrack)).feed(event) else {
            panic!()
        };
        assert_eq!((f.selector, f.first), (22, Some(Timestamp(1_733_040_000))));
        assert!(
            matches!(FlowReader::new(Some(Format::Conntrack)).feed("tcp 6 1 src=10.0.0.1 dst=10.0.0.2"), Feed::Bad(m) if m.contains("dport"))
        );
        assert!(matches!(
            FlowReader::new(Some(Format::Conntrack)).feed("tcp six"),
            Feed::Bad(_)
        ));
    }

    #[test]
    fn csv_with_and_without_the_optional_columns() {
        let text = "# exported by the IoMT platform\nsrc,dst,proto,dport,count,first_seen,last_seen\n10.0.0.1,10.0.0.2,tcp,104\n10.0.0.1, 10.0.0.2 ,udp,123,40,2026-12-01T08:00:00Z,2026-12-01T09:00:00Z\nfd00::1,fd00::2,icmp,128,2\n10.0.0.1,10.0.0.2,50,0";
        let out = flows(None, text);
        assert_eq!(&out[..2], &[Feed::Skip, Feed::Skip]);
        assert_eq!(out[2], Feed::Flow(flow("10.0.0.1", "10.0.0.2", TCP, 104)));
        let Feed::Flow(f) = &out[3] else { panic!() };
        assert_eq!((f.proto, f.count), (UDP, 40));
        assert_eq!(f.last.unwrap().0 - f.first.unwrap().0, 3600);
        let Feed::Flow(f) = &out[4] else { panic!() };
        assert_eq!((f.proto, f.selector, f.count), (ICMPV6, 128, 2));
        let Feed::Flow(f) = &out[5] else { panic!() };
        assert_eq!((f.proto, f.selector), (50, 0));
        for (bad, why) in [
            ("10.0.0.1,10.0.0.2,tcp", "3 fields"),
            ("10.0.0.1,10.0.0.2,xyz,1", "not a protocol"),
            ("10.0.0.1,10.0.0.2,tcp,70000", "0 to 65535"),
            ("10.0.0.1,10.0.0.2,tcp,80,0", "above 0"),
            ("10.0.0.1,10.0.0.2,tcp,80,1,soon", "RFC 3339"),
            ("10.0.0.1,10.0.0.2,tcp,80,1,2026-12-02,2026-12-01", "before"),
            ("10.0.0.1,10.0.0.2,icmp,300", "above 255"),
        ] {
            let got = FlowReader::new(Some(Format::Csv)).feed(bad);
            assert!(
                matches!(&got, Feed::Bad(m) if m.contains(why)),
                "{bad}: {got:?}"
            );
        }
    }

    #[test]
    fn undetectable_input_is_reported() {
        assert_eq!(flows(None, "hello world"), vec![Feed::Undetected]);
        assert_eq!(Format::parse("zeek-json"), Some(Format::ZeekJson));
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
        }
    }
}
