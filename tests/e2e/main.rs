//! End-to-end tests. One test binary; one module per concern.

mod build;
mod diagnostics;
mod fmt;
mod iptables;
mod lint;
mod nftables;
mod rule_count;
mod tidy;
mod xcheck;
