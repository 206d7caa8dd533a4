//! A digest of the canonical model: the same policy gives the same digest
//! whatever the order of its items, its file layout or its formatting.

use std::fmt::Write as _;

use crate::ir::{
    Device, Group, Invariant, Listener, Policy, Rule, ServiceDef, ServiceUse, Suppression, Zone,
};

// Every struct is destructured without `..`, so that a field added to the
// model does not compile until the digest decides about it. Fields left
// out are bound as `_field`, with the reason.

/// A 128-bit digest of a canonical text rendering of the model, as hex.
/// The text is hashed as it is written, never held in memory.
pub(crate) fn digest(p: &Policy) -> String {
    let Policy {
        name,
        owner,
        description,
        // Where the header is written is layout.
        header_span: _header_span,
        // The day of the run, not part of the policy (it decides only
        // `Rule::expired`, left out below).
        today: _today,
        zones,
        devices,
        services,
        groups,
        rules,
        invariants,
        suppressions,
        // The digest itself.
        digest: _digest,
    } = p;
    let mut text = Hasher128::new();
    let _ = writeln!(
        text,
        "policy {name} owner={owner:?} description={description:?}"
    );
    for z in zones {
        zone(&mut text, p, z);
    }
    for d in devices {
        device(&mut text, p, d);
    }
    for s in services {
        service(&mut text, s);
    }
    for g in groups {
        group(&mut text, p, g);
    }
    for r in rules {
        rule(&mut text, p, r);
    }
    for i in invariants {
        invariant(&mut text, p, i);
    }
    let mut suppressions: Vec<String> = suppressions.iter().map(suppression).collect();
    suppressions.sort();
    for s in suppressions {
        let _ = writeln!(text, "{s}");
    }

    text.finish()
}

fn zone(text: &mut Hasher128, p: &Policy, z: &Zone) {
    let Zone {
        // Ids follow from the names: zones are sorted by name.
        id: _id,
        name,
        // Spans are layout.
        span: _span,
        decl_span: _decl_span,
        networks,
        vlan,
        trust,
        kind,
        tags,
        description,
        legacy,
        external,
        parent,
        // Follow from each device's zone, hashed with the device.
        devices: _devices,
        // Follow from the networks and the nesting, hashed here.
        addrs: _addrs,
    } = z;
    let nets: Vec<String> = networks.iter().map(ToString::to_string).collect();
    let parent_name = parent.map(|id| p.zone(id).name.clone());
    let _ = writeln!(
        text,
        "zone {name} nets={nets:?} vlan={vlan:?} trust={trust:?} kind={kind:?} tags={tags:?} legacy={legacy} external={external} parent={parent_name:?} desc={description:?}"
    );
}

fn device(text: &mut Hasher128, p: &Policy, d: &Device) {
    let Device {
        // Ids follow from the names: devices are sorted by name.
        id: _id,
        name,
        // Spans are layout.
        span: _span,
        decl_span: _decl_span,
        zone,
        addresses,
        // Follow from `addresses`, hashed here.
        addrs: _addrs,
        kind,
        vendor,
        model,
        os,
        description,
        legacy,
        wireless,
        storage_commitment,
        move_destination,
        ae,
        listens,
    } = d;
    let addrs: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    let listens: Vec<String> = listens.iter().map(|l| listener(p, l)).collect();
    let _ = writeln!(
        text,
        "device {name} zone={} addrs={addrs:?} kind={kind:?} vendor={vendor:?} model={model:?} os={os:?} legacy={legacy} wireless={wireless} stgcmt={storage_commitment} movedest={move_destination} ae={ae:?} listens={listens:?} desc={description:?}",
        p.zone(*zone).name,
    );
}

fn listener(p: &Policy, l: &Listener) -> String {
    let Listener {
        service,
        port,
        // Follows from the service and the port, both hashed.
        set: _set,
        // Spans are layout.
        span: _span,
    } = l;
    format!("{}:{port:?}", p.service(*service).name)
}

fn service(text: &mut Hasher128, s: &ServiceDef) {
    let ServiceDef {
        // Ids follow from the names: services are sorted by name.
        id: _id,
        name,
        // Spans are layout.
        span: _span,
        prelude,
        set,
        // Which services the definition names: only lints read it; what
        // they cover is in `set`.
        refs: _refs,
        // Part of `set`; how a listener move changes it shows in the
        // rules' terms, which are hashed.
        own: _own,
        // Not hashed, unlike the descriptions of zones and devices; adding
        // it would change every digest.
        description: _description,
    } = s;
    // Prelude services are fixed by the Zonal version in every header.
    if !prelude {
        let _ = writeln!(text, "service {name} = {set}");
    }
}

fn group(text: &mut Hasher128, p: &Policy, g: &Group) {
    let Group {
        // Ids follow from the names: groups are sorted by name.
        id: _id,
        name,
        // Spans are layout.
        span: _span,
        members,
        // Not hashed, unlike the descriptions of zones and devices; adding
        // it would change every digest.
        description: _description,
    } = g;
    let m: Vec<&str> = members.iter().map(|e| p.endpoint_name(*e)).collect();
    let _ = writeln!(text, "group {name} = {m:?}");
}

/// Rules are the bulk of a large policy: fields are written plainly,
/// separated by U+001F, which no name or string may contain (the parser
/// rejects control characters).
fn rule(text: &mut Hasher128, p: &Policy, r: &Rule) {
    let Rule {
        // Ids follow from the canonical order, which follows from the
        // fields hashed here.
        id: _id,
        action,
        origin,
        // Spans are layout.
        span: _span,
        src,
        dst,
        // The names as written; the endpoints they stand for are hashed.
        src_written: _src_written,
        dst_written: _dst_written,
        services_written,
        // The terms follow from the endpoints and services, whose
        // definitions are hashed, so hashing those is enough.
        terms: _terms,
        until,
        // Follows from `until` and the day of the run.
        expired: _expired,
        justification,
        name,
        // The name follows from it and is hashed.
        given_name: _given_name,
    } = r;
    for f in [
        "rule",
        name.as_str(),
        action.as_str(),
        origin.describe(),
        justification.as_deref().unwrap_or("-"),
    ] {
        text.field(f);
    }
    match until {
        Some(d) => {
            let _ = write!(text, "{d}");
        }
        None => text.field("-"),
    }
    for e in src {
        text.field(p.endpoint_name(*e));
    }
    text.field("->");
    for e in dst {
        text.field(p.endpoint_name(*e));
    }
    for u in services_written {
        let ServiceUse {
            // In the text.
            name: _name,
            text: written,
            // Inline services are in the text; named ones are hashed with
            // their definitions (prelude services are fixed by the Zonal
            // version in every header).
            set: _set,
            // Spans are layout.
            span: _span,
        } = u;
        text.field(written);
    }
    text.field("\n");
}

fn invariant(text: &mut Hasher128, p: &Policy, i: &Invariant) {
    let Invariant {
        kind,
        // Spans are layout.
        span: _span,
        src,
        dst,
        // The names as written; the endpoints they stand for are hashed.
        src_written: _src_written,
        dst_written: _dst_written,
        services,
        // Follow from the endpoints and services, hashed here.
        terms: _terms,
        // Whether services were written; what they are is hashed.
        services_written: _services_written,
        // The names as written; what they cover is hashed.
        service_names: _service_names,
        // The same, with what each covers (hashed through `services`).
        service_uses: _service_uses,
        // Not hashed, unlike the justifications of rules; adding it would
        // change every digest.
        justification: _justification,
    } = i;
    let s: Vec<&str> = src.iter().map(|e| p.endpoint_name(*e)).collect();
    let d: Vec<&str> = dst.iter().map(|e| p.endpoint_name(*e)).collect();
    let _ = writeln!(text, "invariant {kind:?} {s:?} {d:?} {services}");
}

/// One line per suppression; the lines are sorted before hashing.
fn suppression(s: &Suppression) -> String {
    let Suppression {
        lint,
        // Spans are layout.
        lint_span: _lint_span,
        reason,
        until,
        span: _span,
        // Which item a suppression applies to is not hashed; adding it
        // would change every digest.
        target: _target,
    } = s;
    format!("suppress {lint} {reason:?} {until:?}")
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
