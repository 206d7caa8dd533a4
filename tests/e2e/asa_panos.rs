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
