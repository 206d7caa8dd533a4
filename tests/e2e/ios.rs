//! Cisco IOS: safe on a shared, living switch (issue 9). Reflexive replies
//! instead of stateless holes, the switch's own traffic before any deny,
//! partial bindings, `until` as a time range, aggregated IPv6 complements,
//! versioned objects and the redeploy simulation on a running
//! configuration seeded with foreign config.

use std::collections::BTreeMap;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{fixtures, policy_of, policy_of_text, render_or_panic};
use zonal_xcheck::{Config, IosRunning, Packet, ProbeKind, Report};

/// Renders IOS for a firewall; all artifacts joined.
fn render(policy: &Policy, fw: &Firewall) -> String {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &Templates::embedded(),
    };
    render_or_panic(Target::Ios, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A binding of `zones` (zone → interface) for an IOS firewall, with an
/// optional `device:` block (YAML lines, indented by six spaces).
fn binding(policy: &Policy, zones: &[(&str, &str)], device: &str) -> Firewall {
    let mut yaml = String::from("firewalls:\n  - name: sw\n    target: ios\n    zones:\n");
    for (z, i) in zones {
        yaml.push_str(&format!("      {z}: {{ interface: {i} }}\n"));
    }
    if !device.is_empty() {
        yaml.push_str("    device:\n");
        yaml.push_str(device);
    }
    let mut db = SourceDb::new();
    let id = db.add("sw.yaml", yaml.clone());
    let mut b =
        zonal_backend::parse_binding(id, &yaml, policy).unwrap_or_else(|d| panic!("{d:?}\n{yaml}"));
    b.firewalls.remove(0)
}

fn sides(fw: &Firewall) -> BTreeMap<String, Option<String>> {
    fw.zones
        .iter()
        .flatten()
        .map(|b| (b.zone.clone(), b.interface.clone()))
        .collect()
}

fn check(policy: &Policy, fw: Option<&Firewall>, text: &str) -> Report {
    let config = Config {
        zones: fw.map(sides),
        ..Config::default()
    };
    zonal_xcheck::cross_check(policy, zonal_xcheck::Target::Ios, text, &config).unwrap_or_else(
        |e| {
            panic!(
                "{}: the reader rejects the output: {e}\n{text}",
                policy.name
            )
        },
    )
}

/// Every fixture and example, by address and with every zone bound: zero
/// mismatches with the strict reply rule (only genuine replies of open
/// sessions may pass where `decide()` denies).
#[test]
fn ios_fixtures_are_exact_with_strict_replies() {
    let mut files = fixtures("policies/examples");
    files.extend(fixtures("policies/valid"));
    let mut failures = Vec::new();
    for f in &files {
        let policy = policy_of(f);
        let fw = Firewall::by_address(policy.name.clone());
        let r = check(&policy, None, &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("{f}: {}", r.summary(5)));
        }
        let zones: Vec<(String, String)> = policy
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.name.clone(), format!("Vlan{}", 100 + i)))
            .collect();
        for take in [zones.len(), zones.len().div_ceil(2)] {
            let z: Vec<(&str, &str)> = zones
                .iter()
                .take(take)
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let fw = binding(&policy, &z, "");
            let r = check(&policy, Some(&fw), &render(&policy, &fw));
            if !r.is_clean() {
                failures.push(format!("{f} bound to {take} zones: {}", r.summary(5)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Random `zonal_synth` policies, bound fully and partially.
#[test]
fn ios_synth_policies_are_exact_with_strict_replies() {
    let mut failures = Vec::new();
    for seed in 0..20 {
        let text = zonal_synth::generate(&zonal_synth::SynthConfig::small(seed));
        let policy = policy_of_text(&format!("synthetic-{seed}.zonal"), &text);
        let fw = Firewall::by_address(policy.name.clone());
        let r = check(&policy, None, &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("seed {seed}: {}", r.summary(5)));
        }
        let zones: Vec<(String, String)> = policy
            .zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.name.clone(), format!("Vlan{}", 100 + i)))
            .collect();
        let z: Vec<(&str, &str)> = zones
            .iter()
            .take(zones.len().div_ceil(2))
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fw = binding(&policy, &z, "");
        let r = check(&policy, Some(&fw), &render(&policy, &fw));
        if !r.is_clean() {
            failures.push(format!("seed {seed} partial: {}", r.summary(5)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Foreign configuration on the switch before Zonal's first version: a
/// management ACL used by the VTY lines, a guest VLAN with its own ACLs,
/// an object group, and the zone SVIs with their addresses and the
/// admin's descriptions.
fn foreign_seed(interfaces: &[String]) -> String {
    let mut s = String::from(
        "hostname dist-sw1\n!\n\
         object-group network MGMT_HOSTS\n description jump hosts\n host 10.99.0.10\n 10.99.1.0 255.255.255.0\n!\n\
         ip access-list extended MGMT_VTY\n permit tcp object-group MGMT_HOSTS any eq 22\n deny ip any any log\n!\n\
         ip access-list extended GUEST_IN\n permit udp any any eq 53\n deny ip any 10.0.0.0 0.255.255.255\n permit ip any any\n!\n\
         ipv6 access-list GUEST6_IN\n permit ipv6 any any\n!\n\
         interface Vlan999\n description guest wifi\n ip address 192.0.2.1 255.255.255.0\n ip access-group GUEST_IN in\n ipv6 traffic-filter GUEST6_IN in\n!\n\
         line vty 0 4\n access-class MGMT_VTY in\n transport input ssh\n!\n",
    );
    for (k, i) in interfaces.iter().enumerate() {
        s.push_str(&format!(
            "interface {i}\n description admin: SVI {k}\n ip address 10.255.{k}.1 255.255.255.0\n!\n"
        ));
    }
    s
}

/// The version tag of an IOS artifact.
fn tag(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("! version tag: "))
        .unwrap_or_default()
        .to_string()
}

/// The removal lines of an IOS artifact, as the operator pastes them.
fn removal(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix("! remove: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The objects an IOS artifact creates (from its removal lines).
fn objects(text: &str) -> Vec<String> {
    removal(text)
        .lines()
        .filter(|l| l.starts_with("no "))
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// A zone's base name (`z1-v2` after a rename is `z1`).
fn base(zone: &str) -> &str {
    zone.strip_suffix("-v2").unwrap_or(zone)
}

/// The redeploy simulation: for every pair of `zonal_tests::redeploy_pairs`
/// (examples and `zonal_synth` policies with seeded edits), a running
/// configuration seeded with foreign config gets v1, then v2, then v1's
/// removal lines; then at least 10,000 packets are compared with v2's
/// `decide()`, and what remains besides v2's own objects and bindings must
/// equal the foreign seed exactly (nothing foreign touched, nothing of v1
/// left). Every second pair binds only half of the zones.
#[test]
fn ios_redeploy_simulation_on_a_shared_switch() {
    let pairs = zonal_tests::redeploy_pairs(10);
    assert!(pairs.len() >= 10, "only {} redeploy pairs", pairs.len());
    let (mut packets, mut replies, mut failures) = (0usize, 0usize, Vec::new());
    for (n, pair) in pairs.iter().enumerate() {
        let p1 = policy_of_text("v1.zonal", &pair.v1);
        let p2 = policy_of_text("v2.zonal", &pair.v2);
        let mut bases: Vec<&str> = p1.zones.iter().map(|z| base(&z.name)).collect();
        bases.sort_unstable();
        bases.dedup();
        let keep = if n % 2 == 0 {
            bases.len()
        } else {
            bases.len().div_ceil(2)
        };
        let iface = |zone: &str| {
            bases
                .iter()
                .position(|b| *b == base(zone))
                .filter(|&i| i < keep)
                .map(|i| format!("Vlan{}", 100 + i))
        };
        let bind = |p: &Policy| -> Firewall {
            let z: Vec<(String, String)> = p
                .zones
                .iter()
                .filter_map(|z| iface(&z.name).map(|i| (z.name.clone(), i)))
                .collect();
            let z: Vec<(&str, &str)> = z.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            binding(p, &z, "")
        };
        let (fw1, fw2) = (bind(&p1), bind(&p2));
        let (t1, t2) = (render(&p1, &fw1), render(&p2, &fw2));
        let svis: Vec<String> = (0..keep).map(|i| format!("Vlan{}", 100 + i)).collect();
        let mut run = IosRunning::new();
        run.apply(&foreign_seed(&svis)).unwrap();
        let seed = run.clone();
        let steps = [
            ("v1", t1.clone()),
            ("v2", t2.clone()),
            (
                "removal of v1",
                if tag(&t1) == tag(&t2) {
                    String::new()
                } else {
                    removal(&t1)
                },
            ),
        ];
        if let Some((step, e)) = steps
            .iter()
            .find_map(|(step, text)| run.apply(text).err().map(|e| (step, e)))
        {
            failures.push(format!("{}: {step} fails on the switch: {e}", pair.label));
            continue;
        }
        let config = Config {
            zones: Some(sides(&fw2)),
            ..Config::default()
        };
        let report =
            zonal_xcheck::cross_check(&p2, zonal_xcheck::Target::Ios, &run.config(), &config)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", pair.label, run.config()));
        let new = report.evaluated - report.replies;
        assert!(new >= 10_000, "{}: only {new} packets compared", pair.label);
        packets += new;
        replies += report.replies;
        if !report.is_clean() {
            failures.push(format!("{}: {}", pair.label, report.summary(5)));
        }
        let rest = run.without(&objects(&t2), &svis);
        if rest != seed {
            failures.push(format!(
                "{}: the switch holds more than the foreign config and v2:\n--- seed\n{}\n--- after\n{}",
                pair.label,
                seed.dump(),
                rest.dump()
            ));
        }
    }
    eprintln!(
        "IOS redeploy simulation: {} pairs, {packets} packets (+{replies} replies) compared with v2, {} failures",
        pairs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 9: the old output re-entered `object-group X` after `no
/// object-group X`, which fails while an ACL uses X, so the members of the
/// next version were added to the old ones (a removed host stayed
/// permitted). On the running-config model that paste fails; the
/// versioned output applies cleanly and the removed host is denied.
#[test]
fn ios_redeploy_never_edits_an_object_in_use() {
    let old = |hosts: &[&str]| {
        let mut s =
            String::from("no object-group network OG_PACS_V4\nobject-group network OG_PACS_V4\n");
        for h in hosts {
            s.push_str(&format!(" host {h}\n"));
        }
        s.push_str(
            "!\nno ip access-list extended ZONAL_A_V4_IN\nip access-list extended ZONAL_A_V4_IN\n \
             permit tcp object-group OG_PACS_V4 any eq 443\n deny ip any any log\n!\n\
             interface Vlan110\n ip access-group ZONAL_A_V4_IN in\n!\nend\n",
        );
        s
    };
    let mut run = IosRunning::new();
    run.apply(&old(&["10.0.0.1", "10.0.0.2"])).unwrap();
    let err = run.apply(&old(&["10.0.0.1"])).unwrap_err();
    assert_eq!(err.line, 1, "{err}");
    assert!(err.message.contains("in use"), "{err}");

    // The versioned output: v2 narrows a rule; after v1, v2 and v1's
    // removal the removed device is denied and nothing of v1 remains.
    let v1 = "policy p { owner \"t\" }\nzone a { network 10.1.0.0/24\n  device a1 { address 10.1.0.1 }\n  device a2 { address 10.1.0.2 }\n}\nzone b { network 10.2.0.0/24 }\ngroup g = a1, a2\nallow g -> b : https\n";
    let v2 = v1.replace("group g = a1, a2", "group g = a1");
    let p1 = policy_of_text("v1.zonal", v1);
    let p2 = policy_of_text("v2.zonal", &v2);
    let z = [("a", "Vlan110"), ("b", "Vlan120")];
    let (f1, f2) = (binding(&p1, &z, ""), binding(&p2, &z, ""));
    let (t1, t2) = (render(&p1, &f1), render(&p2, &f2));
    assert_ne!(tag(&t1), tag(&t2));
    let mut run = IosRunning::new();
    for text in [t1.clone(), t2.clone(), removal(&t1)] {
        run.apply(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    let config = run.config();
    assert!(!config.contains(&tag(&t1)), "v1 left behind:\n{config}");
    let report = check(&p2, Some(&f2), &config);
    assert!(report.is_clean(), "{}", report.summary(5));
    // And v1's removal before v2 is bound fails (v1 is in use).
    let mut run = IosRunning::new();
    run.apply(&t1).unwrap();
    let err = run.apply(&removal(&t1)).unwrap_err();
    assert!(err.message.contains("in use"), "{err}");
}

fn pkt(src: &str, sport: u16, dst: &str, proto: u8, selector: u16) -> Packet {
    Packet {
        src: src.parse().unwrap_or_else(|e| panic!("{src}: {e}")),
        dst: dst.parse().unwrap_or_else(|e| panic!("{dst}: {e}")),
        proto,
        sport,
        selector,
        ack: false,
        kind: ProbeKind::New,
    }
}

const SWITCH: &str = "policy sw { owner \"t\" }
zone a {
  network 10.1.0.0/24, fd00:1::/64
  device a1 { address 10.1.0.10, fd00:1::10 }
}
zone b { network 10.2.0.0/24, fd00:2::/64 }
zone mgmt { network 10.9.0.0/24 }
deny a -> any \"a talks to nobody\"
allow b -> a1 : https
";

/// Issue 9: inbound SVI ACLs dropped DHCP relay, HSRP/VRRP, OSPF/EIGRP and
/// management to the switch itself, and IPv6 neighbour discovery came
/// after the explicit denies (a zone-wide deny killed IPv6). With a
/// `device:` block every one of them passes the SVI of a zone whose every
/// flow is denied, before any deny; management only from its sources.
#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one table of packets the switch must keep and one of packets it must drop"
)]
fn ios_switch_keeps_its_own_traffic_before_any_deny() {
    let policy = policy_of_text("sw.zonal", SWITCH);
    let device = "      management: [mgmt]\n      addresses: [10.1.0.1, fd00:1::1, 10.9.0.1]\n      \
                  routing: [ospf, ospfv3, eigrp, bgp]\n      fhrp: [hsrp, vrrp]\n      dhcp-relay: true\n      \
                  ipsec-peers: [203.0.113.7]\n";
    let zones = [("a", "Vlan110"), ("b", "Vlan120"), ("mgmt", "Vlan130")];
    let fw = binding(&policy, &zones, device);
    let text = render(&policy, &fw);
    let today = policy.today;
    let verdict = |iface: &str, p: &Packet| {
        zonal_xcheck::ios_inbound(&text, iface, p, today)
            .unwrap()
            .unwrap_or_else(|| panic!("nothing bound on {iface}"))
    };
    let permitted = [
        (
            "Vlan110",
            pkt("10.1.0.2", 0, "224.0.0.5", 89, 0),
            "OSPF hello",
        ),
        (
            "Vlan110",
            pkt("10.1.0.2", 0, "10.1.0.1", 89, 0),
            "OSPF unicast",
        ),
        (
            "Vlan110",
            pkt("fe80::2", 0, "ff02::5", 89, 0),
            "OSPFv3 hello",
        ),
        (
            "Vlan110",
            pkt("10.1.0.2", 0, "224.0.0.10", 88, 0),
            "EIGRP hello",
        ),
        (
            "Vlan110",
            pkt("10.1.0.2", 40000, "10.1.0.1", 6, 179),
            "BGP to the switch",
        ),
        (
            "Vlan110",
            pkt("10.1.0.2", 1985, "224.0.0.2", 17, 1985),
            "HSRP",
        ),
        ("Vlan110", pkt("10.1.0.2", 0, "224.0.0.18", 112, 0), "VRRP"),
        (
            "Vlan110",
            pkt("0.0.0.0", 68, "255.255.255.255", 17, 67),
            "DHCP discover to the relay",
        ),
        (
            "Vlan110",
            pkt("fe80::10", 546, "ff02::1:2", 17, 547),
            "DHCPv6 solicit to the relay",
        ),
        (
            "Vlan110",
            pkt("fd00:1::10", 0, "ff02::1:ff00:1", 58, 135),
            "neighbour solicitation",
        ),
        (
            "Vlan110",
            pkt("fd00:1::10", 0, "fe80::1", 58, 133),
            "router solicitation",
        ),
        (
            "Vlan110",
            pkt("fd00:1::10", 0, "fd00:2::5", 58, 2),
            "packet-too-big (PMTUD)",
        ),
        (
            "Vlan110",
            pkt("10.1.0.10", 0, "10.2.0.5", 1, 3),
            "ICMP unreachable",
        ),
        (
            "Vlan130",
            pkt("10.9.0.5", 40000, "10.1.0.1", 6, 22),
            "SSH from management",
        ),
        (
            "Vlan130",
            pkt("10.9.0.5", 40000, "10.9.0.1", 6, 443),
            "HTTPS from management",
        ),
        (
            "Vlan120",
            pkt("203.0.113.7", 500, "10.1.0.1", 17, 500),
            "IKE from the IPsec peer",
        ),
        (
            "Vlan120",
            pkt("203.0.113.7", 0, "10.1.0.1", 50, 0),
            "ESP from the IPsec peer",
        ),
    ];
    for (iface, p, what) in &permitted {
        let d = verdict(iface, p);
        assert!(d.allow, "{what} ({p}) on {iface}: {d}\n{text}");
    }
    let denied = [
        (
            "Vlan110",
            pkt("10.1.0.10", 40000, "10.1.0.1", 6, 22),
            "SSH from a non-management host",
        ),
        (
            "Vlan110",
            pkt("10.1.0.10", 40000, "10.2.0.5", 6, 443),
            "a flow the policy denies",
        ),
        (
            "Vlan110",
            pkt("10.1.0.10", 40000, "10.9.0.5", 17, 53),
            "UDP the policy denies",
        ),
        (
            "Vlan120",
            pkt("10.2.0.5", 40000, "10.9.0.1", 6, 22),
            "SSH from b",
        ),
    ];
    for (iface, p, what) in &denied {
        let d = verdict(iface, p);
        assert!(!d.allow, "{what} ({p}) on {iface}: {d}\n{text}");
    }
    // The policy itself is still exact on every bound SVI.
    let report = check(&policy, Some(&fw), &text);
    assert!(report.is_clean(), "{}", report.summary(5));
}

/// Unicast services to the switch need its addresses: an error with the
/// binding's position, never a permit to `any`. Without management
/// sources the build warns of a lockout.
#[test]
fn ios_device_traffic_without_addresses_is_an_error_and_lockout_a_warning() {
    let policy = policy_of_text("sw.zonal", SWITCH);
    let zones = [("a", "Vlan110"), ("b", "Vlan120")];
    let fw = binding(&policy, &zones, "      management: [mgmt]\n");
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    let err = zonal_backend::render(Target::Ios, &req, &mut SourceDb::new())
        .expect_err("management without addresses must be refused");
    assert_eq!(err.0[0].code, "E0321");
    assert!(err.0[0].help.is_some());
    let fw = binding(&policy, &zones, "");
    let req = Request {
        firewall: &fw,
        ..req
    };
    let r = render_or_panic(Target::Ios, &req);
    let codes: Vec<&str> = r.artifacts[0].warnings.0.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["W0311"]);
}

/// Issue 9: a binding that listed only some zones dropped permitted flows
/// to the others (an SVI's inbound ACL sees all traffic leaving the VLAN).
/// Now the flow from a bound zone to an unlisted zone passes, and so do
/// the replies of flows from unlisted zones (their sessions are recorded
/// by the outbound ACL).
#[test]
fn ios_partial_binding_keeps_flows_to_unlisted_zones() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let fw = binding(&policy, &[("modalities", "Vlan110")], "");
    let text = render(&policy, &fw);
    // ct-1 (modalities) to pacs-1 (imaging-servers, not listed): DICOM.
    let p = pkt("10.20.110.11", 40000, "10.20.120.10", 6, 104);
    let d = zonal_xcheck::ios_inbound(&text, "Vlan110", &p, policy.today)
        .unwrap()
        .unwrap();
    assert!(d.allow, "{d}\n{text}");
    let report = check(&policy, Some(&fw), &text);
    assert!(report.is_clean(), "{}", report.summary(5));
    assert!(report.replies > 0 && report.allowed > 0);
}

/// Issue 9: `until` was only a remark on IOS. Now the permit carries a
/// time range that ends at the start of the day after the date, the same
/// instant as every target (docs/semantics.md): on that day the switch
/// stops permitting what the policy no longer allows.
#[test]
fn ios_until_is_a_time_range_ending_with_the_policy() {
    let text_of = |today: zonal_model::Date| {
        let options = zonal_model::Options { today };
        let l = zonal_model::load_str("t.zonal", SWITCH_UNTIL, &options);
        l.policy.unwrap()
    };
    let before = text_of(zonal_model::Date::new(2026, 11, 28).unwrap());
    let on_the_day = text_of(zonal_model::Date::new(2027, 6, 30).unwrap());
    let after = text_of(zonal_model::Date::new(2027, 7, 1).unwrap());
    let fw = binding(&before, &[("a", "Vlan110"), ("b", "Vlan120")], "");
    let text = render(&before, &fw);
    assert!(text.contains(" absolute end 00:00 1 July 2027\n"), "{text}");
    let p = pkt("10.2.0.5", 40000, "10.1.0.10", 6, 443);
    for (policy, allow) in [(&before, true), (&on_the_day, true), (&after, false)] {
        let d = zonal_xcheck::ios_inbound(&text, "Vlan120", &p, policy.today)
            .unwrap()
            .unwrap();
        assert_eq!(d.allow, allow, "{}: {d}", policy.today);
        let report = check(policy, Some(&fw), &text);
        assert!(report.is_clean(), "{}: {}", policy.today, report.summary(5));
    }
}

const SWITCH_UNTIL: &str = "policy sw { owner \"t\" }
zone a {
  network 10.1.0.0/24
  device a1 { address 10.1.0.10 }
}
zone b { network 10.2.0.0/24 }
allow b -> a1 : https until 2027-06-30 \"change 42\"
";

/// Issue 9: the IPv6 complement of the "internet" expanded to 1,242 ACEs
/// for a 19-statement policy. Now it is the internal aggregates denied,
/// then `any`: the harbourview example renders 133 ACEs (1,304 before).
#[test]
fn ios_internet_complement_is_aggregated() {
    let policy = policy_of("policies/examples/harbourview-imaging.zonal");
    let fw = Firewall::by_address(policy.name.clone());
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    let r = render_or_panic(Target::Ios, &req);
    let aces = r.artifacts[0].rule_count;
    assert!(aces <= 200, "{aces} ACEs");
    let text = &r.artifacts[0].text;
    assert!(text.contains(" any eq 443 reflect ZONAL_R6\n"), "{text}");
    let report = check(&policy, None, text);
    assert!(report.is_clean(), "{}", report.summary(5));
}

/// Issue 9: `allow pacs-1 -> internet : any` rendered `permit ip
/// <internet> host <pacs-1>` and DNS to the internet `permit udp <internet>
/// eq 53 <guest>`: the whole internet could send any protocol or any UDP
/// from port 53. Now no entry admits a packet from the internet unless it
/// is the reply of an open session, and the cross-check (strict for IOS)
/// finds no packet IOS permits that `decide()` denies.
#[test]
fn ios_replies_never_open_holes_from_the_internet() {
    let text = "policy p { owner \"t\" }
zone archive {
  network 10.20.120.0/24, fd00:20:120::/64
  device pacs-1 { address 10.20.120.10, fd00:20:120::10 }
}
zone guest { network 10.40.0.0/16 }
zone internet { external }
allow pacs-1 -> internet : any
allow guest -> internet : dns
";
    let policy = policy_of_text("p.zonal", text);
    let fw = binding(
        &policy,
        &[
            ("archive", "Vlan120"),
            ("guest", "Vlan140"),
            ("internet", "Gi0/0"),
        ],
        "",
    );
    let out = render(&policy, &fw);
    let from_internet = [
        pkt("198.51.100.7", 53, "10.40.0.9", 17, 40000),
        pkt("198.51.100.7", 0, "10.20.120.10", 47, 0),
        pkt("198.51.100.7", 0, "10.20.120.10", 50, 0),
        pkt("2001:db8::7", 4444, "fd00:20:120::10", 17, 5555),
    ];
    for p in &from_internet {
        let d = zonal_xcheck::ios_inbound(&out, "Gi0/0", p, policy.today)
            .unwrap()
            .unwrap();
        assert!(!d.allow, "{p}: {d}\n{out}");
    }
    let report = check(&policy, Some(&fw), &out);
    assert!(report.is_clean(), "{}", report.summary(5));
    assert!(report.replies > 0);
    let report = check(&policy, None, &render(&policy, &Firewall::by_address("p")));
    assert!(report.is_clean(), "{}", report.summary(5));
}
