//! Palo Alto PAN-OS (set commands): addresses and address-groups, TCP/UDP
//! service objects, custom applications for ICMP types and other IP
//! protocols, non-recurring schedules for temporary flows, zone-pair
//! security rules (denies first), a final explicit deny that logs, and the
//! predefined `intrazone-default` (an implicit allow) and
//! `interzone-default` rules overridden to deny and log.
//!
//! PAN-OS service objects carry only TCP/UDP ports, so a rule whose services
//! mix ports and other protocols becomes two rules: one with `application
//! any` and the service objects, one with the applications and `service
//! application-default`.
//!
//! The file deletes the security rulebase first, so the candidate holds only
//! Zonal's rules; the commit applies everything at once. Address groups are
//! named after a hash of their content.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::{Action, AddrSet, Date, Family};

use super::vendor::{self, Placed};
use crate::escape::{Namer, comment, ident};
use crate::plan::{FamilyServices, FirewallPlan, Header, PlanZoneId};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.j2",
    include_str!("../../../../templates/panos/main.j2"),
)];

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view(plan);
    vendor::single_artifact(Target::Panos, templates, db, &view, view.rule_count)
}

/// The view model of `templates/panos/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PanView {
    /// Header.
    pub(crate) header: Header,
    /// Zones.
    pub(crate) zones: Vec<PanZone>,
    /// Address objects.
    pub(crate) addresses: Vec<Address>,
    /// Address groups.
    pub(crate) address_groups: Vec<AddressGroup>,
    /// Service objects (one protocol each).
    pub(crate) services: Vec<Service>,
    /// Custom applications.
    pub(crate) applications: Vec<Application>,
    /// Non-recurring schedules for rules with `until`.
    pub(crate) schedules: Vec<Schedule>,
    /// Security rules in order (denies first).
    pub(crate) rules: Vec<SecurityRule>,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of security rules, including the final deny.
    pub(crate) rule_count: usize,
}

/// A zone.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PanZone {
    /// Vendor zone name.
    pub(crate) name: String,
    /// Zonal zone name (sanitised).
    pub(crate) zonal: String,
    /// Layer-3 interfaces from the binding.
    pub(crate) interfaces: Vec<String>,
}

/// An address object.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Address {
    /// Name.
    pub(crate) name: String,
    /// `ip-netmask` value.
    pub(crate) prefix: String,
}

/// A static address group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AddressGroup {
    /// Name.
    pub(crate) name: String,
    /// Member address names.
    pub(crate) members: Vec<String>,
}

/// A service object.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Service {
    /// Name.
    pub(crate) name: String,
    /// `tcp` or `udp`.
    pub(crate) protocol: String,
    /// `104,5000-5010`.
    pub(crate) ports: String,
}

/// A custom application identified by ICMP type or IP protocol.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Application {
    /// Name.
    pub(crate) name: String,
    /// `ident-by-icmp-type type 8`, `ident-by-icmp6-type type 128` or
    /// `ident-by-ip-protocol 47`.
    pub(crate) ident: String,
    /// Description (sanitised).
    pub(crate) description: String,
}

/// A non-recurring schedule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Schedule {
    /// Name.
    pub(crate) name: String,
    /// `YYYY/MM/DD@hh:mm-YYYY/MM/DD@hh:mm`.
    pub(crate) range: String,
}

/// A security rule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SecurityRule {
    /// Name.
    pub(crate) name: String,
    /// From-zone.
    pub(crate) from: String,
    /// To-zone.
    pub(crate) to: String,
    /// Source address or group.
    pub(crate) source: String,
    /// Destination address or group.
    pub(crate) destination: String,
    /// Applications (`any`, or custom and predefined applications).
    pub(crate) applications: Vec<String>,
    /// Services (`any`, `application-default` or service objects).
    pub(crate) services: Vec<String>,
    /// `allow` or `deny`.
    pub(crate) action: String,
    /// `log-end` value (`yes` or `no`).
    pub(crate) log_end: String,
    /// Schedule, for rules with `until`.
    pub(crate) schedule: Option<String>,
    /// Description (sanitised).
    pub(crate) description: String,
}

/// Builds the PAN-OS view of a policy for a firewall.
pub(crate) fn view(plan: &FirewallPlan<'_>) -> PanView {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    b.namer.unique(Target::Panos, "zonal-deny".into());
    let zones: Vec<PanZone> = plan
        .zones
        .iter()
        .map(|z| PanZone {
            name: vendor::zone_name(Target::Panos, z),
            zonal: comment(Target::Panos, &z.name),
            interfaces: z.interface.iter().cloned().collect(),
        })
        .collect();
    let mut rules = Vec::new();
    for p in vendor::placed(plan) {
        b.rules(plan, &zones, &p, firewall, &mut rules);
    }
    // The template adds the `zonal-deny` rule.
    let rule_count = rules.len() + 1;
    PanView {
        header: Header::new(policy, firewall, Target::Panos),
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
        address_groups: b
            .addresses
            .groups
            .in_key_order()
            .into_iter()
            .map(|o| AddressGroup {
                name: o.name,
                members: o.value.1,
            })
            .collect(),
        services: b.services.into_values().collect(),
        applications: b.applications.into_values().collect(),
        schedules: b.schedules.into_values().collect(),
        rules,
        notes: vendor::notes(plan)
            .iter()
            .map(|n| comment(Target::Panos, n))
            .collect(),
        rule_count,
    }
}

struct Builder {
    namer: Namer,
    addresses: vendor::Addresses,
    services: BTreeMap<(u8, String), Service>,
    applications: BTreeMap<String, Application>,
    schedules: BTreeMap<Date, Schedule>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            namer: Namer::default(),
            addresses: vendor::Addresses::new(Target::Panos, '-'),
            services: BTreeMap::new(),
            applications: BTreeMap::new(),
            schedules: BTreeMap::new(),
        }
    }
}

impl Builder {
    fn rules(
        &mut self,
        plan: &FirewallPlan<'_>,
        zones: &[PanZone],
        p: &Placed<'_>,
        firewall: &Firewall,
        out: &mut Vec<SecurityRule>,
    ) {
        let e = p.entry();
        let zone = |i: PlanZoneId| {
            zones
                .get(i.index())
                .map_or(String::new(), |z| z.name.clone())
        };
        let (src_name, dst_name) = (plan[p.src].name.as_str(), plan[p.dst].name.as_str());
        let source = self.address(&format!("{}-src", e.name()), &p.fe.src, p.family);
        let destination = self.address(&format!("{}-dst", e.name()), &p.fe.dst, p.family);
        let schedule = e.until().map(|u| self.schedule(u));
        let description = comment(Target::Panos, &vendor::describe(plan, p));
        let (action, log) = match e.action() {
            Action::Allow => ("allow", firewall.logging.allow),
            Action::Deny => ("deny", firewall.logging.deny),
        };
        // TCP/UDP ports as service objects with `application any`; every
        // other protocol as applications with `service application-default`.
        let mut halves: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        if p.fe.services.all {
            halves.push((vec!["any".into()], vec!["any".into()]));
        } else {
            let services = self.services(&p.fe.services);
            if !services.is_empty() {
                halves.push((vec!["any".into()], services));
            }
            let apps = self.applications(&p.fe.services);
            if !apps.is_empty() {
                halves.push((apps, vec!["application-default".into()]));
            }
        }
        let split = halves.len() > 1;
        for (i, (applications, services)) in halves.into_iter().enumerate() {
            let part = if split && i == 1 { "-apps" } else { "" };
            let base = format!(
                "{}-{src_name}-{dst_name}-{}{part}",
                e.name(),
                vendor::digit(p.family)
            );
            out.push(SecurityRule {
                name: self.namer.name(Target::Panos, "", &base),
                from: zone(p.src),
                to: zone(p.dst),
                source: source.clone(),
                destination: destination.clone(),
                applications,
                services,
                action: action.into(),
                log_end: if log { "yes".into() } else { "no".into() },
                schedule: schedule.clone(),
                description: description.clone(),
            });
        }
    }

    fn address(&mut self, hint: &str, a: &AddrSet, family: Family) -> String {
        self.addresses.set(&mut self.namer, hint, a, family)
    }

    /// Service objects for the TCP and UDP ports (one per protocol).
    fn services(&mut self, s: &FamilyServices) -> Vec<String> {
        let mut out = Vec::new();
        for ps in s
            .protos
            .iter()
            .filter(|ps| ps.proto == TCP || ps.proto == UDP)
        {
            let ranges = if ps.whole {
                vec![(0, u16::MAX)]
            } else {
                ps.ranges.clone()
            };
            let ports: Vec<String> = ranges
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    }
                })
                .collect();
            let ports = ports.join(",");
            let key = (ps.proto, ports.clone());
            if let Some(svc) = self.services.get(&key) {
                out.push(svc.name.clone());
                continue;
            }
            let name = self
                .namer
                .name(Target::Panos, &format!("{}-", ps.name), &ports);
            self.services.insert(
                key,
                Service {
                    name: name.clone(),
                    protocol: ps.name.clone(),
                    ports,
                },
            );
            out.push(name);
        }
        out
    }

    /// Applications for everything but TCP and UDP.
    fn applications(&mut self, s: &FamilyServices) -> Vec<String> {
        let mut out = Vec::new();
        for ps in &s.protos {
            match ps.proto {
                TCP | UDP => {}
                // Predefined App-IDs for whole protocols that have one.
                ICMP if ps.whole => out.extend(["icmp".to_string(), "ping".to_string()]),
                ICMPV6 if ps.whole => out.extend(["ipv6-icmp".to_string(), "ping".to_string()]),
                47 => out.push("gre".into()),
                50 => out.push("ipsec-esp".into()),
                51 => out.push("ipsec-ah".into()),
                ICMP | ICMPV6 if !ps.whole => {
                    let (kw, label) = if ps.proto == ICMP {
                        ("icmp", "ICMP")
                    } else {
                        ("icmp6", "ICMPv6")
                    };
                    for &(lo, hi) in &ps.ranges {
                        for t in lo..=hi {
                            out.push(self.application(
                                &format!("{kw}-{t}"),
                                format!("ident-by-{kw}-type type {t}"),
                                &format!("{label} type {t}"),
                            ));
                        }
                    }
                }
                n => {
                    out.push(self.application(
                        &format!("proto-{n}"),
                        format!("ident-by-ip-protocol {n}"),
                        &format!("IP protocol {n} ({})", proto_name(n)),
                    ));
                }
            }
        }
        out
    }

    fn application(&mut self, key: &str, ident_by: String, description: &str) -> String {
        if let Some(a) = self.applications.get(key) {
            return a.name.clone();
        }
        let name = self.namer.name(Target::Panos, "zonal-", key);
        self.applications.insert(
            key.to_string(),
            Application {
                name: name.clone(),
                ident: ident_by,
                description: comment(Target::Panos, description),
            },
        );
        name
    }

    fn schedule(&mut self, until: Date) -> String {
        let namer = &mut self.namer;
        self.schedules
            .entry(until)
            .or_insert_with(|| Schedule {
                name: namer.unique(
                    Target::Panos,
                    ident(Target::Panos, "until-", &until.to_string()),
                ),
                range: format!(
                    "2001/01/01@00:00-{:04}/{:02}/{:02}@23:59",
                    until.year, until.month, until.day
                ),
            })
            .name
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use zonal_model::ServiceSet;
    use zonal_model::service::{ICMP, TCP, UDP};
    use zonal_model::sets::IntervalSet;

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
        crate::render(Target::Panos, &req, &mut db)
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect()
    }

    fn rule_lines(out: &str) -> Vec<&str> {
        out.lines()
            .filter(|l| l.starts_with("set rulebase security rules "))
            .collect()
    }

    #[test]
    fn intrazone_default_is_overridden_to_deny_and_log() {
        let out = render_text(&policy(&zones(), vec![]));
        for line in [
            "set rulebase default-security-rules rules intrazone-default action deny",
            "set rulebase default-security-rules rules intrazone-default log-end yes",
            "set rulebase default-security-rules rules interzone-default action deny",
            "set rulebase default-security-rules rules interzone-default log-end yes",
            "set rulebase security rules zonal-deny from any to any source any destination any application any service any action deny log-end yes",
            "move rulebase security rules zonal-deny bottom",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line}:\n{out}");
        }
        assert_eq!(rule_lines(&out).len(), 1);
    }

    #[test]
    fn intrazone_flows_are_explicit_rules() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "peer",
                &["10.20.0.1"],
                &["10.20.0.2"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        assert!(
            rule_lines(&out).iter().any(|l| l.starts_with(
                "set rulebase security rules peer-imaging-imaging-4 from imaging to imaging source h4-10_20_0_1 destination h4-10_20_0_2 application any service tcp-104 action allow"
            )),
            "{out}"
        );
        assert!(out.contains("set service tcp-104 protocol tcp port 104\n"));
    }

    #[test]
    fn mixed_services_split_into_ports_and_applications() {
        let svc = ServiceSet::ports(UDP, 5000, 5010)
            .union(&ServiceSet::proto(ICMP, IntervalSet::single(8)))
            .union(&ServiceSet::whole_proto(50));
        let p = policy(
            &zones(),
            vec![R::allow("mix", &["10.20.0.0/24"], &["10.30.0.5"], svc)],
        );
        let out = render_text(&p);
        let rules = rule_lines(&out);
        assert!(rules.iter().any(|l| l.contains("mix-imaging-pacs-4 ")
            && l.contains(" application any service udp-5000-5010 ")));
        assert!(
            rules.iter().any(|l| l.contains("mix-imaging-pacs-4-apps ")
                && l.contains(
                    " application [ zonal-icmp-8 ipsec-esp ] service application-default "
                )),
            "{out}"
        );
        assert!(out.contains("set application zonal-icmp-8 category networking subcategory ip-protocol technology network-protocol risk 1\nset application zonal-icmp-8 default ident-by-icmp-type type 8\n"), "{out}");
    }

    #[test]
    fn never_widens_and_schedules_temporary_flows() {
        let mut r = R::allow(
            "vendor",
            &["10.40.0.9"],
            &["10.30.0.1", "2001:db8:30::1"],
            ServiceSet::ports(TCP, 443, 443),
        );
        r.until = Date::new(2026, 12, 31);
        let out = render_text(&policy(&zones(), vec![r]));
        let rules = rule_lines(&out);
        assert_eq!(rules.len(), 2, "{out}");
        assert!(
            rules[0].contains(" schedule until-2026-12-31 "),
            "{}",
            rules[0]
        );
        assert!(out.contains("set schedule until-2026-12-31 schedule-type non-recurring 2001/01/01@00:00-2026/12/31@23:59\n"));
        assert!(out.contains("vendor is not rendered for IPv6: its source has no IPv6 address"));
        assert!(!rules[0].contains("source any"));
    }

    #[test]
    fn names_stay_unique_when_truncated() {
        let svc = ServiceSet::ports(TCP, 1, 1);
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "allow-a-very-long-rule-name-that-will-not-fit-one",
                    &["10.20.0.1"],
                    &["10.30.0.1"],
                    svc.clone(),
                ),
                R::allow(
                    "allow-a-very-long-rule-name-that-will-not-fit-two",
                    &["10.20.0.1"],
                    &["10.30.0.2"],
                    svc,
                ),
            ],
        );
        let out = render_text(&p);
        let names: Vec<&str> = rule_lines(&out)
            .iter()
            .map(|l| l.split(' ').nth(4).unwrap())
            .collect();
        assert_eq!(names.len(), 3);
        assert!(names.iter().all(|n| n.len() <= 31), "{names:?}");
        let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
