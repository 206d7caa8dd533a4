//! The Zonal policy language: syntax tree, parser and canonical formatter.
//!
//! This crate depends on nothing downstream. The parser never panics and
//! never fails: it returns a tree plus diagnostics ([`parse`]).

pub mod ast;
pub mod codes;
mod format;
mod parser;
pub mod suggest;

pub use parser::{ICMP_TYPE_NAMES, MAX_FILE_BYTES, MAX_ITEMS, RESERVED, is_ae_char};

use zonal_diagnostics::{Diagnostics, FileId};

/// The result of parsing one file: a tree (with error nodes where items
/// failed to parse) and the syntax diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The tree.
    pub file: ast::SourceFile,
    /// Syntax errors, in source order.
    pub diagnostics: Diagnostics,
}

/// Parses one file. `file` is only used to build spans in diagnostics.
pub fn parse(file: FileId, text: &str) -> Parsed {
    parser::parse(file, text)
}

/// Formats a parsed file in the canonical layout (see `docs/language.md`).
/// `text` is the text `parsed` came from. Meant for files without syntax
/// errors; items that failed to parse are copied verbatim.
pub fn format(parsed: &ast::SourceFile, text: &str) -> String {
    format::format(parsed, text)
}
