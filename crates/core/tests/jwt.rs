//! Bearer JWT checks: `exp` boundary, `nbf`, leeway, algorithm allow-list, `alg: none`,
//! HMAC signed with the public key as the secret, issuer and audience.
//!
//! Tokens are signed here through jsonwebtoken with the core's ring provider. The RSA key
//! is the throwaway `tests/fixtures/pki/keys/hub-jws.key.pem`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fspiop_guard_core::KeyStore;
use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_core::jwt::{JwtPolicy, install_ring_provider, read_times_unverified, verify_jwt};
use fspiop_guard_core::pki::PkiReason;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const NOW: i64 = 1_778_683_152;
const HUB: &str = "hub";

fn private_pem() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pki/keys/hub-jws.key.pem"),
    )
    .unwrap()
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).unwrap()
}

/// The key store with the hub's public key, and the key's kid.
fn store() -> (KeyStore, String) {
    let public = SigningKey::from_pem(&private_pem())
        .unwrap()
        .public_key()
        .to_pem();
    let mut keys = KeyStore::new();
    let kid = keys.insert_pem(HUB, &public).unwrap().kid().to_owned();
    (keys, kid)
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    assert!(install_ring_provider());
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rs256(claims: &Value) -> String {
    let (_, kid) = store();
    let key = EncodingKey::from_rsa_der(&pem_body(&private_pem()));
    sign(Algorithm::RS256, Some(&kid), claims, &key)
}

fn policy() -> JwtPolicy {
    JwtPolicy {
        participant: Some(HUB.to_owned()),
        ..JwtPolicy::default()
    }
}

fn reason(token: &str, policy: &JwtPolicy, now: i64) -> Option<PkiReason> {
    let (keys, _) = store();
    verify_jwt(token, &keys, now, policy)
        .err()
        .map(|error| error.reason)
}

#[test]
fn valid_token_accepted() {
    let token = rs256(&json!({"sub": "payerfsp", "exp": NOW + 60}));
    let (keys, kid) = store();
    let verified = verify_jwt(&token, &keys, NOW, &policy()).unwrap();
    assert_eq!(verified.participant, HUB);
    assert_eq!(verified.kid.as_deref(), Some(kid.as_str()));
    assert_eq!(verified.expires, Some(NOW + 60));
    assert_eq!(verified.claims["sub"], "payerfsp");
}

#[test]
fn exp_equal_to_now_is_expired() {
    let token = rs256(&json!({"exp": NOW}));
    assert_eq!(reason(&token, &policy(), NOW), Some(PkiReason::JwtExpired));
    assert_eq!(reason(&token, &policy(), NOW - 1), None);
}

#[test]
fn leeway_extends_exp_and_nbf() {
    let lenient = JwtPolicy {
        leeway_seconds: 5,
        ..policy()
    };
    let expiring = rs256(&json!({"exp": NOW}));
    assert_eq!(reason(&expiring, &lenient, NOW + 4), None);
    assert_eq!(
        reason(&expiring, &lenient, NOW + 5),
        Some(PkiReason::JwtExpired)
    );
    let early = rs256(&json!({"exp": NOW + 600, "nbf": NOW + 5}));
    assert_eq!(reason(&early, &lenient, NOW), None);
    assert_eq!(
        reason(&early, &policy(), NOW),
        Some(PkiReason::JwtNotYetValid)
    );
}

#[test]
fn nbf_boundary() {
    let token = rs256(&json!({"exp": NOW + 600, "nbf": NOW}));
    assert_eq!(reason(&token, &policy(), NOW), None);
    assert_eq!(
        reason(&token, &policy(), NOW - 1),
        Some(PkiReason::JwtNotYetValid)
    );
}

#[test]
fn exp_missing_or_not_number() {
    let missing = rs256(&json!({"sub": "x"}));
    assert_eq!(
        reason(&missing, &policy(), NOW),
        Some(PkiReason::JwtExpMissing)
    );
    let text = rs256(&json!({"exp": "tomorrow"}));
    assert_eq!(
        reason(&text, &policy(), NOW),
        Some(PkiReason::JwtClaimInvalid)
    );
    let optional = JwtPolicy {
        require_exp: false,
        ..policy()
    };
    assert_eq!(reason(&missing, &optional, NOW), None);
}

#[test]
fn alg_outside_policy_rejected() {
    let token = rs256(&json!({"exp": NOW + 60}));
    let es_only = JwtPolicy {
        algorithms: vec!["ES256".to_owned()],
        ..policy()
    };
    assert_eq!(
        reason(&token, &es_only, NOW),
        Some(PkiReason::JwtAlgNotAllowed)
    );
}

#[test]
fn alg_not_fitting_key_rejected() {
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (_, kid) = store();
    let key = EncodingKey::from_ec_der(&ec.serialize_der());
    let token = sign(
        Algorithm::ES256,
        Some(&kid),
        &json!({"exp": NOW + 60}),
        &key,
    );
    assert_eq!(
        reason(&token, &policy(), NOW),
        Some(PkiReason::JwtKeyAlgMismatch)
    );
}

#[test]
fn alg_none_rejected() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{}}}"#, NOW + 60));
    let token = format!("{header}.{claims}.");
    assert_eq!(reason(&token, &policy(), NOW), Some(PkiReason::JwtAlgNone));
}

#[test]
fn hmac_with_public_key_secret_rejected() {
    let (_, kid) = store();
    let public_pem = SigningKey::from_pem(&private_pem())
        .unwrap()
        .public_key()
        .to_pem();
    let secret = EncodingKey::from_secret(public_pem.as_bytes()).unwrap();
    let token = sign(
        Algorithm::HS256,
        Some(&kid),
        &json!({"exp": NOW + 60}),
        &secret,
    );
    let listing_hs256 = JwtPolicy {
        algorithms: vec!["HS256".to_owned(), "RS256".to_owned()],
        ..policy()
    };
    assert_eq!(
        reason(&token, &listing_hs256, NOW),
        Some(PkiReason::JwtAlgNotAllowed)
    );
}

#[test]
fn tampered_claims_fail_signature() {
    let token = rs256(&json!({"sub": "payerfsp", "exp": NOW + 60}));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"payeefsp","exp":{}}}"#, NOW + 60));
    let forged = parts.join(".");
    assert_eq!(
        reason(&forged, &policy(), NOW),
        Some(PkiReason::JwtSignatureInvalid)
    );
}

#[test]
fn issuer_and_audience_checked() {
    let token =
        rs256(&json!({"exp": NOW + 60, "iss": "https://hub.example/iam", "aud": ["mcm", "pm4ml"]}));
    let strict = JwtPolicy {
        issuers: vec!["https://hub.example/iam".to_owned()],
        audiences: vec!["pm4ml".to_owned()],
        ..policy()
    };
    assert_eq!(reason(&token, &strict, NOW), None);
    let other_issuer = JwtPolicy {
        issuers: vec!["https://other.example".to_owned()],
        ..policy()
    };
    assert_eq!(
        reason(&token, &other_issuer, NOW),
        Some(PkiReason::JwtIssuerMismatch)
    );
    let other_audience = JwtPolicy {
        audiences: vec!["hub".to_owned()],
        ..policy()
    };
    assert_eq!(
        reason(&token, &other_audience, NOW),
        Some(PkiReason::JwtAudienceMismatch)
    );
}

#[test]
fn unknown_kid_and_malformed_rejected() {
    let key = EncodingKey::from_rsa_der(&pem_body(&private_pem()));
    let token = sign(
        Algorithm::RS256,
        Some("nope"),
        &json!({"exp": NOW + 60}),
        &key,
    );
    assert_eq!(
        reason(&token, &policy(), NOW),
        Some(PkiReason::JwtKeyNotFound)
    );
    assert_eq!(reason("a.b", &policy(), NOW), Some(PkiReason::JwtMalformed));
    assert_eq!(
        reason("!!.!!.!!", &policy(), NOW),
        Some(PkiReason::JwtMalformed)
    );
    let huge = "a".repeat(fspiop_guard_core::jwt::MAX_TOKEN_LEN + 1);
    assert_eq!(reason(&huge, &policy(), NOW), Some(PkiReason::JwtTooLarge));
}

#[test]
fn token_without_kid_uses_participant_keys() {
    let key = EncodingKey::from_rsa_der(&pem_body(&private_pem()));
    let token = sign(Algorithm::RS256, None, &json!({"exp": NOW + 60}), &key);
    assert_eq!(reason(&token, &policy(), NOW), None);
    let nobody = JwtPolicy {
        participant: None,
        ..policy()
    };
    assert_eq!(
        reason(&token, &nobody, NOW),
        Some(PkiReason::JwtKeyNotFound)
    );
}

#[test]
fn unverified_times_read() {
    let token = rs256(&json!({"exp": NOW + 60, "iat": NOW, "sub": "payerfsp"}));
    let times = read_times_unverified(&token).unwrap();
    assert_eq!(times.exp, Some(NOW + 60));
    assert_eq!(times.iat, Some(NOW));
    assert_eq!(times.sub.as_deref(), Some("payerfsp"));
}

#[test]
fn crit_header_rejected() {
    let (_, kid) = store();
    let key = EncodingKey::from_rsa_der(&pem_body(&private_pem()));
    assert!(install_ring_provider());
    let header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"RS256","kid":"{kid}","crit":["exp"],"exp":1}}"#
    ));
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{}}}"#, NOW + 60));
    let input = format!("{header}.{claims}");
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).unwrap();
    let token = format!("{input}.{signature}");
    assert_eq!(
        reason(&token, &policy(), NOW),
        Some(PkiReason::JwtMalformed)
    );
}

#[test]
fn kid_shared_with_another_participant_still_verifies() {
    let public = SigningKey::from_pem(&private_pem())
        .unwrap()
        .public_key()
        .to_pem();
    let mut keys = KeyStore::new();
    keys.insert_pem("aaafsp", &public).unwrap();
    keys.insert_pem(HUB, &public).unwrap();
    let token = rs256(&json!({"exp": NOW + 60}));
    let verified = verify_jwt(&token, &keys, NOW, &policy()).unwrap();
    assert_eq!(verified.participant, HUB);
}
