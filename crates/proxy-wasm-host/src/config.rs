//! Host configuration.

use std::sync::Arc;

use crate::abi::{LogLevel, Status};
use crate::process::ForeignFunction;
use crate::types::PropertyValue;

/// Foreign functions to register before the VMs start, so that `on_vm_start` and
/// `on_configure` can call them too. Later ones replace earlier ones of the same name.
#[derive(Clone, Default)]
pub struct ForeignFunctions {
    pub(crate) functions: Vec<(String, ForeignFunction)>,
}

impl ForeignFunctions {
    /// Adds a function: it gets the argument bytes and returns result bytes or a status.
    pub fn register(
        &mut self,
        name: &str,
        function: impl Fn(&[u8]) -> Result<Vec<u8>, Status> + Send + Sync + 'static,
    ) -> &mut ForeignFunctions {
        self.functions.push((name.to_string(), Arc::new(function)));
        self
    }
}

impl std::fmt::Debug for ForeignFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.functions.iter().map(|(name, _)| name))
            .finish()
    }
}

/// The handling of a worker's traffic after its VM trapped, like Envoy's
/// `PluginConfig.failure_policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Every request on the failed VM gets a 503 local reply (details
    /// `wasm_fail_stream`) and no callbacks, until the host is rebuilt.
    FailClosed,
    /// Requests on the failed VM pass through unfiltered.
    FailOpen,
    /// The stream that was running fails closed, and the next
    /// [`Host::new_stream`](crate::Host::new_stream) on that worker starts a new instance
    /// (`_initialize`, root context, `on_vm_start`, `on_configure`). Shared data and
    /// metrics survive the reload. Envoy waits a backoff (1 s by default) before a reload;
    /// the host reloads at once.
    Reload,
}

/// The order of the teardown callbacks in [`Host::finish_stream`](crate::Host::finish_stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownOrder {
    /// `on_done`, `on_log`, `on_delete`: the order of the ABI specification.
    DoneLogDelete,
    /// `on_log`, `on_done`, `on_delete`: Envoy writes access logs (and so calls `on_log`)
    /// before it destroys the filter chain.
    LogDoneDelete,
}

/// The configuration of one [`Host`](crate::Host).
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The VM id; shared data and shared queues are scoped by it. Envoy's
    /// `vm_config.vm_id`, readable as property `plugin_vm_id`.
    pub vm_id: String,
    /// The root id, readable as property `plugin_root_id`.
    pub root_id: String,
    /// The plugin name, readable as property `plugin_name`.
    pub plugin_name: String,
    /// Bytes of buffer 6 (VM_CONFIGURATION), readable during `proxy_on_vm_start`.
    pub vm_config: Vec<u8>,
    /// Bytes of buffer 7 (PLUGIN_CONFIGURATION), readable during `proxy_on_configure`.
    pub plugin_config: Vec<u8>,
    /// The number of worker VMs. Each has its own store, root context and tick timer,
    /// and all share shared data, queues and metrics. At least 1.
    pub workers: usize,
    /// The virtual clock's start, in nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// Envoy's `PluginConfig.allow_on_headers_stop_iteration` (Envoy 1.35 and later):
    /// when set, Pause from `on_request_headers` keeps the headers back but body
    /// callbacks still run. When unset (Envoy's default), Pause stops all callbacks for the stream
    /// until the filter calls `proxy_continue_stream`.
    pub allow_on_headers_stop_iteration: bool,
    /// Maximum number of request body bytes buffered while the filter pauses in a body callback;
    /// beyond it the host replies 413 like Envoy's `per_connection_buffer_limit_bytes`
    /// (1 MiB by default).
    pub buffer_limit_bytes: usize,
    /// Cluster names `proxy_http_call` accepts; any other name gets BAD_ARGUMENT.
    pub clusters: Vec<String>,
    /// Registers the native `verify_signature` foreign function. Turn off to exercise a
    /// filter's fallback when the host lacks it (Envoy builds without it, or other hosts).
    pub verify_signature_foreign_function: bool,
    /// The handling of traffic after a trap.
    pub failure_policy: FailurePolicy,
    /// Reproduce the body bug of Envoy before 1.32: in a body callback with end of stream
    /// that follows a Pause, the last chunk is missing from the buffer and from
    /// `body_size`. It still goes upstream when the filter continues.
    pub legacy_last_chunk_bug: bool,
    /// Fuel (roughly, wasm instructions) each callback may burn before it traps as out
    /// of fuel; `None` for no limit. Hostcalls the callback makes share the budget.
    pub fuel_per_callback: Option<u64>,
    /// The teardown order.
    pub teardown_order: TeardownOrder,
    /// Run the teardown (with `on_context_create` first) for a stream that never got
    /// headers, as Envoy's access log does.
    pub log_streams_without_headers: bool,
    /// The level `proxy_get_log_level` returns. All lines are captured whatever it is.
    pub log_level: LogLevel,
    /// Properties readable from every context, set before the VM starts.
    pub properties: Vec<(Vec<String>, PropertyValue)>,
    /// Seed for WASI `random_get`; `None` uses the system random generator.
    pub random_seed: Option<u64>,
    /// Foreign functions registered at start, after the built-in `verify_signature`.
    pub foreign_functions: ForeignFunctions,
    /// Maximum number of events (callout deliveries and queue notifications) one driving call may
    /// process before it fails with `HostError::EventLoopLimit`.
    pub max_events_per_run: usize,
}

impl Default for HostConfig {
    /// One worker, empty ids and configuration, clock at 2023-11-14T22:13:20Z, Envoy's
    /// body limit of 1 MiB, no clusters, `verify_signature` on, fail closed (Istio's
    /// default; Envoy 1.33 and later default to reload), 2·10⁹ fuel per callback.
    fn default() -> HostConfig {
        HostConfig {
            vm_id: String::new(),
            root_id: String::new(),
            plugin_name: "plugin".to_string(),
            vm_config: Vec::new(),
            plugin_config: Vec::new(),
            workers: 1,
            start_unix_nanos: 1_700_000_000_000_000_000,
            allow_on_headers_stop_iteration: false,
            buffer_limit_bytes: 1024 * 1024,
            clusters: Vec::new(),
            verify_signature_foreign_function: true,
            failure_policy: FailurePolicy::FailClosed,
            legacy_last_chunk_bug: false,
            fuel_per_callback: Some(2_000_000_000),
            teardown_order: TeardownOrder::DoneLogDelete,
            log_streams_without_headers: true,
            log_level: LogLevel::Trace,
            properties: Vec::new(),
            random_seed: None,
            foreign_functions: ForeignFunctions::default(),
            max_events_per_run: 100_000,
        }
    }
}
