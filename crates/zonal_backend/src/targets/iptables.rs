//! iptables renderer (placeholder until it is written).

use zonal_diagnostics::{Diagnostics, SourceDb};

use crate::{Artifact, Request, Target};

/// Embedded templates.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[("main.j2", include_str!("../../../../templates/iptables/main.j2"))];

/// Renders the target.
pub(crate) fn render(req: &Request<'_>, _db: &mut SourceDb) -> Result<Vec<Artifact>, Diagnostics> {
    Err(super::not_available(Target::Iptables, req))
}

/// Checks what cannot be rendered safely.
pub(crate) fn check(_req: &Request<'_>) -> Diagnostics {
    Diagnostics::new()
}
