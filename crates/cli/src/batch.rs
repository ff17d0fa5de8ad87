//! Batch mode: JSON lines in, one result per line out, for differential tests and bulk
//! checks without a process start per request.
//!
//! `verify --batch` reads `{"id", "request": {method, url, headers, body}, "keys"?:
//! {"<fspId>": "<PEM>"}, "at"?: "<RFC 3339>"}` and writes `{"id", "verdict": {...}}`.
//! `sign --batch` reads `{"id", "mode", "key": "<PEM>", "alg"?, "request": {method, url,
//! headers, body}}` (a string body is signed verbatim, any other JSON value is serialised
//! by the mode) and writes `{"id", "headers": {...}, "body": "..."}` or `{"id", "error"}`.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;

use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_core::http::{self, RequestLimits};
use fspiop_guard_core::json::{self, KeyOrder, Value};
use fspiop_guard_core::keys::{self, KeyStore, ParsedKey};
use fspiop_guard_core::sign::{self, SignBody, SignInput};
use fspiop_guard_core::{Headers, Profile, RingVerifier, VerifyContext, verify};

/// Maximum input line length, in bytes.
const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

fn line_limits() -> json::Limits {
    json::Limits {
        max_bytes: MAX_LINE_BYTES,
        max_depth: 1000,
    }
}

/// Reads lines from standard input and calls `handle` for each non-empty one, writing
/// one output line per input line. A line that is not UTF-8 gets an error line.
fn for_each_line(mut handle: impl FnMut(&str) -> String) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        number += 1;
        let read = Read::take(&mut input, MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|error| format!("cannot read standard input: {error}"))?;
        if read == 0 {
            break;
        }
        if read > MAX_LINE_BYTES {
            return Err(format!(
                "input line {number} is longer than {MAX_LINE_BYTES} bytes; split the batch"
            ));
        }
        let result = match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => handle(text.trim_end()),
            Err(error) => error_line(
                "null",
                &format!("input line {number} is not valid UTF-8 ({error}); send JSON text"),
            ),
        };

        // A reader that stops early (`| head`) ends the batch without an error.
        let written = writeln!(out, "{result}").and_then(|()| out.flush());
        match written {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => return Err(format!("cannot write standard output: {error}")),
        }
    }
    Ok(())
}

fn error_line(id: &str, message: &str) -> String {
    let mut line = format!("{{\"id\":{id},\"error\":");
    json::quote_js_string(&json::JsString::from_str(message), &mut line);
    line.push('}');
    line
}

fn id_of(object: &json::Object) -> String {
    object
        .get("id")
        .map(|id| json::stringify(id, KeyOrder::Insertion))
        .unwrap_or_else(|| "null".to_owned())
}

/// One `verify --batch` input line.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyLine<'a> {
    /// Echoed verbatim in the output line.
    #[serde(borrow)]
    id: Option<&'a serde_json::value::RawValue>,
    /// The request in the JSON request form.
    #[serde(borrow)]
    request: &'a serde_json::value::RawValue,
    /// Extra keys for this line only, by participant id.
    #[serde(default)]
    keys: std::collections::BTreeMap<String, String>,
    /// Verification time, RFC 3339.
    at: Option<String>,
}

/// Runs `verify --batch`.
pub fn verify_lines(profile: &Profile, base_keys: &KeyStore, now: i64) -> Result<ExitCode, String> {
    let mut cache: HashMap<String, Result<ParsedKey, keys::KeyError>> = HashMap::new();

    for_each_line(|line| {
        let parsed: VerifyLine<'_> = match serde_json::from_str(line) {
            Ok(parsed) => parsed,
            Err(error) => {
                return error_line("null", &format!("invalid input line: {error}"));
            }
        };
        let id = parsed.id.map_or("null", |id| id.get()).to_owned();

        // The request is read from its own text, so repeated header names stay
        // repeated header lines, as in a request file.
        let request = match http::parse_json_request(
            parsed.request.get().as_bytes(),
            &RequestLimits::default(),
        ) {
            Ok(request) => request,
            Err(error) => return error_line(&id, &format!("invalid request: {error}")),
        };

        let mut keys = base_keys.clone();
        for (participant, pem) in &parsed.keys {
            if pem.is_empty() {
                // An empty key is no key, as KeyStore::insert_pem treats it.
                continue;
            }
            let key = cache
                .entry(pem.clone())
                .or_insert_with(|| keys::parse_public_key(pem));
            let known = |kid: &str| {
                base_keys
                    .entries(participant)
                    .iter()
                    .any(|e| e.kid() == kid)
            };
            match key {
                // A line never replaces a key loaded with --keys, so it cannot un-retire one.
                Ok(key) if known(key.key.kid()) => {}
                Ok(key) => {
                    keys.insert(participant, key.clone(), None, None);
                }
                Err(error) => keys.record_error(participant, error),
            }
        }
        let at = match &parsed.at {
            Some(text) => match crate::time::parse_rfc3339(text) {
                Ok(at) => at,
                Err(error) => return error_line(&id, &error),
            },
            None => now,
        };

        let ctx = VerifyContext {
            profile,
            keys: &keys,
            rules: None,
            now: at,
            crypto: &RingVerifier,
        };
        let verdict = verify(&request, &ctx);
        match serde_json::to_string(&verdict) {
            Ok(verdict) => format!("{{\"id\":{id},\"verdict\":{verdict}}}"),
            Err(error) => error_line(&id, &error.to_string()),
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `sign --batch`.
pub fn sign_lines() -> Result<ExitCode, String> {
    let mut cache: HashMap<String, Result<Arc<SigningKey>, String>> = HashMap::new();

    for_each_line(|line| {
        let parsed = match json::parse(line, &line_limits()) {
            Ok(parsed) => parsed,
            Err(error) => return error_line("null", &format!("input line is not JSON: {error}")),
        };
        let Ok(object) = parsed.value.into_object() else {
            return error_line("null", "input line must be a JSON object");
        };
        let id = id_of(&object);
        match sign_one(&object, &mut cache) {
            Ok(result) => format!("{{\"id\":{id},{result}}}"),
            Err(error) => error_line(&id, &error),
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn sign_one(
    object: &json::Object,
    cache: &mut HashMap<String, Result<Arc<SigningKey>, String>>,
) -> Result<String, String> {
    let mode_name = object
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or_else(|| "sdk-19.19".to_owned());
    let mode = crate::parse_mode(&mode_name)?;
    let alg = object
        .get("alg")
        .and_then(Value::as_str)
        .map(|name| crate::parse_alg(&name))
        .transpose()?;
    let pem = object
        .get("key")
        .and_then(Value::as_str)
        .ok_or("missing member \"key\" (private key PEM)")?;
    let key = cache
        .entry(pem.clone())
        .or_insert_with(|| {
            SigningKey::from_pem(&pem)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()?;

    let Some(Value::Object(request)) = object.get("request") else {
        return Err("missing member \"request\"".to_owned());
    };
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .ok_or("request has no method")?;
    let url = request
        .get("url")
        .or_else(|| request.get("uri"))
        .and_then(Value::as_str)
        .ok_or("request has no url")?;
    let mut headers = Headers::new();
    if let Some(Value::Object(map)) = request.get("headers") {
        for (name, value) in map.iter() {
            if let Some(value) = value.as_str() {
                headers.push(&name.to_string_lossy(), &value);
            }
        }
    }
    let body = match request.get("body") {
        Some(Value::String(text)) => SignBody::Text(text.to_string_lossy()),
        Some(value) => SignBody::Json(value.clone()),
        None => SignBody::Json(Value::Null),
    };

    let input = SignInput {
        method,
        url,
        headers,
        body,
    };
    let signed = sign::sign_request(&key, mode, alg, &input).map_err(|error| error.to_string())?;

    let mut out = String::from("\"headers\":{");
    for (index, (name, value)) in signed.headers.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        json::quote_js_string(&json::JsString::from_str(name), &mut out);
        out.push(':');
        json::quote_js_string(&json::JsString::from_str(value), &mut out);
    }
    out.push_str("},\"body\":");
    json::quote_js_string(&json::JsString::from_str(&signed.body), &mut out);
    Ok(out)
}
