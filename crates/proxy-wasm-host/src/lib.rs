//! A proxy-wasm ABI 0.2.1 host on wasmtime that behaves like Envoy.

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
