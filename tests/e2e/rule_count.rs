//! Every artifact's `rule_count` (what `zonal build` reports as `wrote …
//! (N rules)`) against a count taken from the rendered text alone, for
//! every target, every example and valid fixture, and every firewall of
//! the deploy examples.
//!
//! The counters below only read the configuration text; they share no code
//! with the renderers. What counts as a rule, per target:
//! - nftables: every statement line inside a `chain` block (not its
//!   `comment` or `type … hook` line), dispatch vmaps included;
//! - iptables: every `-A` line;
//! - pf: every `pass` or `block` line;
//! - ios: every `permit` or `deny` ACE (with or without a sequence number);
//! - asa: every `access-list … extended permit|deny` line;
//! - srx: every distinct security policy name in Zonal's group (per zone
//!   pair or global);
//! - panos: every distinct security rule name;
//! - fortigate: every `edit` entry of `config firewall policy` but the
//!   disabled ones (`set status disable`: Zonal's `zonal-begin` marker).

use std::collections::BTreeSet;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{fixtures, load};

/// The number of rules in `text`, by the target's counting rule above.
fn count_in_text(target: Target, text: &str) -> usize {
    let lines = text.lines().map(str::trim);
    match target {
        Target::Nftables => nft_rules(text),
        Target::Iptables => lines.filter(|l| l.starts_with("-A ")).count(),
        Target::Pf => lines
            .filter(|l| l.starts_with("pass ") || l.starts_with("block "))
            .count(),
        Target::Ios => lines
            .filter(|l| {
                let l = l.trim_start_matches(|c: char| c.is_ascii_digit()).trim();
                l.starts_with("permit ") || l.starts_with("deny ")
            })
            .count(),
        Target::Asa => lines
            .filter(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                matches!(
                    w.as_slice(),
                    ["access-list", _, "extended", "permit" | "deny", ..]
                )
            })
            .count(),
        Target::Srx => distinct_after(text, "set groups ", " policy "),
        Target::Panos => distinct_after(text, "", " rulebase security rules "),
        Target::Fortigate => fortigate_policies(text),
    }
}

/// Statement lines inside nftables `chain` blocks.
fn nft_rules(text: &str) -> usize {
    let mut in_chain = false;
    let mut n = 0;
    for l in text.lines().map(str::trim) {
        if l.starts_with("chain ") && l.ends_with('{') {
            in_chain = true;
        } else if in_chain && l == "}" {
            in_chain = false;
        } else if in_chain
            && !l.is_empty()
            && !l.starts_with("comment ")
            && !l.starts_with("type ")
            && !l.starts_with('#')
        {
            n += 1;
        }
    }
    n
}

/// Distinct words following `marker` on lines that start with `start`.
fn distinct_after(text: &str, start: &str, marker: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with(start))
        .filter_map(|l| l.split_once(marker))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Enabled `edit` entries at the top level of `config firewall policy`.
fn fortigate_policies(text: &str) -> usize {
    let mut depth = 0usize;
    let mut in_policy = false;
    let mut n = 0;
    for l in text.lines().map(str::trim) {
        if l.starts_with("config ") {
            if depth == 0 {
                in_policy = l == "config firewall policy";
            }
            depth += 1;
        } else if l == "end" {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                in_policy = false;
            }
        } else if in_policy && depth == 1 && l.starts_with("edit ") {
            n += 1;
        } else if in_policy && depth == 1 && l == "set status disable" {
            n -= 1;
        }
    }
    n
}

fn policy_of(rel: &str) -> Policy {
    let l = load(rel);
    assert!(!l.diagnostics.has_input_errors(), "{rel} has input errors");
    l.policy.unwrap_or_else(|| panic!("{rel}: no model"))
}

/// Renders `firewall` for `target` and compares every artifact's count with
/// the text. Returns the mismatches as messages.
fn check(label: &str, policy: &Policy, firewall: &Firewall, target: Target) -> Vec<String> {
    let templates = Templates::embedded();
    let checked = zonal_tests::checked(policy.clone());
    let req = Request {
        checked: &checked,
        firewall,
        templates: &templates,
    };
    let mut db = SourceDb::new();
    let r = zonal_backend::render(target, &req, &mut db)
        .unwrap_or_else(|d| panic!("{label} {target}: render failed: {d:?}"));
    let mut out = Vec::new();
    for a in &r.artifacts {
        let counted = count_in_text(target, &a.text);
        assert!(counted > 0, "{label} {target}: the counter found no rule");
        if counted != a.rule_count {
            out.push(format!(
                "{label} {} {}: rule_count {} but the text has {counted}",
                firewall.name, a.extension, a.rule_count
            ));
        }
    }
    out
}

#[test]
fn rule_count_matches_the_rendered_text_for_every_target() {
    let mut rels = fixtures("policies/examples");
    rels.extend(fixtures("policies/valid"));
    assert!(!rels.is_empty());
    let mut mismatches = Vec::new();
    for rel in &rels {
        let policy = policy_of(rel);
        let fw = Firewall::by_address(policy.name.clone());
        for target in Target::ALL {
            mismatches.extend(check(rel, &policy, &fw, target));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn rule_count_matches_the_rendered_text_for_the_deploy_examples() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let dir = zonal_tests::repo_root().join("policies/deploy");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("policies/deploy")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut mismatches = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("binding");
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let mut db = SourceDb::new();
        let id = db.add(&name, &text);
        let b = zonal_backend::parse_binding(id, &text, &policy)
            .unwrap_or_else(|d| panic!("{name}: {d:?}"));
        for fw in &b.firewalls {
            let target = fw.target.expect("a parsed binding has targets");
            mismatches.extend(check(&name, &policy, fw, target));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
