//! ASA partial bindings and PAN-OS device traffic (issue 9 §2).
//!
//! ASA: an inbound interface ACL sees every packet entering from its
//! zone, whatever the destination, so with a binding that lists only some
//! zones it must hold the flows from them to the zones it does not list
//! (and to addresses in no zone) exactly as the policy decides.

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{policy_of, render_or_panic};
use zonal_xcheck::{Config, Packet, ProbeKind, Report};

fn pkt(src: &str, dst: &str, proto: u8, selector: u16) -> Packet {
    Packet {
        src: src.parse().unwrap_or_else(|e| panic!("{src}: {e}")),
        dst: dst.parse().unwrap_or_else(|e| panic!("{dst}: {e}")),
        proto,
        sport: 40000,
        selector,
        ack: false,
        kind: ProbeKind::New,
    }
}

/// The firewalls of a binding's YAML text for `policy`.
fn firewalls(policy: &Policy, yaml: &str) -> Vec<Firewall> {
    let mut db = SourceDb::new();
    let id = db.add("binding.yaml", yaml.to_string());
    zonal_backend::parse_binding(id, yaml, policy)
        .unwrap_or_else(|d| panic!("{d:?}\n{yaml}"))
        .firewalls
}

fn render(policy: &Policy, fw: &Firewall, target: Target) -> String {
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &Templates::embedded(),
    };
    render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cross-check of a bound firewall: the listed zones, named by the
/// reader (`None`: the ASA reader takes the interface from the comments).
fn check_bound(policy: &Policy, fw: &Firewall, reader: zonal_xcheck::Target, text: &str) -> Report {
    let zones = fw
        .zones
        .iter()
        .flatten()
        .map(|b| {
            let side = match reader {
                zonal_xcheck::Target::PanOs => {
                    Some(b.vendor_zone.clone().unwrap_or_else(|| b.zone.clone()))
                }
                _ => None,
            };
            (b.zone.clone(), side)
        })
        .collect();
    let config = Config {
        zones: Some(zones),
        ..Config::default()
    };
    zonal_xcheck::cross_check(policy, reader, text, &config)
        .unwrap_or_else(|e| panic!("{}: the reader rejects the output: {e}\n{text}", fw.name))
}

/// Issue 9 §2, ASA: a binding of only `modalities` and `imaging-servers`
/// noted "allow-modalities-all-to-dc-1-ntp has no traffic through this
/// firewall" and the modalities' inbound ACL dropped their NTP and DNS to
/// dc-1 (in `hospital-core`, not listed), which the policy allows. Now the
/// ACL holds every flow leaving its zone: the allowed flow to the unlisted
/// zone passes, a denied one does not, and the cross-check (which now
/// compares every packet leaving a listed zone, whatever the destination)
/// finds no mismatch.
#[test]
fn asa_partial_binding_keeps_flows_to_unlisted_zones() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let fws = firewalls(
        &policy,
        "firewalls:\n  - name: rad-asa\n    target: asa\n    zones:\n      \
         modalities: { interface: inside }\n      \
         imaging-servers: { interface: dmz }\n",
    );
    let fw = &fws[0];
    let text = render(&policy, fw, Target::Asa);
    assert!(
        !text.contains("allow-modalities-all-to-dc-1-ntp has no traffic"),
        "{text}"
    );
    // A flow into a listed zone from an unlisted one crosses the firewall
    // on an interface Zonal does not own: the note says so.
    assert!(
        text.contains(
            "allow-pacs-clients-to-pacs-1-https reaches the listed zones only from interfaces this binding does not list"
        ),
        "{text}"
    );
    let decide = |p: &Packet, from: &str| {
        zonal_xcheck::decide_packet(
            zonal_xcheck::Target::Asa,
            &text,
            p,
            Some(from),
            None,
            policy.today,
        )
        .unwrap()
        .unwrap_or_else(|| panic!("{p} not placed"))
    };
    // ct-1 (modalities) to dc-1 (hospital-core, not listed): NTP and DNS
    // are allowed, SSH is not.
    for (proto, port) in [(17, 123), (17, 53), (6, 53)] {
        let p = pkt("10.20.110.11", "10.20.200.20", proto, port);
        let d = decide(&p, "modalities");
        assert!(d.allow, "{p}: {d}");
    }
    let p = pkt("10.20.110.11", "10.20.200.20", 6, 22);
    assert!(!decide(&p, "modalities").allow, "{p}");
    // An address in no zone: denied like the policy.
    let p = pkt("10.20.110.11", "192.0.2.7", 17, 123);
    assert!(!decide(&p, "modalities").allow, "{p}");
    // The IPv6 leg of the same rule from imaging-servers.
    let p = pkt("fd00:20:120::10", "fd00:20:200::20", 17, 123);
    assert!(decide(&p, "imaging-servers").allow, "{p}");

    let report = check_bound(&policy, fw, zonal_xcheck::Target::Asa, &text);
    eprintln!("asa partial binding: {}", report.summary(3));
    assert!(report.is_clean(), "{}", report.summary(5));
    assert!(report.evaluated - report.replies >= Config::default().packets);
}

const DEVICE_POLICY: &str = "policy p { owner \"t\" }
zone a {
  network 10.1.0.0/24, fd00:1::/64
  device a1 { address 10.1.0.10 }
}
zone b { network 10.2.0.0/24 }
zone noc { network 10.9.0.0/24 }
allow b -> a1 : https \"web\"
allow noc -> a : ssh \"admins\"
deny b -> a : any \"no more\"
";

fn panos_binding(device: &str, default_deny: bool) -> String {
    format!(
        "firewalls:\n  - name: edge\n    target: panos\n    zones:\n      \
         a: {{ vendor-zone: A }}\n      b: {{ vendor-zone: B }}\n      noc: {{ vendor-zone: NOC }}\n    \
         panos: {{ default-deny: {default_deny} }}\n{device}"
    )
}

/// Issue 9 §2, PAN-OS: with `default-deny: true` both predefined default
/// rules deny, so the firewall's own traffic (management, IKE, routing,
/// ICMP errors) was blocked: the `device:` block was not rendered. Now it
/// is, as rules at the top of Zonal's block, before any deny, each limited
/// to the firewall's addresses and the services it needs: management from
/// the listed source to the firewall's address passes, from elsewhere (or
/// to another address) it does not, and the cross-check of the rest stays
/// at zero mismatches.
#[test]
fn panos_default_deny_renders_the_device_block_before_any_deny() {
    let policy = zonal_tests::policy_of_text("device.zonal", DEVICE_POLICY);
    let device = "    device:\n      management: [10.9.0.0/24]\n      \
                  addresses: [10.1.0.1, fd00:1::1]\n      routing: [ospf]\n      \
                  fhrp: [vrrp]\n      ipsec-peers: [203.0.113.7]\n";
    let fws = firewalls(&policy, &panos_binding(device, true));
    let text = render(&policy, &fws[0], Target::Panos);
    let decide = |p: &Packet, from: Option<&str>, to: Option<&str>| {
        zonal_xcheck::decide_packet(
            zonal_xcheck::Target::PanOs,
            &text,
            p,
            from,
            to,
            policy.today,
        )
        .unwrap()
        .unwrap_or_else(|| panic!("{p} not placed"))
    };
    // Management (ssh, https) from the NOC to the firewall's address.
    for port in [22, 443] {
        let p = pkt("10.9.0.5", "10.1.0.1", 6, port);
        let d = decide(&p, Some("noc"), Some("a"));
        assert!(d.allow, "{p}: {d}\n{text}");
        assert!(d.why.contains("device-management"), "{d}");
    }
    // From zone b (whose traffic to `a` the policy denies): denied.
    let p = pkt("10.2.0.5", "10.1.0.1", 6, 443);
    assert!(!decide(&p, Some("b"), Some("a")).allow, "{p}\n{text}");
    // Same-zone management from `a` itself: not a management source.
    let p = pkt("10.1.0.7", "10.1.0.1", 6, 22);
    assert!(!decide(&p, Some("a"), Some("a")).allow, "{p}\n{text}");
    // Management services to a host that is not the firewall: the
    // policy's rules decide (https from the NOC is not allowed).
    let p = pkt("10.9.0.5", "10.1.0.10", 6, 443);
    assert!(!decide(&p, Some("noc"), Some("a")).allow, "{p}\n{text}");
    // IKE from the peer, OSPF hellos, VRRP: to the firewall only.
    let p = pkt("203.0.113.7", "10.1.0.1", 17, 500);
    assert!(decide(&p, Some("b"), Some("a")).allow, "{p}\n{text}");
    let p = pkt("203.0.113.8", "10.1.0.1", 17, 500);
    assert!(!decide(&p, Some("b"), Some("a")).allow, "{p}\n{text}");
    let p = pkt("10.2.0.1", "224.0.0.5", 89, 0);
    assert!(decide(&p, Some("b"), Some("b")).allow, "{p}\n{text}");
    // The device rules come before every deny of the block.
    let rules: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("set rulebase security rules "))
        .collect();
    let first_deny = rules
        .iter()
        .position(|l| l.contains(" action deny "))
        .unwrap();
    let last_device = rules
        .iter()
        .rposition(|l| l.contains("traffic to the firewall itself"))
        .unwrap();
    assert!(last_device < first_deny, "{text}");
    assert!(
        rules[..=last_device]
            .iter()
            .all(|l| l.contains("traffic to the firewall itself")),
        "{text}"
    );

    let report = check_bound(&policy, &fws[0], zonal_xcheck::Target::PanOs, &text);
    eprintln!("panos device block: {}", report.summary(3));
    assert!(report.is_clean(), "{}", report.summary(5));
    assert!(report.evaluated - report.replies >= Config::default().packets);
}

/// Issue 9 §2, PAN-OS: management, BGP and IPsec are unicast to the
/// firewall; without its addresses a rule would have to permit them to
/// every host (or drop them: a lockout). The build refuses with E0343.
/// Without `default-deny` the device block is left to the default rules
/// (nothing rendered, nothing refused).
#[test]
fn panos_device_block_without_addresses_is_refused() {
    let policy = zonal_tests::policy_of_text("device.zonal", DEVICE_POLICY);
    let device = "    device:\n      management: [10.9.0.0/24]\n      routing: [bgp]\n";
    let fws = firewalls(&policy, &panos_binding(device, true));
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fws[0],
        templates: &Templates::embedded(),
    };
    let Err(err) = zonal_backend::render(Target::Panos, &req, &mut SourceDb::new()) else {
        panic!("a device block without addresses is refused");
    };
    let d: Vec<_> = err.iter().collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "E0343");
    assert!(
        d[0].message.contains("`management`, `bgp`"),
        "{}",
        d[0].message
    );
    assert!(d[0].help.is_some());

    let fws = firewalls(&policy, &panos_binding(device, false));
    let text = render(&policy, &fws[0], Target::Panos);
    assert!(!text.contains("traffic to the firewall itself"), "{text}");
}
