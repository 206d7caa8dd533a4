//! `zonal drift PATH --target T [--ruleset FILE] [--strict]`: is the
//! device still the reviewed policy? Compares what `zonal build` renders
//! now with the device's ruleset (live with `nft -j list ruleset` for
//! nftables, or a saved file), by rule name, and shows the packet-level
//! consequences (the kernel proof of the device's table for nftables, the
//! configuration readers for the vendor targets). Exit 0: no drift; 1:
//! drift; 2: error.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use zonal_backend::{Target, Templates};
use zonal_observe::drift::{self, Drift};
use zonal_pipeline::Failure;

use crate::ExitStatus;
use crate::args::{DriftArgs, DriftReport};
use crate::printer;

/// What the device does differently from the policy, packet by packet.
struct Consequences {
    /// How they were found.
    method: String,
    /// One paragraph per packet.
    text: String,
    /// How many packets differ.
    count: usize,
}

pub(crate) fn run(args: &DriftArgs) -> anyhow::Result<ExitStatus> {
    let Some(target) = Target::parse(&args.target) else {
        bail!(
            "`--target {}` is not a target: nftables, pf, ios, asa, srx, panos or fortigate",
            args.target
        );
    };
    if target == Target::Iptables {
        bail!(
            "`zonal drift --target iptables` is not supported yet: compare with `iptables-save` by hand, or use nftables (docs/observe.md)"
        );
    }
    let vendor = match target {
        Target::Nftables => None,
        t => Some(
            zonal_xcheck::Target::from_name(t.name())
                .with_context(|| format!("no configuration reader for `{}`", t.name()))?,
        ),
    };
    let mut gated = match super::gate(&args.path, &args.policy, "compared")? {
        Ok(g) => g,
        Err(status) => return Ok(status),
    };
    let binding = match &args.deploy {
        None => None,
        Some(file) => match super::bind(&mut gated, file)? {
            Ok(b) => Some(b),
            Err(status) => return Ok(status),
        },
    };
    let job =
        match zonal_pipeline::firewall(&gated.checked, binding, args.firewall.as_deref(), target) {
            Ok(job) => job,
            Err(Failure::NoFirewall(why)) => bail!(
                "the binding file `{}` has {why}",
                args.deploy.as_deref().unwrap_or(Path::new("")).display()
            ),
            Err(failure) => return super::report(&gated.db, failure, "compared"),
        };
    let outputs = match zonal_pipeline::render(
        &gated.checked,
        std::slice::from_ref(&job),
        &|_| Templates::embedded(),
        &mut gated.db,
    ) {
        Ok(o) => o,
        Err(failure) => return super::report(&gated.db, failure, "compared"),
    };
    let Some(rendered) = outputs.first().map(|o| o.text.clone()) else {
        bail!("nothing was rendered for {}", target.name());
    };
    let policy = gated.checked.policy();
    let actual = match &args.ruleset {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the ruleset `{}`", file.display()))?,
        None if target == Target::Nftables => live_nft()?,
        None => bail!(
            "give the device's saved configuration with `--ruleset FILE` (Zonal reads {} configurations from text only)",
            target.name()
        ),
    };
    let (found, consequences) = match vendor {
        None => nft(args, &rendered, &actual, policy, &gated.db)?,
        Some(reader) => {
            let names: Vec<String> = policy.rules.iter().map(|r| r.name.clone()).collect();
            let d = drift::text_diff(&rendered, &actual, &names);
            let c = (!d.changes.is_empty() && !args.no_probe)
                .then(|| cross_check(policy, reader, &actual));
            (d, c)
        }
    };
    let drifted = found.drifted(args.strict);
    printer::out(&match args.report {
        DriftReport::Human => human(target, policy, &found, consequences.as_ref(), args.strict),
        DriftReport::Json => json(&found, consequences.as_ref(), drifted),
    });
    Ok(if drifted {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// `nft -j list ruleset` of this host.
fn live_nft() -> anyhow::Result<String> {
    let out = std::process::Command::new("nft")
        .args(["-j", "list", "ruleset"])
        .output()
        .context(
            "cannot run `nft -j list ruleset` (is nftables installed?); or give `--ruleset FILE`",
        )?;
    if !out.status.success() {
        bail!(
            "`nft -j list ruleset` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout)
        .context("`nft -j list ruleset` printed something that is not UTF-8")
}

/// The nftables comparison: both sides normalised by the kernel, compared,
/// and the device's table probed when it differs.
fn nft(
    args: &DriftArgs,
    rendered: &str,
    actual: &str,
    policy: &zonal_model::Policy,
    db: &zonal_diagnostics::SourceDb,
) -> anyhow::Result<(Drift, Option<Consequences>)> {
    let table =
        drift::nft_owned_table(rendered).context("the rendered nftables file declares no table")?;
    let (mine, json, foreign) = drift::nft_split(actual, &table)
        .map_err(|e| anyhow::anyhow!("the device's ruleset: {e}"))?;
    let Some(text) = mine else {
        return Ok((
            Drift {
                owned: format!("table {table}"),
                present: false,
                changes: Vec::new(),
                foreign,
            },
            None,
        ));
    };
    crate::signals::verifying();
    let expected = zonal_verify::nft_inspect(rendered, false, &table)
        .map_err(|e| anyhow::anyhow!("cannot normalise the rendered ruleset: {e}"))?;
    let dump = zonal_verify::nft_inspect(&text, json, &table).map_err(|e| {
        anyhow::anyhow!("cannot load the device's table into a scratch namespace: {e}")
    })?;
    let mut d = drift::nft_diff(
        &expected.json,
        &expected.text,
        &dump.json,
        &dump.text,
        &table,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    d.foreign = foreign;
    if d.changes.is_empty() || args.no_probe {
        return Ok((d, None));
    }
    let rules = zonal_verify::Ruleset::Nftables(dump.table.unwrap_or_default());
    let report = zonal_verify::verify(policy, &rules, &zonal_verify::Config::default())
        .map_err(|e| anyhow::anyhow!("cannot probe the device's table: {e}"))?;
    let c = Consequences {
        method: format!(
            "the device's table loaded into network namespaces and probed with {} real packets (the kernel proof), each compared with the policy",
            report.plan.probes.len()
        ),
        text: report.render_mismatches(policy, db),
        count: report.mismatches().len(),
    };
    Ok((d, Some(c)))
}

/// The vendor comparison's consequences: the saved configuration read by
/// Zonal's independent reader and compared with the policy.
fn cross_check(
    policy: &zonal_model::Policy,
    reader: zonal_xcheck::Target,
    actual: &str,
) -> Consequences {
    let config = zonal_xcheck::Config::default();
    match zonal_xcheck::cross_check(policy, reader, actual, &config) {
        Ok(report) => {
            let mut text = String::new();
            for m in report.mismatches.iter().take(50) {
                let _ = writeln!(text, "mismatch: {m}");
            }
            if report.mismatches.len() > 50 {
                let _ = writeln!(text, "… and {} more", report.mismatches.len() - 50);
            }
            Consequences {
                method: format!(
                    "the saved configuration read by Zonal's {} reader and {} seeded packets compared with the policy",
                    reader.name(),
                    report.evaluated
                ),
                text,
                count: report.mismatches.len(),
            }
        }
        Err(e) => Consequences {
            method: format!("Zonal's {} reader", reader.name()),
            text: format!(
                "the reader cannot read the saved configuration: line {}: {}\n",
                e.line, e.message
            ),
            count: 0,
        },
    }
}

fn human(
    target: Target,
    policy: &zonal_model::Policy,
    d: &Drift,
    c: Option<&Consequences>,
    strict: bool,
) -> String {
    let mut o = String::new();
    if !d.present {
        let _ = writeln!(
            o,
            "DRIFT: the device has no {}: nothing policy `{}` renders for {} is enforced there",
            d.owned,
            policy.name,
            target.name()
        );
    } else if d.changes.is_empty() {
        let _ = writeln!(
            o,
            "no drift: the device's {} is what policy `{}` renders for {} now",
            d.owned,
            policy.name,
            target.name()
        );
    } else {
        let _ = writeln!(
            o,
            "DRIFT: the device's {} differs from what policy `{}` renders for {} now ({} change(s)):",
            d.owned,
            policy.name,
            target.name(),
            d.changes.len()
        );
        for ch in &d.changes {
            let rule = ch.rule.as_deref().map_or_else(
                || "(no Zonal rule name)".to_string(),
                |r| format!("rule `{r}`"),
            );
            let _ = writeln!(o, "  {:<8} {rule} in {}", ch.kind, ch.place);
            if let Some(e) = &ch.expected {
                let _ = writeln!(o, "      policy: {e}");
            }
            if let Some(a) = &ch.actual {
                let _ = writeln!(o, "      device: {a}");
            }
        }
    }
    if !d.foreign.is_empty() {
        let _ = writeln!(
            o,
            "\nforeign configuration (not Zonal's; {}):",
            if strict {
                "counted as drift with --strict"
            } else {
                "ignored unless --strict"
            }
        );
        for f in &d.foreign {
            let _ = writeln!(o, "  {f}");
        }
    }
    if let Some(c) = c {
        let _ = writeln!(
            o,
            "\npacket-level consequences: {} packet(s) the device treats differently from the policy\n({})",
            c.count, c.method
        );
        o.push_str(&c.text);
    }
    o
}

fn json(d: &Drift, c: Option<&Consequences>, drifted: bool) -> String {
    let v = serde_json::json!({
        "drift": drifted,
        "owned": d.owned,
        "present": d.present,
        "changes": d.changes,
        "foreign": d.foreign,
        "consequences": c.map(|c| serde_json::json!({
            "method": c.method,
            "packets": c.count,
            "text": c.text,
        })),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
