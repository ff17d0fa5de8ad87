//! Attacks on the filter module in the wasmtime host. Each test sends inputs or
//! sequences meant to get a request past the filter, make it trap or stall, hammer the
//! key endpoint, lose its key set, or make it accept a configuration it should reject.
//!
//! Each test's comment names the attack and the behaviour that defeats it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proxy_wasm_host::{CallReply, Host, HostError, HttpRequest, StreamId, StreamState};
use support::{KEY_CLUSTER, START_UNIX, signed_quote, signing_key};

const BODY: &str = r#"{"quoteId":"0b0c8a52-3d5e-4d0f-9b8e-0f6a1c2d3e4f","transactionId":"5f1f0a9e-7d1c-4a43-8a4e-2c1f3b9d8e7a","amount":{"amount":"10","currency":"USD"}}"#;

const TRANSFER_BODY: &str = r#"{"transferState":"COMMITTED","completedTimestamp":"2026-12-04T12:00:00.000Z","fulfilment":"WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"}"#;

fn now(host: &Host) -> u64 {
    host.now_unix_nanos() / 1_000_000_000
}

fn inline_host(extra: &str) -> Host {
    let key = signing_key("payerfsp.key.pem");
    support::start(support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        extra,
    )))
}

fn hold_headers_host(extra: &str) -> Host {
    let key = signing_key("payerfsp.key.pem");
    let extra = if extra.is_empty() {
        r#""flow":"hold-headers""#.to_owned()
    } else {
        format!(r#""flow":"hold-headers",{extra}"#)
    };
    let mut config = support::host_config(&support::inline_config(&[("payerfsp", &key)], &extra));
    config.allow_on_headers_stop_iteration = true;
    support::start(config)
}

fn good_request() -> HttpRequest {
    signed_quote(
        &signing_key("payerfsp.key.pem"),
        "payerfsp",
        BODY,
        START_UNIX,
    )
}

/// Builds a request with a JSON body and FSPIOP headers but no signature.
fn unsigned(method: &str, path: &str, body: &str) -> HttpRequest {
    HttpRequest::new(method, path)
        .header(
            "content-type",
            "application/vnd.interoperability.transfers+json;version=1.1",
        )
        .header("fspiop-source", "payerfsp")
        .header("fspiop-destination", "payeefsp")
        .header("date", "Fri, 04 Dec 2026 12:00:00 GMT")
        .header("content-length", body.len().to_string())
        .chunk(body)
}

fn header_value(headers: &[(String, Vec<u8>)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// Starts headers and body of `request` on worker 0 without finishing the stream.
fn open_stream(host: &mut Host, request: &HttpRequest) -> StreamId {
    let stream = host.new_stream(0).unwrap();
    let headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    host.request_headers(stream, &headers, false).unwrap();
    let body = request.body_chunks.concat();
    host.request_body(stream, &body, true).unwrap();
    stream
}

/// Starts a fetching filter whose key endpoint serves what the test puts in the returned
/// cell, and loads the first key set.
fn fetching_host(first: CallReply) -> (Host, Arc<Mutex<CallReply>>) {
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let reply = Arc::new(Mutex::new(first));
    let served = Arc::clone(&reply);
    host.set_http_call_handler(Box::new(move |_call| served.lock().unwrap().clone()));
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 1);
    (host, reply)
}

fn payer_keyset(version: &str) -> CallReply {
    CallReply::ok(support::keyset(
        version,
        &[("payerfsp", &[&signing_key("payerfsp.key.pem")])],
    ))
}

// ---------------------------------------------------------------------------
// Key endpoint hammering
// ---------------------------------------------------------------------------

/// A client that makes up a new `FSPIOP-Source` on every request turns each one into a
/// miss. Participants the key set does not name share one refresh limit, so 50 such
/// requests fetch the key set at most once per `min_interval_ms`.
#[test]
fn made_up_sources_share_one_refresh_limit() {
    let (mut host, _reply) = fetching_host(payer_keyset("1"));
    let forger = signing_key("payerfsp-next.key.pem");
    let before = host.calls_made_to(KEY_CLUSTER);

    let t = now(&host);
    for i in 0..50 {
        let request = signed_quote(&forger, &format!("attacker-{i}"), BODY, t);
        let decision = support::send(&mut host, &request);
        assert_eq!(decision.reason.as_deref(), Some("UNKNOWN_SOURCE"));
    }
    let fetches = host.calls_made_to(KEY_CLUSTER) - before;
    assert!(
        fetches <= 2,
        "50 requests with made-up FSPIOP-Source values caused {fetches} key-set fetches"
    );
}

/// Made-up sources of 8 KiB each leave no shared-data entry behind: shared state is
/// never keyed on a name the key set does not hold.
#[test]
fn made_up_sources_leave_no_shared_data() {
    let (mut host, _reply) = fetching_host(payer_keyset("1"));
    let forger = signing_key("payerfsp-next.key.pem");
    let t = now(&host);
    let long = "x".repeat(8 * 1024);
    let mut stored = 0usize;
    for i in 0..20 {
        let source = format!("{long}{i}");
        support::send(&mut host, &signed_quote(&forger, &source, BODY, t));
        if host
            .shared_data(&format!("fspiop-guard.refresh.{source}"))
            .is_some()
        {
            stored += 1;
        }
    }
    assert_eq!(
        stored, 0,
        "{stored} made-up 8 KiB sources were kept in shared data for good"
    );
}

// ---------------------------------------------------------------------------
// Refresh on a miss
// ---------------------------------------------------------------------------

/// A client sends a bad signature for `payerfsp` while the key endpoint is slow, then
/// goes away. Envoy cancels the refresh callout with the stream, so its answer never
/// arrives. The worker drops the refresh with the stream, so the next miss after
/// `min_interval_ms` refreshes again and the request signed with the new key passes.
#[test]
fn abandoned_refresh_does_not_block_later_ones() {
    let payer = signing_key("payerfsp.key.pem");
    let next = signing_key("payerfsp-next.key.pem");
    let (mut host, reply) = fetching_host(payer_keyset("1"));

    // The endpoint hangs; the client gives up on its request while the refresh is in flight.
    *reply.lock().unwrap() = CallReply::Hold;
    let request = signed_quote(&next, "payerfsp", BODY, now(&host));
    let abandoned = open_stream(&mut host, &request);
    assert_eq!(host.state(abandoned).unwrap(), StreamState::Paused);
    host.finish_stream(abandoned).unwrap();
    assert!(
        host.pending_calls().is_empty(),
        "the callout was not cancelled"
    );

    // The interval passes and the endpoint now serves the new key.
    *reply.lock().unwrap() = CallReply::ok(support::keyset("2", &[("payerfsp", &[&next, &payer])]));
    host.advance(Duration::from_secs(31)).unwrap();
    let fetches = host.calls_made_to(KEY_CLUSTER);
    let outcome = host
        .send(0, &signed_quote(&next, "payerfsp", BODY, now(&host)))
        .unwrap();
    assert_eq!(
        host.calls_made_to(KEY_CLUSTER),
        fetches + 1,
        "the miss after the interval did not refresh; the request is {:?}",
        outcome.state
    );
    assert_eq!(outcome.state, StreamState::Forwarded, "{outcome:?}");
}

/// Returns the request with its `FSPIOP-Source` replaced. The signature no longer
/// matches, but an unknown source is rejected before the signature is checked.
fn with_source(request: &HttpRequest, source: &str) -> HttpRequest {
    let mut out = request.clone();
    for (name, value) in &mut out.headers {
        if name == "fspiop-source" {
            *value = source.as_bytes().to_vec();
        }
    }
    out
}

/// A client sends requests with made-up 48 KiB `FSPIOP-Source` values and resets each
/// stream while its refresh is in flight. A refresh is dropped with the stream that
/// sent it, so the VM's memory stays flat.
#[test]
fn abandoned_refreshes_do_not_grow_memory() {
    let (mut host, reply) = fetching_host(payer_keyset("1"));
    *reply.lock().unwrap() = CallReply::Hold;
    let template = signed_quote(
        &signing_key("payerfsp-next.key.pem"),
        "payerfsp",
        BODY,
        now(&host),
    );
    let long = "s".repeat(48 * 1024);

    let mut before = None;
    for i in 0..100 {
        let request = with_source(&template, &format!("{long}{i}"));
        let stream = open_stream(&mut host, &request);
        host.finish_stream(stream).unwrap();
        if i == 9 {
            before = host.memory_pages(0);
        }
    }
    let (before, after) = (before.unwrap(), host.memory_pages(0).unwrap());
    assert!(
        after <= before + 16,
        "90 abandoned refreshes with 48 KiB sources grew the VM from {before} to {after} pages of 64 KiB"
    );
}

/// A 48 KiB `FSPIOP-Source` is quoted in logs and in the reply only as a short prefix
/// with its length, so one rejected request writes a few KiB at most.
#[test]
fn long_source_is_clipped_in_logs_and_reply() {
    let (mut host, _reply) = fetching_host(payer_keyset("1"));
    let template = signed_quote(
        &signing_key("payerfsp.key.pem"),
        "payerfsp",
        BODY,
        now(&host),
    );
    host.take_logs();

    let request = with_source(&template, &"s".repeat(48 * 1024));
    let outcome = host.send(0, &request).unwrap();
    let logged: usize = host.take_logs().iter().map(|line| line.message.len()).sum();
    let reply = outcome.local_reply.map_or(0, |reply| reply.body.len());
    assert!(
        logged <= 4096,
        "one rejected request wrote {logged} bytes of log"
    );
    assert!(reply <= 4096, "the rejection body is {reply} bytes");
}

// ---------------------------------------------------------------------------
// Requests that skip verification
// ---------------------------------------------------------------------------

/// `PUT /parties/...` needs no signature by default. `PUT /parties/../transfers/<id>`
/// would match that rule, but any hop that resolves dot segments (Envoy or an Istio
/// sidecar with `normalize_path`, Node's WHATWG `URL`, nginx) delivers it as
/// `PUT /transfers/<id>`. A path with dot segments, in any encoding, is never exempt.
#[test]
fn dot_segments_never_reach_the_put_parties_exemption() {
    let mut host = inline_host("");
    let mut forwarded = Vec::new();
    for path in [
        "/parties/../transfers/b51ec534-ee48-4575-b6a9-ead2955b8069",
        "/parties/%2e%2e/transfers/b51ec534-ee48-4575-b6a9-ead2955b8069",
        "/parties/MSISDN/../../transfers/b51ec534-ee48-4575-b6a9-ead2955b8069",
    ] {
        let outcome = host.send(0, &unsigned("PUT", path, TRANSFER_BODY)).unwrap();
        if outcome.state == StreamState::Forwarded {
            forwarded.push(path);
        }
    }
    assert!(
        forwarded.is_empty(),
        "unsigned PUT requests went upstream with their body: {forwarded:?}"
    );
}

/// The same through a configured `exempt_paths` prefix.
#[test]
fn dot_segments_never_reach_an_exempt_path() {
    let mut host = inline_host(r#""request_rules":{"exempt_paths":["/health"]}"#);
    let outcome = host
        .send(0, &unsigned("POST", "/health/../quotes", BODY))
        .unwrap();
    assert_ne!(
        outcome.state,
        StreamState::Forwarded,
        "unsigned POST /health/../quotes went upstream"
    );
}

/// `headers.verified` may name a header outside `x-fspiop-guard-`. A client's forged
/// copy of the configured name is removed like the filter's own headers, in both
/// flows, on verified requests and on requests that need no signature.
#[test]
fn forged_custom_verified_header_never_reaches_upstream() {
    let forged = r#"participant="payeefsp", kid="x", payload="raw""#;

    let mut host = hold_headers_host(r#""headers":{"verified":"x-dfsp-verified"}"#);
    let request = HttpRequest::new("GET", "/parties/MSISDN/123")
        .header("fspiop-source", "payerfsp")
        .header("x-dfsp-verified", forged);
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    let headers = outcome.forwarded_headers.unwrap();
    assert_eq!(
        header_value(&headers, "x-dfsp-verified"),
        None,
        "hold-headers: a client's x-dfsp-verified reached the upstream"
    );

    let mut host = inline_host(r#""headers":{"verified":"x-dfsp-verified"}"#);
    let outcome = host
        .send(0, &good_request().header("x-dfsp-verified", forged))
        .unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    let headers = outcome.forwarded_headers.unwrap();
    assert_eq!(
        header_value(&headers, "x-dfsp-verified"),
        None,
        "stream: a client's x-dfsp-verified reached the upstream"
    );
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

fn config_error(plugin_config: &str) -> Option<String> {
    match Host::start(support::module(), support::host_config(plugin_config)) {
        Err(HostError::ConfigRejected { logs, .. }) => Some(format!("{logs:?}")),
        Err(other) => panic!("expected ConfigRejected, got {other}"),
        Ok(_) => None,
    }
}

/// An empty string in `exempt_paths` (an empty list item a template rendered) would
/// be a prefix of every path. The configuration is rejected, naming
/// `request_rules.exempt_paths`.
#[test]
fn empty_exempt_path_is_rejected() {
    let config = support::fetching_config(r#""request_rules":{"exempt_paths":[""]}"#);
    let error = config_error(&config);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("request_rules.exempt_paths")),
        "exempt_paths [\"\"] was accepted, or rejected without naming the field: {error:?}"
    );
}

// ---------------------------------------------------------------------------
// Foreign-function path, in-wasm path and the native core
// ---------------------------------------------------------------------------

/// Order n of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Returns `a - b` for 32-byte big-endian numbers with `a >= b`.
fn sub_256(a: &[u8; 32], b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut digit = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        out[i] = digit as u8;
    }
    out
}

/// Returns the JWS signature bytes of a signed request.
fn signature_of(request: &HttpRequest) -> Vec<u8> {
    let header = header_value(&request.headers, "fspiop-signature").unwrap();
    let value: serde_json::Value = serde_json::from_str(&header).unwrap();
    fspiop_guard_core::b64::decode(value["signature"].as_str().unwrap()).unwrap()
}

/// Returns the request with its JWS signature bytes replaced.
fn with_signature(request: &HttpRequest, signature: &[u8]) -> HttpRequest {
    let mut out = request.clone();
    for (name, value) in &mut out.headers {
        if name == "fspiop-signature" {
            let mut json: serde_json::Value = serde_json::from_slice(value).unwrap();
            json["signature"] = fspiop_guard_core::b64::encode(signature).into();
            *value = serde_json::to_vec(&json).unwrap();
        }
    }
    out
}

/// Verifies a host request with the native core, as `fspiop-guard verify` would.
fn native_decision(request: &HttpRequest, keys: &fspiop_guard_core::KeyStore) -> support::Decision {
    let mut headers = fspiop_guard_core::Headers::new();
    let mut method = String::new();
    let mut target = String::new();
    for (name, value) in &request.headers {
        let value: String = value.iter().map(|&b| char::from(b)).collect();
        match name.as_str() {
            ":method" => method = value,
            ":path" => target = value,
            ":authority" => headers.push("host", &value),
            ":scheme" => {}
            _ => headers.push(name, &value),
        }
    }
    let body = request.body_chunks.concat();
    let request = fspiop_guard_core::Request {
        method,
        target,
        headers,
        body: (!body.is_empty()).then_some(body),
    };
    let verdict = fspiop_guard_core::verify(
        &request,
        &fspiop_guard_core::VerifyContext {
            profile: &fspiop_guard_core::Profile::mojaloop_sdk(),
            keys,
            rules: Some(&fspiop_guard_core::RequestRules::default()),
            now: START_UNIX as i64,
            crypto: &fspiop_guard_core::RingVerifier,
        },
    );
    support::Decision {
        accepted: verdict.accepted,
        status: None,
        error_code: verdict.reason.map(|r| r.fspiop_error().code().to_owned()),
        reason: verdict.reason.map(|r| r.code().to_owned()),
    }
}

/// Checks ES256 signatures whose `r` or `s` has a leading zero byte or its top bit set,
/// the cases the conversion to ASN.1 DER for Envoy's `verify_signature` must get right.
/// Forged ones follow: `r` or `s` zero, equal to the group order, all ones, and the
/// malleable `s' = n - s`. The foreign-function path, the in-wasm path and the native
/// core must reach the same decision on each.
#[test]
fn ecdsa_edge_signatures_agree_on_every_path() {
    let key = signing_key("ecfsp.key.pem");
    let mut keys = fspiop_guard_core::KeyStore::new();
    keys.insert_pem("ecfsp", &support::public_pem(&key))
        .unwrap();
    let config = support::inline_config(&[("ecfsp", &key)], "");
    let mut foreign = support::start(support::host_config(&config));
    let mut in_wasm = support::start(support::host_config(&support::inline_config(
        &[("ecfsp", &key)],
        r#""signature_path":"in-wasm""#,
    )));

    let mut cases: Vec<(String, HttpRequest)> = Vec::new();
    let (mut leading_zero, mut top_bit) = (0, 0);
    // A zero first byte in r or s comes with about one signature in 128, so 4000 tries
    // find one except with a probability near e^-31.
    for i in 0..4000 {
        if leading_zero >= 4 && top_bit >= 4 {
            break;
        }
        let body = format!(r#"{{"quoteId":"{i}","amount":{{"amount":"1","currency":"USD"}}}}"#);
        let request = signed_quote(&key, "ecfsp", &body, START_UNIX);
        let signature = signature_of(&request);
        let (r, s) = signature.split_at(32);
        if r[0] == 0 || s[0] == 0 {
            leading_zero += 1;
            cases.push((format!("leading zero {i}"), request));
        } else if (r[0] & 0x80 != 0 || s[0] & 0x80 != 0) && top_bit < 4 {
            top_bit += 1;
            cases.push((format!("top bit {i}"), request));
        }
    }
    assert!(leading_zero >= 1, "no signature with a leading zero byte");

    let base = signed_quote(&key, "ecfsp", BODY, START_UNIX);
    let signature = signature_of(&base);
    let (r, s) = signature.split_at(32);
    let high_s = sub_256(&P256_ORDER, s);
    for (name, forged) in [
        ("r zero", [&[0u8; 32][..], s].concat()),
        ("s zero", [r, &[0u8; 32][..]].concat()),
        ("r order", [&P256_ORDER[..], s].concat()),
        ("s order", [r, &P256_ORDER[..]].concat()),
        ("all ones", vec![0xff; 64]),
        ("all zero", vec![0; 64]),
        ("s negated", [r, &high_s[..]].concat()),
    ] {
        cases.push((name.to_owned(), with_signature(&base, &forged)));
    }

    let mut disagreements = Vec::new();
    for (name, request) in &cases {
        let native = native_decision(request, &keys);
        let mut by_foreign = support::send(&mut foreign, request);
        let mut by_wasm = support::send(&mut in_wasm, request);
        by_foreign.status = None;
        by_wasm.status = None;
        if by_foreign != native || by_wasm != native {
            disagreements.push(format!(
                "{name}: foreign {by_foreign:?}, in-wasm {by_wasm:?}, native {native:?}"
            ));
        }
    }
    assert!(
        foreign.metric("fspiop_guard.signature_checks.foreign_function") > Some(0),
        "the foreign function was never used"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

// ---------------------------------------------------------------------------
// More configuration
// ---------------------------------------------------------------------------

/// An inline key is written by the operator, so a PEM that does not parse rejects the
/// configuration, naming `keys.payerfsp`, instead of leaving the participant unusable.
#[test]
fn unparsable_inline_key_is_rejected() {
    let error = config_error(r#"{"keys":{"payerfsp":[{"pem":"not a PEM"}]}}"#);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("keys.payerfsp")),
        "an inline key that does not parse was accepted: {error:?}"
    );
}

/// In the `hold-headers` flow the filter overwrites `headers.verified` on every
/// verified request, so a name such as `content-length`, `host` or `fspiop-source`
/// would corrupt the request. Only `x-` names outside Envoy's own are accepted.
#[test]
fn verified_header_colliding_with_request_headers_is_rejected() {
    let mut accepted = Vec::new();
    for name in [
        "content-length",
        "transfer-encoding",
        "host",
        "fspiop-source",
        "fspiop-signature",
    ] {
        let config = support::fetching_config(&format!(r#""headers":{{"verified":"{name}"}}"#));
        if config_error(&config).is_none() {
            accepted.push(name);
        }
    }
    assert!(
        accepted.is_empty(),
        "headers.verified may overwrite these request headers: {accepted:?}"
    );
}

/// `key_source.path` and `key_source.authority` go into the key fetch's request
/// headers, so CR, LF and other control bytes reject the configuration, naming the
/// field.
#[test]
fn control_characters_in_key_source_are_rejected() {
    for (field, source) in [
        (
            "key_source.path",
            r#"{"cluster":"k","path":"/keyset\r\nx-injected: 1"}"#,
        ),
        (
            "key_source.authority",
            r#"{"cluster":"k","authority":"keysync\r\nx-injected: 1"}"#,
        ),
    ] {
        let error = config_error(&format!(r#"{{"key_source":{source}}}"#));
        assert!(
            error.as_deref().is_some_and(|e| e.contains(field)),
            "{field} with CR LF was accepted: {error:?}"
        );
    }
}

/// A participant listed twice in `keys` rejects the configuration, as a field listed
/// twice does: keeping either list would hide the mistake.
#[test]
fn duplicate_inline_participant_is_rejected() {
    let first =
        serde_json::to_string(&support::public_pem(&signing_key("payerfsp.key.pem"))).unwrap();
    let second =
        serde_json::to_string(&support::public_pem(&signing_key("payerfsp-next.key.pem"))).unwrap();
    let config =
        format!(r#"{{"keys":{{"payerfsp":[{{"pem":{first}}}],"payerfsp":[{{"pem":{second}}}]}}}}"#);
    assert!(
        config_error(&config).is_some(),
        "payerfsp listed twice in keys was accepted, with only its second key"
    );
}

/// Values as Istio sends them (every number a double), and the mistakes an operator
/// makes: each valid one is accepted and each invalid one rejected with the field named.
#[test]
fn invalid_configuration_names_the_field() {
    for extra in [
        r#""max_body_bytes":1.048576e6"#,
        r#""hold_timeout_ms":10000.0"#,
        r#""reject_status":400.0,"no_keys":{"status":503.0}"#,
        r#""max_body_bytes":null"#,
    ] {
        let config = support::fetching_config(extra);
        assert_eq!(config_error(&config), None, "{extra} was rejected");
    }

    for (extra, field) in [
        (r#""max_body_bytes":"1048576""#, "max_body_bytes"),
        (r#""max_body_bytes":1048576.5"#, "max_body_bytes"),
        (r#""max_body_bytes":-1"#, "max_body_bytes"),
        (r#""max_body_bytes":1e400"#, "max_body_bytes"),
        (r#""max_body_bytes":18446744073709551616"#, "max_body_bytes"),
        (r#""reject_status":200"#, "reject_status"),
        (r#""no_keys":{"mode":"FAIL-OPEN"}"#, "no_keys.mode"),
        (r#""no_keys":{"status":"503"}"#, "no_keys.status"),
        (r#""headers":{"verified":"x guard"}"#, "headers.verified"),
        (r#""headers":null"#, "headers"),
        (r#""flow":"hold_headers""#, "flow"),
        (
            r#""request_rules":{"methods":["post"]}"#,
            "request_rules.methods",
        ),
        (
            r#""request_rules":{"method":["POST"]}"#,
            "request_rules.method",
        ),
        (r#""signature_path":true"#, "signature_path"),
    ] {
        let config = support::fetching_config(extra);
        let error = config_error(&config);
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains(&format!("field {field}"))),
            "{extra}: expected a rejection naming {field}, got {error:?}"
        );
    }

    for (config, field) in [
        (
            r#"{"key_source":{"cluster":"k","refresh_on_miss":{"enabled":"true"}}}"#,
            "key_source.refresh_on_miss.enabled",
        ),
        (
            r#"{"key_source":{"cluster":"k","timeout_ms":1.0e3,"refresh_period_ms":5e2}}"#,
            "key_source.refresh_period_ms",
        ),
        (
            r#"{"key_source":{"cluster":"k","refresh_on_miss":{"min_interval":1}}}"#,
            "key_source.refresh_on_miss.min_interval",
        ),
    ] {
        let error = config_error(config);
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains(&format!("field {field}"))),
            "{config}: expected a rejection naming {field}, got {error:?}"
        );
    }

    // Whole-document mistakes: trailing data, a byte-order mark, deep nesting, bytes
    // that are not UTF-8, and a document over the size limit.
    let oversized = format!(
        r#"{{"key_source":{{"cluster":"k","path":"/{}"}}}}"#,
        "a".repeat(5 * 1024 * 1024)
    );
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for config in [
        r#"{"key_source":{"cluster":"k"}} {"#,
        "\u{feff}{\"key_source\":{\"cluster\":\"k\"}}",
        nested.as_str(),
        oversized.as_str(),
    ] {
        assert!(
            config_error(config).is_some(),
            "accepted: {}",
            &config[..config.len().min(60)]
        );
    }
    let mut raw = support::host_config("");
    raw.plugin_config = b"{\"key_source\":{\"cluster\":\"k\xff\"}}".to_vec();
    assert!(matches!(
        Host::start(support::module(), raw),
        Err(HostError::ConfigRejected { .. })
    ));
}

// ---------------------------------------------------------------------------
// Attacks the filter holds against
// ---------------------------------------------------------------------------

/// Copies of the filter's own headers in any number, and other names in its
/// namespace, are removed in both flows, on verified requests and on requests that
/// need no signature.
#[test]
fn forged_guard_headers_never_reach_upstream() {
    let forge = |request: HttpRequest| {
        request
            .header("x-fspiop-guard-verified", r#"participant="payeefsp""#)
            .header("x-fspiop-guard-verified", r#"participant="hub""#)
            .header("x-fspiop-guard-reason", "none")
    };
    let get = HttpRequest::new("GET", "/parties/MSISDN/123").header("fspiop-source", "payerfsp");

    for (flow, mut host) in [
        ("stream", inline_host("")),
        ("hold-headers", hold_headers_host("")),
    ] {
        for request in [forge(good_request()), forge(get.clone())] {
            let outcome = host.send(0, &request).unwrap();
            assert_eq!(outcome.state, StreamState::Forwarded, "{flow}: {outcome:?}");
            let guard: Vec<String> = outcome
                .forwarded_headers
                .unwrap()
                .iter()
                .filter(|(name, _)| name.starts_with("x-fspiop-guard-"))
                .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value)))
                .collect();
            let expected = usize::from(flow == "hold-headers" && request.body_chunks.len() == 1);
            assert_eq!(guard.len(), expected, "{flow}: {guard:?}");
            assert!(
                guard
                    .iter()
                    .all(|line| line.contains("participant=\"payerfsp\"")),
                "{flow}: {guard:?}"
            );
        }
    }
}

/// `content-length` that disagrees with the body, is repeated, or is not a number:
/// no request is forwarded unless its body is the signed one, and no body byte goes
/// upstream before the verdict.
#[test]
fn content_length_lies_never_pass_a_changed_body() {
    let mut host = inline_host(&format!(r#""max_body_bytes":{}"#, BODY.len()));
    let with_length = |value: &str| {
        let mut request = good_request();
        for (name, old) in &mut request.headers {
            if name == "content-length" {
                *old = value.as_bytes().to_vec();
            }
        }
        request
    };
    let mut without_length = good_request();
    without_length
        .headers
        .retain(|(name, _)| name != "content-length");

    let cases = [
        (
            "one more",
            with_length(&(BODY.len() + 1).to_string()),
            Some(413),
        ),
        (
            "one less",
            with_length(&(BODY.len() - 1).to_string()),
            Some(400),
        ),
        (
            "repeated",
            good_request().header("content-length", "5"),
            Some(400),
        ),
        ("zero", with_length("0"), Some(400)),
        ("not a number", with_length("abc"), None),
        (
            "none, one byte more",
            without_length.clone().chunk(b" "),
            Some(413),
        ),
        (
            "none, one byte more, trailers",
            without_length
                .clone()
                .chunk(b" ")
                .trailers(vec![("x-checksum".into(), b"1".to_vec())]),
            Some(413),
        ),
        (
            "none, 1-byte chunks, trailers",
            support::rechunk(without_length.clone(), 1)
                .trailers(vec![("x-checksum".into(), b"1".to_vec())]),
            None,
        ),
    ];
    for (name, request, status) in cases {
        let outcome = host.send(0, &request).unwrap();
        let decision = support::decision(&outcome);
        assert_eq!(decision.status, status, "{name}: {decision:?}");
        if status.is_some() {
            assert!(
                outcome.forwarded_body.is_empty(),
                "{name}: body went upstream"
            );
        }
    }
    assert!(host.traps().is_empty(), "{:?}", host.traps());
}

/// Bodies near `max_body_bytes` and many requests: the VM's memory reaches its high
/// mark with the first request and stays there.
#[test]
fn large_bodies_do_not_grow_memory() {
    let key = signing_key("payerfsp.key.pem");
    let mut host = inline_host(r#""max_body_bytes":1048576"#);
    let items: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"k{i}":"{}"}}"#, "v".repeat(30)))
        .collect();
    let body = format!(r#"{{"quoteId":"1","list":[{}]}}"#, items.join(","));
    assert!(body.len() > 800 * 1024, "{}", body.len());
    assert!(body.len() < 1024 * 1024, "{}", body.len());
    let request = signed_quote(&key, "payerfsp", &body, START_UNIX);
    let mut tampered = request.clone();
    tampered.body_chunks[0][body.len() - 10] ^= 0x01;

    assert!(support::send(&mut host, &request).accepted);
    assert!(!support::send(&mut host, &tampered).accepted);
    let high = host.memory_pages(0).unwrap();
    for _ in 0..5 {
        assert!(support::send(&mut host, &request).accepted);
        assert!(!support::send(&mut host, &tampered).accepted);
    }
    assert_eq!(host.memory_pages(0).unwrap(), high);
}

/// Key-set documents that nest deeply, exceed `max_bytes`, list no participant, repeat
/// a field or are binary: each is rejected without a trap and the last good set stays.
#[test]
fn hostile_key_sets_keep_the_last_good_one() {
    let pem =
        serde_json::to_string(&support::public_pem(&signing_key("payerfsp.key.pem"))).unwrap();
    let mut oversized =
        support::keyset("9", &[("payerfsp", &[&signing_key("payerfsp.key.pem")])]).into_bytes();
    oversized.extend(std::iter::repeat_n(b' ', 8 * 1024 * 1024));
    let documents: Vec<(&str, Vec<u8>)> = vec![
        (
            "deep",
            format!(
                r#"{{"format":"fspiop-guard-keyset/1","version":"2","participants":{{"x":{}}}}}"#,
                "[".repeat(200_000)
            )
            .into_bytes(),
        ),
        ("oversized", oversized),
        (
            "no participant",
            br#"{"format":"fspiop-guard-keyset/1","version":"3","participants":{}}"#.to_vec(),
        ),
        (
            "repeated field",
            format!(
                r#"{{"format":"fspiop-guard-keyset/1","version":"4","version":"5","participants":{{"payerfsp":[{{"pem":{pem}}}]}}}}"#
            )
            .into_bytes(),
        ),
        ("binary", vec![0, 0xff, 0xfe, 0]),
    ];

    let (mut host, reply) = fetching_host(payer_keyset("1"));
    for (name, document) in documents {
        *reply.lock().unwrap() = CallReply::ok(document);
        host.advance(Duration::from_secs(61)).unwrap();
        let request = signed_quote(
            &signing_key("payerfsp.key.pem"),
            "payerfsp",
            BODY,
            now(&host),
        );
        let decision = support::send(&mut host, &request);
        assert!(
            decision.accepted,
            "{name}: the last good key set was lost: {decision:?}"
        );
    }
    assert!(host.traps().is_empty(), "{:?}", host.traps());
}

/// A key whose `retire_after` passes stops verifying at once, without a fetch.
#[test]
fn retired_key_stops_verifying_with_the_clock() {
    let key = signing_key("payerfsp.key.pem");
    let pem = serde_json::to_string(&support::public_pem(&key)).unwrap();
    let config = format!(
        r#"{{"keys":{{"payerfsp":[{{"pem":{pem},"retire_after":"2026-12-04T12:00:30Z"}}]}}}}"#
    );
    let mut host = support::start(support::host_config(&config));
    assert!(support::send(&mut host, &good_request()).accepted);

    host.advance(Duration::from_secs(31)).unwrap();
    let request = signed_quote(&key, "payerfsp", BODY, now(&host));
    let decision = support::send(&mut host, &request);
    assert!(!decision.accepted, "a key past retire_after still verifies");
}

/// Unknown sources whose refresh is answered leave nothing behind in the VM.
#[test]
fn answered_refreshes_do_not_grow_memory() {
    let (mut host, _reply) = fetching_host(payer_keyset("1"));
    let template = signed_quote(
        &signing_key("payerfsp-next.key.pem"),
        "payerfsp",
        BODY,
        now(&host),
    );
    let long = "s".repeat(48 * 1024);
    let mut before = None;
    for i in 0..100 {
        let decision = support::send(&mut host, &with_source(&template, &format!("{long}{i}")));
        assert_eq!(decision.reason.as_deref(), Some("UNKNOWN_SOURCE"));
        if i == 9 {
            before = host.memory_pages(0);
        }
    }
    assert_eq!(host.memory_pages(0), before);
}
