//! The `zonal` command as a user runs it: exit codes, stdout and stderr.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo, run_snapshot as snapshot, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

#[test]
fn invalid_input_exits_2_with_located_errors() {
    let r = zonal(&["check", "policies/invalid/unknown-zone.zonal"], &repo());
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("check_unknown_zone", snapshot(&r));
}

#[test]
fn json_output_is_only_json() {
    let r = zonal(
        &[
            "check",
            "--format",
            "json",
            "policies/invalid/host-bits.zonal",
        ],
        &repo(),
    );
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("stdout is JSON");
    let first = &v.as_array().expect("array")[0];
    assert_eq!(first["code"], "E0202");
    assert_eq!(
        first["location"]["file"],
        "policies/invalid/host-bits.zonal"
    );
    assert_eq!(first["location"]["line"], 3);
    assert_eq!(first["help"], "write `10.20.110.0/24`");
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let r = zonal(
        &[
            "check",
            "--format",
            "short",
            "policies/invalid/overlapping-zones.zonal",
        ],
        &repo(),
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stdout.trim(),
        "policies/invalid/overlapping-zones.zonal:4:6: error[E0206]: zone `site-c-modalities` overlaps zone `site-b-modalities`"
    );
}

/// The acceptance scenario of the front end: break a copy of the example in
/// five ways; each time the error points at the exact line and column.
#[test]
fn five_ways_to_break_the_example() {
    let original = std::fs::read_to_string(repo().join(EXAMPLE)).unwrap();
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "allow modalities-all -> pacs-1 : dicom",
            "allow modalities-al -> pacs-1 : dicom",
            "E0104",
            "did you mean `modalities-all`?",
        ),
        (
            "network 10.20.110.0/24",
            "network 10.20.110.1/24",
            "E0202",
            "write `10.20.110.0/24`",
        ),
        (
            "allow mg-1 -> cad-1 : dicom",
            "allow mg-1 => cad-1 : dicom",
            "E0",
            "`->`",
        ),
        (
            "allow hie-1 -> ris-1 : hl7",
            "allow hie-1 -> ris-1 : hl8",
            "E0105",
            "did you mean `hl7`?",
        ),
        (
            "address 10.20.110.22",
            "address 10.20.111.22",
            "E0205",
            "correct the address",
        ),
    ];
    let dir = temp_dir("break");
    for (i, (from, to, code, help)) in cases.iter().enumerate() {
        assert!(original.contains(from), "example changed: {from}");
        let broken = original.replacen(from, to, 1);
        let path = dir.join(format!("broken-{i}.zonal"));
        std::fs::write(&path, &broken).unwrap();
        let line = broken[..broken.find(to).unwrap()].lines().count()
            + usize::from(broken[..broken.find(to).unwrap()].ends_with('\n'));
        let r = zonal(
            &["check", "--format", "short", path.to_str().unwrap()],
            &dir,
        );
        assert_eq!(r.code, 2, "case {i}: {}", r.stdout);
        let expected_prefix = format!("broken-{i}.zonal:{line}:");
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(&expected_prefix) && l.contains(&format!("error[{code}"))),
            "case {i}: expected an error at line {line}, got:\n{}",
            r.stdout
        );
        let human = zonal(&["check", path.to_str().unwrap()], &dir);
        assert!(
            human.stdout.contains(help),
            "case {i}: help `{help}` missing:\n{}",
            human.stdout
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_path_is_an_io_error() {
    let r = zonal(&["check", "no/such/policy.zonal"], &repo());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no such file or directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_error_exits_2() {
    let r = zonal(&["check", "--format", "xml", EXAMPLE], &repo());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid value 'xml'"), "{}", r.stderr);
}

#[test]
fn explain_prints_the_page() {
    let r = zonal(&["explain", "E0206"], &repo());
    assert_eq!(r.code, 0);
    let page = std::fs::read_to_string(repo().join("docs/diagnostics/E0206.md")).unwrap();
    assert_eq!(r.stdout, page);
    let r = zonal(&["explain", "E9999"], &repo());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no documentation for `E9999`"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_has_examples_and_completions_work() {
    let r = zonal(&["check", "--help"], &repo());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Examples:"), "{}", r.stdout);
    let r = zonal(&["completions", "bash"], &repo());
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("_zonal()"),
        "{}",
        &r.stdout[..r.stdout.len().min(200)]
    );
}

#[test]
fn fmt_is_idempotent_and_check_detects_changes() {
    let dir = temp_dir("fmt");
    let messy = "policy   t{owner \"x\"}\nzone a {network 10.0.0.0/24 trust low}\n# keep me\nallow a->a:https \"why\" # trailing\n";
    let f = dir.join("p.zonal");
    std::fs::write(&f, messy).unwrap();
    let r = zonal(&["fmt", "--check", "p.zonal"], &dir);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        messy,
        "--check must not write"
    );
    let r = zonal(&["fmt", "p.zonal"], &dir);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let once = std::fs::read_to_string(&f).unwrap();
    assert!(
        once.contains("# keep me") && once.contains("# trailing"),
        "{once}"
    );
    let r = zonal(&["fmt", "--check", "p.zonal"], &dir);
    assert_eq!(
        r.code, 0,
        "formatting is not idempotent:\n{once}\n{}",
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn query_path_alone_follows_any_service() {
    let r = zonal(
        &[
            "query", EXAMPLE, "--from", "pra-1", "--to", "ct-1", "--path",
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("pra-1 -> ct-1 : any service\npath (3 hops):"),
        "{}",
        r.stdout
    );
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "guest-wifi",
            "--to",
            "nm-1",
            "--path",
        ],
        &repo(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("no chain of permitted flows leads from guest-wifi to nm-1"),
        "{}",
        r.stdout
    );
}

/// `--color always` colours diagnostics; `never` (and `auto` on a pipe, as
/// in every other test) prints plain text, and the words are the same.
#[test]
fn color_is_chosen_with_the_color_flag() {
    let path = "policies/invalid/unknown-zone.zonal";
    let always = zonal(&["--color", "always", "check", path], &repo());
    let never = zonal(&["check", "--color", "never", path], &repo());
    let auto = zonal(&["check", path], &repo());
    assert_eq!(always.code, 2);
    assert!(
        always.stdout.contains("\u{1b}[1;31merror[E0104]"),
        "{}",
        always.stdout
    );
    assert!(!never.stdout.contains('\u{1b}'), "{}", never.stdout);
    assert_eq!(never.stdout, auto.stdout);
    assert!(always.stdout.len() > never.stdout.len());
    let r = zonal(&["check", "--color", "sometimes", path], &repo());
    assert_eq!(r.code, 2);
}
