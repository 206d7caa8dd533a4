//! `zonal import`: a 1,000-row inventory CSV (generated here) becomes a
//! policy `zonal check` accepts; unusable rows write nothing.

use std::fmt::Write as _;
use std::path::Path;

use zonal_tests::{Run, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

/// 1,000 assets over 20 VLANs (one /24 each), modality-like names with
/// collisions after clean-up, unsupported systems, AE titles and ports.
fn inventory() -> String {
    let kinds = [
        "CT",
        "MR",
        "NM",
        "US",
        "DX",
        "Workstation",
        "Printer",
        "Infusion Pump",
    ];
    let oses = [
        "Windows 10",
        "Windows XP",
        "Windows 7 SP1",
        "Linux",
        "Windows Server 2008 R2",
        "",
    ];
    let mut s = String::from(
        "Hostname,IP Address,Device Type,Manufacturer,Model,Operating System,VLAN,Subnet,AE Title,DICOM Port,Room\n",
    );
    for i in 0..1000u32 {
        let vlan = 100 + i % 20;
        let host = i / 20 + 10;
        let kind = kinds[(i % 8) as usize];
        let os = oses[(i % 6) as usize];
        // `Node 5` and `node_5` both clean up to `node-5`: numbered.
        let name = if i % 2 == 0 {
            format!("Node {i}")
        } else {
            format!("node_{}", i - 1)
        };
        let (ae, port) = if i % 3 == 0 {
            (format!("AE{i}"), "104")
        } else {
            (String::new(), "")
        };
        let subnet = if i < 20 {
            format!("10.{}.{}.0/24", vlan / 100, vlan % 100)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{name},10.{}.{}.{host},{kind},\"Vendor, Inc.\",M{i},{os},{vlan},{subnet},{ae},{port},\"Room \"\"{i}\"\"\"",
            vlan / 100,
            vlan % 100
        );
    }
    s
}

#[test]
fn a_thousand_row_inventory_imports_into_a_policy_check_accepts() {
    let dir = temp_dir("import-1000");
    std::fs::write(dir.join("assets.csv"), inventory()).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["import", "assets.csv", "-o", "inventory.zonal"], &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("wrote `inventory.zonal`: 20 zone(s), 1000 device(s)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("columns left out (no field): Room"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(dir.join("inventory.zonal")).unwrap_or_default();
    assert_eq!(text.matches("\n  device ").count(), 1000);
    assert!(text.contains("device node-0-2 "), "a numbered name");
    assert!(text.contains("end-of-support"));
    let r = zonal(&["check", "inventory.zonal"], &dir);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = zonal(&["fmt", "--check", "inventory.zonal"], &dir);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn unusable_rows_write_nothing() {
    let dir = temp_dir("import-bad");
    let mut csv = inventory();
    csv.push_str("broken,10.1.300.1,CT,,,,101,,,,\n");
    std::fs::write(dir.join("assets.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
    let r = zonal(&["import", "assets.csv", "-o", "inventory.zonal"], &dir);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "assets.csv: row 1002: `broken`: `10.1.300.1` is not an IPv4 or IPv6 address"
        ),
        "{}",
        r.stderr
    );
    assert!(!dir.join("inventory.zonal").exists());
    let entries = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(entries, 1, "no temporary left behind");
    // Usage errors.
    let r = zonal(&["import", "assets.csv", "--map", "Room=colour"], &dir);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`colour` is not a field"), "{}", r.stderr);
    let r = zonal(&["import", "assets.txt"], &dir);
    assert_eq!(r.code, 2);
}
