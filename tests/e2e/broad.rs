//! Broad rules cost rules in proportion to the policy, not to the product
//! of the zones they span: `allow any -> any : icmp-echo` and group → group
//! rules over most of the network render once per family with their
//! address sets on every target that can name them (output size measured
//! in rules, never in time).
//!
//! The same policy at two sizes: a target whose count does not depend on
//! the zones renders the same number of rules at both; the others are
//! bounded by a multiple of the zone count (one ACE per interface ACL or
//! source prefix), never by its square.

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_tests::{checked_relaxed, policy_of_text, render_or_panic};

/// `n` zones (each an IPv4 /24 and an IPv6 /64 with one device), five
/// groups of 40% of the zones each allowed to another 40%, and ping
/// everywhere.
fn broad_policy(n: usize) -> String {
    let mut out =
        String::from("policy broad {\n  owner \"net\"\n  description \"broad rules\"\n}\n");
    for i in 0..n {
        let (a, b) = (i / 250, i % 250);
        out.push_str(&format!(
            "zone z{i} {{\n  network 10.{a}.{b}.0/24\n  network fd00:{i:x}::/64\n  device d{i} {{\n    address 10.{a}.{b}.10\n  }}\n}}\n"
        ));
    }
    let width = n * 2 / 5;
    for g in 0..5 {
        let lo = g * n / 10;
        let members = |start: usize| -> Vec<String> {
            (0..width)
                .map(|k| format!("z{}", (start + k) % n))
                .collect()
        };
        out.push_str(&format!("group ga{g} = {}\n", members(lo).join(", ")));
        out.push_str(&format!(
            "group gb{g} = {}\n",
            members(lo + n / 2).join(", ")
        ));
    }
    out.push_str("allow any -> any : icmp-echo \"ping everywhere\"\n");
    for g in 0..5 {
        out.push_str(&format!("allow ga{g} -> gb{g} : https \"wide {g}\"\n"));
    }
    out
}

/// Rules per target (the sum over its artifacts).
fn counts(n: usize) -> Vec<(Target, usize, usize)> {
    let policy = policy_of_text("broad.zonal", &broad_policy(n));
    let checked = checked_relaxed(policy);
    let firewall = Firewall::by_address("broad");
    let templates = Templates::embedded();
    let req = Request {
        checked: &checked,
        firewall: &firewall,
        templates: &templates,
    };
    Target::ALL
        .iter()
        .map(|&t| {
            let r = render_or_panic(t, &req);
            let rules = r.artifacts.iter().map(|a| a.rule_count).sum();
            let bytes = r.artifacts.iter().map(|a| a.text.len()).sum();
            (t, rules, bytes)
        })
        .collect()
}

#[test]
fn broad_rules_do_not_multiply_by_zone_pairs() {
    let small = counts(40);
    let large = counts(120);
    for ((t, rules_s, bytes_s), (_, rules_l, bytes_l)) in small.iter().zip(&large) {
        eprintln!(
            "{t}: 40 zones {rules_s} rules {bytes_s} bytes; 120 zones {rules_l} rules {bytes_l} bytes"
        );
        match t {
            // One rule per wide entry and family, whatever the zones.
            // (IOS: both families through network object groups.)
            Target::Nftables
            | Target::Pf
            | Target::Ios
            | Target::Panos
            | Target::Fortigate
            | Target::Srx => {
                assert_eq!(rules_s, rules_l, "{t}: the rule count grows with the zones");
            }
            // iptables: the wide chain has one jump per source prefix of a
            // group (IPv6 /64s do not aggregate); ASA writes one entry per
            // interface ACL.
            _ => assert!(
                *rules_l <= 40 * 120,
                "{t}: {rules_l} rules for 120 zones grows faster than the zones"
            ),
        }
        // Output size: the address sets grow with the zones, linearly.
        assert!(
            *bytes_l <= bytes_s * 6,
            "{t}: {bytes_s} bytes at 40 zones, {bytes_l} at 120"
        );
    }
}
