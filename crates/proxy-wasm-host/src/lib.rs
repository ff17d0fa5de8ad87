//! A proxy-wasm ABI 0.2.1 host on wasmtime that behaves like Envoy, for testing and
//! replaying an Envoy HTTP filter built for `wasm32-wasip1` (for example with the
//! proxy-wasm Rust SDK 0.2.5) without running Envoy.
//!
//! A [`Module`] is compiled once and shared. A [`Host`] runs `workers` instances of it,
//! each with its own store, root context and tick timer, sharing shared data, queues and
//! metrics as Envoy's worker threads do. Test code drives request streams, replies to HTTP
//! callouts, moves a virtual clock and inspects what went upstream.
//!
//! ```no_run
//! use proxy_wasm_host::{CallReply, Host, HostConfig, HttpRequest, Module, StreamState};
//!
//! # fn main() -> Result<(), proxy_wasm_host::HostError> {
//! let module = Module::from_file("target/wasm32-wasip1/release/filter.wasm")?;
//! let config = HostConfig {
//!     plugin_config: br#"{"keys_cluster":"keys"}"#.to_vec(),
//!     clusters: vec!["keys".to_string()],
//!     workers: 2,
//!     ..HostConfig::default()
//! };
//! let mut host = Host::start(&module, config)?;
//! host.set_http_call_handler(Box::new(|call| match call.header(":path").as_deref() {
//!     Some("/keys") => CallReply::ok(r#"{"keys":[]}"#),
//!     _ => CallReply::Fail,
//! }));
//! host.advance(std::time::Duration::from_secs(1))?; // fire the first tick
//!
//! let request = HttpRequest::new("POST", "/transfers")
//!     .header("content-type", "application/vnd.interoperability.transfers+json;version=1.1")
//!     .chunk(r#"{"transferId":"b51ec534"}"#);
//! let outcome = host.send(0, &request)?;
//! assert_eq!(outcome.state, StreamState::LocalReply);
//! assert_eq!(outcome.local_reply.map(|r| r.status), Some(401));
//! # Ok(())
//! # }
//! ```
//!
//! # Where the host follows Envoy rather than the ABI text
//!
//! * Pause from `on_request_headers` stops all iteration (StopAllIterationAndWatermark):
//!   no body or trailer callbacks until `proxy_continue_stream`, unless
//!   [`HostConfig::allow_on_headers_stop_iteration`] is set.
//! * `body_size` in `on_request_body` is the cumulative buffered size after a Pause.
//! * Request headers are unavailable (BAD_ARGUMENT) once `on_request_headers` returned
//!   Continue; an unavailable map read as pairs is OK and empty.
//! * Local replies, continues and resets run after the callback returns; a local reply
//!   after the headers went upstream resets the upstream request.
//! * Data is returned through the guest allocator, and empty data as a null pointer with
//!   length 0.
//! * Failed callouts and timeouts arrive with zero headers, and `proxy_get_status` then
//!   reports BrokenConnection "reset".
//! * Hostcalls other than logging and WASI trap during `_initialize`.
//! * `verify_signature` is a native foreign function with Envoy's contract.
//!
//! # What the host does not model
//!
//! * The response path: no response callbacks, and response maps and buffers are never
//!   available. `proxy_continue_stream(HTTP_RESPONSE)` is accepted and does nothing.
//! * gRPC callouts and streams: every gRPC hostcall returns UNIMPLEMENTED.
//! * TCP filters (`proxy_on_new_connection` and the connection callbacks).
//! * The reload backoff of Envoy's `FAIL_RELOAD`: the host reloads at the next stream.
//! * A root context's deferred finish: `proxy_on_done`'s result is ignored and
//!   `proxy_done` returns NOT_FOUND.

#![warn(missing_docs)]

mod abi;
mod config;
mod error;
mod events;
mod host;
mod hostcalls;
mod linker;
mod loopback;
mod memory;
pub mod pairs;
mod process;
pub mod protobuf;
mod state;
mod stream;
mod types;
mod verify;
mod vm;
mod wasi;

pub use abi::{LogLevel, MetricKind, Status};
pub use config::{FailurePolicy, ForeignFunctions, HostConfig, TeardownOrder};
pub use error::HostError;
pub use host::{CallHandler, Host};
pub use linker::SUPPORTED_IMPORTS;
pub use loopback::loopback_handler;
pub use pairs::HeaderList;
pub use types::{
    CallId, CallReply, CallRequest, HttpRequest, LocalReply, LogLine, MetricSnapshot, PendingCall,
    PropertyValue, StreamId, StreamOutcome, StreamState, TrapRecord,
};
pub use vm::Module;
