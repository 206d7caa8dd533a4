//! Fuzzes the parser and the formatter: no input may panic; every range
//! stays inside the text; error-free input formats to error-free text with
//! the same tree that formats to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zonal_diagnostics::FileId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = zonal_syntax::parse(FileId(0), text);
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    for d in parsed.diagnostics.iter() {
        let r = d.primary.span.range;
        assert!(r.start <= r.end && r.end <= len, "diagnostic range {r} outside the text");
        assert!(text.is_char_boundary(r.start as usize) && text.is_char_boundary(r.end as usize));
    }
    let formatted = zonal_syntax::format(&parsed.file, text);
    if parsed.diagnostics.is_empty() {
        let again = zonal_syntax::parse(FileId(0), &formatted);
        assert!(again.diagnostics.is_empty(), "formatting produced syntax errors:\n{formatted}");
        assert_eq!(formatted, zonal_syntax::format(&again.file, &formatted), "formatting is not idempotent");
    }
});
