//! The root context: owns the configuration, the key fetch timer, and the watchdog
//! for held requests.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use log::{error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType};

use crate::config::{FilterConfig, Flow};
use crate::policy::{Reply, reasons};

use super::stream::{self, Phase, Stream};
use super::worker::{SharedWorker, Worker, now_ns};

pub struct Root {
    worker: Option<SharedWorker>,
}

impl Root {
    pub fn new(_context_id: u32) -> Root {
        Root { worker: None }
    }

    /// Answers the streams held past `hold_timeout_ms`.
    fn expire_holds(&self, worker: &SharedWorker) {
        let overdue = worker.borrow_mut().overdue(now_ns());
        for (id, state) in overdue {
            if hostcalls::set_effective_context(id).is_err() {
                continue;
            }
            let reply = {
                let st = state.borrow();
                match (&st.pending_reply, st.phase) {
                    (Some(reply), Phase::Refreshing) => reply.clone(),
                    _ => hold_timeout_reply(worker),
                }
            };
            state.borrow_mut().phase = Phase::Idle;
            let mut w = worker.borrow_mut();
            w.reject_stat(&reply);
            warn!(
                "answered a request held past hold_timeout_ms with {}: {}",
                reply.status, reply.reason
            );
            drop(w);
            stream::send(&reply);
        }
    }

    /// Starts this worker's periodic key fetch when it is due and no other worker has it.
    fn fetch_if_due(&self, worker: &SharedWorker) {
        let Some(source) = worker.borrow().config.key_source.clone() else {
            return;
        };
        if !worker.borrow_mut().claim_fetch(&source, now_ns()) {
            return;
        }
        let headers = worker.borrow().fetch_headers(&source);
        match self.dispatch_http_call(
            &source.cluster,
            headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            None,
            vec![],
            Duration::from_millis(source.timeout_ms),
        ) {
            Ok(token) => worker.borrow_mut().fetch_token = Some(token),
            Err(status) => {
                warn!(
                    "cannot fetch keys from cluster {}: dispatch failed with {status:?}; check that the cluster exists and is visible to this proxy",
                    source.cluster
                );
                worker.borrow_mut().apply_fetch(None, None, 0, "periodic");
            }
        }
    }
}

fn hold_timeout_reply(worker: &SharedWorker) -> Reply {
    let worker = worker.borrow();
    let hint = if worker.config.flow == Flow::HoldHeaders {
        "; with the hold-headers flow, Envoy must set allow_on_headers_stop_iteration or the body never reaches the filter"
    } else {
        ""
    };
    Reply::new(
        503,
        "2003",
        "Service currently unavailable",
        reasons::HOLD_TIMEOUT,
        &format!(
            "the request was held {} ms without its body or a verdict{hint}",
            worker.config.hold_timeout_ms
        ),
    )
}

impl Context for Root {
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
        if worker.borrow().fetch_token != Some(token) {
            return;
        }
        worker.borrow_mut().fetch_token = None;
        let (status, body) = super::read_call_response(num_headers, body_size, &worker);
        worker
            .borrow_mut()
            .apply_fetch(status, body, body_size, "periodic");
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        let config = match FilterConfig::from_json(&bytes) {
            Ok(config) => config,
            Err(e) => {
                error!("{e}; the filter refuses this configuration");
                return false;
            }
        };

        let tick = config.hold_timeout_ms.clamp(400, 4_000) / 4;
        let fetching = config.key_source.is_some();
        info!(
            "configured: profile {}, flow {:?}, {} inline participants, key source {}",
            config.profile_name,
            config.flow,
            config.inline_keys.len(),
            config
                .key_source
                .as_ref()
                .map_or("none".to_owned(), |s| format!(
                    "cluster {} path {}",
                    s.cluster, s.path
                ))
        );

        let mut worker = Worker::new(config);
        worker.define_stats();
        if fetching {
            Worker::schedule_fetch_now();
            worker.sync_shared_keys();
        }
        self.worker = Some(Rc::new(RefCell::new(worker)));
        if let Err(status) = hostcalls::set_tick_period(Duration::from_millis(tick)) {
            error!("cannot set the tick period: {status:?}");
            return false;
        }
        true
    }

    fn on_tick(&mut self) {
        let Some(worker) = self.worker.clone() else {
            return;
        };
        worker.borrow_mut().sync_shared_keys();
        self.fetch_if_due(&worker);
        self.expire_holds(&worker);

        // Streams whose refresh went away with the stream that sent it: judge them
        // with the keys there are now, without another refresh.
        let orphans = worker.borrow_mut().take_orphans();
        for (id, state) in orphans {
            stream::resume(&worker, id, &state);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            id: context_id,
            worker: self.worker.clone(),
            state: Rc::default(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
