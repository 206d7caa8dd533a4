//! `zonal drift`: is the device still the reviewed policy?
//!
//! For nftables, two listings of the kernel's own normal form are compared
//! (`nft -j list ruleset` of the rendered file, loaded into a scratch
//! namespace, and of the device's ruleset): the table Zonal owns chain by
//! chain, rules keyed by the rule name at the start of their comment
//! (`allow-ct-1-to-pacs-1-dicom: …`), sets and maps by their elements,
//! base chains by hook and policy. Every other table is foreign: listed,
//! and drift only with `--strict`. For the vendor targets, the saved
//! configuration's lines are compared with the rendered ones, named by the
//! Zonal rule names they carry. The packet-level consequences come from
//! the kernel proof (nftables) or the configuration readers of
//! `zonal_xcheck` (vendor targets), compared with `decide`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One difference in the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `added`, `removed` or `changed`.
    pub kind: &'static str,
    /// Where: the chain (nftables) or the configuration section.
    pub place: String,
    /// The Zonal rule it belongs to, when it carries a name.
    pub rule: Option<String>,
    /// What the reviewed policy renders.
    pub expected: Option<String>,
    /// What the device holds.
    pub actual: Option<String>,
}

/// What differs between the device and the reviewed policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The table or configuration Zonal owns.
    pub owned: String,
    /// Whether the device has it at all.
    pub present: bool,
    /// Rule, chain and set differences.
    pub changes: Vec<Change>,
    /// Configuration that is not Zonal's (tables, lines).
    pub foreign: Vec<String>,
    /// What was not compared, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Drift {
    /// Whether the owned part differs (foreign configuration counts only
    /// when `strict`).
    pub fn drifted(&self, strict: bool) -> bool {
        !self.present || !self.changes.is_empty() || (strict && !self.foreign.is_empty())
    }
}

/// A Zonal rule name at the start of a comment: `allow-x-to-y-dicom` in
/// `allow-x-to-y-dicom: justification` or `… (C-MOVE request): …`.
pub fn rule_name(comment: &str) -> Option<String> {
    let name: String = comment
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let rest = &comment[name.len()..];
    (!name.is_empty() && (rest.starts_with(':') || rest.starts_with(" (") || rest.is_empty()))
        .then_some(name)
}

/// An `nft -j list ruleset` document with its objects in an order `nft -j
/// -f` can load (tables, chains, sets and maps, then rules): a dump lists
/// maps that jump to chains before those chains.
pub fn nft_load_order(json: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not nft JSON: {e}"))?;
    let Some(items) = v.get("nftables").and_then(Value::as_array) else {
        return Err("not an `nft -j list ruleset` document (no `nftables` array)".into());
    };
    let rank = |o: &Value| match o
        .as_object()
        .and_then(|m| m.keys().next())
        .map(String::as_str)
    {
        Some("metainfo") => 0,
        Some("table") => 1,
        Some("chain") => 2,
        Some("set" | "map" | "flowtable" | "counter" | "quota" | "limit" | "ct helper") => 3,
        Some("rule") => 5,
        _ => 4,
    };
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by_key(|o| rank(o));
    let out = serde_json::json!({ "nftables": sorted });
    Ok(out.to_string())
}

/// `FAMILY NAME` of the first table an nftables file declares.
pub fn nft_owned_table(rendered: &str) -> Option<String> {
    rendered.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("table"))
            .then(|| Some(format!("{} {}", w.next()?, w.next()?.trim_end_matches('{'))))
            .flatten()
    })
}

/// A rule's text from an `nft -a list ruleset` listing, by handle, with
/// counters zeroed out (`counter`).
fn rule_texts(text: &str, table: &str) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("table ") {
            inside = rest.split(" {").next().map(str::trim) == Some(table);
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((rule, handle)) = t.rsplit_once(" # handle ")
            && let Ok(h) = handle.trim().parse::<u64>()
            && !rule.ends_with('{')
        {
            out.insert(h, zero_counters(rule));
        }
    }
    out
}

fn zero_counters(rule: &str) -> String {
    let words: Vec<&str> = rule.split(' ').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "counter" && words.get(i + 1) == Some(&"packets") {
            out.push("counter");
            i += 5;
            continue;
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

/// Drops what changes without a change of meaning: handles, counter values.
fn normal(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "handle")
                .map(|(k, v)| {
                    if k == "counter" {
                        (k.clone(), Value::Null)
                    } else {
                        (k.clone(), normal(v))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normal).collect()),
        v => v.clone(),
    }
}

/// The objects of one listing, split by table.
#[derive(Default)]
struct Listing {
    /// `family name` → rule count, for every table.
    tables: BTreeMap<String, usize>,
    /// chain → its attributes (hook, type, priority, policy).
    chains: BTreeMap<String, Value>,
    /// chain → rules in order: (name, normal form, handle).
    rules: BTreeMap<String, Vec<(Option<String>, String, u64)>>,
    /// set or map → normal form (type, flags, elements).
    sets: BTreeMap<String, Value>,
}

fn listing(json: &str, table: &str) -> Result<Listing, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("not nft JSON: {e}"))?;
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or("not an `nft -j list ruleset` document")?;
    let mut l = Listing::default();
    let key = |o: &Value| {
        format!(
            "{} {}",
            o.get("family").and_then(Value::as_str).unwrap_or(""),
            o.get("table").and_then(Value::as_str).unwrap_or("")
        )
    };
    for item in items {
        let Some((kind, o)) = item.as_object().and_then(|m| m.iter().next()) else {
            continue;
        };
        match kind.as_str() {
            "table" => {
                let t = format!(
                    "{} {}",
                    o.get("family").and_then(Value::as_str).unwrap_or(""),
                    o.get("name").and_then(Value::as_str).unwrap_or("")
                );
                l.tables.entry(t).or_insert(0);
            }
            "rule" => {
                let t = key(o);
                *l.tables.entry(t.clone()).or_insert(0) += 1;
                if t != table {
                    continue;
                }
                let chain = o
                    .get("chain")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let name = o.get("comment").and_then(Value::as_str).and_then(rule_name);
                let mut n = normal(o);
                if let Some(m) = n.as_object_mut() {
                    m.remove("chain");
                }
                let handle = o.get("handle").and_then(Value::as_u64).unwrap_or(0);
                l.rules
                    .entry(chain)
                    .or_default()
                    .push((name, n.to_string(), handle));
            }
            "chain" if key(o) == table => {
                let name = o
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                l.rules.entry(name.clone()).or_default();
                l.chains.insert(name, normal(o));
            }
            "set" | "map" if key(o) == table => {
                let name = o
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                // What a set means: its type, flags and elements (a set
                // loaded from JSON comes back without some attributes).
                let n = normal(o);
                let mut m = serde_json::Map::new();
                for k in ["type", "map", "flags", "elem"] {
                    if let Some(v) = n.get(k) {
                        m.insert(k.to_string(), v.clone());
                    }
                }
                l.sets.insert(format!("{kind} {name}"), Value::Object(m));
            }
            _ => {}
        }
    }
    Ok(l)
}

fn describe_set(v: &Value) -> String {
    let elems = v.get("elem").map_or_else(|| "{}".into(), Value::to_string);
    let flags = v
        .get("flags")
        .map_or_else(String::new, |f| format!(" flags {f}"));
    format!("elements {elems}{flags}")
}

/// Compares the device's listing with the rendered one. `table` is the
/// owned table, `FAMILY NAME`.
#[expect(
    clippy::too_many_lines,
    reason = "tables, chains, rules and sets compared in turn, one report"
)]
pub fn nft_diff(
    expected_json: &str,
    expected_text: &str,
    actual_json: &str,
    actual_text: &str,
    table: &str,
) -> Result<Drift, String> {
    let want = listing(expected_json, table)?;
    let got = listing(actual_json, table)?;
    let want_text = rule_texts(expected_text, table);
    let got_text = rule_texts(actual_text, table);
    let mut d = Drift {
        owned: format!("table {table}"),
        present: got.tables.contains_key(table),
        ..Drift::default()
    };
    for (t, rules) in &got.tables {
        if t != table && !want.tables.contains_key(t) {
            d.foreign.push(format!("table {t} ({rules} rule(s))"));
        }
    }
    if !d.present {
        return Ok(d);
    }
    // Chains.
    let chains: std::collections::BTreeSet<&String> =
        want.chains.keys().chain(got.chains.keys()).collect();
    for c in chains {
        match (want.chains.get(c), got.chains.get(c)) {
            (Some(_), None) => d.changes.push(Change {
                kind: "removed",
                place: format!("chain {c}"),
                rule: None,
                expected: Some(format!("chain {c}")),
                actual: None,
            }),
            (None, Some(_)) => d.changes.push(Change {
                kind: "added",
                place: format!("chain {c}"),
                rule: None,
                expected: None,
                actual: Some(format!("chain {c}")),
            }),
            (Some(a), Some(b)) if a != b => d.changes.push(Change {
                kind: "changed",
                place: format!("chain {c}"),
                rule: None,
                expected: Some(chain_head(a)),
                actual: Some(chain_head(b)),
            }),
            _ => {}
        }
    }
    // Rules, chain by chain: a multiset difference, then removed and
    // added rules of the same name in a chain pair up as changed.
    let all: std::collections::BTreeSet<&String> =
        want.rules.keys().chain(got.rules.keys()).collect();
    let empty = Vec::new();
    for c in all {
        let w = want.rules.get(c).unwrap_or(&empty);
        let g = got.rules.get(c).unwrap_or(&empty);
        let mut removed: Vec<&(Option<String>, String, u64)> = Vec::new();
        let mut added: Vec<&(Option<String>, String, u64)> = g.iter().collect();
        for r in w {
            match added.iter().position(|x| x.1 == r.1) {
                Some(i) => {
                    added.remove(i);
                }
                None => removed.push(r),
            }
        }
        let text = |side: &BTreeMap<u64, String>, r: &(Option<String>, String, u64)| {
            side.get(&r.2).cloned().unwrap_or_else(|| r.1.clone())
        };
        for r in removed {
            let pair = added.iter().position(|a| a.0.is_some() && a.0 == r.0);
            match pair {
                Some(i) => {
                    let a = added.remove(i);
                    d.changes.push(Change {
                        kind: "changed",
                        place: format!("chain {c}"),
                        rule: r.0.clone(),
                        expected: Some(text(&want_text, r)),
                        actual: Some(text(&got_text, a)),
                    });
                }
                None => d.changes.push(Change {
                    kind: "removed",
                    place: format!("chain {c}"),
                    rule: r.0.clone(),
                    expected: Some(text(&want_text, r)),
                    actual: None,
                }),
            }
        }
        for a in added {
            d.changes.push(Change {
                kind: "added",
                place: format!("chain {c}"),
                rule: a.0.clone(),
                expected: None,
                actual: Some(text(&got_text, a)),
            });
        }
    }
    // Sets and maps.
    let sets: std::collections::BTreeSet<&String> =
        want.sets.keys().chain(got.sets.keys()).collect();
    for s in sets {
        let (w, g) = (want.sets.get(s), got.sets.get(s));
        if w != g {
            d.changes.push(Change {
                kind: match (w, g) {
                    (Some(_), None) => "removed",
                    (None, Some(_)) => "added",
                    _ => "changed",
                },
                place: s.clone(),
                rule: None,
                expected: w.map(describe_set),
                actual: g.map(describe_set),
            });
        }
    }
    Ok(d)
}

fn chain_head(v: &Value) -> String {
    let get = |k: &str| {
        v.get(k)
            .map_or_else(|| "-".into(), |x| x.to_string().replace('"', ""))
    };
    format!(
        "type {} hook {} priority {} policy {}",
        get("type"),
        get("hook"),
        get("prio"),
        get("policy")
    )
}

/// Compares a saved vendor configuration with the rendered one, line by
/// line (blank lines and `!`/`#` comments aside). Lines that name a Zonal
/// rule are attributed to it; a removed and an added line of the same
/// rule pair up as changed; added lines that name no Zonal rule and no
/// Zonal object (`zonal`, the policy's rule names) are foreign.
pub fn text_diff(expected: &str, actual: &str, rule_names: &[String]) -> Drift {
    let keep = |t: &str| {
        let t = t.trim();
        !t.is_empty() && !t.starts_with('!') && !t.starts_with('#')
    };
    let want: Vec<&str> = expected
        .lines()
        .map(str::trim_end)
        .filter(|l| keep(l))
        .collect();
    let mut added: Vec<&str> = actual
        .lines()
        .map(str::trim_end)
        .filter(|l| keep(l))
        .collect();
    let mut removed = Vec::new();
    for w in &want {
        match added.iter().position(|a| a == w) {
            Some(i) => {
                added.remove(i);
            }
            None => removed.push(*w),
        }
    }
    let name_of = |line: &str| {
        rule_names
            .iter()
            .filter(|n| {
                line.match_indices(n.as_str()).any(|(i, _)| {
                    let after = line[i + n.len()..].chars().next();
                    // Vendor object names extend the rule name after a `-`
                    // (`allow-x-to-y-dicom-modalities-pacs-4`); the longest
                    // rule name that fits wins.
                    !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
            .max_by_key(|n| n.len())
            .cloned()
    };
    let mut d = Drift {
        owned: "configuration".into(),
        present: true,
        ..Drift::default()
    };
    for r in removed {
        let name = name_of(r);
        let pair = added
            .iter()
            .position(|a| name.is_some() && name_of(a) == name);
        match pair {
            Some(i) => {
                let a = added.remove(i);
                d.changes.push(Change {
                    kind: "changed",
                    place: "configuration".into(),
                    rule: name,
                    expected: Some(r.to_string()),
                    actual: Some(a.to_string()),
                });
            }
            None => d.changes.push(Change {
                kind: "removed",
                place: "configuration".into(),
                rule: name,
                expected: Some(r.to_string()),
                actual: None,
            }),
        }
    }
    for a in added {
        let name = name_of(a);
        if name.is_none() && !a.to_ascii_lowercase().contains("zonal") {
            d.foreign.push(a.to_string());
            continue;
        }
        d.changes.push(Change {
            kind: "added",
            place: "configuration".into(),
            rule: name,
            expected: None,
            actual: Some(a.to_string()),
        });
    }
    d
}

/// The part of a device's nftables ruleset that concerns the owned table
/// (`FAMILY NAME`), in a form `nft` loads, and the other tables (foreign).
/// `ruleset` is `nft -j list ruleset` output (JSON) or `nft list ruleset`
/// text. Returns (owned part or `None` when absent, whether it is JSON,
/// foreign tables).
pub fn nft_split(
    ruleset: &str,
    table: &str,
) -> Result<(Option<String>, bool, Vec<String>), String> {
    if ruleset.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(ruleset).map_err(|e| format!("not nft JSON: {e}"))?;
        let items = v
            .get("nftables")
            .and_then(Value::as_array)
            .ok_or("not an `nft -j list ruleset` document (no `nftables` array)")?;
        let mut mine = Vec::new();
        let mut foreign: BTreeMap<String, usize> = BTreeMap::new();
        for item in items {
            let Some((kind, o)) = item.as_object().and_then(|m| m.iter().next()) else {
                continue;
            };
            if kind == "metainfo" {
                continue;
            }
            let fam = o.get("family").and_then(Value::as_str).unwrap_or("");
            let name = if kind == "table" {
                o.get("name").and_then(Value::as_str).unwrap_or("")
            } else {
                o.get("table").and_then(Value::as_str).unwrap_or("")
            };
            let t = format!("{fam} {name}");
            if t == table {
                mine.push(item.clone());
            } else {
                let n = foreign.entry(t).or_insert(0);
                if kind == "rule" {
                    *n += 1;
                }
            }
        }
        let foreign = foreign
            .into_iter()
            .map(|(t, n)| format!("table {t} ({n} rule(s))"))
            .collect();
        if mine.is_empty() {
            return Ok((None, true, foreign));
        }
        let doc = serde_json::json!({ "nftables": mine }).to_string();
        return Ok((Some(nft_load_order(&doc)?), true, foreign));
    }
    // Text: top-level `table FAMILY NAME {` blocks, closed by a `}` line.
    let mut mine = String::new();
    let mut foreign = Vec::new();
    let mut current: Option<(String, bool, usize)> = None;
    for line in ruleset.lines() {
        if current.is_none() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("table ")
                && t.ends_with('{')
            {
                let name = rest.trim_end_matches('{').trim().to_string();
                let owned = name == table;
                current = Some((name, owned, 0));
                if owned {
                    mine.push_str(line);
                    mine.push('\n');
                }
            }
            continue;
        }
        if let Some((name, owned, rules)) = &mut current {
            if *owned {
                mine.push_str(line);
                mine.push('\n');
            } else if line.starts_with("\t\t") && !line.trim().ends_with('{') && line.trim() != "}"
            {
                *rules += 1;
            }
            if line.starts_with('}') {
                if !*owned {
                    foreign.push(format!("table {name} ({rules} line(s))"));
                }
                current = None;
            }
        }
    }
    Ok(((!mine.is_empty()).then_some(mine), false, foreign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_from_comments() {
        assert_eq!(
            rule_name("allow-a-to-b-dicom: C-STORE").as_deref(),
            Some("allow-a-to-b-dicom")
        );
        assert_eq!(
            rule_name("cmove-req-ct-1-to-pacs-1-dicom (C-MOVE request): query").as_deref(),
            Some("cmove-req-ct-1-to-pacs-1-dicom")
        );
        assert_eq!(rule_name("explicit default deny"), None);
        assert_eq!(rule_name("RAD-4711").as_deref(), Some("RAD-4711"));
    }

    #[test]
    fn counters_are_zeroed() {
        assert_eq!(
            zero_counters("ip saddr 10.0.0.1 counter packets 5 bytes 300 accept comment \"x\""),
            "ip saddr 10.0.0.1 counter accept comment \"x\""
        );
    }

    #[test]
    fn text_diff_names_rules_and_lists_foreign_lines() {
        let names = vec!["allow-a-to-b-https".to_string(), "allow-a-to-b".to_string()];
        let want = "! zonal\nset security policies from-zone a to-zone b policy allow-a-to-b-https match application junos-https\nset security policies from-zone a to-zone b policy allow-a-to-b-https then permit\n";
        let got = "set security policies from-zone a to-zone b policy allow-a-to-b-https match application any\nset security policies from-zone a to-zone b policy allow-a-to-b-https then permit\nset system host-name fw1\n";
        let d = text_diff(want, got, &names);
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].kind, "changed");
        assert_eq!(d.changes[0].rule.as_deref(), Some("allow-a-to-b-https"));
        assert_eq!(d.foreign, vec!["set system host-name fw1".to_string()]);
        assert!(d.drifted(false));
        let same = text_diff(want, want, &names);
        assert!(!same.drifted(true));
    }

    #[test]
    fn load_order_puts_chains_before_maps_and_rules_last() {
        let j = r#"{"nftables":[{"metainfo":{}},{"table":{"family":"inet","name":"t"}},{"map":{"name":"m"}},{"rule":{"chain":"c"}},{"chain":{"name":"c"}}]}"#;
        let out = nft_load_order(j).unwrap();
        let m = out.find("\"map\"").unwrap();
        let c = out.find("\"chain\":{").unwrap();
        let r = out.find("\"rule\"").unwrap();
        assert!(c < m && m < r, "{out}");
        assert_eq!(
            nft_owned_table("# x\ntable inet zonal_a\ndelete table inet zonal_a\n").as_deref(),
            Some("inet zonal_a")
        );
    }
}
