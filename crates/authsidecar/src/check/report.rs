//! The lines `authsidecar check` prints: one per check, with its verdict, a
//! detail, and for a warning or failure a hint saying how to fix it.
//!
//! Lines are printed as the checks finish, so a slow check (a timeout)
//! shows where it is stuck.

use std::fmt;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Passed.
    Ok,
    /// Passed, but something will need attention (does not fail the run).
    Warn,
    /// Failed: the deployment will not work as it stands.
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fixed width, so the check names line up in a column.
        f.write_str(match self {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        })
    }
}

/// The outcome of one check, before it is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The verdict.
    pub(crate) verdict: Verdict,
    /// What was found.
    pub(crate) detail: String,
    /// How to fix it (warnings and failures).
    pub(crate) hint: Option<String>,
}

impl Outcome {
    /// A passed check.
    pub(crate) fn ok(detail: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Ok,
            detail: detail.into(),
            hint: None,
        }
    }

    /// A warning with its hint.
    pub(crate) fn warn(detail: impl Into<String>, hint: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    /// A failure with its hint.
    pub(crate) fn fail(detail: impl Into<String>, hint: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
}

/// Width of the check-name column.
const NAME_WIDTH: usize = 22;

/// Prints outcomes as they come and counts them.
#[derive(Debug, Default)]
pub(crate) struct Report {
    ok: usize,
    warnings: usize,
    failures: usize,
}

impl Report {
    /// Prints one check: `VERDICT  name  detail`, then the hint indented.
    pub(crate) fn add(&mut self, name: &str, outcome: Outcome) {
        match outcome.verdict {
            Verdict::Ok => self.ok += 1,
            Verdict::Warn => self.warnings += 1,
            Verdict::Fail => self.failures += 1,
        }
        println!("{}", render(name, &outcome));
    }

    /// How many checks failed.
    pub(crate) fn failures(&self) -> usize {
        self.failures
    }

    /// The closing line: how many checks passed, warned and failed.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} checks: {} ok, {} warnings, {} failed",
            self.ok + self.warnings + self.failures,
            self.ok,
            self.warnings,
            self.failures
        )
    }
}

/// The printed form of one outcome; multi-line details keep their lines,
/// indented under the detail column.
fn render(name: &str, outcome: &Outcome) -> String {
    let indent = " ".repeat(4 + 2 + NAME_WIDTH + 1);
    let mut lines = outcome.detail.lines();
    let first = lines.next().unwrap_or("");
    let mut out = format!("{}  {name:<NAME_WIDTH$} {first}", outcome.verdict);
    for line in lines {
        out.push('\n');
        out.push_str(&indent);
        out.push_str(line);
    }
    if let Some(hint) = &outcome.hint {
        out.push('\n');
        out.push_str(&indent);
        out.push_str("hint: ");
        out.push_str(hint);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_with_the_verdict_and_indent_the_rest() {
        let ok = render("config", &Outcome::ok("loads"));
        assert_eq!(ok, format!("ok    {:<22} loads", "config"));
        let fail = render("core", &Outcome::fail("refused\nsecond", "start it"));
        let indent = " ".repeat(29);
        assert_eq!(
            fail,
            format!(
                "FAIL  {:<22} refused\n{indent}second\n{indent}hint: start it",
                "core"
            )
        );
        assert!(render("x", &Outcome::warn("d", "h")).starts_with("warn  x"));
    }

    #[test]
    fn the_summary_counts_each_verdict() {
        let mut report = Report::default();
        report.add("a", Outcome::ok("fine"));
        report.add("b", Outcome::warn("soon", "renew"));
        report.add("c", Outcome::fail("broken", "fix"));
        assert_eq!(report.failures(), 1);
        assert_eq!(report.summary(), "3 checks: 1 ok, 1 warnings, 1 failed");
    }
}
