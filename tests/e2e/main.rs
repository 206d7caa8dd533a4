//! End-to-end tests. One test binary; one module per concern.

mod diagnostics;
mod tidy;
