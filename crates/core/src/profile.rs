//! Verification profiles: the policy a verifier enforces, as configuration.
//!
//! Two profiles are built in. `mojaloop-sdk` accepts what the Mojaloop SDK validator
//! (`@mojaloop/sdk-standard-components` 19.18.8 and 19.19.1) accepts, plus genuine
//! signatures over the raw body bytes. `strict` follows the FSPIOP Signature
//! specification v1.1: the signature covers the body bytes as sent, RSA keys are at
//! least 2048 bits, and the protected `FSPIOP-URI` and `FSPIOP-HTTP-Method` are bound to
//! the real request line.

use serde::{Deserialize, Serialize};

use crate::crypto::Algorithm;

/// The bytes a signature may cover, tried in the profile's order until one verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadForm {
    /// The body bytes exactly as received (what the FSPIOP Signature spec signs).
    Raw,
    /// The parsed body re-serialised with object keys sorted by UTF-16 code units
    /// (what SDK 19.19.x signs and hashes).
    SortedJson,
    /// The parsed body re-serialised in JavaScript property order (what SDK
    /// 18.5–19.18.x and the Hub's `getSignature` path sign).
    InsertionJson,
}

impl PayloadForm {
    /// Returns the stable name used in verdicts and configuration.
    pub fn name(self) -> &'static str {
        match self {
            PayloadForm::Raw => "raw",
            PayloadForm::SortedJson => "sorted-json",
            PayloadForm::InsertionJson => "insertion-json",
        }
    }

    /// Returns true for the forms that need the body parsed as JSON.
    pub fn is_canonical(self) -> bool {
        !matches!(self, PayloadForm::Raw)
    }
}

/// The body parsing rule applied before any signature check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyJson {
    /// The body must be a JSON object or array, read as the SDK's body parser (co-body,
    /// strict mode) reads it: an empty body counts as `{}`, a `__proto__` member is
    /// rejected. Otherwise the request fails with FSPIOP 3101 before any JWS check.
    Required,
    /// The body is parsed only when a canonical payload form or a body rule needs it.
    AsNeeded,
}

/// Size limits applied before any parsing. Every limit names the value it bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum length of the whole `FSPIOP-Signature` header value, in bytes.
    pub max_signature_header_bytes: usize,
    /// Maximum length of the `protectedHeader` member, in characters (the FSPIOP
    /// Signature spec allows 1..32768).
    pub max_protected_header_chars: usize,
    /// Maximum length of the `signature` member, in characters. The spec says 512,
    /// but an RSA-4096 signature takes 683, so the default is 1024.
    pub max_signature_chars: usize,
    /// Maximum nesting of the protected header and signature header JSON.
    pub max_header_json_depth: usize,
    /// Maximum body size that is verified, in bytes.
    pub max_body_bytes: usize,
    /// Maximum nesting of the JSON body.
    pub max_body_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_signature_header_bytes: 34 * 1024,
            max_protected_header_chars: 32_768,
            max_signature_chars: 1024,
            max_header_json_depth: 8,
            max_body_bytes: 1024 * 1024,
            max_body_json_depth: 1000,
        }
    }
}

/// A verification policy. Build one with [`Profile::mojaloop_sdk`], [`Profile::strict`]
/// or [`Profile::by_name`], then adjust fields, or deserialise one from configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile name reported in verdicts.
    pub name: String,
    /// Payload forms tried in order; the first that verifies wins.
    pub payload_forms: Vec<PayloadForm>,
    /// Allowed `alg` values. `none` and HMAC algorithms cannot be listed.
    pub algorithms: Vec<Algorithm>,
    /// RSA keys below this many bits are rejected (`None`: no minimum).
    pub min_rsa_bits: Option<u32>,
    /// RSA keys below this many bits give a warning in the verdict.
    pub warn_rsa_bits: u32,
    /// The body parsing rule applied before the signature check.
    pub body_json: BodyJson,
    /// Reject a body with a repeated object member (parser-differential attacks).
    pub reject_duplicate_keys: bool,
    /// Reject a body with a number that does not survive a round trip through an
    /// IEEE-754 double exactly (for example `9007199254740993` or `1e400`).
    pub reject_lossy_numbers: bool,
    /// Bind the protected `FSPIOP-URI` and `FSPIOP-HTTP-Method` to the real request
    /// target and method, not only to the headers of the same name.
    pub bind_request_line: bool,
    /// Path prefixes an ingress adds in front of FSPIOP paths (for example `/fspiop`).
    /// With request-line binding, the request target must equal the protected
    /// `FSPIOP-URI`, or one of these prefixes followed by it.
    #[serde(default)]
    pub request_path_prefixes: Vec<String>,
    /// When set, the protected `Date` must be present and within this many seconds of
    /// the verification time.
    pub date_window_secs: Option<u64>,
    /// Size limits.
    #[serde(default)]
    pub limits: Limits,
}

impl Profile {
    /// Accepts what the Mojaloop SDK validator accepts (any SDK version from 18.5 on),
    /// plus genuine signatures over the raw body bytes.
    pub fn mojaloop_sdk() -> Profile {
        Profile {
            name: "mojaloop-sdk".to_owned(),
            payload_forms: vec![
                PayloadForm::Raw,
                PayloadForm::SortedJson,
                PayloadForm::InsertionJson,
            ],
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            min_rsa_bits: None,
            warn_rsa_bits: 2048,
            body_json: BodyJson::Required,
            reject_duplicate_keys: false,
            reject_lossy_numbers: false,
            bind_request_line: false,
            request_path_prefixes: Vec::new(),
            date_window_secs: None,
            limits: Limits::default(),
        }
    }

    /// Follows the FSPIOP Signature specification v1.1: raw body bytes only,
    /// RS256/RS384/RS512 (plus ES256 and PS256), RSA at least 2048 bits, and the
    /// protected request line bound to the real one.
    pub fn strict() -> Profile {
        Profile {
            name: "strict".to_owned(),
            payload_forms: vec![PayloadForm::Raw],
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::ES256,
                Algorithm::PS256,
            ],
            min_rsa_bits: Some(2048),
            warn_rsa_bits: 2048,
            body_json: BodyJson::AsNeeded,
            reject_duplicate_keys: false,
            reject_lossy_numbers: false,
            bind_request_line: true,
            request_path_prefixes: Vec::new(),
            date_window_secs: None,
            limits: Limits::default(),
        }
    }

    /// Accepts exactly what one SDK version's validator accepts: SDK 19.19.x verifies only
    /// the sorted-key re-serialisation, SDK 18.5–19.18.x only the insertion-order one.
    /// Use it to predict what a receiver on that version decides.
    pub fn sdk_version(form: PayloadForm, name: &str) -> Profile {
        Profile {
            name: name.to_owned(),
            payload_forms: vec![form],
            ..Profile::mojaloop_sdk()
        }
    }

    /// Returns the built-in profile with this name.
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "mojaloop-sdk" => Some(Profile::mojaloop_sdk()),
            "sdk-19.19" => Some(Profile::sdk_version(PayloadForm::SortedJson, name)),
            "sdk-19.18" => Some(Profile::sdk_version(PayloadForm::InsertionJson, name)),
            "strict" => Some(Profile::strict()),
            _ => None,
        }
    }

    /// Names of the built-in profiles.
    pub const BUILT_IN: [&'static str; 4] = ["mojaloop-sdk", "sdk-19.19", "sdk-19.18", "strict"];

    /// Returns true when some step needs the body parsed as JSON.
    pub fn needs_parsed_body(&self) -> bool {
        self.body_json == BodyJson::Required
            || self.reject_duplicate_keys
            || self.reject_lossy_numbers
            || self.payload_forms.iter().any(|form| form.is_canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mojaloop_sdk_tries_raw_first() {
        let profile = Profile::mojaloop_sdk();
        assert_eq!(profile.payload_forms.first(), Some(&PayloadForm::Raw));
        assert_eq!(profile.min_rsa_bits, None);
    }

    #[test]
    fn strict_needs_no_parsed_body() {
        assert!(!Profile::strict().needs_parsed_body());
        assert!(Profile::mojaloop_sdk().needs_parsed_body());
    }

    #[test]
    fn by_name_knows_built_ins() {
        for name in Profile::BUILT_IN {
            assert_eq!(
                Profile::by_name(name).map(|p| p.name),
                Some(name.to_owned())
            );
        }
        assert!(Profile::by_name("lenient").is_none());
    }
}
