//! Typed JavaScript errors: every failure reaches JS as an `Error` subclass with a stable
//! `code` and, for bad arguments, the `field` that was wrong.

use js_sys::{Error, RangeError, Reflect, TypeError};
use wasm_bindgen::{JsCast, JsValue};

/// Stable error codes, set as the `code` property of every thrown error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument has the wrong type or is missing (thrown as `TypeError`).
    InvalidArgument,
    /// An argument exceeds a size limit (thrown as `RangeError`).
    LimitExceeded,
    /// A key could not be parsed or used.
    InvalidKey,
    /// Signing failed.
    SignFailed,
    /// An `FSPIOP-Signature` value could not be decoded.
    InvalidSignatureHeader,
    /// A PEM or DER input could not be read as certificates or certificate requests.
    InvalidPem,
}

impl ErrorCode {
    /// Returns the code string, in Node's `ERR_*` style.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "ERR_FSPIOP_GUARD_INVALID_ARGUMENT",
            ErrorCode::LimitExceeded => "ERR_FSPIOP_GUARD_LIMIT_EXCEEDED",
            ErrorCode::InvalidKey => "ERR_FSPIOP_GUARD_INVALID_KEY",
            ErrorCode::SignFailed => "ERR_FSPIOP_GUARD_SIGN_FAILED",
            ErrorCode::InvalidSignatureHeader => "ERR_FSPIOP_GUARD_INVALID_SIGNATURE_HEADER",
            ErrorCode::InvalidPem => "ERR_FSPIOP_GUARD_INVALID_PEM",
        }
    }
}

/// An error on its way to JavaScript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingError {
    pub code: ErrorCode,
    /// The argument path, such as `request.headers["fspiop-source"]`.
    pub field: Option<String>,
    pub message: String,
    /// The core's reason code, when the core rejected the input.
    pub reason: Option<&'static str>,
}

impl BindingError {
    /// Creates the error for a wrong or missing argument.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidArgument,
            field: Some(field.to_owned()),
            message: format!("{field}: {}", message.into()),
            reason: None,
        }
    }

    /// Creates the error for an argument over a size limit.
    pub fn too_large(field: &str, length: usize, max: usize, unit: &str) -> Self {
        Self {
            code: ErrorCode::LimitExceeded,
            field: Some(field.to_owned()),
            message: format!("{field} is {length} {unit}, the limit is {max}"),
            reason: None,
        }
    }

    /// Creates the error for a failure that is not about one argument.
    pub fn other(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            message: message.into(),
            reason: None,
        }
    }
}

impl From<BindingError> for JsValue {
    fn from(error: BindingError) -> JsValue {
        let object: Error = match error.code {
            ErrorCode::InvalidArgument => TypeError::new(&error.message).unchecked_into(),
            ErrorCode::LimitExceeded => RangeError::new(&error.message).unchecked_into(),
            _ => Error::new(&error.message),
        };
        // Reflect.set on a fresh Error object only fails if the global Error was frozen.
        let _ = Reflect::set(&object, &"code".into(), &error.code.name().into());
        if let Some(field) = &error.field {
            let _ = Reflect::set(&object, &"field".into(), &field.into());
        }
        if let Some(reason) = error.reason {
            let _ = Reflect::set(&object, &"reason".into(), &reason.into());
        }
        object.into()
    }
}
