//! Files and documents that keysync writes: the last-known-good state file, the `<fspId>.pem` directory
//! and the key-set document.
//!
//! Files are replaced atomically: the new content goes to a temporary file in the same
//! directory, is flushed to disk, and is renamed over the old file, and then the
//! directory itself is flushed. A reader sees the old file or the new one, never a
//! part of either, and a crash leaves one of the two.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use fspiop_guard_core::keys;
use fspiop_guard_core::keyset::{KeySetDocument, KeySetEntry};
use fspiop_guard_core::rfc3339;
use serde::{Deserialize, Serialize};

use crate::history::{KeyHistory, Participant};
use crate::mcm::check_participant_id;

/// `format` of the state file.
pub const STATE_FORMAT: &str = "fspiop-guard-keysync-state/1";

/// Largest state file read, in bytes.
pub const MAX_STATE_BYTES: usize = 64 * 1024 * 1024;

/// Largest `.pem` file compared before it is rewritten, in bytes.
const MAX_PEM_FILE_BYTES: usize = 64 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    saved_at: String,
    participants: std::collections::BTreeMap<String, Participant>,
}

/// Writes `bytes` to `path` atomically (see the module documentation).
///
/// # Errors
/// Any step fails; the message names the path. The old file is then unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no file name", path.display()))?;
    // A leading dot and a suffix other than .pem keep a half-written file out of the
    // SDK's directory watcher.
    let temporary = directory.join(format!(".{name}.tmp-{}", std::process::id()));

    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)?;
        File::open(directory)?.sync_all()
    })();
    result.map_err(|error| {
        let _ = fs::remove_file(&temporary);
        format!("cannot write {}: {error}", path.display())
    })
}

/// Serialises the history as a state file saved at `now`.
pub fn state_to_json(history: &KeyHistory, now: i64) -> Vec<u8> {
    let state = StateFile {
        format: STATE_FORMAT.to_owned(),
        saved_at: rfc3339::format(now),
        participants: history.participants.clone(),
    };
    // serde_json fails only on non-string map keys and failing Serialize impls, and
    // this state has string keys and derived impls only.
    serde_json::to_vec_pretty(&state).unwrap_or_default()
}

/// Saves the history to the state file.
///
/// # Errors
/// The file cannot be written.
pub fn save_state(path: &Path, history: &KeyHistory, now: i64) -> Result<(), String> {
    write_atomic(path, &state_to_json(history, now))
}

/// A state file that was read, with the keys that had to be dropped.
#[derive(Debug)]
pub struct LoadedState {
    pub history: KeyHistory,
    /// One sentence per key or participant that was dropped.
    pub warnings: Vec<String>,
}

/// Reads the state file. A missing file is an empty history.
///
/// # Errors
/// The file exists but cannot be read, is too large, or is not a state file. Keys
/// that do not match their fingerprint are not errors: they are dropped with a warning.
pub fn load_state(path: &Path) -> Result<LoadedState, String> {
    if !path.exists() {
        return Ok(LoadedState {
            history: KeyHistory::new(),
            warnings: Vec::new(),
        });
    }
    let bytes = crate::config::read_limited(path, MAX_STATE_BYTES)?;
    parse_state(&bytes).map_err(|message| format!("state file {}: {message}", path.display()))
}

/// Parses state file bytes and checks every key against its fingerprint.
///
/// # Errors
/// The bytes are not a state file of [`STATE_FORMAT`].
pub fn parse_state(bytes: &[u8]) -> Result<LoadedState, String> {
    let state: StateFile =
        serde_json::from_slice(bytes).map_err(|e| format!("is not a keysync state file ({e})"))?;
    if state.format != STATE_FORMAT {
        return Err(format!(
            "has format {:?}; this build reads {STATE_FORMAT:?}",
            state.format
        ));
    }

    let mut history = KeyHistory::new();
    let mut warnings = Vec::new();
    for (participant, mut entry) in state.participants {
        if let Err(reason) = check_participant_id(&participant) {
            warnings.push(format!("dropped a participant: {reason}"));
            continue;
        }
        entry.keys.retain(|key| match keys::parse_public_key(&key.pem) {
            Ok(parsed) if parsed.key.kid() == key.kid => true,
            Ok(parsed) => {
                warnings.push(format!(
                    "dropped key {} of participant {participant:?}: its PEM has fingerprint {}, so the file is damaged",
                    key.kid,
                    parsed.key.kid()
                ));
                false
            }
            Err(error) => {
                warnings.push(format!(
                    "dropped key {} of participant {participant:?}: {error}",
                    key.kid
                ));
                false
            }
        });
        if !entry.keys.is_empty() {
            history.participants.insert(participant, entry);
        }
    }
    Ok(LoadedState { history, warnings })
}

/// A rendered key-set document and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedKeySet {
    pub version: String,
    pub body: bytes::Bytes,
}

/// Renders the key set that `GET /v1/keys` serves.
///
/// The version is derived from the participants and keys alone (base64url of their
/// SHA-256, 22 characters), so it changes exactly when the keys change, and two keysync
/// replicas with the same keys serve the same version.
pub fn render_keyset(history: &KeyHistory, now: i64) -> RenderedKeySet {
    let mut document = KeySetDocument::new("");
    for (participant, state) in &history.participants {
        for key in &state.keys {
            if key.retire_after.is_some_and(|at| at <= now) {
                continue;
            }
            document.push(
                participant,
                KeySetEntry {
                    pem: key.pem.clone(),
                    kid: Some(key.kid.clone()),
                    retire_after: key.retire_after.map(rfc3339::format),
                },
            );
        }
    }
    let participants_json = serde_json::to_vec(&document.participants).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &participants_json);
    let digest_prefix = digest.as_ref().get(..16).unwrap_or_default();
    document.version = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest_prefix);
    document.generated_at = Some(rfc3339::format(now));
    RenderedKeySet {
        version: document.version.clone(),
        body: bytes::Bytes::from(document.to_json()),
    }
}

/// Changes that [`sync_pem_dir`] made.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PemDirChanges {
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub errors: Vec<String>,
}

/// Makes `directory` hold one `<fspId>.pem` per participant, with its newest key, and
/// no other `.pem` file. Unchanged files are not rewritten, so the SDK's directory
/// watcher is notified only of real changes.
///
/// Every `.pem` file in the directory that is not a participant's is removed: the
/// directory belongs to keysync.
pub fn sync_pem_dir(directory: &Path, history: &KeyHistory) -> PemDirChanges {
    let mut changes = PemDirChanges::default();
    if let Err(error) = fs::create_dir_all(directory) {
        changes
            .errors
            .push(format!("cannot create {}: {error}", directory.display()));
        return changes;
    }

    let mut wanted = BTreeSet::new();
    for (participant, state) in &history.participants {
        let Some(current) = state.current() else {
            continue;
        };
        let file = format!("{participant}.pem");
        wanted.insert(file.clone());
        let path = directory.join(&file);
        let same = crate::config::read_limited(&path, MAX_PEM_FILE_BYTES)
            .is_ok_and(|bytes| bytes == current.pem.as_bytes());
        if same {
            continue;
        }
        match write_atomic(&path, current.pem.as_bytes()) {
            Ok(()) => changes.written.push(file),
            Err(error) => changes.errors.push(error),
        }
    }

    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            changes
                .errors
                .push(format!("cannot list {}: {error}", directory.display()));
            return changes;
        }
    };
    let stale: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name.ends_with(".pem") && !wanted.contains(name) && path.is_file()
        })
        .collect();
    for path in stale {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        match fs::remove_file(&path) {
            Ok(()) => changes.removed.push(name),
            Err(error) => changes
                .errors
                .push(format!("cannot remove {}: {error}", path.display())),
        }
    }
    changes
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::config::KeyPolicy;
    use crate::history::Poll;
    use crate::mcm::{Offer, OfferedKey, ValidationState};

    const EC_A: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaQVbww9HM45T/6JY6TsgKBZzP3xF\n5zCsJpSOMmbhN9JiceyFJhALbsO2iiGu4wdvnEV0orHP4O8tp24kVD7iHA==\n-----END PUBLIC KEY-----\n";
    const EC_B: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n";
    const T0: i64 = 1_796_385_600;

    fn offer(pem: &str) -> Offer {
        let parsed = keys::parse_public_key(pem).unwrap();
        Offer::Key(OfferedKey {
            kid: parsed.key.kid().to_owned(),
            pem: parsed.key.to_pem(),
            created_at: Some(1.0),
            validation_state: ValidationState::Invalid,
            notes: Vec::new(),
        })
    }

    fn rotated_history() -> KeyHistory {
        let mut history = KeyHistory::new();
        let policy = KeyPolicy::default();
        history.apply(
            &Poll::from([("dfsp1".to_owned(), offer(EC_A))]),
            T0,
            &policy,
        );
        history.apply(
            &Poll::from([("dfsp1".to_owned(), offer(EC_B))]),
            T0 + 60,
            &policy,
        );
        history
    }

    #[test]
    fn state_round_trips() {
        let history = rotated_history();
        let loaded = parse_state(&state_to_json(&history, T0)).unwrap();
        assert!(loaded.warnings.is_empty());
        assert_eq!(loaded.history, history);
    }

    #[test]
    fn damaged_key_in_state_is_dropped_with_warning() {
        let history = rotated_history();
        let text = String::from_utf8(state_to_json(&history, T0)).unwrap();
        let kid_b = &history.participants["dfsp1"].keys[0].kid;
        let damaged = text.replacen(kid_b.as_str(), "AAAA", 1);
        let loaded = parse_state(damaged.as_bytes()).unwrap();
        assert_eq!(loaded.history.participants["dfsp1"].keys.len(), 1);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("damaged"));
    }

    #[test]
    fn state_of_another_format_is_rejected() {
        let error = parse_state(br#"{"format":"x","saved_at":"","participants":{}}"#).unwrap_err();
        assert!(error.contains("format"), "{error}");
        assert!(parse_state(b"{").is_err());
    }

    #[test]
    fn keyset_lists_both_keys_during_overlap() {
        let history = rotated_history();
        let rendered = render_keyset(&history, T0 + 120);
        let set = fspiop_guard_core::keyset::parse(&rendered.body, 1 << 20).unwrap();
        assert_eq!(set.version, rendered.version);
        let entries = set.store.entries("dfsp1");
        assert_eq!(entries.len(), 2);
        let mut retire: Vec<Option<i64>> = entries.iter().map(|e| e.retire_after).collect();
        retire.sort();
        assert_eq!(retire, [None, Some(T0 + 60 + 86_400)]);
    }

    #[test]
    fn version_depends_only_on_keys() {
        let history = rotated_history();
        let first = render_keyset(&history, T0 + 120);
        let later = render_keyset(&history, T0 + 180);
        assert_eq!(first.version, later.version);
        let mut other = history.clone();
        other.participants.remove("dfsp1");
        assert_ne!(render_keyset(&other, T0 + 120).version, first.version);
    }

    #[test]
    fn pem_dir_holds_current_keys_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("gone.pem"), "old").unwrap();
        fs::write(dir.path().join("notes.txt"), "kept").unwrap();
        let history = rotated_history();

        let changes = sync_pem_dir(dir.path(), &history);
        assert_eq!(changes.written, ["dfsp1.pem"]);
        assert_eq!(changes.removed, ["gone.pem"]);
        assert!(changes.errors.is_empty());
        let pem = fs::read_to_string(dir.path().join("dfsp1.pem")).unwrap();
        assert_eq!(pem, keys::parse_public_key(EC_B).unwrap().key.to_pem());
        assert!(dir.path().join("notes.txt").exists());

        let again = sync_pem_dir(dir.path(), &history);
        assert_eq!(again, PemDirChanges::default());
    }

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
