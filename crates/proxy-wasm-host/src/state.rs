//! The data each worker's wasmtime `Store` carries: what hostcalls read and write
//! while a callback runs.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::{Memory, TypedFunc};

use crate::config::HostConfig;
use crate::pairs::HeaderList;
use crate::process::Process;
use crate::types::{LocalReply, LogLine, PropertyValue};

/// The guest export that is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Callback {
    Initialize,
    ContextCreate,
    VmStart,
    Configure,
    Tick,
    QueueReady,
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    HttpCallResponse,
    Done,
    Log,
    Delete,
}

impl Callback {
    pub fn export_name(self) -> &'static str {
        match self {
            Callback::Initialize => "_initialize",
            Callback::ContextCreate => "proxy_on_context_create",
            Callback::VmStart => "proxy_on_vm_start",
            Callback::Configure => "proxy_on_configure",
            Callback::Tick => "proxy_on_tick",
            Callback::QueueReady => "proxy_on_queue_ready",
            Callback::RequestHeaders => "proxy_on_request_headers",
            Callback::RequestBody => "proxy_on_request_body",
            Callback::RequestTrailers => "proxy_on_request_trailers",
            Callback::HttpCallResponse => "proxy_on_http_call_response",
            Callback::Done => "proxy_on_done",
            Callback::Log => "proxy_on_log",
            Callback::Delete => "proxy_on_delete",
        }
    }
}

/// A callout response while it is being delivered.
pub(crate) struct CallResponseData {
    pub headers: HeaderList,
    pub body: Vec<u8>,
    pub trailers: HeaderList,
}

/// The state of one guest context (the root context or a stream context).
#[derive(Default)]
pub(crate) struct ContextState {
    pub is_root: bool,
    pub request_headers: HeaderList,
    pub headers_received: bool,
    /// Envoy keeps a pointer to the request headers from `on_request_headers` until that
    /// callback returns Continue; the map is readable and writable while it is set.
    pub headers_available: bool,
    pub request_trailers: HeaderList,
    pub trailers_available: bool,
    /// The request body buffer: the current chunk, or everything buffered since the
    /// filter started pausing in body callbacks.
    pub body: Vec<u8>,
    pub body_available: bool,
    /// Bytes at the end of `body` hidden from the guest (the legacy last-chunk bug).
    pub body_hidden_tail: usize,
    /// Properties the test set on this stream.
    pub properties: Vec<(Vec<String>, PropertyValue)>,
    /// Properties the guest set with `proxy_set_property`, keyed by raw path bytes.
    pub guest_properties: Vec<(Vec<u8>, Vec<u8>)>,
    pub local_reply_sent: bool,
    /// Set while `on_log` runs: maps are read-only and a missing map is NOT_FOUND.
    pub log_phase: bool,
    pub call_response: Option<CallResponseData>,
}

impl ContextState {
    pub fn root() -> ContextState {
        ContextState {
            is_root: true,
            ..ContextState::default()
        }
    }

    /// Returns the part of the body buffer visible to the guest.
    pub fn visible_body(&self) -> &[u8] {
        let visible = self.body.len().saturating_sub(self.body_hidden_tail);
        self.body.get(..visible).unwrap_or_default()
    }
}

/// An action Envoy runs after the current callback returns.
pub(crate) enum Deferred {
    LocalReply(LocalReply),
    ContinueRequest,
    CloseStream,
}

/// A `proxy_http_call` the host has not yet registered.
pub(crate) struct OutgoingCall {
    pub token: u32,
    pub context_id: u32,
    pub cluster: String,
    pub headers: HeaderList,
    pub body: Vec<u8>,
    pub trailers: HeaderList,
    pub timeout_ms: u32,
}

/// Source of WASI `random_get` bytes.
pub(crate) enum Random {
    System(ring::rand::SystemRandom),
    /// SplitMix64, for reproducible runs.
    Seeded(u64),
}

impl Random {
    pub fn fill(&mut self, out: &mut [u8]) -> Result<(), ()> {
        match self {
            Random::System(rng) => ring::rand::SecureRandom::fill(rng, out).map_err(|_| ()),
            Random::Seeded(state) => {
                for chunk in out.chunks_mut(8) {
                    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = *state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    z ^= z >> 31;
                    let bytes = z.to_le_bytes();
                    chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
                }
                Ok(())
            }
        }
    }
}

/// The data of one worker's store.
pub(crate) struct WorkerState {
    pub worker: usize,
    pub process: Arc<Process>,
    pub config: Arc<HostConfig>,
    pub memory: Option<Memory>,
    pub allocator: Option<TypedFunc<i32, i32>>,
    /// The running export; `None` between callbacks.
    pub callback: Option<Callback>,
    pub effective_context: u32,
    pub root_context_id: u32,
    pub next_context_id: u32,
    pub contexts: HashMap<u32, ContextState>,
    /// Deferred actions with the context they target, in call order.
    pub deferred: Vec<(u32, Deferred)>,
    pub logs: Vec<LogLine>,
    /// The tick period the guest last set during this callback, if it set one.
    pub tick_period_ms: Option<u32>,
    pub outgoing_calls: Vec<OutgoingCall>,
    pub next_call_token: u32,
    /// The code and message `proxy_get_status` reports.
    pub last_status: (u32, String),
    pub host_properties: Vec<(Vec<String>, PropertyValue)>,
    pub random: Random,
    /// Fuel per callback for this instance only, replacing `config.fuel_per_callback`.
    pub fuel_override: Option<u64>,
}

impl WorkerState {
    pub fn new(
        worker: usize,
        process: Arc<Process>,
        config: Arc<HostConfig>,
        host_properties: Vec<(Vec<String>, PropertyValue)>,
    ) -> WorkerState {
        let random = match config.random_seed {
            Some(seed) => Random::Seeded(seed ^ worker as u64),
            None => Random::System(ring::rand::SystemRandom::new()),
        };
        WorkerState {
            worker,
            process,
            config,
            memory: None,
            allocator: None,
            callback: None,
            effective_context: 0,
            root_context_id: 0,
            next_context_id: 1,
            contexts: HashMap::new(),
            deferred: Vec::new(),
            logs: Vec::new(),
            tick_period_ms: None,
            outgoing_calls: Vec::new(),
            next_call_token: 1,
            last_status: (0, String::new()),
            host_properties,
            fuel_override: None,
            random,
        }
    }

    pub fn allocate_context_id(&mut self) -> u32 {
        let id = self.next_context_id;
        self.next_context_id = self.next_context_id.wrapping_add(1).max(1);
        id
    }

    pub fn effective(&self) -> Option<&ContextState> {
        self.contexts.get(&self.effective_context)
    }

    pub fn effective_mut(&mut self) -> Option<&mut ContextState> {
        self.contexts.get_mut(&self.effective_context)
    }
}
