//! `zonal verify`: the kernel proof for an admin. Renders the policy for
//! nftables or iptables, runs the rules in a router network namespace,
//! probes them with real packets and compares every probe with the
//! policy's decision function.

use std::collections::BTreeSet;

use anyhow::Context as _;
use zonal_backend::{Firewall, Rendered, Request, Target, Templates};
use zonal_diagnostics::{Diagnostics, SourceDb, render};
use zonal_verify::{Config, Ruleset, VerifyError};

use crate::ExitStatus;
use crate::args::{VerifyArgs, VerifyTarget};
use crate::fs::display_path;
use crate::printer;

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let target = match args.target {
        VerifyTarget::Nftables => Target::Nftables,
        VerifyTarget::Iptables => Target::Iptables,
    };
    let mut loaded = super::load(&args.path, &args.policy)?;
    if loaded.diagnostics.has_input_errors() {
        print_diagnostics(&loaded.db, &loaded.diagnostics);
        printer::error(
            "error: the policy has errors; fix them before verifying (see `zonal check`)",
        );
        return Ok(ExitStatus::Error);
    }
    let Some(policy) = loaded.policy.take() else {
        print_diagnostics(&loaded.db, &loaded.diagnostics);
        return Ok(ExitStatus::Error);
    };
    let mut db = loaded.db;

    let firewall = match &args.deploy {
        None => Firewall::by_address(policy.name.clone()),
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the binding file `{}`", file.display()))?;
            let cwd = std::env::current_dir().ok();
            let id = db.add(display_path(cwd.as_deref(), file), text.clone());
            let binding = match zonal_backend::parse_binding(id, &text, &policy) {
                Ok(b) => b,
                Err(diags) => {
                    print_diagnostics(&db, &diags);
                    return Ok(ExitStatus::Error);
                }
            };
            let chosen = binding
                .firewalls
                .into_iter()
                .find(|f| match &args.firewall {
                    Some(name) => &f.name == name,
                    None => f.target == Some(target),
                });
            match chosen {
                Some(f) if f.target.is_some_and(|t| t != target) => {
                    anyhow::bail!(
                        "firewall `{}` in `{}` has target `{}`, not `{target}`",
                        f.name,
                        file.display(),
                        f.target.map(|t| t.name()).unwrap_or_default()
                    );
                }
                Some(f) => f,
                None => {
                    let which = match &args.firewall {
                        Some(name) => format!("no firewall named `{name}`"),
                        None => format!("no firewall with target `{target}`"),
                    };
                    anyhow::bail!("the binding file `{}` has {which}", file.display());
                }
            }
        }
    };

    let templates = match &args.templates {
        Some(dir) => super::build::read_templates(dir, target)?,
        None => Templates::embedded(),
    };
    let request = Request {
        policy: &policy,
        firewall: &firewall,
        templates: &templates,
    };
    let rendered = match zonal_backend::render(target, &request, &mut db) {
        Ok(r) => r,
        Err(diags) => {
            print_diagnostics(&db, &diags);
            printer::error(&format!(
                "error: the policy cannot be rendered for {target}"
            ));
            return Ok(ExitStatus::Error);
        }
    };
    let rules = ruleset(&rendered)?;

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

    if let Err(why) = zonal_verify::preflight(&rules.tools()) {
        printer::error(&format!("error: the kernel proof cannot run here: {why}"));
        return Ok(ExitStatus::Error);
    }
    let report = match zonal_verify::verify(&policy, &rules, &config) {
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
        printer::out(&report.render_matrix(&policy));
        printer::outln("");
    }
    printer::out(&report.render_mismatches(&policy, &db));
    printer::out(&report.render_summary());
    Ok(if report.is_pass() {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}

/// The rendered files as the rule set to load: the nft file, or the
/// iptables, ip6tables (and ipset) files.
fn ruleset(rendered: &Rendered) -> anyhow::Result<Ruleset> {
    let by_ext = |ext: &str| {
        rendered
            .artifacts
            .iter()
            .find(|a| a.extension == ext)
            .map(|a| a.text.clone())
    };
    match rendered.target {
        Target::Nftables => rendered
            .artifacts
            .first()
            .map(|a| Ruleset::Nftables(a.text.clone()))
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

fn print_diagnostics(db: &SourceDb, diags: &Diagnostics) {
    for d in diags.iter() {
        printer::err(&render::human(db, d));
        printer::err("\n");
    }
}
