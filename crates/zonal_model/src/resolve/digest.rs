//! A digest of the canonical model: the same policy gives the same digest
//! whatever the order of its items, its file layout or its formatting.

use std::fmt::Write as _;

use crate::ir::Policy;

/// 128-bit FNV-1a over a canonical text rendering of the model, as hex.
/// The text is hashed as it is written, never held in memory.
pub(crate) fn digest(p: &Policy) -> String {
    let mut text = Fnv::new();
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
        let _ = write!(
            text,
            "rule {} {} {:?} until={:?} just={:?} terms=",
            r.name,
            r.action.as_str(),
            r.origin,
            r.until.map(|d| d.to_string()),
            r.justification
        );
        for t in &r.terms {
            for pf in t.src.to_prefixes() {
                let _ = write!(text, "{pf},");
            }
            text.write_str("->").ok();
            for pf in t.dst.to_prefixes() {
                let _ = write!(text, "{pf},");
            }
            let _ = write!(text, ":{};", t.services);
        }
        text.write_str("\n").ok();
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

    text.finish()
}

/// FNV-1a, 128 bits, fed through `fmt::Write`.
struct Fnv(u128);

impl Fnv {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;

    fn new() -> Self {
        Fnv(Self::OFFSET)
    }

    fn finish(&self) -> String {
        format!("{:032x}", self.0)
    }
}

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
        Ok(())
    }
}
