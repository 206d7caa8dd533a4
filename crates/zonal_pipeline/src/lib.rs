//! Zonal's pipeline, without I/O: a loaded policy goes through the render
//! gate ([`gate`]: resolution errors, then the lints), is bound to
//! firewalls ([`jobs`], [`firewall`]) and rendered ([`render`]).
//!
//! ```text
//! Loaded ──gate──▶ Checked ──jobs──▶ [Job] ──render──▶ [Output]
//! ```
//!
//! Every command that renders (`zonal build`, `zonal verify`), the tests and
//! the benchmarks go through here, so what `build` refuses, `verify`
//! refuses too: [`Checked`] can only be made by running the lints. The
//! caller reads files (policy, `zonal.toml`, baseline, binding, template
//! overrides) and passes their text in; this crate never touches the
//! filesystem and never prints.

pub mod project;

use zonal_backend::{Binding, Firewall, FirewallPlan, Target, Templates};
use zonal_diagnostics::{Diagnostics, FileId, SourceDb};
use zonal_lint::{Baseline, Checked, Refused};
use zonal_model::Loaded;

pub use project::{ConfigError, ProjectConfig};

/// Why the pipeline stopped.
#[derive(Debug)]
pub enum Failure {
    /// The policy has input errors (syntax, resolution): nothing to check.
    Invalid(Diagnostics),
    /// The `zonal.toml` does not fit the policy.
    Config(ConfigError),
    /// Error-level findings remain.
    Refused(Box<Refused>),
    /// The deployment binding is invalid.
    Binding(Diagnostics),
    /// The binding has no firewall for the request; the text completes
    /// "the binding file `F` has …".
    NoFirewall(String),
    /// Rendering failed (template errors, names that cannot be made safe).
    Render(Diagnostics),
}

/// The render gate: a policy without input errors whose lints (with the
/// project's levels and the baseline) leave no error-level finding.
///
/// On success the policy is moved out of `loaded`; its source database
/// stays there for diagnostics.
pub fn gate(
    loaded: &mut Loaded,
    project: &ProjectConfig,
    baseline: &Baseline,
) -> Result<Checked, Failure> {
    if loaded.diagnostics.has_input_errors() {
        return Err(Failure::Invalid(loaded.diagnostics.clone()));
    }
    let Some(policy) = loaded.policy.take() else {
        return Err(Failure::Invalid(loaded.diagnostics.clone()));
    };
    let config = match project.lint_config(&policy) {
        Ok(c) => c,
        Err(e) => {
            loaded.policy = Some(policy);
            return Err(Failure::Config(e));
        }
    };
    Checked::new(policy, &config, baseline).map_err(Failure::Refused)
}

/// Parses a deployment binding (its text registered in the caller's
/// `SourceDb` as `file`).
pub fn bind(checked: &Checked, file: FileId, text: &str) -> Result<Binding, Failure> {
    zonal_backend::parse_binding(file, text, checked.policy()).map_err(Failure::Binding)
}

/// One firewall rendered for one target.
#[derive(Clone, Debug)]
pub struct Job {
    /// Where the rules go.
    pub firewall: Firewall,
    /// The configuration format.
    pub target: Target,
}

/// The jobs of a build: each of `targets` for the one address-mode
/// firewall, or every firewall of `binding` (only those whose target is
/// among `targets`, when given).
pub fn jobs(
    checked: &Checked,
    binding: Option<Binding>,
    targets: Option<&[Target]>,
) -> Result<Vec<Job>, Failure> {
    match binding {
        None => {
            let firewall = Firewall::by_address(checked.policy().name.clone());
            Ok(targets
                .unwrap_or_default()
                .iter()
                .map(|&target| Job {
                    firewall: firewall.clone(),
                    target,
                })
                .collect())
        }
        Some(binding) => {
            let jobs: Vec<Job> = binding
                .firewalls
                .into_iter()
                .filter_map(|firewall| firewall.target.map(|target| Job { firewall, target }))
                .filter(|j| targets.is_none_or(|ts| ts.contains(&j.target)))
                .collect();
            if jobs.is_empty() {
                return Err(Failure::NoFirewall(
                    "no firewall with the requested target".into(),
                ));
            }
            Ok(jobs)
        }
    }
}

/// The one firewall `zonal verify` proves: the address-mode firewall, or
/// the binding's firewall named `name` (else the first with `target`).
pub fn firewall(
    checked: &Checked,
    binding: Option<Binding>,
    name: Option<&str>,
    target: Target,
) -> Result<Job, Failure> {
    let Some(binding) = binding else {
        return Ok(Job {
            firewall: Firewall::by_address(checked.policy().name.clone()),
            target,
        });
    };
    let chosen = binding.firewalls.into_iter().find(|f| match name {
        Some(name) => f.name == name,
        None => f.target == Some(target),
    });
    match chosen {
        Some(f) if f.target.is_some_and(|t| t != target) => Err(Failure::NoFirewall(format!(
            "firewall `{}` with target `{}`, not `{target}`",
            f.name,
            f.target.map(Target::name).unwrap_or_default()
        ))),
        Some(firewall) => Ok(Job { firewall, target }),
        None => Err(Failure::NoFirewall(match name {
            Some(name) => format!("no firewall named `{name}`"),
            None => format!("no firewall with target `{target}`"),
        })),
    }
}

/// One rendered file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// `<firewall>.<extension>`.
    pub file: String,
    /// The configuration text.
    pub text: String,
    /// The target it is for.
    pub target: Target,
    /// The firewall it is for.
    pub firewall: String,
    /// How many filtering rules it contains.
    pub rules: usize,
    /// Build warnings about it (`W03xx`): never blocking.
    pub warnings: Diagnostics,
}

/// Renders every job in memory; nothing is returned unless every job
/// renders. `templates` gives each target's templates (embedded or
/// overridden); template files are registered in `db` so that errors
/// point into them. What a firewall enforces ([`zonal_backend::plan`]) is
/// built once per distinct firewall and rendered for each of its targets.
/// The outputs are in the order of `jobs` (see [`render_each`]).
pub fn render(
    checked: &Checked,
    jobs: &[Job],
    templates: &dyn Fn(Target) -> Templates,
    db: &mut SourceDb,
) -> Result<Vec<Output>, Failure> {
    let mut outputs: Vec<(usize, Output)> = Vec::new();
    render_each(checked, jobs, templates, db, &mut |i, o| {
        outputs.push((i, o))
    })?;
    // Stable: a job's files keep their order.
    outputs.sort_by_key(|(i, _)| *i);
    Ok(outputs.into_iter().map(|(_, o)| o).collect())
}

/// Renders every job and hands each output to `sink` with its job's index
/// as soon as that job has rendered, so that a caller can write it out
/// (to a staged file) and free it instead of holding every target's text
/// until the last one is done. Outputs come in the order the jobs finish;
/// a job's files come in their order.
///
/// Jobs render on up to as many threads as the machine has cores (each
/// job's output depends on its plan and templates alone, so it is the same
/// whatever the order). A job that fails is rendered again on this thread
/// against `db`, so that its diagnostics name the template files exactly
/// as a sequential run would; if any job failed, the result is
/// [`Failure::Render`] with all their diagnostics, and the outputs already
/// handed over must be discarded.
pub fn render_each(
    checked: &Checked,
    jobs: &[Job],
    templates: &dyn Fn(Target) -> Templates,
    db: &mut SourceDb,
    sink: &mut dyn FnMut(usize, Output),
) -> Result<(), Failure> {
    let mut plans: Vec<FirewallPlan<'_>> = Vec::new();
    let mut plan_of = Vec::with_capacity(jobs.len());
    for job in jobs {
        let i = match plans.iter().position(|p| *p.firewall() == job.firewall) {
            Some(i) => i,
            None => {
                plans.push(zonal_backend::plan(checked, &job.firewall));
                plans.len() - 1
            }
        };
        plan_of.push(i);
    }
    let work: Vec<(Target, &FirewallPlan<'_>, Templates)> = jobs
        .iter()
        .zip(&plan_of)
        .filter_map(|(job, &i)| Some((job.target, plans.get(i)?, templates(job.target))))
        .collect();
    let mut hand_over = |i: usize, target: Target, r: zonal_backend::Rendered| {
        for a in r.artifacts {
            sink(
                i,
                Output {
                    file: format!("{}.{}", r.firewall, a.extension),
                    text: a.text,
                    target,
                    firewall: r.firewall.clone(),
                    rules: a.rule_count,
                    warnings: a.warnings,
                },
            );
        }
    };
    let mut again = Vec::new();
    render_all(&work, &mut |i, r| match (r, work.get(i)) {
        (Some(r), Some((target, _, _))) => hand_over(i, *target, r),
        _ => again.push(i),
    });
    // Again, sequentially, in job order, with the real source database.
    again.sort_unstable();
    let mut failed = Diagnostics::new();
    for i in again {
        let Some((target, plan, templates)) = work.get(i) else {
            continue;
        };
        match zonal_backend::render_plan(*target, plan, templates, db) {
            Ok(r) => hand_over(i, *target, r),
            Err(d) => failed.extend(d),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Render(failed))
    }
}

/// Renders each piece of work on a pool of scoped threads and hands each
/// result to `deliver` on the caller's thread as it arrives; `None` where
/// rendering failed (the caller renders it again to report why).
fn render_all(
    work: &[(Target, &FirewallPlan<'_>, Templates)],
    deliver: &mut dyn FnMut(usize, Option<zonal_backend::Rendered>),
) {
    let one = |(target, plan, templates): &(Target, &FirewallPlan<'_>, Templates)| {
        zonal_backend::render_plan(*target, plan, templates, &mut SourceDb::new()).ok()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(work.len());
    if threads <= 1 {
        for (i, w) in work.iter().enumerate() {
            deliver(i, one(w));
        }
        return;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // A panic in a worker is re-raised when the scope ends, as it would
    // be on one thread.
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, one) = (&next, &one);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(w) = work.get(i) else { break };
                    if tx.send((i, one(w))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            deliver(i, r);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use zonal_model::{Date, Options, load_str};

    fn loaded(text: &str) -> Loaded {
        let options = Options {
            today: Date::new(2026, 11, 28).expect("a valid date"),
        };
        load_str("p.zonal", text, &options)
    }

    const CLEAN: &str = "policy p { owner \"net\" }\nzone a { network 10.0.1.0/24 }\nzone b { network 10.0.2.0/24 }\nallow a -> b : https\n";

    #[test]
    fn the_gate_refuses_error_level_findings() {
        // `never a -> b` is violated by the allow: a critical finding.
        let mut l = loaded(&format!("{CLEAN}never a -> b\n"));
        let project = ProjectConfig::defaults(std::path::Path::new("."));
        match gate(&mut l, &project, &Baseline::empty()) {
            Err(Failure::Refused(r)) => assert!(!r.blocking().is_empty()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_gate_refuses_input_errors() {
        let mut l = loaded("policy p\nallow a -> b : https\n");
        let project = ProjectConfig::defaults(std::path::Path::new("."));
        assert!(matches!(
            gate(&mut l, &project, &Baseline::empty()),
            Err(Failure::Invalid(d)) if d.has_input_errors()
        ));
    }

    #[test]
    fn every_target_renders_the_same_in_parallel_and_one_by_one() {
        let mut l = loaded(CLEAN);
        let project = ProjectConfig::defaults(std::path::Path::new("."));
        let checked = gate(&mut l, &project, &Baseline::empty()).expect("clean");
        let jobs = jobs(&checked, None, Some(&Target::ALL)).expect("jobs");
        let all = render(&checked, &jobs, &|_| Templates::embedded(), &mut l.db).expect("render");
        let mut one_by_one = Vec::new();
        for job in &jobs {
            let one = render(
                &checked,
                std::slice::from_ref(job),
                &|_| Templates::embedded(),
                &mut l.db,
            )
            .expect("render");
            one_by_one.extend(one);
        }
        assert_eq!(all, one_by_one);
    }

    #[test]
    fn a_broken_template_fails_its_job_with_the_template_file_named() {
        let mut l = loaded(CLEAN);
        let project = ProjectConfig::defaults(std::path::Path::new("."));
        let checked = gate(&mut l, &project, &Baseline::empty()).expect("clean");
        let jobs = jobs(&checked, None, Some(&Target::ALL)).expect("jobs");
        let templates = |t: Target| {
            let mut tpl = Templates::embedded();
            if t == Target::Pf {
                tpl.set_override(
                    t,
                    "main.pf.j2",
                    zonal_backend::TemplateFile {
                        path: "overrides/pf/main.pf.j2".into(),
                        text: "line one\n{{ no_such_value }}\n".into(),
                    },
                );
            }
            tpl
        };
        match render(&checked, &jobs, &templates, &mut l.db) {
            Err(Failure::Render(d)) => {
                assert_eq!(d.len(), 1, "only the pf job fails: {d:?}");
                let diag = &d.0[0];
                assert_eq!(diag.code, "E0310");
                let file = l.db.find("overrides/pf/main.pf.j2").expect("registered");
                assert_eq!(diag.primary.span.file, file);
            }
            other => panic!("expected a render failure, got {other:?}"),
        }
    }

    #[test]
    fn a_clean_policy_renders_for_every_target() {
        let mut l = loaded(CLEAN);
        let project = ProjectConfig::defaults(std::path::Path::new("."));
        let checked = gate(&mut l, &project, &Baseline::empty()).expect("clean");
        let jobs = jobs(&checked, None, Some(&Target::ALL)).expect("jobs");
        assert_eq!(jobs.len(), 8);
        let out = render(&checked, &jobs, &|_| Templates::embedded(), &mut l.db).expect("render");
        // iptables writes an IPv4 and an IPv6 file.
        assert_eq!(out.len(), 9);
        for o in out.iter().filter(|o| !o.file.ends_with(".ip6tables")) {
            assert!(o.text.contains("10.0.2.0"), "{}", o.file);
        }
    }
}
