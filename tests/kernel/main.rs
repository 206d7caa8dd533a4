//! The kernel proof (issue 5 §1): rendered nftables and iptables rules run
//! in a router network namespace and are probed with real TCP, UDP, ICMP
//! and raw IP packets; every probe is compared with `Policy::decide`.
//!
//! These tests need root (CI runs as root). When namespaces cannot be
//! created they FAIL with the reason; they are never skipped.

mod redeploy;

use std::collections::BTreeSet;

use zonal_backend::{Firewall, Request, Target, TemplateFile, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::{Action, Policy};
use zonal_tests::{expect_clean, fixtures, load, on_workers, render_or_panic, repo_root};
use zonal_verify::{Config, Observed, Origin, Report, Ruleset, VerifyError, verify};

/// A loaded policy with its source database (for locations in reports).
struct Loaded {
    policy: Policy,
    db: SourceDb,
}

fn load_fixture(rel: &str) -> Loaded {
    let (policy, db) = expect_clean(rel, load(rel));
    Loaded { policy, db }
}

fn load_text(name: &str, text: &str) -> Loaded {
    let (policy, db) = expect_clean(name, zonal_tests::load_text(name, text));
    Loaded { policy, db }
}

/// Renders one firewall for nftables or iptables into a rule set.
fn render(policy: &Policy, target: Target, firewall: &Firewall, templates: &Templates) -> Ruleset {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall,
        templates,
    };
    let rendered = render_or_panic(target, &req);
    let file = |ext: &str| {
        rendered
            .artifacts
            .iter()
            .find(|a| a.extension == ext)
            .map(|a| a.text.clone())
            .unwrap_or_else(|| panic!("{target}: no `{ext}` file rendered"))
    };
    match target {
        Target::Nftables => Ruleset::Nftables(file("nft")),
        Target::Iptables => Ruleset::Iptables {
            v4: file("iptables"),
            v6: file("ip6tables"),
            ipset: rendered
                .artifacts
                .iter()
                .find(|a| a.extension == "ipset")
                .map(|a| a.text.clone()),
        },
        other => panic!("{other} cannot run in a Linux kernel"),
    }
}

/// Runs the proof; a run that cannot happen fails the test with its reason.
fn prove(policy: &Policy, rules: &Ruleset, config: &Config) -> Report {
    match verify(policy, rules, config) {
        Ok(r) => r,
        Err(VerifyError::Unavailable(why)) => {
            panic!("the kernel proof cannot run on this machine: {why}")
        }
        Err(e) => panic!("the kernel proof failed to run: {e}"),
    }
}

#[expect(
    clippy::print_stderr,
    reason = "the closing note quotes each run's probe counts and time"
)]
fn assert_no_mismatch(label: &str, l: &Loaded, report: &Report) {
    eprint!("{label}: {}", report.render_summary());
    assert!(
        report.is_pass(),
        "{label}: the kernel disagrees with the policy:\n{}\n{}",
        report.render_mismatches(&l.policy, &l.db),
        report.render_summary()
    );
}

/// A small dual-stack policy with every probe kind: TCP, UDP, ICMP and
/// ICMPv6 echo, a raw protocol (ESP), a deny inside an allow, an external
/// zone and an expired rule.
const SMALL: &str = r#"
policy kernel-small { owner "tests" }

zone clinic {
  network 10.60.1.0/24, fd00:60:1::/64
  trust medium
  kind clinical
  device ws-1 { address 10.60.1.11, fd00:60:1::11  kind workstation }
}
zone servers {
  network 10.60.2.0/24, fd00:60:2::/64
  trust high
  kind servers
  device pacs-1 { address 10.60.2.10, fd00:60:2::10  kind pacs  listens dicom, https }
  device dns-1 { address 10.60.2.53  kind directory  listens dns }
}
zone internet { external  trust untrusted }

allow clinic -> pacs-1 : dicom, https "viewing"
allow clinic -> dns-1 : dns "name resolution"
deny ws-1 -> pacs-1 : https "this workstation uses the thick client"
allow servers -> clinic : icmp-echo "monitoring"
allow pacs-1 -> internet : esp, https "vendor tunnel"
allow clinic -> internet : https until 2026-01-31 "expired trial"
"#;

/// The last day each target can hold (iptables' `--datestop` keeps 32-bit
/// seconds, nftables' `meta time` 64-bit nanoseconds): rendered with that
/// expiry, the rule is enforced today (a wrapped date would have made it
/// expired). Later dates are refused at build time (E0308).
#[test]
fn far_future_expiry_is_enforced_by_nftables_and_iptables() {
    let fw = Firewall::by_address("kernel-far-future");
    for (target, last) in [
        (Target::Nftables, "2262-04-10"),
        (Target::Iptables, "2038-01-18"),
    ] {
        let text = SMALL.replace(
            "allow clinic -> internet : https until 2026-01-31 \"expired trial\"",
            &format!("allow clinic -> internet : https until {last} \"far future\""),
        );
        assert_ne!(text, SMALL);
        let l = load_text("kernel-far-future.zonal", &text);
        let rule = l
            .policy
            .rules
            .iter()
            .find(|r| r.until.is_some_and(|d| d.to_string() == last))
            .expect("the far-future rule");
        assert!(!rule.expired);
        let rules = render(&l.policy, target, &fw, &Templates::embedded());
        let report = prove(&l.policy, &rules, &Config::default());
        assert_no_mismatch(&format!("kernel-far-future {target}"), &l, &report);
        let allowed = report
            .plan
            .probes
            .iter()
            .zip(&report.observed)
            .any(|(p, o)| p.expected.rule == Some(rule.id) && matches!(o, Observed::Passed(_)));
        assert!(
            allowed,
            "{target}: no probe passed through the far-future rule"
        );
    }
}

const ACCEPT_ALL: &str = "table inet zvsanity {\n  chain forward { type filter hook forward priority filter; policy accept; }\n}\n";
const DROP_ALL: &str = "table inet zvsanity {\n  chain forward { type filter hook forward priority filter; policy drop; }\n}\n";

const NEW_ONLY: &str = "table inet zvsanity {\n  chain forward { type filter hook forward priority filter; policy drop; ct state new accept; }\n}\n";

/// What every probe must see through a router that forwards everything,
/// drops everything, or forwards first packets but drops every reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Pass,
    Block,
    OneWay,
}

/// The harness itself: through a router that forwards everything every
/// probe passes, through one that drops everything none does, and through
/// one that drops replies every request is still seen arriving (raw
/// packets, which need no reply, pass). So a passing proof cannot come
/// from a network that never delivers, from probes that bypass the
/// router, or from requests that leak while their replies are dropped.
/// A long timeout: this test is about delivery, not speed.
#[test]
fn harness_delivers_through_an_open_router_and_nothing_through_a_closed_one() {
    let l = load_text("kernel-small.zonal", SMALL);
    let config = Config {
        timeout: std::time::Duration::from_millis(1500),
        ..Config::default()
    };
    for (rules, want) in [
        (ACCEPT_ALL, Want::Pass),
        (DROP_ALL, Want::Block),
        (NEW_ONLY, Want::OneWay),
    ] {
        let report = prove(&l.policy, &Ruleset::Nftables(rules.into()), &config);
        let kinds: BTreeSet<String> = report
            .plan
            .probes
            .iter()
            .map(|p| p.kind.label(p.v6))
            .collect();
        for k in ["tcp/104", "udp/53", "icmp echo", "icmpv6 echo", "proto esp"] {
            assert!(kinds.contains(k), "no {k} probe in {kinds:?}");
        }
        let wrong: Vec<String> = report
            .plan
            .probes
            .iter()
            .zip(&report.observed)
            .filter(|(p, o)| {
                let raw = matches!(p.kind, zonal_verify::ProbeKind::Proto(_));
                let got = match o {
                    Observed::Passed(_) => Want::Pass,
                    Observed::Blocked(_) => Want::Block,
                    Observed::OneWay(_) => Want::OneWay,
                    Observed::Failed(_) => return true,
                };
                let expected = if want == Want::OneWay && raw {
                    Want::Pass
                } else {
                    want
                };
                got != expected
            })
            .map(|(p, o)| format!("{p:?}: {o:?}"))
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} probes not {want:?}:\n{}",
            wrong.len(),
            report.plan.probes.len(),
            wrong.join("\n")
        );
    }
}

#[test]
fn small_policy_is_enforced_exactly_by_nftables_and_iptables() {
    let l = load_text("kernel-small.zonal", SMALL);
    let fw = Firewall::by_address("kernel-small");
    for target in [Target::Nftables, Target::Iptables] {
        let rules = render(&l.policy, target, &fw, &Templates::embedded());
        let report = prove(&l.policy, &rules, &Config::default());
        assert_no_mismatch(&format!("kernel-small {target}"), &l, &report);
        // The deny inside the allow and the expired rule were really probed.
        let denied_by_rule = report
            .plan
            .probes
            .iter()
            .any(|p| p.expected.action == Action::Deny && p.expected.rule.is_some());
        assert!(denied_by_rule, "no probe hit the explicit deny");
        let expired = l
            .policy
            .rules
            .iter()
            .find(|r| r.expired)
            .expect("an expired rule");
        assert!(
            report
                .plan
                .probes
                .iter()
                .any(|p| p.origin == Origin::Named(expired.id)),
            "the expired rule was not probed"
        );
    }
}

fn examples() -> Vec<String> {
    let ex = fixtures("policies/examples");
    assert!(ex.len() >= 2, "expected the bundled examples, found {ex:?}");
    ex
}

fn prove_examples(target: Target) {
    for rel in examples() {
        let l = load_fixture(&rel);
        let fw = Firewall::by_address(l.policy.name.clone());
        let rules = render(&l.policy, target, &fw, &Templates::embedded());
        let report = prove(&l.policy, &rules, &Config::default());
        assert!(
            report.plan.probes.len() > 100,
            "{rel}: only {} probes",
            report.plan.probes.len()
        );
        assert_no_mismatch(&format!("{rel} {target}"), &l, &report);
    }
}

#[test]
fn examples_are_enforced_exactly_by_nftables() {
    prove_examples(Target::Nftables);
}

#[test]
fn examples_are_enforced_exactly_by_iptables() {
    prove_examples(Target::Iptables);
}

/// Every minimal valid fixture (one feature each: nested zones, devices,
/// groups, services, workflows, …) on both targets.
#[test]
fn valid_fixtures_are_enforced_exactly() {
    let config = Config {
        samples: 16,
        ..Config::default()
    };
    let valid = fixtures("policies/valid");
    assert!(
        valid.len() >= 5,
        "expected the valid fixtures, found {valid:?}"
    );
    for rel in valid {
        let l = load_fixture(&rel);
        let fw = Firewall::by_address(l.policy.name.clone());
        for target in [Target::Nftables, Target::Iptables] {
            let rules = render(&l.policy, target, &fw, &Templates::embedded());
            let report = prove(&l.policy, &rules, &config);
            assert_no_mismatch(&format!("{rel} {target}"), &l, &report);
        }
    }
}

/// With a deployment binding the router's interfaces carry the binding's
/// names and the rules dispatch on them.
#[test]
fn binding_interfaces_name_the_router_interfaces() {
    let rel = "policies/examples/riverbend-radiology.zonal";
    let l = load_fixture(rel);
    let mut yaml = String::from("firewalls:\n");
    for target in ["nftables", "iptables"] {
        yaml.push_str(&format!(
            "  - name: core-{target}\n    target: {target}\n    zones:\n"
        ));
        for (i, z) in l.policy.zones.iter().enumerate() {
            let ifname = match z.vlan {
                Some(v) => format!("vlan{v}"),
                None => format!("edge{i}"),
            };
            yaml.push_str(&format!("      {}: {{ interface: {ifname} }}\n", z.name));
        }
    }
    let mut db = l.db.clone();
    let id = db.add("deploy.yaml", yaml.clone());
    let binding = zonal_backend::parse_binding(id, &yaml, &l.policy)
        .unwrap_or_else(|d| panic!("binding rejected: {d:?}\n{yaml}"));
    for (fw, target) in binding
        .firewalls
        .iter()
        .zip([Target::Nftables, Target::Iptables])
    {
        assert!(
            fw.by_interface(),
            "{} should classify by interface",
            fw.name
        );
        let rules = render(&l.policy, target, fw, &Templates::embedded());
        let mut config = Config::default();
        for z in fw.zones.iter().flatten() {
            config
                .interfaces
                .insert(z.zone.clone(), z.interface.clone().unwrap_or_default());
        }
        config.zones = Some(fw.zones.iter().flatten().map(|z| z.zone.clone()).collect());
        let report = prove(&l.policy, &rules, &config);
        assert!(
            report
                .plan
                .links
                .iter()
                .any(|link| link.ifname.starts_with("vlan"))
        );
        assert_no_mismatch(&format!("{rel} {target} with binding"), &l, &report);
    }
}

/// Rule whose port the broken templates change (tcp 2575 to 2577).
const BROKEN_RULE: &str = "allow-hie-1-to-ris-1-hl7";

fn broken_templates(target: Target) -> Templates {
    let (from, to) = match target {
        Target::Nftables => (
            "{{ svc(r.svc) }}",
            format!(
                "{{% if \"{BROKEN_RULE}:\" in r.comment %}}{{{{ svc(r.svc)|replace(\"2575\", \"2577\") }}}}{{% else %}}{{{{ svc(r.svc) }}}}{{% endif %}}"
            ),
        ),
        Target::Iptables => (
            "{{ r.matches }}",
            format!(
                "{{% if r.comment and \"{BROKEN_RULE}:\" in r.comment %}}{{{{ r.matches|replace(\"2575\", \"2577\") }}}}{{% else %}}{{{{ r.matches }}}}{{% endif %}}"
            ),
        ),
        other => panic!("{other}"),
    };
    // The embedded template that renders the rule lines.
    let file = Templates::embedded_names(target)
        .into_iter()
        .find(|name| {
            std::fs::read_to_string(repo_root().join("templates").join(target.name()).join(name))
                .is_ok_and(|t| t.contains(from))
        })
        .unwrap_or_else(|| panic!("{target}: no embedded template renders `{from}`"));
    let path = repo_root().join("templates").join(target.name()).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        text.matches(from).count(),
        1,
        "{file}: the broken-template test expects one `{from}`"
    );
    let mut templates = Templates::embedded();
    templates.set_override(
        target,
        file,
        TemplateFile {
            path: format!("broken/{}/{file}", target.name()),
            text: text.replace(from, &to),
        },
    );
    templates
}

/// A deliberately broken template (one rule's port changed) is caught:
/// the probe the rule names is blocked, and the report names the rule,
/// its source location, the expected and the observed verdict.
#[test]
fn a_template_with_one_rule_port_changed_is_caught() {
    let rel = "policies/examples/riverbend-radiology.zonal";
    let l = load_fixture(rel);
    let rule = l
        .policy
        .rules
        .iter()
        .find(|r| r.name == BROKEN_RULE)
        .expect("the rule exists");
    let fw = Firewall::by_address(l.policy.name.clone());
    for target in [Target::Nftables, Target::Iptables] {
        let good = render(&l.policy, target, &fw, &Templates::embedded());
        let bad = render(&l.policy, target, &fw, &broken_templates(target));
        assert_ne!(good, bad, "{target}: the override changed nothing");
        let report = prove(&l.policy, &bad, &Config::default());
        let mismatches = report.mismatches();
        assert!(
            !mismatches.is_empty(),
            "{target}: the broken template was not caught"
        );
        let hit = mismatches.iter().any(|m| {
            m.probe.expected.rule == Some(rule.id)
                && m.probe.expected.action == Action::Allow
                && matches!(m.observed, Observed::Blocked(_))
        });
        assert!(
            hit,
            "{target}: no mismatch on rule {BROKEN_RULE}:\n{}",
            report.render_mismatches(&l.policy, &l.db)
        );
        let text = report.render_mismatches(&l.policy, &l.db);
        let lc = l.db.line_col(rule.span.file, rule.span.range.start);
        let location = format!("{rel}:{}:{}", lc.line, lc.col);
        assert!(
            text.contains(&format!(
                "expected: allow by rule `{BROKEN_RULE}` at {location}"
            )),
            "{text}"
        );
        assert!(text.contains("observed: deny"), "{text}");
        assert!(text.contains("tcp/2575"), "{text}");
        eprintln!(
            "{target} broken template: {} mismatches\n{text}",
            mismatches.len()
        );
    }
}

/// Overrides the nftables template with one textual change.
fn nft_template_with(from: &str, to: &str) -> Templates {
    let file = "main.nft.j2";
    let path = repo_root().join("templates/nftables").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        text.matches(from).count(),
        1,
        "{file}: expected one `{from}`"
    );
    let mut templates = Templates::embedded();
    templates.set_override(
        Target::Nftables,
        file,
        TemplateFile {
            path: format!("broken/nftables/{file}"),
            text: text.replace(from, to),
        },
    );
    templates
}

/// Classic firewall mistakes, each made in the template, are each caught
/// in the direction they err: failing open lets denied probes pass,
/// forgetting return traffic or swapping source and destination blocks
/// allowed ones.
#[test]
fn classic_mistakes_in_the_template_are_caught() {
    let l = load_text("kernel-small.zonal", SMALL);
    let fw = Firewall::by_address("kernel-small");
    let cases: [(&str, &str, &str, Action); 3] = [
        (
            "fails open",
            "counter drop comment \"explicit default deny\"",
            "counter accept comment \"explicit default deny\"",
            Action::Deny,
        ),
        (
            "forgets return traffic",
            "ct state vmap { established : accept, related : accept, invalid : drop }",
            "ct state vmap { invalid : drop }",
            Action::Allow,
        ),
        (
            "swaps source and destination",
            "{{ r.fam }} saddr {{ r.src }} {{ r.fam }} daddr {{ r.dst }}",
            "{{ r.fam }} saddr {{ r.dst }} {{ r.fam }} daddr {{ r.src }}",
            Action::Allow,
        ),
    ];
    for (what, from, to, wrongly_treated) in cases {
        let rules = render(
            &l.policy,
            Target::Nftables,
            &fw,
            &nft_template_with(from, to),
        );
        let report = prove(&l.policy, &rules, &Config::default());
        let mismatches = report.mismatches();
        assert!(
            !mismatches.is_empty(),
            "a template that {what} was not caught"
        );
        assert!(
            mismatches
                .iter()
                .any(|m| m.probe.expected.action == wrongly_treated),
            "a template that {what}: no mismatch on an expected {wrongly_treated:?}:\n{}",
            report.render_mismatches(&l.policy, &l.db)
        );
    }
}

/// How many seeded random policies the proof runs on, per target.
const SYNTH_SEEDS: u64 = 22;

/// Seeded random hospital-shaped policies from the synthetic generator
/// (small: 8 zones, 10 devices, 20 flow lines, with denies, expiring
/// vendor access and DICOM workflows), on both targets, four networks at
/// a time.
#[test]
fn synthetic_policies_are_enforced_exactly_by_nftables_and_iptables() {
    let jobs: Vec<(u64, Target)> = (0..SYNTH_SEEDS)
        .flat_map(|seed| [(seed, Target::Nftables), (seed, Target::Iptables)])
        .collect();
    let probes = std::sync::atomic::AtomicUsize::new(0);
    on_workers(&jobs, 4, |(seed, target)| {
        let text = zonal_synth::generate(&zonal_synth::SynthConfig {
            seed,
            zones: 8,
            devices: 10,
            flows: 20,
        });
        let l = load_text(&format!("synthetic-{seed}.zonal"), &text);
        let fw = Firewall::by_address(l.policy.name.clone());
        let rules = render(&l.policy, target, &fw, &Templates::embedded());
        let config = Config {
            seed,
            samples: 16,
            ..Config::default()
        };
        let report = prove(&l.policy, &rules, &config);
        probes.fetch_add(
            report.plan.probes.len(),
            std::sync::atomic::Ordering::Relaxed,
        );
        assert_no_mismatch(&format!("synthetic seed {seed} {target}"), &l, &report);
    });
    let probes = probes.into_inner();
    assert!(
        probes > 2_000 * usize::try_from(SYNTH_SEEDS).unwrap() / 10,
        "only {probes} probes"
    );
}
