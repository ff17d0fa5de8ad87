//! The Envoy filter's plugin configuration, as Envoy or Istio delivers it.
//!
//! Any input must give a configuration or an error naming a field, never a panic.
#![no_main]

use fspiop_guard_envoy_filter::config::FilterConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = FilterConfig::from_json(data) {
        assert!(config.max_body_bytes > 0);
        assert!((400..=499).contains(&config.reject_status));
    }
});
