//! JSON request objects, HAR entries and HAR logs.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::body::{check_body_size, non_empty};
use super::head::{HeadBudget, REASON_METHOD, REASON_TARGET, origin_form};
use super::text::{
    excerpt, header_line_wire_bytes, invalid_header_value_character, is_blank, is_token,
    strip_byte_order_mark,
};
use super::{Location, RequestError, RequestLimits};
use crate::request::{Headers, Request};

/// Bytes a JSON string may use per byte it encodes: `\u00XX` escapes take six.
const JSON_ESCAPE_EXPANSION: usize = 6;

/// Room for JSON syntax and fields other than headers and body, such as HAR timings.
const JSON_OVERHEAD_BYTES: usize = 64 * 1024;

/// Returns the maximum JSON input size: enough for headers and body at their limits even
/// when every byte is escaped.
///
/// NOTE: serde_json decodes the body string before its length can be checked, so this cap,
/// not `max_body_bytes`, bounds that allocation.
fn max_json_input_bytes(limits: &RequestLimits) -> usize {
    limits
        .max_header_bytes
        .saturating_add(limits.max_body_bytes)
        .saturating_mul(JSON_ESCAPE_EXPANSION)
        .saturating_add(JSON_OVERHEAD_BYTES)
}

/// Reads a request from a JSON request object, a HAR entry or a HAR log.
///
/// The JSON request object has the fields `method`, `url` or `target`, `headers` and
/// `body`. `headers` is either an object, whose key order is the wire order and whose keys
/// that differ only in case (or repeat) become repeated header lines, or an array of
/// `[name, value]` pairs. `body` is a string with the exact body text, or `null`.
///
/// A HAR entry is `{"request": {"method", "url", "headers": [{"name", "value"}],
/// "postData": {"text"}}}`, and a HAR log is `{"log": {"entries": [...]}}`, of which only
/// the first entry is read. HTTP/2 pseudo-headers such as `:authority` are skipped.
///
/// An absolute URL is reduced to its path and query. Header values must contain only
/// characters up to U+00FF, each standing for one header byte as Node reads it.
/// Content-Length and Transfer-Encoding are not checked against the body, which is given
/// as is.
pub fn parse_json_request(input: &[u8], limits: &RequestLimits) -> Result<Request, RequestError> {
    let input = strip_byte_order_mark(input);
    let max = max_json_input_bytes(limits);
    if input.len() > max {
        return Err(RequestError::InputTooLarge {
            length: input.len(),
            max,
        });
    }
    if is_blank(input) {
        return Err(RequestError::EmptyInput);
    }

    let context = JsonContext {
        limits,
        failure: Cell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(input);
    let document = DocumentSeed { context: &context }
        .deserialize(&mut deserializer)
        .and_then(|document| deserializer.end().map(|()| document));
    let document = match document {
        Ok(document) => document,
        Err(error) => {
            return Err(context.failure.take().unwrap_or(RequestError::InvalidJson {
                message: error.to_string(),
            }));
        }
    };
    document.into_request(limits)
}

/// State shared by the JSON visitors. A visitor that fails a limit or validation check
/// stores the typed error here, because serde errors carry only a message.
struct JsonContext<'l> {
    limits: &'l RequestLimits,
    failure: Cell<Option<RequestError>>,
}

impl JsonContext<'_> {
    fn fail<E: de::Error>(&self, error: RequestError) -> E {
        let message = error.to_string();
        self.failure.set(Some(error));
        E::custom(message)
    }
}

/// The fields of the top-level JSON object, before the form is known.
#[derive(Default)]
struct JsonDocument {
    method: Option<String>,
    url: Option<String>,
    target: Option<String>,
    headers: Option<Headers>,
    body: Option<Option<String>>,
    har_entry: Option<HarRequest>,
    har_log: Option<HarRequest>,
    unknown_field: Option<String>,
}

/// The parts of a HAR request that the verifier uses.
struct HarRequest {
    method: String,
    url: String,
    headers: Headers,
    body: Option<String>,
}

impl JsonDocument {
    fn into_request(self, limits: &RequestLimits) -> Result<Request, RequestError> {
        let har_request = match (self.har_log, self.har_entry) {
            (Some(_), Some(_)) => {
                return Err(RequestError::ConflictingJsonFields {
                    first: "log",
                    second: "request",
                });
            }
            (Some(request), None) | (None, Some(request)) => Some(request),
            (None, None) => None,
        };
        if let Some(request) = har_request {
            let parts = JsonRequestParts {
                method: request.method,
                method_field: "request.method",
                url: request.url,
                url_field: "request.url",
                headers: request.headers,
                body: request.body,
            };
            return parts.into_request(limits);
        }

        if let Some(field) = self.unknown_field {
            return Err(RequestError::UnknownJsonField {
                field: excerpt(&field),
            });
        }
        let Some(method) = self.method else {
            return Err(RequestError::MissingJsonField { field: "method" });
        };
        let (url, url_field) = match (self.url, self.target) {
            (Some(url), None) => (url, "url"),
            (None, Some(target)) => (target, "target"),
            (Some(_), Some(_)) => {
                return Err(RequestError::ConflictingJsonFields {
                    first: "url",
                    second: "target",
                });
            }
            (None, None) => return Err(RequestError::MissingJsonField { field: "url" }),
        };
        let parts = JsonRequestParts {
            method,
            method_field: "method",
            url,
            url_field,
            headers: self.headers.unwrap_or_default(),
            body: self.body.flatten(),
        };
        parts.into_request(limits)
    }
}

/// A request read from JSON, with the field names to report errors against.
struct JsonRequestParts {
    method: String,
    method_field: &'static str,
    url: String,
    url_field: &'static str,
    headers: Headers,
    body: Option<String>,
}

impl JsonRequestParts {
    fn into_request(self, limits: &RequestLimits) -> Result<Request, RequestError> {
        if !is_token(self.method.as_bytes()) {
            return Err(RequestError::InvalidRequestLine {
                location: Location::JsonField(self.method_field),
                excerpt: excerpt(&self.method),
                reason: REASON_METHOD,
            });
        }
        let target = origin_form(&self.url);
        if target.is_empty() || !target.bytes().all(|byte| (0x21..=0x7e).contains(&byte)) {
            return Err(RequestError::InvalidRequestLine {
                location: Location::JsonField(self.url_field),
                excerpt: excerpt(&self.url),
                reason: REASON_TARGET,
            });
        }

        // The request line as it would be sent: METHOD SP target SP HTTP/1.1, then CRLF.
        let request_line_content_bytes = self.method.len().saturating_add(target.len()) + 10;
        let mut budget = HeadBudget::new(limits);
        budget.add_line(request_line_content_bytes)?;
        for (name, value) in self.headers.iter() {
            budget.add_line(header_line_wire_bytes(name, value).saturating_sub(2))?;
        }
        budget.add_blank_line()?;

        let body = match self.body {
            Some(text) => {
                check_body_size(text.len(), limits)?;
                non_empty(text.into_bytes())
            }
            None => None,
        };
        Ok(Request {
            method: self.method,
            target,
            headers: self.headers,
            body,
        })
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

/// Checks header lines from JSON against the limits and the rules for names and values
/// as they arrive, before the next one is read.
struct HeaderCollector<'c, 'l> {
    context: &'c JsonContext<'l>,
    headers: Headers,
    wire_bytes: usize,
}

impl<'c, 'l> HeaderCollector<'c, 'l> {
    fn new(context: &'c JsonContext<'l>) -> Self {
        Self {
            context,
            headers: Headers::new(),
            wire_bytes: 0,
        }
    }

    /// Adds one header. `position` is its 1-based position in the JSON, for error messages.
    fn add<E: de::Error>(&mut self, position: usize, name: &str, value: &str) -> Result<(), E> {
        let limits = self.context.limits;
        if self.headers.len() >= limits.max_headers {
            return Err(self.context.fail(RequestError::TooManyHeaders {
                max: limits.max_headers,
            }));
        }
        self.wire_bytes = self
            .wire_bytes
            .saturating_add(header_line_wire_bytes(name, value));
        if self.wire_bytes > limits.max_header_bytes {
            return Err(self.context.fail(RequestError::HeaderSectionTooLarge {
                max: limits.max_header_bytes,
            }));
        }

        let location = Location::JsonHeader(position);
        if !is_token(name.as_bytes()) {
            return Err(self.context.fail(RequestError::InvalidHeaderName {
                location,
                name: excerpt(name),
            }));
        }
        let value = value.trim_matches([' ', '\t']);
        if let Some(character) = invalid_header_value_character(value) {
            return Err(self.context.fail(RequestError::InvalidHeaderValue {
                location,
                name: excerpt(name),
                excerpt: excerpt(value),
                character,
            }));
        }
        self.headers.push(name, value);
        Ok(())
    }
}

/// Reads the top-level JSON object.
struct DocumentSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = JsonDocument;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<JsonDocument, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = JsonDocument;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON request object, a HAR entry or a HAR log")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonDocument, A::Error> {
        let context = self.context;
        let mut document = JsonDocument::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "method" => set_once(&mut document.method, "method", map.next_value()?)?,
                "url" => set_once(&mut document.url, "url", map.next_value()?)?,
                "target" => set_once(&mut document.target, "target", map.next_value()?)?,
                "headers" => {
                    let headers = map.next_value_seed(JsonHeadersSeed { context })?;
                    set_once(&mut document.headers, "headers", headers)?;
                }
                "body" => {
                    let body = map.next_value_seed(BodySeed)?;
                    set_once(&mut document.body, "body", body)?;
                }
                "request" => {
                    let request = map.next_value_seed(HarRequestSeed { context })?;
                    set_once(&mut document.har_entry, "request", request)?;
                }
                "log" => {
                    let request = map.next_value_seed(HarLogSeed { context })?;
                    set_once(&mut document.har_log, "log", request)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    document.unknown_field.get_or_insert(key);
                }
            }
        }
        Ok(document)
    }
}

/// Reads `headers` of a JSON request object: an object or an array of `[name, value]`.
struct JsonHeadersSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for JsonHeadersSeed<'_, '_> {
    type Value = Headers;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Headers, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonHeadersSeed<'_, '_> {
    type Value = Headers;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .write_str("an object of header names to values, or an array of [name, value] pairs")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
        let mut collector = HeaderCollector::new(self.context);
        let mut position = 0;
        while let Some(name) = map.next_key::<String>()? {
            let value: String = map.next_value()?;
            position += 1;
            collector.add(position, &name, &value)?;
        }
        Ok(collector.headers)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Headers, A::Error> {
        let mut collector = HeaderCollector::new(self.context);
        let mut position = 0;
        while let Some((name, value)) = seq.next_element::<(String, String)>()? {
            position += 1;
            collector.add(position, &name, &value)?;
        }
        Ok(collector.headers)
    }
}

/// Reads a body: a string or `null`.
struct BodySeed;

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string with the exact body text, or null")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<String>, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Option<String>, E> {
        Ok(Some(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
}

/// Reads `log` of a HAR file and returns the request of its first entry.
struct HarLogSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for HarLogSeed<'_, '_> {
    type Value = HarRequest;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<HarRequest, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HarLogSeed<'_, '_> {
    type Value = HarRequest;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a HAR log object with entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HarRequest, A::Error> {
        let context = self.context;
        let mut first_entry: Option<Option<HarRequest>> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                let entry = map.next_value_seed(HarEntriesSeed { context })?;
                set_once(&mut first_entry, "entries", entry)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        match first_entry {
            Some(Some(request)) => Ok(request),
            Some(None) => Err(context.fail(RequestError::EmptyHarLog)),
            None => Err(context.fail(RequestError::MissingJsonField {
                field: "log.entries",
            })),
        }
    }
}

/// Reads `log.entries` and returns the request of the first entry, skipping the others.
struct HarEntriesSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for HarEntriesSeed<'_, '_> {
    type Value = Option<HarRequest>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<HarRequest>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for HarEntriesSeed<'_, '_> {
    type Value = Option<HarRequest>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of HAR entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<HarRequest>, A::Error> {
        let first = seq.next_element_seed(HarEntrySeed {
            context: self.context,
        })?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
}

/// Reads one HAR entry and returns its request.
struct HarEntrySeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for HarEntrySeed<'_, '_> {
    type Value = HarRequest;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<HarRequest, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HarEntrySeed<'_, '_> {
    type Value = HarRequest;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a HAR entry object with a request")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HarRequest, A::Error> {
        let context = self.context;
        let mut request = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "request" {
                let value = map.next_value_seed(HarRequestSeed { context })?;
                set_once(&mut request, "request", value)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        request.ok_or_else(|| {
            context.fail(RequestError::MissingJsonField {
                field: "log.entries[0].request",
            })
        })
    }
}

/// Reads the `request` object of a HAR entry.
struct HarRequestSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for HarRequestSeed<'_, '_> {
    type Value = HarRequest;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<HarRequest, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HarRequestSeed<'_, '_> {
    type Value = HarRequest;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a HAR request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HarRequest, A::Error> {
        let context = self.context;
        let mut method = None;
        let mut url = None;
        let mut headers = None;
        let mut body = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "method" => set_once(&mut method, "method", map.next_value()?)?,
                "url" => set_once(&mut url, "url", map.next_value()?)?,
                "headers" => {
                    let value = map.next_value_seed(HarHeadersSeed { context })?;
                    set_once(&mut headers, "headers", value)?;
                }
                "postData" => {
                    let value = map.next_value_seed(HarPostDataSeed)?;
                    set_once(&mut body, "postData", value)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let Some(method) = method else {
            return Err(context.fail(RequestError::MissingJsonField {
                field: "request.method",
            }));
        };
        let Some(url) = url else {
            return Err(context.fail(RequestError::MissingJsonField {
                field: "request.url",
            }));
        };
        Ok(HarRequest {
            method,
            url,
            headers: headers.unwrap_or_default(),
            body: body.flatten(),
        })
    }
}

/// Reads `headers` of a HAR request: an array of `{"name", "value"}` objects.
struct HarHeadersSeed<'c, 'l> {
    context: &'c JsonContext<'l>,
}

impl<'de> DeserializeSeed<'de> for HarHeadersSeed<'_, '_> {
    type Value = Headers;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Headers, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for HarHeadersSeed<'_, '_> {
    type Value = Headers;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of {\"name\", \"value\"} objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Headers, A::Error> {
        let mut collector = HeaderCollector::new(self.context);
        let mut position = 0;
        while let Some((name, value)) = seq.next_element_seed(HarHeaderSeed)? {
            position += 1;
            // HTTP/2 pseudo-headers carry the method, target and authority, not headers.
            if name.starts_with(':') {
                continue;
            }
            collector.add(position, &name, &value)?;
        }
        Ok(collector.headers)
    }
}

/// Reads one `{"name", "value"}` object of a HAR request.
struct HarHeaderSeed;

impl<'de> DeserializeSeed<'de> for HarHeaderSeed {
    type Value = (String, String);

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(String, String), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HarHeaderSeed {
    type Value = (String, String);

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a HAR header object with name and value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(String, String), A::Error> {
        let mut name = None;
        let mut value = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => set_once(&mut name, "name", map.next_value()?)?,
                "value" => set_once(&mut value, "value", map.next_value()?)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        Ok((name, value))
    }
}

/// Reads `postData` of a HAR request and returns its `text`.
struct HarPostDataSeed;

impl<'de> DeserializeSeed<'de> for HarPostDataSeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HarPostDataSeed {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a HAR postData object, or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut text = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "text" {
                let value = map.next_value_seed(BodySeed)?;
                set_once(&mut text, "text", value)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(text.flatten())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Request, RequestError> {
        parse_json_request(input.as_bytes(), &RequestLimits::default())
    }

    fn header_lines(request: &Request) -> Vec<(&str, &str)> {
        request.headers.iter().collect()
    }

    #[test]
    fn object_headers_keep_key_order() {
        let request = parse(
            r#"{"method":"PUT","url":"/quotes/1","headers":{"Zeta":"1","Alpha":"2","Mid":"3"},"body":"{}"}"#,
        )
        .unwrap();
        assert_eq!(
            header_lines(&request),
            [("Zeta", "1"), ("Alpha", "2"), ("Mid", "3")]
        );
    }

    #[test]
    fn object_headers_differing_in_case_repeat() {
        let request = parse(
            r#"{"method":"PUT","url":"/quotes","headers":{"FSPIOP-Source":"payerfsp","fspiop-source":"payerfsp"}}"#,
        )
        .unwrap();
        assert_eq!(request.headers.count("fspiop-source"), 2);
        assert_eq!(
            request.headers.get("fspiop-source").as_deref(),
            Some("payerfsp, payerfsp")
        );
    }

    #[test]
    fn object_headers_with_identical_keys_repeat() {
        let request =
            parse(r#"{"method":"PUT","url":"/quotes","headers":{"Date":"a","Date":"b"}}"#).unwrap();
        assert_eq!(request.headers.get("date").as_deref(), Some("a, b"));
    }

    #[test]
    fn array_headers_parse_in_order() {
        let request = parse(
            r#"{"method":"POST","url":"/quotes","headers":[["B","1"],["A"," 2 "]],"body":"x"}"#,
        )
        .unwrap();
        assert_eq!(header_lines(&request), [("B", "1"), ("A", "2")]);
    }

    #[test]
    fn array_header_with_three_items_is_rejected() {
        let error = parse(r#"{"method":"POST","url":"/","headers":[["A","1","2"]]}"#).unwrap_err();
        assert!(
            matches!(error, RequestError::InvalidJson { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn body_string_becomes_utf8_bytes() {
        let request = parse(r#"{"method":"POST","url":"/","body":"{\"name\":\"é\"}"}"#).unwrap();
        assert_eq!(request.body.as_deref(), Some("{\"name\":\"é\"}".as_bytes()));
    }

    #[test]
    fn null_body_is_none() {
        let request = parse(r#"{"method":"GET","url":"/","body":null}"#).unwrap();
        assert_eq!(request.body, None);
    }

    #[test]
    fn empty_body_is_none() {
        let request = parse(r#"{"method":"GET","url":"/","body":""}"#).unwrap();
        assert_eq!(request.body, None);
    }

    #[test]
    fn object_body_is_rejected() {
        let error = parse(r#"{"method":"POST","url":"/","body":{"a":1}}"#).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("exact body text"), "{message}");
        assert!(message.contains("line 1 column"), "{message}");
    }

    #[test]
    fn target_field_is_accepted() {
        let request = parse(r#"{"method":"GET","target":"/parties/MSISDN/1?x=1"}"#).unwrap();
        assert_eq!(request.target, "/parties/MSISDN/1?x=1");
    }

    #[test]
    fn absolute_url_keeps_path_and_query() {
        let request =
            parse(r#"{"method":"GET","url":"https://hub.example:443/quotes/1?a=1"}"#).unwrap();
        assert_eq!(request.target, "/quotes/1?a=1");
    }

    #[test]
    fn url_and_target_together_are_rejected() {
        let error = parse(r#"{"method":"GET","url":"/a","target":"/b"}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::ConflictingJsonFields {
                first: "url",
                second: "target"
            }
        );
    }

    #[test]
    fn missing_method_is_rejected() {
        let error = parse(r#"{"url":"/a"}"#).unwrap_err();
        assert_eq!(error, RequestError::MissingJsonField { field: "method" });
    }

    #[test]
    fn missing_url_is_rejected() {
        let error = parse(r#"{"method":"GET"}"#).unwrap_err();
        assert_eq!(error, RequestError::MissingJsonField { field: "url" });
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = parse(r#"{"method":"GET","url":"/","header":{}}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::UnknownJsonField {
                field: "header".to_owned()
            }
        );
    }

    #[test]
    fn duplicate_field_is_rejected() {
        let error = parse(r#"{"method":"GET","method":"PUT","url":"/"}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `method`"),
            "{error}"
        );
    }

    #[test]
    fn invalid_method_is_rejected() {
        let error = parse(r#"{"method":"P UT","url":"/"}"#).unwrap_err();
        assert!(
            matches!(
                error,
                RequestError::InvalidRequestLine {
                    location: Location::JsonField("method"),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn target_with_space_is_rejected() {
        let error = parse(r#"{"method":"GET","url":"/a b"}"#).unwrap_err();
        assert!(
            matches!(
                error,
                RequestError::InvalidRequestLine {
                    location: Location::JsonField("url"),
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn header_value_byte_e9_as_latin1_character() {
        let request =
            parse(r#"{"method":"GET","url":"/","headers":{"X-Name":"caf\u00e9"}}"#).unwrap();
        assert_eq!(request.headers.get("x-name").as_deref(), Some("café"));
    }

    #[test]
    fn header_value_above_latin1_is_rejected() {
        let error =
            parse(r#"{"method":"GET","url":"/","headers":{"A":"1","X":"5 €"}}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::InvalidHeaderValue {
                location: Location::JsonHeader(2),
                name: "X".to_owned(),
                excerpt: "5 €".to_owned(),
                character: '€'
            }
        );
    }

    #[test]
    fn header_value_with_line_break_is_rejected() {
        let error = parse(r#"{"method":"GET","url":"/","headers":[["X","a\r\nInjected: 1"]]}"#)
            .unwrap_err();
        assert!(
            matches!(
                error,
                RequestError::InvalidHeaderValue {
                    character: '\r',
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn invalid_header_name_is_rejected() {
        let error = parse(r#"{"method":"GET","url":"/","headers":{"Bad Name":"1"}}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::InvalidHeaderName {
                location: Location::JsonHeader(1),
                name: "Bad Name".to_owned()
            }
        );
    }

    #[test]
    fn non_string_header_value_is_rejected() {
        let error =
            parse(r#"{"method":"GET","url":"/","headers":{"Content-Length":12}}"#).unwrap_err();
        assert!(
            matches!(error, RequestError::InvalidJson { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn syntax_error_reports_position() {
        let error = parse("{\"method\":\"GET\",\n\"url\":}").unwrap_err();
        assert!(error.to_string().contains("line 2 column 7"), "{error}");
    }

    #[test]
    fn trailing_text_is_rejected() {
        let error = parse(r#"{"method":"GET","url":"/"} x"#).unwrap_err();
        assert!(
            matches!(error, RequestError::InvalidJson { .. }),
            "{error:?}"
        );
    }

    const HAR_ENTRY: &str = r#"{
        "startedDateTime": "2026-05-13T14:39:12.000Z",
        "request": {
            "method": "PUT",
            "url": "https://hub.example/quotes/123?x=1",
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": ":authority", "value": "hub.example"},
                {"name": "FSPIOP-Source", "value": "payerfsp"},
                {"name": "Date", "value": "Wed, 13 May 2026 14:39:12 GMT", "comment": ""}
            ],
            "queryString": [{"name": "x", "value": "1"}],
            "postData": {"mimeType": "application/json", "text": "{\"a\":1}"}
        },
        "response": {"status": 200, "headers": [], "content": {"text": "ignored"}}
    }"#;

    #[test]
    fn har_entry_method_and_target() {
        let request = parse(HAR_ENTRY).unwrap();
        assert_eq!(request.method, "PUT");
        assert_eq!(request.target, "/quotes/123?x=1");
    }

    #[test]
    fn har_entry_skips_pseudo_headers() {
        let request = parse(HAR_ENTRY).unwrap();
        let names: Vec<&str> = request.headers.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["FSPIOP-Source", "Date"]);
    }

    #[test]
    fn har_entry_body_from_post_data_text() {
        let request = parse(HAR_ENTRY).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
    }

    #[test]
    fn har_log_reads_first_entry() {
        let second = HAR_ENTRY.replace("\"PUT\"", "\"POST\"");
        let log = format!(r#"{{"log":{{"version":"1.2","entries":[{HAR_ENTRY},{second}]}}}}"#);
        let request = parse(&log).unwrap();
        assert_eq!(request, parse(HAR_ENTRY).unwrap());
    }

    #[test]
    fn har_log_without_entries_is_rejected() {
        let error = parse(r#"{"log":{"entries":[]}}"#).unwrap_err();
        assert_eq!(error, RequestError::EmptyHarLog);
    }

    #[test]
    fn har_log_missing_entries_is_rejected() {
        let error = parse(r#"{"log":{"version":"1.2"}}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::MissingJsonField {
                field: "log.entries"
            }
        );
    }

    #[test]
    fn har_request_without_post_data_has_no_body() {
        let request =
            parse(r#"{"request":{"method":"GET","url":"http://h/parties/MSISDN/1","headers":[]}}"#)
                .unwrap();
        assert_eq!(request.body, None);
        assert_eq!(request.target, "/parties/MSISDN/1");
    }

    #[test]
    fn har_request_without_url_is_rejected() {
        let error = parse(r#"{"request":{"method":"GET","headers":[]}}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError::MissingJsonField {
                field: "request.url"
            }
        );
    }

    #[test]
    fn har_header_without_value_is_rejected() {
        let error = parse(r#"{"request":{"method":"GET","url":"/","headers":[{"name":"A"}]}}"#)
            .unwrap_err();
        assert!(
            error.to_string().contains("missing field `value`"),
            "{error}"
        );
    }

    #[test]
    fn har_entry_and_log_together_are_rejected() {
        let input = format!(
            r#"{{"log":{{"entries":[{HAR_ENTRY}]}},"request":{{"method":"GET","url":"/"}}}}"#
        );
        let error = parse(&input).unwrap_err();
        assert_eq!(
            error,
            RequestError::ConflictingJsonFields {
                first: "log",
                second: "request"
            }
        );
    }

    fn small_limits() -> RequestLimits {
        RequestLimits {
            max_header_bytes: 64,
            max_headers: 2,
            max_body_bytes: 8,
        }
    }

    fn parse_small(input: &str) -> Result<Request, RequestError> {
        parse_json_request(input.as_bytes(), &small_limits())
    }

    #[test]
    fn input_over_limit_is_rejected() {
        let max = max_json_input_bytes(&small_limits());
        let input = format!(
            r#"{{"method":"GET","url":"/","body":"{}"}}"#,
            "a".repeat(max)
        );
        let error = parse_small(&input).unwrap_err();
        assert_eq!(
            error,
            RequestError::InputTooLarge {
                length: input.len(),
                max
            }
        );
    }

    #[test]
    fn header_count_over_limit_is_rejected() {
        let error =
            parse_small(r#"{"method":"GET","url":"/","headers":[["A","1"],["B","2"],["C","3"]]}"#)
                .unwrap_err();
        assert_eq!(error, RequestError::TooManyHeaders { max: 2 });
    }

    #[test]
    fn har_header_count_over_limit_is_rejected() {
        let error = parse_small(
            r#"{"request":{"method":"GET","url":"/","headers":[
                {"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}]}}"#,
        )
        .unwrap_err();
        assert_eq!(error, RequestError::TooManyHeaders { max: 2 });
    }

    #[test]
    fn header_bytes_over_limit_are_rejected() {
        let input = format!(
            r#"{{"method":"GET","url":"/","headers":{{"A":"{}"}}}}"#,
            "x".repeat(61)
        );
        let error = parse_small(&input).unwrap_err();
        assert_eq!(error, RequestError::HeaderSectionTooLarge { max: 64 });
    }

    #[test]
    fn request_line_counts_toward_header_bytes() {
        // With CRLF: request line 16 bytes, header 46 bytes, blank line 2 bytes, 64 in total.
        let fits = format!(
            r#"{{"method":"GET","url":"/","headers":{{"A":"{}"}}}}"#,
            "x".repeat(41)
        );
        let too_long = format!(
            r#"{{"method":"GET","url":"/x","headers":{{"A":"{}"}}}}"#,
            "x".repeat(41)
        );
        assert!(parse_small(&fits).is_ok());
        assert_eq!(
            parse_small(&too_long).unwrap_err(),
            RequestError::HeaderSectionTooLarge { max: 64 }
        );
    }

    #[test]
    fn body_over_limit_is_rejected() {
        let error = parse_small(r#"{"method":"POST","url":"/","body":"123456789"}"#).unwrap_err();
        assert_eq!(error, RequestError::BodyTooLarge { length: 9, max: 8 });
    }

    #[test]
    fn body_at_limit_is_accepted() {
        assert!(parse_small(r#"{"method":"POST","url":"/","body":"12345678"}"#).is_ok());
    }
}
