//! JS-compatible JSON: parse, then both canonical serialisations; a canonical form must
//! parse again to the same canonical form.
#![no_main]

use fspiop_guard_core::json::{self, KeyOrder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits { max_bytes: 1 << 20, max_depth: 1000 };
    let Ok(parsed) = json::parse(text, &limits) else { return };
    for order in [KeyOrder::Sorted, KeyOrder::Insertion] {
        let once = json::stringify(&parsed.value, order);
        let again = json::parse(&once, &limits).map(|p| json::stringify(&p.value, order));
        assert_eq!(again.as_deref(), Ok(once.as_str()), "canonical form is not stable");
    }
});
