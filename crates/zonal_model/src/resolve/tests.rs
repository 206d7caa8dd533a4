//! Unit tests of two delicate parts of resolution, written before the
//! resolver was split so that the split provably keeps their behaviour:
//! the sweep that finds overlapping zone networks, and `listens SERVICE on
//! PORT`, which moves a named service's port for one device.

use zonal_diagnostics::{Diagnostic, Span};

use crate::ir::{Action, Date, Endpoint, Policy};
use crate::load::{Loaded, Options, load_str};
use crate::service::{self, ServiceSet};

fn load(body: &str) -> Loaded {
    let text = format!("policy t {{ owner \"o\" }}\n{body}");
    let options = Options {
        today: Date::new(2026, 11, 28).unwrap(),
    };
    load_str("t.zonal", &text, &options)
}

/// The source text a span covers.
fn snippet(l: &Loaded, s: Span) -> &str {
    &l.db.text(s.file)[s.range.start as usize..s.range.end as usize]
}

/// One line per diagnostic: code, message, primary label at its text,
/// secondary labels at theirs, notes and help.
fn render(l: &Loaded, d: &Diagnostic) -> String {
    let mut s = format!(
        "{} {} @`{}`: {}",
        d.code,
        d.message,
        snippet(l, d.primary.span),
        d.primary.message
    );
    for sec in &d.secondary {
        s += &format!(" | @`{}`: {}", snippet(l, sec.span), sec.message);
    }
    for n in &d.notes {
        s += &format!(" | note: {n}");
    }
    if let Some(h) = &d.help {
        s += &format!(" | help: {h}");
    }
    s
}

fn diags(l: &Loaded) -> Vec<String> {
    l.diagnostics.iter().map(|d| render(l, d)).collect()
}

fn clean(body: &str) -> Policy {
    let l = load(body);
    assert!(l.diagnostics.is_empty(), "{:#?}", diags(&l));
    l.policy.unwrap()
}

const OVERLAP_NOTE: &str =
    "an address must belong to exactly one zone, or address-based rules become ambiguous";

mod overlap_sweep {
    use super::*;

    #[test]
    fn a_prefix_inside_another_zone_is_reported_once_at_the_inner_zone() {
        let l = load(
            "zone a { network 10.0.0.0/16 }\n\
             zone b { network 10.0.1.0/24, 10.0.2.0/24 }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `b` overlaps zone `a` @`b`: `10.0.1.0/24` is inside `10.0.0.0/16` \
                 | @`a`: `a` is declared here | note: {OVERLAP_NOTE} \
                 | help: if `b` is a sub-zone, declare it: `within a`; otherwise correct the prefix"
            )]
        );
        // The model is still built.
        assert_eq!(l.policy.unwrap().zones.len(), 2);
    }

    #[test]
    fn the_outer_block_decides_which_zone_is_inner_whatever_the_names() {
        // `a` is now the narrower one: the wider block, from `z`, is outer.
        let l = load(
            "zone z { network 10.0.0.0/8 }\n\
             zone a { network 10.9.0.0/16 }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `a` overlaps zone `z` @`a`: `10.9.0.0/16` is inside `10.0.0.0/8` \
                 | @`z`: `z` is declared here | note: {OVERLAP_NOTE} \
                 | help: if `a` is a sub-zone, declare it: `within z`; otherwise correct the prefix"
            )]
        );
    }

    #[test]
    fn identical_prefixes_overlap_with_the_first_zone_by_name_as_outer() {
        let l = load(
            "zone m { network 10.0.0.0/24 }\n\
             zone k { network 10.0.0.0/24 }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `m` overlaps zone `k` @`m`: `10.0.0.0/24` is inside `10.0.0.0/24` \
                 | @`k`: `k` is declared here | note: {OVERLAP_NOTE} \
                 | help: if `m` is a sub-zone, declare it: `within k`; otherwise correct the prefix"
            )]
        );
    }

    #[test]
    fn every_overlapping_pair_is_reported() {
        let l = load(
            "zone a { network 10.0.0.0/8 }\n\
             zone b { network 10.1.0.0/16 }\n\
             zone c { network 10.1.2.0/24 }\n",
        );
        let got = diags(&l);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].starts_with(
            "E0206 zone `b` overlaps zone `a` @`b`: `10.1.0.0/16` is inside `10.0.0.0/8`"
        ));
        // The innermost block is compared with the nearest enclosing one.
        assert!(got[1].starts_with(
            "E0206 zone `c` overlaps zone `b` @`c`: `10.1.2.0/24` is inside `10.1.0.0/16`"
        ));
    }

    #[test]
    fn adjacent_blocks_do_not_overlap() {
        clean(
            "zone a { network 10.0.0.0/24 }\n\
             zone b { network 10.0.1.0/24 }\n\
             zone c { network 10.0.2.0/23, 10.0.4.0/32 }\n",
        );
    }

    #[test]
    fn ipv4_and_ipv6_blocks_never_enclose_each_other() {
        // As numbers, ::/96 lies inside 0.0.0.0/1's range; as addresses
        // they are unrelated.
        clean(
            "zone a { network 0.0.0.0/1 }\n\
             zone b { network ::/96 }\n",
        );
    }

    #[test]
    fn a_block_is_compared_with_the_nearest_block_still_open() {
        // b's block has ended when c's starts: c is compared with a.
        let l = load(
            "zone a { network 10.0.0.0/16 }\n\
             zone b { network 10.0.0.0/24  within a }\n\
             zone c { network 10.0.5.0/24 }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `c` overlaps zone `a` @`c`: `10.0.5.0/24` is inside `10.0.0.0/16` \
                 | @`a`: `a` is declared here | note: {OVERLAP_NOTE} \
                 | help: if `c` is a sub-zone, declare it: `within a`; otherwise correct the prefix"
            )]
        );
    }

    #[test]
    fn within_makes_nesting_legal_also_through_several_levels() {
        let p = clean(
            "zone campus { network 10.0.0.0/8 }\n\
             zone building { network 10.1.0.0/16  within campus }\n\
             zone floor { network 10.1.2.0/24  within building }\n",
        );
        let campus = p.zone_by_name("campus").unwrap();
        let building = p.zone_by_name("building").unwrap();
        let floor = p.zone_by_name("floor").unwrap();
        assert_eq!(floor.parent, Some(building.id));
        assert_eq!(building.parent, Some(campus.id));
        // A parent's addresses exclude its children's.
        let ip = |s: &str| s.parse().unwrap();
        assert_eq!(p.zone_of(ip("10.1.2.3")), Some(floor.id));
        assert_eq!(p.zone_of(ip("10.1.3.3")), Some(building.id));
        assert_eq!(p.zone_of(ip("10.2.0.1")), Some(campus.id));
    }

    #[test]
    fn a_zone_overlapping_one_it_is_not_within_is_still_reported() {
        let l = load(
            "zone campus { network 10.0.0.0/8 }\n\
             zone building { network 10.1.0.0/16  within campus }\n\
             zone lab { network 10.1.5.0/24  within campus }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `lab` overlaps zone `building` @`lab`: `10.1.5.0/24` is inside `10.1.0.0/16` \
                 | @`building`: `building` is declared here | note: {OVERLAP_NOTE} \
                 | help: if `lab` is a sub-zone, declare it: `within building`; otherwise correct the prefix"
            )]
        );
    }

    #[test]
    fn an_external_zone_overlapping_an_internal_one_gets_other_help() {
        let l = load(
            "zone lan { network 192.0.2.0/24 }\n\
             zone partner { external  network 192.0.2.128/25 }\n",
        );
        assert_eq!(
            diags(&l),
            [format!(
                "E0206 zone `partner` overlaps zone `lan` @`partner`: `192.0.2.128/25` is inside `192.0.2.0/24` \
                 | @`lan`: `lan` is declared here | note: {OVERLAP_NOTE} \
                 | help: external zones may not overlap internal ones; correct the prefix"
            )]
        );
    }

    #[test]
    fn ipv6_blocks_are_swept_like_ipv4_ones() {
        let l = load(
            "zone a { network fd00::/48 }\n\
             zone b { network fd00:0:0:1::/64 }\n\
             zone c { network fd01::/64 }\n",
        );
        let got = diags(&l);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(got[0].starts_with(
            "E0206 zone `b` overlaps zone `a` @`b`: `fd00:0:0:1::/64` is inside `fd00::/48`"
        ));
    }
}

mod listener_ports {
    use super::*;

    const TWO_DEVICES: &str = "zone m { network 10.0.0.0/24\n\
           device ct { address 10.0.0.1  listens dicom }\n\
           device mr { address 10.0.0.2  listens dicom on 11112, https }\n\
         }\n\
         zone s { network 10.0.1.0/24 }\n";

    #[test]
    fn on_port_moves_the_service_for_that_device_only() {
        let p = clean(TWO_DEVICES);
        let dicom = p.service_by_name("dicom").unwrap().id;
        let https = p.service_by_name("https").unwrap().id;
        let ct = p.device_by_name("ct").unwrap();
        let mr = p.device_by_name("mr").unwrap();
        assert_eq!(ct.listens.len(), 1);
        assert_eq!(ct.listens[0].service, dicom);
        assert_eq!(ct.listens[0].port, None);
        assert_eq!(ct.listens[0].set, ServiceSet::ports(service::TCP, 104, 104));
        assert_eq!(mr.listens.len(), 2);
        assert_eq!(mr.listens[0].service, dicom);
        assert_eq!(mr.listens[0].port, Some(11112));
        assert_eq!(
            mr.listens[0].set,
            ServiceSet::ports(service::TCP, 11112, 11112)
        );
        assert_eq!(mr.listens[1].service, https);
        assert_eq!(mr.listens[1].port, None);
        assert_eq!(mr.listens[1].set, ServiceSet::ports(service::TCP, 443, 443));
    }

    #[test]
    fn a_rule_toward_the_device_uses_its_port() {
        let p = clean(&format!("{TWO_DEVICES}allow s -> mr, ct : dicom\n"));
        let ct = p.device_by_name("ct").unwrap().id;
        let mr = p.device_by_name("mr").unwrap().id;
        let r = &p.rules[0];
        assert_eq!(r.terms.len(), 2);
        assert_eq!(
            r.terms[0].services,
            ServiceSet::ports(service::TCP, 104, 104)
        );
        assert_eq!(r.terms[0].dst_endpoints, [Endpoint::Device(ct)]);
        assert_eq!(
            r.terms[1].services,
            ServiceSet::ports(service::TCP, 11112, 11112)
        );
        assert_eq!(r.terms[1].dst_endpoints, [Endpoint::Device(mr)]);
        let ip = |s: &str| s.parse().unwrap();
        let decide = |dst: &str, port| p.decide(ip("10.0.1.9"), ip(dst), service::TCP, port).action;
        assert_eq!(decide("10.0.0.2", 11112), Action::Allow);
        assert_eq!(decide("10.0.0.2", 104), Action::Deny);
        assert_eq!(decide("10.0.0.1", 104), Action::Allow);
        assert_eq!(decide("10.0.0.1", 11112), Action::Deny);
    }

    #[test]
    fn a_rule_toward_the_zone_reaches_the_device_on_its_port_only() {
        let p = clean(&format!("{TWO_DEVICES}allow s -> m : dicom\n"));
        let m = p.zone_by_name("m").unwrap().id;
        let mr = p.device_by_name("mr").unwrap().id;
        let r = &p.rules[0];
        assert_eq!(r.terms.len(), 2);
        assert_eq!(
            r.terms[0].services,
            ServiceSet::ports(service::TCP, 104, 104)
        );
        assert_eq!(r.terms[0].dst_endpoints, [Endpoint::Zone(m)]);
        assert_eq!(
            r.terms[1].services,
            ServiceSet::ports(service::TCP, 11112, 11112)
        );
        assert_eq!(r.terms[1].dst_endpoints, [Endpoint::Device(mr)]);
        let ip = |s: &str| s.parse().unwrap();
        let decide = |dst: &str, port| p.decide(ip("10.0.1.9"), ip(dst), service::TCP, port).action;
        // `dicom` toward `mr` is 11112, whichever way it is reached: the
        // zone-wide port is not opened toward a device that does not
        // listen on it.
        assert_eq!(decide("10.0.0.2", 104), Action::Deny);
        assert_eq!(decide("10.0.0.2", 11112), Action::Allow);
        assert_eq!(decide("10.0.0.1", 104), Action::Allow);
        assert_eq!(decide("10.0.0.9", 104), Action::Allow);
        assert_eq!(decide("10.0.0.1", 11112), Action::Deny);
    }

    #[test]
    fn any_and_composite_services_move_too() {
        let p = clean(&format!(
            "{TWO_DEVICES}service imaging = dicom, tcp 8080\nallow s -> any : imaging\n"
        ));
        let ip = |s: &str| s.parse().unwrap();
        let decide = |dst: &str, port| p.decide(ip("10.0.1.9"), ip(dst), service::TCP, port).action;
        assert_eq!(decide("10.0.0.2", 11112), Action::Allow);
        assert_eq!(decide("10.0.0.2", 104), Action::Deny);
        assert_eq!(decide("10.0.0.2", 8080), Action::Allow);
        assert_eq!(decide("10.0.0.1", 104), Action::Allow);
        assert_eq!(decide("192.0.2.1", 104), Action::Allow);
        assert_eq!(decide("192.0.2.1", 11112), Action::Deny);
    }

    #[test]
    fn a_deny_toward_the_device_wins_over_a_zone_allow() {
        let p = clean(&format!(
            "{TWO_DEVICES}allow s -> m : dicom\ndeny s -> mr : dicom\n"
        ));
        let ip = |s: &str| s.parse().unwrap();
        let decide = |dst: &str, port| p.decide(ip("10.0.1.9"), ip(dst), service::TCP, port).action;
        assert_eq!(decide("10.0.0.2", 104), Action::Deny);
        assert_eq!(decide("10.0.0.2", 11112), Action::Deny);
        assert_eq!(decide("10.0.0.1", 104), Action::Allow);
    }

    #[test]
    fn invariants_use_the_listener_port() {
        let p = clean(&format!("{TWO_DEVICES}never s -> mr : dicom\n"));
        let inv = &p.invariants[0];
        assert_eq!(inv.terms.len(), 1);
        assert_eq!(
            inv.terms[0].services,
            ServiceSet::ports(service::TCP, 11112, 11112)
        );
    }

    #[test]
    fn icmp_of_the_other_family_matches_nothing() {
        let p = clean(
            "zone a { network 10.0.0.0/24, 2001:db8::/64 }\n\
             zone b { network 10.0.1.0/24, 2001:db8:1::/64 }\n\
             allow a -> b : icmp echo-request\n",
        );
        let ip = |s: &str| s.parse().unwrap();
        let v4 = p.decide(ip("10.0.0.5"), ip("10.0.1.5"), service::ICMP, 8);
        assert_eq!(v4.action, Action::Allow);
        let v6 = p.decide(ip("2001:db8::5"), ip("2001:db8:1::5"), service::ICMP, 8);
        assert_eq!(v6.action, Action::Deny);
        let mixed = p.decide(ip("10.0.0.5"), ip("2001:db8:1::5"), service::ICMP, 8);
        assert_eq!(mixed.action, Action::Deny);
    }

    #[test]
    fn inline_ports_and_other_services_are_not_moved() {
        let p = clean(&format!(
            "{TWO_DEVICES}allow s -> mr : tcp 104\nallow s -> mr : https\n"
        ));
        let tcp104 = ServiceSet::ports(service::TCP, 104, 104);
        let https = ServiceSet::ports(service::TCP, 443, 443);
        let sets: Vec<&ServiceSet> = p.rules.iter().map(|r| &r.terms[0].services).collect();
        assert_eq!(sets.len(), 2);
        assert!(sets.contains(&&tcp104), "{sets:?}");
        assert!(sets.contains(&&https), "{sets:?}");
    }

    #[test]
    fn workflow_reverse_legs_use_the_port_of_the_device_they_reach() {
        let p = clean(&format!("{TWO_DEVICES}storage-commitment ct, mr -> s\n"));
        let ip = |s: &str| s.parse().unwrap();
        let decide = |dst: &str, port| p.decide(ip("10.0.1.9"), ip(dst), service::TCP, port).action;
        assert_eq!(decide("10.0.0.1", 104), Action::Allow);
        assert_eq!(decide("10.0.0.2", 11112), Action::Allow);
        assert_eq!(decide("10.0.0.2", 104), Action::Deny);
    }

    #[test]
    fn a_service_without_tcp_or_udp_ports_cannot_be_moved() {
        let l = load(
            "zone m { network 10.0.0.0/24\n\
               device x { address 10.0.0.1  listens icmp-echo on 7 }\n\
             }\n",
        );
        assert_eq!(
            diags(&l),
            [
                "E0215 service `icmp-echo` has no TCP or UDP port to move @`icmp-echo on 7`: \
              `on` needs a TCP or UDP service | help: remove `on PORT`"
            ]
        );
        assert!(
            l.policy
                .unwrap()
                .device_by_name("x")
                .unwrap()
                .listens
                .is_empty()
        );
    }

    #[test]
    fn an_out_of_range_port_drops_the_listener() {
        let l = load(
            "zone m { network 10.0.0.0/24\n\
               device x { address 10.0.0.1  listens dicom on 70000, https }\n\
             }\n",
        );
        assert_eq!(
            diags(&l),
            [
                "E0203 port `70000` is out of range @`70000`: must be 0 to 65535 \
              | help: TCP and UDP ports are 0-65535"
            ]
        );
        let p = l.policy.unwrap();
        let x = p.device_by_name("x").unwrap();
        assert_eq!(x.listens.len(), 1);
        assert_eq!(x.listens[0].port, None);
    }

    #[test]
    fn an_unknown_listened_service_is_reported_with_a_suggestion() {
        let l = load(
            "zone m { network 10.0.0.0/24\n\
               device x { address 10.0.0.1  listens dicomm on 11112, zzz }\n\
             }\n",
        );
        assert_eq!(
            diags(&l),
            [
                "E0105 unknown service `dicomm` @`dicomm`: not defined | help: did you mean `dicom`?",
                "E0105 unknown service `zzz` @`zzz`: not defined \
                 | help: define it first: `service zzz = tcp PORT`",
            ]
        );
    }

    #[test]
    fn a_moved_service_keeps_its_other_protocols() {
        // `dns` is udp 53 and tcp 53: both move.
        let p = clean(
            "zone m { network 10.0.0.0/24\n\
               device x { address 10.0.0.1  listens dns on 5353 }\n\
             }\n",
        );
        let x = p.device_by_name("x").unwrap();
        assert_eq!(
            x.listens[0].set,
            ServiceSet::ports(service::TCP, 5353, 5353).union(&ServiceSet::ports(
                service::UDP,
                5353,
                5353
            ))
        );
    }
}

/// Each zone's own addresses (children subtracted, the catch-all takes
/// the rest), computed in one pass over the zones.
mod zone_addresses {
    use super::clean;
    use crate::addr::{AddrSet, Prefix};

    fn set(prefixes: &[&str]) -> AddrSet {
        let ps: Vec<Prefix> = prefixes.iter().map(|p| Prefix::parse(p).unwrap()).collect();
        AddrSet::from_prefixes(&ps)
    }

    #[test]
    fn children_are_subtracted_and_the_catch_all_takes_the_rest() {
        let p = clean(
            "zone campus { network 10.0.0.0/8 }\n\
             zone b1 { network 10.1.0.0/16  within campus }\n\
             zone b2 { network 10.2.0.0/16  within campus }\n\
             zone floor { network 10.1.2.0/24  within b1 }\n\
             zone partner { external  network 192.0.2.0/24 }\n\
             zone internet { external }\n",
        );
        let addrs = |name: &str| {
            p.zones
                .iter()
                .find(|z| z.name == name)
                .unwrap()
                .addrs
                .clone()
        };
        assert_eq!(
            addrs("campus"),
            set(&["10.0.0.0/8"]).subtract(&set(&["10.1.0.0/16", "10.2.0.0/16"]))
        );
        assert_eq!(
            addrs("b1"),
            set(&["10.1.0.0/16"]).subtract(&set(&["10.1.2.0/24"]))
        );
        assert_eq!(addrs("b2"), set(&["10.2.0.0/16"]));
        assert_eq!(addrs("floor"), set(&["10.1.2.0/24"]));
        assert_eq!(
            addrs("internet"),
            set(&["10.0.0.0/8", "192.0.2.0/24"]).complement()
        );
    }
}
