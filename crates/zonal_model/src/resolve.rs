//! Resolution: syntax trees → [`crate::ir::Policy`].
//!
//! Resolution reports rather than fails: every problem becomes a
//! diagnostic, and a model is still produced whenever the policy header
//! exists, so that later phases can run on the valid parts.
//!
//! [`resolve`] takes files already read and parsed (see
//! [`crate::load`](mod@crate::load)). It first collects every declaration
//! by name (this module), then builds the model in dependency order:
//! services, zones, devices, groups, rules and invariants, each in its own
//! submodule, then suppressions.

mod devices;
mod digest;
mod endpoints;
pub(crate) mod errors;
mod invariants;
mod names;
mod rules;
mod services;
#[cfg(test)]
mod tests;
mod zones;

use std::collections::BTreeMap;

use zonal_diagnostics::{Diagnostic, Diagnostics, FileId, SourceDb, Span, TextRange};
use zonal_syntax::ast::{self, ItemKind};

use crate::addr::{Prefix, PrefixError};
use crate::ir::{Date, DeviceId, Policy, ServiceId, Suppression};
use crate::service::ServiceSet;
use endpoints::Ctx;

/// Options of resolution.
#[derive(Clone, Debug)]
pub struct Options {
    /// The date expiry is judged against.
    pub today: Date,
}

/// Resolves the parsed prelude and policy files into a model, reporting
/// into `diags`. `None` when the policy has no header.
pub(crate) fn resolve(
    db: &SourceDb,
    options: &Options,
    diags: &mut Diagnostics,
    prelude: (FileId, &ast::SourceFile),
    files: &[(FileId, ast::SourceFile)],
) -> Option<Policy> {
    let mut r = Resolver::new(db, options, diags);
    r.collect(prelude.0, prelude.1, true);
    for (id, f) in files {
        r.collect(*id, f, false);
    }
    r.finish()
}

/// What a name in the endpoint namespace refers to: an index into
/// [`Resolver::zones`], [`Resolver::devices`] or [`Resolver::groups`].
#[derive(Clone, Copy, Debug)]
enum Named {
    Zone(usize),
    Device(usize),
    Group(usize),
}

struct ZoneSrc<'a> {
    file: FileId,
    decl: &'a ast::ZoneDecl,
    range: TextRange,
}

struct DeviceSrc<'a> {
    file: FileId,
    decl: &'a ast::DeviceDecl,
    zone: usize,
}

struct ServiceSrc<'a> {
    file: FileId,
    decl: &'a ast::ServiceDecl,
    prelude: bool,
}

struct GroupSrc<'a> {
    file: FileId,
    decl: &'a ast::GroupDecl,
}

struct Resolver<'a> {
    db: &'a SourceDb,
    options: &'a Options,
    diags: &'a mut Diagnostics,
    header: Option<(FileId, &'a ast::PolicyDecl)>,
    /// Zones, devices and groups in declaration order; their indices are
    /// the "old" ids, renumbered in name order when the model is built.
    zones: Vec<ZoneSrc<'a>>,
    devices: Vec<DeviceSrc<'a>>,
    services: BTreeMap<String, ServiceSrc<'a>>,
    groups: Vec<GroupSrc<'a>>,
    names: BTreeMap<String, (Named, Span)>,
    flows: Vec<(FileId, &'a ast::Item, &'a ast::FlowDecl)>,
    workflows: Vec<(FileId, &'a ast::Item, &'a ast::WorkflowDecl)>,
    nevers: Vec<(FileId, &'a ast::Item, &'a ast::NeverDecl)>,
    requires: Vec<(FileId, &'a ast::Item, &'a ast::RequireDecl)>,
    suppressions: Vec<(FileId, &'a ast::Suppression, TextRange)>,
    /// Whether parsing reported errors: an item that failed to parse may
    /// define the name a later item uses, so unknown names are not
    /// reported then (they would only cascade from the syntax error).
    after_syntax_errors: bool,
    /// Every named service, resolved; filled once services are resolved.
    service_cache: BTreeMap<String, Option<ServiceSet>>,
    /// The part of each named service written as ports and protocols
    /// (not through other services): what a listener move leaves alone.
    service_own: BTreeMap<String, ServiceSet>,
}

fn sp(file: FileId, range: TextRange) -> Span {
    Span::new(file, range)
}

/// Sorts declarations by name. Returns the old indices in the new order,
/// and the new id of each old index (made by `id` from the new position).
fn sort_by_name<T, Id: Copy>(
    items: &[T],
    name: impl Fn(&T) -> &str,
    id: impl Fn(u32) -> Id,
) -> (Vec<usize>, Vec<Id>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| name(&items[*a]).cmp(name(&items[*b])));
    let mut new_id = vec![id(0); items.len()];
    for (new, old) in order.iter().enumerate() {
        new_id[*old] = id(u32::try_from(new).unwrap_or(u32::MAX));
    }
    (order, new_id)
}

impl<'a> Resolver<'a> {
    fn new(db: &'a SourceDb, options: &'a Options, diags: &'a mut Diagnostics) -> Self {
        let after_syntax_errors = diags.has_input_errors();
        Resolver {
            db,
            options,
            diags,
            header: None,
            zones: Vec::new(),
            devices: Vec::new(),
            services: BTreeMap::new(),
            groups: Vec::new(),
            names: BTreeMap::new(),
            flows: Vec::new(),
            workflows: Vec::new(),
            nevers: Vec::new(),
            requires: Vec::new(),
            suppressions: Vec::new(),
            service_cache: BTreeMap::new(),
            service_own: BTreeMap::new(),
            after_syntax_errors,
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // Collection: every declaration, by name.

    fn define_name(&mut self, ident: &ast::Ident, file: FileId, what: Named) -> bool {
        let span = sp(file, ident.range);
        if let Some((prev, prev_span)) = self.names.get(&ident.name) {
            let kind = match prev {
                Named::Zone(_) => "zone",
                Named::Device(_) => "device",
                Named::Group(_) => "group",
            };
            let d = errors::defined_twice(&ident.name, span, *prev_span, kind);
            self.err(d);
            return false;
        }
        self.names.insert(ident.name.clone(), (what, span));
        true
    }

    fn collect(&mut self, file: FileId, f: &'a ast::SourceFile, prelude: bool) {
        for item in &f.items {
            for s in &item.suppressions {
                self.suppressions.push((file, s, item.range));
            }
            match &item.kind {
                ItemKind::Policy(p) => self.collect_header(file, p),
                ItemKind::Include(_) | ItemKind::Error => {}
                ItemKind::Service(s) => self.collect_service(file, s, prelude),
                ItemKind::Group(g) => {
                    let idx = self.groups.len();
                    if self.define_name(&g.name, file, Named::Group(idx)) {
                        self.groups.push(GroupSrc { file, decl: g });
                    }
                }
                ItemKind::Zone(z) => self.collect_zone(file, item.range, z),
                ItemKind::Flow(fl) => self.flows.push((file, item, fl)),
                ItemKind::Workflow(w) => self.workflows.push((file, item, w)),
                ItemKind::Never(n) => self.nevers.push((file, item, n)),
                ItemKind::Require(r) => self.requires.push((file, item, r)),
            }
        }
    }

    fn collect_header(&mut self, file: FileId, p: &'a ast::PolicyDecl) {
        if let Some((pf, prev)) = self.header {
            let d = errors::header_twice(sp(file, p.name.range), sp(pf, prev.name.range));
            self.err(d);
        } else {
            self.header = Some((file, p));
        }
    }

    /// A zone and the devices declared inside it.
    fn collect_zone(&mut self, file: FileId, range: TextRange, z: &'a ast::ZoneDecl) {
        let zi = self.zones.len();
        if !self.define_name(&z.name, file, Named::Zone(zi)) {
            return;
        }
        self.zones.push(ZoneSrc {
            file,
            decl: z,
            range,
        });
        for p in &z.props {
            if let ast::ZonePropKind::Device(d) = &p.kind {
                for s in &d.suppressions {
                    self.suppressions.push((file, s, p.range));
                }
                let di = self.devices.len();
                if self.define_name(&d.name, file, Named::Device(di)) {
                    self.devices.push(DeviceSrc {
                        file,
                        decl: d,
                        zone: zi,
                    });
                }
            }
        }
    }

    // Building the model, in dependency order.

    fn finish(mut self) -> Option<Policy> {
        let (hfile, header) = self.header_or_report()?;
        let services = self.build_services();
        let service_ids: BTreeMap<String, ServiceId> =
            services.iter().map(|s| (s.name.clone(), s.id)).collect();
        let (mut zones, zone_new_id) = self.build_zones();
        let (devices, dev_new_id) = self.build_devices(&zone_new_id, &mut zones, &service_ids);
        // Groups flattened here are reused by the rules and invariants.
        let mut flat_cache = BTreeMap::new();
        let groups = self.build_groups(&zone_new_id, &dev_new_id, &mut flat_cache);
        let moving: Vec<DeviceId> = devices
            .iter()
            .filter(|d| d.listens.iter().any(|l| l.port.is_some()))
            .map(|d| d.id)
            .collect();
        let ctx = Ctx {
            zone_new_id: &zone_new_id,
            dev_new_id: &dev_new_id,
            zones: &zones,
            devices: &devices,
            services: &services,
            moving: &moving,
            today: self.options.today,
        };
        let rules = self.build_rules(&ctx, &mut flat_cache);
        let invariants = self.build_invariants(&ctx, &mut flat_cache);
        let suppressions = self.build_suppressions();

        let mut policy = Policy {
            name: header.name.name.clone(),
            owner: header.owner.as_ref().map(|o| o.value.clone()),
            description: header.description.as_ref().map(|o| o.value.clone()),
            header_span: sp(hfile, header.name.range),
            today: self.options.today,
            zones,
            devices,
            services,
            groups,
            rules,
            invariants,
            suppressions,
            digest: String::new(),
        };
        policy.digest = digest::digest(&policy);
        Some(policy)
    }

    /// The policy header; reports its absence.
    fn header_or_report(&mut self) -> Option<(FileId, &'a ast::PolicyDecl)> {
        if self.header.is_none() && !self.diags.has_input_errors() {
            // A header that failed to parse was reported already.
            let file = self.db.files().nth(1).unwrap_or_default();
            self.err(errors::no_header(sp(file, TextRange::empty(0))));
        }
        self.header
    }

    /// The `@suppress` annotations, each with the item it applies to.
    fn build_suppressions(&mut self) -> Vec<Suppression> {
        let sups = std::mem::take(&mut self.suppressions);
        let mut suppressions = Vec::with_capacity(sups.len());
        for (file, s, target) in sups {
            let until = s.until.as_ref().and_then(|d| self.date(file, d));
            suppressions.push(Suppression {
                lint: s.lint.name.clone(),
                lint_span: sp(file, s.lint.range),
                reason: s.reason.as_ref().map(|r| r.value.clone()),
                until,
                span: sp(file, s.range),
                target: sp(file, target),
            });
        }
        suppressions
    }

    // Values shared by several kinds of declaration.

    fn date(&mut self, file: FileId, d: &ast::DateLit) -> Option<Date> {
        let r = Date::new(d.year, d.month, d.day);
        if r.is_none() {
            self.err(errors::invalid_date(d, sp(file, d.range)));
        }
        r
    }

    /// `what` names the property in messages: `network` or `address`.
    fn prefix(&mut self, file: FileId, a: &ast::AddrLit, what: &str) -> Option<Prefix> {
        match Prefix::parse(&a.text) {
            Ok(p) => Some(p),
            Err(PrefixError::HostBits(fixed)) => {
                self.err(errors::host_bits(what, &a.text, fixed, sp(file, a.range)));
                None
            }
            Err(PrefixError::Invalid) => {
                self.err(errors::invalid_address(&a.text, sp(file, a.range)));
                None
            }
        }
    }

    /// Records that single-valued property `prop` is set at `range`;
    /// reports and returns false when it was set before.
    fn first_setting(
        &mut self,
        seen: &mut BTreeMap<&'static str, TextRange>,
        prop: &'static str,
        file: FileId,
        range: TextRange,
    ) -> bool {
        if let Some(&first) = seen.get(prop) {
            self.err(errors::set_twice(prop, sp(file, range), sp(file, first)));
            return false;
        }
        seen.insert(prop, range);
        true
    }
}
