//! Invariants: `never` (direct or transitive) and `require`, in canonical
//! order.

use zonal_diagnostics::FileId;
use zonal_syntax::ast;

use super::endpoints::{Ctx, GroupCache};
use super::{Resolver, sp};
use crate::ir::{Invariant, InvariantKind, ServiceUse};
use crate::service::ServiceSet;

impl Resolver<'_> {
    /// Every invariant, sorted by kind, endpoints as written and services.
    pub(super) fn build_invariants(
        &mut self,
        ctx: &Ctx<'_>,
        cache: &mut GroupCache,
    ) -> Vec<Invariant> {
        let mut invariants = Vec::new();
        let nevers = std::mem::take(&mut self.nevers);
        for (file, item, n) in nevers {
            let kind = match n.reach {
                ast::Reach::Direct => InvariantKind::NeverDirect,
                ast::Reach::Transitive => InvariantKind::NeverTransitive,
            };
            let written = Written {
                src: &n.src,
                dst: &n.dst,
                services: n.services.as_deref(),
                justification: n.justification.as_ref(),
            };
            invariants.extend(self.invariant(file, item, kind, &written, ctx, cache));
        }
        let requires = std::mem::take(&mut self.requires);
        for (file, item, r) in requires {
            let written = Written {
                src: &r.src,
                dst: &r.dst,
                services: Some(&r.services),
                justification: r.justification.as_ref(),
            };
            let kind = InvariantKind::Require;
            invariants.extend(self.invariant(file, item, kind, &written, ctx, cache));
        }
        invariants.sort_by(|a, b| {
            (
                a.kind,
                &a.src_written_names(),
                &a.dst_written_names(),
                &a.services,
            )
                .cmp(&(
                    b.kind,
                    &b.src_written_names(),
                    &b.dst_written_names(),
                    &b.services,
                ))
        });
        invariants
    }

    /// One invariant; `None` when a part of it has errors.
    fn invariant(
        &mut self,
        file: FileId,
        item: &ast::Item,
        kind: InvariantKind,
        written: &Written<'_>,
        ctx: &Ctx<'_>,
        cache: &mut GroupCache,
    ) -> Option<Invariant> {
        let s = self.endpoints(file, written.src, ctx, cache);
        let d = self.endpoints(file, written.dst, ctx, cache);
        let uses = match written.services {
            Some(terms) => self.service_uses(file, terms),
            None => Some(vec![ServiceUse {
                name: None,
                text: "any".into(),
                set: ServiceSet::any(),
                span: sp(file, item.range),
            }]),
        };
        let (s, d, uses) = (s?, d?, uses?);
        let set = uses
            .iter()
            .fold(ServiceSet::empty(), |a, x| a.union(&x.set));
        let terms = super::rules::terms(ctx, &s.leaves, &d.leaves, &uses);
        let service_names = written
            .services
            .unwrap_or_default()
            .iter()
            .filter_map(|t| match &t.kind {
                ast::ServiceTermKind::Ref(id) => Some(id.name.clone()),
                _ => None,
            })
            .collect();
        Some(Invariant {
            kind,
            span: sp(file, item.range),
            src: s.leaves,
            dst: d.leaves,
            src_written: s.written,
            dst_written: d.written,
            services: set,
            terms,
            service_uses: if written.services.is_some() {
                uses
            } else {
                Vec::new()
            },
            services_written: written.services.is_some(),
            service_names,
            justification: written.justification.map(|j| j.value.clone()),
        })
    }
}

/// The parts `never` and `require` share, as written.
struct Written<'a> {
    src: &'a ast::EndpointList,
    dst: &'a ast::EndpointList,
    /// `None` when no services are written (`never` only): every service.
    services: Option<&'a [ast::ServiceTerm]>,
    justification: Option<&'a ast::StrLit>,
}

impl Invariant {
    fn src_written_names(&self) -> Vec<&str> {
        self.src_written.iter().map(|(n, _)| n.as_str()).collect()
    }
    fn dst_written_names(&self) -> Vec<&str> {
        self.dst_written.iter().map(|(n, _)| n.as_str()).collect()
    }
}
