//! The signer: produces `FSPIOP-Signature` exactly as the Mojaloop SDK does.
//!
//! Three modes reproduce the three signing paths in use, byte for byte for RSA
//! (PKCS#1 v1.5 is deterministic; ECDSA signatures are randomised):
//!
//! | mode | payload signed | wire body | header member order |
//! |---|---|---|---|
//! | `sdk-19.19` | body with keys sorted | the same text | `protectedHeader`, `signature` |
//! | `sdk-19.18` | body in JavaScript property order | the same text | `signature`, `protectedHeader` |
//! | `get-signature` | body in JavaScript property order | the same text | `protectedHeader`, `signature` |
//!
//! A body given as text is signed verbatim in every mode. The protected header members
//! are emitted in the reference order `alg`, `FSPIOP-URI`, `FSPIOP-HTTP-Method`,
//! `FSPIOP-Source`, then `FSPIOP-Destination` and `Date` when present, and its JSON text is
//! turned into bytes as latin1, as the reference signer does.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::crypto::{Algorithm, KeyKind, SigningKey};
use crate::json::{self, JsString, KeyOrder, Value};
use crate::request::Headers;
use crate::uri;

/// The reference signing path to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignerMode {
    /// `sign()` of SDK 19.19.x: the body is serialised with sorted keys, and that text is
    /// both signed and sent.
    #[serde(rename = "sdk-19.19")]
    Sdk1919,
    /// `sign()` of SDK 18.5–19.18.x: the body is signed in JavaScript property order.
    #[serde(rename = "sdk-19.18")]
    Sdk1918,
    /// `getSignature()`, the Hub's signing path: the caller has set `FSPIOP-URI` and
    /// `FSPIOP-HTTP-Method`; the body is signed in JavaScript property order.
    #[serde(rename = "get-signature")]
    GetSignature,
}

impl SignerMode {
    /// Returns the mode's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            SignerMode::Sdk1919 => "sdk-19.19",
            SignerMode::Sdk1918 => "sdk-19.18",
            SignerMode::GetSignature => "get-signature",
        }
    }

    /// Looks a mode up by name.
    pub fn from_name(name: &str) -> Option<SignerMode> {
        match name {
            "sdk-19.19" => Some(SignerMode::Sdk1919),
            "sdk-19.18" => Some(SignerMode::Sdk1918),
            "get-signature" => Some(SignerMode::GetSignature),
            _ => None,
        }
    }
}

/// The body to sign.
#[derive(Clone, Debug, PartialEq)]
pub enum SignBody {
    /// A parsed JSON value, serialised by the mode's rules.
    Json(Value),
    /// Text signed and sent verbatim.
    Text(String),
}

/// A request before signing.
#[derive(Clone, Debug)]
pub struct SignInput {
    /// HTTP method; the protected `FSPIOP-HTTP-Method` is its upper-case form.
    pub method: String,
    /// The URL as given to the SDK (full URL or path); `FSPIOP-URI` is derived from it.
    pub url: String,
    /// Request headers; `FSPIOP-Source` is required, `FSPIOP-Destination` and `Date` are
    /// protected when present. Names are matched case-insensitively.
    pub headers: Headers,
    /// The body.
    pub body: SignBody,
}

/// A signed request.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    /// The input headers plus `fspiop-uri`, `fspiop-http-method` and `fspiop-signature`.
    pub headers: Headers,
    /// The body text to send.
    pub body: String,
    /// The `FSPIOP-Signature` value.
    pub signature_header: String,
    /// The `FSPIOP-URI` that was protected.
    pub fspiop_uri: String,
    /// The algorithm used.
    pub alg: Algorithm,
}

/// A signing failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignError {
    /// The body is empty, `null`, `false` or `0` (the reference rejects falsy bodies).
    NoBody,
    /// No `FSPIOP-Source` header.
    MissingSource,
    /// `get-signature` mode needs an `FSPIOP-URI` header set by the caller.
    MissingFspiopUri,
    /// No FSPIOP resource found in the URL.
    Uri(String),
    /// The key cannot produce the algorithm.
    Key(String),
    /// A header name or value, or the method, would break the HTTP message (CR, LF or
    /// NUL, or a method that is not an HTTP token).
    InvalidField(String),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NoBody => f.write_str("cannot sign with no body: give a JSON body (an empty object {} is fine)"),
            SignError::MissingSource => f.write_str("FSPIOP-Source header is missing: set it to the signing participant's id"),
            SignError::MissingFspiopUri => f.write_str(
                "get-signature mode signs the FSPIOP-URI header as set by the caller, and there is none: set FSPIOP-URI",
            ),
            SignError::Uri(text) => f.write_str(text),
            SignError::Key(text) => write!(f, "signing failed: {text}"),
            SignError::InvalidField(text) => write!(f, "cannot sign: {text}"),
        }
    }
}

impl std::error::Error for SignError {}

/// Returns the algorithm the signer uses for a key: RS256 for RSA, ES256 for P-256 and
/// ES384 for P-384.
///
/// The reference signer chooses by searching the PEM text for `BEGIN EC `, so it labels a
/// PKCS#8 EC key `RS256` and produces a signature no validator accepts. This signer picks
/// by key type instead.
pub fn default_algorithm(key: &SigningKey) -> Algorithm {
    match key.public_key().kind() {
        KeyKind::Rsa { .. } => Algorithm::RS256,
        KeyKind::Ec(crate::crypto::Curve::P256) => Algorithm::ES256,
        KeyKind::Ec(crate::crypto::Curve::P384) => Algorithm::ES384,
    }
}

/// Signs a request in the given mode.
pub fn sign_request(
    key: &SigningKey,
    mode: SignerMode,
    alg: Option<Algorithm>,
    input: &SignInput,
) -> Result<SignedRequest, SignError> {
    let alg = match alg {
        Some(alg) => alg,
        None => {
            let alg = default_algorithm(key);
            if !matches!(alg, Algorithm::RS256 | Algorithm::ES256) {
                return Err(SignError::Key(format!(
                    "this key signs {}, which the Mojaloop SDK validator does not accept; \
                     use an RSA or P-256 key, or choose the algorithm explicitly",
                    alg.name()
                )));
            }
            alg
        }
    };
    check_fields(input)?;

    // Payload and wire body.
    let body = match &input.body {
        SignBody::Text(text) if text.is_empty() => return Err(SignError::NoBody),
        SignBody::Text(text) => text.clone(),
        SignBody::Json(value) if !is_signable(value) => return Err(SignError::NoBody),
        SignBody::Json(value) => {
            let order = match mode {
                SignerMode::Sdk1919 => KeyOrder::Sorted,
                SignerMode::Sdk1918 | SignerMode::GetSignature => KeyOrder::Insertion,
            };
            json::stringify(value, order)
        }
    };

    // Protected header fields.
    let source = input
        .headers
        .get_present("fspiop-source")
        .ok_or(SignError::MissingSource)?
        .into_owned();
    let fspiop_uri = match mode {
        SignerMode::GetSignature => input
            .headers
            .get_present("fspiop-uri")
            .ok_or(SignError::MissingFspiopUri)?
            .into_owned(),
        SignerMode::Sdk1919 | SignerMode::Sdk1918 => {
            uri::derive_fspiop_uri(&input.url).map_err(|error| SignError::Uri(error.to_string()))?
        }
    };
    let method = input.method.to_uppercase();
    let destination = input.headers.get_present("fspiop-destination");
    let date = input.headers.get_present("date");

    let mut members: Vec<(&str, &str)> = vec![
        ("alg", alg.name()),
        ("FSPIOP-URI", &fspiop_uri),
        ("FSPIOP-HTTP-Method", &method),
        ("FSPIOP-Source", &source),
    ];
    if let Some(destination) = destination.as_deref() {
        members.push(("FSPIOP-Destination", destination));
    }
    if let Some(date) = date.as_deref() {
        members.push(("Date", date));
    }
    let protected_b64 = b64::encode(&latin1_bytes(&protected_json(&members)));

    // Signature over `protectedHeader || '.' || base64url(payload)`.
    let signing_input = crate::verify::signing_input(&protected_b64, body.as_bytes());
    let signature = key
        .sign(alg, &signing_input)
        .map_err(|error| SignError::Key(error.to_string()))?;
    let signature_b64 = b64::encode(&signature);

    let signature_header = match mode {
        SignerMode::Sdk1918 => {
            format!("{{\"signature\":\"{signature_b64}\",\"protectedHeader\":\"{protected_b64}\"}}")
        }
        SignerMode::Sdk1919 | SignerMode::GetSignature => {
            format!("{{\"protectedHeader\":\"{protected_b64}\",\"signature\":\"{signature_b64}\"}}")
        }
    };

    let mut headers = input.headers.clone();
    if mode != SignerMode::GetSignature {
        headers.set("fspiop-uri", &fspiop_uri);
        headers.set("fspiop-http-method", &method);
    }
    headers.set("fspiop-signature", &signature_header);

    Ok(SignedRequest {
        headers,
        body,
        signature_header,
        fspiop_uri,
        alg,
    })
}

/// Rejects a method or header that would break the HTTP message it is signed into.
fn check_fields(input: &SignInput) -> Result<(), SignError> {
    let is_token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !is_token(&input.method) {
        return Err(SignError::InvalidField(format!(
            "method {:?} is not an HTTP token",
            input.method
        )));
    }
    for (name, value) in input.headers.iter() {
        if !is_token(name) {
            return Err(SignError::InvalidField(format!(
                "header name {name:?} is not an HTTP token"
            )));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(SignError::InvalidField(format!(
                "header {name} contains CR, LF or NUL"
            )));
        }
    }
    Ok(())
}

/// Returns the JavaScript truthiness of a body value, because the reference rejects a falsy body.
fn is_signable(value: &Value) -> bool {
    crate::header::is_truthy(value)
}

/// Serialises the protected header as `JSON.stringify` does, in the given member order.
fn protected_json(members: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    for (index, (name, value)) in members.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        json::quote_js_string(&JsString::from_str(name), &mut out);
        out.push(':');
        json::quote_js_string(&JsString::from_str(value), &mut out);
    }
    out.push('}');
    out
}

/// Encodes text as latin1 the way Node's `Buffer.from(text, 'binary')` does: each UTF-16
/// code unit becomes its low byte.
fn latin1_bytes(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .map(|unit| (unit & 0xff) as u8)
        .collect()
}
