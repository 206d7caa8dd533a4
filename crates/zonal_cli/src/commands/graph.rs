//! `zonal graph PATH`: the zones and flows as DOT, Mermaid or SVG
//! (`zonal_review::graph`); this module reads the policy and writes.

use zonal_review::graph::{self, Options};

use crate::ExitStatus;
use crate::args::{GraphArgs, GraphFormat};
use crate::printer;

pub(crate) fn run(args: &GraphArgs) -> anyhow::Result<ExitStatus> {
    let loaded = super::load(&args.path, &args.policy)?;
    let policy = match &loaded.policy {
        Some(p) if !loaded.diagnostics.has_input_errors() => p,
        _ => {
            super::print_diagnostics(&loaded.db, &loaded.diagnostics);
            printer::error("error: the policy has errors; nothing was drawn (see `zonal check`)");
            return Ok(ExitStatus::Error);
        }
    };
    let opts = Options {
        devices: args.devices,
        focus: args.focus.clone(),
    };
    let text = match args.format {
        GraphFormat::Dot => graph::dot(policy, &opts).map_err(|e| anyhow::anyhow!("{e}"))?,
        GraphFormat::Mermaid => {
            graph::mermaid(policy, &opts).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        GraphFormat::Svg => graph::svg(policy, &opts).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    super::print_or_write(args.output.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}
