//! The slow twin of the analysis: a deliberately simple brute-force
//! evaluator of `never ->`, `never ~>`, `require` and unmatchable rules,
//! per host, per family, per port and ICMP type, with no classes, cells or
//! hubs, built only on `Policy::decide`. It is compared with `zonal check`
//! on thousands of tiny seeded random policies (`zonal_synth::generate_tiny`):
//! zero disagreements is the bar, and every witness packet the lints print
//! is re-decided by `decide` and must join two different hosts.
//!
//! Hosts: every device address, and up to two other addresses per zone and
//! family (all addresses of a zone that belong to no device are alike to
//! every rule, since rules name zones and devices), a few addresses of the
//! catch-all external zone and of no zone at all. Selectors: the bounds of
//! every range any rule, invariant or listener names, so every elementary
//! interval of the service space is tried once.

use std::collections::BTreeSet;
use std::net::IpAddr;

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_fits, selector_domain};
use zonal_model::{
    Action, AddrSet, Device, Endpoint, Family, InvariantKind, Policy, ServiceSet, ServiceUse,
    packet_family,
};

/// How many seeded policies one run compares (the bar is 2,000).
const POLICIES: u64 = 2_400;

/// A packet: source, destination, protocol, selector.
type Probe = (IpAddr, IpAddr, u8, u16);

struct Oracle<'p> {
    policy: &'p Policy,
    /// Hosts, each with one or two addresses (one per family).
    hosts: Vec<Vec<IpAddr>>,
    /// Candidate (protocol, selector) points.
    points: Vec<(u8, u16)>,
    /// `allowed[i][j]`: (source address, destination address, protocol,
    /// selector) that decide allows from host i to host j.
    allowed: Vec<Vec<Vec<Probe>>>,
}

fn family(ip: IpAddr) -> Family {
    match ip {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

/// Every address of a set, at most `max` per family, skipping `skip`.
fn some_addrs(set: &AddrSet, max: usize, skip: &AddrSet) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut v4 = 0;
    for &(lo, hi) in set.v4_ranges() {
        let mut x = lo;
        while v4 < max {
            let ip = IpAddr::V4(x.into());
            if !skip.contains(ip) {
                out.push(ip);
                v4 += 1;
            }
            if x == hi {
                break;
            }
            x += 1;
        }
    }
    let mut v6 = 0;
    for &(lo, hi) in set.v6_ranges() {
        let mut x = lo;
        while v6 < max {
            let ip = IpAddr::V6(x.into());
            if !skip.contains(ip) {
                out.push(ip);
                v6 += 1;
            }
            if x == hi {
                break;
            }
            x += 1;
        }
    }
    out
}

fn add_points(points: &mut BTreeSet<(u8, u16)>, set: &ServiceSet) {
    for (p, sel) in set.iter() {
        for &(lo, hi) in sel.ranges() {
            points.insert((p, lo));
            points.insert((p, hi));
            if let Some(n) = hi.checked_add(1)
                && selector_domain(p).contains(n)
            {
                points.insert((p, n));
            }
        }
    }
}

impl<'p> Oracle<'p> {
    fn new(policy: &'p Policy) -> Self {
        let devices = policy
            .devices
            .iter()
            .fold(AddrSet::empty(), |a, d| a.union(&d.addrs));
        // A device is one host with all its addresses. The other addresses
        // of a zone are hosts too, dual-stack where the zone is: the i-th
        // IPv4 and the i-th IPv6 address make one host.
        let mut hosts: Vec<Vec<IpAddr>> = Vec::new();
        for d in &policy.devices {
            hosts.push(some_addrs(&d.addrs, usize::MAX, &AddrSet::empty()));
        }
        let pair_up = |addrs: Vec<IpAddr>| -> Vec<Vec<IpAddr>> {
            let v4: Vec<IpAddr> = addrs.iter().copied().filter(|a| a.is_ipv4()).collect();
            let v6: Vec<IpAddr> = addrs.iter().copied().filter(|a| a.is_ipv6()).collect();
            (0..v4.len().max(v6.len()))
                .map(|i| v4.get(i).into_iter().chain(v6.get(i)).copied().collect())
                .collect()
        };
        for z in &policy.zones {
            if z.external && z.networks.is_empty() {
                continue;
            }
            hosts.extend(pair_up(some_addrs(&z.addrs, 2, &devices)));
        }
        // The catch-all external zone, or the addresses in no zone.
        let zoned = policy
            .zones
            .iter()
            .filter(|z| !(z.external && z.networks.is_empty()))
            .fold(AddrSet::empty(), |a, z| a.union(&z.addrs));
        let outside: Vec<IpAddr> = [
            "203.0.113.7",
            "203.0.113.8",
            "2001:db8:77::7",
            "2001:db8:77::8",
        ]
        .iter()
        .map(|ip| ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")))
        .filter(|ip| !zoned.contains(*ip))
        .collect();
        hosts.extend(pair_up(outside));
        let mut points = BTreeSet::new();
        for p in [TCP, UDP, ICMP, ICMPV6, 47] {
            points.insert((p, 0));
        }
        for r in &policy.rules {
            for t in &r.terms {
                add_points(&mut points, &t.services);
            }
        }
        for i in &policy.invariants {
            add_points(&mut points, &i.services);
            for t in &i.terms {
                add_points(&mut points, &t.services);
            }
        }
        for d in &policy.devices {
            for l in &d.listens {
                add_points(&mut points, &l.set);
            }
        }
        let points: Vec<(u8, u16)> = points.into_iter().collect();
        let allowed = hosts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                hosts
                    .iter()
                    .enumerate()
                    .map(|(j, b)| {
                        if i == j {
                            return Vec::new();
                        }
                        let mut v = Vec::new();
                        for x in a {
                            for y in b.iter().filter(|y| family(**y) == family(*x)) {
                                for (p, s) in &points {
                                    if policy.decide(*x, *y, *p, *s).action == Action::Allow {
                                        v.push((*x, *y, *p, *s));
                                    }
                                }
                            }
                        }
                        v
                    })
                    .collect()
            })
            .collect();
        Oracle {
            policy,
            hosts,
            points,
            allowed,
        }
    }

    fn addrs_of(&self, eps: &[Endpoint]) -> AddrSet {
        AddrSet::union_all(eps.iter().map(|e| self.policy.endpoint_addrs(*e)))
    }

    /// The hosts with an address in the set.
    fn hosts_in(&self, set: &AddrSet) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|i| self.hosts[*i].iter().any(|a| set.contains(*a)))
            .collect()
    }

    /// What the services as written cover toward one address: the slow twin of
    /// `zonal_model::listen`, by its definition in docs/semantics.md.
    fn toward(&self, uses: &[ServiceUse], host: IpAddr) -> ServiceSet {
        if uses.is_empty() {
            return ServiceSet::any();
        }
        let dev = self.policy.devices.iter().find(|d| d.addrs.contains(host));
        uses.iter().fold(ServiceSet::empty(), |acc, u| {
            let set = match (&u.name, dev) {
                (Some(n), Some(d)) => self.named_toward(n, d, 0),
                _ => u.set.clone(),
            };
            acc.union(&set)
        })
    }

    fn named_toward(&self, name: &str, dev: &Device, depth: usize) -> ServiceSet {
        let Some(def) = self.policy.service_by_name(name) else {
            panic!("unknown service `{name}`")
        };
        let moved: Vec<_> = dev.listens.iter().filter(|l| l.service == def.id).collect();
        if moved.iter().any(|l| l.port.is_some()) {
            return moved.iter().fold(ServiceSet::empty(), |a, l| {
                a.union(if l.port.is_some() { &l.set } else { &def.set })
            });
        }
        assert!(depth < 32, "service nesting");
        def.refs.iter().fold(def.own.clone(), |a, r| {
            let part = &self.policy.service(*r).name;
            a.union(&self.named_toward(part, dev, depth + 1))
        })
    }

    /// A packet from host i to an address of `dst` of host j, of a
    /// service of `services` (toward that address), that decide allows.
    fn any_allowed_in(&self, i: usize, j: usize, dst: &AddrSet, uses: &[ServiceUse]) -> bool {
        self.allowed[i][j]
            .iter()
            .any(|(_, y, p, s)| dst.contains(*y) && self.toward(uses, *y).contains(*p, *s))
    }

    /// `never A -> B : S`.
    fn never_direct(&self, inv: &zonal_model::Invariant) -> bool {
        let (src, dst) = (self.addrs_of(&inv.src), self.addrs_of(&inv.dst));
        let (a, b) = (self.hosts_in(&src), self.hosts_in(&dst));
        a.iter().any(|i| {
            b.iter().any(|j| {
                self.allowed[*i][*j].iter().any(|(x, y, p, s)| {
                    src.contains(*x)
                        && dst.contains(*y)
                        && self.toward(&inv.service_uses, *y).contains(*p, *s)
                })
            })
        })
    }

    /// `never A ~> B [: S]`: a host of B reached by one permitted hop (of S)
    /// from a host that A reaches over any chain of permitted hops, A's
    /// hosts included.
    fn never_transitive(&self, inv: &zonal_model::Invariant) -> bool {
        let dst = self.addrs_of(&inv.dst);
        let start = self.hosts_in(&self.addrs_of(&inv.src));
        let targets = self.hosts_in(&dst);
        let mut seen = vec![false; self.hosts.len()];
        let mut stack = start.clone();
        for i in &start {
            seen[*i] = true;
        }
        while let Some(i) = stack.pop() {
            for (j, s) in seen.iter_mut().enumerate() {
                if !*s && !self.allowed[i][j].is_empty() {
                    *s = true;
                    stack.push(j);
                }
            }
        }
        (0..self.hosts.len()).filter(|i| seen[*i]).any(|i| {
            targets
                .iter()
                .any(|j| self.any_allowed_in(i, *j, &dst, &inv.service_uses))
        })
    }

    /// `require A -> B : S` is violated: a packet of S (toward the
    /// destination, in the pair's family) between two different hosts that
    /// decide denies.
    fn require_violated(&self, inv: &zonal_model::Invariant) -> bool {
        let (src, dst) = (self.addrs_of(&inv.src), self.addrs_of(&inv.dst));
        let a = self.hosts_in(&src);
        let b = self.hosts_in(&dst);
        a.iter().any(|i| {
            b.iter().any(|j| {
                if i == j {
                    return false;
                }
                self.hosts[*i]
                    .iter()
                    .filter(|x| src.contains(**x))
                    .any(|x| {
                        self.hosts[*j]
                            .iter()
                            .filter(|y| dst.contains(**y) && family(**y) == family(*x))
                            .any(|y| {
                                let s = self.toward(&inv.service_uses, *y);
                                self.points.iter().any(|(p, sel)| {
                                    s.contains(*p, *sel)
                                        && proto_fits(*p, family(*x))
                                        && self.policy.decide(*x, *y, *p, *sel).action
                                            == Action::Deny
                                })
                            })
                    })
            })
        })
    }

    /// Every packet (between two different hosts of one family, at the
    /// candidate points) a rule matches.
    fn packets_of(&self, r: &zonal_model::Rule) -> Vec<Probe> {
        let mut out = Vec::new();
        for i in 0..self.hosts.len() {
            for j in 0..self.hosts.len() {
                if i == j {
                    continue;
                }
                for x in &self.hosts[i] {
                    for y in self.hosts[j].iter().filter(|y| family(**y) == family(*x)) {
                        for (p, sel) in &self.points {
                            if r.matches(*x, *y, *p, *sel) {
                                out.push((*x, *y, *p, *sel));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Active allows that active denies cover entirely (and that match
    /// some packet).
    fn shadowed(&self) -> Vec<bool> {
        let p = self.policy;
        let denies: Vec<&zonal_model::Rule> = p
            .active_rules()
            .filter(|r| r.action == Action::Deny)
            .collect();
        p.rules
            .iter()
            .map(|r| {
                if !r.is_active() || r.action != Action::Allow {
                    return false;
                }
                let mine = self.packets_of(r);
                !mine.is_empty()
                    && mine
                        .iter()
                        .all(|(x, y, pr, s)| denies.iter().any(|d| d.matches(*x, *y, *pr, *s)))
            })
            .collect()
    }

    /// Redundant flow rules, by the catalogue's definition: in reverse
    /// canonical order, a rule every packet of which other rules cover
    /// (same action and not already found redundant, or a deny for an
    /// allow), each lasting at least as long, with at least one cover of
    /// the same action.
    fn redundant(&self) -> Vec<bool> {
        let p = self.policy;
        let lasts = |c: &zonal_model::Rule, r: &zonal_model::Rule| match (c.until, r.until) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        };
        let shadowed = self.shadowed();
        let mut eliminated = shadowed.clone();
        let mut found = vec![false; p.rules.len()];
        for r in p.rules.iter().rev() {
            if !r.is_active() || shadowed[r.id.index()] || r.origin != zonal_model::OriginKind::Flow
            {
                continue;
            }
            let mine = self.packets_of(r);
            if mine.is_empty() {
                continue;
            }
            let covers: Vec<&zonal_model::Rule> = p
                .active_rules()
                .filter(|c| {
                    c.id != r.id
                        && lasts(c, r)
                        && ((c.action == r.action && !eliminated[c.id.index()])
                            || (r.action == Action::Allow && c.action == Action::Deny))
                })
                .collect();
            let all = mine
                .iter()
                .all(|(x, y, pr, s)| covers.iter().any(|c| c.matches(*x, *y, *pr, *s)));
            let same = mine.iter().any(|(x, y, pr, s)| {
                covers
                    .iter()
                    .any(|c| c.action == r.action && c.matches(*x, *y, *pr, *s))
            });
            if all && same {
                eliminated[r.id.index()] = true;
                found[r.id.index()] = true;
            }
        }
        found
    }

    /// An active rule matches no packet between two different hosts.
    fn unmatchable(&self, r: &zonal_model::Rule) -> bool {
        !(0..self.hosts.len()).any(|i| {
            (0..self.hosts.len()).any(|j| {
                i != j
                    && self.hosts[i].iter().any(|x| {
                        self.hosts[j]
                            .iter()
                            .any(|y| self.points.iter().any(|(p, s)| r.matches(*x, *y, *p, *s)))
                    })
            })
        })
    }
}

/// A packet as the lints print it (`zonal_model::Packet`'s one form).
fn parse_packet(text: &str) -> Option<Probe> {
    let mut w = text.split_whitespace();
    let proto = match w.next()? {
        "tcp" => TCP,
        "udp" => UDP,
        "icmp" => ICMP,
        "icmpv6" => ICMPV6,
        "esp" => 50,
        "ah" => 51,
        "gre" => 47,
        "sctp" => 132,
        n => n.parse().ok()?,
    };
    let src: IpAddr = w.next()?.parse().ok()?;
    if w.next()? != "->" {
        return None;
    }
    let dst = w.next()?;
    let (dst, sel) = match proto {
        TCP | UDP => {
            let (d, port) = dst.rsplit_once(':')?;
            let d = d.trim_start_matches('[').trim_end_matches(']');
            (d.parse().ok()?, port.parse().ok()?)
        }
        ICMP | ICMPV6 => {
            if w.next()? != "type" {
                return None;
            }
            (dst.parse().ok()?, w.next()?.parse().ok()?)
        }
        _ => (dst.parse().ok()?, 0),
    };
    Some((src, dst, proto, sel))
}

/// The packets printed in a finding's notes: after `witness: ` and on
/// each hop line of a path (`  1. a -> b : PACKET via `rule``).
pub(crate) fn printed_packets(d: &zonal_diagnostics::Diagnostic) -> Vec<Probe> {
    let mut out = Vec::new();
    for note in &d.notes {
        for line in note.lines() {
            let line = line.trim();
            let text = if let Some(rest) = line.strip_prefix("witness: ") {
                rest.split(" (").next().unwrap_or(rest)
            } else if line
                .split_once(". ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
            {
                let Some((_, rest)) = line.split_once(" : ") else {
                    continue;
                };
                rest.split(" via ").next().unwrap_or(rest)
            } else {
                continue;
            };
            if let Some(p) = parse_packet(text) {
                out.push(p);
            }
        }
    }
    out
}

/// Every packet any finding prints is a real packet between two different
/// hosts, in one family, of a protocol of that family; where the note says
/// what decide makes of it, decide agrees.
fn printed_witnesses(
    seed: u64,
    policy: &zonal_model::Policy,
    diags: &zonal_diagnostics::Diagnostics,
) -> Vec<String> {
    let mut out = Vec::new();
    for d in diags.iter() {
        for note in &d.notes {
            let want = if note.contains("is permitted by") || note.starts_with("path (") {
                Some(Action::Allow)
            } else if note.contains("is denied by") || note.contains("(default deny)") {
                Some(Action::Deny)
            } else {
                None
            };
            let one = zonal_diagnostics::Diagnostic {
                notes: vec![note.clone()],
                ..d.clone()
            };
            for (s, t, p, sel) in printed_packets(&one) {
                let real = s != t && packet_family(s, t).is_some_and(|f| proto_fits(p, f));
                let verdict = policy.decide(s, t, p, sel).action;
                if !real || want.is_some_and(|w| w != verdict) {
                    out.push(format!(
                        "seed {seed}: {} prints {s} -> {t} proto {p} {sel} (decide: {verdict:?}) in `{note}`",
                        d.code
                    ));
                }
            }
        }
    }
    out
}

/// One policy: the fast analysis and the oracle agree on every invariant
/// and every rule's matchability; every printed witness is a real packet.
fn compare(seed: u64) -> Vec<String> {
    let text = zonal_synth::generate_tiny(seed);
    let policy = zonal_tests::policy_of_text(&format!("tiny-{seed}.zonal"), &text);
    let diags = zonal_lint::check(&policy, &zonal_lint::LintConfig::default());
    let oracle = Oracle::new(&policy);
    let mut problems = Vec::new();
    let fired = |code: &str, span: zonal_diagnostics::Span| {
        diags
            .iter()
            .find(|d| d.code == code && d.primary.span == span)
    };
    for inv in &policy.invariants {
        let (code, slow) = match inv.kind {
            InvariantKind::NeverDirect => ("L0305", oracle.never_direct(inv)),
            InvariantKind::NeverTransitive => ("L0305", oracle.never_transitive(inv)),
            InvariantKind::Require => ("L0306", oracle.require_violated(inv)),
        };
        let fast = fired(code, inv.span);
        if fast.is_some() != slow {
            problems.push(format!(
                "seed {seed}: {code} on `{}`: analysis {}, oracle {}",
                &text[inv.span.range.start as usize..inv.span.range.end as usize],
                fast.is_some(),
                slow
            ));
        }
        let Some(d) = fast else { continue };
        let packets = printed_packets(d);
        if packets.is_empty() {
            problems.push(format!("seed {seed}: {code} prints no witness packet"));
        }
        for (s, t, p, sel) in packets {
            let verdict = policy.decide(s, t, p, sel).action;
            let want = if code == "L0306" {
                Action::Deny
            } else {
                Action::Allow
            };
            if s == t || packet_family(s, t).is_none() || verdict != want {
                problems.push(format!(
                    "seed {seed}: {code} witness {s} -> {t} proto {p} {sel}: decide says {verdict:?}"
                ));
            }
        }
    }
    problems.extend(printed_witnesses(seed, &policy, &diags));
    let (shadowed, redundant) = (oracle.shadowed(), oracle.redundant());
    for r in &policy.rules {
        // Workflow legs share the declaration's span: judge flows only.
        if r.origin != zonal_model::OriginKind::Flow {
            continue;
        }
        for (code, slow) in [
            ("L0201", shadowed[r.id.index()]),
            ("L0202", redundant[r.id.index()]),
        ] {
            let fast = fired(code, r.span).is_some();
            if fast != slow {
                problems.push(format!(
                    "seed {seed}: {code} on rule `{}`: analysis {fast}, oracle {slow}",
                    r.name
                ));
            }
        }
    }
    for r in policy.rules.iter().filter(|r| r.is_active()) {
        let fast = fired("L0203", r.span).is_some();
        // Both legs of a workflow share a span: judge the declaration.
        let legs: Vec<_> = policy
            .rules
            .iter()
            .filter(|x| x.span == r.span && x.is_active())
            .collect();
        let slow = legs.iter().all(|x| oracle.unmatchable(x));
        if legs.len() == 1 && fast != slow {
            problems.push(format!(
                "seed {seed}: L0203 on rule `{}`: analysis {fast}, oracle {slow}",
                r.name
            ));
        }
    }
    problems
}

#[test]
fn the_analysis_agrees_with_a_brute_force_oracle_on_random_policies() {
    let seeds: Vec<u64> = (0..POLICIES).collect();
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .chunks(POLICIES as usize / 2)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|seed| compare(*seed))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} disagreements with the oracle:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_oracle_finds_violations_at_all() {
    // Guards against an oracle (or generator) that never sees a violation.
    let (mut direct, mut transitive, mut require) = (0, 0, 0);
    let (mut shadowed, mut redundant) = (0, 0);
    for seed in 0..300 {
        let text = zonal_synth::generate_tiny(seed);
        let policy = zonal_tests::policy_of_text(&format!("tiny-{seed}.zonal"), &text);
        let oracle = Oracle::new(&policy);
        shadowed += oracle.shadowed().iter().filter(|x| **x).count();
        redundant += oracle.redundant().iter().filter(|x| **x).count();
        for inv in &policy.invariants {
            match inv.kind {
                InvariantKind::NeverDirect => direct += usize::from(oracle.never_direct(inv)),
                InvariantKind::NeverTransitive => {
                    transitive += usize::from(oracle.never_transitive(inv));
                }
                InvariantKind::Require => require += usize::from(oracle.require_violated(inv)),
            }
        }
    }
    assert!(
        direct > 10 && transitive > 10 && require > 10 && shadowed > 5 && redundant > 5,
        "{direct} {transitive} {require} {shadowed} {redundant}"
    );
}

/// `zonal query` over whole sets (`zonal_lint::query::ask`) against the
/// oracle: for zone and device pairs and named or literal services,
/// whether some packet is allowed and whether some packet is denied.
#[test]
fn set_queries_agree_with_the_oracle() {
    use zonal_lint::query::{Asked, ask};
    let mut problems = Vec::new();
    let mut judged = 0usize;
    for seed in 0..400u64 {
        let text = zonal_synth::generate_tiny(seed);
        let policy = zonal_tests::policy_of_text(&format!("tiny-{seed}.zonal"), &text);
        let graph = zonal_lint::ZoneGraph::new(&policy);
        let oracle = Oracle::new(&policy);
        let places: Vec<(String, AddrSet)> = policy
            .zones
            .iter()
            .map(|z| (z.name.clone(), z.addrs.clone()))
            .chain(
                policy
                    .devices
                    .iter()
                    .map(|d| (d.name.clone(), d.addrs.clone())),
            )
            .collect();
        for (i, (fname, from)) in places.iter().enumerate() {
            let (tname, to) = &places[(i + seed as usize) % places.len()];
            for name in ["dicom", "https", "icmp-echo"] {
                let asked = Asked::Named(name);
                let answer = ask(&graph, from, to, &asked);
                let Some(def) = policy.service_by_name(name) else {
                    panic!("{name}")
                };
                let uses = [zonal_model::ServiceUse {
                    name: Some(name.to_string()),
                    text: name.to_string(),
                    set: def.set.clone(),
                    span: policy.header_span,
                }];
                let (mut allowed, mut denied) = (false, false);
                for a in oracle.hosts_in(from) {
                    for b in oracle.hosts_in(to) {
                        if a == b {
                            continue;
                        }
                        for x in oracle.hosts[a].iter().filter(|x| from.contains(**x)) {
                            for y in oracle.hosts[b]
                                .iter()
                                .filter(|y| to.contains(**y) && family(**y) == family(*x))
                            {
                                let s = oracle.toward(&uses, *y).for_family(family(*x));
                                let mut pts: BTreeSet<(u8, u16)> =
                                    oracle.points.iter().copied().collect();
                                add_points(&mut pts, &s);
                                for (p, sel) in &pts {
                                    if !s.contains(*p, *sel) {
                                        continue;
                                    }
                                    match policy.decide(*x, *y, *p, *sel).action {
                                        Action::Allow => allowed = true,
                                        Action::Deny => denied = true,
                                    }
                                }
                            }
                        }
                    }
                }
                judged += 1;
                if answer.allowed.is_some() != allowed || answer.denied.is_some() != denied {
                    problems.push(format!(
                        "seed {seed}: query {fname} -> {tname} : {name}: ask allowed {} denied {}, oracle allowed {allowed} denied {denied}",
                        answer.allowed.is_some(),
                        answer.denied.is_some()
                    ));
                }
                for w in [&answer.allowed, &answer.denied].into_iter().flatten() {
                    let v = policy.decide(
                        w.packet.src,
                        w.packet.dst,
                        w.packet.proto,
                        w.packet.selector,
                    );
                    if w.packet.src == w.packet.dst || v.rule != w.rule {
                        problems.push(format!("seed {seed}: bad witness {:?}", w.packet));
                    }
                }
            }
        }
    }
    assert!(judged > 1000, "{judged}");
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
