//! Fortinet FortiGate (FortiOS 6.4+ CLI, unified IPv4/IPv6 policy table):
//! zones with `intrazone deny`, addresses and address groups per family,
//! custom services, one-time schedules for temporary flows, policies per
//! zone pair and family (denies first) and a final explicit deny that logs
//! (FortiOS' implicit deny does not log by default).
//!
//! Policies have explicit ids 1..N in order: re-loading a new version edits
//! them in place (their order is kept), and leftover policies of a longer
//! earlier version sit after the final deny, where they match nothing.
//! Address groups and services are named after a hash of their content.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_diagnostics::{Diagnostics, SourceDb};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, AddrSet, Date, Family};

use super::vendor::{self, Placed};
use crate::escape::{Namer, comment, comment_max, ident};
use crate::plan::{FamilyServices, FirewallPlan, Header, PlanZoneId};
use crate::{Artifact, Firewall, Target, Templates};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "main.j2",
    include_str!("../../../../templates/fortigate/main.j2"),
)];

/// Renders the target.
pub(crate) fn render(
    plan: &FirewallPlan<'_>,
    templates: &Templates,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    let view = view(plan);
    vendor::single_artifact(Target::Fortigate, templates, db, &view, view.rule_count)
}

/// The view model of `templates/fortigate/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiView {
    /// Header.
    pub(crate) header: Header,
    /// Zones.
    pub(crate) zones: Vec<FortiZone>,
    /// IPv4 addresses.
    pub(crate) addresses: Vec<Address>,
    /// IPv6 addresses.
    pub(crate) addresses6: Vec<Address>,
    /// IPv4 address groups.
    pub(crate) groups: Vec<Group>,
    /// IPv6 address groups.
    pub(crate) groups6: Vec<Group>,
    /// Custom services.
    pub(crate) services: Vec<Service>,
    /// One-time schedules for rules with `until`.
    pub(crate) schedules: Vec<Schedule>,
    /// Policies in order (denies first), without the final deny.
    pub(crate) policies: Vec<FortiPolicy>,
    /// Id of the final deny.
    pub(crate) deny_id: usize,
    /// Closing notes.
    pub(crate) notes: Vec<String>,
    /// Number of policies, including the final deny.
    pub(crate) rule_count: usize,
}

/// A zone.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiZone {
    /// Vendor zone name.
    pub(crate) name: String,
    /// Zonal zone name (sanitised).
    pub(crate) zonal: String,
    /// Member interfaces (from the deployment binding).
    pub(crate) interfaces: Vec<String>,
}

/// An address (`subnet A M` or `ip6 P`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Address {
    /// Name.
    pub(crate) name: String,
    /// The value after `set subnet` or `set ip6`.
    pub(crate) value: String,
}

/// An address group.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    /// Name.
    pub(crate) name: String,
    /// Members.
    pub(crate) members: Vec<String>,
}

/// A custom service.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Service {
    /// Name.
    pub(crate) name: String,
    /// `TCP/UDP/SCTP`, `ICMP`, `ICMP6` or `IP`.
    pub(crate) protocol: String,
    /// TCP port ranges (`104`, `5000-5010`).
    pub(crate) tcp: Vec<String>,
    /// UDP port ranges.
    pub(crate) udp: Vec<String>,
    /// ICMP type, if one.
    pub(crate) icmptype: Option<u16>,
    /// IP protocol number, for `IP`.
    pub(crate) protocol_number: Option<u8>,
}

/// A one-time schedule.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Schedule {
    /// Name.
    pub(crate) name: String,
    /// `hh:mm YYYY/MM/DD`.
    pub(crate) start: String,
    /// `hh:mm YYYY/MM/DD`.
    pub(crate) end: String,
}

/// A firewall policy.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FortiPolicy {
    /// Policy id.
    pub(crate) id: usize,
    /// Name.
    pub(crate) name: String,
    /// Source zone.
    pub(crate) srcintf: String,
    /// Destination zone.
    pub(crate) dstintf: String,
    /// `srcaddr` or `srcaddr6`, by family.
    pub(crate) v6: bool,
    /// Source address or group.
    pub(crate) srcaddr: String,
    /// Destination address or group.
    pub(crate) dstaddr: String,
    /// Services.
    pub(crate) services: Vec<String>,
    /// `accept` or `deny`.
    pub(crate) action: String,
    /// `all` or `disable`.
    pub(crate) logtraffic: String,
    /// `always` or a one-time schedule.
    pub(crate) schedule: String,
    /// Comment (sanitised).
    pub(crate) comments: String,
}

/// Builds the FortiGate view of a policy for a firewall.
pub(crate) fn view(plan: &FirewallPlan<'_>) -> FortiView {
    let (policy, firewall) = (plan.policy, plan.firewall);
    let mut b = Builder::default();
    for reserved in ["zonal-deny", "all", "always", "ALL", "none"] {
        b.namer.unique(Target::Fortigate, reserved.into());
    }
    let zones: Vec<FortiZone> = plan
        .zones
        .iter()
        .map(|z| FortiZone {
            name: vendor::zone_name(Target::Fortigate, z),
            // The zone description is at most 127 bytes.
            zonal: comment_max(&z.name, 100),
            interfaces: z.interface.iter().cloned().collect(),
        })
        .collect();
    let mut notes = vendor::notes(plan);
    let mut policies = Vec::new();
    for p in vendor::placed(plan) {
        if let Some(fp) = b.policy(plan, &zones, &p, firewall, policies.len() + 1, &mut notes) {
            policies.push(fp);
        }
    }
    // The template adds the deny policy, numbered after the others; the
    // policies are numbered 1 to `deny_id`, which is also their count.
    let deny_id = policies.len() + 1;
    // (IPv6, object), in key order; IPv4 and IPv6 objects are declared
    // apart.
    let addresses: Vec<(bool, Address)> = b
        .addresses
        .prefixes
        .in_key_order()
        .into_iter()
        .map(|o| {
            let p = o.value;
            let value = if p.is_v4() {
                format!("{} {}", p.addr(), p.netmask())
            } else {
                p.to_string()
            };
            (
                !p.is_v4(),
                Address {
                    name: o.name,
                    value,
                },
            )
        })
        .collect();
    let groups: Vec<(bool, Group)> = b
        .addresses
        .groups
        .in_key_order()
        .into_iter()
        .map(|o| {
            let (family, members) = o.value;
            (
                family == Family::V6,
                Group {
                    name: o.name,
                    members,
                },
            )
        })
        .collect();
    FortiView {
        header: Header::new(policy, firewall, Target::Fortigate),
        zones,
        addresses: addresses
            .iter()
            .filter(|a| !a.0)
            .map(|a| a.1.clone())
            .collect(),
        addresses6: addresses
            .iter()
            .filter(|a| a.0)
            .map(|a| a.1.clone())
            .collect(),
        groups: groups
            .iter()
            .filter(|g| !g.0)
            .map(|g| g.1.clone())
            .collect(),
        groups6: groups.iter().filter(|g| g.0).map(|g| g.1.clone()).collect(),
        services: b.services.into_values().collect(),
        schedules: b.schedules.into_values().collect(),
        policies,
        deny_id,
        notes: notes
            .iter()
            .map(|n| comment(Target::Fortigate, n))
            .collect(),
        rule_count: deny_id,
    }
}

struct Builder {
    namer: Namer,
    addresses: vendor::Addresses,
    services: BTreeMap<String, Service>,
    schedules: BTreeMap<Date, Schedule>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            namer: Namer::default(),
            addresses: vendor::Addresses::new(Target::Fortigate, '-'),
            services: BTreeMap::new(),
            schedules: BTreeMap::new(),
        }
    }
}

impl Builder {
    fn policy(
        &mut self,
        plan: &FirewallPlan<'_>,
        zones: &[FortiZone],
        p: &Placed<'_>,
        firewall: &Firewall,
        id: usize,
        notes: &mut Vec<String>,
    ) -> Option<FortiPolicy> {
        let e = p.entry();
        let services = self.services(e.name(), &p.fe.services);
        if services.is_empty() {
            notes.push(format!(
                "rule {}: only port 0 is left, which FortiOS cannot express; not rendered",
                e.name()
            ));
            return None;
        }
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
        let log = match e.action() {
            Action::Allow => firewall.logging.allow,
            Action::Deny => firewall.logging.deny,
        };
        Some(FortiPolicy {
            id,
            name: self.namer.name(Target::Fortigate, "", &base),
            srcintf: zone(p.src),
            dstintf: zone(p.dst),
            v6: p.family == Family::V6,
            srcaddr: self.address(&format!("{}-src", e.name()), &p.fe.src, p.family),
            dstaddr: self.address(&format!("{}-dst", e.name()), &p.fe.dst, p.family),
            services,
            action: match e.action() {
                Action::Allow => "accept".into(),
                Action::Deny => "deny".into(),
            },
            logtraffic: if log { "all".into() } else { "disable".into() },
            schedule: e
                .until()
                .map_or_else(|| "always".to_string(), |u| self.schedule(u)),
            comments: comment(Target::Fortigate, &vendor::describe(plan, p)),
        })
    }

    fn address(&mut self, hint: &str, a: &AddrSet, family: Family) -> String {
        if *a == AddrSet::full_family(family) {
            return "all".into();
        }
        self.addresses.set(&mut self.namer, hint, a, family)
    }

    /// The services of an entry: `ALL`, or one custom service for the TCP
    /// and UDP ports, one per ICMP type and one per other protocol.
    fn services(&mut self, rule: &str, s: &FamilyServices) -> Vec<String> {
        if s.all {
            return vec!["ALL".into()];
        }
        let mut out = Vec::new();
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        for ps in &s.protos {
            match ps.proto {
                TCP | UDP => {
                    let ranges = if ps.whole {
                        vec![(0, u16::MAX)]
                    } else {
                        ps.ranges.clone()
                    };
                    // FortiOS ports start at 1: port 0 carries no traffic.
                    let list: Vec<String> = ranges
                        .iter()
                        .filter(|(_, hi)| *hi > 0)
                        .map(|&(lo, hi)| {
                            let lo = lo.max(1);
                            if lo == hi {
                                lo.to_string()
                            } else {
                                format!("{lo}-{hi}")
                            }
                        })
                        .collect();
                    if ps.proto == TCP {
                        tcp = list
                    } else {
                        udp = list
                    }
                }
                ICMP | ICMPV6 => {
                    let kw = if ps.proto == ICMP { "ICMP" } else { "ICMP6" };
                    let types: Vec<Option<u16>> = if ps.whole {
                        vec![None]
                    } else {
                        ps.ranges
                            .iter()
                            .flat_map(|&(lo, hi)| (lo..=hi).map(Some))
                            .collect()
                    };
                    for t in types {
                        let raw = match t {
                            Some(t) => format!("{}-{t}", kw.to_ascii_lowercase()),
                            None => kw.to_ascii_lowercase(),
                        };
                        out.push(self.service(&raw, &raw, kw, Vec::new(), Vec::new(), t, None));
                    }
                }
                n => {
                    let raw = format!("proto-{n}");
                    out.push(self.service(&raw, &raw, "IP", Vec::new(), Vec::new(), None, Some(n)));
                }
            }
        }
        if !tcp.is_empty() || !udp.is_empty() {
            let key = format!("tcp {} udp {}", tcp.join(" "), udp.join(" "));
            let hint = format!("{rule}-{}", vendor::content_hash(&key));
            let name = self.service(&key, &hint, "TCP/UDP/SCTP", tcp, udp, None, None);
            out.insert(0, name);
        }
        out
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call per kind of FortiOS service; a struct would only rename them"
    )]
    fn service(
        &mut self,
        key: &str,
        hint: &str,
        protocol: &str,
        tcp: Vec<String>,
        udp: Vec<String>,
        icmptype: Option<u16>,
        protocol_number: Option<u8>,
    ) -> String {
        if let Some(s) = self.services.get(key) {
            return s.name.clone();
        }
        let name = self.namer.name(Target::Fortigate, "s-", hint);
        self.services.insert(
            key.to_string(),
            Service {
                name: name.clone(),
                protocol: protocol.into(),
                tcp,
                udp,
                icmptype,
                protocol_number,
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
                    Target::Fortigate,
                    ident(Target::Fortigate, "until-", &until.to_string()),
                ),
                start: "00:00 2001/01/01".into(),
                end: format!(
                    "23:59 {:04}/{:02}/{:02}",
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
    use zonal_model::service::{ICMPV6, TCP, UDP};
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
        crate::render(Target::Fortigate, &req, &mut db)
            .map(|r| r.artifacts)
            .expect("renders")
            .into_iter()
            .map(|a| a.text)
            .collect()
    }

    /// The `edit … next` blocks of `config firewall policy`.
    fn policy_blocks(out: &str) -> Vec<String> {
        let start = out.find("config firewall policy\n").expect("policy table");
        let table = &out[start..];
        let end = table.find("\nend\n").expect("end");
        table[..end]
            .split("    edit ")
            .skip(1)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn zones_deny_intrazone_and_the_last_policy_denies_and_logs() {
        let p = policy(
            &zones(),
            vec![R::allow(
                "a",
                &["10.20.0.1"],
                &["10.30.0.1"],
                ServiceSet::ports(TCP, 104, 104),
            )],
        );
        let out = render_text(&p);
        assert_eq!(
            out.matches("        set intrazone deny\n").count(),
            4,
            "{out}"
        );
        let blocks = policy_blocks(&out);
        assert_eq!(blocks.len(), 2);
        let last = blocks.last().unwrap();
        for line in [
            "set name \"zonal-deny\"",
            "set srcintf \"any\"",
            "set srcaddr \"all\"",
            "set dstaddr6 \"all\"",
            "set action deny",
            "set service \"ALL\"",
            "set logtraffic all",
        ] {
            assert!(last.contains(line), "{line} missing in {last}");
        }
        assert!(blocks[0].starts_with("1\n"));
        assert!(
            blocks[0].contains("set srcaddr \"h4-10_20_0_1\"\n"),
            "{}",
            blocks[0]
        );
        assert!(!blocks[0].contains("srcaddr6"));
        assert!(out.contains("        set tcp-portrange 104\n"));
    }

    #[test]
    fn ipv6_uses_address6_and_never_widens() {
        let svc = ServiceSet::proto(ICMPV6, IntervalSet::single(128))
            .union(&ServiceSet::ports(UDP, 5000, 5010));
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "v6",
                    &["2001:db8:20::/64"],
                    &["2001:db8:30::5", "10.30.0.5"],
                    svc,
                ),
                R::allow(
                    "v4src",
                    &["10.40.0.1"],
                    &["2001:db8:20::1"],
                    ServiceSet::ports(TCP, 22, 22),
                ),
            ],
        );
        let out = render_text(&p);
        assert!(out.contains("config firewall address6\n    edit \"n6-2001_db8_20_64\"\n        set ip6 2001:db8:20::/64\n"), "{out}");
        let blocks = policy_blocks(&out);
        assert_eq!(blocks.len(), 2, "{out}");
        assert!(
            blocks[0].contains("set srcaddr6 \"n6-2001_db8_20_64\"")
                && blocks[0].contains("set dstaddr6 \"h6-2001_db8_30_5\"")
        );
        assert!(
            blocks[0].contains("set service \"s-v6-") && blocks[0].contains("\"s-icmp6-128\"\n"),
            "{}",
            blocks[0]
        );
        assert!(out.contains("        set protocol ICMP6\n        set icmptype 128\n"));
        assert!(out.contains("v4src is not rendered"), "{out}");
    }

    #[test]
    fn temporary_flows_carry_a_onetime_schedule() {
        let mut r = R::allow(
            "vendor",
            &["10.20.0.1"],
            &["10.30.0.1"],
            ServiceSet::ports(TCP, 443, 443),
        );
        r.until = Date::new(2026, 12, 31);
        let out = render_text(&policy(&zones(), vec![r]));
        assert!(out.contains(
            "config firewall schedule onetime\n    edit \"until-2026-12-31\"\n        set start \"00:00 2001/01/01\"\n        set end \"23:59 2026/12/31\"\n    next\nend\n"
        ), "{out}");
        assert!(policy_blocks(&out)[0].contains("set schedule \"until-2026-12-31\"\n"));
    }

    #[test]
    fn long_names_are_cut_to_the_limit_and_stay_unique() {
        let svc = ServiceSet::ports(TCP, 1, 1);
        let p = policy(
            &zones(),
            vec![
                R::allow(
                    "allow-modalities-to-imaging-servers-dicom-one",
                    &["10.20.0.1"],
                    &["10.30.0.1"],
                    svc.clone(),
                ),
                R::allow(
                    "allow-modalities-to-imaging-servers-dicom-two",
                    &["10.20.0.1"],
                    &["10.30.0.2"],
                    svc,
                ),
            ],
        );
        let out = render_text(&p);
        let names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix("set name \""))
            .map(|n| n.trim_end_matches('"'))
            .collect();
        assert_eq!(names.len(), 3, "{out}");
        assert!(names.iter().all(|n| n.len() <= 31), "{names:?}");
        let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), 3, "{names:?}");
    }

    #[test]
    fn denies_precede_allows() {
        let p = policy(
            &zones(),
            vec![
                R::allow("a", &["10.20.0.0/24"], &["10.30.0.0/24"], ServiceSet::any()),
                R::deny("d", &["10.20.0.66"], &["10.30.0.0/24"], ServiceSet::any()),
            ],
        );
        let blocks = policy_blocks(&render_text(&p));
        assert!(
            blocks[0].contains("set name \"d-imaging-pacs-4\"")
                && blocks[0].contains("set action deny")
        );
        assert!(
            blocks[1].contains("set name \"a-imaging-pacs-4\"")
                && blocks[1].contains("set service \"ALL\"")
        );
    }
}
