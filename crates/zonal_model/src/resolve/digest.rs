//! A digest of the canonical model: the same policy gives the same digest
//! whatever the order of its items, its file layout or its formatting.

use std::fmt::Write as _;

use crate::ir::Policy;

/// A 128-bit digest of a canonical text rendering of the model, as hex.
/// The text is hashed as it is written, never held in memory.
pub(crate) fn digest(p: &Policy) -> String {
    let mut text = Hasher128::new();
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
    // Rules are the bulk of a large policy: fields are written plainly,
    // separated by U+001F, which no name or string may contain (the parser
    // rejects control characters).
    for r in &p.rules {
        for f in [
            "rule",
            r.name.as_str(),
            r.action.as_str(),
            r.origin.describe(),
            r.justification.as_deref().unwrap_or("-"),
        ] {
            text.field(f);
        }
        match r.until {
            Some(d) => {
                let _ = write!(text, "{d}");
            }
            None => text.field("-"),
        }
        // The terms follow from the endpoints and services, whose
        // definitions are hashed above, so hashing these is enough.
        for e in &r.src {
            text.field(p.endpoint_name(*e));
        }
        text.field("->");
        for e in &r.dst {
            text.field(p.endpoint_name(*e));
        }
        // Inline services are in the text; named ones are hashed above
        // (prelude services are fixed by the Zonal version in every header).
        for u in &r.services_written {
            text.field(&u.text);
        }
        text.field("\n");
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

/// A 128-bit digest made of two independent 64-bit multiply-rotate lanes
/// over 8-byte words, fed through `fmt::Write`. It identifies a model; it
/// is not a cryptographic hash. Bytes are buffered so that each word is
/// mixed once, whatever the sizes of the writes.
struct Hasher128 {
    a: u64,
    b: u64,
    buf: [u8; 8],
    len: usize,
    total: u64,
}

impl Hasher128 {
    const SEED_A: u64 = 0x243f_6a88_85a3_08d3;
    const SEED_B: u64 = 0x1319_8a2e_0370_7344;
    const MUL_A: u64 = 0x9e37_79b9_7f4a_7c15;
    const MUL_B: u64 = 0xc2b2_ae3d_27d4_eb4f;

    fn new() -> Self {
        Hasher128 {
            a: Self::SEED_A,
            b: Self::SEED_B,
            buf: [0; 8],
            len: 0,
            total: 0,
        }
    }

    /// Writes one field and the separator.
    fn field(&mut self, s: &str) {
        let _ = self.write_str(s);
        let _ = self.write_str("\u{1f}");
    }

    fn mix(&mut self, w: u64) {
        self.a = (self.a ^ w).wrapping_mul(Self::MUL_A).rotate_left(29);
        self.b = (self.b ^ w.rotate_left(17))
            .wrapping_mul(Self::MUL_B)
            .rotate_left(31);
    }

    fn finish(&mut self) -> String {
        let mut last = [0u8; 8];
        last[..self.len].copy_from_slice(&self.buf[..self.len]);
        self.mix(u64::from_le_bytes(last));
        self.mix(self.total);
        let (mut a, mut b) = (self.a, self.b);
        for _ in 0..2 {
            a = (a ^ (b >> 29)).wrapping_mul(Self::MUL_B);
            b = (b ^ (a >> 32)).wrapping_mul(Self::MUL_A);
        }
        format!("{a:016x}{b:016x}")
    }
}

impl std::fmt::Write for Hasher128 {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let mut bytes = s.as_bytes();
        self.total = self.total.wrapping_add(bytes.len() as u64);
        if self.len > 0 {
            let take = (8 - self.len).min(bytes.len());
            self.buf[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
            if self.len < 8 {
                return Ok(());
            }
            self.mix(u64::from_le_bytes(self.buf));
            self.len = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.len = rest.len();
        Ok(())
    }
}
