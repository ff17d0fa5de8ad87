//! Key history: which keys each participant has, and for how long they verify.
//!
//! A pure state machine. [`KeyHistory::apply`] takes what one successful MCM poll
//! offered and the current time, changes the history and returns [`Event`]s that
//! describe the changes. [`KeyHistory::expire`] retires keys whose overlap has passed. Nothing
//! here reads a clock or does I/O.
//!
//! Rules:
//! - A key is identified by its fingerprint (`kid`), never by `createdAt`, which MCM
//!   may omit or repeat.
//! - When MCM serves a new key for a participant, the previous key stays valid for
//!   `overlap_seconds` and then retires.
//! - An entry that offers no usable key changes nothing: the participant keeps the
//!   keys it had.
//! - A participant missing from a poll keeps its keys for `grace_seconds`, counted
//!   from the first poll that lacked it.
//! - A poll that lacks more than `max_removal_share` of the known participants starts
//!   and ends no grace period, because an empty or truncated response looks like that.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::KeyPolicy;
use crate::mcm::{Offer, OfferedKey};

/// One key of a participant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryKey {
    /// Fingerprint: base64url SHA-256 of the SPKI.
    pub kid: String,
    /// SPKI PEM.
    pub pem: String,
    /// When keysync first saw the key, Unix seconds.
    pub first_seen: i64,
    /// MCM's `createdAt` for the key, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<f64>,
    /// MCM's `validationState` when the key was last served.
    #[serde(default)]
    pub validation_state: String,
    /// Unix seconds after which the key no longer verifies; `None` for the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_after: Option<i64>,
}

/// Keys of one participant, newest first. The first key is the one MCM serves now,
/// unless the participant is missing from MCM.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub keys: Vec<HistoryKey>,
    /// First poll time at which MCM no longer listed the participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_since: Option<i64>,
}

impl Participant {
    /// Returns the newest key, which the key directory serves.
    pub fn current(&self) -> Option<&HistoryKey> {
        self.keys.first()
    }
}

/// The entries of one poll: one offer per participant that MCM listed.
pub type Poll = BTreeMap<String, Offer>;

/// A change the history made, for logs and metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A participant got its first key.
    Added { participant: String, kid: String },
    /// MCM serves a new key; the old one verifies until `retire_after`.
    Rotated {
        participant: String,
        old_kid: String,
        new_kid: String,
        retire_after: i64,
        /// Both keys carry the same or a decreasing `createdAt`, which PM4ML's
        /// mcm-client would not have noticed.
        created_at_not_newer: bool,
    },
    /// An entry offered no usable key; the participant keeps `kept` keys.
    Skipped {
        participant: String,
        reason: String,
        kind: &'static str,
        kept: usize,
    },
    /// MCM stopped listing a participant; its keys stay until `remove_after`.
    Missing {
        participant: String,
        remove_after: i64,
    },
    /// A missing participant is listed again.
    Returned { participant: String },
    /// A participant's grace period ended and its keys were dropped.
    Removed {
        participant: String,
        kids: Vec<String>,
    },
    /// A replaced key's overlap ended.
    Retired { participant: String, kid: String },
    /// A replaced key was dropped before its overlap ended, because the participant
    /// has more than `max_keys_per_participant` keys.
    Evicted { participant: String, kid: String },
    /// The poll lacked too many participants, so no grace period started or ended.
    RemovalHeldBack { absent: usize, known: usize },
}

/// Every participant's keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyHistory {
    pub participants: BTreeMap<String, Participant>,
}

impl KeyHistory {
    pub fn new() -> KeyHistory {
        KeyHistory::default()
    }

    /// Applies a successful poll at time `now` (Unix seconds).
    pub fn apply(&mut self, poll: &Poll, now: i64, policy: &KeyPolicy) -> Vec<Event> {
        let mut events = Vec::new();

        for (participant, offer) in poll {
            match offer {
                Offer::Key(key) => self.offer_key(participant, key, now, policy, &mut events),
                Offer::Unusable { reason, kind } => {
                    let kept = self
                        .participants
                        .get(participant)
                        .map_or(0, |p| p.keys.len());
                    events.push(Event::Skipped {
                        participant: participant.clone(),
                        reason: reason.clone(),
                        kind,
                        kept,
                    });
                }
            }
            // Listed, even with a bad entry, so not missing.
            if let Some(state) = self.participants.get_mut(participant)
                && state.missing_since.take().is_some()
            {
                events.push(Event::Returned {
                    participant: participant.clone(),
                });
            }
        }

        self.track_absent(poll, now, policy, &mut events);
        events.extend(self.expire(now));
        events
    }

    fn offer_key(
        &mut self,
        participant: &str,
        offered: &OfferedKey,
        now: i64,
        policy: &KeyPolicy,
        events: &mut Vec<Event>,
    ) {
        let state = self.participants.entry(participant.to_owned()).or_default();
        let new_key = HistoryKey {
            kid: offered.kid.clone(),
            pem: offered.pem.clone(),
            first_seen: now,
            created_at: offered.created_at,
            validation_state: offered.validation_state.as_str().to_owned(),
            retire_after: None,
        };

        let Some(current) = state.keys.first_mut() else {
            state.keys.push(new_key);
            events.push(Event::Added {
                participant: participant.to_owned(),
                kid: offered.kid.clone(),
            });
            return;
        };

        if current.kid == offered.kid {
            // Same key: MCM may have changed only the metadata. A current key that
            // was retiring (its participant went missing and came back) is current again.
            current.created_at = offered.created_at;
            current.validation_state = new_key.validation_state;
            current.retire_after = None;
            return;
        }

        let old_kid = current.kid.clone();
        let created_at_not_newer = matches!(
            (current.created_at, offered.created_at),
            (Some(old), Some(new)) if new <= old
        );
        let retire_after = now.saturating_add(policy.overlap_seconds);
        if current.retire_after.is_none_or(|at| at > retire_after) {
            current.retire_after = Some(retire_after);
        }

        // A key seen before (a rollback to a replaced key) moves back to the front.
        let earlier = state.keys.iter().position(|k| k.kid == offered.kid);
        let key = match earlier {
            Some(index) => {
                let mut key = state.keys.remove(index);
                key.retire_after = None;
                key.created_at = offered.created_at;
                key.validation_state = new_key.validation_state;
                key
            }
            None => new_key,
        };
        state.keys.insert(0, key);
        events.push(Event::Rotated {
            participant: participant.to_owned(),
            old_kid,
            new_kid: offered.kid.clone(),
            retire_after,
            created_at_not_newer,
        });

        while state.keys.len() > policy.max_keys_per_participant {
            if let Some(dropped) = state.keys.pop() {
                events.push(Event::Evicted {
                    participant: participant.to_owned(),
                    kid: dropped.kid,
                });
            }
        }
    }

    fn track_absent(&mut self, poll: &Poll, now: i64, policy: &KeyPolicy, events: &mut Vec<Event>) {
        let known = self.participants.len();
        let absent: Vec<String> = self
            .participants
            .keys()
            .filter(|p| !poll.contains_key(*p))
            .cloned()
            .collect();
        if absent.is_empty() {
            return;
        }
        if known > 0 && absent.len() as f64 / known as f64 > policy.max_removal_share {
            events.push(Event::RemovalHeldBack {
                absent: absent.len(),
                known,
            });
            return;
        }

        for participant in absent {
            let Some(state) = self.participants.get_mut(&participant) else {
                continue;
            };
            match state.missing_since {
                None => {
                    state.missing_since = Some(now);
                    events.push(Event::Missing {
                        participant: participant.clone(),
                        remove_after: now.saturating_add(policy.grace_seconds),
                    });
                }
                Some(since) if now >= since.saturating_add(policy.grace_seconds) => {
                    let kids = state.keys.iter().map(|k| k.kid.clone()).collect();
                    self.participants.remove(&participant);
                    events.push(Event::Removed { participant, kids });
                }
                Some(_) => {}
            }
        }
    }

    /// Drops replaced keys whose `retire_after` has passed at `now`.
    pub fn expire(&mut self, now: i64) -> Vec<Event> {
        let mut events = Vec::new();
        for (participant, state) in &mut self.participants {
            state.keys.retain(|key| {
                let expired = key.retire_after.is_some_and(|at| at <= now);
                if expired {
                    events.push(Event::Retired {
                        participant: participant.clone(),
                        kid: key.kid.clone(),
                    });
                }
                !expired
            });
        }
        self.participants.retain(|_, state| !state.keys.is_empty());
        events
    }

    /// Earliest `retire_after` of any key, to schedule the next [`KeyHistory::expire`].
    pub fn next_expiry(&self) -> Option<i64> {
        self.participants
            .values()
            .flat_map(|p| p.keys.iter())
            .filter_map(|k| k.retire_after)
            .min()
    }

    /// Number of keys over all participants.
    pub fn key_count(&self) -> usize {
        self.participants.values().map(|p| p.keys.len()).sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::mcm::ValidationState;

    const HOUR: i64 = 3600;
    const T0: i64 = 1_796_385_600;

    fn policy() -> KeyPolicy {
        KeyPolicy {
            overlap_seconds: 24 * HOUR,
            grace_seconds: 7 * 24 * HOUR,
            max_removal_share: 0.5,
            max_keys_per_participant: 4,
            ..KeyPolicy::default()
        }
    }

    fn key(kid: &str, created_at: Option<f64>) -> Offer {
        Offer::Key(OfferedKey {
            kid: kid.into(),
            pem: format!("pem of {kid}"),
            created_at,
            validation_state: ValidationState::Valid,
            notes: Vec::new(),
        })
    }

    fn unusable() -> Offer {
        Offer::Unusable {
            reason: "publicKey does not parse".into(),
            kind: "unparsable",
        }
    }

    fn poll(entries: &[(&str, Offer)]) -> Poll {
        entries
            .iter()
            .map(|(p, o)| ((*p).to_owned(), o.clone()))
            .collect()
    }

    fn kids(history: &KeyHistory, participant: &str) -> Vec<String> {
        history
            .participants
            .get(participant)
            .map(|p| p.keys.iter().map(|k| k.kid.clone()).collect())
            .unwrap_or_default()
    }

    /// Builds a history with dfsp1..dfsp4 on key "k-<name>".
    fn four_participants() -> KeyHistory {
        let mut history = KeyHistory::new();
        let entries: Vec<(String, Offer)> = (1..=4)
            .map(|i| (format!("dfsp{i}"), key(&format!("k-dfsp{i}"), Some(1.0))))
            .collect();
        history.apply(&entries.into_iter().collect(), T0, &policy());
        history
    }

    #[test]
    fn first_key_is_added() {
        let mut history = KeyHistory::new();
        let events = history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        assert_eq!(
            events,
            vec![Event::Added {
                participant: "dfsp1".into(),
                kid: "a".into()
            }]
        );
        assert_eq!(history.participants["dfsp1"].keys[0].first_seen, T0);
        assert_eq!(history.participants["dfsp1"].keys[0].retire_after, None);
    }

    #[test]
    fn same_key_again_changes_nothing() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        let before = history.clone();
        let events = history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0 + 60, &policy());
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(history, before);
    }

    #[test]
    fn rotation_keeps_old_key_for_the_overlap() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        let events = history.apply(&poll(&[("dfsp1", key("b", Some(2.0)))]), T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::Rotated {
                participant: "dfsp1".into(),
                old_kid: "a".into(),
                new_kid: "b".into(),
                retire_after: T0 + 60 + 24 * HOUR,
                created_at_not_newer: false,
            }]
        );
        assert_eq!(kids(&history, "dfsp1"), ["b", "a"]);
        assert_eq!(history.next_expiry(), Some(T0 + 60 + 24 * HOUR));

        // One second before the end of the overlap both keys are there; at the end the old one retires.
        assert!(history.expire(T0 + 59 + 24 * HOUR).is_empty());
        let events = history.expire(T0 + 60 + 24 * HOUR);
        assert_eq!(
            events,
            vec![Event::Retired {
                participant: "dfsp1".into(),
                kid: "a".into()
            }]
        );
        assert_eq!(kids(&history, "dfsp1"), ["b"]);
        assert_eq!(history.next_expiry(), None);
    }

    #[test]
    fn same_created_at_new_key_rotates() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(5.0)))]), T0, &policy());
        let events = history.apply(&poll(&[("dfsp1", key("b", Some(5.0)))]), T0 + 60, &policy());
        assert!(matches!(
            &events[..],
            [Event::Rotated {
                created_at_not_newer: true,
                ..
            }]
        ));
        assert_eq!(kids(&history, "dfsp1"), ["b", "a"]);
    }

    #[test]
    fn missing_created_at_still_rotates_by_fingerprint() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("switch", key("a", None))]), T0, &policy());
        assert!(
            history
                .apply(&poll(&[("switch", key("a", None))]), T0 + 60, &policy())
                .is_empty()
        );
        let events = history.apply(&poll(&[("switch", key("b", None))]), T0 + 120, &policy());
        assert!(matches!(
            &events[..],
            [Event::Rotated {
                created_at_not_newer: false,
                ..
            }]
        ));
    }

    #[test]
    fn two_rotations_keep_three_keys() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        history.apply(
            &poll(&[("dfsp1", key("b", Some(2.0)))]),
            T0 + HOUR,
            &policy(),
        );
        history.apply(
            &poll(&[("dfsp1", key("c", Some(3.0)))]),
            T0 + 2 * HOUR,
            &policy(),
        );
        assert_eq!(kids(&history, "dfsp1"), ["c", "b", "a"]);
        let retire: Vec<Option<i64>> = history.participants["dfsp1"]
            .keys
            .iter()
            .map(|k| k.retire_after)
            .collect();
        assert_eq!(retire, [None, Some(T0 + 26 * HOUR), Some(T0 + 25 * HOUR)]);
    }

    #[test]
    fn rollback_to_a_replaced_key_makes_it_current() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        history.apply(&poll(&[("dfsp1", key("b", Some(2.0)))]), T0 + 60, &policy());
        history.apply(
            &poll(&[("dfsp1", key("a", Some(3.0)))]),
            T0 + 120,
            &policy(),
        );
        assert_eq!(kids(&history, "dfsp1"), ["a", "b"]);
        assert_eq!(history.participants["dfsp1"].keys[0].retire_after, None);
        assert_eq!(
            history.participants["dfsp1"].keys[1].retire_after,
            Some(T0 + 120 + 24 * HOUR)
        );
    }

    #[test]
    fn too_many_keys_evicts_the_oldest() {
        let mut history = KeyHistory::new();
        for (i, kid) in ["a", "b", "c", "d"].iter().enumerate() {
            history.apply(
                &poll(&[("dfsp1", key(kid, None))]),
                T0 + i as i64,
                &policy(),
            );
        }
        let events = history.apply(&poll(&[("dfsp1", key("e", None))]), T0 + 10, &policy());
        assert!(events.contains(&Event::Evicted {
            participant: "dfsp1".into(),
            kid: "a".into()
        }));
        assert_eq!(kids(&history, "dfsp1"), ["e", "d", "c", "b"]);
    }

    #[test]
    fn unusable_entry_keeps_the_previous_key() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        let before = history.clone();
        let events = history.apply(&poll(&[("dfsp1", unusable())]), T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::Skipped {
                participant: "dfsp1".into(),
                reason: "publicKey does not parse".into(),
                kind: "unparsable",
                kept: 1
            }]
        );
        assert_eq!(history, before);
    }

    #[test]
    fn unusable_entry_of_a_new_participant_adds_nothing() {
        let mut history = KeyHistory::new();
        let events = history.apply(&poll(&[("dfsp9", unusable())]), T0, &policy());
        assert!(matches!(&events[..], [Event::Skipped { kept: 0, .. }]));
        assert!(history.participants.is_empty());
    }

    #[test]
    fn missing_participant_is_kept_for_the_grace_period() {
        let mut history = four_participants();
        let three = poll(&[
            ("dfsp1", key("k-dfsp1", Some(1.0))),
            ("dfsp2", key("k-dfsp2", Some(1.0))),
            ("dfsp3", key("k-dfsp3", Some(1.0))),
        ]);
        let events = history.apply(&three, T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::Missing {
                participant: "dfsp4".into(),
                remove_after: T0 + 60 + 7 * 24 * HOUR
            }]
        );
        assert_eq!(kids(&history, "dfsp4"), ["k-dfsp4"]);

        assert!(
            history
                .apply(&three, T0 + 59 + 7 * 24 * HOUR, &policy())
                .is_empty()
        );
        assert_eq!(kids(&history, "dfsp4"), ["k-dfsp4"]);

        let events = history.apply(&three, T0 + 60 + 7 * 24 * HOUR, &policy());
        assert_eq!(
            events,
            vec![Event::Removed {
                participant: "dfsp4".into(),
                kids: vec!["k-dfsp4".into()]
            }]
        );
        assert!(!history.participants.contains_key("dfsp4"));
    }

    #[test]
    fn returning_participant_ends_its_grace_period() {
        let mut history = four_participants();
        let all: Poll = (1..=4)
            .map(|i| (format!("dfsp{i}"), key(&format!("k-dfsp{i}"), Some(1.0))))
            .collect();
        let mut three = all.clone();
        three.remove("dfsp4");
        history.apply(&three, T0 + 60, &policy());
        let events = history.apply(&all, T0 + 120, &policy());
        assert_eq!(
            events,
            vec![Event::Returned {
                participant: "dfsp4".into()
            }]
        );
        assert_eq!(history.participants["dfsp4"].missing_since, None);
    }

    #[test]
    fn listed_with_a_bad_entry_is_not_missing() {
        let mut history = four_participants();
        let mut entries: Poll = (1..=3)
            .map(|i| (format!("dfsp{i}"), key(&format!("k-dfsp{i}"), Some(1.0))))
            .collect();
        entries.insert("dfsp4".into(), unusable());
        let events = history.apply(&entries, T0 + 60, &policy());
        assert!(matches!(&events[..], [Event::Skipped { kept: 1, .. }]));
        assert_eq!(history.participants["dfsp4"].missing_since, None);
    }

    #[test]
    fn empty_poll_is_held_back() {
        let mut history = four_participants();
        let before = history.clone();
        let events = history.apply(&Poll::new(), T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::RemovalHeldBack {
                absent: 4,
                known: 4
            }]
        );
        assert_eq!(history, before);

        // Even past the grace period, a held-back poll removes nothing.
        let events = history.apply(&Poll::new(), T0 + 30 * 24 * HOUR, &policy());
        assert_eq!(
            events,
            vec![Event::RemovalHeldBack {
                absent: 4,
                known: 4
            }]
        );
        assert_eq!(history.participants.len(), 4);
    }

    #[test]
    fn removal_share_boundary() {
        // Two of four missing is exactly the 0.5 share: allowed.
        let mut history = four_participants();
        let two = poll(&[
            ("dfsp1", key("k-dfsp1", Some(1.0))),
            ("dfsp2", key("k-dfsp2", Some(1.0))),
        ]);
        let events = history.apply(&two, T0 + 60, &policy());
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| matches!(e, Event::Missing { .. })));

        // Three of four missing is over it: held back.
        let mut history = four_participants();
        let one = poll(&[("dfsp1", key("k-dfsp1", Some(1.0)))]);
        let events = history.apply(&one, T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::RemovalHeldBack {
                absent: 3,
                known: 4
            }]
        );
    }

    #[test]
    fn held_back_poll_still_applies_rotations() {
        let mut history = four_participants();
        let events = history.apply(
            &poll(&[("dfsp1", key("new", Some(2.0)))]),
            T0 + 60,
            &policy(),
        );
        assert!(events.iter().any(|e| matches!(e, Event::Rotated { .. })));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::RemovalHeldBack { absent: 3, .. }))
        );
        assert_eq!(kids(&history, "dfsp1"), ["new", "k-dfsp1"]);
    }

    #[test]
    fn removal_share_of_one_never_holds_back() {
        let mut history = four_participants();
        let policy = KeyPolicy {
            max_removal_share: 1.0,
            ..policy()
        };
        let events = history.apply(&Poll::new(), T0 + 60, &policy);
        assert_eq!(events.len(), 4);
        assert!(events.iter().all(|e| matches!(e, Event::Missing { .. })));
    }

    #[test]
    fn single_participant_disappearing_is_held_back() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("switch", key("a", None))]), T0, &policy());
        let events = history.apply(&Poll::new(), T0 + 60, &policy());
        assert_eq!(
            events,
            vec![Event::RemovalHeldBack {
                absent: 1,
                known: 1
            }]
        );
    }

    #[test]
    fn expiry_during_mcm_outage_keeps_the_current_key() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.0)))]), T0, &policy());
        history.apply(&poll(&[("dfsp1", key("b", Some(2.0)))]), T0 + 60, &policy());
        // MCM is down for two days: only expire runs.
        history.expire(T0 + 48 * HOUR);
        assert_eq!(kids(&history, "dfsp1"), ["b"]);
    }

    #[test]
    fn zero_overlap_retires_at_once() {
        let policy = KeyPolicy {
            overlap_seconds: 0,
            ..policy()
        };
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", None))]), T0, &policy);
        let events = history.apply(&poll(&[("dfsp1", key("b", None))]), T0 + 60, &policy);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Retired { kid, .. } if kid == "a"))
        );
        assert_eq!(kids(&history, "dfsp1"), ["b"]);
    }

    #[test]
    fn serde_round_trip() {
        let mut history = KeyHistory::new();
        history.apply(&poll(&[("dfsp1", key("a", Some(1.5)))]), T0, &policy());
        history.apply(&poll(&[("dfsp1", key("b", None))]), T0 + 1, &policy());
        let text = serde_json::to_string(&history).unwrap();
        let back: KeyHistory = serde_json::from_str(&text).unwrap();
        assert_eq!(back, history);
    }
}
