//! State one worker VM shares between its root context and its HTTP contexts: the
//! configuration, the parsed keys, the requests it holds, and the stats.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use fspiop_guard_core::sorted_map::SortedMap;
use log::{info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{Bytes, MetricType, Status};

use crate::config::{FilterConfig, KeySource, SignaturePath};
use crate::policy::{self, Inputs, Judgement, Keys, Reply, clip};
use crate::signature::{ForeignError, PathCounts, ProxyVerifier};

use super::stream::StreamState;

/// Shared-data key holding the last good key-set document.
pub const SHARED_KEYSET: &str = "fspiop-guard.keyset";
/// Shared-data key holding the time of the next scheduled fetch (unix ns, decimal).
pub const SHARED_NEXT_FETCH: &str = "fspiop-guard.next-fetch";
/// Shared-data key prefix holding, per participant the key set names, the time of the
/// last refresh on a miss.
pub const SHARED_REFRESH_PREFIX: &str = "fspiop-guard.refresh.";
/// Shared-data key holding the time of the last refresh on a miss for a participant the
/// key set does not name. Such names are unauthenticated, so they share this one entry.
pub const SHARED_REFRESH_UNKNOWN: &str = "fspiop-guard.refresh-unknown-participant";
/// Header that marks a key-set fetch made because a signature matched no current key.
pub const REFRESH_HEADER: &str = "x-fspiop-guard-refresh";
/// Shared-data key holding the time of the last refresh on a miss for any participant.
pub const SHARED_REFRESH_ANY: &str = "fspiop-guard.refresh-any";

/// Rejection lines a worker logs per second; the rest are counted and summed up.
const REJECTION_LOG_LINES_PER_SECOND: u32 = 20;
/// Maximum length of a client value (method, path, `FSPIOP-Source`) quoted in a log line.
const MAX_LOGGED_VALUE_BYTES: usize = 128;

/// Foreign function Envoy registers for signature checks.
const VERIFY_SIGNATURE: &str = "verify_signature";

/// Stat names.
pub mod stats {
    pub const VERIFIED: &str = "fspiop_guard.verified";
    pub const NOT_REQUIRED: &str = "fspiop_guard.not_required";
    pub const FAILED_OPEN: &str = "fspiop_guard.failed_open";
    pub const REJECTED_PREFIX: &str = "fspiop_guard.rejected.";
    pub const FETCH_OK: &str = "fspiop_guard.keys.fetch_ok";
    pub const FETCH_FAILED: &str = "fspiop_guard.keys.fetch_failed";
    pub const REFRESH_ON_MISS: &str = "fspiop_guard.keys.refresh_on_miss";
    pub const KEYS_LOADED: &str = "fspiop_guard.keys.loaded";
    pub const CHECKS_FOREIGN: &str = "fspiop_guard.signature_checks.foreign_function";
    pub const CHECKS_IN_WASM: &str = "fspiop_guard.signature_checks.in_wasm";
    /// Requests whose client certificate and JWT passed the configured checks.
    pub const CALLER_VERIFIED: &str = "fspiop_guard.caller.verified";
}

/// Worker state, shared through `Rc<RefCell<_>>` (a VM is single-threaded).
pub struct Worker {
    pub config: Rc<FilterConfig>,
    pub keys: Rc<Keys>,
    /// CAS of the shared key set this worker last parsed.
    keyset_cas: Option<u32>,
    /// Token of this worker's periodic fetch, while one is in flight.
    pub fetch_token: Option<u32>,
    /// Streams waiting on the worker, by context id, with their deadline (unix ns).
    held: SortedMap<u32, (u64, Rc<RefCell<StreamState>>)>,
    /// Refreshes on a miss in flight, by participant (`None` for the participants the
    /// key set does not name).
    refreshing: SortedMap<Option<String>, Refresh>,
    /// Streams whose refresh went away with the stream that sent it, to judge again
    /// at the next tick.
    orphans: Vec<u32>,
    /// Rejection log lines in the current second: (second, lines logged, lines held back).
    log_budget: (u64, u32, u32),
    /// Stat ids by name.
    metrics: SortedMap<String, u32>,
    /// Set once a call showed that the proxy has no `verify_signature`.
    foreign_missing: bool,
}

/// A key refresh on a miss, in flight.
///
/// The callout belongs to the stream that sent it: Envoy cancels it when that stream
/// ends, so the refresh is dropped with its initiator and its waiters are judged again.
struct Refresh {
    /// Token of the callout.
    token: u32,
    /// Context id of the stream that sent the callout.
    initiator: u32,
    /// Other streams waiting for the response.
    waiters: Vec<u32>,
}

pub type SharedWorker = Rc<RefCell<Worker>>;

/// Returns the current time in unix nanoseconds.
pub fn now_ns() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn read_u64(bytes: Option<&Bytes>) -> Option<u64> {
    std::str::from_utf8(bytes?).ok()?.parse().ok()
}

impl Worker {
    pub fn new(config: FilterConfig) -> Worker {
        let keys = Keys::inline(&config);
        Worker {
            config: Rc::new(config),
            keys: Rc::new(keys),
            keyset_cas: None,
            fetch_token: None,
            held: SortedMap::new(),
            refreshing: SortedMap::new(),
            orphans: Vec::new(),
            log_budget: (0, 0, 0),
            metrics: SortedMap::new(),
            foreign_missing: false,
        }
    }

    // -----------------------------------------------------------------------
    // Stats
    // -----------------------------------------------------------------------

    fn metric(&mut self, name: &str, kind: MetricType) -> Option<u32> {
        if let Some(id) = self.metrics.get(name) {
            return Some(*id);
        }
        match hostcalls::define_metric(kind, name) {
            Ok(id) => {
                self.metrics.insert(name.to_owned(), id);
                Some(id)
            }
            Err(status) => {
                warn!("cannot define stat {name}: {status:?}");
                None
            }
        }
    }

    /// Adds `delta` to a counter.
    pub fn count(&mut self, name: &str, delta: u64) {
        if delta == 0 {
            return;
        }
        if let Some(id) = self.metric(name, MetricType::Counter) {
            let _ = hostcalls::increment_metric(id, i64::try_from(delta).unwrap_or(i64::MAX));
        }
    }

    fn gauge(&mut self, name: &str, value: u64) {
        if let Some(id) = self.metric(name, MetricType::Gauge) {
            let _ = hostcalls::record_metric(id, value);
        }
    }

    /// Defines every fixed stat, so they show as 0 before their first event.
    pub fn define_stats(&mut self) {
        for name in [
            stats::VERIFIED,
            stats::NOT_REQUIRED,
            stats::FAILED_OPEN,
            stats::FETCH_OK,
            stats::FETCH_FAILED,
            stats::REFRESH_ON_MISS,
            stats::CHECKS_FOREIGN,
            stats::CHECKS_IN_WASM,
        ] {
            let _ = self.metric(name, MetricType::Counter);
        }
        if self.config.checks_callers() {
            let _ = self.metric(stats::CALLER_VERIFIED, MetricType::Counter);
            for reason in crate::peer::reasons::ALL {
                let name = format!("{}{reason}", stats::REJECTED_PREFIX);
                let _ = self.metric(&name, MetricType::Counter);
            }
        }
        let loaded = self.keys.store.len() as u64;
        self.gauge(stats::KEYS_LOADED, loaded);
    }

    // -----------------------------------------------------------------------
    // Keys
    // -----------------------------------------------------------------------

    /// Loads the shared key set if another worker stored a newer one.
    pub fn sync_shared_keys(&mut self) {
        let Ok((Some(document), cas)) = hostcalls::get_shared_data(SHARED_KEYSET) else {
            return;
        };
        if cas.is_some() && cas == self.keyset_cas {
            return;
        }
        let max = self
            .config
            .key_source
            .as_ref()
            .map_or(usize::MAX, |s| s.max_bytes);
        match Keys::fetched(&self.config, &document, max) {
            Ok(keys) => {
                self.keyset_cas = cas;
                self.install(keys);
            }
            // Only checked documents are stored, so this means a new build with
            // another format shares the VM id: keep what we have.
            Err(error) => warn!("shared key set ignored: {error}"),
        }
    }

    fn install(&mut self, keys: Keys) {
        if self.keys.version != keys.version {
            info!(
                "loaded key set version {} ({} keys, {} participants)",
                keys.version.as_deref().unwrap_or("-"),
                keys.store.len(),
                keys.store.participants().count()
            );
            for note in &keys.notes {
                warn!(
                    "key set version {}: {note}",
                    keys.version.as_deref().unwrap_or("-")
                );
            }
        }
        let loaded = keys.store.len() as u64;
        self.keys = Rc::new(keys);
        self.gauge(stats::KEYS_LOADED, loaded);
    }

    /// Claims the next periodic fetch for this worker, across all workers: returns
    /// true when it is due and this worker won the compare-and-swap.
    pub fn claim_fetch(&mut self, source: &KeySource, now: u64) -> bool {
        if self.fetch_token.is_some() {
            return false;
        }
        let Ok((value, cas)) = hostcalls::get_shared_data(SHARED_NEXT_FETCH) else {
            return false;
        };
        if read_u64(value.as_ref()).is_some_and(|next| now < next) {
            return false;
        }
        // Hold the claim for the fetch's timeout; the response sets the real next time.
        let until = now + ms_to_ns(source.timeout_ms) + ms_to_ns(1_000);
        hostcalls::set_shared_data(SHARED_NEXT_FETCH, Some(until.to_string().as_bytes()), cas)
            .is_ok()
    }

    /// Schedules a fetch at the next tick of any worker. A new configuration or a VM
    /// that replaces a failed one fetches at once instead of waiting out the period;
    /// the claim in [`Worker::claim_fetch`] still lets only one worker fetch. It also
    /// creates the schedule entry, so later claims can use CAS.
    pub fn schedule_fetch_now() {
        let _ = hostcalls::set_shared_data(SHARED_NEXT_FETCH, Some(b"0"), None);
    }

    fn schedule_next(after_ms: u64) {
        let next = now_ns() + ms_to_ns(after_ms);
        let _ =
            hostcalls::set_shared_data(SHARED_NEXT_FETCH, Some(next.to_string().as_bytes()), None);
    }

    /// Returns the headers of a key-set fetch.
    pub fn fetch_headers(&self, source: &KeySource) -> Vec<(String, String)> {
        let mut headers = vec![
            (":method".to_owned(), "GET".to_owned()),
            (":path".to_owned(), source.path.clone()),
            (":authority".to_owned(), source.authority.clone()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        if let Some(version) = &self.keys.version {
            headers.push(("if-none-match".to_owned(), format!("\"{version}\"")));
        }
        headers
    }

    /// Handles the response to a key-set fetch made by this worker (periodic or on a
    /// miss). `status` is `None` when the call failed (reset or timeout).
    pub fn apply_fetch(
        &mut self,
        status: Option<u16>,
        body: Option<Bytes>,
        body_size: usize,
        why: &str,
    ) {
        let Some(source) = self.config.key_source.clone() else {
            return;
        };
        let failed = |worker: &mut Worker, message: String| {
            warn!(
                "key fetch ({why}) from cluster {} path {} failed: {message}; keeping key set version {}",
                source.cluster,
                source.path,
                worker.keys.version.as_deref().unwrap_or("(none)")
            );
            worker.count(stats::FETCH_FAILED, 1);
            Self::schedule_next(source.retry_period_ms);
        };

        match status {
            None => failed(self, "no answer (reset or timeout)".to_owned()),
            Some(304) => {
                self.count(stats::FETCH_OK, 1);
                Self::schedule_next(source.refresh_period_ms);
            }
            Some(200) if body_size > source.max_bytes => failed(
                self,
                format!(
                    "the key set is {body_size} bytes, over key_source.max_bytes ({}); raise key_source.max_bytes",
                    source.max_bytes
                ),
            ),
            Some(200) => {
                let document = body.unwrap_or_default();
                match Keys::fetched(&self.config, &document, source.max_bytes) {
                    Ok(keys) if keys.has_no_usable_key() => failed(
                        self,
                        format!(
                            "key set version {} has no usable key",
                            keys.version.as_deref().unwrap_or("-")
                        ),
                    ),
                    Ok(keys) => {
                        self.count(stats::FETCH_OK, 1);
                        Self::schedule_next(source.refresh_period_ms);
                        if hostcalls::set_shared_data(SHARED_KEYSET, Some(&document), None).is_ok()
                        {
                            self.keyset_cas = hostcalls::get_shared_data(SHARED_KEYSET)
                                .ok()
                                .and_then(|(_, cas)| cas);
                        }
                        self.install(keys);
                    }
                    Err(error) => failed(self, error.to_string()),
                }
            }
            Some(other) => failed(self, format!("HTTP status {other}")),
        }
    }

    // -----------------------------------------------------------------------
    // Judging
    // -----------------------------------------------------------------------

    /// Judges a stream whose body is complete, and counts the signature checks.
    pub fn judge(&mut self, state: &StreamState, may_refresh: bool) -> Judgement {
        let counts = PathCounts::default();
        let foreign_missing = std::cell::Cell::new(self.foreign_missing);
        let verifier = ProxyVerifier {
            path: self.config.signature_path,
            counts: &counts,
            call: |arguments: &[u8]| {
                if foreign_missing.get() {
                    return Err(ForeignError::Missing);
                }
                match hostcalls::call_foreign_function(VERIFY_SIGNATURE, Some(arguments)) {
                    Ok(result) => Ok(result.unwrap_or_default()),
                    Err(Status::NotFound) => {
                        foreign_missing.set(true);
                        Err(ForeignError::Missing)
                    }
                    Err(_) => Err(ForeignError::Failed),
                }
            },
        };
        let may_refresh = may_refresh
            && self
                .config
                .key_source
                .as_ref()
                .is_some_and(|s| s.refresh_on_miss.enabled);
        let now = i64::try_from(now_ns() / 1_000_000_000).unwrap_or(i64::MAX);
        let keys = Rc::clone(&self.keys);
        let config = Rc::clone(&self.config);

        let judgement = policy::judge(
            &config,
            &Inputs {
                head: &state.head,
                body: state.body.as_deref(),
                keys: &keys,
                now,
                crypto: &verifier,
                may_refresh,
            },
        );

        if foreign_missing.get() && !self.foreign_missing {
            if self.config.signature_path == SignaturePath::ForeignFunction {
                warn!(
                    "the proxy has no verify_signature foreign function and signature_path is foreign-function: every signed request is rejected with 503; set signature_path to auto"
                );
            } else {
                info!(
                    "the proxy has no verify_signature foreign function; signatures are checked inside the module"
                );
            }
            self.foreign_missing = true;
        }

        // A forced foreign path that could not check the signature tells nothing about
        // the signature, so report the proxy and do not refresh keys for it.
        let judgement = match judgement {
            Judgement::Reject(_) | Judgement::Refresh { .. }
                if self.config.signature_path == SignaturePath::ForeignFunction
                    && counts.foreign_failed.get() > 0 =>
            {
                Judgement::Reject(Reply::new(
                    503,
                    "2003",
                    "Service currently unavailable",
                    policy::reasons::SIGNATURE_PATH_UNAVAILABLE,
                    "the proxy could not check this signature",
                ))
            }
            other => other,
        };
        self.count(stats::CHECKS_FOREIGN, counts.foreign.get());
        self.count(stats::CHECKS_IN_WASM, counts.in_wasm.get());
        judgement
    }

    /// Counts and logs a final outcome.
    pub fn record(&mut self, judgement: &Judgement, state: &StreamState) {
        match judgement {
            Judgement::Accept { verified } if verified.is_empty() => {
                warn!(
                    "{} {} let through unverified: no key is loaded and no_keys.mode is fail-open",
                    state.head.method, state.head.target
                );
                self.count(stats::FAILED_OPEN, 1);
            }
            Judgement::Accept { .. } => self.count(stats::VERIFIED, 1),
            Judgement::Reject(reply) | Judgement::Refresh { reply, .. } => {
                self.reject_stat(reply);
                if self.may_log_rejection() {
                    info!(
                        "rejected {} {} from {:?} with {} {}: {}",
                        clip(&state.head.method, MAX_LOGGED_VALUE_BYTES),
                        clip(&state.head.target, MAX_LOGGED_VALUE_BYTES),
                        clip(
                            &state.head.source().unwrap_or_default(),
                            MAX_LOGGED_VALUE_BYTES
                        ),
                        reply.status,
                        reply.reason,
                        reply.body
                    );
                }
            }
        }
    }

    /// Returns true when a rejection may be logged: at most
    /// [`REJECTION_LOG_LINES_PER_SECOND`] per second, so a flood of bad requests
    /// cannot flood the log. The stats still count every rejection.
    fn may_log_rejection(&mut self) -> bool {
        let second = now_ns() / 1_000_000_000;
        let (current, logged, held_back) = &mut self.log_budget;
        if *current != second {
            if *held_back > 0 {
                info!(
                    "{held_back} more rejections in second {current} were not logged; the fspiop_guard.rejected.* stats count them all"
                );
            }
            *current = second;
            *logged = 0;
            *held_back = 0;
        }
        if *logged < REJECTION_LOG_LINES_PER_SECOND {
            *logged += 1;
            true
        } else {
            *held_back += 1;
            false
        }
    }

    /// Counts a rejection under its reason.
    pub fn reject_stat(&mut self, reply: &Reply) {
        let name = format!("{}{}", stats::REJECTED_PREFIX, reply.reason);
        self.count(&name, 1);
    }

    // -----------------------------------------------------------------------
    // Holding requests
    // -----------------------------------------------------------------------

    /// Holds a stream until `deadline` at the latest.
    pub fn hold(&mut self, context_id: u32, state: Rc<RefCell<StreamState>>) {
        let deadline = now_ns() + ms_to_ns(self.config.hold_timeout_ms);
        self.held.insert(context_id, (deadline, state));
    }

    /// Releases a stream from the held list (answered, or gone). A refresh the stream
    /// sent is dropped with it, since Envoy cancels the callout, and the streams that
    /// waited for it are judged again at the next tick.
    pub fn release(&mut self, context_id: u32) {
        self.held.remove(&context_id);
        let abandoned: Vec<Option<String>> = self
            .refreshing
            .iter()
            .filter(|(_, refresh)| refresh.initiator == context_id)
            .map(|(participant, _)| participant.clone())
            .collect();
        for participant in abandoned {
            if let Some(refresh) = self.refreshing.remove(&participant) {
                self.orphans.extend(refresh.waiters);
            }
        }
        for refresh in self.refreshing.values_mut() {
            refresh.waiters.retain(|id| *id != context_id);
        }
    }

    /// Held streams whose refresh was dropped, to judge again now.
    pub fn take_orphans(&mut self) -> Vec<(u32, Rc<RefCell<StreamState>>)> {
        std::mem::take(&mut self.orphans)
            .into_iter()
            .filter_map(|id| self.held.get(&id).map(|(_, state)| (id, Rc::clone(state))))
            .collect()
    }

    /// Streams held past their deadline.
    pub fn overdue(&mut self, now: u64) -> Vec<(u32, Rc<RefCell<StreamState>>)> {
        let ids: Vec<u32> = self
            .held
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.held.remove(&id).map(|(_, state)| (id, state)))
            .collect()
    }

    /// Starts a refresh of `participant`'s keys for the stream `context_id`, or joins
    /// the one in flight on this worker. `participant` is `None` for a name the key set
    /// does not hold. Returns false when the refresh is rate-limited or cannot be sent.
    pub fn start_refresh(&mut self, context_id: u32, participant: Option<&str>) -> bool {
        let bucket = participant.map(str::to_owned);
        if let Some(refresh) = self.refreshing.get_mut(&bucket) {
            refresh.waiters.push(context_id);
            return true;
        }
        let Some(source) = self.config.key_source.clone() else {
            return false;
        };

        // One refresh per participant per interval, and one per global interval, across
        // workers. Unknown names share one entry, so they cannot grow shared data.
        let now = now_ns();
        let limits = source.refresh_on_miss;
        let own_key = match participant {
            Some(name) => format!("{SHARED_REFRESH_PREFIX}{name}"),
            None => SHARED_REFRESH_UNKNOWN.to_owned(),
        };
        if !Self::claim_interval(&own_key, now, limits.min_interval_ms)
            || !Self::claim_interval(SHARED_REFRESH_ANY, now, limits.global_min_interval_ms)
        {
            return false;
        }

        // The header asks keysync to poll MCM before it responds, so a key that MCM
        // has and keysync has not yet fetched can arrive in this answer.
        let mut headers = self.fetch_headers(&source);
        headers.push((REFRESH_HEADER.to_owned(), "miss".to_owned()));
        let timeout = source.timeout_ms.min(self.config.hold_timeout_ms);
        match hostcalls::dispatch_http_call(
            &source.cluster,
            headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            None,
            vec![],
            Duration::from_millis(timeout),
        ) {
            Ok(token) => {
                info!(
                    "signature from {} matches no current key; refreshing the key set",
                    participant.map_or_else(
                        || "a participant the key set does not name".to_owned(),
                        |name| format!("{name:?}")
                    )
                );
                self.count(stats::REFRESH_ON_MISS, 1);
                self.refreshing.insert(
                    bucket,
                    Refresh {
                        token,
                        initiator: context_id,
                        waiters: Vec::new(),
                    },
                );
                true
            }
            Err(status) => {
                warn!(
                    "cannot refresh keys from cluster {}: dispatch failed with {status:?}; check that the cluster exists",
                    source.cluster
                );
                self.count(stats::FETCH_FAILED, 1);
                false
            }
        }
    }

    /// Claims the rate-limit entry `key` in shared data: returns false when its last
    /// claim is less than `interval_ms` old or another worker claimed it first.
    fn claim_interval(key: &str, now: u64, interval_ms: u64) -> bool {
        let Ok((last, cas)) = hostcalls::get_shared_data(key) else {
            return false;
        };
        if read_u64(last.as_ref()).is_some_and(|last| now < last + ms_to_ns(interval_ms)) {
            return false;
        }
        // NOTE: the first claim of a key has no CAS to compare with, so two workers
        // missing at the same instant may both refresh once.
        hostcalls::set_shared_data(key, Some(now.to_string().as_bytes()), cas).is_ok()
    }

    /// Ends the refresh answered by `token`, returning the streams that waited on it.
    pub fn finish_refresh(&mut self, token: u32) -> Vec<(u32, Rc<RefCell<StreamState>>)> {
        let participant = self
            .refreshing
            .iter()
            .find(|(_, refresh)| refresh.token == token)
            .map(|(participant, _)| participant.clone());
        let Some(refresh) = participant.and_then(|p| self.refreshing.remove(&p)) else {
            return Vec::new();
        };
        refresh
            .waiters
            .into_iter()
            .filter_map(|id| self.held.get(&id).map(|(_, state)| (id, Rc::clone(state))))
            .collect()
    }
}

pub fn ms_to_ns(ms: u64) -> u64 {
    ms.saturating_mul(1_000_000)
}
