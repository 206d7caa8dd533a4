//! L0103 `unused-device`: a device that no enforced rule lets send or receive.
//!
//! A device is used when some permitted flow (an active allow rule, less
//! the denies) has it as source or destination, or when an active deny
//! rule names it or its zone (a deliberate "nothing to this device"). A
//! deny rule uses no device through `any`: `deny any -> any : telnet` does
//! not make every device used.
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
    // Only a permitted flow uses a device: a deny rule (even `deny any ->
    // any : telnet`) lets nothing through.
    if an
        .default_cell
        .is_some_and(|c| cx.graph.cell_permitted(c).is_some())
    {
        // An `any -> any` allow rule matches every device.
        return;
    }
    for (cell, (s, d)) in an.cell_keys.iter().enumerate() {
        if cx.graph.cell_permitted(cell).is_some() {
            src_used[*s as usize] = true;
            dst_used[*d as usize] = true;
        }
    }
    // Devices and zones that an active deny rule names.
    let mut named_dev = vec![false; cx.policy.devices.len()];
    let mut named_zone = vec![false; cx.policy.zones.len()];
    for r in cx
        .policy
        .rules
        .iter()
        .filter(|r| r.is_active() && r.action == zonal_model::Action::Deny)
    {
        for e in r.src.iter().chain(&r.dst) {
            match e {
                zonal_model::Endpoint::Device(d) => named_dev[d.index()] = true,
                zonal_model::Endpoint::Zone(z) => named_zone[z.index()] = true,
                zonal_model::Endpoint::Any => {}
            }
        }
    }
    for dev in &cx.policy.devices {
        if !zones_used[dev.zone.index()]
            || named_dev[dev.id.index()]
            || named_zone[dev.zone.index()]
        {
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
