//! The redeploy simulation of FortiGate and ASA (issue 9 §5): a device
//! already holding foreign configuration, version 1 of a policy pasted,
//! then version 2 pasted on top. The readers of `zonal_xcheck` model each
//! device's merge semantics (FortiOS: `edit` of an existing id keeps the
//! fields it does not set, `edit 0` creates, `delete` removes, `set`
//! replaces a field, policy names are unique; ASA: `access-list` lines
//! append, duplicate ACEs are refused, object-group re-entry adds members,
//! `access-group` rebinding replaces). The resulting configuration must
//! decide at least 10,000 packets per pair exactly as version 2's
//! `decide()`, and every foreign entry must be unchanged and in order.

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_model::Policy;
use zonal_tests::{on_workers, policy_of_text, redeploy_pairs, render_or_panic};
use zonal_xcheck::Config;

/// Foreign FortiGate configuration: an address, management and VPN
/// policies with low ids on interfaces Zonal does not bind, and a zone.
const FOREIGN_FORTI: &str = r#"config system zone
    edit "corp-dmz"
        set interface "port9"
        set intrazone allow
    next
end
config firewall address
    edit "corp-admins"
        set subnet 192.0.2.0 255.255.255.0
    next
end
config firewall policy
    edit 1
        set name "corp-admin-ssh"
        set srcintf "port10"
        set dstintf "corp-dmz"
        set srcaddr "corp-admins"
        set dstaddr "all"
        set action accept
        set schedule "always"
        set service "SSH"
        set comments "written by the corporate team"
    next
    edit 2
        set name "corp-vpn"
        set srcintf "ssl.root"
        set dstintf "corp-dmz"
        set srcaddr "all"
        set dstaddr "all"
        set srcaddr6 "all"
        set dstaddr6 "all"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
    edit 3
        set name "corp-block"
        set srcintf "corp-dmz"
        set dstintf "port10"
        set srcaddr "all"
        set dstaddr "all"
        set action deny
        set schedule "always"
        set service "ALL"
    next
end
"#;

/// Foreign ASA configuration: a management interface with its own ACL,
/// an object group and a global ACL name Zonal never uses.
const FOREIGN_ASA: &str = "interface GigabitEthernet0/9
 nameif mgmt
 security-level 100
object-group network CORP_ADMINS
 network-object 192.0.2.0 255.255.255.0
access-list MGMT_IN extended permit tcp object-group CORP_ADMINS any eq 22
access-list MGMT_IN extended deny ip any any log
access-group MGMT_IN in interface mgmt
";

fn render(policy: &Policy, target: Target) -> String {
    let fw = Firewall::by_address(policy.name.clone());
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| a.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `part` appears in `whole` as a subsequence (same lines, same
/// relative order).
fn in_order(part: &[String], whole: &[String]) -> Result<(), String> {
    let mut it = whole.iter();
    for line in part {
        if !it.any(|l| l == line) {
            return Err(format!("foreign entry changed, lost or reordered: {line}"));
        }
    }
    Ok(())
}

/// Pastes `texts` one after the other on one device, cross-checks the
/// result against `policy` and checks the foreign entries.
fn simulate(
    policy: &Policy,
    reader: zonal_xcheck::Target,
    foreign: &str,
    texts: &[&str],
) -> Result<usize, String> {
    let mut all = foreign.to_string();
    for t in texts {
        all.push('\n');
        all.push_str(t);
    }
    let report = zonal_xcheck::cross_check(policy, reader, &all, &Config::default())
        .map_err(|e| format!("the device refuses the paste: {e}"))?;
    if !report.is_clean() {
        return Err(report.summary(5));
    }
    let before = zonal_xcheck::state(reader, foreign).map_err(|e| e.to_string())?;
    let after = zonal_xcheck::state(reader, &all).map_err(|e| e.to_string())?;
    assert!(!before.is_empty());
    in_order(&before, &after)?;
    Ok(report.evaluated - report.replies)
}

#[expect(
    clippy::print_stderr,
    reason = "the figures of the simulation are part of the test output"
)]
fn run(target: Target, reader: zonal_xcheck::Target, foreign: &str) {
    let pairs = redeploy_pairs(12);
    assert!(pairs.len() >= 20, "only {} pairs", pairs.len());
    let totals = std::sync::Mutex::new((0usize, 0usize, Vec::<String>::new()));
    on_workers(&(0..pairs.len()).collect::<Vec<_>>(), 2, |i| {
        let pair = &pairs[i];
        let v1 = policy_of_text("v1.zonal", &pair.v1);
        let v2 = policy_of_text("v2.zonal", &pair.v2);
        let (t1, t2) = (render(&v1, target), render(&v2, target));
        // v1 then v2; v2 again (idempotent); then v1 again (rollback).
        let results = [
            simulate(&v2, reader, foreign, &[&t1, &t2]),
            simulate(&v2, reader, foreign, &[&t1, &t2, &t2]),
            simulate(&v1, reader, foreign, &[&t1, &t2, &t1]),
        ];
        let mut t = totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.0 += 1;
        for r in results {
            match r {
                Ok(n) => t.1 += n,
                Err(e) => t.2.push(format!("{}: {e}", pair.label)),
            }
        }
    });
    let (n, packets, failures) = totals
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    eprintln!(
        "redeploy simulation {target}: {n} pairs (v1→v2, v2 again, rollback to v1), {packets} packets compared, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fortigate_redeploys_exactly_and_keeps_foreign_policies() {
    run(
        Target::Fortigate,
        zonal_xcheck::Target::FortiGate,
        FOREIGN_FORTI,
    );
}

#[test]
fn asa_redeploys_exactly_and_keeps_foreign_acls() {
    run(Target::Asa, zonal_xcheck::Target::Asa, FOREIGN_ASA);
}

/// The pair of the FortiGate regression below: v2 adds a device-to-device
/// rule to v1.
const WIDEN_V1: &str = r#"policy widen { owner "t" }
zone imaging {
  network 10.20.0.0/24, 2001:db8:20::/64
  device ct-1 { address 10.20.0.11, 2001:db8:20::11 }
}
zone pacs {
  network 10.30.0.0/24, 2001:db8:30::/64
  device pacs-1 { address 10.30.0.10, 2001:db8:30::10  listens dicom }
}
allow imaging -> pacs : https
"#;

fn widen_v2() -> String {
    format!("{WIDEN_V1}allow ct-1 -> pacs-1 : dicom\n")
}

/// What Zonal rendered for this pair before issue 9 (explicit ids 1..N,
/// edited in place, each family's fields set alone), abridged to the
/// policy table and its objects.
const OLD_V1: &str = r#"config system zone
    edit "imaging"
        set intrazone deny
    next
    edit "pacs"
        set intrazone deny
    next
end
config firewall address
    edit "n4-10_20_0_0_24"
        set subnet 10.20.0.0 255.255.255.0
    next
    edit "n4-10_30_0_0_24"
        set subnet 10.30.0.0 255.255.255.0
    next
end
config firewall address6
    edit "n6-2001_db8_20_64"
        set ip6 2001:db8:20::/64
    next
    edit "n6-2001_db8_30_64"
        set ip6 2001:db8:30::/64
    next
end
config firewall policy
    edit 1
        set name "allow-imaging-to-pacs-https-imaging-pacs-4"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr "n4-10_20_0_0_24"
        set dstaddr "n4-10_30_0_0_24"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
    edit 2
        set name "allow-imaging-to-pacs-https-imaging-pacs-6"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr6 "n6-2001_db8_20_64"
        set dstaddr6 "n6-2001_db8_30_64"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
    edit 3
        set name "zonal-deny"
        set srcintf "any"
        set dstintf "any"
        set srcaddr "all"
        set dstaddr "all"
        set srcaddr6 "all"
        set dstaddr6 "all"
        set action deny
        set schedule "always"
        set service "ALL"
        set logtraffic all
    next
end
"#;

const OLD_V2: &str = r#"config firewall address
    edit "h4-10_20_0_11"
        set subnet 10.20.0.11 255.255.255.255
    next
    edit "h4-10_30_0_10"
        set subnet 10.30.0.10 255.255.255.255
    next
end
config firewall address6
    edit "h6-2001_db8_20_11"
        set ip6 2001:db8:20::11/128
    next
    edit "h6-2001_db8_30_10"
        set ip6 2001:db8:30::10/128
    next
end
config firewall service custom
    edit "s-dicom"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 104
    next
end
config firewall policy
    edit 1
        set name "allow-imaging-to-pacs-https-imaging-pacs-4"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr "n4-10_20_0_0_24"
        set dstaddr "n4-10_30_0_0_24"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
    edit 2
        set name "allow-imaging-to-pacs-https-imaging-pacs-6"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr6 "n6-2001_db8_20_64"
        set dstaddr6 "n6-2001_db8_30_64"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
    edit 3
        set name "allow-ct-1-to-pacs-1-dicom-imaging-pacs-4"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr "h4-10_20_0_11"
        set dstaddr "h4-10_30_0_10"
        set action accept
        set schedule "always"
        set service "s-dicom"
    next
    edit 4
        set name "allow-ct-1-to-pacs-1-dicom-imaging-pacs-6"
        set srcintf "imaging"
        set dstintf "pacs"
        set srcaddr6 "h6-2001_db8_20_11"
        set dstaddr6 "h6-2001_db8_30_10"
        set action accept
        set schedule "always"
        set service "s-dicom"
    next
    edit 5
        set name "zonal-deny"
        set srcintf "any"
        set dstintf "any"
        set srcaddr "all"
        set dstaddr "all"
        set srcaddr6 "all"
        set dstaddr6 "all"
        set action deny
        set schedule "always"
        set service "ALL"
        set logtraffic all
    next
end
"#;

/// Issue 9, FortiGate (critical): after a change that adds a rule, the
/// old output turned the old `zonal-deny` id into an allow that kept
/// `srcaddr6 "all"` / `dstaddr6 "all"` (any → any DICOM over IPv6), and
/// its ids 1..N overwrote policies that were not Zonal's. The simulation
/// catches both on the old output; the new output is exact and leaves the
/// foreign policies alone.
#[test]
fn fortigate_redeploy_no_longer_widens_nor_overwrites_foreign_policies() {
    let v2 = policy_of_text("v2.zonal", &widen_v2());
    let reader = zonal_xcheck::Target::FortiGate;
    // Pasted on top of v1, the old v2 widens IPv6 silently.
    let pasted = format!("{OLD_V1}{OLD_V2}");
    let report = zonal_xcheck::cross_check(&v2, reader, &pasted, &Config::default()).unwrap();
    let widened: Vec<_> = report
        .mismatches
        .iter()
        .filter(|m| m.got.allow && !m.expected.allow && m.packet.src.is_ipv6())
        .collect();
    assert!(
        !widened.is_empty() && widened.iter().all(|m| m.got.why.contains("policy 3")),
        "{}",
        report.summary(5)
    );
    // And it overwrites the foreign policies 1 to 3.
    let err = simulate(&v2, reader, FOREIGN_FORTI, &[OLD_V1, OLD_V2]).unwrap_err();
    assert!(
        err.contains("foreign entry") || err.contains("mismatch"),
        "{err}"
    );
    // The new output: exact after v1, and foreign policies intact.
    let v1 = policy_of_text("v1.zonal", WIDEN_V1);
    let (t1, t2) = (
        render(&v1, Target::Fortigate),
        render(&v2, Target::Fortigate),
    );
    simulate(&v2, reader, FOREIGN_FORTI, &[&t1, &t2]).unwrap();
    // The old deny's slot cannot keep stale IPv6 fields: every Zonal
    // policy sets all four address fields.
    for block in t2.split("\n    edit ").skip(1) {
        if block.contains("set srcintf") {
            for f in ["srcaddr", "dstaddr", "srcaddr6", "dstaddr6"] {
                assert!(
                    block.contains(&format!("\n        set {f} \"")),
                    "{f}: {block}"
                );
            }
        }
    }
    // No id outside Zonal's block is edited.
    let table = &t2[t2.find("config firewall policy\n").unwrap()..];
    for line in table.lines().filter(|l| l.starts_with("    edit ")) {
        let id: u64 = line["    edit ".len()..].parse().unwrap();
        assert!((1_000_000..=1_099_999).contains(&id), "{line}");
    }
}

/// Issue 9, ASA: the internet and a vendor's peers behind `outside` (one
/// ACL on `outside` for both zones) are enforced exactly, on a fresh device
/// and pasted over the version without the peers' zone bound.
#[test]
fn asa_with_several_zones_behind_outside_is_exact_and_redeploys() {
    use zonal_diagnostics::SourceDb;
    let policy = zonal_tests::policy_of("policies/examples/riverbend-radiology.zonal");
    let binding = |extra: &str| {
        let yaml = format!(
            "firewalls:\n  - name: edge\n    target: asa\n    zones:\n      \
             modalities: {{ interface: vlan110 }}\n      \
             imaging-servers: {{ interface: vlan120 }}\n      \
             vendor-dmz: {{ interface: dmz }}\n      \
             internet: {{ interface: outside }}\n{extra}"
        );
        let mut db = SourceDb::new();
        let id = db.add("edge.yaml", yaml.clone());
        let mut b = zonal_backend::parse_binding(id, &yaml, &policy)
            .unwrap_or_else(|d| panic!("{d:?}\n{yaml}"));
        b.firewalls.remove(0)
    };
    let v1 = binding("");
    let v2 = binding(
        "      siemens-srs-peers: { interface: outside }\n      ge-insite-cloud: { interface: OUTSIDE }\n",
    );
    let render = |fw: &Firewall| {
        let req = Request {
            checked: &zonal_tests::checked_relaxed(policy.clone()),
            firewall: fw,
            templates: &Templates::embedded(),
        };
        render_or_panic(Target::Asa, &req)
            .artifacts
            .into_iter()
            .map(|a| a.text)
            .collect::<String>()
    };
    let (t1, t2) = (render(&v1), render(&v2));
    // One interface (ASA names are case-insensitive), one ACL, written
    // with the spelling of the first zone in policy order.
    let lower = t2.to_ascii_lowercase();
    assert_eq!(
        lower
            .lines()
            .filter(|l| l.starts_with("access-group ") && l.ends_with(" in interface outside"))
            .count(),
        1,
        "{t2}"
    );
    for zone in ["internet", "siemens-srs-peers", "ge-insite-cloud"] {
        assert!(
            lower.contains(&format!(
                "! zone {zone}: traffic entering interface outside\n"
            )),
            "{zone}: {t2}"
        );
    }
    let zones: std::collections::BTreeMap<String, Option<String>> = v2
        .zones
        .iter()
        .flatten()
        .map(|b| (b.zone.clone(), None))
        .collect();
    let config = Config {
        zones: Some(zones),
        ..Config::default()
    };
    for text in [t2.clone(), format!("{FOREIGN_ASA}\n{t1}\n{t2}")] {
        let report =
            zonal_xcheck::cross_check(&policy, zonal_xcheck::Target::Asa, &text, &config).unwrap();
        assert!(report.is_clean(), "{}", report.summary(5));
        assert!(report.evaluated >= 10_000);
    }
}
