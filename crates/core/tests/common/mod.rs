//! Helpers shared by the integration tests that build requests.
#![allow(clippy::unwrap_used, dead_code)]

use fspiop_guard_core::Headers;
use fspiop_guard_core::json::{self, Value};

/// Builds headers from `(name, value)` lines in order.
pub fn headers(lines: &[(&str, &str)]) -> Headers {
    let mut headers = Headers::new();
    for (name, value) in lines {
        headers.push(name, value);
    }
    headers
}

/// Parses JSON text with JavaScript semantics.
pub fn json_value(text: &str) -> Value {
    json::parse(text, &json::Limits::default()).unwrap().value
}
