//! The filter module in the wasmtime host, against the ways proxy-wasm filters are
//! known to fail in Envoy: bodies in pieces, trailers, limits, odd header bytes,
//! duplicate headers, key endpoints that are down or return garbage, several worker
//! VMs, and the pause-in-headers trap of ABI 0.2.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proxy_wasm_host::{CallReply, HostError, StreamState};
use support::{KEY_CLUSTER, START_UNIX, signed_quote, signing_key};

const BODY: &str = r#"{"quoteId":"7c23e80c-d078-4077-8263-2c047876fcf6","transactionId":"85feac2f-39b2-491b-817e-4a03203d4f14","amount":{"amount":"100","currency":"USD"}}"#;

fn inline_host(extra: &str) -> proxy_wasm_host::Host {
    let key = signing_key("payerfsp.key.pem");
    support::start(support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        extra,
    )))
}

fn good_request() -> proxy_wasm_host::HttpRequest {
    signed_quote(
        &signing_key("payerfsp.key.pem"),
        "payerfsp",
        BODY,
        START_UNIX,
    )
}

#[test]
fn body_in_one_byte_chunks_verifies() {
    let mut host = inline_host("");
    let request = support::rechunk(good_request(), 1);
    assert!(request.body_chunks.len() > 100);
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded, "{outcome:?}");
    assert_eq!(outcome.forwarded_body, BODY.as_bytes());
}

#[test]
fn body_with_empty_final_chunk_verifies() {
    let mut host = inline_host("");
    let request = support::rechunk(good_request(), 16).chunk(b"");
    assert!(support::send(&mut host, &request).accepted);
}

#[test]
fn tampered_body_in_chunks_is_rejected_before_upstream_sees_it() {
    let mut host = inline_host("");
    let mut request = support::rechunk(good_request(), 10);
    request.body_chunks[3][0] ^= 0x01;
    let outcome = host.send(0, &request).unwrap();
    let decision = support::decision(&outcome);
    assert_eq!(decision.status, Some(400));
    assert_eq!(decision.reason.as_deref(), Some("SIGNATURE_MISMATCH"));
    assert!(outcome.forwarded_body.is_empty(), "upstream got body bytes");
    assert!(
        outcome.upstream_reset,
        "stream flow must reset the upstream request"
    );
}

#[test]
fn body_ending_with_trailers_is_verified() {
    let mut host = inline_host("");
    let request =
        support::rechunk(good_request(), 20).trailers(vec![("x-checksum".into(), b"1".to_vec())]);
    assert!(support::send(&mut host, &request).accepted);

    let mut tampered =
        support::rechunk(good_request(), 20).trailers(vec![("x-checksum".into(), b"1".to_vec())]);
    tampered.body_chunks[0][2] ^= 0x20;
    let decision = support::send(&mut host, &tampered);
    assert!(
        !decision.accepted,
        "a request ending with trailers went through unverified"
    );
}

#[test]
fn body_over_limit_gets_413_with_3104() {
    let mut host = inline_host(r#""max_body_bytes":100"#);

    // content-length announces too much: rejected at the headers.
    let decision = support::send(&mut host, &good_request());
    assert_eq!(decision.status, Some(413));
    assert_eq!(decision.error_code.as_deref(), Some("3104"));
    assert_eq!(decision.reason.as_deref(), Some("BODY_TOO_LARGE"));

    // No content-length (chunked encoding): rejected once the buffer passes the limit.
    let mut request = support::rechunk(good_request(), 30);
    request.headers.retain(|(name, _)| name != "content-length");
    let decision = support::send(&mut host, &request);
    assert_eq!(decision.status, Some(413));
    assert_eq!(decision.reason.as_deref(), Some("BODY_TOO_LARGE"));
}

#[test]
fn body_just_under_limit_passes() {
    let limit = BODY.len();
    let mut host = inline_host(&format!(r#""max_body_bytes":{limit}"#));
    assert!(support::send(&mut host, &good_request()).accepted);
}

#[test]
fn envoy_buffer_limit_answers_413_without_trap() {
    let key = signing_key("payerfsp.key.pem");
    let mut config = support::host_config(&support::inline_config(&[("payerfsp", &key)], ""));
    config.buffer_limit_bytes = 64;
    let mut host = support::start(config);
    let mut request = support::rechunk(good_request(), 30);
    request.headers.retain(|(name, _)| name != "content-length");
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.local_reply.as_ref().map(|r| r.status), Some(413));
    assert!(host.traps().is_empty());
}

#[test]
fn non_utf8_header_values_do_not_trap() {
    let mut host = inline_host("");

    // A stray byte in a header the verifier does not read: still verified.
    let request = good_request().header("user-agent", b"curl/\xff\xfe");
    assert!(support::send(&mut host, &request).accepted);

    // Invalid bytes in the signature header: a clean rejection.
    let mut request = good_request();
    for (name, value) in &mut request.headers {
        if name == "fspiop-signature" {
            value.insert(2, 0xff);
        }
    }
    let decision = support::send(&mut host, &request);
    assert_eq!(decision.status, Some(400));
    assert!(host.traps().is_empty(), "{:?}", host.traps());
}

#[test]
fn duplicate_signature_headers_are_rejected() {
    let mut host = inline_host("");
    let request = good_request();
    let signature = request
        .headers
        .iter()
        .find(|(name, _)| name == "fspiop-signature")
        .map(|(_, value)| value.clone())
        .unwrap();
    let other = signed_quote(
        &signing_key("payerfsp.key.pem"),
        "payerfsp",
        r#"{"a":1}"#,
        START_UNIX,
    );
    let other_signature = other
        .headers
        .iter()
        .find(|(name, _)| name == "fspiop-signature")
        .map(|(_, value)| value.clone())
        .unwrap();
    assert_ne!(signature, other_signature);

    let doubled = good_request().header("fspiop-signature", other_signature);
    let decision = support::send(&mut host, &doubled);
    assert!(
        !decision.accepted,
        "two FSPIOP-Signature lines were accepted"
    );
    assert_eq!(decision.status, Some(400));
}

#[test]
fn mixed_case_and_forged_guard_headers() {
    let mut host = inline_host("");
    let request = good_request().header("x-fspiop-guard-verified", "participant=\"admin\"");
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    let forwarded = outcome.forwarded_headers.unwrap();
    assert!(
        !forwarded
            .iter()
            .any(|(name, _)| name == "x-fspiop-guard-verified"),
        "a client-sent x-fspiop-guard-verified header reached the upstream"
    );
}

#[test]
fn request_needing_no_signature_passes_untouched() {
    let mut host = inline_host("");
    let request = proxy_wasm_host::HttpRequest::new("GET", "/parties/MSISDN/123")
        .header("fspiop-source", "payerfsp");
    let outcome = host.send(0, &request).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded);
    assert_eq!(host.metric("fspiop_guard.not_required"), Some(1));
}

#[test]
fn lost_last_chunk_is_detected() {
    let key = signing_key("payerfsp.key.pem");
    let mut config = support::host_config(&support::inline_config(&[("payerfsp", &key)], ""));
    config.legacy_last_chunk_bug = true;
    let mut host = support::start(config);
    let decision = support::send(&mut host, &support::rechunk(good_request(), 25));
    assert_eq!(decision.reason.as_deref(), Some("BODY_LENGTH_MISMATCH"));
}

#[test]
fn bad_configuration_is_refused_naming_the_field() {
    let config = support::host_config(r#"{"keys":{},"key_source":{"cluster":"k","timeout":5}}"#);
    match proxy_wasm_host::Host::start(support::module(), config) {
        Err(HostError::ConfigRejected { logs, .. }) => {
            let text = format!("{logs:?}");
            assert!(text.contains("key_source.timeout"), "{text}");
        }
        Err(other) => panic!("expected ConfigRejected, got {other}"),
        Ok(_) => panic!("a configuration with an unknown field was accepted"),
    }
}

/// A key endpoint whose answer the test changes as it goes.
struct Endpoint {
    reply: Arc<Mutex<CallReply>>,
}

impl Endpoint {
    fn install(host: &mut proxy_wasm_host::Host, first: CallReply) -> Endpoint {
        let reply = Arc::new(Mutex::new(first));
        let shared = Arc::clone(&reply);
        host.set_http_call_handler(Box::new(move |call| {
            assert_eq!(call.cluster, KEY_CLUSTER);
            assert_eq!(call.header(":method").as_deref(), Some("GET"));
            assert_eq!(call.header(":path").as_deref(), Some("/keyset"));
            assert_eq!(call.header(":authority").as_deref(), Some("keysync.hub"));
            shared.lock().unwrap().clone()
        }));
        Endpoint { reply }
    }

    fn set(&self, reply: CallReply) {
        *self.reply.lock().unwrap() = reply;
    }
}

fn keyset_reply(version: &str) -> CallReply {
    let key = signing_key("payerfsp.key.pem");
    CallReply::ok(support::keyset(version, &[("payerfsp", &[&key])]))
}

#[test]
fn key_endpoint_down_at_start_fails_closed_then_recovers() {
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let endpoint = Endpoint::install(&mut host, CallReply::Fail);

    host.advance(Duration::from_secs(3)).unwrap();
    let decision = support::send(&mut host, &good_request());
    assert_eq!(decision.status, Some(503));
    assert_eq!(decision.reason.as_deref(), Some("NO_KEYS"));
    assert!(host.metric("fspiop_guard.keys.fetch_failed").unwrap_or(0) >= 1);

    endpoint.set(keyset_reply("1"));
    host.advance(Duration::from_secs(6)).unwrap();
    let request = signed_quote(
        &signing_key("payerfsp.key.pem"),
        "payerfsp",
        BODY,
        START_UNIX + 9,
    );
    assert!(support::send(&mut host, &request).accepted);
    assert_eq!(host.metric("fspiop_guard.keys.fetch_ok"), Some(1));
}

#[test]
fn key_endpoint_garbage_keeps_last_known_good() {
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let endpoint = Endpoint::install(&mut host, keyset_reply("1"));
    host.advance(Duration::from_secs(3)).unwrap();
    assert!(support::send(&mut host, &good_request()).accepted);

    for garbage in [
        CallReply::ok("<html>502 Bad Gateway</html>"),
        CallReply::ok(
            r#"{"format":"fspiop-guard-keyset/1","version":"2","participants":{"payerfsp":[{"pem":"x","kid":"y"}]}}"#,
        ),
        CallReply::ok(
            r#"{"format":"fspiop-guard-keyset/1","version":"3","participants":{"payerfsp":[{"pem":"x"}]}}"#,
        ),
        CallReply::ok(vec![0xff; 64]),
        CallReply::Response {
            status: 500,
            headers: vec![],
            body: b"oops".to_vec(),
        },
    ] {
        endpoint.set(garbage);
        host.advance(Duration::from_secs(61)).unwrap();
        let now = host.now_unix_nanos() / 1_000_000_000;
        let request = signed_quote(&signing_key("payerfsp.key.pem"), "payerfsp", BODY, now);
        let decision = support::send(&mut host, &request);
        assert!(
            decision.accepted,
            "last good key set was dropped: {decision:?} {:?}",
            host.logs().iter().rev().take(4).collect::<Vec<_>>()
        );
    }
    // Each bad answer fails at least once; retries every retry_period_ms add more.
    assert!(host.metric("fspiop_guard.keys.fetch_failed").unwrap_or(0) >= 5);
}

#[test]
fn unknown_key_cluster_fails_closed_without_trap() {
    let config = support::fetching_config("").replace(KEY_CLUSTER, "outbound|80||missing.svc");
    let mut host = support::start(support::host_config(&config));
    host.advance(Duration::from_secs(3)).unwrap();
    let decision = support::send(&mut host, &good_request());
    assert_eq!(decision.status, Some(503));
    assert!(host.traps().is_empty());
    assert!(host.metric("fspiop_guard.keys.fetch_failed").unwrap_or(0) >= 1);
}

#[test]
fn two_workers_share_one_fetched_key_set() {
    let mut config = support::host_config(&support::fetching_config(""));
    config.workers = 2;
    let mut host = support::start(config);
    let _endpoint = Endpoint::install(&mut host, keyset_reply("1"));

    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(
        host.calls_made_to(KEY_CLUSTER),
        1,
        "each worker fetched on its own"
    );
    for worker in 0..2 {
        let outcome = host.send(worker, &good_request()).unwrap();
        assert_eq!(
            outcome.state,
            StreamState::Forwarded,
            "worker {worker}: {outcome:?}"
        );
    }

    // One fetch per refresh period across both workers.
    host.advance(Duration::from_secs(60)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 2);
}

#[test]
fn hold_headers_flow_adds_verified_header() {
    let key = signing_key("payerfsp.key.pem");
    let mut config = support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        r#""flow":"hold-headers""#,
    ));
    config.allow_on_headers_stop_iteration = true;
    let mut host = support::start(config);
    let outcome = host.send(0, &good_request()).unwrap();
    assert_eq!(outcome.state, StreamState::Forwarded, "{outcome:?}");
    let headers = outcome.forwarded_headers.unwrap();
    let verified = headers
        .iter()
        .find(|(name, _)| name == "x-fspiop-guard-verified")
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .expect("no x-fspiop-guard-verified header");
    assert!(verified.contains("participant=\"payerfsp\""), "{verified}");
    assert!(
        verified.contains(&format!("kid=\"{}\"", key.public_key().kid())),
        "{verified}"
    );

    let mut tampered = good_request();
    tampered.body_chunks[0][5] ^= 1;
    let outcome = host.send(0, &tampered).unwrap();
    assert_eq!(outcome.state, StreamState::LocalReply);
    assert!(
        outcome.forwarded_headers.is_none(),
        "hold-headers sent headers before the verdict"
    );
}

#[test]
fn hold_headers_without_envoy_support_does_not_deadlock() {
    let key = signing_key("payerfsp.key.pem");
    let mut config = support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        r#""flow":"hold-headers","hold_timeout_ms":2000"#,
    ));
    config.allow_on_headers_stop_iteration = false;
    let mut host = support::start(config);

    let stream = host.new_stream(0).unwrap();
    let request = good_request();
    let headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    host.request_headers(stream, &headers, false).unwrap();
    host.request_body(stream, BODY.as_bytes(), true).unwrap();
    assert_eq!(
        host.outcome(stream).unwrap().state,
        StreamState::Paused,
        "Envoy delivers no body after a headers Pause"
    );

    host.advance(Duration::from_secs(3)).unwrap();
    let outcome = host.outcome(stream).unwrap();
    assert_eq!(outcome.state, StreamState::LocalReply, "{outcome:?}");
    let decision = support::decision(outcome);
    assert_eq!(decision.status, Some(503));
    assert_eq!(decision.reason.as_deref(), Some("HOLD_TIMEOUT"));
}

#[test]
fn stream_flow_never_stalls() {
    let mut host = inline_host("");
    for request in [good_request(), support::rechunk(good_request(), 3)] {
        let outcome = host.send(0, &request).unwrap();
        assert!(outcome.state.is_final(), "{outcome:?}");
    }
}

#[test]
fn vm_reload_after_trap_fetches_keys_again() {
    let mut config = support::host_config(&support::fetching_config(""));
    config.failure_policy = proxy_wasm_host::FailurePolicy::Reload;
    let mut host = support::start(config);
    let _endpoint = Endpoint::install(&mut host, keyset_reply("1"));
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 1);
    assert!(support::send(&mut host, &good_request()).accepted);

    // The next callback runs out of fuel, as a runaway loop would: the VM traps and
    // the request fails closed.
    host.limit_fuel_of_current_vm(0, 1_000);
    let outcome = host.send(0, &good_request()).unwrap();
    assert_eq!(
        outcome.local_reply.as_ref().map(|r| r.status),
        Some(503),
        "{outcome:?}"
    );
    assert_eq!(host.traps().len(), 1);

    // The replacement VM starts on the next request, serves it with the shared key
    // set, and fetches the key set again at its first tick.
    let outcome = host.send(0, &good_request()).unwrap();
    assert_eq!(host.reloads(0), 1);
    assert_eq!(outcome.state, StreamState::Forwarded, "{outcome:?}");
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(
        host.calls_made_to(KEY_CLUSTER),
        2,
        "the reloaded VM did not fetch keys"
    );
    assert!(
        host.logs()
            .iter()
            .any(|l| l.message.contains("configured: profile")),
        "no configuration log from the new VM"
    );
    let now = host.now_unix_nanos() / 1_000_000_000;
    let request = signed_quote(&signing_key("payerfsp.key.pem"), "payerfsp", BODY, now);
    assert!(support::send(&mut host, &request).accepted);
}

#[test]
fn filter_imports_match_the_golden_list() {
    let mut imports: Vec<String> = support::module()
        .imports()
        .into_iter()
        .map(|(module, name)| format!("{module}.{name}"))
        .collect();
    imports.sort();
    let golden = include_str!("golden_imports.txt");
    let expected: Vec<&str> = golden
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        imports, expected,
        "the filter's imports changed; check every new import is one Envoy provides, then update tests/golden_imports.txt"
    );
    assert!(support::module().unsupported_imports().is_empty());
}

#[test]
fn first_key_fetch_waits_for_the_first_tick() {
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let _endpoint = Endpoint::install(&mut host, keyset_reply("1"));
    assert_eq!(host.calls_made(), 0, "the filter fetched during start-up");
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 1);
}

#[test]
fn teardown_in_either_order_and_log_without_headers_do_not_trap() {
    for order in [
        proxy_wasm_host::TeardownOrder::DoneLogDelete,
        proxy_wasm_host::TeardownOrder::LogDoneDelete,
    ] {
        let key = signing_key("payerfsp.key.pem");
        let mut config = support::host_config(&support::inline_config(&[("payerfsp", &key)], ""));
        config.teardown_order = order;
        config.log_streams_without_headers = true;
        let mut host = support::start(config);

        // A stream torn down before its headers arrived, as Envoy's access log can do.
        let empty = host.new_stream(0).unwrap();
        host.finish_stream(empty).unwrap();

        // A stream torn down while it waits for its body.
        let waiting = host.new_stream(0).unwrap();
        let request = good_request();
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        host.request_headers(waiting, &headers, false).unwrap();
        host.finish_stream(waiting).unwrap();

        assert!(support::send(&mut host, &good_request()).accepted);
        assert!(host.traps().is_empty(), "{order:?}: {:?}", host.traps());
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_requests_never_trap_or_stall() {
    let key = signing_key("payerfsp.key.pem");
    let mut host = support::start(support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        r#""max_body_bytes":4096"#,
    )));
    let mut rng = Rng(0x5eed_f5b1_0e9a_a11d);
    let names = [
        "fspiop-signature",
        "fspiop-source",
        "fspiop-destination",
        "fspiop-uri",
        "fspiop-http-method",
        "date",
        "content-type",
        "content-length",
        "x-fspiop-guard-verified",
        "user-agent",
    ];

    for round in 0..400 {
        let mut request = good_request();
        for _ in 0..rng.below(4) {
            let name = names[rng.below(names.len())];
            match rng.below(3) {
                0 => request = request.header(name, rng.bytes(200)),
                1 => request.headers.retain(|(n, _)| n != name),
                _ => {
                    for (n, value) in &mut request.headers {
                        if n == name && !value.is_empty() {
                            let at = rng.below(value.len());
                            value[at] = rng.next() as u8;
                        }
                    }
                }
            }
        }
        if rng.below(3) == 0 {
            let body = rng.bytes(6000);
            request.body_chunks = vec![body];
        }
        request = support::rechunk(request, 1 + rng.below(700));
        if rng.below(5) == 0 {
            request = request.trailers(vec![("x-t".into(), rng.bytes(10))]);
        }

        let outcome = host.send(0, &request).unwrap();
        assert!(outcome.state.is_final(), "round {round}: {outcome:?}");
        assert!(host.traps().is_empty(), "round {round}: {:?}", host.traps());
    }
}

#[test]
fn memory_plateaus_over_many_large_requests() {
    let key = signing_key("payerfsp.key.pem");
    let mut host = support::start(support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        "",
    )));
    let filler = "x".repeat(100 * 1024);
    let body = format!(r#"{{"quoteId":"9a0b8c6e-6f0c-4b1e-9c55-1f2f0c9d7e11","note":"{filler}"}}"#);
    let request = support::rechunk(signed_quote(&key, "payerfsp", &body, START_UNIX), 16 * 1024);

    let mut pages = Vec::new();
    for round in 0..300 {
        let mut sent = request.clone();
        if round % 2 == 1 {
            sent.body_chunks[2][10] ^= 1;
        }
        let decision = support::send(&mut host, &sent);
        assert_eq!(decision.accepted, round % 2 == 0);
        if round == 50 || round == 299 {
            pages.push(host.memory_pages(0).unwrap());
        }
    }
    assert_eq!(
        pages[0], pages[1],
        "linear memory grew from {} to {} pages",
        pages[0], pages[1]
    );
}

/// A long replay drops finished streams after reading each outcome: the host forgets
/// them, and later requests still verify.
#[test]
fn finished_streams_can_be_forgotten_between_requests() {
    let mut host = inline_host("");
    let first = host.send(0, &good_request()).unwrap();
    host.send(0, &good_request()).unwrap();
    assert_eq!(host.forget_finished_streams(), 2);
    assert!(
        host.state(first.stream).is_err(),
        "a forgotten stream is gone"
    );
    let outcome = host.send(0, &good_request()).unwrap();
    assert_eq!(outcome.state, proxy_wasm_host::StreamState::Forwarded);
    assert_eq!(host.forget_finished_streams(), 1);
}

/// With `signature_path` forced to `foreign-function` on a proxy without
/// `verify_signature`, a valid request is answered 503 naming the proxy, not rejected
/// as a bad signature, and no key refresh is started for it.
#[test]
fn forced_foreign_function_missing_names_the_proxy() {
    let key = signing_key("payerfsp.key.pem");
    let mut config = support::host_config(&support::inline_config(
        &[("payerfsp", &key)],
        r#""signature_path":"foreign-function""#,
    ));
    config.verify_signature_foreign_function = false;
    let mut host = support::start(config);

    let decision = support::send(&mut host, &good_request());
    assert!(!decision.accepted);
    assert_eq!(decision.status, Some(503));
    assert_eq!(
        decision.reason.as_deref(),
        Some("SIGNATURE_PATH_UNAVAILABLE")
    );
    assert_eq!(host.calls_made_to(support::KEY_CLUSTER), 0);
}
