//! Listeners and probes, with real sockets created inside the namespaces.
//!
//! A socket belongs to the network namespace of the thread that created
//! it, whichever thread uses it later. So listeners are created by short
//! threads that enter a host's namespace, then served by one thread that
//! polls them all; probes run on a pool of threads that enter the
//! sender's namespace before each probe.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, Socket, Type};
use zonal_model::service::{ICMP, ICMPV6, TCP};

use crate::netns::{KernelError, Network, enter, open};
use crate::plan::{Plan, Probe, ProbeKind};

/// What a probe saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// The packet reached the destination (connection accepted or
    /// refused by the host, reply received).
    Passed(String),
    /// Nothing came back within the timeout, or the router answered with
    /// an error.
    Blocked(String),
    /// The request reached the destination but no reply came back: the
    /// forward direction passed and the return direction was blocked.
    /// Never a match: a denied request must not arrive, and an allowed
    /// connection needs its replies.
    OneWay(String),
    /// The probe could not be run (a local socket error).
    Failed(String),
}

impl Observed {
    /// `allow`, `deny` or `error`, to compare with an expected verdict.
    pub fn as_str(&self) -> &'static str {
        match self {
            Observed::Passed(_) => "allow",
            Observed::Blocked(_) => "deny",
            Observed::OneWay(_) => "one-way",
            Observed::Failed(_) => "error",
        }
    }

    /// The detail (what the socket said).
    pub fn detail(&self) -> &str {
        match self {
            Observed::Passed(d)
            | Observed::Blocked(d)
            | Observed::OneWay(d)
            | Observed::Failed(d) => d,
        }
    }
}

/// The payload prefix of UDP and raw probes; the probe index follows.
const TOKEN: &[u8] = b"zonal-verify-probe:";

fn token(id: usize) -> Vec<u8> {
    let mut t = TOKEN.to_vec();
    t.extend_from_slice(id.to_string().as_bytes());
    t
}

/// Finds a probe token in a received buffer (raw IPv4 sockets include the
/// IP header, so the token is searched, not assumed at offset 0).
fn find_token(buf: &[u8]) -> Option<usize> {
    let at = buf.windows(TOKEN.len()).position(|w| w == TOKEN)?;
    let digits: String = buf[at + TOKEN.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok()
}

/// Raw packets seen by the listeners: probe indexes, with a condition
/// variable to wake waiting probes.
#[derive(Default)]
struct Seen {
    ids: Mutex<BTreeSet<usize>>,
    cond: Condvar,
}

impl Seen {
    fn record(&self, id: usize) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(id);
            self.cond.notify_all();
        }
    }

    fn contains(&self, id: usize) -> bool {
        self.ids.lock().is_ok_and(|ids| ids.contains(&id))
    }

    fn wait(&self, id: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut ids) = self.ids.lock() else {
            return false;
        };
        loop {
            if ids.contains(&id) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match self.cond.wait_timeout(ids, deadline - now) {
                Ok((guard, _)) => ids = guard,
                Err(_) => return false,
            }
        }
    }
}

enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
    Raw(Socket),
    /// A raw TCP or ICMP socket that sees every incoming TCP SYN or echo
    /// request of a host (a raw socket read through the std datagram API,
    /// which reports the sender).
    Sniff {
        sock: UdpSocket,
        host: usize,
        v6: bool,
        proto: u8,
    },
}

/// Which probe a sniffed packet belongs to: (destination host, IPv6,
/// protocol, source address, port or echo identifier).
type SniffKey = (usize, bool, u8, IpAddr, u16);

fn sniff_key(p: &Probe, id: usize, src: IpAddr) -> Option<SniffKey> {
    match p.kind {
        ProbeKind::Tcp(port) => Some((p.dst, p.v6, TCP, src, port)),
        ProbeKind::Echo => Some((
            p.dst,
            p.v6,
            if p.v6 { ICMPV6 } else { ICMP },
            src,
            echo_ident(id),
        )),
        ProbeKind::Udp(_) | ProbeKind::Proto(_) => None,
    }
}

/// The echo identifier of a probe.
fn echo_ident(id: usize) -> u16 {
    u16::try_from(id % 65_536).unwrap_or(0)
}

/// The sniff key of a packet received by a sniffer: a TCP SYN (without
/// ACK) or an echo request. Raw IPv4 sockets deliver the IP header.
fn sniffed(packet: &[u8], from: IpAddr, host: usize, v6: bool, proto: u8) -> Option<SniffKey> {
    let (src, l4) = if v6 {
        (from, packet)
    } else {
        let ihl = usize::from(packet.first()? & 0x0f) * 4;
        let a = packet.get(12..16)?;
        (IpAddr::from([a[0], a[1], a[2], a[3]]), packet.get(ihl..)?)
    };
    let selector = match proto {
        TCP => {
            let flags = *l4.get(13)?;
            if flags & 0x12 != 0x02 {
                return None;
            }
            u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?])
        }
        _ => {
            let request = if v6 { 128 } else { 8 };
            if *l4.first()? != request {
                return None;
            }
            u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?])
        }
    };
    Some((host, v6, proto, src, selector))
}

/// The listeners of every host, served by one polling thread until drop.
pub(crate) struct Listeners {
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
    thread: Option<JoinHandle<()>>,
    /// How many sockets listen.
    pub(crate) count: usize,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn io_err(action: String) -> impl FnOnce(std::io::Error) -> KernelError {
    move |e| KernelError {
        action,
        detail: e.to_string(),
    }
}

fn open_listener(addr: IpAddr, kind: ProbeKind) -> Result<Listener, KernelError> {
    match kind {
        ProbeKind::Tcp(port) => {
            let sa = SocketAddr::new(addr, port);
            let l = TcpListener::bind(sa).map_err(io_err(format!("listen on tcp {sa}")))?;
            l.set_nonblocking(true)
                .map_err(io_err(format!("listen on tcp {sa}")))?;
            Ok(Listener::Tcp(l))
        }
        ProbeKind::Udp(port) => {
            let sa = SocketAddr::new(addr, port);
            let s = UdpSocket::bind(sa).map_err(io_err(format!("listen on udp {sa}")))?;
            s.set_nonblocking(true)
                .map_err(io_err(format!("listen on udp {sa}")))?;
            Ok(Listener::Udp(s))
        }
        ProbeKind::Proto(proto) => {
            let domain = if addr.is_ipv6() {
                Domain::IPV6
            } else {
                Domain::IPV4
            };
            let what = format!("listen for ip protocol {proto} on {addr}");
            let s = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(proto))))
                .map_err(io_err(what.clone()))?;
            s.set_nonblocking(true).map_err(io_err(what))?;
            Ok(Listener::Raw(s))
        }
        // The kernel answers echo requests itself.
        ProbeKind::Echo => Err(KernelError {
            action: "listen for echo".into(),
            detail: "not a socket".into(),
        }),
    }
}

/// Opens a listener for every destination the probes use and starts the
/// thread that serves them: TCP connections are accepted and closed, UDP
/// requests are echoed back, raw packets are recorded.
pub(crate) fn listen(plan: &Plan, net: &Network) -> Result<Listeners, KernelError> {
    let mut wanted: BTreeMap<usize, BTreeSet<(bool, ProbeKind)>> = BTreeMap::new();
    for p in &plan.probes {
        if p.kind != ProbeKind::Echo {
            wanted.entry(p.dst).or_default().insert((p.v6, p.kind));
        }
    }
    // Sniffers: every host that receives TCP or echo probes, per family.
    let mut sniff: BTreeSet<(usize, bool, u8)> = BTreeSet::new();
    let mut keys: BTreeMap<SniffKey, usize> = BTreeMap::new();
    for (id, p) in plan.probes.iter().enumerate() {
        let Some((src, _)) = plan.addrs(p) else {
            continue;
        };
        if let Some(key) = sniff_key(p, id, src) {
            sniff.insert((key.0, key.1, key.2));
            keys.insert(key, id);
        }
    }
    let mut sockets = Vec::new();
    for &(host, v6, proto) in &sniff {
        let ns = &net.hosts[host];
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let what = format!("watch for ip protocol {proto} in `{ns}`");
        let sock = crate::netns::within(ns, || {
            let s = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(proto))))
                .map_err(io_err(what.clone()))?;
            s.set_nonblocking(true).map_err(io_err(what.clone()))?;
            Ok(UdpSocket::from(s))
        })?;
        sockets.push(Listener::Sniff {
            sock,
            host,
            v6,
            proto,
        });
    }
    for (host, kinds) in &wanted {
        let ns = &net.hosts[*host];
        let h = &plan.hosts[*host];
        let opened = crate::netns::within(ns, || {
            let mut out = Vec::new();
            for &(v6, kind) in kinds {
                if let Some(addr) = h.addr(v6) {
                    out.push(open_listener(addr, kind)?);
                }
            }
            Ok(out)
        })?;
        sockets.extend(opened);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let count = sockets.len();
    let thread = {
        let stop = Arc::clone(&stop);
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || serve(&sockets, &keys, &stop, &seen))
    };
    Ok(Listeners {
        stop,
        seen,
        thread: Some(thread),
        count,
    })
}

fn serve(sockets: &[Listener], keys: &BTreeMap<SniffKey, usize>, stop: &AtomicBool, seen: &Seen) {
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let mut fds: Vec<PollFd<'_>> = sockets
            .iter()
            .map(|s| {
                let fd = match s {
                    Listener::Tcp(l) => l.as_fd(),
                    Listener::Udp(u) => u.as_fd(),
                    Listener::Raw(r) => r.as_fd(),
                    Listener::Sniff { sock, .. } => sock.as_fd(),
                };
                PollFd::new(fd, PollFlags::POLLIN)
            })
            .collect();
        let ready = poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0);
        if ready <= 0 {
            continue;
        }
        let readable: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
        drop(fds);
        for (s, ready) in sockets.iter().zip(readable) {
            if !ready {
                continue;
            }
            match s {
                Listener::Tcp(l) => while l.accept().is_ok() {},
                Listener::Udp(u) => {
                    while let Ok((n, from)) = u.recv_from(&mut buf) {
                        if let Some(id) = find_token(&buf[..n]) {
                            seen.record(id);
                        }
                        let _ = u.send_to(&buf[..n], from);
                    }
                }
                Listener::Sniff {
                    sock,
                    host,
                    v6,
                    proto,
                } => {
                    while let Ok((n, from)) = sock.recv_from(&mut buf) {
                        let key = sniffed(&buf[..n.min(buf.len())], from.ip(), *host, *v6, *proto);
                        if let Some(id) = key.and_then(|k| keys.get(&k)) {
                            seen.record(*id);
                        }
                    }
                }
                Listener::Raw(r) => {
                    let mut reader: &Socket = r;
                    while let Ok(n) = reader.read(&mut buf) {
                        if let Some(id) = find_token(&buf[..n]) {
                            seen.record(id);
                        }
                    }
                }
            }
        }
    }
}

/// One probe, run on a thread that is already inside the sender's
/// namespace.
fn probe_once(
    id: usize,
    p: &Probe,
    src: IpAddr,
    dst: IpAddr,
    seen: &Seen,
    timeout: Duration,
) -> Observed {
    match p.kind {
        ProbeKind::Tcp(port) => {
            match TcpStream::connect_timeout(&SocketAddr::new(dst, port), timeout) {
                Ok(_) => Observed::Passed("connected".into()),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    Observed::Passed("refused by the host".into())
                }
                Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                    Observed::Blocked("timed out".into())
                }
                Err(e) => Observed::Blocked(e.to_string()),
            }
        }
        ProbeKind::Udp(port) => {
            let sock = match UdpSocket::bind(SocketAddr::new(src, 0)) {
                Ok(s) => s,
                Err(e) => return Observed::Failed(format!("udp socket: {e}")),
            };
            if let Err(e) = sock.set_read_timeout(Some(timeout)) {
                return Observed::Failed(format!("udp socket: {e}"));
            }
            let t = token(id);
            if let Err(e) = sock.send_to(&t, SocketAddr::new(dst, port)) {
                return Observed::Failed(format!("udp send: {e}"));
            }
            let mut buf = [0u8; 256];
            let deadline = Instant::now() + timeout;
            loop {
                match sock.recv_from(&mut buf) {
                    Ok((n, from)) if from == SocketAddr::new(dst, port) && buf[..n] == t[..] => {
                        return Observed::Passed("reply received".into());
                    }
                    Ok(_) if Instant::now() < deadline => {}
                    Ok(_) => return Observed::Blocked("no matching reply".into()),
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                        return Observed::Passed("port unreachable from the host".into());
                    }
                    Err(e)
                        if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut =>
                    {
                        return Observed::Blocked("timed out".into());
                    }
                    Err(e) => return Observed::Blocked(e.to_string()),
                }
            }
        }
        ProbeKind::Echo => echo(id, dst, timeout),
        ProbeKind::Proto(proto) => {
            let domain = if dst.is_ipv6() {
                Domain::IPV6
            } else {
                Domain::IPV4
            };
            let sock = match Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(proto))))
            {
                Ok(s) => s,
                Err(e) => return Observed::Failed(format!("raw socket: {e}")),
            };
            if let Err(e) = sock.send_to(&token(id), &SocketAddr::new(dst, 0).into()) {
                return Observed::Failed(format!("raw send: {e}"));
            }
            if seen.wait(id, timeout) {
                Observed::Passed("packet seen by the destination".into())
            } else {
                Observed::Blocked("not seen by the destination".into())
            }
        }
    }
}

/// The internet checksum (RFC 1071) of an ICMP message.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(0)
}

/// An ICMP or ICMPv6 echo request from a raw socket, waiting for the
/// matching echo reply (same identifier, sequence and payload, from the
/// destination). The identifier is the probe index, so connection
/// tracking keeps every probe's exchange apart.
fn echo(id: usize, dst: IpAddr, timeout: Duration) -> Observed {
    let v6 = dst.is_ipv6();
    let (domain, protocol, request, reply) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6, 128u8, 129u8)
    } else {
        (Domain::IPV4, Protocol::ICMPV4, 8u8, 0u8)
    };
    let sock = match Socket::new(domain, Type::RAW, Some(protocol)) {
        Ok(s) => s,
        Err(e) => return Observed::Failed(format!("icmp socket: {e}")),
    };
    let ident = echo_ident(id).to_be_bytes();
    let seq = [0x5a, 0x56];
    let payload = token(id);
    let mut msg = vec![request, 0, 0, 0, ident[0], ident[1], seq[0], seq[1]];
    msg.extend_from_slice(&payload);
    if !v6 {
        // The kernel fills in the ICMPv6 checksum itself, not the ICMP one.
        let sum = checksum(&msg).to_be_bytes();
        msg[2] = sum[0];
        msg[3] = sum[1];
    }
    if let Err(e) = sock.send_to(&msg, &SocketAddr::new(dst, 0).into()) {
        return Observed::Failed(format!("icmp send: {e}"));
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Observed::Blocked("no echo reply".into());
        }
        if sock.set_read_timeout(Some(deadline - now)).is_err() {
            return Observed::Failed("icmp socket timeout".into());
        }
        let mut reader: &Socket = &sock;
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                return Observed::Blocked("no echo reply".into());
            }
            Err(e) => return Observed::Failed(format!("icmp receive: {e}")),
        };
        let packet = &buf[..n];
        // Raw IPv4 sockets deliver the IP header too; check the source.
        let icmp = if v6 {
            packet
        } else {
            let ihl = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
            let from = packet
                .get(12..16)
                .map(|a| IpAddr::from([a[0], a[1], a[2], a[3]]));
            if from != Some(dst) {
                continue;
            }
            packet.get(ihl..).unwrap_or(&[])
        };
        if icmp.first() == Some(&reply)
            && icmp.get(4..6) == Some(&ident[..])
            && icmp.get(6..8) == Some(&seq[..])
            && icmp.get(8..) == Some(&payload[..])
        {
            return Observed::Passed("echo reply".into());
        }
    }
}

/// Reclassifies probes that timed out on the sender's side but whose
/// first packet the destination did see, however late (a busy machine can
/// delay the listener past the timeout): a raw packet that arrived passed;
/// a TCP SYN, UDP request or echo request that arrived without the
/// exchange completing went one way. So a packet the router should have
/// dropped can never hide behind a timeout or a blocked reply.
fn settle(plan: &Plan, results: &Mutex<Vec<Option<Observed>>>, seen: &Seen) {
    // Let the listener drain what is still queued.
    std::thread::sleep(Duration::from_millis(200));
    let Ok(mut r) = results.lock() else { return };
    for (i, p) in plan.probes.iter().enumerate() {
        if !matches!(r[i], Some(Observed::Blocked(_))) || !seen.contains(i) {
            continue;
        }
        r[i] = Some(match p.kind {
            ProbeKind::Proto(_) => Observed::Passed("packet seen by the destination (late)".into()),
            ProbeKind::Udp(_) => Observed::OneWay("the request arrived, no reply came back".into()),
            ProbeKind::Tcp(_) => Observed::OneWay(
                "the connection request (SYN) arrived, the connection did not open".into(),
            ),
            ProbeKind::Echo => {
                Observed::OneWay("the echo request arrived, no reply came back".into())
            }
        });
    }
}

/// Runs every probe (concurrently, `concurrency` at a time) and returns
/// what each one saw, in plan order. A probe that was expected to pass but
/// was blocked is tried once more with a longer timeout, so a busy machine
/// does not produce false mismatches; nothing can make a blocked packet
/// pass, so the other direction needs no retry.
pub(crate) fn run_probes(
    plan: &Plan,
    net: &Network,
    listeners: &Listeners,
    concurrency: usize,
    timeout: Duration,
    capture: bool,
) -> Result<(Vec<Observed>, Vec<String>), KernelError> {
    let handles: Vec<File> = net
        .hosts
        .iter()
        .map(|ns| open(ns))
        .collect::<Result<_, _>>()?;
    let results: Mutex<Vec<Option<Observed>>> = Mutex::new(vec![None; plan.probes.len()]);
    let next = Mutex::new(0usize);
    let order: Vec<usize> = (0..plan.probes.len()).collect();
    let pass = |ids: &[usize], timeout: Duration, workers: usize| {
        std::thread::scope(|s| {
            for _ in 0..workers.max(1) {
                s.spawn(|| {
                    let mut current: Option<usize> = None;
                    loop {
                        let i = {
                            let Ok(mut n) = next.lock() else { return };
                            let Some(&i) = ids.get(*n) else { return };
                            *n += 1;
                            i
                        };
                        let p = &plan.probes[i];
                        let observed = match plan.addrs(p) {
                            None => {
                                Observed::Failed("the hosts have no address in this family".into())
                            }
                            Some((src, dst)) => {
                                if current != Some(p.src) {
                                    if let Err(e) = enter(&handles[p.src], &net.hosts[p.src]) {
                                        if let Ok(mut r) = results.lock() {
                                            r[i] = Some(Observed::Failed(e.to_string()));
                                        }
                                        continue;
                                    }
                                    current = Some(p.src);
                                }
                                probe_once(i, p, src, dst, &listeners.seen, timeout)
                            }
                        };
                        if let Ok(mut r) = results.lock() {
                            r[i] = Some(observed);
                        }
                    }
                });
            }
        });
    };
    let mut captured = Vec::new();
    for phase in phases(plan, &order) {
        crate::netns::flush_conntrack(&net.router)?;
        if let Ok(mut n) = next.lock() {
            *n = 0;
        }
        pass(&phase, timeout, concurrency);
        if capture {
            // The router's connection table of this phase, before the
            // next flush: every connection the phase's probes opened
            // through the router (a connection the rules dropped is never
            // confirmed, so it is not listed).
            let table = crate::netns::run_in(
                &net.router,
                "read the router's connection table",
                &["cat", "/proc/net/nf_conntrack"],
                None,
            )?;
            captured.extend(table.lines().map(str::to_string));
        }
    }
    settle(plan, &results, &listeners.seen);
    let retry: Vec<usize> = {
        let r = results.lock().map_err(|_| KernelError {
            action: "collect results".into(),
            detail: "poisoned".into(),
        })?;
        order
            .iter()
            .copied()
            .filter(|&i| {
                plan.probes[i].expected.action == zonal_model::Action::Allow
                    && matches!(r[i], Some(Observed::Blocked(_) | Observed::OneWay(_)))
            })
            .collect()
    };
    for phase in phases(plan, &retry) {
        crate::netns::flush_conntrack(&net.router)?;
        if let Ok(mut n) = next.lock() {
            *n = 0;
        }
        pass(&phase, timeout * 3, concurrency);
    }
    settle(plan, &results, &listeners.seen);
    let r = results.into_inner().map_err(|_| KernelError {
        action: "collect results".into(),
        detail: "poisoned".into(),
    })?;
    Ok((
        r.into_iter()
            .map(|o| o.unwrap_or_else(|| Observed::Failed("the probe did not run".into())))
            .collect(),
        captured,
    ))
}

/// Splits probes into phases so that no probe shares a phase with its
/// exact opposite when the kernel tracks the protocol without ports: for
/// a raw protocol, a packet from B to A matches the connection-tracking
/// entry of an earlier packet from A to B and passes as its reply. Each
/// phase starts with an empty connection table.
fn phases(plan: &Plan, ids: &[usize]) -> Vec<Vec<usize>> {
    let mut first = Vec::new();
    let mut second = Vec::new();
    let mut taken: BTreeSet<(usize, usize, bool, ProbeKind)> = BTreeSet::new();
    for &i in ids {
        let p = &plan.probes[i];
        if matches!(p.kind, ProbeKind::Proto(_)) && taken.contains(&(p.dst, p.src, p.v6, p.kind)) {
            second.push(i);
        } else {
            taken.insert((p.src, p.dst, p.v6, p.kind));
            first.push(i);
        }
    }
    [first, second]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_checksum_matches_rfc_1071() {
        // An echo request with id 1, sequence 1 and no payload.
        assert_eq!(checksum(&[8, 0, 0, 0, 0, 1, 0, 1]), 0xf7fd);
        // A message with its checksum filled in sums to zero.
        let mut msg = vec![8, 0, 0, 0, 0x12, 0x34, 0, 7, b'a', b'b', b'c'];
        let sum = checksum(&msg).to_be_bytes();
        msg[2] = sum[0];
        msg[3] = sum[1];
        assert_eq!(checksum(&msg), 0);
    }

    #[test]
    fn tokens_are_found_after_an_ip_header() {
        let mut packet = vec![0x45u8; 20];
        packet.extend_from_slice(&token(4711));
        assert_eq!(find_token(&packet), Some(4711));
        assert_eq!(find_token(b"zonal-verify-probe:"), None);
        assert_eq!(find_token(b"something else"), None);
    }

    #[test]
    fn seen_wakes_a_waiting_probe_and_times_out_otherwise() {
        let seen = Arc::new(Seen::default());
        let other = Arc::clone(&seen);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.record(3);
        });
        assert!(seen.wait(3, Duration::from_secs(5)));
        t.join().unwrap();
        assert!(!seen.wait(4, Duration::from_millis(30)));
    }
}
