//! The lint catalogue end to end: every lint's flagged fixture raises it and
//! its clean fixture does not (both snapshotted, rendered as `zonal check`
//! prints them); the hospital example; the guest → jump host → CT chain.

use zonal_diagnostics::{Diagnostics, render};
use zonal_lint::{LintConfig, check, registry};
use zonal_model::{Loaded, MemoryLoader, Options};
use zonal_tests::{load, repo_root, today};

fn lint(l: &Loaded, config: &LintConfig) -> Diagnostics {
    assert!(
        !l.diagnostics.has_input_errors(),
        "{}",
        zonal_tests::render_diagnostics(l)
    );
    let Some(policy) = &l.policy else {
        panic!("no policy")
    };
    check(policy, config)
}

fn render_all(l: &Loaded, diags: &Diagnostics) -> String {
    diags
        .iter()
        .map(|d| render::human(&l.db, d))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_lint_flags_its_fixture_and_passes_the_fix() {
    assert!(registry().len() >= 30, "the catalogue shrank");
    for info in registry() {
        let dir = format!("policies/lint/{}-{}", info.code, info.name);
        assert!(
            repo_root()
                .join(format!("docs/diagnostics/{}.md", info.code))
                .is_file(),
            "{} has no doc page",
            info.code
        );
        assert!(
            info.doc.contains(info.name),
            "{}: doc page does not name the lint",
            info.code
        );
        for (kind, expect) in [("flagged", true), ("clean", false)] {
            let file = format!("{dir}/{kind}.zonal");
            // The doc page shows both fixtures verbatim, so it cannot go stale.
            let fixture = std::fs::read_to_string(repo_root().join(&file)).unwrap_or_default();
            assert!(
                info.doc.contains(fixture.trim_end()),
                "docs/diagnostics/{}.md does not show {file}; regenerate the page",
                info.code
            );
            let l = load(&file);
            let found = lint(&l, &LintConfig::default());
            let raised = found.iter().filter(|d| d.code == info.code).count();
            let text = render_all(&l, &found);
            if expect {
                assert!(raised > 0, "{file} should raise {}:\n{text}", info.code);
            } else {
                assert_eq!(raised, 0, "{file} must not raise {}:\n{text}", info.code);
            }
            for d in found.iter() {
                assert!(d.help.is_some(), "{file}: {} has no help", d.code);
                assert!(!d.notes.is_empty(), "{file}: {} carries no witness", d.code);
                assert!(!d.message.ends_with('.'), "{file}: {}", d.message);
            }
            insta::with_settings!({snapshot_path => "../snapshots/lint", prepend_module_to_snapshot => false, input_file => file.clone()}, {
                insta::assert_snapshot!(format!("{}-{}@{kind}.zonal", info.code, info.name), text);
            });
        }
    }
}

#[test]
fn lint_snapshots_match_fixtures() {
    let dir = repo_root().join("tests/snapshots/lint");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        panic!("missing {}", dir.display())
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((folder, file)) = name.strip_suffix(".snap").and_then(|n| n.split_once('@'))
        else {
            panic!("unexpected snapshot {name}")
        };
        if folder == "examples" {
            assert!(
                repo_root().join("policies/examples").join(file).is_file(),
                "orphaned snapshot {name}"
            );
            continue;
        }
        if folder == "chain" {
            continue;
        }
        assert!(
            repo_root()
                .join("policies/lint")
                .join(folder)
                .join(file)
                .is_file(),
            "orphaned snapshot {name}: no policies/lint/{folder}/{file}"
        );
    }
}

#[test]
fn hospital_example_has_only_explained_findings() {
    let file = "policies/examples/riverbend-radiology.zonal";
    let l = load(file);
    let found = lint(&l, &LintConfig::default());
    let serious: Vec<&str> = found
        .iter()
        .filter(|d| d.severity >= zonal_diagnostics::Severity::High)
        .map(|d| d.code)
        .collect();
    assert!(serious.is_empty(), "{}", render_all(&l, &found));
    insta::with_settings!({snapshot_path => "../snapshots/lint", prepend_module_to_snapshot => false, input_file => file}, {
        insta::assert_snapshot!("examples@riverbend-radiology.zonal", render_all(&l, &found));
    });
}

/// A copy of the hospital example where guests reach a jump host that can
/// reach the CT: `never guest-wifi ~> modalities` fails with the full path.
#[test]
fn guest_to_jump_host_to_ct_chain_violates_never() {
    let base =
        std::fs::read_to_string(repo_root().join("policies/examples/riverbend-radiology.zonal"))
            .unwrap_or_default();
    let text = format!(
        "{base}
zone it-management {{
  network 10.20.240.0/24
  trust high
  kind management
  device jump-1 {{ address 10.20.240.10  kind jump-host }}
}}

allow guest-wifi -> jump-1 : rdp \"contractor laptops (the mistake)\"
allow jump-1 -> ct-1 : rdp \"console support\"
"
    );
    let name = "policies/examples/riverbend-with-chain.zonal";
    let l = zonal_model::load(
        &MemoryLoader::single(name, &text),
        name,
        &Options { today: today() },
    );
    let found = lint(&l, &LintConfig::default());
    let Some(never) = found
        .iter()
        .find(|d| d.code == "L0305" && d.message.contains("guest-wifi ~> modalities"))
    else {
        panic!("no never violation:\n{}", render_all(&l, &found))
    };
    assert_eq!(
        never.message,
        "`never guest-wifi ~> modalities` is violated over 2 hops"
    );
    let path = never.notes.join("\n");
    assert!(
        path.contains("1. guest-wifi -> jump-1 : tcp 172.31.0.1 -> 10.20.240.10:3389"),
        "{path}"
    );
    assert!(
        path.contains("2. jump-1 -> ct-1 : tcp 10.20.240.10 -> 10.20.110.11:3389"),
        "{path}"
    );
    assert_eq!(never.secondary.len(), 2, "one label per hop");
    insta::with_settings!({snapshot_path => "../snapshots/lint", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("chain@riverbend-with-chain.zonal", render::human(&l.db, never));
    });
}

#[test]
fn lints_can_be_turned_off_or_reclassified() {
    let l = load("policies/lint/L0101-unused-zone/flagged.zonal");
    let mut config = LintConfig::default();
    config.set_level("unused-zone", None).unwrap_or_default();
    assert!(lint(&l, &config).iter().all(|d| d.code != "L0101"));
    config
        .set_level("L0101", Some(zonal_diagnostics::Severity::Critical))
        .unwrap_or_default();
    let found = lint(&l, &config);
    assert!(
        found
            .iter()
            .any(|d| d.code == "L0101" && d.severity == zonal_diagnostics::Severity::Critical)
    );
    assert!(config.set_level("unused-zones", None).is_err());
}

#[test]
fn findings_are_deterministic() {
    let l = load("policies/examples/riverbend-radiology.zonal");
    let a = render_all(&l, &lint(&l, &LintConfig::default()));
    let b = render_all(&l, &lint(&l, &LintConfig::default()));
    assert_eq!(a, b);
}
