//! The closed vocabulary of `kind` and `tags`: the words the lints
//! understand. A typo (`kind modalty`, `tags guset`) would silently switch
//! the safety lints off, so an unknown word is an error (E0219) with a
//! did-you-mean; a label of the user's own is written `custom:NAME`, which
//! every lint ignores. `docs/language.md` lists the words.

/// Zone kinds. A zone's tags take the same words.
pub const ZONE_KINDS: &[&str] = &[
    "building-automation",
    "byod",
    "clinical",
    "core",
    "dmz",
    "external",
    "guest",
    "infrastructure",
    "iot",
    "lab",
    "management",
    "medical-device",
    "modality",
    "pacs",
    "printers",
    "remote-access",
    "research",
    "ris",
    "servers",
    "vendor",
    "voip",
    "wireless",
    "workstations",
];

/// Device kinds.
pub const DEVICE_KINDS: &[&str] = &[
    // Modalities (DICOM modality codes where there is one).
    "bmd",
    "cr",
    "ct",
    "dx",
    "dx-portable",
    "io",
    "mg",
    "modality",
    "mr",
    "nm",
    "oct",
    "pet",
    "rf",
    "us",
    "xa",
    "xa-mobile",
    // Imaging systems.
    "adv-vis",
    "ai",
    "ai-gateway",
    "archive",
    "cad",
    "dicom-router",
    "dose",
    "mwl",
    "mwl-broker",
    "pacs",
    "printer",
    "dicom-printer",
    "ris",
    "vna",
    "web-viewer",
    // Other clinical devices and systems.
    "emr",
    "his",
    "infusion-pump",
    "interface-engine",
    "lis",
    "patient-monitor",
    // Infrastructure and IT.
    "av-management",
    "backup",
    "camera",
    "dhcp",
    "directory",
    "dns",
    "file-server",
    "firewall",
    "jump-host",
    "laptop",
    "nas",
    "ntp",
    "phone",
    "pra",
    "reverse-proxy",
    "router",
    "server",
    "siem",
    "switch",
    "syslog",
    "tablet",
    "ups",
    "vpn-router",
    "workstation",
];

/// The escape for a label of the user's own.
pub const CUSTOM_PREFIX: &str = "custom:";

/// Whether `word` is in `vocabulary` or a `custom:` label.
pub fn is_known(word: &str, vocabulary: &[&str]) -> bool {
    word.starts_with(CUSTOM_PREFIX) || vocabulary.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_are_sorted_within_groups_and_unique() {
        for v in [ZONE_KINDS, DEVICE_KINDS] {
            let mut seen = std::collections::BTreeSet::new();
            for w in v {
                assert!(seen.insert(*w), "{w} twice");
                assert!(!w.contains(':'), "{w}");
            }
        }
        assert!(is_known("custom:radiology", ZONE_KINDS));
        assert!(!is_known("modalty", ZONE_KINDS));
    }
}
