//! Juniper SRX, PAN-OS and pf on a shared, living firewall (issue 9):
//! regression tests for each failure found on these targets, and the
//! redeploy simulation: a device seeded with foreign configuration, the
//! policy's version 1 loaded, then version 2 loaded on top, with each
//! device's merge semantics modelled by the readers (`zonal_xcheck`); the
//! final state must enforce version 2 exactly (at least 10,000 packets
//! per pair against `decide`) and keep every foreign statement.

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{on_workers, policy_of, policy_of_text, redeploy_pairs, render_or_panic};
use zonal_xcheck::Config;

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

fn render_fw(policy: &Policy, target: Target, fw: &Firewall) -> zonal_backend::Rendered {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &Templates::embedded(),
    };
    render_or_panic(target, &req)
}

fn render(policy: &Policy, target: Target) -> String {
    let fw = Firewall::by_address(policy.name.clone());
    render_fw(policy, target, &fw)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect()
}

/// A firewall of a binding written for the example policy.
fn bound(policy: &Policy, yaml: &str) -> Firewall {
    let mut db = SourceDb::new();
    let id = db.add("t.yaml", yaml.to_string());
    let binding =
        zonal_backend::parse_binding(id, yaml, policy).unwrap_or_else(|d| panic!("{d:?}\n{yaml}"));
    binding
        .firewalls
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no firewall in\n{yaml}"))
}

fn config_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

// --- SRX -------------------------------------------------------------------

/// Issue 9: "`delete security policies` removes policies Zonal did not
/// write." Every statement is inside Zonal's group, which is the only
/// thing deleted.
#[test]
fn srx_never_deletes_security_policies_and_writes_only_its_group() {
    let text = render(&policy_of(EXAMPLE), Target::Srx);
    let lines = config_lines(&text);
    assert!(!text.contains("delete security"), "{text}");
    let group = "zonal-riverbend-radiology";
    assert_eq!(
        lines.first(),
        Some(&format!("delete groups {group}").as_str())
    );
    assert_eq!(
        lines.last(),
        Some(&format!("set apply-groups {group}").as_str())
    );
    let prefix = format!("set groups {group} ");
    for l in &lines[1..lines.len() - 1] {
        assert!(l.starts_with(&prefix), "outside Zonal's group: {l}");
    }
}

/// Issue 9: "The catch-all external zone is expanded into 176 address
/// objects instead of an exclusion."
#[test]
fn srx_the_internet_is_an_exclusion() {
    let text = render(&policy_of(EXAMPLE), Target::Srx);
    let addresses = text
        .lines()
        .filter(|l| l.contains(" security address-book global address "))
        .count();
    assert!(
        text.contains(" match destination-address-excluded\n"),
        "{text}"
    );
    assert!(
        addresses < 100,
        "{addresses} address objects: the internet is expanded"
    );
}

// --- PAN-OS ------------------------------------------------------------------

/// Issue 9: "`delete rulebase security`, `intrazone-default` set to deny
/// and an explicit any/any deny … Rule names cut to 31 characters (63
/// allowed) … custom ICMP apps instead of `ping`."
#[test]
fn panos_leaves_the_rulebase_and_the_default_rules_alone() {
    let policy = policy_of(EXAMPLE);
    let text = render(&policy, Target::Panos);
    assert!(!text.contains("delete rulebase"), "{text}");
    assert!(!text.contains("default-security-rules"), "{text}");
    assert!(!text.contains(" from any to any "), "{text}");
    let rules: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("set rulebase security rules "))
        .collect();
    assert!(!rules.is_empty());
    for r in &rules {
        let name = r.split(' ').nth(4).unwrap();
        assert!(name.starts_with("zonal-"), "{r}");
        assert!(name.len() <= 63, "{name}");
        assert!(r.contains(" tag zonal-riverbend-radiology "), "{r}");
    }
    assert!(
        rules
            .iter()
            .any(|r| r.split(' ').nth(4).unwrap().len() > 31),
        "names are still cut to 31 characters"
    );
    // The block is placed at the top, in order.
    let moves: Vec<&str> = text.lines().filter(|l| l.starts_with("move ")).collect();
    assert_eq!(moves.len(), rules.len());
    assert!(moves[0].ends_with(" top"), "{}", moves[0]);
    // Asked for, the overrides come back.
    let fw = bound(
        &policy,
        "firewalls:\n  - name: pa\n    target: panos\n    panos: { default-deny: true, after: admin-ike }\n",
    );
    let text: String = render_fw(&policy, Target::Panos, &fw)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect();
    assert!(
        text.contains(
            "\nset rulebase default-security-rules rules intrazone-default action deny\n"
        )
    );
    assert!(text.contains(" after admin-ike\n"), "{text}");
}

#[test]
fn panos_echo_is_the_predefined_ping_and_zones_are_lists() {
    let policy = policy_of_text(
        "ping.zonal",
        "policy ping { owner \"t\" }\nzone a { network 10.1.0.0/24 }\nzone b { network 10.2.0.0/24 }\nzone c { network 10.3.0.0/24 }\nallow a -> b, c : icmp echo-request\nallow a, b -> c : https\n",
    );
    let text = render(&policy, Target::Panos);
    assert!(!text.contains("ident-by-icmp-type type 8"), "{text}");
    assert!(
        text.contains(" from a to [ b c ] ") && text.contains(" application ping "),
        "{text}"
    );
    assert!(text.contains(" from [ a b ] to c "), "{text}");
}

/// Issue 9: the catch-all external zone uses `negate-destination`.
#[test]
fn panos_the_internet_is_a_negated_destination() {
    let text = render(&policy_of(EXAMPLE), Target::Panos);
    assert!(text.contains(" negate-destination yes "), "{text}");
    let addresses = text
        .lines()
        .filter(|l| l.starts_with("set address "))
        .count();
    assert!(addresses < 100, "{addresses} address objects");
}

// --- pf ----------------------------------------------------------------------

/// Issue 9: "`block log all` with no pass for ICMPv6 neighbour discovery,
/// the box's own traffic or CARP/pfsync: IPv6 stops, SSH locks out, HA
/// goes split-brain." By default the output is an anchor that never
/// blocks the firewall's own, link-local or multicast traffic.
#[test]
fn pf_is_an_anchor_that_leaves_the_firewalls_own_traffic_alone() {
    let text = render(&policy_of(EXAMPLE), Target::Pf);
    let lines = config_lines(&text);
    assert!(
        text.contains("\n# anchor zonal/riverbend_radiology\n"),
        "{text}"
    );
    assert!(text.contains("#   anchor \"zonal/*\"\n"));
    assert!(!lines.contains(&"block log all"), "{text}");
    assert!(!lines.iter().any(|l| l.starts_with("set ")), "{text}");
    assert!(lines.contains(
        &"table <zonal_local> const { self, 224.0.0.0/4, 255.255.255.255, fe80::/10, ff00::/8 }"
    ));
    assert_eq!(
        lines.last(),
        Some(
            &"block drop log quick from ! <zonal_local> to ! <zonal_local> label \"zonal_default_deny\""
        )
    );
    // Every other block is an explicit deny of the policy.
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("block"))
            .all(|l| l.starts_with("block drop log quick")),
        "{text}"
    );
}

/// A full ruleset only when the binding asks, and then the device's own
/// traffic (ND/RS/RA, management, routing, CARP, pfsync) passes before
/// every deny.
#[test]
fn pf_ruleset_mode_passes_the_device_traffic_before_any_deny() {
    let policy = policy_of(EXAMPLE);
    let fw = bound(
        &policy,
        "firewalls:\n  - name: obsd\n    target: pf\n    pf-mode: ruleset\n    device:\n      management: [10.20.5.0/24]\n      routing: [ospf]\n      fhrp: [carp]\n      pfsync: em3\n",
    );
    let text: String = render_fw(&policy, Target::Pf, &fw)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect();
    let lines = config_lines(&text);
    let first_deny = lines
        .iter()
        .position(|l| l.starts_with("block drop"))
        .unwrap_or(lines.len());
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in\n{text}"))
    };
    assert_eq!(
        lines.iter().position(|l| *l == "block log all"),
        Some(at("block log all"))
    );
    for needle in [
        "icmp6-type { 133, 134, 135, 136 }",
        "from 10.20.5.0/24 to self port { 22, 443 }",
        "proto 89 from any to <zonal_local>",
        "proto 112 from any to <zonal_local>",
        "pass quick on $if_pfsync proto pfsync",
        "pass out quick from self keep state",
    ] {
        let i = at(needle);
        assert!(
            at("block log all") < i && i < first_deny,
            "`{needle}` after a deny:\n{text}"
        );
    }
    assert!(text.contains("if_pfsync = \"em3\""));
}

/// Issue 9: "`until` not enforced" on pf: a build warning names the rule.
#[test]
fn pf_warns_that_until_is_not_enforced() {
    let policy = policy_of(EXAMPLE);
    let fw = Firewall::by_address("pf");
    let warnings = render_fw(&policy, Target::Pf, &fw).warnings();
    let temporary: Vec<&str> = policy
        .rules
        .iter()
        .filter(|r| r.until.is_some() && !r.expired)
        .map(|r| r.name.as_str())
        .collect();
    assert!(!temporary.is_empty());
    for name in temporary {
        assert!(
            warnings
                .iter()
                .any(|d| d.code == "W0331" && d.message.contains(&format!("`{name}`"))),
            "no W0331 for {name}: {warnings:?}"
        );
    }
}

// --- the redeploy simulation -------------------------------------------------

const SRX_FOREIGN: &str = "\
set system host-name fw1
set interfaces ge-0/0/5 unit 0 family inet address 192.0.2.1/24
set security zones security-zone trust interfaces ge-0/0/5.0
set security zones security-zone untrust interfaces ge-0/0/6.0
set security address-book global address admin-net 192.0.2.0/24
set security policies from-zone trust to-zone untrust policy admin-out match source-address admin-net destination-address any application any
set security policies from-zone trust to-zone untrust policy admin-out then permit
set security policies from-zone untrust to-zone trust policy admin-ssh match source-address any destination-address admin-net application junos-ssh
set security policies from-zone untrust to-zone trust policy admin-ssh then permit
set security policies global policy admin-global match source-address admin-net destination-address any application junos-https from-zone trust to-zone untrust
set security policies global policy admin-global then permit
";

const PANOS_FOREIGN: &str = "\
set zone trust network layer3 [ ethernet1/5 ]
set zone untrust network layer3 [ ethernet1/6 ]
set address admin-net ip-netmask 192.0.2.0/24
set tag admin comments \"the admins' own rules\"
set rulebase security rules admin-ike from untrust to untrust source any destination any application any service any action allow tag admin
set rulebase security rules admin-out from trust to untrust source admin-net destination any application any service service-https action allow tag admin
set device-group hq pre-rulebase security rules pano-pre from untrust to trust source any destination admin-net application any service any action deny
set device-group hq post-rulebase security rules pano-post from trust to untrust source admin-net destination any application any service any action allow
set rulebase default-security-rules rules interzone-default log-end yes
";

const PF_FOREIGN: &str = "\
#@self 192.0.2.1 2001:db8:ffff::1
set skip on lo
set block-policy drop
block log all
anchor \"zonal/*\"
pass in quick inet proto tcp from 192.0.2.0/24 to 192.0.2.1 port 22 keep state label \"admin_ssh\"
pass out quick inet proto udp from 192.0.2.1 to any port 123 keep state label \"ntp\"
";

/// Whether a line of the final state is Zonal's (the foreign ones are
/// checked separately).
fn owned(target: zonal_xcheck::Target, line: &str) -> bool {
    match target {
        zonal_xcheck::Target::Srx => {
            line.starts_with("set groups zonal-") || line.starts_with("set apply-groups zonal-")
        }
        zonal_xcheck::Target::PanOs => {
            line.contains(" tags [\"zonal-")
                || ["address ", "address-group ", "service ", "application "]
                    .iter()
                    .any(|k| line.starts_with(k))
        }
        _ => line.starts_with("anchor zonal/"),
    }
}

/// `sub` appears in `all` in the same order.
fn in_order(sub: &[String], all: &[String]) -> Result<(), String> {
    let mut it = all.iter();
    for s in sub {
        if !it.any(|a| a == s) {
            return Err(format!("foreign statement changed, lost or moved: {s}"));
        }
    }
    Ok(())
}

struct Sim {
    target: Target,
    reader: zonal_xcheck::Target,
    foreign: &'static str,
}

const SIMS: &[Sim] = &[
    Sim {
        target: Target::Srx,
        reader: zonal_xcheck::Target::Srx,
        foreign: SRX_FOREIGN,
    },
    Sim {
        target: Target::Panos,
        reader: zonal_xcheck::Target::PanOs,
        foreign: PANOS_FOREIGN,
    },
    Sim {
        target: Target::Pf,
        reader: zonal_xcheck::Target::Pf,
        foreign: PF_FOREIGN,
    },
];

/// v1 then v2 on a device with foreign configuration, for every redeploy
/// pair and each of the three targets: v2 enforced exactly, the foreign
/// configuration intact, and nothing of v1 left that v2 does not write.
#[test]
fn redeploy_on_a_shared_device_srx_panos_pf() {
    let pairs = redeploy_pairs(4);
    assert!(pairs.len() >= 8, "only {} redeploy pairs", pairs.len());
    let jobs: Vec<(usize, usize)> = (0..pairs.len())
        .flat_map(|p| (0..SIMS.len()).map(move |s| (p, s)))
        .collect();
    let totals = std::sync::Mutex::new((0usize, 0usize, Vec::<String>::new()));
    on_workers(&jobs, 2, |(pi, si)| {
        let pair = &pairs[pi];
        let sim = &SIMS[si];
        let v1 = policy_of_text("v1.zonal", &pair.v1);
        let v2 = policy_of_text("v2.zonal", &pair.v2);
        let (t1, t2) = (render(&v1, sim.target), render(&v2, sim.target));
        let run = zonal_xcheck::cross_check_redeploy(
            &v2,
            sim.reader,
            sim.foreign,
            &[&t1, &t2],
            &Config::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {}: {e}", pair.label, sim.target));
        // Only v2 loaded on the same foreign configuration: what Zonal
        // owns must be exactly that (no stale policy, rule or field).
        let alone = zonal_xcheck::cross_check_redeploy(
            &v2,
            sim.reader,
            sim.foreign,
            &[&t2],
            &Config {
                packets: 1,
                ..Config::default()
            },
        )
        .unwrap_or_else(|e| panic!("{}: {}: {e}", pair.label, sim.target));
        let mut failures = Vec::new();
        let r = &run.report;
        if !r.is_clean() {
            failures.push(r.summary(5));
        }
        let new = r.evaluated - r.replies;
        if new < Config::default().packets {
            failures.push(format!("only {new} packets compared"));
        }
        if let Err(e) = in_order(&run.before, &run.after) {
            failures.push(e);
        }
        let rules = |s: &[String]| -> Vec<String> {
            s.iter()
                .filter(|l| !run.before.contains(l))
                .filter(|l| {
                    // `set apply-groups` keeps the place of its first load.
                    owned(sim.reader, l)
                        && !l.starts_with("set apply-groups ")
                        && !["address ", "address-group ", "service ", "application "]
                            .iter()
                            .any(|k| l.starts_with(k))
                })
                .cloned()
                .collect()
        };
        if rules(&run.after) != rules(&alone.after) {
            failures.push(
                "Zonal's part after v1 then v2 differs from v2 alone (stale statements)".into(),
            );
        }
        for l in run.after.iter().filter(|l| !run.before.contains(l)) {
            if !owned(sim.reader, l) {
                failures.push(format!("a statement outside what Zonal owns: {l}"));
                break;
            }
        }
        let mut t = totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.0 += 1;
        t.1 += new;
        if !failures.is_empty() {
            t.2.push(format!(
                "{}: {}: {}",
                pair.label,
                sim.target,
                failures.join("; ")
            ));
        }
    });
    let (runs, packets, failures) = totals
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    eprintln!(
        "redeploy simulation (srx, panos, pf): {runs} runs over {} pairs, {packets} packets compared, {} failing",
        pairs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The simulation catches what the old output did: `delete security
/// policies` (SRX) and `delete rulebase security` (PAN-OS) remove the
/// foreign policies, and a pf ruleset replaces the admin's.
#[test]
fn the_simulation_catches_flushing_foreign_configuration() {
    let policy = policy_of(EXAMPLE);
    let srx = format!("delete security policies\n{}", render(&policy, Target::Srx));
    let run = zonal_xcheck::cross_check_redeploy(
        &policy,
        zonal_xcheck::Target::Srx,
        SRX_FOREIGN,
        &[&srx],
        &Config {
            packets: 100,
            ..Config::default()
        },
    )
    .unwrap();
    assert!(in_order(&run.before, &run.after).is_err());
    let pan = format!(
        "{}\ndelete rulebase security\n",
        render(&policy, Target::Panos)
    );
    let run = zonal_xcheck::cross_check_redeploy(
        &policy,
        zonal_xcheck::Target::PanOs,
        PANOS_FOREIGN,
        &[&pan],
        &Config {
            packets: 100,
            ..Config::default()
        },
    )
    .unwrap();
    assert!(in_order(&run.before, &run.after).is_err());
}
