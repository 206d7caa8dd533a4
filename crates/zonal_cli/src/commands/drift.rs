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
use zonal_observe::drift_iptables as ipt;
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
            "`--target {}` is not a target: nftables, iptables, pf, ios, asa, srx, panos or fortigate",
            args.target
        );
    };
    if args.ruleset6.is_some() && target != Target::Iptables {
        bail!("`--ruleset6` is for `--target iptables` only");
    }
    let vendor = match target {
        Target::Nftables | Target::Iptables => None,
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
    let policy = gated.checked.policy();
    if target == Target::Iptables {
        let (found, consequences) = iptables(args, &outputs, policy, &gated.db)?;
        return Ok(finish(args, target, policy, &found, consequences.as_ref()));
    }
    let Some(rendered) = outputs.first().map(|o| o.text.clone()) else {
        bail!("nothing was rendered for {}", target.name());
    };
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
    Ok(finish(args, target, policy, &found, consequences.as_ref()))
}

/// Prints the report; the exit status.
fn finish(
    args: &DriftArgs,
    target: Target,
    policy: &zonal_model::Policy,
    found: &Drift,
    consequences: Option<&Consequences>,
) -> ExitStatus {
    let drifted = found.drifted(args.strict);
    printer::out(&match args.report {
        DriftReport::Human => human(target, policy, found, consequences, args.strict),
        DriftReport::Json => json(found, consequences, drifted),
    });
    if drifted {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    }
}

/// `TOOL-save` of this host.
fn live_save(tool: &str) -> anyhow::Result<String> {
    let save = format!("{tool}-save");
    let out = std::process::Command::new(&save)
        .output()
        .with_context(|| {
            format!("cannot run `{save}` (is iptables installed?); or give `--ruleset FILE`")
        })?;
    if !out.status.success() {
        bail!(
            "`{save}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("`{save}` printed something that is not UTF-8"))
}

/// The device's IPv4 and IPv6 dumps: live, or from `--ruleset` (one dump
/// or both) and `--ruleset6`.
fn iptables_dumps(args: &DriftArgs) -> anyhow::Result<(Option<String>, Option<String>)> {
    let read = |file: &Path| {
        std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the ruleset `{}`", file.display()))
    };
    let Some(file) = &args.ruleset else {
        return Ok((Some(live_save("iptables")?), Some(live_save("ip6tables")?)));
    };
    let text = read(file)?;
    let (v4, mut v6) = ipt::split_families(&text);
    if let Some(file6) = &args.ruleset6 {
        let (a, b) = ipt::split_families(&read(file6)?);
        v6 = b.or(a);
    }
    if v4.is_none() && v6.is_none() {
        bail!(
            "`{}` holds no `iptables-save` output (no `*filter` … `COMMIT` block)",
            file.display()
        );
    }
    Ok((v4, v6))
}

/// The iptables comparison: Zonal's chains of each family, both sides
/// normalised by the kernel (`TOOL-restore` then `TOOL-save` in a scratch
/// namespace), compared; the device's chains probed when they differ.
fn iptables(
    args: &DriftArgs,
    outputs: &[zonal_pipeline::Output],
    policy: &zonal_model::Policy,
    db: &zonal_diagnostics::SourceDb,
) -> anyhow::Result<(Drift, Option<Consequences>)> {
    let by_ext = |ext: &str| {
        outputs
            .iter()
            .find(|o| o.file.ends_with(&format!(".{ext}")))
            .map(|o| o.text.clone())
            .with_context(|| format!("the iptables renderer produced no .{ext} file"))
    };
    let rendered = [
        (ipt::Family::V4, by_ext("iptables")?),
        (ipt::Family::V6, by_ext("ip6tables")?),
    ];
    let (v4, v6) = iptables_dumps(args)?;
    let mut d = Drift {
        owned: String::new(),
        present: false,
        ..Drift::default()
    };
    let mut device: Vec<String> = Vec::new();
    let mut owned_names = Vec::new();
    let mut normalised = Vec::new();
    for ((family, text), dump) in rendered.iter().zip([v4, v6]) {
        let tool = family.tool();
        let (prefix, entry) = ipt::owned_prefix(text)
            .with_context(|| format!("the rendered {tool} file declares no entry chain"))?;
        owned_names.push(format!("{tool} chains {prefix}*"));
        let Some(dump) = dump else {
            d.notes.push(format!(
                "{tool}: no `{tool}-save` output given (--ruleset6 for IPv6): not compared; probed as rendered"
            ));
            device.push(text.clone());
            continue;
        };
        let parsed = ipt::parse(&dump);
        let owned = ipt::owned(&parsed, &prefix, &entry, *family);
        d.foreign.extend(owned.foreign.iter().cloned());
        let Some(restore) = owned.restore else {
            d.changes.push(drift::Change {
                kind: "removed",
                place: tool.to_string(),
                rule: None,
                expected: Some(format!(
                    "Zonal's chains {prefix}* and the jump from FORWARD"
                )),
                actual: Some("none".into()),
            });
            device.push(format!("*filter\n:{entry} - [0:0]\nCOMMIT\n"));
            continue;
        };
        d.present = true;
        normalised.push((*family, prefix, entry, owned.jump, restore.clone()));
        device.push(restore);
    }
    d.owned = owned_names.join(", ");
    if !normalised.is_empty() {
        crate::signals::verifying();
    }
    for (family, prefix, entry, jump, restore) in normalised {
        let tool = family.tool();
        let rendered_text = &rendered[usize::from(family == ipt::Family::V6)].1;
        let expected = zonal_verify::iptables_inspect(tool, rendered_text)
            .map_err(|e| anyhow::anyhow!("cannot normalise the rendered {tool} file: {e}"))?;
        let actual = zonal_verify::iptables_inspect(tool, &restore).map_err(|e| {
            anyhow::anyhow!("cannot load the device's {tool} chains into a scratch namespace: {e}")
        })?;
        d.changes.extend(ipt::diff(
            &ipt::parse(&expected),
            &ipt::parse(&actual),
            &prefix,
            &entry,
            jump,
            family,
        ));
    }
    if !d.present {
        d.changes.clear();
        return Ok((d, None));
    }
    if d.changes.is_empty() || args.no_probe {
        return Ok((d, None));
    }
    let mut device = device.into_iter();
    let rules = zonal_verify::Ruleset::Iptables {
        v4: device.next().unwrap_or_default(),
        v6: device.next().unwrap_or_default(),
        ipset: None,
    };
    let report = zonal_verify::verify(policy, &rules, &zonal_verify::Config::default())
        .map_err(|e| anyhow::anyhow!("cannot probe the device's chains: {e}"))?;
    let c = Consequences {
        method: format!(
            "the device's chains loaded into network namespaces (with the jump from FORWARD) and probed with {} real packets (the kernel proof), each compared with the policy",
            report.plan.probes.len()
        ),
        text: report.render_mismatches(policy, db),
        count: report.mismatches().len(),
    };
    Ok((d, Some(c)))
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
                notes: Vec::new(),
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
    for n in &d.notes {
        let _ = writeln!(o, "note: {n}");
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
        "notes": d.notes,
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
