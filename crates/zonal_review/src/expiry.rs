//! Rules that expire soon (or have expired): for `zonal report` and
//! `zonal check --expiring-within`.

use zonal_model::{Date, Policy, RuleId};

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
pub fn unix_days(d: Date) -> i64 {
    let (y, m, d) = (i64::from(d.year), i64::from(d.month), i64::from(d.day));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `30d`, `30` (days) or `4w` (weeks).
pub fn parse_days(text: &str) -> Option<u32> {
    let t = text.trim();
    let (n, unit) = match t.strip_suffix('d') {
        Some(n) => (n, 1),
        None => match t.strip_suffix('w') {
            Some(n) => (n, 7),
            None => (t, 1),
        },
    };
    n.parse::<u32>()
        .ok()?
        .checked_mul(unit)
        .filter(|d| *d <= 36_600)
}

/// A rule with an `until` within the window (or already past).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring {
    /// The rule.
    pub rule: RuleId,
    /// Its `until`.
    pub until: Date,
    /// Days from the policy's today to `until` (negative: expired).
    pub days_left: i64,
}

/// Rules whose `until` is at most `within` days after the policy's today,
/// expired ones included, soonest first.
pub fn expiring(policy: &Policy, within: u32) -> Vec<Expiring> {
    let today = unix_days(policy.today);
    let mut out: Vec<Expiring> = policy
        .rules
        .iter()
        .filter_map(|r| {
            let until = r.until?;
            let days_left = unix_days(until) - today;
            (days_left <= i64::from(within)).then_some(Expiring {
                rule: r.id,
                until,
                days_left,
            })
        })
        .collect();
    out.sort_by_key(|e| (e.days_left, e.rule));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_parse() {
        for n in [-1000i64, 0, 59, 365, 20_000, 30_000] {
            assert_eq!(unix_days(Date::from_unix_days(n)), n);
        }
        assert_eq!(parse_days("30d"), Some(30));
        assert_eq!(parse_days("4w"), Some(28));
        assert_eq!(parse_days("7"), Some(7));
        assert_eq!(parse_days("x"), None);
        assert_eq!(parse_days("-3d"), None);
    }
}
