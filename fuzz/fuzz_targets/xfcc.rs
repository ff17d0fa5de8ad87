//! The `x-forwarded-client-cert` reader and the identity parsers behind the filter's
//! client certificate binding: any text gives an element or an error, within the
//! header's size limit, and a parsed identity prints back to one that parses equal.
#![no_main]

use fspiop_guard_core::pki::identity::{Identity, common_names_of_dn};
use fspiop_guard_envoy_filter::peer::xfcc::{MAX_ELEMENTS, MAX_XFCC_BYTES, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = read(text) {
        assert!(text.len() <= MAX_XFCC_BYTES);
        assert!((1..=MAX_ELEMENTS).contains(&header.elements));
        if let Some(subject) = &header.last.subject {
            let _ = common_names_of_dn(subject);
        }
    }
    let _ = common_names_of_dn(text);
    if let Ok(identity) = Identity::parse(text) {
        assert_eq!(Identity::parse(&identity.to_string()), Ok(identity));
    }
});
