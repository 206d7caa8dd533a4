//! L0309 `blast-radius`: a compromise of one zone reaches more than N
//! modality zones (N is `blast-radius` in `zonal.toml`, default 3).
//!
//! Reach is transitive over permitted flows (pivot services apply). One
//! pass over the strongly connected components of the zone graph computes
//! every zone's reach at once (FDA multi-patient harm view).

use zonal_diagnostics::Severity;

use crate::ctx::{Ctx, zones};
use crate::graph::PathOptions;
use crate::registry::LintInfo;

pub(crate) const INFO: LintInfo = LintInfo {
    code: "L0309",
    name: "blast-radius",
    severity: Severity::Medium,
    summary: "one compromised zone reaches too many modality zones",
    doc: lint_doc!("L0309"),
};

pub(crate) fn run(cx: &mut Ctx<'_, '_>) {
    let an = cx.an();
    let p = cx.policy;
    let modality: Vec<_> = p
        .zones
        .iter()
        .filter(|z| zones::is_modality(z))
        .map(|z| z.id)
        .collect();
    if modality.len() <= cx.config.blast_radius {
        return;
    }
    let mut bit_of_zone = vec![None; p.zones.len()];
    for (i, z) in modality.iter().enumerate() {
        bit_of_zone[z.index()] = Some(i as u32);
    }
    let bit_of: Vec<Option<u32>> = an
        .atoms
        .iter()
        .map(|a| a.zone.and_then(|z| bit_of_zone[z.index()]))
        .collect();
    let reach = cx
        .graph
        .reach_bits(&bit_of, modality.len(), cx.config.pivot_services.as_ref());
    let words = modality.len().div_ceil(64).max(1);
    let mut search = crate::graph::Reach::new(cx.graph);
    for z in &p.zones {
        let mut bits = vec![0u64; words];
        for a in &an.zone_atoms[z.id.index()] {
            for (w, v) in bits.iter_mut().zip(&reach[*a as usize]) {
                *w |= v;
            }
        }
        if let Some(b) = bit_of_zone[z.id.index()] {
            bits[b as usize / 64] &= !(1u64 << (b % 64));
        }
        let count: usize = bits.iter().map(|w| w.count_ones() as usize).sum();
        if count <= cx.config.blast_radius {
            continue;
        }
        let reached: Vec<&str> = modality
            .iter()
            .enumerate()
            .filter(|(i, _)| bits[i / 64] & (1u64 << (i % 64)) != 0)
            .map(|(_, m)| p.zone(*m).name.as_str())
            .collect();
        let mut list = reached
            .iter()
            .take(10)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if reached.len() > 10 {
            list.push_str(&format!(" and {} more", reached.len() - 10));
        }
        let mut d = cx
            .diag(
                &INFO,
                format!(
                    "a compromise of zone `{}` reaches {count} modality zones (more than {})",
                    z.name, cx.config.blast_radius
                ),
                z.span,
                "blast radius",
            )
            .with_note(format!("reached modality zones: {list}"));
        // Witness: a shortest path to the nearest reached modality zone.
        let targets: Vec<u32> = modality
            .iter()
            .enumerate()
            .filter(|(i, _)| bits[i / 64] & (1u64 << (i % 64)) != 0)
            .flat_map(|(_, m)| an.zone_atoms[m.index()].iter().copied())
            .collect();
        let opts = PathOptions {
            pivots: cx.config.pivot_services.as_ref(),
            last_hop: None,
        };
        if let Some(hops) =
            cx.graph
                .path_atoms_with(&mut search, &an.zone_atoms[z.id.index()], &targets, &opts)
        {
            d = cx.with_path(d, &hops);
        }
        let d = d.with_help("split the flows so that no single zone can reach many modality zones (micro-segment by modality)");
        cx.push(d);
    }
}
