//! JWS key rotation through the filter: overlap, removal, refresh on a miss, and the
//! rate limit that keeps a flood of bad signatures from hammering the key endpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proxy_wasm_host::{CallReply, Host};
use support::{KEY_CLUSTER, signed_quote, signing_key};

const BODY: &str = r#"{"quoteId":"b51ec534-ee48-4575-b6a9-ead2955b8069","amount":{"amount":"5","currency":"EUR"}}"#;

/// Starts a fetching filter whose key endpoint serves `document`, which the test can
/// change, and loads the first key set.
fn fetching_host(document: &Arc<Mutex<String>>) -> Host {
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let served = Arc::clone(document);
    host.set_http_call_handler(Box::new(move |_call| {
        CallReply::ok(served.lock().unwrap().clone())
    }));
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 1);
    host
}

fn now(host: &Host) -> u64 {
    host.now_unix_nanos() / 1_000_000_000
}

#[test]
fn both_keys_verify_during_overlap_and_removed_key_fails_after_refresh() {
    let old = signing_key("payerfsp.key.pem");
    let new = signing_key("payerfsp-next.key.pem");
    let document = Arc::new(Mutex::new(support::keyset(
        "1",
        &[("payerfsp", &[&new, &old])],
    )));
    let mut host = fetching_host(&document);

    let t = now(&host);
    assert!(support::send(&mut host, &signed_quote(&old, "payerfsp", BODY, t)).accepted);
    assert!(support::send(&mut host, &signed_quote(&new, "payerfsp", BODY, t)).accepted);

    *document.lock().unwrap() = support::keyset("2", &[("payerfsp", &[&new])]);
    host.advance(Duration::from_secs(61)).unwrap();
    let fetches = host.calls_made_to(KEY_CLUSTER);
    assert_eq!(fetches, 2, "the periodic refresh did not run");

    let t = now(&host);
    let decision = support::send(&mut host, &signed_quote(&old, "payerfsp", BODY, t));
    assert!(!decision.accepted, "a removed key still verifies");
    assert_eq!(decision.status, Some(400));
    assert_eq!(decision.error_code.as_deref(), Some("3105"));
    assert_eq!(decision.reason.as_deref(), Some("SIGNATURE_MISMATCH"));
    assert!(support::send(&mut host, &signed_quote(&new, "payerfsp", BODY, t)).accepted);
}

#[test]
fn key_served_but_not_yet_fetched_is_accepted_through_refresh_on_miss() {
    let old = signing_key("payerfsp.key.pem");
    let new = signing_key("payerfsp-next.key.pem");
    let document = Arc::new(Mutex::new(support::keyset("1", &[("payerfsp", &[&old])])));
    let mut host = fetching_host(&document);

    // The endpoint learns the new key; the filter's next poll is a minute away.
    *document.lock().unwrap() = support::keyset("2", &[("payerfsp", &[&new, &old])]);
    let t = now(&host);
    let outcome = host
        .send(0, &signed_quote(&new, "payerfsp", BODY, t))
        .unwrap();
    assert!(support::decision(&outcome).accepted, "{outcome:?}");
    assert_eq!(
        host.calls_made_to(KEY_CLUSTER),
        2,
        "refresh on a miss did not fetch"
    );
    assert_eq!(host.metric("fspiop_guard.keys.refresh_on_miss"), Some(1));
}

#[test]
fn refresh_on_miss_fetch_carries_the_refresh_header() {
    let old = signing_key("payerfsp.key.pem");
    let new = signing_key("payerfsp-next.key.pem");
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let document = support::keyset("1", &[("payerfsp", &[&old])]);
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = Arc::clone(&seen);
    host.set_http_call_handler(Box::new(move |call| {
        log.lock()
            .unwrap()
            .push(call.header("x-fspiop-guard-refresh"));
        CallReply::ok(document.clone())
    }));
    host.advance(Duration::from_secs(3)).unwrap();

    let t = now(&host);
    support::send(&mut host, &signed_quote(&new, "payerfsp", BODY, t));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [None, Some("miss".to_owned())],
        "periodic fetch, then the fetch on a miss"
    );
}

#[test]
fn new_participant_is_accepted_through_refresh_on_miss() {
    let payer = signing_key("payerfsp.key.pem");
    let newcomer = signing_key("ecfsp.key.pem");
    let document = Arc::new(Mutex::new(support::keyset("1", &[("payerfsp", &[&payer])])));
    let mut host = fetching_host(&document);

    *document.lock().unwrap() =
        support::keyset("2", &[("payerfsp", &[&payer]), ("newfsp", &[&newcomer])]);
    let t = now(&host);
    assert!(support::send(&mut host, &signed_quote(&newcomer, "newfsp", BODY, t)).accepted);
}

#[test]
fn flood_of_bad_signatures_refreshes_at_most_once_per_interval() {
    let payer = signing_key("payerfsp.key.pem");
    let forger = signing_key("payerfsp-next.key.pem");
    let document = Arc::new(Mutex::new(support::keyset("1", &[("payerfsp", &[&payer])])));
    let mut host = fetching_host(&document);
    let before = host.calls_made_to(KEY_CLUSTER);

    let t = now(&host);
    for _ in 0..200 {
        let decision = support::send(&mut host, &signed_quote(&forger, "payerfsp", BODY, t));
        assert_eq!(decision.reason.as_deref(), Some("SIGNATURE_MISMATCH"));
    }
    assert_eq!(
        host.calls_made_to(KEY_CLUSTER) - before,
        1,
        "more than one refresh in the interval"
    );
    assert_eq!(
        host.metric("fspiop_guard.rejected.SIGNATURE_MISMATCH"),
        Some(200)
    );

    // The interval (30 s in the test configuration) passes: one more refresh is allowed.
    host.advance(Duration::from_secs(31)).unwrap();
    let t = now(&host);
    for _ in 0..50 {
        support::send(&mut host, &signed_quote(&forger, "payerfsp", BODY, t));
    }
    assert_eq!(host.calls_made_to(KEY_CLUSTER) - before, 2);
}

#[test]
fn refresh_that_times_out_rejects_within_the_hold_bound() {
    let payer = signing_key("payerfsp.key.pem");
    let new = signing_key("payerfsp-next.key.pem");
    let mut host = support::start(support::host_config(&support::fetching_config("")));
    let answer = Arc::new(Mutex::new(CallReply::ok(support::keyset(
        "1",
        &[("payerfsp", &[&payer])],
    ))));
    let shared = Arc::clone(&answer);
    host.set_http_call_handler(Box::new(move |_call| shared.lock().unwrap().clone()));
    host.advance(Duration::from_secs(3)).unwrap();

    // The endpoint hangs: the held request is answered when the fetch times out.
    *answer.lock().unwrap() = CallReply::Hold;
    let stream = host.new_stream(0).unwrap();
    let request = signed_quote(&new, "payerfsp", BODY, now(&host));
    let headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    host.request_headers(stream, &headers, false).unwrap();
    host.request_body(stream, BODY.as_bytes(), true).unwrap();
    assert_eq!(
        host.outcome(stream).unwrap().state,
        proxy_wasm_host::StreamState::Paused
    );

    host.advance(Duration::from_secs(3)).unwrap();
    let decision = support::decision(host.outcome(stream).unwrap());
    assert_eq!(decision.reason.as_deref(), Some("SIGNATURE_MISMATCH"));
}
