//! The `FSPIOP-Signature` header and the JWS protected header it carries.
//!
//! FSPIOP Signature v1.1 §3: the header value is a JSON object with two string members,
//! `protectedHeader` (unpadded base64url of the protected-header JSON) and `signature`
//! (unpadded base64url of the signature over `protectedHeader || '.' || base64url(body)`).
//! Extra members are ignored, as the reference validator ignores them.

use crate::b64;
use crate::json::{self, Value};
use crate::profile::Limits;
use crate::verdict::Reason;

/// A parsed `FSPIOP-Signature` header whose members passed the size and alphabet checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The `protectedHeader` member exactly as sent; it is the first part of the JWS
    /// signing input.
    pub protected_b64: String,
    /// The `signature` member as sent (may be empty; see [`SignatureHeader::signature`]).
    pub signature_b64: String,
}

/// A header parse failure, with the value that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    /// The stable reason.
    pub reason: Reason,
    /// The failing value and rule, for the human message.
    pub detail: String,
}

impl HeaderError {
    fn new(reason: Reason, detail: impl Into<String>) -> HeaderError {
        HeaderError {
            reason,
            detail: detail.into(),
        }
    }
}

impl SignatureHeader {
    /// Parses the header value. Checks, in the reference validator's order: JSON, object,
    /// `protectedHeader` then `signature` presence, size and base64url alphabet.
    /// An empty `signature` is accepted here and rejected by [`SignatureHeader::signature`],
    /// after the protected header has been decoded, as jsonwebtoken does.
    pub fn parse(value: &str, limits: &Limits) -> Result<SignatureHeader, HeaderError> {
        if value.len() > limits.max_signature_header_bytes {
            return Err(HeaderError::new(
                Reason::SignatureHeaderTooLarge,
                format!(
                    "FSPIOP-Signature is {} bytes, the limit is {}",
                    value.len(),
                    limits.max_signature_header_bytes
                ),
            ));
        }

        if let Some(header) = Self::parse_compact(value, limits) {
            return Ok(header);
        }

        let json_limits = json::Limits {
            max_bytes: limits.max_signature_header_bytes,
            max_depth: limits.max_header_json_depth,
        };
        let parsed = json::parse(value, &json_limits)
            .map_err(|error| HeaderError::new(Reason::SignatureHeaderNotJson, error.to_string()))?;
        let object = parsed.value.into_object().map_err(|other| {
            HeaderError::new(
                Reason::SignatureHeaderNotObject,
                format!("FSPIOP-Signature is a JSON {}", type_name(&other)),
            )
        })?;

        let protected_b64 = match object.get("protectedHeader") {
            Some(Value::String(text)) if !text.units().is_empty() => text.to_string_lossy(),
            Some(other) => {
                return Err(HeaderError::new(
                    Reason::ProtectedHeaderMissing,
                    format!("protectedHeader is {}", describe(other)),
                ));
            }
            None => {
                return Err(HeaderError::new(
                    Reason::ProtectedHeaderMissing,
                    "member protectedHeader is absent (member names are case-sensitive)",
                ));
            }
        };
        if protected_b64.len() > limits.max_protected_header_chars {
            return Err(HeaderError::new(
                Reason::ProtectedHeaderTooLarge,
                format!(
                    "protectedHeader is {} characters, the limit is {}",
                    protected_b64.len(),
                    limits.max_protected_header_chars
                ),
            ));
        }
        if !b64::is_base64url(&protected_b64) {
            return Err(HeaderError::new(
                Reason::ProtectedHeaderNotBase64url,
                format!("protectedHeader has {}", first_bad_char(&protected_b64)),
            ));
        }

        let signature_b64 = match object.get("signature") {
            Some(Value::String(text)) => text.to_string_lossy(),
            Some(other) => {
                return Err(HeaderError::new(
                    Reason::SignatureMissing,
                    format!("signature is {}", describe(other)),
                ));
            }
            None => {
                return Err(HeaderError::new(
                    Reason::SignatureMissing,
                    "member signature is absent (member names are case-sensitive)",
                ));
            }
        };
        if signature_b64.len() > limits.max_signature_chars {
            return Err(HeaderError::new(
                Reason::SignatureTooLarge,
                format!(
                    "signature is {} characters, the limit is {}",
                    signature_b64.len(),
                    limits.max_signature_chars
                ),
            ));
        }
        if !b64::is_base64url(&signature_b64) {
            return Err(HeaderError::new(
                Reason::SignatureNotBase64url,
                format!("signature has {}", first_bad_char(&signature_b64)),
            ));
        }

        Ok(SignatureHeader {
            protected_b64,
            signature_b64,
        })
    }

    /// Reads the form every signer writes, `{"signature":"…","protectedHeader":"…"}` in
    /// either member order with no whitespace, when both values are non-empty base64url
    /// text within the limits. Returns `None` for anything else, which [`Self::parse`]
    /// then reads with the JSON parser, so both reach the same result.
    fn parse_compact(value: &str, limits: &Limits) -> Option<SignatureHeader> {
        let (first_name, first, second_name, second) = compact_members(value)?;
        let (protected_b64, signature_b64) = match (first_name, second_name) {
            ("protectedHeader", "signature") => (first, second),
            ("signature", "protectedHeader") => (second, first),
            _ => return None,
        };
        let fits = protected_b64.len() <= limits.max_protected_header_chars
            && signature_b64.len() <= limits.max_signature_chars;
        fits.then(|| SignatureHeader {
            protected_b64: protected_b64.to_owned(),
            signature_b64: signature_b64.to_owned(),
        })
    }

    /// Decodes the signature bytes, rejecting an empty signature (an unsigned JWS).
    pub fn signature(&self) -> Result<Vec<u8>, HeaderError> {
        if self.signature_b64.is_empty() {
            return Err(HeaderError::new(
                Reason::SignatureEmpty,
                "signature is an empty string",
            ));
        }
        b64::decode(&self.signature_b64).ok_or_else(|| {
            HeaderError::new(Reason::SignatureNotBase64url, "signature does not decode")
        })
    }

    /// Decodes the protected header.
    pub fn protected(&self, limits: &Limits) -> Result<ProtectedHeader, HeaderError> {
        ProtectedHeader::decode(&self.protected_b64, limits)
    }
}

/// The decoded JWS protected header.
///
/// The reference signer turns the header JSON into bytes as latin1 and the reference
/// validator decodes it the same way, so each byte becomes one character here (the
/// FSPIOP spec says UTF-8; the two agree for ASCII participant ids).
#[derive(Clone, Debug, PartialEq)]
pub struct ProtectedHeader {
    object: json::Object,
}

impl ProtectedHeader {
    /// Decodes `protectedHeader` (already checked for size and alphabet).
    pub fn decode(protected_b64: &str, limits: &Limits) -> Result<ProtectedHeader, HeaderError> {
        let bytes = b64::decode(protected_b64).ok_or_else(|| {
            HeaderError::new(
                Reason::ProtectedHeaderNotBase64url,
                "protectedHeader does not decode",
            )
        })?;
        let text: String = bytes.iter().map(|&byte| char::from(byte)).collect();

        // Each byte from 0x80 up takes two bytes in `text`, and the decoded header has
        // fewer bytes than `protectedHeader` has characters, so twice the character limit
        // never rejects a `protectedHeader` that is within it.
        let json_limits = json::Limits {
            max_bytes: limits.max_protected_header_chars.saturating_mul(2),
            max_depth: limits.max_header_json_depth,
        };
        let parsed = json::parse(&text, &json_limits).map_err(|error| {
            HeaderError::new(
                Reason::ProtectedHeaderNotJson,
                format!("decoded protected header: {error}"),
            )
        })?;
        match parsed.value.into_object() {
            Ok(object) => Ok(ProtectedHeader { object }),
            Err(other) => Err(HeaderError::new(
                Reason::ProtectedHeaderNotJson,
                format!("decoded protected header is a JSON {}", type_name(&other)),
            )),
        }
    }

    /// Returns a member by its exact (case-sensitive) name.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.object.get(name)
    }

    /// Returns a member when it is JavaScript-truthy: the reference validator treats
    /// `""`, `0`, `false` and `null` as absent.
    pub fn present(&self, name: &str) -> Option<&Value> {
        self.member(name).filter(|value| is_truthy(value))
    }

    /// Returns the decoded JSON object.
    pub fn object(&self) -> &json::Object {
        &self.object
    }
}

/// Returns JavaScript truthiness of a JSON value.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => *number != 0.0 && !number.is_nan(),
        Value::String(text) => !text.units().is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Returns true when a protected member equals a header value with JavaScript `===`.
pub fn equals_header(value: &Value, header: &str) -> bool {
    matches!(value, Value::String(text) if text.eq_str(header))
}

/// Renders a protected value for a message.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string_lossy(),
        other => json::stringify(other, json::KeyOrder::Insertion),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(_) => "an empty string".to_owned(),
        other => format!("a JSON {}, not a string", type_name(other)),
    }
}

fn first_bad_char(text: &str) -> String {
    match text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        Some((at, c)) => format!("{c:?} at offset {at}, outside the base64url alphabet"),
        None => "no invalid character".to_owned(),
    }
}

/// Splits `{"A":"x","B":"y"}` into its names and values when the values are non-empty
/// base64url text and nothing else (no whitespace, escapes or other members) is present.
fn compact_members(value: &str) -> Option<(&str, &str, &str, &str)> {
    let rest = value.strip_prefix("{\"")?;
    let (first_name, rest) = rest.split_once("\":\"")?;
    let (first, rest) = rest.split_once("\",\"")?;
    let (second_name, rest) = rest.split_once("\":\"")?;
    let second = rest.strip_suffix("\"}")?;
    let plain = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    (plain(first) && plain(second)).then_some((first_name, first, second_name, second))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn compact_form_reads_as_the_json_parser_does() {
        let limits = Limits::default();
        let compact = [
            r#"{"signature":"c2ln","protectedHeader":"eyJhbGciOiJSUzI1NiJ9"}"#,
            r#"{"protectedHeader":"eyJhbGciOiJSUzI1NiJ9","signature":"c2ln"}"#,
        ];
        let spaced = r#"{ "signature": "c2ln", "protectedHeader": "eyJhbGciOiJSUzI1NiJ9" }"#;
        let expected = SignatureHeader::parse(spaced, &limits).unwrap();
        for text in compact {
            assert!(
                SignatureHeader::parse_compact(text, &limits).is_some(),
                "{text}"
            );
            assert_eq!(SignatureHeader::parse(text, &limits).unwrap(), expected);
        }
    }

    #[test]
    fn compact_form_leaves_other_shapes_to_the_parser() {
        let limits = Limits::default();
        let others = [
            r#"{"signature":"","protectedHeader":"eyJ9"}"#,
            r#"{"signature":"c2ln","protectedHeader":"eyJ9","kid":"x"}"#,
            r#"{"signature":"c2ln","signature":"eyJ9"}"#,
            r#"{"signature":"c2\u006e","protectedHeader":"eyJ9"}"#,
            r#"{"signature":"c2ln=","protectedHeader":"eyJ9"}"#,
            r#"{"Signature":"c2ln","protectedHeader":"eyJ9"}"#,
            r#" {"signature":"c2ln","protectedHeader":"eyJ9"}"#,
        ];
        for text in others {
            assert!(
                SignatureHeader::parse_compact(text, &limits).is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn compact_form_over_limit_falls_back() {
        let limits = Limits {
            max_signature_chars: 4,
            ..Limits::default()
        };
        let text = r#"{"signature":"c2lnbmF0dXJl","protectedHeader":"eyJ9"}"#;
        assert!(SignatureHeader::parse_compact(text, &limits).is_none());
        let error = SignatureHeader::parse(text, &limits).unwrap_err();
        assert_eq!(error.reason, Reason::SignatureTooLarge);
    }

    fn limits() -> Limits {
        Limits::default()
    }

    fn reason_of(value: &str) -> Reason {
        SignatureHeader::parse(value, &limits()).unwrap_err().reason
    }

    #[test]
    fn parse_accepts_either_member_order() {
        let a =
            SignatureHeader::parse(r#"{"protectedHeader":"eyJ9","signature":"abc"}"#, &limits());
        let b = SignatureHeader::parse(
            r#"{"signature":"abc", "protectedHeader":"eyJ9"}"#,
            &limits(),
        );
        assert_eq!(a.unwrap(), b.unwrap());
    }

    #[test]
    fn not_json_is_reported() {
        assert_eq!(reason_of("{nope"), Reason::SignatureHeaderNotJson);
    }

    #[test]
    fn json_null_is_not_an_object() {
        assert_eq!(reason_of("null"), Reason::SignatureHeaderNotObject);
    }

    #[test]
    fn capitalised_member_names_are_absent() {
        assert_eq!(
            reason_of(r#"{"ProtectedHeader":"eyJ9","Signature":"abc"}"#),
            Reason::ProtectedHeaderMissing
        );
    }

    #[test]
    fn dot_in_protected_header_is_rejected() {
        assert_eq!(
            reason_of(r#"{"protectedHeader":"ey.J9","signature":"abc"}"#),
            Reason::ProtectedHeaderNotBase64url
        );
    }

    #[test]
    fn padded_signature_is_rejected() {
        assert_eq!(
            reason_of(r#"{"protectedHeader":"eyJ9","signature":"abc="}"#),
            Reason::SignatureNotBase64url
        );
    }

    #[test]
    fn missing_signature_member_is_reported() {
        assert_eq!(
            reason_of(r#"{"protectedHeader":"eyJ9"}"#),
            Reason::SignatureMissing
        );
    }

    #[test]
    fn empty_signature_fails_on_decode() {
        let header =
            SignatureHeader::parse(r#"{"protectedHeader":"eyJ9","signature":""}"#, &limits())
                .unwrap();
        assert_eq!(
            header.signature().unwrap_err().reason,
            Reason::SignatureEmpty
        );
    }

    #[test]
    fn oversized_header_is_rejected_before_parsing() {
        let value = "x".repeat(limits().max_signature_header_bytes + 1);
        assert_eq!(reason_of(&value), Reason::SignatureHeaderTooLarge);
    }

    #[test]
    fn protected_header_decodes_latin1() {
        // {"FSPIOP-Source":"dfsp-é"} with é as the single byte 0xE9.
        let mut bytes = br#"{"FSPIOP-Source":"dfsp-"#.to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(br#""}"#);
        let header = ProtectedHeader::decode(&b64::encode(&bytes), &limits()).unwrap();
        assert!(equals_header(
            header.member("FSPIOP-Source").unwrap(),
            "dfsp-é"
        ));
    }

    #[test]
    fn protected_header_many_latin1_bytes() {
        // 20 000 bytes of 0xE9 take about 26 700 base64url characters, within the
        // default limit of 32 768, but 40 000 bytes once each becomes the UTF-8 of 'é'.
        let mut bytes = br#"{"alg":"RS256","x":""#.to_vec();
        bytes.extend(std::iter::repeat_n(0xE9, 20_000));
        bytes.extend_from_slice(br#""}"#);
        let protected_b64 = b64::encode(&bytes);
        assert!(protected_b64.len() <= limits().max_protected_header_chars);

        let header = ProtectedHeader::decode(&protected_b64, &limits()).unwrap();
        let x = header.member("x").and_then(Value::as_str).unwrap();
        assert_eq!(x.chars().count(), 20_000);
        assert!(x.chars().all(|c| c == 'é'));
    }

    #[test]
    fn truthiness_matches_javascript() {
        assert!(!is_truthy(&Value::Null));
        assert!(!is_truthy(&Value::Number(0.0)));
        assert!(is_truthy(&Value::Number(5.0)));
        assert!(!is_truthy(&Value::String(json::JsString::from_str(""))));
    }
}
