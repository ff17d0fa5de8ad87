//! Requests per second through the filter module in the wasmtime host, beside the
//! native core on the same request.
//!
//! Each group `filter/<key>/<size>` times three functions in one run:
//! - `foreign-function` sends the request through a host that registers
//!   `verify_signature`, with `"signature_path":"auto"`, so the signature arithmetic runs
//!   natively in the host and everything else runs in the module.
//! - `in-wasm` sends it through a host without that function, so ring runs inside the
//!   module.
//! - `native` calls `fspiop_guard_core::verify` on the request as the filter sees it,
//!   with the `mojaloop-sdk` profile, the same key and the default request rules.
//!
//! Each group `filter-pieces/<key>/<size>` splits the `foreign-function` time:
//! - `pass-through` sends the same headers and body as a GET, which the request rules
//!   exempt, so the filter only reads the headers: the floor of the host and the module.
//! - `foreign-function-stub` registers a `verify_signature` that returns true without
//!   computing, so it costs everything of `foreign-function` except the arithmetic.
//! - `native-ring` is ring alone on the signing input, as in the core's `verify` bench.
//!
//! One iteration of a filter function is one `Host::send`: a new stream, the headers,
//! the body in one chunk, the verdict and the teardown. The key is inline in the plugin
//! configuration. Every request is checked to go upstream, and each host's stats are
//! checked to show one signature check per request on the expected path.
//!
//! The bodies and the signer are those of `crates/core/benches/verify.rs`, so the
//! `native` rows can be checked against its `mojaloop-sdk` rows. The keys are the test
//! keys in `crates/core/tests/keys/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../core/benches/fixtures/mod.rs"]
mod fixtures;
#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use fspiop_guard_core::{
    Headers, PayloadForm, Profile, Request, RequestRules, RingVerifier, VerifyContext, verify,
};
use proxy_wasm_host::{Host, HostConfig, HttpRequest, StreamState};

use fixtures::{Body, SignedCase, TestKey};

/// Requests sent through one host before it is replaced by a new one, untimed.
///
/// The host keeps every finished stream, and each pass of its event loop visits all of
/// them, so a request costs more the longer a host lives: about 14 µs more per 1,000
/// earlier streams at first, and more later (see docs/BENCHMARKS.md). With 50, the
/// streams a timed request finds add well under 1 µs.
const STREAMS_PER_HOST: i64 = 50;

const VERIFIED: &str = "fspiop_guard.verified";
const NOT_REQUIRED: &str = "fspiop_guard.not_required";
const CHECKS_FOREIGN: &str = "fspiop_guard.signature_checks.foreign_function";
const CHECKS_IN_WASM: &str = "fspiop_guard.signature_checks.in_wasm";

/// The `VerifySignatureResult` message `{ result: true }`.
const RESULT_TRUE: [u8; 2] = [0x08, 0x01];

fn filter_groups(c: &mut Criterion) {
    let small = fixtures::transfer_1kb();
    let large = fixtures::bulk_transfer_100kb();
    let rsa_2048 = test_key("rs256-2048", "payerfsp", "payerfsp.key.pem");
    let ec_p256 = test_key("es256", "ecfsp", "ecfsp.key.pem");

    // An in-wasm request of 100 KB takes milliseconds; 30 samples keep its group short.
    for (key, body, sample_size) in [
        (&rsa_2048, &small, 100),
        (&rsa_2048, &large, 30),
        (&ec_p256, &small, 100),
    ] {
        let case = fixtures::sign_case(key, body);
        bench_filter(c, key, body, &case, sample_size);
        if key.label == rsa_2048.label {
            bench_pieces(c, key, body, &case, sample_size);
        }
    }
}

fn test_key(label: &'static str, participant: &'static str, file: &str) -> TestKey {
    TestKey {
        label,
        participant,
        signing: support::signing_key(file),
    }
}

fn bench_filter(c: &mut Criterion, key: &TestKey, body: &Body, case: &SignedCase, samples: usize) {
    let request = host_request(&case.request);
    let native_request = request_as_filter_sees_it(&request);
    let profile = Profile::mojaloop_sdk();
    let rules = RequestRules::default();
    let ctx = VerifyContext {
        profile: &profile,
        keys: &case.keys,
        rules: Some(&rules),
        now: fixtures::NOW,
        crypto: &RingVerifier,
    };
    let verdict = verify(&native_request, &ctx);
    assert!(
        verdict.accepted,
        "the native core rejected the bench request: {:?} {:?}",
        verdict.reason, verdict.detail
    );
    assert_eq!(verdict.payload_form, Some(PayloadForm::Raw));

    let mut group = c.benchmark_group(format!("filter/{}/{}", key.label, body.label));
    group.throughput(Throughput::Elements(1));
    group.sample_size(samples);

    let mut config = host_config(key);
    config.verify_signature_foreign_function = true;
    bench_sends(
        &mut group,
        "foreign-function",
        config,
        &request,
        Path::ForeignFunction,
    );

    let mut config = host_config(key);
    config.verify_signature_foreign_function = false;
    bench_sends(&mut group, "in-wasm", config, &request, Path::InWasm);

    group.bench_function("native", |b| {
        b.iter(|| verify(black_box(&native_request), &ctx))
    });
    group.finish();
}

fn bench_pieces(c: &mut Criterion, key: &TestKey, body: &Body, case: &SignedCase, samples: usize) {
    let request = host_request(&case.request);
    let mut group = c.benchmark_group(format!("filter-pieces/{}/{}", key.label, body.label));
    group.throughput(Throughput::Elements(1));
    group.sample_size(samples);

    let mut exempt = request.clone();
    exempt.headers[0].1 = b"GET".to_vec();
    assert_eq!(exempt.headers[0].0, ":method");
    bench_sends(
        &mut group,
        "pass-through",
        host_config(key),
        &exempt,
        Path::NotRequired,
    );

    let mut config = host_config(key);
    config.verify_signature_foreign_function = false;
    config
        .foreign_functions
        .register("verify_signature", |_arguments| Ok(RESULT_TRUE.to_vec()));
    bench_sends(
        &mut group,
        "foreign-function-stub",
        config,
        &request,
        Path::ForeignFunction,
    );

    assert!(case.raw_key.verify(&case.signing_input, &case.signature));
    group.bench_function("native-ring", |b| {
        b.iter(|| {
            case.raw_key
                .verify(black_box(&case.signing_input), black_box(&case.signature))
        })
    });
    group.finish();
}

/// How the filter is expected to handle every request of a function.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// Verified, with the arithmetic in the foreign function.
    ForeignFunction,
    /// Verified, with ring inside the module.
    InWasm,
    /// Let through without a signature check.
    NotRequired,
}

impl Path {
    /// The stats that count every request, and the stats that must stay at zero.
    fn stats(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Path::ForeignFunction => (&[VERIFIED, CHECKS_FOREIGN], &[CHECKS_IN_WASM, NOT_REQUIRED]),
            Path::InWasm => (&[VERIFIED, CHECKS_IN_WASM], &[CHECKS_FOREIGN, NOT_REQUIRED]),
            Path::NotRequired => (&[NOT_REQUIRED], &[VERIFIED, CHECKS_FOREIGN, CHECKS_IN_WASM]),
        }
    }
}

/// Times `Host::send` of `request`, starting a new host every [`STREAMS_PER_HOST`]
/// requests outside the timed part.
fn bench_sends(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    config: HostConfig,
    request: &HttpRequest,
    path: Path,
) {
    let mut sender = Sender::start(config, request, path);
    group.bench_function(name, |b| b.iter_custom(|iters| sender.time(iters)));
    sender.check_stats();
}

/// A started host, the request it is sent, and how many it was sent.
struct Sender<'a> {
    config: HostConfig,
    request: &'a HttpRequest,
    path: Path,
    host: Host,
    sent: i64,
}

impl<'a> Sender<'a> {
    fn start(config: HostConfig, request: &'a HttpRequest, path: Path) -> Sender<'a> {
        let host = support::start(config.clone());
        let mut sender = Sender {
            config,
            request,
            path,
            host,
            sent: 0,
        };
        sender.send_checked();
        sender
    }

    /// Replaces the host with a new one, after checking the old one's stats.
    fn restart(&mut self) {
        self.check_stats();
        self.host = support::start(self.config.clone());
        self.sent = 0;
        self.send_checked();
    }

    /// Sends once, untimed, and checks the decision and what went upstream. The first
    /// request on a host also defines the filter's stats.
    fn send_checked(&mut self) {
        let outcome = self.host.send(0, self.request).unwrap();
        let decision = support::decision(&outcome);
        assert!(
            decision.accepted,
            "the filter rejected the request: {decision:?}"
        );
        assert_eq!(outcome.forwarded_body, self.request.body_chunks.concat());
        self.sent += 1;
        self.check_stats();
    }

    /// Checks that the host counted every request sent on the expected path.
    fn check_stats(&self) {
        let (counting, zero) = self.path.stats();
        for name in counting {
            assert_eq!(
                self.host.metric(name),
                Some(self.sent),
                "{:?}: {name}",
                self.path
            );
        }
        for name in zero {
            let value = self.host.metric(name).unwrap_or(0);
            assert_eq!(value, 0, "{:?}: {name}", self.path);
        }
    }

    /// Sends `iters` requests and returns the time spent in `Host::send`.
    fn time(&mut self, iters: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut left = i64::try_from(iters).unwrap();
        while left > 0 {
            if self.sent >= STREAMS_PER_HOST {
                self.restart();
            }
            let batch = left.min(STREAMS_PER_HOST - self.sent);
            let started = Instant::now();
            for _ in 0..batch {
                let outcome = self.host.send(0, black_box(self.request)).unwrap();
                assert_eq!(outcome.state, StreamState::Forwarded);
            }
            elapsed += started.elapsed();
            self.sent += batch;
            left -= batch;
        }
        elapsed
    }
}

/// A host configuration with `key` inline, at the clock the requests were signed for.
fn host_config(key: &TestKey) -> HostConfig {
    let plugin_config = support::inline_config(
        &[(key.participant, &key.signing)],
        r#""profile":"mojaloop-sdk","signature_path":"auto""#,
    );
    let mut config = support::host_config(&plugin_config);
    config.start_unix_nanos = fixtures::NOW as u64 * 1_000_000_000;
    config
}

/// The signed request as Envoy hands it to the filter: pseudo-headers, lower-case
/// names, `content-length`, and the body in one chunk.
fn host_request(request: &Request) -> HttpRequest {
    let mut http = HttpRequest::new(&request.method, &request.target);
    for (name, value) in request.headers.iter() {
        http = http.header(&name.to_ascii_lowercase(), value.as_bytes());
    }
    let body = request.body.as_deref().unwrap_or_default();
    http = http.header("content-length", body.len().to_string());
    http.chunk(body)
}

/// The core request the filter builds from `http`: the regular headers, `host` from
/// `:authority`, and the body.
fn request_as_filter_sees_it(http: &HttpRequest) -> Request {
    let pseudo = |name: &str| {
        let (_, value) = http.headers.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(value.clone()).unwrap()
    };
    let mut headers = Headers::new();
    for (name, value) in &http.headers {
        if !name.starts_with(':') {
            headers.push(name, std::str::from_utf8(value).unwrap());
        }
    }
    headers.push("host", &pseudo(":authority"));
    Request {
        method: pseudo(":method"),
        target: pseudo(":path"),
        headers,
        body: Some(http.body_chunks.concat()),
    }
}

criterion_group! {
    name = benches;
    config = fixtures::criterion_config();
    targets = filter_groups
}
criterion_main!(benches);
