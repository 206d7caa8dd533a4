//! Rendered size follows the policy, not the product of its zones, on the
//! hospital-shaped `zonal_synth` policies (output size measured in rules,
//! never in time).
//!
//! - iptables: a source zone with a pair to the catch-all zone (guest Wi-Fi
//!   to the internet) sends the other zones' destinations to the fallback.
//!   That list used to be every zone's prefixes again in every such
//!   `from_` chain (zones × source zones, 1.2 GB at 20,000 zones); it is now
//!   one aggregated list, shared by a `zonal_zoned` chain when several
//!   source zones need it.
//! - IOS: a permit written as its complement blocks the internal
//!   aggregates first; that blocker used to be one ACE per aggregate prefix
//!   and service (3.7 million ACEs at 20,000 zones), it is one ACE per
//!   service naming an object group.

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_synth::{SynthConfig, generate};
use zonal_tests::{checked_relaxed, policy_of_text, render_or_panic};

/// The rendered text of every artifact of `target`, for a synthetic policy
/// of `zones` zones (four devices and four flows per zone).
fn render(target: Target, zones: usize) -> Vec<String> {
    let config = SynthConfig {
        seed: 7,
        zones,
        devices: zones * 4,
        flows: zones * 4,
    };
    let policy = policy_of_text("synth.zonal", &generate(&config));
    let checked = checked_relaxed(policy);
    let firewall = Firewall::by_address("fw");
    let templates = Templates::embedded();
    let req = Request {
        checked: &checked,
        firewall: &firewall,
        templates: &templates,
    };
    render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect()
}

/// `(rules in from_ and zoned chains, from_ chains with a pair to the
/// catch-all zone)` of one iptables file.
fn iptables_dispatch(text: &str) -> (usize, usize) {
    let rules: Vec<&str> = text.lines().filter(|l| l.starts_with("-A ")).collect();
    let dispatch = rules
        .iter()
        .filter(|l| l.starts_with("-A zonal_from_") || l.starts_with("-A zonal_zoned "))
        .count();
    // The catch-all pair is the last, unconditional jump of a from_ chain
    // that also jumps to `zonal_zoned` or lists destinations to the deny.
    let to_catch = rules
        .iter()
        .filter(|l| l.starts_with("-A zonal_from_") && l.contains(" -j zonal_zoned"))
        .count();
    (dispatch, to_catch)
}

#[test]
fn iptables_dispatch_grows_linearly_with_the_zones() {
    let small = render(Target::Iptables, 60);
    let large = render(Target::Iptables, 240);
    for (fam, (s, l)) in ["IPv4", "IPv6"].iter().zip(small.iter().zip(&large)) {
        let ((ds, cs), (dl, cl)) = (iptables_dispatch(s), iptables_dispatch(l));
        eprintln!("{fam}: 60 zones {ds} dispatch rules ({cs} via zoned); 240 zones {dl} ({cl})");
        // Four times the zones: at most about four times the dispatch (a
        // list per catch-all user would make it about sixteen).
        assert!(dl <= ds * 5, "{fam}: {ds} -> {dl} dispatch rules");
    }
    // The synthetic policies have one guest zone per department, each with
    // a pair to the internet: several users, so the shared chain is used.
    let (_, users) = iptables_dispatch(&large[0]);
    assert!(users > 1, "no from_ chain jumps to zonal_zoned");
    let zoned_rules = large[0]
        .lines()
        .filter(|l| l.starts_with("-A zonal_zoned "))
        .count();
    // The 240 zones (IPv4 /24s, mostly adjacent) aggregate into a few
    // prefixes: far fewer rules than one per zone.
    assert!(
        zoned_rules * 4 < 240,
        "{zoned_rules} rules in zonal_zoned: the list is not aggregated"
    );
}

#[test]
fn ios_complement_blockers_are_one_ace_per_service() {
    for zones in [60, 240] {
        let text = render(Target::Ios, zones).concat();
        let mut sections = 0;
        let mut lines = text.lines().map(str::trim).peekable();
        while let Some(l) = lines.next() {
            if !(l.starts_with("remark ") && l.ends_with("(as its complement)")) {
                continue;
            }
            sections += 1;
            let (mut blockers, mut permits) = (0, 0);
            while let Some(next) = lines.peek() {
                if next.starts_with("remark ")
                    || !(next.starts_with("deny ") || next.starts_with("permit "))
                {
                    break;
                }
                if next.starts_with("deny ") {
                    assert!(
                        next.contains(" object-group OG_NOT_") || !next.contains(" any"),
                        "{next}"
                    );
                    blockers += 1;
                } else {
                    permits += 1;
                }
                lines.next();
            }
            assert_eq!(
                blockers, permits,
                "{zones} zones: one blocker ACE per permitted service ({l})"
            );
        }
        assert!(sections > 0, "{zones} zones: no complement-written permit");
    }
}
