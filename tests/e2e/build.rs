//! `zonal build`'s renderers: a snapshot of every fixture × target, the
//! real tools' syntax checks (`nft -c -f`, `iptables-restore --test`,
//! `ip6tables-restore --test`), determinism under reordering, and hostile
//! names and strings that must not inject configuration.

use std::path::PathBuf;
use std::process::Command;

use zonal_backend::{Firewall, Request, Target, Templates};
use zonal_diagnostics::SourceDb;
use zonal_model::Policy;
use zonal_tests::{fixtures, policy_of, policy_of_text, render_or_panic};

/// The targets whose renderers exist. Part B adds ASA, SRX, PAN-OS and
/// FortiGate here when they land.
const TARGETS: &[Target] = &Target::ALL;

/// Fixtures rendered for every target: the examples and the valid folder.
fn all_fixtures() -> Vec<String> {
    let mut out = fixtures("policies/examples");
    out.extend(fixtures("policies/valid"));
    out
}

/// Renders a policy for a target with the implicit by-address firewall.
/// Every artifact is returned as `(extension, text, rule count)`.
fn render(policy: &Policy, target: Target) -> Vec<(String, String, usize)> {
    let fw = Firewall::by_address(policy.name.clone());
    let templates = Templates::embedded();
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &fw,
        templates: &templates,
    };
    render_or_panic(target, &req)
        .artifacts
        .into_iter()
        .map(|a| (a.extension, a.text, a.rule_count))
        .collect()
}

fn joined(arts: &[(String, String, usize)]) -> String {
    arts.iter()
        .map(|(ext, text, n)| format!("=== {ext} ({n} rules) ===\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots_every_fixture_and_target() {
    let fixtures = all_fixtures();
    assert!(!fixtures.is_empty());
    for rel in fixtures {
        let policy = policy_of(&rel);
        let file = rel.rsplit('/').next().unwrap_or(&rel).to_string();
        for &t in TARGETS {
            let out = joined(&render(&policy, t));
            insta::with_settings!({
                snapshot_path => "../snapshots/build",
                prepend_module_to_snapshot => false,
                input_file => format!("../../{rel}"),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(format!("{}@{file}", t.name()), out);
            });
        }
    }
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zonal-build-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    p
}

/// Runs a validating tool; a missing tool fails the test with a clear
/// message (never a skip).
fn run_tool(tool: &str, args: &[&str], file: &PathBuf) {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{tool}` ({e}); install it (apt-get install -y nftables iptables) \
             — the rendered configurations must be checked by the real tools"
            )
        });
    assert!(
        out.status.success(),
        "`{tool} {} {}` rejected the file:\n{}\n--- file ---\n{}",
        args.join(" "),
        file.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(file).unwrap_or_default()
    );
}

fn tool_check(policy: &Policy, label: &str) {
    for (ext, text, _) in render(policy, Target::Nftables) {
        let f = temp_file(&format!("{label}.{ext}"), &text);
        run_tool("nft", &["-c", "-f"], &f);
    }
    if !TARGETS.contains(&Target::Iptables) {
        return;
    }
    for (ext, text, _) in render(policy, Target::Iptables) {
        let f = temp_file(&format!("{label}.{ext}"), &text);
        match ext.as_str() {
            "iptables" => run_tool("iptables-restore", &["--test"], &f),
            "ip6tables" => run_tool("ip6tables-restore", &["--test"], &f),
            other => panic!("unexpected iptables artifact `{other}`"),
        }
    }
}

#[test]
fn real_tools_accept_every_fixture() {
    for rel in all_fixtures() {
        let policy = policy_of(&rel);
        let label = rel.replace('/', "_");
        tool_check(&policy, &label);
    }
}

/// Splits a policy text into top-level items (comments stay with the item
/// that follows them).
fn items(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut pending_comment = String::new();
    for line in text.lines() {
        let top = depth == 0;
        let trimmed = line.trim_start();
        if top && (trimmed.is_empty() || trimmed.starts_with('#')) {
            pending_comment.push_str(line);
            pending_comment.push('\n');
            continue;
        }
        // Annotations (`@suppress`, `@name`) stay with the item after them.
        let only_annotations = cur.lines().all(|l| {
            l.trim_start().starts_with('@')
                || l.trim_start().starts_with('#')
                || l.trim().is_empty()
        });
        if top && !line.starts_with(char::is_whitespace) && !cur.is_empty() && !only_annotations {
            out.push(std::mem::take(&mut cur));
        }
        cur.push_str(&pending_comment);
        pending_comment.clear();
        cur.push_str(line);
        cur.push('\n');
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn output_is_deterministic_and_independent_of_item_order() {
    for rel in all_fixtures() {
        let text = std::fs::read_to_string(zonal_tests::repo_root().join(&rel)).unwrap();
        let policy = policy_of(&rel);
        let mut shuffled_items = items(&text);
        assert!(shuffled_items.len() > 1 || text.trim().is_empty() || shuffled_items.len() == 1);
        shuffled_items.reverse();
        let n = shuffled_items.len();
        shuffled_items.rotate_left(n / 3);
        let shuffled = shuffled_items.concat();
        let reordered = policy_of_text("shuffled.zonal", &shuffled);
        assert_eq!(
            policy.digest, reordered.digest,
            "{rel}: digest changed under reordering"
        );
        for &t in TARGETS {
            let a = render(&policy, t);
            let b = render(&policy, t);
            assert_eq!(a, b, "{rel} {t}: two renders differ");
            let c = render(&reordered, t);
            assert_eq!(
                a, c,
                "{rel} {t}: reordering the policy's items changed the output"
            );
        }
    }
}

/// A policy whose strings and names are hostile to the targets: quotes,
/// newlines are impossible in strings, but `"` via escapes, `;`, `#`, `!`,
/// braces, `$`, backslashes, long names and names that collide after
/// sanitising (`a.b`, `a-b`, `a_b`).
const HOSTILE: &str = r#"
policy hostile-names { owner "x\"; flush ruleset; #" description "} accept; !drop $HOME `id` \\" }

zone a.b { network 10.1.0.0/24 description "\" accept # } { ! ; $x" }
zone a-b { network 10.2.0.0/24 }
zone a_b { network 10.3.0.0/24, fd00:3::/64 }
zone Zone_With_A_Very_Long_Name_That_Goes_On_And_On_For_Sixty_Three { network 10.4.0.0/24 }
zone Zone_With_A_Very_Long_Name_That_Goes_On_And_On_For_Sixty_Three2 { network 10.5.0.0/24 }

allow a.b -> a-b : tcp 22 "\" accept\"; } chain x { accept #"
allow a-b -> a_b : udp 53 "! remark permit ip any any ; exit"
allow a_b -> Zone_With_A_Very_Long_Name_That_Goes_On_And_On_For_Sixty_Three : https "'; DROP TABLE rules; -- \\"
allow Zone_With_A_Very_Long_Name_That_Goes_On_And_On_For_Sixty_Three -> Zone_With_A_Very_Long_Name_That_Goes_On_And_On_For_Sixty_Three2 : tcp 443 "{{ 7*7 }} {% raw %} ${x} #!"
"#;

/// The same text with every string literal replaced by `"x"`.
fn benign_twin(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
        out.push_str("\"x\"");
    }
    out
}

/// A configuration without its free text: comment lines, remarks and
/// descriptions dropped, quoted strings emptied. If a hostile string could
/// inject anything, this skeleton would differ from the benign twin's.
fn skeleton(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('#')
            || t.starts_with('!')
            || t.starts_with("remark ")
            || t.starts_with("description ")
        {
            continue;
        }
        // `access-list NAME remark …` (ASA): the remark runs to the end of the line.
        let line = match line
            .find(" remark ")
            .filter(|_| t.starts_with("access-list "))
        {
            Some(i) => line.get(..i + 7).unwrap_or(line),
            None => line,
        };
        let mut l = String::new();
        let mut inside = false;
        for c in line.chars() {
            if c == '"' {
                inside = !inside;
                l.push(c);
            } else if !inside {
                l.push(c);
            }
        }
        out.push(l);
    }
    // Generated names may carry a hash of the policy's digest, which the
    // strings change: rename such tokens consistently, by first occurrence.
    let mut seen: Vec<String> = Vec::new();
    out.iter()
        .map(|line| {
            line.split(' ')
                .map(|tok| {
                    if !has_hash(tok) {
                        return tok.to_string();
                    }
                    let i = seen.iter().position(|s| s == tok).unwrap_or_else(|| {
                        seen.push(tok.to_string());
                        seen.len() - 1
                    });
                    format!("<hash{i}>")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Whether a token contains a run of six or more hex digits with a digit.
fn has_hash(tok: &str) -> bool {
    let b = tok.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start >= 6 && b[start..i].iter().any(u8::is_ascii_digit) {
            return true;
        }
        i += 1;
    }
    false
}

#[test]
fn hostile_names_cannot_inject() {
    let policy = policy_of_text("hostile.zonal", HOSTILE);
    let twin = policy_of_text("hostile.zonal", &benign_twin(HOSTILE));
    tool_check(&policy, "hostile");
    // Zones named apart (`a.b`, `a-c`, `a_d`), for the targets that refuse
    // `a.b`, `a-b` and `a_b` as one interface or zone name (E0332, E0333,
    // E0342).
    let apart = zonal_tests::rename_word(
        &zonal_tests::rename_word(HOSTILE, "a-b", "a-c"),
        "a_b",
        "a_d",
    );
    let apart = (
        policy_of_text("hostile.zonal", &apart),
        policy_of_text("hostile.zonal", &benign_twin(&apart)),
    );
    for &t in TARGETS {
        let fw = Firewall::by_address(policy.name.clone());
        let req = Request {
            checked: &zonal_tests::checked(policy.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let refused = zonal_backend::render(t, &req, &mut SourceDb::new()).err();
        let (policy, twin) = match refused {
            Some(d) => {
                assert!(
                    d.iter()
                        .all(|d| matches!(d.code, "E0332" | "E0333" | "E0342")),
                    "{t}: {d:?}"
                );
                (&apart.0, &apart.1)
            }
            None => (&policy, &twin),
        };
        let hostile = render(policy, t);
        let benign = render(twin, t);
        assert_eq!(hostile.len(), benign.len());
        for ((ext, text, n), (_, btext, bn)) in hostile.iter().zip(&benign) {
            assert_eq!(n, bn, "{t} {ext}: rule count differs from the benign twin");
            let (a, b) = (skeleton(text), skeleton(btext));
            if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
                panic!(
                    "{t} {ext}: hostile strings changed the configuration at skeleton line {i}:\n  hostile: {:?}\n  benign:  {:?}",
                    a.get(i),
                    b.get(i)
                );
            }
            for (i, line) in text.lines().enumerate() {
                assert_eq!(
                    line.matches('"').count() % 2,
                    0,
                    "{t} {ext} line {}: unbalanced quote: {line}",
                    i + 1
                );
                for bad in ['\\', '$', '`', ';', '{', '}'] {
                    let in_text = line.trim_start().starts_with('#')
                        || line.contains("comment \"")
                        || line.contains("remark");
                    if in_text {
                        let quoted: String = line.split('"').skip(1).step_by(2).collect();
                        assert!(
                            !quoted.contains(bad),
                            "{t} {ext} line {}: `{bad}` in free text: {line}",
                            i + 1
                        );
                    }
                }
            }
            // Every name of the hostile policy is distinct after sanitising:
            // the three zones `a.b`, `a-b`, `a_b` get three chains/sets.
            assert!(text.len() > 100);
        }
    }
}

/// Loads the bundled example the binding examples are written for.
fn riverbend() -> Policy {
    policy_of("policies/examples/riverbend-radiology.zonal")
}

/// Parses a binding text against a policy, registering it in `db`.
fn binding(
    db: &mut SourceDb,
    policy: &Policy,
    name: &str,
    text: &str,
) -> Result<zonal_backend::Binding, zonal_diagnostics::Diagnostics> {
    let id = db.add(name, text);
    zonal_backend::parse_binding(id, text, policy)
}

#[test]
fn deploy_examples_render_and_pass_the_real_tools() {
    let policy = riverbend();
    let dir = zonal_tests::repo_root().join("policies/deploy");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no binding examples in policies/deploy");
    let templates = Templates::embedded();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut db = SourceDb::new();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let b = binding(&mut db, &policy, &name, &text).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        assert!(!b.firewalls.is_empty());
        for fw in &b.firewalls {
            let target = fw.target.expect("a parsed binding has targets");
            let req = Request {
                checked: &zonal_tests::checked(policy.clone()),
                firewall: fw,
                templates: &templates,
            };
            let r = zonal_backend::render(target, &req, &mut db)
                .unwrap_or_else(|d| panic!("{name} {}: {d:?}", fw.name));
            for a in &r.artifacts {
                let f = temp_file(&format!("deploy-{}.{}", fw.name, a.extension), &a.text);
                match a.extension.as_str() {
                    "nft" => run_tool("nft", &["-c", "-f"], &f),
                    "iptables" => run_tool("iptables-restore", &["--test"], &f),
                    "ip6tables" => run_tool("ip6tables-restore", &["--test"], &f),
                    _ => {}
                }
                // Interface binding: the interfaces of the binding appear.
                if fw.by_interface() {
                    for z in fw.zones.iter().flatten() {
                        let ifname = z.interface.as_deref().unwrap_or_default();
                        assert!(
                            a.text.contains(ifname),
                            "{name} {}: interface {ifname} missing",
                            fw.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn binding_errors_point_at_file_line_and_column() {
    let policy = riverbend();
    // (binding text, code, 1-based line of the primary span, help fragment)
    let cases: &[(&str, &str, u32, &str)] = &[
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    zone: {}\n",
            "E0301",
            4,
            "deploy-binding",
        ),
        ("firewalls: [\n", "E0301", 2, "deploy-binding"),
        (
            "firewalls:\n  - name: fw\n    target: nftable\n",
            "E0302",
            3,
            "did you mean `nftables`",
        ),
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    zones:\n      modality: { interface: vlan110 }\n",
            "E0303",
            5,
            "did you mean `modalities`",
        ),
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    zones:\n      modalities: { interface: 'vlan110\" accept' }\n",
            "E0304",
            5,
            "interface name",
        ),
        (
            "firewalls:\n  - name: fw\n    target: pf\n  - name: fw\n    target: ios\n",
            "E0305",
            4,
            "",
        ),
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    zones:\n      modalities: { interface: vlan110 }\n      reading: { interface: vlan110 }\n",
            "E0306",
            6,
            "bind each interface",
        ),
        // IOS interface names are case-insensitive: one interface.
        (
            "firewalls:\n  - name: fw\n    target: ios\n    zones:\n      modalities: { interface: Vlan110 }\n      reading: { interface: vlan110 }\n",
            "E0306",
            6,
            "bind each interface",
        ),
        // A key written twice is an error, not "last wins".
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    target: pf\n",
            "E0301",
            2,
            "deploy-binding",
        ),
        // Linux interface names have no `/`.
        (
            "firewalls:\n  - name: fw\n    target: nftables\n    zones:\n      modalities: { interface: Gi0/1 }\n",
            "E0304",
            5,
            "interface name",
        ),
        // ASA nameifs have at most 48 characters.
        (
            "firewalls:\n  - name: fw\n    target: asa\n    zones:\n      modalities: { interface: a123456789012345678901234567890123456789012345678 }\n",
            "E0304",
            5,
            "interface name",
        ),
        (
            "firewalls:\n  - name: fw\n    target: ios\n    device:\n      routing: [ospf, isis]\n",
            "E0307",
            5,
            "ospf",
        ),
        (
            "firewalls:\n  - name: fw\n    target: pf\n    pf-mode: full\n",
            "E0307",
            4,
            "ruleset",
        ),
    ];
    let mut rendered = String::new();
    for (text, code, line, help) in cases {
        let mut db = SourceDb::new();
        let err = binding(&mut db, &policy, "deploy.yaml", text).expect_err(code);
        let d = err
            .iter()
            .find(|d| d.code == *code)
            .unwrap_or_else(|| panic!("{code} not reported: {err:?}"));
        let lc = db.line_col(d.primary.span.file, d.primary.span.range.start);
        assert_eq!(lc.line, *line, "{code}: wrong line in\n{text}");
        let all = format!("{} {}", d.help.clone().unwrap_or_default(), d.message);
        assert!(all.contains(help), "{code}: `{help}` not in `{all}`");
        for d in err.iter() {
            rendered.push_str(&zonal_diagnostics::render::human(&db, d));
            rendered.push('\n');
        }
    }
    insta::with_settings!({
        snapshot_path => "../snapshots/build",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("binding-errors", rendered);
    });
}

#[test]
fn template_overrides_replace_embedded_files_and_errors_point_at_them() {
    let policy = riverbend();
    let fw = Firewall::by_address(policy.name.clone());
    let mut templates = Templates::embedded();
    templates.set_override(
        Target::Pf,
        "main.pf.j2",
        zonal_backend::TemplateFile {
            path: "my/pf/main.pf.j2".into(),
            text: "# custom {{ header.policy }}\n".into(),
        },
    );
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &fw,
        templates: &templates,
    };
    let mut db = SourceDb::new();
    let r = zonal_backend::render(Target::Pf, &req, &mut db).unwrap();
    assert_eq!(r.artifacts[0].text, "# custom riverbend-radiology\n");

    let mut broken = Templates::embedded();
    broken.set_override(
        Target::Nftables,
        "main.nft.j2",
        zonal_backend::TemplateFile {
            path: "my/nftables/main.nft.j2".into(),
            text: "table inet {{ table }}\n{{ policy.description }}\n".into(),
        },
    );
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &fw,
        templates: &broken,
    };
    let err = zonal_backend::render(Target::Nftables, &req, &mut db).unwrap_err();
    let d = &err.0[0];
    assert_eq!(d.code, "E0310");
    assert_eq!(db.name(d.primary.span.file), "my/nftables/main.nft.j2");
    assert_eq!(
        db.line_col(d.primary.span.file, d.primary.span.range.start)
            .line,
        2
    );
}

#[test]
fn never_widen_a_rule_without_addresses_of_a_family() {
    // `v6only` has only IPv6 addresses; `v4only` only IPv4. The allow
    // between them has no family in common: no target may render it as a
    // rule without an address match.
    let policy = policy_of_text(
        "widen.zonal",
        "policy widen {}\nzone v6only { network fd00:1::/64 }\nzone v4only { network 10.9.0.0/24 }\nallow v6only -> v4only : dicom \"cross-family\"\n",
    );
    for &t in TARGETS {
        for (ext, text, _) in render(&policy, t) {
            for line in text.lines() {
                let l = line.trim_start();
                if l.starts_with('#')
                    || l.starts_with('!')
                    || l.contains("remark")
                    || l.contains("comment")
                {
                    continue;
                }
                assert!(
                    !(l.contains("104")
                        && (l.contains("accept")
                            || l.contains("ACCEPT")
                            || l.contains("permit")
                            || l.starts_with("pass"))),
                    "{t} {ext}: a cross-family rule was rendered: {line}"
                );
            }
        }
    }
}

#[test]
fn expired_rules_are_not_rendered_and_expiry_is_in_comments() {
    let text = "policy exp {}\nzone a { network 10.1.0.0/24 }\nzone b { network 10.2.0.0/24 }\n\
                allow a -> b : tcp 1111 until 2026-01-01 \"old vendor access\"\n\
                allow a -> b : tcp 2222 until 2027-06-30 \"current vendor access\"\n";
    let policy = policy_of_text("exp.zonal", text);
    for &t in TARGETS {
        let all = joined(&render(&policy, t));
        let body: String = all
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with('!'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!body.contains("1111"), "{t}: the expired rule was rendered");
        assert!(body.contains("2222"), "{t}: the active rule is missing");
        if matches!(
            t,
            Target::Nftables | Target::Iptables | Target::Pf | Target::Ios
        ) {
            assert!(
                all.contains("2027-06-30"),
                "{t}: the expiry is not in a comment"
            );
        }
    }
}

#[test]
fn build_snapshots_match_fixtures_and_targets() {
    let names: Vec<String> = all_fixtures()
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .collect();
    let dir = zonal_tests::repo_root().join("tests/snapshots/build");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let file = e.file_name().to_string_lossy().to_string();
        let Some(stem) = file.strip_suffix(".snap") else {
            continue;
        };
        if stem == "binding-errors" {
            continue;
        }
        let (target, fixture) = stem
            .split_once('@')
            .unwrap_or_else(|| panic!("odd snapshot name {file}"));
        assert!(Target::parse(target).is_some(), "{file}: unknown target");
        assert!(
            names.iter().any(|n| n == fixture),
            "{file}: no fixture `{fixture}` (orphaned snapshot)"
        );
    }
}

#[test]
fn naming_and_logging_choices_stay_valid_for_the_real_tools() {
    let policy = policy_of_text(
        "logs.zonal",
        "policy logs {}\nzone a { network 10.1.0.0/24, fd00:1::/64 }\nzone b { network 10.2.0.0/24, fd00:2::/64 }\n\
         allow a -> b : dicom, icmp echo-request \"images\"\ndeny a -> b : tcp 22 \"no ssh\"\nallow b -> a : https \"viewer\"\n",
    );
    let binding_text = [
        "firewalls:",
        "  - name: fw-a",
        "    target: nftables",
        "    naming: { prefix: abcdefghijklmnopqrst, acl: ABCDEFGHIJKLMNOPQRST }",
        "    logging: { allow: true, deny: true, prefix: verylongprefix12345 }",
        "  - name: fw-b",
        "    target: iptables",
        "    naming: { prefix: abcdefghijklmnopqrst }",
        "    logging: { allow: true, deny: true, prefix: verylongprefix12345 }",
        "  - name: fw-c",
        "    target: iptables",
        "    zones:",
        "      a: { interface: eth1 }",
        "      b: { interface: eth2 }",
        "    logging: { allow: true, deny: false }",
        "  - name: fw-d",
        "    target: nftables",
        "    zones:",
        "      a: { interface: eth1 }",
        "      b: { interface: eth2 }",
        "    logging: { deny: false }",
    ]
    .join("\n");
    let mut db = SourceDb::new();
    let b =
        binding(&mut db, &policy, "logs.yaml", &binding_text).unwrap_or_else(|d| panic!("{d:?}"));
    let templates = Templates::embedded();
    for fw in &b.firewalls {
        let target = fw.target.unwrap();
        let req = Request {
            checked: &zonal_tests::checked(policy.clone()),
            firewall: fw,
            templates: &templates,
        };
        let r = zonal_backend::render(target, &req, &mut db)
            .unwrap_or_else(|d| panic!("{}: {d:?}", fw.name));
        for a in &r.artifacts {
            let f = temp_file(&format!("logs-{}.{}", fw.name, a.extension), &a.text);
            match a.extension.as_str() {
                "nft" => run_tool("nft", &["-c", "-f"], &f),
                "iptables" => run_tool("iptables-restore", &["--test"], &f),
                "ip6tables" => run_tool("ip6tables-restore", &["--test"], &f),
                other => panic!("unexpected {other}"),
            }
            if fw.logging.allow {
                assert!(
                    a.text.contains(&format!("{} allow", fw.logging.prefix)),
                    "{}: no allow logging",
                    fw.name
                );
            }
            let logs_denies = a.text.contains(&format!("{} deny", fw.logging.prefix));
            assert_eq!(logs_denies, fw.logging.deny, "{}: deny logging", fw.name);
        }
    }
}

/// A `@name` reaches the output of every target (as the rule's name, or
/// its comment or remark where the target has no rule names).
#[test]
fn rule_names_reach_every_target() {
    let policy = policy_of("policies/valid/rule-names.zonal");
    for target in Target::ALL {
        let text: String = render(&policy, target)
            .into_iter()
            .map(|(_, text, _)| text)
            .collect();
        let lower = text.to_ascii_lowercase();
        for name in ["rad-0042", "rad-0043-req", "rad-0043-report"] {
            assert!(lower.contains(name), "{target}: `{name}` missing");
        }
    }
}

/// Shared objects (address groups, services, applications) are named by
/// what they hold (zones, devices, groups, services), never after the
/// first rule that used them: adding a rule elsewhere renames nothing.
#[test]
fn shared_objects_are_named_by_content_not_by_rule() {
    let policy = policy_of("policies/examples/riverbend-radiology.zonal");
    let rule_words: Vec<String> = policy
        .rules
        .iter()
        .map(|r| r.name.to_ascii_lowercase().replace('-', "_"))
        .collect();
    for target in [
        Target::Srx,
        Target::Panos,
        Target::Fortigate,
        Target::Asa,
        Target::Ios,
    ] {
        let text: String = render(&policy, target)
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        for line in text.lines() {
            let declares = [
                "application s_",
                "address-group ",
                "edit \"g-",
                "edit \"s-",
                "object-group network ",
                "object-group service ",
            ];
            let Some(kw) = declares.iter().find(|k| line.contains(*k)) else {
                continue;
            };
            let name = line[line.find(kw).unwrap_or(0) + kw.len()..]
                .split([' ', '"'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
                .replace('-', "_");
            for rw in &rule_words {
                assert!(
                    !(rw.starts_with("allow_") || rw.starts_with("deny_"))
                        || !name.contains(rw.as_str()),
                    "{target}: object `{name}` is named after rule `{rw}`"
                );
            }
            assert!(
                !name.starts_with("allow_")
                    && !name.contains("_allow_")
                    && !name.contains("allow_"),
                "{target}: object `{name}` in `{line}` is named after a rule"
            );
        }
    }
}

/// A rule between two devices of one subnet never crosses a layer-3
/// firewall: every target warns (W0303) at the rule, and a rule written to
/// `any` or between zones does not warn.
#[test]
fn same_subnet_rules_are_a_warning_on_every_target() {
    let policy = policy_of_text(
        "same-subnet.zonal",
        "policy same { owner \"n\" }\n\
         zone modalities { network 10.20.110.0/24  trust low  kind modality\n\
           device ct-1 { address 10.20.110.11  kind ct }\n\
           device mr-1 { address 10.20.110.12  kind mr } }\n\
         zone archive { network 10.20.120.0/24  trust medium  kind pacs\n\
           device pacs-1 { address 10.20.120.10  kind pacs  listens dicom } }\n\
         deny ct-1 -> mr-1 \"scanners do not talk to each other\"\n\
         allow mr-1 -> ct-1 : dicom \"reference images\"\n\
         allow ct-1 -> mr-1 : https \"viewer\"\n\
         allow modalities -> pacs-1 : dicom \"images\"\n\
         deny modalities -> any : telnet \"no telnet\"\n",
    );
    for target in Target::ALL {
        let fw = Firewall::by_address("same");
        let req = Request {
            checked: &zonal_tests::checked(policy.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let r = zonal_tests::render_or_panic(target, &req);
        let w: Vec<&zonal_diagnostics::Diagnostic> = r
            .artifacts
            .iter()
            .flat_map(|a| a.warnings.iter())
            .filter(|d| d.code == "W0303")
            .collect();
        // One per deny (the dangerous case), one per subnet for the allows.
        assert_eq!(w.len(), 2, "{target}: {w:?}");
        let deny = w
            .iter()
            .find(|d| d.message.contains("`deny-ct-1-to-mr-1-any`"));
        assert!(
            deny.is_some_and(|d| d.message.contains("10.20.110.0/24")),
            "{target}: {w:?}"
        );
        let allows = w.iter().find(|d| d.message.starts_with("2 rule(s) permit"));
        assert!(
            allows.is_some_and(|d| d
                .notes
                .iter()
                .any(|n| n.contains("`allow-mr-1-to-ct-1-dicom`"))),
            "{target}: {w:?}"
        );
    }
}

/// Justifications keep their text: UTF-8 where the target's comments are
/// UTF-8 (SRX, PAN-OS, FortiGate), transliterated elsewhere (never "R ntgen,"),
/// and a cut is a warning naming the rule and the target (W0304, or the
/// target's own W0321/W0322).
#[test]
fn justifications_keep_their_text_and_cuts_are_warnings() {
    let long = "x".repeat(500);
    let policy = policy_of_text(
        "texts.zonal",
        &format!(
            "policy texts {{ owner \"n\" }}\n\
             zone reading {{ network 10.20.130.0/24  trust medium  kind clinical }}\n\
             zone archive {{ network 10.20.120.0/24  trust medium  kind pacs }}\n\
             allow reading -> archive : https \"Röntgen, 放射線科\"\n\
             allow reading -> archive : dicom \"{long}\"\n"
        ),
    );
    for target in Target::ALL {
        let fw = Firewall::by_address("texts");
        let req = Request {
            checked: &zonal_tests::checked(policy.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let r = zonal_tests::render_or_panic(target, &req);
        let text: String = r.artifacts.iter().map(|a| a.text.as_str()).collect();
        match target {
            Target::Srx | Target::Panos | Target::Fortigate => {
                assert!(text.contains("Röntgen, 放射線科"), "{target}: UTF-8 lost")
            }
            _ => assert!(
                text.contains("Rontgen, Fang She Xian Ke"),
                "{target}: not transliterated"
            ),
        }
        assert!(!text.contains("R ntgen"), "{target}");
        let cuts: Vec<&zonal_diagnostics::Diagnostic> = r
            .artifacts
            .iter()
            .flat_map(|a| a.warnings.iter())
            .filter(|d| matches!(d.code, "W0304" | "W0321" | "W0322"))
            .collect();
        if text.contains(&long) {
            assert!(cuts.is_empty(), "{target}: {cuts:?}");
        } else {
            assert!(!cuts.is_empty(), "{target}: cut without a warning");
            assert!(
                cuts.iter()
                    .any(|d| d.message.contains("allow-reading-to-archive-dicom")),
                "{target}: {cuts:?}"
            );
        }
    }
}

/// Zones whose names sanitise alike, or a zone named `unzoned`, never
/// become one vendor zone (SRX and PAN-OS: E0342; FortiGate E0333; ASA
/// E0332), and on pf each zone's rules use its own interface macro.
#[test]
fn zone_names_that_collide_are_errors_and_pf_macros_stay_apart() {
    let text = "policy coll { owner \"n\" }\n\
        zone imaging_servers { network 10.2.0.0/24  trust medium  kind servers }\n\
        zone Imaging.Servers { network 10.3.0.0/24  trust medium  kind servers }\n\
        allow imaging_servers -> Imaging.Servers : https \"a\"\n";
    let policy = policy_of_text("coll.zonal", text);
    for (target, code) in [
        (Target::Srx, "E0342"),
        (Target::Panos, "E0342"),
        (Target::Fortigate, "E0333"),
        (Target::Asa, "E0332"),
    ] {
        let fw = Firewall::by_address("coll");
        let req = Request {
            checked: &zonal_tests::checked(policy.clone()),
            firewall: &fw,
            templates: &Templates::embedded(),
        };
        let err = zonal_backend::render(target, &req, &mut SourceDb::new())
            .expect_err("colliding zone names must be refused");
        assert!(err.iter().any(|d| d.code == code), "{target}: {err:?}");
    }
    let unzoned = policy_of_text(
        "unzoned.zonal",
        "policy u { owner \"n\" }\nzone unzoned { network 10.4.0.0/24  trust medium  kind servers }\n\
         zone b { network 10.5.0.0/24  trust medium  kind servers }\nallow b -> unzoned : https \"b\"\n",
    );
    let fw = Firewall::by_address("u");
    let req = Request {
        checked: &zonal_tests::checked(unzoned),
        firewall: &fw,
        templates: &Templates::embedded(),
    };
    let err = zonal_backend::render(Target::Srx, &req, &mut SourceDb::new()).expect_err("unzoned");
    assert!(
        err.iter()
            .any(|d| d.code == "E0342" && d.message.contains("no zone")),
        "{err:?}"
    );

    // pf by interface: the rule into `Imaging.Servers` leaves on its own
    // interface, not on the other zone's (the macros once collided).
    let mut db = SourceDb::new();
    let b = binding(
        &mut db,
        &policy,
        "coll.yaml",
        "firewalls:\n  - name: gw\n    target: pf\n    zones:\n      imaging_servers: { interface: em1 }\n      Imaging.Servers: { interface: em2 }\n",
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    let req = Request {
        checked: &zonal_tests::checked(policy.clone()),
        firewall: &b.firewalls[0],
        templates: &Templates::embedded(),
    };
    let r = zonal_tests::render_or_panic(Target::Pf, &req);
    let text = &r.artifacts[0].text;
    let macro_of = |ifname: &str| {
        text.lines()
            .find(|l| l.ends_with(&format!("= \"{ifname}\"")))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no macro for {ifname}:\n{text}"))
            .to_string()
    };
    let (em1, em2) = (macro_of("em1"), macro_of("em2"));
    assert_ne!(em1, em2);
    assert!(
        text.contains(&format!("pass in quick on ${em1} ")),
        "{text}"
    );
    assert!(
        text.contains(&format!("pass out quick on ${em2} ")),
        "{text}"
    );
}
