//! Every invalid fixture yields errors (snapshotted, rendered as the CLI
//! prints them); every valid fixture and example yields none.

use zonal_diagnostics::Severity;
use zonal_tests::{fixtures, load, render_diagnostics};

#[test]
fn invalid_fixtures_report_errors_with_locations() {
    let files = fixtures("policies/invalid");
    assert!(
        files.len() >= 20,
        "expected the invalid fixtures, found {}",
        files.len()
    );
    for f in files {
        let l = load(&f);
        assert!(
            l.diagnostics.iter().any(|d| d.severity == Severity::Error),
            "{f} should produce at least one error"
        );
        for d in &l.diagnostics {
            assert!(
                d.help.is_some(),
                "{f}: diagnostic {} has no help line",
                d.code
            );
            assert!(
                !d.message.ends_with('.'),
                "{f}: message ends with a period: {}",
                d.message
            );
        }
        let name = f.rsplit('/').next().unwrap_or(&f).to_string();
        insta::with_settings!({snapshot_path => "../snapshots/diagnostics", prepend_module_to_snapshot => false, input_file => f.clone()}, {
            insta::assert_snapshot!(format!("invalid@{name}"), render_diagnostics(&l));
        });
    }
}

#[test]
fn valid_fixtures_and_examples_have_no_errors() {
    let mut files = fixtures("policies/valid");
    files.extend(fixtures("policies/examples"));
    assert!(files.len() >= 2);
    for f in files {
        let l = load(&f);
        assert!(
            !l.diagnostics.has_input_errors(),
            "{f}:\n{}",
            render_diagnostics(&l)
        );
        assert!(l.policy.is_some(), "{f}: no model");
    }
}

#[test]
fn a_directory_of_several_policies_is_one_clear_error() {
    let l = load("policies/examples");
    // Two example hospitals in one directory: one error that names both
    // policies and both files, and no cascade of duplicates.
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0111"], "{}", render_diagnostics(&l));
    let d = &l.diagnostics.0[0];
    assert!(d.message.contains("`harbourview-imaging`"), "{}", d.message);
    assert!(d.message.contains("`riverbend-radiology`"), "{}", d.message);
    assert_eq!(d.secondary.len(), 1);
    assert_ne!(d.primary.span.file, d.secondary[0].span.file);
    assert!(l.policy.is_none());

    let fixture = "policies/invalid/two-policies-in-a-directory";
    let l = load(fixture);
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0111"], "{}", render_diagnostics(&l));
    insta::with_settings!({snapshot_path => "../snapshots/diagnostics", prepend_module_to_snapshot => false, input_file => fixture}, {
        insta::assert_snapshot!("invalid@two-policies-in-a-directory", render_diagnostics(&l));
    });
}
