//! Plain data types of the public API: ids, stream outcomes, requests, callouts, logs,
//! traps and property values.

use std::time::Duration;

use crate::abi::LogLevel;
use crate::pairs::HeaderList;

/// Identifies one HTTP stream of a [`Host`](crate::Host), unique across its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u64);

/// Identifies one HTTP callout (`proxy_http_call`) of a [`Host`](crate::Host), unique
/// across its workers. It differs from the token the guest gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

/// The position of a request stream after the last event the host processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    /// The filter keeps nothing back and waits for more request data.
    Open,
    /// The filter keeps headers, body or trailers back, and something may still resume it:
    /// more request data, a pending callout, a queued event or a tick timer.
    Paused,
    /// The whole request, up to its end, went upstream.
    Forwarded,
    /// The filter (or the host, for 413) replied with a local reply.
    LocalReply,
    /// The filter reset the stream with `proxy_close_stream`.
    Reset,
    /// The filter keeps the complete request back and nothing pending can resume it: no
    /// callout in flight, no queued event, no tick timer. Envoy would wait until the route
    /// timeout; the host reports the stall instead.
    Stalled,
    /// The VM failed (trapped) and the failure policy replied 503.
    Failed,
}

impl StreamState {
    /// True for the states that no later event changes: `Forwarded`, `LocalReply`,
    /// `Reset` and `Failed`.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StreamState::Forwarded
                | StreamState::LocalReply
                | StreamState::Reset
                | StreamState::Failed
        )
    }
}

/// A local reply sent by `proxy_send_local_response`, by the buffer limit (413) or by
/// the fail-closed policy (503).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReply {
    /// The HTTP status code.
    pub status: u32,
    /// The response body.
    pub body: Vec<u8>,
    /// Additional response headers, keys lower-cased as Envoy does.
    pub headers: HeaderList,
    /// The response code details, e.g. `request_payload_too_large`.
    pub details: String,
    /// The gRPC status, `None` when the guest passed -1.
    pub grpc_status: Option<i32>,
}

/// The record of a stream so far, from the upstream's point of view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamOutcome {
    /// The stream.
    pub stream: StreamId,
    /// The worker the stream runs on.
    pub worker: usize,
    /// The current state.
    pub state: StreamState,
    /// The local reply, if one was sent.
    pub local_reply: Option<LocalReply>,
    /// The request headers as they went upstream, including changes the filter made
    /// while it held them. `None` while nothing went upstream.
    pub forwarded_headers: Option<HeaderList>,
    /// The body bytes that went upstream, in order.
    pub forwarded_body: Vec<u8>,
    /// The request trailers as they went upstream.
    pub forwarded_trailers: Option<HeaderList>,
    /// True when headers had gone upstream before a local reply or reset ended the
    /// stream, so Envoy reset the upstream request and the upstream saw an aborted
    /// request.
    pub upstream_reset: bool,
    /// True when the failure policy, not the filter, decided this stream because its VM
    /// had failed.
    pub vm_failed: bool,
    /// True once [`Host::finish_stream`](crate::Host::finish_stream) ran the teardown.
    pub finished: bool,
}

/// One whole request for [`Host::send`](crate::Host::send).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpRequest {
    /// Request headers including the pseudo-headers `:method`, `:path`, `:authority`
    /// and `:scheme`, as Envoy presents them.
    pub headers: HeaderList,
    /// Body chunks in arrival order; empty for a request without a body.
    pub body_chunks: Vec<Vec<u8>>,
    /// Request trailers; when present the body never carries the end of stream.
    pub trailers: Option<HeaderList>,
    /// Properties of this stream only, set before the first callback.
    pub properties: Vec<(Vec<String>, PropertyValue)>,
}

impl HttpRequest {
    /// Creates a request with `:method`, `:path`, `:authority: example.com` and
    /// `:scheme: https`.
    pub fn new(method: &str, path: &str) -> HttpRequest {
        HttpRequest {
            headers: vec![
                (":method".into(), method.as_bytes().to_vec()),
                (":path".into(), path.as_bytes().to_vec()),
                (":authority".into(), b"example.com".to_vec()),
                (":scheme".into(), b"https".to_vec()),
            ],
            ..HttpRequest::default()
        }
    }

    /// Appends a header; the value may be any bytes.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> HttpRequest {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Appends one body chunk.
    pub fn chunk(mut self, data: impl AsRef<[u8]>) -> HttpRequest {
        self.body_chunks.push(data.as_ref().to_vec());
        self
    }

    /// Sets the trailers.
    pub fn trailers(mut self, trailers: HeaderList) -> HttpRequest {
        self.trailers = Some(trailers);
        self
    }

    /// Sets a property of this stream.
    pub fn property(mut self, path: &[&str], value: PropertyValue) -> HttpRequest {
        self.properties
            .push((path.iter().map(|s| s.to_string()).collect(), value));
        self
    }
}

/// An HTTP callout the guest made with `proxy_http_call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRequest {
    /// The host's id of the call.
    pub id: CallId,
    /// The worker whose VM made the call.
    pub worker: usize,
    /// The context that made the call and gets the response.
    pub context_id: u32,
    /// The token returned to the guest.
    pub token: u32,
    /// The upstream cluster name.
    pub cluster: String,
    /// Request headers, keys lower-cased, including `:method`, `:path`, `:authority`.
    pub headers: HeaderList,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: HeaderList,
    /// The timeout, `None` when the guest passed 0.
    pub timeout: Option<Duration>,
}

impl CallRequest {
    /// Returns the first value of a header as lossy UTF-8, `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    }
}

/// A pending callout as listed by [`Host::pending_calls`](crate::Host::pending_calls).
pub type PendingCall = CallRequest;

/// The reply to a callout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallReply {
    /// A response; the guest reads `:status` followed by `headers`.
    Response {
        /// The HTTP status.
        status: u16,
        /// Response headers (without `:status`).
        headers: HeaderList,
        /// Response body.
        body: Vec<u8>,
    },
    /// The upstream reset: the guest gets `on_http_call_response` with zero headers and
    /// `proxy_get_status` reports BrokenConnection with the message "reset".
    Fail,
    /// Leave the call pending (a handler's way to say "not now").
    Hold,
}

impl CallReply {
    /// Creates a 200 response with no extra headers.
    pub fn ok(body: impl Into<Vec<u8>>) -> CallReply {
        CallReply::Response {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// One `proxy_log` line, or one WASI write to stdout (Info) or stderr (Error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The worker whose VM wrote the line.
    pub worker: usize,
    /// The level.
    pub level: LogLevel,
    /// The message, lossy UTF-8.
    pub message: String,
}

/// A guest trap (or a hostcall that aborted the guest, such as `proc_exit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapRecord {
    /// The worker whose VM failed.
    pub worker: usize,
    /// The export that was running, e.g. `proxy_on_request_body`.
    pub callback: &'static str,
    /// The trap message.
    pub message: String,
    /// True when the callback ran out of fuel (an endless loop or too much work).
    pub out_of_fuel: bool,
}

/// A property value, encoded the way Envoy serializes attribute values.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyValue {
    /// UTF-8 bytes as they are.
    String(String),
    /// Bytes as they are.
    Bytes(Vec<u8>),
    /// One byte, 0 or 1.
    Bool(bool),
    /// Eight bytes, little-endian. Timestamps and durations are nanoseconds in this form.
    Int(i64),
    /// Eight bytes, little-endian.
    Uint(u64),
    /// Eight bytes, the IEEE 754 bits little-endian.
    Double(f64),
}

impl PropertyValue {
    /// Returns the bytes the guest receives from `proxy_get_property`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PropertyValue::String(s) => s.as_bytes().to_vec(),
            PropertyValue::Bytes(b) => b.clone(),
            PropertyValue::Bool(b) => vec![u8::from(*b)],
            PropertyValue::Int(i) => i.to_le_bytes().to_vec(),
            PropertyValue::Uint(u) => u.to_le_bytes().to_vec(),
            PropertyValue::Double(d) => d.to_le_bytes().to_vec(),
        }
    }
}

/// One metric in a [`Host::metrics`](crate::Host::metrics) snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSnapshot {
    /// The metric name.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: crate::abi::MetricKind,
    /// The counter or gauge value; the number of samples for a histogram.
    pub value: i64,
    /// The recorded samples of a histogram; empty for other kinds.
    pub samples: Vec<u64>,
}
