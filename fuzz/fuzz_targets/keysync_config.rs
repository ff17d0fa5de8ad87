//! keysync configuration files, TOML or YAML by the first byte: no panic, no hang.
#![no_main]

use fspiop_guard_keysync::config::{Config, FileFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = if selector % 2 == 0 {
        FileFormat::Toml
    } else {
        FileFormat::Yaml
    };
    let _ = Config::from_parts(Some((format, text)), &[]);
});
