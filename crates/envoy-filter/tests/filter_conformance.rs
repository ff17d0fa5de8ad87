//! Same cases, two engines: every case of the Mojaloop SDK conformance corpus goes
//! through the filter module in the wasmtime host, and the decision (accept or reject,
//! FSPIOP error code, reason code) must equal the native core's verdict for the same
//! profile and request rules. It runs once with the proxy's `verify_signature` foreign
//! function and once without it (the in-module fallback), and the two must agree.
//!
//! Reads `$FSPIOP_SHARED/conformance/jws/corpus.json` and skips with a message when it
//! is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use fspiop_guard_core::keys::KeyStore;
use fspiop_guard_core::keyset::{KeySetDocument, KeySetEntry};
use fspiop_guard_core::{
    Headers, Profile, Request, RequestRules, RingVerifier, VerifyContext, verify,
};
use proxy_wasm_host::{CallReply, HttpRequest};
use serde_json::Value;
use support::{Decision, KEY_CLUSTER};

/// `Date` of the corpus requests: Wed, 13 May 2026 14:39:12 GMT.
const CORPUS_TIME: u64 = 1_778_683_152;

/// Request rules under which every corpus case is verified, GET included.
const RULES_JSON: &str = r#"{"methods":["GET","POST","PUT","PATCH","DELETE"],"put_parties":true}"#;

fn corpus() -> Option<Vec<Value>> {
    let Some(shared) = std::env::var_os("FSPIOP_SHARED") else {
        eprintln!(
            "SKIPPED: FSPIOP_SHARED is not set; point it at the folder holding conformance/jws"
        );
        return None;
    };
    let path = PathBuf::from(shared).join("conformance/jws/corpus.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIPPED: cannot read {}", path.display());
        return None;
    };
    Some(
        serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .clone(),
    )
}

fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn native_decision(case: &Value) -> Decision {
    let request = &case["request"];
    let mut headers = Headers::new();
    for (name, value) in request["headers"].as_object().unwrap() {
        headers.push(name, value.as_str().unwrap_or_default());
    }
    let request = Request {
        method: request["method"].as_str().unwrap().to_owned(),
        target: request["url"].as_str().unwrap().to_owned(),
        headers,
        body: request["body"].as_str().map(|b| b.as_bytes().to_vec()),
    };
    let mut keys = KeyStore::new();
    for (participant, pem) in case["keys"].as_object().unwrap() {
        let _ = keys.insert_pem(participant, pem.as_str().unwrap_or_default());
    }
    let rules: RequestRules = serde_json::from_str(RULES_JSON).unwrap();
    let verdict = verify(
        &request,
        &VerifyContext {
            profile: &Profile::mojaloop_sdk(),
            keys: &keys,
            rules: Some(&rules),
            now: CORPUS_TIME as i64,
            crypto: &RingVerifier,
        },
    );
    Decision {
        accepted: verdict.accepted,
        status: None,
        error_code: verdict.reason.map(|r| r.fspiop_error().code().to_owned()),
        reason: verdict.reason.map(|r| r.code().to_owned()),
    }
}

/// Builds the request as Envoy hands it to the filter: `host` becomes `:authority`,
/// the hop-by-hop `connection` header is gone, values are the wire's Latin-1 bytes,
/// and the body arrives in chunks of `chunk` bytes.
fn host_request(case: &Value, chunk: usize) -> HttpRequest {
    let request = &case["request"];
    let mut out = HttpRequest::new(
        request["method"].as_str().unwrap(),
        request["url"].as_str().unwrap(),
    );
    for (name, value) in request["headers"].as_object().unwrap() {
        let name = name.to_ascii_lowercase();
        let value = value.as_str().unwrap_or_default();
        match name.as_str() {
            "host" => {
                if let Some(slot) = out.headers.iter_mut().find(|(n, _)| n == ":authority") {
                    slot.1 = latin1(value);
                }
            }
            "connection" => {}
            _ => out = out.header(&name, latin1(value)),
        }
    }
    if let Some(body) = request["body"].as_str()
        && !body.is_empty()
    {
        out = support::rechunk(out.chunk(body.as_bytes()), chunk);
    }
    out
}

/// Returns the plugin configuration. Keys come from the key endpoint, as keysync serves them,
/// because a case's key may be one that does not parse, which an inline key may not be.
fn plugin_config(signature_path: &str) -> String {
    format!(
        r#"{{"profile":"mojaloop-sdk","key_source":{{"cluster":"{KEY_CLUSTER}","refresh_on_miss":{{"enabled":false}}}},"request_rules":{RULES_JSON},"signature_path":"{signature_path}","max_body_bytes":67108864}}"#
    )
}

/// Returns the key-set document with the case's keys. A participant no case uses has a
/// valid key, so that a case whose only key does not parse still loads as a key set
/// (a set without any usable key is refused and the filter keeps waiting for keys).
fn keyset_document(case: &Value) -> String {
    let mut document = KeySetDocument::new("1");
    for (participant, pem) in case["keys"].as_object().unwrap() {
        document.push(
            participant,
            KeySetEntry::pem(pem.as_str().unwrap_or_default()),
        );
    }
    let filler = support::public_pem(&support::signing_key("payerfsp.key.pem"));
    document.push("fspiop-guard-conformance-filler", KeySetEntry::pem(filler));
    document.to_json()
}

/// Signature checks made by the foreign function and inside the module.
#[derive(Default)]
struct PathCounts {
    foreign: i64,
    in_wasm: i64,
}

fn filter_decision(
    case: &Value,
    foreign_function: bool,
    chunk: usize,
    counts: &mut PathCounts,
) -> Decision {
    let mut config = support::host_config(&plugin_config("auto"));
    config.start_unix_nanos = CORPUS_TIME * 1_000_000_000;
    config.verify_signature_foreign_function = foreign_function;
    config.buffer_limit_bytes = 64 * 1024 * 1024;
    let mut host = support::start(config);
    let document = keyset_document(case);
    host.set_http_call_handler(Box::new(move |_call| CallReply::ok(document.clone())));
    host.advance(Duration::from_secs(1)).unwrap();
    assert_eq!(host.metric("fspiop_guard.keys.fetch_ok"), Some(1));
    let mut decision = support::send(&mut host, &host_request(case, chunk));
    counts.foreign += host
        .metric("fspiop_guard.signature_checks.foreign_function")
        .unwrap_or(0);
    counts.in_wasm += host
        .metric("fspiop_guard.signature_checks.in_wasm")
        .unwrap_or(0);
    decision.status = None;
    decision
}

#[test]
fn corpus_verdicts_match_native_core_on_both_signature_paths() {
    let Some(cases) = corpus() else {
        return;
    };

    let mut failures = Vec::new();
    let mut accepted = 0;
    let mut with_foreign_counts = PathCounts::default();
    let mut without_foreign_counts = PathCounts::default();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let native = native_decision(case);
        let with_foreign = filter_decision(case, true, 1 << 20, &mut with_foreign_counts);
        let in_wasm = filter_decision(case, false, 7, &mut without_foreign_counts);

        if with_foreign != native {
            failures.push(format!(
                "{name}: foreign-function path {with_foreign:?}, native {native:?}"
            ));
        }
        if in_wasm != native {
            failures.push(format!(
                "{name}: in-wasm path (7-byte chunks) {in_wasm:?}, native {native:?}"
            ));
        }
        accepted += usize::from(native.accepted);
    }

    println!(
        "filter conformance: {} cases, {} failed, {accepted} accepted; signature checks with the \
         foreign function: {} foreign + {} in-wasm (PS*), without it: {} in-wasm",
        cases.len(),
        failures.len(),
        with_foreign_counts.foreign,
        with_foreign_counts.in_wasm,
        without_foreign_counts.in_wasm,
    );
    assert!(
        with_foreign_counts.foreign > 0,
        "the foreign-function path was never used"
    );
    assert_eq!(
        without_foreign_counts.foreign, 0,
        "foreign checks counted without the function"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
