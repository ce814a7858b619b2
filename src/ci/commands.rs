//! GitHub Actions workflow commands (`::group::`, `::error ...::`, `::add-mask::`), with the
//! runner's escaping: `%`, CR and LF in messages, and also `:` and `,` in properties.

use std::fmt;

/// Escapes a command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property's value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// An annotation's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `::error`.
    Error,
    /// `::warning`.
    Warning,
}

/// A file annotation shown on the run page and in the pull request diff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Severity; `None` means error.
    pub level: Option<Level>,
    /// Path relative to the repository root.
    pub file: Option<String>,
    /// First line, 1-based.
    pub line: Option<usize>,
    /// First column, 1-based.
    pub col: Option<usize>,
    /// Last line.
    pub end_line: Option<usize>,
    /// Column after the last one.
    pub end_column: Option<usize>,
    /// A short title.
    pub title: Option<String>,
    /// The text (may span lines).
    pub message: String,
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let command = match self.level.unwrap_or(Level::Error) {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let numbers = [
            ("line", self.line),
            ("col", self.col),
            ("endLine", self.end_line),
            ("endColumn", self.end_column),
        ];
        let mut properties: Vec<String> = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
        }
        properties.extend(numbers.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))));
        if let Some(title) = &self.title {
            properties.push(format!("title={}", escape_property(title)));
        }
        let separator = if properties.is_empty() { "" } else { " " };
        write!(
            f,
            "::{command}{separator}{}::{}",
            properties.join(","),
            escape_data(&self.message)
        )
    }
}

/// Starts a collapsible group in the log.
pub fn group(title: &str) -> String {
    format!("::group::{}", escape_data(title))
}

/// Ends the current group.
pub const END_GROUP: &str = "::endgroup::";

/// Tells the runner to hide `secret` in every later log line.
pub fn add_mask(secret: &str) -> String {
    format!("::add-mask::{}", escape_data(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_percent_and_line_breaks_properties_also_colons_and_commas() {
        assert_eq!(escape_data("100% done\r\nnext: a,b"), "100%25 done%0D%0Anext: a,b");
        assert_eq!(escape_property("a: b, c%\n"), "a%3A b%2C c%25%0A");
    }

    #[test]
    fn an_annotation_lists_its_properties_in_order() {
        let annotation = Annotation {
            level: Some(Level::Warning),
            file: Some("src/main.rs".into()),
            line: Some(3),
            col: Some(9),
            end_line: Some(3),
            end_column: Some(15),
            title: Some("warning: unused variable: `x`".into()),
            message: "unused variable\nhelp: prefix it".into(),
        };
        assert_eq!(
            annotation.to_string(),
            "::warning file=src/main.rs,line=3,col=9,endLine=3,endColumn=15,title=warning%3A unused variable%3A `x`::unused variable%0Ahelp: prefix it"
        );
        let bare = Annotation {
            message: "no file".into(),
            ..Annotation::default()
        };
        assert_eq!(bare.to_string(), "::error::no file");
    }
}
