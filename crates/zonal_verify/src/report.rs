//! The outcome of a run: every probe with its expected verdict and what
//! the kernel did, the probe matrix and the mismatch report as text.

use std::fmt::Write as _;
use std::time::Duration;

use zonal_diagnostics::SourceDb;
use zonal_model::{Action, Policy, Verdict};

use crate::plan::{Origin, Plan, Probe};
use crate::probe::Observed;

/// The result of one verification run.
#[derive(Clone, Debug)]
pub struct Report {
    /// `nftables` or `iptables`.
    pub target: String,
    /// The network and probes.
    pub plan: Plan,
    /// What each probe saw, in the order of [`Plan::probes`].
    pub observed: Vec<Observed>,
    /// How many sockets listened.
    pub listeners: usize,
    /// Wall time of the run (network, load, probes, cleanup excluded).
    pub elapsed: Duration,
    /// The router's connection table (`/proc/net/nf_conntrack` lines)
    /// after each phase of probes, with [`crate::Config::capture_conntrack`]:
    /// a real capture of the probes' connections, the initiator side
    /// first. Empty otherwise.
    pub conntrack: Vec<String>,
}

/// One probe whose observation differs from the policy's verdict.
#[derive(Clone, Debug)]
pub struct Mismatch<'a> {
    /// The probe.
    pub probe: &'a Probe,
    /// What was observed.
    pub observed: &'a Observed,
}

fn matches(expected: Verdict, observed: &Observed) -> bool {
    match observed {
        Observed::Passed(_) => expected.action == Action::Allow,
        Observed::Blocked(_) => expected.action == Action::Deny,
        Observed::OneWay(_) | Observed::Failed(_) => false,
    }
}

impl Report {
    /// Probes whose observation differs from the expected verdict, or
    /// which could not run.
    pub fn mismatches(&self) -> Vec<Mismatch<'_>> {
        self.plan
            .probes
            .iter()
            .zip(&self.observed)
            .filter(|(p, o)| !matches(p.expected, o))
            .map(|(probe, observed)| Mismatch { probe, observed })
            .collect()
    }

    /// Whether every probe matched.
    pub fn is_pass(&self) -> bool {
        !self.plan.probes.is_empty() && self.mismatches().is_empty()
    }

    /// How many probes were expected to pass and did.
    pub fn allowed(&self) -> usize {
        self.observed
            .iter()
            .filter(|o| matches!(o, Observed::Passed(_)))
            .count()
    }

    fn host_label(&self, policy: &Policy, index: usize) -> String {
        let Some(h) = self.plan.hosts.get(index) else {
            return "?".into();
        };
        let zone = &policy.zone(h.zone).name;
        match h.device {
            Some(_) => format!("{zone}/{}", h.label),
            None => zone.clone(),
        }
    }

    fn verdict_text(policy: &Policy, db: &SourceDb, v: Verdict) -> String {
        match v.rule {
            None => format!("{} (default deny, no rule matches)", v.action.as_str()),
            Some(id) => {
                let rule = policy.rule(id);
                let lc = db.line_col(rule.span.file, rule.span.range.start);
                format!(
                    "{} by rule `{}` at {}:{}:{}",
                    v.action.as_str(),
                    rule.name,
                    db.name(rule.span.file),
                    lc.line,
                    lc.col
                )
            }
        }
    }

    fn origin_text(policy: &Policy, o: Origin) -> String {
        match o {
            Origin::Named(r) => format!("named by rule `{}`", policy.rule(r).name),
            Origin::Reverse(r) => format!("reverse direction of rule `{}`", policy.rule(r).name),
            Origin::Edge(r) => format!("port just outside rule `{}`", policy.rule(r).name),
            Origin::Sample => "seeded sample".to_string(),
        }
    }

    /// The probe matrix: one line per (source, destination, service,
    /// family) with the expected and the observed verdict.
    pub fn render_matrix(&self, policy: &Policy) -> String {
        let mut rows: Vec<_> = self
            .plan
            .probes
            .iter()
            .zip(&self.observed)
            .map(|(p, o)| {
                let key = (
                    self.host_label(policy, p.src),
                    self.host_label(policy, p.dst),
                    p.kind,
                    p.v6,
                );
                (
                    key,
                    p.kind.label(p.v6),
                    p.expected.action.as_str(),
                    o.as_str(),
                    matches(p.expected, o),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let w_from = rows.iter().map(|r| r.0.0.len()).max().unwrap_or(0).max(4);
        let w_to = rows.iter().map(|r| r.0.1.len()).max().unwrap_or(0).max(2);
        let w_svc = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(7);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:w_from$}  {:w_to$}  {:w_svc$}  {:6}  {:8}  OBSERVED",
            "FROM", "TO", "SERVICE", "FAMILY", "EXPECTED"
        );
        for ((from, to, _, v6), svc, exp, obs, ok) in rows {
            let fam = if v6 { "ipv6" } else { "ipv4" };
            let line =
                format!("{from:w_from$}  {to:w_to$}  {svc:w_svc$}  {fam:6}  {exp:8}  {obs:8}");
            let flag = if ok { "" } else { "  MISMATCH" };
            let _ = writeln!(out, "{}{flag}", line.trim_end());
        }
        out
    }

    /// Every mismatch: the probe, the expected verdict with its deciding
    /// rule and source location, and what the kernel did.
    pub fn render_mismatches(&self, policy: &Policy, db: &SourceDb) -> String {
        let mut out = String::new();
        for m in self.mismatches() {
            let p = m.probe;
            let (src, dst) = self
                .plan
                .addrs(p)
                .map(|(s, d)| (s.to_string(), d.to_string()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "mismatch: {} ({src}) -> {} ({dst}) {}",
                self.host_label(policy, p.src),
                self.host_label(policy, p.dst),
                p.kind.label(p.v6)
            );
            let _ = writeln!(
                out,
                "  expected: {}",
                Self::verdict_text(policy, db, p.expected)
            );
            let _ = writeln!(
                out,
                "  observed: {} ({})",
                m.observed.as_str(),
                m.observed.detail()
            );
            let _ = writeln!(out, "  probe:    {}", Self::origin_text(policy, p.origin));
        }
        out
    }

    /// One paragraph: counts, notes and time.
    pub fn render_summary(&self) -> String {
        let total = self.plan.probes.len();
        let mismatches = self.mismatches().len();
        let count = |f: fn(&Observed) -> bool| self.observed.iter().filter(|o| f(o)).count();
        let failed = count(|o| matches!(o, Observed::Failed(_)));
        let one_way = count(|o| matches!(o, Observed::OneWay(_)));
        let blocked = count(|o| matches!(o, Observed::Blocked(_)));
        let mut out = String::new();
        for note in &self.plan.notes {
            let _ = writeln!(out, "note: {note}");
        }
        let _ = writeln!(
            out,
            "{}: {total} probes, {} matched, {mismatches} mismatched ({failed} could not run); \
             {} passed, {blocked} blocked, {one_way} one-way; {} namespaces, {} listeners; {:.1} s",
            self.target,
            total - mismatches,
            self.allowed(),
            self.plan.hosts.len() + 1,
            self.listeners,
            self.elapsed.as_secs_f64()
        );
        out
    }
}
