//! Shared helpers for the end-to-end tests: the repository layout, one way
//! to load a fixture (as the CLI would) and to render it, a work queue for
//! the long tests, and the runner of the `zonal` binary.

use std::path::{Path, PathBuf};

use zonal_backend::{Rendered, Request, Target};
use zonal_diagnostics::SourceDb;
use zonal_model::{Date, Loaded, Options, Policy, SourceLoader};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The fixed date the tests judge expiry against.
pub fn today() -> Date {
    Date {
        year: 2026,
        month: 11,
        day: 28,
    }
}

/// Reads files relative to the repository root, so that diagnostics print
/// `policies/...` paths.
pub struct RepoLoader;

impl SourceLoader for RepoLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(repo_root().join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            _ => e.to_string(),
        })
    }

    fn is_dir(&self, path: &str) -> bool {
        repo_root().join(path).is_dir()
    }

    fn list_zonal(&self, dir: &str) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = std::fs::read_dir(repo_root().join(dir))
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "zonal"))
            .filter_map(|p| {
                p.file_name()
                    .map(|n| format!("{}/{}", dir.trim_end_matches('/'), n.to_string_lossy()))
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// Loads a policy given relative to the repository root.
pub fn load(rel: &str) -> Loaded {
    zonal_model::load(&RepoLoader, rel, &Options { today: today() })
}

/// Loads policy text as if it were the file `name`.
pub fn load_text(name: &str, text: &str) -> Loaded {
    zonal_model::load_str(name, text, &Options { today: today() })
}

/// The model and source database of a load of `name` that must have no
/// input errors (panics with the rendered diagnostics otherwise).
pub fn expect_clean(name: &str, l: Loaded) -> (Policy, SourceDb) {
    assert!(
        !l.diagnostics.has_input_errors(),
        "{name} has errors:\n{}",
        render_diagnostics(&l)
    );
    let policy = l.policy.unwrap_or_else(|| panic!("{name}: no model"));
    (policy, l.db)
}

/// The model of a fixture that must load without input errors.
pub fn policy_of(rel: &str) -> Policy {
    expect_clean(rel, load(rel)).0
}

/// The model of policy text that must load without input errors.
pub fn policy_of_text(name: &str, text: &str) -> Policy {
    expect_clean(name, load_text(name, text)).0
}

/// Renders a request for a target, panicking with the rendered
/// diagnostics if the backend refuses.
pub fn render_or_panic(target: Target, req: &Request<'_>) -> Rendered {
    let mut db = SourceDb::new();
    match zonal_backend::render(target, req, &mut db) {
        Ok(r) => r,
        Err(d) => {
            let text: Vec<String> = d
                .iter()
                .map(|d| zonal_diagnostics::render::human(&db, d))
                .collect();
            panic!(
                "{}: {target}: render failed:\n{}",
                req.firewall.name,
                text.join("\n")
            )
        }
    }
}

/// Runs `work` on every job, on `workers` threads that take the jobs in
/// order; a panic in a worker is raised again here.
pub fn on_workers<J: Copy + Send + Sync>(jobs: &[J], workers: usize, work: impl Fn(J) + Sync) {
    let next = std::sync::Mutex::new(0usize);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    loop {
                        let job = {
                            let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                            let job = jobs.get(*n).copied();
                            *n += 1;
                            job
                        };
                        let Some(job) = job else { return };
                        work(job);
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// The `*.zonal` files of a flat fixture folder, relative to the root, sorted.
pub fn fixtures(folder: &str) -> Vec<String> {
    let dir = repo_root().join(folder);
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "zonal"))
        .filter_map(|p| {
            p.file_name()
                .map(|n| format!("{folder}/{}", n.to_string_lossy()))
        })
        .collect();
    out.sort();
    out
}

/// Renders every diagnostic of a load like the CLI's human format.
pub fn render_diagnostics(l: &Loaded) -> String {
    l.diagnostics
        .iter()
        .map(|d| zonal_diagnostics::render::human(&l.db, d))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a run of the `zonal` binary produced.
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the `zonal` binary at `bin` (pass `env!("CARGO_BIN_EXE_zonal")`)
/// in `cwd`, with expiry judged on the tests' fixed date.
pub fn run_zonal(bin: &str, args: &[&str], cwd: &Path) -> Run {
    run_command(std::process::Command::new(bin).args(args), cwd)
}

/// Runs a command that runs the `zonal` binary (itself, or a wrapper such
/// as `setpriv` around it) in `cwd`, with expiry judged on the tests'
/// fixed date.
pub fn run_command(cmd: &mut std::process::Command, cwd: &Path) -> Run {
    let out = cmd
        .current_dir(cwd)
        .env("ZONAL_TODAY", "2026-11-28")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A run as a snapshot: exit code, stdout and stderr.
pub fn run_snapshot(r: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        r.code, r.stdout, r.stderr
    )
}

/// A fresh, empty temporary directory unique to this process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zonal-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// Runs a resolved policy through the render gate (default lint levels,
/// no baseline), as `zonal build` and `zonal verify` do; panics with the
/// blocking findings when the gate refuses it.
pub fn checked(policy: zonal_model::Policy) -> zonal_lint::Checked {
    gate(policy, &zonal_lint::LintConfig::default())
}

/// Like [`checked`], with every lint's level capped at `high`, as a
/// `zonal.toml` can say: random policies violate invariants and lints by
/// design, and the renderers must still enforce them exactly.
pub fn checked_relaxed(policy: zonal_model::Policy) -> zonal_lint::Checked {
    let mut config = zonal_lint::LintConfig::default();
    for lint in zonal_lint::registry() {
        let level = lint.severity.min(zonal_diagnostics::Severity::High);
        if let Err(e) = config.set_level(lint.code, Some(level)) {
            panic!("{e}");
        }
    }
    gate(policy, &config)
}

fn gate(policy: zonal_model::Policy, config: &zonal_lint::LintConfig) -> zonal_lint::Checked {
    match zonal_lint::Checked::new(policy, config, &zonal_lint::Baseline::empty()) {
        Ok(c) => c,
        Err(refused) => {
            let codes: Vec<String> = refused
                .blocking()
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            panic!(
                "policy `{}` is refused by the render gate:\n{}",
                refused.policy.name,
                codes.join("\n")
            )
        }
    }
}

/// One redeploy: a policy as deployed (`v1`) and its next version (`v2`),
/// as `.zonal` text, with what changed.
#[derive(Clone, Debug)]
pub struct RedeployPair {
    /// What the pair is (example or seed, and the edits).
    pub label: String,
    /// The version deployed first.
    pub v1: String,
    /// The version deployed on top of it.
    pub v2: String,
}

/// Replaces the name `from` by `to` where it stands as a whole name (not
/// inside a longer name of letters, digits, `-`, `_` or `.`).
pub fn rename_word(text: &str, from: &str, to: &str) -> String {
    let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(name) || after.is_some_and(name) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Seeded edits of a policy text, as an admin makes them between two
/// deployments: a rule added, a rule removed, an endpoint widened from a
/// device to its zone or narrowed from a zone to one of its devices, a
/// zone renamed. Returns the new text and what was done.
pub fn edit_policy(text: &str, seed: u64) -> (String, Vec<String>) {
    let mut rng = zonal_synth::Rng::new(seed);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut done = Vec::new();
    let zones: Vec<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("zone "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let devices: Vec<(String, String)> = {
        let mut zone = String::new();
        let mut out = Vec::new();
        for l in &lines {
            if let Some(z) = l.strip_prefix("zone ") {
                zone = z.split_whitespace().next().unwrap_or("").to_string();
            } else if let Some(d) = l.trim_start().strip_prefix("device ") {
                let name = d.split_whitespace().next().unwrap_or("").to_string();
                out.push((zone.clone(), name));
            }
        }
        out
    };
    let rule_lines = |lines: &[String]| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("allow ") || l.starts_with("deny "))
            .map(|(i, _)| i)
            .collect()
    };
    for _ in 0..1 + rng.below(3) {
        match rng.below(5) {
            0 if zones.len() >= 2 => {
                let a = &zones[rng.below(zones.len())];
                let b = &zones[rng.below(zones.len())];
                if a != b {
                    lines.push(format!("allow {a} -> {b} : https \"added in v2\""));
                    done.push(format!("added allow {a} -> {b} : https"));
                }
            }
            1 => {
                let rules = rule_lines(&lines);
                if !rules.is_empty() {
                    let i = rules[rng.below(rules.len())];
                    done.push(format!("removed `{}`", lines[i]));
                    lines.remove(i);
                }
            }
            2 if !devices.is_empty() => {
                // Widen: a device endpoint becomes its whole zone.
                let (zone, dev) = &devices[rng.below(devices.len())];
                let rules = rule_lines(&lines);
                if let Some(&i) = rules.iter().find(|&&i| lines[i].contains(dev.as_str())) {
                    lines[i] = rename_word(&lines[i], dev, zone);
                    done.push(format!("widened `{dev}` to `{zone}` in rule {i}"));
                }
            }
            3 if !devices.is_empty() => {
                // Narrow: a zone endpoint becomes one of its devices.
                let (zone, dev) = &devices[rng.below(devices.len())];
                let rules = rule_lines(&lines);
                if let Some(&i) = rules
                    .iter()
                    .find(|&&i| lines[i].split_whitespace().any(|w| w == zone.as_str()))
                {
                    lines[i] = rename_word(&lines[i], zone, dev);
                    done.push(format!("narrowed `{zone}` to `{dev}` in rule {i}"));
                }
            }
            _ if !zones.is_empty() => {
                let z = &zones[rng.below(zones.len())];
                let to = format!("{z}-v2");
                let joined = lines.join("\n");
                lines = rename_word(&joined, z, &to)
                    .lines()
                    .map(str::to_string)
                    .collect();
                done.push(format!("renamed zone `{z}` to `{to}`"));
            }
            _ => {}
        }
    }
    (lines.join("\n") + "\n", done)
}

/// The redeploy pairs every target's redeploy simulation runs: each
/// example with seeded edits, and `synth` small `zonal_synth` policies
/// with seeded edits. Only pairs whose both versions load without input
/// errors are returned.
pub fn redeploy_pairs(synth: u64) -> Vec<RedeployPair> {
    let mut sources: Vec<(String, String)> = Vec::new();
    for f in fixtures("policies/examples") {
        let text =
            std::fs::read_to_string(repo_root().join(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        sources.push((f, text));
    }
    for seed in 0..synth {
        let text = zonal_synth::generate(&zonal_synth::SynthConfig::small(seed));
        sources.push((format!("zonal_synth seed {seed}"), text));
    }
    let options = Options { today: today() };
    let mut pairs = Vec::new();
    for (n, (label, v1)) in sources.into_iter().enumerate() {
        for edit in 0..2u64 {
            let (v2, done) = edit_policy(&v1, 0x5eed ^ ((n as u64) << 8) ^ edit);
            let ok = |t: &str| {
                let l = zonal_model::load_str("p.zonal", t, &options);
                l.policy.is_some() && !l.diagnostics.has_input_errors()
            };
            if done.is_empty() || !ok(&v1) || !ok(&v2) {
                continue;
            }
            pairs.push(RedeployPair {
                label: format!("{label}, edit {edit}: {}", done.join("; ")),
                v1: v1.clone(),
                v2,
            });
        }
    }
    pairs
}
