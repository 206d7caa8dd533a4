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
//! 3. [`verify_redeploy`] does the same on a router that already carries
//!    [`Foreign`] configuration, deploys several versions in order (as on
//!    a shared host: `nft -f`, or the [`IPTABLES_DEPLOY`] script), probes
//!    the last one, removes Zonal, and returns the router's
//!    [`RouterState`] after every step, so a test can check that nothing
//!    foreign changed.
//!
//! This crate is the one library of Zonal that runs processes (`ip`,
//! `nft`, `ipset`, and `sh` with the iptables deploy and removal scripts,
//! which run `iptables-restore --noflush`, `iptables` and `iptables-save`)
//! and opens files (`/run/netns/*`, and `/proc/sys/net/*` inside
//! the namespaces): that is its whole purpose.
//! It needs root; [`preflight`] says what is missing.

mod deploy;
mod inspect;
mod netns;
mod plan;
mod probe;
mod report;

use std::time::Instant;

use zonal_model::Policy;

pub use deploy::{Foreign, IPTABLES_DEPLOY, IPTABLES_REMOVE, RouterState};
pub use inspect::{NftDump, iptables_inspect, nft_inspect};
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
                tools.extend([
                    "sh",
                    "iptables",
                    "ip6tables",
                    "iptables-restore",
                    "ip6tables-restore",
                    "iptables-save",
                    "ip6tables-save",
                ]);
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
    deploy::load(&net.router, rules).map_err(VerifyError::Load)?;
    let listeners = probe::listen(&plan, &net)?;
    let (observed, conntrack) = probe::run_probes(
        &plan,
        &net,
        &listeners,
        config.concurrency,
        config.timeout,
        config.capture_conntrack,
    )?;
    let count = listeners.count;
    drop(listeners);
    drop(net);
    Ok(Report {
        target: rules.target().to_string(),
        plan,
        observed,
        listeners: count,
        elapsed: started.elapsed(),
        conntrack,
    })
}

/// The outcome of a redeploy simulation.
#[derive(Clone, Debug)]
pub struct Redeploy {
    /// The probes of the last version, judged by its policy.
    pub report: Report,
    /// The router's configuration after the foreign configuration was
    /// seeded, before Zonal's first version.
    pub seeded: RouterState,
    /// The configuration after each version was deployed, in order.
    pub loaded: Vec<RouterState>,
    /// The configuration after the probes and Zonal's removal with the
    /// documented commands.
    pub removed: RouterState,
}

/// The redeploy simulation: builds the network of `plan` (made from the
/// last version's policy), seeds the router with `foreign` configuration,
/// deploys every version in order exactly as an admin would on a shared
/// host, probes the last one, then removes Zonal. The router's firewall
/// state is read after each step. The namespaces are deleted before this
/// returns, whatever happened.
pub fn verify_redeploy(
    plan: Plan,
    foreign: &Foreign,
    versions: &[Ruleset],
    config: &Config,
) -> Result<Redeploy, VerifyError> {
    let Some(last) = versions.last() else {
        return Err(VerifyError::Unavailable(
            "a redeploy simulation needs at least one version".into(),
        ));
    };
    let mut tools: Vec<&str> = versions.iter().flat_map(Ruleset::tools).collect();
    tools.extend(
        Ruleset::Iptables {
            v4: String::new(),
            v6: String::new(),
            ipset: None,
        }
        .tools(),
    );
    tools.push("nft");
    tools.sort_unstable();
    tools.dedup();
    preflight(&tools).map_err(VerifyError::Unavailable)?;
    let started = Instant::now();
    let net = netns::build(&plan)?;
    deploy::seed(&net.router, foreign)?;
    let seeded = deploy::state(&net.router)?;
    let mut loaded = Vec::new();
    for rules in versions {
        deploy::load(&net.router, rules).map_err(VerifyError::Load)?;
        loaded.push(deploy::state(&net.router)?);
    }
    let listeners = probe::listen(&plan, &net)?;
    let (observed, conntrack) = probe::run_probes(
        &plan,
        &net,
        &listeners,
        config.concurrency,
        config.timeout,
        config.capture_conntrack,
    )?;
    let count = listeners.count;
    drop(listeners);
    deploy::remove(&net.router, last)?;
    let removed = deploy::state(&net.router)?;
    drop(net);
    Ok(Redeploy {
        report: Report {
            target: last.target().to_string(),
            plan,
            observed,
            listeners: count,
            elapsed: started.elapsed(),
            conntrack,
        },
        seeded,
        loaded,
        removed,
    })
}
