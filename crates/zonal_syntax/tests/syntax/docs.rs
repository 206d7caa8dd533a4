//! The documentation is tested: every `zonal` example in docs/language.md
//! parses without syntax errors, and each syntax code has a page whose
//! example fails with that code and whose fix parses cleanly.

use std::path::{Path, PathBuf};

use crate::common::parse_str;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The ```zonal blocks of a Markdown text, with the `## ` section each is in.
fn zonal_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut block: Option<String> = None;
    for line in md.lines() {
        if let Some(b) = &mut block {
            if line.starts_with("```") {
                out.push((section.clone(), std::mem::take(b)));
                block = None;
            } else {
                b.push_str(line);
                b.push('\n');
            }
        } else if line == "```zonal" {
            block = Some(String::new());
        } else if let Some(title) = line.strip_prefix("## ") {
            section = title.to_owned();
        }
    }
    assert!(block.is_none(), "unclosed code block");
    out
}

fn codes_of(text: &str) -> Vec<&'static str> {
    parse_str(text).diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn every_example_in_the_language_reference_parses() {
    let md = std::fs::read_to_string(docs().join("language.md")).expect("docs/language.md exists");
    let blocks = zonal_blocks(&md);
    assert!(
        blocks.len() >= 12,
        "expected the examples of every construct, found {}",
        blocks.len()
    );
    for (section, text) in blocks {
        assert_eq!(
            codes_of(&text),
            Vec::<&str>::new(),
            "example in `{section}` has syntax errors:\n{text}"
        );
    }
}

#[test]
fn the_language_reference_lists_every_reserved_word_and_code() {
    let md = std::fs::read_to_string(docs().join("language.md")).expect("docs/language.md exists");
    for word in zonal_syntax::RESERVED {
        assert!(
            md.contains(&format!("  {word}")) || md.contains(&format!("{word}  ")),
            "reserved `{word}` missing"
        );
    }
    for name in zonal_syntax::ICMP_TYPE_NAMES {
        assert!(
            md.contains(&format!("`{name}`")),
            "ICMP type `{name}` missing"
        );
    }
    for code in zonal_syntax::codes::ALL {
        assert!(
            md.contains(&format!("[{code}](diagnostics/{code}.md)")),
            "{code} missing from the table"
        );
    }
}

#[test]
fn every_syntax_code_has_a_page_with_a_failing_example_and_a_fix() {
    for code in zonal_syntax::codes::ALL {
        let path = docs().join("diagnostics").join(format!("{code}.md"));
        let md =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            md.starts_with(&format!("# {code}: ")),
            "{code}: the page must start with `# {code}: title`"
        );
        let blocks = zonal_blocks(&md);
        let fixes: Vec<&String> = blocks
            .iter()
            .filter(|(s, _)| s == "Fix")
            .map(|(_, b)| b)
            .collect();
        let examples: Vec<&String> = blocks
            .iter()
            .filter(|(s, _)| s == "Example")
            .map(|(_, b)| b)
            .collect();
        assert_eq!(fixes.len(), 1, "{code}: one ```zonal block under `## Fix`");
        assert_eq!(
            codes_of(fixes[0]),
            Vec::<&str>::new(),
            "{code}: the fix has syntax errors"
        );
        if code == zonal_syntax::codes::LIMIT_EXCEEDED
            || code == zonal_syntax::codes::INVISIBLE_CHARACTER
        {
            // LIMIT_EXCEEDED: its example would be megabytes long;
            // properties.rs tests the limits. INVISIBLE_CHARACTER: the
            // page shows the invisible character by name; the fixture
            // policies/invalid/syntax-invisible-characters.zonal has them.
            assert!(
                examples.is_empty() && md.contains("## Example\n\n```text"),
                "{code}: text example"
            );
        } else {
            assert_eq!(
                examples.len(),
                1,
                "{code}: one ```zonal block under `## Example`"
            );
            assert!(
                codes_of(examples[0]).contains(&code),
                "{code}: the example does not fail with {code}"
            );
        }
    }
}
