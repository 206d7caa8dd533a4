use super::*;

fn opts(preset_name: &str) -> Options {
    Options {
        mapping: preset(preset_name).expect("a preset"),
        prefix_len: None,
        policy: "Riverbend Imaging".into(),
        today: Date::new(2026, 11, 28).expect("a date"),
    }
}

const CMDB: &str = "Hostname,IP Address,Device Type,Manufacturer,Model,Operating System,VLAN,Subnet,AE Title,DICOM Port,Location\r\n\
CT-1,10.20.110.11,CT,Siemens,\"SOMATOM go.Up\",Windows 10,110,10.20.110.0/24,CT1,104,Room 1\r\n\
NM 1,10.20.110.71,NM,\"GE, Healthcare\",Discovery,Windows XP SP3,110,,NM1,11112,Room 2\r\n\
pacs,10.20.120.10,PACS,Vendor \"X\",,Windows Server 2019,120,10.20.120.0/24,PACS1,104,DC\r\n\
Pacs!,10.20.120.11,PACS,,,Windows Server 2008 R2,120,,,,DC\r\n";

#[test]
fn a_cmdb_csv_becomes_zones_and_devices_in_the_canonical_layout() {
    let out = import(CMDB, Format::Csv, &opts("generic")).expect("imports");
    assert_eq!((out.zones, out.devices), (2, 4));
    assert_eq!(out.unmapped, ["Location"]);
    let t = &out.text;
    assert!(
        t.contains("zone vlan-110 {\n  network 10.20.110.0/24\n  vlan 110\n"),
        "{t}"
    );
    // Names made valid and unique; the original is kept in a comment.
    assert!(t.contains("device ct-1 {"), "{t}");
    assert!(t.contains("device nm-1 {"), "{t}");
    assert!(t.contains("device pacs {"), "{t}");
    assert!(t.contains("device pacs-2 {"), "{t}");
    // Unsupported operating systems are end-of-support; supported ones not.
    let nm = t.split("device nm-1 {").nth(1).expect("nm-1");
    assert!(
        nm.split('}')
            .next()
            .is_some_and(|d| d.contains("end-of-support")),
        "{nm}"
    );
    let ct = t.split("device ct-1 {").nth(1).expect("ct-1");
    assert!(
        !ct.split('}')
            .next()
            .is_some_and(|d| d.contains("end-of-support"))
    );
    let p2 = t.split("device pacs-2 {").nth(1).expect("pacs-2");
    assert!(
        p2.split('}')
            .next()
            .is_some_and(|d| d.contains("end-of-support")),
        "{p2}"
    );
    // Quotes escaped, the DICOM port honoured.
    assert!(t.contains("vendor \"Vendor \\\"X\\\"\""), "{t}");
    assert!(t.contains("listens dicom on 11112"), "{t}");
    // It is a valid policy, in the layout `zonal fmt` writes.
    let parsed = zonal_syntax::parse(zonal_diagnostics::FileId(0), t);
    assert!(parsed.diagnostics.is_empty());
    assert_eq!(&zonal_syntax::format(&parsed.file, t), t);
}

#[test]
fn unusable_rows_are_reported_by_number_and_nothing_is_produced() {
    let csv = "name,ip,vlan,subnet\n\
a,10.0.0.5,10,10.0.0.0/24\n\
b,10.0.0.300,10,\n\
a,10.0.0.6,10,\n\
c,10.9.9.9,10,\n\
d,10.0.0.7,,\n\
e,10.0.0.5,10,\n\
f,10.0.1.1,11,10.0.1.0/33\n";
    let errs = import(csv, Format::Csv, &opts("generic")).expect_err("refused");
    let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "row 3: `b`: `10.0.0.300` is not an IPv4 or IPv6 address",
            "row 4: duplicate name `a` (row 2 has it too)",
            "row 5: `c`: 10.9.9.9 is outside every subnet of its zone `vlan-10` (10.0.0.0/24)",
            "row 6: `d` has no zone, subnet or VLAN (map one, or give `--prefix-len 24`)",
            "row 7: `e`: address 10.0.0.5 is already row 2's",
            "row 8: `f`: subnet `10.0.1.0/33` is not a network in CIDR notation (e.g. 10.20.110.0/24)",
        ]
    );
}

#[test]
fn an_armis_json_export_with_zones_by_prefix() {
    let json = r#"{"data": [
        {"name": "MR Console", "ipAddress": "10.30.1.20", "type": "MRI", "manufacturer": "Philips", "model": "Ingenia", "operatingSystem": "Windows 7", "macAddress": "aa:bb:cc:dd:ee:ff"},
        {"name": "infusion-7", "ipAddress": ["fd00:30:2::7"], "type": "Infusion Pump", "manufacturer": "BD", "operatingSystem": "Unknown"}
    ]}"#;
    let mut o = opts("armis");
    assert!(
        import(json, Format::Json, &o).is_err(),
        "no zone without --prefix-len"
    );
    o.prefix_len = Some(24);
    let out = import(json, Format::Json, &o).expect("imports");
    assert!(
        out.text
            .contains("zone net-10-30-1-0-24 {\n  network 10.30.1.0/24"),
        "{}",
        out.text
    );
    assert!(out.text.contains("device mr-console {"), "{}", out.text);
    assert!(out.text.contains("kind mr"), "{}", out.text);
    assert!(out.text.contains("kind infusion-pump"), "{}", out.text);
    assert!(
        out.text.contains("network fd00:30:2::/24") || out.text.contains("fd00::/24"),
        "{}",
        out.text
    );
    assert_eq!(out.unmapped, ["macAddress"]);
}

#[test]
fn yaml_and_a_map_override() {
    let yaml = "- host: ws-1\n  addr: 10.1.1.10\n  segment: reading\n  net: 10.1.1.0/24\n  eos: 2020-01-31\n";
    let mut o = opts("generic");
    o.mapping.set("host", Field::Name);
    o.mapping.set("addr", Field::Ip);
    o.mapping.set("segment", Field::Zone);
    o.mapping.set("net", Field::Subnet);
    let out = import(yaml, Format::Yaml, &o).expect("imports");
    assert!(out.text.contains("zone reading {"), "{}", out.text);
    assert!(
        out.text.contains("end-of-support"),
        "a past end-of-support date"
    );
}

#[test]
fn os_names_and_names() {
    assert!(unsupported("Microsoft Windows XP Professional"));
    assert!(unsupported("Windows 7 Embedded"));
    assert!(!unsupported("Windows 70"));
    assert!(!unsupported("Windows 10 IoT LTSC"));
    assert_eq!(name_of("1st floor CT", "dev"), "dev-1st-floor-ct");
    assert_eq!(name_of("allow", "dev"), "allow-1");
    assert_eq!(name_of("Ärztezimmer PC", "dev"), "arztezimmer-pc");
}
