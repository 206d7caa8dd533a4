//! Rules: one per flow, two per workflow (request and reverse leg), with
//! terms that honour the listener ports of destination devices; then the
//! canonical order, ids and stable names.

use std::collections::BTreeMap;

use zonal_diagnostics::{FileId, Span};
use zonal_syntax::ast;

use super::endpoints::{Ctx, GroupCache, Resolved};
use super::{Resolver, errors, names, sp};
use crate::addr::AddrSet;
use crate::ir::{Action, Date, DeviceId, Endpoint, OriginKind, Rule, RuleId, ServiceUse, Term};
use crate::listen;
use crate::service::ServiceSet;

impl Resolver<'_> {
    /// Every rule of the flows and workflows, in canonical order.
    pub(super) fn build_rules(&mut self, ctx: &Ctx<'_>, cache: &mut GroupCache) -> Vec<Rule> {
        let mut rules: Vec<Rule> = Vec::new();
        let flows = std::mem::take(&mut self.flows);
        for (file, item, f) in flows {
            rules.extend(self.flow_rule(file, item, f, ctx, cache));
        }
        let workflows = std::mem::take(&mut self.workflows);
        for (file, item, w) in workflows {
            if let Some((request, reverse)) = self.workflow_rules(file, item, w, ctx, cache) {
                rules.push(request);
                rules.push(reverse);
            }
        }
        let (rules, problems) = finalize_rules(rules);
        // A workflow's two legs share one `@name`: report each place once.
        let mut reported = std::collections::BTreeSet::new();
        for p in problems {
            let at = match &p {
                NameProblem::Twice { at, .. } | NameProblem::Unusable { at, .. } => *at,
            };
            if !reported.insert((at.file, at.range.start)) {
                continue;
            }
            self.diags.push(match p {
                NameProblem::Twice { name, at, first } => errors::rule_name_twice(&name, at, first),
                NameProblem::Unusable { name, at } => {
                    errors::rule_name_unusable(&name, at, MAX_GIVEN_NAME)
                }
            });
        }
        rules
    }

    fn flow_rule(
        &mut self,
        file: FileId,
        item: &ast::Item,
        f: &ast::FlowDecl,
        ctx: &Ctx<'_>,
        cache: &mut GroupCache,
    ) -> Option<Rule> {
        let span = sp(file, item.range);
        let src = self.endpoints(file, &f.src, ctx, cache);
        let dst = self.endpoints(file, &f.dst, ctx, cache);
        let uses = match &f.services {
            Some(terms) => self.service_uses(file, terms),
            None => Some(vec![ServiceUse {
                name: None,
                text: "any".into(),
                set: ServiceSet::any(),
                span,
            }]),
        };
        let until = f.until.as_ref().and_then(|d| self.date(file, d));
        let (src, dst, uses) = (src?, dst?, uses?);
        let action = match f.action {
            ast::FlowAction::Allow => Action::Allow,
            ast::FlowAction::Deny => Action::Deny,
        };
        let just = f.justification.as_ref().map(|j| j.value.clone());
        let mut rule = build_rule(
            ctx,
            action,
            OriginKind::Flow,
            span,
            src,
            dst,
            uses,
            until,
            just,
        );
        rule.given_name = given_name(file, item);
        Some(rule)
    }

    /// The request leg `a -> b` and the reverse leg `b -> a` (or, for
    /// `c-move … to T`, `b -> T`); services default to `dicom`.
    fn workflow_rules(
        &mut self,
        file: FileId,
        item: &ast::Item,
        w: &ast::WorkflowDecl,
        ctx: &Ctx<'_>,
        cache: &mut GroupCache,
    ) -> Option<(Rule, Rule)> {
        let span = sp(file, item.range);
        let a = self.endpoints(file, &w.src, ctx, cache);
        let b = self.endpoints(file, &w.dst, ctx, cache);
        let to = match (&w.to, w.kind) {
            (Some(to), ast::WorkflowKind::CMove) => Some(self.endpoints(file, to, ctx, cache)?),
            // The parser accepts `to` only after `c-move` (E0001).
            (Some(_), ast::WorkflowKind::StorageCommitment) | (None, _) => None,
        };
        let uses = match &w.services {
            Some(terms) => self.service_uses(file, terms),
            None => Some(vec![ServiceUse {
                name: Some("dicom".into()),
                text: "dicom".into(),
                set: self.named_set("dicom"),
                span,
            }]),
        };
        let until = w.until.as_ref().and_then(|d| self.date(file, d));
        let (a, b, uses) = (a?, b?, uses?);
        let just = w.justification.as_ref().map(|j| j.value.clone());
        let (k1, k2) = match w.kind {
            ast::WorkflowKind::StorageCommitment => (
                OriginKind::StorageCommitmentRequest,
                OriginKind::StorageCommitmentReport,
            ),
            ast::WorkflowKind::CMove => (OriginKind::MoveRequest, OriginKind::MoveStore),
        };
        let back = to.unwrap_or_else(|| a.clone());
        let request = build_rule(
            ctx,
            Action::Allow,
            k1,
            span,
            a,
            b.clone(),
            uses.clone(),
            until,
            just.clone(),
        );
        let mut reverse = build_rule(ctx, Action::Allow, k2, span, b, back, uses, until, just);
        let mut request = request;
        request.given_name = given_name(file, item);
        reverse.given_name = given_name(file, item);
        Some((request, reverse))
    }
}

/// The `@name` of an item, with where it is written.
fn given_name(file: FileId, item: &ast::Item) -> Option<(String, Span)> {
    item.name
        .as_ref()
        .map(|n| (n.name.name.clone(), sp(file, n.name.range)))
}

/// The services a rule covers toward one destination, split by the
/// addresses they apply to: a device that moves a named service to its own
/// port (`listens dicom on 11112`) is reached on that port instead, whether
/// the destination names the device, its zone or `any` (see [`crate::listen`]).
pub(super) fn services_toward(
    ctx: &Ctx<'_>,
    dst: Endpoint,
    uses: &[ServiceUse],
    base: &ServiceSet,
) -> Vec<(Endpoint, AddrSet, ServiceSet)> {
    let moved = |devices: &mut dyn Iterator<Item = DeviceId>| {
        devices
            .filter_map(|did| {
                let dev = &ctx.devices[did.index()];
                listen::device_moves(ctx.services, dev, uses).then(|| {
                    (
                        Endpoint::Device(did),
                        dev.addrs.clone(),
                        listen::services_toward(ctx.services, dev, uses),
                    )
                })
            })
            .collect::<Vec<_>>()
    };
    let (whole, moved) = match dst {
        Endpoint::Device(d) => {
            let dev = &ctx.devices[d.index()];
            // A device that moves no listener to a port of its own is
            // reached on the services as written.
            let set = if dev.listens.iter().any(|l| l.port.is_some()) {
                listen::services_toward(ctx.services, dev, uses)
            } else {
                base.clone()
            };
            return vec![(dst, dev.addrs.clone(), set)];
        }
        Endpoint::Zone(z) => {
            let zone = &ctx.zones[z.index()];
            let mut devices = zone
                .devices
                .iter()
                .copied()
                .filter(|d| ctx.moving.binary_search(d).is_ok());
            (zone.addrs.clone(), moved(&mut devices))
        }
        Endpoint::Any => (AddrSet::full(), moved(&mut ctx.moving.iter().copied())),
    };
    let rest = if moved.is_empty() {
        whole
    } else {
        whole.subtract(&AddrSet::union_all(moved.iter().map(|m| m.1.clone())))
    };
    let mut out = Vec::with_capacity(moved.len() + 1);
    out.push((dst, rest, base.clone()));
    out.extend(moved);
    out
}

/// The packet-level terms of `src -> dst : uses`: one per distinct service
/// set, with the destination addresses it applies to.
pub(super) fn terms(
    ctx: &Ctx<'_>,
    src: &[Endpoint],
    dst: &[Endpoint],
    uses: &[ServiceUse],
) -> Vec<Term> {
    let src_addrs = match src {
        [one] => ctx.addrs(*one),
        many => AddrSet::union_all(many.iter().map(|e| ctx.addrs(*e))),
    };
    let base = uses
        .iter()
        .fold(ServiceSet::empty(), |a, u| a.union(&u.set));
    let mut by_set: BTreeMap<ServiceSet, (Vec<AddrSet>, Vec<Endpoint>)> = BTreeMap::new();
    for &d in dst {
        for (ep, addrs, set) in services_toward(ctx, d, uses, &base) {
            if set.is_empty() || addrs.is_empty() {
                continue;
            }
            let e = by_set.entry(set).or_default();
            e.0.push(addrs);
            e.1.push(ep);
        }
    }
    by_set
        .into_iter()
        .map(|(services, (dst_addrs, eps))| Term {
            src: src_addrs.clone(),
            dst: AddrSet::union_all(dst_addrs),
            dst_endpoints: eps,
            services,
        })
        .collect()
}

#[expect(clippy::too_many_arguments, reason = "a rule has this many parts")]
fn build_rule(
    ctx: &Ctx<'_>,
    action: Action,
    origin: OriginKind,
    span: Span,
    src: Resolved,
    dst: Resolved,
    uses: Vec<ServiceUse>,
    until: Option<Date>,
    justification: Option<String>,
) -> Rule {
    let terms = terms(ctx, &src.leaves, &dst.leaves, &uses);
    let expired = until.is_some_and(|u| u < ctx.today);
    Rule {
        id: RuleId(0),
        action,
        origin,
        span,
        src: src.leaves,
        dst: dst.leaves,
        src_written: src.written,
        dst_written: dst.written,
        services_written: uses,
        terms,
        until,
        expired,
        justification,
        name: String::new(),
        given_name: None,
    }
}

/// The key rules are sorted by: everything as written.
type RuleKey<'a> = (
    Action,
    OriginKind,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Option<Date>,
    Option<&'a str>,
);

/// A rule whose `@name` cannot be used: written twice (both places), or
/// not made of letters, digits and `-` within [`MAX_GIVEN_NAME`] bytes.
pub(super) enum NameProblem {
    /// Two rules (not the two legs of one workflow) share a `@name`.
    Twice { name: String, at: Span, first: Span },
    /// The name has a character or a length some target cannot take.
    Unusable { name: String, at: Span },
}

/// The longest `@name`: with a workflow suffix (`-report`) it stays
/// within the shortest rule-name limit of the targets.
pub(super) const MAX_GIVEN_NAME: usize = 28;

/// The name of a rule from its `@name`: the name itself for a flow, with
/// the leg's suffix for a workflow.
fn given_rule_name(given: &str, origin: OriginKind) -> String {
    match origin {
        OriginKind::Flow => given.to_string(),
        OriginKind::StorageCommitmentRequest | OriginKind::MoveRequest => format!("{given}-req"),
        OriginKind::StorageCommitmentReport => format!("{given}-report"),
        OriginKind::MoveStore => format!("{given}-store"),
    }
}

/// Sorts rules canonically, assigns ids and stable unique names: first
/// every `@name`, then generated names that avoid them.
fn finalize_rules(rules: Vec<Rule>) -> (Vec<Rule>, Vec<NameProblem>) {
    fn key(r: &Rule) -> RuleKey<'_> {
        (
            r.action,
            r.origin,
            r.src_written.iter().map(|x| x.0.as_str()).collect(),
            r.dst_written.iter().map(|x| x.0.as_str()).collect(),
            r.services_written.iter().map(|x| x.text.as_str()).collect(),
            r.until,
            r.justification.as_deref(),
        )
    }
    // Sort an index by borrowed keys, then move the rules into that order.
    let order: Vec<usize> = {
        let keys: Vec<RuleKey<'_>> = rules.iter().map(key).collect();
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        order
    };
    let mut slots: Vec<Option<Rule>> = rules.into_iter().map(Some).collect();
    let mut rules: Vec<Rule> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    let mut problems = Vec::new();
    let mut used: BTreeMap<String, u32> = BTreeMap::new();
    let mut given_at: BTreeMap<String, Span> = BTreeMap::new();
    for r in &mut rules {
        let Some((given, at)) = r.given_name.clone() else {
            continue;
        };
        let usable = given.len() <= MAX_GIVEN_NAME
            && given.starts_with(|c: char| c.is_ascii_alphabetic())
            && given.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !given.ends_with('-');
        if !usable {
            problems.push(NameProblem::Unusable { name: given, at });
            continue;
        }
        let name = given_rule_name(&given, r.origin);
        if let Some(first) = given_at.get(&name) {
            // Report at the later one in the source, pointing back.
            let (at, first) = if (first.file, first.range.start) <= (at.file, at.range.start) {
                (at, *first)
            } else {
                (*first, at)
            };
            problems.push(NameProblem::Twice {
                name: given,
                at,
                first,
            });
            continue;
        }
        given_at.insert(name.clone(), at);
        used.insert(name.clone(), 0);
        r.name = name;
    }
    for (i, r) in rules.iter_mut().enumerate() {
        r.id = RuleId(u32::try_from(i).unwrap_or(u32::MAX));
        if !r.name.is_empty() {
            continue;
        }
        let base = names::rule_base_name(r);
        let mut n = *used.get(&base).unwrap_or(&0);
        let mut name = base.clone();
        while used.contains_key(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        used.insert(base, n);
        used.insert(name.clone(), 0);
        r.name = name;
    }
    (rules, problems)
}
