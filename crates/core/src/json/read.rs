//! Typed reading of small JSON documents, such as configuration and key sets, with
//! errors that name the member at fault by its path: `key_source.timeout_ms`,
//! `participants.payerfsp[0].kid`.
//!
//! The rules are those of serde's derived `Deserialize` on a struct:
//! - an object read with [`Node::fields`] must not repeat a listed field, and a
//!   field it does not list is an error unless [`Unknown::Skip`] is given;
//! - a map read with [`Node::entries`] gives every member in document order, a
//!   repeated key included;
//! - a string must be valid Unicode, so a lone surrogate escape such as `"\ud800"`
//!   is an error, except inside a skipped member, which is never read.
//!
//! ```
//! use fspiop_guard_core::json::read::{Unknown, parse_document};
//!
//! let document = parse_document(br#"{"source":{"timeout_ms":"5"}}"#, 16)?;
//! let root = document.root();
//! let fields = root.fields(&["source"], Unknown::Reject)?;
//! let source = fields.required("source")?;
//! let source_fields = source.fields(&["timeout_ms"], Unknown::Reject)?;
//! let error = source_fields.required("timeout_ms")?.number().unwrap_err();
//! assert_eq!(error.to_string(), "source.timeout_ms: expected a number, found a string");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::fmt::Write as _;

use super::parse::{Duplicates, parse_with};
use super::{JsString, JsonError, Limits, Value};

/// Parses a JSON document for typed reading. Unlike [`super::parse()`], a key
/// repeated in one object is kept as a second member, so [`Node::fields`] can reject
/// it and [`Node::entries`] can return it.
///
/// # Errors
/// [`JsonError::Syntax`] if `bytes` is not UTF-8 (at the first invalid byte) or not
/// JSON, and [`JsonError::TooDeep`] if arrays and objects nest deeper than
/// `max_depth`.
pub fn parse_document(bytes: &[u8], max_depth: usize) -> Result<Document, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|error| JsonError::Syntax {
        offset: error.valid_up_to(),
        message: "the text is not valid UTF-8",
    })?;
    let limits = Limits {
        max_bytes: text.len(),
        max_depth,
    };
    let parsed = parse_with(text, &limits, Duplicates::Keep)?;
    Ok(Document {
        value: parsed.value,
    })
}

/// A parsed document. Its objects may repeat a key, so it is read only through
/// [`Document::root`].
pub struct Document {
    value: Value,
}

impl Document {
    /// Returns the top-level value.
    pub fn root(&self) -> Node<'_> {
        Node {
            value: &self.value,
            path: Path::Root,
        }
    }
}

/// A value of a document, with its path from the top-level value.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    value: &'a Value,
    path: Path<'a>,
}

/// The location of a value in its document.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a JsString),
    Element(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.write(out);
                if !matches!(parent, Path::Root) {
                    out.push('.');
                }
                out.push_str(&name.to_string_lossy());
            }
            Path::Element(parent, index) => {
                parent.write(out);
                let _ = write!(out, "[{index}]");
            }
        }
    }

    fn to_text(self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// Whether [`Node::fields`] rejects or skips a member it does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// An unlisted member is an error that names it.
    Reject,
    /// An unlisted member is skipped, whatever its value.
    Skip,
}

/// A value of the wrong type or content, with its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// Dotted path of the value, with `[index]` for array elements, for example
    /// `keys.payerfsp[0].pem`. Empty for the top-level value.
    pub path: String,
    /// The problem with the value.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ReadError {}

impl<'a> Node<'a> {
    /// Returns the dotted path of this value, empty for the top-level value.
    pub fn path(&self) -> String {
        self.path.to_text()
    }

    /// Returns an error about this value.
    pub fn error(&self, message: impl Into<String>) -> ReadError {
        ReadError {
            path: self.path(),
            message: message.into(),
        }
    }

    fn type_error(&self, expected: &str) -> ReadError {
        let found = match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        self.error(format!("expected {expected}, found {found}"))
    }

    /// Reports whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Returns the string.
    ///
    /// # Errors
    /// The value is not a string, or contains a lone surrogate.
    pub fn string(&self) -> Result<String, ReadError> {
        let Value::String(text) = self.value else {
            return Err(self.type_error("a string"));
        };
        String::from_utf16(text.units()).map_err(|_| {
            self.error("the string contains a lone UTF-16 surrogate, which is not valid Unicode")
        })
    }

    /// Returns the boolean.
    ///
    /// # Errors
    /// The value is not `true` or `false`.
    pub fn boolean(&self) -> Result<bool, ReadError> {
        match self.value {
            Value::Bool(value) => Ok(*value),
            _ => Err(self.type_error("a boolean")),
        }
    }

    /// Returns the number, which is infinite for a literal beyond the range of
    /// doubles such as `1e400`.
    ///
    /// # Errors
    /// The value is not a number.
    pub fn number(&self) -> Result<f64, ReadError> {
        match self.value {
            Value::Number(value) => Ok(*value),
            _ => Err(self.type_error("a number")),
        }
    }

    /// Returns the elements of an array.
    ///
    /// # Errors
    /// The value is not an array.
    pub fn elements(&self) -> Result<impl Iterator<Item = Node<'_>>, ReadError> {
        let Value::Array(items) = self.value else {
            return Err(self.type_error("an array"));
        };
        Ok(items.iter().enumerate().map(|(index, value)| Node {
            value,
            path: Path::Element(&self.path, index),
        }))
    }

    /// Returns the members of an object read as a map, in document order. A key
    /// that appears twice is returned twice.
    ///
    /// # Errors
    /// The value is not an object, or a key contains a lone surrogate.
    pub fn entries(&self) -> Result<Vec<(String, Node<'_>)>, ReadError> {
        let Value::Object(object) = self.value else {
            return Err(self.type_error("an object"));
        };
        let mut entries = Vec::with_capacity(object.members.len());
        for (key, value) in &object.members {
            let node = Node {
                value,
                path: Path::Member(&self.path, key),
            };
            let name = String::from_utf16(key.units()).map_err(|_| {
                node.error("the key contains a lone UTF-16 surrogate, which is not valid Unicode")
            })?;
            entries.push((name, node));
        }
        Ok(entries)
    }

    /// Returns the members of an object read as a struct with the fields `names`.
    ///
    /// # Errors
    /// The value is not an object, repeats one of `names`, or has a member not in
    /// `names` while `unknown` is [`Unknown::Reject`].
    pub fn fields(
        &self,
        names: &'static [&'static str],
        unknown: Unknown,
    ) -> Result<Fields<'_>, ReadError> {
        let Value::Object(object) = self.value else {
            return Err(self.type_error("an object"));
        };
        let mut values: Vec<Option<Node<'_>>> = vec![None; names.len()];
        for (key, value) in &object.members {
            let node = Node {
                value,
                path: Path::Member(&self.path, key),
            };
            let slot = names
                .iter()
                .position(|name| key.eq_str(name))
                .and_then(|index| values.get_mut(index));
            match (slot, unknown) {
                (Some(slot @ None), _) => *slot = Some(node),
                (Some(Some(_)), _) => {
                    let name = key.to_string_lossy();
                    return Err(node.error(format!("duplicate field `{name}`")));
                }
                (None, Unknown::Skip) => {}
                (None, Unknown::Reject) => {
                    let name = key.to_string_lossy();
                    let expected = names.join("`, `");
                    return Err(node.error(format!(
                        "unknown field `{name}`, expected one of `{expected}`"
                    )));
                }
            }
        }
        Ok(Fields {
            object: *self,
            names,
            values,
        })
    }
}

/// The listed fields of an object, each present at most once.
pub struct Fields<'a> {
    object: Node<'a>,
    names: &'static [&'static str],
    values: Vec<Option<Node<'a>>>,
}

impl<'a> Fields<'a> {
    /// Returns the field `name` if the object has it, even when it is `null`.
    pub fn get(&self, name: &str) -> Option<Node<'a>> {
        let index = self.names.iter().position(|listed| *listed == name)?;
        self.values.get(index).copied().flatten()
    }

    /// Returns the field `name` unless it is missing or `null`, as serde reads an
    /// `Option` field.
    pub fn optional(&self, name: &str) -> Option<Node<'a>> {
        self.get(name).filter(|node| !node.is_null())
    }

    /// Returns the field `name`, which the object must have.
    ///
    /// # Errors
    /// The object has no member `name`.
    pub fn required(&self, name: &str) -> Result<Node<'a>, ReadError> {
        self.get(name)
            .ok_or_else(|| self.object.error(format!("missing field `{name}`")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const DEPTH: usize = 16;

    fn document(text: &str) -> Document {
        parse_document(text.as_bytes(), DEPTH).unwrap()
    }

    #[test]
    fn path_names_members_and_elements() {
        let document = document(r#"{"participants":{"payerfsp":[{"kid":1}]}}"#);
        let root = document.root();
        let participants = root.fields(&["participants"], Unknown::Reject).unwrap();
        let participants = participants.required("participants").unwrap();
        let entries = participants.entries().unwrap();
        let (name, keys) = &entries[0];
        assert_eq!(name, "payerfsp");
        let first = keys.elements().unwrap().next().unwrap();
        let kid = first.fields(&["kid"], Unknown::Reject).unwrap();
        let error = kid.required("kid").unwrap().string().unwrap_err();
        assert_eq!(error.path, "participants.payerfsp[0].kid");
        assert_eq!(error.message, "expected a string, found a number");
    }

    #[test]
    fn root_error_has_empty_path() {
        let document = document("[1]");
        let error = document.root().fields(&[], Unknown::Reject).err().unwrap();
        assert_eq!(error.path, "");
        assert_eq!(error.to_string(), "expected an object, found an array");
    }

    #[test]
    fn unknown_field_rejected_with_its_path() {
        let document = document(r#"{"a":1,"b":{"c":2}}"#);
        let root = document.root();
        let fields = root.fields(&["b"], Unknown::Skip).unwrap();
        let b = fields.required("b").unwrap();
        let error = b.fields(&["d", "e"], Unknown::Reject).err().unwrap();
        assert_eq!(error.path, "b.c");
        assert_eq!(error.message, "unknown field `c`, expected one of `d`, `e`");
    }

    #[test]
    fn duplicate_field_rejected() {
        let document = document(r#"{"a":1,"a":2}"#);
        let error = document
            .root()
            .fields(&["a"], Unknown::Reject)
            .err()
            .unwrap();
        assert_eq!(error.path, "a");
        assert_eq!(error.message, "duplicate field `a`");
    }

    #[test]
    fn duplicate_skipped_member_allowed() {
        let document = document(r#"{"a":1,"z":2,"z":"\ud800"}"#);
        let root = document.root();
        let fields = root.fields(&["a"], Unknown::Skip).unwrap();
        assert_eq!(fields.required("a").unwrap().number().unwrap(), 1.0);
    }

    #[test]
    fn map_keeps_repeated_keys_in_order() {
        let document = document(r#"{"x":1,"y":2,"x":3}"#);
        let root = document.root();
        let entries = root.entries().unwrap();
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["x", "y", "x"]);
        assert_eq!(entries[2].1.number().unwrap(), 3.0);
    }

    #[test]
    fn null_is_absent_for_optional_only() {
        let document = document(r#"{"a":null}"#);
        let root = document.root();
        let fields = root.fields(&["a", "b"], Unknown::Reject).unwrap();
        assert!(fields.optional("a").is_none());
        assert!(fields.get("a").unwrap().is_null());
        assert!(fields.get("b").is_none());
        assert_eq!(
            fields.required("b").err().unwrap().message,
            "missing field `b`"
        );
    }

    #[test]
    fn lone_surrogate_rejected_in_string_and_key() {
        let document = document(r#"{"a":"\ud800","\udc00":1}"#);
        let root = document.root();
        let entries = root.entries().err().unwrap();
        assert_eq!(entries.path, "\u{FFFD}");
        let fields = root.fields(&["a"], Unknown::Skip).unwrap();
        let error = fields.required("a").unwrap().string().unwrap_err();
        assert!(error.message.contains("lone UTF-16 surrogate"), "{error}");
    }

    #[test]
    fn invalid_utf8_names_offset() {
        let error = parse_document(b"{\"a\":\"\xff\"}", DEPTH).err().unwrap();
        assert_eq!(
            error,
            JsonError::Syntax {
                offset: 6,
                message: "the text is not valid UTF-8"
            }
        );
    }

    #[test]
    fn depth_limit_applies() {
        assert!(parse_document(b"[[1]]", 2).is_ok());
        assert_eq!(
            parse_document(b"[[[1]]]", 2).err().unwrap(),
            JsonError::TooDeep { max: 2 }
        );
    }

    #[test]
    fn type_errors_name_both_types() {
        let document = document(r#"[null,true,1,"s",[],{}]"#);
        let root = document.root();
        let nodes: Vec<Node<'_>> = root.elements().unwrap().collect();
        assert_eq!(
            nodes[0].boolean().unwrap_err().message,
            "expected a boolean, found null"
        );
        assert_eq!(
            nodes[1].number().unwrap_err().message,
            "expected a number, found a boolean"
        );
        assert_eq!(
            nodes[2].string().unwrap_err().message,
            "expected a string, found a number"
        );
        assert_eq!(
            nodes[3].elements().err().unwrap().message,
            "expected an array, found a string"
        );
        assert_eq!(
            nodes[4].entries().err().unwrap().message,
            "expected an object, found an array"
        );
        assert_eq!(nodes[5].string().unwrap_err().path, "[5]");
    }
}
