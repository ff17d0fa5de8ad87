//! State that all workers of a host share, as Envoy shares it process-wide: the virtual
//! clock, shared data, shared queues, metrics and foreign functions.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::abi::{MetricKind, Status};
use crate::types::MetricSnapshot;

/// A foreign function: serialized arguments in, serialized result or a status out.
pub type ForeignFunction = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, Status> + Send + Sync>;

/// Locks a mutex, taking the data even if a panicking thread poisoned it: the data is
/// plain maps that a panic cannot leave half-updated in a way that matters here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Process {
    pub vm_id: String,
    pub start_unix_nanos: u64,
    clock_unix_nanos: AtomicU64,
    pub log_passthrough: bool,
    pub shared_data: Mutex<SharedData>,
    pub queues: Mutex<Queues>,
    pub metrics: Mutex<Metrics>,
    pub foreign_functions: Mutex<HashMap<String, ForeignFunction>>,
}

impl Process {
    pub fn new(vm_id: String, start_unix_nanos: u64) -> Process {
        Process {
            vm_id,
            start_unix_nanos,
            clock_unix_nanos: AtomicU64::new(start_unix_nanos),
            log_passthrough: std::env::var("PROXY_WASM_HOST_LOG").is_ok_and(|v| v == "1"),
            shared_data: Mutex::new(SharedData::default()),
            queues: Mutex::new(Queues::default()),
            metrics: Mutex::new(Metrics::default()),
            foreign_functions: Mutex::new(HashMap::new()),
        }
    }

    pub fn now_unix_nanos(&self) -> u64 {
        self.clock_unix_nanos.load(Ordering::SeqCst)
    }

    pub fn set_now_unix_nanos(&self, nanos: u64) {
        self.clock_unix_nanos.store(nanos, Ordering::SeqCst);
    }

    /// Nanoseconds since the host started, for WASI's monotonic clock.
    pub fn monotonic_nanos(&self) -> u64 {
        self.now_unix_nanos().saturating_sub(self.start_unix_nanos)
    }
}

/// Key-value store with compare-and-swap, one per VM id like Envoy's.
#[derive(Default)]
pub(crate) struct SharedData {
    entries: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    next_cas: u32,
}

impl SharedData {
    /// Returns the value and its CAS, `None` when the key is absent.
    pub fn get(&self, key: &[u8]) -> Option<(Vec<u8>, u32)> {
        self.entries.get(key).cloned()
    }

    /// Stores a value. A non-zero `cas` must equal the stored one or the call fails with
    /// CAS_MISMATCH; 0 writes unconditionally. Like Envoy's store, every successful write
    /// takes the next value of one store-wide counter that skips 0, and a `cas` given
    /// for an absent key is ignored.
    pub fn set(&mut self, key: &[u8], value: &[u8], cas: u32) -> Result<(), Status> {
        if let Some((_, current)) = self.entries.get(key)
            && cas != 0
            && cas != *current
        {
            return Err(Status::CasMismatch);
        }
        self.next_cas = self.next_cas.wrapping_add(1);
        if self.next_cas == 0 {
            self.next_cas = 1;
        }
        self.entries
            .insert(key.to_vec(), (value.to_vec(), self.next_cas));
        Ok(())
    }
}

/// Shared queues, registered (created or opened) by name and resolved by VM id and name.
/// Anyone may enqueue or dequeue by id. An enqueue notifies the registering worker's root
/// context.
#[derive(Default)]
pub(crate) struct Queues {
    ids: HashMap<(String, Vec<u8>), u32>,
    queues: BTreeMap<u32, Queue>,
    /// (owner worker, queue id) pairs waiting for `proxy_on_queue_ready`.
    pub notifications: VecDeque<(usize, u32)>,
}

struct Queue {
    owner_worker: usize,
    items: VecDeque<Vec<u8>>,
}

impl Queues {
    /// Registers a queue, or returns the existing id; the first registrant stays owner.
    pub fn register(&mut self, vm_id: &str, name: &[u8], worker: usize) -> u32 {
        let key = (vm_id.to_string(), name.to_vec());
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = u32::try_from(self.queues.len() + 1).unwrap_or(u32::MAX);
        self.ids.insert(key, id);
        self.queues.insert(
            id,
            Queue {
                owner_worker: worker,
                items: VecDeque::new(),
            },
        );
        id
    }

    pub fn resolve(&self, vm_id: &str, name: &[u8]) -> Option<u32> {
        self.ids.get(&(vm_id.to_string(), name.to_vec())).copied()
    }

    pub fn enqueue(&mut self, id: u32, value: Vec<u8>) -> Result<(), Status> {
        let queue = self.queues.get_mut(&id).ok_or(Status::NotFound)?;
        queue.items.push_back(value);
        let owner = queue.owner_worker;
        self.notifications.push_back((owner, id));
        Ok(())
    }

    pub fn dequeue(&mut self, id: u32) -> Result<Vec<u8>, Status> {
        let queue = self.queues.get_mut(&id).ok_or(Status::NotFound)?;
        queue.items.pop_front().ok_or(Status::Empty)
    }
}

/// Stats, process-wide like Envoy's: the same name and kind give the same id on every
/// worker.
#[derive(Default)]
pub(crate) struct Metrics {
    metrics: Vec<Metric>,
}

struct Metric {
    name: String,
    kind: MetricKind,
    value: i64,
    samples: Vec<u64>,
}

impl Metrics {
    /// Returns the id of the metric, defining it first if needed. Ids start at 1.
    pub fn define(&mut self, kind: MetricKind, name: &str) -> u32 {
        let index = match self
            .metrics
            .iter()
            .position(|m| m.kind == kind && m.name == name)
        {
            Some(index) => index,
            None => {
                self.metrics.push(Metric {
                    name: name.to_string(),
                    kind,
                    value: 0,
                    samples: Vec::new(),
                });
                self.metrics.len() - 1
            }
        };
        u32::try_from(index + 1).unwrap_or(u32::MAX)
    }

    fn get_mut(&mut self, id: u32) -> Result<&mut Metric, Status> {
        let index = usize::try_from(id).map_err(|_| Status::NotFound)?;
        index
            .checked_sub(1)
            .and_then(|i| self.metrics.get_mut(i))
            .ok_or(Status::NotFound)
    }

    /// Adds `delta`: a counter rejects a negative delta, a histogram any increment.
    pub fn increment(&mut self, id: u32, delta: i64) -> Result<(), Status> {
        let metric = self.get_mut(id)?;
        match metric.kind {
            MetricKind::Counter if delta < 0 => Err(Status::BadArgument),
            MetricKind::Counter | MetricKind::Gauge => {
                metric.value = metric.value.saturating_add(delta);
                Ok(())
            }
            MetricKind::Histogram => Err(Status::BadArgument),
        }
    }

    /// Records `value`: a counter adds it, a gauge takes it, a histogram keeps a sample.
    pub fn record(&mut self, id: u32, value: u64) -> Result<(), Status> {
        let metric = self.get_mut(id)?;
        let signed = i64::try_from(value).unwrap_or(i64::MAX);
        match metric.kind {
            MetricKind::Counter => metric.value = metric.value.saturating_add(signed),
            MetricKind::Gauge => metric.value = signed,
            MetricKind::Histogram => metric.samples.push(value),
        }
        Ok(())
    }

    /// Returns a counter's or gauge's value; BAD_ARGUMENT for a histogram.
    pub fn value(&mut self, id: u32) -> Result<u64, Status> {
        let metric = self.get_mut(id)?;
        match metric.kind {
            MetricKind::Histogram => Err(Status::BadArgument),
            _ => Ok(metric.value as u64),
        }
    }

    pub fn by_name(&self, name: &str) -> Option<i64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| match m.kind {
                MetricKind::Histogram => i64::try_from(m.samples.len()).unwrap_or(i64::MAX),
                _ => m.value,
            })
    }

    pub fn snapshot(&self) -> Vec<MetricSnapshot> {
        self.metrics
            .iter()
            .map(|m| MetricSnapshot {
                name: m.name.clone(),
                kind: m.kind,
                value: match m.kind {
                    MetricKind::Histogram => i64::try_from(m.samples.len()).unwrap_or(i64::MAX),
                    _ => m.value,
                },
                samples: m.samples.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_mismatch_and_unconditional_write() {
        let mut store = SharedData::default();
        assert_eq!(store.get(b"k"), None);
        assert_eq!(store.set(b"k", b"v1", 0), Ok(()));
        let (_, cas1) = store.get(b"k").unwrap_or_default();
        assert_eq!(
            store.set(b"k", b"v2", cas1.wrapping_add(1)),
            Err(Status::CasMismatch)
        );
        assert_eq!(store.set(b"k", b"v2", cas1), Ok(()));
        let (value, cas2) = store.get(b"k").unwrap_or_default();
        assert_eq!(value, b"v2".to_vec());
        assert_ne!(cas1, cas2);
        assert_eq!(store.set(b"k", b"v3", 0), Ok(()));
    }

    #[test]
    fn counter_rejects_negative_delta() {
        let mut metrics = Metrics::default();
        let id = metrics.define(MetricKind::Counter, "c");
        assert_eq!(metrics.increment(id, -1), Err(Status::BadArgument));
        assert_eq!(metrics.increment(id, 5), Ok(()));
        assert_eq!(metrics.value(id), Ok(5));
        assert_eq!(metrics.increment(99, 1), Err(Status::NotFound));
        assert_eq!(metrics.define(MetricKind::Counter, "c"), id);
    }

    #[test]
    fn queue_reports_empty_and_not_found() {
        let mut queues = Queues::default();
        let id = queues.register("vm", b"q", 0);
        assert_eq!(queues.register("vm", b"q", 1), id);
        assert_eq!(queues.resolve("vm", b"q"), Some(id));
        assert_eq!(queues.dequeue(id), Err(Status::Empty));
        assert_eq!(queues.enqueue(id + 1, Vec::new()), Err(Status::NotFound));
        assert_eq!(queues.enqueue(id, b"x".to_vec()), Ok(()));
        assert_eq!(queues.notifications.pop_front(), Some((0, id)));
        assert_eq!(queues.dequeue(id), Ok(b"x".to_vec()));
    }
}
