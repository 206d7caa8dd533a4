//! Resolution and decision tests over small policies.

use std::net::IpAddr;

use zonal_model::{Action, Date, Options, load_str, service};

fn opts() -> Options {
    Options {
        today: Date {
            year: 2026,
            month: 11,
            day: 28,
        },
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("`{s}` is not an address: {e}"))
}

const BASIC: &str = r#"
policy test { owner "Network Engineering" }
zone modalities {
  network 10.20.110.0/24, fd00:110::/64
  trust low
  kind modality
  device ct-1 { address 10.20.110.11, fd00:110::11  kind ct  ae CT1  listens dicom  storage-commitment }
  device mr-1 { address 10.20.110.12  kind mr  listens dicom on 11112 }
}
zone imaging-servers {
  network 10.20.120.0/24
  trust medium
  kind pacs
  device pacs-1 { address 10.20.120.10  kind pacs  listens dicom on 11112, https }
}
zone guest { network 172.31.0.0/16  trust untrusted  kind guest }
zone internet { external }
group scanners = ct-1, mr-1
allow scanners -> pacs-1 : dicom "C-STORE"
storage-commitment ct-1, mr-1 -> pacs-1
allow guest -> internet : https
deny any -> pacs-1 : tcp 11112 until 2020-01-01
allow imaging-servers -> internet : https until 2026-11-27 "expired yesterday"
"#;

#[test]
fn basic_policy_resolves_and_decides() {
    let l = load_str("basic.zonal", BASIC, &opts());
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert_eq!(p.zones.len(), 4);
    // pacs-1 listens dicom on 11112: modalities reach it there, not on 104.
    let v = p.decide(ip("10.20.110.11"), ip("10.20.120.10"), service::TCP, 11112);
    assert_eq!(v.action, Action::Allow);
    assert_eq!(
        p.decide(ip("10.20.110.11"), ip("10.20.120.10"), service::TCP, 104)
            .action,
        Action::Deny
    );
    // Storage commitment reverse legs: pacs-1 -> ct-1 on 104, -> mr-1 on 11112.
    assert_eq!(
        p.decide(ip("10.20.120.10"), ip("10.20.110.11"), service::TCP, 104)
            .action,
        Action::Allow
    );
    assert_eq!(
        p.decide(ip("10.20.120.10"), ip("10.20.110.12"), service::TCP, 11112)
            .action,
        Action::Allow
    );
    assert_eq!(
        p.decide(ip("10.20.120.10"), ip("10.20.110.12"), service::TCP, 104)
            .action,
        Action::Deny
    );
    // Guests reach the internet, not internal zones.
    assert_eq!(
        p.decide(ip("172.31.5.5"), ip("8.8.8.8"), service::TCP, 443)
            .action,
        Action::Allow
    );
    assert_eq!(
        p.decide(ip("172.31.5.5"), ip("10.20.120.10"), service::TCP, 443)
            .action,
        Action::Deny
    );
    // The expired deny and the expired allow are not enforced.
    assert_eq!(
        p.decide(ip("10.20.120.10"), ip("8.8.8.8"), service::TCP, 443)
            .action,
        Action::Deny
    );
    let expired: Vec<&str> = p
        .rules
        .iter()
        .filter(|r| r.expired)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(expired.len(), 2, "{expired:?}");
    // IPv6 of ct-1 is covered by the storage-commitment report leg.
    assert_eq!(
        p.decide(ip("fd00:120::1"), ip("fd00:110::11"), service::TCP, 104)
            .action,
        Action::Deny
    );
}

#[test]
fn meaning_does_not_depend_on_item_order() {
    let a = load_str("a.zonal", BASIC, &opts()).policy.unwrap();
    let mut lines: Vec<&str> = BASIC.lines().collect();
    let flows: Vec<&str> =
        lines.split_off(lines.iter().position(|l| l.starts_with("group")).unwrap());
    let mut reordered = flows.clone();
    reordered.reverse();
    let text = format!("{}\n{}\n", reordered.join("\n"), lines.join("\n"));
    let b = load_str("b.zonal", &text, &opts()).policy.unwrap();
    assert_eq!(a.digest, b.digest);
    let names_a: Vec<&str> = a.rules.iter().map(|r| r.name.as_str()).collect();
    let names_b: Vec<&str> = b.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names_a, names_b);
}

#[test]
fn errors_point_at_the_mistake() {
    let text = r#"
policy t {}
zone a { network 10.0.0.5/24 }
zone b { network 10.1.0.0/16 }
zone c { network 10.1.2.0/24 }
zone d { network 10.9.0.0/24  device x { address 10.8.0.1 } }
allow a -> bb : dicom
allow b -> c : dicmo, tcp 70000, tcp 90-80
"#;
    let l = load_str("e.zonal", text, &opts());
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
    for c in [
        "E0202", "E0206", "E0205", "E0104", "E0105", "E0203", "E0204",
    ] {
        assert!(codes.contains(&c), "missing {c} in {codes:?}");
    }
    let host_bits = l.diagnostics.iter().find(|d| d.code == "E0202").unwrap();
    assert_eq!(host_bits.help.as_deref(), Some("write `10.0.0.0/24`"));
    let unknown = l.diagnostics.iter().find(|d| d.code == "E0105").unwrap();
    assert_eq!(unknown.help.as_deref(), Some("did you mean `dicom`?"));
}

#[test]
fn the_prelude_parses_cleanly() {
    let l = load_str("p.zonal", "policy p {}\n", &opts());
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let p = l.policy.unwrap();
    for name in [
        "dicom",
        "dicom-tls",
        "hl7",
        "esp",
        "icmp-echo",
        "dns",
        "smb",
    ] {
        assert!(p.service_by_name(name).is_some(), "{name}");
    }
    assert_eq!(
        p.service_by_name("dns").unwrap().set.to_string(),
        "tcp 53, udp 53"
    );
}

/// The names of a policy's rules, in canonical order.
fn rule_names(text: &str) -> Vec<String> {
    let l = load_str("p.zonal", text, &opts());
    assert!(!l.diagnostics.has_input_errors(), "{:?}", l.diagnostics);
    let p = l.policy.unwrap_or_else(|| panic!("no model"));
    p.rules.iter().map(|r| r.name.clone()).collect()
}

#[test]
fn generated_rule_names_survive_added_endpoints_and_services() {
    let head = "policy p { owner \"n\" }\nzone a { network 10.0.1.0/24 }\nzone b { network 10.0.2.0/24 }\nzone c { network 10.0.3.0/24 }\n";
    let before = rule_names(&format!("{head}allow a -> b : https \"x\"\n"));
    let after = rule_names(&format!("{head}allow a, c -> b, c : https, ssh \"x\"\n"));
    assert_eq!(before, ["allow-a-to-b-https"]);
    assert_eq!(after, before);
}

#[test]
fn given_rule_names_name_the_rule_and_both_workflow_legs() {
    let text = "policy p { owner \"n\" }\nzone a { network 10.0.1.0/24\n device m { address 10.0.1.5 listens dicom } }\nzone b { network 10.0.2.0/24\n device s { address 10.0.2.5 listens dicom } }\n\
        @name RAD-0042\nallow a -> b : https \"x\"\n@name RAD-7\nstorage-commitment m -> s \"y\"\n\
        # A generated name never takes a given one.\nallow a -> b : ssh \"z\"\n";
    let mut names = rule_names(text);
    names.sort();
    assert_eq!(
        names,
        ["RAD-0042", "RAD-7-report", "RAD-7-req", "allow-a-to-b-ssh"]
    );
}

#[test]
fn a_workflow_name_used_twice_or_unusable_is_reported_once() {
    let head = "policy p { owner \"n\" }\nzone a { network 10.0.1.0/24\n device m { address 10.0.1.5 listens dicom } }\nzone b { network 10.0.2.0/24\n device s { address 10.0.2.5 listens dicom } }\n";
    let twice = format!(
        "{head}@name RAD-7\nstorage-commitment m -> s \"x\"\n@name RAD-7\nc-move m -> s \"y\"\n"
    );
    let l = load_str("p.zonal", &twice, &opts());
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0112"], "{:?}", l.diagnostics);
    let bad = format!("{head}@name rad_7\nstorage-commitment m -> s \"x\"\n");
    let l = load_str("p.zonal", &bad, &opts());
    let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0113"], "{:?}", l.diagnostics);
}
