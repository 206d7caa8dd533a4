//! Services: definitions (the prelude's, overrides, the policy's), their
//! terms (ports, protocols, ICMP types, references to other services) and
//! the services a flow or an invariant names.

use std::collections::BTreeMap;

use zonal_diagnostics::FileId;
use zonal_syntax::ast;

use super::{Resolver, ServiceSrc, errors, sp};
use crate::ir::{ServiceDef, ServiceId, ServiceUse};
use crate::service::{self, ServiceSet};
use crate::sets::IntervalSet;

/// Resolved named services; `None` for one whose definition has errors.
type ServiceCache = BTreeMap<String, Option<ServiceSet>>;

impl<'a> Resolver<'a> {
    pub(super) fn collect_service(&mut self, file: FileId, s: &'a ast::ServiceDecl, prelude: bool) {
        let name = s.name.name.clone();
        match self.services.get(&name) {
            Some(prev) if prev.prelude && !prelude => {
                if s.override_kw.is_none() {
                    let d = errors::prelude_service_redefined(
                        &name,
                        sp(file, s.name.range),
                        sp(prev.file, prev.decl.name.range),
                    );
                    self.err(d);
                    return;
                }
                self.services.insert(
                    name,
                    ServiceSrc {
                        file,
                        decl: s,
                        prelude: false,
                    },
                );
            }
            Some(prev) => {
                let d = errors::service_defined_twice(
                    &name,
                    sp(file, s.name.range),
                    sp(prev.file, prev.decl.name.range),
                );
                self.err(d);
            }
            None => {
                if let Some(kw) = s.override_kw {
                    self.err(errors::nothing_to_override(&name, sp(file, kw)));
                }
                self.services.insert(
                    name,
                    ServiceSrc {
                        file,
                        decl: s,
                        prelude,
                    },
                );
            }
        }
    }

    /// Resolves every named service, in name order (which is also their
    /// ids' order), and fills [`Resolver::service_cache`].
    pub(super) fn build_services(&mut self) -> Vec<ServiceDef> {
        let mut service_sets = ServiceCache::new();
        let names: Vec<String> = self.services.keys().cloned().collect();
        for n in &names {
            self.resolve_named_service(n, &mut service_sets, &mut Vec::new());
        }
        self.service_cache = service_sets;
        // Ids are positions in name order: a reference finds its id by
        // binary search.
        let id_of = |n: &str| {
            names
                .binary_search_by(|x| x.as_str().cmp(n))
                .ok()
                .map(|i| ServiceId(u32::try_from(i).unwrap_or(u32::MAX)))
        };
        self.services
            .iter()
            .enumerate()
            .map(|(i, (name, src))| {
                let mut refs: Vec<ServiceId> = src
                    .decl
                    .terms
                    .iter()
                    .filter_map(|t| match &t.kind {
                        ast::ServiceTermKind::Ref(r) => id_of(&r.name),
                        _ => None,
                    })
                    .collect();
                refs.sort();
                refs.dedup();
                ServiceDef {
                    id: ServiceId(u32::try_from(i).unwrap_or(u32::MAX)),
                    name: name.clone(),
                    span: sp(src.file, src.decl.name.range),
                    prelude: src.prelude,
                    set: self.named_set(name),
                    own: self.service_own.get(name).cloned().unwrap_or_default(),
                    refs,
                    description: src.decl.description.as_ref().map(|d| d.value.clone()),
                }
            })
            .collect()
    }

    /// The set of a named service once services are resolved; empty for
    /// an unknown service or one with errors.
    pub(super) fn named_set(&self, name: &str) -> ServiceSet {
        self.service_cache
            .get(name)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }

    fn resolve_named_service(
        &mut self,
        name: &str,
        cache: &mut ServiceCache,
        stack: &mut Vec<String>,
    ) -> Option<ServiceSet> {
        if let Some(v) = cache.get(name) {
            return v.clone();
        }
        let (file, decl) = {
            let src = self.services.get(name)?;
            (src.file, src.decl)
        };
        if stack.iter().any(|s| s == name) {
            self.err(errors::service_cycle(
                name,
                sp(file, decl.name.range),
                stack,
            ));
            cache.insert(name.to_string(), None);
            return None;
        }
        stack.push(name.to_string());
        let mut set = ServiceSet::empty();
        let mut own = ServiceSet::empty();
        let mut ok = true;
        for t in &decl.terms {
            match self.term(file, t, cache, stack) {
                Some(s) => {
                    if !matches!(t.kind, ast::ServiceTermKind::Ref(_)) {
                        own = own.union(&s);
                    }
                    set = set.union(&s);
                }
                None => ok = false,
            }
        }
        self.service_own.insert(name.to_string(), own);
        stack.pop();
        let r = if ok { Some(set) } else { None };
        cache.insert(name.to_string(), r.clone());
        r
    }

    fn term(
        &mut self,
        file: FileId,
        t: &ast::ServiceTerm,
        cache: &mut ServiceCache,
        stack: &mut Vec<String>,
    ) -> Option<ServiceSet> {
        match &t.kind {
            ast::ServiceTermKind::Any => Some(ServiceSet::any()),
            ast::ServiceTermKind::Protocol(n) => {
                if n.value > 255 {
                    self.err(errors::protocol_out_of_range(n.value, sp(file, n.range)));
                    return None;
                }
                Some(ServiceSet::whole_proto(u8::try_from(n.value).unwrap_or(0)))
            }
            ast::ServiceTermKind::Ports { proto, ports } => {
                let p = match proto {
                    ast::PortProto::Tcp => service::TCP,
                    ast::PortProto::Udp => service::UDP,
                };
                self.ports_term(file, p, ports)
            }
            ast::ServiceTermKind::Icmp { v6, types } => self.icmp_term(file, *v6, types),
            ast::ServiceTermKind::Ref(id) => {
                if self.services.contains_key(&id.name) {
                    return self.resolve_named_service(&id.name, cache, stack);
                }
                if self.after_syntax_errors {
                    return None;
                }
                let cands: Vec<&str> = self.services.keys().map(String::as_str).collect();
                let d = errors::unknown_service(&id.name, sp(file, id.range), &cands);
                self.err(d);
                None
            }
        }
    }

    /// `tcp PORTS` or `udp PORTS`; no ports means the whole protocol.
    fn ports_term(
        &mut self,
        file: FileId,
        proto: u8,
        ports: &[ast::PortRange],
    ) -> Option<ServiceSet> {
        if ports.is_empty() {
            return Some(ServiceSet::whole_proto(proto));
        }
        let mut set = IntervalSet::empty();
        let mut ok = true;
        for pr in ports {
            match self.port_range(file, pr) {
                Some((lo, hi)) => set = set.union(&IntervalSet::range(lo, hi)),
                None => ok = false,
            }
        }
        ok.then(|| ServiceSet::proto(proto, set))
    }

    /// `icmp TYPES` or `icmpv6 TYPES`; no types means the whole protocol.
    fn icmp_term(&mut self, file: FileId, v6: bool, types: &[ast::IcmpType]) -> Option<ServiceSet> {
        let p = if v6 { service::ICMPV6 } else { service::ICMP };
        if types.is_empty() {
            return Some(ServiceSet::whole_proto(p));
        }
        let mut set = IntervalSet::empty();
        let mut ok = true;
        for ty in types {
            match ty {
                ast::IcmpType::Number(n) if n.value <= 255 => {
                    set = set.union(&IntervalSet::single(u16::try_from(n.value).unwrap_or(0)));
                }
                ast::IcmpType::Number(n) => {
                    self.err(errors::icmp_type_out_of_range(n.value, sp(file, n.range)));
                    ok = false;
                }
                ast::IcmpType::Named(id) => match service::icmp_type_by_name(&id.name, v6) {
                    Some(v) => set = set.union(&IntervalSet::single(v)),
                    None => {
                        self.err(errors::unknown_icmp_type(&id.name, v6, sp(file, id.range)));
                        ok = false;
                    }
                },
            }
        }
        ok.then(|| ServiceSet::proto(p, set))
    }

    pub(super) fn port(&mut self, file: FileId, n: &ast::Num) -> Option<u16> {
        if let Ok(p) = u16::try_from(n.value) {
            return Some(p);
        }
        self.err(errors::port_out_of_range(n.value, sp(file, n.range)));
        None
    }

    fn port_range(&mut self, file: FileId, pr: &ast::PortRange) -> Option<(u16, u16)> {
        let lo = self.port(file, &pr.lo);
        let hi = match &pr.hi {
            Some(h) => self.port(file, h),
            None => lo,
        };
        let (lo, hi) = (lo?, hi?);
        if lo > hi {
            self.err(errors::inverted_port_range(lo, hi, sp(file, pr.range)));
            return None;
        }
        Some((lo, hi))
    }

    /// The services written after `:` in a flow, a workflow or an
    /// invariant, each with its text as written.
    pub(super) fn service_uses(
        &mut self,
        file: FileId,
        terms: &[ast::ServiceTerm],
    ) -> Option<Vec<ServiceUse>> {
        let mut out = Vec::new();
        let mut ok = true;
        let mut cache = std::mem::take(&mut self.service_cache);
        for t in terms {
            let text = self
                .db
                .text(file)
                .get(t.range.start as usize..t.range.end as usize)
                .unwrap_or("")
                .to_string();
            let name = match &t.kind {
                ast::ServiceTermKind::Ref(id) => Some(id.name.clone()),
                _ => None,
            };
            match self.term(file, t, &mut cache, &mut Vec::new()) {
                Some(set) => out.push(ServiceUse {
                    name,
                    text,
                    set,
                    span: sp(file, t.range),
                }),
                None => ok = false,
            }
        }
        self.service_cache = cache;
        ok.then_some(out)
    }
}
