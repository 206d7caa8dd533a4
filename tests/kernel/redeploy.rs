//! The redeploy simulation (issue 9 §5) on the two Linux targets: a router
//! that already carries foreign configuration (an INPUT policy DROP with an
//! SSH allow, Docker's DOCKER-USER chain and its jump from FORWARD, a
//! fail2ban chain, a foreign nftables table) gets version 1 of a policy,
//! then version 2, then version 2 again, exactly as an admin deploys them
//! (`nft -f`, or the iptables deploy script of docs/targets/iptables.md).
//! Version 2 is probed against its `decide()` with zero mismatches; every
//! foreign rule, chain, table and policy is byte-identical before and after;
//! re-applying changes nothing; and removing Zonal with the documented
//! commands gives back exactly the seeded configuration.

use std::sync::atomic::{AtomicUsize, Ordering};

use zonal_backend::{Firewall, Target, Templates};
use zonal_tests::{RedeployPair, on_workers, redeploy_pairs};
use zonal_verify::{Config, Foreign, Redeploy, RouterState, Ruleset, VerifyError};

use super::{Loaded, assert_no_mismatch, load_text, render};

/// The box's own IPv4 filter table: INPUT policy DROP with an SSH allow
/// behind a fail2ban chain, Docker's DOCKER-USER chain with its jump from
/// FORWARD, and a FORWARD rule after it.
const FOREIGN_V4: &str = "*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:f2b-sshd - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp --dport 22 -j f2b-sshd
-A INPUT -p tcp --dport 22 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -j ACCEPT
-A DOCKER-USER -s 198.18.0.66/32 -j DROP
-A DOCKER-USER -j RETURN
-A f2b-sshd -s 198.18.0.99/32 -j REJECT
-A f2b-sshd -j RETURN
COMMIT
";

/// The same for IPv6 (ICMPv6 allowed to the box, or neighbour discovery
/// would stop).
const FOREIGN_V6: &str = "*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p ipv6-icmp -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
COMMIT
";

/// Another tool's nftables table, with a set and a forward chain that
/// never matches a probe.
const FOREIGN_NFT: &str = "table inet foreign {
  set admins { type ipv4_addr; elements = { 198.18.0.10, 198.18.0.11 } }
  chain input {
    type filter hook input priority 10; policy accept;
    ip saddr @admins tcp dport 22 accept
  }
  chain forward {
    type filter hook forward priority 10; policy accept;
    meta mark 0x00000bad drop
  }
}
";

fn foreign() -> Foreign {
    Foreign {
        iptables: Some(FOREIGN_V4.into()),
        ip6tables: Some(FOREIGN_V6.into()),
        nft: Some(FOREIGN_NFT.into()),
    }
}

/// The lines of an `iptables-save` dump that are not Zonal's: its chains
/// (`zonal_*`), their rules, and the jump from FORWARD into them.
fn foreign_lines(save: &str) -> String {
    save.lines()
        .filter(|l| {
            !l.starts_with(":zonal_")
                && !l.starts_with("-A zonal_")
                && *l != "-A FORWARD -j zonal_forward"
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The lines of an `iptables-save` dump that are Zonal's.
fn zonal_lines(save: &str) -> Vec<&str> {
    save.lines()
        .filter(|l| {
            l.starts_with(":zonal_") || l.starts_with("-A zonal_") || l.contains("-j zonal_forward")
        })
        .collect()
}

/// The tables of `nft list ruleset`, by header line.
fn nft_tables(ruleset: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in ruleset.lines() {
        if line.starts_with("table ") {
            out.push((line.to_string(), String::new()));
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The nftables tables that belong neither to Zonal nor to iptables (whose
/// `filter` tables are compared through `iptables-save`).
fn foreign_nft(ruleset: &str) -> Vec<(String, String)> {
    nft_tables(ruleset)
        .into_iter()
        .filter(|(h, _)| {
            !h.starts_with("table inet zonal_")
                && !h.starts_with("table ip filter")
                && !h.starts_with("table ip6 filter")
        })
        .collect()
}

/// Checks what a redeploy did to the router: nothing foreign changed at
/// any step, one jump, no stale chain, re-applying is a no-op, removal
/// gives back the seeded state.
fn check_states(label: &str, target: Target, v2: &Ruleset, r: &Redeploy) {
    let seeded = &r.seeded;
    assert!(
        seeded.iptables.contains(":INPUT DROP") && seeded.iptables.contains(":DOCKER-USER"),
        "{label}: the foreign rules were not seeded:\n{}",
        seeded.iptables
    );
    assert!(
        seeded.nft.contains("table inet foreign"),
        "{label}: no foreign table:\n{}",
        seeded.nft
    );
    for (i, state) in r.loaded.iter().enumerate() {
        let step = format!("{label}, after deployment {}", i + 1);
        for (fam, before, after) in [
            ("iptables", &seeded.iptables, &state.iptables),
            ("ip6tables", &seeded.ip6tables, &state.ip6tables),
        ] {
            assert_eq!(
                foreign_lines(before),
                foreign_lines(after),
                "{step}: foreign {fam} configuration changed"
            );
            let jumps = after
                .lines()
                .filter(|l| l.starts_with("-A FORWARD") && l.contains("zonal_"))
                .count();
            let want = usize::from(target == Target::Iptables);
            assert_eq!(
                jumps, want,
                "{step}: {jumps} jumps from FORWARD into Zonal's chains:\n{after}"
            );
        }
        assert_eq!(
            foreign_nft(&seeded.nft),
            foreign_nft(&state.nft),
            "{step}: a foreign nftables table changed"
        );
        let zonal_tables = nft_tables(&state.nft)
            .iter()
            .filter(|(h, _)| h.starts_with("table inet zonal_"))
            .count();
        assert_eq!(
            zonal_tables,
            usize::from(target == Target::Nftables),
            "{step}: {zonal_tables} Zonal tables"
        );
    }
    // Re-applying the last version changes nothing.
    let [.., again_before, again_after] = r.loaded.as_slice() else {
        panic!("{label}: expected at least two deployments");
    };
    assert_eq!(
        again_before, again_after,
        "{label}: re-applying the same version changed the router"
    );
    // No chain of version 1 survives: Zonal's chains are exactly v2's.
    if let Ruleset::Iptables { v4, v6, .. } = v2 {
        for (fam, file, state) in [
            ("iptables", v4, &again_after.iptables),
            ("ip6tables", v6, &again_after.ip6tables),
        ] {
            let declared: Vec<&str> = file.lines().filter(|l| l.starts_with(':')).collect();
            let mut declared = declared;
            declared.sort_unstable();
            let mut live: Vec<&str> = zonal_lines(state)
                .into_iter()
                .filter(|l| l.starts_with(':'))
                .collect();
            live.sort_unstable();
            assert_eq!(live, declared, "{label}: {fam}: stale or missing chains");
        }
    }
    // Removal with the documented commands gives back the seeded state.
    assert_eq!(
        normalise_removed(&r.removed),
        normalise_removed(seeded),
        "{label}: removing Zonal did not restore the seeded configuration"
    );
}

/// The removal comparison ignores nothing but is kept as one value for a
/// readable assertion message.
fn normalise_removed(s: &RouterState) -> (String, String, Vec<(String, String)>) {
    (s.iptables.clone(), s.ip6tables.clone(), foreign_nft(&s.nft))
}

fn rules_of(l: &Loaded, target: Target) -> Ruleset {
    let fw = Firewall::by_address(l.policy.name.clone());
    render(&l.policy, target, &fw, &Templates::embedded())
}

/// How many `zonal_synth` policies (two seeded edits each) join the
/// examples' pairs; the whole simulation runs in a couple of minutes on two
/// cores.
const SYNTH: u64 = 3;

/// Every redeploy pair of the examples and of `SYNTH` synthetic policies,
/// on nftables and iptables, on a router with foreign configuration.
#[test]
fn redeploy_on_a_shared_router_keeps_foreign_config_and_enforces_v2_exactly() {
    let pairs: Vec<RedeployPair> = redeploy_pairs(SYNTH);
    assert!(pairs.len() >= 6, "only {} redeploy pairs", pairs.len());
    let jobs: Vec<(usize, Target)> = (0..pairs.len())
        .flat_map(|i| [(i, Target::Nftables), (i, Target::Iptables)])
        .collect();
    let probes = AtomicUsize::new(0);
    let runs = AtomicUsize::new(0);
    on_workers(&jobs, 2, |(i, target)| {
        let pair = &pairs[i];
        let v1 = load_text("v1.zonal", &pair.v1);
        let v2 = load_text("v2.zonal", &pair.v2);
        let r1 = rules_of(&v1, target);
        let r2 = rules_of(&v2, target);
        let config = Config {
            seed: u64::try_from(i).unwrap_or(0),
            samples: 16,
            ..Config::default()
        };
        let plan = zonal_verify::plan(&v2.policy, &config)
            .unwrap_or_else(|e| panic!("{}: {e}", pair.label));
        let versions = [r1, r2.clone(), r2.clone()];
        let r = match zonal_verify::verify_redeploy(plan, &foreign(), &versions, &config) {
            Ok(r) => r,
            Err(VerifyError::Unavailable(why)) => {
                panic!("the kernel proof cannot run on this machine: {why}")
            }
            Err(e) => panic!(
                "{} {target}: the redeploy simulation failed: {e}",
                pair.label
            ),
        };
        let label = format!("redeploy {} {target}", pair.label);
        assert_no_mismatch(&label, &v2, &r.report);
        check_states(&label, target, &r2, &r);
        probes.fetch_add(r.report.plan.probes.len(), Ordering::Relaxed);
        runs.fetch_add(1, Ordering::Relaxed);
    });
    let (probes, runs) = (probes.into_inner(), runs.into_inner());
    eprintln!("redeploy simulation: {runs} runs, {probes} probes against v2, 0 mismatches");
    assert_eq!(runs, jobs.len());
    assert!(probes >= 5_000, "only {probes} probes");
}

/// The old iptables output (a full `*filter` table with `:INPUT ACCEPT`,
/// `:FORWARD DROP` and rules appended to FORWARD) is what the simulation
/// exists to catch: loaded on the same router, even with `--noflush`, it
/// resets the box's INPUT policy, so the foreign-configuration check
/// fails.
#[test]
fn a_full_filter_table_is_caught_by_the_foreign_config_check() {
    let l = load_text("kernel-small.zonal", super::SMALL);
    let Ruleset::Iptables { v4, v6, ipset } = rules_of(&l, Target::Iptables) else {
        panic!("not iptables");
    };
    // The old shape: builtin chains declared (with policies) in the file.
    let old = |text: &str| {
        text.replacen(
            "\n-A ",
            "\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A ",
            1,
        )
    };
    let old = Ruleset::Iptables {
        v4: old(&v4),
        v6: old(&v6),
        ipset,
    };
    let config = Config::default();
    let plan = zonal_verify::plan(&l.policy, &config).expect("a plan");
    let r = zonal_verify::verify_redeploy(plan, &foreign(), &[old.clone(), old], &config)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        foreign_lines(&r.seeded.iptables),
        foreign_lines(&r.loaded[0].iptables),
        "a file that declares INPUT and FORWARD went unnoticed"
    );
    assert!(
        r.loaded[0].iptables.contains(":INPUT ACCEPT"),
        "{}",
        r.loaded[0].iptables
    );
}
