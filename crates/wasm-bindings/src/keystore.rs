//! The `KeyStore` class: JWS public keys per participant, parsed once when added.

use fspiop_guard_core::KeyStore;
use fspiop_guard_core::crypto::{KeyKind, PublicKey};
use fspiop_guard_core::keys::{self, KeyEntry, KeyFormat, PemRepair};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{BindingError, ErrorCode};
use crate::input;

/// Maximum number of keys one store holds.
const MAX_KEYS: usize = 100_000;

/// JWS public keys by participant id (`FSPIOP-Source`). A participant may have several
/// keys at once, for a rotation overlap, each identified by its fingerprint (`kid`).
#[wasm_bindgen(js_name = KeyStore)]
#[derive(Default)]
pub struct KeyStoreHandle {
    store: KeyStore,
}

impl KeyStoreHandle {
    /// Returns the core key store.
    pub fn store(&self) -> &KeyStore {
        &self.store
    }
}

#[wasm_bindgen(js_class = KeyStore)]
impl KeyStoreHandle {
    /// Creates an empty store.
    #[wasm_bindgen(constructor)]
    pub fn new() -> KeyStoreHandle {
        KeyStoreHandle::default()
    }

    /// Adds a key (SPKI, PKCS #1, certificate or private-key PEM, or a JWK) for a
    /// participant and returns its description.
    ///
    /// `options` is `{retireAfter?, firstSeen?}`, each unix seconds or a `Date`; a key is
    /// not used from `retireAfter` on, and newer keys are tried first. When the key cannot
    /// be parsed and the participant has no other key, the participant is recorded as
    /// having an unusable key (verdict `KEY_UNUSABLE`) and the error is thrown. An empty
    /// string adds nothing and throws.
    pub fn add(
        &mut self,
        participant: JsValue,
        key: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let participant = participant_id(&participant)?;
        let text = input::string(&key, "key", input::MAX_KEY_CHARS)?;
        let (first_seen, retire_after) = if input::is_absent(&options) {
            (None, None)
        } else {
            let first_seen = input::time(
                &input::member(&options, "firstSeen", "options")?,
                "options.firstSeen",
            )?;
            let retire_after = input::time(
                &input::member(&options, "retireAfter", "options")?,
                "options.retireAfter",
            )?;
            (first_seen, retire_after)
        };
        if self.store.len() >= MAX_KEYS {
            return Err(
                BindingError::too_large("keys", self.store.len() + 1, MAX_KEYS, "keys").into(),
            );
        }

        let parsed = if text.is_empty() {
            Err(keys::KeyError::NoPemBlock)
        } else {
            keys::parse_public_key(&text)
        };
        match parsed {
            Ok(parsed) => {
                let entry = self
                    .store
                    .insert(&participant, parsed, first_seen, retire_after);
                Ok(entry_description(entry))
            }
            Err(error) => {
                if !text.is_empty() && self.store.entries(&participant).is_empty() {
                    self.store.record_error(&participant, &error);
                }
                let mut binding = BindingError::other(
                    ErrorCode::InvalidKey,
                    format!("key of {participant:?}: {error}"),
                );
                binding.field = Some("key".to_owned());
                Err(binding.into())
            }
        }
    }

    /// Removes the participant's key with this `kid`; returns whether one was removed.
    pub fn remove(&mut self, participant: JsValue, kid: JsValue) -> Result<bool, JsValue> {
        let participant = participant_id(&participant)?;
        let kid = input::string(&kid, "kid", 256)?;
        Ok(self.store.remove(&participant, &kid))
    }

    /// Removes every key of a participant, and any unusable-key record; returns the
    /// number of keys removed.
    #[wasm_bindgen(js_name = removeParticipant)]
    pub fn remove_participant(&mut self, participant: JsValue) -> Result<u32, JsValue> {
        let participant = participant_id(&participant)?;
        let kids: Vec<String> = self
            .store
            .entries(&participant)
            .iter()
            .map(|entry| entry.kid().to_owned())
            .collect();
        for kid in &kids {
            self.store.remove(&participant, kid);
        }
        // A valid key clears an unusable record; with no key left, rebuild the store
        // without the participant so the record goes too.
        if self.store.unusable_reason(&participant).is_some() {
            let mut rebuilt = KeyStore::new();
            for entry in self.store.all() {
                let parsed = keys::ParsedKey {
                    key: entry.key.clone(),
                    format: entry.format,
                    repairs: entry.repairs.clone(),
                    warnings: entry.warnings.clone(),
                };
                rebuilt.insert(
                    &entry.participant,
                    parsed,
                    entry.first_seen,
                    entry.retire_after,
                );
            }
            for other in self.store.participants() {
                if other != participant
                    && self.store.entries(other).is_empty()
                    && let Some(reason) = self.store.unusable_reason(other)
                {
                    rebuilt.mark_unusable(other, reason.to_owned());
                }
            }
            self.store = rebuilt;
        }
        Ok(kids.len() as u32)
    }

    /// Lists keys, of one participant or of all: `[{participant, kid, type, bits?,
    /// curve?, format, firstSeen, retireAfter, repairs, warnings}]`, newest first per
    /// participant.
    pub fn list(&self, participant: JsValue) -> Result<Array, JsValue> {
        let list = Array::new();
        if input::is_absent(&participant) {
            for entry in self.store.all() {
                list.push(&entry_description(entry));
            }
        } else {
            let participant = participant_id(&participant)?;
            for entry in self.store.entries(&participant) {
                list.push(&entry_description(entry));
            }
        }
        Ok(list)
    }

    /// Returns every participant id, including those with only an unusable key.
    pub fn participants(&self) -> Array {
        self.store.participants().map(JsValue::from_str).collect()
    }

    /// Returns why the participant's configured key is unusable, or `undefined`.
    #[wasm_bindgen(js_name = unusableReason)]
    pub fn unusable_reason(&self, participant: JsValue) -> Result<Option<String>, JsValue> {
        let participant = participant_id(&participant)?;
        Ok(self.store.unusable_reason(&participant).map(str::to_owned))
    }

    /// Returns the number of keys over all participants.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.store.len() as u32
    }
}

fn participant_id(value: &JsValue) -> Result<String, BindingError> {
    input::string(value, "participant", input::MAX_PARTICIPANT_CHARS)
}

fn set(object: &JsValue, name: &str, value: &JsValue) {
    // Reflect.set of a data property on an ordinary object created here always succeeds.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

fn optional_time(value: Option<i64>) -> JsValue {
    value.map_or(JsValue::NULL, |seconds| JsValue::from_f64(seconds as f64))
}

fn entry_description(entry: &KeyEntry) -> JsValue {
    let description = key_description(&entry.key, entry.format, &entry.repairs, &entry.warnings);
    set(
        &description,
        "participant",
        &JsValue::from_str(&entry.participant),
    );
    set(&description, "firstSeen", &optional_time(entry.first_seen));
    set(
        &description,
        "retireAfter",
        &optional_time(entry.retire_after),
    );
    description
}

/// Describes a key: `{kid, type, bits?, curve?, format, repairs, warnings}`.
pub fn key_description(
    key: &PublicKey,
    format: KeyFormat,
    repairs: &[PemRepair],
    warnings: &[String],
) -> JsValue {
    let description: JsValue = Object::new().into();
    set(&description, "kid", &JsValue::from_str(key.kid()));
    match key.kind() {
        KeyKind::Rsa { bits } => {
            set(&description, "type", &JsValue::from_str("RSA"));
            set(&description, "bits", &JsValue::from(bits));
        }
        KeyKind::Ec(curve) => {
            set(&description, "type", &JsValue::from_str("EC"));
            set(&description, "curve", &JsValue::from_str(curve.name()));
        }
    }
    set(
        &description,
        "format",
        &JsValue::from_str(format_name(format)),
    );
    let repairs: Array = repairs
        .iter()
        .map(|repair| JsValue::from_str(&repair.to_string()))
        .collect();
    set(&description, "repairs", &repairs);
    let warnings: Array = warnings.iter().map(|w| JsValue::from_str(w)).collect();
    set(&description, "warnings", &warnings);
    description
}

fn format_name(format: KeyFormat) -> &'static str {
    match format {
        KeyFormat::SpkiPem => "spki-pem",
        KeyFormat::Pkcs1Pem => "pkcs1-pem",
        KeyFormat::CertificatePem => "certificate-pem",
        KeyFormat::PrivateKeyPem => "private-key-pem",
        KeyFormat::Jwk => "jwk",
        KeyFormat::SpkiDer => "spki-der",
    }
}
