//! End-to-end tests. One test binary; one module per concern.

mod build;
mod diagnostics;
mod fmt;
mod ios;
mod lint;
mod rule_count;
mod tidy;
mod xcheck;
