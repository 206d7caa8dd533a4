//! The minijinja environment: embedded templates plus user overrides,
//! strict undefined variables, trailing newlines kept, and a per-target
//! output check on every interpolated value. Template errors become
//! diagnostics that point at the template file and line.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use zonal_diagnostics::{Diagnostic, Diagnostics, FileId, SourceDb, Span, TextRange};

use crate::{Target, Templates, escape, targets};

/// Renders template `main` of `target` with the view model `view`.
///
/// The view is turned into template values and dropped before rendering
/// (pass it by value: at 20,000 zones a view is hundreds of megabytes).
/// `expected_bytes` reserves the output buffer, so that a large output is
/// not copied each time it doubles; reserved but unwritten memory is not
/// resident, so a generous guess costs nothing.
pub(crate) fn render_template(
    target: Target,
    templates: &Templates,
    main: &str,
    view: impl Serialize,
    expected_bytes: usize,
    db: &mut SourceDb,
) -> Result<String, Diagnostics> {
    let sources = sources(target, templates);
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    match SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        Ok(syntax) => env.set_syntax(syntax),
        Err(e) => {
            return Err(Diagnostics(vec![template_diagnostic(
                target, &sources, &e, db,
            )]));
        }
    }
    // Escaping is chosen by target, not by file extension.
    env.set_auto_escape_callback(move |_| AutoEscape::Custom(target.name().into()));
    // Only macro output (made of values that were checked when the macro
    // printed them) is "safe"; templates cannot mark data safe themselves.
    for filter in ["safe", "escape", "e"] {
        env.remove_filter(filter);
    }
    env.set_formatter(move |out, _state, value| {
        let write_failed = |_| Error::new(ErrorKind::WriteFailure, "cannot write template output");
        // Strings (most values, and every macro's output) are checked and
        // written in place; other scalars go through their text.
        if let Some(text) = value.as_str() {
            if !value.is_safe() {
                checked(target, text)?;
            }
            return out.write_str(text).map_err(write_failed);
        }
        let text = printable(target, value)?;
        out.write_str(&text).map_err(write_failed)
    });
    for (name, _path, text) in &sources {
        if let Err(e) = env.add_template_owned(name.clone(), text.clone()) {
            return Err(Diagnostics(vec![template_diagnostic(
                target, &sources, &e, db,
            )]));
        }
    }
    let context = Value::from(Serde(&view));
    drop(view);
    let mut out: Vec<u8> = Vec::with_capacity(expected_bytes);
    let result = env
        .get_template(main)
        .and_then(|t| t.render_captured_to(context, &mut out).map(drop));
    match result {
        // Every write was a `&str`: the bytes are UTF-8.
        Ok(()) => String::from_utf8(out).map_err(|e| {
            let err = Error::new(ErrorKind::WriteFailure, e.to_string());
            Diagnostics(vec![template_diagnostic(target, &sources, &err, db)])
        }),
        Err(e) => Err(Diagnostics(vec![template_diagnostic(
            target, &sources, &e, db,
        )])),
    }
}

/// A generous guess of a rendered file's size from its rule count, for
/// [`render_template`]: the largest text per rule of any target (SRX's
/// `set` lines, about 1.2 KB at 20,000 zones) with room to spare, plus the
/// fixed header and objects.
pub(crate) fn expected_bytes(rule_count: usize) -> usize {
    rule_count.saturating_mul(2048).saturating_add(64 * 1024)
}

/// `(template name, display path, text)` of every template of a target:
/// the embedded ones, replaced or extended by the user's overrides.
fn sources(target: Target, templates: &Templates) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = targets::spec(target)
        .templates
        .iter()
        .map(|(name, text)| {
            (
                (*name).to_string(),
                format!("templates/{}/{name}", target.name()),
                (*text).to_string(),
            )
        })
        .collect();
    if let Some(overrides) = templates.for_target(target) {
        for (name, file) in overrides {
            match out.iter_mut().find(|(n, _, _)| n == name) {
                Some(slot) => *slot = (name.clone(), file.path.clone(), file.text.clone()),
                None => out.push((name.clone(), file.path.clone(), file.text.clone())),
            }
        }
    }
    out
}

/// The text of an interpolated value, or an error if it is not a scalar or
/// contains a character that is unsafe in the target's configuration.
fn printable(target: Target, value: &Value) -> Result<String, Error> {
    if value.is_safe() {
        return Ok(value.to_string());
    }
    match value.kind() {
        ValueKind::String | ValueKind::Number | ValueKind::Bool => {}
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "an undefined value cannot be printed",
            ));
        }
        ValueKind::None => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "`none` cannot be printed in a configuration",
            ));
        }
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "only strings, numbers and booleans can be printed; iterate over lists and maps",
            ));
        }
    }
    let text = value.to_string();
    checked(target, &text)?;
    Ok(text)
}

/// `Ok` if `text` may be printed in a `target` configuration.
fn checked(target: Target, text: &str) -> Result<(), Error> {
    escape::check_output(target, text).map_err(|c| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "refusing to print {text:?}: the character {c:?} is not safe in a {target} configuration"
            ),
        )
    })
}

/// Maps a minijinja error to a diagnostic at the template's file and line.
fn template_diagnostic(
    target: Target,
    sources: &[(String, String, String)],
    err: &Error,
    db: &mut SourceDb,
) -> Diagnostic {
    // The innermost template error is the most precise (errors in included
    // templates are chained).
    let mut inner: &Error = err;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(m) = e.downcast_ref::<Error>()
            && m.name().is_some()
        {
            inner = m;
        }
        cur = e.source();
    }
    let name = inner.name().unwrap_or_default();
    let found = sources.iter().find(|(n, _, _)| n == name);
    let (file, range) = match found {
        Some((_, path, text)) => {
            let file = register(db, path, text);
            let range = match (inner.range(), inner.line()) {
                (Some(r), _) => TextRange::from_usize(r.start, r.end),
                (None, Some(line)) => line_range(text, line),
                (None, None) => TextRange::empty(0),
            };
            (file, range)
        }
        None => {
            let path = format!("templates/{}", target.name());
            (register(db, &path, ""), TextRange::empty(0))
        }
    };
    let detail = inner
        .detail()
        .map_or_else(|| inner.kind().to_string(), ToString::to_string);
    Diagnostic::error(
        "E0310",
        format!("template error in the {target} templates: {detail}"),
        Span::new(file, range),
        inner.kind().to_string(),
    )
    .with_help("fix the template, or remove the override passed with `--templates`")
}

fn register(db: &mut SourceDb, path: &str, text: &str) -> FileId {
    match db.find(path) {
        Some(f) if db.text(f) == text => f,
        _ => db.add(path, text),
    }
}

/// The byte range of 1-based line `line` of `text`.
fn line_range(text: &str, line: usize) -> TextRange {
    let mut start = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return TextRange::from_usize(start, start + l.trim_end_matches('\n').len());
        }
        start += l.len();
    }
    TextRange::empty(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TemplateFile;

    #[derive(Serialize)]
    struct V {
        name: String,
    }

    fn with_override(text: &str) -> Templates {
        let mut t = Templates::embedded();
        t.set_override(
            Target::Nftables,
            "test.j2",
            TemplateFile {
                path: "my/nftables/test.j2".into(),
                text: text.into(),
            },
        );
        t
    }

    #[test]
    fn renders_and_keeps_trailing_newline() {
        let mut db = SourceDb::new();
        let out = render_template(
            Target::Nftables,
            &with_override("x {{ name }}\n"),
            "test.j2",
            &V { name: "a".into() },
            0,
            &mut db,
        );
        assert_eq!(out.unwrap(), "x a\n");
    }

    #[test]
    fn undefined_is_an_error_with_file_and_line() {
        let mut db = SourceDb::new();
        let err = render_template(
            Target::Nftables,
            &with_override("ok\n{{ missing }}\n"),
            "test.j2",
            &V { name: "a".into() },
            0,
            &mut db,
        )
        .unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.code, "E0310");
        assert_eq!(db.name(d.primary.span.file), "my/nftables/test.j2");
        assert_eq!(
            db.line_col(d.primary.span.file, d.primary.span.range.start)
                .line,
            2
        );
    }

    #[test]
    fn unsafe_values_are_refused() {
        let mut db = SourceDb::new();
        for bad in ["a\"b", "a\nb", "a;b", "a#b", "{x}", "a!b", "$x", "a\\b"] {
            let err = render_template(
                Target::Nftables,
                &with_override("{{ name }}"),
                "test.j2",
                &V { name: bad.into() },
                0,
                &mut db,
            )
            .unwrap_err();
            assert_eq!(err.0[0].code, "E0310", "{bad}");
            assert!(
                err.0[0].message.contains("not safe"),
                "{}",
                err.0[0].message
            );
        }
    }

    #[test]
    fn macro_output_is_not_checked_twice_but_safe_is_gone() {
        let mut db = SourceDb::new();
        let t = "{% macro lit(v) %}{ {{ v }} }{% endmacro %}{{ lit(name) }}";
        let out = render_template(
            Target::Nftables,
            &with_override(t),
            "test.j2",
            &V { name: "a".into() },
            0,
            &mut db,
        );
        assert_eq!(out.unwrap(), "{ a }");
        let err = render_template(
            Target::Nftables,
            &with_override(t),
            "test.j2",
            &V {
                name: "a\"b".into(),
            },
            0,
            &mut db,
        )
        .unwrap_err();
        assert!(err.0[0].message.contains("not safe"));
        let err = render_template(
            Target::Nftables,
            &with_override("{{ name|safe }}"),
            "test.j2",
            &V { name: "a".into() },
            0,
            &mut db,
        )
        .unwrap_err();
        assert_eq!(err.0[0].code, "E0310");
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let mut db = SourceDb::new();
        let err = render_template(
            Target::Nftables,
            &with_override("a\nb\n{% if %}\n"),
            "test.j2",
            &V { name: "a".into() },
            0,
            &mut db,
        )
        .unwrap_err();
        let d = &err.0[0];
        assert_eq!(
            db.line_col(d.primary.span.file, d.primary.span.range.start)
                .line,
            3
        );
    }
}
