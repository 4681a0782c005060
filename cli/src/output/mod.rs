//! Printing results as text or JSON, failures with their exit kind, and progress bars.

pub mod text;

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use fieldsales_cli::ExitKind;
use fieldsales_cli::transfer::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// A command that failed: why, and which exit code that warrants.
#[derive(Debug)]
pub struct Failure {
    /// The exit kind.
    pub kind: ExitKind,
    /// A stable code for scripts (the server's own code when it refused).
    pub code: Cow<'static, str>,
    /// What to tell the person.
    pub error: anyhow::Error,
    /// The business rule that refused, when one did (`stage.skip`).
    pub rule: Option<String>,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(
        kind: ExitKind,
        code: impl Into<Cow<'static, str>>,
        error: impl Into<anyhow::Error>,
    ) -> Self {
        Failure {
            kind,
            code: code.into(),
            error: error.into(),
            rule: None,
        }
    }

    /// A refusal by the business rule `rule`.
    pub fn rule(rule: &str, detail: impl std::fmt::Display) -> Self {
        Failure {
            kind: ExitKind::Refused,
            code: Cow::Borrowed("rule_violated"),
            error: anyhow::anyhow!("rule {rule} refused: {detail}"),
            rule: Some(rule.to_owned()),
        }
    }
}

/// Where results go.
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Prints a result: `value` as JSON, or the text `human` writes.
    pub fn result<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) {
        let mut stdout = std::io::stdout().lock();
        let written = if self.json {
            serde_json::to_writer(&mut stdout, value)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(stdout))
        } else {
            human(&mut stdout)
        };
        // A closed pipe (`| head`) is not a failure of the command.
        let _ = written.and_then(|()| stdout.flush());
    }

    /// Prints a failure: on standard error as text, or on standard output as JSON.
    pub fn failure(&self, failure: &Failure) {
        if self.json {
            let mut value = serde_json::json!({
                "error": {
                    "code": failure.code,
                    "message": format!("{:#}", failure.error),
                    "exit_code": failure.kind.code(),
                }
            });
            if let Some(rule) = &failure.rule {
                value["error"]["rule"] = serde_json::Value::from(rule.as_str());
            }
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{value}");
        } else {
            eprintln!("fieldsales: {:#}", failure.error);
        }
    }

    /// A progress display: bars on a terminal, nothing when piped or printing JSON.
    pub fn progress(&self) -> TerminalProgress {
        TerminalProgress {
            enabled: !self.json && std::io::stderr().is_terminal(),
            bar: RefCell::new(None),
        }
    }
}

/// Progress bars on standard error.
pub struct TerminalProgress {
    enabled: bool,
    bar: RefCell<Option<ProgressBar>>,
}

impl Progress for TerminalProgress {
    fn start(&self, step: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                ),
            None => {
                let bar = ProgressBar::new_spinner();
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
        };
        bar.set_message(step.to_owned());
        if let Some(old) = self.bar.replace(Some(bar)) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}
