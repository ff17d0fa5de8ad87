//! Key-set documents as a key endpoint may serve them.
//!
//! A document that parses must round-trip: every loaded key is found again, by kid,
//! after the participants' keys are written out and parsed back.
#![no_main]

use fspiop_guard_core::keyset::{self, KeySetDocument, KeySetEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = keyset::parse(data, 64 * 1024) else {
        return;
    };
    let mut document = KeySetDocument::new(set.version.clone());
    for entry in set.store.all() {
        document.push(&entry.participant, KeySetEntry::pem(entry.key.to_pem()));
    }
    let again = keyset::parse(document.to_json().as_bytes(), usize::MAX)
        .unwrap_or_else(|error| panic!("re-encoded key set failed to parse: {error}"));
    for entry in set.store.all() {
        assert!(
            again
                .store
                .entries(&entry.participant)
                .iter()
                .any(|e| e.kid() == entry.kid()),
            "key {} of {:?} lost in the round trip",
            entry.kid(),
            entry.participant
        );
    }
});
