//! iptables ownership on a shared host (issue 9): the rendered files name
//! only Zonal's own chains, so `iptables-restore --noflush` cannot reset
//! INPUT, OUTPUT or FORWARD, their policies, or flush a foreign chain
//! (Docker's DOCKER-USER, fail2ban's f2b-*); every deny log is rate
//! limited; far-future expiries are warnings, never a wrapped date; the
//! deploy scripts the documentation prints are the ones the kernel proof
//! runs. (The kernel side, a redeploy on a router with foreign rules, is in
//! tests/kernel/redeploy.rs; that the IPv4 and IPv6 files are never printed
//! as one stream is tested in crates/zonal_cli/tests/build.rs.)

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{fixtures, policy_of, policy_of_text, render_or_panic, repo_root};

fn render(policy: &Policy, fw: &Firewall) -> zonal_backend::Rendered {
    let templates = Templates::embedded();
    let req = Request {
        checked: &zonal_tests::checked_relaxed(policy.clone()),
        firewall: fw,
        templates: &templates,
    };
    render_or_panic(Target::Iptables, &req)
}

/// Every way an `iptables-restore --noflush` file could touch what is not
/// Zonal's: returns the offending lines.
fn foreign_touches(text: &str, prefix: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut declared = Vec::new();
    let mut tables = 0;
    for line in text.lines() {
        if line.starts_with('*') {
            tables += 1;
            if line != "*filter" {
                bad.push(format!("another table: {line}"));
            }
        } else if let Some(rest) = line.strip_prefix(':') {
            let name = rest.split_whitespace().next().unwrap_or("");
            if !name.starts_with(prefix) || !rest.ends_with(" - [0:0]") {
                bad.push(format!("declares a chain that is not Zonal's: {line}"));
            }
            declared.push(name.to_string());
        } else if line.starts_with('-') {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (op, chain) = (words.first().copied(), words.get(1).copied());
            if op != Some("-A") {
                bad.push(format!("not an append: {line}"));
            }
            if !chain.is_some_and(|c| declared.iter().any(|d| d == c)) {
                bad.push(format!("appends to a chain it does not declare: {line}"));
            }
            if let Some(i) = words.iter().position(|w| *w == "-j") {
                let target = words.get(i + 1).copied().unwrap_or("");
                let builtin = ["ACCEPT", "DROP", "LOG", "RETURN"].contains(&target);
                if !builtin && !declared.iter().any(|d| d == target) {
                    bad.push(format!("jumps to a chain that is not Zonal's: {line}"));
                }
                if target == "LOG" && !line.contains("-m limit --limit ") {
                    bad.push(format!("logs without a rate limit: {line}"));
                }
            }
        }
    }
    if tables != 1 {
        bad.push(format!("{tables} tables"));
    }
    if declared.first().map(String::as_str) != Some(&format!("{prefix}forward")) {
        bad.push(format!(
            "the first chain is not the entry chain `{prefix}forward`"
        ));
    }
    bad
}

/// Regression (issue 9): loading the iptables output replaced the whole
/// filter table: INPUT was reset to ACCEPT and foreign chains flushed.
/// Every file of every example, valid fixture and deploy binding now
/// declares, fills and jumps to `zonal_*` chains only.
#[test]
fn iptables_files_touch_only_zonal_chains() {
    let mut files = 0;
    let mut rels = fixtures("policies/examples");
    rels.extend(fixtures("policies/valid"));
    for rel in rels {
        let policy = policy_of(&rel);
        let fw = Firewall::by_address(policy.name.clone());
        for a in render(&policy, &fw).artifacts {
            let bad = foreign_touches(&a.text, "zonal_");
            assert!(bad.is_empty(), "{rel} {}:\n{}", a.extension, bad.join("\n"));
            files += 1;
        }
    }
    // A binding by interface, with its own naming prefix.
    let rel = "policies/examples/riverbend-radiology.zonal";
    let policy = policy_of(rel);
    let yaml = "firewalls:\n  - name: edge\n    target: iptables\n    zones:\n      modalities: { interface: vlan110 }\n      imaging-servers: { interface: vlan120 }\n    naming: { prefix: rad }\n";
    let mut db = zonal_diagnostics::SourceDb::new();
    let id = db.add("deploy.yaml", yaml.to_string());
    let binding = zonal_backend::parse_binding(id, yaml, &policy)
        .unwrap_or_else(|d| panic!("binding rejected: {d:?}"));
    for fw in &binding.firewalls {
        for a in render(&policy, fw).artifacts {
            let bad = foreign_touches(&a.text, "rad_");
            assert!(bad.is_empty(), "{rel} {}:\n{}", a.extension, bad.join("\n"));
            if a.extension == "iptables" {
                assert!(
                    a.text
                        .contains("-A rad_forward -i vlan110 -o vlan120 -j rad_zp_"),
                    "{}",
                    a.text
                );
            }
            files += 1;
        }
    }
    assert!(files >= 10, "only {files} files checked");
}

/// The old output is caught by the check above.
#[test]
fn the_ownership_check_catches_a_full_filter_table() {
    let old = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:zp_a_b - [0:0]\n-A FORWARD -j zp_a_b\n-A FORWARD -j LOG --log-prefix \"x \"\nCOMMIT\n";
    let bad = foreign_touches(old, "zonal_");
    for want in [
        "declares a chain that is not Zonal's: :INPUT",
        "declares a chain that is not Zonal's: :FORWARD",
        "logs without a rate limit",
        "the first chain is not the entry chain",
    ] {
        assert!(bad.iter().any(|b| b.contains(want)), "{want}: {bad:?}");
    }
}

const FAR_FUTURE: &str = r#"
policy far-future { owner "tests" }
zone clinic { network 10.60.1.0/24, fd00:60:1::/64  trust medium  kind clinical }
zone servers {
  network 10.60.2.0/24, fd00:60:2::/64
  trust high
  kind servers
  device pacs-1 { address 10.60.2.10, fd00:60:2::10  kind pacs  listens https }
}
allow clinic -> pacs-1 : https until 2600-01-01 "far future"
allow clinic -> servers : ssh until 2037-12-31 "before 2038"
"#;

/// `until` beyond 2038-01-18 cannot be held by `-m time --datestop`: the
/// build refuses it (E0308, at the rule) instead of rendering a wrapped
/// date or no expiry; the last representable day renders.
#[test]
fn iptables_expiry_beyond_2038_is_a_located_error() {
    let policy = policy_of_text("far-future.zonal", FAR_FUTURE);
    let fw = Firewall::by_address("far-future");
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    let err = zonal_backend::render(Target::Iptables, &req, &mut SourceDb::new())
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
        "near-future.zonal",
        &FAR_FUTURE.replace("until 2600-01-01", "until 2038-01-18"),
    );
    let r = render(&ok, &fw);
    for a in &r.artifacts {
        assert!(
            a.text.contains("--datestop 2038-01-18T23:59:59"),
            "{}",
            a.text
        );
        assert!(
            a.text.contains("--datestop 2037-12-31T23:59:59"),
            "{}",
            a.text
        );
    }
}

/// The deploy and removal scripts of docs/targets/iptables.md are, byte
/// for byte, the ones `zonal verify` and the kernel tests run.
#[test]
fn the_documented_deploy_scripts_are_the_proven_ones() {
    let doc = std::fs::read_to_string(repo_root().join("docs/targets/iptables.md"))
        .expect("docs/targets/iptables.md");
    for (name, script) in [
        ("zonal-iptables-deploy", zonal_verify::IPTABLES_DEPLOY),
        ("zonal-iptables-remove", zonal_verify::IPTABLES_REMOVE),
    ] {
        assert!(
            doc.contains(&format!("```sh\n{script}```")),
            "docs/targets/iptables.md does not print {name} as the kernel proof runs it:\n{script}"
        );
    }
}
