//! `zonal query` answers for whole sets, in the model `zonal check` uses:
//! the cases where it used to test one sample, ask about port 0, ignore an
//! option, print packets of the wrong family or search another graph.

use std::path::Path;

use zonal_tests::{Run, repo_root as repo, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

#[test]
fn a_zone_query_judges_every_place_not_one_sample() {
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "modalities",
            "--to",
            "imaging-servers",
            "--service",
            "dicom",
        ],
        &repo(),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("partly allowed"), "{}", r.stdout);
    assert!(r.stdout.contains("  allow tcp "), "{}", r.stdout);
    assert!(r.stdout.contains("  deny  tcp "), "{}", r.stdout);
    assert!(r.stdout.contains("denied between: "), "{}", r.stdout);
}

#[test]
fn a_protocol_without_a_port_means_every_port() {
    let r = zonal(
        &[
            "query", EXAMPLE, "--from", "ct-1", "--to", "pacs-1", "--proto", "tcp",
        ],
        &repo(),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("tcp (every port)"), "{}", r.stdout);
    assert!(r.stdout.contains("partly allowed"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(":0 "),
        "port 0 is no witness: {}",
        r.stdout
    );
}

#[test]
fn a_port_with_a_named_service_is_an_error() {
    let r = zonal(
        &[
            "query",
            EXAMPLE,
            "--from",
            "ct-1",
            "--to",
            "pacs-1",
            "--service",
            "dicom",
            "--port",
            "443",
        ],
        &repo(),
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("`--port` goes with `--proto`"),
        "{}",
        r.stderr
    );
}

const DUAL: &str = "policy dual { owner \"t\" }
zone a { network 10.1.0.0/24, fd00:1::/64  trust medium  kind clinical }
zone b { network 10.2.0.0/24, fd00:2::/64  trust medium  kind servers
  device pacs { address 10.2.0.10  listens dicom on 11112 } }
zone c { network 10.3.0.0/24  trust high  kind pacs }
allow a -> b : icmp-echo \"ping\"
allow a -> pacs : dicom \"store\"
allow a -> pacs : https \"viewer\"
allow pacs -> c : ssh \"admin\"
";

/// A directory of the test's own (tests run in parallel threads).
fn dual(test: &str) -> std::path::PathBuf {
    let dir = temp_dir(&format!("query-exact-{test}"));
    std::fs::write(dir.join("dual.zonal"), DUAL).unwrap_or_else(|e| panic!("write: {e}"));
    dir
}

#[test]
fn icmp_echo_is_ping_in_each_family() {
    let dir = dual("icmp_echo_is_ping_in_each_family");
    let r = zonal(
        &[
            "query",
            "dual.zonal",
            "--from",
            "a",
            "--to",
            "b",
            "--service",
            "icmp-echo",
        ],
        &dir,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("allowed: every packet"), "{}", r.stdout);
    assert!(r.stdout.contains("type 8"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("icmp 10.1.0.1 -> 10.2.0.1 type 128"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_named_service_means_the_listener_port() {
    let dir = dual("a_named_service_means_the_listener_port");
    let r = zonal(
        &[
            "query",
            "dual.zonal",
            "--from",
            "a",
            "--to",
            "pacs",
            "--service",
            "dicom",
        ],
        &dir,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(":11112"), "{}", r.stdout);
}

#[test]
fn path_uses_the_pivot_services_of_the_project() {
    let dir = dual("path_uses_the_pivot_services_of_the_project");
    // Without pivot services: a -> pacs (https) -> c (ssh).
    let r = zonal(
        &["query", "dual.zonal", "--from", "a", "--to", "c", "--path"],
        &dir,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("path (2 hops)"), "{}", r.stdout);
    // Pivoting only over RDP, the https hop no longer leads on.
    std::fs::write(
        dir.join("zonal.toml"),
        "[analysis]\npivot-services = [\"rdp\"]\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let r = zonal(
        &["query", "dual.zonal", "--from", "a", "--to", "c", "--path"],
        &dir,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("no chain"), "{}", r.stdout);
}

#[test]
fn path_from_an_address_starts_at_its_own_place() {
    let dir = dual("path_from_an_address_starts_at_its_own_place");
    // 10.2.0.20 is in zone b but not the device `pacs`: it reaches nothing.
    let r = zonal(
        &[
            "query",
            "dual.zonal",
            "--from",
            "10.2.0.20",
            "--to",
            "c",
            "--path",
        ],
        &dir,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let r = zonal(
        &[
            "query",
            "dual.zonal",
            "--from",
            "10.2.0.10",
            "--to",
            "c",
            "--path",
        ],
        &dir,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("path (1 hop)"), "{}", r.stdout);
}

#[test]
fn path_crosses_families_through_a_dual_stack_host() {
    let dir = temp_dir("query-families");
    std::fs::write(
        dir.join("p.zonal"),
        "policy p { owner \"t\" }
zone v6 { network fd00:6::/64  trust low  kind clinical }
zone mid { network 10.5.0.0/24, fd00:5::/64  trust medium  kind servers
  device j { address 10.5.0.5, fd00:5::5 } }
zone v4 { network 10.4.0.0/24  trust high  kind pacs }
allow v6 -> j : ssh \"in over IPv6\"
allow j -> v4 : https \"on over IPv4\"
",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let r = zonal(
        &["query", "p.zonal", "--from", "v6", "--to", "v4", "--path"],
        &dir,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("path (2 hops)"), "{}", r.stdout);
}
