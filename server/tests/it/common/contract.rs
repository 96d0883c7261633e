//! The API's contract, checked on every response the tests get: the status must be one the
//! OpenAPI document lists for the operation, and the body must validate against the schema
//! it gives for that status (a JSON Schema 2020-12 validator over the served document).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

/// The document as served, built once per test binary.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(shop::api::document()).expect("document"))
}

/// Compiled validators by schema (as JSON text): one compile per schema per test binary.
fn validators() -> &'static Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>> =
        OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// A validator for `schema`, whose `$ref`s point into the document's components.
fn validator(schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let key = schema.to_string();
    let mut cache = validators().lock().unwrap();
    if let Some(v) = cache.get(&key) {
        return v.clone();
    }
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document()["components"],
        "allOf": [schema],
    });
    let compiled = std::sync::Arc::new(
        jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {key}: {e}")),
    );
    cache.insert(key, compiled.clone());
    compiled
}

/// Whether the concrete `path` is an instance of the document's `template`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

/// The operation `method path` (a path under `/api/v1`), if the document has it. A literal
/// segment wins over a parameter (`/orders/{id}` vs a literal sibling).
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let method = method.to_ascii_lowercase();
    let mut found: Vec<(&'static str, &'static Value)> = document()["paths"]
        .as_object()?
        .iter()
        .filter(|(t, _)| matches(t, path))
        .filter_map(|(t, item)| item.get(&method).map(|op| (t.as_str(), op)))
        .collect();
    found.sort_by_key(|(t, _)| t.matches('{').count());
    found.into_iter().next()
}

/// Checks one response of the API: `method` on the full `path` (`/api/v1/...`).
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let Some(rel) = path.strip_prefix("/api/v1") else {
        return;
    };
    // The document and its page are not operations; a CORS preflight is answered by the
    // CORS layer for any path.
    if rel == "/openapi.json" || rel == "/docs" || method.eq_ignore_ascii_case("OPTIONS") {
        return;
    }
    let error_body = json!({ "$ref": "#/components/schemas/ErrorBody" });
    let Some((template, op)) = operation(method, rel) else {
        // Not an operation: the router's own 404 or 405, in the one error shape.
        assert!(
            status == 404 || status == 405,
            "{method} {path}: {status} for an unknown operation"
        );
        validate(&error_body, body, &format!("{method} {path} {status}"));
        return;
    };
    let what = format!("{method} {template} → {status}");
    let response = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{what}: the document does not list this status: {body}"));
    match response["content"]["application/json"]["schema"] {
        Value::Null => {
            // No JSON body: 204, 304, or a binary answer.
            if response["content"].as_object().is_none_or(|c| c.is_empty()) {
                assert!(
                    body.is_null(),
                    "{what}: a body where none is documented: {body}"
                );
            }
        }
        ref schema => validate(schema, body, &what),
    }
}

fn validate(schema: &Value, body: &Value, what: &str) {
    let v = validator(schema);
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the body does not match its schema:\n{}\n{body}",
        errors.join("\n")
    );
}
