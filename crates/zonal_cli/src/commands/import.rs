//! `zonal import FILE`: reads an inventory export and writes what
//! `zonal_import` makes of it; nothing is written when a row is unusable.

use anyhow::{Context as _, bail};
use zonal_import::{Field, Format, Options};

use crate::ExitStatus;
use crate::args::{ImportArgs, PolicyArgs};
use crate::printer;

pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let ext = args
        .file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let format = match ext.as_str() {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "yaml" | "yml" => Format::Yaml,
        _ => bail!(
            "`{}`: name a `.csv`, `.json` or `.yaml` file",
            args.file.display()
        ),
    };
    let Some(mut mapping) = zonal_import::preset(&args.preset) else {
        let names: Vec<&str> = zonal_import::PRESETS.iter().map(|(n, _)| *n).collect();
        bail!(
            "`--preset {}` is not a preset: use {}",
            args.preset,
            names.join(" or ")
        );
    };
    for m in &args.maps {
        let Some((col, field)) = m.rsplit_once('=') else {
            bail!("`--map {m}`: write COLUMN=FIELD");
        };
        let Some(f) = Field::parse(field) else {
            let names: Vec<&str> = Field::NAMES.iter().map(|(n, _)| *n).collect();
            bail!(
                "`--map {m}`: `{field}` is not a field: use {}",
                names.join(", ")
            );
        };
        mapping.set(col, f);
    }
    if args.output.as_ref().is_some_and(|o| o.exists()) {
        bail!(
            "`{}` exists: zonal import never overwrites a file",
            args.output
                .as_ref()
                .map(|o| o.display().to_string())
                .unwrap_or_default()
        );
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read `{}` as UTF-8 text", args.file.display()))?;
    let policy = args.name.clone().unwrap_or_else(|| {
        args.file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into())
    });
    let today = super::today(&PolicyArgs {
        today: args.today.clone(),
        allow_include_outside: false,
    })?;
    let opts = Options {
        mapping,
        prefix_len: args.prefix_len,
        policy,
        today,
    };
    let file = args.file.display();
    let out = match zonal_import::import(&text, format, &opts) {
        Ok(o) => o,
        Err(errors) => {
            for e in &errors {
                printer::error(&format!("error: {file}: {e}"));
            }
            printer::error(&format!(
                "error: {} unusable row(s); nothing was written",
                errors.len()
            ));
            return Ok(ExitStatus::Error);
        }
    };
    if !out.unmapped.is_empty() {
        printer::error(&format!(
            "note: columns left out (no field): {}; `--map COLUMN=FIELD` maps one",
            out.unmapped.join(", ")
        ));
    }
    match &args.output {
        None => printer::out(&out.text),
        Some(f) => {
            crate::fs::write_atomic(f, out.text.as_bytes())?;
            printer::error(&format!(
                "wrote `{}`: {} zone(s), {} device(s)",
                f.display(),
                out.zones,
                out.devices
            ));
        }
    }
    Ok(ExitStatus::Success)
}
