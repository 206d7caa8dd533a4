//! One observed flow (the initiator's first packet, with how often and when
//! it was seen), and timestamps.

use std::fmt;
use std::net::IpAddr;

/// Seconds since 1970-01-01 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses UNIX seconds (`1733040000`, `1733040000.123456`, fractions
    /// dropped) or an RFC 3339 / ISO 8601 UTC time
    /// (`2026-12-01T08:00:00Z`, `2026-12-01T08:00:00.5+01:00`,
    /// `2026-12-01 08:00:00`).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let whole = t.split('.').next()?;
            return whole.parse().ok().map(Timestamp);
        }
        parse_rfc3339(t)
    }

    /// The date and time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_rfc3339(t: &str) -> Option<Timestamp> {
    let (date, rest) = t.split_at_checked(10)?;
    let mut parts = date.split('-');
    let y = num(parts.next()?)?;
    let mo = num(parts.next()?)?;
    let d = num(parts.next()?)?;
    if parts.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if rest.is_empty() {
        return Some(Timestamp(secs));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (hms, tail) = rest.split_at_checked(8)?;
    let mut hms = hms.split(':');
    let h = num(hms.next()?)?;
    let mi = num(hms.next()?)?;
    let s = num(hms.next()?)?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + s;
    let tail = match tail.strip_prefix('.') {
        Some(frac) => frac.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => tail,
    };
    let offset = match tail {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = tail.get(1..)?.split_once(':')?;
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    Some(Timestamp(secs - offset))
}

/// One observed flow: the first packet of a connection as the initiator
/// sent it (what `decide` judges), how many connections the record stands
/// for, and when they were seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The initiator's address.
    pub src: IpAddr,
    /// The listener's address.
    pub dst: IpAddr,
    /// IP protocol.
    pub proto: u8,
    /// Destination port (TCP, UDP), ICMP type (ICMP, ICMPv6), 0 otherwise.
    pub selector: u16,
    /// How many connections the record stands for (1 unless the CSV says).
    pub count: u64,
    /// First seen, when the record says.
    pub first: Option<Timestamp>,
    /// Last seen, when the record says.
    pub last: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = Timestamp::parse("2026-12-01T08:30:05Z").unwrap();
        assert_eq!(t.to_string(), "2026-12-01T08:30:05Z");
        assert_eq!(Timestamp::parse(&t.0.to_string()), Some(t));
        assert_eq!(
            Timestamp::parse("1733040000.987654").unwrap().0,
            1_733_040_000
        );
        assert_eq!(Timestamp::parse("2026-12-01T09:30:05.25+01:00"), Some(t));
        assert_eq!(Timestamp::parse("2026-12-01 08:30:05"), Some(t));
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        for bad in [
            "",
            "2026-13-01",
            "yesterday",
            "2026-12-01T25:00:00Z",
            "12:00",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }
}
