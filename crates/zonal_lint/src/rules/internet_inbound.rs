//! L0303 `internet-inbound`: an external zone can open connections into an
//! internal zone other than a DMZ.
//!
//! CISA CPG 2.W, NIST SP 800-82 §5.8: traffic from the internet terminates
//! in a DMZ. Reported on each allow rule that permits it.
//!
//! An internal vendor / remote-access zone (kind or tag `vendor` or
//! `remote-access`, not external) counts as a DMZ: it is the brokered
//! supplier DMZ that `vendor-access-not-brokered` (L0307) prescribes, where
//! vendor sessions from the internet land on a jump host before anything
//! clinical is reached. The two lints agree: L0307 asks for that zone and
//! L0303 accepts inbound connections into it.

use zonal_diagnostics::Severity;

use crate::ctx::{Ctx, zones};
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0303",
    name: "internet-inbound",
    severity: Severity::Critical,
    summary: "external zone can reach an internal zone other than a DMZ",
    doc: lint_doc!("L0303"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let src = cx.zone_atoms_where(|z| z.external);
    let dst = cx.zone_atoms_where(|z| !z.external && !zones::is_dmz(z) && !zones::is_vendor(z));
    for f in cx.direct_flows(&src, &dst, None) {
        let r = cx.policy.rule(f.rule);
        let (from, to) = (cx.atom_zone(f.src), cx.atom_zone(f.dst));
        let d = cx
            .diag(
                &INFO,
                format!(
                    "allow rule `{}` lets external zone `{}` open connections into internal zone `{}`",
                    r.name,
                    from.map(|z| z.name.as_str()).unwrap_or("?"),
                    to.map(|z| z.name.as_str()).unwrap_or("?")
                ),
                r.span,
                "inbound from the internet",
            )
            .with_note(cx.permitted_note(&f))
            .with_help("terminate inbound connections in a zone of kind `dmz` (or, for supplier sessions, a vendor zone with a jump host), or make the flow outbound-initiated");
        cx.push(d);
    }
}
