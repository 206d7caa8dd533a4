//! nftables on a shared host (issue 9): the file owns one table and
//! replaces it atomically; far-future expiries never wrap; deny logging is
//! rate limited; address mode drops spoofed sources. (The kernel side is
//! in tests/kernel/redeploy.rs and tests/kernel/main.rs.)

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_model::Policy;
use zonal_tests::{fixtures, policy_of, policy_of_text, render_or_panic};

fn render(policy: &Policy) -> zonal_backend::Artifact {
    let fw = Firewall::by_address(policy.name.clone());
    let templates = Templates::embedded();
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: &fw,
        templates: &templates,
    };
    let mut r = render_or_panic(Target::Nftables, &req);
    assert_eq!(r.artifacts.len(), 1);
    r.artifacts.remove(0)
}

/// The largest `meta time` operand that does not wrap: nanoseconds since
/// 1970 in a signed 64-bit value.
const META_TIME_MAX: i64 = i64::MAX / 1_000_000_000;

fn meta_times(text: &str) -> Vec<i64> {
    text.split("meta time < ")
        .skip(1)
        .map(|rest| {
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            n.parse().unwrap_or(i64::MAX)
        })
        .collect()
}

/// Regression (issue 9): `until 2600-01-01` rendered `meta time <
/// 19880…`, which wraps, so the kernel treated the rule as expired and
/// dropped the flow while `build` said nothing. Now it is a located error
/// (E0308), and the last day `meta time` can hold renders without wrapping.
#[test]
fn far_future_expiry_is_a_located_error_and_never_wraps() {
    let text = r#"
policy far-future { owner "tests" }
zone clinic { network 10.60.1.0/24  trust medium  kind clinical }
zone servers {
  network 10.60.2.0/24
  trust high
  kind servers
  device pacs-1 { address 10.60.2.10  kind pacs  listens https }
}
allow clinic -> pacs-1 : https until 2600-01-01 "far future"
allow clinic -> servers : ssh until 2262-04-10 "last representable day"
"#;
    let policy = policy_of_text("far-future.zonal", text);
    let fw = Firewall::by_address("far-future");
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    let err = zonal_backend::render(
        Target::Nftables,
        &req,
        &mut zonal_diagnostics::SourceDb::new(),
    )
    .expect_err("a 2600 expiry must be refused");
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(err.0[0].code, "E0308");
    assert!(err.0[0].message.contains("`allow-clinic-to-pacs-1-https`"));
    let rule = policy
        .rules
        .iter()
        .find(|r| r.name == "allow-clinic-to-pacs-1-https")
        .expect("the rule");
    assert_eq!(err.0[0].primary.span, rule.span);
    let ok = policy_of_text(
        "last-day.zonal",
        &text.replace(
            "allow clinic -> pacs-1 : https until 2600-01-01 \"far future\"\n",
            "",
        ),
    );
    let a = render(&ok);
    let times = meta_times(&a.text);
    assert_eq!(times.len(), 1, "{}", a.text);
    assert!(times.iter().all(|t| *t <= META_TIME_MAX), "{times:?}");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

/// Every example and valid fixture: one table, replaced in one
/// transaction (declare, delete, recreate) and nothing else; no `flush
/// ruleset`; every log statement rate limited; anti-spoofing in address
/// mode; no `meta time` that wraps.
#[test]
fn nftables_files_own_one_table_and_rate_limit_their_logs() {
    let mut rels = fixtures("policies/examples");
    rels.extend(fixtures("policies/valid"));
    for rel in rels {
        let policy = policy_of(&rel);
        let a = render(&policy);
        let text = &a.text;
        let tables: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("table ") || l.starts_with("delete ") || l.starts_with("flush ")
            })
            .collect();
        let name = tables
            .first()
            .and_then(|l| l.strip_prefix("table inet "))
            .unwrap_or_else(|| panic!("{rel}: no table:\n{text}"));
        assert_eq!(
            tables,
            [
                format!("table inet {name}").as_str(),
                format!("delete table inet {name}").as_str(),
                format!("table inet {name} {{").as_str()
            ],
            "{rel}"
        );
        for l in text.lines().filter(|l| l.contains("log prefix ")) {
            assert!(
                l.contains("limit rate ") || l.contains("log prefix \"zonal allow "),
                "{rel}: a deny log without a rate limit: {l}"
            );
        }
        assert!(
            text.contains("fib saddr . iif oif missing counter drop"),
            "{rel}: no anti-spoofing"
        );
        assert!(
            meta_times(text).iter().all(|t| *t <= META_TIME_MAX),
            "{rel}"
        );
    }
}
