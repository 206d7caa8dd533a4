//! The parser's own error type. It never leaves the crate: the top-level
//! loop turns it into a [`zonal_diagnostics::Diagnostic`].

use nom::error::{ContextError, ErrorKind, ParseError};
use zonal_diagnostics::TextRange;

use super::Input;

/// A plain token mismatch (cheap, backtrackable, replaced by an "expected
/// …, found …" message by the caller that commits), or a specific error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyntaxError {
    /// The input does not start with the expected kind of token.
    Mismatch(usize),
    /// A specific error, boxed to keep results small.
    Specific(Box<ErrorData>),
}

/// The content of a specific error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorData {
    pub(crate) code: &'static str,
    pub(crate) range: TextRange,
    pub(crate) message: String,
    pub(crate) label: String,
    pub(crate) help: String,
    pub(crate) secondary: Vec<(TextRange, String)>,
}

impl SyntaxError {
    /// A specific error.
    pub(crate) fn new(
        code: &'static str,
        range: TextRange,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SyntaxError::Specific(Box::new(ErrorData {
            code,
            range,
            message: message.into(),
            label: label.into(),
            help: help.into(),
            secondary: Vec::new(),
        }))
    }

    /// A plain mismatch at `offset`.
    pub(crate) fn generic(offset: usize) -> Self {
        SyntaxError::Mismatch(offset)
    }

    /// Whether this is a plain mismatch.
    pub(crate) fn is_generic(&self) -> bool {
        matches!(self, SyntaxError::Mismatch(_))
    }

    /// Byte offset where the error starts.
    pub(crate) fn start(&self) -> usize {
        match self {
            SyntaxError::Mismatch(o) => *o,
            SyntaxError::Specific(d) => d.range.start as usize,
        }
    }

    /// Adds a secondary label.
    #[must_use]
    pub(crate) fn with_secondary(mut self, range: TextRange, message: impl Into<String>) -> Self {
        if let SyntaxError::Specific(d) = &mut self {
            d.secondary.push((range, message.into()));
        }
        self
    }
}

impl<'a> ParseError<Input<'a>> for SyntaxError {
    fn from_error_kind(input: Input<'a>, _kind: ErrorKind) -> Self {
        SyntaxError::generic(input.location_offset())
    }

    fn append(_input: Input<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // Keep the error that got furthest; prefer a specific one.
        match (self.is_generic(), other.is_generic()) {
            (true, false) => other,
            (false, true) => self,
            _ if other.start() >= self.start() => other,
            _ => self,
        }
    }
}

impl<'a> ContextError<Input<'a>> for SyntaxError {}
