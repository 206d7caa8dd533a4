//! The whole front end (parse + resolve) never panics, whatever the input,
//! and every diagnostic points inside the text it was given.

use proptest::prelude::*;
use zonal_model::{Date, Options, load_str};

fn corpus() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");
    let mut out = Vec::new();
    for sub in ["examples", "valid", "invalid"] {
        let Ok(rd) = std::fs::read_dir(format!("{root}/{sub}")) else {
            continue;
        };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if let Ok(t) = std::fs::read_to_string(&f) {
                out.push(t);
            }
        }
    }
    assert!(out.len() >= 10, "fixture corpus missing");
    out
}

fn check(text: &str) {
    let l = load_str(
        "fuzz.zonal",
        text,
        &Options {
            today: Date {
                year: 2026,
                month: 11,
                day: 28,
            },
        },
    );
    for d in &l.diagnostics {
        for label in std::iter::once(&d.primary).chain(d.secondary.iter()) {
            let len = l.db.text(label.span.file).len() as u32;
            assert!(
                label.span.range.end <= len,
                "{} points past the end: {:?}",
                d.code,
                label.span
            );
        }
        // Rendering must not panic either.
        let _ = zonal_diagnostics::render::human(&l.db, d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures(idx in 0usize..1000, cut in 0usize..100_000, ins in "[ -~\n\u{e9}\u{202e}]{0,12}", del in 0usize..40) {
        let corpus = corpus();
        let text = &corpus[idx % corpus.len()];
        let mut at = cut % (text.len() + 1);
        while !text.is_char_boundary(at) { at -= 1; }
        let mut end = (at + del).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &text[..at], ins, &text[end.max(at)..]);
        check(&mutated);
    }

    #[test]
    fn truncated_fixtures(idx in 0usize..1000, cut in 0usize..100_000) {
        let corpus = corpus();
        let text = &corpus[idx % corpus.len()];
        let mut at = cut % (text.len() + 1);
        while !text.is_char_boundary(at) { at -= 1; }
        check(&text[..at]);
    }

    #[test]
    fn random_text(s in "\\PC{0,400}") {
        check(&s);
    }

    #[test]
    fn random_tokens(toks in proptest::collection::vec(prop_oneof![
        Just("zone"), Just("device"), Just("allow"), Just("deny"), Just("never"), Just("require"), Just("->"), Just("~>"),
        Just("{"), Just("}"), Just(":"), Just(","), Just("network"), Just("10.0.0.0/8"), Just("10.0.0.1"), Just("fd00::/64"),
        Just("a"), Just("b"), Just("dicom"), Just("tcp"), Just("104"), Just("policy"), Just("\"x\""), Just("until"),
        Just("2027-01-01"), Just("external"), Just("within"), Just("group"), Just("="), Just("service"), Just("listens"),
        Just("on"), Just("storage-commitment"), Just("c-move"), Just("to"), Just("@suppress"), Just("include"), Just("any"),
    ], 0..80)) {
        check(&toks.join(" "));
    }
}
