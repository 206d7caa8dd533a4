//! Noise and wrong advice: extra fixtures beside each lint's flagged and
//! clean ones, each pinning a case where a lint used to cry wolf or give
//! advice that does not apply (and cases where it must still fire). Each
//! row: the fixture, the lint, how many findings of it, and text every one
//! of them must (or must not) contain.

use zonal_diagnostics::render;
use zonal_lint::{LintConfig, check};
use zonal_tests::load;

struct Case {
    file: &'static str,
    code: &'static str,
    count: usize,
    contains: &'static [&'static str],
    lacks: &'static [&'static str],
}

const CASES: &[Case] = &[
    // A cover by a rule that expires is no cover.
    Case {
        file: "policies/lint/L0202-redundant-rule/temporary-cover.zonal",
        code: "L0202",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // A temporary rule covered by a permanent one is still redundant.
    Case {
        file: "policies/lint/L0202-redundant-rule/temporary-covered.zonal",
        code: "L0202",
        count: 1,
        contains: &["allow-ct-1-to-pacs-1-dicom"],
        lacks: &[],
    },
    // `deny any -> any : telnet` uses no device.
    Case {
        file: "policies/lint/L0103-unused-device/deny-any.zonal",
        code: "L0103",
        count: 1,
        contains: &["`us-1`"],
        lacks: &[],
    },
    // Logs, names and time toward infrastructure: no trust is granted.
    Case {
        file: "policies/lint/L0106-group-spans-trust/infrastructure-source.zonal",
        code: "L0106",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    Case {
        file: "policies/lint/L0106-group-spans-trust/infrastructure-and-clinical.zonal",
        code: "L0106",
        count: 1,
        contains: &["`log-senders`"],
        lacks: &[],
    },
    // The vendor DMZ that L0307 prescribes is no internet-inbound finding,
    // and L0307 accepts it too.
    Case {
        file: "policies/lint/L0303-internet-inbound/vendor-dmz.zonal",
        code: "L0303",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    Case {
        file: "policies/lint/L0303-internet-inbound/vendor-dmz.zonal",
        code: "L0307",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // A TLS storage commitment toward a device listening on both ports
    // does not ask for cleartext 104.
    Case {
        file: "policies/lint/L0501-reverse-leg-missing/tls-workflow.zonal",
        code: "L0501",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // C-MOVE over TLS toward a cleartext listener: one finding, on the
    // workflow, that names the mismatch and does not suggest the workflow.
    Case {
        file: "policies/lint/L0501-reverse-leg-missing/cmove-tls-mismatch.zonal",
        code: "L0501",
        count: 1,
        contains: &["tcp 2762", "no DICOM listener (tcp 104)"],
        lacks: &["declare the workflow"],
    },
    Case {
        file: "policies/lint/L0501-reverse-leg-missing/cmove-tls-mismatch.zonal",
        code: "L0502",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // The workflow is written; a deny blocks its reverse leg.
    Case {
        file: "policies/lint/L0501-reverse-leg-missing/workflow-denied.zonal",
        code: "L0501",
        count: 1,
        contains: &["is denied by `deny-archive-to-modalities-any`", "exempt"],
        lacks: &["declare the workflow"],
    },
    // Legacy is the property: an `untrusted` end-of-support zone, reached
    // by VNC and telnet from a jump host without expiry.
    Case {
        file: "policies/lint/L0407-remote-control-to-legacy/legacy-zone-untrusted.zonal",
        code: "L0407",
        count: 1,
        contains: &["`xp-stations`"],
        lacks: &[],
    },
    // A workflow toward a device without a listener, reported once.
    Case {
        file: "policies/lint/L0503-workflow-listener-undeclared/flagged.zonal",
        code: "L0501",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    Case {
        file: "policies/lint/L0503-workflow-listener-undeclared/flagged.zonal",
        code: "L0502",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // Blast radius: a hub is reported once, with the zones behind it.
    Case {
        file: "policies/lint/L0309-blast-radius/flagged.zonal",
        code: "L0309",
        count: 1,
        contains: &[
            "`modality-support`",
            "reported once for 1 other zone",
            "`reading`",
        ],
        lacks: &["`siem`", "`archive`"],
    },
    // Syslog into the SIEM, ping out of it and DICOM are no foothold.
    Case {
        file: "policies/lint/L0309-blast-radius/clean.zonal",
        code: "L0309",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // The jump tier reaches the consoles by design ...
    Case {
        file: "policies/lint/L0309-blast-radius/jump-tier.zonal",
        code: "L0309",
        count: 0,
        contains: &[],
        lacks: &[],
    },
    // ... and is a finding through the zones that reach it.
    Case {
        file: "policies/lint/L0309-blast-radius/jump-tier-reached.zonal",
        code: "L0309",
        count: 1,
        contains: &[
            "through jump zone `it-management`",
            "`reading`",
            "path (2 hops)",
        ],
        lacks: &[],
    },
];

#[test]
fn advice_fixtures_raise_exactly_what_applies() {
    let mut failures = Vec::new();
    for c in CASES {
        let l = load(c.file);
        let Some(policy) = &l.policy else {
            panic!("{}: no policy", c.file)
        };
        assert!(!l.diagnostics.has_input_errors(), "{}", c.file);
        let found = check(policy, &LintConfig::default());
        let all = found
            .iter()
            .map(|d| render::human(&l.db, d))
            .collect::<Vec<_>>()
            .join("\n");
        let mine: Vec<String> = found
            .iter()
            .filter(|d| d.code == c.code)
            .map(|d| render::human(&l.db, d))
            .collect();
        if mine.len() != c.count {
            failures.push(format!(
                "{}: {} findings of {}, expected {}:\n{all}",
                c.file,
                mine.len(),
                c.code,
                c.count
            ));
            continue;
        }
        for text in &mine {
            for s in c.contains {
                if !text.contains(s) {
                    failures.push(format!("{}: {} lacks {s:?}:\n{text}", c.file, c.code));
                }
            }
            for s in c.lacks {
                if text.contains(s) {
                    failures.push(format!("{}: {} contains {s:?}:\n{text}", c.file, c.code));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
