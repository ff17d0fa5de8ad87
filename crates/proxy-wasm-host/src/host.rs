//! The [`Host`]: workers, their VMs, and the public driving API.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crate::abi::Status;
use crate::config::{FailurePolicy, HostConfig};
use crate::error::HostError;
use crate::pairs::HeaderList;
use crate::process::{ForeignFunction, Process, lock};
use crate::state::Deferred;
use crate::stream::Stream;
use crate::types::{
    CallId, CallReply, CallRequest, LogLine, MetricSnapshot, PropertyValue, StreamId,
    StreamOutcome, StreamState, TrapRecord,
};
use crate::verify;
use crate::vm::{Module, StartError, StartFailure, Trapped, Vm};

/// A handler that replies to callouts as soon as the callback that made them returns.
pub type CallHandler = Box<dyn FnMut(&CallRequest) -> CallReply + Send>;

/// One worker: a VM, or none after a failed reload.
pub(crate) struct Worker {
    pub vm: Option<Vm>,
    pub failed: bool,
    /// Bumped by every reload, so streams and callouts of an older instance are known.
    pub generation: u64,
    pub tick: Option<Tick>,
    /// Stream context id → stream, for the current instance.
    pub context_streams: HashMap<u32, StreamId>,
}

#[derive(Clone, Copy)]
pub(crate) struct Tick {
    pub period_nanos: u64,
    pub next_due: u64,
}

/// A registered callout.
pub(crate) struct Call {
    pub request: CallRequest,
    pub generation: u64,
    /// Unix nanoseconds at which the call times out.
    pub deadline: Option<u64>,
    /// A reply is queued for delivery.
    pub answered: bool,
}

/// The outcome of calling into a worker's guest.
pub(crate) enum Guest<R> {
    Returned(R),
    Trapped,
    /// The worker has no usable VM; nothing was called.
    Unavailable,
}

/// A proxy-wasm host that runs one module like Envoy runs a wasm HTTP filter: one VM
/// per worker, each with a root context, stream contexts created per request, and
/// shared data, queues and metrics common to all workers.
///
/// Every driving call (`request_headers`, `advance`, `respond`, …) runs the event loop
/// until it is idle before returning: the handler's replies to callouts are delivered
/// and queue notifications dispatched. The guest is never re-entered from inside a
/// hostcall.
pub struct Host {
    pub(crate) module: Module,
    pub(crate) config: Arc<HostConfig>,
    pub(crate) process: Arc<Process>,
    pub(crate) workers: Vec<Worker>,
    pub(crate) streams: BTreeMap<StreamId, Stream>,
    pub(crate) next_stream: u64,
    pub(crate) calls: BTreeMap<CallId, Call>,
    pub(crate) next_call: u64,
    pub(crate) ready: VecDeque<(CallId, CallReply)>,
    pub(crate) handler: Option<CallHandler>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) traps: Vec<TrapRecord>,
    pub(crate) host_properties: Vec<(Vec<String>, PropertyValue)>,
    pub(crate) calls_made: BTreeMap<String, usize>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("workers", &self.workers.len())
            .field("streams", &self.streams.len())
            .field("pending_calls", &self.calls.len())
            .finish()
    }
}

impl Host {
    /// Starts `config.workers` VMs of `module`: each runs `_initialize`, creates its
    /// root context and runs `proxy_on_vm_start` and `proxy_on_configure`.
    ///
    /// Fails with [`HostError::ConfigRejected`] when either callback returns false,
    /// [`HostError::Trap`] when the guest traps (including a hostcall other than logging
    /// or WASI during `_initialize`, which Envoy refuses), and with import or export
    /// errors when the module does not fit the ABI.
    pub fn start(module: &Module, config: HostConfig) -> Result<Host, HostError> {
        if config.workers == 0 {
            return Err(HostError::InvalidConfig {
                reason: "workers must be at least 1".into(),
            });
        }
        let process = Arc::new(Process::new(config.vm_id.clone(), config.start_unix_nanos));
        if config.verify_signature_foreign_function {
            let function: ForeignFunction = Arc::new(verify::verify_signature);
            lock(&process.foreign_functions).insert("verify_signature".to_string(), function);
        }
        for (name, function) in &config.foreign_functions.functions {
            lock(&process.foreign_functions).insert(name.clone(), function.clone());
        }
        let mut host = Host {
            module: module.clone(),
            host_properties: config.properties.clone(),
            config: Arc::new(config),
            process,
            workers: Vec::new(),
            streams: BTreeMap::new(),
            next_stream: 1,
            calls: BTreeMap::new(),
            next_call: 1,
            ready: VecDeque::new(),
            handler: None,
            logs: Vec::new(),
            traps: Vec::new(),
            calls_made: BTreeMap::new(),
        };
        for index in 0..host.config.workers {
            let vm = host
                .start_vm(index)
                .map_err(|failure| host.start_error(index, failure))?;
            host.workers.push(Worker {
                vm: Some(vm),
                failed: false,
                generation: 0,
                tick: None,
                context_streams: HashMap::new(),
            });
            host.absorb(index);
        }
        host.run_until_idle()?;
        Ok(host)
    }

    fn start_vm(&self, worker: usize) -> Result<Vm, StartFailure> {
        Vm::start(
            &self.module,
            self.config.clone(),
            self.process.clone(),
            worker,
            self.host_properties.clone(),
        )
    }

    fn start_error(&mut self, worker: usize, failure: StartFailure) -> HostError {
        self.logs.extend(failure.logs.iter().cloned());
        match failure.error {
            StartError::Host(error) => error,
            StartError::Trapped(trapped) => HostError::Trap {
                worker,
                callback: trapped.callback.export_name(),
                message: trapped.message,
            },
            StartError::Rejected(callback) => HostError::ConfigRejected {
                worker,
                callback: callback.export_name(),
                logs: failure.logs,
            },
        }
    }

    /// Replaces a failed worker's VM with a new instance (the `Reload` policy). On
    /// failure the worker stays failed and the reason is recorded as a trap.
    fn reload(&mut self, worker: usize) {
        let result = self.start_vm(worker);
        let Some(slot) = self.workers.get_mut(worker) else {
            return;
        };

        slot.generation += 1;
        slot.tick = None;
        slot.context_streams.clear();
        let generation = slot.generation;
        match result {
            Ok(vm) => {
                slot.vm = Some(vm);
                slot.failed = false;
            }
            Err(failure) => {
                slot.vm = None;
                let (callback, message, out_of_fuel) = match failure.error {
                    StartError::Trapped(t) => (t.callback.export_name(), t.message, t.out_of_fuel),
                    StartError::Rejected(c) => (
                        c.export_name(),
                        "reload failed: the callback returned false".into(),
                        false,
                    ),
                    StartError::Host(e) => ("_initialize", format!("reload failed: {e}"), false),
                };
                self.logs.extend(failure.logs);
                self.traps.push(TrapRecord {
                    worker,
                    callback,
                    message,
                    out_of_fuel,
                });
            }
        }

        // Callouts of the old instance can no longer be delivered.
        self.calls
            .retain(|_, call| call.request.worker != worker || call.generation == generation);
        let calls = &self.calls;
        self.ready.retain(|(id, _)| calls.contains_key(id));
        self.absorb(worker);
    }

    /// Calls into a worker's guest, then collects what the callback produced (logs,
    /// tick period, callouts). Returns the callback's deferred actions, which the caller
    /// applies in Envoy's order. A trap marks the worker failed and is recorded.
    pub(crate) fn call_guest<R>(
        &mut self,
        worker: usize,
        call: impl FnOnce(&mut Vm) -> Result<R, Trapped>,
    ) -> (Guest<R>, Vec<(u32, Deferred)>) {
        let Some(slot) = self.workers.get_mut(worker) else {
            return (Guest::Unavailable, Vec::new());
        };
        if slot.failed {
            return (Guest::Unavailable, Vec::new());
        }
        let Some(vm) = slot.vm.as_mut() else {
            return (Guest::Unavailable, Vec::new());
        };
        let result = call(vm);
        let deferred = std::mem::take(&mut vm.store.data_mut().deferred);
        self.absorb(worker);
        match result {
            Ok(value) => (Guest::Returned(value), deferred),
            Err(trapped) => {
                self.record_trap(worker, trapped);
                // The VM is in an unknown state: its queued actions are dropped.
                (Guest::Trapped, Vec::new())
            }
        }
    }

    fn record_trap(&mut self, worker: usize, trapped: Trapped) {
        if let Some(slot) = self.workers.get_mut(worker) {
            slot.failed = true;
            slot.tick = None;
        }
        // A failed VM gets no more callbacks, so no reply can reach its callouts.
        self.calls.retain(|_, call| call.request.worker != worker);
        let calls = &self.calls;
        self.ready.retain(|(id, _)| calls.contains_key(id));
        self.traps.push(TrapRecord {
            worker,
            callback: trapped.callback.export_name(),
            message: trapped.message,
            out_of_fuel: trapped.out_of_fuel,
        });
    }

    /// Moves logs, the tick period and new callouts out of a worker's store.
    pub(crate) fn absorb(&mut self, worker: usize) {
        let now = self.process.now_unix_nanos();
        let Some(slot) = self.workers.get_mut(worker) else {
            return;
        };
        let Some(vm) = slot.vm.as_mut() else {
            return;
        };
        let state = vm.store.data_mut();
        let logs = std::mem::take(&mut state.logs);
        let calls = std::mem::take(&mut state.outgoing_calls);
        if let Some(period_ms) = state.tick_period_ms.take() {
            slot.tick = (period_ms > 0).then(|| {
                let period_nanos = u64::from(period_ms) * 1_000_000;
                Tick {
                    period_nanos,
                    next_due: now.saturating_add(period_nanos),
                }
            });
        }
        let generation = slot.generation;
        self.logs.extend(logs);
        for call in calls {
            self.register_call(worker, generation, call);
        }
    }

    pub(crate) fn worker_usable(&self, worker: usize, generation: u64) -> bool {
        self.workers
            .get(worker)
            .is_some_and(|w| !w.failed && w.vm.is_some() && w.generation == generation)
    }

    pub(crate) fn stream_of_context(&self, worker: usize, context: u32) -> Option<StreamId> {
        self.workers
            .get(worker)?
            .context_streams
            .get(&context)
            .copied()
    }

    /// Creates a stream on `worker`. Its context is created lazily, at the first
    /// request headers, as Envoy does. Under the `Reload` policy a failed worker gets a
    /// new VM first.
    pub fn new_stream(&mut self, worker: usize) -> Result<StreamId, HostError> {
        let slot = self.workers.get(worker).ok_or(HostError::UnknownWorker {
            worker,
            workers: self.workers.len(),
        })?;
        if slot.failed && self.config.failure_policy == FailurePolicy::Reload {
            self.reload(worker);
            self.run_until_idle()?;
        }
        let generation = self
            .workers
            .get(worker)
            .map(|w| w.generation)
            .unwrap_or_default();
        let id = StreamId(self.next_stream);
        self.next_stream += 1;
        self.streams.insert(id, Stream::new(id, worker, generation));
        Ok(id)
    }

    /// Sets a property of one stream (for example `["connection", "mtls"]`). It takes
    /// precedence over a host property of the same path.
    pub fn set_stream_property(
        &mut self,
        id: StreamId,
        path: &[&str],
        value: PropertyValue,
    ) -> Result<(), HostError> {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        stream.properties.retain(|(p, _)| *p != path);
        stream.properties.push((path, value));
        let properties = stream.properties.clone();
        if let Some(context) = self.context_mut(id) {
            context.properties = properties;
        }
        Ok(())
    }

    /// Sets a property readable from every context of every worker, now and after a
    /// reload.
    pub fn set_property(&mut self, path: &[&str], value: PropertyValue) {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.host_properties.retain(|(p, _)| *p != path);
        self.host_properties.push((path, value));
        for worker in &mut self.workers {
            if let Some(vm) = worker.vm.as_mut() {
                vm.store.data_mut().host_properties = self.host_properties.clone();
            }
        }
    }

    /// Returns what the stream did so far.
    pub fn outcome(&self, id: StreamId) -> Result<&StreamOutcome, HostError> {
        self.streams
            .get(&id)
            .map(|s| &s.outcome)
            .ok_or(HostError::UnknownStream(id))
    }

    /// Returns the current state of a stream.
    pub fn state(&self, id: StreamId) -> Result<StreamState, HostError> {
        self.outcome(id).map(|o| o.state)
    }

    /// Returns the virtual clock, in nanoseconds since the Unix epoch.
    pub fn now_unix_nanos(&self) -> u64 {
        self.process.now_unix_nanos()
    }

    /// Returns the value and CAS of a shared data key of this host's VM id.
    pub fn shared_data(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        lock(&self.process.shared_data).get(key.as_bytes())
    }

    /// Writes shared data as a guest would with CAS 0, e.g. to seed keys before a test.
    pub fn set_shared_data(&self, key: &str, value: &[u8]) {
        // CAS 0 cannot mismatch.
        let _ = lock(&self.process.shared_data).set(key.as_bytes(), value, 0);
    }

    /// Returns every captured log line, in order, from all workers.
    pub fn logs(&self) -> &[LogLine] {
        &self.logs
    }

    /// Removes and returns the captured log lines.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    /// Returns a counter's or gauge's value, or a histogram's sample count, by name.
    pub fn metric(&self, name: &str) -> Option<i64> {
        lock(&self.process.metrics).by_name(name)
    }

    /// Returns every metric defined so far.
    pub fn metrics(&self) -> Vec<MetricSnapshot> {
        lock(&self.process.metrics).snapshot()
    }

    /// Returns every trap so far, in order.
    pub fn traps(&self) -> &[TrapRecord] {
        &self.traps
    }

    /// Returns the size of a worker's linear memory in 64 KiB pages, `None` for an
    /// unknown worker or one without a VM.
    pub fn memory_pages(&self, worker: usize) -> Option<u64> {
        self.workers.get(worker)?.vm.as_ref().map(Vm::memory_pages)
    }

    /// Limits the fuel of every later callback of the worker's current VM instance,
    /// so that a test can make it trap as a runaway callback would. A VM that replaces
    /// it after a reload gets `HostConfig::fuel_per_callback` again.
    pub fn limit_fuel_of_current_vm(&mut self, worker: usize, fuel: u64) {
        if let Some(vm) = self.workers.get_mut(worker).and_then(|w| w.vm.as_mut()) {
            vm.set_fuel_override(Some(fuel));
        }
    }

    /// Returns the number of workers.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// True when the worker's VM has failed and was not (yet) reloaded.
    pub fn worker_failed(&self, worker: usize) -> bool {
        self.workers
            .get(worker)
            .is_some_and(|w| w.failed || w.vm.is_none())
    }

    /// Returns how many times the `Reload` policy replaced the worker's VM.
    pub fn reloads(&self, worker: usize) -> u64 {
        self.workers
            .get(worker)
            .map(|w| w.generation)
            .unwrap_or_default()
    }

    /// Registers (or replaces) a foreign function for `proxy_call_foreign_function`.
    /// The function gets the argument bytes and returns result bytes or a status.
    pub fn register_foreign_function(
        &mut self,
        name: &str,
        function: impl Fn(&[u8]) -> Result<Vec<u8>, Status> + Send + Sync + 'static,
    ) {
        let function: ForeignFunction = Arc::new(function);
        lock(&self.process.foreign_functions).insert(name.to_string(), function);
    }

    /// Sends one whole request on `worker` and runs the event loop until the stream is
    /// decided (forwarded, answered, reset or failed), stalled, or paused on a held
    /// callout or a tick. A decided stream is finished (teardown callbacks run); a
    /// paused or stalled one stays open and its id is in the outcome.
    pub fn send(
        &mut self,
        worker: usize,
        request: &crate::types::HttpRequest,
    ) -> Result<StreamOutcome, HostError> {
        let id = self.new_stream(worker)?;
        for (path, value) in &request.properties {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            self.set_stream_property(id, &path, value.clone())?;
        }
        let has_more = !request.body_chunks.is_empty() || request.trailers.is_some();
        let mut state = self.request_headers(id, &request.headers, !has_more)?;
        let last = request.body_chunks.len().saturating_sub(1);
        for (index, chunk) in request.body_chunks.iter().enumerate() {
            if state.is_final() {
                break;
            }
            let end_of_stream = index == last && request.trailers.is_none();
            state = self.request_body(id, chunk, end_of_stream)?;
        }
        if let Some(trailers) = &request.trailers
            && !state.is_final()
        {
            self.request_trailers(id, trailers)?;
        }
        self.run_until_idle()?;
        if self.state(id)?.is_final() {
            self.finish_stream(id)?;
        }
        self.outcome(id).cloned()
    }
}

/// Lower-cases header names the way Envoy's header map does.
pub(crate) fn header_list<K: AsRef<str>, V: AsRef<[u8]>>(headers: &[(K, V)]) -> HeaderList {
    headers
        .iter()
        .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref().to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_and_module_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Host>();
        assert_send::<crate::Module>();
    }
}
