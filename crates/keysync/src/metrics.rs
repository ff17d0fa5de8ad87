//! Prometheus metrics, rendered in the text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::history::KeyHistory;

/// Counters and gauges that keysync updates as it works. Per-participant gauges are
/// computed from the history when the metrics are rendered.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    poll_successes: u64,
    poll_failures: BTreeMap<String, u64>,
    last_success_unix: Option<i64>,
    rotations: BTreeMap<String, u64>,
    skipped: BTreeMap<(String, String), u64>,
    entry_problems: BTreeMap<String, u64>,
    removals_held_back: u64,
    removal_held: bool,
    keys_retired: u64,
    participants_removed: u64,
    refresh_requests: BTreeMap<String, u64>,
    writes: BTreeMap<(String, String), u64>,
    state_load_errors: u64,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    pub fn poll_succeeded(&self, now: i64) {
        self.with(|m| {
            m.poll_successes += 1;
            m.last_success_unix = Some(now);
        });
    }

    pub fn poll_failed(&self, reason: &str) {
        self.with(|m| *m.poll_failures.entry(reason.to_owned()).or_default() += 1);
    }

    pub fn rotation(&self, participant: &str) {
        self.with(|m| *m.rotations.entry(participant.to_owned()).or_default() += 1);
    }

    pub fn entry_skipped(&self, participant: &str, reason: &str) {
        self.with(|m| {
            *m.skipped
                .entry((participant.to_owned(), reason.to_owned()))
                .or_default() += 1;
        });
    }

    /// Sets the number of entries of the last poll with each kind of problem.
    pub fn set_entry_problems(&self, counts: BTreeMap<String, u64>) {
        self.with(|m| m.entry_problems = counts);
    }

    pub fn removal_held_back(&self, held: bool) {
        self.with(|m| {
            if held {
                m.removals_held_back += 1;
            }
            m.removal_held = held;
        });
    }

    pub fn key_retired(&self) {
        self.with(|m| m.keys_retired += 1);
    }

    pub fn participant_removed(&self) {
        self.with(|m| m.participants_removed += 1);
    }

    pub fn refresh_request(&self, result: &str) {
        self.with(|m| *m.refresh_requests.entry(result.to_owned()).or_default() += 1);
    }

    /// Counts a write of an output (`state_file`, `pem_dir`) that succeeded or failed.
    pub fn write(&self, output: &str, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.with(|m| {
            *m.writes
                .entry((output.to_owned(), result.to_owned()))
                .or_default() += 1;
        });
    }

    pub fn state_load_error(&self) {
        self.with(|m| m.state_load_errors += 1);
    }

    /// Returns the total of failed polls, for tests and `--once`.
    pub fn poll_failure_count(&self) -> u64 {
        self.with(|m| m.poll_failures.values().sum())
    }

    /// Renders every metric as Prometheus text.
    pub fn render(&self, history: &KeyHistory, now: i64, ready: bool) -> String {
        let mut out = String::new();
        self.with(|m| {
            family(&mut out, "keysync_polls_total", "counter", "MCM polls that returned a key list");
            sample(&mut out, "keysync_polls_total", &[], m.poll_successes as f64);

            family(&mut out, "keysync_poll_failures_total", "counter", "MCM polls that failed, by reason");
            for (reason, count) in &m.poll_failures {
                sample(&mut out, "keysync_poll_failures_total", &[("reason", reason)], *count as f64);
            }

            family(&mut out, "keysync_last_success_timestamp_seconds", "gauge", "Unix time of the last successful MCM poll; 0 before the first");
            sample(&mut out, "keysync_last_success_timestamp_seconds", &[], m.last_success_unix.unwrap_or(0) as f64);

            family(&mut out, "keysync_rotations_total", "counter", "key changes seen in MCM, by participant");
            for (participant, count) in &m.rotations {
                sample(&mut out, "keysync_rotations_total", &[("participant", participant)], *count as f64);
            }

            family(&mut out, "keysync_entries_skipped_total", "counter", "MCM entries skipped because they offered no usable key, by participant and reason; the participant keeps its previous keys");
            for ((participant, reason), count) in &m.skipped {
                sample(&mut out, "keysync_entries_skipped_total", &[("participant", participant), ("reason", reason)], *count as f64);
            }

            family(&mut out, "keysync_entry_problems", "gauge", "entries of the last successful poll whose key was used despite a problem, by kind");
            for (kind, count) in &m.entry_problems {
                sample(&mut out, "keysync_entry_problems", &[("kind", kind)], *count as f64);
            }

            family(&mut out, "keysync_removals_held_back_total", "counter", "polls that lacked more than keys.max_removal_share of the participants and removed nothing");
            sample(&mut out, "keysync_removals_held_back_total", &[], m.removals_held_back as f64);
            family(&mut out, "keysync_removal_held_back", "gauge", "1 while the last successful poll was held back; alert on it");
            sample(&mut out, "keysync_removal_held_back", &[], f64::from(u8::from(m.removal_held)));

            family(&mut out, "keysync_keys_retired_total", "counter", "replaced keys whose overlap ended");
            sample(&mut out, "keysync_keys_retired_total", &[], m.keys_retired as f64);
            family(&mut out, "keysync_participants_removed_total", "counter", "participants dropped after their grace period");
            sample(&mut out, "keysync_participants_removed_total", &[], m.participants_removed as f64);

            family(&mut out, "keysync_refresh_requests_total", "counter", "immediate polls requested by verifiers, by result");
            for (result, count) in &m.refresh_requests {
                sample(&mut out, "keysync_refresh_requests_total", &[("result", result)], *count as f64);
            }

            family(&mut out, "keysync_output_writes_total", "counter", "writes of the state file and the key directory, by result");
            for ((output, result), count) in &m.writes {
                sample(&mut out, "keysync_output_writes_total", &[("output", output), ("result", result)], *count as f64);
            }

            family(&mut out, "keysync_state_load_errors_total", "counter", "state files that could not be read at start");
            sample(&mut out, "keysync_state_load_errors_total", &[], m.state_load_errors as f64);
        });

        family(
            &mut out,
            "keysync_ready",
            "gauge",
            "1 once a key set is loaded",
        );
        sample(&mut out, "keysync_ready", &[], f64::from(u8::from(ready)));
        family(
            &mut out,
            "keysync_participants",
            "gauge",
            "participants with at least one key",
        );
        sample(
            &mut out,
            "keysync_participants",
            &[],
            history.participants.len() as f64,
        );

        family(
            &mut out,
            "keysync_keys",
            "gauge",
            "keys per participant, including replaced keys in their overlap",
        );
        for (participant, state) in &history.participants {
            sample(
                &mut out,
                "keysync_keys",
                &[("participant", participant)],
                state.keys.len() as f64,
            );
        }
        family(
            &mut out,
            "keysync_key_age_seconds",
            "gauge",
            "time since keysync first saw each participant's newest key",
        );
        for (participant, state) in &history.participants {
            if let Some(current) = state.current() {
                let age = now.saturating_sub(current.first_seen).max(0);
                sample(
                    &mut out,
                    "keysync_key_age_seconds",
                    &[("participant", participant)],
                    age as f64,
                );
            }
        }
        family(
            &mut out,
            "keysync_participant_missing",
            "gauge",
            "1 for a participant that MCM no longer lists and that is in its grace period",
        );
        for (participant, state) in &history.participants {
            if state.missing_since.is_some() {
                sample(
                    &mut out,
                    "keysync_participant_missing",
                    &[("participant", participant)],
                    1.0,
                );
            }
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (index, (label, value)) in labels.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_labels() {
        let metrics = Metrics::default();
        metrics.poll_succeeded(1_700_000_000);
        metrics.poll_failed("http_status");
        metrics.entry_skipped("dfsp\"1", "unparsable");
        let text = metrics.render(&KeyHistory::new(), 1_700_000_000, true);
        assert!(text.contains("keysync_polls_total 1\n"), "{text}");
        assert!(text.contains("keysync_poll_failures_total{reason=\"http_status\"} 1\n"));
        assert!(text.contains("keysync_last_success_timestamp_seconds 1700000000\n"));
        assert!(text.contains(
            "keysync_entries_skipped_total{participant=\"dfsp\\\"1\",reason=\"unparsable\"} 1\n"
        ));
        assert!(text.contains("keysync_ready 1\n"));
    }
}
