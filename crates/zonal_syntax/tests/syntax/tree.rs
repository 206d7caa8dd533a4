//! The tree of every construct, with exact ranges (inline snapshots).

use insta::assert_snapshot;

use crate::common::dump;

#[test]
fn policy_header() {
    assert_snapshot!(dump(r#"policy riverbend-radiology { owner "Network Engineering" description "x" }"#), @r#"
    policy @0..74
      name `riverbend-radiology`@7..26
      owner "Network Engineering"@35..56
      description "x"@69..72
    "#);
}

#[test]
fn empty_policy_header() {
    assert_snapshot!(dump("policy p {}"), @"
    policy @0..11
      name `p`@7..8
    ");
}

#[test]
fn include() {
    assert_snapshot!(dump(r#"include "zones/modalities.zonal""#), @r#"
    include @0..32
      path "zones/modalities.zonal"@8..32
    "#);
}

#[test]
fn service_with_ports_ranges_and_description() {
    assert_snapshot!(dump(r#"service vendor = tcp 18016-18019, 18030, udp 53 description "vendor tunnel""#), @r#"
    service @0..75
      name `vendor`@8..14
      terms tcp[18016-18019@21..32, 18030@34..39]@17..39, udp[53@45..47]@41..47
      description "vendor tunnel"@60..75
    "#);
}

#[test]
fn service_icmp_proto_any_and_refs() {
    assert_snapshot!(dump("service s = icmp echo-request, 3, icmpv6, proto 50, any, https, tcp"), @"
    service @0..67
      name `s`@8..9
      terms icmp[`echo-request`@17..29, 3@31..32]@12..32, icmpv6[]@34..40, proto 50@48..50@42..50, any@52..55, ref `https`@57..62@57..62, tcp[]@64..67
    ");
}

#[test]
fn override_service() {
    assert_snapshot!(dump("override service dicom = tcp 104, 4242"), @"
    service @0..38
      override @0..8
      name `dicom`@17..22
      terms tcp[104@29..32, 4242@34..38]@25..38
    ");
}

#[test]
fn group() {
    assert_snapshot!(dump(r#"group imaging = modalities, pacs-1 description "all imaging""#), @r#"
    group @0..60
      name `imaging`@6..13
      members `modalities`@16..26, `pacs-1`@28..34
      description "all imaging"@47..60
    "#);
}

#[test]
fn zone_with_every_property() {
    assert_snapshot!(dump(r#"zone m {
  network 10.20.110.0/24, fd00:20:110::/64
  vlan 110
  trust low
  kind modality
  tags radiology, ct
  description "modalities"
  legacy
  end-of-support
  external
  within imaging
}"#), @r#"
    zone @0..194
      name `m`@5..6
      network 10.20.110.0/24@19..33, fd00:20:110::/64@35..51 @11..51
      vlan 110@59..62 @54..62
      trust `low`@71..74 @65..74
      kind `modality`@82..90 @77..90
      tags `radiology`@98..107, `ct`@109..111 @93..111
      description "modalities"@126..138 @114..138
      legacy @141..147
      legacy @150..164
      external @167..175
      within `imaging`@185..192 @178..192
    "#);
}

#[test]
fn device_with_every_property() {
    assert_snapshot!(dump(r#"zone m {
  device ct-1 { address 10.20.110.11, ::1  kind ct  vendor "Siemens"  model "go.Up"  os "Win 10"  description "d"
    end-of-support legacy wireless storage-commitment move-destination ae CT1  listens dicom on 11112, https }
  @suppress unused-device "spare"
  device ct-2 { ae "8x10 DVFB" }
}"#), @r#"
    zone @0..302
      name `m`@5..6
      device `ct-1`@18..22 @11..233
        address 10.20.110.11@33..45, ::1@47..50 @25..50
        kind `ct`@57..59 @52..59
        vendor "Siemens"@68..77 @61..77
        model "go.Up"@85..92 @79..92
        os "Win 10"@97..105 @94..105
        description "d"@119..122 @107..122
        legacy @127..141
        legacy @142..148
        wireless @149..157
        storage-commitment @158..176
        move-destination @177..193
        ae "CT1"@197..200 @194..200
        listens `dicom`@210..215 on 11112@219..224@210..224, `https`@226..231@226..231 @202..231
      @suppress `unused-device`@246..259 reason="spare"@260..267 until=- @236..267
      device `ct-2`@277..281 @270..300
        ae "8x10 DVFB"@287..298 @284..298
    "#);
}

#[test]
fn allow_flow_with_until_and_justification() {
    assert_snapshot!(dump(r#"allow vendor-dmz, any -> ct-1 : rdp until 2027-01-31 "ticket 4711""#), @r#"
    flow @0..66
      action Allow
      src [`vendor-dmz`@6..16, any@18..21]@6..21
      dst [`ct-1`@25..29]@25..29
      services ref `rdp`@32..35@32..35
      until 2027-01-31@42..52
      why "ticket 4711"@53..66
    "#);
}

#[test]
fn arrow_without_spaces() {
    assert_snapshot!(dump("allow ct-1->pacs-1 : dicom"), @"
    flow @0..26
      action Allow
      src [`ct-1`@6..10]@6..10
      dst [`pacs-1`@12..18]@12..18
      services ref `dicom`@21..26@21..26
    ");
}

#[test]
fn deny_without_services() {
    assert_snapshot!(dump("deny guest-wifi -> modalities"), @"
    flow @0..29
      action Deny
      src [`guest-wifi`@5..15]@5..15
      dst [`modalities`@19..29]@19..29
    ");
}

#[test]
fn storage_commitment() {
    assert_snapshot!(dump("storage-commitment ct-1 -> pacs-1  # both legs"), @r##"
    workflow @0..33
      kind StorageCommitment
      src [`ct-1`@19..23]@19..23
      dst [`pacs-1`@27..33]@27..33
    comment "# both legs" @35..46
    "##);
}

#[test]
fn c_move_with_destination_and_services() {
    assert_snapshot!(dump(r#"c-move ws-1 -> pacs-1 to ws-2, ws-3 : dicom-tls until 2030-12-31 "retrieve""#), @r#"
    workflow @0..75
      kind CMove
      src [`ws-1`@7..11]@7..11
      dst [`pacs-1`@15..21]@15..21
      to [`ws-2`@25..29, `ws-3`@31..35]@25..35
      services ref `dicom-tls`@38..47@38..47
      until 2030-12-31@54..64
      why "retrieve"@65..75
    "#);
}

#[test]
fn never_direct_and_transitive() {
    assert_snapshot!(dump(r#"never guest-wifi ~> modalities "no path"
never modalities -> internet : https"#), @r#"
    never @0..40
      reach Transitive
      src [`guest-wifi`@6..16]@6..16
      dst [`modalities`@20..30]@20..30
      why "no path"@31..40
    never @41..77
      reach Direct
      src [`modalities`@47..57]@47..57
      dst [`internet`@61..69]@61..69
      services ref `https`@72..77@72..77
    "#);
}

#[test]
fn require() {
    assert_snapshot!(dump(r#"require modalities -> pacs-1 : dicom "archiving""#), @r#"
    require @0..48
      src [`modalities`@8..18]@8..18
      dst [`pacs-1`@22..28]@22..28
      services ref `dicom`@31..36@31..36
      why "archiving"@37..48
    "#);
}

#[test]
fn suppressions_on_an_item() {
    assert_snapshot!(dump(r#"@suppress unused-zone "later" until 2027-06-30
@suppress L0101
zone spare { network 10.9.0.0/24 }"#), @r#"
    @suppress `unused-zone`@10..21 reason="later"@22..29 until=2027-06-30@36..46 @0..46
    @suppress `L0101`@57..62 reason=- until=- @47..62
    zone @63..97
      name `spare`@68..73
      network 10.9.0.0/24@84..95 @76..95
    "#);
}

#[test]
fn strings_with_escapes_and_unicode() {
    assert_snapshot!(dump(r#"policy p { owner "a \"b\" \\ c — Röntgen" }"#), @r#"
    policy @0..46
      name `p`@7..8
      owner "a \"b\" \\ c — Röntgen"@17..44
    "#);
}

#[test]
fn comments_are_collected_but_not_in_strings() {
    assert_snapshot!(dump("# one\nallow a -> b : dicom \"# not a comment\" # two\r\n#three"), @r##"
    flow @6..44
      action Allow
      src [`a`@12..13]@12..13
      dst [`b`@17..18]@17..18
      services ref `dicom`@21..26@21..26
      why "# not a comment"@27..44
    comment "# one" @0..5
    comment "# two" @45..50
    comment "#three" @52..58
    "##);
}

#[test]
fn the_issue_example_parses_without_errors() {
    let text = r#"policy riverbend-radiology { owner "Network Engineering" }
zone modalities {
  network 10.20.110.0/24
  vlan 110
  trust low
  kind modality
  device ct-1 { address 10.20.110.11  kind ct  vendor "Siemens"  os "Windows 10 IoT"  ae CT1  listens dicom }
  device nm-1 { address 10.20.110.71  kind nm  os "Windows XP"  end-of-support }
}
zone internet { external }
allow modalities -> pacs-1 : dicom, dicom-tls      "image archiving (C-STORE)"
storage-commitment ct-1 -> pacs-1                  # one line, both TCP legs
allow vendor-dmz -> ct-1 : rdp until 2027-01-31    "vendor service, change ticket 4711"
never guest-wifi ~> modalities
require modalities -> pacs-1 : dicom
"#;
    let parsed = crate::common::parse_str(text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let kinds: Vec<&str> = parsed
        .file
        .items
        .iter()
        .map(|i| crate::common::kind_name(&i.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            "policy", "zone", "zone", "flow", "workflow", "flow", "never", "require"
        ]
    );
    assert_eq!(parsed.file.comments.len(), 1);
}

#[test]
fn byte_order_mark_is_skipped() {
    let parsed = crate::common::parse_str("\u{feff}policy p {}");
    assert!(parsed.diagnostics.is_empty());
    assert_eq!(parsed.file.items.len(), 1);
    assert_eq!(parsed.file.items[0].range.start, 3);
}

#[test]
fn empty_and_comment_only_files_have_no_items() {
    for text in ["", "   \n\n", "# only a comment\n# and another"] {
        let parsed = crate::common::parse_str(text);
        assert!(parsed.diagnostics.is_empty(), "{text:?}");
        assert!(parsed.file.items.is_empty(), "{text:?}");
    }
}
