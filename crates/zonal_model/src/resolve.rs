//! Resolution: syntax trees → [`crate::ir::Policy`].
//!
//! Resolution reports rather than fails: every problem becomes a
//! diagnostic, and a model is still produced whenever the policy header
//! exists, so that later phases can run on the valid parts.

mod digest;
mod names;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use zonal_diagnostics::{Diagnostic, Diagnostics, FileId, SourceDb, Span, TextRange};
use zonal_syntax::ast::{self, ItemKind};

use crate::addr::{AddrSet, Prefix, PrefixError};
use crate::ir::{
    Action, Date, Device, DeviceId, Endpoint, Group, GroupId, Invariant, InvariantKind, Listener,
    OriginKind, Policy, Rule, RuleId, ServiceDef, ServiceId, ServiceUse, Suppression, Term, Trust,
    Zone, ZoneId,
};
use crate::load::{Loaded, Options, SourceLoader};
use crate::service::{self, ServiceSet};
use crate::sets::IntervalSet;
use names::did_you_mean;

/// Most files one policy may consist of (directory members and includes).
const MAX_FILES: usize = 4096;
/// Deepest include chain.
const MAX_INCLUDE_DEPTH: usize = 32;
const PRELUDE: &str = include_str!("prelude.zonal");
/// The name the prelude file has in diagnostics.
pub const PRELUDE_NAME: &str = "<prelude>";

pub(crate) fn load(loader: &dyn SourceLoader, path: &str, options: &Options) -> Loaded {
    let mut db = SourceDb::new();
    let mut diags = Diagnostics::new();
    let prelude_id = db.add(PRELUDE_NAME, PRELUDE);
    let prelude = zonal_syntax::parse(prelude_id, PRELUDE);
    // INVARIANT: the prelude is ours and parses cleanly; a test checks it.
    diags.extend(prelude.diagnostics);

    let mut files: Vec<(FileId, ast::SourceFile)> = Vec::new();
    let mut loading = Loading {
        loader,
        db: &mut db,
        diags: &mut diags,
        files: &mut files,
        seen: BTreeSet::new(),
    };
    if loader.is_dir(path) {
        match loader.list_zonal(path) {
            Ok(list) if list.is_empty() => loading.diags.push(Diagnostic::error(
                "E0101",
                format!(
                    "directory `{}` holds no `.zonal` file",
                    loader.display(path)
                ),
                Span::default(),
                "",
            )),
            Ok(list) => {
                for p in list {
                    loading.load_file(&p, None, 0, &mut Vec::new());
                }
            }
            Err(e) => loading.diags.push(Diagnostic::error(
                "E0101",
                format!("cannot read directory `{}`: {e}", loader.display(path)),
                Span::default(),
                "",
            )),
        }
    } else {
        loading.load_file(path, None, 0, &mut Vec::new());
    }

    let policy = {
        let mut r = Resolver::new(&db, options, &mut diags);
        r.collect(prelude_id, &prelude.file, true);
        for (id, f) in &files {
            r.collect(*id, f, false);
        }
        r.finish()
    };
    diags.sort();
    Loaded {
        db,
        files,
        policy,
        diagnostics: diags,
    }
}

struct Loading<'a> {
    loader: &'a dyn SourceLoader,
    db: &'a mut SourceDb,
    diags: &'a mut Diagnostics,
    files: &'a mut Vec<(FileId, ast::SourceFile)>,
    seen: BTreeSet<String>,
}

impl Loading<'_> {
    fn load_file(&mut self, path: &str, from: Option<Span>, depth: usize, stack: &mut Vec<String>) {
        let norm = normalize(path);
        if stack.contains(&norm) {
            let chain: Vec<String> = stack
                .iter()
                .chain(std::iter::once(&norm))
                .map(|p| self.loader.display(p))
                .collect();
            self.diags.push(
                Diagnostic::error(
                    "E0102",
                    format!("include cycle: `{}`", chain.join("` → `")),
                    from.unwrap_or_default(),
                    "this include closes the cycle",
                )
                .with_help("remove this include; a file may be included once, from one place"),
            );
            return;
        }
        if self.seen.contains(&norm) {
            return;
        }
        if depth > MAX_INCLUDE_DEPTH || self.seen.len() >= MAX_FILES {
            self.diags.push(
                Diagnostic::error(
                    "E0101",
                    format!("too many files or includes nested too deeply at `{}`", self.loader.display(path)),
                    from.unwrap_or_default(),
                    "limit reached here",
                )
                .with_help(format!(
                    "a policy may have at most {MAX_FILES} files and includes nested {MAX_INCLUDE_DEPTH} deep"
                )),
            );
            return;
        }
        let text = match self.loader.read(&norm) {
            Ok(t) => t,
            Err(e) => {
                let d = Diagnostic::error(
                    "E0101",
                    format!("cannot read `{}`: {e}", self.loader.display(&norm)),
                    from.unwrap_or_default(),
                    "included here",
                )
                .with_help(
                    "check the path; includes are relative to the including file's directory",
                );
                self.diags.push(d);
                return;
            }
        };
        self.seen.insert(norm.clone());
        let id = self.db.add(self.loader.display(&norm), text);
        let parsed = zonal_syntax::parse(id, self.db.text(id));
        self.diags.extend(parsed.diagnostics);
        let includes: Vec<(String, TextRange)> = parsed
            .file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Include(inc) => Some((inc.path.value.clone(), inc.path.range)),
                _ => None,
            })
            .collect();
        self.files.push((id, parsed.file));
        stack.push(norm.clone());
        for (inc, range) in includes {
            let target = join(&norm, &inc);
            self.load_file(&target, Some(Span::new(id, range)), depth + 1, stack);
        }
        stack.pop();
    }
}

/// Joins an include path to the directory of the including file.
fn join(from: &str, inc: &str) -> String {
    if inc.starts_with('/') {
        return normalize(inc);
    }
    match from.rfind('/') {
        Some(i) => normalize(&format!("{}/{}", &from[..i], inc)),
        None => normalize(inc),
    }
}

/// Removes `.` and `a/..` segments.
fn normalize(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if abs {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// What a name in the endpoint namespace refers to.
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
}

fn sp(file: FileId, range: TextRange) -> Span {
    Span::new(file, range)
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
            after_syntax_errors,
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn define_name(&mut self, ident: &ast::Ident, file: FileId, what: Named) -> bool {
        let span = sp(file, ident.range);
        if let Some((prev, prev_span)) = self.names.get(&ident.name) {
            let kind = match prev {
                Named::Zone(_) => "zone",
                Named::Device(_) => "device",
                Named::Group(_) => "group",
            };
            let d = Diagnostic::error("E0103", format!("`{}` is defined twice", ident.name), span, "defined again here")
                .with_secondary(*prev_span, format!("first defined here as a {kind}"))
                .with_note("zones, devices and groups share one namespace, so that a flow's endpoints are unambiguous")
                .with_help("rename one of them");
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
                ItemKind::Policy(p) => {
                    if let Some((pf, prev)) = self.header {
                        let d = Diagnostic::error(
                            "E0108",
                            "the policy header is written twice",
                            sp(file, p.name.range),
                            "second header",
                        )
                        .with_secondary(sp(pf, prev.name.range), "first header")
                        .with_help("keep one `policy NAME { … }` header for the whole policy");
                        self.err(d);
                    } else {
                        self.header = Some((file, p));
                    }
                }
                ItemKind::Include(_) | ItemKind::Error => {}
                ItemKind::Service(s) => self.collect_service(file, s, prelude),
                ItemKind::Group(g) => {
                    let idx = self.groups.len();
                    if self.define_name(&g.name, file, Named::Group(idx)) {
                        self.groups.push(GroupSrc { file, decl: g });
                    }
                }
                ItemKind::Zone(z) => {
                    let zi = self.zones.len();
                    if !self.define_name(&z.name, file, Named::Zone(zi)) {
                        continue;
                    }
                    self.zones.push(ZoneSrc {
                        file,
                        decl: z,
                        range: item.range,
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
                ItemKind::Flow(fl) => self.flows.push((file, item, fl)),
                ItemKind::Workflow(w) => self.workflows.push((file, item, w)),
                ItemKind::Never(n) => self.nevers.push((file, item, n)),
                ItemKind::Require(r) => self.requires.push((file, item, r)),
            }
        }
    }

    fn collect_service(&mut self, file: FileId, s: &'a ast::ServiceDecl, prelude: bool) {
        let name = s.name.name.clone();
        match self.services.get(&name) {
            Some(prev) if prev.prelude && !prelude => {
                if s.override_kw.is_none() {
                    let d = Diagnostic::error(
                        "E0106",
                        format!("service `{name}` is already defined by the prelude"),
                        sp(file, s.name.range),
                        "redefined here",
                    )
                    .with_secondary(sp(prev.file, prev.decl.name.range), "prelude definition")
                    .with_help(format!(
                        "write `override service {name} = …` to replace it, or choose another name"
                    ));
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
                let d = Diagnostic::error(
                    "E0103",
                    format!("service `{name}` is defined twice"),
                    sp(file, s.name.range),
                    "defined again here",
                )
                .with_secondary(sp(prev.file, prev.decl.name.range), "first defined here")
                .with_help("rename one of them or merge their ports");
                self.err(d);
            }
            None => {
                if let Some(kw) = s.override_kw {
                    let d = Diagnostic::error(
                        "E0106",
                        format!(
                            "`override` names service `{name}`, which the prelude does not define"
                        ),
                        sp(file, kw),
                        "nothing to override",
                    )
                    .with_help(format!("remove `override`: `service {name} = …`"));
                    self.err(d);
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

    fn finish(mut self) -> Option<Policy> {
        let Some((hfile, header)) = self.header else {
            // A header that failed to parse was reported already.
            if self.diags.has_input_errors() {
                return None;
            }
            let file = self.db.files().nth(1).unwrap_or_default();
            let d = Diagnostic::error(
                "E0107",
                "the policy has no header",
                sp(file, TextRange::empty(0)),
                "expected here",
            )
            .with_help("start the policy with `policy NAME { owner \"…\" }`");
            self.err(d);
            return None;
        };

        // Services.
        let mut service_sets: BTreeMap<String, Option<ServiceSet>> = BTreeMap::new();
        let names: Vec<String> = self.services.keys().cloned().collect();
        for n in &names {
            self.resolve_named_service(n, &mut service_sets, &mut Vec::new());
        }
        let mut services = Vec::new();
        for (i, (name, src)) in self.services.iter().enumerate() {
            services.push(ServiceDef {
                id: ServiceId(u32::try_from(i).unwrap_or(u32::MAX)),
                name: name.clone(),
                span: sp(src.file, src.decl.name.range),
                prelude: src.prelude,
                set: service_sets
                    .get(name)
                    .cloned()
                    .flatten()
                    .unwrap_or_default(),
                description: src.decl.description.as_ref().map(|d| d.value.clone()),
            });
        }
        self.service_cache.clone_from(&service_sets);
        let service_ids: BTreeMap<String, ServiceId> =
            services.iter().map(|s| (s.name.clone(), s.id)).collect();

        // Zones, sorted by name.
        let mut zone_order: Vec<usize> = (0..self.zones.len()).collect();
        zone_order.sort_by(|a, b| {
            self.zones[*a]
                .decl
                .name
                .name
                .cmp(&self.zones[*b].decl.name.name)
        });
        let mut zone_new_id = vec![ZoneId(0); self.zones.len()];
        for (new, old) in zone_order.iter().enumerate() {
            zone_new_id[*old] = ZoneId(u32::try_from(new).unwrap_or(u32::MAX));
        }
        let mut zones: Vec<Zone> = zone_order
            .iter()
            .map(|&old| self.build_zone(old, &zone_new_id))
            .collect();
        self.check_zone_nesting(&mut zones);

        // Devices, sorted by name.
        let mut dev_order: Vec<usize> = (0..self.devices.len()).collect();
        dev_order.sort_by(|a, b| {
            self.devices[*a]
                .decl
                .name
                .name
                .cmp(&self.devices[*b].decl.name.name)
        });
        let mut dev_new_id = vec![DeviceId(0); self.devices.len()];
        for (new, old) in dev_order.iter().enumerate() {
            dev_new_id[*old] = DeviceId(u32::try_from(new).unwrap_or(u32::MAX));
        }
        let mut devices = Vec::with_capacity(dev_order.len());
        for &old in &dev_order {
            let d = self.build_device(
                old,
                &zone_new_id,
                &dev_new_id,
                &zones,
                &service_ids,
                &service_sets,
            );
            devices.push(d);
        }
        self.check_device_addresses(&devices);
        for d in &devices {
            zones[d.zone.index()].devices.push(d.id);
        }

        // Groups.
        let mut group_order: Vec<usize> = (0..self.groups.len()).collect();
        group_order.sort_by(|a, b| {
            self.groups[*a]
                .decl
                .name
                .name
                .cmp(&self.groups[*b].decl.name.name)
        });
        let mut flat_cache: BTreeMap<usize, Vec<Endpoint>> = BTreeMap::new();
        let mut groups = Vec::new();
        for (new, &old) in group_order.iter().enumerate() {
            let members = self.flatten_group(
                old,
                &zone_new_id,
                &dev_new_id,
                &mut flat_cache,
                &mut Vec::new(),
            );
            let g = &self.groups[old];
            groups.push(Group {
                id: GroupId(u32::try_from(new).unwrap_or(u32::MAX)),
                name: g.decl.name.name.clone(),
                span: sp(g.file, g.decl.name.range),
                members,
                description: g.decl.description.as_ref().map(|d| d.value.clone()),
            });
        }

        let ctx = Ctx {
            zone_new_id: &zone_new_id,
            dev_new_id: &dev_new_id,
            zones: &zones,
            devices: &devices,
            service_ids: &service_ids,
            today: self.options.today,
        };

        // Rules.
        let mut rules: Vec<Rule> = Vec::new();
        let flows = std::mem::take(&mut self.flows);
        for (file, item, f) in flows {
            let span = sp(file, item.range);
            let src = self.endpoints(file, &f.src, &ctx, &mut flat_cache);
            let dst = self.endpoints(file, &f.dst, &ctx, &mut flat_cache);
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
            let (Some(src), Some(dst), Some(uses)) = (src, dst, uses) else {
                continue;
            };
            let action = match f.action {
                ast::FlowAction::Allow => Action::Allow,
                ast::FlowAction::Deny => Action::Deny,
            };
            let just = f.justification.as_ref().map(|j| j.value.clone());
            rules.push(build_rule(
                &ctx,
                action,
                OriginKind::Flow,
                span,
                src,
                dst,
                uses,
                until,
                just,
            ));
        }
        let workflows = std::mem::take(&mut self.workflows);
        for (file, item, w) in workflows {
            let span = sp(file, item.range);
            let a = self.endpoints(file, &w.src, &ctx, &mut flat_cache);
            let b = self.endpoints(file, &w.dst, &ctx, &mut flat_cache);
            let to = match (&w.to, w.kind) {
                (Some(to), ast::WorkflowKind::CMove) => {
                    match self.endpoints(file, to, &ctx, &mut flat_cache) {
                        Some(t) => Some(t),
                        None => continue,
                    }
                }
                // The parser accepts `to` only after `c-move` (E0001).
                (Some(_), ast::WorkflowKind::StorageCommitment) | (None, _) => None,
            };
            let uses = match &w.services {
                Some(terms) => self.service_uses(file, terms),
                None => Some({
                    let set = service_sets
                        .get("dicom")
                        .cloned()
                        .flatten()
                        .unwrap_or_default();
                    vec![ServiceUse {
                        name: Some("dicom".into()),
                        text: "dicom".into(),
                        set,
                        span,
                    }]
                }),
            };
            let until = w.until.as_ref().and_then(|d| self.date(file, d));
            let (Some(a), Some(b), Some(uses)) = (a, b, uses) else {
                continue;
            };
            let just = w.justification.as_ref().map(|j| j.value.clone());
            let (k1, k2) = match w.kind {
                ast::WorkflowKind::StorageCommitment => (
                    OriginKind::StorageCommitmentRequest,
                    OriginKind::StorageCommitmentReport,
                ),
                ast::WorkflowKind::CMove => (OriginKind::MoveRequest, OriginKind::MoveStore),
            };
            let back = to.unwrap_or_else(|| a.clone());
            rules.push(build_rule(
                &ctx,
                Action::Allow,
                k1,
                span,
                a,
                b.clone(),
                uses.clone(),
                until,
                just.clone(),
            ));
            rules.push(build_rule(
                &ctx,
                Action::Allow,
                k2,
                span,
                b,
                back,
                uses,
                until,
                just,
            ));
        }
        let rules = finalize_rules(rules);

        // Invariants.
        let mut invariants = Vec::new();
        let nevers = std::mem::take(&mut self.nevers);
        for (file, item, n) in nevers {
            let kind = match n.reach {
                ast::Reach::Direct => InvariantKind::NeverDirect,
                ast::Reach::Transitive => InvariantKind::NeverTransitive,
            };
            let inv = self.invariant(
                file,
                item,
                kind,
                &n.src,
                &n.dst,
                n.services.as_deref(),
                n.justification.as_ref(),
                &ctx,
                &mut flat_cache,
            );
            invariants.extend(inv);
        }
        let requires = std::mem::take(&mut self.requires);
        for (file, item, r) in requires {
            let inv = self.invariant(
                file,
                item,
                InvariantKind::Require,
                &r.src,
                &r.dst,
                Some(&r.services),
                r.justification.as_ref(),
                &ctx,
                &mut flat_cache,
            );
            invariants.extend(inv);
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

        // Suppressions.
        let sups = std::mem::take(&mut self.suppressions);
        let mut suppressions = Vec::new();
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

    fn resolve_named_service(
        &mut self,
        name: &str,
        cache: &mut BTreeMap<String, Option<ServiceSet>>,
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
            let d = Diagnostic::error(
                "E0109",
                format!("service `{name}` is defined in terms of itself"),
                sp(file, decl.name.range),
                "this definition is part of a cycle",
            )
            .with_note(format!("cycle: `{}` → `{name}`", stack.join("` → `")))
            .with_help("define the service with ports, not with a reference back to itself");
            self.err(d);
            cache.insert(name.to_string(), None);
            return None;
        }
        stack.push(name.to_string());
        let mut set = ServiceSet::empty();
        let mut ok = true;
        for t in &decl.terms {
            match self.term(file, t, cache, stack) {
                Some(s) => set = set.union(&s),
                None => ok = false,
            }
        }
        stack.pop();
        let r = if ok { Some(set) } else { None };
        cache.insert(name.to_string(), r.clone());
        r
    }

    fn term(
        &mut self,
        file: FileId,
        t: &ast::ServiceTerm,
        cache: &mut BTreeMap<String, Option<ServiceSet>>,
        stack: &mut Vec<String>,
    ) -> Option<ServiceSet> {
        match &t.kind {
            ast::ServiceTermKind::Any => Some(ServiceSet::any()),
            ast::ServiceTermKind::Protocol(n) => {
                if n.value > 255 {
                    let d = Diagnostic::error(
                        "E0211",
                        format!("IP protocol number `{}` is out of range", n.value),
                        sp(file, n.range),
                        "must be 0 to 255",
                    )
                    .with_help("IP protocol numbers are 0-255, e.g. `proto 50` for ESP");
                    self.err(d);
                    return None;
                }
                Some(ServiceSet::whole_proto(u8::try_from(n.value).unwrap_or(0)))
            }
            ast::ServiceTermKind::Ports { proto, ports } => {
                let p = match proto {
                    ast::PortProto::Tcp => service::TCP,
                    ast::PortProto::Udp => service::UDP,
                };
                if ports.is_empty() {
                    return Some(ServiceSet::whole_proto(p));
                }
                let mut set = IntervalSet::empty();
                let mut ok = true;
                for pr in ports {
                    match self.port_range(file, pr) {
                        Some((lo, hi)) => set = set.union(&IntervalSet::range(lo, hi)),
                        None => ok = false,
                    }
                }
                ok.then(|| ServiceSet::proto(p, set))
            }
            ast::ServiceTermKind::Icmp { v6, types } => {
                let p = if *v6 { service::ICMPV6 } else { service::ICMP };
                if types.is_empty() {
                    return Some(ServiceSet::whole_proto(p));
                }
                let mut set = IntervalSet::empty();
                let mut ok = true;
                for ty in types {
                    match ty {
                        ast::IcmpType::Number(n) if n.value <= 255 => {
                            set = set
                                .union(&IntervalSet::single(u16::try_from(n.value).unwrap_or(0)));
                        }
                        ast::IcmpType::Number(n) => {
                            let d = Diagnostic::error(
                                "E0210",
                                format!("ICMP type `{}` is out of range", n.value),
                                sp(file, n.range),
                                "must be 0 to 255",
                            )
                            .with_help("ICMP types are 0-255, or a name such as `echo-request`");
                            self.err(d);
                            ok = false;
                        }
                        ast::IcmpType::Named(id) => match service::icmp_type_by_name(&id.name, *v6)
                        {
                            Some(v) => set = set.union(&IntervalSet::single(v)),
                            None => {
                                let fam = if *v6 { "icmpv6" } else { "icmp" };
                                let d = Diagnostic::error(
                                    "E0210",
                                    format!("`{}` is not an {fam} type", id.name),
                                    sp(file, id.range),
                                    "unknown type",
                                )
                                .with_help(format!(
                                    "use a number or a type that {fam} has, e.g. `echo-request`"
                                ));
                                self.err(d);
                                ok = false;
                            }
                        },
                    }
                }
                ok.then(|| ServiceSet::proto(p, set))
            }
            ast::ServiceTermKind::Ref(id) => {
                if self.services.contains_key(&id.name) {
                    return self.resolve_named_service(&id.name, cache, stack);
                }
                if self.after_syntax_errors {
                    return None;
                }
                let mut d = Diagnostic::error(
                    "E0105",
                    format!("unknown service `{}`", id.name),
                    sp(file, id.range),
                    "not defined",
                );
                let cands: Vec<&str> = self.services.keys().map(String::as_str).collect();
                d = match did_you_mean(&id.name, cands) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "define it with `service {} = tcp PORT`, or write the ports inline, e.g. `tcp 8443`",
                        id.name
                    )),
                };
                self.err(d);
                None
            }
        }
    }

    fn port(&mut self, file: FileId, n: &ast::Num) -> Option<u16> {
        if let Ok(p) = u16::try_from(n.value) {
            return Some(p);
        }
        let d = Diagnostic::error(
            "E0203",
            format!("port `{}` is out of range", n.value),
            sp(file, n.range),
            "must be 0 to 65535",
        )
        .with_help("TCP and UDP ports are 0-65535");
        self.err(d);
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
            let d = Diagnostic::error(
                "E0204",
                format!("port range `{lo}-{hi}` is inverted"),
                sp(file, pr.range),
                "first port is greater than the last",
            )
            .with_help(format!("write `{hi}-{lo}`"));
            self.err(d);
            return None;
        }
        Some((lo, hi))
    }

    fn date(&mut self, file: FileId, d: &ast::DateLit) -> Option<Date> {
        let r = Date::new(d.year, d.month, d.day);
        if r.is_none() {
            let diag = Diagnostic::error(
                "E0209",
                format!(
                    "`{:04}-{:02}-{:02}` is not a valid date",
                    d.year, d.month, d.day
                ),
                sp(file, d.range),
                "no such day",
            )
            .with_help("write dates as YYYY-MM-DD, e.g. `2027-01-31`");
            self.err(diag);
        }
        r
    }

    fn prefix(&mut self, file: FileId, a: &ast::AddrLit, what: &str) -> Option<Prefix> {
        match Prefix::parse(&a.text) {
            Ok(p) => Some(p),
            Err(PrefixError::HostBits(fixed)) => {
                let d = Diagnostic::error(
                    "E0202",
                    format!("{what} `{}` has host bits set", a.text),
                    sp(file, a.range),
                    "bits after the prefix length are not zero",
                )
                .with_help(format!("write `{fixed}`"));
                self.err(d);
                None
            }
            Err(PrefixError::Invalid) => {
                let d = Diagnostic::error(
                    "E0201",
                    format!("`{}` is not a valid IP address or prefix", a.text),
                    sp(file, a.range),
                    "invalid address",
                )
                .with_help("write an IPv4 or IPv6 address, optionally with a prefix length: `10.20.110.0/24`, `fd00:110::/64`");
                self.err(d);
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
            self.dup_prop(file, range, first, prop);
            return false;
        }
        seen.insert(prop, range);
        true
    }

    fn dup_prop(&mut self, file: FileId, range: TextRange, first: TextRange, prop: &str) {
        let d = Diagnostic::error(
            "E0212",
            format!("`{prop}` is set twice"),
            sp(file, range),
            "set again here",
        )
        .with_secondary(sp(file, first), "first set here")
        .with_help(format!("keep one `{prop}`"));
        self.err(d);
    }

    fn build_zone(&mut self, old: usize, zone_new_id: &[ZoneId]) -> Zone {
        let (file, decl, range) = {
            let z = &self.zones[old];
            (z.file, z.decl, z.range)
        };
        let mut zone = Zone {
            id: zone_new_id[old],
            name: decl.name.name.clone(),
            span: sp(file, decl.name.range),
            decl_span: sp(file, range),
            networks: Vec::new(),
            vlan: None,
            trust: None,
            kind: None,
            tags: Vec::new(),
            description: None,
            legacy: false,
            external: false,
            parent: None,
            devices: Vec::new(),
            addrs: AddrSet::empty(),
        };
        let mut seen: BTreeMap<&'static str, TextRange> = BTreeMap::new();
        for p in &decl.props {
            let key: Option<&'static str> = match &p.kind {
                ast::ZonePropKind::Vlan(_) => Some("vlan"),
                ast::ZonePropKind::Trust(_) => Some("trust"),
                ast::ZonePropKind::Kind(_) => Some("kind"),
                ast::ZonePropKind::Description(_) => Some("description"),
                ast::ZonePropKind::Within(_) => Some("within"),
                _ => None,
            };
            if let Some(k) = key
                && !self.first_setting(&mut seen, k, file, p.range)
            {
                continue;
            }
            match &p.kind {
                ast::ZonePropKind::Network(list) => {
                    for a in list {
                        if let Some(pfx) = self.prefix(file, a, "network") {
                            zone.networks.push(pfx);
                        }
                    }
                }
                ast::ZonePropKind::Vlan(n) => {
                    if (1..=4094).contains(&n.value) {
                        zone.vlan = u16::try_from(n.value).ok();
                    } else {
                        let d = Diagnostic::error(
                            "E0207",
                            format!("VLAN id `{}` is out of range", n.value),
                            sp(file, n.range),
                            "must be 1 to 4094",
                        )
                        .with_help("802.1Q VLAN ids are 1-4094");
                        self.err(d);
                    }
                }
                ast::ZonePropKind::Trust(t) => match Trust::parse(&t.name) {
                    Some(tr) => zone.trust = Some(tr),
                    None => {
                        let d = Diagnostic::error("E0208", format!("unknown trust level `{}`", t.name), sp(file, t.range), "not a trust level")
                            .with_help(match did_you_mean(&t.name, ["untrusted", "low", "medium", "high", "sl1", "sl2", "sl3", "sl4"]) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => "use `untrusted`, `low`, `medium`, `high`, or an IEC 62443 level `sl1`-`sl4`".into(),
                            });
                        self.err(d);
                    }
                },
                ast::ZonePropKind::Kind(k) => zone.kind = Some(k.name.clone()),
                ast::ZonePropKind::Tags(ts) => zone.tags.extend(ts.iter().map(|t| t.name.clone())),
                ast::ZonePropKind::Description(s) => zone.description = Some(s.value.clone()),
                ast::ZonePropKind::Legacy => zone.legacy = true,
                ast::ZonePropKind::External => zone.external = true,
                ast::ZonePropKind::Within(_) | ast::ZonePropKind::Device(_) => {}
            }
        }
        zone.networks.sort();
        zone.networks.dedup();
        if zone.kind.is_none() && zone.external {
            zone.kind = Some("external".into());
        }
        zone
    }

    /// Resolves `within`, checks overlaps, computes every zone's addresses.
    fn check_zone_nesting(&mut self, zones: &mut [Zone]) {
        let by_name: BTreeMap<String, ZoneId> =
            zones.iter().map(|z| (z.name.clone(), z.id)).collect();
        let mut old_of_new = vec![0usize; zones.len()];
        for (old, z) in self.zones.iter().enumerate() {
            if let Some(id) = by_name.get(&z.decl.name.name) {
                old_of_new[id.index()] = old;
            }
        }
        // `within`.
        for i in 0..zones.len() {
            let (file, decl) = {
                let z = &self.zones[old_of_new[i]];
                (z.file, z.decl)
            };
            for p in &decl.props {
                let ast::ZonePropKind::Within(parent) = &p.kind else {
                    continue;
                };
                match by_name.get(&parent.name) {
                    Some(pid) if *pid == zones[i].id => {
                        let d = Diagnostic::error(
                            "E0217",
                            format!("zone `{}` is declared within itself", parent.name),
                            sp(file, parent.range),
                            "here",
                        )
                        .with_help("name the enclosing zone");
                        self.err(d);
                    }
                    Some(pid) => zones[i].parent = Some(*pid),
                    None => {
                        let cands: Vec<String> = by_name.keys().cloned().collect();
                        let mut d = Diagnostic::error(
                            "E0104",
                            format!("unknown zone `{}`", parent.name),
                            sp(file, parent.range),
                            "no zone has this name",
                        );
                        if let Some(s) =
                            did_you_mean(&parent.name, cands.iter().map(String::as_str))
                        {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        } else {
                            d = d.with_help("`within` names the zone whose networks enclose this zone's networks");
                        }
                        self.err(d);
                    }
                }
            }
        }
        // Cycles in `within`.
        for i in 0..zones.len() {
            let mut seen = BTreeSet::new();
            let mut cur = zones[i].parent;
            while let Some(p) = cur {
                if p.index() == i || !seen.insert(p) {
                    let d = Diagnostic::error(
                        "E0217",
                        format!(
                            "zone `{}` is nested within itself through `within`",
                            zones[i].name
                        ),
                        zones[i].span,
                        "part of a cycle",
                    )
                    .with_help("`within` must form a tree: remove one of the `within` properties");
                    self.err(d);
                    zones[i].parent = None;
                    break;
                }
                cur = zones[p.index()].parent;
            }
        }
        // External and internal zones without networks. A zone whose
        // `network` was written but invalid has already been reported.
        for (i, z) in zones.iter().enumerate() {
            let wrote_network = self.zones[old_of_new[i]]
                .decl
                .props
                .iter()
                .any(|p| matches!(p.kind, ast::ZonePropKind::Network(_)));
            if z.external && z.parent.is_some() {
                let d = Diagnostic::error(
                    "E0216",
                    format!("external zone `{}` cannot be `within` another zone", z.name),
                    z.span,
                    "external zone",
                )
                .with_help(
                    "remove `within`, or remove `external` if the zone is inside your network",
                );
                self.err(d);
            }
            if !z.external && z.networks.is_empty() && !wrote_network {
                let d = Diagnostic::error("E0218", format!("zone `{}` has no network", z.name), z.span, "internal zone without addresses")
                    .with_help("add `network 10.x.y.0/24`, or mark the zone `external` if it stands for addresses outside the hospital");
                self.err(d);
            }
        }
        // Overlaps: CIDR blocks are nested or disjoint, so a sweep over
        // blocks sorted by (start, widest first) finds every overlap.
        let mut blocks: Vec<(u8, u128, u128, usize, Prefix)> = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            for p in &z.networks {
                let s = p.to_set();
                let fam = u8::from(!p.is_v4());
                let (lo, hi) = if p.is_v4() {
                    let r = s.v4_ranges()[0];
                    (u128::from(r.0), u128::from(r.1))
                } else {
                    s.v6_ranges()[0]
                };
                blocks.push((fam, lo, hi, i, *p));
            }
        }
        blocks.sort_by_key(|b| (b.0, b.1, std::cmp::Reverse(b.2), b.3));
        let mut stack: Vec<(u8, u128, u128, usize, Prefix)> = Vec::new();
        let mut reported: BTreeSet<(usize, usize)> = BTreeSet::new();
        for b in blocks {
            while stack.last().is_some_and(|t| t.0 != b.0 || t.2 < b.1) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                let (outer, inner) = (top.3, b.3);
                if outer != inner
                    && !is_within(zones, inner, outer)
                    && reported.insert((outer.min(inner), outer.max(inner)))
                {
                    let (oz, iz) = (&zones[outer], &zones[inner]);
                    let both_external = oz.external && iz.external;
                    let d = Diagnostic::error(
                        "E0206",
                        format!("zone `{}` overlaps zone `{}`", iz.name, oz.name),
                        iz.span,
                        format!("`{}` is inside `{}`", b.4, top.4),
                    )
                    .with_secondary(oz.span, format!("`{}` is declared here", oz.name))
                    .with_note("an address must belong to exactly one zone, or address-based rules become ambiguous")
                    .with_help(if both_external || iz.external || oz.external {
                        "external zones may not overlap internal ones; correct the prefix".to_string()
                    } else {
                        format!("if `{}` is a sub-zone, declare it: `within {}`; otherwise correct the prefix", iz.name, oz.name)
                    });
                    self.err(d);
                }
            }
            stack.push(b);
        }
        // Children must lie inside their parent.
        for i in 0..zones.len() {
            if let Some(p) = zones[i].parent {
                let own = AddrSet::from_prefixes(&zones[i].networks);
                let parent = AddrSet::from_prefixes(&zones[p.index()].networks);
                if !own.is_subset(&parent) {
                    let d = Diagnostic::error(
                        "E0217",
                        format!(
                            "zone `{}` is declared within `{}` but its networks are not inside it",
                            zones[i].name,
                            zones[p.index()].name
                        ),
                        zones[i].span,
                        "networks outside the parent",
                    )
                    .with_secondary(zones[p.index()].span, "parent zone")
                    .with_help("correct the prefix, or remove `within`");
                    self.err(d);
                }
            }
        }
        // Addresses.
        let mut internal = AddrSet::empty();
        let mut explicit_external = AddrSet::empty();
        for i in 0..zones.len() {
            let mut own = AddrSet::from_prefixes(&zones[i].networks);
            for j in 0..zones.len() {
                if zones[j].parent == Some(zones[i].id) {
                    own = own.subtract(&AddrSet::from_prefixes(&zones[j].networks));
                }
            }
            if zones[i].external {
                explicit_external = explicit_external.union(&own);
            } else {
                internal = internal.union(&own);
            }
            zones[i].addrs = own;
        }
        let catch_all: Vec<usize> = (0..zones.len())
            .filter(|&i| zones[i].external && zones[i].networks.is_empty())
            .collect();
        if catch_all.len() > 1 {
            let first = catch_all[0];
            for &other in &catch_all[1..] {
                let d = Diagnostic::error(
                    "E0216",
                    format!(
                        "zones `{}` and `{}` both stand for every external address",
                        zones[first].name, zones[other].name
                    ),
                    zones[other].span,
                    "second catch-all external zone",
                )
                .with_secondary(zones[first].span, "first one")
                .with_help(
                    "give the other external zones explicit networks (`network 192.0.2.0/24`)",
                );
                self.err(d);
            }
        }
        let rest = internal.union(&explicit_external).complement();
        if let Some(&i) = catch_all.first() {
            zones[i].addrs = rest;
        }
    }

    #[expect(clippy::too_many_lines, reason = "one match arm per device property")]
    fn build_device(
        &mut self,
        old: usize,
        zone_new_id: &[ZoneId],
        dev_new_id: &[DeviceId],
        zones: &[Zone],
        service_ids: &BTreeMap<String, ServiceId>,
        service_sets: &BTreeMap<String, Option<ServiceSet>>,
    ) -> Device {
        let (file, decl, zone_old) = {
            let d = &self.devices[old];
            (d.file, d.decl, d.zone)
        };
        let zid = zone_new_id[zone_old];
        let decl_range = decl
            .props
            .iter()
            .fold(decl.name.range, |r, p| r.cover(p.range));
        let mut dev = Device {
            id: dev_new_id[old],
            name: decl.name.name.clone(),
            span: sp(file, decl.name.range),
            decl_span: sp(file, decl_range),
            zone: zid,
            addresses: Vec::new(),
            addrs: AddrSet::empty(),
            kind: None,
            vendor: None,
            model: None,
            os: None,
            description: None,
            legacy: false,
            wireless: false,
            storage_commitment: false,
            move_destination: false,
            ae: None,
            listens: Vec::new(),
        };
        let zone = &zones[zid.index()];
        let mut seen: BTreeMap<&'static str, TextRange> = BTreeMap::new();
        for p in &decl.props {
            let key: Option<&'static str> = match &p.kind {
                ast::DevicePropKind::Kind(_) => Some("kind"),
                ast::DevicePropKind::Vendor(_) => Some("vendor"),
                ast::DevicePropKind::Model(_) => Some("model"),
                ast::DevicePropKind::Os(_) => Some("os"),
                ast::DevicePropKind::Description(_) => Some("description"),
                ast::DevicePropKind::Ae(_) => Some("ae"),
                _ => None,
            };
            if let Some(k) = key
                && !self.first_setting(&mut seen, k, file, p.range)
            {
                continue;
            }
            match &p.kind {
                ast::DevicePropKind::Address(list) => {
                    for a in list {
                        let Some(pfx) = self.prefix(file, a, "address") else {
                            continue;
                        };
                        let set = pfx.to_set();
                        if !set.is_subset(&zone.addrs) {
                            let nets: Vec<String> =
                                zone.networks.iter().map(ToString::to_string).collect();
                            let d = Diagnostic::error(
                                "E0205",
                                format!("address `{}` of device `{}` is outside its zone `{}`", a.text, dev.name, zone.name),
                                sp(file, a.range),
                                "not in the zone's networks",
                            )
                            .with_secondary(zone.span, format!("zone `{}` is declared here", zone.name))
                            .with_note(if nets.is_empty() {
                                format!("zone `{}` has no network of its own", zone.name)
                            } else {
                                format!("zone `{}` has {}", zone.name, nets.join(", "))
                            })
                            .with_help("correct the address, or declare the device in the zone whose network holds it");
                            self.err(d);
                            continue;
                        }
                        dev.addresses.push(pfx);
                    }
                }
                ast::DevicePropKind::Kind(k) => dev.kind = Some(k.name.clone()),
                ast::DevicePropKind::Vendor(s) => dev.vendor = Some(s.value.clone()),
                ast::DevicePropKind::Model(s) => dev.model = Some(s.value.clone()),
                ast::DevicePropKind::Os(s) => dev.os = Some(s.value.clone()),
                ast::DevicePropKind::Description(s) => dev.description = Some(s.value.clone()),
                ast::DevicePropKind::Legacy => dev.legacy = true,
                ast::DevicePropKind::Wireless => dev.wireless = true,
                ast::DevicePropKind::StorageCommitment => dev.storage_commitment = true,
                ast::DevicePropKind::MoveDestination => dev.move_destination = true,
                ast::DevicePropKind::Ae(ae) => {
                    let ok = !ae.value.trim().is_empty()
                        && ae.value.len() <= 16
                        && ae
                            .value
                            .chars()
                            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\');
                    if ok {
                        dev.ae = Some(ae.value.clone());
                    } else {
                        let d = Diagnostic::error("E0214", format!("`{}` is not a valid DICOM AE title", ae.value), sp(file, ae.range), "invalid AE title")
                            .with_note("an AE title is 1 to 16 printable ASCII characters without backslash (DICOM PS3.5 AE value representation)")
                            .with_help("shorten it to at most 16 characters");
                        self.err(d);
                    }
                }
                ast::DevicePropKind::Listens(ls) => {
                    for l in ls {
                        let Some(&sid) = service_ids.get(&l.service.name) else {
                            if self.after_syntax_errors {
                                continue;
                            }
                            let cands: Vec<&str> = service_ids.keys().map(String::as_str).collect();
                            let mut d = Diagnostic::error(
                                "E0105",
                                format!("unknown service `{}`", l.service.name),
                                sp(file, l.service.range),
                                "not defined",
                            );
                            d = match did_you_mean(&l.service.name, cands) {
                                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                None => d.with_help(format!(
                                    "define it first: `service {} = tcp PORT`",
                                    l.service.name
                                )),
                            };
                            self.err(d);
                            continue;
                        };
                        let base = service_sets
                            .get(&l.service.name)
                            .cloned()
                            .flatten()
                            .unwrap_or_default();
                        let port = match &l.port {
                            Some(n) => match self.port(file, n) {
                                Some(p) => Some(p),
                                None => continue,
                            },
                            None => None,
                        };
                        let set = match port {
                            Some(p) => {
                                if base.selectors(service::TCP).is_empty()
                                    && base.selectors(service::UDP).is_empty()
                                {
                                    let d = Diagnostic::error(
                                        "E0215",
                                        format!(
                                            "service `{}` has no TCP or UDP port to move",
                                            l.service.name
                                        ),
                                        sp(file, l.range),
                                        "`on` needs a TCP or UDP service",
                                    )
                                    .with_help("remove `on PORT`");
                                    self.err(d);
                                    continue;
                                }
                                base.with_port(p)
                            }
                            None => base,
                        };
                        dev.listens.push(Listener {
                            service: sid,
                            port,
                            set,
                            span: sp(file, l.range),
                        });
                    }
                }
            }
        }
        dev.addresses.sort();
        dev.addresses.dedup();
        dev.addrs = AddrSet::from_prefixes(&dev.addresses);
        dev
    }

    fn check_device_addresses(&mut self, devices: &[Device]) {
        let mut owner: BTreeMap<Prefix, usize> = BTreeMap::new();
        for (i, d) in devices.iter().enumerate() {
            for p in &d.addresses {
                if let Some(&j) = owner.get(p) {
                    let other = &devices[j];
                    let diag = Diagnostic::error(
                        "E0213",
                        format!(
                            "address `{p}` is given to both `{}` and `{}`",
                            other.name, d.name
                        ),
                        d.span,
                        format!("`{}` uses `{p}`", d.name),
                    )
                    .with_secondary(other.span, format!("`{}` uses it too", other.name))
                    .with_help("each address belongs to one device; correct one of them");
                    self.err(diag);
                } else {
                    owner.insert(*p, i);
                }
            }
        }
        // Overlapping (non-identical) device prefixes, by sweep.
        let mut all: Vec<(Prefix, usize)> = owner.into_iter().collect();
        all.sort();
        for w in all.windows(2) {
            let (a, ai) = w[0];
            let (b, bi) = w[1];
            if ai != bi && a.to_set().overlaps(&b.to_set()) {
                let d = Diagnostic::error(
                    "E0213",
                    format!(
                        "addresses of `{}` and `{}` overlap",
                        devices[ai].name, devices[bi].name
                    ),
                    devices[bi].span,
                    format!("`{b}`"),
                )
                .with_secondary(devices[ai].span, format!("`{a}`"))
                .with_help("each address belongs to one device; correct one of them");
                self.err(d);
            }
        }
    }

    fn flatten_group(
        &mut self,
        idx: usize,
        zone_new_id: &[ZoneId],
        dev_new_id: &[DeviceId],
        cache: &mut BTreeMap<usize, Vec<Endpoint>>,
        stack: &mut Vec<usize>,
    ) -> Vec<Endpoint> {
        if let Some(v) = cache.get(&idx) {
            return v.clone();
        }
        let (file, decl) = (self.groups[idx].file, self.groups[idx].decl);
        if stack.contains(&idx) {
            let d = Diagnostic::error(
                "E0110",
                format!("group `{}` contains itself", decl.name.name),
                sp(file, decl.name.range),
                "part of a cycle",
            )
            .with_help("a group may not include itself, directly or through other groups");
            self.err(d);
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
        let mut d = Diagnostic::error(
            "E0104",
            format!("unknown zone, device or group `{}`", id.name),
            sp(file, id.range),
            "not defined",
        );
        let cands: Vec<&str> = self.names.keys().map(String::as_str).collect();
        d = match did_you_mean(&id.name, cands) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help("define it with `zone NAME { … }`, `device NAME { … }` inside a zone, or `group NAME = …`"),
        };
        if self.services.contains_key(&id.name) {
            d = d.with_note(format!("`{}` is a service; services go after `:`", id.name));
        }
        self.err(d);
    }

    fn endpoints(
        &mut self,
        file: FileId,
        list: &ast::EndpointList,
        ctx: &Ctx<'_>,
        cache: &mut BTreeMap<usize, Vec<Endpoint>>,
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

    fn service_uses(
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

    #[expect(
        clippy::too_many_arguments,
        reason = "never and require share this path"
    )]
    fn invariant(
        &mut self,
        file: FileId,
        item: &ast::Item,
        kind: InvariantKind,
        src: &ast::EndpointList,
        dst: &ast::EndpointList,
        services: Option<&[ast::ServiceTerm]>,
        just: Option<&ast::StrLit>,
        ctx: &Ctx<'_>,
        cache: &mut BTreeMap<usize, Vec<Endpoint>>,
    ) -> Option<Invariant> {
        let s = self.endpoints(file, src, ctx, cache);
        let d = self.endpoints(file, dst, ctx, cache);
        let set = match services {
            Some(terms) => self
                .service_uses(file, terms)
                .map(|u| u.iter().fold(ServiceSet::empty(), |a, x| a.union(&x.set))),
            None => Some(ServiceSet::any()),
        };
        let (s, d, set) = (s?, d?, set?);
        Some(Invariant {
            kind,
            span: sp(file, item.range),
            src: s.leaves,
            dst: d.leaves,
            src_written: s.written,
            dst_written: d.written,
            services: set,
            services_written: services.is_some(),
            justification: just.map(|j| j.value.clone()),
        })
    }
}

fn is_within(zones: &[Zone], inner: usize, outer: usize) -> bool {
    let mut cur = zones[inner].parent;
    let mut steps = 0;
    while let Some(p) = cur {
        if p.index() == outer {
            return true;
        }
        steps += 1;
        if steps > zones.len() {
            return false;
        }
        cur = zones[p.index()].parent;
    }
    false
}

impl Invariant {
    fn src_written_names(&self) -> Vec<&str> {
        self.src_written.iter().map(|(n, _)| n.as_str()).collect()
    }
    fn dst_written_names(&self) -> Vec<&str> {
        self.dst_written.iter().map(|(n, _)| n.as_str()).collect()
    }
}

#[derive(Clone)]
struct Resolved {
    leaves: Vec<Endpoint>,
    written: Vec<(String, Span)>,
}

struct Ctx<'a> {
    zone_new_id: &'a [ZoneId],
    dev_new_id: &'a [DeviceId],
    zones: &'a [Zone],
    devices: &'a [Device],
    service_ids: &'a BTreeMap<String, ServiceId>,
    today: Date,
}

impl Ctx<'_> {
    fn addrs(&self, e: Endpoint) -> AddrSet {
        match e {
            Endpoint::Zone(z) => self.zones[z.index()].addrs.clone(),
            Endpoint::Device(d) => self.devices[d.index()].addrs.clone(),
            Endpoint::Any => AddrSet::full(),
        }
    }
}

/// The services a rule covers toward one destination: a named service that
/// the destination device listens on with `on PORT` uses that port.
fn services_toward(
    ctx: &Ctx<'_>,
    dst: Endpoint,
    uses: &[ServiceUse],
) -> Vec<(Endpoint, ServiceSet)> {
    let mut out = Vec::new();
    match dst {
        Endpoint::Device(d) => {
            let dev = &ctx.devices[d.index()];
            let mut set = ServiceSet::empty();
            for u in uses {
                let over = u.name.as_deref().and_then(|n| {
                    let sid = ctx.service_ids.get(n)?;
                    dev.listens
                        .iter()
                        .find(|l| l.service == *sid && l.port.is_some())
                        .map(|l| l.set.clone())
                });
                set = set.union(&over.unwrap_or_else(|| u.set.clone()));
            }
            out.push((dst, set));
        }
        Endpoint::Zone(z) => {
            let set = uses
                .iter()
                .fold(ServiceSet::empty(), |a, u| a.union(&u.set));
            out.push((dst, set.clone()));
            // Devices of the zone that listen on a named service on their own
            // port are reached on that port as well.
            for &did in &ctx.zones[z.index()].devices {
                let dev = &ctx.devices[did.index()];
                if !dev.listens.iter().any(|l| l.port.is_some()) {
                    continue;
                }
                let mut extra = ServiceSet::empty();
                for u in uses {
                    let Some(n) = u.name.as_deref() else { continue };
                    let Some(sid) = ctx.service_ids.get(n) else {
                        continue;
                    };
                    for l in &dev.listens {
                        if l.service == *sid && l.port.is_some() {
                            extra = extra.union(&l.set);
                        }
                    }
                }
                let extra = extra.subtract(&set);
                if !extra.is_empty() {
                    out.push((Endpoint::Device(did), extra));
                }
            }
        }
        Endpoint::Any => {
            let set = uses
                .iter()
                .fold(ServiceSet::empty(), |a, u| a.union(&u.set));
            out.push((dst, set));
        }
    }
    out
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
    let src_addrs = match src.leaves.as_slice() {
        [one] => ctx.addrs(*one),
        many => AddrSet::union_all(many.iter().map(|e| ctx.addrs(*e))),
    };
    let mut by_set: BTreeMap<ServiceSet, (Vec<AddrSet>, Vec<Endpoint>)> = BTreeMap::new();
    for &d in &dst.leaves {
        for (ep, set) in services_toward(ctx, d, &uses) {
            if set.is_empty() {
                continue;
            }
            let e = by_set.entry(set).or_default();
            e.0.push(ctx.addrs(ep));
            e.1.push(ep);
        }
    }
    let terms = by_set
        .into_iter()
        .map(|(services, (dst_addrs, eps))| Term {
            src: src_addrs.clone(),
            dst: AddrSet::union_all(dst_addrs),
            dst_endpoints: eps,
            services,
        })
        .collect();
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
    }
}

/// Sorts rules canonically, assigns ids and stable unique names.
type RuleKey<'a> = (
    Action,
    OriginKind,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Option<Date>,
    Option<&'a str>,
);

fn finalize_rules(rules: Vec<Rule>) -> Vec<Rule> {
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
    let mut used: BTreeMap<String, u32> = BTreeMap::new();
    for (i, r) in rules.iter_mut().enumerate() {
        r.id = RuleId(u32::try_from(i).unwrap_or(u32::MAX));
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
    rules
}
