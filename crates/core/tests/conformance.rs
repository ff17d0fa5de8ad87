//! Conformance with the Mojaloop SDK over requests it signed and judged itself.
//!
//! Reads `$FSPIOP_SHARED/conformance/jws/corpus.json` and skips with a message when the
//! variable or the file is absent. Each case must get the verdict the SDK 19.19.1
//! validator gave, unless it is one of the deliberate deviations listed in
//! `docs/CONFORMANCE.md`, which this test recognises by rule (never by case name). For
//! rejections, our reason must map to the case's `error_class`.
//!
//! A second test signs every RSA case that records the SDK signer's output and compares
//! `FSPIOP-Signature`, `FSPIOP-URI` and the wire body byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use fspiop_guard_core::crypto::{KeyKind, SigningKey};
use fspiop_guard_core::json::{self, Object, Value};
use fspiop_guard_core::keys::KeyStore;
use fspiop_guard_core::sign::{self, SignBody, SignInput, SignerMode};
use fspiop_guard_core::{
    BodyOrigin, Headers, Profile, Reason, Request, RingVerifier, VerifyContext, verify,
    verify_body_from,
};

/// `Date` header value used when the corpus was generated: Wed, 13 May 2026 14:39:12 GMT.
const CORPUS_TIME: i64 = 1_778_683_152;

/// Member names of `Object.prototype`, which the SDK's plain-object key lookup finds.
const OBJECT_PROTOTYPE_MEMBERS: [&str; 12] = [
    "constructor",
    "toString",
    "toLocaleString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

fn jws_dir() -> Option<PathBuf> {
    let Some(shared) = std::env::var_os("FSPIOP_SHARED") else {
        eprintln!(
            "SKIPPED: FSPIOP_SHARED is not set; point it at the folder holding conformance/jws"
        );
        return None;
    };
    let dir = PathBuf::from(shared).join("conformance/jws");
    if !dir.join("corpus.json").is_file() {
        eprintln!("SKIPPED: {} has no corpus.json", dir.display());
        return None;
    }
    Some(dir)
}

fn load_cases(dir: &std::path::Path) -> Vec<Object> {
    let text = std::fs::read_to_string(dir.join("corpus.json")).unwrap();
    let limits = json::Limits {
        max_bytes: 256 * 1024 * 1024,
        max_depth: 64,
    };
    let cases = json::parse(&text, &limits)
        .unwrap()
        .value
        .into_array()
        .unwrap();
    cases
        .into_iter()
        .map(|case| case.into_object().unwrap())
        .collect()
}

fn string(object: &Object, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str)
}

fn request_of(case: &Object) -> Request {
    let Some(Value::Object(request)) = case.get("request") else {
        panic!("case has no request");
    };
    let mut headers = Headers::new();
    if let Some(Value::Object(map)) = request.get("headers") {
        for (name, value) in map.iter() {
            headers.push(&name.to_string_lossy(), &value.as_str().unwrap_or_default());
        }
    }
    Request {
        method: string(request, "method").unwrap(),
        target: string(request, "url").unwrap(),
        headers,
        body: string(request, "body").map(String::into_bytes),
    }
}

fn keys_of(case: &Object) -> KeyStore {
    let mut store = KeyStore::new();
    if let Some(Value::Object(map)) = case.get("keys") {
        for (participant, pem) in map.iter() {
            let participant = participant.to_string_lossy();
            let _ = store.insert_pem(&participant, &pem.as_str().unwrap_or_default());
        }
    }
    store
}

/// Returns the corpus `error_class` values that one of our reasons may stand for.
fn corpus_classes(reason: Reason) -> &'static [&'static str] {
    match reason {
        // The SDK's body parser rejects a body over its 1 MB limit before any JWS check.
        Reason::BodyNotJson | Reason::BodyProtoKey | Reason::BodyTooLarge => &["BODY_PARSE_ERROR"],
        Reason::MissingSourceHeader => &["MISSING_SOURCE_HEADER"],
        Reason::UnknownSource => &["UNKNOWN_SOURCE_KEY"],
        Reason::KeyUnusable => &["KEY_UNUSABLE"],
        Reason::MissingSignatureHeader | Reason::MissingUriHeader | Reason::MissingMethodHeader => {
            &["MISSING_JWS_HEADERS"]
        }
        Reason::SignatureHeaderNotJson => &["SIGNATURE_HEADER_NOT_JSON"],
        Reason::SignatureHeaderNotObject => &["SIGNATURE_HEADER_NOT_OBJECT", "TOKEN_UNDECODABLE"],
        Reason::ProtectedHeaderMissing => &["TOKEN_UNDECODABLE"],
        Reason::ProtectedHeaderNotBase64url | Reason::SignatureNotBase64url => {
            &["TOKEN_UNDECODABLE", "TOKEN_MALFORMED"]
        }
        Reason::ProtectedHeaderNotJson => &["TOKEN_UNDECODABLE", "ALG_NOT_ALLOWED"],
        Reason::SignatureMissing => &["SIGNATURE_MISMATCH"],
        Reason::SignatureEmpty => &["SIGNATURE_EMPTY"],
        Reason::AlgMissing | Reason::AlgNotAllowed => &["ALG_NOT_ALLOWED"],
        Reason::KeyAlgMismatch => &["KEY_ALG_MISMATCH"],
        Reason::EcdsaSignatureLength => &["ECDSA_SIGNATURE_LENGTH"],
        Reason::SignatureMismatch => &["SIGNATURE_MISMATCH"],
        Reason::ProtectedUriMissing => &["PH_MISSING_URI"],
        Reason::ProtectedMethodMissing => &["PH_MISSING_METHOD"],
        Reason::ProtectedSourceMissing => &["PH_MISSING_SOURCE"],
        Reason::UriMismatch => &["URI_MISMATCH"],
        Reason::MethodMismatch => &["METHOD_MISMATCH"],
        Reason::SourceMismatch => &["SOURCE_MISMATCH"],
        Reason::DateMissingInHttp => &["DATE_MISSING_IN_HTTP"],
        Reason::DateMismatch => &["DATE_MISMATCH"],
        Reason::DestinationNotProtected => &["DEST_NOT_PROTECTED"],
        Reason::DestinationMissingInHttp => &["DEST_MISSING_IN_HTTP"],
        Reason::DestinationMismatch => &["DEST_MISMATCH"],
        _ => &[],
    }
}

/// Returns true for the reasons of checks that run after the signature has verified.
fn is_after_signature(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::ProtectedUriMissing
            | Reason::ProtectedMethodMissing
            | Reason::ProtectedSourceMissing
            | Reason::UriMismatch
            | Reason::MethodMismatch
            | Reason::SourceMismatch
            | Reason::DateMissingInHttp
            | Reason::DateMismatch
            | Reason::DestinationNotProtected
            | Reason::DestinationMissingInHttp
            | Reason::DestinationMismatch
    )
}

/// Names the documented deviation that explains a disagreement, if one does.
fn deviation(
    case: &Object,
    request: &Request,
    verdict: &fspiop_guard_core::Verdict,
) -> Option<&'static str> {
    let error_class = string(case, "error_class").unwrap_or_default();
    let legacy_valid = match case.get("legacy_19_18_8") {
        Some(Value::Object(legacy)) => string(legacy, "expected").as_deref() == Some("valid"),
        _ => false,
    };
    let raw_verifies = matches!(
        case.get("signature_verifies_over_raw_body"),
        Some(Value::Bool(true))
    );
    let form = verdict.payload_form.map(|f| f.name());

    if verdict.accepted {
        if error_class == "BODY_CLAIM_REJECTED" {
            return Some("exp/nbf in the body are not JWT claims");
        }
        if legacy_valid && matches!(form, Some("raw") | Some("insertion-json")) {
            return Some("insertion-order signature accepted (SDK 19.18.8 accepts it)");
        }
        if form == Some("raw") && raw_verifies {
            return Some("raw-bytes signature accepted");
        }
        return None;
    }

    // A check that runs after the signature failed here, where the SDK stopped earlier:
    // at its body-claim check, or at the signature because it tries only one payload form.
    let after_signature = verdict.reason.is_some_and(is_after_signature);
    if after_signature && error_class == "BODY_CLAIM_REJECTED" {
        return Some("exp/nbf in the body are not JWT claims");
    }
    let legacy_class = match case.get("legacy_19_18_8") {
        Some(Value::Object(legacy)) => string(legacy, "error_class").unwrap_or_default(),
        _ => String::new(),
    };
    let reason_classes = verdict.reason.map(corpus_classes).unwrap_or_default();
    if after_signature
        && error_class == "SIGNATURE_MISMATCH"
        && (raw_verifies || reason_classes.contains(&legacy_class.as_str()))
    {
        return Some("signature verifies over another payload form; a later check fails");
    }

    if matches!(
        verdict.reason,
        Some(
            Reason::SignatureHeaderTooLarge
                | Reason::ProtectedHeaderTooLarge
                | Reason::SignatureTooLarge
        )
    ) {
        return Some("size limit on FSPIOP-Signature (the SDK has none)");
    }

    let source = request.headers.get("fspiop-source").unwrap_or_default();
    if error_class == "KEY_UNUSABLE"
        && verdict.reason == Some(Reason::UnknownSource)
        && OBJECT_PROTOTYPE_MEMBERS.contains(&source.as_ref())
    {
        return Some("no prototype-property key lookup");
    }
    None
}

#[test]
fn corpus_verdicts_match_the_sdk() {
    let Some(dir) = jws_dir() else { return };
    // Start on a fresh line: the test harness has printed the test name without one.
    println!();
    let cases = load_cases(&dir);
    let profile = Profile::mojaloop_sdk();

    let mut passed = 0usize;
    let mut failed = Vec::new();
    let mut per_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut deviations: BTreeMap<&'static str, usize> = BTreeMap::new();

    for case in &cases {
        let name = string(case, "name").unwrap();
        let expected_valid = string(case, "expected").as_deref() == Some("valid");
        let class = string(case, "error_class").unwrap_or_else(|| "valid".to_owned());
        let request = request_of(case);
        let keys = keys_of(case);
        let ctx = VerifyContext {
            profile: &profile,
            keys: &keys,
            rules: None,
            now: CORPUS_TIME,
            crypto: &RingVerifier,
        };
        let verdict = verify(&request, &ctx);

        let agrees = if verdict.accepted != expected_valid {
            false
        } else if let Some(reason) = verdict.reason {
            corpus_classes(reason).contains(&class.as_str())
        } else {
            true
        };
        let explained = (!agrees)
            .then(|| deviation(case, &request, &verdict))
            .flatten();

        let entry = per_class.entry(class.clone()).or_default();
        if agrees || explained.is_some() {
            passed += 1;
            entry.0 += 1;
            if let Some(deviation) = explained {
                *deviations.entry(deviation).or_default() += 1;
                println!("deviation {name}: {deviation}");
            }
        } else {
            entry.1 += 1;
            failed.push(format!(
                "{name}: expected {} ({class}), got {} ({})",
                if expected_valid { "valid" } else { "invalid" },
                if verdict.accepted { "valid" } else { "invalid" },
                verdict.message()
            ));
        }
    }

    println!("per error_class (passed/failed):");
    for (class, (ok, bad)) in &per_class {
        println!("  {class:<28} {ok}/{bad}");
    }
    println!("deviations:");
    for (deviation, count) in &deviations {
        println!("  {count} x {deviation}");
    }
    for failure in &failed {
        println!("FAILED {failure}");
    }
    println!("{passed} passed, {} failed", failed.len());
    assert!(
        failed.is_empty(),
        "{} corpus cases disagree with the SDK",
        failed.len()
    );
}

/// Returns true for a body a JSON serialiser could have written: it parses, and
/// `JSON.stringify` of the parsed value gives the same bytes back.
fn is_serialiser_output(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let limits = json::Limits::default();
    json::parse(text, &limits).is_ok_and(|parsed| {
        json::stringify(&parsed.value, json::KeyOrder::Insertion).as_bytes() == body
    })
}

#[test]
fn serialised_bodies_get_the_verdicts_of_received_ones() {
    let Some(dir) = jws_dir() else { return };
    let profile = Profile::mojaloop_sdk();
    let mut compared = 0usize;
    for case in &load_cases(&dir) {
        let request = request_of(case);
        let body = request.body.as_deref().unwrap_or_default();
        if !is_serialiser_output(body) {
            continue;
        }
        let keys = keys_of(case);
        let ctx = VerifyContext {
            profile: &profile,
            keys: &keys,
            rules: None,
            now: CORPUS_TIME,
            crypto: &RingVerifier,
        };
        let received = serde_json::to_string(&verify(&request, &ctx)).unwrap();
        let serialised =
            serde_json::to_string(&verify_body_from(&request, &ctx, BodyOrigin::Serialised))
                .unwrap();
        assert_eq!(serialised, received, "{}", string(case, "name").unwrap());
        compared += 1;
    }
    println!("{compared} corpus bodies compared as serialised and as received");
    assert!(compared > 0, "no corpus body is serialiser output");
}

fn signer_mode(signer: &Object) -> Option<SignerMode> {
    let package = string(signer, "package")?;
    let method = string(signer, "method")?;
    if method.starts_with("getSignature") {
        Some(SignerMode::GetSignature)
    } else if method == "sign" && package.ends_with("@19.19.1") {
        Some(SignerMode::Sdk1919)
    } else if method == "sign" && package.ends_with("@19.18.8") {
        Some(SignerMode::Sdk1918)
    } else {
        None
    }
}

#[test]
fn signer_output_matches_the_sdk_byte_for_byte() {
    let Some(dir) = jws_dir() else { return };
    println!();
    let cases = load_cases(&dir);
    let mut compared = 0usize;

    for case in &cases {
        let name = string(case, "name").unwrap();
        let Some(Value::Object(signer)) = case.get("signer") else {
            continue;
        };
        let Some(Value::Object(output)) = signer.get("output") else {
            continue;
        };
        let Some(mode) = signer_mode(signer) else {
            continue;
        };
        let key_file = string(signer, "key_file").unwrap();
        let pem = std::fs::read_to_string(dir.join(&key_file)).unwrap();
        let key = SigningKey::from_pem(&pem).unwrap();
        if !matches!(key.public_key().kind(), KeyKind::Rsa { .. }) {
            continue;
        }

        let Some(Value::Object(input)) = signer.get("input") else {
            panic!("{name}: no input")
        };
        let mut headers = Headers::new();
        if let Some(Value::Object(map)) = input.get("headers") {
            for (header, value) in map.iter() {
                headers.push(&header.to_string_lossy(), &value.as_str().unwrap());
            }
        }
        let body = match input.get("body").or_else(|| input.get("data")) {
            Some(Value::String(text)) => SignBody::Text(text.to_string_lossy()),
            Some(value) => SignBody::Json(value.clone()),
            None => panic!("{name}: no body"),
        };
        let sign_input = SignInput {
            method: string(input, "method").unwrap(),
            url: string(input, "uri")
                .or_else(|| string(input, "url"))
                .unwrap(),
            headers,
            body,
        };
        let signed = sign::sign_request(&key, mode, None, &sign_input).unwrap();

        let Some(Value::Object(expected_headers)) = output.get("headers") else {
            panic!()
        };
        assert_eq!(
            Some(signed.signature_header.clone()),
            string(expected_headers, "fspiop-signature"),
            "{name}: FSPIOP-Signature"
        );
        if let Some(uri) = string(expected_headers, "fspiop-uri") {
            assert_eq!(signed.fspiop_uri, uri, "{name}: FSPIOP-URI");
        }
        if let Some(body) = string(output, "body") {
            assert_eq!(signed.body, body, "{name}: wire body");
        }
        compared += 1;
    }
    println!("{compared} passed, 0 failed");
    assert!(compared > 0, "no RSA signer records found");
}
