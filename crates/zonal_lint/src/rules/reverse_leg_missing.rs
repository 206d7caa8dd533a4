//! L0501 `reverse-leg-missing`: a device marked `storage-commitment` or
//! `move-destination` sends DICOM to an archive, but the archive cannot
//! open the reverse association to the device's DICOM listener.
//!
//! Storage commitment results (N-EVENT-REPORT) and C-MOVE sub-operations
//! arrive on a new association initiated by the archive (DICOM PS3.4
//! J.3.3.1.3): without the reverse leg, commitment never returns and the
//! modality keeps its images.
//!
//! Without a workflow, the reverse leg is there when the archive may
//! reach one of the device's DICOM listener ports (a device listening on
//! `dicom` and `dicom-tls` needs only one of them), and the help is the
//! workflow declaration. When a `storage-commitment` or `c-move` workflow
//! already declares the leg, its own services toward the device's listener
//! are what counts (a `: dicom-tls` workflow needs no cleartext 104):
//! - if they miss every DICOM listener of the device (a TLS workflow
//!   toward a device listening on 104 only), one finding on the workflow
//!   names the mismatch (`reverse-leg-too-broad` stays silent on it);
//! - if a deny rule blocks them, the finding names the deny rule, and the
//!   help is to exempt the leg, never to declare the workflow again.
//!
//! A device that declares no DICOM listener is reported here when no
//! workflow covers it; a workflow toward it is reported by
//! `workflow-listener-undeclared` (L0503).

use std::collections::{BTreeMap, BTreeSet};

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

#[expect(
    clippy::too_many_lines,
    reason = "one pass over the devices with the three reverse-leg cases (no listener, workflow, plain flows) side by side"
)]
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
    let reverse = reverse_legs_by_dst(cx);
    for dev in p
        .devices
        .iter()
        .filter(|d| d.storage_commitment || d.move_destination)
    {
        let Some(b) = an.device_atom[dev.id.index()] else {
            continue;
        };
        let listener = dicom_listener(dev, &dicom);
        let role = if dev.storage_commitment {
            "storage-commitment results"
        } else {
            "C-MOVE sub-operations"
        };
        for x in &archives[b as usize] {
            let workflow = workflow_reverse(cx, &reverse, *x, b);
            if listener.is_empty() {
                if workflow.is_some() {
                    // The workflow opens the default port: L0503 reports it
                    // on the workflow's line.
                    break;
                }
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
            if let Some((w, services)) = &workflow {
                let w = p.rule(*w);
                let want = services.intersect(&listener);
                if want.is_empty() {
                    // The workflow's own reverse leg misses the listener
                    // (e.g. `: dicom-tls` toward a device listening on 104).
                    let Some(pk) = an.packet(*x, b, services) else {
                        continue;
                    };
                    let d = cx
                        .diag(
                            &INFO,
                            format!("the reverse leg of workflow `{}` reaches `{}` on {services}, where it has no DICOM listener ({listener})", w.name, dev.name),
                            w.span,
                            "reverse leg misses the listener",
                        )
                        .with_secondary(dev.span, "listeners declared here")
                        .with_note(format!("witness: {pk} ({} -> {}) finds no listener: `{}` never receives its {role}", an.atom_name(*x), dev.name, dev.name))
                        .with_help(format!("make the workflow's services and the listener agree: declare the listener the workflow uses on `{}`, or name the listener's service in the workflow", dev.name));
                    cx.push(d);
                    break;
                }
                if want.overlaps(&perm) {
                    continue;
                }
                let Some(pk) = an.packet(*x, b, &want) else {
                    continue;
                };
                let d = cx
                    .diag(
                        &INFO,
                        format!("device `{}` expects {role} from `{}` but the reverse leg of workflow `{}` is denied", dev.name, an.atom_name(*x), w.name),
                        w.span,
                        "reverse leg denied",
                    )
                    .with_secondary(dev.span, "device declared here")
                    .with_note(format!("witness: {pk} ({} -> {}) {}", an.atom_name(*x), dev.name, blocked_by(cx, *x, b, &pk)))
                    .with_help("exempt the workflow's reverse leg from the deny rule (narrow it, or state the exception before it in a separate rule set)");
                cx.push(d);
                break;
            }
            // Any DICOM listener port the archive may reach will do.
            if listener.overlaps(&perm) {
                continue;
            }
            let Some(pk) = an.packet(*x, b, &listener) else {
                continue;
            };
            let d = cx
                .diag(
                    &INFO,
                    format!(
                        "device `{}` expects {role} from `{}` but the reverse leg is not permitted",
                        dev.name,
                        an.atom_name(*x)
                    ),
                    dev.span,
                    "reverse leg missing",
                )
                .with_note(format!(
                    "witness: {pk} ({} -> {}) {}",
                    an.atom_name(*x),
                    dev.name,
                    blocked_by(cx, *x, b, &pk)
                ))
                .with_help(format!(
                    "declare the workflow (`{} {} -> {}`), which adds both legs",
                    if dev.storage_commitment {
                        "storage-commitment"
                    } else {
                        "c-move"
                    },
                    dev.name,
                    an.atom_name(*x)
                ));
            cx.push(d);
            break;
        }
    }
}

/// The DICOM part of a device's listeners.
pub(crate) fn dicom_listener(dev: &zonal_model::Device, dicom: &ServiceSet) -> ServiceSet {
    dev.listens.iter().fold(ServiceSet::empty(), |acc, l| {
        acc.union(&l.set.intersect(&dicom_like(&l.set, dicom)))
    })
}

/// The terms of active workflow reverse legs, by destination atom, in
/// term order (built once per run: looking a pair up scans only the legs
/// toward its destination, not every term).
fn reverse_legs_by_dst(cx: &Ctx<'_, '_>) -> BTreeMap<AtomId, Vec<u32>> {
    let an = cx.an();
    let mut by_dst: BTreeMap<AtomId, Vec<u32>> = BTreeMap::new();
    for (t, info) in an.terms.iter().enumerate() {
        let r = cx.policy.rule(info.rule);
        if r.is_active() && r.origin.is_reverse_leg() {
            for b in &info.dst {
                by_dst.entry(*b).or_default().push(t as u32);
            }
        }
    }
    by_dst
}

/// The first active workflow whose reverse leg goes from `x` to `b`, with
/// the services it opens toward `b` (after `b`'s listener ports).
/// `reverse` is [`reverse_legs_by_dst`].
fn workflow_reverse(
    cx: &Ctx<'_, '_>,
    reverse: &BTreeMap<AtomId, Vec<u32>>,
    x: AtomId,
    b: AtomId,
) -> Option<(zonal_model::RuleId, ServiceSet)> {
    let an = cx.an();
    let mut found: Option<(zonal_model::RuleId, ServiceSet)> = None;
    for &t in reverse.get(&b).map_or(&[][..], Vec::as_slice) {
        let info = &an.terms[t as usize];
        if found.as_ref().is_some_and(|f| f.0 != info.rule) || !info.src.contains(&x) {
            continue;
        }
        let s = an.services(t);
        found = Some(match found {
            Some((id, acc)) => (id, acc.union(s)),
            None => (info.rule, s.clone()),
        });
    }
    found
}

/// "is denied by `rule`" or "matches no allow rule (default deny)".
fn blocked_by(cx: &Ctx<'_, '_>, x: AtomId, b: AtomId, pk: &zonal_model::Packet) -> String {
    let an = cx.an();
    match an
        .cell_of(x, b)
        .and_then(|c| an.deciding_rule(c, pk.proto, pk.selector))
    {
        Some((Action::Deny, r)) => format!("is denied by `{}`", cx.policy.rule(r).name),
        _ => "matches no allow rule (default deny)".to_string(),
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
