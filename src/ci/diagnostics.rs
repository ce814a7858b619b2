//! Compiler diagnostics (cargo's JSON messages) as Actions annotations on the right file and line.

use std::path::Path;

use cargo_metadata::diagnostic::{Diagnostic, DiagnosticLevel};

use super::commands::{Annotation, Level};

/// The annotation for an error or warning with a primary span; `None` for notes, help and
/// summaries without a location ("aborting due to 1 previous error").
///
/// rustc names files relative to the workspace root (where cargo runs it); annotations need them
/// relative to the repository checkout (`GITHUB_WORKSPACE`).
pub fn annotation(diagnostic: &Diagnostic, workspace_root: &Path, checkout: &Path) -> Option<Annotation> {
    let level = match diagnostic.level {
        DiagnosticLevel::Error | DiagnosticLevel::Ice => Level::Error,
        DiagnosticLevel::Warning => Level::Warning,
        _ => return None,
    };
    let span = diagnostic.spans.iter().find(|s| s.is_primary)?;
    let absolute = workspace_root.join(&span.file_name);
    let file = absolute.strip_prefix(checkout).unwrap_or(&absolute);
    let kind = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let title = match &diagnostic.code {
        Some(code) => format!("{kind}[{}]: {}", code.code, diagnostic.message),
        None => format!("{kind}: {}", diagnostic.message),
    };
    let message = diagnostic
        .rendered
        .as_deref()
        .map(strip_ansi)
        .unwrap_or_else(|| diagnostic.message.clone());
    Some(Annotation {
        level: Some(level),
        file: Some(file.display().to_string()),
        line: Some(span.line_start),
        col: Some(span.column_start),
        end_line: Some(span.line_end),
        end_column: Some(span.column_end),
        title: Some(title),
        message: message.trim_end().to_owned(),
    })
}

/// The annotation for a failed build's diagnosis, on the Cargo.toml line to change when it
/// names one (so it shows on the pull request's diff).
pub fn diagnosis_annotation(diagnosis: &crate::diagnose::Diagnosis, checkout: &Path) -> Annotation {
    Annotation {
        level: Some(Level::Error),
        file: diagnosis
            .at
            .as_ref()
            .map(|at| crate::diagnose::relative(&at.file, checkout)),
        line: diagnosis.at.as_ref().map(|at| at.line),
        title: Some(format!("lambda-build: {}", diagnosis.class)),
        message: diagnosis.to_string(),
        ..Default::default()
    }
}

/// Removes terminal colour codes (`ESC [ ... m`), which rendered diagnostics carry on a terminal.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(level: &str, spans: &str) -> Diagnostic {
        serde_json::from_str(&format!(
            r#"{{"message": "unused variable: `x`", "code": {{"code": "unused_variables", "explanation": null}},
                "level": "{level}", "spans": {spans}, "children": [],
                "rendered": "\u001b[33mwarning\u001b[0m: unused variable: `x`\n --> a/src/main.rs:3:9\n"}}"#
        ))
        .unwrap()
    }

    const SPAN: &str = r#"[{"file_name": "a/src/main.rs", "byte_start": 0, "byte_end": 1, "line_start": 3,
        "line_end": 3, "column_start": 9, "column_end": 10, "is_primary": true, "text": [],
        "label": null, "suggested_replacement": null, "suggestion_applicability": null, "expansion": null}]"#;

    #[test]
    fn a_warning_points_at_its_primary_span_relative_to_the_checkout() {
        let a = annotation(&diagnostic("warning", SPAN), Path::new("/repo/ws"), Path::new("/repo")).unwrap();
        assert_eq!(a.file.as_deref(), Some("ws/a/src/main.rs"));
        assert_eq!(
            (a.line, a.col, a.end_line, a.end_column),
            (Some(3), Some(9), Some(3), Some(10))
        );
        assert_eq!(
            a.title.as_deref(),
            Some("warning[unused_variables]: unused variable: `x`")
        );
        assert_eq!(a.message, "warning: unused variable: `x`\n --> a/src/main.rs:3:9");
    }

    #[test]
    fn notes_and_locationless_messages_are_not_annotations() {
        assert!(annotation(&diagnostic("note", SPAN), Path::new("/r"), Path::new("/r")).is_none());
        assert!(annotation(&diagnostic("error", "[]"), Path::new("/r"), Path::new("/r")).is_none());
    }
}
