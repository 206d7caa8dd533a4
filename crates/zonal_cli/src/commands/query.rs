//! `zonal query PATH --from X --to Y [--service S | --proto P --port N] [--path]`:
//! what the policy decides for a flow, and by which rule.
//!
//! X and Y are a zone, a device, a group or an IP address. The verdict comes
//! from the reference decision function (`Policy::decide`) for a concrete
//! packet per protocol and port of the service; `--path` prints the shortest
//! chain of permitted flows from X to Y, hop by hop. Exit code 0: every
//! packet asked about is allowed (or a path exists); 1: some packet is
//! denied (or no path exists); 2: usage or input error.

use std::net::IpAddr;

use anyhow::bail;
use zonal_diagnostics::{SourceDb, Span};
use zonal_lint::ZoneGraph;
use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::sets::IntervalSet;
use zonal_model::{AddrSet, Policy, ServiceSet};
use zonal_syntax::suggest::did_you_mean;

use crate::ExitStatus;
use crate::args::QueryArgs;
use crate::printer;

/// A resolved `--from` / `--to`.
struct Place {
    addrs: AddrSet,
    name: String,
}

fn resolve(policy: &Policy, text: &str) -> anyhow::Result<Place> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        let owner = match (policy.device_of(ip), policy.zone_of(ip)) {
            (Some(d), _) => Some(policy.device(d).name.as_str()),
            (None, Some(z)) => Some(policy.zone(z).name.as_str()),
            (None, None) => None,
        };
        let name = match owner {
            Some(o) => format!("{ip} ({o})"),
            None => ip.to_string(),
        };
        return Ok(Place {
            addrs: AddrSet::single(ip),
            name,
        });
    }
    if text == "any" {
        return Ok(Place {
            addrs: AddrSet::full(),
            name: "any".to_string(),
        });
    }
    if text.contains('/')
        && let Ok(prefix) = zonal_model::Prefix::parse(text)
    {
        return Ok(Place {
            addrs: prefix.to_set(),
            name: text.to_string(),
        });
    }
    if let Some(z) = policy.zone_by_name(text) {
        return Ok(Place {
            addrs: z.addrs.clone(),
            name: z.name.clone(),
        });
    }
    if let Some(d) = policy.device_by_name(text) {
        return Ok(Place {
            addrs: d.addrs.clone(),
            name: d.name.clone(),
        });
    }
    if let Some(g) = policy.group_by_name(text) {
        let addrs = g.members.iter().fold(AddrSet::empty(), |acc, e| {
            acc.union(&policy.endpoint_addrs(*e))
        });
        return Ok(Place {
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

/// The services asked about: a named service (moved per device by its
/// listeners, as in rules) or literal ones.
fn services<'a>(
    policy: &Policy,
    args: &'a QueryArgs,
) -> anyhow::Result<(zonal_lint::query::Asked<'a>, String)> {
    use zonal_lint::query::Asked;
    if let Some(name) = &args.service {
        if args.port.is_some() {
            bail!(
                "`--port` goes with `--proto` (`--proto tcp --port 104`); a named service has its own ports"
            );
        }
        if policy.service_by_name(name).is_none() {
            let names = policy.services.iter().map(|s| s.name.as_str());
            match did_you_mean(name, names) {
                Some(n) => bail!(
                    "`{name}` is not a service of the policy or the prelude; did you mean `{n}`?"
                ),
                None => bail!("`{name}` is not a service of the policy or the prelude"),
            }
        }
        return Ok((Asked::Named(name), name.clone()));
    }
    let Some(proto) = &args.proto else {
        if args.port.is_some() {
            bail!(
                "`--port` goes with `--proto` (`--proto tcp --port 104`); a named service has its own ports"
            );
        }
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
        (TCP | UDP | ICMP | ICMPV6, None) => ServiceSet::whole_proto(p),
        (TCP | UDP, Some(port)) => ServiceSet::ports(p, port, port),
        (ICMP | ICMPV6, Some(t)) if t > 255 => bail!("ICMP types go from 0 to 255"),
        (ICMP | ICMPV6, Some(t)) => ServiceSet::proto(p, IntervalSet::single(t)),
        (_, Some(_)) => bail!(
            "`--port` applies to tcp, udp (a port) and icmp, icmpv6 (a type); protocol {p} has none"
        ),
        _ => ServiceSet::whole_proto(p),
    };
    let label = match args.port {
        Some(port) => format!("{} {port}", proto_name(p)),
        None => format!(
            "{} (every {})",
            proto_name(p),
            match p {
                TCP | UDP => "port",
                ICMP | ICMPV6 => "type",
                _ => "packet",
            }
        ),
    };
    Ok((Asked::Literal(set), label))
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
    let (asked, label) = if path_only {
        (
            zonal_lint::query::Asked::Literal(ServiceSet::any()),
            "any service".to_string(),
        )
    } else {
        services(policy, args)?
    };
    printer::outln(&format!("{} -> {} : {label}", from.name, to.name));
    let graph = ZoneGraph::new(policy);
    let mut status = ExitStatus::Success;
    if !path_only {
        let answer = zonal_lint::query::ask(&graph, &from.addrs, &to.addrs, &asked);
        if answer.pairs == 0 {
            bail!(
                "no packet of `{label}` can go from `{}` to `{}`: they share no address family in which the service exists, or are one single address",
                from.name,
                to.name
            );
        }
        let verdict = match (&answer.allowed, &answer.denied) {
            (Some(_), None) => "allowed: every packet",
            (None, _) => "denied: no packet is allowed",
            (Some(_), Some(_)) => "partly allowed",
        };
        printer::outln(&format!(
            "  {verdict} ({} pair{} of places judged{})",
            answer.pairs,
            if answer.pairs == 1 { "" } else { "s" },
            if answer.denied_pair_count > 0 && answer.allowed.is_some() {
                format!(", {} with denied packets", answer.denied_pair_count)
            } else {
                String::new()
            }
        ));
        for w in [&answer.allowed, &answer.denied].into_iter().flatten() {
            print_witness(policy, db, w);
        }
        if answer.allowed.is_some() && !answer.denied_pairs.is_empty() {
            let list: Vec<String> = answer
                .denied_pairs
                .iter()
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect();
            printer::outln(&format!("  denied between: {}", list.join(", ")));
        }
        if answer.denied.is_some() {
            status = ExitStatus::Findings;
        }
    }
    if args.show_path {
        // The same model as `zonal check`: the project's pivot services,
        // the places the addresses asked about belong to, both families.
        let config = super::project(&args.path)?.lint_config(policy)?;
        let last = (!path_only).then_some(&asked);
        match zonal_lint::query::shortest_path(
            &graph,
            &from.addrs,
            &to.addrs,
            config.pivot_services.as_ref(),
            last,
        ) {
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

/// A witness packet, its verdict and the deciding rule with its line.
fn print_witness(policy: &Policy, db: &SourceDb, w: &zonal_lint::query::Witness) {
    let v = policy.decide(
        w.packet.src,
        w.packet.dst,
        w.packet.proto,
        w.packet.selector,
    );
    printer::outln(&format!(
        "  {:<5} {} ({} -> {})",
        v.action.as_str(),
        w.packet,
        w.from,
        w.to
    ));
    match v.rule {
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
}
