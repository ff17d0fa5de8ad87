//! FSPIOP JWS verification core.
//!
//! No I/O and no clock: every function that depends on time takes it as an argument.

pub mod http;
pub mod request;
pub mod uri;
