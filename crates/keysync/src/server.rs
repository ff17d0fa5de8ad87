//! HTTP outputs: the key set, metrics and health.
//!
//! | request | response |
//! |---|---|
//! | `GET /v1/keys` | the key-set document with `ETag: "<version>"`; `304` when `If-None-Match` names the version; `503` before a key set is loaded |
//! | `GET /v1/keys` with `x-fspiop-guard-refresh` | the same, after an immediate MCM poll (rate-limited, waits at most `refresh.wait_ms`) |
//! | `POST /v1/keys/refresh` | an immediate MCM poll (rate-limited); `200` with the outcome |
//! | `GET /metrics` | Prometheus text |
//! | `GET /healthz` | `200` while the process serves |
//! | `GET /readyz` | `200` once a key set is loaded, `503` before |
//!
//! Responses from `/v1/keys` carry `Access-Control-Allow-Origin` when the request's `Origin`
//! is listed in `listen.cors_allow_origins`, so the verification page can load the keys.
//! A CORS preflight (`OPTIONS /v1/keys`) allows `GET` and `HEAD` with `If-None-Match`
//! only, so a page never sends the refresh header that starts an MCM poll.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::config::CorsOrigins;
use crate::daemon::{RefreshOutcome, Shared};

/// Path of the key set.
pub const KEYS_PATH: &str = "/v1/keys";

/// Path that requests an immediate poll.
pub const REFRESH_PATH: &str = "/v1/keys/refresh";

/// Header with which the Envoy filter marks the fetch it sends when a signature
/// matches no key it has.
pub const REFRESH_HEADER: &str = "x-fspiop-guard-refresh";

/// Most connections served at once; more wait for a free slot.
const MAX_CONNECTIONS: usize = 256;

/// Time a client has to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the outputs on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    if let Ok(address) = listener.local_addr() {
        info!(address = %address, "serving /v1/keys, /metrics, /healthz and /readyz");
    }
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!("cannot accept a connection: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(route(&shared, &request, peer).await) }
            });
            let result = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = result {
                debug!(peer = %peer, "connection ended with an error: {error}");
            }
            drop(permit);
        });
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_message(status: StatusCode, message: &str) -> Answer {
    let body = serde_json::json!({ "message": message }).to_string();
    answer(status, "application/json", body)
}

async fn route(shared: &Shared, request: &Request<Incoming>, peer: SocketAddr) -> Answer {
    let path = request.uri().path();
    let method = request.method();
    match (method, path) {
        (&Method::GET | &Method::HEAD, KEYS_PATH) => {
            if request.headers().contains_key(REFRESH_HEADER) {
                let outcome = shared.request_refresh().await;
                info!(peer = %peer, outcome = ?outcome, "key set requested with a refresh");
            }
            let mut answer = keyset(shared, request);
            allow_origin(shared, request, &mut answer);
            answer
        }
        (&Method::OPTIONS, KEYS_PATH) => {
            let mut answer = preflight();
            allow_origin(shared, request, &mut answer);
            answer
        }
        (&Method::POST, REFRESH_PATH) => {
            let outcome = shared.request_refresh().await;
            info!(peer = %peer, outcome = ?outcome, "immediate MCM poll requested");
            let (status, text) = match outcome {
                RefreshOutcome::Polled => (StatusCode::OK, "polled"),
                RefreshOutcome::TimedOut => (
                    StatusCode::ACCEPTED,
                    "poll started but not finished within refresh.wait_ms",
                ),
                RefreshOutcome::RateLimited => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited by refresh.min_interval_seconds; the key set is unchanged",
                ),
            };
            let version = shared.keyset().map(|k| k.version.clone());
            let body = serde_json::json!({ "outcome": text, "version": version }).to_string();
            answer(status, "application/json", body)
        }
        (&Method::GET, "/metrics") => answer(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            shared.render_metrics(),
        ),
        (&Method::GET, "/healthz") => answer(StatusCode::OK, "text/plain; charset=utf-8", "ok\n"),
        (&Method::GET, "/readyz") => {
            if shared.is_ready() {
                answer(StatusCode::OK, "text/plain; charset=utf-8", "ready\n")
            } else {
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    "not ready: no key set yet (no state file and no successful MCM poll)\n",
                )
            }
        }
        (_, KEYS_PATH | REFRESH_PATH | "/metrics" | "/healthz" | "/readyz") => json_message(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this path",
        ),
        _ => json_message(
            StatusCode::NOT_FOUND,
            "not found; keysync serves /v1/keys, /v1/keys/refresh, /metrics, /healthz and /readyz",
        ),
    }
}

/// Returns the response to a CORS preflight: the methods and request header a page may
/// use on `/v1/keys`, cached by the browser for ten minutes.
fn preflight() -> Answer {
    const HEADERS: [(header::HeaderName, &str); 4] = [
        (header::ALLOW, "GET, HEAD, OPTIONS"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "If-None-Match"),
        (header::ACCESS_CONTROL_MAX_AGE, "600"),
    ];
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    for (name, value) in HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Adds the CORS headers that let an allowed page read the response and its `ETag`.
fn allow_origin(shared: &Shared, request: &Request<Incoming>, answer: &mut Answer) {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let headers = answer.headers_mut();
    if matches!(shared.cors(), CorsOrigins::List(_)) {
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    let Some(allowed) = shared.cors().allow(origin) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag"),
        );
    }
}

fn keyset(shared: &Shared, request: &Request<Incoming>) -> Answer {
    let Some(keyset) = shared.keyset().filter(|_| shared.is_ready()) else {
        return json_message(
            StatusCode::SERVICE_UNAVAILABLE,
            "no key set yet: keysync has no state file and no successful MCM poll",
        );
    };
    let etag = format!("\"{}\"", keyset.version);
    let matches = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");

    let mut response = if matches {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let body = if request.method() == Method::HEAD {
            Bytes::new()
        } else {
            keyset.body.clone()
        };
        answer(StatusCode::OK, "application/json", body)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
