//! The canonical formatter: layout, comments, idempotence, meaning.

use insta::assert_snapshot;

use crate::common::{parse_str, policy_files, shape};

fn fmt(text: &str) -> String {
    let parsed = parse_str(text);
    assert!(
        parsed.diagnostics.is_empty(),
        "test input has syntax errors: {:?}",
        parsed.diagnostics
    );
    zonal_syntax::format(&parsed.file, text)
}

/// Checks that formatting `text` is idempotent and keeps its meaning, and
/// returns the formatted text.
fn check(text: &str) -> String {
    let once = fmt(text);
    let reparsed = parse_str(&once);
    assert!(
        reparsed.diagnostics.is_empty(),
        "formatted text has errors: {:?}\n{once}",
        reparsed.diagnostics
    );
    assert_eq!(
        shape(&parse_str(text).file),
        shape(&reparsed.file),
        "meaning changed:\n{once}"
    );
    let twice = zonal_syntax::format(&reparsed.file, &once);
    assert_eq!(once, twice, "not idempotent");
    once
}

#[test]
fn flows_are_normalised_to_one_line() {
    assert_snapshot!(check("allow   a,b->c:dicom,tcp 1-2,3 ,udp until 2027-01-31   \"x\\\"y\"\ndeny a\n -> b"), @r#"
    allow a, b -> c : dicom, tcp 1-2, 3, udp until 2027-01-31 "x\"y"
    deny a -> b
    "#);
}

#[test]
fn every_item_kind() {
    assert_snapshot!(check(r#"include "a.zonal"
service s = icmp echo-request,3 , proto 50 description "d"
override service dicom = tcp 104
group g = a,b
storage-commitment a -> b
c-move a -> b to c : dicom
never a ~> b : ssh "why"
require a -> b : dicom
"#), @r#"
    include "a.zonal"
    service s = icmp echo-request, 3, proto 50 description "d"
    override service dicom = tcp 104
    group g = a, b
    storage-commitment a -> b
    c-move a -> b to c : dicom
    never a ~> b : ssh "why"
    require a -> b : dicom
    "#);
}

#[test]
fn zone_layout_and_blank_lines() {
    assert_snapshot!(check(r#"policy p { owner "o" }
zone a { network 10.0.0.0/8  vlan 3 trust low end-of-support device d { address 10.0.0.1 legacy } }
allow a -> a : ssh



allow a -> a : https
zone b { external }
allow a -> b : https
"#), @r#"
    policy p { owner "o" }

    zone a {
      network 10.0.0.0/8
      vlan 3
      trust low
      end-of-support
      device d { address 10.0.0.1  legacy }
    }

    allow a -> a : ssh

    allow a -> a : https

    zone b {
      external
    }

    allow a -> b : https
    "#);
}

#[test]
fn long_devices_are_split_and_short_ones_kept_on_one_line() {
    assert_snapshot!(check(r#"zone modalities {
  device ct-1 { address 10.20.110.11  kind ct  vendor "Siemens"  model "SOMATOM go.Up"  os "Windows 10 IoT"  ae CT1  listens dicom on 11112 }
  device us-1 {
    address 10.20.110.41
    kind us
  }
  device e { }
}"#), @r#"
    zone modalities {
      device ct-1 {
        address 10.20.110.11
        kind ct
        vendor "Siemens"
        model "SOMATOM go.Up"
        os "Windows 10 IoT"
        ae CT1
        listens dicom on 11112
      }
      device us-1 { address 10.20.110.41  kind us }
      device e {}
    }
    "#);
}

#[test]
fn comments_stay_where_they_belong() {
    assert_snapshot!(check(r#"# file header

# about a
zone a {  # brace
  # before network
  network 10.0.0.0/8  # trailing
  device d {  # device brace
    address 10.0.0.1  # address
  }
  # before close
}  # after zone
allow a -> a  # inside the flow
  : ssh  # end of flow
@suppress x "y"  # after suppression
group g = a
# last
"#), @r#"
    # file header

    # about a
    zone a {  # brace
      # before network
      network 10.0.0.0/8  # trailing
      device d {  # device brace
        address 10.0.0.1  # address
      }
      # before close
    }  # after zone

    # inside the flow
    allow a -> a : ssh  # end of flow
    @suppress x "y"  # after suppression
    group g = a
    # last
    "#);
}

#[test]
fn policy_header_long_is_split() {
    let long = "x".repeat(90);
    assert_snapshot!(check(&format!("policy p {{ owner \"o\" description \"{long}\" }}")), @r#"
    policy p {
      owner "o"
      description "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    }
    "#);
}

#[test]
fn ae_titles_are_quoted_only_when_needed() {
    assert_snapshot!(check(r#"zone z { device d { ae "CT1"  } device e { ae "8x10 DVFB" } device f { ae CT.1+2-3 } }"#), @r#"
    zone z {
      device d { ae CT1 }
      device e { ae "8x10 DVFB" }
      device f { ae CT.1+2-3 }
    }
    "#);
}

#[test]
fn every_fixture_formats_idempotently_and_keeps_its_meaning() {
    let files = policy_files();
    assert!(
        files.len() >= 20,
        "expected the policies/ fixtures, found {}",
        files.len()
    );
    let mut checked_clean = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let parsed = parse_str(&text);
        let once = zonal_syntax::format(&parsed.file, &text);
        let reparsed = parse_str(&once);
        assert_eq!(
            shape(&parsed.file),
            shape(&reparsed.file),
            "{}: formatting changed the meaning:\n{once}",
            path.display()
        );
        assert_eq!(
            parsed.diagnostics.len(),
            reparsed.diagnostics.len(),
            "{}: formatting changed the number of errors",
            path.display()
        );
        let twice = zonal_syntax::format(&reparsed.file, &once);
        assert_eq!(
            once,
            twice,
            "{}: formatting is not idempotent",
            path.display()
        );
        if parsed.diagnostics.is_empty() {
            checked_clean += 1;
        }
    }
    assert!(
        checked_clean >= 10,
        "too few error-free fixtures: {checked_clean}"
    );
}

#[test]
fn empty_file_formats_to_empty() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
    assert_eq!(fmt("# c\n\n\n# d"), "# c\n\n# d\n");
}
