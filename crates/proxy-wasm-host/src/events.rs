//! Callouts, ticks, queue notifications and the event loop.

use std::time::Duration;

use crate::abi::Status;
use crate::error::HostError;
use crate::host::{Call, CallHandler, Guest, Host};
use crate::pairs::{self, HeaderList};
use crate::process::lock;
use crate::state::{CallResponseData, OutgoingCall};
use crate::types::{CallId, CallReply, CallRequest, PendingCall};

impl Host {
    /// Registers a callout the guest just made, and gets the handler's reply if a handler
    /// is set. The reply is delivered later by the event loop, never from inside the
    /// callback that made the call.
    pub(crate) fn register_call(&mut self, worker: usize, generation: u64, call: OutgoingCall) {
        let now = self.process.now_unix_nanos();
        let id = CallId(self.next_call);
        self.next_call += 1;
        let timeout =
            (call.timeout_ms > 0).then(|| Duration::from_millis(u64::from(call.timeout_ms)));
        let request = CallRequest {
            id,
            worker,
            context_id: call.context_id,
            token: call.token,
            cluster: call.cluster,
            headers: call.headers,
            body: call.body,
            trailers: call.trailers,
            timeout,
        };
        *self.calls_made.entry(request.cluster.clone()).or_default() += 1;
        let deadline = timeout.map(|t| now.saturating_add(t.as_nanos() as u64));
        let mut answered = false;
        if let Some(mut handler) = self.handler.take() {
            let reply = handler(&request);
            self.handler = Some(handler);
            if reply != CallReply::Hold {
                answered = true;
                self.ready.push_back((id, reply));
            }
        }
        self.calls.insert(
            id,
            Call {
                request,
                generation,
                deadline,
                answered,
            },
        );
    }

    /// Sets the handler that replies to every new callout as soon as the callback that
    /// made it returns. `CallReply::Hold` leaves a call pending for
    /// [`respond`](Host::respond), [`fail`](Host::fail) or its timeout.
    pub fn set_http_call_handler(&mut self, handler: CallHandler) {
        self.handler = Some(handler);
    }

    /// Removes the callout handler; new calls stay pending.
    pub fn clear_http_call_handler(&mut self) {
        self.handler = None;
    }

    /// Returns the callouts that have no reply yet, oldest first.
    pub fn pending_calls(&self) -> Vec<PendingCall> {
        self.calls
            .values()
            .filter(|call| !call.answered)
            .map(|call| call.request.clone())
            .collect()
    }

    /// Delivers a reply to a pending callout now, then runs the event loop.
    /// `CallReply::Hold` leaves the call pending.
    pub fn respond(&mut self, id: CallId, reply: CallReply) -> Result<(), HostError> {
        match self.calls.get(&id) {
            Some(call) if !call.answered => {}
            _ => return Err(HostError::UnknownCall(id)),
        }
        if reply == CallReply::Hold {
            return Ok(());
        }
        self.deliver_call(id, reply);
        self.run_until_idle()
    }

    /// Fails a pending callout as an upstream reset.
    pub fn fail(&mut self, id: CallId) -> Result<(), HostError> {
        self.respond(id, CallReply::Fail)
    }

    /// Returns the number of callouts accepted so far (rejected calls are not counted).
    pub fn calls_made(&self) -> usize {
        self.calls_made.values().sum()
    }

    /// Returns the number of callouts accepted so far to one cluster.
    pub fn calls_made_to(&self, cluster: &str) -> usize {
        self.calls_made.get(cluster).copied().unwrap_or_default()
    }

    pub(crate) fn cancel_calls_of(&mut self, worker: usize, generation: u64, context: u32) {
        self.calls.retain(|_, call| {
            !(call.request.worker == worker
                && call.generation == generation
                && call.request.context_id == context)
        });
        let calls = &self.calls;
        self.ready.retain(|(id, _)| calls.contains_key(id));
    }

    /// Calls `proxy_on_http_call_response` on the context that made the call. A
    /// response shows `:status` first, then its headers; a failure shows zero headers and
    /// sets `proxy_get_status` to BrokenConnection "reset", as Envoy does.
    fn deliver_call(&mut self, id: CallId, reply: CallReply) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        let request = call.request;
        let (worker, context) = (request.worker, request.context_id);
        if !self.worker_usable(worker, call.generation) {
            return;
        }

        let (data, status) = match reply {
            CallReply::Response {
                status,
                headers,
                body,
            } => {
                let mut all: HeaderList = vec![(":status".into(), status.to_string().into_bytes())];
                all.extend(pairs::deserialize_lenient(&pairs::serialize(&headers)));
                let data = CallResponseData {
                    headers: all,
                    body,
                    trailers: Vec::new(),
                };
                (data, (Status::Ok.code() as u32, String::new()))
            }
            CallReply::Fail => {
                let data = CallResponseData {
                    headers: Vec::new(),
                    body: Vec::new(),
                    trailers: Vec::new(),
                };
                (
                    data,
                    (Status::BrokenConnection.code() as u32, "reset".to_string()),
                )
            }
            CallReply::Hold => return,
        };
        let counts = (data.headers.len(), data.body.len(), data.trailers.len());
        let Some(vm) = self.workers.get_mut(worker).and_then(|w| w.vm.as_mut()) else {
            return;
        };
        let state = vm.store.data_mut();
        let Some(target) = state.contexts.get_mut(&context) else {
            return;
        };
        target.call_response = Some(data);
        state.last_status = status;

        let token = request.token;
        let (result, deferred) = self.call_guest(worker, |vm| {
            vm.http_call_response(context, token, counts.0, counts.1, counts.2)
        });
        if let Some(target) = self
            .workers
            .get_mut(worker)
            .and_then(|w| w.vm.as_mut())
            .and_then(|vm| vm.store.data_mut().contexts.get_mut(&context))
        {
            target.call_response = None;
        }
        let stream = self.stream_of_context(worker, context);
        if let (Guest::Trapped, Some(stream)) = (&result, stream) {
            self.fail_stream(stream);
        }
        self.apply_deferred(worker, deferred);
    }

    fn deliver_queue_ready(&mut self, worker: usize, queue: u32) {
        let (_, deferred) = self.call_guest(worker, |vm| vm.queue_ready(queue));
        self.apply_deferred(worker, deferred);
    }

    /// Delivers queued callout replies and queue notifications until none is left.
    pub fn run_until_idle(&mut self) -> Result<(), HostError> {
        let limit = self.config.max_events_per_run;
        let mut events = 0usize;
        loop {
            if events >= limit {
                self.refresh_states();
                return Err(HostError::EventLoopLimit { events });
            }
            if let Some((id, reply)) = self.ready.pop_front() {
                events += 1;
                self.deliver_call(id, reply);
                continue;
            }
            let notification = lock(&self.process.queues).notifications.pop_front();
            if let Some((worker, queue)) = notification {
                events += 1;
                self.deliver_queue_ready(worker, queue);
                continue;
            }
            break;
        }
        self.refresh_states();
        Ok(())
    }

    /// Moves the virtual clock forward by `duration`, firing due ticks (on every worker,
    /// in time order) and timing out callouts whose timeout passed, each at its own
    /// instant. A timed-out call is delivered like a reset: zero headers.
    pub fn advance(&mut self, duration: Duration) -> Result<(), HostError> {
        let target = self
            .process
            .now_unix_nanos()
            .saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        while let Some(event) = self.next_timed_event(target) {
            match event {
                TimedEvent::Tick { at, worker } => {
                    self.process.set_now_unix_nanos(at);
                    self.fire_tick(worker);
                }
                TimedEvent::Timeout { at, call } => {
                    self.process.set_now_unix_nanos(at);
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.answered = true;
                    }
                    self.deliver_call(call, CallReply::Fail);
                }
            }
            self.run_until_idle()?;
        }
        self.process.set_now_unix_nanos(target);
        self.refresh_states();
        Ok(())
    }

    /// Returns the earliest tick or timeout at or before `target`; ticks first at equal times,
    /// then lower worker index or call id.
    fn next_timed_event(&self, target: u64) -> Option<TimedEvent> {
        let tick = self
            .workers
            .iter()
            .enumerate()
            .filter_map(|(worker, w)| w.tick.map(|t| (t.next_due, worker)))
            .min();
        let timeout = self
            .calls
            .iter()
            .filter(|(_, c)| !c.answered)
            .filter_map(|(id, c)| c.deadline.map(|d| (d, *id)))
            .min();
        let event = match (tick, timeout) {
            (Some((t, worker)), Some((d, _))) if t <= d => TimedEvent::Tick { at: t, worker },
            (_, Some((d, call))) => TimedEvent::Timeout { at: d, call },
            (Some((t, worker)), None) => TimedEvent::Tick { at: t, worker },
            (None, None) => return None,
        };
        (event.at() <= target).then_some(event)
    }

    fn fire_tick(&mut self, worker: usize) {
        if let Some(tick) = self.workers.get_mut(worker).and_then(|w| w.tick.as_mut()) {
            tick.next_due = tick.next_due.saturating_add(tick.period_nanos);
        }
        let (_, deferred) = self.call_guest(worker, |vm| vm.tick());
        self.apply_deferred(worker, deferred);
    }

    /// True when something may still resume a stream of this worker instance: a
    /// callout without a delivered reply, a queued event or a tick timer.
    pub(crate) fn has_wake_source(&self, worker: usize, generation: u64) -> bool {
        if !self.worker_usable(worker, generation) {
            return false;
        }
        let tick = self.workers.get(worker).is_some_and(|w| w.tick.is_some());
        let calls = self
            .calls
            .values()
            .any(|c| c.request.worker == worker && c.generation == generation);
        let queued = lock(&self.process.queues)
            .notifications
            .iter()
            .any(|(w, _)| *w == worker);
        tick || calls || queued
    }
}

enum TimedEvent {
    Tick { at: u64, worker: usize },
    Timeout { at: u64, call: CallId },
}

impl TimedEvent {
    fn at(&self) -> u64 {
        match self {
            TimedEvent::Tick { at, .. } | TimedEvent::Timeout { at, .. } => *at,
        }
    }
}
