//! Answers to the server's questions: sampling, elicitation and roots. The same handler answers
//! a legacy server's JSON-RPC request and a 2026-07-28 server's `input_required` round.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mcp_protocol::McpError;
use mcp_protocol::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitAction,
    ElicitRequestParams, ElicitResult, ElicitValue, ElicitationCapability, ElicitationSchema,
    ListRootsResult, RootsCapability, SamplingCapability,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler<P, R> = Arc<dyn Fn(P) -> BoxFuture<Result<R, McpError>> + Send + Sync>;

/// The client's handlers. Each one set declares the matching capability.
#[derive(Clone, Default)]
pub struct Handlers {
    pub(crate) sampling: Option<Handler<CreateMessageRequestParams, CreateMessageResult>>,
    pub(crate) elicitation: Option<Handler<ElicitRequestParams, ElicitResult>>,
    pub(crate) url_elicitation: bool,
    pub(crate) roots: Option<Handler<(), ListRootsResult>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("sampling", &self.sampling.is_some())
            .field("elicitation", &self.elicitation.is_some())
            .field("roots", &self.roots.is_some())
            .finish()
    }
}

impl Handlers {
    /// Answers `sampling/createMessage`.
    #[must_use]
    pub fn on_sampling<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, McpError>> + Send + 'static,
    {
        self.sampling = Some(Arc::new(move |p| Box::pin(f(p))));
        self
    }

    /// Answers `elicitation/create` (form mode; with `url_mode`, URL mode too).
    ///
    /// An accepted form is completed with the form's defaults (SEP-1034): every field the
    /// handler's `content` leaves out and whose schema has a `default` is sent with that
    /// default, as a form shown pre-filled and submitted untouched would be. Fields the handler
    /// filled in are sent as they are.
    #[must_use]
    pub fn on_elicitation<F, Fut>(mut self, url_mode: bool, f: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, McpError>> + Send + 'static,
    {
        self.elicitation = Some(Arc::new(move |p: ElicitRequestParams| {
            let schema = match &p {
                ElicitRequestParams::Form(form) => Some(form.requested_schema.clone()),
                ElicitRequestParams::Url(_) => None,
            };
            let answer = f(p);
            Box::pin(async move {
                let mut result = answer.await?;
                if let Some(schema) = schema {
                    apply_defaults(&schema, &mut result);
                }
                Ok(result)
            })
        }));
        self.url_elicitation = url_mode;
        self
    }

    /// Answers `roots/list`.
    #[must_use]
    pub fn on_roots<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ListRootsResult, McpError>> + Send + 'static,
    {
        self.roots = Some(Arc::new(move |()| Box::pin(f())));
        self
    }

    /// The capabilities these handlers declare.
    pub fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            sampling: self
                .sampling
                .as_ref()
                .map(|_| SamplingCapability::default()),
            elicitation: self.elicitation.as_ref().map(|_| ElicitationCapability {
                form: Some(Default::default()),
                url: self.url_elicitation.then(Default::default),
            }),
            roots: self.roots.as_ref().map(|_| RootsCapability {
                list_changed: Some(false),
            }),
            ..ClientCapabilities::default()
        }
    }
}

/// Adds to an accepted form's content the default of every field it leaves out.
fn apply_defaults(schema: &ElicitationSchema, result: &mut ElicitResult) {
    if result.action != ElicitAction::Accept {
        return;
    }
    let content = result.content.get_or_insert_with(Default::default);
    for (name, field) in &schema.properties {
        if content.contains_key(name) {
            continue;
        }
        if let Some(value) = field
            .default_value()
            .and_then(|v| serde_json::from_value::<ElicitValue>(v).ok())
        {
            content.insert(name.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    fn form(schema: serde_json::Value) -> ElicitRequestParams {
        serde_json::from_value(json!({"message": "?", "requestedSchema": schema})).unwrap()
    }

    fn answer(handlers: &Handlers, params: ElicitRequestParams) -> ElicitResult {
        let f = handlers.elicitation.as_ref().unwrap();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f(params))
            .unwrap()
    }

    #[test]
    fn an_accepted_form_gets_the_defaults_of_the_fields_it_left_out() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "John Doe"},
                "age": {"type": "integer", "default": 30},
                "score": {"type": "number", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive"], "default": "active"},
                "verified": {"type": "boolean", "default": true},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "default": ["b"]},
                "nickname": {"type": "string"}
            }
        });
        let handlers = Handlers::default().on_elicitation(false, |_| async {
            Ok(ElicitResult::accept(BTreeMap::from([(
                "name".to_owned(),
                ElicitValue::String("Ada".into()),
            )])))
        });
        let result = answer(&handlers, form(schema.clone()));
        assert_eq!(
            serde_json::to_value(&result.content).unwrap(),
            json!({
                "name": "Ada",
                "age": 30,
                "score": 95.5,
                "status": "active",
                "verified": true,
                "tags": ["b"]
            })
        );
        // The integer default stays an integer on the wire.
        assert_eq!(
            serde_json::to_string(&result.content.unwrap()["age"]).unwrap(),
            "30"
        );

        // An accept without content gets the defaults too.
        let handlers = Handlers::default().on_elicitation(false, |_| async {
            Ok(ElicitResult {
                action: ElicitAction::Accept,
                content: None,
                meta: None,
            })
        });
        let content = answer(&handlers, form(schema.clone())).content.unwrap();
        assert_eq!(content.len(), 6);
        assert!(!content.contains_key("nickname"));
    }

    #[test]
    fn declined_and_cancelled_forms_get_no_content() {
        let schema =
            json!({"type": "object", "properties": {"name": {"type": "string", "default": "x"}}});
        for refuse in [ElicitResult::decline(), ElicitResult::cancel()] {
            let action = refuse.action;
            let handlers = Handlers::default()
                .on_elicitation(false, move |_| std::future::ready(Ok(refuse.clone())));
            let result = answer(&handlers, form(schema.clone()));
            assert_eq!(result.action, action);
            assert_eq!(result.content, None);
        }
    }
}
