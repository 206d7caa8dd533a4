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
