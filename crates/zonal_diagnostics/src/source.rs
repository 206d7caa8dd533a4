use std::fmt;

/// A half-open byte range `start..end` into one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextRange {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl TextRange {
    /// Creates a range; `end` is clamped so that it is never before `start`.
    pub fn new(start: u32, end: u32) -> Self {
        TextRange {
            start,
            end: end.max(start),
        }
    }

    /// Creates a range from `usize` offsets, saturating at `u32::MAX`.
    pub fn from_usize(start: usize, end: usize) -> Self {
        let s = u32::try_from(start).unwrap_or(u32::MAX);
        let e = u32::try_from(end).unwrap_or(u32::MAX);
        TextRange::new(s, e)
    }

    /// An empty range at `offset`.
    pub fn empty(offset: u32) -> Self {
        TextRange {
            start: offset,
            end: offset,
        }
    }

    /// The smallest range covering both.
    #[must_use]
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> u32 {
        self.end - self.start
    }

    /// Whether the range is empty.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl fmt::Display for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Identifies a file registered in a [`SourceDb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A range in a specific file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// The byte range inside it.
    pub range: TextRange,
}

impl Span {
    /// Creates a span.
    pub fn new(file: FileId, range: TextRange) -> Self {
        Span { file, range }
    }
}

/// A 1-based line and column (column counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

#[derive(Debug, Clone)]
struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<u32>,
}

/// Owns the name and text of every file that diagnostics can point into:
/// policy files, templates and deployment bindings.
#[derive(Debug, Clone, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    /// An empty database.
    pub fn new() -> Self {
        SourceDb::default()
    }

    /// Registers a file. `name` is what diagnostics print (a path relative to
    /// the current directory, as the CLI computes it).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            name: name.into(),
            text,
            line_starts,
        });
        id
    }

    /// The file's display name.
    pub fn name(&self, file: FileId) -> &str {
        self.files
            .get(file.0 as usize)
            .map_or("<unknown>", |f| f.name.as_str())
    }

    /// The file's text.
    pub fn text(&self, file: FileId) -> &str {
        self.files
            .get(file.0 as usize)
            .map_or("", |f| f.text.as_str())
    }

    /// Every registered file id, in registration order.
    pub fn files(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).map(|i| FileId(u32::try_from(i).unwrap_or(u32::MAX)))
    }

    /// Finds a file by its display name.
    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(u32::try_from(i).unwrap_or(u32::MAX)))
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_col(&self, file: FileId, offset: u32) -> LineCol {
        let Some(f) = self.files.get(file.0 as usize) else {
            return LineCol { line: 1, col: 1 };
        };
        let offset = offset.min(u32::try_from(f.text.len()).unwrap_or(u32::MAX));
        let line_idx = match f.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = f.line_starts[line_idx] as usize;
        let mut end = (offset as usize).min(f.text.len());
        while end > start && !f.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = f.text[start..end].chars().count() + 1;
        LineCol {
            line: u32::try_from(line_idx + 1).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line_text(&self, file: FileId, line: u32) -> &str {
        let Some(f) = self.files.get(file.0 as usize) else {
            return "";
        };
        let idx = (line as usize).saturating_sub(1);
        let Some(&start) = f.line_starts.get(idx) else {
            return "";
        };
        let end = f
            .line_starts
            .get(idx + 1)
            .map_or(f.text.len(), |&e| e as usize);
        f.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }

    /// The number of lines in a file.
    pub fn line_count(&self, file: FileId) -> u32 {
        self.files.get(file.0 as usize).map_or(0, |f| {
            u32::try_from(f.line_starts.len()).unwrap_or(u32::MAX)
        })
    }
}
