//! Signer behaviour: the three reference signing modes, input checks, FSPIOP-URI
//! derivation, the latin1 protected header, and sign-then-verify round trips.
//!
//! The keys in `tests/keys/` are throwaway test keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{headers, json_value};
use std::path::PathBuf;

use fspiop_guard_core::crypto::{Algorithm, SigningKey};
use fspiop_guard_core::json::{self, JsString, Value};
use fspiop_guard_core::sign::{
    SignBody, SignError, SignInput, SignedRequest, SignerMode, default_algorithm, sign_request,
};
use fspiop_guard_core::{
    KeyStore, Profile, Request, RingVerifier, Verdict, VerifyContext, b64, verify,
};

/// Verification time in unix seconds: the instant of [`DATE`].
const NOW: i64 = 1_778_683_152;

const DATE: &str = "Wed, 13 May 2026 14:39:12 GMT";

/// A body whose keys are not sorted, compact, so it is its own insertion-order form.
const BODY: &str =
    r#"{"transferId":"b51ec534","payerFsp":"payerfsp","amount":{"currency":"USD","amount":"100"}}"#;

/// [`BODY`] with its keys sorted.
const BODY_SORTED: &str =
    r#"{"amount":{"amount":"100","currency":"USD"},"payerFsp":"payerfsp","transferId":"b51ec534"}"#;

fn key_text(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Loads payerfsp's RSA-2048 key.
fn rsa_key() -> SigningKey {
    SigningKey::from_pem(&key_text("payerfsp.key.pem")).unwrap()
}

/// Loads ecfsp's EC P-256 key.
fn ec_key() -> SigningKey {
    SigningKey::from_pem(&key_text("ecfsp.key.pem")).unwrap()
}

/// Returns an unsigned POST /transfers from `source` to payeefsp with a `Date`.
fn transfer(source: &str) -> SignInput {
    SignInput {
        method: "POST".to_owned(),
        url: "https://hub.example/transfers".to_owned(),
        headers: headers(&[
            ("Date", DATE),
            ("FSPIOP-Source", source),
            ("FSPIOP-Destination", "payeefsp"),
        ]),
        body: SignBody::Json(json_value(BODY)),
    }
}

fn sign(mode: SignerMode, input: &SignInput) -> SignedRequest {
    sign_request(&rsa_key(), mode, None, input).unwrap()
}

fn sign_error(input: &SignInput) -> SignError {
    sign_request(&rsa_key(), SignerMode::Sdk1919, None, input).unwrap_err()
}

/// Returns the decoded protected header bytes of a signed request.
fn protected_bytes(signed: &SignedRequest) -> Vec<u8> {
    let parsed: serde_json::Value = serde_json::from_str(&signed.signature_header).unwrap();
    let protected = parsed
        .get("protectedHeader")
        .and_then(|value| value.as_str())
        .unwrap();
    b64::decode(protected).unwrap()
}

fn protected_text(signed: &SignedRequest) -> String {
    String::from_utf8(protected_bytes(signed)).unwrap()
}

/// Returns the names of the `FSPIOP-Signature` members in the order they appear.
fn member_order(signature_header: &str) -> Vec<String> {
    let parsed = json::parse(signature_header, &json::Limits::default()).unwrap();
    let object = parsed.value.into_object().unwrap();
    object
        .iter()
        .map(|(name, _)| name.to_string_lossy())
        .collect()
}

/// Builds the request that arrives after signing, with the path of the signed URL.
fn arrived(input: &SignInput, signed: &SignedRequest) -> Request {
    Request {
        method: input.method.to_uppercase(),
        target: signed.fspiop_uri.clone(),
        headers: signed.headers.clone(),
        body: Some(signed.body.clone().into_bytes()),
    }
}

fn verify_with(
    profile: &Profile,
    participant: &str,
    key: &SigningKey,
    request: &Request,
) -> Verdict {
    let mut keys = KeyStore::new();
    keys.insert_pem(participant, &key.public_key().to_pem())
        .unwrap();
    let ctx = VerifyContext {
        profile,
        keys: &keys,
        rules: None,
        now: NOW,
        crypto: &RingVerifier,
    };
    verify(request, &ctx)
}

// ---------------------------------------------------------------------------
// Modes
// ---------------------------------------------------------------------------

#[test]
fn sdk_19_19_emits_protected_header_first() {
    let signed = sign(SignerMode::Sdk1919, &transfer("payerfsp"));

    assert_eq!(
        member_order(&signed.signature_header),
        ["protectedHeader", "signature"]
    );
}

#[test]
fn sdk_19_18_emits_signature_first() {
    let signed = sign(SignerMode::Sdk1918, &transfer("payerfsp"));

    assert_eq!(
        member_order(&signed.signature_header),
        ["signature", "protectedHeader"]
    );
}

#[test]
fn get_signature_emits_protected_header_first() {
    let mut input = transfer("payerfsp");
    input.headers.push("FSPIOP-URI", "/transfers");

    let signed = sign(SignerMode::GetSignature, &input);

    assert_eq!(
        member_order(&signed.signature_header),
        ["protectedHeader", "signature"]
    );
}

#[test]
fn sdk_19_19_sends_sorted_body() {
    let signed = sign(SignerMode::Sdk1919, &transfer("payerfsp"));

    assert_eq!(signed.body, BODY_SORTED);
}

#[test]
fn sdk_19_18_sends_insertion_order_body() {
    let signed = sign(SignerMode::Sdk1918, &transfer("payerfsp"));

    assert_eq!(signed.body, BODY);
}

#[test]
fn get_signature_sends_insertion_order_body() {
    let mut input = transfer("payerfsp");
    input.headers.push("FSPIOP-URI", "/transfers");

    let signed = sign(SignerMode::GetSignature, &input);

    assert_eq!(signed.body, BODY);
}

#[test]
fn integer_keys_lead_insertion_order() {
    let mut input = transfer("payerfsp");
    input.body = SignBody::Json(json_value(r#"{"b":1,"10":2,"a":3,"9":4}"#));

    let legacy = sign(SignerMode::Sdk1918, &input);
    let sorted = sign(SignerMode::Sdk1919, &input);

    assert_eq!(legacy.body, r#"{"9":4,"10":2,"b":1,"a":3}"#);
    assert_eq!(sorted.body, r#"{"10":2,"9":4,"a":3,"b":1}"#);
}

#[test]
fn text_body_sent_verbatim_in_every_mode() {
    let text = "{ \"b\": 1,\n  \"a\": 2 }\n";
    for mode in [
        SignerMode::Sdk1919,
        SignerMode::Sdk1918,
        SignerMode::GetSignature,
    ] {
        let mut input = transfer("payerfsp");
        input.headers.push("FSPIOP-URI", "/transfers");
        input.body = SignBody::Text(text.to_owned());

        let signed = sign(mode, &input);

        assert_eq!(signed.body, text, "mode {}", mode.name());
    }
}

#[test]
fn sdk_modes_set_uri_and_method_headers() {
    for mode in [SignerMode::Sdk1919, SignerMode::Sdk1918] {
        let signed = sign(mode, &transfer("payerfsp"));

        assert_eq!(
            signed.headers.get("fspiop-uri").as_deref(),
            Some("/transfers"),
            "mode {}",
            mode.name()
        );
        assert_eq!(
            signed.headers.get("fspiop-http-method").as_deref(),
            Some("POST"),
            "mode {}",
            mode.name()
        );
    }
}

#[test]
fn signature_header_set_on_request() {
    let signed = sign(SignerMode::Sdk1919, &transfer("payerfsp"));

    assert_eq!(
        signed.headers.get("fspiop-signature").as_deref(),
        Some(signed.signature_header.as_str())
    );
}

#[test]
fn get_signature_protects_caller_uri() {
    let mut input = transfer("payerfsp");
    input.url = "https://hub.example/other/path".to_owned();
    input.headers.push("FSPIOP-URI", "/transfers/b51ec534");

    let signed = sign(SignerMode::GetSignature, &input);

    assert_eq!(signed.fspiop_uri, "/transfers/b51ec534");
    assert!(
        protected_text(&signed).contains(r#""FSPIOP-URI":"/transfers/b51ec534""#),
        "{}",
        protected_text(&signed)
    );
}

#[test]
fn get_signature_leaves_method_header_unset() {
    let mut input = transfer("payerfsp");
    input.headers.push("FSPIOP-URI", "/transfers");

    let signed = sign(SignerMode::GetSignature, &input);

    assert_eq!(signed.headers.get("fspiop-http-method"), None);
}

#[test]
fn get_signature_requires_fspiop_uri() {
    let error = sign_request(
        &rsa_key(),
        SignerMode::GetSignature,
        None,
        &transfer("payerfsp"),
    )
    .unwrap_err();

    assert_eq!(error, SignError::MissingFspiopUri);
}

#[test]
fn get_signature_rejects_empty_fspiop_uri() {
    let mut input = transfer("payerfsp");
    input.headers.push("FSPIOP-URI", "");

    let error = sign_request(&rsa_key(), SignerMode::GetSignature, None, &input).unwrap_err();

    assert_eq!(error, SignError::MissingFspiopUri);
}

#[test]
fn mode_names_round_trip() {
    for mode in [
        SignerMode::Sdk1919,
        SignerMode::Sdk1918,
        SignerMode::GetSignature,
    ] {
        assert_eq!(SignerMode::from_name(mode.name()), Some(mode));
    }
}

// ---------------------------------------------------------------------------
// Protected header
// ---------------------------------------------------------------------------

#[test]
fn protected_header_members_in_reference_order() {
    let signed = sign(SignerMode::Sdk1919, &transfer("payerfsp"));

    assert_eq!(
        protected_text(&signed),
        r#"{"alg":"RS256","FSPIOP-URI":"/transfers","FSPIOP-HTTP-Method":"POST","FSPIOP-Source":"payerfsp","FSPIOP-Destination":"payeefsp","Date":"Wed, 13 May 2026 14:39:12 GMT"}"#
    );
}

#[test]
fn protected_header_omits_absent_destination_and_date() {
    let mut input = transfer("payerfsp");
    input.headers.remove_all("fspiop-destination");
    input.headers.remove_all("date");

    let signed = sign(SignerMode::Sdk1919, &input);

    assert_eq!(
        protected_text(&signed),
        r#"{"alg":"RS256","FSPIOP-URI":"/transfers","FSPIOP-HTTP-Method":"POST","FSPIOP-Source":"payerfsp"}"#
    );
}

#[test]
fn protected_header_omits_empty_destination() {
    let mut input = transfer("payerfsp");
    input.headers.set("FSPIOP-Destination", "");

    let signed = sign(SignerMode::Sdk1919, &input);

    assert!(
        !protected_text(&signed).contains("FSPIOP-Destination"),
        "{}",
        protected_text(&signed)
    );
}

#[test]
fn protected_method_upper_cased() {
    let mut input = transfer("payerfsp");
    input.method = "put".to_owned();

    let signed = sign(SignerMode::Sdk1919, &input);

    assert!(protected_text(&signed).contains(r#""FSPIOP-HTTP-Method":"PUT""#));
    assert_eq!(
        signed.headers.get("fspiop-http-method").as_deref(),
        Some("PUT")
    );
}

#[test]
fn ec_key_protects_es256() {
    let signed = sign_request(&ec_key(), SignerMode::Sdk1919, None, &transfer("ecfsp")).unwrap();

    assert_eq!(signed.alg, Algorithm::ES256);
    assert!(protected_text(&signed).starts_with(r#"{"alg":"ES256","#));
}

#[test]
fn default_algorithm_follows_key_type() {
    assert_eq!(default_algorithm(&rsa_key()), Algorithm::RS256);
    assert_eq!(default_algorithm(&ec_key()), Algorithm::ES256);
}

#[test]
fn rs256_signature_is_deterministic() {
    let first = sign(SignerMode::Sdk1919, &transfer("payerfsp"));
    let second = sign(SignerMode::Sdk1919, &transfer("payerfsp"));

    assert_eq!(first.signature_header, second.signature_header);
}

#[test]
fn latin1_protected_header_for_non_ascii_source() {
    let signed = sign(SignerMode::Sdk1919, &transfer("dfsp-é"));
    let bytes = protected_bytes(&signed);

    assert!(
        bytes.windows(6).any(|window| window == b"dfsp-\xE9"),
        "no latin1 0xE9 byte in {bytes:?}"
    );
    assert!(
        !bytes.windows(2).any(|window| window == [0xC3, 0xA9]),
        "UTF-8 encoding of é in {bytes:?}"
    );
}

#[test]
fn latin1_source_round_trips() {
    let input = transfer("dfsp-é");
    let signed = sign(SignerMode::Sdk1919, &input);

    let verdict = verify_with(
        &Profile::mojaloop_sdk(),
        "dfsp-é",
        &rsa_key(),
        &arrived(&input, &signed),
    );

    assert!(verdict.accepted, "{}", verdict.message());
}

// ---------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------

#[test]
fn falsy_bodies_refused() {
    let falsy = [
        SignBody::Json(Value::Null),
        SignBody::Json(Value::Bool(false)),
        SignBody::Json(Value::Number(0.0)),
        SignBody::Json(Value::String(JsString::from_str(""))),
        SignBody::Text(String::new()),
    ];
    for body in falsy {
        let mut input = transfer("payerfsp");
        input.body = body.clone();

        assert_eq!(sign_error(&input), SignError::NoBody, "body {body:?}");
    }
}

#[test]
fn empty_object_body_signed() {
    let mut input = transfer("payerfsp");
    input.body = SignBody::Json(json_value("{}"));

    let signed = sign(SignerMode::Sdk1919, &input);

    assert_eq!(signed.body, "{}");
}

#[test]
fn missing_source_refused() {
    let mut input = transfer("payerfsp");
    input.headers.remove_all("fspiop-source");

    assert_eq!(sign_error(&input), SignError::MissingSource);
}

#[test]
fn empty_source_refused() {
    let mut input = transfer("payerfsp");
    input.headers.set("FSPIOP-Source", "");

    assert_eq!(sign_error(&input), SignError::MissingSource);
}

#[test]
fn source_header_name_case_ignored() {
    let mut input = transfer("payerfsp");
    input.headers.remove_all("fspiop-source");
    input.headers.push("fspiop-source", "payerfsp");

    let signed = sign(SignerMode::Sdk1919, &input);

    assert!(protected_text(&signed).contains(r#""FSPIOP-Source":"payerfsp""#));
}

#[test]
fn rsa_key_cannot_sign_es256() {
    let error = sign_request(
        &rsa_key(),
        SignerMode::Sdk1919,
        Some(Algorithm::ES256),
        &transfer("payerfsp"),
    )
    .unwrap_err();

    assert!(matches!(error, SignError::Key(_)), "{error:?}");
}

// ---------------------------------------------------------------------------
// FSPIOP-URI derivation
// ---------------------------------------------------------------------------

fn fspiop_uri_for(url: &str) -> Result<String, SignError> {
    let mut input = transfer("payerfsp");
    input.url = url.to_owned();
    sign_request(&rsa_key(), SignerMode::Sdk1919, None, &input).map(|signed| signed.fspiop_uri)
}

#[test]
fn uri_drops_prefix_before_resource() {
    assert_eq!(
        fspiop_uri_for("https://hub.example/prefix/parties/MSISDN/123").as_deref(),
        Ok("/parties/MSISDN/123")
    );
}

#[test]
fn uri_keeps_query_string() {
    assert_eq!(
        fspiop_uri_for("https://hub.example/parties/MSISDN/123?currency=USD").as_deref(),
        Ok("/parties/MSISDN/123?currency=USD")
    );
}

#[test]
fn uri_without_slash_refused() {
    let error = fspiop_uri_for("transfers/abc").unwrap_err();

    let SignError::Uri(message) = error else {
        panic!("expected a URI error, got {error:?}");
    };
    assert!(
        message.starts_with("URI not valid for protected header: transfers/abc"),
        "{message}"
    );
}

#[test]
fn uri_with_line_break_refused() {
    let error = fspiop_uri_for("https://hub.example/quotes\n/x").unwrap_err();

    assert!(matches!(error, SignError::Uri(_)), "{error:?}");
}

#[test]
fn uri_too_long_refused() {
    let url = format!("https://hub.example/quotes/{}", "a".repeat(64 * 1024));

    let error = fspiop_uri_for(&url).unwrap_err();

    let SignError::Uri(message) = error else {
        panic!("expected a URI error, got {error:?}");
    };
    assert!(message.contains("bytes long"), "{message}");
}

#[test]
fn uri_header_derived_from_url() {
    let mut input = transfer("payerfsp");
    input.url = "https://hub.example/prefix/quotes/123".to_owned();

    let signed = sign(SignerMode::Sdk1919, &input);

    assert_eq!(
        signed.headers.get("fspiop-uri").as_deref(),
        Some("/quotes/123")
    );
}

// ---------------------------------------------------------------------------
// Round trips through the verifier
// ---------------------------------------------------------------------------

/// Signs a transfer with `alg` and verifies it in the strict profile.
fn strict_round_trip(key: &SigningKey, source: &str, alg: Algorithm) -> Verdict {
    let input = transfer(source);
    let signed = sign_request(key, SignerMode::Sdk1919, Some(alg), &input).unwrap();
    assert_eq!(signed.alg, alg);
    verify_with(&Profile::strict(), source, key, &arrived(&input, &signed))
}

#[test]
fn rs256_round_trip_strict() {
    let verdict = strict_round_trip(&rsa_key(), "payerfsp", Algorithm::RS256);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::RS256));
}

#[test]
fn rs384_round_trip_strict() {
    let verdict = strict_round_trip(&rsa_key(), "payerfsp", Algorithm::RS384);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::RS384));
}

#[test]
fn rs512_round_trip_strict() {
    let verdict = strict_round_trip(&rsa_key(), "payerfsp", Algorithm::RS512);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::RS512));
}

#[test]
fn ps256_round_trip_strict() {
    let verdict = strict_round_trip(&rsa_key(), "payerfsp", Algorithm::PS256);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::PS256));
}

#[test]
fn es256_round_trip_strict() {
    let verdict = strict_round_trip(&ec_key(), "ecfsp", Algorithm::ES256);

    assert!(verdict.accepted, "{}", verdict.message());
    assert_eq!(verdict.alg, Some(Algorithm::ES256));
}

#[test]
fn every_mode_round_trips_in_mojaloop_sdk() {
    for mode in [
        SignerMode::Sdk1919,
        SignerMode::Sdk1918,
        SignerMode::GetSignature,
    ] {
        let mut input = transfer("payerfsp");
        input.headers.push("FSPIOP-URI", "/transfers");
        let mut signed = sign(mode, &input);
        // get-signature leaves the FSPIOP-HTTP-Method header to the caller.
        signed.headers.set("FSPIOP-HTTP-Method", "POST");

        let verdict = verify_with(
            &Profile::mojaloop_sdk(),
            "payerfsp",
            &rsa_key(),
            &arrived(&input, &signed),
        );

        assert!(
            verdict.accepted,
            "mode {}: {}",
            mode.name(),
            verdict.message()
        );
    }
}

#[test]
fn header_value_with_newline_is_rejected() {
    let mut input = transfer("payerfsp");
    input.headers.push("X-Note", "a\r\nInjected: yes");

    let error = sign_error(&input);

    assert!(matches!(error, SignError::InvalidField(_)), "{error}");
}

#[test]
fn method_that_is_not_a_token_is_rejected() {
    let mut input = transfer("payerfsp");
    input.method = "POST /x".to_owned();

    let error = sign_error(&input);

    assert!(matches!(error, SignError::InvalidField(_)), "{error}");
}
