//! Brand-checked reads of byte arrays and dates.
//!
//! `instanceof` and property getters can be faked from JavaScript: an object whose
//! prototype is `Uint8Array.prototype` passes `instanceof Uint8Array`, and a subclass can
//! override `length`. A JS exception thrown during such a read would unwind through the
//! wasm frames and leave a borrowed handle (a `KeyStore`) borrowed for good. So these
//! reads call the built-in getters and methods, which check the internal slots of their
//! receiver (ECMA-262 `ValidateTypedArray`, `thisTimeValue`), through `Reflect.apply` and
//! `Reflect.construct`, which catch.

use js_sys::{Array, Function, Object, Reflect, Symbol, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// The built-in functions the reads below call, looked up once per thread.
struct Intrinsics {
    /// The `Uint8Array` constructor.
    uint8_array: Function,
    /// Getter of `%TypedArray%.prototype[Symbol.toStringTag]`: the typed array's kind,
    /// or `undefined` for anything that is not a typed array.
    typed_array_kind: Function,
    /// Getters of `%TypedArray%.prototype.buffer`, `byteOffset` and `byteLength`.
    typed_array_buffer: Function,
    typed_array_byte_offset: Function,
    typed_array_byte_length: Function,
    /// Getter of `ArrayBuffer.prototype.byteLength`, which throws for anything else.
    array_buffer_byte_length: Function,
    /// `Date.prototype.getTime`, which throws for anything but a `Date`.
    date_get_time: Function,
}

thread_local! {
    static INTRINSICS: Option<Intrinsics> = Intrinsics::load().ok();
}

impl Intrinsics {
    fn load() -> Result<Intrinsics, JsValue> {
        let global: JsValue = js_sys::global().into();
        let uint8_array: Function = Reflect::get(&global, &"Uint8Array".into())?.dyn_into()?;
        let typed_array_prototype =
            Reflect::get_prototype_of(&Reflect::get(&uint8_array, &"prototype".into())?)?;
        let array_buffer = Reflect::get(&global, &"ArrayBuffer".into())?;
        let array_buffer_prototype: Object =
            Reflect::get(&array_buffer, &"prototype".into())?.dyn_into()?;
        let date = Reflect::get(&global, &"Date".into())?;
        let date_prototype = Reflect::get(&date, &"prototype".into())?;

        Ok(Intrinsics {
            typed_array_kind: getter(&typed_array_prototype, &Symbol::to_string_tag().into())?,
            typed_array_buffer: getter(&typed_array_prototype, &"buffer".into())?,
            typed_array_byte_offset: getter(&typed_array_prototype, &"byteOffset".into())?,
            typed_array_byte_length: getter(&typed_array_prototype, &"byteLength".into())?,
            array_buffer_byte_length: getter(&array_buffer_prototype, &"byteLength".into())?,
            date_get_time: Reflect::get(&date_prototype, &"getTime".into())?.dyn_into()?,
            uint8_array,
        })
    }
}

/// Returns the getter of an accessor property.
fn getter(object: &Object, name: &JsValue) -> Result<Function, JsValue> {
    let descriptor = Reflect::get_own_property_descriptor(object, name)?;
    Reflect::get(&descriptor, &"get".into())?.dyn_into()
}

/// Calls a built-in with `receiver` as `this` and no arguments; `None` when it throws.
fn apply(function: &Function, receiver: &JsValue) -> Option<JsValue> {
    Reflect::apply(function, receiver, &Array::new()).ok()
}

/// The outcome of reading a value as bytes.
pub enum Bytes {
    /// A fresh `Uint8Array` over the bytes of a genuine `Uint8Array` (a Node `Buffer`
    /// included) or `ArrayBuffer`.
    Genuine(Uint8Array),
    /// Not a genuine `Uint8Array` or `ArrayBuffer`, whatever its prototype claims.
    NotBytes,
    /// A genuine one that cannot be read, for example over a detached buffer.
    Unreadable,
}

/// Reads `value` as bytes through the built-in getters, without calling any JavaScript
/// the caller supplied.
pub fn bytes(value: &JsValue) -> Bytes {
    INTRINSICS.with(|intrinsics| {
        let Some(intrinsics) = intrinsics else {
            return Bytes::Unreadable;
        };

        let kind = apply(&intrinsics.typed_array_kind, value);
        if kind.as_ref().and_then(JsValue::as_string).as_deref() == Some("Uint8Array") {
            let (Some(buffer), Some(offset), Some(length)) = (
                apply(&intrinsics.typed_array_buffer, value),
                apply(&intrinsics.typed_array_byte_offset, value),
                apply(&intrinsics.typed_array_byte_length, value),
            ) else {
                return Bytes::Unreadable;
            };
            return construct(intrinsics, &Array::of3(&buffer, &offset, &length));
        }

        if apply(&intrinsics.array_buffer_byte_length, value).is_some() {
            return construct(intrinsics, &Array::of1(value));
        }
        Bytes::NotBytes
    })
}

fn construct(intrinsics: &Intrinsics, arguments: &Array) -> Bytes {
    match Reflect::construct(&intrinsics.uint8_array, arguments) {
        Ok(array) => Bytes::Genuine(array.unchecked_into()),
        Err(_) => Bytes::Unreadable,
    }
}

/// Returns the time of a genuine `Date` in milliseconds, or `None` for anything else.
pub fn date_millis(value: &JsValue) -> Option<f64> {
    INTRINSICS.with(|intrinsics| {
        let intrinsics = intrinsics.as_ref()?;
        apply(&intrinsics.date_get_time, value)?.as_f64()
    })
}
