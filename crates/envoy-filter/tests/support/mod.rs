//! Helpers shared by the tests that run the filter module in the wasmtime host.
//!
//! The module is the one `make filter` deploys (the wasm32-wasip1 build after
//! wasm-opt), compiled once per test binary. `FSPIOP_GUARD_FILTER_WASM` overrides its
//! path; the Makefile sets it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use fspiop_guard_core::Headers;
use fspiop_guard_core::crypto::SigningKey;
use fspiop_guard_core::keyset::{KeySetDocument, KeySetEntry};
use fspiop_guard_core::sign::{SignBody, SignInput, SignerMode, sign_request};
use proxy_wasm_host::{Host, HostConfig, HttpRequest, Module, StreamOutcome, StreamState};

/// The key-set cluster the test configurations name.
pub const KEY_CLUSTER: &str = "fspiop-guard-keysync";

/// 2026-12-04T12:00:00Z, the start of the virtual clock.
pub const START_UNIX: u64 = 1_796_385_600;

/// Returns the compiled filter module.
pub fn module() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = wasm_path();
        Module::from_file(&path).unwrap_or_else(|error| {
            panic!(
                "cannot load the filter module {}: {error}; build it with `make filter`",
                path.display()
            )
        })
    })
}

fn wasm_path() -> PathBuf {
    if let Some(path) = std::env::var_os("FSPIOP_GUARD_FILTER_WASM") {
        return PathBuf::from(path);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("filter/fspiop_guard_envoy_filter.wasm")
}

/// Returns the module built with every caller check (cargo feature `full`).
/// `FSPIOP_GUARD_FILTER_FULL_WASM` overrides its path; the Makefile sets it.
pub fn full_module() -> &'static Module {
    static MODULE: OnceLock<Module> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = std::env::var_os("FSPIOP_GUARD_FILTER_FULL_WASM").map_or_else(
            || wasm_path().with_file_name("fspiop_guard_envoy_filter_full.wasm"),
            PathBuf::from,
        );
        Module::from_file(&path).unwrap_or_else(|error| {
            panic!(
                "cannot load the filter module {}: {error}; build it with `make filter`",
                path.display()
            )
        })
    })
}

/// A host configuration for the filter with `plugin_config`, one worker, the key
/// cluster known, and the clock at [`START_UNIX`].
pub fn host_config(plugin_config: &str) -> HostConfig {
    HostConfig {
        vm_id: "fspiop-guard".into(),
        root_id: "fspiop-guard".into(),
        plugin_config: plugin_config.as_bytes().to_vec(),
        clusters: vec![KEY_CLUSTER.into()],
        start_unix_nanos: START_UNIX * 1_000_000_000,
        ..HostConfig::default()
    }
}

/// Starts a host, panicking with the filter's logs if configuration fails.
pub fn start(config: HostConfig) -> Host {
    Host::start(module(), config).unwrap_or_else(|error| panic!("host did not start: {error}"))
}

/// Reads a file of the core crate's certificate fixtures (`tests/fixtures/pki`).
pub fn pki_fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/pki")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Percent-encodes every byte but RFC 3986 unreserved characters, as Envoy writes the
/// `Cert` and `Chain` keys of `x-forwarded-client-cert` and `connection.peer_certificate`.
pub fn url_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Quotes text as a JSON string.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A test key pair from the core crate's test keys.
pub fn signing_key(name: &str) -> SigningKey {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/keys")
        .join(name);
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SigningKey::from_pem(&pem).unwrap()
}

/// The public key of `key` as SPKI PEM.
pub fn public_pem(key: &SigningKey) -> String {
    key.public_key().to_pem()
}

/// A key-set document with one list of keys per participant.
pub fn keyset(version: &str, participants: &[(&str, &[&SigningKey])]) -> String {
    let mut document = KeySetDocument::new(version);
    for (participant, keys) in participants {
        for key in *keys {
            document.push(participant, KeySetEntry::pem(public_pem(key)));
        }
    }
    document.to_json()
}

/// Plugin configuration JSON with `keys` inline for each participant and `extra`
/// members (a leading comma is added).
pub fn inline_config(participants: &[(&str, &SigningKey)], extra: &str) -> String {
    let keys: Vec<String> = participants
        .iter()
        .map(|(participant, key)| {
            format!(
                "{}:[{{\"pem\":{}}}]",
                serde_json::to_string(participant).unwrap(),
                serde_json::to_string(&public_pem(key)).unwrap()
            )
        })
        .collect();
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(",{extra}")
    };
    format!("{{\"keys\":{{{}}}{extra}}}", keys.join(","))
}

/// Plugin configuration JSON that fetches keys from [`KEY_CLUSTER`].
pub fn fetching_config(extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(",{extra}")
    };
    format!(
        "{{\"key_source\":{{\"cluster\":\"{KEY_CLUSTER}\",\"authority\":\"keysync.hub\",\"path\":\"/keyset\",\"refresh_period_ms\":60000,\"retry_period_ms\":5000,\"timeout_ms\":2000,\"refresh_on_miss\":{{\"min_interval_ms\":30000}}}}{extra}}}"
    )
}

/// Signs a POST /quotes from `source` to `payeefsp` with SDK 19.19 rules, dated at the
/// host's clock.
pub fn signed_quote(key: &SigningKey, source: &str, body: &str, now_unix: u64) -> HttpRequest {
    signed(key, "POST", "/quotes", source, body, now_unix)
}

/// Signs a request with SDK 19.19 rules and returns it as the host takes it.
pub fn signed(
    key: &SigningKey,
    method: &str,
    path: &str,
    source: &str,
    body: &str,
    now_unix: u64,
) -> HttpRequest {
    let mut headers = Headers::new();
    headers.push(
        "content-type",
        "application/vnd.interoperability.quotes+json;version=1.0",
    );
    headers.push(
        "accept",
        "application/vnd.interoperability.quotes+json;version=1.0",
    );
    headers.push("fspiop-source", source);
    headers.push("fspiop-destination", "payeefsp");
    headers.push(
        "date",
        &fspiop_guard_core::httpdate::format(now_unix as i64),
    );
    let input = SignInput {
        method: method.to_owned(),
        url: path.to_owned(),
        headers,
        body: SignBody::Text(body.to_owned()),
    };
    let signed = sign_request(key, SignerMode::Sdk1919, None, &input).unwrap();

    let mut request = HttpRequest::new(method, path);
    for (name, value) in signed.headers.iter() {
        request = request.header(&name.to_ascii_lowercase(), value.as_bytes());
    }
    request = request.header("content-length", signed.body.len().to_string());
    request.chunk(signed.body.as_bytes())
}

/// Splits the body of `request` into chunks of at most `size` bytes.
pub fn rechunk(mut request: HttpRequest, size: usize) -> HttpRequest {
    let body: Vec<u8> = request.body_chunks.concat();
    request.body_chunks = body.chunks(size.max(1)).map(<[u8]>::to_vec).collect();
    request
}

/// What the filter decided for one stream, in the terms of a core verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// True when the request went upstream.
    pub accepted: bool,
    /// HTTP status of the local reply.
    pub status: Option<u32>,
    /// `errorInformation.errorCode` of the local reply.
    pub error_code: Option<String>,
    /// The reason code from the reply's extension list.
    pub reason: Option<String>,
}

/// Reads the filter's decision from a stream outcome.
pub fn decision(outcome: &StreamOutcome) -> Decision {
    match (&outcome.state, &outcome.local_reply) {
        (StreamState::Forwarded, _) => Decision {
            accepted: true,
            status: None,
            error_code: None,
            reason: None,
        },
        (StreamState::LocalReply, Some(reply)) => {
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_else(|e| {
                panic!(
                    "local reply {} is not JSON ({e}): {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                )
            });
            let info = &body["errorInformation"];
            Decision {
                accepted: false,
                status: Some(reply.status),
                error_code: info["errorCode"].as_str().map(str::to_owned),
                reason: info["extensionList"]["extension"][0]["value"]
                    .as_str()
                    .map(str::to_owned),
            }
        }
        (state, _) => panic!("stream ended in {state:?}, not forwarded or answered: {outcome:?}"),
    }
}

/// Sends a request on worker 0 and returns the decision.
pub fn send(host: &mut Host, request: &HttpRequest) -> Decision {
    let outcome = host
        .send(0, request)
        .unwrap_or_else(|e| panic!("host failed: {e}"));
    decision(&outcome)
}
