//! Reader of MCM's `GET /api/dfsps/jwscerts` response and the keys in it.
//!
//! MCM (connection-manager-api v3.4.0) responds with a JSON array of
//! `{dfspId, publicKey, createdAt?, validations, validationState}` objects, one per
//! participant, with `publicKey` exactly as it was uploaded. The array as a whole must
//! be well formed, or the poll fails and nothing changes. A single entry that is
//! malformed is reported and skipped, so one bad upload cannot hide the others.

use std::collections::BTreeMap;
use std::fmt;

use fspiop_guard_core::crypto::KeyKind;
use fspiop_guard_core::keys::{self, KeyFormat, PemRepair};
use serde_json::Value;

use crate::config::ValidationPolicy;

/// Largest participant id accepted, in bytes.
pub const MAX_PARTICIPANT_ID_BYTES: usize = 128;

/// Largest number of entries read from one response.
pub const MAX_ENTRIES: usize = 100_000;

/// Reason an MCM response was rejected whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// The body is larger than the limit.
    TooLarge { size: usize, max: usize },
    /// The body is not JSON.
    NotJson(String),
    /// The body is JSON but not an array.
    NotArray(&'static str),
    /// The array has more entries than [`MAX_ENTRIES`].
    TooManyEntries(usize),
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::TooLarge { size, max } => write!(
                f,
                "MCM response is {size} bytes, over the {max}-byte limit (mcm.max_response_bytes); raise the limit if MCM really holds that many keys"
            ),
            ResponseError::NotJson(detail) => write!(
                f,
                "MCM response is not JSON ({detail}); the response may be truncated or come from a proxy error page"
            ),
            ResponseError::NotArray(kind) => write!(
                f,
                "MCM response is a JSON {kind}, not the array of keys that GET /api/dfsps/jwscerts returns; check mcm.base_url"
            ),
            ResponseError::TooManyEntries(count) => write!(
                f,
                "MCM response has {count} entries, over the limit of {MAX_ENTRIES}"
            ),
        }
    }
}

impl std::error::Error for ResponseError {}

/// `validationState` of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationState {
    Valid,
    Invalid,
    /// Another string; kept for logs.
    Other(String),
    /// Missing or not a string.
    Missing,
}

impl ValidationState {
    /// Returns the state as MCM writes it, or `"(missing)"`.
    pub fn as_str(&self) -> &str {
        match self {
            ValidationState::Valid => "VALID",
            ValidationState::Invalid => "INVALID",
            ValidationState::Other(text) => text,
            ValidationState::Missing => "(missing)",
        }
    }

    fn from_value(value: Option<&Value>) -> ValidationState {
        match value.and_then(Value::as_str) {
            Some("VALID") => ValidationState::Valid,
            Some("INVALID") => ValidationState::Invalid,
            Some(other) => ValidationState::Other(truncate(other, 64)),
            None => ValidationState::Missing,
        }
    }
}

/// One well-formed entry of the response, before its key is parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct RawEntry {
    pub participant: String,
    pub public_key: String,
    /// `createdAt` as sent: Unix seconds by convention, sometimes milliseconds or 0.
    pub created_at: Option<f64>,
    pub validation_state: ValidationState,
}

/// An entry that could not be read, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    /// Position in the array, from 0.
    pub index: usize,
    /// The `dfspId`, when it could be read.
    pub participant: Option<String>,
    pub reason: String,
}

/// The entries of one response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    pub entries: Vec<RawEntry>,
    pub bad: Vec<BadEntry>,
}

/// Parses the body of `GET /api/dfsps/jwscerts`.
///
/// # Errors
/// The body is over `max_bytes`, is not JSON, is not an array, or has more than
/// [`MAX_ENTRIES`] entries. Entries that are not objects, lack `dfspId` or `publicKey`,
/// name an invalid participant id or repeat one go to [`Response::bad`].
pub fn parse_response(body: &[u8], max_bytes: usize) -> Result<Response, ResponseError> {
    if body.len() > max_bytes {
        return Err(ResponseError::TooLarge {
            size: body.len(),
            max: max_bytes,
        });
    }
    // serde_json stops at 128 levels of nesting, so hostile depth is an error.
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ResponseError::NotJson(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => return Err(ResponseError::NotArray("object")),
        Value::String(_) => return Err(ResponseError::NotArray("string")),
        Value::Number(_) => return Err(ResponseError::NotArray("number")),
        Value::Bool(_) => return Err(ResponseError::NotArray("boolean")),
        Value::Null => return Err(ResponseError::NotArray("null")),
    };
    if items.len() > MAX_ENTRIES {
        return Err(ResponseError::TooManyEntries(items.len()));
    }

    let mut response = Response::default();
    let mut seen = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        match read_entry(item) {
            Ok(entry) => {
                if let Some(first) = seen.get(&entry.participant) {
                    response.bad.push(BadEntry {
                        index,
                        participant: Some(entry.participant.clone()),
                        reason: format!(
                            "participant is listed twice (first at entry {first}); the first entry is used"
                        ),
                    });
                    continue;
                }
                seen.insert(entry.participant.clone(), index);
                response.entries.push(entry);
            }
            Err((participant, reason)) => response.bad.push(BadEntry {
                index,
                participant,
                reason,
            }),
        }
    }
    Ok(response)
}

fn read_entry(item: &Value) -> Result<RawEntry, (Option<String>, String)> {
    let Value::Object(object) = item else {
        return Err((None, "entry is not a JSON object".to_owned()));
    };
    let participant = match object.get("dfspId") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => return Err((None, "dfspId is not a string".to_owned())),
        None => return Err((None, "dfspId is missing".to_owned())),
    };
    check_participant_id(&participant).map_err(|reason| (None, reason))?;
    let public_key = match object.get("publicKey") {
        Some(Value::String(text)) => text.clone(),
        Some(_) => return Err((Some(participant), "publicKey is not a string".to_owned())),
        None => return Err((Some(participant), "publicKey is missing".to_owned())),
    };
    let created_at = match object.get("createdAt") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => number.as_f64(),
        Some(_) => {
            return Err((Some(participant), "createdAt is not a number".to_owned()));
        }
    };
    Ok(RawEntry {
        participant,
        public_key,
        created_at,
        validation_state: ValidationState::from_value(object.get("validationState")),
    })
}

/// Checks a participant id: 1 to [`MAX_PARTICIPANT_ID_BYTES`] printable ASCII
/// characters other than `/`, `\` and space, not starting with `.`. The id becomes a
/// file name in the key directory and a log field, so anything else is rejected.
///
/// # Errors
/// The id breaks the rule; the message shows it escaped.
pub fn check_participant_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= MAX_PARTICIPANT_ID_BYTES
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "dfspId {:?} is not a usable participant id; ids are 1 to {MAX_PARTICIPANT_ID_BYTES} printable ASCII characters without '/', '\\' or spaces, not starting with '.'",
            truncate(id, MAX_PARTICIPANT_ID_BYTES + 16)
        ))
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

/// A usable key from an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferedKey {
    /// Fingerprint: base64url SHA-256 of the SPKI.
    pub kid: String,
    /// The key as SPKI PEM, rewritten cleanly whatever damage the upload had.
    pub pem: String,
    pub created_at: Option<f64>,
    pub validation_state: ValidationState,
    /// Problems of the text MCM served that did not stop the key from being used.
    pub notes: Vec<Note>,
}

/// A problem with an entry that did not stop its key from being used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// PEM damage that was repaired.
    Repaired(String),
    /// The entry has no `createdAt`.
    NoCreatedAt,
    /// The entry is a certificate; only its public key is used.
    Certificate,
    /// Another warning from the key parser.
    Warning(String),
    /// MCM marks the entry INVALID, and the policy ignores that.
    InvalidIgnored,
}

impl Note {
    /// Returns a short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Note::Repaired(_) => "pem_repaired",
            Note::NoCreatedAt => "no_created_at",
            Note::Certificate => "certificate",
            Note::Warning(_) => "warning",
            Note::InvalidIgnored => "invalid_state_ignored",
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Repaired(repair) => write!(f, "repaired: {repair}"),
            Note::NoCreatedAt => f.write_str(
                "entry has no createdAt; the key is identified by its fingerprint, so nothing is lost",
            ),
            Note::Certificate => f.write_str(
                "publicKey is an X.509 certificate; its public key is used and its validity is not checked",
            ),
            Note::Warning(text) => f.write_str(text),
            Note::InvalidIgnored => f.write_str(
                "MCM marks the key INVALID (MCM accepts only RSA); used because keys.validation_state is ignore",
            ),
        }
    }
}

/// The outcome of one entry: a usable key, or the reason it is skipped.
#[derive(Clone, Debug, PartialEq)]
pub enum Offer {
    Key(OfferedKey),
    Unusable { reason: String, kind: &'static str },
}

/// Parses an entry's key with the core key parser and applies the validation policy.
pub fn offer(entry: &RawEntry, policy: ValidationPolicy) -> Offer {
    if policy == ValidationPolicy::Trust && entry.validation_state != ValidationState::Valid {
        return Offer::Unusable {
            reason: format!(
                "MCM reports validationState {}, and keys.validation_state is trust",
                entry.validation_state.as_str()
            ),
            kind: "invalid_state",
        };
    }
    let parsed = match keys::parse_public_key(&entry.public_key) {
        Ok(parsed) => parsed,
        Err(error) => {
            return Offer::Unusable {
                reason: format!("publicKey does not parse: {error}"),
                kind: "unparsable",
            };
        }
    };
    if matches!(parsed.format, KeyFormat::PrivateKeyPem | KeyFormat::Jwk) {
        return Offer::Unusable {
            reason: match parsed.format {
                KeyFormat::PrivateKeyPem => "publicKey is a private key; it is not used, and the private key should be treated as leaked".to_owned(),
                _ => "publicKey is a JWK; MCM entries carry PEM".to_owned(),
            },
            kind: "wrong_type",
        };
    }
    if let KeyKind::Rsa { bits } = parsed.key.kind()
        && bits < 1024
    {
        return Offer::Unusable {
            reason: format!("RSA key is {bits} bits; no verifier accepts it"),
            kind: "too_small",
        };
    }

    let mut notes = Vec::new();
    for repair in &parsed.repairs {
        // A missing final newline changes nothing a verifier reads.
        if *repair != PemRepair::MissingFinalNewline {
            notes.push(Note::Repaired(repair.to_string()));
        }
    }
    if parsed.format == KeyFormat::CertificatePem {
        notes.push(Note::Certificate);
    }
    notes.extend(parsed.warnings.iter().cloned().map(Note::Warning));
    if entry.created_at.is_none() {
        notes.push(Note::NoCreatedAt);
    }
    if entry.validation_state == ValidationState::Invalid {
        notes.push(Note::InvalidIgnored);
    }
    Offer::Key(OfferedKey {
        kid: parsed.key.kid().to_owned(),
        pem: parsed.key.to_pem(),
        created_at: entry.created_at,
        validation_state: entry.validation_state.clone(),
        notes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const RSA: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuSixzUFBZHspfzhq2i8d\n1H4vNtPGTK18/+P3zIHMohQ0zxkEDpnjnOHNaHUs19ZVFDMq324WhCeQdJ8uCJuT\nPX137fviG2VWNtS3iGcbdMJ6XtGQ1UFarRxRew2qFSfqq6i4xZKgkQT2eyLxoH8g\nblYUaAHRHskJl+37TesObEGUFBQNOLGvTZdQMEMQ50/dtLTMNMOLPsSDJnjb3EB/\n7ODqRUmKJ4wTCMuZeH4FSmo+gmqypXcZoe1D+bK8ZnNLFbpyUUW5wkNZHqqxSU/s\njx6QyS2zND7O1SvJPkMnVTZ310wQp+GHq/21uNilQEouLK0E/Iknz+1nP2dDK3K7\n0QIDAQAB\n-----END PUBLIC KEY-----\n";
    const EC: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaQVbww9HM45T/6JY6TsgKBZzP3xF\n5zCsJpSOMmbhN9JiceyFJhALbsO2iiGu4wdvnEV0orHP4O8tp24kVD7iHA==\n-----END PUBLIC KEY-----\n";

    fn entry(public_key: &str, created_at: Option<f64>, state: ValidationState) -> RawEntry {
        RawEntry {
            participant: "dfsp1".into(),
            public_key: public_key.into(),
            created_at,
            validation_state: state,
        }
    }

    fn key(offer: Offer) -> OfferedKey {
        match offer {
            Offer::Key(key) => key,
            Offer::Unusable { reason, .. } => panic!("unusable: {reason}"),
        }
    }

    #[test]
    fn reads_an_mcm_array() {
        let body = serde_json::json!([
            {"createdAt": 1700000100, "dfspId": "dfsp1", "publicKey": RSA, "validationState": "VALID", "validations": []},
            {"dfspId": "switch", "publicKey": RSA, "validationState": "VALID"},
        ]);
        let response = parse_response(body.to_string().as_bytes(), 1 << 20).unwrap();
        assert_eq!(response.entries.len(), 2);
        assert!(response.bad.is_empty());
        assert_eq!(response.entries[0].created_at, Some(1_700_000_100.0));
        assert_eq!(response.entries[1].created_at, None);
        assert_eq!(response.entries[1].validation_state, ValidationState::Valid);
    }

    #[test]
    fn empty_array_is_no_entries() {
        let response = parse_response(b"[]", 1024).unwrap();
        assert!(response.entries.is_empty());
    }

    #[test]
    fn whole_response_errors() {
        assert!(matches!(
            parse_response(b"[1,2]", 3),
            Err(ResponseError::TooLarge { size: 5, max: 3 })
        ));
        assert!(matches!(
            parse_response(b"[{\"dfspId\":", 1024),
            Err(ResponseError::NotJson(_))
        ));
        assert!(matches!(
            parse_response(br#"{"message":"not found"}"#, 1024),
            Err(ResponseError::NotArray("object"))
        ));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(matches!(
            parse_response(deep.as_bytes(), 1 << 20),
            Err(ResponseError::NotJson(_))
        ));
    }

    #[test]
    fn bad_entries_are_reported_and_skipped() {
        let body = serde_json::json!([
            "text",
            {"publicKey": RSA},
            {"dfspId": "../etc", "publicKey": RSA},
            {"dfspId": "dfsp2"},
            {"dfspId": "dfsp3", "publicKey": RSA, "createdAt": "yesterday"},
            {"dfspId": "dfsp1", "publicKey": RSA},
            {"dfspId": "dfsp1", "publicKey": EC},
        ]);
        let response = parse_response(body.to_string().as_bytes(), 1 << 20).unwrap();
        assert_eq!(response.entries.len(), 1);
        assert_eq!(response.entries[0].public_key, RSA);
        let indexes: Vec<usize> = response.bad.iter().map(|b| b.index).collect();
        assert_eq!(indexes, vec![0, 1, 2, 3, 4, 6]);
        assert!(response.bad[2].reason.contains("../etc"));
        assert!(response.bad[5].reason.contains("listed twice"));
    }

    #[test]
    fn participant_ids() {
        assert!(check_participant_id("dfsp-1_x.y").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "a\\b", "tab\t", "é"] {
            assert!(check_participant_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_participant_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn single_line_pem_is_repaired() {
        let single = RSA.replace('\n', "");
        let offered = key(offer(
            &entry(&single, Some(1.0), ValidationState::Valid),
            ValidationPolicy::Ignore,
        ));
        assert_eq!(offered.pem, RSA);
        assert!(offered.notes.iter().any(|n| matches!(n, Note::Repaired(_))));
    }

    #[test]
    fn crlf_pem_is_repaired() {
        let crlf = RSA.replace('\n', "\r\n");
        let offered = key(offer(
            &entry(&crlf, Some(1.0), ValidationState::Valid),
            ValidationPolicy::Ignore,
        ));
        assert_eq!(offered.pem, RSA);
        assert_eq!(offered.notes.len(), 1, "{:?}", offered.notes);
    }

    #[test]
    fn missing_created_at_is_noted() {
        let offered = key(offer(
            &entry(RSA, None, ValidationState::Valid),
            ValidationPolicy::Ignore,
        ));
        assert_eq!(offered.notes, vec![Note::NoCreatedAt]);
    }

    #[test]
    fn invalid_ec_key_follows_policy() {
        let ec = entry(EC, Some(2.0), ValidationState::Invalid);
        let offered = key(offer(&ec, ValidationPolicy::Ignore));
        assert_eq!(offered.notes, vec![Note::InvalidIgnored]);
        assert!(matches!(
            offer(&ec, ValidationPolicy::Trust),
            Offer::Unusable {
                kind: "invalid_state",
                ..
            }
        ));
    }

    #[test]
    fn garbage_is_unusable() {
        assert!(matches!(
            offer(
                &entry("not a key", Some(1.0), ValidationState::Invalid),
                ValidationPolicy::Ignore
            ),
            Offer::Unusable {
                kind: "unparsable",
                ..
            }
        ));
    }
}
