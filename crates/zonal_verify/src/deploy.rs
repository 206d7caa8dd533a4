//! Loading rules into the router exactly as an admin deploys them on a
//! shared host (docs/targets/nftables.md and docs/targets/iptables.md), and
//! what a redeploy simulation needs around that: foreign configuration
//! seeded first, the router's firewall state read back, Zonal removed.
//!
//! nftables: `nft -f FILE` (the file replaces Zonal's table in one
//! transaction), removal `nft delete table inet NAME`. iptables: the deploy
//! script [`IPTABLES_DEPLOY`] per family (`iptables-restore --noflush`, the
//! one jump from `FORWARD`, stale chains deleted), removal
//! [`IPTABLES_REMOVE`]. The scripts are the ones the documentation prints
//! (a test checks that they are the same text).

use crate::Ruleset;
use crate::netns::{self, KernelError};

/// The iptables deploy script (`zonal-iptables-deploy iptables|ip6tables
/// FILE`): first deployment and every redeploy.
pub const IPTABLES_DEPLOY: &str = include_str!("deploy/iptables-deploy.sh");

/// The iptables removal script (`zonal-iptables-remove
/// iptables|ip6tables [PREFIX]`).
pub const IPTABLES_REMOVE: &str = include_str!("deploy/iptables-remove.sh");

/// Configuration a shared router carries before Zonal is deployed on it:
/// the box's own rules, other tools' chains and tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Foreign {
    /// An `iptables-restore` file (loaded without `--noflush`, as the box's
    /// own IPv4 filter table).
    pub iptables: Option<String>,
    /// The same for `ip6tables-restore`.
    pub ip6tables: Option<String>,
    /// An `nft -f` file (other tables).
    pub nft: Option<String>,
}

/// The router's firewall configuration at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterState {
    /// `iptables-save -t filter`, without its comment lines and with every
    /// `[packets:bytes]` counter written as `[0:0]`.
    pub iptables: String,
    /// The same for `ip6tables-save -t filter`.
    pub ip6tables: String,
    /// `nft -s list ruleset` (stateless: no counters).
    pub nft: String,
}

/// Runs a script with `sh -c` in the router namespace.
fn script(router: &str, action: &str, text: &str, args: &[&str]) -> Result<String, KernelError> {
    let mut argv = vec!["sh", "-c", text, "zonal-script"];
    argv.extend_from_slice(args);
    netns::run_in(router, action, &argv, None)
}

/// Deploys one iptables-restore file with [`IPTABLES_DEPLOY`]; the script
/// reads the file twice, so it is written to a temporary file first.
fn deploy_iptables(router: &str, tool: &str, text: &str) -> Result<(), KernelError> {
    let path = std::env::temp_dir().join(format!("{router}-{tool}.rules"));
    std::fs::write(&path, text).map_err(|e| KernelError {
        action: format!("write the {tool} file to `{}`", path.display()),
        detail: e.to_string(),
    })?;
    let file = path.to_string_lossy().into_owned();
    let done = script(
        router,
        &format!("deploy the {tool} file with zonal-iptables-deploy"),
        IPTABLES_DEPLOY,
        &[tool, &file],
    );
    let _ = std::fs::remove_file(&path);
    done.map(drop)
}

/// Loads the rules into the router namespace, as on a real host.
pub(crate) fn load(router: &str, rules: &Ruleset) -> Result<(), KernelError> {
    match rules {
        Ruleset::Nftables(text) => netns::run_in(
            router,
            "load the nftables ruleset",
            &["nft", "-f", "/dev/stdin"],
            Some(text),
        )
        .map(drop),
        Ruleset::Iptables { v4, v6, ipset } => {
            if let Some(sets) = ipset {
                netns::run_in(
                    router,
                    "load the ipset file",
                    &["ipset", "restore"],
                    Some(sets),
                )?;
            }
            deploy_iptables(router, "ip6tables", v6)?;
            deploy_iptables(router, "iptables", v4)
        }
    }
}

/// The name of the `inet` table an nftables file declares first.
fn nft_table(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("table inet "))
        .and_then(|rest| rest.split_whitespace().next())
}

/// The chain prefix of an iptables file: its first declared chain (the
/// entry chain, `<prefix>forward`) without `forward`.
fn iptables_prefix(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|entry| entry.strip_suffix("forward"))
}

/// Removes Zonal from the router with the documented commands.
pub(crate) fn remove(router: &str, rules: &Ruleset) -> Result<(), KernelError> {
    let missing = |what: &str| KernelError {
        action: "remove Zonal".into(),
        detail: format!("the rules name no {what}"),
    };
    match rules {
        Ruleset::Nftables(text) => {
            let table = nft_table(text).ok_or_else(|| missing("`table inet`"))?;
            netns::run_in(
                router,
                "remove Zonal's nftables table",
                &["nft", "delete", "table", "inet", table],
                None,
            )
            .map(drop)
        }
        Ruleset::Iptables { v4, v6, .. } => {
            for (tool, text) in [("iptables", v4), ("ip6tables", v6)] {
                let prefix = iptables_prefix(text).ok_or_else(|| missing("entry chain"))?;
                script(
                    router,
                    &format!("remove Zonal's {tool} chains with zonal-iptables-remove"),
                    IPTABLES_REMOVE,
                    &[tool, prefix],
                )?;
            }
            Ok(())
        }
    }
}

/// Loads the foreign configuration.
pub(crate) fn seed(router: &str, foreign: &Foreign) -> Result<(), KernelError> {
    for (tool, text) in [
        ("iptables-restore", &foreign.iptables),
        ("ip6tables-restore", &foreign.ip6tables),
    ] {
        if let Some(text) = text {
            netns::run_in(router, "seed the foreign rules", &[tool], Some(text))?;
        }
    }
    if let Some(text) = &foreign.nft {
        netns::run_in(
            router,
            "seed the foreign nftables tables",
            &["nft", "-f", "/dev/stdin"],
            Some(text),
        )?;
    }
    Ok(())
}

/// Zeroes `[packets:bytes]` counters and drops comment lines (they carry
/// the time of the dump).
fn normalise_save(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut rest = line;
        while let Some(i) = rest.find('[') {
            let (head, tail) = rest.split_at(i);
            out.push_str(head);
            let close = tail.find(']').filter(|&j| {
                tail.get(1..j).is_some_and(|c| {
                    c.split_once(':').is_some_and(|(a, b)| {
                        !a.is_empty()
                            && !b.is_empty()
                            && a.bytes().all(|x| x.is_ascii_digit())
                            && b.bytes().all(|x| x.is_ascii_digit())
                    })
                })
            });
            if let Some(j) = close {
                out.push_str("[0:0]");
                rest = tail.get(j + 1..).unwrap_or("");
            } else {
                out.push('[');
                rest = tail.get(1..).unwrap_or("");
            }
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// Reads the router's firewall configuration.
pub(crate) fn state(router: &str) -> Result<RouterState, KernelError> {
    let save = |tool: &str| {
        netns::run_in(
            router,
            "read the filter table",
            &[tool, "-t", "filter"],
            None,
        )
        .map(|t| normalise_save(&t))
    };
    Ok(RouterState {
        iptables: save("iptables-save")?,
        ip6tables: save("ip6tables-save")?,
        nft: netns::run_in(
            router,
            "read the nftables ruleset",
            &["nft", "-s", "list", "ruleset"],
            None,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_comments_are_normalised() {
        let t = "# Generated on Sun\n*filter\n:INPUT DROP [12:3400]\n-A X -m comment --comment \"[a:b]\" -j DROP\nCOMMIT\n";
        assert_eq!(
            normalise_save(t),
            "*filter\n:INPUT DROP [0:0]\n-A X -m comment --comment \"[a:b]\" -j DROP\nCOMMIT\n"
        );
    }

    #[test]
    fn names_are_read_from_the_rendered_files() {
        assert_eq!(
            nft_table("# x\ntable inet zonal_p\ndelete table inet zonal_p\n"),
            Some("zonal_p")
        );
        assert_eq!(
            iptables_prefix("# x\n*filter\n:zonal_forward - [0:0]\n:zonal_deny - [0:0]\n"),
            Some("zonal_")
        );
    }
}
