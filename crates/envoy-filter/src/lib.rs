//! proxy-wasm HTTP filter that verifies FSPIOP JWS signatures at the edge.
//!
//! The modules outside `glue` hold every decision and build natively, so they are
//! tested with plain `cargo test`; `glue` is the thin proxy-wasm layer, built only
//! for wasm32.

pub mod config;
pub mod peer;
pub mod policy;
pub mod signature;

#[cfg(target_arch = "wasm32")]
mod glue;
