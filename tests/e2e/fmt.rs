//! `zonal fmt` keeps meaning: for every fixture without syntax errors, the
//! formatted text resolves to the same model (same digest, same
//! diagnostics codes) and formatting again changes nothing.

use zonal_diagnostics::FileId;
use zonal_model::{MemoryLoader, Options, load};
use zonal_tests::{fixtures, repo_root, today};

#[test]
fn formatting_keeps_meaning_on_every_fixture() {
    let mut files = fixtures("policies/examples");
    files.extend(fixtures("policies/valid"));
    files.extend(fixtures("policies/invalid"));
    let mut checked = 0;
    for f in files {
        let text = std::fs::read_to_string(repo_root().join(&f)).unwrap();
        let parsed = zonal_syntax::parse(FileId(0), &text);
        if !parsed.diagnostics.is_empty() {
            continue;
        }
        let formatted = zonal_syntax::format(&parsed.file, &text);
        let again =
            zonal_syntax::format(&zonal_syntax::parse(FileId(0), &formatted).file, &formatted);
        assert_eq!(formatted, again, "{f}: formatting is not idempotent");
        let opts = Options { today: today() };
        // Resolve both under the same name, so that includes and messages match.
        let name = f.rsplit('/').next().unwrap_or(&f).to_string();
        let before = load(&MemoryLoader::single(&name, &text), &name, &opts);
        let after = load(&MemoryLoader::single(&name, &formatted), &name, &opts);
        let codes =
            |l: &zonal_model::Loaded| l.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>();
        assert_eq!(
            codes(&before),
            codes(&after),
            "{f}: formatting changed the diagnostics"
        );
        if let (Some(a), Some(b)) = (&before.policy, &after.policy) {
            assert_eq!(a.digest, b.digest, "{f}: formatting changed the meaning");
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures were checked");
}

/// Byte offsets in `text` where whitespace separates two tokens: outside
/// strings and comments. A comment (and the line break it needs) can go
/// at each of them without changing the meaning.
fn gaps(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut in_string, mut in_comment, mut escaped) = (false, false, false);
    for (i, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => in_comment = true,
            ' ' | '\n' => out.push(i),
            _ => {}
        }
    }
    out
}

/// `zonal fmt` is idempotent and keeps every comment and the meaning, with
/// comments in every position between tokens (seeded random layouts over
/// every example and valid fixture; the case of a comment between
/// `device` and its name is among them).
#[test]
fn formatting_is_idempotent_with_comments_in_every_position() {
    let mut files = fixtures("policies/examples");
    files.extend(fixtures("policies/valid"));
    let opts = Options { today: today() };
    let mut rng = zonal_synth::Rng::new(0xf0_47);
    let mut layouts = 0;
    for f in files {
        let text = std::fs::read_to_string(repo_root().join(&f)).unwrap();
        let gaps = gaps(&text);
        let original = load(&MemoryLoader::single("p.zonal", &text), "p.zonal", &opts);
        let Some(original) = original.policy else {
            continue;
        };
        for round in 0..12 {
            // A comment in a random tenth of the gaps, or (round 0) in all.
            let mut with = String::with_capacity(text.len() * 2);
            let mut last = 0;
            let mut n = 0;
            for &g in &gaps {
                if round == 0 || rng.below(10) == 0 {
                    with.push_str(&text[last..g]);
                    with.push_str(&format!(" # c{n}\n"));
                    n += 1;
                    last = g;
                }
            }
            with.push_str(&text[last..]);
            let parsed = zonal_syntax::parse(FileId(0), &with);
            assert!(
                parsed.diagnostics.is_empty(),
                "{f} round {round}: comments made it invalid:\n{with}\n{:?}",
                parsed.diagnostics
            );
            let once = zonal_syntax::format(&parsed.file, &with);
            let twice = zonal_syntax::format(&zonal_syntax::parse(FileId(0), &once).file, &once);
            assert_eq!(once, twice, "{f} round {round}: not idempotent on\n{with}");
            for k in 0..n {
                assert!(
                    once.contains(&format!("# c{k}\n")),
                    "{f} round {round}: lost `# c{k}`"
                );
            }
            let after = load(&MemoryLoader::single("p.zonal", &once), "p.zonal", &opts);
            let digest = after.policy.map(|p| p.digest);
            assert_eq!(
                digest,
                Some(original.digest.clone()),
                "{f} round {round}: meaning changed"
            );
            layouts += 1;
        }
    }
    assert!(layouts >= 150, "only {layouts} layouts");
}
