//! The keysync service: polls MCM, keeps the key history, and writes every output.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};
use tracing::{debug, error, info, warn};

use crate::client::{FetchError, McmClient};
use crate::config::{Config, CorsOrigins};
use crate::history::{Event, KeyHistory, Poll};
use crate::mcm::{self, Offer};
use crate::metrics::Metrics;
use crate::store::{self, RenderedKeySet};

/// Source of the current time, in Unix seconds. Tests move a [`ManualClock`].
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as i64)
            .unwrap_or_default()
    }
}

/// A clock that moves only when a test sets or advances it.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now: i64) -> ManualClock {
        ManualClock(AtomicI64::new(now))
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Result of a refresh request from a verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A poll ran (or finished) before the wait ended.
    Polled,
    /// The poll did not finish within `refresh.wait_ms`.
    TimedOut,
    /// Another refresh started less than `refresh.min_interval_seconds` ago.
    RateLimited,
}

#[derive(Debug, Default)]
struct RefreshState {
    last_started: Option<Instant>,
    /// Poll generation that completes the refresh in flight.
    pending_target: Option<u64>,
}

/// State that the HTTP outputs read, shared with the poll loop.
pub struct Shared {
    pub metrics: Metrics,
    history: RwLock<KeyHistory>,
    keyset: RwLock<Option<Arc<RenderedKeySet>>>,
    ready: AtomicBool,
    clock: Arc<dyn Clock>,
    wake: Notify,
    generation: watch::Sender<u64>,
    polling: AtomicBool,
    refresh: Mutex<RefreshState>,
    refresh_min_interval: Duration,
    refresh_wait: Duration,
    cors: CorsOrigins,
}

impl Shared {
    /// Returns the key set, once one is loaded.
    pub fn keyset(&self) -> Option<Arc<RenderedKeySet>> {
        self.keyset
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Returns the browser origins allowed to read the key set.
    pub fn cors(&self) -> &CorsOrigins {
        &self.cors
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Returns a copy of the history, for metrics and tests.
    pub fn history(&self) -> KeyHistory {
        self.history
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Renders `/metrics`.
    pub fn render_metrics(&self) -> String {
        let history = self.history.read().unwrap_or_else(|p| p.into_inner());
        self.metrics.render(&history, self.now(), self.is_ready())
    }

    /// Asks the poll loop for an immediate poll and waits up to `refresh.wait_ms` for
    /// it. At most one refresh starts per `refresh.min_interval_seconds`; a request
    /// while one is in flight waits for that one.
    pub async fn request_refresh(&self) -> RefreshOutcome {
        let mut receiver = self.generation.subscribe();
        let target = {
            let mut state = self.refresh.lock().unwrap_or_else(|p| p.into_inner());
            let current = *receiver.borrow();
            match state.pending_target {
                Some(target) if target > current => {
                    self.metrics.refresh_request("joined");
                    target
                }
                _ => {
                    let limited = state
                        .last_started
                        .is_some_and(|at| at.elapsed() < self.refresh_min_interval);
                    if limited {
                        self.metrics.refresh_request("rate_limited");
                        return RefreshOutcome::RateLimited;
                    }
                    // A poll already running may have read MCM before the change that
                    // made the verifier ask, so wait for the one after it.
                    let target = current + 1 + u64::from(self.polling.load(Ordering::SeqCst));
                    state.last_started = Some(Instant::now());
                    state.pending_target = Some(target);
                    self.metrics.refresh_request("started");
                    self.wake.notify_one();
                    target
                }
            }
        };
        match tokio::time::timeout(self.refresh_wait, receiver.wait_for(|g| *g >= target)).await {
            Ok(Ok(_)) => RefreshOutcome::Polled,
            _ => RefreshOutcome::TimedOut,
        }
    }
}

/// The running service.
pub struct Keysync {
    config: Config,
    client: McmClient,
    shared: Arc<Shared>,
    /// Last logged reason per skipped participant, so a bad entry is logged when it
    /// appears or changes rather than on every poll.
    last_skips: Mutex<BTreeMap<String, String>>,
    /// Last logged notes per participant and key.
    last_notes: Mutex<BTreeMap<String, (String, Vec<String>)>>,
    /// Held while the history is read, changed and installed, so a poll and an expiry
    /// cannot overwrite each other's changes.
    update: Mutex<()>,
}

impl Keysync {
    /// Builds the service and loads the state file.
    ///
    /// A state file that cannot be read is logged, counted and set aside as
    /// `<file>.unreadable`, and keysync starts without keys rather than not at all.
    ///
    /// # Errors
    /// The TLS material cannot be loaded.
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Keysync, String> {
        let client = McmClient::new(config.mcm.clone(), config.auth.clone(), &config.tls)?;
        let (generation, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            metrics: Metrics::default(),
            history: RwLock::new(KeyHistory::new()),
            keyset: RwLock::new(None),
            ready: AtomicBool::new(false),
            clock,
            wake: Notify::new(),
            generation,
            polling: AtomicBool::new(false),
            refresh: Mutex::new(RefreshState::default()),
            refresh_min_interval: config.refresh.min_interval,
            refresh_wait: config.refresh.wait,
            cors: config.cors.clone(),
        });
        let keysync = Keysync {
            config,
            client,
            shared,
            last_skips: Mutex::new(BTreeMap::new()),
            last_notes: Mutex::new(BTreeMap::new()),
            update: Mutex::new(()),
        };
        keysync.load_state();
        Ok(keysync)
    }

    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    fn load_state(&self) {
        let Some(path) = &self.config.state_file else {
            return;
        };
        match store::load_state(path) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    warn!(path = %path.display(), "state file: {warning}");
                }
                let now = self.shared.now();
                let mut history = loaded.history;
                let events = history.expire(now);
                let participants = history.participants.len();
                let keys = history.key_count();
                if participants > 0 {
                    info!(
                        path = %path.display(),
                        participants,
                        keys,
                        "loaded the last-known-good keys from the state file"
                    );
                }
                self.install(history, participants > 0);
                self.report(&events);
            }
            Err(message) => {
                self.shared.metrics.state_load_error();
                let aside = path.with_extension("unreadable");
                let moved = std::fs::rename(path, &aside).is_ok();
                error!(
                    path = %path.display(),
                    moved_to = %if moved { aside.display().to_string() } else { "(not moved)".to_owned() },
                    "cannot load the state file, so keysync starts without keys until MCM responds: {message}"
                );
            }
        }
    }

    /// Replaces the history, renders the key set, and marks the service ready when
    /// `ready` is true.
    fn install(&self, history: KeyHistory, ready: bool) {
        let now = self.shared.now();
        let rendered = store::render_keyset(&history, now);
        {
            let mut slot = self
                .shared
                .keyset
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let changed = slot
                .as_ref()
                .is_none_or(|old| old.version != rendered.version);
            if changed {
                *slot = Some(Arc::new(rendered));
            }
        }
        *self
            .shared
            .history
            .write()
            .unwrap_or_else(|p| p.into_inner()) = history;
        if ready && !self.shared.ready.swap(true, Ordering::SeqCst) {
            info!("key set loaded; keysync is ready");
        }
    }

    /// Polls MCM once and applies the response. Every output is updated on success.
    ///
    /// # Errors
    /// The fetch failed or the response was not a key list, and nothing changed.
    pub async fn poll_once(&self) -> Result<(), FetchError> {
        self.shared.polling.store(true, Ordering::SeqCst);
        let result = self.poll_inner().await;
        self.shared.polling.store(false, Ordering::SeqCst);
        {
            let mut state = self
                .shared
                .refresh
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let next = *self.shared.generation.borrow() + 1;
            if state.pending_target.is_some_and(|t| t <= next) {
                state.pending_target = None;
            }
        }
        self.shared.generation.send_modify(|g| *g += 1);
        result
    }

    async fn poll_inner(&self) -> Result<(), FetchError> {
        let body = match self.client.fetch_jwscerts().await {
            Ok(body) => body,
            Err(error) => {
                self.shared.metrics.poll_failed(error.kind());
                warn!(
                    url = %format!("{}/dfsps/jwscerts", self.config.mcm.base_url),
                    reason = error.kind(),
                    "MCM poll failed; keeping the current keys: {error}"
                );
                return Err(error);
            }
        };
        let response = match mcm::parse_response(&body, self.config.mcm.max_response_bytes) {
            Ok(response) => response,
            Err(error) => {
                self.shared.metrics.poll_failed("response");
                warn!("MCM poll failed; keeping the current keys: {error}");
                return Err(FetchError::Read(error.to_string()));
            }
        };
        let now = self.shared.now();
        for bad in &response.bad {
            let participant = bad.participant.as_deref().unwrap_or("(unknown)");
            self.shared
                .metrics
                .entry_skipped(participant, "malformed_entry");
            self.log_skip(
                participant,
                &format!(
                    "MCM entry {} is malformed and was skipped: {}",
                    bad.index, bad.reason
                ),
            );
        }

        let mut poll = Poll::new();
        let mut problems: BTreeMap<String, u64> = BTreeMap::new();
        for entry in &response.entries {
            let offer = mcm::offer(entry, self.config.keys.validation);
            if let Offer::Key(key) = &offer {
                for note in &key.notes {
                    *problems.entry(note.kind().to_owned()).or_default() += 1;
                }
                self.log_notes(&entry.participant, key);
            }
            poll.insert(entry.participant.clone(), offer);
        }
        self.shared.metrics.set_entry_problems(problems);

        let _update = self.update.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.shared.history();
        let mut history = before.clone();
        let events = history.apply(&poll, now, &self.config.keys);
        let held = events
            .iter()
            .any(|e| matches!(e, Event::RemovalHeldBack { .. }));
        self.shared.metrics.removal_held_back(held);
        self.shared.metrics.poll_succeeded(now);
        debug!(entries = response.entries.len(), "MCM poll succeeded");
        self.report(&events);
        // An unchanged history is not saved again, so a quiet MCM causes no disk writes.
        // The key directory is checked on every poll, in case someone changed it.
        self.write_outputs(&history, now, history != before || !self.shared.is_ready());
        self.install(history, true);
        Ok(())
    }

    /// Retires keys whose overlap has ended and updates the outputs if any did.
    pub fn expire(&self) {
        let _update = self.update.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.shared.now();
        let mut history = self.shared.history();
        let events = history.expire(now);
        if events.is_empty() {
            return;
        }
        self.report(&events);
        self.write_outputs(&history, now, true);
        let ready = self.shared.is_ready();
        self.install(history, ready);
    }

    fn write_outputs(&self, history: &KeyHistory, now: i64, save_state: bool) {
        if let Some(path) = self.config.state_file.as_ref().filter(|_| save_state) {
            let saved = store::save_state(path, history, now);
            self.shared.metrics.write("state_file", saved.is_ok());
            if let Err(message) = saved {
                error!("state file not saved, so a restart would use older keys: {message}");
            }
        }
        if let Some(directory) = &self.config.pem_dir {
            let changes = store::sync_pem_dir(directory, history);
            for file in &changes.written {
                info!(directory = %directory.display(), file = %file, "wrote key file");
            }
            for file in &changes.removed {
                info!(directory = %directory.display(), file = %file, "removed key file of a participant keysync no longer has");
            }
            for message in &changes.errors {
                error!("key directory not updated: {message}");
            }
            if !changes.written.is_empty()
                || !changes.removed.is_empty()
                || !changes.errors.is_empty()
            {
                self.shared
                    .metrics
                    .write("pem_dir", changes.errors.is_empty());
            }
        }
    }

    fn log_skip(&self, participant: &str, message: &str) {
        let mut last = self.last_skips.lock().unwrap_or_else(|p| p.into_inner());
        if last.get(participant).map(String::as_str) == Some(message) {
            debug!(participant, "{message} (unchanged since the last poll)");
            return;
        }
        warn!(participant, "{message}");
        last.insert(participant.to_owned(), message.to_owned());
    }

    fn log_notes(&self, participant: &str, key: &mcm::OfferedKey) {
        let notes: Vec<String> = key.notes.iter().map(ToString::to_string).collect();
        let mut last = self.last_notes.lock().unwrap_or_else(|p| p.into_inner());
        let seen = last
            .get(participant)
            .is_some_and(|(kid, old)| *kid == key.kid && *old == notes);
        if !seen {
            for note in &notes {
                warn!(participant, kid = %key.kid, "MCM entry: {note}");
            }
            last.insert(participant.to_owned(), (key.kid.clone(), notes));
        }
        self.last_skips
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(participant);
    }

    fn report(&self, events: &[Event]) {
        for event in events {
            match event {
                Event::Added { participant, kid } => {
                    info!(participant = %participant, kid = %kid, "new participant key");
                }
                Event::Rotated {
                    participant,
                    old_kid,
                    new_kid,
                    retire_after,
                    created_at_not_newer,
                } => {
                    self.shared.metrics.rotation(participant);
                    info!(
                        participant = %participant,
                        old_kid = %old_kid,
                        new_kid = %new_kid,
                        retire_after = %fspiop_guard_core::rfc3339::format(*retire_after),
                        "key rotated; the previous key verifies until retire_after"
                    );
                    if *created_at_not_newer {
                        warn!(
                            participant = %participant,
                            new_kid = %new_kid,
                            "MCM serves a new key with the same or an older createdAt; PM4ML's mcm-client would ignore this rotation"
                        );
                    }
                }
                Event::Skipped {
                    participant,
                    reason,
                    kind,
                    kept,
                } => {
                    self.shared.metrics.entry_skipped(participant, kind);
                    self.log_skip(
                        participant,
                        &format!("MCM entry skipped, keeping the participant's {kept} previous key(s): {reason}"),
                    );
                }
                Event::Missing {
                    participant,
                    remove_after,
                } => warn!(
                    participant = %participant,
                    remove_after = %fspiop_guard_core::rfc3339::format(*remove_after),
                    "MCM no longer lists the participant; its keys stay until remove_after (keys.grace_seconds)"
                ),
                Event::Returned { participant } => {
                    info!(participant = %participant, "MCM lists the participant again");
                }
                Event::Removed { participant, kids } => {
                    self.shared.metrics.participant_removed();
                    warn!(participant = %participant, kids = ?kids, "participant's grace period ended; its keys were removed");
                }
                Event::Retired { participant, kid } => {
                    self.shared.metrics.key_retired();
                    info!(participant = %participant, kid = %kid, "replaced key retired at the end of its overlap");
                }
                Event::Evicted { participant, kid } => warn!(
                    participant = %participant,
                    kid = %kid,
                    "replaced key dropped before its overlap ended: the participant has more than keys.max_keys_per_participant keys"
                ),
                Event::RemovalHeldBack { absent, known } => error!(
                    absent,
                    known,
                    "MCM response lacks {absent} of {known} known participants, more than keys.max_removal_share; no participant is removed until a poll lists them again (an empty or truncated response looks like this)"
                ),
            }
        }
    }

    /// Waits before the next poll: the period after a success, an exponential backoff
    /// after failures, each changed by the jitter. Returns early on a refresh request.
    async fn pause(&self, failures: u32) {
        let poll = &self.config.poll;
        let base = if failures == 0 {
            poll.period
        } else {
            let factor = 2f64.powi(failures.saturating_sub(1).min(30) as i32);
            poll.backoff_initial.mul_f64(factor).min(poll.backoff_max)
        };
        let wait = base.mul_f64(1.0 + poll.jitter * random_unit());
        // Wake at least every 10 s to retire keys whose overlap ended.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let slice = deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .min(Duration::from_secs(10));
            if slice.is_zero() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(slice) => self.expire(),
                () = self.shared.wake.notified() => return,
            }
        }
    }

    /// Polls MCM until `shutdown` resolves.
    pub async fn run_polls(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            match self.poll_once().await {
                Ok(()) => failures = 0,
                Err(_) => failures = failures.saturating_add(1),
            }
            tokio::select! {
                () = self.pause(failures) => {}
                () = &mut shutdown => return,
            }
        }
    }
}

/// Returns a random number in [-1, 1), from the operating system's generator.
fn random_unit() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}
