//! Why a smoke-tested binary exited at init: most often a setting it reads from the
//! environment (`could not read QUEUE_URL: NotPresent`, `SENTRY_DSN environment variable is not
//! set`, a config loader's `MissingField("table_name")`), which Lambda would give it and the
//! smoke test did not.

/// The hint for a binary that failed its smoke test with `tail` as its last output lines; `None` when they do not read like
/// a missing setting.
pub fn missing_setting(tail: &[String]) -> Option<String> {
    let what = tail.iter().rev().find_map(|line| named(line))?;
    Some(format!(
        "hint: {what}: smoke runs it with Lambda's own variables and the build's only; give it a value with --env-var NAME=value, --env-file FILE, or env = {{ NAME = \"value\" }} under [package.metadata.lambda.build]"
    ))
}

/// What one output line says is missing.
fn named(line: &str) -> Option<String> {
    // std's `VarError::NotPresent`, shown with `{:?}`, after the name the program tried.
    if let Some((before, _)) = line.split_once("NotPresent") {
        return Some(match last_variable(before) {
            Some(var) => format!("it read the variable {var}, which is not set"),
            None => "it read an environment variable that is not set".to_owned(),
        });
    }
    let lower = line.to_ascii_lowercase();
    let unset = [
        "not set",
        "not found",
        "not present",
        "missing",
        "is required",
        "must be set",
    ];
    if (lower.contains("environment variable") || lower.contains("env var")) && unset.iter().any(|u| lower.contains(u))
    {
        return Some(match last_variable(line) {
            Some(var) => format!("it says the variable {var} is not set"),
            None => "it says an environment variable is not set".to_owned(),
        });
    }
    // serde's `missing field `x``, or a config loader's `MissingField("x")`.
    let field = line
        .split_once("MissingField(\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .or_else(|| {
            line.split_once("missing field `")
                .and_then(|(_, rest)| rest.split('`').next())
        })?;
    Some(format!(
        "its configuration misses the field {field} (often read from a variable such as {})",
        field.to_ascii_uppercase()
    ))
}

/// The last word of `text` written like an environment variable (`QUEUE_URL`).
fn last_variable(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .rfind(|w| {
            w.len() > 1
                && w.chars().any(|c| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !w.starts_with(|c: char| c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_public_projects_messages_name_their_setting() {
        let hint = |line: &str| missing_setting(&[line.to_owned()]);
        assert!(
            hint("thread 'main' panicked at src/main.rs:9:5:\ncould not read QUEUE_URL: NotPresent")
                .unwrap()
                .contains("it read the variable QUEUE_URL, which is not set: smoke runs it")
        );
        assert!(
            hint("Error: SENTRY_DSN environment variable is not set")
                .unwrap()
                .contains("it says the variable SENTRY_DSN is not set")
        );
        let field = hint("Error: MissingField(\"table_name\")").unwrap();
        assert!(
            field.contains("misses the field table_name (often read from a variable such as TABLE_NAME)"),
            "{field}"
        );
        assert!(field.contains(
            "--env-var NAME=value, --env-file FILE, or env = { NAME = \"value\" } under [package.metadata.lambda.build]"
        ));
        assert!(
            hint("called `Result::unwrap()` on an `Err` value: NotPresent")
                .unwrap()
                .contains("an environment variable")
        );
        assert_eq!(hint("thread 'main' panicked: index out of bounds"), None);
        assert_eq!(missing_setting(&[]), None);
    }
}
