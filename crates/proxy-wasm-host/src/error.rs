//! The one error type of the host's public API.

use std::fmt;

use crate::{CallId, LogLine, StreamId};

/// The failure of a host operation.
///
/// Guest traps during traffic are not errors of the API: they are recorded in
/// [`Host::traps`](crate::Host::traps) and handled by the
/// [`FailurePolicy`](crate::FailurePolicy). Only a trap while the VM starts is an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// The module file could not be read.
    Io {
        /// The path given to [`Module::from_file`](crate::Module::from_file).
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// wasmtime rejected the module bytes (invalid wasm or unsupported feature).
    Compile {
        /// wasmtime's message.
        message: String,
    },
    /// The module imports a function this host does not provide, so Envoy would
    /// refuse to load it too.
    UnsupportedImport {
        /// The import module, e.g. `wasi_snapshot_preview1`.
        module: String,
        /// The import name, e.g. `fd_read`.
        name: String,
    },
    /// A required export is missing: `memory`, `proxy_abi_version_0_2_1`, or an
    /// allocator (`proxy_on_memory_allocate` or `malloc`).
    MissingExport {
        /// The export name.
        name: &'static str,
    },
    /// An export has a signature other than the ABI's.
    BadExport {
        /// The export name.
        name: &'static str,
        /// wasmtime's type-check message.
        message: String,
    },
    /// Instantiation failed (for example a start function trapped).
    Instantiate {
        /// wasmtime's message.
        message: String,
    },
    /// The guest trapped while the VM started (`_initialize`, root context creation,
    /// `proxy_on_vm_start` or `proxy_on_configure`).
    Trap {
        /// The worker whose VM trapped.
        worker: usize,
        /// The export that was running.
        callback: &'static str,
        /// The trap message.
        message: String,
    },
    /// `proxy_on_vm_start` or `proxy_on_configure` returned false.
    ConfigRejected {
        /// The worker whose VM rejected the configuration.
        worker: usize,
        /// `proxy_on_vm_start` or `proxy_on_configure`.
        callback: &'static str,
        /// Every log line the VM wrote up to the rejection.
        logs: Vec<LogLine>,
    },
    /// The configuration is unusable (for example zero workers).
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// A worker index is out of range.
    UnknownWorker {
        /// The index given.
        worker: usize,
        /// The number of workers of the host.
        workers: usize,
    },
    /// No stream has this id.
    UnknownStream(StreamId),
    /// The stream event is out of order, e.g. body before headers or data after the end
    /// of the stream.
    InvalidStreamEvent {
        /// The stream.
        stream: StreamId,
        /// What was wrong.
        reason: &'static str,
    },
    /// No pending HTTP callout has this id.
    UnknownCall(CallId),
    /// The event loop delivered this many events without becoming idle, which means the
    /// guest and the call handler keep feeding each other (for example a filter that
    /// dispatches a new callout in every callout response).
    EventLoopLimit {
        /// The number of events delivered before the host gave up.
        events: usize,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Io { path, source } => write!(f, "failed to read module {path}: {source}"),
            HostError::Compile { message } => write!(f, "failed to compile module: {message}"),
            HostError::UnsupportedImport { module, name } => {
                write!(
                    f,
                    "module imports {module}.{name}, which the host does not provide"
                )
            }
            HostError::MissingExport { name } => write!(f, "module does not export {name}"),
            HostError::BadExport { name, message } => {
                write!(f, "export {name} has the wrong signature: {message}")
            }
            HostError::Instantiate { message } => {
                write!(f, "failed to instantiate module: {message}")
            }
            HostError::Trap {
                worker,
                callback,
                message,
            } => {
                write!(f, "worker {worker}: guest trapped in {callback}: {message}")
            }
            HostError::ConfigRejected {
                worker,
                callback,
                logs,
            } => write!(
                f,
                "worker {worker}: {callback} returned false ({} log lines captured)",
                logs.len()
            ),
            HostError::InvalidConfig { reason } => {
                write!(f, "invalid host configuration: {reason}")
            }
            HostError::UnknownWorker { worker, workers } => {
                write!(
                    f,
                    "worker {worker} does not exist; the host has {workers} workers"
                )
            }
            HostError::UnknownStream(id) => write!(f, "stream {} not found", id.0),
            HostError::InvalidStreamEvent { stream, reason } => {
                write!(f, "stream {}: {reason}", stream.0)
            }
            HostError::UnknownCall(id) => write!(f, "HTTP callout {} is not pending", id.0),
            HostError::EventLoopLimit { events } => write!(
                f,
                "event loop still busy after {events} events; the guest and the call handler \
                 keep triggering each other"
            ),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
