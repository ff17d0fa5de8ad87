//! MCM's `GET /api/dfsps/jwscerts` response as keysync reads it, then the key history.
//!
//! A usable entry's rewritten PEM parses back to the same kid, the same response applied
//! twice changes nothing, and an empty response removes no participant.
#![no_main]

use fspiop_guard_keysync::config::{KeyPolicy, ValidationPolicy};
use fspiop_guard_keysync::history::{Event, KeyHistory, Poll};
use fspiop_guard_keysync::mcm::{self, Offer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = mcm::parse_response(data, 256 * 1024) else {
        return;
    };
    let mut poll = Poll::new();
    for entry in &response.entries {
        let offer = mcm::offer(entry, ValidationPolicy::Ignore);
        if let Offer::Key(key) = &offer {
            let again = fspiop_guard_core::keys::parse_public_key(&key.pem)
                .unwrap_or_else(|error| panic!("rewritten PEM does not parse: {error}"));
            assert_eq!(again.key.kid(), key.kid, "rewritten PEM changed the key");
        }
        poll.insert(entry.participant.clone(), offer);
    }

    let policy = KeyPolicy::default();
    let mut history = KeyHistory::new();
    history.apply(&poll, 1_796_385_600, &policy);
    let before = history.clone();
    // The same response again changes nothing but reports its skipped entries again,
    // and an empty one is held back.
    let events = history.apply(&poll, 1_796_385_660, &policy);
    assert!(
        events.iter().all(|e| matches!(e, Event::Skipped { .. })),
        "the same response changed the history: {events:?}"
    );
    history.apply(&Poll::new(), 1_796_385_720, &policy);
    assert_eq!(history.participants.len(), before.participants.len());
});
