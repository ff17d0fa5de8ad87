//! The request path of one HTTP stream, modeled on Envoy's filter manager with the wasm
//! filter in front of the router.
//!
//! Envoy's rules reproduced here:
//! * `on_request_headers` → Continue sends the headers upstream at once and Envoy drops
//!   its pointer to them (later reads are BAD_ARGUMENT). Pause becomes
//!   StopAllIterationAndWatermark: no body or trailer callbacks until
//!   `proxy_continue_stream`, unless `allow_on_headers_stop_iteration` makes it a plain
//!   StopIteration (headers held, body callbacks continue).
//! * A body callback returning Pause is StopIterationAndBuffer: the next callback gets
//!   the cumulative buffer; Continue sends the buffer upstream. Buffering beyond the limit
//!   makes the host reply 413.
//! * Local replies, continues and resets requested in a callback run after it returns.
//!   A local reply or reset after the headers went upstream resets the upstream request.

use std::mem;

use crate::abi::Action;
use crate::config::FailurePolicy;
use crate::error::HostError;
use crate::host::{Guest, Host, header_list};
use crate::pairs::HeaderList;
use crate::state::{ContextState, Deferred};
use crate::types::{LocalReply, PropertyValue, StreamId, StreamOutcome, StreamState};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadersStop {
    /// StopAllIterationAndWatermark: the filter gets nothing until it continues.
    All,
    /// StopIteration: headers are held, body and trailers still reach the filter.
    Iteration,
}

/// Data the filter manager holds for the filter during StopAll, not yet delivered.
#[derive(Default)]
pub(crate) struct Parked {
    body: Vec<u8>,
    saw_data: bool,
    trailers: Option<HeaderList>,
}

pub(crate) struct Stream {
    pub worker: usize,
    pub generation: u64,
    pub context: Option<u32>,
    pub properties: Vec<(Vec<String>, PropertyValue)>,
    headers_received: bool,
    /// The end of the request arrived (with headers, a body chunk or trailers).
    received_all: bool,
    trailers_received: bool,
    headers_forwarded: bool,
    headers_stop: Option<HeadersStop>,
    /// The last body callback returned Pause and the filter manager buffers.
    body_buffering: bool,
    trailers_held: bool,
    parked: Parked,
    /// Fail-open: the filter is skipped and everything goes upstream.
    bypass: bool,
    terminal: Option<StreamState>,
    completed: bool,
    pub finished: bool,
    pub outcome: StreamOutcome,
}

impl Stream {
    pub fn new(id: StreamId, worker: usize, generation: u64) -> Stream {
        Stream {
            worker,
            generation,
            context: None,
            properties: Vec::new(),
            headers_received: false,
            received_all: false,
            trailers_received: false,
            headers_forwarded: false,
            headers_stop: None,
            body_buffering: false,
            trailers_held: false,
            parked: Parked::default(),
            bypass: false,
            terminal: None,
            completed: false,
            finished: false,
            outcome: StreamOutcome {
                stream: id,
                worker,
                state: StreamState::Open,
                local_reply: None,
                forwarded_headers: None,
                forwarded_body: Vec::new(),
                forwarded_trailers: None,
                upstream_reset: false,
                vm_failed: false,
                finished: false,
            },
        }
    }

    fn decided(&self) -> bool {
        self.terminal.is_some() || self.finished
    }
}

/// Splits deferred actions into those Envoy applies before the callback's return value
/// (local replies and resets end the stream first) and the continues applied after it.
fn split_deferred(deferred: Vec<(u32, Deferred)>) -> (Vec<(u32, Deferred)>, Vec<u32>) {
    let mut ending = Vec::new();
    let mut continues = Vec::new();
    for (context, action) in deferred {
        match action {
            Deferred::ContinueRequest => continues.push(context),
            other => ending.push((context, other)),
        }
    }
    (ending, continues)
}

impl Host {
    fn stream(&self, id: StreamId) -> Result<&Stream, HostError> {
        self.streams.get(&id).ok_or(HostError::UnknownStream(id))
    }

    fn stream_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        self.streams.get_mut(&id)
    }

    /// Returns the stream's context in its worker's current VM; `None` before the first headers,
    /// or when the VM that held it was replaced.
    pub(crate) fn context_mut(&mut self, id: StreamId) -> Option<&mut ContextState> {
        let stream = self.streams.get(&id)?;
        let (worker, generation, context) = (stream.worker, stream.generation, stream.context?);
        let slot = self.workers.get_mut(worker)?;
        if slot.generation != generation {
            return None;
        }
        slot.vm
            .as_mut()?
            .store
            .data_mut()
            .contexts
            .get_mut(&context)
    }

    fn usable(&self, id: StreamId) -> bool {
        self.streams
            .get(&id)
            .is_some_and(|s| self.worker_usable(s.worker, s.generation))
    }

    fn check_event(&self, id: StreamId, needs_headers: bool) -> Result<(), HostError> {
        let stream = self.stream(id)?;
        let reason = if stream.finished {
            "the stream is already finished"
        } else if needs_headers && !stream.headers_received {
            "request data before request headers"
        } else if !needs_headers && stream.headers_received {
            "request headers were already sent"
        } else if stream.received_all {
            "request data after the end of the stream"
        } else {
            return Ok(());
        };
        Err(HostError::InvalidStreamEvent { stream: id, reason })
    }

    /// Delivers request headers. Keys are lower-cased; values are bytes. The stream's
    /// context is created first (`proxy_on_context_create(stream, root)`).
    pub fn request_headers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        id: StreamId,
        headers: &[(K, V)],
        end_of_stream: bool,
    ) -> Result<StreamState, HostError> {
        self.check_event(id, false)?;
        let headers = header_list(headers);
        if let Some(stream) = self.stream_mut(id) {
            stream.headers_received = true;
            stream.received_all = end_of_stream;
        }
        if self.usable(id) {
            self.create_context(id, headers)?;
            if !self.stream(id)?.decided() && self.usable(id) {
                self.deliver_headers(id, end_of_stream);
            }
        } else {
            self.fail_stream(id);
            self.bypass_forward_headers(id, headers);
        }
        self.settle(id)
    }

    /// Delivers one request body chunk. While the filter stops all iteration after its
    /// headers, the chunk is held by the host without a callback. An empty chunk
    /// without end of stream is ignored, as Envoy's codecs never produce one.
    pub fn request_body(
        &mut self,
        id: StreamId,
        data: &[u8],
        end_of_stream: bool,
    ) -> Result<StreamState, HostError> {
        self.check_event(id, true)?;
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        stream.received_all = end_of_stream;
        let (decided, bypass) = (stream.decided(), stream.bypass);
        if decided {
            return self.settle(id);
        }
        if !bypass && !self.usable(id) {
            self.fail_stream(id);
        }
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        if stream.decided() {
            return self.settle(id);
        }
        if stream.bypass {
            stream.outcome.forwarded_body.extend_from_slice(data);
            self.check_complete(id);
        } else if stream.headers_stop == Some(HeadersStop::All) {
            stream.parked.body.extend_from_slice(data);
            stream.parked.saw_data = true;
        } else if !data.is_empty() || end_of_stream {
            self.deliver_body(id, data.to_vec(), end_of_stream);
        }
        self.settle(id)
    }

    /// Delivers request trailers, which end the stream.
    pub fn request_trailers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        id: StreamId,
        trailers: &[(K, V)],
    ) -> Result<StreamState, HostError> {
        self.check_event(id, true)?;
        let trailers = header_list(trailers);
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        stream.received_all = true;
        stream.trailers_received = true;
        let (decided, bypass) = (stream.decided(), stream.bypass);
        if decided {
            return self.settle(id);
        }
        if !bypass && !self.usable(id) {
            self.fail_stream(id);
        }
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        if stream.decided() {
            return self.settle(id);
        }
        if stream.bypass {
            stream.outcome.forwarded_trailers = Some(trailers);
            self.check_complete(id);
        } else if stream.headers_stop == Some(HeadersStop::All) {
            stream.parked.trailers = Some(trailers);
        } else {
            self.deliver_trailers(id, trailers);
        }
        self.settle(id)
    }

    /// Runs the event loop and returns the stream's state.
    fn settle(&mut self, id: StreamId) -> Result<StreamState, HostError> {
        self.run_until_idle()?;
        self.state(id)
    }

    fn create_context(&mut self, id: StreamId, headers: HeaderList) -> Result<(), HostError> {
        let stream = self.stream(id)?;
        let (worker, properties) = (stream.worker, stream.properties.clone());
        let headers_received = stream.headers_received;
        let slot = self
            .workers
            .get_mut(worker)
            .ok_or(HostError::UnknownStream(id))?;
        let Some(vm) = slot.vm.as_mut() else {
            return Ok(());
        };
        let root = vm.root_context_id();
        let state = vm.store.data_mut();
        let context = state.allocate_context_id();
        state.contexts.insert(
            context,
            ContextState {
                request_headers: headers,
                headers_received,
                headers_available: headers_received,
                properties,
                ..ContextState::default()
            },
        );
        slot.context_streams.insert(context, id);
        if let Some(stream) = self.stream_mut(id) {
            stream.context = Some(context);
        }

        let (result, deferred) = self.call_guest(worker, |vm| vm.context_create(context, root));
        self.apply_deferred(worker, deferred);
        if let Guest::Trapped = result {
            self.fail_stream(id);
        }
        Ok(())
    }

    fn deliver_headers(&mut self, id: StreamId, end_of_stream: bool) {
        let Some(stream) = self.streams.get(&id) else {
            return;
        };
        let (worker, Some(context)) = (stream.worker, stream.context) else {
            return;
        };
        let count = self
            .context_mut(id)
            .map(|c| c.request_headers.len())
            .unwrap_or_default();
        let (result, deferred) = self.call_guest(worker, |vm| {
            vm.request_headers(context, count, end_of_stream)
        });
        let (ending, continues) = split_deferred(deferred);
        self.apply_ending(worker, ending);
        match result {
            Guest::Returned(action) => self.on_headers_action(id, Action::from_abi(action)),
            Guest::Trapped | Guest::Unavailable => self.fail_stream(id),
        }
        self.apply_continues(worker, continues);
    }

    fn on_headers_action(&mut self, id: StreamId, action: Action) {
        let allow_stop_iteration = self.config.allow_on_headers_stop_iteration;
        if self.streams.get(&id).is_none_or(Stream::decided) {
            return;
        }
        match action {
            Action::Continue => {
                self.forward_headers_from_context(id);
                if let Some(context) = self.context_mut(id) {
                    context.headers_available = false;
                }
                self.check_complete(id);
            }
            Action::Pause | Action::StopAll => {
                let stop = if action == Action::Pause && allow_stop_iteration {
                    HeadersStop::Iteration
                } else {
                    HeadersStop::All
                };
                if let Some(stream) = self.stream_mut(id) {
                    stream.headers_stop = Some(stop);
                }
            }
        }
    }

    fn deliver_body(&mut self, id: StreamId, data: Vec<u8>, end_of_stream: bool) {
        let legacy_bug = self.config.legacy_last_chunk_bug;
        let Some(stream) = self.streams.get(&id) else {
            return;
        };
        let (worker, buffering, Some(context_id)) =
            (stream.worker, stream.body_buffering, stream.context)
        else {
            return;
        };
        let Some(context) = self.context_mut(id) else {
            return;
        };
        let chunk_len = data.len();
        if buffering {
            context.body.extend_from_slice(&data);
        } else {
            context.body = data;
        }
        // Envoy before 1.32 showed the buffer without the final chunk when a paused body
        // reached its end.
        context.body_hidden_tail = if legacy_bug && end_of_stream && buffering {
            chunk_len
        } else {
            0
        };
        context.body_available = true;
        let size = context.visible_body().len();

        let (result, deferred) = self.call_guest(worker, |vm| {
            vm.request_body(context_id, size, end_of_stream)
        });
        if let Some(context) = self.context_mut(id) {
            context.body_hidden_tail = 0;
        }
        let (ending, continues) = split_deferred(deferred);
        self.apply_ending(worker, ending);
        match result {
            Guest::Returned(action) => self.on_body_action(id, Action::from_abi(action)),
            Guest::Trapped | Guest::Unavailable => self.fail_stream(id),
        }
        self.apply_continues(worker, continues);
    }

    fn on_body_action(&mut self, id: StreamId, action: Action) {
        let limit = self.config.buffer_limit_bytes;
        if self.streams.get(&id).is_none_or(Stream::decided) {
            return;
        }
        match action {
            Action::Continue => {
                self.forward_headers_from_context(id);
                self.forward_body_from_context(id);
                self.check_complete(id);
            }
            Action::Pause | Action::StopAll => {
                if let Some(stream) = self.stream_mut(id) {
                    stream.body_buffering = true;
                }
                let buffered = self
                    .context_mut(id)
                    .map(|c| c.body.len())
                    .unwrap_or_default();
                if buffered > limit {
                    self.end_with_reply(
                        id,
                        StreamState::LocalReply,
                        LocalReply {
                            status: 413,
                            body: b"Payload Too Large".to_vec(),
                            headers: Vec::new(),
                            details: "request_payload_too_large".to_string(),
                            grpc_status: None,
                        },
                    );
                }
            }
        }
    }

    fn deliver_trailers(&mut self, id: StreamId, trailers: HeaderList) {
        let Some(stream) = self.streams.get(&id) else {
            return;
        };
        let (worker, Some(context_id)) = (stream.worker, stream.context) else {
            return;
        };
        let count = trailers.len();
        let Some(context) = self.context_mut(id) else {
            return;
        };
        context.request_trailers = trailers;
        context.trailers_available = true;
        let (result, deferred) =
            self.call_guest(worker, |vm| vm.request_trailers(context_id, count));
        let (ending, continues) = split_deferred(deferred);
        self.apply_ending(worker, ending);
        match result {
            Guest::Returned(action) => {
                if self.streams.get(&id).is_some_and(|s| !s.decided()) {
                    match Action::from_abi(action) {
                        Action::Continue => self.flush(id),
                        Action::Pause | Action::StopAll => {
                            if let Some(stream) = self.stream_mut(id) {
                                stream.trailers_held = true;
                            }
                        }
                    }
                }
            }
            Guest::Trapped | Guest::Unavailable => self.fail_stream(id),
        }
        self.apply_continues(worker, continues);
    }

    /// Sends upstream everything the filter holds: headers, buffered body, trailers.
    fn flush(&mut self, id: StreamId) {
        self.forward_headers_from_context(id);
        self.forward_body_from_context(id);
        let trailers = self.context_mut(id).and_then(|context| {
            let available = context.trailers_available;
            context.trailers_available = false;
            available.then(|| context.request_trailers.clone())
        });
        if let Some(stream) = self.stream_mut(id) {
            stream.trailers_held = false;
            if let Some(trailers) = trailers {
                stream.outcome.forwarded_trailers = Some(trailers);
            }
        }
        self.check_complete(id);
    }

    fn forward_headers_from_context(&mut self, id: StreamId) {
        if self.streams.get(&id).is_none_or(|s| s.headers_forwarded) {
            return;
        }
        let headers = self
            .context_mut(id)
            .map(|c| c.request_headers.clone())
            .unwrap_or_default();
        if let Some(stream) = self.stream_mut(id) {
            stream.headers_forwarded = true;
            stream.headers_stop = None;
            stream.outcome.forwarded_headers = Some(headers);
        }
    }

    fn forward_body_from_context(&mut self, id: StreamId) {
        let body = self
            .context_mut(id)
            .map(|context| {
                context.body_available = false;
                mem::take(&mut context.body)
            })
            .unwrap_or_default();
        if let Some(stream) = self.stream_mut(id) {
            stream.body_buffering = false;
            stream.outcome.forwarded_body.extend_from_slice(&body);
        }
    }

    fn bypass_forward_headers(&mut self, id: StreamId, headers: HeaderList) {
        if let Some(stream) = self.stream_mut(id)
            && stream.bypass
            && !stream.headers_forwarded
        {
            stream.headers_forwarded = true;
            stream.outcome.forwarded_headers = Some(headers);
        }
        self.check_complete(id);
    }

    /// Marks the stream complete once its whole request went upstream.
    fn check_complete(&mut self, id: StreamId) {
        let Some(stream) = self.stream_mut(id) else {
            return;
        };
        let parked_empty = !stream.parked.saw_data && stream.parked.trailers.is_none();
        let trailers_done =
            !stream.trailers_received || stream.outcome.forwarded_trailers.is_some();
        if stream.terminal.is_none()
            && stream.received_all
            && stream.headers_forwarded
            && stream.headers_stop.is_none()
            && !stream.body_buffering
            && !stream.trailers_held
            && parked_empty
            && trailers_done
        {
            stream.completed = true;
        }
    }

    /// Applies the failure policy to a stream whose VM failed: fail-open passes
    /// everything through, the other policies reply 503 as Envoy's `wasm_fail_stream` does.
    pub(crate) fn fail_stream(&mut self, id: StreamId) {
        let policy = self.config.failure_policy;
        let Some(stream) = self.stream_mut(id) else {
            return;
        };
        if stream.decided() || stream.bypass {
            return;
        }
        stream.outcome.vm_failed = true;

        if policy != FailurePolicy::FailOpen {
            self.end_with_reply(
                id,
                StreamState::Failed,
                LocalReply {
                    status: 503,
                    body: Vec::new(),
                    headers: Vec::new(),
                    details: "wasm_fail_stream".to_string(),
                    grpc_status: None,
                },
            );
            return;
        }

        stream.bypass = true;
        let parked = mem::take(&mut stream.parked);
        stream.headers_stop = None;
        if stream.headers_received && stream.context.is_some() {
            self.forward_headers_from_context(id);
        }
        self.forward_body_from_context(id);
        let trailers = self
            .context_mut(id)
            .and_then(|c| (c.trailers_available).then(|| c.request_trailers.clone()));
        if let Some(stream) = self.stream_mut(id) {
            stream
                .outcome
                .forwarded_body
                .extend_from_slice(&parked.body);
            stream.trailers_held = false;
            if let Some(trailers) = parked.trailers.or(trailers) {
                stream.outcome.forwarded_trailers = Some(trailers);
            }
        }
        self.check_complete(id);
    }

    /// Ends the stream with a local reply (or a 503 failure, or a reset without reply).
    fn end_with_reply(&mut self, id: StreamId, state: StreamState, reply: LocalReply) {
        if let Some(stream) = self.stream_mut(id) {
            stream.terminal = Some(state);
            stream.outcome.local_reply = Some(reply);
            stream.outcome.upstream_reset = stream.headers_forwarded;
        }
    }

    fn reset(&mut self, id: StreamId) {
        if let Some(stream) = self.stream_mut(id) {
            stream.terminal = Some(StreamState::Reset);
            stream.outcome.upstream_reset = stream.headers_forwarded;
        }
    }

    /// Applies a callback's deferred actions in Envoy's order.
    pub(crate) fn apply_deferred(&mut self, worker: usize, deferred: Vec<(u32, Deferred)>) {
        let (ending, continues) = split_deferred(deferred);
        self.apply_ending(worker, ending);
        self.apply_continues(worker, continues);
    }

    fn apply_ending(&mut self, worker: usize, actions: Vec<(u32, Deferred)>) {
        for (context, action) in actions {
            let Some(id) = self.stream_of_context(worker, context) else {
                continue;
            };
            if self.streams.get(&id).is_none_or(Stream::decided) {
                continue;
            }
            match action {
                Deferred::LocalReply(reply) => {
                    self.end_with_reply(id, StreamState::LocalReply, reply)
                }
                Deferred::CloseStream => self.reset(id),
                Deferred::ContinueRequest => {}
            }
        }
    }

    fn apply_continues(&mut self, worker: usize, contexts: Vec<u32>) {
        for context in contexts {
            if let Some(id) = self.stream_of_context(worker, context) {
                self.resume(id);
            }
        }
    }

    /// `proxy_continue_stream(HTTP_REQUEST)`: resumes whatever the filter stopped.
    /// After StopAll the data the host held is delivered to the filter first, as Envoy's
    /// filter manager does when iteration restarts at the current filter.
    fn resume(&mut self, id: StreamId) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        if stream.decided() || stream.bypass || stream.completed {
            return;
        }
        let stop = stream.headers_stop;
        let parked = mem::take(&mut stream.parked);
        let body_end = stream.received_all && !stream.trailers_received;
        if stream.headers_received {
            self.forward_headers_from_context(id);
        }
        if stop == Some(HeadersStop::All) {
            if parked.saw_data {
                self.deliver_body(id, parked.body, body_end);
            }
            if let Some(trailers) = parked.trailers
                && self.streams.get(&id).is_some_and(|s| !s.decided())
            {
                self.deliver_trailers(id, trailers);
            }
            self.check_complete(id);
            return;
        }
        let trailers_held = self.streams.get(&id).is_some_and(|s| s.trailers_held);
        if trailers_held {
            self.flush(id);
        } else {
            let buffering = self.streams.get(&id).is_some_and(|s| s.body_buffering);
            if buffering {
                self.forward_body_from_context(id);
            }
            self.check_complete(id);
        }
    }

    /// Runs the teardown callbacks (`on_done`, `on_log`, `on_delete` in the configured
    /// order) and removes the stream's context. Pending callouts of the stream are
    /// cancelled, as Envoy cancels them when the filter is destroyed. A stream that never
    /// got headers still gets a context and the teardown when
    /// `log_streams_without_headers` is set. Finishing twice is a no-op.
    pub fn finish_stream(&mut self, id: StreamId) -> Result<(), HostError> {
        let stream = self.stream(id)?;
        if stream.finished {
            return Ok(());
        }
        let state = self.compute_state(stream);
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(HostError::UnknownStream(id))?;
        stream.outcome.state = state;
        stream.finished = true;
        stream.outcome.finished = true;
        let (worker, generation) = (stream.worker, stream.generation);
        if let Some(context) = stream.context {
            self.cancel_calls_of(worker, generation, context);
        }
        if self.usable(id) {
            self.teardown(id)?;
        }
        self.run_until_idle()
    }

    /// Drops every finished stream and its outcome, and returns how many were dropped.
    ///
    /// The host keeps a finished stream so that tests can read its outcome, and each
    /// pass of the event loop looks at every stream. A long replay or benchmark calls
    /// this after reading each outcome, so memory and time per request stay flat.
    pub fn forget_finished_streams(&mut self) -> usize {
        let before = self.streams.len();
        self.streams.retain(|_, stream| !stream.finished);
        before - self.streams.len()
    }

    fn teardown(&mut self, id: StreamId) -> Result<(), HostError> {
        let order = self.config.teardown_order;
        let stream = self.stream(id)?;
        let worker = stream.worker;
        if stream.context.is_none() {
            if !self.config.log_streams_without_headers {
                return Ok(());
            }
            self.create_context(id, Vec::new())?;
        }
        let Some(context) = self.stream(id)?.context else {
            return Ok(());
        };
        let steps: [TeardownStep; 3] = match order {
            crate::config::TeardownOrder::DoneLogDelete => [done, log, delete],
            crate::config::TeardownOrder::LogDoneDelete => [log, done, delete],
        };
        for step in steps {
            if !self.usable(id) {
                break;
            }
            let (_, deferred) = self.call_guest(worker, |vm| step(vm, context));
            self.apply_deferred(worker, deferred);
        }
        if let Some(slot) = self.workers.get_mut(worker) {
            slot.context_streams.remove(&context);
            if let Some(vm) = slot.vm.as_mut()
                && self
                    .streams
                    .get(&id)
                    .is_some_and(|s| s.generation == slot.generation)
            {
                vm.store.data_mut().contexts.remove(&context);
            }
        }
        Ok(())
    }

    /// Recomputes the state of every open stream.
    pub(crate) fn refresh_states(&mut self) {
        let states: Vec<(StreamId, StreamState)> = self
            .streams
            .iter()
            .filter(|(_, s)| !s.finished)
            .map(|(id, s)| (*id, self.compute_state(s)))
            .collect();
        for (id, state) in states {
            if let Some(stream) = self.streams.get_mut(&id) {
                stream.outcome.state = state;
            }
        }
    }

    fn compute_state(&self, stream: &Stream) -> StreamState {
        if let Some(terminal) = stream.terminal {
            return terminal;
        }
        if stream.completed {
            return StreamState::Forwarded;
        }
        let stopped =
            stream.headers_stop.is_some() || stream.body_buffering || stream.trailers_held;
        if !stopped {
            return StreamState::Open;
        }
        if !stream.received_all || self.has_wake_source(stream.worker, stream.generation) {
            StreamState::Paused
        } else {
            StreamState::Stalled
        }
    }
}

type TeardownStep = fn(&mut crate::vm::Vm, u32) -> Result<(), crate::vm::Trapped>;

fn done(vm: &mut crate::vm::Vm, context: u32) -> Result<(), crate::vm::Trapped> {
    // Envoy ignores the result for stream contexts.
    vm.done(context).map(|_| ())
}

fn log(vm: &mut crate::vm::Vm, context: u32) -> Result<(), crate::vm::Trapped> {
    set_log_phase(vm, context, true);
    let result = vm.log(context);
    set_log_phase(vm, context, false);
    result
}

fn delete(vm: &mut crate::vm::Vm, context: u32) -> Result<(), crate::vm::Trapped> {
    vm.delete(context)
}

fn set_log_phase(vm: &mut crate::vm::Vm, context: u32, on: bool) {
    if let Some(state) = vm.store.data_mut().contexts.get_mut(&context) {
        state.log_phase = on;
    }
}
