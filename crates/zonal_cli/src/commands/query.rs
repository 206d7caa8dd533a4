//! `zonal query PATH --from X --to Y [--service S | --proto P --port N] [--path]`:
//! what the policy decides for a flow, and by which rule.
//!
//! X and Y are a zone, a device, a group or an IP address. The verdict comes
//! from the reference decision function (`Policy::decide`) for a concrete
//! packet per protocol and port of the service; `--path` prints the shortest
//! chain of permitted flows from X to Y, hop by hop. Exit code 0: every
//! packet asked about is allowed (or a path exists); 1: some packet is
//! denied (or no path exists); 2: usage or input error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::bail;
use zonal_diagnostics::{SourceDb, Span};
use zonal_lint::{PathOptions, ZoneGraph};
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, icmp_type_by_name, proto_name};
use zonal_model::sets::IntervalSet;
use zonal_model::{Action, AddrSet, Endpoint, Family, Packet, Policy, ServiceSet};
use zonal_syntax::suggest::did_you_mean;

use crate::ExitStatus;
use crate::args::QueryArgs;
use crate::printer;

/// A resolved `--from` / `--to`.
struct Place {
    endpoints: Vec<Endpoint>,
    addrs: AddrSet,
    name: String,
}

fn resolve(policy: &Policy, text: &str) -> anyhow::Result<Place> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        let endpoint = match (policy.device_of(ip), policy.zone_of(ip)) {
            (Some(d), _) => Endpoint::Device(d),
            (None, Some(z)) => Endpoint::Zone(z),
            (None, None) => Endpoint::Any,
        };
        let name = match endpoint {
            Endpoint::Any => ip.to_string(),
            e => format!("{ip} ({})", policy.endpoint_name(e)),
        };
        return Ok(Place {
            endpoints: vec![endpoint],
            addrs: AddrSet::single(ip),
            name,
        });
    }
    if text == "any" {
        return Ok(Place {
            endpoints: vec![Endpoint::Any],
            addrs: AddrSet::full(),
            name: "any".to_string(),
        });
    }
    if text.contains('/')
        && let Ok(prefix) = zonal_model::Prefix::parse(text)
    {
        // For `--path`, a prefix stands for the zones it overlaps.
        let addrs = prefix.to_set();
        let mut endpoints: Vec<Endpoint> = policy
            .zones
            .iter()
            .filter(|z| z.addrs.overlaps(&addrs))
            .map(|z| Endpoint::Zone(z.id))
            .collect();
        if endpoints.is_empty() {
            endpoints.push(Endpoint::Any);
        }
        return Ok(Place {
            endpoints,
            addrs,
            name: text.to_string(),
        });
    }
    if let Some(z) = policy.zone_by_name(text) {
        return Ok(Place {
            endpoints: vec![Endpoint::Zone(z.id)],
            addrs: z.addrs.clone(),
            name: z.name.clone(),
        });
    }
    if let Some(d) = policy.device_by_name(text) {
        return Ok(Place {
            endpoints: vec![Endpoint::Device(d.id)],
            addrs: d.addrs.clone(),
            name: d.name.clone(),
        });
    }
    if let Some(g) = policy.group_by_name(text) {
        let addrs = g.members.iter().fold(AddrSet::empty(), |acc, e| {
            acc.union(&policy.endpoint_addrs(*e))
        });
        return Ok(Place {
            endpoints: g.members.clone(),
            addrs,
            name: g.name.clone(),
        });
    }
    let names = policy
        .zones
        .iter()
        .map(|z| z.name.as_str())
        .chain(policy.devices.iter().map(|d| d.name.as_str()))
        .chain(policy.groups.iter().map(|g| g.name.as_str()));
    match did_you_mean(text, names) {
        Some(n) => bail!(
            "`{text}` is not a zone, device, group or IP address of the policy; did you mean `{n}`?"
        ),
        None => bail!("`{text}` is not a zone, device, group or IP address of the policy"),
    }
}

/// The services asked about.
fn services(policy: &Policy, args: &QueryArgs, to: &Place) -> anyhow::Result<(ServiceSet, String)> {
    if let Some(name) = &args.service {
        let Some(def) = policy.service_by_name(name) else {
            let names = policy.services.iter().map(|s| s.name.as_str());
            match did_you_mean(name, names) {
                Some(n) => bail!(
                    "`{name}` is not a service of the policy or the prelude; did you mean `{n}`?"
                ),
                None => bail!("`{name}` is not a service of the policy or the prelude"),
            }
        };
        // On a device that listens on the service, ask about its listener port.
        if let [Endpoint::Device(d)] = to.endpoints.as_slice()
            && let Some(l) = policy
                .device(*d)
                .listens
                .iter()
                .find(|l| l.service == def.id)
        {
            return Ok((l.set.clone(), name.clone()));
        }
        return Ok((def.set.clone(), name.clone()));
    }
    let Some(proto) = &args.proto else {
        bail!("say which traffic to ask about: `--service NAME`, or `--proto tcp --port 104`");
    };
    let p: u8 = match proto.as_str() {
        "tcp" => TCP,
        "udp" => UDP,
        "icmp" => ICMP,
        "icmpv6" => ICMPV6,
        n => match n.parse() {
            Ok(v) => v,
            Err(_) => bail!(
                "`--proto {n}` is not a protocol: use tcp, udp, icmp, icmpv6 or a number 0-255"
            ),
        },
    };
    let set = match (p, args.port) {
        (TCP | UDP, Some(port)) => ServiceSet::ports(p, port, port),
        (ICMP | ICMPV6, Some(t)) if t > 255 => bail!("ICMP types go from 0 to 255"),
        (ICMP | ICMPV6, Some(t)) => ServiceSet::proto(p, IntervalSet::single(t)),
        (ICMP | ICMPV6, None) => {
            let echo = icmp_type_by_name("echo-request", p == ICMPV6).unwrap_or(8);
            ServiceSet::proto(p, IntervalSet::single(echo))
        }
        _ => ServiceSet::whole_proto(p),
    };
    let label = match args.port {
        Some(port) => format!("{} {port}", proto_name(p)),
        None => proto_name(p),
    };
    Ok((set, label))
}

/// A readable address of a set in one family (not a network address when avoidable).
fn sample(set: &AddrSet, family: Family) -> Option<IpAddr> {
    match family {
        Family::V4 => set.v4_ranges().first().map(|&(lo, hi)| {
            IpAddr::V4(Ipv4Addr::from(if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            }))
        }),
        Family::V6 => set.v6_ranges().first().map(|&(lo, hi)| {
            IpAddr::V6(Ipv6Addr::from(if hi > lo.saturating_add(1) {
                lo + 1
            } else {
                lo
            }))
        }),
    }
}

fn location(db: &SourceDb, span: Span) -> String {
    let lc = db.line_col(span.file, span.range.start);
    format!("{}:{}:{}", db.name(span.file), lc.line, lc.col)
}

/// Without a service: everything the policy allows from X to Y, per pair
/// of places (device, rest of a zone), with the services and a rule.
fn between(policy: &Policy, db: &SourceDb, from: &Place, to: &Place) -> ExitStatus {
    let all = zonal_review::allowed(policy, &from.addrs, &to.addrs);
    printer::outln(&format!(
        "{} -> {} : everything allowed",
        from.name, to.name
    ));
    if all.is_empty() {
        printer::outln("  nothing: no rule allows any traffic between them");
        return ExitStatus::Findings;
    }
    for a in &all {
        printer::outln(&format!("  {} -> {} : {}", a.src, a.dst, a.services));
        if let Some((packet, rule)) = &a.example {
            let at = policy
                .rules
                .iter()
                .find(|r| &r.name == rule)
                .map(|r| location(db, r.span))
                .unwrap_or_default();
            printer::outln(&format!("        e.g. {packet} by `{rule}` at {at}"));
        }
    }
    ExitStatus::Success
}

#[expect(
    clippy::too_many_lines,
    reason = "reads the options, resolves both ends, decides and prints: one command, one screen of steps"
)]
pub(crate) fn run(args: &QueryArgs) -> anyhow::Result<ExitStatus> {
    let loaded = super::load(&args.path, &args.policy)?;
    let db = &loaded.db;
    let policy = match &loaded.policy {
        Some(p) if !loaded.diagnostics.has_input_errors() => p,
        _ => {
            for d in &loaded.diagnostics {
                printer::err(&printer::human(db, d, printer::Stream::Stderr));
            }
            bail!("the policy has errors; fix them before asking it questions");
        }
    };
    let from = resolve(policy, &args.from)?;
    let to = resolve(policy, &args.to)?;
    if args.service.is_none() && args.proto.is_none() && !args.show_path {
        return Ok(between(policy, db, &from, &to));
    }
    // `--path` alone asks whether any chain of permitted flows leads from
    // X to Y, whatever the service of the last hop.
    let path_only = args.show_path && args.service.is_none() && args.proto.is_none();
    let (set, label) = if path_only {
        (ServiceSet::any(), "any service".to_string())
    } else {
        services(policy, args, &to)?
    };
    printer::outln(&format!("{} -> {} : {label}", from.name, to.name));
    let pairs: Vec<(IpAddr, IpAddr)> = [Family::V4, Family::V6]
        .into_iter()
        .filter_map(|f| Some((sample(&from.addrs, f)?, sample(&to.addrs, f)?)))
        .collect();
    if pairs.is_empty() {
        bail!(
            "`{}` and `{}` share no address family: no packet can go from one to the other",
            from.name,
            to.name
        );
    }
    let mut status = ExitStatus::Success;
    let mut shown = 0usize;
    let verdict_pairs: &[(IpAddr, IpAddr)] = if path_only { &[] } else { &pairs };
    'outer: for (src, dst) in verdict_pairs {
        for (proto, sel) in set.iter() {
            let v6 = dst.is_ipv6();
            let proto = match (proto, v6) {
                (ICMP, true) => ICMPV6,
                (ICMPV6, false) => ICMP,
                (p, _) => p,
            };
            for &(lo, _) in sel.ranges() {
                if shown == 16 {
                    printer::outln("  … (more ports not shown)");
                    break 'outer;
                }
                shown += 1;
                let verdict = policy.decide(*src, *dst, proto, lo);
                let text = Packet {
                    src: *src,
                    dst: *dst,
                    proto,
                    selector: lo,
                };
                printer::outln(&format!("  {:<5} {text}", verdict.action.as_str()));
                match verdict.rule {
                    Some(r) => {
                        let rule = policy.rule(r);
                        printer::outln(&format!(
                            "        by `{}` at {}",
                            rule.name,
                            location(db, rule.span)
                        ));
                        let lc = db.line_col(rule.span.file, rule.span.range.start);
                        printer::outln(&format!(
                            "        | {}",
                            db.line_text(rule.span.file, lc.line).trim_end()
                        ));
                    }
                    None => printer::outln("        by the default deny: no rule allows it"),
                }
                if verdict.action == Action::Deny {
                    status = ExitStatus::Findings;
                }
            }
        }
    }
    if args.show_path {
        let graph = ZoneGraph::new(policy);
        let opts = PathOptions {
            pivots: None,
            last_hop: Some(&set),
        };
        match graph.shortest_path(&from.endpoints, &to.endpoints, &opts) {
            Some(hops) => {
                printer::outln(&format!(
                    "path ({} hop{}):",
                    hops.len(),
                    if hops.len() == 1 { "" } else { "s" }
                ));
                for (i, h) in hops.iter().enumerate() {
                    let rule = policy.rule(h.rule);
                    printer::outln(&format!(
                        "  {}. {} -> {} : {}",
                        i + 1,
                        graph.place_name(h.from),
                        graph.place_name(h.to),
                        h.packet
                    ));
                    printer::outln(&format!(
                        "     via `{}` at {}",
                        rule.name,
                        location(db, rule.span)
                    ));
                }
                status = ExitStatus::Success;
            }
            None => {
                printer::outln(&format!(
                    "no chain of permitted flows leads from {} to {}",
                    from.name, to.name
                ));
                status = ExitStatus::Findings;
            }
        }
    }
    Ok(status)
}
