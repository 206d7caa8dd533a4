//! The calibrated blast radius (L0309) on a generated 2,000-zone hospital:
//! the packet-reachability model flags most zones (every hop counts,
//! syslog into the SIEM and ping out of it included); the default
//! exploitation model flags few, and reports each hub once.

use zonal_lint::{BlastRadiusModel, LintConfig, check, registry};
use zonal_model::{Options, load_str};
use zonal_synth::{SynthConfig, generate};

/// Findings of L0309 alone, and the zones they cover (the reported zone
/// plus the zones reported once through it).
fn blast(policy: &zonal_model::Policy, model: BlastRadiusModel) -> (usize, usize) {
    let mut config = LintConfig::default();
    for info in registry() {
        if info.code != "L0309"
            && let Err(e) = config.set_level(info.code, None)
        {
            panic!("{e}");
        }
    }
    config.blast_radius_model = model;
    let found = check(policy, &config);
    let mut findings = 0;
    let mut zones = 0;
    for d in found.iter().filter(|d| d.code == "L0309") {
        findings += 1;
        zones += 1;
        for n in &d.notes {
            if let Some(rest) = n.strip_prefix("reported once for ") {
                zones += rest
                    .split_whitespace()
                    .next()
                    .and_then(|k| k.parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
    }
    (findings, zones)
}

#[test]
fn exploitation_model_flags_few_zones_of_a_large_hospital() {
    let config = SynthConfig {
        seed: 7,
        zones: 2_000,
        devices: 6_000,
        flows: 12_000,
    };
    let text = generate(&config);
    let options = Options {
        today: zonal_tests::today(),
    };
    let l = load_str("synth.zonal", &text, &options);
    let Some(policy) = &l.policy else {
        panic!("the generated policy does not resolve")
    };
    let n = policy.zones.len();
    let (packet, packet_zones) = blast(policy, BlastRadiusModel::Packet);
    let (exploit, exploit_zones) = blast(policy, BlastRadiusModel::Exploit);
    eprintln!(
        "L0309 on {n} zones: packet model {packet} findings ({packet_zones} zones), exploit model {exploit} findings ({exploit_zones} zones)"
    );
    assert!(
        packet_zones * 2 > n,
        "the packet model should flag most zones: {packet_zones} of {n}"
    );
    assert!(
        exploit_zones * 10 < n,
        "the exploitation model flags too many zones: {exploit_zones} of {n}"
    );
    assert!(exploit <= exploit_zones);
}
