//! End-to-end tests. One test binary; one module per concern.

mod advice;
mod asa_panos;
mod blast_radius;
mod broad;
mod build;
mod diagnostics;
mod exactness;
mod fmt;
mod ios;
mod iptables;
mod lint;
mod nftables;
mod oracle;
mod redeploy_fortigate_asa;
mod render_growth;
mod rule_count;
mod srx_panos_pf;
mod tidy;
mod xcheck;
