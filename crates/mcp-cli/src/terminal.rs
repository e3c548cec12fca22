//! The user's side of a call: the progress bar, the server's log messages, and elicitation
//! forms answered at the terminal. Prompts and progress go to stderr; stdout carries only the
//! result, so `mcp call ... > out.json` stays clean.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use mcp_protocol::McpError;
use mcp_protocol::types::{
    ElicitAction, ElicitRequestParams, ElicitResult, ElicitValue, PrimitiveSchema,
    ProgressNotificationParams,
};
use serde_json::{Number, json};
use tokio::sync::mpsc;

use crate::cli::Format;

/// Shared by the progress callback, the log printer and the elicitation handler.
#[derive(Debug, Clone)]
pub(crate) struct Terminal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    format: Format,
    bar: Mutex<Option<ProgressBar>>,
    /// Lines of stdin, read by a thread started at the first question.
    lines: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    /// One form at a time.
    asking: tokio::sync::Mutex<()>,
}

impl Terminal {
    /// A terminal printing events in `format`.
    pub(crate) fn new(format: Format) -> Self {
        Self {
            inner: Arc::new(Inner {
                format,
                bar: Mutex::new(None),
                lines: Mutex::new(None),
                asking: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Shows one progress notification: a bar (or a spinner when there is no total) on an
    /// interactive stderr; with `--format json` a `{"progress": ...}` line on stderr.
    pub(crate) fn progress(&self, p: &ProgressNotificationParams) {
        if self.inner.format == Format::Json {
            self.event(&json!({ "progress": p }));
            return;
        }
        let Ok(mut slot) = self.inner.bar.lock() else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::new(1000);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:40}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        let (count, position) = match p.total {
            Some(total) if total > 0.0 => {
                // The bar counts thousandths of the total: progress values are floats.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let position = ((p.progress / total).clamp(0.0, 1.0) * 1000.0) as u64;
                (format!("{}/{}", p.progress, total), Some(position))
            }
            _ => (format!("{}", p.progress), None),
        };
        // The message first: setting the position redraws, and should show this step's text.
        match &p.message {
            Some(m) => bar.set_message(format!("{count} {m}")),
            None => bar.set_message(count),
        }
        match position {
            Some(position) => bar.set_position(position),
            None => bar.tick(),
        }
    }

    /// Removes the progress bar (before the result is printed, or a question is asked).
    pub(crate) fn clear(&self) {
        if let Some(bar) = self.inner.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }

    /// One server log message (`notifications/message`), shown at `-v`.
    pub(crate) fn log(&self, params: &serde_json::Value) {
        if self.inner.format == Format::Json {
            self.event(&json!({ "log": params }));
            return;
        }
        let level = params["level"].as_str().unwrap_or("info");
        let data = match &params["data"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let line = match params["logger"].as_str() {
            Some(logger) => format!("[{level}] {logger}: {data}"),
            None => format!("[{level}] {data}"),
        };
        self.say(&line);
    }

    /// A note on stderr that does not tear the progress bar; with `--format json`, a
    /// `{"note": ...}` line.
    pub(crate) fn say(&self, line: &str) {
        if self.inner.format == Format::Json {
            self.event(&json!({ "note": line }));
            return;
        }
        let bar = self.inner.bar.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// A JSON event line on stderr.
    fn event(&self, value: &serde_json::Value) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{value}");
    }

    /// The next line of stdin without its line ending; `None` at the end of input.
    async fn line(&self) -> Option<String> {
        let mut rx = {
            let mut slot = self.inner.lines.lock().ok()?;
            match slot.take() {
                Some(rx) => rx,
                None => spawn_stdin_reader(),
            }
        };
        let line = rx.recv().await;
        if let Ok(mut slot) = self.inner.lines.lock() {
            *slot = Some(rx);
        }
        line
    }

    /// Asks a question on stderr and reads the answer, trimmed.
    async fn ask(&self, question: &str) -> Option<String> {
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{question}");
            let _ = err.flush();
        }
        let answer = self.line().await.map(|l| l.trim().to_owned());
        // A terminal echoes what was typed; piped answers are shown so the transcript reads.
        if let Some(a) = &answer
            && !std::io::IsTerminal::is_terminal(&std::io::stdin())
        {
            eprintln!("{a}");
        }
        answer
    }

    /// Answers an elicitation at the terminal: accept (filling in the form field by field),
    /// decline or cancel. The end of stdin cancels.
    pub(crate) async fn elicit(
        &self,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, McpError> {
        let _one_at_a_time = self.inner.asking.lock().await;
        self.clear();
        let (message, form) = match &params {
            ElicitRequestParams::Form(f) => (&f.message, Some(&f.requested_schema)),
            ElicitRequestParams::Url(u) => (&u.message, None),
        };
        eprintln!("\nThe server asks: {message}");
        if let ElicitRequestParams::Url(u) = &params {
            eprintln!("  It wants you to open: {}", u.url);
        }
        let action = loop {
            let what = if form.is_some() {
                "[a]nswer, [d]ecline or [c]ancel? (a) "
            } else {
                "[a]ccept (you opened it), [d]ecline or [c]ancel? (a) "
            };
            match self.ask(what).await.as_deref() {
                None => return Ok(ElicitResult::cancel()),
                Some("" | "a" | "accept" | "answer") => break ElicitAction::Accept,
                Some("d" | "decline") => return Ok(ElicitResult::decline()),
                Some("c" | "cancel") => return Ok(ElicitResult::cancel()),
                Some(other) => eprintln!("  {other:?}: answer a, d or c"),
            }
        };
        let Some(schema) = form else {
            return Ok(ElicitResult {
                action,
                content: None,
                meta: None,
            });
        };
        let required: Vec<&String> = schema.required.iter().flatten().collect();
        // Required fields first, then the rest, each group by name.
        let mut fields: Vec<(&String, &PrimitiveSchema)> = schema.properties.iter().collect();
        fields.sort_by_key(|(name, _)| !required.contains(name));
        let mut content = BTreeMap::new();
        for (name, field) in fields {
            let is_required = required.contains(&name);
            let described = describe(name, field, is_required);
            let choices = choices(field);
            if !choices.is_empty() {
                for (i, (value, title)) in choices.iter().enumerate() {
                    match title {
                        Some(t) if t != value => eprintln!("    {}) {value} - {t}", i + 1),
                        _ => eprintln!("    {}) {value}", i + 1),
                    }
                }
            }
            loop {
                let Some(answer) = self.ask(&format!("  {described}: ")).await else {
                    return Ok(ElicitResult::cancel());
                };
                if answer.is_empty() {
                    if is_required && field.default_value().is_none() {
                        eprintln!("  a value is required");
                        continue;
                    }
                    // Left out: the client fills in the field's default, if it has one.
                    break;
                }
                match parse_field(field, &choices, &answer) {
                    Ok(value) => {
                        content.insert(name.clone(), value);
                        break;
                    }
                    Err(why) => eprintln!("  {why}"),
                }
            }
        }
        Ok(ElicitResult::accept(content))
    }
}

/// Reads stdin line by line on a thread of its own: a blocking read must never hold a runtime
/// thread, and at exit the process does not wait for it.
fn spawn_stdin_reader() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `title (type, ..., default x, required)` for the prompt.
fn describe(name: &str, field: &PrimitiveSchema, required: bool) -> String {
    let (title, description, kind) = match field {
        PrimitiveSchema::String(s) => (
            &s.title,
            &s.description,
            match s.format {
                Some(f) => format!("string, {}", json!(f).as_str().unwrap_or("text")),
                None => "string".to_owned(),
            },
        ),
        PrimitiveSchema::Number(n) => {
            let mut kind = json!(n.kind).as_str().unwrap_or("number").to_owned();
            match (&n.minimum, &n.maximum) {
                (Some(lo), Some(hi)) => kind.push_str(&format!(" {lo}..{hi}")),
                (Some(lo), None) => kind.push_str(&format!(" >= {lo}")),
                (None, Some(hi)) => kind.push_str(&format!(" <= {hi}")),
                (None, None) => {}
            }
            (&n.title, &n.description, kind)
        }
        PrimitiveSchema::Boolean(b) => (&b.title, &b.description, "yes/no".to_owned()),
        PrimitiveSchema::UntitledSingleSelect(e) => {
            (&e.title, &e.description, "one choice".to_owned())
        }
        PrimitiveSchema::TitledSingleSelect(e) => {
            (&e.title, &e.description, "one choice".to_owned())
        }
        PrimitiveSchema::LegacyTitled(e) => (&e.title, &e.description, "one choice".to_owned()),
        PrimitiveSchema::UntitledMultiSelect(e) => (
            &e.title,
            &e.description,
            "choices, comma-separated".to_owned(),
        ),
        PrimitiveSchema::TitledMultiSelect(e) => (
            &e.title,
            &e.description,
            "choices, comma-separated".to_owned(),
        ),
    };
    let mut out = match title {
        Some(t) => format!("{t} [{name}]"),
        None => name.to_owned(),
    };
    out.push_str(&format!(" ({kind}"));
    if let Some(default) = field.default_value() {
        let shown = match default {
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        out.push_str(&format!(", default {shown}"));
    }
    if required {
        out.push_str(", required");
    }
    out.push(')');
    if let Some(d) = description {
        out.push_str(&format!(" {d}"));
    }
    out
}

/// The choices of an enum field: (value, title).
fn choices(field: &PrimitiveSchema) -> Vec<(String, Option<String>)> {
    match field {
        PrimitiveSchema::UntitledSingleSelect(e) => {
            e.choices.iter().map(|c| (c.clone(), None)).collect()
        }
        PrimitiveSchema::UntitledMultiSelect(e) => {
            e.items.choices.iter().map(|c| (c.clone(), None)).collect()
        }
        PrimitiveSchema::TitledSingleSelect(e) => e
            .one_of
            .iter()
            .map(|c| (c.value.clone(), Some(c.title.clone())))
            .collect(),
        PrimitiveSchema::TitledMultiSelect(e) => e
            .items
            .any_of
            .iter()
            .map(|c| (c.value.clone(), Some(c.title.clone())))
            .collect(),
        PrimitiveSchema::LegacyTitled(e) => {
            let names = e.enum_names.clone().unwrap_or_default();
            e.choices
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), names.get(i).cloned()))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// One choice typed as its number in the list, its value or its title.
fn pick(choices: &[(String, Option<String>)], answer: &str) -> Result<String, String> {
    if let Ok(n) = answer.parse::<usize>()
        && let Some((value, _)) = n.checked_sub(1).and_then(|i| choices.get(i))
    {
        return Ok(value.clone());
    }
    choices
        .iter()
        .find(|(value, title)| value == answer || title.as_deref() == Some(answer))
        .map(|(value, _)| value.clone())
        .ok_or_else(|| format!("{answer:?} is not one of the choices"))
}

/// The typed value of one answer, checked against the field's schema.
fn parse_field(
    field: &PrimitiveSchema,
    choices: &[(String, Option<String>)],
    answer: &str,
) -> Result<ElicitValue, String> {
    match field {
        PrimitiveSchema::String(s) => {
            let length = answer.chars().count() as u64;
            if s.min_length.is_some_and(|min| length < min) {
                return Err(format!("at least {} characters", s.min_length.unwrap_or(0)));
            }
            if s.max_length.is_some_and(|max| length > max) {
                return Err(format!("at most {} characters", s.max_length.unwrap_or(0)));
            }
            Ok(ElicitValue::String(answer.to_owned()))
        }
        PrimitiveSchema::Number(n) => {
            let number = if json!(n.kind) == "integer" {
                answer
                    .parse::<i64>()
                    .map(Number::from)
                    .map_err(|_| format!("{answer:?} is not an integer"))?
            } else {
                answer
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .ok_or_else(|| format!("{answer:?} is not a number"))?
            };
            let value = number.as_f64().unwrap_or(f64::NAN);
            if n.minimum
                .as_ref()
                .and_then(Number::as_f64)
                .is_some_and(|lo| value < lo)
            {
                return Err(format!(
                    "at least {}",
                    n.minimum.clone().unwrap_or(0.into())
                ));
            }
            if n.maximum
                .as_ref()
                .and_then(Number::as_f64)
                .is_some_and(|hi| value > hi)
            {
                return Err(format!("at most {}", n.maximum.clone().unwrap_or(0.into())));
            }
            Ok(ElicitValue::Number(number))
        }
        PrimitiveSchema::Boolean(_) => match answer.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "1" => Ok(ElicitValue::Bool(true)),
            "n" | "no" | "false" | "0" => Ok(ElicitValue::Bool(false)),
            _ => Err(format!("{answer:?}: answer yes or no")),
        },
        PrimitiveSchema::UntitledMultiSelect(_) | PrimitiveSchema::TitledMultiSelect(_) => answer
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| pick(choices, a))
            .collect::<Result<Vec<_>, _>>()
            .map(ElicitValue::Strings),
        _ => pick(choices, answer).map(ElicitValue::String),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(schema: serde_json::Value) -> PrimitiveSchema {
        serde_json::from_value(schema).unwrap()
    }

    #[test]
    fn answers_are_typed_by_the_field() {
        let int = field(json!({"type": "integer", "minimum": 1, "maximum": 10}));
        assert_eq!(
            parse_field(&int, &[], "7"),
            Ok(ElicitValue::Number(7.into()))
        );
        assert!(parse_field(&int, &[], "7.5").is_err());
        assert!(parse_field(&int, &[], "11").is_err());
        let yes = field(json!({"type": "boolean"}));
        assert_eq!(parse_field(&yes, &[], "Yes"), Ok(ElicitValue::Bool(true)));
        assert!(parse_field(&yes, &[], "maybe").is_err());
        let short = field(json!({"type": "string", "maxLength": 3}));
        assert!(parse_field(&short, &[], "long").is_err());
        let one = field(
            json!({"type": "string", "oneOf": [{"const": "r", "title": "Red"}, {"const": "g", "title": "Green"}]}),
        );
        let c = choices(&one);
        assert_eq!(
            parse_field(&one, &c, "2"),
            Ok(ElicitValue::String("g".into()))
        );
        assert_eq!(
            parse_field(&one, &c, "Red"),
            Ok(ElicitValue::String("r".into()))
        );
        assert!(parse_field(&one, &c, "3").is_err());
        let many =
            field(json!({"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}}));
        let c = choices(&many);
        assert_eq!(
            parse_field(&many, &c, "1, c"),
            Ok(ElicitValue::Strings(vec!["a".into(), "c".into()]))
        );
    }

    #[test]
    fn the_prompt_names_type_default_and_requirement() {
        let f = field(
            json!({"type": "string", "title": "Colour", "enum": ["red", "blue"], "default": "red"}),
        );
        assert_eq!(
            describe("colour", &f, true),
            "Colour [colour] (one choice, default red, required)"
        );
    }
}
