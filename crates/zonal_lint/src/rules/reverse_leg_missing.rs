//! L0501 `reverse-leg-missing`: a device marked `storage-commitment` or
//! `move-destination` sends DICOM to an archive, but the archive cannot
//! open the reverse association to the device's DICOM listener.
//!
//! Storage commitment results (N-EVENT-REPORT) and C-MOVE sub-operations
//! arrive on a new association initiated by the archive (DICOM PS3.4
//! J.3.3.1.3): without the reverse leg, commitment never returns and the
//! modality keeps its images.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;
use zonal_model::service::TCP;
use zonal_model::{Action, OriginKind, ServiceSet};

use crate::analysis::{AtomId, AtomKind};
use crate::ctx::{ARCHIVE_KINDS, Ctx};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0501",
    name: "reverse-leg-missing",
    severity: Severity::High,
    summary: "storage-commitment or C-MOVE destination without its reverse leg",
    doc: lint_doc!("L0501"),
};

/// DICOM ports: 104, 11112, 2762.
pub(crate) fn dicom() -> ServiceSet {
    super::services(&[(TCP, 104, 104), (TCP, 11112, 11112), (TCP, 2762, 2762)])
}

/// Whether the atom is an archive device or in a `pacs` zone.
pub(crate) fn is_archive(cx: &Ctx<'_, '_>, a: AtomId) -> bool {
    let an = cx.an();
    match an.atoms[a as usize].kind {
        AtomKind::Device(d) => cx
            .policy
            .device(d)
            .kind
            .as_deref()
            .is_some_and(|k| ARCHIVE_KINDS.contains(&k)),
        AtomKind::Zone(z) => cx.policy.zone(z).is("pacs"),
        AtomKind::Unassigned => false,
    }
}

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let an = cx.an();
    let dicom = dicom();
    let mut flagged = vec![false; an.atoms.len()];
    for dev in p
        .devices
        .iter()
        .filter(|d| d.storage_commitment || d.move_destination)
    {
        if let Some(a) = an.device_atom[dev.id.index()] {
            flagged[a as usize] = true;
        }
    }
    // Archives each flagged device sends DICOM requests to.
    let mut archives: Vec<BTreeSet<AtomId>> = vec![BTreeSet::new(); an.atoms.len()];
    for (t, info) in an.terms.iter().enumerate() {
        if info.global || info.action != Action::Allow || !an.services(t as u32).overlaps(&dicom) {
            continue;
        }
        let origin = p.rule(info.rule).origin;
        let workflow = matches!(
            origin,
            OriginKind::StorageCommitmentRequest | OriginKind::MoveRequest
        );
        for a in info.src.iter().filter(|a| flagged[**a as usize]) {
            for b in &info.dst {
                if workflow || is_archive(cx, *b) {
                    archives[*a as usize].insert(*b);
                }
            }
        }
    }
    for dev in p
        .devices
        .iter()
        .filter(|d| d.storage_commitment || d.move_destination)
    {
        let Some(b) = an.device_atom[dev.id.index()] else {
            continue;
        };
        let listener = dev.listens.iter().fold(ServiceSet::empty(), |acc, l| {
            acc.union(&l.set.intersect(&dicom_like(&l.set, &dicom)))
        });
        let role = if dev.storage_commitment {
            "storage-commitment results"
        } else {
            "C-MOVE sub-operations"
        };
        for x in &archives[b as usize] {
            if listener.is_empty() {
                let d = cx
                    .diag(&INFO, format!("device `{}` expects {role} but declares no DICOM listener", dev.name), dev.span, "no listener")
                    .with_note(format!("witness: `{}` cannot open an association back to `{}`: no port to connect to", an.atom_name(*x), dev.name))
                    .with_help("declare the listener, e.g. `listens dicom` or `listens dicom on 11112`");
                cx.push(d);
                break;
            }
            let perm = an
                .cell_of(*x, b)
                .and_then(|c| cx.graph.cell_permitted(c))
                .cloned()
                .unwrap_or_default();
            let missing = listener.subtract(&perm);
            let Some(pk) = an.packet(*x, b, &missing) else {
                continue;
            };
            let by = an
                .cell_of(*x, b)
                .and_then(|c| an.deciding_rule(c, pk.proto, pk.selector));
            let blocked = match by {
                Some((Action::Deny, r)) => format!("is denied by `{}`", p.rule(r).name),
                _ => "matches no allow rule (default deny)".to_string(),
            };
            let d = cx
                .diag(
                    &INFO,
                    format!("device `{}` expects {role} from `{}` but the reverse leg is not permitted", dev.name, an.atom_name(*x)),
                    dev.span,
                    "reverse leg missing",
                )
                .with_note(format!("witness: {pk} ({} -> {}) {blocked}", an.atom_name(*x), dev.name))
                .with_help(format!(
                    "declare the workflow (`storage-commitment {} -> {}` or `c-move`), which adds both legs",
                    dev.name,
                    an.atom_name(*x)
                ));
            cx.push(d);
            break;
        }
    }
}

/// The part of a listener's set that is DICOM (a listener on a custom port
/// counts when the service is DICOM-like on its default port).
fn dicom_like(set: &ServiceSet, dicom: &ServiceSet) -> ServiceSet {
    if set.overlaps(dicom) {
        set.clone()
    } else {
        ServiceSet::empty()
    }
}
