//! Juniper SRX (set commands for `load set`): one security zone per Zonal
//! zone, the global address book with address-sets, custom applications,
//! zone-pair policies (denies first), schedulers for temporary flows, a
//! final global deny between Zonal's zones that logs, and `default-policy
//! deny-all`.
//!
//! Everything Zonal writes lives in one configuration group, `groups
//! <prefix>-<policy>`, applied at the top with `apply-groups`: the file
//! starts with `delete groups <group>` and recreates the group, so a
//! redeploy replaces exactly what the last version wrote (no stale policy,
//! object or field) and never touches a statement outside the group; the
//! commit applies everything at once. Address-sets and applications are
//! named after a hash of their content.
//!
//! A catch-all external zone (the internet) is written as the exclusion of
//! its complement (`destination-address-excluded` with the internal
//! prefixes) when that is shorter than the zone's own prefix list.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family};

use super::vendor::{self, Placed};
use crate::escape::{Namer, comment, ident};
use crate::plan::{FamilyServices, FirewallPlan, Header, PlanZoneId};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] =
    &[("main.j2", include_str!("../../../../templates/srx/main.j2"))];

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view(plan);
    {
        let n = view.rule_count;
        vendor::single_artifact(Target::Srx, templates, db, view, n)
    }
}

/// The view model of `templates/srx/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SrxView {
    /// Header.
    pub(crate) header: Header,
    /// The configuration group that holds everything Zonal writes.
    pub(crate) group: String,
    /// The name of the final global deny.
    pub(crate) deny: String,
    /// Security zones.
    pub(crate) zones: Vec<SrxZone>,
    /// Address-book addresses.
    pub(crate) addresses: Vec<Address>,
    /// Address-book address-sets.
    pub(crate) address_sets: Vec<AddressSet>,
    /// Custom applications.
    pub(crate) applications: Vec<Application>,
    /// Schedulers for rules with `until`.
    pub(crate) schedulers: Vec<Scheduler>,
    /// Zone-pair policies in order (denies first).
    pub(crate) policies: Vec<SrxPolicy>,
    /// Global policies of the wide entries (`from` and `to` are zone
    /// lists), before the final deny.
    pub(crate) globals: Vec<SrxPolicy>,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of policies, including the global deny.
    pub(crate) rule_count: usize,
}

/// A security zone.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SrxZone {
    /// Vendor zone name.
    pub(crate) name: String,
    /// Zonal zone name (sanitised).
    pub(crate) zonal: String,
    /// Interfaces bound to it (from the deployment binding).
    pub(crate) interfaces: Vec<String>,
}

/// An address-book address.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Address {
    /// Name.
    pub(crate) name: String,
    /// Prefix.
    pub(crate) prefix: String,
}

/// An address-set.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AddressSet {
    /// Name.
    pub(crate) name: String,
    /// Member addresses.
    pub(crate) members: Vec<String>,
}

/// A custom application.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Application {
    /// Name.
    pub(crate) name: String,
    /// Terms (`protocol tcp destination-port 104`, …).
    pub(crate) terms: Vec<String>,
}

/// A scheduler.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Scheduler {
    /// Name.
    pub(crate) name: String,
    /// `YYYY-MM-DD.hh:mm`.
    pub(crate) start: String,
    /// `YYYY-MM-DD.hh:mm`.
    pub(crate) stop: String,
}

/// A zone-pair policy.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SrxPolicy {
    /// The zones of a global policy (empty for a zone-pair policy).
    pub(crate) from_zones: Vec<String>,
    /// The destination zones of a global policy.
    pub(crate) to_zones: Vec<String>,
    /// From-zone.
    pub(crate) from: String,
    /// To-zone.
    pub(crate) to: String,
    /// Policy name.
    pub(crate) name: String,
    /// Description (sanitised).
    pub(crate) description: String,
    /// Source address or address-set.
    pub(crate) source: String,
    /// Whether the source matches every address *except* `source`.
    pub(crate) source_excluded: bool,
    /// Destination address or address-set.
    pub(crate) destination: String,
    /// Whether the destination matches every address *except* `destination`.
    pub(crate) destination_excluded: bool,
    /// Application.
    pub(crate) application: String,
    /// `permit` or `deny`.
    pub(crate) action: String,
    /// `session-init` (denies) or `session-close` (permits), if logged.
    pub(crate) log: Option<String>,
    /// Scheduler name, for rules with `until`.
    pub(crate) scheduler: Option<String>,
}

/// Builds the SRX view of a policy for a firewall.
pub(crate) fn view(plan: &FirewallPlan<'_>) -> SrxView {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    let group = ident(
        Target::Srx,
        "",
        &format!("{}-{}", firewall.naming.prefix, policy.name),
    );
    let deny = b.namer.name(Target::Srx, "", &format!("{group}-deny"));
    let zones: Vec<SrxZone> = plan
        .zones
        .iter()
        .map(|z| SrxZone {
            name: vendor::zone_name(Target::Srx, z),
            zonal: comment(Target::Srx, &z.name),
            interfaces: z.interface.iter().cloned().collect(),
        })
        .collect();
    let policies: Vec<SrxPolicy> = vendor::placed_narrow(plan)
        .iter()
        .map(|p| b.policy(plan, &zones, p, firewall))
        .collect();
    // Wide entries: global policies with zone lists, after every zone-pair
    // policy (a zone pair with an allow carries the wide denies itself).
    let mut globals = Vec::new();
    for e in &plan.wide {
        for family in [Family::V4, Family::V6] {
            let Ok(fe) = e.family(family) else { continue };
            let meet = |set: &AddrSet| -> Vec<String> {
                plan.zone_parts(set)
                    .into_iter()
                    .filter_map(|(zi, _)| zones.get(zi.index()).map(|z| z.name.clone()))
                    .collect()
            };
            let (from, to) = (meet(&fe.src), meet(&fe.dst));
            let base = format!("{}-wide-{}", e.name(), vendor::digit(family));
            let mut pol = b.make(plan, e, &fe, family, firewall, &base, e.comment_raw());
            pol.from_zones = from;
            pol.to_zones = to;
            globals.push(pol);
        }
    }
    // The template adds the global `zonal-deny` policy.
    let rule_count = policies.len() + globals.len() + 1;
    SrxView {
        header: Header::new(policy, firewall, Target::Srx),
        group,
        deny,
        zones,
        addresses: b
            .addresses
            .prefixes
            .in_key_order()
            .into_iter()
            .map(|o| Address {
                name: o.name,
                prefix: o.value.to_string(),
            })
            .collect(),
        address_sets: b
            .addresses
            .groups
            .in_key_order()
            .into_iter()
            .map(|o| AddressSet {
                name: o.name,
                members: o.value.1,
            })
            .collect(),
        applications: b.applications.into_values().collect(),
        schedulers: b.schedulers.into_values().collect(),
        policies,
        globals,
        notes: vendor::notes(plan)
            .iter()
            .map(|n| comment(Target::Srx, n))
            .collect(),
        rule_count,
    }
}

struct Builder {
    namer: Namer,
    addresses: vendor::Addresses,
    applications: BTreeMap<String, Application>,
    schedulers: BTreeMap<Date, Scheduler>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            namer: Namer::default(),
            addresses: vendor::Addresses::new(Target::Srx, '_'),
            applications: BTreeMap::new(),
            schedulers: BTreeMap::new(),
        }
    }
}

impl Builder {
    fn policy(
        &mut self,
        plan: &FirewallPlan<'_>,
        zones: &[SrxZone],
        p: &Placed<'_>,
        firewall: &Firewall,
    ) -> SrxPolicy {
        let e = p.entry();
        let zone = |i: PlanZoneId| {
            zones
                .get(i.index())
                .map_or(String::new(), |z| z.name.clone())
        };
        let (src_name, dst_name) = (plan[p.src].name.as_str(), plan[p.dst].name.as_str());
        let base = format!(
            "{}-{src_name}-{dst_name}-{}",
            e.name(),
            vendor::digit(p.family)
        );
        let mut pol = self.make(
            plan,
            e,
            &p.fe,
            p.family,
            firewall,
            &base,
            vendor::describe(plan, p),
        );
        pol.from = zone(p.src);
        pol.to = zone(p.dst);
        pol
    }

    /// A policy of `fe` (of `e`, in `family`) named after `base`, without
    /// its zones.
    #[expect(clippy::too_many_arguments, reason = "the parts of one policy")]
    fn make(
        &mut self,
        plan: &FirewallPlan<'_>,
        e: &crate::plan::Entry<'_>,
        fe: &crate::plan::FamilyEntry<'_>,
        family: Family,
        firewall: &Firewall,
        base: &str,
        description: String,
    ) -> SrxPolicy {
        let log = match e.action() {
            Action::Allow => firewall.logging.allow.then(|| "session-close".to_string()),
            Action::Deny => firewall.logging.deny.then(|| "session-init".to_string()),
        };
        // The exclusion form on one side only: the other side keeps the
        // policy to its family.
        let (destination, destination_excluded) = self.address(
            &vendor::side_hint(plan, &fe.dst, &e.rule.dst_written),
            &fe.dst,
            family,
            true,
        );
        let (source, source_excluded) = self.address(
            &vendor::side_hint(plan, &fe.src, &e.rule.src_written),
            &fe.src,
            family,
            !destination_excluded,
        );
        SrxPolicy {
            from: String::new(),
            to: String::new(),
            from_zones: Vec::new(),
            to_zones: Vec::new(),
            name: self.namer.name(Target::Srx, "", base),
            description: comment(Target::Srx, &description),
            source,
            source_excluded,
            destination,
            destination_excluded,
            application: self.application(&vendor::services_hint(e.rule), &fe.services),
            action: match e.action() {
                Action::Allow => "permit".into(),
                Action::Deny => "deny".into(),
            },
            log,
            scheduler: e.until().map(|u| self.scheduler(u)),
        }
    }

    /// The address operand of `a` (of `family`) and whether it is written
    /// as an exclusion: with `may_exclude`, a set whose complement within
    /// the family has fewer prefixes (a catch-all external zone) is written
    /// as that complement, excluded.
    fn address(
        &mut self,
        hint: &str,
        a: &AddrSet,
        family: Family,
        may_exclude: bool,
    ) -> (String, bool) {
        let full = AddrSet::full_family(family);
        if *a == full {
            let any = match family {
                Family::V4 => "any-ipv4",
                Family::V6 => "any-ipv6",
            };
            return (any.into(), false);
        }
        let rest = full.subtract(a);
        if may_exclude && rest.prefix_count() < a.prefix_count() {
            let hint = format!("{hint}-not");
            return (
                self.addresses.set(&mut self.namer, &hint, &rest, family),
                true,
            );
        }
        (self.addresses.set(&mut self.namer, hint, a, family), false)
    }

    fn application(&mut self, rule: &str, s: &FamilyServices) -> String {
        if s.all {
            return "any".into();
        }
        let mut terms = Vec::new();
        for ps in &s.protos {
            match ps.proto {
                TCP | UDP => {
                    let ranges = if ps.whole {
                        vec![(0, u16::MAX)]
                    } else {
                        ps.ranges.clone()
                    };
                    for (lo, hi) in ranges {
                        let ports = if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}-{hi}")
                        };
                        terms.push(format!("protocol {} destination-port {ports}", ps.name));
                    }
                }
                ICMP | ICMPV6 => {
                    let (kw, ty) = if ps.proto == ICMP {
                        ("icmp", "icmp-type")
                    } else {
                        ("icmp6", "icmp6-type")
                    };
                    if ps.whole {
                        terms.push(format!("protocol {kw}"));
                    }
                    for &(lo, hi) in &ps.ranges {
                        terms.extend((lo..=hi).map(|t| format!("protocol {kw} {ty} {t}")));
                    }
                }
                n => terms.push(format!("protocol {n}")),
            }
        }
        let key = terms.join("|");
        if let Some(a) = self.applications.get(&key) {
            return a.name.clone();
        }
        let name = self.namer.name(
            Target::Srx,
            "s_",
            &format!("{rule}-{}", vendor::content_hash(&key)),
        );
        self.applications.insert(
            key,
            Application {
                name: name.clone(),
                terms,
            },
        );
        name
    }

    fn scheduler(&mut self, until: Date) -> String {
        let namer = &mut self.namer;
        self.schedulers
            .entry(until)
            .or_insert_with(|| Scheduler {
                name: namer.unique(
                    Target::Srx,
                    ident(Target::Srx, "until_", &until.to_string()),
                ),
                start: "2001-01-01.00:00".into(),
                stop: format!("{until}.23:59"),
            })
            .name
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::TCP;

    use super::*;
    use crate::Request;
    use crate::Templates;
    use crate::targets::vendor::fixture::{R, policy, zones};
    use zonal_model::Policy;

    fn render_text(p: &Policy) -> String {
        let fw = Firewall::by_address("fw");
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let mut db = SourceDb::new();
        crate::render(Target::Srx, &req, &mut db)
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect()
    }

    fn policy_lines<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
        out.lines()
            .filter(|l| l.contains(&format!(" policy {name} ")))
            .collect()
    }

    #[test]
    fn zone_pairs_defaults_and_final_deny() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "dicom",
                &["10.20.0.0/24"],
                &["10.30.0.5"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        // Zonal owns its group only: never `delete security policies`.
        assert!(!out.contains("delete security"), "{out}");
        assert!(out.contains("\ndelete groups zonal-test\n# IPv6 goes through the flow engine (packet-based mode would bypass policies).\nset groups zonal-test security forwarding-options family inet6 mode flow-based\n"), "{out}");
        assert!(out.contains("\nset apply-groups zonal-test\n"));
        assert!(
            out.lines()
                .filter(|l| l.starts_with("set ") || l.starts_with("delete "))
                .all(|l| l.starts_with("set groups zonal-test ")
                    || l == "delete groups zonal-test"
                    || l == "set apply-groups zonal-test"),
            "{out}"
        );
        let lines = policy_lines(&out, "dicom-imaging-pacs-4");
        assert!(lines.contains(&"set groups zonal-test security policies from-zone imaging to-zone pacs policy dicom-imaging-pacs-4 match source-address n4_10_20_0_0_24"), "{out}");
        assert!(lines.contains(&"set groups zonal-test security policies from-zone imaging to-zone pacs policy dicom-imaging-pacs-4 then permit"));
        // Named after the services it holds (the fixture names none: the ports).
        assert!(
            out.contains("set groups zonal-test applications application s_tcp"),
            "{out}"
        );
        assert!(out.contains(" term t1 protocol tcp destination-port 104\n"));
        let tail: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.starts_with("set groups zonal-test security policies global")
                    || l.contains("default-policy")
            })
            .collect();
        assert_eq!(
            tail,
            [
                "set groups zonal-test security policies global policy zonal-test-deny match source-address any destination-address any application any from-zone [ imaging pacs legacy internet ] to-zone [ imaging pacs legacy internet ]",
                "set groups zonal-test security policies global policy zonal-test-deny then deny",
                "set groups zonal-test security policies global policy zonal-test-deny then log session-init",
                "set groups zonal-test security policies default-policy deny-all",
            ]
        );
    }

    #[test]
    fn never_widens_and_denies_first() {
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "a",
                    &["10.20.0.0/24", "2001:db8:20::/64"],
                    &["10.40.0.9"],
                    ServiceSet::ports(TCP, 22, 22),
                ),
                R::deny("d", &["10.20.0.66"], &["10.40.0.0/24"], ServiceSet::any()),
            ],
        );
        let out = render_text(&p);
        assert!(policy_lines(&out, "a-imaging-legacy-6").is_empty());
        assert!(
            out.contains(
                "# note: rule a is not rendered for IPv6: its destination has no IPv6 address"
            ),
            "{out}"
        );
        let first_deny = out.find("policy d-imaging-legacy-4 ").expect("deny");
        let first_allow = out.find("policy a-imaging-legacy-4 ").expect("allow");
        assert!(first_deny < first_allow);
        assert!(
            !out.lines()
                .any(|l| l.contains("policies from-zone") && l.contains("source-address any"))
        );
    }

    #[test]
    fn a_binding_names_zones_and_interfaces_and_limits_the_zones() {
        use crate::ZoneBinding;
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "in",
                    &["10.20.0.0/24"],
                    &["10.30.0.5"],
                    ServiceSet::ports(TCP, 104, 104),
                ),
                R::allow(
                    "out",
                    &["10.20.0.0/24"],
                    &["10.40.0.5"],
                    ServiceSet::ports(TCP, 104, 104),
                ),
            ],
        );
        let mut fw = Firewall::by_address("edge");
        let bind = |zone: &str, interface: &str, vendor: &str| ZoneBinding {
            zone: zone.into(),
            interface: Some(interface.into()),
            vendor_zone: Some(vendor.into()),
            span: zonal_diagnostics::Span::default(),
        };
        fw.zones = Some(vec![
            bind("imaging", "ge-0/0/1.0", "IMG"),
            bind("pacs", "ge-0/0/2.0", "PACS"),
        ]);
        let req = Request {
            checked: &crate::checked_for_tests(p.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let out: String = crate::render(Target::Srx, &req, &mut SourceDb::new())
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect();
        assert!(
            out.contains(
                "set groups zonal-test security zones security-zone IMG interfaces ge-0/0/1.0\n"
            ),
            "{out}"
        );
        assert!(out.contains(
            "set groups zonal-test security zones security-zone PACS interfaces ge-0/0/2.0\n"
        ));
        assert!(out.contains("from-zone IMG to-zone PACS policy in-imaging-pacs-4 then permit\n"));
        // The legacy zone is not on this firewall: nothing is rendered for it.
        assert!(
            !out.contains("legacy")
                || out
                    .lines()
                    .all(|l| !l.starts_with("set") || !l.contains(" legacy")),
            "{out}"
        );
        assert!(!out.contains("policy out-"));
    }

    #[test]
    fn temporary_flows_get_a_scheduler() {
        let mut r = R::allow(
            "vendor",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 443, 443),
        );
        r.until = Date::new(2026, 12, 31);
        let mut old = R::allow(
            "old",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 22, 22),
        );
        old.until = Date::new(2026, 1, 31);
        let out = render_text(&policy(&zones(), vec![r, old]));
        assert!(out.contains("set groups zonal-test schedulers scheduler until_2026-12-31 start-date 2001-01-01.00:00 stop-date 2026-12-31.23:59\n"), "{out}");
        assert!(out.contains("policy vendor-imaging-pacs-4 scheduler-name until_2026-12-31\n"));
        assert!(
            !out.contains("policy old-"),
            "expired rules are not rendered"
        );
        assert!(out.contains("rule old expired on 2026-01-31"));
    }

    #[test]
    fn the_internet_is_an_exclusion_not_its_complement() {
        let mut p = policy(
            &zones(),
            vec![R::allow(
                "web",
                &["10.20.0.0/24"],
                &["any"],
                ServiceSet::ports(TCP, 443, 443),
            )],
        );
        let internet = p.zones[3].addrs.clone();
        p.rules[0].terms[0].dst = internet;
        let out = render_text(&p);
        let web = policy_lines(&out, "web-imaging-internet-4");
        assert!(
            web.iter()
                .any(|l| l.ends_with(" match destination-address-excluded")),
            "{out}"
        );
        // The excluded set is the internal networks, not 30-odd prefixes.
        let dst = web
            .iter()
            .find_map(|l| l.split(" match destination-address ").nth(1))
            .unwrap_or_default();
        assert!(dst.starts_with("g_internet-not-4-"), "{dst}");
        let addresses = out
            .lines()
            .filter(|l| l.contains(" address-book global address "))
            .count();
        assert!(addresses <= 6, "{out}");
    }
}
