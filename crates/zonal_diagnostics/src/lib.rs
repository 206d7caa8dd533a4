//! Spans, the source database and the one diagnostic model of Zonal.
//!
//! Every phase (syntax, model, lint, backend) produces [`Diagnostic`] values
//! that point at byte ranges ([`TextRange`]) in files registered in a
//! [`SourceDb`]. Line and column numbers are computed only when rendering
//! (see [`render`]).

mod diagnostic;
pub mod render;
mod source;
pub mod text;

pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use source::{FileId, LineCol, SourceDb, Span, TextRange};
