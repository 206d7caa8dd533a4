//! `zonal verify`: the kernel proof for an admin. Renders the policy for
//! nftables or iptables, runs the rules in a router network namespace,
//! probes them with real packets and compares every probe with the
//! policy's decision function.

use std::collections::BTreeSet;

use anyhow::Context as _;
use std::path::Path;

use zonal_backend::{Target, Templates};
use zonal_pipeline::{Failure, Output};
use zonal_verify::{Config, Ruleset, VerifyError};

use crate::ExitStatus;
use crate::args::{VerifyArgs, VerifyTarget};
use crate::printer;

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    if args.cleanup {
        if let Err(why) = zonal_verify::preflight(&["ip"]) {
            printer::error(&format!("error: cannot clean up here: {why}"));
            return Ok(ExitStatus::Error);
        }
        report_stale(&zonal_verify::sweep_stale(), true);
        return Ok(ExitStatus::Success);
    }
    let (Some(path), Some(target)) = (&args.path, args.target) else {
        anyhow::bail!("give the policy and `--target nftables` or `--target iptables`");
    };
    let target = match target {
        VerifyTarget::Nftables => Target::Nftables,
        VerifyTarget::Iptables => Target::Iptables,
    };
    // The same gate as `zonal build`: what build refuses, verify refuses.
    let mut gated = match super::gate(path, &args.policy, "verified")? {
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
            Err(Failure::NoFirewall(why)) => anyhow::bail!(
                "the binding file `{}` has {why}",
                args.deploy.as_deref().unwrap_or(Path::new("")).display()
            ),
            Err(failure) => return super::report(&gated.db, failure, "verified"),
        };
    let templates = match &args.templates {
        Some(dir) => super::build::read_templates(dir, target)?,
        None => Templates::embedded(),
    };
    let outputs = match zonal_pipeline::render(
        &gated.checked,
        std::slice::from_ref(&job),
        &|_| templates.clone(),
        &mut gated.db,
    ) {
        Ok(o) => o,
        Err(failure) => {
            let status = super::report(&gated.db, failure, "verified")?;
            printer::error(&format!(
                "error: the policy cannot be rendered for {target}"
            ));
            return Ok(status);
        }
    };
    let firewall = job.firewall;
    let policy = gated.checked.policy();
    let db = &gated.db;
    let rules = ruleset(target, &outputs)?;

    let config = proof_config(args, &firewall);

    // SIGINT, SIGTERM and SIGHUP delete this run's namespaces before exit
    // (the preflight makes one too).
    crate::signals::verifying();
    if let Err(why) = zonal_verify::preflight(&rules.tools()) {
        printer::error(&format!("error: the kernel proof cannot run here: {why}"));
        return Ok(ExitStatus::Error);
    }
    // Namespaces of a run that was killed (SIGKILL, a crash) go first.
    report_stale(&zonal_verify::sweep_stale(), false);
    let report = match zonal_verify::verify(policy, &rules, &config) {
        Ok(r) => r,
        Err(VerifyError::Load(e)) => {
            printer::error(&format!(
                "error: the rendered {target} rules do not load: {e}"
            ));
            return Ok(ExitStatus::Findings);
        }
        Err(VerifyError::Unavailable(why)) => {
            printer::error(&format!("error: the kernel proof cannot run here: {why}"));
            return Ok(ExitStatus::Error);
        }
        Err(e) => {
            printer::error(&format!("error: {e}"));
            return Ok(ExitStatus::Error);
        }
    };
    printer::outln(&format!(
        "zonal verify: policy `{}`, firewall `{}`, target {target}",
        policy.name, firewall.name
    ));
    if !args.quiet {
        printer::out(&report.render_matrix(policy));
        printer::outln("");
    }
    printer::out(&report.render_mismatches(policy, db));
    printer::out(&report.render_summary());
    Ok(if report.is_pass() {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}

/// Tells which left-over namespaces were deleted.
fn report_stale(removed: &[String], say_none: bool) {
    if removed.is_empty() {
        if say_none {
            printer::error("no namespace of an interrupted run was left behind");
        }
    } else {
        printer::error(&format!(
            "deleted {} network namespace(s) left behind by an interrupted run: {}",
            removed.len(),
            removed.join(", ")
        ));
    }
}

/// The proof's settings: seed and samples from the command line; with a
/// binding, only the firewall's zones, on their interfaces.
fn proof_config(args: &VerifyArgs, firewall: &zonal_backend::Firewall) -> Config {
    let mut config = Config {
        seed: args.seed,
        samples: args.samples,
        ..Config::default()
    };
    if let Some(zones) = &firewall.zones {
        config.zones = Some(
            zones
                .iter()
                .map(|z| z.zone.clone())
                .collect::<BTreeSet<_>>(),
        );
        for z in zones {
            if let Some(ifname) = &z.interface {
                config.interfaces.insert(z.zone.clone(), ifname.clone());
            }
        }
    }
    config
}

/// The rendered files as the rule set to load: the nft file, or the
/// iptables, ip6tables (and ipset) files.
fn ruleset(target: Target, outputs: &[Output]) -> anyhow::Result<Ruleset> {
    let by_ext = |ext: &str| {
        outputs
            .iter()
            .find(|o| o.file.ends_with(&format!(".{ext}")))
            .map(|o| o.text.clone())
    };
    match target {
        Target::Nftables => outputs
            .first()
            .map(|o| Ruleset::Nftables(o.text.clone()))
            .context("the nftables renderer produced no file"),
        Target::Iptables => {
            let v4 = by_ext("iptables").context("the iptables renderer produced no IPv4 file")?;
            let v6 = by_ext("ip6tables").context("the iptables renderer produced no IPv6 file")?;
            Ok(Ruleset::Iptables {
                v4,
                v6,
                ipset: by_ext("ipset"),
            })
        }
        other => anyhow::bail!("`zonal verify` proves nftables and iptables only, not {other}"),
    }
}
