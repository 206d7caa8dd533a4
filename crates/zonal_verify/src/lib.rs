//! The kernel proof: run rendered nftables or iptables rules in a real
//! Linux kernel and compare what real packets do with the policy's
//! reference decision function [`zonal_model::Policy::decide`].
//!
//! 1. [`plan`] picks one host per zone and per device (addresses from the
//!    zone's or device's own addresses, IPv4 and IPv6; external zones get
//!    an address outside every internal zone) and the probes: every
//!    (source, destination, service) a rule names, both directions, ports
//!    just outside named ranges, and a seeded sample of other pairs and
//!    ports. Each probe carries the verdict `decide` gives.
//! 2. [`verify`] builds the network (one namespace per host, a router
//!    namespace with one bridge per zone, named after the deployment
//!    binding when there is one), loads the rules into the router, starts
//!    listeners (TCP accept, UDP echo, raw sockets), sends every probe
//!    (TCP connect, UDP request/reply, ICMP echo and raw IP packets from
//!    raw sockets) and deletes the namespaces again, on failure too.
//!
//! This crate is the one library of Zonal that runs processes (`ip`,
//! `nft`, `iptables-restore`, `ip6tables-restore`, `ipset`)
//! and opens files (`/run/netns/*`, and `/proc/sys/net/*` inside
//! the namespaces): that is its whole purpose.
//! It needs root; [`preflight`] says what is missing.

mod netns;
mod plan;
mod probe;
mod report;

use std::time::Instant;

use zonal_model::Policy;

pub use netns::{KernelError, preflight, remove_own, sweep_stale};
pub use plan::{Config, Host, Link, Origin, Plan, PlanError, Probe, ProbeKind, plan};
pub use probe::Observed;
pub use report::{Mismatch, Report};

/// The rendered rules to load into the router namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ruleset {
    /// An `nft -f` file.
    Nftables(String),
    /// `iptables-restore` and `ip6tables-restore` files, and an optional
    /// `ipset restore` file loaded before them.
    Iptables {
        /// The IPv4 file.
        v4: String,
        /// The IPv6 file.
        v6: String,
        /// The ipset file, if the rules use sets.
        ipset: Option<String>,
    },
}

impl Ruleset {
    /// `nftables` or `iptables`.
    pub fn target(&self) -> &'static str {
        match self {
            Ruleset::Nftables(_) => "nftables",
            Ruleset::Iptables { .. } => "iptables",
        }
    }

    /// The programs a run needs.
    pub fn tools(&self) -> Vec<&'static str> {
        let mut tools = vec!["ip"];
        match self {
            Ruleset::Nftables(_) => tools.push("nft"),
            Ruleset::Iptables { ipset, .. } => {
                tools.extend(["iptables-restore", "ip6tables-restore"]);
                if ipset.is_some() {
                    tools.push("ipset");
                }
            }
        }
        tools
    }
}

/// Why a run could not produce a report.
#[derive(Debug)]
pub enum VerifyError {
    /// Not root, a tool missing, or namespaces not available.
    Unavailable(String),
    /// The policy cannot be turned into a test network.
    Plan(PlanError),
    /// The kernel or a tool refused to build the network.
    Kernel(KernelError),
    /// `nft`, `iptables-restore`, `ip6tables-restore` or `ipset` rejected
    /// the rendered rules: the configuration itself is broken.
    Load(KernelError),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Unavailable(why) => write!(f, "the kernel proof cannot run here: {why}"),
            VerifyError::Plan(e) => write!(f, "{e}"),
            VerifyError::Kernel(e) => write!(f, "{e}"),
            VerifyError::Load(e) => write!(f, "the rendered rules do not load: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<KernelError> for VerifyError {
    fn from(e: KernelError) -> Self {
        VerifyError::Kernel(e)
    }
}

/// Loads the rules into the router namespace.
fn load(router: &str, rules: &Ruleset) -> Result<(), KernelError> {
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
            netns::run_in(
                router,
                "load the iptables-restore file",
                &["iptables-restore"],
                Some(v4),
            )?;
            netns::run_in(
                router,
                "load the ip6tables-restore file",
                &["ip6tables-restore"],
                Some(v6),
            )
            .map(drop)
        }
    }
}

/// Plans, builds the network, loads the rules, probes and cleans up.
/// The namespaces are deleted before this returns, whatever happened.
pub fn verify(policy: &Policy, rules: &Ruleset, config: &Config) -> Result<Report, VerifyError> {
    let plan = plan::plan(policy, config).map_err(VerifyError::Plan)?;
    verify_plan(plan, rules, config)
}

/// Like [`verify`], with a plan made (and perhaps inspected) beforehand.
pub fn verify_plan(plan: Plan, rules: &Ruleset, config: &Config) -> Result<Report, VerifyError> {
    preflight(&rules.tools()).map_err(VerifyError::Unavailable)?;
    let started = Instant::now();
    let net = netns::build(&plan)?;
    load(&net.router, rules).map_err(VerifyError::Load)?;
    let listeners = probe::listen(&plan, &net)?;
    let observed = probe::run_probes(&plan, &net, &listeners, config.concurrency, config.timeout)?;
    let count = listeners.count;
    drop(listeners);
    drop(net);
    Ok(Report {
        target: rules.target().to_string(),
        plan,
        observed,
        listeners: count,
        elapsed: started.elapsed(),
    })
}
