//! L0401 `cleartext-across-boundary`: cleartext DICOM or HL7 permitted
//! between zones of different trust to a device that also listens on a TLS
//! service (e.g. `dicom-tls`).
//!
//! HHS HPH CPG (encryption in motion), DICOM PS3.15 secure transport: when
//! the listener offers TLS, flows that cross a trust boundary should use it.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;
use zonal_model::{Action, ServiceSet};

use crate::analysis::AtomId;
use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0401",
    name: "cleartext-across-boundary",
    severity: Severity::Medium,
    summary: "cleartext DICOM or HL7 across a trust boundary where TLS is available",
    doc: lint_doc!("L0401"),
};

/// Cleartext services, with the word their TLS counterpart's name contains.
const CLEARTEXT: &[(&str, &str)] = &[
    ("dicom", "dicom"),
    ("dicom-alt", "dicom"),
    ("hl7", "hl7"),
    ("hl7-res", "hl7"),
];

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let an = cx.an();
    // Devices with a cleartext DICOM/HL7 listener and a TLS listener.
    let mut clear_of: Vec<Option<(ServiceSet, String)>> = vec![None; an.atoms.len()];
    let mut any = false;
    for dev in &p.devices {
        let Some(a) = an.device_atom[dev.id.index()] else {
            continue;
        };
        let mut clear = ServiceSet::empty();
        let mut tls = None;
        for l in &dev.listens {
            let name = &p.service(l.service).name;
            let Some((_, family)) = CLEARTEXT.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let secure = dev
                .listens
                .iter()
                .map(|m| &p.service(m.service).name)
                .find(|m| m.contains(family) && m.contains("tls"));
            if let Some(secure) = secure {
                clear = clear.union(&l.set);
                tls.get_or_insert_with(|| secure.clone());
            }
        }
        if let Some(t) = tls {
            clear_of[a as usize] = Some((clear, t));
            any = true;
        }
    }
    if !any {
        return;
    }
    let mut reported = BTreeSet::new();
    for (t, info) in an.terms.iter().enumerate() {
        if info.global || info.action != Action::Allow || reported.contains(&info.rule) {
            continue;
        }
        for b in &info.dst {
            let Some((clear, tls)) = &clear_of[*b as usize] else {
                continue;
            };
            let Some(bz) = cx.atom_zone(*b) else { continue };
            let s = an.services(t as u32).intersect(clear);
            if s.is_empty() {
                continue;
            }
            let other = |a: AtomId| {
                cx.atom_zone(a)
                    .is_some_and(|z| z.trust.is_some() && bz.trust.is_some() && z.trust != bz.trust)
            };
            let Some(a) = info.src.iter().copied().find(|a| other(*a)) else {
                continue;
            };
            let Some(cell) = an.cell_of(a, *b) else {
                continue;
            };
            let Some(perm) = cx.graph.cell_permitted(cell) else {
                continue;
            };
            let Some(packet) = an.packet(a, *b, &perm.intersect(&s)) else {
                continue;
            };
            let az = cx
                .atom_zone(a)
                .map(|z| (z.name.clone(), z.trust))
                .unwrap_or_default();
            let r = p.rule(info.rule);
            let f = crate::ctx::Flow {
                rule: info.rule,
                src: a,
                dst: *b,
                packet,
            };
            let d = cx
                .diag(
                    &INFO,
                    format!(
                        "allow rule `{}` carries cleartext DICOM/HL7 from `{}` (trust {}) to `{}` (trust {}) although `{}` listens on `{tls}`",
                        r.name,
                        az.0,
                        az.1.map(|t| t.as_str()).unwrap_or("?"),
                        an.atom_name(*b),
                        bz.trust.map(|t| t.as_str()).unwrap_or("?"),
                        an.atom_name(*b)
                    ),
                    r.span,
                    "cleartext",
                )
                .with_note(cx.permitted_note(&f))
                .with_help(format!("use `{tls}` for flows that cross a trust boundary"));
            cx.push(d);
            reported.insert(info.rule);
            break;
        }
    }
}
