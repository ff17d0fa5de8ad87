//! FSPIOP JWS verification core.
//!
//! Verifies and produces the `FSPIOP-Signature` header of Mojaloop FSPIOP API requests:
//! a detached JWS over the body whose protected header binds `FSPIOP-URI`,
//! `FSPIOP-HTTP-Method`, `FSPIOP-Source`, `FSPIOP-Destination` and `Date`.
//!
//! No I/O and no clock: every function that depends on time takes it as an argument, so
//! the same code runs natively, in the proxy-wasm filter and in browsers.

pub mod b64;
pub mod body;
pub mod crypto;
pub mod diagnose;
pub mod header;
pub mod http;
pub mod httpdate;
pub mod json;
#[cfg(feature = "jwt")]
pub mod jwt;
pub mod keys;
pub mod keyset;
pub mod pki;
pub mod profile;
pub mod request;
pub mod rfc3339;
pub mod rules;
pub mod sign;
pub mod sorted_map;
pub mod uri;
pub mod verdict;
pub mod verify;

pub use crypto::{Algorithm, RingVerifier, SignatureVerifier};
pub use keys::KeyStore;
pub use profile::{PayloadForm, Profile};
pub use request::{Headers, Request};
pub use rules::RequestRules;
pub use verdict::{FspiopError, Reason, Verdict};
pub use verify::{BodyOrigin, VerifyContext, verify, verify_body_from};
