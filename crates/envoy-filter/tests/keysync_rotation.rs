//! The filter module in the wasmtime host, fed by a real keysync that polls the MCM
//! stand-in, all on loopback. A DFSP rotates its JWS key in MCM, and requests signed
//! with either key verify during the overlap without waiting for a periodic poll.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use fspiop_guard_keysync::{Config, Keysync, ManualClock, server};
use mcm_standin::{StandIn, StandInConfig};
use proxy_wasm_host::loopback_handler;
use support::{KEY_CLUSTER, START_UNIX, signed_quote, signing_key};

const BODY: &str = r#"{"quoteId":"7c23e80c-d078-4077-8263-2c047876fcf6","amount":{"amount":"10","currency":"EUR"}}"#;

fn now(host: &proxy_wasm_host::Host) -> u64 {
    host.now_unix_nanos() / 1_000_000_000
}

/// Sends a request signed with `key` at the host's clock.
fn send(
    host: &mut proxy_wasm_host::Host,
    key: &fspiop_guard_core::crypto::SigningKey,
) -> support::Decision {
    let request = signed_quote(key, "payerfsp", BODY, now(host));
    support::send(host, &request)
}

/// keysync and the stand-in, running on their own thread's runtime.
struct Services {
    runtime: tokio::runtime::Handle,
    standin: &'static StandIn,
    keysync: Arc<Keysync>,
    clock: Arc<ManualClock>,
    address: SocketAddr,
    _dir: tempfile::TempDir,
}

fn start_services() -> Services {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        runtime.block_on(async move {
            let standin: &'static StandIn = Box::leak(Box::new(
                StandIn::start(StandInConfig::default()).await.unwrap(),
            ));
            let dir = tempfile::tempdir().unwrap();
            let settings: Vec<(String, String)> = [
                ("KEYSYNC_MCM_BASE_URL", standin.base_url()),
                ("KEYSYNC_POLL_PERIOD_SECONDS", "3600".to_owned()),
                ("KEYSYNC_REFRESH_WAIT_MS", "1500".to_owned()),
                (
                    "KEYSYNC_STATE_FILE",
                    dir.path().join("state.json").display().to_string(),
                ),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
            let config = Config::from_parts(None, &settings).unwrap();
            let clock = Arc::new(ManualClock::new(START_UNIX as i64));
            let keysync = Arc::new(Keysync::new(config, Arc::clone(&clock) as _).unwrap());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(server::serve(listener, keysync.shared()));
            let polls = Arc::clone(&keysync);
            tokio::spawn(async move { polls.run_polls(std::future::pending()).await });
            sender
                .send(Services {
                    runtime: handle,
                    standin,
                    keysync,
                    clock,
                    address,
                    _dir: dir,
                })
                .unwrap();
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().unwrap()
}

fn filter_config() -> String {
    format!(
        "{{\"key_source\":{{\"cluster\":\"{KEY_CLUSTER}\",\"authority\":\"keysync.hub\",\"path\":\"/v1/keys\",\"refresh_period_ms\":60000,\"retry_period_ms\":5000,\"timeout_ms\":3000,\"refresh_on_miss\":{{\"min_interval_ms\":30000}}}}}}"
    )
}

#[test]
fn rotated_key_verifies_during_overlap_through_keysync() {
    let services = start_services();
    let old = signing_key("payerfsp.key.pem");
    let new = signing_key("payerfsp-next.key.pem");
    services.standin.put_key(
        "payerfsp",
        &support::public_pem(&old),
        Some(1_700_000_000.0),
    );
    // The first poll may have run before the key was stored; poll again to have it.
    services
        .runtime
        .block_on(services.keysync.poll_once())
        .unwrap();

    let mut host = support::start(support::host_config(&filter_config()));
    host.set_http_call_handler(
        loopback_handler(
            &format!("http://{}", services.address),
            Duration::from_secs(5),
        )
        .unwrap(),
    );
    host.advance(Duration::from_secs(3)).unwrap();
    assert_eq!(host.calls_made_to(KEY_CLUSTER), 1);
    assert!(send(&mut host, &old).accepted);

    // PM4ML rotates: the DFSP signs with the new key at once and uploads it to MCM with
    // the same createdAt. keysync has not polled since.
    services.standin.put_key(
        "payerfsp",
        &support::public_pem(&new),
        Some(1_700_000_000.0),
    );
    let decision = send(&mut host, &new);
    assert!(decision.accepted, "new key rejected: {decision:?}");
    assert_eq!(host.metric("fspiop_guard.keys.refresh_on_miss"), Some(1));

    // A request the DFSP signed just before the rotation still verifies.
    let decision = send(&mut host, &old);
    assert!(
        decision.accepted,
        "old key rejected during the overlap: {decision:?}"
    );

    // After the overlap keysync retires the old key, and the filter's next poll drops it.
    services.clock.advance(24 * 3600 + 60);
    services.keysync.expire();
    host.advance(Duration::from_secs(61)).unwrap();
    let decision = send(&mut host, &old);
    assert_eq!(
        decision.reason.as_deref(),
        Some("SIGNATURE_MISMATCH"),
        "{decision:?}"
    );
    assert!(send(&mut host, &new).accepted);
}
