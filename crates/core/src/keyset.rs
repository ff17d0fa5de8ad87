//! The JWS key-set document: every participant's public keys, as one versioned JSON file.
//!
//! The key-sync daemon serves it, the Envoy filter polls it, and the CLI reads it with
//! `--keys`. The format is described for operators in `docs/KEYSET.md`:
//!
//! ```json
//! {
//!   "format": "fspiop-guard-keyset/1",
//!   "version": "42",
//!   "generated_at": "2026-12-04T21:00:00Z",
//!   "participants": {
//!     "payerfsp": [
//!       { "pem": "-----BEGIN PUBLIC KEY-----\n...", "retire_after": "2026-12-11T00:00:00Z" },
//!       { "pem": "-----BEGIN PUBLIC KEY-----\n...", "kid": "q9Xh...8Zs" }
//!     ]
//!   }
//! }
//! ```
//!
//! `version` is opaque and changes whenever the content changes; an HTTP server sends
//! it as the `ETag`. A key with `retire_after` still verifies until that time, which
//! gives a rotation its overlap. `kid`, when present, must equal the key's fingerprint
//! (base64url SHA-256 of its SPKI), so a damaged PEM is caught at load time.
//!
//! A key that does not parse makes its participant unusable (requests from it are
//! rejected as `KEY_UNUSABLE`, as the Mojaloop SDK does), but does not reject the whole
//! set. A document that breaks the format is rejected whole, so a caller can keep the
//! set it had.

use std::fmt;

use serde::Serialize;

use crate::json::read::{self, Node, ReadError, Unknown};
use crate::keys::{self, KeyStore};
use crate::sorted_map::SortedMap;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod serde_agreement;

/// The `format` value of this version of the document.
pub const FORMAT: &str = "fspiop-guard-keyset/1";

/// Default largest document accepted, in bytes (about 2 000 participants with two RSA-4096 keys each).
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Largest `version` string accepted, in bytes.
const MAX_VERSION_BYTES: usize = 256;

/// Deepest nesting of arrays and objects parsed. A document nests four deep, so
/// the limit only bounds the parser's memory on hostile input.
const MAX_DEPTH: usize = 64;

/// A key set, parsed and loaded into a [`KeyStore`].
#[derive(Clone, Debug)]
pub struct KeySet {
    /// The document's `version`.
    pub version: String,
    /// The document's `generated_at`, unix seconds, when present.
    pub generated_at: Option<i64>,
    /// The keys.
    pub store: KeyStore,
    /// Keys that did not load, and repairs made to PEM text, one line each.
    pub notes: Vec<String>,
}

/// Reason a key-set document was rejected whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySetError {
    /// The document is larger than the limit.
    TooLarge { size: usize, max: usize },
    /// The document is not JSON of the expected shape.
    Malformed(String),
    /// `format` names another format or version.
    UnknownFormat(String),
    /// `version` is empty or too long.
    BadVersion,
    /// A key entry is wrong in a way that must not be skipped.
    BadEntry {
        participant: String,
        index: usize,
        message: String,
    },
}

impl fmt::Display for KeySetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySetError::TooLarge { size, max } => write!(
                f,
                "key set is {size} bytes, over the {max}-byte limit; raise the limit or split the participants"
            ),
            KeySetError::Malformed(message) => {
                write!(f, "key set is not a {FORMAT} document: {message}")
            }
            KeySetError::UnknownFormat(format) => write!(
                f,
                "key set format {format:?} is not supported; this build reads {FORMAT:?}"
            ),
            KeySetError::BadVersion => write!(
                f,
                "key set version must be 1 to {MAX_VERSION_BYTES} printable ASCII characters other than '\"' and space"
            ),
            KeySetError::BadEntry {
                participant,
                index,
                message,
            } => write!(f, "key {index} of participant {participant:?}: {message}"),
        }
    }
}

impl std::error::Error for KeySetError {}

/// The document as it is on the wire.
#[derive(Debug, Serialize)]
pub struct KeySetDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// Opaque version; changes whenever the content changes.
    pub version: String,
    /// When the document was produced, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// Keys per participant (FSPIOP-Source id), newest first.
    pub participants: SortedMap<String, Vec<KeySetEntry>>,
}

/// One key of a participant.
#[derive(Clone, Debug, Serialize)]
pub struct KeySetEntry {
    /// The public key: SPKI or PKCS#1 PEM, or a certificate.
    pub pem: String,
    /// Fingerprint the key must have: base64url SHA-256 of its SPKI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// RFC 3339 time after which the key no longer verifies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_after: Option<String>,
}

impl KeySetDocument {
    /// Creates an empty document with this version.
    pub fn new(version: impl Into<String>) -> KeySetDocument {
        KeySetDocument {
            format: FORMAT.to_owned(),
            version: version.into(),
            generated_at: None,
            participants: SortedMap::new(),
        }
    }

    /// Adds a key for a participant, after the ones it already has.
    pub fn push(&mut self, participant: &str, entry: KeySetEntry) -> &mut Self {
        self.participants
            .get_or_insert_default(participant.to_owned())
            .push(entry);
        self
    }

    /// Reads a document from JSON text. Only the shape is checked: the `format`,
    /// `version` and keys are checked by [`parse`].
    ///
    /// # Errors
    /// The text is not JSON, a member is missing, unknown, repeated or of the wrong
    /// type, or a participant is listed twice. The message names the member by its
    /// path.
    pub fn from_json(bytes: &[u8]) -> Result<KeySetDocument, String> {
        let document = read::parse_document(bytes, MAX_DEPTH).map_err(|error| error.to_string())?;
        let root = document.root();
        let read_fields = || -> Result<KeySetDocument, ReadError> {
            let fields = root.fields(
                &["format", "version", "generated_at", "participants"],
                Unknown::Reject,
            )?;
            Ok(KeySetDocument {
                format: fields.required("format")?.string()?,
                version: fields.required("version")?.string()?,
                generated_at: fields
                    .optional("generated_at")
                    .map(|node| node.string())
                    .transpose()?,
                participants: read_participants(fields.required("participants")?)?,
            })
        };
        read_fields().map_err(|error| error.to_string())
    }

    /// Serialises the document as compact JSON.
    pub fn to_json(&self) -> String {
        // serde_json fails only on non-string map keys and failing Serialize impls;
        // this document has string keys and derived impls only.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl KeySetEntry {
    /// An entry with only a PEM.
    pub fn pem(pem: impl Into<String>) -> KeySetEntry {
        KeySetEntry {
            pem: pem.into(),
            kid: None,
            retire_after: None,
        }
    }
}

impl KeySetEntry {
    /// Reads an entry: an object with a string `pem` and optional string `kid` and
    /// `retire_after`, where `null` counts as absent.
    ///
    /// # Errors
    /// The value is not such an object.
    pub fn read(node: Node<'_>) -> Result<KeySetEntry, ReadError> {
        let fields = node.fields(&["pem", "kid", "retire_after"], Unknown::Reject)?;
        let optional_string = |name| fields.optional(name).map(|node| node.string()).transpose();
        Ok(KeySetEntry {
            pem: fields.required("pem")?.string()?,
            kid: optional_string("kid")?,
            retire_after: optional_string("retire_after")?,
        })
    }
}

/// Reads the keys of each participant: an object that maps a participant id to a
/// list of [`KeySetEntry`] objects.
///
/// # Errors
/// The value is not such an object, or names a participant twice: two lists for one
/// participant are a mistake in whatever wrote them, and keeping either would hide it.
pub fn read_participants(node: Node<'_>) -> Result<SortedMap<String, Vec<KeySetEntry>>, ReadError> {
    let mut participants = SortedMap::new();
    for (participant, list) in node.entries()? {
        let entries = list
            .elements()?
            .map(KeySetEntry::read)
            .collect::<Result<Vec<_>, _>>()?;
        if participants.contains_key(&participant) {
            return Err(list.error(format!(
                "participant {participant:?} is listed twice; merge its keys into one list"
            )));
        }
        participants.insert(participant, entries);
    }
    Ok(participants)
}

/// Parses a key-set document and loads its keys.
///
/// # Errors
/// Returns a [`KeySetError`] when the document is too large, is not JSON of the
/// documented shape, names another format, or has an entry whose `kid` or
/// `retire_after` is wrong. A PEM that does not parse is not an error: it is
/// recorded against its participant and noted.
pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<KeySet, KeySetError> {
    if bytes.len() > max_bytes {
        return Err(KeySetError::TooLarge {
            size: bytes.len(),
            max: max_bytes,
        });
    }

    let document = KeySetDocument::from_json(bytes).map_err(KeySetError::Malformed)?;
    if document.format != FORMAT {
        return Err(KeySetError::UnknownFormat(document.format));
    }
    // The version goes into an `if-none-match` header and into logs: printable
    // ASCII without the quote that delimits an entity tag.
    if document.version.is_empty()
        || document.version.len() > MAX_VERSION_BYTES
        || !document
            .version
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"')
    {
        return Err(KeySetError::BadVersion);
    }
    let generated_at = match &document.generated_at {
        None => None,
        Some(text) => Some(
            crate::rfc3339::parse(text)
                .map_err(|error| KeySetError::Malformed(format!("generated_at: {error}")))?,
        ),
    };

    let mut store = KeyStore::new();
    let mut notes = Vec::new();
    for (participant, entries) in &document.participants {
        notes.extend(load_entries(&mut store, participant, entries)?);
    }

    Ok(KeySet {
        version: document.version,
        generated_at,
        store,
        notes,
    })
}

/// Loads a participant's key entries into a store, with the rules of [`parse`].
///
/// Returns the notes about keys that did not load or were repaired.
///
/// # Errors
/// Returns [`KeySetError::BadEntry`] for a wrong `kid` or `retire_after`, or a key
/// listed twice.
pub fn load_entries(
    store: &mut KeyStore,
    participant: &str,
    entries: &[KeySetEntry],
) -> Result<Vec<String>, KeySetError> {
    let mut notes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        load_entry(store, &mut notes, participant, index, entry)?;
    }
    Ok(notes)
}

/// Loads one entry into the store.
fn load_entry(
    store: &mut KeyStore,
    notes: &mut Vec<String>,
    participant: &str,
    index: usize,
    entry: &KeySetEntry,
) -> Result<(), KeySetError> {
    let bad_entry = |message: String| KeySetError::BadEntry {
        participant: participant.to_owned(),
        index,
        message,
    };

    let retire_after = match &entry.retire_after {
        None => None,
        Some(text) => Some(
            crate::rfc3339::parse(text)
                .map_err(|error| bad_entry(format!("retire_after: {error}")))?,
        ),
    };

    // An empty PEM is no key at all, as KeyStore::insert_pem treats it: the
    // participant stays unknown rather than unusable.
    if entry.pem.is_empty() {
        notes.push(format!(
            "participant {participant:?} key {index} is empty and was skipped"
        ));
        return Ok(());
    }

    let parsed = match keys::parse_public_key(&entry.pem) {
        Ok(parsed) => parsed,
        // A kid promises a particular key, so a PEM that does not parse is damage.
        Err(error) if entry.kid.is_some() => {
            return Err(bad_entry(format!("pem does not parse: {error}")));
        }
        Err(error) => {
            notes.push(format!(
                "participant {participant:?} key {index} is unusable: {error}"
            ));
            if store.entries(participant).is_empty() {
                store.record_error(participant, &error);
            }
            return Ok(());
        }
    };

    if let Some(kid) = &entry.kid
        && kid != parsed.key.kid()
    {
        return Err(bad_entry(format!(
            "kid {kid:?} does not match the key, whose fingerprint is {:?}; the PEM or the kid is damaged",
            parsed.key.kid()
        )));
    }
    for repair in &parsed.repairs {
        notes.push(format!(
            "participant {participant:?} key {index}: repaired: {repair}"
        ));
    }

    let kid = parsed.key.kid().to_owned();
    if store.entries(participant).iter().any(|e| e.kid() == kid) {
        return Err(bad_entry(format!(
            "key {kid} is listed twice; list each key once"
        )));
    }
    store.insert(participant, parsed, None, retire_after);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n";

    fn document(entries: &str) -> String {
        format!(
            r#"{{"format":"{FORMAT}","version":"7","participants":{{"payerfsp":[{entries}]}}}}"#
        )
    }

    #[test]
    fn loads_keys_with_retirement() {
        let text = document(&format!(
            r#"{{"pem":{},"retire_after":"2026-12-11T00:00:00Z"}}"#,
            serde_json::to_string(PEM).unwrap()
        ));
        let set = parse(text.as_bytes(), DEFAULT_MAX_BYTES).unwrap();
        assert_eq!(set.version, "7");
        let entries = set.store.entries("payerfsp");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].retire_after, Some(1_796_947_200));
    }

    #[test]
    fn unparsable_pem_makes_participant_unusable_without_rejecting_set() {
        let set = parse(
            document(r#"{"pem":"not a key"}"#).as_bytes(),
            DEFAULT_MAX_BYTES,
        )
        .unwrap();
        assert!(set.store.entries("payerfsp").is_empty());
        assert!(set.store.unusable_reason("payerfsp").is_some());
        assert_eq!(set.notes.len(), 1);
    }

    #[test]
    fn wrong_kid_rejects_set() {
        let text = document(&format!(
            r#"{{"pem":{},"kid":"AAAA"}}"#,
            serde_json::to_string(PEM).unwrap()
        ));
        let error = parse(text.as_bytes(), DEFAULT_MAX_BYTES).unwrap_err();
        assert!(matches!(error, KeySetError::BadEntry { index: 0, .. }));
    }

    #[test]
    fn unparsable_pem_with_kid_rejects_set() {
        let error = parse(
            document(r#"{"pem":"not a key","kid":"abc"}"#).as_bytes(),
            DEFAULT_MAX_BYTES,
        )
        .unwrap_err();
        assert!(
            matches!(error, KeySetError::BadEntry { index: 0, .. }),
            "{error}"
        );
    }

    #[test]
    fn unknown_member_rejects_set() {
        let text = document(&format!(
            r#"{{"pem":{},"retire":"2026-12-11T00:00:00Z"}}"#,
            serde_json::to_string(PEM).unwrap()
        ));
        assert!(matches!(
            parse(text.as_bytes(), DEFAULT_MAX_BYTES),
            Err(KeySetError::Malformed(_))
        ));
    }

    #[test]
    fn other_format_rejects_set() {
        let text = r#"{"format":"jwks","version":"1","participants":{}}"#;
        assert!(matches!(
            parse(text.as_bytes(), DEFAULT_MAX_BYTES),
            Err(KeySetError::UnknownFormat(_))
        ));
    }

    #[test]
    fn oversized_document_is_refused_before_parsing() {
        let text = document("");
        assert!(matches!(
            parse(text.as_bytes(), 10),
            Err(KeySetError::TooLarge { max: 10, .. })
        ));
    }

    #[test]
    fn round_trips_through_builder() {
        let mut doc = KeySetDocument::new("v1");
        doc.push("payeefsp", KeySetEntry::pem(PEM));
        let set = parse(doc.to_json().as_bytes(), DEFAULT_MAX_BYTES).unwrap();
        assert_eq!(set.store.entries("payeefsp").len(), 1);
    }
}
