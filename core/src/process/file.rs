//! The process as a TOML file an admin edits, and the errors that point into it.
//!
//! An import is all or nothing: [`SalesProcess::from_toml`] returns a new, checked value or the
//! list of what is wrong, never a half-applied configuration, so the running process stays as it
//! was until a whole file passes. Each error names the line, the column and the field
//! (`stages[3].next`), because "invalid configuration" helps nobody fix a 200-line file.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::config::SalesProcess;
use super::text::{TextValueError, parse_money, parse_percent};
use super::validate::{ConfigProblem, FieldPath, Segment};

/// One problem of a process file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field, as a path (`approvals.rules[0].stage`).
    pub field: FieldPath,
    /// What is wrong.
    pub problem: ConfigProblem,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, {}: {}",
            self.line, self.column, self.field, self.problem
        )
    }
}

/// Everything wrong with a process file, in file order; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The process could not be written as TOML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write the process as TOML: {0}")]
pub struct ExportError(pub String);

impl SalesProcess {
    /// Reads and checks a process file.
    pub fn from_toml(text: &str) -> Result<SalesProcess, ConfigErrors> {
        let (tree, syntax) = DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            let errors = syntax
                .iter()
                .map(|e| {
                    let span = e.span().unwrap_or(0..0);
                    locate(
                        text,
                        span.clone(),
                        path_before(&tree, span.start),
                        ConfigProblem::Syntax {
                            message: e.message().trim().to_string(),
                        },
                    )
                })
                .collect();
            return Err(sorted(errors));
        }
        let process: SalesProcess = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let path = path_at(&tree, span.start);
                let problem = classify(node(&tree, &path), e.message());
                return Err(ConfigErrors(vec![locate(text, span, path, problem)]));
            }
        };
        let problems = process.problems();
        if problems.is_empty() {
            return Ok(process);
        }
        let errors = problems
            .into_iter()
            .map(|p| {
                // Point at the deepest part of the path the file has (a field left to its
                // default has no line of its own) but name the whole path.
                let span = span_of(&tree, &p.path);
                locate(text, span, p.path, p.problem)
            })
            .collect();
        Err(sorted(errors))
    }

    /// Writes the process as TOML that [`SalesProcess::from_toml`] reads back unchanged.
    pub fn to_toml(&self) -> Result<String, ExportError> {
        toml::to_string_pretty(self).map_err(|e| ExportError(e.to_string()))
    }
}

fn sorted(mut errors: Vec<ConfigError>) -> ConfigErrors {
    errors.sort_by_key(|e| (e.line, e.column));
    ConfigErrors(errors)
}

/// Turns a value that serde refused into a typed problem where the value itself tells why.
fn classify(value: Option<&DeValue<'_>>, message: &str) -> ConfigProblem {
    match value {
        Some(DeValue::String(s)) => {
            if parse_percent(s) == Err(TextValueError::Negative) {
                return ConfigProblem::NegativeRate {
                    value: s.to_string(),
                };
            }
            if parse_money(s) == Err(TextValueError::Negative) {
                return ConfigProblem::NegativeAmount {
                    value: s.to_string(),
                };
            }
        }
        Some(DeValue::Integer(i)) if i.as_str().starts_with('-') => {
            if let Ok(v) = i64::from_str_radix(i.as_str(), i.radix()) {
                return ConfigProblem::NegativeNumber { value: v };
            }
        }
        _ => {}
    }
    ConfigProblem::Invalid {
        message: message.trim().to_string(),
    }
}

fn locate(text: &str, span: Range<usize>, field: FieldPath, problem: ConfigProblem) -> ConfigError {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ConfigError {
        line,
        column,
        field,
        problem,
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The value at `path`, if the file has it.
fn node<'a, 'i>(tree: &'a Spanned<DeTable<'i>>, path: &FieldPath) -> Option<&'a DeValue<'i>> {
    let mut segments = path.0.iter();
    let first = match segments.next() {
        None => return None,
        Some(Segment::Key(k)) => tree.get_ref().get(k.as_ref())?,
        Some(Segment::Index(_)) => return None,
    };
    let mut at = first;
    for seg in segments {
        at = step(at.get_ref(), seg)?;
    }
    Some(at.get_ref())
}

fn step<'a, 'i>(value: &'a DeValue<'i>, seg: &Segment) -> Option<&'a Spanned<DeValue<'i>>> {
    match seg {
        Segment::Key(k) => value.get(k.as_ref()),
        Segment::Index(n) => value.get(*n),
    }
}

/// The span of the deepest part of `path` that the file has.
fn span_of(tree: &Spanned<DeTable<'_>>, path: &FieldPath) -> Range<usize> {
    let mut span = tree.span();
    let mut segments = path.0.iter();
    let mut at = match segments.next() {
        Some(Segment::Key(k)) => match tree.get_ref().get_key_value(k.as_ref()) {
            Some((key, v)) => {
                span = key.span();
                v
            }
            None => return span,
        },
        _ => return span,
    };
    for seg in segments {
        match step(at.get_ref(), seg) {
            Some(next) => {
                // A key's own span puts the error on the line where the key is written.
                span = match (seg, at.get_ref()) {
                    (Segment::Key(k), DeValue::Table(t)) => t
                        .get_key_value(k.as_ref())
                        .map_or(next.span(), |(key, _)| key.span()),
                    _ => next.span(),
                };
                at = next;
            }
            None => return span,
        }
    }
    span
}

/// The path of the deepest key or array item whose span holds `pos`.
fn path_at(tree: &Spanned<DeTable<'_>>, pos: usize) -> FieldPath {
    let mut path = FieldPath::root();
    descend_table(tree.get_ref(), pos, &mut path);
    path
}

fn descend_table(table: &DeTable<'_>, pos: usize, path: &mut FieldPath) {
    for (key, value) in table.iter() {
        if key.span().contains(&pos) || value.span().contains(&pos) || holds(value.get_ref(), pos) {
            path.0.push(Segment::Key(key.get_ref().to_string().into()));
            descend_value(value.get_ref(), pos, path);
            return;
        }
    }
}

fn descend_value(value: &DeValue<'_>, pos: usize, path: &mut FieldPath) {
    match value {
        DeValue::Table(t) => descend_table(t, pos, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.span().contains(&pos) || holds(item.get_ref(), pos) {
                    path.0.push(Segment::Index(i));
                    descend_value(item.get_ref(), pos, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

/// Whether any key or value inside `value` spans `pos` (tables written as `[section]` headers
/// do not always span their whole body).
fn holds(value: &DeValue<'_>, pos: usize) -> bool {
    match value {
        DeValue::Table(t) => t.iter().any(|(k, v)| {
            k.span().contains(&pos) || v.span().contains(&pos) || holds(v.get_ref(), pos)
        }),
        DeValue::Array(items) => items
            .iter()
            .any(|v| v.span().contains(&pos) || holds(v.get_ref(), pos)),
        _ => false,
    }
}

/// The path of the last key written at or before `pos`: for a syntax error, the field the admin
/// was writing.
fn path_before(tree: &Spanned<DeTable<'_>>, pos: usize) -> FieldPath {
    let mut best = (0, FieldPath::root());
    let mut path = FieldPath::root();
    latest_table(tree.get_ref(), pos, &mut path, &mut best);
    best.1
}

fn latest_table(
    table: &DeTable<'_>,
    pos: usize,
    path: &mut FieldPath,
    best: &mut (usize, FieldPath),
) {
    for (key, value) in table.iter() {
        path.0.push(Segment::Key(key.get_ref().to_string().into()));
        let start = key.span().start;
        if start <= pos && start >= best.0 {
            *best = (start, path.clone());
        }
        latest_value(value.get_ref(), pos, path, best);
        path.0.pop();
    }
}

fn latest_value(
    value: &DeValue<'_>,
    pos: usize,
    path: &mut FieldPath,
    best: &mut (usize, FieldPath),
) {
    match value {
        DeValue::Table(t) => latest_table(t, pos, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.0.push(Segment::Index(i));
                latest_value(item.get_ref(), pos, path, best);
                path.0.pop();
            }
        }
        _ => {}
    }
}
