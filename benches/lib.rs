//! Benchmarks of Zonal; see `check.rs` and `docs/performance.md`.
