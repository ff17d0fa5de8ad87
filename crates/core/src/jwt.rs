//! Bearer JWT verification (RFC 7519) with jsonwebtoken, on ring.
//!
//! jsonwebtoken 12 without default features has no crypto backend, so this module
//! provides one on ring ([`RING_PROVIDER`]) and installs it before first use. No second
//! crypto library enters the build.
//!
//! jsonwebtoken's own time checks read the system clock (which panics on
//! wasm32-unknown-unknown) and accept a token whose `exp` equals the current second. They
//! are turned off: [`verify_jwt`] checks `exp` and `nbf` against the time it is given,
//! with an explicit leeway, and a token is expired from the second `exp` names
//! (RFC 7519 section 4.1.4: the current time must be *before* `exp`).
//!
//! Checks run in this order, and the first failure is the reason:
//! 1. size, three base64url parts, a JSON header;
//! 2. `alg`: `none` and HMAC are rejected, then the policy's allow-list;
//! 3. the key: by `kid` in the key store, or the configured participant's active keys;
//! 4. the key's type and curve against `alg`, then the signature (jsonwebtoken);
//! 5. `exp` (required by default), `nbf`, `iss`, `aud`.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey};
use jsonwebtoken::{AlgorithmFamily, DecodingKeyKind};
use ring::signature::{self as ring_signature, UnparsedPublicKey, VerificationAlgorithm};
use serde::Serialize;
use serde_json::Value;

use crate::crypto::{Curve, KeyKind, PublicKey};
use crate::keys::KeyStore;
use crate::pki::{PkiError, PkiReason};

/// Maximum token length, in bytes. Access tokens from Keycloak with many roles stay
/// under 4 KB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// jsonwebtoken's crypto backend on ring: RSA PKCS#1 v1.5 and PSS from 2048 bits,
/// ECDSA P-256 and P-384, Ed25519 and HMAC. The JWK helpers compute digests and return
/// errors for the rest, instead of jsonwebtoken's placeholders, which panic.
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::UnsupportedAlgorithm.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::UnsupportedAlgorithm.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::UnsupportedAlgorithm.into()),
        ed_pub_components_from_private_key: |_, _: &EllipticCurve| {
            Err(ErrorKind::UnsupportedAlgorithm.into())
        },
        compute_digest,
    },
};

/// Installs [`RING_PROVIDER`] as jsonwebtoken's process-wide provider unless one is
/// installed already. Returns false when another provider was installed first.
pub fn install_ring_provider() -> bool {
    match CryptoProvider::try_get_default() {
        Some(installed) => std::ptr::eq(installed, &RING_PROVIDER),
        None => {
            RING_PROVIDER.install_default().is_ok()
                || CryptoProvider::try_get_default()
                    .is_some_and(|p| std::ptr::eq(p, &RING_PROVIDER))
        }
    }
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, JwtError> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

struct RingVerifier {
    alg: JwtAlgorithm,
    key: DecodingKey,
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let failed = |_| signature::Error::new();
        match (self.alg, self.key.kind()) {
            (
                JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512,
                DecodingKeyKind::SecretOrDer(secret),
            ) => {
                let key = ring::hmac::Key::new(hmac_algorithm(self.alg), secret);
                ring::hmac::verify(&key, message, signature).map_err(failed)
            }
            (alg, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                let parameters = rsa_parameters(alg).ok_or_else(signature::Error::new)?;
                ring_signature::RsaPublicKeyComponents { n, e }
                    .verify(parameters, message, signature)
                    .map_err(failed)
            }
            (alg, DecodingKeyKind::SecretOrDer(der)) => {
                let algorithm: &dyn VerificationAlgorithm = match alg {
                    JwtAlgorithm::ES256 => &ring_signature::ECDSA_P256_SHA256_FIXED,
                    JwtAlgorithm::ES384 => &ring_signature::ECDSA_P384_SHA384_FIXED,
                    other => rsa_parameters(other).ok_or_else(signature::Error::new)?,
                };
                UnparsedPublicKey::new(algorithm, der)
                    .verify(message, signature)
                    .map_err(failed)
            }
        }
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> JwtAlgorithm {
        self.alg
    }
}

fn rsa_parameters(alg: JwtAlgorithm) -> Option<&'static ring_signature::RsaParameters> {
    Some(match alg {
        JwtAlgorithm::RS256 => &ring_signature::RSA_PKCS1_2048_8192_SHA256,
        JwtAlgorithm::RS384 => &ring_signature::RSA_PKCS1_2048_8192_SHA384,
        JwtAlgorithm::RS512 => &ring_signature::RSA_PKCS1_2048_8192_SHA512,
        JwtAlgorithm::PS256 => &ring_signature::RSA_PSS_2048_8192_SHA256,
        JwtAlgorithm::PS384 => &ring_signature::RSA_PSS_2048_8192_SHA384,
        JwtAlgorithm::PS512 => &ring_signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn hmac_algorithm(alg: JwtAlgorithm) -> ring::hmac::Algorithm {
    match alg {
        JwtAlgorithm::HS384 => ring::hmac::HMAC_SHA384,
        JwtAlgorithm::HS512 => ring::hmac::HMAC_SHA512,
        _ => ring::hmac::HMAC_SHA256,
    }
}

fn new_verifier(alg: &JwtAlgorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtError> {
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(RingVerifier {
        alg: *alg,
        key: key.clone(),
    }))
}

#[cfg(feature = "jwt-sign")]
struct RingSigner {
    alg: JwtAlgorithm,
    key: EncodingKey,
}

#[cfg(feature = "jwt-sign")]
impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        fn failed<E>(_: E) -> signature::Error {
            signature::Error::new()
        }
        let rng = ring::rand::SystemRandom::new();
        let der = self.key.as_bytes();
        match self.alg.family() {
            AlgorithmFamily::Hmac => {
                let key = ring::hmac::Key::new(hmac_algorithm(self.alg), der);
                Ok(ring::hmac::sign(&key, message).as_ref().to_vec())
            }
            AlgorithmFamily::Rsa => {
                let pair = ring_signature::RsaKeyPair::from_pkcs8(der)
                    .or_else(|_| ring_signature::RsaKeyPair::from_der(der))
                    .map_err(failed)?;
                let padding: &'static dyn ring_signature::RsaEncoding = match self.alg {
                    JwtAlgorithm::RS384 => &ring_signature::RSA_PKCS1_SHA384,
                    JwtAlgorithm::RS512 => &ring_signature::RSA_PKCS1_SHA512,
                    JwtAlgorithm::PS256 => &ring_signature::RSA_PSS_SHA256,
                    JwtAlgorithm::PS384 => &ring_signature::RSA_PSS_SHA384,
                    JwtAlgorithm::PS512 => &ring_signature::RSA_PSS_SHA512,
                    _ => &ring_signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            AlgorithmFamily::Ec => {
                let algorithm = match self.alg {
                    JwtAlgorithm::ES384 => &ring_signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                    _ => &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                };
                let pair = ring_signature::EcdsaKeyPair::from_pkcs8(algorithm, der, &rng)
                    .map_err(failed)?;
                Ok(pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec())
            }
            AlgorithmFamily::Ed => {
                let pair = ring_signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(failed)?;
                Ok(pair.sign(message).as_ref().to_vec())
            }
        }
    }
}

#[cfg(feature = "jwt-sign")]
impl JwtSigner for RingSigner {
    fn algorithm(&self) -> JwtAlgorithm {
        self.alg
    }
}

#[cfg(feature = "jwt-sign")]
fn new_signer(alg: &JwtAlgorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(RingSigner {
        alg: *alg,
        key: key.clone(),
    }))
}

/// Without the `jwt-sign` feature the provider verifies only, so a verifying build
/// (the Envoy filter) links no private-key code.
#[cfg(not(feature = "jwt-sign"))]
fn new_signer(_: &JwtAlgorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

/// Requirements a token must meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JwtPolicy {
    /// Allowed `alg` values. HMAC (`HS*`) is rejected whatever this list contains, because the
    /// key store holds public keys, and `none` always is.
    pub algorithms: Vec<String>,
    /// Accepted `iss` values; empty skips the check.
    pub issuers: Vec<String>,
    /// Accepted `aud` values, one of which `aud` must contain; empty skips the check.
    pub audiences: Vec<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway_seconds: i64,
    /// Reject a token without `exp`.
    pub require_exp: bool,
    /// The participant whose active keys verify a token without `kid`, and which must own
    /// the key a `kid` names.
    pub participant: Option<String>,
}

impl Default for JwtPolicy {
    fn default() -> Self {
        JwtPolicy {
            algorithms: [
                "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
            ]
            .map(str::to_owned)
            .to_vec(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway_seconds: 0,
            require_exp: true,
            participant: None,
        }
    }
}

/// A token that passed every check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedJwt {
    pub alg: String,
    pub kid: Option<String>,
    /// The participant whose key verified the token.
    pub participant: String,
    pub expires: Option<i64>,
    pub claims: Value,
}

/// Verifies a compact JWS JWT with keys from `keys` at `now` (unix seconds).
///
/// # Errors
/// A [`PkiError`] with a `JWT_*` reason for the first failed check (module docs).
pub fn verify_jwt(
    token: &str,
    keys: &KeyStore,
    now: i64,
    policy: &JwtPolicy,
) -> Result<VerifiedJwt, PkiError> {
    let parts = split(token)?;
    let header = decode_json_part(parts.header, "header")?;
    let alg_name = header.get("alg").and_then(Value::as_str).ok_or_else(|| {
        PkiError::new(PkiReason::JwtMalformed, "the JWT header has no alg string")
    })?;
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(PkiError::new(
            PkiReason::JwtAlgNone,
            "the JWT is unsecured (alg none) and carries no signature",
        ));
    }
    if alg_name.starts_with("HS") || !policy.algorithms.iter().any(|allowed| allowed == alg_name) {
        return Err(PkiError::new(
            PkiReason::JwtAlgNotAllowed,
            format!(
                "alg {alg_name:?} is not allowed; the policy accepts {} (HMAC never, because \
                 a public key must not serve as a shared secret)",
                policy.algorithms.join(", ")
            ),
        ));
    }
    if let Some(crit) = header.get("crit") {
        return Err(PkiError::new(
            PkiReason::JwtMalformed,
            format!(
                "the JWT header has crit ({}), and this verifier processes no extension \
                 parameters (RFC 7515 section 4.1.11); issue the token without crit",
                crit_names(crit)
            ),
        ));
    }
    let alg = parse_alg(alg_name)?;
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);

    let candidates = candidate_keys(keys, kid.as_deref(), now, policy)?;
    let mut last_error = None;
    for (participant, key) in candidates {
        let decoding = match decoding_key(&key, alg) {
            Ok(decoding) => decoding,
            Err(error) => {
                last_error = Some(error);
                continue;
            }
        };
        match verify_signature(&parts, &decoding, alg) {
            Ok(()) => {
                let claims = decode_json_part(parts.claims, "claims")?;
                let expires = check_claims(&claims, now, policy)?;
                return Ok(VerifiedJwt {
                    alg: alg_name.to_owned(),
                    kid,
                    participant,
                    expires,
                    claims,
                });
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        PkiError::new(PkiReason::JwtKeyNotFound, "no key to verify the token with")
    }))
}

/// Names the parameters a `crit` header lists, shortened, for a message. The value is not
/// serialised as JSON, because that would link a float formatter into the filter.
fn crit_names(crit: &Value) -> String {
    let names: Vec<&str> = match crit.as_array() {
        Some(items) => items.iter().filter_map(Value::as_str).collect(),
        None => return "not an array".to_owned(),
    };
    names.join(", ").chars().take(64).collect()
}

/// The three parts of a compact JWT.
struct Parts<'a> {
    header: &'a str,
    claims: &'a str,
    signature: &'a str,
}

fn split(token: &str) -> Result<Parts<'_>, PkiError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(PkiError::new(
            PkiReason::JwtTooLarge,
            format!(
                "the JWT is {} bytes, over the {MAX_TOKEN_LEN}-byte limit",
                token.len()
            ),
        ));
    }
    let mut parts = token.trim().split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(claims), Some(signature), None) => Ok(Parts {
            header,
            claims,
            signature,
        }),
        _ => Err(PkiError::new(
            PkiReason::JwtMalformed,
            "a JWT has three base64url parts separated by dots (header.claims.signature)",
        )),
    }
}

fn decode_json_part(part: &str, what: &str) -> Result<Value, PkiError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|error| {
        PkiError::new(
            PkiReason::JwtMalformed,
            format!("the JWT {what} is not base64url ({error})"),
        )
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
        PkiError::new(
            PkiReason::JwtMalformed,
            format!("the JWT {what} is not JSON ({error})"),
        )
    })?;
    if !value.is_object() {
        return Err(PkiError::new(
            PkiReason::JwtMalformed,
            format!("the JWT {what} is not a JSON object"),
        ));
    }
    Ok(value)
}

fn parse_alg(name: &str) -> Result<JwtAlgorithm, PkiError> {
    Ok(match name {
        "RS256" => JwtAlgorithm::RS256,
        "RS384" => JwtAlgorithm::RS384,
        "RS512" => JwtAlgorithm::RS512,
        "PS256" => JwtAlgorithm::PS256,
        "PS384" => JwtAlgorithm::PS384,
        "PS512" => JwtAlgorithm::PS512,
        "ES256" => JwtAlgorithm::ES256,
        "ES384" => JwtAlgorithm::ES384,
        other => {
            return Err(PkiError::new(
                PkiReason::JwtAlgNotAllowed,
                format!("alg {other:?} is not a JWS algorithm this verifier knows"),
            ));
        }
    })
}

fn candidate_keys(
    keys: &KeyStore,
    kid: Option<&str>,
    now: i64,
    policy: &JwtPolicy,
) -> Result<Vec<(String, PublicKey)>, PkiError> {
    if let Some(kid) = kid {
        // With a participant, the kid is looked up among its keys alone: another
        // participant listing the same public key must not shadow it.
        let entry = match policy.participant.as_deref() {
            Some(participant) => keys
                .entries(participant)
                .iter()
                .find(|entry| entry.key.kid() == kid),
            None => keys.find_kid(kid),
        };
        return match entry {
            Some(entry) if entry.is_active(now) => {
                Ok(vec![(entry.participant.clone(), (*entry.key).clone())])
            }
            Some(entry) => Err(PkiError::new(
                PkiReason::JwtKeyNotFound,
                format!("key {kid} of {} is retired", entry.participant),
            )),
            None => Err(PkiError::new(
                PkiReason::JwtKeyNotFound,
                format!(
                    "no key with kid {kid:?}{} is in the key store",
                    policy
                        .participant
                        .as_deref()
                        .map(|participant| format!(" of {participant}"))
                        .unwrap_or_default()
                ),
            )),
        };
    }
    let Some(participant) = &policy.participant else {
        return Err(PkiError::new(
            PkiReason::JwtKeyNotFound,
            "the JWT has no kid and no participant is configured for its keys",
        ));
    };
    let active: Vec<(String, PublicKey)> = keys
        .active(participant, now)
        .map(|entry| (participant.clone(), (*entry.key).clone()))
        .collect();
    if active.is_empty() {
        return Err(PkiError::new(
            PkiReason::JwtKeyNotFound,
            format!("no active key for {participant} is in the key store"),
        ));
    }
    Ok(active)
}

/// Converts a key-store key to jsonwebtoken's form: PKCS#1 RSAPublicKey DER for RSA, the
/// uncompressed point for EC.
fn decoding_key(key: &PublicKey, alg: JwtAlgorithm) -> Result<DecodingKey, PkiError> {
    let mismatch = || {
        PkiError::new(
            PkiReason::JwtKeyAlgMismatch,
            format!(
                "alg {alg:?} does not fit the {} key {}",
                key.kind(),
                key.kid()
            ),
        )
    };
    let fits = match (key.kind(), alg) {
        (KeyKind::Rsa { .. }, alg) => alg.family() == AlgorithmFamily::Rsa,
        (KeyKind::Ec(Curve::P256), JwtAlgorithm::ES256) => true,
        (KeyKind::Ec(Curve::P384), JwtAlgorithm::ES384) => true,
        _ => false,
    };
    if !fits {
        return Err(mismatch());
    }
    let spki = spki::SubjectPublicKeyInfoRef::try_from(key.spki_der()).map_err(|_| mismatch())?;
    let bits = spki.subject_public_key.raw_bytes();
    Ok(match key.kind() {
        KeyKind::Rsa { .. } => DecodingKey::from_rsa_der(bits),
        KeyKind::Ec(_) => DecodingKey::from_ec_der(bits),
    })
}

/// Verifies the signature over `header.claims` with jsonwebtoken's `crypto::verify`,
/// which runs [`RING_PROVIDER`]. The header and claims were decoded already, so
/// jsonwebtoken's own header parsing (and its JWK types) stays out of the build.
fn verify_signature(
    parts: &Parts<'_>,
    key: &DecodingKey,
    alg: JwtAlgorithm,
) -> Result<(), PkiError> {
    install_ring_provider();
    let message = format!("{}.{}", parts.header, parts.claims);
    match jsonwebtoken::crypto::verify(parts.signature, message.as_bytes(), key, alg) {
        Ok(true) => Ok(()),
        Ok(false) => Err(PkiError::new(
            PkiReason::JwtSignatureInvalid,
            "the JWT signature does not verify with the key; the token was altered or \
             signed with another key",
        )),
        Err(error) => Err(match error.kind() {
            ErrorKind::InvalidAlgorithm => PkiError::new(
                PkiReason::JwtKeyAlgMismatch,
                format!("alg {alg:?} does not fit the key"),
            ),
            _ => PkiError::new(
                PkiReason::JwtMalformed,
                format!("the JWT signature does not decode ({error})"),
            ),
        }),
    }
}

/// Checks `exp`, `nbf`, `iss` and `aud`; returns `exp`.
fn check_claims(claims: &Value, now: i64, policy: &JwtPolicy) -> Result<Option<i64>, PkiError> {
    let exp = numeric_date(claims, "exp")?;
    let nbf = numeric_date(claims, "nbf")?;
    numeric_date(claims, "iat")?;
    let leeway = policy.leeway_seconds.max(0);
    match exp {
        None if policy.require_exp => {
            return Err(PkiError::new(
                PkiReason::JwtExpMissing,
                "the JWT has no exp claim; the policy requires tokens that expire",
            ));
        }
        Some(exp) if now >= exp.saturating_add(leeway) => {
            return Err(PkiError::new(
                PkiReason::JwtExpired,
                format!(
                    "the JWT expired at {} (exp {exp}, leeway {leeway} s, checked at {now}); \
                     request a new token",
                    crate::rfc3339::format(exp)
                ),
            ));
        }
        _ => {}
    }
    if let Some(nbf) = nbf
        && now.saturating_add(leeway) < nbf
    {
        return Err(PkiError::new(
            PkiReason::JwtNotYetValid,
            format!(
                "the JWT is not valid before {} (nbf {nbf}, leeway {leeway} s, checked at {now}); \
                 check the issuer's clock",
                crate::rfc3339::format(nbf)
            ),
        ));
    }
    if !policy.issuers.is_empty() {
        let issuer = claims.get("iss").and_then(Value::as_str);
        if !issuer.is_some_and(|issuer| policy.issuers.iter().any(|allowed| allowed == issuer)) {
            return Err(PkiError::new(
                PkiReason::JwtIssuerMismatch,
                format!(
                    "iss is {}; the policy accepts {}",
                    issuer.map_or_else(|| "missing".to_owned(), |issuer| format!("{issuer:?}")),
                    policy.issuers.join(", ")
                ),
            ));
        }
    }
    if !policy.audiences.is_empty() {
        let presented: BTreeSet<&str> = match claims.get("aud") {
            Some(Value::String(one)) => BTreeSet::from([one.as_str()]),
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => BTreeSet::new(),
        };
        if !policy
            .audiences
            .iter()
            .any(|wanted| presented.contains(wanted.as_str()))
        {
            return Err(PkiError::new(
                PkiReason::JwtAudienceMismatch,
                format!(
                    "aud is [{}]; the policy requires one of {}",
                    presented.into_iter().collect::<Vec<_>>().join(", "),
                    policy.audiences.join(", ")
                ),
            ));
        }
    }
    Ok(exp)
}

/// Reads a NumericDate claim (RFC 7519 section 2), rounding a fraction down.
fn numeric_date(claims: &Value, name: &str) -> Result<Option<i64>, PkiError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            if let Some(whole) = number.as_i64() {
                return Ok(Some(whole));
            }
            match number.as_f64() {
                Some(value) if value.is_finite() && value.abs() < 1e15 => {
                    Ok(Some(value.floor() as i64))
                }
                _ => Err(invalid_claim(name)),
            }
        }
        Some(_) => Err(invalid_claim(name)),
    }
}

fn invalid_claim(name: &str) -> PkiError {
    PkiError::new(
        PkiReason::JwtClaimInvalid,
        format!("the {name} claim is not a NumericDate (seconds since 1970 as a JSON number)"),
    )
}

/// The time claims of a token, read WITHOUT verifying its signature: for the expiry
/// report only, never for an access decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UnverifiedTimes {
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub sub: Option<String>,
    pub iss: Option<String>,
}

/// Reads `exp`, `iat`, `sub` and `iss` without checking the signature.
///
/// # Errors
/// [`PkiReason::JwtTooLarge`], [`PkiReason::JwtMalformed`] or
/// [`PkiReason::JwtClaimInvalid`].
pub fn read_times_unverified(token: &str) -> Result<UnverifiedTimes, PkiError> {
    let parts = split(token)?;
    decode_json_part(parts.header, "header")?;
    let claims = decode_json_part(parts.claims, "claims")?;
    Ok(UnverifiedTimes {
        exp: numeric_date(&claims, "exp")?,
        iat: numeric_date(&claims, "iat")?,
        sub: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
        iss: claims.get("iss").and_then(Value::as_str).map(str::to_owned),
    })
}
