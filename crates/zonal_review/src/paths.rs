//! Chains of permitted flows into legacy and modality zones and legacy
//! devices that a change opens or closes. The search is the lints' own
//! ([`ZoneGraph::shortest_path`], as `never A ~> B` and `zonal query
//! --path` use it); this module only asks it on both sides.

use serde::Serialize;
use zonal_lint::{PathOptions, ZoneGraph};
use zonal_model::{Endpoint, Policy};

use crate::Change;

/// A chain of flows that appears (`added`) or disappears (`removed`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PathChange {
    /// Added or removed.
    pub change: Change,
    /// The zone the chain starts from.
    pub from: String,
    /// The legacy or modality zone, or legacy device, it reaches.
    pub to: String,
    /// Why `to` is watched: `modality zone`, `legacy zone`, `end-of-support device`.
    pub why: String,
    /// The shortest chain, hop by hop (on the side that has it).
    pub hops: Vec<PathHop>,
}

/// One hop of a chain.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PathHop {
    /// Where the connection starts.
    pub from: String,
    /// Where it goes.
    pub to: String,
    /// An example packet of the hop.
    pub packet: String,
    /// The allow rule that permits it.
    pub rule: String,
}

/// The places watched: legacy or modality zones, end-of-support devices.
fn targets(p: &Policy) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = p
        .zones
        .iter()
        .filter_map(|z| {
            let why = if z.is("modality") {
                "modality zone"
            } else if z.legacy {
                "legacy zone"
            } else {
                return None;
            };
            Some((z.name.clone(), why.to_string()))
        })
        .chain(
            p.devices
                .iter()
                .filter(|d| d.legacy)
                .map(|d| (d.name.clone(), "end-of-support device".to_string())),
        )
        .collect();
    out.sort();
    out
}

fn endpoint(p: &Policy, name: &str) -> Option<Endpoint> {
    p.zone_by_name(name)
        .map(|z| Endpoint::Zone(z.id))
        .or_else(|| p.device_by_name(name).map(|d| Endpoint::Device(d.id)))
}

/// The shortest chain from zone `from` to `to` on one side, if any.
fn chain(g: &ZoneGraph<'_>, p: &Policy, from: &str, to: &str) -> Option<Vec<PathHop>> {
    let (f, t) = (endpoint(p, from)?, endpoint(p, to)?);
    let hops = g.shortest_path(&[f], &[t], &PathOptions::default())?;
    Some(
        hops.iter()
            .map(|h| PathHop {
                from: g.place_name(h.from),
                to: g.place_name(h.to),
                packet: h.packet.to_string(),
                rule: p.rule(h.rule).name.clone(),
            })
            .collect(),
    )
}

/// Chains from every zone (other than the target and the zone holding a
/// target device) into every watched place, compared.
pub(crate) fn diff(old: &Policy, new: &Policy) -> Vec<PathChange> {
    let (og, ng) = (ZoneGraph::new(old), ZoneGraph::new(new));
    let mut watched = targets(old);
    watched.extend(targets(new));
    watched.sort();
    watched.dedup_by(|a, b| a.0 == b.0);
    let mut zones: Vec<&str> = old
        .zones
        .iter()
        .chain(new.zones.iter())
        .map(|z| z.name.as_str())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    let home = |p: &Policy, name: &str| {
        p.device_by_name(name)
            .map(|d| p.zone(d.zone).name.clone())
            .unwrap_or_else(|| name.to_string())
    };
    let mut out = Vec::new();
    for (to, why) in &watched {
        for from in &zones {
            if *from == home(new, to) || *from == home(old, to) {
                continue;
            }
            let o = chain(&og, old, from, to);
            let n = chain(&ng, new, from, to);
            let (change, hops) = match (o, n) {
                (None, Some(h)) => (Change::Added, h),
                (Some(h), None) => (Change::Removed, h),
                _ => continue,
            };
            out.push(PathChange {
                change,
                from: (*from).to_string(),
                to: to.clone(),
                why: why.clone(),
                hops,
            });
        }
    }
    out.sort_by(|a, b| (a.change, &a.from, &a.to).cmp(&(b.change, &b.from, &b.to)));
    out
}
