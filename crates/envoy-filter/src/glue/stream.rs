//! The HTTP context: reads the request, asks [`crate::policy`] and the worker for a
//! decision, and carries it out. It decides nothing itself.

use std::cell::RefCell;
use std::rc::Rc;

use log::warn;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};

use crate::config::Flow;
use crate::policy::{self, HeadDecision, Judgement, Reply, RequestHead};

use super::worker::{SharedWorker, stats};

/// Stage of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Nothing to do: not yet seen, passed through, or answered.
    #[default]
    Idle,
    /// Buffering the body until the end of the stream.
    Buffering,
    /// Waiting for a key refresh.
    Refreshing,
}

/// State the worker needs to judge a held stream or reply to it.
#[derive(Debug, Default)]
pub struct StreamState {
    pub head: RequestHead,
    pub body: Option<Vec<u8>>,
    pub phase: Phase,
    /// True while the request headers are held (`hold-headers` flow).
    pub headers_held: bool,
    /// The rejection to send if a refresh does not help.
    pub pending_reply: Option<Reply>,
}

pub struct Stream {
    pub id: u32,
    pub worker: Option<SharedWorker>,
    pub state: Rc<RefCell<StreamState>>,
}

/// Sends an FSPIOP error reply for the current effective context.
pub fn send(reply: &Reply) {
    if let Err(status) = hostcalls::send_http_response(
        u32::from(reply.status),
        vec![("content-type", "application/json")],
        Some(reply.body.as_bytes()),
    ) {
        warn!("cannot send the {} reply: {status:?}", reply.status);
    }
}

/// Carries out a final judgement for the stream `id`, which must be the effective
/// context. Returns the action for a callback to return.
pub fn conclude(
    worker: &SharedWorker,
    id: u32,
    state: &Rc<RefCell<StreamState>>,
    judgement: Judgement,
) -> Action {
    let mut worker = worker.borrow_mut();
    let mut st = state.borrow_mut();
    worker.release(id);
    st.phase = Phase::Idle;
    match judgement {
        Judgement::Accept { verified } => {
            worker.record(
                &Judgement::Accept {
                    verified: verified.clone(),
                },
                &st,
            );
            if st.headers_held && !verified.is_empty() {
                let name = worker.config.headers.verified.clone();
                if let Err(status) = hostcalls::set_map_value_bytes(
                    MapType::HttpRequestHeaders,
                    &name,
                    Some(verified.as_bytes()),
                ) {
                    warn!("cannot add {name}: {status:?}");
                }
            }
            st.headers_held = false;
            Action::Continue
        }
        Judgement::Reject(reply) | Judgement::Refresh { reply, .. } => {
            worker.record(&Judgement::Reject(reply.clone()), &st);
            send(&reply);
            Action::Pause
        }
    }
}

/// Judges a held stream again after a refresh and releases or rejects it. Makes the
/// stream the effective context first, so this works from any callback.
pub fn resume(worker: &SharedWorker, id: u32, state: &Rc<RefCell<StreamState>>) {
    if hostcalls::set_effective_context(id).is_err() {
        worker.borrow_mut().release(id);
        return;
    }
    let judgement = {
        let st = state.borrow();
        worker.borrow_mut().judge(&st, false)
    };
    if conclude(worker, id, state, judgement) == Action::Continue {
        let _ = hostcalls::resume_http_request();
    }
}

impl Stream {
    /// Judges the stream now that its body is complete.
    fn finish(&mut self) -> Action {
        let Some(worker) = self.worker.clone() else {
            return Action::Continue;
        };
        let judgement = {
            let st = self.state.borrow();
            worker.borrow_mut().judge(&st, true)
        };
        if let Judgement::Refresh { participant, reply } = &judgement {
            let started = worker
                .borrow_mut()
                .start_refresh(self.id, participant.as_deref());
            if started {
                let mut st = self.state.borrow_mut();
                st.phase = Phase::Refreshing;
                st.pending_reply = Some(reply.clone());
                drop(st);
                worker.borrow_mut().hold(self.id, Rc::clone(&self.state));
                return Action::Pause;
            }
        }
        conclude(&worker, self.id, &self.state, judgement)
    }

    /// Runs the client certificate and JWT checks, reading the connection's properties
    /// only when the configuration takes the certificate from there.
    #[cfg(any(feature = "mtls", feature = "jwt"))]
    fn check_caller(
        &mut self,
        worker: &SharedWorker,
        config: &crate::config::FilterConfig,
        head: &RequestHead,
    ) -> Option<Reply> {
        #[cfg(feature = "mtls")]
        let properties = match &config.mtls {
            Some(mtls) if mtls.source == crate::peer::CertificateSource::Connection => {
                super::peer_properties()
            }
            _ => crate::peer::PeerProperties::default(),
        };
        #[cfg(not(feature = "mtls"))]
        let properties = crate::peer::PeerProperties::default();

        let keys = Rc::clone(&worker.borrow().keys);
        let now = i64::try_from(super::worker::now_ns() / 1_000_000_000).unwrap_or(i64::MAX);
        let reply = policy::check_caller(config, head, &properties, &keys, now);
        if reply.is_none() && config.checks_callers() {
            worker.borrow_mut().count(stats::CALLER_VERIFIED, 1);
        }
        reply
    }

    fn reject(&mut self, reply: &Reply) -> Action {
        if let Some(worker) = &self.worker {
            let mut worker = worker.borrow_mut();
            worker.release(self.id);
            worker.record(&Judgement::Reject(reply.clone()), &self.state.borrow());
        }
        self.state.borrow_mut().phase = Phase::Idle;
        send(reply);
        Action::Pause
    }
}

impl Context for Stream {
    fn on_http_call_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let Some(worker) = self.worker.clone() else {
            return;
        };
        let (status, body) = super::read_call_response(num_headers, body_size, &worker);
        worker
            .borrow_mut()
            .apply_fetch(status, body, body_size, "refresh on a signature miss");

        let waiters = worker.borrow_mut().finish_refresh(token);
        for (id, state) in waiters {
            resume(&worker, id, &state);
        }
        if self.state.borrow().phase == Phase::Refreshing {
            resume(&worker, self.id, &self.state);
        }
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(worker) = self.worker.clone() else {
            return self.reject(&Reply::new(
                503,
                "2003",
                "Service currently unavailable",
                "NOT_CONFIGURED",
                "the filter has no valid configuration",
            ));
        };
        let config = Rc::clone(&worker.borrow().config);
        let pairs = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        let head = RequestHead::from_pairs(
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            &config.headers.verified,
        );

        // Headers in our namespace are ours to set: a client's copy is a forgery.
        for name in &head.own_headers {
            let _ = hostcalls::remove_map_value(MapType::HttpRequestHeaders, name);
        }

        #[cfg(any(feature = "mtls", feature = "jwt"))]
        if let Some(reply) = self.check_caller(&worker, &config, &head) {
            self.state.borrow_mut().head = head;
            return self.reject(&reply);
        }

        match policy::on_head(&config, &head) {
            HeadDecision::PassThrough => {
                worker.borrow_mut().count(stats::NOT_REQUIRED, 1);
                Action::Continue
            }
            HeadDecision::Reject(reply) => self.reject(&reply),
            HeadDecision::Verify => {
                {
                    let mut st = self.state.borrow_mut();
                    st.head = head;
                    st.body = None;
                    st.phase = Phase::Buffering;
                }
                if end_of_stream {
                    return self.finish();
                }
                match config.flow {
                    // Pausing here would stop Envoy delivering the body.
                    Flow::Stream => Action::Continue,
                    Flow::HoldHeaders => {
                        self.state.borrow_mut().headers_held = true;
                        worker.borrow_mut().hold(self.id, Rc::clone(&self.state));
                        Action::Pause
                    }
                }
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.state.borrow().phase != Phase::Buffering {
            return Action::Continue;
        }
        let Some(worker) = self.worker.clone() else {
            return Action::Continue;
        };
        let config = Rc::clone(&worker.borrow().config);

        // body_size is everything buffered so far, not this chunk.
        if body_size > config.max_body_bytes {
            return self.reject(&policy::too_large(&config, body_size as u64));
        }
        if !end_of_stream {
            return Action::Pause;
        }

        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        self.state.borrow_mut().body = Some(body);
        self.finish()
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // With trailers, no body callback has end_of_stream set: the stream ends here.
        if self.state.borrow().phase != Phase::Buffering {
            return Action::Continue;
        }
        let Some(worker) = self.worker.clone() else {
            return Action::Continue;
        };
        let max = worker.borrow().config.max_body_bytes;
        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, max + 1)
            .ok()
            .flatten()
            .unwrap_or_default();
        self.state.borrow_mut().body = Some(body);
        self.finish()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker
            && let Ok(mut worker) = worker.try_borrow_mut()
        {
            worker.release(self.id);
        }
    }
}
