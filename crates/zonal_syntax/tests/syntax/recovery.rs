//! Error messages and recovery, one broken input per test (KCL style).
//! Each snapshot lists every diagnostic (`line:col code message | label |
//! help`) and then the kinds of the items that were recovered.

use insta::assert_snapshot;

use crate::common::diagnostics as d;

#[test]
fn wrong_arrow() {
    assert_snapshot!(d("allow a => b : dicom"), @"
    1:9 E0001 expected `->`, found `=>` | expected `->` | help: write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`
    items: ERROR
    ");
}
#[test]
fn transitive_arrow_in_allow() {
    assert_snapshot!(d("allow a ~> b : dicom"), @"
    1:9 E0001 expected `->`, found `~>` | `~>` is only used in `never` | help: write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`
    items: ERROR
    ");
}
#[test]
fn missing_services_in_allow() {
    assert_snapshot!(d("allow a -> b\nzone z { external }"), @"
    2:1 E0001 expected `:` and the allowed services, found `zone` | expected `:` and the allowed services | help: write `allow SRC -> DST : SERVICE, …`; to allow every service write `: any`
    items: ERROR zone
    ");
}
#[test]
fn missing_services_in_require() {
    assert_snapshot!(d("require a -> b"), @"
    1:15 E0001 expected `:` and the required services, found end of file | expected `:` and the required services | help: write `require A -> B : SERVICE, …`
    items: ERROR
    ");
}
#[test]
fn missing_comma_between_services() {
    assert_snapshot!(d("allow a -> b : dicom https\nallow a -> b : ssh"), @"
    1:22 E0001 expected the end of the item, found `https` | unexpected after the end of the item | help: separate list elements with `,` (e.g. `: dicom, https`), and start each item on a new line
    items: flow ERROR flow
    ");
}
#[test]
fn trailing_comma() {
    assert_snapshot!(d("allow a -> b : dicom,\nallow a -> b : ssh"), @"
    2:1 E0001 expected a service (e.g. `dicom` or `tcp 104`) after `,`, found `allow` | expected a service (e.g. `dicom` or `tcp 104`) | help: remove the trailing `,`, or write the next element after it
      also 1:21 this `,` continues the list
    items: ERROR flow
    ");
}
#[test]
fn unknown_item() {
    assert_snapshot!(d("zoen a { network 10.0.0.0/8 }"), @"
    1:1 E0002 unknown item `zoen` | unknown item | help: did you mean `zone`?
    items: ERROR
    ");
}
#[test]
fn unknown_item_without_suggestion() {
    assert_snapshot!(d("firewall a"), @"
    1:1 E0002 unknown item `firewall` | unknown item | help: an item starts with `policy`, `include`, `service`, `group`, `zone`, `allow`, `deny`, `storage-commitment`, `c-move`, `never` or `require`
    items: ERROR
    ");
}
#[test]
fn zone_property_at_top_level() {
    assert_snapshot!(d("network 10.0.0.0/8"), @"
    1:1 E0002 `network` is a zone property and must be inside a zone | outside of any zone | help: write it inside `zone NAME { … }`, or check for a `}` that closes the zone too early
    items: ERROR
    ");
}
#[test]
fn device_at_top_level() {
    assert_snapshot!(d("device ct-1 { address 10.0.0.1 }"), @"
    1:1 E0002 `device` must be inside a zone | outside of any zone | help: devices are declared inside a zone: `zone NAME { device NAME { … } }`
    items: ERROR
    ");
}
#[test]
fn misspelled_zone_property() {
    assert_snapshot!(d("zone a { netwrk 10.0.0.0/8 }"), @"
    1:10 E0002 unknown zone property `netwrk` | not a zone property | help: did you mean `network`?
    items: ERROR
    ");
}
#[test]
fn misspelled_device() {
    assert_snapshot!(d("zone a { devcie ct-1 { } }"), @"
    1:10 E0002 unknown zone property `devcie` | not a zone property | help: did you mean `device`?
    items: ERROR
    ");
}
#[test]
fn misspelled_device_property() {
    assert_snapshot!(d("zone a { device d { adress 10.0.0.1 } }"), @"
    1:21 E0002 unknown device property `adress` | not a device property | help: did you mean `address`?
    items: ERROR
    ");
}
#[test]
fn device_property_in_zone() {
    assert_snapshot!(d("zone a { address 10.0.0.1 }"), @"
    1:10 E0002 `address` is a device property, not a zone property | not a zone property | help: put it inside `device NAME { … }`
    items: ERROR
    ");
}
#[test]
fn zone_property_in_device() {
    assert_snapshot!(d("zone a { device d { vlan 3 } }"), @"
    1:21 E0002 `vlan` is a zone property, not a device property | not a device property | help: close device `d` with `}` before it
    items: ERROR
    ");
}
#[test]
fn unknown_policy_field() {
    assert_snapshot!(d("policy p { ownr \"x\" }"), @"
    1:12 E0002 unknown policy property `ownr` | not a policy property | help: did you mean `owner`?
    items: ERROR
    ");
}
#[test]
fn duplicate_owner() {
    assert_snapshot!(d("policy p { owner \"a\" owner \"b\" }"), @"
    1:22 E0012 `owner` is set twice in policy `p` | set again here | help: keep one `owner`
      also 1:18 first set here
    items: ERROR
    ");
}
#[test]
fn unclosed_zone_at_end_of_file() {
    assert_snapshot!(d("zone a {\n  network 10.0.0.0/8\n"), @"
    1:8 E0006 unclosed `{` of zone `a` | this `{` is never closed | help: add `}` at the end of the zone
      also 3:1 file ends here
    items: ERROR
    ");
}
#[test]
fn unclosed_zone_before_next_item() {
    assert_snapshot!(d("zone a {\n  network 10.0.0.0/8\nallow a -> b : dicom"), @"
    3:1 E0006 expected `}` to close zone `a`, found `allow` | expected `}` before this | help: add `}` at the end of the zone
      also 1:8 zone opened here
    items: ERROR flow
    ");
}
#[test]
fn unclosed_device_before_next_device() {
    assert_snapshot!(d("zone a {\n  device x { address 10.0.0.1\n  device y { }\n}"), @"
    3:3 E0006 expected `}` to close device `x`, found `device` | expected `}` before this | help: add `}` at the end of the device
      also 2:12 device opened here
    items: ERROR
    ");
}
#[test]
fn stray_closing_brace() {
    assert_snapshot!(d("}\nallow a -> b : dicom"), @"
    1:1 E0001 unexpected `}` | no block is open here | help: remove it, or check the `{` and `}` of the block above
    items: ERROR flow
    ");
}
#[test]
fn missing_open_brace() {
    assert_snapshot!(d("zone a network 10.0.0.0/8 }\nallow a -> b : dicom"), @"
    1:8 E0001 expected `{`, found `network` | expected `{` | help: write `zone NAME { network ADDRESS/PREFIX … }`
    items: ERROR flow
    ");
}
#[test]
fn unterminated_string() {
    assert_snapshot!(d("allow a -> b : dicom \"why\nallow a -> b : ssh"), @r#"
    1:22 E0003 unterminated string | this string is not closed on its line | help: add the closing `"` on the same line (strings cannot span lines)
    items: ERROR flow
    "#);
}
#[test]
fn unterminated_string_at_end_of_file() {
    assert_snapshot!(d("include \"x.zonal"), @r#"
    1:9 E0003 unterminated string | this string is not closed on its line | help: add the closing `"` on the same line (strings cannot span lines)
    items: ERROR
    "#);
}
#[test]
fn unknown_escape() {
    assert_snapshot!(d(r#"policy p { owner "a\tb" }"#), @r#"
    1:20 E0004 unknown escape `\t` in string | unknown escape | help: only `\"` and `\\` are escapes; strings are single-line
    items: ERROR
    "#);
}
#[test]
fn control_character_in_string() {
    assert_snapshot!(d("policy p { owner \"a\u{7}b\" }"), @"
    1:20 E0013 the file contains a control character (U+0007) | refused character | help: remove it: a reviewer cannot see it, or sees a line break where Zonal sees none; write line breaks as LF or CRLF
    items: policy
    ");
}
#[test]
fn bidi_override_in_string() {
    assert_snapshot!(d("policy p { owner \"a\u{202e}b\" }"), @"
    1:20 E0013 the file contains an invisible formatting character (bidirectional, zero-width or similar) (U+202E) | refused character | help: remove it: a reviewer cannot see it, or sees a line break where Zonal sees none; write line breaks as LF or CRLF
    items: policy
    ");
}
#[test]
fn reserved_word_as_zone_name() {
    assert_snapshot!(d("zone any { external }"), @"
    1:6 E0005 `any` is a reserved word and cannot be used as a zone name | reserved word | help: rename it, e.g. `any-1`
    items: ERROR
    ");
}
#[test]
fn reserved_word_as_service_name() {
    assert_snapshot!(d("service until = tcp 1"), @"
    1:9 E0005 `until` is a reserved word and cannot be used as a service name | reserved word | help: rename it, e.g. `until-1`
    items: ERROR
    ");
}
#[test]
fn reserved_word_as_endpoint() {
    assert_snapshot!(d("allow zone -> b : dicom"), @"
    1:7 E0001 expected a zone, device or group name (or `any`), found `zone` | expected a zone, device or group name (or `any`) | help: write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`
    items: ERROR
    ");
}
#[test]
fn name_ending_in_dash() {
    assert_snapshot!(d("allow ct-1-->b : dicom"), @"
    1:7 E0007 name `ct-1-` ends with `-` | invalid name | help: a name may not end in `-` or `.`: remove it, or put a space before `->`
    items: ERROR
    ");
}
#[test]
fn name_too_long() {
    assert_snapshot!(d(&format!("zone {} {{ external }}", "a".repeat(64))), @"
    1:6 E0007 name `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…` is too long (64 characters) | name too long | help: use at most 63 characters
    items: ERROR
    ");
}
#[test]
fn bad_port() {
    assert_snapshot!(d("service s = tcp 10a4"), @"
    1:17 E0008 invalid port `10a4` | not a valid port | help: write numbers with the digits 0-9 only, e.g. `104`; a port range is written `18016-18019`
    items: ERROR
    ");
}
#[test]
fn port_range_with_open_end() {
    assert_snapshot!(d("service s = tcp 80-"), @"
    1:17 E0008 invalid port `80-` | not a valid port | help: write numbers with the digits 0-9 only, e.g. `104`; a port range is written `18016-18019`
    items: ERROR
    ");
}
#[test]
fn bad_vlan() {
    assert_snapshot!(d("zone a { vlan ten }"), @"
    1:15 E0001 expected a VLAN number, found `ten` | expected a VLAN number | help: write `vlan 110`
    items: ERROR
    ");
}
#[test]
fn bad_address() {
    assert_snapshot!(d("zone a { network 10 }"), @"
    1:18 E0001 expected an IPv4 or IPv6 network (e.g. `10.20.110.0/24`), found `10` | expected an IPv4 or IPv6 network (e.g. `10.20.110.0/24`) | help: write `zone NAME { network ADDRESS/PREFIX … }`
    items: ERROR
    ");
}
#[test]
fn bad_date() {
    assert_snapshot!(d("allow a -> b : dicom until 2027-1-31"), @"
    1:28 E0009 expected a date `YYYY-MM-DD`, found `2027-1-31` | not a date | help: write the date as `YYYY-MM-DD`, e.g. `2027-01-31`
    items: ERROR
    ");
}
#[test]
fn missing_protocol_number() {
    assert_snapshot!(d("service s = proto esp"), @"
    1:19 E0001 expected a protocol number, found `esp` | expected a protocol number | help: write e.g. `proto 50` (ESP)
    items: ERROR
    ");
}
#[test]
fn to_in_storage_commitment() {
    assert_snapshot!(d("storage-commitment a -> b to c"), @"
    1:27 E0001 `to` is only allowed in `c-move` | not allowed in `storage-commitment` | help: the storage-commitment result always goes back to the modality itself: remove `to …`
    items: ERROR
    ");
}
#[test]
fn unknown_annotation() {
    assert_snapshot!(d("@supress x\nzone a { external }"), @"
    1:1 E0002 unknown annotation `@supress` | unknown annotation | help: did you mean `@suppress`?
    items: ERROR zone
    ");
}
#[test]
fn suppression_at_end_of_file() {
    assert_snapshot!(d("zone a { external }\n@suppress x \"why\""), @"
    2:1 E0011 `@suppress` is not followed by an item | nothing to suppress | help: put `@suppress` on the line before the item it applies to, or remove it
    items: zone ERROR
    ");
}
#[test]
fn suppression_before_zone_property() {
    assert_snapshot!(d("zone a {\n  @suppress x\n  network 10.0.0.0/8\n}"), @"
    3:3 E0011 expected a device after `@suppress`, found `network` | not a device | help: inside a zone, `@suppress` applies to the device that follows it; to suppress on the zone, put it before `zone`
      also 2:3 this suppression
    items: ERROR
    ");
}
#[test]
fn unexpected_character() {
    assert_snapshot!(d("allow a -> b : dicom\n$"), @"
    2:1 E0001 expected an item, found `$` | expected an item | help: an item starts with `policy`, `include`, `service`, `group`, `zone`, `allow`, `deny`, `storage-commitment`, `c-move`, `never` or `require`
    items: flow ERROR
    ");
}
#[test]
fn override_without_service() {
    assert_snapshot!(d("override dicom = tcp 104"), @"
    1:10 E0001 expected `service`, found `dicom` | expected `service` | help: write `service NAME = tcp PORT, udp PORT, …`, e.g. `service pacs-web = tcp 8443`
    items: ERROR
    ");
}
#[test]
fn every_error_in_a_file_is_reported() {
    assert_snapshot!(d("policy p { owner \"x\" }
zoen a { network 10.0.0.0/8 }
zone b {
  netwrk 10.0.0.0/8
}
allow a => b : dicom
allow a -> b : dicom
service s = tcp 10a4
zone c { network 10.3.0.0/16 }
require a -> b"), @"
    2:1 E0002 unknown item `zoen` | unknown item | help: did you mean `zone`?
    4:3 E0002 unknown zone property `netwrk` | not a zone property | help: did you mean `network`?
    6:9 E0001 expected `->`, found `=>` | expected `->` | help: write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`
    8:17 E0008 invalid port `10a4` | not a valid port | help: write numbers with the digits 0-9 only, e.g. `104`; a port range is written `18016-18019`
    10:15 E0001 expected `:` and the required services, found end of file | expected `:` and the required services | help: write `require A -> B : SERVICE, …`
    items: policy ERROR ERROR ERROR flow ERROR zone ERROR
    ");
}
#[test]
fn an_error_in_one_line_device_does_not_hide_the_next_zone() {
    assert_snapshot!(d("zone a {\n  device x { adress 1.2.3.4 }\n  network 10.0.0.0/8\n}\nzone b { external }\nzoen c {}"), @"
    2:14 E0002 unknown device property `adress` | not a device property | help: did you mean `address`?
    6:1 E0002 unknown item `zoen` | unknown item | help: did you mean `zone`?
    items: ERROR zone ERROR
    ");
}
#[test]
fn indented_file_still_recovers() {
    assert_snapshot!(d("  allow a => b : dicom\n  allow a -> b : ssh\n  allow a -> b : ssh https"), @"
    1:11 E0001 expected `->`, found `=>` | expected `->` | help: write `allow SRC -> DST : SERVICE, …`, e.g. `allow modalities -> pacs-1 : dicom`
    3:22 E0001 expected the end of the item, found `https` | unexpected after the end of the item | help: separate list elements with `,` (e.g. `: dicom, https`), and start each item on a new line
    items: ERROR flow flow ERROR
    ");
}

#[test]
fn suppression_before_closing_brace() {
    assert_snapshot!(d("zone a {\n  network 10.0.0.0/8\n  @suppress x \"why\"\n}"), @"
    4:1 E0011 expected a device after `@suppress`, found `}` | not a device | help: inside a zone, `@suppress` applies to the device that follows it; to suppress on the zone, put it before `zone`
      also 3:3 this suppression
    items: ERROR
    ");
}

#[test]
fn suppression_inside_device() {
    assert_snapshot!(d("zone a {\n  device d { @suppress x }\n}"), @"
    2:14 E0011 `@suppress` cannot be used inside a device | not allowed here | help: write it on the line before `device d {`
    items: ERROR
    ");
}

#[test]
fn until_after_the_justification() {
    assert_snapshot!(d("allow a -> b : dicom \"why\" until 2027-01-31"), @"
    1:28 E0001 expected the end of the item, found `until` | unexpected after the end of the item | help: write `until DATE` before the justification string
    items: flow ERROR
    ");
}

#[test]
fn two_justifications() {
    assert_snapshot!(d("allow a -> b : dicom \"why\" \"and why\""), @"
    1:28 E0001 expected the end of the item, found a string | unexpected after the end of the item | help: an item takes one justification string, at its end
    items: flow ERROR
    ");
}

#[test]
fn until_in_never() {
    assert_snapshot!(d("never a -> b until 2027-01-31"), @"
    1:14 E0001 expected the end of the item, found `until` | unexpected after the end of the item | help: only `allow`, `deny` and the workflows take `until DATE`
    items: never ERROR
    ");
}
