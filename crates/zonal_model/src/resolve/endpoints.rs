//! Endpoints: groups (flattened to zones and devices) and the endpoint
//! lists of flows and invariants.

use std::collections::{BTreeMap, BTreeSet};

use zonal_diagnostics::{FileId, Span};
use zonal_syntax::ast;

use super::{Named, Resolver, errors, sort_by_name, sp};
use crate::addr::AddrSet;
use crate::ir::{Date, Device, DeviceId, Endpoint, Group, GroupId, ServiceDef, Zone, ZoneId};

/// Flattened groups by declaration index.
pub(super) type GroupCache = BTreeMap<usize, Vec<Endpoint>>;

/// An endpoint list: its leaves (zones, devices, `any`; groups
/// flattened), and the names as written with where they are.
#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) leaves: Vec<Endpoint>,
    pub(super) written: Vec<(String, Span)>,
}

/// What rules and invariants are built against: the zones and devices of
/// the model and how declaration indices map to their ids.
pub(super) struct Ctx<'a> {
    pub(super) zone_new_id: &'a [ZoneId],
    pub(super) dev_new_id: &'a [DeviceId],
    pub(super) zones: &'a [Zone],
    pub(super) devices: &'a [Device],
    pub(super) services: &'a [ServiceDef],
    /// Devices that move a service to another port (`listens S on PORT`), sorted.
    pub(super) moving: &'a [DeviceId],
    pub(super) today: Date,
}

impl Ctx<'_> {
    pub(super) fn addrs(&self, e: Endpoint) -> AddrSet {
        match e {
            Endpoint::Zone(z) => self.zones[z.index()].addrs.clone(),
            Endpoint::Device(d) => self.devices[d.index()].addrs.clone(),
            Endpoint::Any => AddrSet::full(),
        }
    }
}

impl Resolver<'_> {
    /// Every group, sorted by name, with its members flattened.
    pub(super) fn build_groups(
        &mut self,
        zone_new_id: &[ZoneId],
        dev_new_id: &[DeviceId],
        cache: &mut GroupCache,
    ) -> Vec<Group> {
        let (order, group_new_id) = sort_by_name(&self.groups, |g| &g.decl.name.name, GroupId);
        let mut groups = Vec::with_capacity(order.len());
        for old in order {
            let members = self.flatten_group(old, zone_new_id, dev_new_id, cache, &mut Vec::new());
            let g = &self.groups[old];
            groups.push(Group {
                id: group_new_id[old],
                name: g.decl.name.name.clone(),
                span: sp(g.file, g.decl.name.range),
                members,
                description: g.decl.description.as_ref().map(|d| d.value.clone()),
            });
        }
        groups
    }

    /// The zones and devices of group `idx`, through nested groups.
    /// `stack` holds the groups being flattened, to report cycles.
    fn flatten_group(
        &mut self,
        idx: usize,
        zone_new_id: &[ZoneId],
        dev_new_id: &[DeviceId],
        cache: &mut GroupCache,
        stack: &mut Vec<usize>,
    ) -> Vec<Endpoint> {
        if let Some(v) = cache.get(&idx) {
            return v.clone();
        }
        let (file, decl) = (self.groups[idx].file, self.groups[idx].decl);
        if stack.contains(&idx) {
            self.err(errors::group_cycle(
                &decl.name.name,
                sp(file, decl.name.range),
            ));
            return Vec::new();
        }
        stack.push(idx);
        let mut out = BTreeSet::new();
        for m in &decl.members {
            match self.names.get(&m.name).map(|x| x.0) {
                Some(Named::Zone(z)) => {
                    out.insert(Endpoint::Zone(zone_new_id[z]));
                }
                Some(Named::Device(d)) => {
                    out.insert(Endpoint::Device(dev_new_id[d]));
                }
                Some(Named::Group(g)) => {
                    out.extend(self.flatten_group(g, zone_new_id, dev_new_id, cache, stack));
                }
                None => self.unknown_endpoint(file, m),
            }
        }
        stack.pop();
        let v: Vec<Endpoint> = out.into_iter().collect();
        cache.insert(idx, v.clone());
        v
    }

    fn unknown_endpoint(&mut self, file: FileId, id: &ast::Ident) {
        if self.after_syntax_errors {
            return;
        }
        let cands: Vec<&str> = self.names.keys().map(String::as_str).collect();
        let is_service = self.services.contains_key(&id.name);
        let d = errors::unknown_endpoint(&id.name, sp(file, id.range), &cands, is_service);
        self.err(d);
    }

    /// An endpoint list; `None` when a name is unknown.
    pub(super) fn endpoints(
        &mut self,
        file: FileId,
        list: &ast::EndpointList,
        ctx: &Ctx<'_>,
        cache: &mut GroupCache,
    ) -> Option<Resolved> {
        let mut leaves = BTreeSet::new();
        let mut written = Vec::new();
        let mut ok = true;
        for e in &list.items {
            match e {
                ast::Endpoint::Any(r) => {
                    leaves.insert(Endpoint::Any);
                    written.push(("any".to_string(), sp(file, *r)));
                }
                ast::Endpoint::Name(id) => {
                    written.push((id.name.clone(), sp(file, id.range)));
                    match self.names.get(&id.name).map(|x| x.0) {
                        Some(Named::Zone(z)) => {
                            leaves.insert(Endpoint::Zone(ctx.zone_new_id[z]));
                        }
                        Some(Named::Device(d)) => {
                            leaves.insert(Endpoint::Device(ctx.dev_new_id[d]));
                        }
                        Some(Named::Group(g)) => {
                            let m = self.flatten_group(
                                g,
                                ctx.zone_new_id,
                                ctx.dev_new_id,
                                cache,
                                &mut Vec::new(),
                            );
                            leaves.extend(m);
                        }
                        None => {
                            self.unknown_endpoint(file, id);
                            ok = false;
                        }
                    }
                }
            }
        }
        ok.then(|| Resolved {
            leaves: leaves.into_iter().collect(),
            written,
        })
    }
}
