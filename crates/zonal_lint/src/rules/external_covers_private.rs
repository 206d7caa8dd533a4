//! L0107 `external-covers-private`: the catch-all external zone (the
//! internet) also covers private address space that no zone models, and an
//! allow rule reaches into it.
//!
//! An external zone without networks stands for every address in no other
//! zone (see docs/semantics.md). Modelling only the imaging department
//! therefore puts the rest of the hospital LAN (RFC 1918, CGNAT, IPv6 ULA
//! space) "on the internet": `allow guest -> internet : https` also lets
//! guest Wi-Fi open HTTPS to every unmodelled hospital server, and the
//! rendered configs say so. Reported once per such zone (or, with no
//! external zone declared, once for the addresses in no zone, which are the
//! internet by definition), with the private ranges it covers and the
//! rules that reach them.

use zonal_diagnostics::Severity;
use zonal_model::{Action, AddrSet, Policy, Prefix, Zone};

use crate::analysis::Analysis;
use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0107",
    name: "external-covers-private",
    severity: Severity::Medium,
    summary: "the internet zone also covers private addresses no zone models, and rules reach them",
    doc: lint_doc!("L0107"),
};

/// RFC 1918, RFC 6598 (CGNAT) and RFC 4193 (ULA) space.
const PRIVATE: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

fn private_space() -> AddrSet {
    let prefixes: Vec<Prefix> = PRIVATE
        .iter()
        .filter_map(|p| Prefix::parse(p).ok())
        .collect();
    AddrSet::from_prefixes(&prefixes)
}

/// The catch-all external zones: written without networks, or the
/// implicit internet of a policy that has none.
fn catch_alls<'p>(policy: &'p Policy, an: &'p Analysis) -> Vec<&'p Zone> {
    policy
        .zones
        .iter()
        .filter(|z| z.external && z.networks.is_empty())
        .chain(an.implicit_internet.as_ref())
        .collect()
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let private = private_space();
    let an = cx.an();
    for zone in catch_alls(cx.policy, an) {
        let covered = zone.addrs.intersect(&private);
        if covered.is_empty() {
            continue;
        }
        // Allow rules whose terms reach covered addresses, with a packet
        // that `decide` allows.
        // Readable addresses: the first host of each covered range
        // (computed once per zone, not per rule).
        let samples: Vec<std::net::IpAddr> = covered
            .to_prefixes()
            .iter()
            .take(6)
            .filter_map(|p| first_host(&p.to_set()))
            .collect();
        let mut reaching = Vec::new();
        let denies: Vec<&zonal_model::Rule> = cx
            .policy
            .active_rules()
            .filter(|r| r.action == Action::Deny)
            .collect();
        let near = near_denies(&denies, &samples);
        for r in cx
            .policy
            .rules
            .iter()
            .filter(|r| r.is_active() && r.action == Action::Allow)
        {
            let explicit = r
                .src
                .iter()
                .chain(&r.dst)
                .any(|e| matches!(e, zonal_model::Endpoint::Zone(z) if *z == zone.id));
            let implicit = an
                .implicit_internet
                .as_ref()
                .is_some_and(|i| i.id == zone.id);
            if !explicit && !implicit {
                continue;
            }
            if let Some(p) = witness(cx, r, &covered, &samples, &near) {
                reaching.push((r, p));
            }
        }
        let Some((first, packet)) = reaching.first() else {
            continue;
        };
        let blocks: Vec<String> = PRIVATE
            .iter()
            .filter_map(|p| Prefix::parse(p).ok())
            .filter(|p| covered.overlaps(&p.to_set()))
            .map(|p| {
                if p.to_set().is_subset(&covered) {
                    p.to_string()
                } else {
                    format!("{p} (outside the zones modelled in it)")
                }
            })
            .collect();
        let mut d = cx
            .diag(
                &INFO,
                if implicit_zone(an, zone) {
                    "the addresses in no zone, the internet as no external zone is declared, include private addresses".to_string()
                } else {
                    format!(
                        "external zone `{}` also covers private addresses that no zone models",
                        zone.name
                    )
                },
                zone.span,
                "stands for every address in no other zone",
            )
            .with_note(format!("it covers {}", blocks.join(", ")))
            .with_note(format!(
                "witness: {packet} is permitted by `{}`",
                first.name
            ));
        if reaching.len() > 1 {
            d = d.with_note(format!(
                "{} allow rules reach private addresses through it",
                reaching.len()
            ));
        }
        for (r, _) in reaching.iter().take(5) {
            d = d.with_secondary(r.span, format!("`{}` reaches them", r.name));
        }
        let d = d.with_help(
            "model the rest of the hospital network as zones (e.g. a `hospital-lan` zone holding 10.0.0.0/8, with the imaging zones declared `within` it), or give the external zone explicit networks",
        );
        cx.push(d);
    }
}

/// The active denies that hold a sample address in some term: as a
/// destination (`to`) or as a source (`from`).
struct Near<'p> {
    to: Vec<&'p zonal_model::Rule>,
    from: Vec<&'p zonal_model::Rule>,
}

/// For each sample, the denies that can match a packet to it and those
/// that can match one from it (a term holds it on that side): a deny
/// outside these never matches a witness packet, so the witnesses scan a
/// few denies rather than all of them for every rule.
fn near_denies<'p>(
    denies: &[&'p zonal_model::Rule],
    samples: &[std::net::IpAddr],
) -> Vec<Near<'p>> {
    let holding = |cov: std::net::IpAddr, dst: bool| -> Vec<&'p zonal_model::Rule> {
        denies
            .iter()
            .copied()
            .filter(|d| {
                d.terms
                    .iter()
                    .any(|t| if dst { &t.dst } else { &t.src }.contains(cov))
            })
            .collect()
    };
    samples
        .iter()
        .map(|cov| Near {
            to: holding(*cov, true),
            from: holding(*cov, false),
        })
        .collect()
}

/// A packet of the rule to or from a covered address (one of `samples`)
/// that `decide` allows.
fn witness(
    cx: &Ctx<'_, '_>,
    r: &zonal_model::Rule,
    covered: &AddrSet,
    samples: &[std::net::IpAddr],
    near: &[Near<'_>],
) -> Option<zonal_model::Packet> {
    for t in &r.terms {
        for (cov, near) in samples.iter().zip(near) {
            let family = if cov.is_ipv4() {
                zonal_model::Family::V4
            } else {
                zonal_model::Family::V6
            };
            let Some((proto, selector)) = t.services.for_family(family).example() else {
                continue;
            };
            let other_side = |set: &AddrSet| {
                first_host(&set.family(family).subtract(covered)).filter(|x| x != cov)
            };
            let pairs = [
                t.dst
                    .contains(*cov)
                    .then(|| other_side(&t.src).map(|s| (s, *cov, &near.to))),
                t.src
                    .contains(*cov)
                    .then(|| other_side(&t.dst).map(|d| (*cov, d, &near.from))),
            ];
            for (src, dst, denies) in pairs.into_iter().flatten().flatten() {
                // `decide` allows a packet that the allow rule `r` matches
                // exactly when no active deny matches it (deny wins): only
                // the denies that hold the sample on its side are scanned,
                // not every rule.
                let allowed = if r.matches(src, dst, proto, selector) {
                    !denies.iter().any(|d| d.matches(src, dst, proto, selector))
                } else {
                    cx.policy.decide(src, dst, proto, selector).action == Action::Allow
                };
                if allowed {
                    return Some(zonal_model::Packet {
                        src,
                        dst,
                        proto,
                        selector,
                    });
                }
            }
        }
    }
    None
}

/// The first address after the lowest one (the first host of a network),
/// or the only one.
fn first_host(set: &AddrSet) -> Option<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if let Some(&(lo, hi)) = set.v4_ranges().first() {
        return Some(IpAddr::V4(Ipv4Addr::from(if hi > lo {
            lo + 1
        } else {
            lo
        })));
    }
    set.v6_ranges()
        .first()
        .map(|&(lo, hi)| IpAddr::V6(Ipv6Addr::from(if hi > lo { lo + 1 } else { lo })))
}

/// Whether `zone` is the implicit internet (the addresses in no zone).
fn implicit_zone(an: &crate::analysis::Analysis<'_>, zone: &zonal_model::Zone) -> bool {
    an.implicit_internet
        .as_ref()
        .is_some_and(|i| i.id == zone.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ZoneGraph;
    use zonal_model::{Date, Options, load_str};

    /// The witnesses found with the denies narrowed per sample are those
    /// found scanning every active deny, and each is a packet `decide`
    /// allows, on seeded tiny and small policies (implicit internet, and
    /// catch-all external zones where the generator writes one).
    #[test]
    fn narrowed_denies_give_the_same_witnesses() {
        let options = Options {
            today: Date::new(2026, 11, 28).unwrap(),
        };
        let mut found = 0;
        let mut compared = 0;
        for seed in 0..120u64 {
            let text = if seed % 2 == 0 {
                zonal_synth::generate_tiny(seed)
            } else {
                zonal_synth::generate(&zonal_synth::SynthConfig::small(seed))
            };
            let loaded = load_str("t.zonal", &text, &options);
            let Some(policy) = &loaded.policy else {
                continue;
            };
            let graph = ZoneGraph::new(policy);
            let config = crate::LintConfig::default();
            let cx = Ctx::new(&graph, &config);
            let an = cx.an();
            let denies: Vec<&zonal_model::Rule> = policy
                .active_rules()
                .filter(|r| r.action == Action::Deny)
                .collect();
            for zone in catch_alls(policy, an) {
                let covered = zone.addrs.intersect(&private_space());
                let samples: Vec<std::net::IpAddr> = covered
                    .to_prefixes()
                    .iter()
                    .take(6)
                    .filter_map(|p| first_host(&p.to_set()))
                    .collect();
                let narrow = near_denies(&denies, &samples);
                let all: Vec<Near<'_>> = samples
                    .iter()
                    .map(|_| Near {
                        to: denies.clone(),
                        from: denies.clone(),
                    })
                    .collect();
                for r in policy
                    .rules
                    .iter()
                    .filter(|r| r.is_active() && r.action == Action::Allow)
                {
                    let fast = witness(&cx, r, &covered, &samples, &narrow);
                    let slow = witness(&cx, r, &covered, &samples, &all);
                    assert_eq!(fast, slow, "seed {seed}, rule {}", r.name);
                    if let Some(p) = fast {
                        let d = policy.decide(p.src, p.dst, p.proto, p.selector);
                        assert_eq!(d.action, Action::Allow, "seed {seed}: {p}");
                        found += 1;
                    }
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "only {compared} rules compared");
        assert!(found > 20, "only {found} witnesses");
    }
}
