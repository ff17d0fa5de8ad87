//! Loads JWS public keys from files into a [`KeyStore`].
//!
//! A directory uses the sdk-scheme-adapter layout (`JWS_VERIFICATION_KEYS_DIRECTORY`):
//! one `<fspId>.pem` file per participant, the file's base name being the FSPIOP-Source
//! id. A single `.pem` file is loaded the same way. A `.json` file maps ids to a PEM
//! string or to a list of `{"pem", "retire_after"}` items, which expresses rotation
//! overlap: a key with `retire_after` in the past no longer verifies.

use std::fs;
use std::path::Path;

use fspiop_guard_core::json::{self, Value};
use fspiop_guard_core::keys::{self, KeyStore};
use fspiop_guard_core::keyset;

/// Maximum key file size, in bytes.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Maximum JSON key map size, in bytes.
const MAX_KEY_MAP_BYTES: u64 = 16 * 1024 * 1024;

/// A note about one key file, printed to standard error.
pub struct LoadNote {
    pub participant: String,
    pub text: String,
}

/// Loads keys from a directory, a `.pem` file or a `.json` map.
pub fn load(path: &Path, store: &mut KeyStore) -> Result<Vec<LoadNote>, String> {
    let metadata = fs::metadata(path)
        .map_err(|error| format!("cannot read keys at {}: {error}", path.display()))?;
    let mut notes = Vec::new();

    if metadata.is_dir() {
        let entries = fs::read_dir(path)
            .map_err(|error| format!("cannot list key directory {}: {error}", path.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|file| file.extension().is_some_and(|ext| ext == "pem"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!(
                "key directory {} has no <fspId>.pem files; add one file per participant",
                path.display()
            ));
        }
        for file in files {
            load_pem_file(&file, store, &mut notes)?;
        }
    } else if path.extension().is_some_and(|ext| ext == "json") {
        load_json_map(path, store, &mut notes)?;
    } else {
        load_pem_file(path, store, &mut notes)?;
    }
    Ok(notes)
}

fn load_pem_file(
    file: &Path,
    store: &mut KeyStore,
    notes: &mut Vec<LoadNote>,
) -> Result<(), String> {
    let participant = file
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| format!("key file name {} is not valid UTF-8", file.display()))?
        .to_owned();
    let text = read_limited(file, MAX_KEY_FILE_BYTES)?;
    insert(store, &participant, &text, notes);
    Ok(())
}

fn load_json_map(
    file: &Path,
    store: &mut KeyStore,
    notes: &mut Vec<LoadNote>,
) -> Result<(), String> {
    let text = read_limited(file, MAX_KEY_MAP_BYTES)?;
    let parsed = json::parse(&text, &json::Limits::default())
        .map_err(|error| format!("key map {} is not JSON: {error}", file.display()))?;
    let Ok(map) = parsed.value.into_object() else {
        return Err(format!(
            "key map {} must be a JSON object of {{\"<fspId>\": \"<PEM>\"}}",
            file.display()
        ));
    };

    // A key-set document, as keysync serves it and the Envoy filter reads it.
    if map.get("format").is_some() {
        let invalid = |error: String| format!("key set {}: {error}", file.display());
        keyset::parse(text.as_bytes(), usize::MAX).map_err(|e| invalid(e.to_string()))?;
        let document = keyset::KeySetDocument::from_json(text.as_bytes()).map_err(invalid)?;
        for (participant, entries) in document.participants.iter() {
            let loaded = keyset::load_entries(store, participant, entries)
                .map_err(|e| invalid(e.to_string()))?;
            notes.extend(loaded.into_iter().map(|text| LoadNote {
                participant: participant.clone(),
                text,
            }));
        }
        return Ok(());
    }
    for (participant, value) in map.iter() {
        let participant = participant.to_string_lossy();
        match value {
            Value::String(pem) => insert(store, &participant, &pem.to_string_lossy(), notes),
            Value::Array(items) => {
                for item in items {
                    load_map_item(store, &participant, item, notes)?;
                }
            }
            _ => {
                return Err(format!(
                    "key map {}: the value for {participant:?} must be a PEM string or a list of \
                     {{\"pem\", \"retire_after\"}} objects",
                    file.display()
                ));
            }
        }
    }
    Ok(())
}

/// Loads one `{"pem": "...", "retire_after": "<RFC 3339>"}` item of a key list.
///
/// A malformed item is an error, never skipped: a misspelt or mistyped `retire_after`
/// would otherwise leave a retired key valid.
fn load_map_item(
    store: &mut KeyStore,
    participant: &str,
    item: &Value,
    notes: &mut Vec<LoadNote>,
) -> Result<(), String> {
    let Some(object) = item.as_object() else {
        return Err(format!(
            "key list of {participant:?}: each item must be an object {{\"pem\", \"retire_after\"}}"
        ));
    };
    if let Some((name, _)) = object
        .iter()
        .find(|(name, _)| !name.eq_str("pem") && !name.eq_str("retire_after"))
    {
        return Err(format!(
            "key list of {participant:?}: unknown member {:?}; use \"pem\" and \"retire_after\"",
            name.to_string_lossy()
        ));
    }
    let Some(pem) = object.get("pem").and_then(Value::as_str) else {
        return Err(format!(
            "key list of {participant:?}: an item has no \"pem\" string"
        ));
    };
    let retire_after = match object.get("retire_after") {
        None => None,
        Some(Value::String(text)) => Some(
            crate::time::parse_rfc3339(&text.to_string_lossy())
                .map_err(|error| format!("key of {participant:?}: retire_after: {error}"))?,
        ),
        Some(_) => {
            return Err(format!(
                "key of {participant:?}: retire_after must be an RFC 3339 string such as \"2026-05-10T00:00:00Z\""
            ));
        }
    };
    match keys::parse_public_key(&pem) {
        Ok(parsed) => {
            if store
                .entries(participant)
                .iter()
                .any(|entry| entry.kid() == parsed.key.kid())
            {
                return Err(format!(
                    "key list of {participant:?} has key {} twice; list each key once",
                    parsed.key.kid()
                ));
            }
            let entry = store.insert(participant, parsed, None, retire_after);
            note_entry(participant, &entry.repairs, &entry.warnings, notes);
        }
        Err(error) => {
            // Record the failure as KeyStore::insert_pem does, so a request from this
            // participant is rejected as KEY_UNUSABLE and not as UNKNOWN_SOURCE.
            if store.entries(participant).is_empty() {
                store.record_error(participant, &error);
            }
            notes.push(LoadNote {
                participant: participant.to_owned(),
                text: format!("unusable key: {error}"),
            });
        }
    }
    Ok(())
}

/// Inserts one key, recording repairs, warnings and failures as notes.
pub fn insert(store: &mut KeyStore, participant: &str, pem: &str, notes: &mut Vec<LoadNote>) {
    match store.insert_pem(participant, pem) {
        Ok(entry) => note_entry(participant, &entry.repairs, &entry.warnings, notes),
        Err(error) => notes.push(LoadNote {
            participant: participant.to_owned(),
            text: format!("unusable key: {error}"),
        }),
    }
}

/// Records a key's repairs and warnings as notes.
fn note_entry(
    participant: &str,
    repairs: &[keys::PemRepair],
    warnings: &[String],
    notes: &mut Vec<LoadNote>,
) {
    for repair in repairs {
        notes.push(LoadNote {
            participant: participant.to_owned(),
            text: format!("repaired: {repair}"),
        });
    }
    for warning in warnings {
        notes.push(LoadNote {
            participant: participant.to_owned(),
            text: warning.clone(),
        });
    }
}

/// Reads a file of at most `max` bytes.
pub fn read_limited(file: &Path, max: u64) -> Result<String, String> {
    let bytes = read_bytes_limited(file, max)?;
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not UTF-8 text; give a PEM or JSON file",
            file.display()
        )
    })
}

/// Reads a file of at most `max` bytes, as bytes.
pub fn read_bytes_limited(file: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;

    let handle =
        fs::File::open(file).map_err(|error| format!("cannot open {}: {error}", file.display()))?;
    let mut bytes = Vec::new();
    handle
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{} is larger than {max} bytes; is it the right file?",
            file.display()
        ));
    }
    Ok(bytes)
}
