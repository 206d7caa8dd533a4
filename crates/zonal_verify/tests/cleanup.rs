//! The network is deleted whatever happens: here the rendered rules do not
//! load, the run fails, and no namespace of this process is left behind.
//! Needs root (CI runs as root); fails, never skips, when it cannot run.

use zonal_model::{Date, Options, load_str};
use zonal_verify::{Config, Ruleset, VerifyError, verify};

const POLICY: &str = r#"
policy cleanup { owner "tests" }
zone a { network 10.70.1.0/24  trust low  kind clinical }
zone b { network 10.70.2.0/24  trust low  kind servers }
allow a -> b : https "web"
"#;

fn namespaces_of_this_process() -> Vec<String> {
    let prefix = format!("zv{}x", std::process::id());
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_ruleset_that_does_not_load_fails_the_run_and_leaves_no_namespace() {
    if let Err(why) = zonal_verify::preflight(&["ip", "nft"]) {
        panic!("the kernel proof cannot run on this machine: {why}");
    }
    let options = Options {
        today: Date::new(2026, 11, 28).unwrap(),
    };
    let policy = load_str("cleanup.zonal", POLICY, &options).policy.unwrap();
    let broken =
        Ruleset::Nftables("table inet zonal {\n  chain forward { this is not nft }\n}\n".into());
    match verify(&policy, &broken, &Config::default()) {
        Err(VerifyError::Load(e)) => {
            assert_eq!(e.action, "load the nftables ruleset");
            assert!(e.detail.contains("nft"), "{e}");
        }
        other => panic!("expected a load failure, got {other:?}"),
    }
    assert_eq!(namespaces_of_this_process(), Vec::<String>::new());
    // A run that works cleans up too.
    let open = Ruleset::Nftables(
        "table inet t {\n  chain forward { type filter hook forward priority filter; policy accept; }\n}\n".into(),
    );
    let report = verify(&policy, &open, &Config::default()).unwrap();
    assert!(!report.plan.probes.is_empty());
    assert_eq!(namespaces_of_this_process(), Vec::<String>::new());
}
