//! Devices: properties, addresses (inside the zone, one device each) and
//! listeners (`listens SERVICE on PORT` moves a service's port for one
//! device).

use std::collections::BTreeMap;

use zonal_diagnostics::{FileId, TextRange};
use zonal_syntax::ast;

use super::{Resolver, errors, sort_by_name, sp};
use crate::addr::{AddrSet, Prefix};
use crate::ir::{Device, DeviceId, Listener, ServiceId, Zone, ZoneId};
use crate::service;
use crate::vocab;

impl Resolver<'_> {
    /// Every device, sorted by name and checked, and the new id of each
    /// device by declaration index. Each device is also listed in its zone.
    pub(super) fn build_devices(
        &mut self,
        zone_new_id: &[ZoneId],
        zones: &mut [Zone],
        service_ids: &BTreeMap<String, ServiceId>,
    ) -> (Vec<Device>, Vec<DeviceId>) {
        let (order, dev_new_id) = sort_by_name(&self.devices, |d| &d.decl.name.name, DeviceId);
        let devices: Vec<Device> = order
            .iter()
            .map(|&old| self.build_device(old, zone_new_id, &dev_new_id, zones, service_ids))
            .collect();
        self.check_device_addresses(&devices);
        for d in &devices {
            zones[d.zone.index()].devices.push(d.id);
        }
        (devices, dev_new_id)
    }

    fn build_device(
        &mut self,
        old: usize,
        zone_new_id: &[ZoneId],
        dev_new_id: &[DeviceId],
        zones: &[Zone],
        service_ids: &BTreeMap<String, ServiceId>,
    ) -> Device {
        let (file, decl, zone_old) = {
            let d = &self.devices[old];
            (d.file, d.decl, d.zone)
        };
        let zid = zone_new_id[zone_old];
        let decl_range = decl
            .props
            .iter()
            .fold(decl.name.range, |r, p| r.cover(p.range));
        let mut dev = Device {
            id: dev_new_id[old],
            name: decl.name.name.clone(),
            span: sp(file, decl.name.range),
            decl_span: sp(file, decl_range),
            zone: zid,
            addresses: Vec::new(),
            addrs: AddrSet::empty(),
            kind: None,
            vendor: None,
            model: None,
            os: None,
            description: None,
            legacy: false,
            wireless: false,
            storage_commitment: false,
            move_destination: false,
            ae: None,
            listens: Vec::new(),
        };
        let zone = &zones[zid.index()];
        let mut seen: BTreeMap<&'static str, TextRange> = BTreeMap::new();
        for p in &decl.props {
            let key: Option<&'static str> = match &p.kind {
                ast::DevicePropKind::Kind(_) => Some("kind"),
                ast::DevicePropKind::Vendor(_) => Some("vendor"),
                ast::DevicePropKind::Model(_) => Some("model"),
                ast::DevicePropKind::Os(_) => Some("os"),
                ast::DevicePropKind::Description(_) => Some("description"),
                ast::DevicePropKind::Ae(_) => Some("ae"),
                _ => None,
            };
            if let Some(k) = key
                && !self.first_setting(&mut seen, k, file, p.range)
            {
                continue;
            }
            self.device_prop(&mut dev, zone, file, &p.kind, service_ids);
        }
        dev.addresses.sort();
        dev.addresses.dedup();
        dev.addrs = AddrSet::from_prefixes(&dev.addresses);
        dev
    }

    /// Applies one property of `dev`, a device of `zone`.
    fn device_prop(
        &mut self,
        dev: &mut Device,
        zone: &Zone,
        file: FileId,
        prop: &ast::DevicePropKind,
        service_ids: &BTreeMap<String, ServiceId>,
    ) {
        match prop {
            ast::DevicePropKind::Address(list) => self.device_addresses(dev, zone, file, list),
            ast::DevicePropKind::Kind(k) => {
                self.check_word(file, k, "device kind", vocab::DEVICE_KINDS);
                dev.kind = Some(k.name.clone());
            }
            ast::DevicePropKind::Vendor(s) => dev.vendor = Some(s.value.clone()),
            ast::DevicePropKind::Model(s) => dev.model = Some(s.value.clone()),
            ast::DevicePropKind::Os(s) => dev.os = Some(s.value.clone()),
            ast::DevicePropKind::Description(s) => dev.description = Some(s.value.clone()),
            ast::DevicePropKind::Legacy => dev.legacy = true,
            ast::DevicePropKind::Wireless => dev.wireless = true,
            ast::DevicePropKind::StorageCommitment => dev.storage_commitment = true,
            ast::DevicePropKind::MoveDestination => dev.move_destination = true,
            ast::DevicePropKind::Ae(ae) => {
                if is_ae_title(&ae.value) {
                    dev.ae = Some(ae.value.clone());
                } else {
                    self.err(errors::invalid_ae_title(&ae.value, sp(file, ae.range)));
                }
            }
            ast::DevicePropKind::Listens(ls) => {
                for l in ls {
                    if let Some(listener) = self.listener(file, l, service_ids) {
                        dev.listens.push(listener);
                    }
                }
            }
        }
    }

    /// Adds the addresses that are valid and inside the zone.
    fn device_addresses(
        &mut self,
        dev: &mut Device,
        zone: &Zone,
        file: FileId,
        list: &[ast::AddrLit],
    ) {
        for a in list {
            let Some(pfx) = self.prefix(file, a, "address") else {
                continue;
            };
            if !pfx.to_set().is_subset(&zone.addrs) {
                let d = errors::address_outside_zone(&a.text, &dev.name, zone, sp(file, a.range));
                self.err(d);
                continue;
            }
            dev.addresses.push(pfx);
        }
    }

    /// `listens SERVICE` or `listens SERVICE on PORT`; `None` after an error.
    fn listener(
        &mut self,
        file: FileId,
        l: &ast::Listener,
        service_ids: &BTreeMap<String, ServiceId>,
    ) -> Option<Listener> {
        let Some(&sid) = service_ids.get(&l.service.name) else {
            if !self.after_syntax_errors {
                let cands: Vec<&str> = service_ids.keys().map(String::as_str).collect();
                let d = errors::unknown_listened_service(
                    &l.service.name,
                    sp(file, l.service.range),
                    &cands,
                );
                self.err(d);
            }
            return None;
        };
        let base = self.named_set(&l.service.name);
        let port = match &l.port {
            Some(n) => Some(self.port(file, n)?),
            None => None,
        };
        let set = match port {
            Some(p) => {
                if base.selectors(service::TCP).is_empty()
                    && base.selectors(service::UDP).is_empty()
                {
                    self.err(errors::no_port_to_move(&l.service.name, sp(file, l.range)));
                    return None;
                }
                base.with_port(p)
            }
            None => base,
        };
        Some(Listener {
            service: sid,
            port,
            set,
            span: sp(file, l.range),
        })
    }

    /// Reports addresses given to two devices, and overlapping prefixes of
    /// different devices.
    fn check_device_addresses(&mut self, devices: &[Device]) {
        let mut owner: BTreeMap<Prefix, usize> = BTreeMap::new();
        for (i, d) in devices.iter().enumerate() {
            for p in &d.addresses {
                if let Some(&j) = owner.get(p) {
                    self.err(errors::address_shared(*p, &devices[j], d));
                } else {
                    owner.insert(*p, i);
                }
            }
        }
        // Overlapping (non-identical) device prefixes, by sweep.
        let mut all: Vec<(Prefix, usize)> = owner.into_iter().collect();
        all.sort();
        for w in all.windows(2) {
            let (a, ai) = w[0];
            let (b, bi) = w[1];
            if ai != bi && a.to_set().overlaps(&b.to_set()) {
                let d = errors::device_addresses_overlap(a, &devices[ai], b, &devices[bi]);
                self.err(d);
            }
        }
    }
}

/// A DICOM AE title: 1 to 16 printable ASCII characters, no backslash,
/// not only spaces (PS3.5 AE value representation).
fn is_ae_title(s: &str) -> bool {
    !s.trim().is_empty()
        && s.len() <= 16
        && s.chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\')
}
