//! Reading arguments from JavaScript values.
//!
//! Every reader checks the type and the size before it copies anything into wasm memory,
//! and names the offending field in its error, so bad input from JS gives a `TypeError`
//! or `RangeError` and never a trap.

use fspiop_guard_core::http::RequestLimits;
use fspiop_guard_core::{Headers, Profile, Request, RequestRules};
use js_sys::{Date, JsString, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::BindingError;
use crate::intrinsics::{self, Bytes};

/// Maximum length of the HTTP method, in characters.
const MAX_METHOD_CHARS: usize = 32;
/// Maximum length of the request URL, in UTF-16 code units.
const MAX_URL_CHARS: usize = 16 * 1024;
/// Maximum length of a header name, in characters.
const MAX_HEADER_NAME_CHARS: usize = 256;
/// Maximum length of a profile name or signer mode name.
const MAX_NAME_CHARS: usize = 64;
/// Maximum length of a key (PEM or JWK text), in UTF-16 code units.
pub const MAX_KEY_CHARS: usize = 64 * 1024;
/// Maximum length of a participant id, in UTF-16 code units.
pub const MAX_PARTICIPANT_CHARS: usize = 1024;
/// Maximum length of an `FSPIOP-Signature` value given to `inspectSignature`.
pub const MAX_SIGNATURE_HEADER_CHARS: usize = 64 * 1024;
/// Maximum number of ingress path prefixes.
const MAX_PATH_PREFIXES: usize = 32;

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws for a revoked Proxy.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array_js(value: &JsValue) -> Result<bool, JsValue>;
}

// Every read of a caller's object goes through a JS call that catches (Reflect, the
// import above). An exception thrown by a getter or a Proxy trap would otherwise unwind
// through the wasm frames and leave a KeyStore borrowed for good.

fn unreadable(field: &str) -> BindingError {
    BindingError::invalid(field, "cannot be read (a getter or Proxy threw)")
}

/// Returns whether `value` is an array.
pub fn is_array(value: &JsValue, field: &str) -> Result<bool, BindingError> {
    is_array_js(value).map_err(|_| unreadable(field))
}

/// Reads the elements of an array, at most `max` of them.
pub fn elements(
    value: &JsValue,
    field: &str,
    max: usize,
    unit: &str,
) -> Result<Vec<JsValue>, BindingError> {
    let length = Reflect::get(value, &JsValue::from_str("length"))
        .map_err(|_| unreadable(field))?
        .as_f64()
        .filter(|length| *length >= 0.0 && length.fract() == 0.0)
        .ok_or_else(|| BindingError::invalid(field, "has no valid length"))?;
    if length > max as f64 {
        return Err(BindingError::too_large(field, length as usize, max, unit));
    }
    (0..length as u32)
        .map(|index| Reflect::get_u32(value, index).map_err(|_| unreadable(field)))
        .collect()
}

/// Reads the own string-keyed property names of an object, at most `max` of them.
fn own_names(value: &JsValue, field: &str, max: usize) -> Result<Vec<JsValue>, BindingError> {
    let keys = Reflect::own_keys(value).map_err(|_| unreadable(field))?;
    let names: Vec<JsValue> = keys.iter().filter(JsValue::is_string).collect();
    if names.len() > max {
        return Err(BindingError::too_large(
            field,
            names.len(),
            max,
            "header names",
        ));
    }
    Ok(names)
}

/// Request size limits: the core's defaults for HTTP requests (64 KiB of header lines,
/// 200 header lines, a 16 MiB body).
pub fn request_limits() -> RequestLimits {
    RequestLimits::default()
}

/// Returns the member `name` of `object`, or an error when `object` is not an object.
pub fn member(object: &JsValue, name: &str, field: &str) -> Result<JsValue, BindingError> {
    if !object.is_object() {
        return Err(BindingError::invalid(field, "must be an object"));
    }
    Reflect::get(object, &JsValue::from_str(name)).map_err(|_| {
        BindingError::invalid(
            field,
            format!("member {name:?} cannot be read (a getter or Proxy threw)"),
        )
    })
}

/// Returns true for `undefined` and `null`.
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// Reads a string of at most `max` UTF-16 code units.
pub fn string(value: &JsValue, field: &str, max: usize) -> Result<String, BindingError> {
    let Some(text) = value.dyn_ref::<JsString>() else {
        return Err(BindingError::invalid(
            field,
            format!("must be a string, not {}", type_of(value)),
        ));
    };
    let length = text.length() as usize;
    if length > max {
        return Err(BindingError::too_large(field, length, max, "characters"));
    }
    Ok(String::from(text))
}

/// Reads an optional string (absent gives `None`).
pub fn optional_string(
    value: &JsValue,
    field: &str,
    max: usize,
) -> Result<Option<String>, BindingError> {
    if is_absent(value) {
        return Ok(None);
    }
    string(value, field, max).map(Some)
}

/// Reads an optional boolean (absent gives `false`).
pub fn flag(value: &JsValue, field: &str) -> Result<bool, BindingError> {
    if is_absent(value) {
        return Ok(false);
    }
    value.as_bool().ok_or_else(|| {
        BindingError::invalid(field, format!("must be a boolean, not {}", type_of(value)))
    })
}

/// Reads an optional boolean (absent gives `default`).
pub fn flag_or(value: &JsValue, field: &str, default: bool) -> Result<bool, BindingError> {
    if is_absent(value) {
        return Ok(default);
    }
    flag(value, field)
}

/// Reads an optional whole number from 0 to `max` (absent gives `None`).
pub fn optional_whole_number(
    value: &JsValue,
    field: &str,
    max: u32,
) -> Result<Option<u32>, BindingError> {
    if is_absent(value) {
        return Ok(None);
    }
    let Some(number) = value.as_f64() else {
        return Err(BindingError::invalid(
            field,
            format!("must be a number, not {}", type_of(value)),
        ));
    };
    // The value is not echoed, because formatting an f64 links Rust's float formatting
    // (about 25 KB of wasm) into a module that has no other use for it.
    if number.fract() != 0.0 || !(0.0..=f64::from(max)).contains(&number) {
        return Err(BindingError::invalid(
            field,
            format!("must be a whole number from 0 to {max}"),
        ));
    }
    Ok(Some(number as u32))
}

/// Reads an optional array of at most `max_entries` strings, each of at most `max_chars`
/// UTF-16 code units (absent gives `None`).
pub fn optional_string_list(
    value: &JsValue,
    field: &str,
    max_entries: usize,
    max_chars: usize,
) -> Result<Option<Vec<String>>, BindingError> {
    if is_absent(value) {
        return Ok(None);
    }
    if !is_array(value, field)? {
        return Err(BindingError::invalid(
            field,
            format!("must be an array of strings, not {}", type_of(value)),
        ));
    }
    let entries = elements(value, field, max_entries, "entries")?;
    let mut list = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        list.push(string(entry, &format!("{field}[{index}]"), max_chars)?);
    }
    Ok(Some(list))
}

/// Reads PEM or DER input of at most `max` bytes: the UTF-8 bytes of a string, or the
/// bytes of a genuine `Uint8Array` (a Node `Buffer` included) or `ArrayBuffer`.
pub fn text_or_bytes(value: &JsValue, field: &str, max: usize) -> Result<Vec<u8>, BindingError> {
    if let Some(text) = value.dyn_ref::<JsString>() {
        // A UTF-16 code unit takes at least one UTF-8 byte, so this check comes before
        // the copy, and the byte count is checked after it.
        let units = text.length() as usize;
        if units > max {
            return Err(BindingError::too_large(field, units, max, "characters"));
        }
        let bytes = String::from(text).into_bytes();
        if bytes.len() > max {
            return Err(BindingError::too_large(field, bytes.len(), max, "bytes"));
        }
        return Ok(bytes);
    }
    let bytes = match intrinsics::bytes(value) {
        Bytes::Genuine(bytes) => bytes,
        Bytes::Unreadable => {
            return Err(BindingError::invalid(
                field,
                "cannot be read (a detached buffer?)",
            ));
        }
        Bytes::NotBytes => {
            return Err(BindingError::invalid(
                field,
                format!(
                    "must be PEM text (a string) or PEM or DER bytes (a Uint8Array or an \
                     ArrayBuffer), not {}",
                    type_of(value)
                ),
            ));
        }
    };
    let length = bytes.length() as usize;
    if length > max {
        return Err(BindingError::too_large(field, length, max, "bytes"));
    }
    Ok(bytes.to_vec())
}

/// Reads a time as unix seconds: a number of seconds or a `Date`. Absent gives `None`.
pub fn time(value: &JsValue, field: &str) -> Result<Option<i64>, BindingError> {
    if is_absent(value) {
        return Ok(None);
    }
    let seconds = if let Some(number) = value.as_f64() {
        number
    } else if let Some(millis) = intrinsics::date_millis(value) {
        millis / 1000.0
    } else {
        return Err(BindingError::invalid(
            field,
            format!(
                "must be unix seconds (a number) or a Date, not {}",
                type_of(value)
            ),
        ));
    };
    // Years 0 to 9999 cover every time an HTTP date or RFC 3339 time can name.
    const MIN: f64 = -62_167_219_200.0;
    const MAX: f64 = 253_402_300_799.0;
    if !seconds.is_finite() || !(MIN..=MAX).contains(&seconds) {
        return Err(BindingError::invalid(
            field,
            "must be a valid time between the years 0 and 9999",
        ));
    }
    Ok(Some(seconds.floor() as i64))
}

/// Returns the current time in unix seconds from the JS clock.
pub fn now_seconds() -> i64 {
    (Date::now() / 1000.0).floor() as i64
}

/// Reads a request `{method, url, headers, body}`.
pub fn request(value: &JsValue) -> Result<Request, BindingError> {
    let limits = request_limits();
    let method = string(
        &member(value, "method", "request")?,
        "request.method",
        MAX_METHOD_CHARS,
    )?;
    if !is_method(&method) {
        return Err(BindingError::invalid(
            "request.method",
            format!("{method:?} is not an HTTP method token"),
        ));
    }
    let target = string(
        &member(value, "url", "request")?,
        "request.url",
        MAX_URL_CHARS,
    )?;
    if !is_url(&target) {
        return Err(BindingError::invalid(
            "request.url",
            "must not contain spaces or control characters",
        ));
    }
    let headers = headers(&member(value, "headers", "request")?, &limits)?;
    let body = body(&member(value, "body", "request")?, &limits)?;
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Separator of the parts of a packed request (see [`packed_request`]).
pub const PACKED_SEPARATOR: char = '\0';

/// Reads a request packed into one string by the Node entry: the method, the URL, then
/// the name and value of each of `header_lines` header lines, joined by NUL, with the
/// body passed as [`body`] takes it.
///
/// One string crosses the JS/wasm boundary in place of one per part. Returns `Ok(None)`
/// when any part is out of the limits or rules that [`request`] applies, or when the
/// string does not split into exactly `2 + 2 * header_lines` parts (a part held a NUL).
/// The caller then reads the request with [`request`], which names what is wrong, so both
/// paths accept the same requests and build the same [`Request`].
pub fn packed_request(
    packed: &str,
    header_lines: u32,
    body_value: &JsValue,
) -> Result<Option<Request>, BindingError> {
    let limits = request_limits();
    let lines = header_lines as usize;
    if lines > limits.max_headers {
        return Ok(None);
    }

    let mut parts = packed.split(PACKED_SEPARATOR);
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    if utf16_len(method) > MAX_METHOD_CHARS
        || !is_method(method)
        || utf16_len(target) > MAX_URL_CHARS
        || !is_url(target)
    {
        return Ok(None);
    }

    let mut headers = Headers::new();
    let mut budget = HeaderBudget {
        lines: 0,
        bytes: 0,
        limits: &limits,
    };
    for _ in 0..lines {
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            return Ok(None);
        };
        let name_fits = name.len() <= MAX_HEADER_NAME_CHARS && is_header_name(name);
        // A valid value has only characters up to U+00FF, one UTF-16 unit each.
        let value_fits = is_header_value(value) && value.chars().count() <= limits.max_header_bytes;
        if !name_fits || !value_fits || budget.add(name, value).is_err() {
            return Ok(None);
        }
        headers.push(name, value);
    }
    if parts.next().is_some() {
        return Ok(None);
    }

    let body = body(body_value, &limits)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }))
}

/// Returns the length of `text` in UTF-16 code units, as JavaScript counts it.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn is_method(method: &str) -> bool {
    !method.is_empty() && method.bytes().all(is_token_byte)
}

fn is_url(target: &str) -> bool {
    !target.chars().any(|c| c.is_control() || c == ' ')
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// Returns the first character a header value may not hold: above U+00FF (Node reads
/// header bytes one character each), CR, LF or NUL.
fn forbidden_header_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|&c| u32::from(c) > 0xFF || matches!(c, '\r' | '\n' | '\0'))
}

fn is_header_value(value: &str) -> bool {
    forbidden_header_char(value).is_none()
}

/// Reads headers: an object `{name: value | value[]}` or an array of `[name, value]`
/// pairs. An array value, and a name repeated in the pairs, stand for repeated header
/// lines, which are combined as Node combines them in `req.headers`.
pub fn headers(value: &JsValue, limits: &RequestLimits) -> Result<Headers, BindingError> {
    let field = "request.headers";
    if is_absent(value) {
        return Ok(Headers::new());
    }
    let mut headers = Headers::new();
    let mut budget = HeaderBudget {
        lines: 0,
        bytes: 0,
        limits,
    };
    if is_array(value, field)? {
        let pairs = elements(value, field, limits.max_headers, "header lines")?;
        for (index, pair) in pairs.iter().enumerate() {
            let pair_field = format!("{field}[{index}]");
            let members = if is_array(pair, &pair_field)? {
                elements(pair, &pair_field, 2, "members")?
            } else {
                Vec::new()
            };
            let [name, value] = members.as_slice() else {
                return Err(BindingError::invalid(
                    &pair_field,
                    "must be a [name, value] pair of strings",
                ));
            };
            let name = header_name(name, &format!("{pair_field}[0]"))?;
            let value_field = format!("{pair_field}[1]");
            let value = header_value(value, &value_field)?;
            budget.add(&name, &value)?;
            headers.push(&name, &value);
        }
        return Ok(headers);
    }
    if !value.is_object() {
        return Err(BindingError::invalid(
            field,
            format!(
                "must be an object or an array of [name, value] pairs, not {}",
                type_of(value)
            ),
        ));
    }

    for name in own_names(value, field, limits.max_headers)? {
        let name_text = header_name(&name, field)?;
        let entry_field = format!("{field}[{name_text:?}]");
        let entry = Reflect::get(value, &name).map_err(|_| unreadable(&entry_field))?;
        if is_array(&entry, &entry_field)? {
            let lines = elements(&entry, &entry_field, limits.max_headers, "header lines")?;
            for (index, line) in lines.iter().enumerate() {
                let line_field = format!("{entry_field}[{index}]");
                let line = header_value(line, &line_field)?;
                budget.add(&name_text, &line)?;
                headers.push(&name_text, &line);
            }
        } else {
            let line = header_value(&entry, &entry_field)?;
            budget.add(&name_text, &line)?;
            headers.push(&name_text, &line);
        }
    }
    Ok(headers)
}

/// Counts header lines and their wire bytes against the limits.
struct HeaderBudget<'a> {
    lines: usize,
    bytes: usize,
    limits: &'a RequestLimits,
}

impl HeaderBudget<'_> {
    fn add(&mut self, name: &str, value: &str) -> Result<(), BindingError> {
        self.lines += 1;
        // `name: value\r\n` on the wire; every character of a value is one byte.
        self.bytes += name.len() + 2 + value.chars().count() + 2;
        if self.lines > self.limits.max_headers {
            return Err(BindingError::too_large(
                "request.headers",
                self.lines,
                self.limits.max_headers,
                "header lines",
            ));
        }
        if self.bytes > self.limits.max_header_bytes {
            return Err(BindingError::too_large(
                "request.headers",
                self.bytes,
                self.limits.max_header_bytes,
                "bytes",
            ));
        }
        Ok(())
    }
}

fn header_name(value: &JsValue, field: &str) -> Result<String, BindingError> {
    let name = string(value, field, MAX_HEADER_NAME_CHARS)?;
    if !is_header_name(&name) {
        return Err(BindingError::invalid(
            field,
            format!("header name {name:?} is not an HTTP token"),
        ));
    }
    Ok(name)
}

/// Reads a header value: a string whose characters are all at most U+00FF (one byte each,
/// as Node reads header bytes) and none of them CR, LF or NUL.
fn header_value(value: &JsValue, field: &str) -> Result<String, BindingError> {
    let text = string(value, field, request_limits().max_header_bytes)?;
    if let Some(bad) = forbidden_header_char(&text) {
        return Err(BindingError::invalid(
            field,
            format!(
                "header value has the character U+{:04X}; values may hold only characters up \
                 to U+00FF other than CR, LF and NUL",
                u32::from(bad)
            ),
        ));
    }
    Ok(text)
}

/// Reads a body: the exact text or bytes received, or absent.
pub fn body(value: &JsValue, limits: &RequestLimits) -> Result<Option<Vec<u8>>, BindingError> {
    let field = "request.body";
    if is_absent(value) {
        return Ok(None);
    }
    let max = limits.max_body_bytes;
    if let Some(text) = value.dyn_ref::<JsString>() {
        // A UTF-16 code unit takes at most three UTF-8 bytes.
        let units = text.length() as usize;
        if units > max {
            return Err(BindingError::too_large(field, units, max, "characters"));
        }
        let bytes = String::from(text).into_bytes();
        if bytes.len() > max {
            return Err(BindingError::too_large(field, bytes.len(), max, "bytes"));
        }
        return Ok(Some(bytes));
    }
    let bytes = match intrinsics::bytes(value) {
        Bytes::Genuine(bytes) => bytes,
        Bytes::Unreadable => {
            return Err(BindingError::invalid(
                field,
                "cannot be read (a detached buffer?)",
            ));
        }
        Bytes::NotBytes => {
            return Err(BindingError::invalid(
                field,
                format!(
                    "must be the body as received (a string, a Uint8Array or an ArrayBuffer) \
                     or null, not {}; for a body that is already parsed, use JwsValidator",
                    type_of(value)
                ),
            ));
        }
    };
    let length = bytes.length() as usize;
    if length > max {
        return Err(BindingError::too_large(field, length, max, "bytes"));
    }
    Ok(Some(bytes.to_vec()))
}

/// Verification options besides keys and crypto.
pub struct VerifyOptions {
    pub profile: Profile,
    pub rules: Option<RequestRules>,
    pub now: i64,
}

/// Reads `{profile, now, rejectDuplicateKeys, rejectLossyNumbers, pathPrefixes,
/// requestRules}`; every member is optional.
pub fn verify_options(value: &JsValue) -> Result<VerifyOptions, BindingError> {
    let field = "options";
    if is_absent(value) {
        return Ok(VerifyOptions {
            profile: Profile::mojaloop_sdk(),
            rules: None,
            now: now_seconds(),
        });
    }
    if !value.is_object() {
        return Err(BindingError::invalid(field, "must be an object"));
    }

    let profile_name = optional_string(
        &member(value, "profile", field)?,
        "options.profile",
        MAX_NAME_CHARS,
    )?;
    let mut profile = match profile_name.as_deref() {
        None => Profile::mojaloop_sdk(),
        Some(name) => Profile::by_name(name).ok_or_else(|| {
            BindingError::invalid(
                "options.profile",
                format!(
                    "unknown profile {name:?}; use one of: {}",
                    Profile::BUILT_IN.join(", ")
                ),
            )
        })?,
    };
    profile.reject_duplicate_keys |= flag(
        &member(value, "rejectDuplicateKeys", field)?,
        "options.rejectDuplicateKeys",
    )?;
    profile.reject_lossy_numbers |= flag(
        &member(value, "rejectLossyNumbers", field)?,
        "options.rejectLossyNumbers",
    )?;
    let prefixes = member(value, "pathPrefixes", field)?;
    if !is_absent(&prefixes) {
        if !is_array(&prefixes, "options.pathPrefixes")? {
            return Err(BindingError::invalid(
                "options.pathPrefixes",
                "must be an array of strings",
            ));
        }
        let prefixes = elements(
            &prefixes,
            "options.pathPrefixes",
            MAX_PATH_PREFIXES,
            "entries",
        )?;
        for (index, prefix) in prefixes.iter().enumerate() {
            let prefix = string(
                prefix,
                &format!("options.pathPrefixes[{index}]"),
                MAX_URL_CHARS,
            )?;
            profile.request_path_prefixes.push(prefix);
        }
    }

    let rules_value = member(value, "requestRules", field)?;
    let rules = if is_absent(&rules_value) || rules_value.as_bool() == Some(false) {
        None
    } else if rules_value.as_bool() == Some(true) {
        Some(RequestRules::default())
    } else if rules_value.is_object() {
        let put_parties = flag(
            &member(&rules_value, "putParties", "options.requestRules")?,
            "options.requestRules.putParties",
        )?;
        Some(RequestRules {
            put_parties,
            ..RequestRules::default()
        })
    } else {
        return Err(BindingError::invalid(
            "options.requestRules",
            "must be a boolean or {putParties: boolean}",
        ));
    };

    let now = time(&member(value, "now", field)?, "options.now")?.unwrap_or_else(now_seconds);
    Ok(VerifyOptions {
        profile,
        rules,
        now,
    })
}

/// Names the JS type of a value for messages.
pub fn type_of(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "undefined"
    } else if value.is_null() {
        "null"
    } else if value.is_string() {
        "a string"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.is_bigint() {
        "a bigint"
    } else if value.is_symbol() {
        "a symbol"
    } else if value.is_function() {
        "a function"
    } else if is_array_js(value).unwrap_or(false) {
        "an array"
    } else {
        "an object"
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}
