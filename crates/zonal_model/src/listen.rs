//! Listener ports: the one place where a device's `listens SERVICE on PORT`
//! changes what a named service means toward that device.
//!
//! A named service always means the same thing toward a device, however it
//! is reached: a flow to the device, to its zone, to a group or to `any`;
//! the service named directly or as part of a composite service. With
//! `listens dicom on 11112`, `dicom` toward that device is TCP 11112 (and
//! not 104); toward every other address it is TCP 104. Rules, invariants,
//! `zonal query` and every backend get their ports from here, through the
//! rules' and invariants' terms.

use crate::ir::{Device, ServiceDef, ServiceId, ServiceUse};
use crate::service::ServiceSet;

/// Composite services nest at most this deep (the resolver rejects cycles;
/// this bounds the recursion on any input).
const MAX_DEPTH: usize = 64;

/// What the services `uses` cover toward `dev`: each named service (and
/// each part of a composite) that the device listens on with `on PORT` is
/// at the listener's port instead of its own; inline services (`tcp 8080`)
/// and `any` are unchanged.
pub fn services_toward(services: &[ServiceDef], dev: &Device, uses: &[ServiceUse]) -> ServiceSet {
    uses.iter().fold(ServiceSet::empty(), |acc, u| {
        let set = match u.name.as_deref().and_then(|n| service_id(services, n)) {
            Some(sid) if moves(services, dev, sid, 0) => effective(services, dev, sid, 0),
            _ => u.set.clone(),
        };
        acc.union(&set)
    })
}

/// What the named service `name` covers toward `dev` (its own set when the
/// device moves none of its parts); `None` for an unknown name.
pub fn named_toward(services: &[ServiceDef], dev: &Device, name: &str) -> Option<ServiceSet> {
    let sid = service_id(services, name)?;
    Some(effective(services, dev, sid, 0))
}

/// Whether `dev` moves any of the services `uses` name (directly or as a
/// part of a composite) to another port.
pub fn device_moves(services: &[ServiceDef], dev: &Device, uses: &[ServiceUse]) -> bool {
    if !dev.listens.iter().any(|l| l.port.is_some()) {
        return false;
    }
    uses.iter().any(|u| {
        u.name
            .as_deref()
            .and_then(|n| service_id(services, n))
            .is_some_and(|sid| moves(services, dev, sid, 0))
    })
}

fn service_id(services: &[ServiceDef], name: &str) -> Option<ServiceId> {
    services
        .binary_search_by(|s| s.name.as_str().cmp(name))
        .ok()
        .map(|i| services[i].id)
}

/// Whether the device has a listener with a port for `sid` or one of its parts.
fn moves(services: &[ServiceDef], dev: &Device, sid: ServiceId, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if dev
        .listens
        .iter()
        .any(|l| l.service == sid && l.port.is_some())
    {
        return true;
    }
    services
        .get(sid.index())
        .is_some_and(|s| s.refs.iter().any(|r| moves(services, dev, *r, depth + 1)))
}

/// The set of `sid` toward `dev`.
fn effective(services: &[ServiceDef], dev: &Device, sid: ServiceId, depth: usize) -> ServiceSet {
    let Some(def) = services.get(sid.index()) else {
        return ServiceSet::empty();
    };
    if depth > MAX_DEPTH {
        return def.set.clone();
    }
    let listeners: Vec<_> = dev.listens.iter().filter(|l| l.service == sid).collect();
    if listeners.iter().any(|l| l.port.is_some()) {
        // Every listener of the service counts: `listens dicom on 11112`
        // and `listens dicom on 104` mean both ports; a listener without a
        // port keeps the service's own.
        return listeners.iter().fold(ServiceSet::empty(), |acc, l| {
            acc.union(if l.port.is_some() { &l.set } else { &def.set })
        });
    }
    if !def.refs.iter().any(|r| moves(services, dev, *r, depth + 1)) {
        return def.set.clone();
    }
    def.refs.iter().fold(def.own.clone(), |acc, r| {
        acc.union(&effective(services, dev, *r, depth + 1))
    })
}
