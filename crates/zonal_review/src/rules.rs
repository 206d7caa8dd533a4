//! Rules added, removed or changed, matched by their stable name.

use std::collections::BTreeMap;

use serde::Serialize;
use zonal_model::{AddrSet, Policy, Rule, ServiceSet};

use crate::{Change, Side};

/// A rule that was added, removed or changed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RuleChange {
    /// Added, removed or changed.
    pub change: Change,
    /// The rule's stable name (`@name`, else generated).
    pub name: String,
    /// The rule as written on the side that has it (the new side when both do).
    pub summary: String,
    /// `file:line` on that side.
    pub location: String,
    /// What changed (only for a changed rule).
    pub fields: Vec<FieldChange>,
}

/// One field of a changed rule.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FieldChange {
    /// `action`, `sources`, `destinations`, `services`, `until`,
    /// `justification`, `workflow leg` or `meaning`.
    pub field: String,
    /// Its old value (`-` when absent).
    pub old: String,
    /// Its new value.
    pub new: String,
}

/// `allow a, b -> c : dicom, https until 2027-01-31` (the workflow leg when
/// the rule is one).
pub(crate) fn summary(r: &Rule) -> String {
    let names = |v: &[(String, zonal_diagnostics::Span)]| {
        v.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "{} {} -> {} : {}",
        r.action.as_str(),
        names(&r.src_written),
        names(&r.dst_written),
        services(r)
    );
    if let Some(u) = r.until {
        s.push_str(&format!(" until {u}"));
    }
    if r.origin != zonal_model::OriginKind::Flow {
        s.push_str(&format!(" ({})", r.origin.describe()));
    }
    s
}

fn services(r: &Rule) -> String {
    r.services_written
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a rule matches, independent of ids and spans.
fn meaning(r: &Rule) -> Vec<(AddrSet, AddrSet, ServiceSet)> {
    let mut v: Vec<_> = r
        .terms
        .iter()
        .map(|t| (t.src.clone(), t.dst.clone(), t.services.clone()))
        .collect();
    v.sort();
    v
}

fn fields(o: &Rule, n: &Rule) -> Vec<FieldChange> {
    let names = |v: &[(String, zonal_diagnostics::Span)]| {
        let mut names: Vec<&str> = v.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.join(", ")
    };
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let pairs = [
        ("action", o.action.as_str().into(), n.action.as_str().into()),
        (
            "workflow leg",
            o.origin.describe().into(),
            n.origin.describe().into(),
        ),
        ("sources", names(&o.src_written), names(&n.src_written)),
        ("destinations", names(&o.dst_written), names(&n.dst_written)),
        ("services", services(o), services(n)),
        (
            "until",
            opt(o.until.map(|d| d.to_string())),
            opt(n.until.map(|d| d.to_string())),
        ),
        (
            "justification",
            opt(o.justification.clone()),
            opt(n.justification.clone()),
        ),
    ];
    let mut out: Vec<FieldChange> = pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(f, old, new)| FieldChange {
            field: f.to_string(),
            old,
            new,
        })
        .collect();
    if o.expired != n.expired {
        out.push(FieldChange {
            field: "enforced".into(),
            old: if o.expired { "no (expired)" } else { "yes" }.into(),
            new: if n.expired { "no (expired)" } else { "yes" }.into(),
        });
    }
    if out.is_empty() && meaning(o) != meaning(n) {
        out.push(FieldChange {
            field: "meaning".into(),
            old: "as before".into(),
            new: "other addresses or ports: a zone, device, group or service it names changed"
                .into(),
        });
    }
    out
}

fn by_name(p: &Policy) -> BTreeMap<&str, &Rule> {
    p.rules.iter().map(|r| (r.name.as_str(), r)).collect()
}

/// Rules added, removed or changed, sorted by name.
pub(crate) fn diff(old: &Side, new: &Side) -> Vec<RuleChange> {
    let (o, n) = (by_name(old.policy()), by_name(new.policy()));
    let mut out = Vec::new();
    for (name, r) in &o {
        match n.get(name) {
            None => out.push(RuleChange {
                change: Change::Removed,
                name: (*name).to_string(),
                summary: summary(r),
                location: old.location(r.span),
                fields: Vec::new(),
            }),
            Some(nr) => {
                let fields = fields(r, nr);
                if !fields.is_empty() {
                    out.push(RuleChange {
                        change: Change::Changed,
                        name: (*name).to_string(),
                        summary: summary(nr),
                        location: new.location(nr.span),
                        fields,
                    });
                }
            }
        }
    }
    for (name, r) in &n {
        if !o.contains_key(name) {
            out.push(RuleChange {
                change: Change::Added,
                name: (*name).to_string(),
                summary: summary(r),
                location: new.location(r.span),
                fields: Vec::new(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.change.cmp(&b.change)));
    out
}
