//! keysync against the MCM stand-in, one test per fault MCM deployments have shown.
//!
//! Each test checks that no previously good key is lost, that the log line and the
//! metric for the fault appear, and, where the fault changes keys, what
//! `GET /v1/keys` and the key directory serve.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use support::{HOUR, Harness, Logs, T0, files_in, get, key_file, kid_of, public_pem, request};

/// Starts a harness where dfsp1, dfsp2 and switch have keys and one poll has run.
async fn three_participants(extra: &[(&str, &str)]) -> Harness {
    let harness = Harness::start(extra).await;
    harness.standin.put_key(
        "dfsp1",
        &public_pem("payerfsp.key.pem"),
        Some(1_700_000_000.0),
    );
    harness
        .standin
        .put_key("dfsp2", &public_pem("ecfsp.key.pem"), Some(1_700_000_001.0));
    harness.standin.put_key(
        "switch",
        &public_pem("payerfsp-next.key.pem"),
        Some(1_700_000_002.0),
    );
    harness.poll_ok().await;
    harness
}

#[tokio::test]
async fn missing_created_at_is_served_and_noted() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    harness.standin.faults().drop_created_at = true;
    let pem = public_pem("payerfsp.key.pem");
    harness
        .standin
        .put_key("switch", &pem, Some(1_700_000_000.0));

    harness.poll_ok().await;

    assert_eq!(harness.served_kids("switch").await, [kid_of(&pem)]);
    assert_eq!(
        logs.lines("WARN", &["switch", "entry has no createdAt"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entry_problems{kind=\"no_created_at\"}")
            .await,
        Some(1.0)
    );

    // The same entry again is not logged again.
    harness.poll_ok().await;
    assert_eq!(logs.lines("WARN", &["entry has no createdAt"]).len(), 1);
}

#[tokio::test]
async fn same_created_at_new_key_rotates() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    let old = public_pem("payerfsp.key.pem");
    let new = public_pem("payerfsp-next.key.pem");
    harness
        .standin
        .put_key("dfsp1", &old, Some(1_700_000_000.0));
    harness.poll_ok().await;

    harness.clock.advance(60);
    harness
        .standin
        .put_key("dfsp1", &new, Some(1_700_000_000.0));
    harness.poll_ok().await;

    assert_eq!(
        harness.served_kids("dfsp1").await,
        [kid_of(&new), kid_of(&old)]
    );
    assert_eq!(
        logs.lines("WARN", &["dfsp1", "same or an older createdAt"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(logs.lines("INFO", &["key rotated", "dfsp1"]).len(), 1);
    assert_eq!(
        harness
            .metric("keysync_rotations_total{participant=\"dfsp1\"}")
            .await,
        Some(1.0)
    );
    let file = std::fs::read_to_string(harness.pem_dir().join("dfsp1.pem")).unwrap();
    assert_eq!(file, new, "the key directory serves the newest key");

    // The old key retires when the 24 h overlap ends, even with MCM down.
    harness.standin.stop();
    harness.clock.advance(24 * HOUR);
    harness.keysync.expire();
    assert_eq!(harness.served_kids("dfsp1").await, [kid_of(&new)]);
    assert_eq!(
        harness.metric("keysync_keys_retired_total").await,
        Some(1.0)
    );
}

#[tokio::test]
async fn single_line_pem_is_repaired() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    let pem = public_pem("payerfsp.key.pem");
    harness
        .standin
        .put_key("switch", &pem.replace('\n', ""), None);

    harness.poll_ok().await;

    assert_eq!(harness.served_kids("switch").await, [kid_of(&pem)]);
    assert_eq!(
        std::fs::read_to_string(harness.pem_dir().join("switch.pem")).unwrap(),
        pem,
        "the key file has line breaks again"
    );
    assert_eq!(
        logs.lines("WARN", &["switch", "PEM had no line breaks"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entry_problems{kind=\"pem_repaired\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn crlf_pem_is_repaired() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    let pem = public_pem("payerfsp-next.key.pem");
    harness
        .standin
        .put_key("switch", &pem.replace('\n', "\r\n"), None);

    harness.poll_ok().await;

    assert_eq!(harness.served_kids("switch").await, [kid_of(&pem)]);
    assert_eq!(
        logs.lines("WARN", &["switch", "CRLF"]).len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entry_problems{kind=\"pem_repaired\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn invalid_ec_key_used_when_ignored() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    let ec = public_pem("ecfsp.key.pem");
    harness.standin.put_key("dfsp2", &ec, Some(1.0));

    harness.poll_ok().await;

    assert_eq!(harness.served_kids("dfsp2").await, [kid_of(&ec)]);
    assert_eq!(
        logs.lines("WARN", &["dfsp2", "INVALID"]).len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entry_problems{kind=\"invalid_state_ignored\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn invalid_ec_key_skipped_when_trusted() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[("KEYSYNC_KEYS_VALIDATION_STATE", "trust")]).await;
    let rsa = public_pem("payerfsp.key.pem");
    harness.standin.put_key("dfsp2", &rsa, Some(1.0));
    harness.poll_ok().await;

    harness
        .standin
        .put_key("dfsp2", &public_pem("ecfsp.key.pem"), Some(2.0));
    harness.poll_ok().await;

    assert_eq!(
        harness.served_kids("dfsp2").await,
        [kid_of(&rsa)],
        "the RSA key is kept"
    );
    assert_eq!(
        logs.lines("WARN", &["dfsp2", "skipped", "validationState INVALID"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entries_skipped_total{participant=\"dfsp2\",reason=\"invalid_state\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn certificate_as_public_key_serves_its_key() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[]).await;
    harness
        .standin
        .put_key("certfsp", &key_file("certfsp.cert.pem"), Some(1.0));

    harness.poll_ok().await;

    let expected = kid_of(&key_file("certfsp.pub.pem"));
    assert_eq!(harness.served_kids("certfsp").await, [expected]);
    assert_eq!(
        logs.lines("WARN", &["certfsp", "X.509 certificate"]).len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entry_problems{kind=\"certificate\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn garbage_key_keeps_the_previous_key() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    let before = harness.served_kids("dfsp1").await;

    harness
        .standin
        .put_key("dfsp1", "not a key", Some(1_700_000_100.0));
    harness.poll_ok().await;

    assert_eq!(harness.served_kids("dfsp1").await, before);
    assert!(harness.pem_dir().join("dfsp1.pem").exists());
    assert_eq!(
        logs.lines(
            "WARN",
            &[
                "dfsp1",
                "keeping the participant's 1 previous key(s)",
                "does not parse"
            ]
        )
        .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_entries_skipped_total{participant=\"dfsp1\",reason=\"unparsable\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn removed_entry_is_kept_for_the_grace_period() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    let kept = harness.served_kids("dfsp2").await;

    harness.standin.remove_key("dfsp2");
    harness.clock.advance(60);
    harness.poll_ok().await;

    assert_eq!(harness.served_kids("dfsp2").await, kept);
    assert_eq!(
        logs.lines("WARN", &["dfsp2", "no longer lists the participant"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_participant_missing{participant=\"dfsp2\"}")
            .await,
        Some(1.0)
    );

    // Seven days later (the default grace period) the keys go, from every output.
    harness.clock.advance(7 * 24 * HOUR);
    harness.poll_ok().await;
    assert!(harness.served_kids("dfsp2").await.is_empty());
    assert_eq!(files_in(&harness.pem_dir()), ["dfsp1.pem", "switch.pem"]);
    assert_eq!(
        logs.lines("WARN", &["dfsp2", "grace period ended"]).len(),
        1
    );
    assert_eq!(
        harness.metric("keysync_participants_removed_total").await,
        Some(1.0)
    );
}

#[tokio::test]
async fn rejected_token_logs_in_again_once() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    assert_eq!(harness.standin.logins(), 1);

    harness.standin.faults().reject_tokens_once = true;
    harness.poll_ok().await;

    assert_eq!(harness.standin.logins(), 2);
    assert_eq!(
        logs.lines("INFO", &["MCM rejected the access token", "401"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(harness.metric("keysync_polls_total").await, Some(2.0));
    assert!(
        !logs.text().contains(support::CLIENT_SECRET),
        "a log line holds the client secret"
    );
    assert!(
        !logs.text().contains("standin-token-"),
        "a log line holds an access token"
    );
}

#[tokio::test]
async fn wrong_client_secret_fails_poll() {
    let (logs, _guard) = Logs::capture();
    let harness = Harness::start(&[("KEYSYNC_AUTH_CLIENT_SECRET", "wrong")]).await;
    harness
        .standin
        .put_key("dfsp1", &public_pem("payerfsp.key.pem"), None);

    let error = harness.poll().await.unwrap_err();

    assert_eq!(error.kind(), "login");
    assert_eq!(
        logs.lines("WARN", &["MCM poll failed", "401", "auth.client_secret"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert!(
        !logs.text().contains("wrong\""),
        "a log line holds the client secret"
    );
}

#[tokio::test]
async fn server_error_keeps_every_key() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    let before = harness.shared.keyset().unwrap();

    harness.standin.faults().server_error = Some(503);
    let error = harness.poll().await.unwrap_err();

    assert_eq!(error.kind(), "http_status");
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
    assert_eq!(
        logs.lines(
            "WARN",
            &["MCM poll failed", "keeping the current keys", "503"]
        )
        .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_poll_failures_total{reason=\"http_status\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        harness
            .metric("keysync_last_success_timestamp_seconds")
            .await,
        Some(T0 as f64)
    );
}

#[tokio::test]
async fn refused_connection_keeps_every_key() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    let before = harness.shared.keyset().unwrap();

    harness.standin.stop();
    let error = harness.poll().await.unwrap_err();

    assert_eq!(error.kind(), "connect", "{error}");
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
    assert_eq!(
        logs.lines("WARN", &["MCM poll failed", "cannot connect"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_poll_failures_total{reason=\"connect\"}")
            .await,
        Some(1.0)
    );

    // MCM comes back: the next poll succeeds with the same keys.
    harness.standin.restart().await.unwrap();
    harness.poll_ok().await;
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
}

#[tokio::test]
async fn slow_answer_times_out_and_keeps_every_key() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[("KEYSYNC_MCM_TIMEOUT_SECONDS", "0.3")]).await;
    let before = harness.shared.keyset().unwrap();

    harness.standin.faults().delay = Some(Duration::from_secs(2));
    let error = harness.poll().await.unwrap_err();

    assert_eq!(error.kind(), "timeout", "{error}");
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
    assert_eq!(
        logs.lines("WARN", &["MCM poll failed", "within mcm.timeout_seconds"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(
        harness
            .metric("keysync_poll_failures_total{reason=\"timeout\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn empty_list_is_held_back_and_alarmed() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[]).await;
    let before = harness.shared.keyset().unwrap();

    harness.standin.faults().empty_list = true;
    harness.clock.advance(30 * 24 * HOUR);
    harness.poll_ok().await;

    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
    assert_eq!(
        files_in(&harness.pem_dir()),
        ["dfsp1.pem", "dfsp2.pem", "switch.pem"]
    );
    assert_eq!(
        logs.lines("ERROR", &["lacks 3 of 3 known participants"])
            .len(),
        1,
        "{}",
        logs.text()
    );
    assert_eq!(harness.metric("keysync_removal_held_back").await, Some(1.0));
    assert_eq!(
        harness.metric("keysync_removals_held_back_total").await,
        Some(1.0)
    );

    // A complete response clears the alarm.
    harness.standin.faults().empty_list = false;
    harness.poll_ok().await;
    assert_eq!(harness.metric("keysync_removal_held_back").await, Some(0.0));
}

#[tokio::test]
async fn state_survives_a_restart_with_mcm_down() {
    let (logs, _guard) = Logs::capture();
    let mut harness = three_participants(&[]).await;
    harness.clock.advance(60);
    harness.standin.put_key(
        "dfsp1",
        &public_pem("payerfsp-next.key.pem"),
        Some(1_700_000_100.0),
    );
    harness.poll_ok().await;
    let before = harness.shared.keyset().unwrap();
    let dfsp1 = harness.served_kids("dfsp1").await;
    assert_eq!(dfsp1.len(), 2, "rotation overlap before the restart");

    harness.standin.stop();
    harness.restart_keysync().await;

    let (status, _, _) = get(harness.address, "/readyz", &[]).await;
    assert_eq!(status, 200, "ready from the state file alone");
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
    assert_eq!(harness.served_kids("dfsp1").await, dfsp1);
    assert_eq!(
        logs.lines(
            "INFO",
            &["loaded the last-known-good keys", "participants=3"]
        )
        .len(),
        1,
        "{}",
        logs.text()
    );
    assert!(harness.poll().await.is_err());
    assert_eq!(harness.shared.keyset().unwrap().version, before.version);
}

#[tokio::test]
async fn unreadable_state_file_starts_empty_and_not_ready() {
    let (logs, _guard) = Logs::capture();
    let mut harness = Harness::start(&[]).await;
    std::fs::write(harness.state_file(), "{ not json").unwrap();
    harness.standin.stop();
    harness.restart_keysync().await;

    let (status, _, _) = get(harness.address, "/readyz", &[]).await;
    assert_eq!(status, 503);
    let (status, _, _) = get(harness.address, "/v1/keys", &[]).await;
    assert_eq!(status, 503);
    assert_eq!(
        logs.lines("ERROR", &["cannot load the state file"]).len(),
        1,
        "{}",
        logs.text()
    );
    assert!(harness.state_file().with_extension("unreadable").exists());
    assert_eq!(
        harness.metric("keysync_state_load_errors_total").await,
        Some(1.0)
    );
}

#[tokio::test]
async fn etag_and_if_none_match() {
    let harness = three_participants(&[]).await;
    let (status, headers, body) = get(harness.address, "/v1/keys", &[]).await;
    assert_eq!(status, 200);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        etag,
        format!("\"{}\"", document["version"].as_str().unwrap())
    );
    assert_eq!(document["format"], "fspiop-guard-keyset/1");

    let (status, headers, body) =
        get(harness.address, "/v1/keys", &[("if-none-match", &etag)]).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(headers["etag"].to_str().unwrap(), etag);

    let (status, _, _) = get(
        harness.address,
        "/v1/keys",
        &[("if-none-match", "\"other\"")],
    )
    .await;
    assert_eq!(status, 200);
}

/// Origin of the verification page in the CORS tests.
const PAGE_ORIGIN: &str = "http://127.0.0.1:8731";

/// Sends `method path` with an `Origin` header and extra headers, and returns the status and headers.
async fn from_origin(
    harness: &Harness,
    method: reqwest::Method,
    path: &str,
    origin: &str,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap) {
    let mut headers = vec![("origin", origin)];
    headers.extend_from_slice(extra);
    let (status, headers, _) = request(harness.address, method, path, &headers).await;
    (status, headers)
}

#[tokio::test]
async fn listed_origin_reads_key_set() {
    let harness = three_participants(&[("KEYSYNC_LISTEN_CORS_ALLOW_ORIGINS", PAGE_ORIGIN)]).await;

    let (status, headers) =
        from_origin(&harness, reqwest::Method::GET, "/v1/keys", PAGE_ORIGIN, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], PAGE_ORIGIN);
    assert_eq!(headers["access-control-expose-headers"], "ETag");
    assert_eq!(headers["vary"], "Origin");

    let (_, headers) = from_origin(
        &harness,
        reqwest::Method::GET,
        "/v1/keys",
        "http://127.0.0.1:9999",
        &[],
    )
    .await;
    assert!(!headers.contains_key("access-control-allow-origin"));
    assert_eq!(headers["vary"], "Origin");

    let (_, headers) =
        from_origin(&harness, reqwest::Method::GET, "/metrics", PAGE_ORIGIN, &[]).await;
    assert!(!headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn preflight_allows_only_if_none_match() {
    let harness = three_participants(&[("KEYSYNC_LISTEN_CORS_ALLOW_ORIGINS", PAGE_ORIGIN)]).await;
    let preflight = [
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "if-none-match"),
    ];

    let (status, headers) = from_origin(
        &harness,
        reqwest::Method::OPTIONS,
        "/v1/keys",
        PAGE_ORIGIN,
        &preflight,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(headers["access-control-allow-origin"], PAGE_ORIGIN);
    assert_eq!(headers["access-control-allow-methods"], "GET, HEAD");
    assert_eq!(headers["access-control-allow-headers"], "If-None-Match");

    let (status, headers) = from_origin(
        &harness,
        reqwest::Method::OPTIONS,
        "/v1/keys",
        "http://127.0.0.1:9999",
        &preflight,
    )
    .await;
    assert_eq!(status, 204);
    assert!(!headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let harness = three_participants(&[]).await;
    let (status, headers) =
        from_origin(&harness, reqwest::Method::GET, "/v1/keys", PAGE_ORIGIN, &[]).await;
    assert_eq!(status, 200);
    assert!(!headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn keyset_before_any_key_is_503() {
    let harness = Harness::start(&[]).await;
    let (status, _, body) = get(harness.address, "/v1/keys", &[]).await;
    assert_eq!(status, 503);
    assert!(body.contains("no key set yet"), "{body}");
    let (status, _, _) = get(harness.address, "/healthz", &[]).await;
    assert_eq!(status, 200);
    let (status, _, _) = get(harness.address, "/nope", &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = request(harness.address, reqwest::Method::DELETE, "/v1/keys", &[]).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn refresh_header_polls_mcm_before_answering() {
    let (logs, _guard) = Logs::capture();
    let harness = three_participants(&[("KEYSYNC_POLL_PERIOD_SECONDS", "3600")]).await;
    let keysync = std::sync::Arc::clone(&harness.keysync);
    let polls = tokio::spawn(async move { keysync.run_polls(std::future::pending()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let new = public_pem("payerfsp-next.key.pem");
    harness
        .standin
        .put_key("dfsp1", &new, Some(1_700_000_200.0));
    let (status, _, body) = get(
        harness.address,
        "/v1/keys",
        &[("x-fspiop-guard-refresh", "miss")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains(&kid_of(&new)),
        "the answer lacks the new key: {body}"
    );
    assert_eq!(
        harness
            .metric("keysync_refresh_requests_total{result=\"started\"}")
            .await,
        Some(1.0)
    );

    // A second refresh inside refresh.min_interval_seconds gets the key set at once without a poll.
    let before = harness.standin.requests().len();
    let (status, _, body) = request(
        harness.address,
        reqwest::Method::POST,
        "/v1/keys/refresh",
        &[],
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(harness.standin.requests().len(), before);
    assert_eq!(
        harness
            .metric("keysync_refresh_requests_total{result=\"rate_limited\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        logs.lines("INFO", &["immediate MCM poll requested", "RateLimited"])
            .len(),
        1
    );
    polls.abort();
}

#[tokio::test]
async fn unchanged_poll_saves_no_state() {
    let harness = three_participants(&[]).await;
    let saves = "keysync_output_writes_total{output=\"state_file\",result=\"success\"}";
    assert_eq!(harness.metric(saves).await, Some(1.0));

    harness.clock.advance(60);
    harness.poll_ok().await;
    assert_eq!(
        harness.metric(saves).await,
        Some(1.0),
        "an unchanged poll saved the state"
    );

    harness
        .standin
        .put_key("dfsp1", &public_pem("payerfsp-next.key.pem"), None);
    harness.poll_ok().await;
    assert_eq!(
        harness.metric(saves).await,
        Some(2.0),
        "a rotation did not save the state"
    );
}
