//! Step outputs in `$GITHUB_OUTPUT`, in the multi-line form `name<<DELIMITER ... DELIMITER`
//! with a random delimiter, so no value (a JSON list, a path with a newline) can end it early.

use std::path::Path;

/// Appends `outputs` to the file GitHub reads step outputs from.
pub fn append(path: &Path, outputs: &[(&str, String)]) -> anyhow::Result<()> {
    let text: String = outputs.iter().map(|(name, value)| entry(name, value)).collect();
    super::append_to(path, "GITHUB_OUTPUT", &text)
}

fn entry(name: &str, value: &str) -> String {
    let delimiter = loop {
        let candidate = format!("ghadelimiter_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        if !value.contains(&candidate) {
            break candidate;
        }
    };
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses the file back as the runner does: `name=value` lines and multi-line entries.
    fn parse(text: &str) -> Vec<(String, String)> {
        let mut outputs = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                outputs.push((name.to_owned(), value.join("\n")));
            } else if let Some((name, value)) = line.split_once('=') {
                outputs.push((name.to_owned(), value.to_owned()));
            }
        }
        outputs
    }

    #[test]
    fn values_with_newlines_survive_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        std::fs::write(&path, "earlier=1\n").unwrap();
        append(
            &path,
            &[
                ("artifacts", "[\n  {\"a\": 1}\n]".into()),
                ("lambda-dir", "/t/lambda".into()),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            parse(&text),
            [
                ("earlier".to_owned(), "1".to_owned()),
                ("artifacts".to_owned(), "[\n  {\"a\": 1}\n]".to_owned()),
                ("lambda-dir".to_owned(), "/t/lambda".to_owned())
            ]
        );
        let delimiters: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once("<<").map(|(_, d)| d))
            .collect();
        assert_eq!(delimiters.len(), 2);
        assert_ne!(delimiters[0], delimiters[1], "delimiters are random");
    }
}
