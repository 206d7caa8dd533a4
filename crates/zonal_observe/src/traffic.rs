//! A seeded generator of observed traffic for a policy: the connections
//! of its workflows (every active allow rule: C-STORE, storage commitment,
//! C-MOVE, worklist, HL7, web viewer, vendor sessions, NTP, DNS, syslog, …),
//! each checked with [`Policy::decide`], plus optional noise that a
//! segmented network should block (port scans from guest Wi-Fi, a
//! modality beaconing to the internet). Written as Zeek `conn.log` (TSV or
//! JSON), `conntrack -L`, `/proc/net/nf_conntrack` or CSV lines.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use zonal_model::service::{ICMP, ICMPV6, TCP, UDP, proto_name};
use zonal_model::{Action, AddrSet, Policy};
use zonal_synth::Rng;

use crate::flow::{Flow, Timestamp};
use crate::read::Format;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct TrafficConfig {
    /// The seed: the same seed and policy give the same records.
    pub seed: u64,
    /// Records to generate.
    pub records: u64,
    /// Percentage of records that are noise (0 for a clean capture).
    pub noise_percent: u32,
    /// The first record's time.
    pub start: Timestamp,
}

impl TrafficConfig {
    /// A clean capture of `records` records from 2026-12-01 08:00 UTC.
    pub fn clean(seed: u64, records: u64) -> Self {
        TrafficConfig {
            seed,
            records,
            noise_percent: 0,
            start: Timestamp(1_796_112_000),
        }
    }
}

/// One generated connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthFlow {
    /// The flow.
    pub flow: Flow,
    /// The initiator's source port (or ICMP identifier).
    pub sport: u16,
    /// The rule whose workflow it is, or `noise: …`.
    pub workflow: String,
}

/// One workflow leg to draw from.
struct Source {
    name: String,
    src: AddrSet,
    dst: AddrSet,
    services: Vec<(u8, u16, u16)>,
}

/// The generator (an iterator of [`SynthFlow`]).
pub struct Traffic<'p> {
    policy: &'p Policy,
    rng: Rng,
    config: TrafficConfig,
    sources: Vec<Source>,
    device_hosts: Vec<IpAddr>,
    guests: Vec<AddrSet>,
    modalities: Vec<IpAddr>,
    targets: Vec<IpAddr>,
    internet: Option<AddrSet>,
    done: u64,
}

impl<'p> Traffic<'p> {
    /// A generator for `policy`.
    pub fn new(policy: &'p Policy, config: TrafficConfig) -> Self {
        let mut sources = Vec::new();
        for r in policy.active_rules().filter(|r| r.action == Action::Allow) {
            for t in &r.terms {
                let mut services = Vec::new();
                for (proto, sel) in t.services.iter() {
                    for &(lo, hi) in sel.ranges() {
                        services.push((proto, lo, hi));
                    }
                }
                if !services.is_empty() && !t.src.is_empty() && !t.dst.is_empty() {
                    sources.push(Source {
                        name: r.name.clone(),
                        src: t.src.clone(),
                        dst: t.dst.clone(),
                        services,
                    });
                }
            }
        }
        let device_hosts: Vec<IpAddr> = policy
            .devices
            .iter()
            .flat_map(|d| d.addresses.iter().filter(|p| p.is_host()).map(|p| p.addr()))
            .collect();
        let guests = policy
            .zones
            .iter()
            .filter(|z| z.is("guest") && !z.addrs.is_empty())
            .map(|z| z.addrs.clone())
            .collect();
        let in_kind = |kind: &str| -> Vec<IpAddr> {
            policy
                .devices
                .iter()
                .filter(|d| policy.zone(d.zone).is(kind))
                .flat_map(|d| d.addresses.iter().filter(|p| p.is_host()).map(|p| p.addr()))
                .collect()
        };
        let modalities = in_kind("modality");
        let targets = if modalities.is_empty() {
            device_hosts.clone()
        } else {
            modalities.clone()
        };
        let internet = policy
            .zones
            .iter()
            .find(|z| z.external && z.networks.is_empty())
            .map(|z| z.addrs.clone());
        Traffic {
            policy,
            rng: Rng::new(config.seed),
            config,
            sources,
            device_hosts,
            guests,
            modalities,
            targets,
            internet,
            done: 0,
        }
    }

    /// An address of `set`: a declared device's address in it when there
    /// is one (most of the time), else a host address inside it.
    fn address(&mut self, set: &AddrSet) -> Option<IpAddr> {
        if self.rng.chance(90) {
            let hosts: Vec<IpAddr> = self
                .device_hosts
                .iter()
                .copied()
                .filter(|ip| set.contains(*ip))
                .collect();
            if let Some(ip) = self.rng.pick(&hosts) {
                return Some(*ip);
            }
        }
        let v4 = set.v4_ranges();
        let v6 = set.v6_ranges();
        let use_v4 = !v4.is_empty() && (v6.is_empty() || self.rng.chance(80));
        if use_v4 {
            let &(lo, hi) = self.rng.pick(v4)?;
            let (lo, hi) = if hi - lo >= 2 {
                (lo + 1, hi - 1)
            } else {
                (lo, hi)
            };
            let v = self.rng.range_u128(u128::from(lo), u128::from(hi));
            Some(IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(lo))))
        } else {
            let &(lo, hi) = self.rng.pick(v6)?;
            let (lo, hi) = if hi - lo >= 2 {
                (lo + 1, hi - 1)
            } else {
                (lo, hi)
            };
            Some(IpAddr::V6(Ipv6Addr::from(self.rng.range_u128(lo, hi))))
        }
    }

    fn workflow(&mut self) -> Option<(Flow, String)> {
        for _ in 0..32 {
            let i = self.rng.below(self.sources.len());
            let (src_set, dst_set, services, name) = {
                let s = self.sources.get(i)?;
                (
                    s.src.clone(),
                    s.dst.clone(),
                    s.services.clone(),
                    s.name.clone(),
                )
            };
            let &(proto, lo, hi) = self.rng.pick(&services)?;
            let selector = match proto {
                // An echo request where the service allows it, for realism.
                ICMP if (lo..=hi).contains(&8) => 8,
                ICMPV6 if (lo..=hi).contains(&128) => 128,
                _ => self.rng.range_u16(lo, hi),
            };
            let Some(src) = self.address(&src_set) else {
                continue;
            };
            let family = AddrSet::full_family(if src.is_ipv4() {
                zonal_model::Family::V4
            } else {
                zonal_model::Family::V6
            });
            let Some(dst) = self.address(&dst_set.intersect(&family)) else {
                continue;
            };
            if src == dst {
                continue;
            }
            let f = self.flow(src, dst, proto, selector);
            if self.policy.decide(src, dst, proto, selector).action == Action::Allow {
                return Some((f, name));
            }
        }
        None
    }

    fn flow(&self, src: IpAddr, dst: IpAddr, proto: u8, selector: u16) -> Flow {
        // Spread over a week, whatever the number of records.
        let week: u128 = 7 * 86_400;
        let offset = u128::from(self.done) * week / u128::from(self.config.records.max(1));
        let ts = Timestamp(self.config.start.0 + i64::try_from(offset).unwrap_or(0));
        Flow {
            src,
            dst,
            proto,
            selector,
            count: 1,
            first: Some(ts),
            last: Some(ts),
        }
    }

    fn noise(&mut self) -> Option<(Flow, String)> {
        const SCAN_PORTS: [u16; 9] = [22, 23, 80, 104, 135, 139, 445, 3389, 5900];
        if !self.guests.is_empty() && !self.targets.is_empty() && self.rng.chance(50) {
            let i = self.rng.below(self.guests.len());
            let set = self.guests[i].clone();
            let src = self.address(&set)?;
            let targets: Vec<IpAddr> = self
                .targets
                .iter()
                .copied()
                .filter(|t| t.is_ipv4() == src.is_ipv4())
                .collect();
            let dst = *self.rng.pick(&targets)?;
            let port = *self.rng.pick(&SCAN_PORTS)?;
            return Some((
                self.flow(src, dst, TCP, port),
                "noise: port scan from guest Wi-Fi".into(),
            ));
        }
        let internet = self.internet.clone()?;
        let v4: Vec<IpAddr> = self
            .modalities
            .iter()
            .copied()
            .filter(IpAddr::is_ipv4)
            .collect();
        let src = *self.rng.pick(&v4)?;
        // A public address outside the documentation ranges, checked to be
        // in the internet zone.
        let dst = IpAddr::V4(Ipv4Addr::new(
            185,
            u8::try_from(self.rng.below(256)).unwrap_or(0),
            u8::try_from(self.rng.below(256)).unwrap_or(0),
            u8::try_from(1 + self.rng.below(254)).unwrap_or(1),
        ));
        if !internet.contains(dst) {
            return None;
        }
        let (proto, port) = *self.rng.pick(&[(TCP, 443), (TCP, 8080), (UDP, 53)])?;
        Some((
            self.flow(src, dst, proto, port),
            "noise: modality beaconing to the internet".into(),
        ))
    }
}

impl Iterator for Traffic<'_> {
    type Item = SynthFlow;

    fn next(&mut self) -> Option<SynthFlow> {
        if self.done >= self.config.records {
            return None;
        }
        let noisy = self.config.noise_percent > 0 && self.rng.chance(self.config.noise_percent);
        let mut made = if noisy { self.noise() } else { None };
        if made.is_none() {
            made = self.workflow();
        }
        let (flow, workflow) = made?;
        self.done += 1;
        let sport = self.rng.range_u16(32_768, 60_999);
        Some(SynthFlow {
            flow,
            sport,
            workflow,
        })
    }
}

/// The lines a format starts with (Zeek's header, the CSV header).
pub fn header(format: Format) -> String {
    match format {
        Format::Zeek => "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n".into(),
        Format::Csv => "src,dst,proto,dport,count,first_seen,last_seen\n".into(),
        Format::ZeekJson | Format::Conntrack | Format::NfConntrack => String::new(),
    }
}

/// `/proc/net/nf_conntrack` writes IPv6 addresses in full.
fn full_v6(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(a) => a
            .segments()
            .iter()
            .map(|s| format!("{s:04x}"))
            .collect::<Vec<_>>()
            .join(":"),
        IpAddr::V4(a) => a.to_string(),
    }
}

/// Appends the record of one generated connection in `format` (with its
/// newline). Zeek's `conn.log` records only TCP, UDP and ICMP: other
/// protocols (ESP, GRE) are left out of the Zeek formats (returns false).
pub fn write_record(format: Format, f: &SynthFlow, serial: u64, out: &mut String) -> bool {
    let Flow {
        src,
        dst,
        proto,
        selector,
        ..
    } = f.flow;
    let ts = f.flow.first.map_or(0, |t| t.0);
    let name = proto_name(proto);
    match format {
        Format::Zeek | Format::ZeekJson => {
            let (zproto, op, rp, state, history) = match proto {
                TCP => ("tcp", f.sport, selector, "SF", "ShADadFf"),
                UDP => ("udp", f.sport, selector, "SF", "Dd"),
                ICMP | ICMPV6 => ("icmp", selector, 0, "OTH", "-"),
                _ => return false,
            };
            let uid = format!("C{:016x}", serial.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            if format == Format::Zeek {
                let _ = writeln!(
                    out,
                    "{ts}.{:06}\t{uid}\t{src}\t{op}\t{dst}\t{rp}\t{zproto}\t-\t0.{:06}\t{}\t{}\t{state}\tT\tT\t0\t{history}\t8\t1200\t6\t900\t-",
                    serial % 1_000_000,
                    serial % 999_983,
                    300 + serial % 5000,
                    200 + serial % 700,
                );
            } else {
                let _ = writeln!(
                    out,
                    "{{\"ts\":{ts}.{:06},\"uid\":\"{uid}\",\"id.orig_h\":\"{src}\",\"id.orig_p\":{op},\"id.resp_h\":\"{dst}\",\"id.resp_p\":{rp},\"proto\":\"{zproto}\",\"conn_state\":\"{state}\",\"local_orig\":true,\"local_resp\":true,\"history\":\"{history}\",\"orig_pkts\":8,\"resp_pkts\":6}}",
                    serial % 1_000_000
                );
            }
        }
        Format::Conntrack | Format::NfConntrack => {
            if format == Format::NfConntrack {
                let (fam, n) = if src.is_ipv4() {
                    ("ipv4", 2)
                } else {
                    ("ipv6", 10)
                };
                let _ = write!(out, "{fam:<8} {n} ");
            }
            let conntrack_name = match proto {
                TCP | UDP | ICMP | ICMPV6 | 47 | 132 => name.as_str(),
                _ => "unknown",
            };
            let (s, d) = if format == Format::NfConntrack {
                (full_v6(src), full_v6(dst))
            } else {
                (src.to_string(), dst.to_string())
            };
            let _ = write!(out, "{conntrack_name:<8} {proto} ");
            let extra = if format == Format::NfConntrack {
                " zone=0 use=2"
            } else {
                " use=1"
            };
            match proto {
                TCP => {
                    let _ = writeln!(
                        out,
                        "431999 ESTABLISHED src={s} dst={d} sport={sp} dport={selector} src={d} dst={s} sport={selector} dport={sp} [ASSURED] mark=0{extra}",
                        sp = f.sport
                    );
                }
                UDP => {
                    let _ = writeln!(
                        out,
                        "28 src={s} dst={d} sport={sp} dport={selector} src={d} dst={s} sport={selector} dport={sp} mark=0{extra}",
                        sp = f.sport
                    );
                }
                ICMP | ICMPV6 => {
                    let reply = if proto == ICMP { 0 } else { 129 };
                    let _ = writeln!(
                        out,
                        "29 src={s} dst={d} type={selector} code=0 id={id} src={d} dst={s} type={reply} code=0 id={id} mark=0{extra}",
                        id = f.sport
                    );
                }
                _ => {
                    let _ = writeln!(out, "599 src={s} dst={d} src={d} dst={s} mark=0{extra}");
                }
            }
        }
        Format::Csv => {
            let t = Timestamp(ts);
            let _ = writeln!(out, "{src},{dst},{name},{selector},1,{t},{t}");
        }
    }
    true
}
