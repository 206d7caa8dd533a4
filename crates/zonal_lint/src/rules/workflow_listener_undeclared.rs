//! L0503 `workflow-listener-undeclared`: a `storage-commitment` or `c-move`
//! workflow whose reverse leg goes to a device that declares no DICOM
//! listener.
//!
//! The reverse leg (archive → device) is opened on the workflow's services
//! at their default ports — `dicom` is TCP 104 — because nothing says where
//! the device listens. Port 104 on the modality is then open to the archive
//! whether or not the modality listens there (and if it listens elsewhere,
//! the results never arrive). Declaring `listens dicom` (or `listens dicom
//! on PORT`) states the port, and the workflow follows it.

use std::collections::BTreeSet;

use zonal_diagnostics::Severity;

use crate::analysis::AtomKind;
use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0503",
    name: "workflow-listener-undeclared",
    severity: Severity::Medium,
    summary: "workflow's reverse leg opens a device that declares no DICOM listener",
    doc: lint_doc!("L0503"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    let an = cx.an();
    let dicom = super::reverse_leg_missing::dicom();
    let mut reported = BTreeSet::new();
    for (t, info) in an.terms.iter().enumerate() {
        let r = p.rule(info.rule);
        if !r.is_active() || !r.origin.is_reverse_leg() {
            continue;
        }
        for b in &info.dst {
            let AtomKind::Device(d) = an.atoms[*b as usize].kind else {
                continue;
            };
            let dev = p.device(d);
            if !super::reverse_leg_missing::dicom_listener(dev, &dicom).is_empty()
                || !reported.insert((info.rule, d))
            {
                continue;
            }
            let services = an.services(t as u32);
            // A packet of the leg that the policy really permits (a deny
            // may close it: then nothing is opened and there is nothing to
            // report).
            let target = *b;
            let Some(f) = cx.rule_witness(info.rule, &|_| true, &|a| a == target, Some(services))
            else {
                continue;
            };
            let x = f.src;
            let d = cx
                .diag(
                    &INFO,
                    format!(
                        "workflow `{}` opens `{}` to `{}` on {services}, but `{}` declares no DICOM listener",
                        r.name,
                        an.atom_name(x),
                        dev.name,
                        dev.name
                    ),
                    r.span,
                    "reverse leg on the default port",
                )
                .with_secondary(dev.span, "no `listens` here")
                .with_note(cx.permitted_note(&f))
                .with_help(format!(
                    "declare where `{}` listens: `listens dicom` (port 104) or `listens dicom on PORT`",
                    dev.name
                ));
            cx.push(d);
        }
    }
}
