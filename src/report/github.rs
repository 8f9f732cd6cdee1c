//! GitHub Actions workflow commands: one `::error` (blocking) or `::warning` annotation per
//! finding, shown on the pull request's diff. Values are escaped as the runner requires
//! (`%`, CR and LF everywhere; also `:` and `,` in properties); only redacted previews appear.

use super::Report;
use crate::model::{date, Kind, Outcome, Place};
use crate::redact::escape;
use std::io;

/// The GitHub annotations report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Github;

impl Report for Github {
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        for f in outcome.shown() {
            let command = if f.blocking { "error" } else { "warning" };
            let mut props = format!("file={}", property(&escape(&f.path)));
            if let Some(line) = f.line {
                props.push_str(&format!(",line={line}"));
            }
            if let Some(col) = f.column {
                props.push_str(&format!(",col={col}"));
            }
            props.push_str(&format!(
                ",title={}",
                property(&format!("keyward: {}", f.rule_name))
            ));
            let mut message = match f.kind {
                // Nobody meant to put a key in a message: take it out, and revoke it if it
                // went anywhere else.
                Kind::Secret if f.place == Place::Message => format!(
                    "{} {} fp:{} — remove it from the message; if it was shared anywhere, rotate it at {}",
                    f.rule_name,
                    f.preview.as_deref().unwrap_or(""),
                    f.fingerprint.as_deref().unwrap_or(""),
                    f.remedy
                ),
                Kind::Secret => format!(
                    "{} {} fp:{} — remove it and read it from the environment; rotate it at {}",
                    f.rule_name,
                    f.preview.as_deref().unwrap_or(""),
                    f.fingerprint.as_deref().unwrap_or(""),
                    f.remedy
                ),
                _ => format!("{}: {}", f.rule_name, f.remedy),
            };
            if let Some(c) = &f.commit {
                message.push_str(&format!(" (commit {}, {})", c.id, date(c.author_time)));
            }
            writeln!(
                out,
                "::{command} {props}::{}",
                data(&escape(message.as_bytes()))
            )?;
        }
        if let Some(line) = super::human::allowed_summary(outcome) {
            writeln!(out, "::notice title=keyward policy::{}", data(&line))?;
        }
        Ok(())
    }
}

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
