//! Tool arguments from the command line: `--json` for the whole object, `--arg name=value` for
//! one member, its value typed by the tool's input schema so that `--arg a=2` sends the number
//! 2 to a tool that takes a number and the text "2" to one that takes a string.

use serde_json::{Map, Value};

use crate::exit::Failure;

/// Splits `name=value` pairs.
pub(crate) fn pairs(args: &[String]) -> Result<Vec<(String, String)>, Failure> {
    args.iter()
        .map(|a| {
            a.split_once('=')
                .filter(|(name, _)| !name.is_empty())
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .ok_or_else(|| Failure::usage(format!("--arg {a:?}: expected NAME=VALUE")))
        })
        .collect()
}

/// The `--json` object (text, or `@FILE`).
pub(crate) fn json_object(json: &str) -> Result<Map<String, Value>, Failure> {
    let text = match json.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("--json @{path}: {e}")))?,
        None => json.to_owned(),
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Failure::usage(format!(
            "--json must be an object, not {}",
            kind_of(&other)
        ))),
        Err(e) => Err(Failure::usage(format!("--json is not valid JSON: {e}"))),
    }
}

/// The arguments of a tool call: `--json`, then each `--arg` typed by `schema` on top.
pub(crate) fn tool_arguments(
    schema: Option<&Map<String, Value>>,
    json: Option<&str>,
    args: &[String],
) -> Result<Value, Failure> {
    let mut out = match json {
        Some(j) => json_object(j)?,
        None => Map::new(),
    };
    let properties = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object);
    for (name, text) in pairs(args)? {
        let property = properties.and_then(|p| p.get(&name));
        let value = typed(property, &text)
            .map_err(|why| Failure::usage(format!("--arg {name}={text}: {why}")))?;
        out.insert(name, value);
    }
    Ok(Value::Object(out))
}

/// One value typed by its property's schema. Without a schema (or a type) a value that parses as
/// JSON is taken as JSON, anything else as text.
fn typed(property: Option<&Value>, text: &str) -> Result<Value, String> {
    let types: Vec<&str> = match property.and_then(|p| p.get("type")) {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        let is_text_enum = property
            .and_then(|p| p.get("enum"))
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().all(Value::is_string));
        if is_text_enum {
            return Ok(Value::String(text.to_owned()));
        }
        return Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())));
    }
    // Try the strict types first; text takes anything, so it comes last.
    let mut ordered = types.clone();
    ordered.sort_by_key(|t| *t == "string");
    for kind in &ordered {
        if let Some(v) = as_type(kind, text) {
            return Ok(v);
        }
    }
    Err(format!("expected {}", types.join(" or ")))
}

fn as_type(kind: &str, text: &str) -> Option<Value> {
    match kind {
        "string" => Some(Value::String(text.to_owned())),
        "integer" => text
            .trim()
            .parse::<i64>()
            .ok()
            .map(Value::from)
            .or_else(|| {
                // 1e3 or 2.0 are integers too.
                let f: f64 = text.trim().parse().ok()?;
                (f.fract() == 0.0 && f.is_finite())
                    .then(|| serde_json::Number::from_f64(f).map(Value::Number))
                    .flatten()
            }),
        "number" => {
            let v: Value = serde_json::from_str(text.trim()).ok()?;
            v.is_number().then_some(v)
        }
        "boolean" => match text.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        "null" => (text.trim() == "null").then_some(Value::Null),
        "array" | "object" => {
            let v: Value = serde_json::from_str(text).ok()?;
            ((kind == "array" && v.is_array()) || (kind == "object" && v.is_object())).then_some(v)
        }
        _ => None,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Map<String, Value> {
        json!({"type": "object", "properties": {
            "text": {"type": "string"},
            "n": {"type": "integer"},
            "x": {"type": "number"},
            "on": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "opts": {"type": "object"},
            "maybe": {"type": ["number", "string"]},
            "colour": {"enum": ["1", "2"]}
        }})
        .as_object()
        .unwrap()
        .clone()
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn values_are_typed_by_the_schema() {
        let v = tool_arguments(
            Some(&schema()),
            None,
            &args(&[
                "text=42",
                "n=7",
                "x=2.5",
                "on=true",
                "tags=[\"a\"]",
                "opts={\"k\":1}",
                "maybe=3",
                "colour=1",
                "free=12",
                "word=hello",
                "eq=a=b",
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"text": "42", "n": 7, "x": 2.5, "on": true, "tags": ["a"], "opts": {"k": 1},
                   "maybe": 3, "colour": "1", "free": 12, "word": "hello", "eq": "a=b"})
        );
    }

    #[test]
    fn a_value_the_schema_refuses_is_a_usage_error() {
        for bad in ["n=seven", "n=1.5", "x=abc", "on=yes", "tags={}", "opts=[1]"] {
            let e = tool_arguments(Some(&schema()), None, &args(&[bad])).unwrap_err();
            assert_eq!(e.exit, crate::exit::Exit::Usage, "{bad}");
        }
        assert!(tool_arguments(None, None, &args(&["novalue"])).is_err());
    }

    #[test]
    fn json_then_args_on_top() {
        let v = tool_arguments(
            Some(&schema()),
            Some(r#"{"n": 1, "text": "a"}"#),
            &args(&["n=2"]),
        )
        .unwrap();
        assert_eq!(v, json!({"n": 2, "text": "a"}));
        assert!(tool_arguments(None, Some("[1]"), &[]).is_err());
        assert!(tool_arguments(None, Some("{"), &[]).is_err());
    }
}
