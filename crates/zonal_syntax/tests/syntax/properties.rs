//! Property tests: random, mutated and truncated input never makes the
//! parser or the formatter panic, every range stays within the text, and
//! error-free input formats to error-free, equivalent, idempotent text.

use proptest::prelude::*;

use crate::common::{parse_str, policy_files, shape};

fn fixtures() -> Vec<String> {
    policy_files()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Checks the invariants on one input.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse_str(text);
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    for d in parsed.diagnostics.iter() {
        let r = d.primary.span.range;
        prop_assert!(
            r.start <= r.end && r.end <= len,
            "primary {r} outside 0..{len}"
        );
        prop_assert!(
            text.is_char_boundary(r.start as usize) && text.is_char_boundary(r.end as usize)
        );
        prop_assert!(d.help.is_some(), "{} has no help", d.code);
        prop_assert!(!d.primary.message.is_empty(), "{} has no label", d.code);
        for s in &d.secondary {
            prop_assert!(s.span.range.end <= len);
        }
    }
    for item in &parsed.file.items {
        prop_assert!(
            item.range.end <= len,
            "item {} outside 0..{len}",
            item.range
        );
    }
    let formatted = zonal_syntax::format(&parsed.file, text);
    if parsed.diagnostics.is_empty() {
        let again = parse_str(&formatted);
        prop_assert!(
            again.diagnostics.is_empty(),
            "formatted text has errors:\n{formatted}"
        );
        prop_assert_eq!(shape(&parsed.file), shape(&again.file));
        prop_assert_eq!(&formatted, &zonal_syntax::format(&again.file, &formatted));
    }
    Ok(())
}

/// Characters that matter to the grammar, plus some that do not.
fn token_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('0', '9'),
        3 => proptest::sample::select(vec![
            ' ', ' ', '\n', '\t', '\r', '{', '}', '-', '>', '~', ':', ',', '.', '/', '"', '\\', '#', '@', '=', '_',
            '+', 'é', '\u{202e}', '\u{0}', '\u{feff}',
        ]),
    ]
}

/// Words of the language, to build plausible random input.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "policy", "zone", "device", "allow", "deny", "never", "require", "service", "override", "group",
            "include", "storage-commitment", "c-move", "to", "on", "until", "any", "network", "address", "listens",
            "tcp", "udp", "icmp", "proto", "->", "~>", ":", ",", "{", "}", "=", "@suppress", "\"x\"", "104",
            "10.0.0.0/8", "2027-01-31", "dicom", "a", "b", "\n", "# c\n", "ae", "external", "within",
        ])
        .prop_map(str::to_owned),
        1 => proptest::collection::vec(token_char(), 1..6).prop_map(|v| v.into_iter().collect()),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), token()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), 1..80usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// Applies an edit on character positions (so the text stays valid UTF-8).
fn apply(text: &str, e: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
    match e {
        Edit::Delete { at, len } => {
            let a = pos(*at);
            let b = (a + len).min(n);
            chars[..a].iter().chain(&chars[b..]).collect()
        }
        Edit::Insert { at, text } => {
            let a = pos(*at);
            let mut s: String = chars[..a].iter().collect();
            s.push_str(text);
            s.extend(&chars[a..]);
            s
        }
        Edit::Duplicate { at, len } => {
            let a = pos(*at);
            let b = (a + len).min(n);
            chars[..b].iter().chain(&chars[a..]).collect()
        }
        Edit::Truncate { at } => chars[..pos(*at)].iter().collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_characters(s in proptest::collection::vec(token_char(), 0..200)) {
        check(&s.into_iter().collect::<String>())?;
    }

    #[test]
    fn random_tokens(tokens in proptest::collection::vec(token(), 0..60)) {
        check(&tokens.join(" "))?;
    }

    #[test]
    fn mutated_fixtures(index in any::<usize>(), edits in proptest::collection::vec(edit(), 1..6)) {
        let all = fixtures();
        let mut text = all[index % all.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text)?;
    }
}

#[test]
fn every_truncation_of_a_fixture_is_handled() {
    // Exhaustive over every prefix of one realistic fixture.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/valid/devices.zonal"),
    )
    .expect("fixture is readable");
    for (i, _) in text.char_indices() {
        check(&text[..i]).unwrap_or_else(|e| panic!("prefix of {i} bytes: {e}"));
    }
}

#[test]
fn deeply_nested_braces_do_not_overflow() {
    let text = format!("zone a {}{}", "{".repeat(200_000), "}".repeat(10));
    let parsed = parse_str(&text);
    assert!(!parsed.diagnostics.is_empty());
}

#[test]
fn limits_give_errors_not_crashes() {
    let big = "#".repeat(zonal_syntax::MAX_FILE_BYTES + 1);
    let parsed = parse_str(&big);
    assert_eq!(
        parsed
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        ["E0010"]
    );

    let long_string = format!("policy p {{ owner \"{}\" }}", "x".repeat(5000));
    let parsed = parse_str(&long_string);
    assert_eq!(
        parsed
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        ["E0010"]
    );

    let many = "zone a { external }\n".repeat(zonal_syntax::MAX_ITEMS + 1);
    let parsed = parse_str(&many);
    assert_eq!(parsed.file.items.len(), zonal_syntax::MAX_ITEMS);
    assert_eq!(
        parsed
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        ["E0010"]
    );
}
