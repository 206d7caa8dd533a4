//! The kernel side: network namespaces, veth pairs, bridges, addresses,
//! routes and sysctls, built with `ip` and `/proc/sys`, and torn down by a
//! drop guard whatever happens.
//!
//! This is the one library module of Zonal that runs processes and opens
//! files (`/run/netns/*`, `/proc/sys/net/*`): building a network is its
//! whole purpose.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{CloneFlags, setns};

use crate::plan::{GATEWAY_V4, GATEWAY_V6, Plan};

/// Why the network could not be built or driven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelError {
    /// What was being done.
    pub action: String,
    /// What the tool or the kernel said.
    pub detail: String,
}

impl std::fmt::Display for KernelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.action, self.detail.trim())
    }
}

impl std::error::Error for KernelError {}

fn kerr(action: impl Into<String>, detail: impl Into<String>) -> KernelError {
    KernelError {
        action: action.into(),
        detail: detail.into(),
    }
}

/// Runs a command, feeding `stdin`, and fails with its stderr.
pub(crate) fn run(
    action: &str,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, KernelError> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .map_err(|e| kerr(action, format!("cannot run `{program}`: {e}")))?;
    if let Some(text) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(text.as_bytes())
            .map_err(|e| kerr(action, format!("cannot feed `{program}`: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| kerr(action, format!("`{program}` did not finish: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        return Err(kerr(
            action,
            format!(
                "`{program} {}` failed ({}): {stderr}{stdout}",
                args.join(" "),
                out.status
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command inside a namespace (`ip netns exec NS …`).
pub(crate) fn run_in(
    ns: &str,
    action: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, KernelError> {
    let mut all = vec!["netns", "exec", ns];
    all.extend_from_slice(args);
    run(action, "ip", &all, stdin)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique namespace name prefix for this process and run: `zv<pid>x<n>`.
pub(crate) fn unique_prefix() -> String {
    format!(
        "zv{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The directory `ip netns` keeps its namespaces in.
const NETNS_DIR: &str = "/run/netns";

/// Deletes namespaces left behind by runs whose process is gone (a run
/// killed by SIGKILL cannot clean up). Returns the names deleted.
pub fn sweep_stale() -> Vec<String> {
    sweep(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Deletes every namespace of this process (a signal handler calls it
/// before the process exits). Returns the names deleted.
pub fn remove_own() -> Vec<String> {
    let me = std::process::id().to_string();
    sweep(|pid| pid == me)
}

/// Deletes the `zv<pid>x<n>` namespaces whose pid `doomed` accepts. The
/// names record the process that made them, so no other record is kept.
fn sweep(doomed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return removed;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some(rest) = name.strip_prefix("zv") else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('x') else {
            continue;
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || !doomed(pid) {
            continue;
        }
        if run(
            "delete a left-over namespace",
            "ip",
            &["netns", "delete", &name],
            None,
        )
        .is_ok()
        {
            removed.push(name);
        }
    }
    removed
}

/// The built network. Dropping it deletes every namespace it created.
#[derive(Debug)]
pub(crate) struct Network {
    /// The router namespace.
    pub(crate) router: String,
    /// One namespace per planned host, same order as [`Plan::hosts`].
    pub(crate) hosts: Vec<String>,
    /// Every namespace created so far, for cleanup.
    created: Vec<String>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            let _ = run("delete a namespace", "ip", &["netns", "delete", ns], None);
        }
    }
}

/// Opens a namespace handle for [`enter`].
pub(crate) fn open(ns: &str) -> Result<File, KernelError> {
    File::open(format!("{NETNS_DIR}/{ns}"))
        .map_err(|e| kerr(format!("open namespace `{ns}`"), e.to_string()))
}

/// Moves the calling thread (only it) into a network namespace.
pub(crate) fn enter(handle: &File, ns: &str) -> Result<(), KernelError> {
    setns(handle, CloneFlags::CLONE_NEWNET)
        .map_err(|e| kerr(format!("enter namespace `{ns}`"), e.to_string()))
}

/// Runs `f` on a fresh thread inside a namespace, so the caller's own
/// namespace never changes.
pub(crate) fn within<T: Send>(
    ns: &str,
    f: impl FnOnce() -> Result<T, KernelError> + Send,
) -> Result<T, KernelError> {
    let handle = open(ns)?;
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(&handle, ns)?;
            f()
        })
        .join()
        .unwrap_or_else(|_| {
            Err(kerr(
                format!("work inside `{ns}`"),
                "the worker thread panicked",
            ))
        })
    })
}

/// Checks that this process can build networks: root, `ip`, and a
/// namespace that can really be created. Returns what is missing.
pub fn preflight(tools: &[&str]) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("the kernel proof must run as root (it creates network namespaces and loads firewall rules); \
             run it with sudo or as root in a throw-away VM or container with CAP_SYS_ADMIN and CAP_NET_ADMIN"
            .to_string());
    }
    for tool in tools {
        let found = std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
        if !found {
            let package = match *tool {
                "ip" => "iproute2",
                "nft" => "nftables",
                "iptables-restore" | "ip6tables-restore" => "iptables",
                "ipset" => "ipset",
                other => other,
            };
            return Err(format!(
                "`{tool}` is not installed (Debian/Ubuntu: `apt-get install {package}`)"
            ));
        }
    }
    let name = format!("{}-preflight", unique_prefix());
    run(
        "create a test namespace",
        "ip",
        &["netns", "add", &name],
        None,
    )
    .map_err(|e| format!("network namespaces are not available: {e}"))?;
    let _ = run(
        "delete the test namespace",
        "ip",
        &["netns", "delete", &name],
        None,
    );
    Ok(())
}

/// Router sysctls: forwarding on, no redirects, no reverse-path filter,
/// no duplicate address detection (so addresses work at once).
const ROUTER_SYSCTLS: &[&str] = &[
    "net.ipv4.ip_forward=1",
    "net.ipv6.conf.all.forwarding=1",
    "net.ipv6.conf.default.forwarding=1",
    "net.ipv4.conf.all.send_redirects=0",
    "net.ipv4.conf.default.send_redirects=0",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.default.accept_ra=0",
];

/// Host sysctls: ignore redirects (every packet must cross the router),
/// no duplicate address detection, no router advertisements.
const HOST_SYSCTLS: &[&str] = &[
    "net.ipv4.conf.all.accept_redirects=0",
    "net.ipv4.conf.default.accept_redirects=0",
    "net.ipv6.conf.all.accept_redirects=0",
    "net.ipv6.conf.default.accept_redirects=0",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.default.accept_ra=0",
];

/// Sets sysctls inside a namespace by writing `/proc/sys` from a thread
/// that entered it (`/proc/sys/net` shows the network namespace of the
/// thread that opens it), so no `sysctl` program is needed.
fn sysctls(ns: &str, settings: &[&str]) -> Result<(), KernelError> {
    within(ns, || {
        for setting in settings {
            let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
            let path = format!("/proc/sys/{}", key.replace('.', "/"));
            std::fs::write(&path, value).map_err(|e| {
                kerr(
                    format!("set `{setting}` in namespace `{ns}`"),
                    e.to_string(),
                )
            })?;
        }
        Ok(())
    })
}

/// Builds the network of a plan: a router namespace with one bridge per
/// zone (named after the binding), and one namespace per host joined to
/// its zone's bridge by a veth pair. Every host routes through the router.
pub(crate) fn build(plan: &Plan) -> Result<Network, KernelError> {
    let _ = sweep_stale();
    let prefix = unique_prefix();
    let router = format!("{prefix}-r");
    let hosts: Vec<String> = (0..plan.hosts.len())
        .map(|i| format!("{prefix}-h{i}"))
        .collect();
    let mut net = Network {
        router: router.clone(),
        hosts: hosts.clone(),
        created: Vec::new(),
    };

    // Namespaces, in one batch.
    let mut batch = String::new();
    for ns in std::iter::once(&router).chain(hosts.iter()) {
        let _ = writeln!(batch, "netns add {ns}");
    }
    let created = run("create namespaces", "ip", &["-batch", "-"], Some(&batch));
    // Record what exists even when the batch failed half-way.
    for ns in std::iter::once(&router).chain(hosts.iter()) {
        if std::path::Path::new(&format!("{NETNS_DIR}/{ns}")).exists() {
            net.created.push(ns.clone());
        }
    }
    created?;

    sysctls(&router, ROUTER_SYSCTLS)?;
    for ns in &hosts {
        sysctls(ns, HOST_SYSCTLS)?;
    }

    // The router: bridges, gateway addresses, veths and host routes.
    let mut r = String::from("link set lo up\n");
    for link in &plan.links {
        let b = &link.ifname;
        let _ = writeln!(r, "link add {b} type bridge");
        let _ = writeln!(r, "link set {b} up");
        let _ = writeln!(r, "addr add {GATEWAY_V4}/32 dev {b}");
        let _ = writeln!(r, "addr add {GATEWAY_V6}/64 dev {b} nodad");
    }
    for (i, host) in plan.hosts.iter().enumerate() {
        let b = plan
            .links
            .get(host.link)
            .map(|l| l.ifname.as_str())
            .unwrap_or("lo");
        let _ = writeln!(
            r,
            "link add vp{i} type veth peer name eth0 netns {}",
            hosts[i]
        );
        let _ = writeln!(r, "link set vp{i} master {b}");
        let _ = writeln!(r, "link set vp{i} up");
    }
    for host in &plan.hosts {
        let b = plan
            .links
            .get(host.link)
            .map(|l| l.ifname.as_str())
            .unwrap_or("lo");
        if let Some(a) = host.v4 {
            let _ = writeln!(r, "route add {a}/32 dev {b}");
        }
        if let Some(a) = host.v6 {
            let _ = writeln!(r, "route add {a}/128 dev {b}");
        }
    }
    run(
        "set up the router namespace",
        "ip",
        &["-n", &router, "-batch", "-"],
        Some(&r),
    )?;

    // The hosts: address, default routes through the router.
    for (i, host) in plan.hosts.iter().enumerate() {
        let mut h = String::from("link set lo up\nlink set eth0 up\n");
        if let Some(a) = host.v4 {
            let _ = writeln!(h, "addr add {a}/32 dev eth0");
            let _ = writeln!(h, "route add {GATEWAY_V4}/32 dev eth0 scope link");
            let _ = writeln!(h, "route add 0.0.0.0/0 via {GATEWAY_V4} dev eth0");
        }
        if let Some(a) = host.v6 {
            let _ = writeln!(h, "addr add {a}/128 dev eth0 nodad");
            let _ = writeln!(h, "route add ::/0 via {GATEWAY_V6} dev eth0");
        }
        run(
            &format!("set up host namespace for `{}`", host.label),
            "ip",
            &["-n", &hosts[i], "-batch", "-"],
            Some(&h),
        )?;
    }
    Ok(net)
}

/// Deletes every connection-tracking entry in a namespace, through
/// ctnetlink (an `IPCTNL_MSG_CT_DELETE` without a tuple flushes the
/// table), so that no state from one group of probes lets a later probe
/// pass as "return traffic".
pub(crate) fn flush_conntrack(ns: &str) -> Result<(), KernelError> {
    const AF_NETLINK: i32 = 16;
    const NETLINK_NETFILTER: i32 = 12;
    const NFNL_SUBSYS_CTNETLINK: u16 = 1;
    const IPCTNL_MSG_CT_DELETE: u16 = 2;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;
    const NLMSG_ERROR: u16 = 2;
    let action = format!("flush connection tracking in `{ns}`");
    within(ns, || {
        let fail = |e: std::io::Error| kerr(action.clone(), e.to_string());
        let sock = socket2::Socket::new(
            socket2::Domain::from(AF_NETLINK),
            socket2::Type::RAW,
            Some(socket2::Protocol::from(NETLINK_NETFILTER)),
        )
        .map_err(fail)?;
        sock.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .map_err(fail)?;
        let mut msg = Vec::with_capacity(20);
        msg.extend_from_slice(&20u32.to_ne_bytes());
        msg.extend_from_slice(&((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE).to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        msg.extend_from_slice(&1u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        // nfgenmsg: every family, version 0, resource id 0.
        msg.extend_from_slice(&[0, 0, 0, 0]);
        sock.send(&msg).map_err(fail)?;
        let mut reply = [0u8; 256];
        let mut reader: &socket2::Socket = &sock;
        let n = std::io::Read::read(&mut reader, &mut reply).map_err(fail)?;
        let field = |at: usize, len: usize| reply.get(at..at + len).unwrap_or(&[]);
        let kind = u16::from_ne_bytes(field(4, 2).try_into().unwrap_or([0, 0]));
        let errno = i32::from_ne_bytes(field(16, 4).try_into().unwrap_or([0, 0, 0, 0]));
        if n < 20 || kind != NLMSG_ERROR {
            return Err(kerr(action.clone(), "unexpected ctnetlink answer"));
        }
        // ENOENT: the table was already empty.
        if errno != 0 && errno != -2 {
            return Err(kerr(
                action.clone(),
                std::io::Error::from_raw_os_error(-errno).to_string(),
            ));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_within_a_process() {
        let a = unique_prefix();
        let b = unique_prefix();
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("zv{}x", std::process::id())), "{a}");
    }

    #[test]
    fn failing_commands_report_their_output() {
        let err = run(
            "list a missing namespace",
            "ip",
            &["netns", "exec", "zv-no-such-namespace", "true"],
            None,
        )
        .unwrap_err();
        assert_eq!(err.action, "list a missing namespace");
        assert!(err.detail.contains("zv-no-such-namespace"), "{err}");
        let err = run("run nothing", "zonal-no-such-program", &[], None).unwrap_err();
        assert!(
            err.detail.contains("cannot run `zonal-no-such-program`"),
            "{err}"
        );
    }
}
