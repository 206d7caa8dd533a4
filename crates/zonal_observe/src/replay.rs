//! Replay: every observed flow judged by [`Policy::decide`], aggregated.
//!
//! Memory does not grow with the number of records: denied flows are
//! aggregated by (source place, destination place, protocol, selector)
//! (at most [`MAX_DENIED_AGGREGATES`]; beyond that, per place pair with
//! the service `(other)`), allowed flows per deciding rule, unreadable
//! records counted with the first [`MAX_BAD_EXAMPLES`] kept; decisions
//! are memoised in a fixed-size cache.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;
use zonal_model::{Action, Policy, RuleId, Verdict};

use crate::flow::{Flow, Timestamp};
use crate::suggest::{self, Place};

/// Distinct denied aggregates kept with their service; more are folded
/// into one `(other)` aggregate per place pair.
pub const MAX_DENIED_AGGREGATES: usize = 100_000;
/// Unreadable records kept with their reason (all are counted).
pub const MAX_BAD_EXAMPLES: usize = 50;
const CACHE_SLOTS: usize = 1 << 16;

/// A denied aggregate's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct DenyKey {
    from: Place,
    to: Place,
    /// `None`: the `(other)` bucket beyond [`MAX_DENIED_AGGREGATES`].
    service: Option<(u8, u16)>,
}

/// Counts and times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Seen {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Seen {
    fn add(&mut self, f: &Flow) {
        self.count = self.count.saturating_add(f.count);
        self.first = match (self.first, f.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, f.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

#[derive(Clone, Copy, Debug)]
struct DenyAgg {
    seen: Seen,
    /// The deny rule that decided, `None` for the default deny.
    rule: Option<RuleId>,
    /// An example packet of the aggregate.
    example: (IpAddr, IpAddr),
}

/// One cached decision.
#[derive(Clone, Copy, Debug)]
struct Cached {
    key: (IpAddr, IpAddr, u8, u16),
    verdict: Verdict,
    from: Place,
    to: Place,
}

/// An unreadable record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadRecord {
    /// The input's name.
    pub source: String,
    /// Its line (1-based).
    pub line: u64,
    /// Why it could not be read.
    pub reason: String,
}

/// The replay of observed flows against one policy.
pub struct Replay<'p> {
    policy: &'p Policy,
    cache: Vec<Option<Cached>>,
    denied: BTreeMap<DenyKey, DenyAgg>,
    by_rule: Vec<Seen>,
    /// Whether any observed flow matched the rule (deciding or not).
    matched: Vec<bool>,
    records: u64,
    related: u64,
    allowed: u64,
    denied_count: u64,
    bad: u64,
    bad_examples: Vec<BadRecord>,
    sources: Vec<String>,
}

impl<'p> Replay<'p> {
    /// A replay against `policy`.
    pub fn new(policy: &'p Policy) -> Self {
        Replay {
            policy,
            cache: vec![None; CACHE_SLOTS],
            denied: BTreeMap::new(),
            by_rule: vec![Seen::default(); policy.rules.len()],
            matched: vec![false; policy.rules.len()],
            records: 0,
            related: 0,
            allowed: 0,
            denied_count: 0,
            bad: 0,
            bad_examples: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Names an input (for the report).
    pub fn source(&mut self, name: &str) {
        self.sources.push(name.to_string());
    }

    /// Records read so far (flows, related and bad).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Counts a record that is related traffic, not a new connection.
    pub fn related(&mut self) {
        self.records += 1;
        self.related += 1;
    }

    /// Counts an unreadable record.
    pub fn bad(&mut self, source: &str, line: u64, reason: String) {
        self.records += 1;
        self.bad += 1;
        if self.bad_examples.len() < MAX_BAD_EXAMPLES {
            self.bad_examples.push(BadRecord {
                source: source.to_string(),
                line,
                reason,
            });
        }
    }

    fn judge(&mut self, f: &Flow) -> Cached {
        let key = (f.src, f.dst, f.proto, f.selector);
        let slot = slot_of(&key);
        if let Some(c) = self.cache[slot]
            && c.key == key
        {
            return c;
        }
        // Every flow misses the cache at least once: mark the rules it
        // matches, so that a rule another rule decides for is not called unused.
        for r in self.policy.active_rules() {
            if !self.matched[r.id.index()] && r.matches(f.src, f.dst, f.proto, f.selector) {
                self.matched[r.id.index()] = true;
            }
        }
        let c = Cached {
            key,
            verdict: self.policy.decide(f.src, f.dst, f.proto, f.selector),
            from: Place::of(self.policy, f.src),
            to: Place::of(self.policy, f.dst),
        };
        self.cache[slot] = Some(c);
        c
    }

    /// Judges one observed flow.
    pub fn observe(&mut self, f: &Flow) {
        self.records += 1;
        let c = self.judge(f);
        match (c.verdict.action, c.verdict.rule) {
            (Action::Allow, Some(rule)) => {
                self.allowed = self.allowed.saturating_add(f.count);
                self.by_rule[rule.index()].add(f);
            }
            _ => {
                self.denied_count = self.denied_count.saturating_add(f.count);
                let mut key = DenyKey {
                    from: c.from,
                    to: c.to,
                    service: Some((f.proto, f.selector)),
                };
                if !self.denied.contains_key(&key) && self.denied.len() >= MAX_DENIED_AGGREGATES {
                    key.service = None;
                }
                let agg = self.denied.entry(key).or_insert(DenyAgg {
                    seen: Seen::default(),
                    rule: c.verdict.rule,
                    example: (f.src, f.dst),
                });
                agg.seen.add(f);
            }
        }
    }

    /// The report; `locate` gives a rule's `file:line`.
    pub fn finish(self, locate: &dyn Fn(RuleId) -> String) -> ReplayReport {
        let policy = self.policy;
        let mut denied: Vec<DeniedAggregate> = self
            .denied
            .iter()
            .map(|(k, a)| denied_aggregate(policy, k, a, locate))
            .collect();
        denied.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        let mut rules = Vec::new();
        let mut unused = Vec::new();
        for r in policy.active_rules().filter(|r| r.action == Action::Allow) {
            let s = self.by_rule[r.id.index()];
            let u = RuleUse {
                rule: r.name.clone(),
                location: locate(r.id),
                leg: r.origin.describe().to_string(),
                count: s.count,
                first_seen: s.first.map(Timestamp::rfc3339),
                last_seen: s.last.map(Timestamp::rfc3339),
            };
            if s.count > 0 {
                rules.push(u);
            } else if !self.matched[r.id.index()] {
                unused.push(u);
            }
        }
        ReplayReport {
            policy: policy.name.clone(),
            sources: self.sources,
            records: self.records,
            allowed: self.allowed,
            denied: self.denied_count,
            related: self.related,
            bad: self.bad,
            bad_examples: self.bad_examples,
            denied_aggregates: denied,
            rules,
            unused_rules: unused,
        }
    }
}

fn slot_of(key: &(IpAddr, IpAddr, u8, u16)) -> usize {
    fn bits(ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        }
    }
    let mut h = bits(key.0).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    h ^= bits(key.1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f_1656_67b1_9e37_79f9);
    h ^= u128::from(key.2) << 16 | u128::from(key.3);
    h = h.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15);
    usize::try_from((h >> 64) as u64 % CACHE_SLOTS as u64).unwrap_or(0)
}

fn denied_aggregate(
    policy: &Policy,
    k: &DenyKey,
    a: &DenyAgg,
    locate: &dyn Fn(RuleId) -> String,
) -> DeniedAggregate {
    let from = k.from.label(policy);
    let to = k.to.label(policy);
    let (service, packet) = match k.service {
        Some((p, s)) => (
            suggest::service_text(policy, k.to, p, s),
            suggest::packet_service(p, s),
        ),
        None => (
            "(other)".to_string(),
            "more services than shown".to_string(),
        ),
    };
    let decided_by = match a.rule {
        Some(r) => format!("deny rule `{}` ({})", policy.rule(r).name, locate(r)),
        None => "default deny".to_string(),
    };
    let period = match (a.seen.first, a.seen.last) {
        (Some(f), Some(l)) if f == l => format!(" on {f}"),
        (Some(f), Some(l)) => format!(", {f} to {l}"),
        _ => String::new(),
    };
    let why = format!(
        "observed {} connection(s){period}; drafted by zonal replay, review before enforcing",
        a.seen.count
    );
    let (suggestion, note) = match (k.from.name(policy), k.to.name(policy), k.service, a.rule) {
        (_, _, _, Some(r)) => (
            None,
            Some(format!(
                "an explicit deny decides (`{}`): deny wins over every allow, so change that rule if this traffic is legitimate",
                policy.rule(r).name
            )),
        ),
        (Some(f), Some(t), Some(_), None) => (Some(suggest::allow_line(f, t, &service, &why)), None),
        (_, _, None, None) => (
            None,
            Some("too many distinct denied services to list each: run on fewer records".into()),
        ),
        _ => (
            None,
            Some("an address is in no zone: declare its zone, or an `external` zone without networks".into()),
        ),
    };
    let threat = k
        .service
        .and_then(|(p, s)| suggest::threat(policy, k.from, k.to, p, s));
    DeniedAggregate {
        key: (from.clone(), to.clone(), packet.clone()),
        threat,
        from,
        to,
        service,
        packet,
        example: format!("{} -> {}", a.example.0, a.example.1),
        count: a.seen.count,
        first_seen: a.seen.first.map(Timestamp::rfc3339),
        last_seen: a.seen.last.map(Timestamp::rfc3339),
        decided_by,
        suggestion,
        note,
    }
}

/// Flows that would be denied, aggregated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeniedAggregate {
    #[serde(skip)]
    key: (String, String, String),
    /// The source device or zone (`(no zone)` when none).
    pub from: String,
    /// The destination device or zone.
    pub to: String,
    /// The service, as a rule would name it (`dicom`, `tcp 8080`).
    pub service: String,
    /// The packets, in plain words (`tcp 104`, `icmp type 8`).
    pub packet: String,
    /// One observed source and destination address.
    pub example: String,
    /// Connections.
    pub count: u64,
    /// First seen (RFC 3339), when the records say.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// `default deny` or the deny rule.
    pub decided_by: String,
    /// Why the flows look like a threat rather than a workflow.
    pub threat: Option<String>,
    /// An `allow` line that would permit these flows, to review.
    pub suggestion: Option<String>,
    /// Why there is no suggestion.
    pub note: Option<String>,
}

/// What one allow rule was used for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleUse {
    /// The rule's stable name.
    pub rule: String,
    /// Where it is declared.
    pub location: String,
    /// Which leg of which declaration.
    pub leg: String,
    /// Connections it allowed.
    pub count: u64,
    /// First seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
}

/// The result of a replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// The policy's name.
    pub policy: String,
    /// The inputs, in order.
    pub sources: Vec<String>,
    /// Records read (flows, related and unreadable).
    pub records: u64,
    /// Connections allowed.
    pub allowed: u64,
    /// Connections denied.
    pub denied: u64,
    /// Related records not judged (ICMP errors, neighbour discovery).
    pub related: u64,
    /// Unreadable records.
    pub bad: u64,
    /// The first unreadable records, with their line numbers.
    pub bad_examples: Vec<BadRecord>,
    /// Denied flows, most connections first.
    pub denied_aggregates: Vec<DeniedAggregate>,
    /// Allow rules that observed traffic used, in canonical order.
    pub rules: Vec<RuleUse>,
    /// Active allow rules no observed flow matched: candidates for removal.
    /// (A rule that matched flows another rule decided is in neither list.)
    pub unused_rules: Vec<RuleUse>,
}
