//! The crypto seam on the JS side: signature arithmetic done by a JavaScript callback
//! (node:crypto, WebCrypto), with ring inside the wasm as the fallback.

use std::cell::Cell;

use fspiop_guard_core::crypto::{self, Algorithm, PublicKey, VerifyError};
use fspiop_guard_core::{RingVerifier, SignatureVerifier};
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen]
extern "C" {
    /// A crypto callback, called with its arguments directly instead of through an array.
    #[wasm_bindgen(extends = Function)]
    type VerifyCallback;

    /// `callback.call(this, alg, kid, spki, message, signature)`.
    #[wasm_bindgen(method, js_name = call, catch)]
    fn call_verify(
        callback: &VerifyCallback,
        this: &JsValue,
        alg: &str,
        kid: &str,
        spki: &Uint8Array,
        message: &Uint8Array,
        signature: &Uint8Array,
    ) -> Result<JsValue, JsValue>;
}

/// A [`SignatureVerifier`] that calls a JavaScript function first.
///
/// The function is called as `callback(alg, kid, spkiDer, message, signature)` with the
/// JOSE `alg` name, the key's fingerprint, and three `Uint8Array` views into the wasm
/// memory. The views are valid only during the call, so a callback that keeps one, or
/// calls back into the module, must copy them first (the npm package's entries do so for
/// every callback but their own synchronous node:crypto one). Creating a view costs a
/// fraction of copying into a fresh `Uint8Array`, whose backing store V8 allocates
/// outside its heap. The callback returns `true` or `false` for a verified or failed
/// signature, and anything else (or throws) when it cannot check this algorithm or key,
/// and ring then computes the result.
///
/// The engine-independent checks of [`crypto::precheck`] (key type and curve, RSA size,
/// signature length) always run here first, so an engine can change how fast a verdict
/// is reached but not which verdict it is.
pub struct JsVerifier<'a> {
    callback: Option<&'a Function>,
    /// Verifications the callback decided.
    pub by_callback: Cell<u32>,
    /// Verifications ring computed.
    pub by_ring: Cell<u32>,
}

impl<'a> JsVerifier<'a> {
    /// Creates a verifier that calls `callback`, or only ring when it is `None`.
    pub fn new(callback: Option<&'a Function>) -> Self {
        Self {
            callback,
            by_callback: Cell::new(0),
            by_ring: Cell::new(0),
        }
    }

    fn ask(
        &self,
        callback: &Function,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        // SAFETY: the views are dropped from this side before anything here allocates
        // again, and the callback contract above forbids the JS side to keep them or to
        // reenter the module, which is what could grow (and so detach) the memory.
        let (spki, message, signature) = unsafe {
            (
                Uint8Array::view(key.spki_der()),
                Uint8Array::view(message),
                Uint8Array::view(signature),
            )
        };
        callback
            .unchecked_ref::<VerifyCallback>()
            .call_verify(
                &JsValue::NULL,
                alg.name(),
                key.kid(),
                &spki,
                &message,
                &signature,
            )
            .ok()
            .and_then(|result| result.as_bool())
    }
}

impl SignatureVerifier for JsVerifier<'_> {
    fn verify(
        &self,
        key: &PublicKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        crypto::precheck(key, alg, signature)?;

        if let Some(callback) = self.callback
            && let Some(verified) = self.ask(callback, key, alg, message, signature)
        {
            self.by_callback
                .set(self.by_callback.get().saturating_add(1));
            return if verified {
                Ok(())
            } else {
                Err(VerifyError::BadSignature)
            };
        }
        self.by_ring.set(self.by_ring.get().saturating_add(1));
        RingVerifier.verify(key, alg, message, signature)
    }
}
