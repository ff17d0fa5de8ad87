//! Verifier behaviour, one case per test, on requests signed in the test by the core signer.
//!
//! Each case starts from a request that verifies and changes one thing: a header, the body,
//! the protected header, the key store, the profile or the verification time. The keys in
//! `tests/keys/` are throwaway test keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{headers, json_value};
use std::path::PathBuf;

use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use fspiop_guard_core::diagnose::{KeyMatch, diagnose};
use fspiop_guard_core::keys::parse_public_key;
use fspiop_guard_core::sign::{SignBody, SignInput, SignerMode, sign_request};
use fspiop_guard_core::verdict::{CheckId, Outcome, Warning};
use fspiop_guard_core::verify::signing_input;
use fspiop_guard_core::{
    FspiopError, KeyStore, PayloadForm, Profile, Reason, Request, RequestRules, RingVerifier,
    Verdict, VerifyContext, b64, verify,
};

/// Verification time in unix seconds: the instant of [`DATE`].
const NOW: i64 = 1_778_683_152;

/// `Date` header of every signed request.
const DATE: &str = "Wed, 13 May 2026 14:39:12 GMT";

/// A quote body whose keys are not sorted, so the sorted and insertion-order payload forms
/// differ. It is compact, so it is also its own insertion-order form.
const QUOTE_BODY: &str =
    r#"{"quoteId":"3d6a2c52","amountType":"SEND","amount":{"currency":"USD","amount":"100"}}"#;

/// [`QUOTE_BODY`] with its keys sorted, as the SDK 19.19 signer sends it.
const QUOTE_BODY_SORTED: &str =
    r#"{"amount":{"amount":"100","currency":"USD"},"amountType":"SEND","quoteId":"3d6a2c52"}"#;

// A quote signed RS256 by the 1024-bit key in `tests/keys/weakfsp.pub.pem`. ring signs
// only with RSA keys of 2048 bits or more, so OpenSSL 3.0 made this signature.
const WEAK_BODY: &str = r#"{"amount":{"amount":"5","currency":"USD"},"quoteId":"q-1"}"#;
const WEAK_PROTECTED: &str = "eyJhbGciOiJSUzI1NiIsIkZTUElPUC1VUkkiOiIvcXVvdGVzIiwiRlNQSU9QLUhUVFAtTWV0aG9kIjoiUE9TVCIsIkZTUElPUC1Tb3VyY2UiOiJ3ZWFrZnNwIn0";
const WEAK_SIGNATURE: &str = "iDkmWuWxN9seryxlCd3vF95ynWzbzUp09PAQsdGbrPYCqJg5rgEo5ZMmZ4dvsyzJu4hjNY0kHjb0Dp-yHswbon9jDuGsERUzl0ryzGoi8r9mWaz4G-e1WCyH1ykHYegZJ_gLMEeioiKDDaslvSOfTcHHo4cXOMDiB3jYOzL0zcs";

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

fn key_text(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn signing_key(file: &str) -> SigningKey {
    SigningKey::from_pem(&key_text(file)).unwrap()
}

/// Loads payerfsp's RSA-2048 key.
fn payer_key() -> SigningKey {
    signing_key("payerfsp.key.pem")
}

/// Loads a second RSA-2048 key, used for rotations and as another participant's key.
fn next_key() -> SigningKey {
    signing_key("payerfsp-next.key.pem")
}

/// Loads ecfsp's EC P-256 key.
fn ec_key() -> SigningKey {
    signing_key("ecfsp.key.pem")
}

fn kid(key: &SigningKey) -> String {
    key.public_key().kid().to_owned()
}

/// Returns a key store with the public half of each key, none retired.
fn store(entries: &[(&str, &SigningKey)]) -> KeyStore {
    let mut keys = KeyStore::new();
    for (participant, key) in entries {
        keys.insert_pem(participant, &key.public_key().to_pem())
            .unwrap();
    }
    keys
}

fn payer_keys() -> KeyStore {
    store(&[("payerfsp", &payer_key())])
}

/// Returns a key store with payerfsp's current key and its previous key, which retires at
/// `retire_after`.
fn rotated_keys(retire_after: i64) -> KeyStore {
    let mut keys = KeyStore::new();
    let previous = parse_public_key(&payer_key().public_key().to_pem()).unwrap();
    let current = parse_public_key(&next_key().public_key().to_pem()).unwrap();
    keys.insert("payerfsp", previous, Some(NOW - 86_400), Some(retire_after));
    keys.insert("payerfsp", current, Some(NOW - 3_600), None);
    keys
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// Returns an unsigned POST /quotes from `source` to payeefsp with a `Date`.
fn quote_input(source: &str) -> SignInput {
    SignInput {
        method: "POST".to_owned(),
        url: "/quotes".to_owned(),
        headers: headers(&[
            (
                "Content-Type",
                "application/vnd.interoperability.quotes+json;version=1.1",
            ),
            ("Date", DATE),
            ("FSPIOP-Source", source),
            ("FSPIOP-Destination", "payeefsp"),
        ]),
        body: SignBody::Json(json_value(QUOTE_BODY)),
    }
}

/// Signs `input` and returns the request as it arrives, with the signer's URL as its target.
fn signed(key: &SigningKey, mode: SignerMode, input: &SignInput) -> Request {
    let signed = sign_request(key, mode, None, input).unwrap();
    Request {
        method: input.method.clone(),
        target: input.url.clone(),
        headers: signed.headers,
        body: Some(signed.body.into_bytes()),
    }
}

/// Returns a quote from payerfsp signed by the SDK 19.19 signer with payerfsp's key.
fn signed_quote() -> Request {
    signed(&payer_key(), SignerMode::Sdk1919, &quote_input("payerfsp"))
}

/// Returns a quote from ecfsp signed ES256 by the SDK 19.19 signer.
fn signed_ec_quote() -> Request {
    signed(&ec_key(), SignerMode::Sdk1919, &quote_input("ecfsp"))
}

/// Returns a quote whose body is `text`, signed verbatim with payerfsp's key.
fn signed_text_quote(text: &str) -> Request {
    let mut input = quote_input("payerfsp");
    input.body = SignBody::Text(text.to_owned());
    signed(&payer_key(), SignerMode::Sdk1919, &input)
}

/// Returns a quote from weakfsp with the OpenSSL signature of its 1024-bit key.
fn weak_quote() -> Request {
    let signature = signature_value(WEAK_PROTECTED, WEAK_SIGNATURE);
    Request {
        method: "POST".to_owned(),
        target: "/quotes".to_owned(),
        headers: headers(&[
            ("FSPIOP-Source", "weakfsp"),
            ("FSPIOP-URI", "/quotes"),
            ("FSPIOP-HTTP-Method", "POST"),
            ("FSPIOP-Signature", &signature),
        ]),
        body: Some(WEAK_BODY.as_bytes().to_vec()),
    }
}

fn weak_keys() -> KeyStore {
    let mut keys = KeyStore::new();
    keys.insert_pem("weakfsp", &key_text("weakfsp.pub.pem"))
        .unwrap();
    keys
}

fn signature_value(protected_b64: &str, signature_b64: &str) -> String {
    format!(r#"{{"protectedHeader":"{protected_b64}","signature":"{signature_b64}"}}"#)
}

/// Returns the `protectedHeader` and `signature` members of a request's `FSPIOP-Signature`.
fn signature_parts(request: &Request) -> (String, String) {
    let value = request.headers.get("fspiop-signature").unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&value).unwrap();
    let member = |name: &str| {
        parsed
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap()
            .to_owned()
    };
    (member("protectedHeader"), member("signature"))
}

/// Protected members of [`signed_quote`], in the reference signer's order.
fn quote_members() -> Vec<(&'static str, &'static str)> {
    vec![
        ("alg", "RS256"),
        ("FSPIOP-URI", "/quotes"),
        ("FSPIOP-HTTP-Method", "POST"),
        ("FSPIOP-Source", "payerfsp"),
        ("FSPIOP-Destination", "payeefsp"),
        ("Date", DATE),
    ]
}

fn without(
    members: Vec<(&'static str, &'static str)>,
    name: &str,
) -> Vec<(&'static str, &'static str)> {
    members.into_iter().filter(|(n, _)| *n != name).collect()
}

fn replaced(
    members: Vec<(&'static str, &'static str)>,
    name: &str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    members
        .into_iter()
        .map(|(n, v)| if n == name { (n, value) } else { (n, v) })
        .collect()
}

fn protected_json(members: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("\"{name}\":\"{value}\""))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// Returns [`signed_quote`] with its protected header replaced by `members`, signed RS256
/// with payerfsp's key whatever `alg` the members name. The HTTP headers stay as signed.
fn crafted_quote(members: &[(&str, &str)]) -> Request {
    let mut request = signed_quote();
    let protected_b64 = b64::encode(protected_json(members).as_bytes());
    let body = request.body.clone().unwrap_or_default();
    let signature = payer_key()
        .sign(Algorithm::RS256, &signing_input(&protected_b64, &body))
        .unwrap();
    let value = signature_value(&protected_b64, &b64::encode(&signature));
    request.headers.set("FSPIOP-Signature", &value);
    request
}

/// Returns [`signed_quote`] with `FSPIOP-Signature` set to `value`.
fn quote_with_signature_value(value: &str) -> Request {
    let mut request = signed_quote();
    request.headers.set("FSPIOP-Signature", value);
    request
}

/// Encodes a fixed-width ECDSA `r || s` signature as ASN.1 DER, as OpenSSL emits it.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    fn der_integer(bytes: &[u8]) -> Vec<u8> {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let (_, magnitude) = bytes.split_at(start);
        let mut integer = Vec::new();
        if magnitude.first().is_some_and(|&b| b & 0x80 != 0) {
            integer.push(0);
        }
        integer.extend_from_slice(magnitude);
        let mut encoded = vec![0x02, u8::try_from(integer.len()).unwrap()];
        encoded.extend(integer);
        encoded
    }

    let (r, s) = raw.split_at(raw.len() / 2);
    let mut sequence = der_integer(r);
    sequence.extend(der_integer(s));
    let mut encoded = vec![0x30, u8::try_from(sequence.len()).unwrap()];
    encoded.extend(sequence);
    encoded
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

fn verify_at(request: &Request, profile: &Profile, keys: &KeyStore, now: i64) -> Verdict {
    let ctx = VerifyContext {
        profile,
        keys,
        rules: None,
        now,
        crypto: &RingVerifier,
    };
    verify(request, &ctx)
}

fn sdk(request: &Request, keys: &KeyStore) -> Verdict {
    verify_at(request, &Profile::mojaloop_sdk(), keys, NOW)
}

fn strict(request: &Request, keys: &KeyStore) -> Verdict {
    verify_at(request, &Profile::strict(), keys, NOW)
}

/// Returns the mojaloop-sdk profile with a protected `Date` required within 300 seconds of
/// the verification time.
fn windowed_profile() -> Profile {
    Profile {
        date_window_secs: Some(300),
        ..Profile::mojaloop_sdk()
    }
}

// ---------------------------------------------------------------------------
// Valid requests
// ---------------------------------------------------------------------------

#[test]
fn rs256_accepted_in_mojaloop_sdk() {
    let verdict = sdk(&signed_quote(), &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.reason, None);
    assert_eq!(verdict.alg, Some(Algorithm::RS256));
    assert_eq!(verdict.key_id, Some(kid(&payer_key())));
}

#[test]
fn rs256_accepted_in_strict() {
    let verdict = strict(&signed_quote(), &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.check(CheckId::RequestLineUri), Some(Outcome::Pass));
    assert_eq!(
        verdict.check(CheckId::RequestLineMethod),
        Some(Outcome::Pass)
    );
}

#[test]
fn es256_accepted_in_mojaloop_sdk() {
    let verdict = sdk(&signed_ec_quote(), &store(&[("ecfsp", &ec_key())]));

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::ES256));
    assert_eq!(verdict.key_id, Some(kid(&ec_key())));
}

#[test]
fn es256_accepted_in_strict() {
    let verdict = strict(&signed_ec_quote(), &store(&[("ecfsp", &ec_key())]));

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::ES256));
}

#[test]
fn weak_rsa_key_accepted_with_warning() {
    let verdict = sdk(&weak_quote(), &weak_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(
        verdict.warnings,
        [Warning::WeakRsaKey {
            bits: 1024,
            recommended: 2048
        }]
    );
}

#[test]
fn empty_destination_header_counts_as_absent() {
    let mut input = quote_input("payerfsp");
    input.headers.remove_all("fspiop-destination");
    let mut request = signed(&payer_key(), SignerMode::Sdk1919, &input);
    request.headers.push("FSPIOP-Destination", "");

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(
        verdict.check(CheckId::DestinationBinding),
        Some(Outcome::NotApplicable)
    );
}

#[test]
fn strict_accepts_configured_ingress_prefix() {
    let mut request = signed_quote();
    request.target = "/fspiop/quotes".to_owned();
    let mut profile = Profile::strict();
    profile.request_path_prefixes = vec!["/fspiop".to_owned()];

    let verdict = verify_at(&request, &profile, &payer_keys(), NOW);

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn strict_rejects_unconfigured_path_prefix() {
    let mut request = signed_quote();
    request.target = "/fspiop/quotes".to_owned();

    let verdict = strict(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::RequestUriMismatch));
}

#[test]
fn strict_rejects_signed_path_hidden_in_query() {
    for target in [
        "/transfers?x=/quotes",
        "/transfers?/quotes",
        "/transfers#/quotes",
        "/transfers;/quotes",
        "/transfers/quotes",
        "/transfers/..%2F/quotes",
    ] {
        let mut request = signed_quote();
        request.target = target.to_owned();

        let verdict = strict(&request, &payer_keys());

        assert_eq!(verdict.reason, Some(Reason::RequestUriMismatch), "{target}");
    }
}

#[test]
fn strict_verifies_non_json_body_raw() {
    let request = signed_text_quote("amount=100&currency=USD");

    let verdict = strict(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(
        verdict.check(CheckId::BodyJson),
        None,
        "strict never parses the body"
    );
}

#[test]
fn duplicate_key_accepted_without_flag() {
    let verdict = sdk(&signed_text_quote(r#"{"a":1,"a":2}"#), &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
}

// ---------------------------------------------------------------------------
// Payload forms
// ---------------------------------------------------------------------------

#[test]
fn payload_form_raw_has_no_warning() {
    let verdict = sdk(&signed_quote(), &payer_keys());

    assert_eq!(verdict.payload_form, Some(PayloadForm::Raw));
    assert_eq!(verdict.forms_tried, [PayloadForm::Raw]);
    assert!(verdict.warnings.is_empty(), "{:?}", verdict.warnings);
}

#[test]
fn sdk_19_19_body_wire_is_sorted() {
    let request = signed_quote();

    assert_eq!(request.body.as_deref(), Some(QUOTE_BODY_SORTED.as_bytes()));
}

#[test]
fn sorted_json_after_reserialising() {
    let mut request = signed_quote();
    request.body = Some(QUOTE_BODY.as_bytes().to_vec());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.payload_form, Some(PayloadForm::SortedJson));
    assert_eq!(
        verdict.forms_tried,
        [PayloadForm::Raw, PayloadForm::SortedJson]
    );
    assert_eq!(
        verdict.warnings,
        [Warning::BodyReserialised {
            form: PayloadForm::SortedJson
        }]
    );
}

#[test]
fn insertion_json_for_legacy_signer() {
    let mut request = signed(&payer_key(), SignerMode::Sdk1918, &quote_input("payerfsp"));
    let pretty = "{\n  \"quoteId\": \"3d6a2c52\",\n  \"amountType\": \"SEND\",\n  \
                  \"amount\": {\"currency\": \"USD\", \"amount\": \"100\"}\n}\n";
    request.body = Some(pretty.as_bytes().to_vec());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.payload_form, Some(PayloadForm::InsertionJson));
    assert_eq!(
        verdict.forms_tried,
        [
            PayloadForm::Raw,
            PayloadForm::SortedJson,
            PayloadForm::InsertionJson
        ]
    );
    assert_eq!(
        verdict.warnings,
        [Warning::BodyReserialised {
            form: PayloadForm::InsertionJson
        }]
    );
}

#[test]
fn empty_body_verifies_empty_object_signature() {
    let mut request = signed_text_quote("{}");
    request.body = None;

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.payload_form, Some(PayloadForm::SortedJson));
}

#[test]
fn duplicate_key_last_value_verifies() {
    let mut request = signed_text_quote(r#"{"note":"y"}"#);
    request.body = Some(br#"{"note":"x","note":"y"}"#.to_vec());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.payload_form, Some(PayloadForm::SortedJson));
}

#[test]
fn number_spelling_normalised_before_hashing() {
    let mut request = signed_text_quote(r#"{"amount":100,"fee":0.5}"#);
    request.body = Some(br#"{"amount":1.00e2,"fee":5E-1}"#.to_vec());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn expired_exp_member_in_body_ignored() {
    let verdict = sdk(
        &signed_text_quote(r#"{"exp":1,"nbf":9999999999}"#),
        &payer_keys(),
    );

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn forms_tried_lists_every_form_on_mismatch() {
    let verdict = sdk(&tampered_body(), &payer_keys());

    assert_eq!(verdict.payload_form, None);
    assert_eq!(
        verdict.forms_tried,
        [
            PayloadForm::Raw,
            PayloadForm::SortedJson,
            PayloadForm::InsertionJson
        ]
    );
}

#[test]
fn strict_tries_only_raw_form() {
    let mut request = signed_quote();
    request.body = Some(QUOTE_BODY.as_bytes().to_vec());

    let verdict = strict(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::SignatureMismatch));
    assert_eq!(verdict.forms_tried, [PayloadForm::Raw]);
}

// ---------------------------------------------------------------------------
// One case per reason. Each function returns the verdict of a request that meets the
// reason, and `every_reason_has_a_producing_case` runs them all from `reason_cases`.
// ---------------------------------------------------------------------------

fn body_too_large() -> Verdict {
    let mut profile = Profile::mojaloop_sdk();
    profile.limits.max_body_bytes = QUOTE_BODY_SORTED.len() - 1;
    verify_at(&signed_quote(), &profile, &payer_keys(), NOW)
}

fn body_not_json() -> Verdict {
    sdk(&signed_text_quote("amount=100"), &payer_keys())
}

fn body_proto_key() -> Verdict {
    sdk(
        &signed_text_quote(r#"{"quoteId":"1","__proto__":{"admin":true}}"#),
        &payer_keys(),
    )
}

fn body_duplicate_key() -> Verdict {
    let profile = Profile {
        reject_duplicate_keys: true,
        ..Profile::mojaloop_sdk()
    };
    let request = signed_text_quote(r#"{"note":"x","note":"y"}"#);
    verify_at(&request, &profile, &payer_keys(), NOW)
}

fn body_lossy_number() -> Verdict {
    let profile = Profile {
        reject_lossy_numbers: true,
        ..Profile::mojaloop_sdk()
    };
    let request = signed_text_quote(r#"{"amount":9007199254740993}"#);
    verify_at(&request, &profile, &payer_keys(), NOW)
}

fn missing_source_header() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-source");
    sdk(&request, &payer_keys())
}

fn unknown_source() -> Verdict {
    sdk(&signed_quote(), &store(&[("payeefsp", &next_key())]))
}

fn key_unusable() -> Verdict {
    let mut keys = KeyStore::new();
    let _ = keys.insert_pem("payerfsp", "-----BEGIN PUBLIC KEY-----\nnot base64!\n");
    sdk(&signed_quote(), &keys)
}

fn missing_signature_header() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-signature");
    sdk(&request, &payer_keys())
}

fn missing_uri_header() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-uri");
    sdk(&request, &payer_keys())
}

fn missing_method_header() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-http-method");
    sdk(&request, &payer_keys())
}

fn signature_header_too_large() -> Verdict {
    let limit = Profile::mojaloop_sdk().limits.max_signature_header_bytes;
    let value = format!(r#"{{"pad":"{}"}}"#, "x".repeat(limit));
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn signature_header_not_json() -> Verdict {
    sdk(
        &quote_with_signature_value("{protectedHeader: eyJ9}"),
        &payer_keys(),
    )
}

fn signature_header_not_object() -> Verdict {
    sdk(
        &quote_with_signature_value(r#"["eyJ9","abc"]"#),
        &payer_keys(),
    )
}

fn protected_header_missing() -> Verdict {
    let (_, signature) = signature_parts(&signed_quote());
    let value = format!(r#"{{"signature":"{signature}"}}"#);
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn protected_header_too_large() -> Verdict {
    let limit = Profile::mojaloop_sdk().limits.max_protected_header_chars;
    let value = signature_value(&"e".repeat(limit + 1), "abc");
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn protected_header_not_base64url() -> Verdict {
    let (protected, signature) = signature_parts(&signed_quote());
    let value = signature_value(&format!("{protected}=="), &signature);
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn protected_header_not_json() -> Verdict {
    let (_, signature) = signature_parts(&signed_quote());
    let value = signature_value(&b64::encode(b"alg=RS256"), &signature);
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn signature_missing() -> Verdict {
    let (protected, _) = signature_parts(&signed_quote());
    let value = format!(r#"{{"protectedHeader":"{protected}"}}"#);
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn signature_empty() -> Verdict {
    let (protected, _) = signature_parts(&signed_quote());
    sdk(
        &quote_with_signature_value(&signature_value(&protected, "")),
        &payer_keys(),
    )
}

fn signature_too_large() -> Verdict {
    let limit = Profile::mojaloop_sdk().limits.max_signature_chars;
    let (protected, _) = signature_parts(&signed_quote());
    let value = signature_value(&protected, &"A".repeat(limit + 1));
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn signature_not_base64url() -> Verdict {
    let (protected, signature) = signature_parts(&signed_quote());
    let standard_alphabet = signature.replace('-', "+").replace('_', "/");
    let value = signature_value(&protected, &format!("{standard_alphabet}+/"));
    sdk(&quote_with_signature_value(&value), &payer_keys())
}

fn alg_missing() -> Verdict {
    sdk(
        &crafted_quote(&without(quote_members(), "alg")),
        &payer_keys(),
    )
}

fn alg_not_allowed() -> Verdict {
    sdk(
        &crafted_quote(&replaced(quote_members(), "alg", "RS384")),
        &payer_keys(),
    )
}

fn key_alg_mismatch() -> Verdict {
    sdk(
        &crafted_quote(&replaced(quote_members(), "alg", "ES256")),
        &payer_keys(),
    )
}

fn key_too_small() -> Verdict {
    strict(&weak_quote(), &weak_keys())
}

fn ecdsa_signature_length() -> Verdict {
    let mut request = signed_ec_quote();
    let (protected, signature) = signature_parts(&request);
    let der = ecdsa_der(&b64::decode(&signature).unwrap());
    request.headers.set(
        "FSPIOP-Signature",
        &signature_value(&protected, &b64::encode(&der)),
    );
    sdk(&request, &store(&[("ecfsp", &ec_key())]))
}

fn tampered_body() -> Request {
    let mut request = signed_quote();
    let body = QUOTE_BODY_SORTED.replace("\"100\"", "\"101\"");
    request.body = Some(body.into_bytes());
    request
}

fn signature_mismatch() -> Verdict {
    sdk(&tampered_body(), &payer_keys())
}

fn protected_uri_missing() -> Verdict {
    sdk(
        &crafted_quote(&without(quote_members(), "FSPIOP-URI")),
        &payer_keys(),
    )
}

fn protected_method_missing() -> Verdict {
    sdk(
        &crafted_quote(&without(quote_members(), "FSPIOP-HTTP-Method")),
        &payer_keys(),
    )
}

fn protected_source_missing() -> Verdict {
    sdk(
        &crafted_quote(&without(quote_members(), "FSPIOP-Source")),
        &payer_keys(),
    )
}

fn uri_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.headers.set("FSPIOP-URI", "/quotes/");
    sdk(&request, &payer_keys())
}

fn method_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.headers.set("FSPIOP-HTTP-Method", "PUT");
    sdk(&request, &payer_keys())
}

fn source_mismatch() -> Verdict {
    sdk(
        &crafted_quote(&replaced(quote_members(), "FSPIOP-Source", "payeefsp")),
        &payer_keys(),
    )
}

fn date_missing_in_http() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("date");
    sdk(&request, &payer_keys())
}

fn date_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.headers.set("Date", "Wed, 13 May 2026 14:39:13 GMT");
    sdk(&request, &payer_keys())
}

fn destination_not_protected() -> Verdict {
    let mut input = quote_input("payerfsp");
    input.headers.remove_all("fspiop-destination");
    let mut request = signed(&payer_key(), SignerMode::Sdk1919, &input);
    request.headers.push("FSPIOP-Destination", "payeefsp");
    sdk(&request, &payer_keys())
}

fn destination_missing_in_http() -> Verdict {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-destination");
    sdk(&request, &payer_keys())
}

fn destination_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.headers.set("FSPIOP-Destination", "otherfsp");
    sdk(&request, &payer_keys())
}

fn request_uri_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.target = "/transfers".to_owned();
    strict(&request, &payer_keys())
}

fn request_method_mismatch() -> Verdict {
    let mut request = signed_quote();
    request.method = "PUT".to_owned();
    strict(&request, &payer_keys())
}

fn date_not_protected() -> Verdict {
    let mut input = quote_input("payerfsp");
    input.headers.remove_all("date");
    let request = signed(&payer_key(), SignerMode::Sdk1919, &input);
    verify_at(&request, &windowed_profile(), &payer_keys(), NOW)
}

fn date_invalid() -> Verdict {
    let mut request = crafted_quote(&replaced(quote_members(), "Date", "13/05/2026 14:39"));
    request.headers.set("Date", "13/05/2026 14:39");
    verify_at(&request, &windowed_profile(), &payer_keys(), NOW)
}

fn date_out_of_window() -> Verdict {
    verify_at(
        &signed_quote(),
        &windowed_profile(),
        &payer_keys(),
        NOW + 301,
    )
}

/// A function that builds a request, verifies it and returns the verdict.
type Case = fn() -> Verdict;

/// Returns every reason with a case that produces it.
fn reason_cases() -> Vec<(Reason, Case)> {
    vec![
        (Reason::BodyTooLarge, body_too_large),
        (Reason::BodyNotJson, body_not_json),
        (Reason::BodyProtoKey, body_proto_key),
        (Reason::BodyDuplicateKey, body_duplicate_key),
        (Reason::BodyLossyNumber, body_lossy_number),
        (Reason::MissingSourceHeader, missing_source_header),
        (Reason::UnknownSource, unknown_source),
        (Reason::KeyUnusable, key_unusable),
        (Reason::MissingSignatureHeader, missing_signature_header),
        (Reason::MissingUriHeader, missing_uri_header),
        (Reason::MissingMethodHeader, missing_method_header),
        (Reason::SignatureHeaderTooLarge, signature_header_too_large),
        (Reason::SignatureHeaderNotJson, signature_header_not_json),
        (
            Reason::SignatureHeaderNotObject,
            signature_header_not_object,
        ),
        (Reason::ProtectedHeaderMissing, protected_header_missing),
        (Reason::ProtectedHeaderTooLarge, protected_header_too_large),
        (
            Reason::ProtectedHeaderNotBase64url,
            protected_header_not_base64url,
        ),
        (Reason::ProtectedHeaderNotJson, protected_header_not_json),
        (Reason::SignatureMissing, signature_missing),
        (Reason::SignatureEmpty, signature_empty),
        (Reason::SignatureTooLarge, signature_too_large),
        (Reason::SignatureNotBase64url, signature_not_base64url),
        (Reason::AlgMissing, alg_missing),
        (Reason::AlgNotAllowed, alg_not_allowed),
        (Reason::KeyAlgMismatch, key_alg_mismatch),
        (Reason::KeyTooSmall, key_too_small),
        (Reason::EcdsaSignatureLength, ecdsa_signature_length),
        (Reason::SignatureMismatch, signature_mismatch),
        (Reason::ProtectedUriMissing, protected_uri_missing),
        (Reason::ProtectedMethodMissing, protected_method_missing),
        (Reason::ProtectedSourceMissing, protected_source_missing),
        (Reason::UriMismatch, uri_mismatch),
        (Reason::MethodMismatch, method_mismatch),
        (Reason::SourceMismatch, source_mismatch),
        (Reason::DateMissingInHttp, date_missing_in_http),
        (Reason::DateMismatch, date_mismatch),
        (Reason::DestinationNotProtected, destination_not_protected),
        (
            Reason::DestinationMissingInHttp,
            destination_missing_in_http,
        ),
        (Reason::DestinationMismatch, destination_mismatch),
        (Reason::RequestUriMismatch, request_uri_mismatch),
        (Reason::RequestMethodMismatch, request_method_mismatch),
        (Reason::DateNotProtected, date_not_protected),
        (Reason::DateInvalid, date_invalid),
        (Reason::DateOutOfWindow, date_out_of_window),
    ]
}

#[test]
fn every_reason_has_a_producing_case() {
    let cases = reason_cases();
    for reason in Reason::ALL {
        let Some((_, case)) = cases.iter().find(|(listed, _)| listed == reason) else {
            panic!("no case in reason_cases produces {reason}; add one");
        };
        let verdict = case();
        assert_eq!(verdict.reason, Some(*reason), "{}", verdict.message());
        assert!(!verdict.accepted, "case for {reason} was accepted");
    }
}

#[test]
fn message_non_empty_for_every_reason() {
    for (reason, case) in reason_cases() {
        let message = case().message();
        assert!(!message.trim().is_empty(), "empty message for {reason}");
    }
}

#[test]
fn rejection_fails_exactly_one_check() {
    for (reason, case) in reason_cases() {
        let verdict = case();
        let failed: Vec<CheckId> = verdict
            .checks
            .iter()
            .filter(|check| check.outcome == Outcome::Fail)
            .map(|check| check.id)
            .collect();
        assert_eq!(failed.len(), 1, "{reason}: failed checks {failed:?}");
        assert_eq!(
            verdict.checks.last().map(|c| c.outcome),
            Some(Outcome::Fail)
        );
    }
}

// ---------------------------------------------------------------------------
// Reasons, one test each
// ---------------------------------------------------------------------------

#[test]
fn body_too_large_rejected_before_source() {
    let verdict = body_too_large();

    assert_eq!(verdict.reason, Some(Reason::BodyTooLarge));
    assert_eq!(verdict.participant, None);
}

#[test]
fn body_not_json_rejected_in_mojaloop_sdk() {
    assert_eq!(body_not_json().reason, Some(Reason::BodyNotJson));
}

#[test]
fn body_proto_key_rejected() {
    assert_eq!(body_proto_key().reason, Some(Reason::BodyProtoKey));
}

#[test]
fn body_duplicate_key_rejected_with_flag() {
    assert_eq!(body_duplicate_key().reason, Some(Reason::BodyDuplicateKey));
}

#[test]
fn body_lossy_number_rejected_with_flag() {
    assert_eq!(body_lossy_number().reason, Some(Reason::BodyLossyNumber));
}

#[test]
fn missing_source_header_rejected() {
    assert_eq!(
        missing_source_header().reason,
        Some(Reason::MissingSourceHeader)
    );
}

#[test]
fn unknown_source_rejected() {
    let verdict = unknown_source();

    assert_eq!(verdict.reason, Some(Reason::UnknownSource));
    assert_eq!(verdict.participant.as_deref(), Some("payerfsp"));
}

#[test]
fn unusable_key_rejected() {
    assert_eq!(key_unusable().reason, Some(Reason::KeyUnusable));
}

#[test]
fn missing_signature_header_rejected() {
    assert_eq!(
        missing_signature_header().reason,
        Some(Reason::MissingSignatureHeader)
    );
}

#[test]
fn missing_uri_header_rejected() {
    assert_eq!(missing_uri_header().reason, Some(Reason::MissingUriHeader));
}

#[test]
fn missing_method_header_rejected() {
    assert_eq!(
        missing_method_header().reason,
        Some(Reason::MissingMethodHeader)
    );
}

#[test]
fn oversized_signature_header_rejected() {
    assert_eq!(
        signature_header_too_large().reason,
        Some(Reason::SignatureHeaderTooLarge)
    );
}

#[test]
fn signature_header_not_json_rejected() {
    assert_eq!(
        signature_header_not_json().reason,
        Some(Reason::SignatureHeaderNotJson)
    );
}

#[test]
fn signature_header_not_object_rejected() {
    assert_eq!(
        signature_header_not_object().reason,
        Some(Reason::SignatureHeaderNotObject)
    );
}

#[test]
fn signature_header_json_null_not_object() {
    let verdict = sdk(&quote_with_signature_value("null"), &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::SignatureHeaderNotObject));
}

#[test]
fn protected_header_member_missing_rejected() {
    assert_eq!(
        protected_header_missing().reason,
        Some(Reason::ProtectedHeaderMissing)
    );
}

#[test]
fn capitalised_member_names_not_read() {
    let (protected, signature) = signature_parts(&signed_quote());
    let value = format!(r#"{{"ProtectedHeader":"{protected}","Signature":"{signature}"}}"#);

    let verdict = sdk(&quote_with_signature_value(&value), &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::ProtectedHeaderMissing));
}

#[test]
fn protected_header_too_large_rejected() {
    assert_eq!(
        protected_header_too_large().reason,
        Some(Reason::ProtectedHeaderTooLarge)
    );
}

#[test]
fn padded_protected_header_rejected() {
    assert_eq!(
        protected_header_not_base64url().reason,
        Some(Reason::ProtectedHeaderNotBase64url)
    );
}

#[test]
fn protected_header_not_json_rejected() {
    assert_eq!(
        protected_header_not_json().reason,
        Some(Reason::ProtectedHeaderNotJson)
    );
}

#[test]
fn protected_header_json_array_rejected() {
    let (_, signature) = signature_parts(&signed_quote());
    let value = signature_value(&b64::encode(br#"["RS256"]"#), &signature);

    let verdict = sdk(&quote_with_signature_value(&value), &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::ProtectedHeaderNotJson));
}

#[test]
fn signature_member_missing_rejected() {
    assert_eq!(signature_missing().reason, Some(Reason::SignatureMissing));
}

#[test]
fn signature_member_not_string_rejected() {
    let (protected, _) = signature_parts(&signed_quote());
    let value = format!(r#"{{"protectedHeader":"{protected}","signature":42}}"#);

    let verdict = sdk(&quote_with_signature_value(&value), &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::SignatureMissing));
}

#[test]
fn empty_signature_rejected() {
    assert_eq!(signature_empty().reason, Some(Reason::SignatureEmpty));
}

#[test]
fn alg_none_with_empty_signature_rejected() {
    let members = replaced(quote_members(), "alg", "none");
    let protected = b64::encode(protected_json(&members).as_bytes());

    let verdict = sdk(
        &quote_with_signature_value(&signature_value(&protected, "")),
        &payer_keys(),
    );

    assert_eq!(verdict.reason, Some(Reason::SignatureEmpty));
}

#[test]
fn oversized_signature_rejected() {
    assert_eq!(
        signature_too_large().reason,
        Some(Reason::SignatureTooLarge)
    );
}

#[test]
fn standard_base64_signature_rejected() {
    assert_eq!(
        signature_not_base64url().reason,
        Some(Reason::SignatureNotBase64url)
    );
}

#[test]
fn alg_missing_rejected() {
    assert_eq!(alg_missing().reason, Some(Reason::AlgMissing));
}

#[test]
fn alg_null_counts_as_missing() {
    let mut request = signed_quote();
    let protected = b64::encode(
        br#"{"alg":null,"FSPIOP-URI":"/quotes","FSPIOP-HTTP-Method":"POST","FSPIOP-Source":"payerfsp"}"#,
    );
    let (_, signature) = signature_parts(&request);
    request
        .headers
        .set("FSPIOP-Signature", &signature_value(&protected, &signature));

    let verdict = sdk(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::AlgMissing));
}

#[test]
fn alg_not_allowed_in_mojaloop_sdk() {
    for alg in ["none", "HS256", "rs256", "RS384"] {
        let request = crafted_quote(&replaced(quote_members(), "alg", alg));

        let verdict = sdk(&request, &payer_keys());

        assert_eq!(verdict.reason, Some(Reason::AlgNotAllowed), "alg {alg}");
    }
}

#[test]
fn alg_not_allowed_names_profile_list() {
    let message = alg_not_allowed().message();

    assert!(message.contains("RS256, ES256"), "{message}");
}

#[test]
fn ps384_not_allowed_in_strict() {
    let request = crafted_quote(&replaced(quote_members(), "alg", "PS384"));

    let verdict = strict(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::AlgNotAllowed));
}

#[test]
fn rsa_key_with_es256_rejected() {
    assert_eq!(key_alg_mismatch().reason, Some(Reason::KeyAlgMismatch));
}

#[test]
fn p384_key_with_es256_rejected() {
    let mut keys = KeyStore::new();
    keys.insert_pem("payerfsp", &key_text("ecp384fsp.pub.pem"))
        .unwrap();
    let request = crafted_quote(&replaced(quote_members(), "alg", "ES256"));

    let verdict = sdk(&request, &keys);

    assert_eq!(verdict.reason, Some(Reason::KeyAlgMismatch));
}

#[test]
fn ec_key_with_rs256_rejected() {
    let request = crafted_quote(&quote_members());

    let verdict = sdk(&request, &store(&[("payerfsp", &ec_key())]));

    assert_eq!(verdict.reason, Some(Reason::KeyAlgMismatch));
}

#[test]
fn strict_rejects_1024_bit_key() {
    let verdict = key_too_small();

    assert_eq!(verdict.reason, Some(Reason::KeyTooSmall));
    assert_eq!(verdict.check(CheckId::KeyFit), Some(Outcome::Fail));
}

#[test]
fn der_ecdsa_signature_rejected() {
    let verdict = ecdsa_signature_length();

    assert_eq!(verdict.reason, Some(Reason::EcdsaSignatureLength));
}

#[test]
fn truncated_rsa_signature_mismatches() {
    let mut request = signed_quote();
    let (protected, signature) = signature_parts(&request);
    let mut bytes = b64::decode(&signature).unwrap();
    bytes.truncate(bytes.len() - 1);
    request.headers.set(
        "FSPIOP-Signature",
        &signature_value(&protected, &b64::encode(&bytes)),
    );

    let verdict = sdk(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::SignatureMismatch));
}

#[test]
fn tampered_body_mismatches() {
    assert_eq!(signature_mismatch().reason, Some(Reason::SignatureMismatch));
}

#[test]
fn tampered_protected_header_mismatches() {
    let mut request = signed_quote();
    let (protected, signature) = signature_parts(&request);
    let decoded = String::from_utf8(b64::decode(&protected).unwrap()).unwrap();
    let tampered = decoded.replace("\"/quotes\"", "\"/quotes/1\"");
    assert_ne!(decoded, tampered);
    request.headers.set(
        "FSPIOP-Signature",
        &signature_value(&b64::encode(tampered.as_bytes()), &signature),
    );
    request.headers.set("FSPIOP-URI", "/quotes/1");

    let verdict = sdk(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::SignatureMismatch));
}

#[test]
fn protected_uri_missing_rejected() {
    assert_eq!(
        protected_uri_missing().reason,
        Some(Reason::ProtectedUriMissing)
    );
}

#[test]
fn protected_method_missing_rejected() {
    assert_eq!(
        protected_method_missing().reason,
        Some(Reason::ProtectedMethodMissing)
    );
}

#[test]
fn protected_source_missing_rejected() {
    assert_eq!(
        protected_source_missing().reason,
        Some(Reason::ProtectedSourceMissing)
    );
}

#[test]
fn rewritten_uri_header_mismatches() {
    let verdict = uri_mismatch();

    assert_eq!(verdict.reason, Some(Reason::UriMismatch));
    assert_eq!(verdict.payload_form, Some(PayloadForm::Raw));
}

#[test]
fn rewritten_method_header_mismatches() {
    assert_eq!(method_mismatch().reason, Some(Reason::MethodMismatch));
}

#[test]
fn protected_source_other_participant_mismatches() {
    assert_eq!(source_mismatch().reason, Some(Reason::SourceMismatch));
}

#[test]
fn protected_date_without_header_rejected() {
    assert_eq!(
        date_missing_in_http().reason,
        Some(Reason::DateMissingInHttp)
    );
}

#[test]
fn rewritten_date_header_mismatches() {
    assert_eq!(date_mismatch().reason, Some(Reason::DateMismatch));
}

#[test]
fn unprotected_destination_header_rejected() {
    assert_eq!(
        destination_not_protected().reason,
        Some(Reason::DestinationNotProtected)
    );
}

#[test]
fn protected_destination_without_header_rejected() {
    assert_eq!(
        destination_missing_in_http().reason,
        Some(Reason::DestinationMissingInHttp)
    );
}

#[test]
fn rewritten_destination_header_mismatches() {
    assert_eq!(
        destination_mismatch().reason,
        Some(Reason::DestinationMismatch)
    );
}

#[test]
fn strict_rejects_other_request_target() {
    assert_eq!(
        request_uri_mismatch().reason,
        Some(Reason::RequestUriMismatch)
    );
}

#[test]
fn strict_rejects_target_sharing_suffix_only() {
    let mut request = signed_quote();
    request.target = "/fspiopquotes".to_owned();

    let verdict = strict(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::RequestUriMismatch));
}

#[test]
fn mojaloop_sdk_ignores_request_target() {
    let mut request = signed_quote();
    request.target = "/transfers".to_owned();

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn strict_rejects_other_request_method() {
    assert_eq!(
        request_method_mismatch().reason,
        Some(Reason::RequestMethodMismatch)
    );
}

#[test]
fn date_window_requires_protected_date() {
    assert_eq!(date_not_protected().reason, Some(Reason::DateNotProtected));
}

#[test]
fn date_window_rejects_non_http_date() {
    assert_eq!(date_invalid().reason, Some(Reason::DateInvalid));
}

#[test]
fn date_window_rejects_stale_date() {
    assert_eq!(date_out_of_window().reason, Some(Reason::DateOutOfWindow));
}

#[test]
fn date_window_rejects_future_date() {
    let verdict = verify_at(
        &signed_quote(),
        &windowed_profile(),
        &payer_keys(),
        NOW - 301,
    );

    assert_eq!(verdict.reason, Some(Reason::DateOutOfWindow));
}

#[test]
fn date_window_accepts_edge_of_window() {
    let verdict = verify_at(
        &signed_quote(),
        &windowed_profile(),
        &payer_keys(),
        NOW + 300,
    );

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.check(CheckId::DateWindow), Some(Outcome::Pass));
}

// ---------------------------------------------------------------------------
// Key rotation
// ---------------------------------------------------------------------------

#[test]
fn rotation_overlap_accepts_previous_key() {
    let keys = rotated_keys(NOW + 60);

    let verdict = sdk(&signed_quote(), &keys);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.key_id, Some(kid(&payer_key())));
}

#[test]
fn rotation_overlap_accepts_current_key() {
    let request = signed(&next_key(), SignerMode::Sdk1919, &quote_input("payerfsp"));

    let verdict = sdk(&request, &rotated_keys(NOW + 60));

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.key_id, Some(kid(&next_key())));
}

#[test]
fn retired_key_accepted_before_retire_after() {
    let verdict = verify_at(
        &signed_quote(),
        &Profile::mojaloop_sdk(),
        &rotated_keys(NOW),
        NOW - 1,
    );

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn retired_key_rejected_at_retire_after() {
    let verdict = verify_at(
        &signed_quote(),
        &Profile::mojaloop_sdk(),
        &rotated_keys(NOW),
        NOW,
    );

    assert_eq!(verdict.reason, Some(Reason::SignatureMismatch));
}

#[test]
fn rotation_across_rsa_key_sizes() {
    let mut keys = weak_keys();
    let larger = parse_public_key(&next_key().public_key().to_pem()).unwrap();
    keys.insert("weakfsp", larger, Some(NOW - 3_600), None);

    let verdict = sdk(&weak_quote(), &keys);

    assert!(verdict.accepted, "{}", verdict.message());
}

#[test]
fn all_keys_retired_reports_unknown_source() {
    let mut keys = KeyStore::new();
    let parsed = parse_public_key(&payer_key().public_key().to_pem()).unwrap();
    keys.insert("payerfsp", parsed, None, Some(NOW - 1));

    let verdict = sdk(&signed_quote(), &keys);

    assert_eq!(verdict.reason, Some(Reason::UnknownSource));
    assert!(
        verdict.message().contains("retired"),
        "{}",
        verdict.message()
    );
}

// ---------------------------------------------------------------------------
// Request rules
// ---------------------------------------------------------------------------

fn verify_with_rules(request: &Request, keys: &KeyStore) -> Verdict {
    let rules = RequestRules::default();
    let ctx = VerifyContext {
        profile: &Profile::mojaloop_sdk(),
        keys,
        rules: Some(&rules),
        now: NOW,
        crypto: &RingVerifier,
    };
    verify(request, &ctx)
}

#[test]
fn get_exempt_from_signature() {
    let request = Request {
        method: "GET".to_owned(),
        target: "/quotes/3d6a2c52".to_owned(),
        headers: headers(&[("FSPIOP-Source", "payerfsp")]),
        body: None,
    };

    let verdict = verify_with_rules(&request, &payer_keys());

    assert!(verdict.accepted);
    assert!(verdict.not_required);
    assert_eq!(
        verdict.check(CheckId::SignatureRequired),
        Some(Outcome::NotApplicable)
    );
}

#[test]
fn put_parties_exempt_by_default() {
    let request = Request {
        method: "PUT".to_owned(),
        target: "/parties/MSISDN/123".to_owned(),
        headers: headers(&[("FSPIOP-Source", "payeefsp")]),
        body: Some(b"{}".to_vec()),
    };

    let verdict = verify_with_rules(&request, &payer_keys());

    assert!(verdict.not_required);
}

#[test]
fn post_required_by_rules() {
    let mut request = signed_quote();
    request.headers.remove_all("fspiop-signature");

    let verdict = verify_with_rules(&request, &payer_keys());

    assert_eq!(verdict.reason, Some(Reason::MissingSignatureHeader));
    assert_eq!(
        verdict.check(CheckId::SignatureRequired),
        Some(Outcome::Pass)
    );
}

// ---------------------------------------------------------------------------
// FSPIOP errors, messages and JSON
// ---------------------------------------------------------------------------

#[test]
fn fspiop_error_codes_by_reason() {
    let cases: [(Case, FspiopError, &str); 5] = [
        (body_not_json, FspiopError::MalformedSyntax, "3101"),
        (missing_source_header, FspiopError::MissingElement, "3102"),
        (body_too_large, FspiopError::TooLarge, "3104"),
        (signature_mismatch, FspiopError::InvalidSignature, "3105"),
        (uri_mismatch, FspiopError::ModifiedRequest, "3106"),
    ];
    for (case, error, code) in cases {
        let verdict = case();

        assert_eq!(verdict.fspiop_error(), Some(error), "{:?}", verdict.reason);
        assert_eq!(verdict.fspiop_error().map(FspiopError::code), Some(code));
    }
}

#[test]
fn accepted_verdict_has_no_fspiop_error() {
    assert_eq!(sdk(&signed_quote(), &payer_keys()).fspiop_error(), None);
}

#[test]
fn message_names_participant_on_acceptance() {
    let message = sdk(&signed_quote(), &payer_keys()).message();

    assert!(message.contains("\"payerfsp\""), "{message}");
}

#[test]
fn message_names_participant_on_key_rejections() {
    let cases: [Case; 5] = [
        unknown_source,
        key_unusable,
        key_alg_mismatch,
        signature_mismatch,
        key_too_small,
    ];
    for case in cases {
        let verdict = case();
        let participant = verdict.participant.clone().unwrap();

        let message = verdict.message();

        assert!(
            message.contains(&format!("{participant:?}")),
            "{:?}: {message}",
            verdict.reason
        );
    }
}

#[test]
fn mismatch_message_shows_both_values() {
    let message = uri_mismatch().message();

    assert!(message.contains("\"/quotes\""), "{message}");
    assert!(message.contains("\"/quotes/\""), "{message}");
}

#[test]
fn verdict_json_field_names_stable() {
    let value = serde_json::to_value(signature_mismatch()).unwrap();
    let mut names: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();

    assert_eq!(
        names,
        [
            "accepted",
            "alg",
            "checks",
            "forms_tried",
            "fspiop_error",
            "key_id",
            "message",
            "not_required",
            "participant",
            "payload_form",
            "reason",
            "warnings",
        ]
    );
}

#[test]
fn verdict_json_values_use_codes() {
    let value = serde_json::to_value(signature_mismatch()).unwrap();

    assert_eq!(value.get("accepted"), Some(&serde_json::json!(false)));
    assert_eq!(
        value.get("reason"),
        Some(&serde_json::json!("SIGNATURE_MISMATCH"))
    );
    assert_eq!(value.get("fspiop_error"), Some(&serde_json::json!("3105")));
    assert_eq!(value.get("alg"), Some(&serde_json::json!("RS256")));
    assert_eq!(
        value.get("forms_tried"),
        Some(&serde_json::json!(["raw", "sorted-json", "insertion-json"]))
    );
    assert_eq!(
        value.get("participant"),
        Some(&serde_json::json!("payerfsp"))
    );
}

#[test]
fn verdict_json_check_entries_named() {
    let value = serde_json::to_value(sdk(&signed_quote(), &payer_keys())).unwrap();
    let first = value
        .get("checks")
        .and_then(|checks| checks.get(0))
        .unwrap();

    assert_eq!(first.get("check"), Some(&serde_json::json!("body-size")));
    assert_eq!(first.get("outcome"), Some(&serde_json::json!("pass")));
    assert!(first.get("description").is_some_and(|d| d.is_string()));
}

#[test]
fn verdict_json_accepted_has_null_reason() {
    let value = serde_json::to_value(sdk(&signed_quote(), &payer_keys())).unwrap();

    assert_eq!(value.get("reason"), Some(&serde_json::Value::Null));
    assert_eq!(value.get("fspiop_error"), Some(&serde_json::Value::Null));
    assert_eq!(value.get("payload_form"), Some(&serde_json::json!("raw")));
}

// ---------------------------------------------------------------------------
// Diagnosis
// ---------------------------------------------------------------------------

#[test]
fn diagnosis_finds_retired_key() {
    let keys = rotated_keys(NOW - 10);
    let request = signed_quote();
    assert_eq!(sdk(&request, &keys).reason, Some(Reason::SignatureMismatch));

    let diagnosis = diagnose(
        &request,
        &keys,
        NOW,
        &RingVerifier,
        &Profile::mojaloop_sdk().limits,
    );

    let raw_match = KeyMatch {
        participant: "payerfsp".to_owned(),
        kid: kid(&payer_key()),
        active: false,
        form: "raw",
    };
    assert!(
        diagnosis.matches.contains(&raw_match),
        "{:?}",
        diagnosis.matches
    );
    assert!(diagnosis.matches.iter().all(|found| !found.active));
}

#[test]
fn diagnosis_finds_other_participant_key() {
    let keys = store(&[("payerfsp", &payer_key()), ("payeefsp", &next_key())]);
    let request = signed(&next_key(), SignerMode::Sdk1919, &quote_input("payerfsp"));
    assert_eq!(sdk(&request, &keys).reason, Some(Reason::SignatureMismatch));

    let diagnosis = diagnose(
        &request,
        &keys,
        NOW,
        &RingVerifier,
        &Profile::mojaloop_sdk().limits,
    );

    let mut participants: Vec<&str> = diagnosis
        .matches
        .iter()
        .map(|found| found.participant.as_str())
        .collect();
    participants.dedup();
    assert_eq!(participants, ["payeefsp"]);
    assert!(diagnosis.matches.iter().all(|found| found.active));
}

#[test]
fn diagnosis_compares_rewritten_uri() {
    let mut request = signed_quote();
    request.headers.set("FSPIOP-URI", "/quotes/");

    let diagnosis = diagnose(
        &request,
        &payer_keys(),
        NOW,
        &RingVerifier,
        &Profile::mojaloop_sdk().limits,
    );

    let uri = diagnosis
        .fields
        .iter()
        .find(|field| field.member == "FSPIOP-URI")
        .unwrap();
    assert!(!uri.equal);
    assert_eq!(uri.protected.as_deref(), Some("/quotes"));
    assert_eq!(uri.actual.as_deref(), Some("/quotes/"));
}

#[test]
fn duplicate_key_body_warns_when_canonical_form_matches() {
    let mut request = signed_quote();
    let body = String::from_utf8(request.body.clone().unwrap()).unwrap();
    let rewritten = body.replacen('{', r#"{"amount":"first","#, 1);
    request.body = Some(rewritten.into_bytes());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert!(verdict.warnings.contains(&Warning::DuplicateKeys));
}

#[test]
fn lossy_number_body_warns_when_canonical_form_matches() {
    let mut input = quote_input("payerfsp");
    input.body = SignBody::Json(
        fspiop_guard_core::json::parse(r#"{"amount":9007199254740992}"#, &Default::default())
            .unwrap()
            .value,
    );
    let mut request = signed(&payer_key(), SignerMode::Sdk1919, &input);
    request.body = Some(br#"{"amount":9007199254740993}"#.to_vec());

    let verdict = sdk(&request, &payer_keys());

    assert!(verdict.accepted, "{}", verdict.message());
    assert!(verdict.warnings.contains(&Warning::LossyNumbers));
}
