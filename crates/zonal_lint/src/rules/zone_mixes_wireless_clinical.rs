//! L0105 `zone-mixes-wireless-clinical`: a zone that mixes guest or wireless with clinical devices.
//!
//! Flagged: a guest or wireless zone holding a clinical device (a modality,
//! PACS, RIS, …), and a clinical zone holding a `wireless` device. One
//! compromised laptop on the same segment reaches the clinical device
//! without crossing any firewall (IEC 62443-3-2 ZCR 3.2–3.6; NHS imaging
//! pattern: wireless separated from clinical).

use zonal_diagnostics::Severity;

use crate::ctx::{CLINICAL_DEVICE_KINDS, Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0105",
    name: "zone-mixes-wireless-clinical",
    severity: Severity::High,
    summary: "zone that mixes guest or wireless with clinical devices",
    doc: lint_doc!("L0105"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let p = cx.policy;
    for z in &p.zones {
        let guesty = zones::is_guest_or_wireless(z);
        let clinical_zone = zones::is_clinical(z);
        for dev in z.devices.iter().map(|d| p.device(*d)) {
            let clinical_dev = dev
                .kind
                .as_deref()
                .is_some_and(|k| CLINICAL_DEVICE_KINDS.contains(&k));
            let (message, note) = if guesty && clinical_dev {
                (
                    format!(
                        "guest or wireless zone `{}` holds clinical device `{}`",
                        z.name, dev.name
                    ),
                    format!(
                        "witness: `{}` (kind `{}`) shares a segment with the zone's untrusted clients; traffic between them crosses no firewall",
                        dev.name,
                        dev.kind.as_deref().unwrap_or("?")
                    ),
                )
            } else if clinical_zone && !guesty && dev.wireless {
                (
                    format!(
                        "clinical zone `{}` holds wireless device `{}`",
                        z.name, dev.name
                    ),
                    format!(
                        "witness: wireless device `{}` shares the clinical segment of `{}`",
                        dev.name, z.name
                    ),
                )
            } else {
                continue;
            };
            let d = cx
                .diag(&INFO, message, dev.span, "device declared here")
                .with_secondary(z.span, "zone declared here")
                .with_note(note)
                .with_help(
                    "move the device to a zone of its own trust level and write the flows it needs",
                );
            cx.push(d);
        }
    }
}
