//! Every bundled example resolves without errors.

use zonal_model::{Date, MemoryLoader, Options, load};

#[test]
fn examples_resolve_cleanly() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/examples");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "zonal") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let l = load(
            &MemoryLoader::single(&name, &text),
            &name,
            &Options {
                today: Date::new(2026, 11, 28).unwrap(),
            },
        );
        let rendered: Vec<String> = l
            .diagnostics
            .iter()
            .map(|d| zonal_diagnostics::render::human(&l.db, d))
            .collect();
        assert!(l.diagnostics.is_empty(), "{name}:\n{}", rendered.join("\n"));
        assert!(l.policy.is_some());
        n += 1;
    }
    assert!(n >= 2, "expected at least two examples, found {n}");
}
