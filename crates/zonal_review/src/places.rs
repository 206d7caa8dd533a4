//! Places: the devices and the rest of each zone, matched by name across
//! the two sides; and the zones and devices a change adds, removes or
//! changes.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_model::{AddrSet, Policy};

use crate::Change;

/// A place packets come from and go to: a device, the addresses of a zone
/// outside its devices, or the addresses in no zone. Every rule's terms are
/// unions of whole places, so [`zonal_model::Policy::decide`] judges every
/// address of a place alike.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    /// The device's or zone's name (one namespace), or [`UNASSIGNED`].
    pub(crate) name: String,
    /// The zone it lies in ([`UNASSIGNED`] for the addresses in no zone).
    pub(crate) zone: String,
    pub(crate) addrs: AddrSet,
}

/// The name of the addresses in no zone.
pub(crate) const UNASSIGNED: &str = "(no zone)";

/// The places of a policy, sorted by name.
pub(crate) fn places(p: &Policy) -> Vec<Place> {
    let mut out = Vec::new();
    let mut zoned = AddrSet::empty();
    for z in &p.zones {
        zoned = zoned.union(&z.addrs);
        let devices = AddrSet::union_all(z.devices.iter().map(|d| p.device(*d).addrs.clone()));
        let rest = z.addrs.subtract(&devices);
        if !rest.is_empty() {
            out.push(Place {
                name: z.name.clone(),
                zone: z.name.clone(),
                addrs: rest,
            });
        }
        for d in &z.devices {
            let d = p.device(*d);
            out.push(Place {
                name: d.name.clone(),
                zone: z.name.clone(),
                addrs: d.addrs.clone(),
            });
        }
    }
    let rest = zoned.complement();
    if !rest.is_empty() {
        out.push(Place {
            name: UNASSIGNED.to_string(),
            zone: UNASSIGNED.to_string(),
            addrs: rest,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Prefixes of an address set, at most `max` then `…`.
pub(crate) fn addrs_text(a: &AddrSet, max: usize) -> String {
    if a.is_full() {
        return "any".to_string();
    }
    let prefixes = a.to_prefixes();
    let mut parts: Vec<String> = prefixes.iter().take(max).map(ToString::to_string).collect();
    if prefixes.len() > max {
        parts.push(format!("… ({} prefixes)", prefixes.len()));
    }
    parts.join(", ")
}

/// A zone or device added, removed or changed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PlaceChange {
    /// Added, removed or changed.
    pub change: Change,
    /// `zone` or `device`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// What changed, `field: old -> new` (empty unless changed).
    pub fields: Vec<String>,
}

/// The properties a reviewer compares, by field name.
fn zone_props(p: &Policy) -> BTreeMap<String, BTreeMap<&'static str, String>> {
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    p.zones
        .iter()
        .map(|z| {
            let props = BTreeMap::from([
                ("addresses", addrs_text(&z.addrs, 8)),
                ("trust", opt(z.trust.map(|t| t.as_str().to_string()))),
                ("kind", opt(z.kind.clone())),
                ("legacy", z.legacy.to_string()),
                ("external", z.external.to_string()),
                ("vlan", opt(z.vlan.map(|v| v.to_string()))),
            ]);
            (z.name.clone(), props)
        })
        .collect()
}

fn device_props(p: &Policy) -> BTreeMap<String, BTreeMap<&'static str, String>> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    p.devices
        .iter()
        .map(|d| {
            let listens: Vec<String> = d
                .listens
                .iter()
                .map(|l| format!("{} {}", p.service(l.service).name, l.set))
                .collect();
            let props = BTreeMap::from([
                ("zone", p.zone(d.zone).name.clone()),
                ("addresses", addrs_text(&d.addrs, 8)),
                ("kind", opt(&d.kind)),
                ("os", opt(&d.os)),
                ("end-of-support", d.legacy.to_string()),
                ("listens", listens.join(", ")),
            ]);
            (d.name.clone(), props)
        })
        .collect()
}

fn compare(
    kind: &str,
    old: &BTreeMap<String, BTreeMap<&'static str, String>>,
    new: &BTreeMap<String, BTreeMap<&'static str, String>>,
    out: &mut Vec<PlaceChange>,
) {
    for (name, o) in old {
        match new.get(name) {
            None => out.push(PlaceChange {
                change: Change::Removed,
                kind: kind.into(),
                name: name.clone(),
                fields: Vec::new(),
            }),
            Some(n) => {
                let fields: Vec<String> = o
                    .iter()
                    .filter(|(k, v)| n.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{k}: {v} -> {}", n.get(k).cloned().unwrap_or_default()))
                    .collect();
                if !fields.is_empty() {
                    out.push(PlaceChange {
                        change: Change::Changed,
                        kind: kind.into(),
                        name: name.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        out.push(PlaceChange {
            change: Change::Added,
            kind: kind.into(),
            name: name.clone(),
            fields: Vec::new(),
        });
    }
}

/// Zones, then devices, added, removed or changed, by name.
pub(crate) fn diff(old: &Policy, new: &Policy) -> Vec<PlaceChange> {
    let mut out = Vec::new();
    compare("zone", &zone_props(old), &zone_props(new), &mut out);
    compare("device", &device_props(old), &device_props(new), &mut out);
    out.sort_by(|a, b| a.kind.cmp(&b.kind).reverse().then(a.name.cmp(&b.name)));
    out
}
