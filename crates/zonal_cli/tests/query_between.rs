//! `zonal query` without a service: everything allowed between X and Y,
//! with `any` and prefixes as X and Y.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

fn query(from: &str, to: &str) -> Run {
    zonal(&["query", EXAMPLE, "--from", from, "--to", to], &repo())
}

#[test]
fn everything_allowed_between_two_zones_per_device_with_the_rule() {
    let r = query("vendor-dmz", "modalities");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().filter(|l| !l.contains("e.g.")).collect();
    assert_eq!(
        lines,
        [
            "vendor-dmz -> modalities : everything allowed",
            "  pra-1 -> mr-1 : tcp 22,443,5900",
            "  pra-1 -> us-1 : tcp 443,5900",
            "  pra-1 -> us-2 : tcp 22,443,5900",
            "  srs-1 -> ct-1 : tcp 443,3389, udp 3389",
            "  srs-1 -> rf-1 : tcp 443,3389, udp 3389",
        ]
    );
    assert!(
        r.stdout.contains(
            "e.g. tcp 10.20.250.5 -> 10.20.110.41:443 by `allow-pra-1-to-us-1-vnc` at policies/examples/riverbend-radiology.zonal:354:1"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn nothing_allowed_exits_1() {
    let r = query("guest-wifi", "modalities");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("nothing: no rule allows any traffic"),
        "{}",
        r.stdout
    );
}

#[test]
fn any_and_prefixes_are_accepted() {
    let r = query("any", "dc-1");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("  ct-1 -> dc-1 : tcp 53, udp 53,123"),
        "{}",
        r.stdout
    );
    // A prefix: the example packet lies inside it.
    let r = query("10.20.250.0/24", "10.20.110.41");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("  pra-1 -> us-1 : tcp 443,5900"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("srs-1"), "{}", r.stdout);
    let r = query("guest-wifi", "10.20.0.0/16");
    assert!(r.stdout.contains("-> 10.20.0.1:53"), "{}", r.stdout);
    // With a service, the verdict of one packet as before.
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "any",
            "--to",
            "pacs-1",
            "--service",
            "dicom",
        ],
        &repo(),
    );
    assert!(
        r.stdout.starts_with("any -> pacs-1 : dicom"),
        "{}",
        r.stdout
    );
    let r = query("10.20.0.0/33", "dc-1");
    assert_eq!(r.code, 2);
}
