//! A digest of the canonical model: the same policy gives the same digest
//! whatever the order of its items, its file layout or its formatting.

use std::fmt::Write as _;

use crate::ir::Policy;

/// 128-bit FNV-1a over a canonical text rendering of the model, as hex.
pub(crate) fn digest(p: &Policy) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "policy {} owner={:?} description={:?}",
        p.name, p.owner, p.description
    );
    for z in &p.zones {
        let nets: Vec<String> = z.networks.iter().map(ToString::to_string).collect();
        let parent = z.parent.map(|id| p.zone(id).name.clone());
        let _ = writeln!(
            text,
            "zone {} nets={nets:?} vlan={:?} trust={:?} kind={:?} tags={:?} legacy={} external={} parent={parent:?} desc={:?}",
            z.name, z.vlan, z.trust, z.kind, z.tags, z.legacy, z.external, z.description
        );
    }
    for d in &p.devices {
        let addrs: Vec<String> = d.addresses.iter().map(ToString::to_string).collect();
        let listens: Vec<String> = d
            .listens
            .iter()
            .map(|l| format!("{}:{:?}", p.service(l.service).name, l.port))
            .collect();
        let _ = writeln!(
            text,
            "device {} zone={} addrs={addrs:?} kind={:?} vendor={:?} model={:?} os={:?} legacy={} wireless={} stgcmt={} movedest={} ae={:?} listens={listens:?} desc={:?}",
            d.name,
            p.zone(d.zone).name,
            d.kind,
            d.vendor,
            d.model,
            d.os,
            d.legacy,
            d.wireless,
            d.storage_commitment,
            d.move_destination,
            d.ae,
            d.description
        );
    }
    for s in p.services.iter().filter(|s| !s.prelude) {
        let _ = writeln!(text, "service {} = {}", s.name, s.set);
    }
    for g in &p.groups {
        let m: Vec<&str> = g.members.iter().map(|e| p.endpoint_name(*e)).collect();
        let _ = writeln!(text, "group {} = {m:?}", g.name);
    }
    for r in &p.rules {
        let terms: Vec<String> = r
            .terms
            .iter()
            .map(|t| {
                let s: Vec<String> = t
                    .src
                    .to_prefixes()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let d: Vec<String> = t
                    .dst
                    .to_prefixes()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                format!("{s:?}->{d:?}:{}", t.services)
            })
            .collect();
        let _ = writeln!(
            text,
            "rule {} {} {:?} until={:?} just={:?} terms={terms:?}",
            r.name,
            r.action.as_str(),
            r.origin,
            r.until.map(|d| d.to_string()),
            r.justification
        );
    }
    for i in &p.invariants {
        let s: Vec<&str> = i.src.iter().map(|e| p.endpoint_name(*e)).collect();
        let d: Vec<&str> = i.dst.iter().map(|e| p.endpoint_name(*e)).collect();
        let _ = writeln!(text, "invariant {:?} {s:?} {d:?} {}", i.kind, i.services);
    }
    let mut suppressions: Vec<String> = p
        .suppressions
        .iter()
        .map(|s| format!("suppress {} {:?} {:?}", s.lint, s.reason, s.until))
        .collect();
    suppressions.sort();
    for s in suppressions {
        let _ = writeln!(text, "{s}");
    }
    fnv128(text.as_bytes())
}

fn fnv128(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;
    let mut h = OFFSET;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}
