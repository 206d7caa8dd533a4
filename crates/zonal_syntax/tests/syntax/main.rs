//! Tests of the parser and formatter: one test binary.

mod common;
mod docs;
mod format;
mod properties;
mod recovery;
mod tree;
