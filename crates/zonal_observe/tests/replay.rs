//! Replay of generated traffic against the bundled example: zero denied;
//! without one rule, exactly that workflow is denied and the suggested
//! rule restores it; every format reads back what the generator wrote.

use zonal_model::{Date, Options, Policy, load_str};
use zonal_observe::report;
use zonal_observe::traffic::{Traffic, TrafficConfig, header, write_record};
use zonal_observe::{Feed, FlowReader, Format, Replay, ReplayReport};

const EXAMPLE: &str = include_str!("../../../policies/examples/riverbend-radiology.zonal");

fn policy(text: &str) -> Policy {
    let loaded = load_str(
        "riverbend-radiology.zonal",
        text,
        &Options {
            today: Date::new(2026, 12, 6).unwrap_or_else(|| panic!("date")),
        },
    );
    assert!(
        !loaded.diagnostics.has_input_errors(),
        "{:?}",
        loaded.diagnostics
    );
    loaded.policy.unwrap_or_else(|| panic!("no policy"))
}

/// The generated traffic as the lines of one file.
fn capture(p: &Policy, format: Format, config: TrafficConfig) -> String {
    let mut out = header(format);
    for (i, f) in Traffic::new(p, config).enumerate() {
        write_record(format, &f, i as u64, &mut out);
    }
    out
}

fn replay(p: &Policy, name: &str, text: &str) -> ReplayReport {
    let mut r = Replay::new(p);
    r.source(name);
    let mut reader = FlowReader::new(None);
    for (n, line) in text.lines().enumerate() {
        match reader.feed(line) {
            Feed::Flow(f) => r.observe(&f),
            Feed::Related => r.related(),
            Feed::Skip => {}
            Feed::Bad(why) => r.bad(name, n as u64 + 1, why),
            Feed::Undetected => panic!("format of {name} not detected"),
        }
    }
    r.finish(&|id| format!("policy:{}", id.index()))
}

#[test]
fn generated_traffic_of_the_example_replays_clean_in_every_format() {
    let p = policy(EXAMPLE);
    for format in Format::ALL {
        let text = capture(&p, format, TrafficConfig::clean(7, 3000));
        let mut reader = FlowReader::new(None);
        let first = text.lines().find(|l| !l.is_empty()).unwrap();
        reader.feed(first);
        assert_eq!(reader.format(), Some(format), "{}", format.name());
        let r = replay(&p, "flows", &text);
        assert_eq!(r.denied, 0, "{}: {:#?}", format.name(), r.denied_aggregates);
        assert_eq!(r.bad, 0, "{}: {:?}", format.name(), r.bad_examples);
        assert!(r.allowed > 2500, "{}: {}", format.name(), r.allowed);
        // Most of the workflows were exercised.
        assert!(r.rules.len() > 30, "{}: {}", format.name(), r.rules.len());
    }
}

#[test]
fn noise_is_denied_and_named() {
    let p = policy(EXAMPLE);
    let mut config = TrafficConfig::clean(11, 4000);
    config.noise_percent = 5;
    let r = replay(&p, "flows.csv", &capture(&p, Format::Csv, config));
    assert!(r.denied > 100);
    for d in &r.denied_aggregates {
        let guest_scan = d.from == "guest-wifi";
        let beacon = d.to == "internet";
        assert!(guest_scan || beacon, "{d:?}");
        assert_eq!(d.decided_by, "default deny");
        assert!(d.threat.is_some(), "{d:?}");
    }
}

/// Removes one flow line from the example.
fn without(line_start: &str) -> String {
    let mut out = String::new();
    let mut removed = 0;
    for l in EXAMPLE.lines() {
        if l.starts_with(line_start) {
            removed += 1;
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    assert_eq!(removed, 1, "{line_start}");
    out
}

#[test]
fn removing_one_rule_names_exactly_that_workflow_and_the_suggestion_restores_it() {
    let full = policy(EXAMPLE);
    let text = capture(&full, Format::Zeek, TrafficConfig::clean(3, 5000));
    let broken_text = without("allow mwl-consumers -> mwl-1 : dicom");
    let broken = policy(&broken_text);
    let r = replay(&broken, "conn.log", &text);
    assert!(!r.denied_aggregates.is_empty());
    let consumers = full.group_by_name("mwl-consumers").unwrap();
    let names: Vec<&str> = consumers
        .members
        .iter()
        .map(|e| full.endpoint_name(*e))
        .collect();
    for d in &r.denied_aggregates {
        assert!(names.contains(&d.from.as_str()), "{d:?}");
        assert_eq!(
            (d.to.as_str(), d.service.as_str(), d.packet.as_str()),
            ("mwl-1", "dicom", "tcp 104")
        );
        assert_eq!(d.decided_by, "default deny");
    }
    // The suggestions parse, and added to the policy they restore the workflow.
    let mut restored = broken_text.clone();
    for d in &r.denied_aggregates {
        restored.push_str(d.suggestion.as_deref().unwrap());
        restored.push('\n');
    }
    let fixed = policy(&restored);
    let again = replay(&fixed, "conn.log", &text);
    assert_eq!(again.denied, 0, "{:#?}", again.denied_aggregates);
    assert_eq!(again.allowed, r.allowed + r.denied);
}

#[test]
fn removing_a_workflow_leg_is_named_with_the_listener_service() {
    // Storage commitment's report leg goes to each modality's listener.
    let full = policy(EXAMPLE);
    let text = capture(&full, Format::Conntrack, TrafficConfig::clean(5, 6000));
    let broken_text = without("storage-commitment stgcmt-modalities -> pacs-1");
    let r = replay(&policy(&broken_text), "conntrack.txt", &text);
    assert!(r.denied_aggregates.iter().all(|d| d.threat.is_none()));
    let mut pairs: Vec<(String, String, String)> = r
        .denied_aggregates
        .iter()
        .map(|d| (d.from.clone(), d.to.clone(), d.service.clone()))
        .collect();
    pairs.sort();
    pairs.dedup();
    // Modality -> PACS requests are still allowed by the C-STORE rule (the
    // same port); the reverse legs are denied.
    assert!(!pairs.is_empty());
    for (from, to, service) in &pairs {
        assert_eq!(from, "pacs-1");
        assert!(["ct-1", "mr-1", "mg-1"].contains(&to.as_str()), "{to}");
        assert_eq!(service, "dicom");
    }
    let mut restored = broken_text;
    for d in &r.denied_aggregates {
        restored.push_str(d.suggestion.as_deref().unwrap());
        restored.push('\n');
    }
    assert_eq!(replay(&policy(&restored), "c", &text).denied, 0);
}

#[test]
fn unused_rules_and_bad_records_are_reported() {
    let p = policy(EXAMPLE);
    let text = "src,dst,proto,dport,count\n10.20.110.11,10.20.120.10,tcp,104,5\nnot,a,record\n10.20.110.11,10.20.120.10,tcp,104,x\n10.20.110.11,10.20.120.10,icmp,3\n";
    let r = replay(&p, "few.csv", text);
    assert_eq!((r.allowed, r.denied, r.bad, r.related), (5, 0, 2, 1));
    assert_eq!(r.bad_examples[0].line, 3);
    assert_eq!(r.bad_examples[1].line, 4);
    assert_eq!(r.rules.len(), 1);
    assert!(r.unused_rules.len() > 30);
    assert!(!r.unused_rules.iter().any(|u| u.rule == r.rules[0].rule));
}

#[test]
fn markdown_and_csv_of_a_broken_policy() {
    let full = policy(EXAMPLE);
    let mut config = TrafficConfig::clean(3, 400);
    config.noise_percent = 2;
    let text = capture(&full, Format::Csv, config);
    let broken = policy(&without("allow ris-1 -> hie-1 : hl7-res"));
    let r = replay(&broken, "flows.csv", &text);
    let md = report::markdown(&r);
    assert!(md.contains("## Would be blocked"), "{md}");
    assert!(md.contains("allow ris-1 -> hie-1 : hl7-res"), "{md}");
    let csv = report::csv(&r);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("denied,\"ris-1\",\"hie-1\",\"hl7-res\"")),
        "{csv}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::json(&r)).unwrap();
    assert_eq!(json["denied"].as_u64(), Some(r.denied));
}

/// The sample capture in `policies/examples/traffic/` is what the
/// generator writes (`flowgen … --records 500 --seed 1 --noise 3`).
#[test]
fn the_bundled_sample_capture_is_current() {
    let p = policy(EXAMPLE);
    let mut config = TrafficConfig::clean(1, 500);
    config.noise_percent = 3;
    let expected = capture(&p, Format::Zeek, config);
    let bundled = include_str!("../../../policies/examples/traffic/riverbend.conn.log");
    assert!(
        bundled == expected,
        "policies/examples/traffic/riverbend.conn.log is stale: regenerate it with\n  cargo run -p zonal_bench --bin flowgen -- policies/examples/riverbend-radiology.zonal policies/examples/traffic/riverbend.conn.log --format zeek --records 500 --seed 1 --noise 3"
    );
}

/// Mutated, truncated and shuffled records of every format never panic:
/// each line is a flow, a skip or a bad record with a reason.
#[test]
fn mangled_records_never_panic() {
    let p = policy(EXAMPLE);
    let mut rng = zonal_synth::Rng::new(99);
    let noise = [
        "",
        " ",
        "\t",
        ",",
        "=",
        "{",
        "}",
        "\"",
        "é",
        "💥",
        "-1",
        "99999999999",
        "::",
        "[",
        "]",
    ];
    for format in Format::ALL {
        let text = capture(&p, format, TrafficConfig::clean(5, 200));
        let lines: Vec<&str> = text.lines().collect();
        let mut replay_ = Replay::new(&p);
        for round in 0..3000 {
            let mut reader = FlowReader::new(if round % 2 == 0 { Some(format) } else { None });
            // Keep the header most of the time, so the records are reached.
            for l in lines.iter().take_while(|l| l.starts_with('#')) {
                reader.feed(l);
            }
            let base = *rng.pick(&lines).unwrap_or(&"");
            let mut s: Vec<char> = base.chars().collect();
            for _ in 0..rng.below(4) {
                match rng.below(3) {
                    0 if !s.is_empty() => {
                        let i = rng.below(s.len());
                        s.truncate(i);
                    }
                    1 if !s.is_empty() => {
                        let i = rng.below(s.len());
                        s.remove(i);
                    }
                    _ => {
                        let i = rng.below(s.len() + 1);
                        let n = rng.pick(&noise).unwrap_or(&"");
                        for (k, c) in n.chars().enumerate() {
                            s.insert(i + k, c);
                        }
                    }
                }
            }
            let line: String = s.into_iter().collect();
            match reader.feed(&line) {
                Feed::Flow(f) => replay_.observe(&f),
                Feed::Bad(why) => assert!(!why.is_empty()),
                Feed::Related | Feed::Skip | Feed::Undetected => {}
            }
        }
        let _ = replay_.finish(&|_| String::new());
    }
}
