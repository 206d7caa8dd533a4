//! The review on the bundled example (snapshots of the three forms), and
//! the reachability computation checked against `decide` on seeded random
//! policies and their edits (its slow twin).

use std::net::IpAddr;
use std::path::Path;

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP};
use zonal_model::{Action, Family, Loaded, Options, Policy, load_str};
use zonal_pipeline::ProjectConfig;

use crate::places::places;
use crate::{Change, Side, prepare, review};

const EXAMPLE: &str = include_str!("../../../policies/examples/riverbend-radiology.zonal");
const NAME: &str = "riverbend-radiology.zonal";

fn loaded(text: &str) -> Loaded {
    load_str(
        NAME,
        text,
        &Options {
            today: zonal_tests::today(),
        },
    )
}

fn side(text: &str) -> Side {
    match prepare(loaded(text), &ProjectConfig::defaults(Path::new(".")), None) {
        Ok(s) => s,
        Err(e) => panic!("unusable: {e:?}"),
    }
}

/// The example with one line added after the guest rule.
fn with_line(line: &str) -> String {
    let anchor = "allow guest-wifi -> internet : https, dns \"guest internet\"\n";
    assert!(
        EXAMPLE.contains(anchor),
        "the example changed: update the anchor"
    );
    EXAMPLE.replace(anchor, &format!("{anchor}{line}\n"))
}

/// A guest rule to the PRA appliance opens a chain guest-wifi -> pra-1 ->
/// a modality (pra-1's vendor-service rules).
fn guest_to_pra() -> String {
    with_line("allow guest-wifi -> pra-1 : https \"guest access to the PRA portal\"")
}

#[test]
fn a_transitive_path_from_guests_to_a_modality_is_a_new_path_with_its_hops() {
    let r = review(&side(EXAMPLE), &side(&guest_to_pra()));
    assert!(r.semantic_change);
    let p = r
        .paths
        .iter()
        .find(|p| p.from == "guest-wifi" && p.to == "modalities")
        .expect("a new path guest-wifi ~> modalities");
    assert_eq!(p.change, Change::Added);
    assert_eq!(p.hops.len(), 2);
    assert_eq!(
        (p.hops[0].from.as_str(), p.hops[0].to.as_str()),
        ("guest-wifi", "pra-1")
    );
    assert_eq!(p.hops[0].rule, "allow-guest-wifi-to-pra-1-https");
    assert_eq!(p.hops[1].from, "pra-1");
    let md = crate::markdown(&r);
    assert!(
        md.contains("**new path** `guest-wifi` ⇝ `modalities`"),
        "{md}"
    );
    assert!(md.contains("1. `guest-wifi` → `pra-1`"), "{md}");
    assert!(md.contains("2. `pra-1` → "), "{md}");
    // The invariant it breaks is a new critical finding; the new side is
    // not rendered, and the review says so.
    assert!(
        !r.new_findings_at_or_above(zonal_diagnostics::Severity::Critical)
            .is_empty()
    );
    assert!(
        r.not_rendered
            .as_deref()
            .is_some_and(|n| n.starts_with("new side"))
    );
    insta::assert_snapshot!("guest_to_pra_markdown", md);
    insta::assert_snapshot!("guest_to_pra_human", crate::human(&r, false));
    insta::assert_snapshot!("guest_to_pra_json", crate::json(&r));
}

#[test]
fn colour_is_only_added_when_asked() {
    let r = review(&side(EXAMPLE), &side(&guest_to_pra()));
    assert!(!crate::human(&r, false).contains('\x1b'));
    let c = crate::human(&r, true);
    assert!(
        c.contains("\x1b[32m+ allow-guest-wifi-to-pra-1-https"),
        "{c}"
    );
}

#[test]
fn a_reformat_and_a_reordering_are_no_semantic_change() {
    // `zonal fmt` of a policy written untidily, with its rules reordered.
    let mut lines: Vec<&str> = EXAMPLE.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .expect("the example's rule")
    };
    let (a, b) = (
        at("allow mg-1 -> cad-1 "),
        at("allow guest-wifi -> internet "),
    );
    lines.swap(a, b);
    let untidy: String = lines
        .iter()
        .map(|l| match l.strip_prefix("allow ") {
            // Outside strings only: the rule's head, before its justification.
            Some(rest) => {
                let (head, tail) = rest.split_once('"').unwrap_or((rest, ""));
                let head = head.replace(" -> ", "   ->  ").replace(", ", " ,");
                let quote = if tail.is_empty() { "" } else { "\"" };
                format!("   allow   {head}{quote}{tail}\n")
            }
            None => format!("{l}\n"),
        })
        .collect();
    let parsed = zonal_syntax::parse(zonal_diagnostics::FileId(0), &untidy);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let formatted = zonal_syntax::format(&parsed.file, &untidy);
    assert_ne!(formatted, EXAMPLE, "the edit must change the text");
    let r = review(&side(EXAMPLE), &side(&formatted));
    assert!(!r.semantic_change);
    assert!(r.rules.is_empty() && r.reach.is_empty() && r.targets.is_empty());
    assert!(crate::human(&r, false).contains("no semantic change"));
    assert!(crate::markdown(&r).contains("**No semantic change**"));
}

#[test]
fn a_removed_rule_shows_lost_reach_and_the_rendered_lines_per_target() {
    let text: String = EXAMPLE
        .lines()
        .filter(|l| !l.starts_with("allow pra-1 -> us-1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = review(&side(EXAMPLE), &side(&text));
    let removed: Vec<_> = r
        .rules
        .iter()
        .map(|c| (c.change, c.name.as_str()))
        .collect();
    assert_eq!(removed, [(Change::Removed, "allow-pra-1-to-us-1-vnc")]);
    assert_eq!(r.reach.len(), 1);
    let lost = &r.reach[0];
    assert_eq!((lost.src.as_str(), lost.dst.as_str()), ("pra-1", "us-1"));
    assert_eq!(lost.lost.as_deref(), Some("tcp 443,5900"));
    assert!(lost.gained.is_none());
    assert!(r.not_rendered.is_none());
    // Every target renders differently, and each diff removes the rule.
    assert_eq!(
        r.targets.len(),
        9,
        "{:?}",
        r.targets.iter().map(|t| &t.file).collect::<Vec<_>>()
    );
    for t in &r.targets {
        assert!(t.removed > 0, "{}", t.file);
        let removes_rule = t
            .diff
            .lines()
            .any(|l| l.starts_with('-') && l.contains("allow-pra-1-to-us-1-vnc"));
        assert!(
            removes_rule || t.file.ends_with("ip6tables"),
            "{}\n{}",
            t.file,
            t.diff
        );
    }
    let md = crate::markdown(&r);
    assert!(
        md.contains("<details><summary>nftables · riverbend-radiology.nft"),
        "{md}"
    );
}

#[test]
fn a_changed_expiry_is_a_changed_rule_matched_by_name() {
    let text = EXAMPLE.replace(
        "allow pra-1 -> us-1 : vnc, https until 2027-06-30",
        "allow pra-1 -> us-1 : vnc, https until 2027-09-30",
    );
    let r = review(&side(EXAMPLE), &side(&text));
    assert_eq!(r.rules.len(), 1);
    let c = &r.rules[0];
    assert_eq!(c.change, Change::Changed);
    assert_eq!(c.name, "allow-pra-1-to-us-1-vnc");
    assert_eq!(c.fields.len(), 1);
    assert_eq!(
        (
            c.fields[0].field.as_str(),
            c.fields[0].old.as_str(),
            c.fields[0].new.as_str()
        ),
        ("until", "2027-06-30", "2027-09-30")
    );
    // Nothing else changes today.
    assert!(r.reach.is_empty() && r.paths.is_empty() && r.findings.is_empty());
}

#[test]
fn user_text_cannot_inject_markdown_or_html() {
    let hostile = "</details><script>alert(1)</script> [x](javascript:alert(1)) @admins ``` | *b*";
    let text = EXAMPLE.replace(
        "\"Philips service through the PRA, change RB-2293\"",
        &format!("\"{}\"", hostile.replace('"', "'")),
    );
    let r = review(&side(EXAMPLE), &side(&text));
    assert_eq!(r.rules.len(), 1, "{:?}", r.rules);
    let all = crate::markdown(&r);
    // Inside the fenced diffs text is literal; everything else is checked.
    let mut md = String::new();
    let mut fenced = false;
    for l in all.lines() {
        if l.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            md.push_str(l);
            md.push('\n');
        }
    }
    assert!(all.contains("```diff"), "{all}");
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("</details><"), "{md}");
    assert!(!md.contains("x](javascript"), "{md}");
    assert!(!md.contains(" @admins"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    // One `<details>` per rendered file, each closed once.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
}

/// A readable host of a place in one family.
fn hosts(p: &crate::places::Place) -> Vec<IpAddr> {
    [Family::V4, Family::V6]
        .into_iter()
        .filter_map(|f| p.addrs.family(f).first())
        .collect()
}

/// Packets to try: the edges of every service interval of every rule on
/// either side, and a few protocols no rule names.
fn probes(policies: &[&Policy]) -> Vec<(u8, u16)> {
    let mut v = vec![
        (TCP, 1),
        (UDP, 53),
        (ICMP, 8),
        (ICMPV6, 128),
        (47, 0),
        (50, 0),
    ];
    for p in policies {
        for r in &p.rules {
            for t in &r.terms {
                for (proto, sels) in t.services.iter() {
                    for &(lo, hi) in sels.ranges() {
                        v.extend([(proto, lo), (proto, hi), (proto, hi.saturating_add(1))]);
                    }
                }
            }
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// The fast computation (per place pair, from the terms) against `decide`
/// at every probe between the first host of every two places, on seeded
/// random policies and their edits; then every reported change's example
/// packet is judged differently by the two sides.
#[test]
fn reachability_agrees_with_decide_on_random_policies_and_their_edits() {
    let mut checked = 0usize;
    for seed in 1..=3u64 {
        let v1 = zonal_synth::generate(&zonal_synth::SynthConfig {
            seed,
            zones: 10,
            devices: 20,
            flows: 40,
        });
        let (v2, _) = zonal_tests::edit_policy(&v1, seed);
        let (Some(p1), Some(p2)) = (loaded(&v1).policy, loaded(&v2).policy) else {
            panic!("seed {seed}: no model");
        };
        for p in [&p1, &p2] {
            let ps = places(p);
            let probes = probes(&[&p1, &p2]);
            for s in &ps {
                for d in &ps {
                    let fast = crate::reach::permitted_between(p, &s.name, &d.name);
                    for src in hosts(s) {
                        for dst in hosts(d)
                            .into_iter()
                            .filter(|d| d.is_ipv4() == src.is_ipv4())
                        {
                            for &(proto, sel) in &probes {
                                let slow = p.decide(src, dst, proto, sel).action == Action::Allow;
                                assert_eq!(
                                    fast.contains(proto, sel),
                                    slow,
                                    "seed {seed}: {} -> {} proto {proto} {sel}",
                                    s.name,
                                    d.name
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        for c in crate::reach::diff(&p1, &p2) {
            let e = c.example.expect("an example packet");
            assert!(
                e.contains(": now allowed") != e.contains("before allowed"),
                "seed {seed}: {e}"
            );
        }
    }
    assert!(checked > 10_000, "only {checked} probes");
}

fn report_input<'a>(
    l: &'a Loaded,
    findings: &'a zonal_diagnostics::Diagnostics,
) -> crate::report::Input<'a> {
    crate::report::Input {
        policy: l.policy.as_ref().expect("a model"),
        db: &l.db,
        findings,
        expiring_within: 30,
    }
}

#[test]
fn the_report_escapes_hostile_text_and_links_cells_to_rules() {
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> & 'q'";
    let text = EXAMPLE.replace(
        "description \"privileged remote access appliance\"",
        &format!("description \"{hostile}\""),
    );
    assert_ne!(text, EXAMPLE);
    let l = loaded(&text);
    let findings = zonal_diagnostics::Diagnostics::new();
    let html = crate::report::html(&report_input(&l, &findings));
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an image tag got through");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&#39;q&#39;"));
    // Nothing is fetched: no URL, and a policy that forbids fetching.
    // The inline SVG's namespace name is a URI that nothing fetches.
    let html = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("src=\"") && !html.contains("<link"));
    // `url(#…)` names the SVG's own arrow markers; nothing else is referenced.
    assert_eq!(html.matches("url(").count(), html.matches("url(#").count());
    assert!(html.contains("default-src 'none'"));
    // Every link in a matrix cell points at a rule row that exists.
    for link in html.split("href=\"#rule-").skip(1) {
        let name = link.split('"').next().unwrap_or_default();
        assert!(html.contains(&format!("<tr id=\"rule-{name}\">")), "{name}");
    }
    assert!(html.contains("<section class=\"device\" id=\"device-nm-1\">"));
}

#[test]
fn the_csv_defuses_formulas_and_matches_the_matrix() {
    let l = loaded(EXAMPLE);
    let findings = zonal_diagnostics::Diagnostics::new();
    let csv = crate::report::csv(&report_input(&l, &findings));
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("kind,from,from_zone,to,to_zone,services,rules")
    );
    assert!(csv.contains(
        "place,\"pra-1\",\"vendor-dmz\",\"us-1\",\"modalities\",\"tcp 443,5900\",\"allow-pra-1-to-us-1-vnc\"\r\n"
    ));
    assert!(csv.contains(
        "zone-pair,\"guest-wifi\",\"guest-wifi\",\"internet\",\"internet\",\"tcp 53,443, udp 53\""
    ));
    assert_eq!(
        crate::report::csv_field("=cmd|' /C calc'!A0"),
        "\"'=cmd|' /C calc'!A0\""
    );
    assert_eq!(crate::report::csv_field("a \"b\""), "\"a \"\"b\"\"\"");
}

#[test]
fn expiring_rules_are_listed_soonest_first() {
    let mut l = loaded(EXAMPLE);
    let p = l.policy.as_mut().expect("a model");
    p.today = zonal_model::Date::new(2027, 6, 10).expect("a date");
    let list = crate::expiry::expiring(p, 30);
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|e| e.days_left == 20));
    assert!(crate::expiry::expiring(p, 19).is_empty());
}
