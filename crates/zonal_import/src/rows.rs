//! Reading rows: CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF,
//! line breaks inside quotes), or a JSON or YAML list of objects. A row is
//! its number (CSV: the record number with the header as row 1; JSON and
//! YAML: the position in the list, from 1) and its cells by column name.

use std::collections::BTreeMap;

/// One input row.
pub(crate) struct Row {
    pub(crate) number: usize,
    pub(crate) cells: BTreeMap<String, String>,
}

/// The records of CSV text, fields unquoted.
fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
                any = false;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(format!("record {} has an unclosed quote", out.len() + 1));
    }
    if any {
        record.push(field);
        out.push(record);
    }
    Ok(out)
}

pub(crate) fn csv(text: &str) -> Result<Vec<Row>, String> {
    let mut recs = records(text)?.into_iter();
    let header: Vec<String> = recs
        .next()
        .ok_or("the file is empty: the first row must name the columns")?
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in recs.enumerate() {
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() > header.len() {
            return Err(format!(
                "row {}: {} fields, but the header names {} columns",
                i + 2,
                rec.len(),
                header.len()
            ));
        }
        let cells = header
            .iter()
            .cloned()
            .zip(rec.into_iter().map(|f| f.trim().to_string()))
            .collect();
        rows.push(Row {
            number: i + 2,
            cells,
        });
    }
    Ok(rows)
}

fn cell(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Null => None,
        // A list (several addresses): the first element.
        serde_json::Value::Array(a) => a.first().and_then(cell),
        serde_json::Value::Object(_) => None,
    }
}

fn objects(v: serde_json::Value) -> Result<Vec<Row>, String> {
    let list = match v {
        serde_json::Value::Array(a) => a,
        // `{ "data": [...] }`, `{ "devices": [...] }`: the one list inside.
        serde_json::Value::Object(o) => match o.into_iter().find(|(_, v)| v.is_array()) {
            Some((_, serde_json::Value::Array(a))) => a,
            _ => return Err("expected a list of objects (one per asset)".into()),
        },
        _ => return Err("expected a list of objects (one per asset)".into()),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::Object(o) => Ok(Row {
                number: i + 1,
                cells: o
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), cell(v)?)))
                    .collect(),
            }),
            _ => Err(format!("row {}: not an object", i + 1)),
        })
        .collect()
}

pub(crate) fn json(text: &str) -> Result<Vec<Row>, String> {
    objects(serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?)
}

pub(crate) fn yaml(text: &str) -> Result<Vec<Row>, String> {
    objects(serde_yaml::from_str(text).map_err(|e| format!("not YAML: {e}"))?)
}
