//! The stable codes of syntax errors. Each has a page `docs/diagnostics/<CODE>.md`.

/// Unexpected token: the parser expected one thing and found another.
pub const UNEXPECTED_TOKEN: &str = "E0001";
/// Unknown keyword: an item, property or annotation that does not exist.
pub const UNKNOWN_KEYWORD: &str = "E0002";
/// A string is not closed on its line.
pub const UNTERMINATED_STRING: &str = "E0003";
/// A string contains an escape other than `\"` and `\\`, or a control character.
pub const INVALID_STRING: &str = "E0004";
/// A reserved word is used as a name.
pub const RESERVED_WORD: &str = "E0005";
/// A `{` is never closed by its `}`.
pub const UNCLOSED_BLOCK: &str = "E0006";
/// A name is too long or ends in `-` or `.`.
pub const INVALID_NAME: &str = "E0007";
/// A number is followed by letters, e.g. `104a`.
pub const INVALID_NUMBER: &str = "E0008";
/// A date is not written `YYYY-MM-DD`.
pub const INVALID_DATE: &str = "E0009";
/// An input limit (file size, string length, number of items) is exceeded.
pub const LIMIT_EXCEEDED: &str = "E0010";
/// An `@suppress` annotation is not followed by an item or a device.
pub const DANGLING_SUPPRESSION: &str = "E0011";
/// A policy header sets `owner` or `description` twice.
pub const DUPLICATE_FIELD: &str = "E0012";

/// A character a reviewer cannot see, or a line break some tools do not
/// see (lone CR, U+2028, U+2029), anywhere in a file.
pub const INVISIBLE_CHARACTER: &str = "E0013";

/// Every syntax error code, in order.
pub const ALL: [&str; 13] = [
    UNEXPECTED_TOKEN,
    UNKNOWN_KEYWORD,
    UNTERMINATED_STRING,
    INVALID_STRING,
    RESERVED_WORD,
    UNCLOSED_BLOCK,
    INVALID_NAME,
    INVALID_NUMBER,
    INVALID_DATE,
    LIMIT_EXCEEDED,
    DANGLING_SUPPRESSION,
    DUPLICATE_FIELD,
    INVISIBLE_CHARACTER,
];
