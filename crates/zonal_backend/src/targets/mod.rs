//! One module per target. Each builds its view model from a [`Plan`]
//! (see `view.rs`) and renders its embedded templates.
//!
//! A target module provides:
//! - `TEMPLATES: &[(&str, &str)]`: `(file name, text)` of its templates,
//!   embedded with `include_str!` from `templates/<target>/`;
//! - `render(req, db) -> Result<Vec<Artifact>, Diagnostics>`, which
//!   refuses (with diagnostics) what cannot be rendered safely; the CLI
//!   renders every file in memory before it writes any.
//!
//! [`Plan`]: crate::view::Plan

mod asa;
mod fortigate;
mod ios;
mod iptables;
mod nftables;
mod panos;
mod pf;
mod srx;
mod vendor;

use zonal_diagnostics::{Diagnostics, SourceDb};

use crate::{Artifact, Request, Target};

/// The embedded templates of a target.
pub(crate) fn embedded(target: Target) -> &'static [(&'static str, &'static str)] {
    match target {
        Target::Nftables => nftables::TEMPLATES,
        Target::Iptables => iptables::TEMPLATES,
        Target::Pf => pf::TEMPLATES,
        Target::Ios => ios::TEMPLATES,
        Target::Asa => asa::TEMPLATES,
        Target::Srx => srx::TEMPLATES,
        Target::Panos => panos::TEMPLATES,
        Target::Fortigate => fortigate::TEMPLATES,
    }
}

/// Renders one target.
pub(crate) fn render(
    target: Target,
    req: &Request<'_>,
    db: &mut SourceDb,
) -> Result<Vec<Artifact>, Diagnostics> {
    match target {
        Target::Nftables => nftables::render(req, db),
        Target::Iptables => iptables::render(req, db),
        Target::Pf => pf::render(req, db),
        Target::Ios => ios::render(req, db),
        Target::Asa => asa::render(req, db),
        Target::Srx => srx::render(req, db),
        Target::Panos => panos::render(req, db),
        Target::Fortigate => fortigate::render(req, db),
    }
}
