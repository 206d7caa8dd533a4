//! L0103 `unused-device`: a device that no enforced rule lets send or receive.
//!
//! Devices of zones that are unused altogether are reported once, through
//! `unused-zone`.

use zonal_diagnostics::Severity;

use crate::ctx::Ctx;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0103",
    name: "unused-device",
    severity: Severity::Info,
    summary: "device that is the source or destination of no enforced rule",
    doc: lint_doc!("L0103"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    let zones_used = super::unused_zone::used_zones(cx);
    let mut dst_used = vec![false; an.n_dst_classes()];
    let mut src_used = vec![false; an.n_src_classes()];
    if an.default_cell.is_some() {
        // An `any -> any` rule matches every device.
        return;
    }
    for (s, d) in &an.cell_keys {
        src_used[*s as usize] = true;
        dst_used[*d as usize] = true;
    }
    for dev in &cx.policy.devices {
        if !zones_used[dev.zone.index()] {
            continue;
        }
        let Some(a) = an.device_atom[dev.id.index()] else {
            continue;
        };
        if src_used[an.src_class[a as usize] as usize]
            || dst_used[an.dst_class[a as usize] as usize]
        {
            continue;
        }
        let addr = dev
            .addrs
            .first()
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let d = cx
            .diag(
                &INFO,
                format!(
                    "device `{}` is not the source or destination of any enforced rule",
                    dev.name
                ),
                dev.span,
                "defined here",
            )
            .with_note(format!(
                "witness: every connection to or from `{}` ({addr}) is denied by default",
                dev.name
            ))
            .with_help("write the flows the device needs, or remove it if it is decommissioned");
        cx.push(d);
    }
}
