//! `zonal learn`'s draft: it loads, never allows `any` or a port range,
//! and replaying the same traffic against it denies nothing but the
//! suspected threats it left out.

use zonal_model::{Date, Options, Policy, load_str};
use zonal_observe::learn::{Learn, inventory_declarations};
use zonal_observe::traffic::{Traffic, TrafficConfig};
use zonal_observe::{Flow, Replay, ReplayReport};

const EXAMPLE: &str = include_str!("../../../policies/examples/riverbend-radiology.zonal");

fn options() -> Options {
    Options {
        today: Date::new(2026, 12, 6).unwrap_or_else(|| panic!("date")),
    }
}

fn load(text: &str) -> (zonal_model::Loaded, Policy) {
    let loaded = load_str("draft.zonal", text, &options());
    assert!(
        !loaded.diagnostics.has_input_errors(),
        "{:?}\n{text}",
        loaded.diagnostics
    );
    let p = loaded.policy.clone().unwrap_or_else(|| panic!("no policy"));
    (loaded, p)
}

fn traffic(p: &Policy, seed: u64, noise: u32) -> Vec<Flow> {
    let mut c = TrafficConfig::clean(seed, 4000);
    c.noise_percent = noise;
    Traffic::new(p, c).map(|f| f.flow).collect()
}

fn replay(p: &Policy, flows: &[Flow]) -> ReplayReport {
    let mut r = Replay::new(p);
    for f in flows {
        r.observe(f);
    }
    r.finish(&|_| String::new())
}

fn assert_narrow(draft: &str) {
    for l in draft.lines().filter(|l| l.starts_with("allow")) {
        assert!(!l.contains(" any"), "{l}");
        let services = l.split(" : ").nth(1).unwrap_or("");
        let services = services.split('"').next().unwrap_or("");
        for term in services.split(',').map(str::trim) {
            if let Some((proto, ports)) = term.split_once(' ') {
                assert!(
                    !(["tcp", "udp"].contains(&proto) && ports.contains('-')),
                    "a port range: {l}"
                );
            }
        }
    }
}

#[test]
fn a_draft_from_subnets_replays_clean() {
    let (_, example) = load(EXAMPLE);
    let flows = traffic(&example, 21, 0);
    let mut learn = Learn::new(None);
    for f in &flows {
        learn.observe(f);
    }
    let draft = learn.draft("observed-site", None);
    assert!(draft.rules > 10, "{}", draft.text);
    assert!(draft.threats.is_empty());
    assert_narrow(&draft.text);
    assert!(
        draft.text.contains("zone net-10-20-110 {"),
        "{}",
        draft.text
    );
    assert!(
        draft
            .text
            .contains("device host-10-20-110-11 { address 10.20.110.11 }"),
        "{}",
        draft.text
    );
    assert!(
        draft.text.contains(": dicom \"REVIEW: observed"),
        "{}",
        draft.text
    );
    let (_, p) = load(&draft.text);
    let r = replay(&p, &flows);
    assert_eq!(r.denied, 0, "{:#?}\n{}", r.denied_aggregates, draft.text);
    assert_eq!(r.allowed, flows.len() as u64);
}

#[test]
fn a_draft_against_the_inventory_replays_clean_except_the_threats_it_flags() {
    let (loaded, example) = load(EXAMPLE);
    let flows = traffic(&example, 22, 4);
    let mut learn = Learn::new(Some(&example));
    for f in &flows {
        learn.observe(f);
    }
    let draft = learn.draft("unused", Some(&inventory_declarations(&loaded)));
    assert_narrow(&draft.text);
    assert!(!draft.threats.is_empty());
    assert!(draft.text.contains(
        "# ---------------------------------------------------------------- suspected threats"
    ));
    assert!(
        draft.text.contains("never guest-wifi ~> modalities"),
        "invariants are kept"
    );
    // The workflows were drafted with the listener's service names.
    assert!(draft.text.contains("-> pacs-1 : dicom"), "{}", draft.text);
    let (_, p) = load(&draft.text);
    let r = replay(&p, &flows);
    assert!(r.denied > 0);
    for d in &r.denied_aggregates {
        assert!(d.threat.is_some(), "only threats are left out: {d:?}");
    }
    let clean = traffic(&example, 23, 0);
    let mut learn = Learn::new(Some(&example));
    for f in &clean {
        learn.observe(f);
    }
    let draft = learn.draft("unused", Some(&inventory_declarations(&loaded)));
    let (_, p) = load(&draft.text);
    let r = replay(&p, &clean);
    assert_eq!(r.denied, 0, "{:#?}", r.denied_aggregates);
}
