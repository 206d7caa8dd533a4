//! Reading an nftables ruleset back the way the kernel holds it: the
//! ruleset is loaded into a scratch network namespace and listed again, so
//! a rendered file and a device's dump can be compared in one normal form
//! (`zonal drift`).

use crate::VerifyError;
use crate::netns::{self, KernelError};

/// A ruleset as the kernel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NftDump {
    /// `nft -j list ruleset`.
    pub json: String,
    /// `nft -a list ruleset` (rules with their `# handle N`).
    pub text: String,
    /// `nft list table FAMILY NAME` of the table asked about, if it exists.
    pub table: Option<String>,
}

/// Deletes the scratch namespace on every path.
struct Scratch(String);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = netns::run(
            "delete a namespace",
            "ip",
            &["netns", "delete", &self.0],
            None,
        );
    }
}

/// Loads `ruleset` (an `nft -f` file, or with `json` an `nft -j` document
/// whose objects come in load order) into a fresh network namespace and
/// lists it; `table` is `FAMILY NAME`. Needs root, `ip` and `nft`.
pub fn nft_inspect(ruleset: &str, json: bool, table: &str) -> Result<NftDump, VerifyError> {
    netns::preflight(&["ip", "nft"]).map_err(VerifyError::Unavailable)?;
    let ns = format!("{}-d", netns::unique_prefix());
    netns::run("create a namespace", "ip", &["netns", "add", &ns], None)?;
    let scratch = Scratch(ns);
    let load: &[&str] = if json {
        &["nft", "-j", "-f", "/dev/stdin"]
    } else {
        &["nft", "-f", "/dev/stdin"]
    };
    netns::run_in(&scratch.0, "load the ruleset", load, Some(ruleset))
        .map_err(VerifyError::Load)?;
    let list = |args: &[&str]| -> Result<String, KernelError> {
        netns::run_in(&scratch.0, "list the ruleset", args, None)
    };
    let json = list(&["nft", "-j", "list", "ruleset"])?;
    let text = list(&["nft", "-a", "list", "ruleset"])?;
    let mut args = vec!["nft", "list", "table"];
    args.extend(table.split_whitespace());
    let table = list(&args).ok();
    Ok(NftDump { json, text, table })
}

/// Loads an `iptables-restore` file (`tool` is `iptables` or `ip6tables`)
/// into a fresh network namespace and returns `TOOL-save -t filter` of
/// it: the kernel's normal form of the rules (`-m tcp` added, connection
/// states sorted, defaults dropped), so that a rendered file and a
/// device's dump can be compared line by line (`zonal drift`). Needs
/// root, `ip`, `TOOL-restore` and `TOOL-save`.
pub fn iptables_inspect(tool: &str, ruleset: &str) -> Result<String, VerifyError> {
    let restore = format!("{tool}-restore");
    let save = format!("{tool}-save");
    netns::preflight(&["ip", &restore, &save]).map_err(VerifyError::Unavailable)?;
    let ns = format!("{}-d", netns::unique_prefix());
    netns::run("create a namespace", "ip", &["netns", "add", &ns], None)?;
    let scratch = Scratch(ns);
    netns::run_in(&scratch.0, "load the rules", &[&restore], Some(ruleset))
        .map_err(VerifyError::Load)?;
    Ok(netns::run_in(
        &scratch.0,
        "list the rules",
        &[&save, "-t", "filter"],
        None,
    )?)
}
