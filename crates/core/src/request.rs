//! The request model: method, request-target, header lines in wire order, and body.
//!
//! [`Headers::get`] reads header values the way the reference validator does. That validator
//! (`@mojaloop/sdk-standard-components`) receives Node's `req.headers`, which Node v20 builds from
//! the header lines as follows:
//!
//! - names are compared case-insensitively;
//! - leading and trailing spaces and tabs are stripped from each value;
//! - for the names in [`FIRST_VALUE_WINS`] the first line wins and later lines are dropped;
//! - `cookie` lines are joined with `"; "`;
//! - `set-cookie` lines stay a list;
//! - every other name, including all `FSPIOP-*` headers and `date`, is joined with `", "`.
//!
//! An empty value is falsy in JavaScript, so the validator treats it as absent.
//! [`Headers::get_present`] applies that rule.

use std::borrow::Cow;

/// Header names for which Node v20 keeps the first line's value and drops the later ones.
pub const FIRST_VALUE_WINS: [&str; 18] = [
    "content-type",
    "content-length",
    "user-agent",
    "referer",
    "host",
    "authorization",
    "proxy-authorization",
    "if-modified-since",
    "if-unmodified-since",
    "from",
    "location",
    "max-forwards",
    "retry-after",
    "etag",
    "last-modified",
    "server",
    "age",
    "expires",
];

/// An HTTP request in the form the verifier checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Request method as sent, for example `PUT`.
    pub method: String,
    /// Request-target as sent: the path and an optional `?query`.
    pub target: String,
    /// Header lines in wire order.
    pub headers: Headers,
    /// Body bytes, or `None` when the request has no body or an empty one.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// Returns the part of the request-target before the first `?`.
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((path, _)) => path,
            None => &self.target,
        }
    }

    /// Returns the part of the request-target after the first `?`, or `None` without a `?`.
    ///
    /// A target that ends with `?` has an empty query, `Some("")`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }
}

/// Header lines in wire order, with names as sent and values as characters.
///
/// Values read from bytes are latin1-decoded: byte `0xE9` becomes `'é'`, as in Node.
/// [`Headers::push`] stores a value as given. The parsers in [`crate::http`] strip the
/// surrounding spaces and tabs first, as Node's `rawHeaders` does, and [`Headers::get`]
/// strips them in any case. Names are compared ASCII case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    lines: Vec<HeaderLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct HeaderLine {
    name: String,
    value: String,
}

/// Rule by which Node combines the values of repeated header lines with one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DuplicateRule {
    KeepFirst,
    JoinWithComma,
    JoinWithSemicolon,
}

impl DuplicateRule {
    fn for_name(name: &str) -> Self {
        if name.eq_ignore_ascii_case("cookie") {
            DuplicateRule::JoinWithSemicolon
        } else if FIRST_VALUE_WINS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name))
        {
            DuplicateRule::KeepFirst
        } else {
            DuplicateRule::JoinWithComma
        }
    }
}

/// Strips the whitespace that Node's HTTP parser strips around a header value: spaces and tabs.
fn trim_header_whitespace(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

impl Headers {
    /// Creates an empty header list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one header line. The name and value are stored as given, without validation.
    pub fn push(&mut self, name: &str, value: &str) {
        self.lines.push(HeaderLine {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }

    /// Iterates over `(name, value)` pairs in wire order, exactly as stored.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines
            .iter()
            .map(|line| (line.name.as_str(), line.value.as_str()))
    }

    /// Returns the number of header lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Returns `true` when there are no header lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Returns the value Node's `req.headers[name]` would hold, or `None` when no line has this name.
    ///
    /// Each value is stripped of leading and trailing spaces and tabs. Repeated lines are
    /// combined by the rules in the module documentation. `set-cookie`, which Node keeps as a
    /// list, is joined with `", "` here; use [`Headers::get_all`] for the separate values.
    /// A single line is returned borrowed, without allocating.
    pub fn get(&self, lowercase_name: &str) -> Option<Cow<'_, str>> {
        let mut values = self.get_all(lowercase_name);
        let first = values.next()?;

        let separator = match DuplicateRule::for_name(lowercase_name) {
            DuplicateRule::KeepFirst => return Some(Cow::Borrowed(first)),
            DuplicateRule::JoinWithComma => ", ",
            DuplicateRule::JoinWithSemicolon => "; ",
        };

        let Some(second) = values.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut joined = String::with_capacity(first.len() + separator.len() + second.len());
        joined.push_str(first);
        joined.push_str(separator);
        joined.push_str(second);
        for value in values {
            joined.push_str(separator);
            joined.push_str(value);
        }
        Some(Cow::Owned(joined))
    }

    /// Returns the value like [`Headers::get`], but `None` also when that value is empty.
    ///
    /// This is JavaScript truthiness, which the reference validator uses to decide whether a
    /// header is present.
    pub fn get_present(&self, lowercase_name: &str) -> Option<Cow<'_, str>> {
        self.get(lowercase_name).filter(|value| !value.is_empty())
    }

    /// Iterates over the stripped values of every line with this name, in wire order.
    pub fn get_all<'a, 'n>(
        &'a self,
        lowercase_name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.lines
            .iter()
            .filter(move |line| line.name.eq_ignore_ascii_case(lowercase_name))
            .map(|line| trim_header_whitespace(&line.value))
    }

    /// Returns the number of lines with this name.
    pub fn count(&self, lowercase_name: &str) -> usize {
        self.get_all(lowercase_name).count()
    }

    /// Removes every line with this name.
    pub fn remove_all(&mut self, lowercase_name: &str) {
        self.lines
            .retain(|line| !line.name.eq_ignore_ascii_case(lowercase_name));
    }

    /// Replaces every line with this name by one line `name: value`.
    ///
    /// The new line takes the position of the first line it replaces, or goes last when
    /// no line had this name.
    pub fn set(&mut self, name: &str, value: &str) {
        let first_position = self
            .lines
            .iter()
            .position(|line| line.name.eq_ignore_ascii_case(name));
        self.remove_all(name);

        let line = HeaderLine {
            name: name.to_owned(),
            value: value.to_owned(),
        };
        match first_position {
            Some(position) => self.lines.insert(position, line),
            None => self.lines.push(line),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn headers_from(lines: &[(&str, &str)]) -> Headers {
        let mut headers = Headers::new();
        for (name, value) in lines {
            headers.push(name, value);
        }
        headers
    }

    #[test]
    fn get_strips_spaces_and_tabs() {
        let headers = headers_from(&[("X-A", " \t v a \t ")]);
        assert_eq!(headers.get("x-a").as_deref(), Some("v a"));
    }

    #[test]
    fn get_keeps_other_whitespace() {
        let headers = headers_from(&[("X-A", "\u{a0}v\r")]);
        assert_eq!(headers.get("x-a").as_deref(), Some("\u{a0}v\r"));
    }

    #[test]
    fn get_matches_names_case_insensitively() {
        let headers = headers_from(&[("FSPIOP-Source", "payerfsp")]);
        assert_eq!(headers.get("fspiop-source").as_deref(), Some("payerfsp"));
        assert_eq!(headers.get("FSPIOP-SOURCE").as_deref(), Some("payerfsp"));
    }

    #[test]
    fn get_absent_header_is_none() {
        let headers = headers_from(&[("Date", "x")]);
        assert_eq!(headers.get("fspiop-source"), None);
    }

    #[test]
    fn get_single_line_is_borrowed() {
        let headers = headers_from(&[("FSPIOP-Source", " payerfsp ")]);
        assert!(matches!(
            headers.get("fspiop-source"),
            Some(Cow::Borrowed("payerfsp"))
        ));
    }

    #[test]
    fn get_repeated_fspiop_source_joins_with_comma() {
        let headers = headers_from(&[("FSPIOP-Source", "payerfsp"), ("fspiop-source", "payerfsp")]);
        assert_eq!(
            headers.get("fspiop-source").as_deref(),
            Some("payerfsp, payerfsp")
        );
    }

    #[test]
    fn get_repeated_date_joins_with_comma() {
        let headers = headers_from(&[("Date", "a"), ("Date", "b"), ("DATE", "c")]);
        assert_eq!(headers.get("date").as_deref(), Some("a, b, c"));
    }

    #[test]
    fn get_join_keeps_empty_values() {
        let first_empty = headers_from(&[("X-E", ""), ("X-E", "b")]);
        let last_empty = headers_from(&[("X-F", "a"), ("X-F", " ")]);
        assert_eq!(first_empty.get("x-e").as_deref(), Some(", b"));
        assert_eq!(last_empty.get("x-f").as_deref(), Some("a, "));
    }

    #[test]
    fn get_repeated_cookie_joins_with_semicolon() {
        let headers = headers_from(&[("Cookie", "a=1"), ("cookie", "b=2")]);
        assert_eq!(headers.get("cookie").as_deref(), Some("a=1; b=2"));
    }

    #[test]
    fn get_set_cookie_joins_list_with_comma() {
        let headers = headers_from(&[("Set-Cookie", "s=1"), ("Set-Cookie", "s=2")]);
        assert_eq!(headers.get("set-cookie").as_deref(), Some("s=1, s=2"));
        let values: Vec<&str> = headers.get_all("set-cookie").collect();
        assert_eq!(values, ["s=1", "s=2"]);
    }

    #[test]
    fn get_first_value_wins_for_every_listed_name() {
        for name in FIRST_VALUE_WINS {
            let headers = headers_from(&[(name, " first "), (name, "second")]);
            assert_eq!(headers.get(name).as_deref(), Some("first"), "header {name}");
        }
    }

    #[test]
    fn get_first_value_wins_even_when_empty() {
        let headers = headers_from(&[("User-Agent", ""), ("User-Agent", "z")]);
        assert_eq!(headers.get("user-agent").as_deref(), Some(""));
    }

    #[test]
    fn get_first_value_wins_ignores_name_case() {
        let headers = headers_from(&[("Content-Type", "a"), ("content-type", "b")]);
        assert_eq!(headers.get("content-type").as_deref(), Some("a"));
    }

    #[test]
    fn get_present_treats_empty_as_absent() {
        let headers = headers_from(&[("FSPIOP-Source", "  ")]);
        assert_eq!(headers.get("fspiop-source").as_deref(), Some(""));
        assert_eq!(headers.get_present("fspiop-source"), None);
    }

    #[test]
    fn get_present_returns_non_empty_value() {
        let headers = headers_from(&[("FSPIOP-Source", "payerfsp")]);
        assert_eq!(
            headers.get_present("fspiop-source").as_deref(),
            Some("payerfsp")
        );
    }

    #[test]
    fn get_present_repeated_empty_lines_are_present() {
        let headers = headers_from(&[("FSPIOP-Source", ""), ("FSPIOP-Source", "")]);
        assert_eq!(headers.get_present("fspiop-source").as_deref(), Some(", "));
    }

    #[test]
    fn iter_keeps_wire_order_and_raw_values() {
        let headers = headers_from(&[("B", " 1 "), ("a", "2")]);
        let lines: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(lines, [("B", " 1 "), ("a", "2")]);
    }

    #[test]
    fn len_and_is_empty_count_lines() {
        let empty = Headers::new();
        let two = headers_from(&[("A", "1"), ("a", "2")]);
        assert!(empty.is_empty());
        assert_eq!(two.len(), 2);
        assert!(!two.is_empty());
    }

    #[test]
    fn count_ignores_name_case() {
        let headers = headers_from(&[("A", "1"), ("B", "2"), ("a", "3")]);
        assert_eq!(headers.count("a"), 2);
        assert_eq!(headers.count("c"), 0);
    }

    #[test]
    fn remove_all_drops_every_matching_line() {
        let mut headers = headers_from(&[("A", "1"), ("B", "2"), ("a", "3")]);
        headers.remove_all("a");
        let lines: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(lines, [("B", "2")]);
    }

    #[test]
    fn set_replaces_lines_at_first_position() {
        let mut headers = headers_from(&[("B", "1"), ("A", "2"), ("C", "3"), ("a", "4")]);
        headers.set("a", "new");
        let lines: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(lines, [("B", "1"), ("a", "new"), ("C", "3")]);
    }

    #[test]
    fn set_appends_missing_header() {
        let mut headers = headers_from(&[("B", "1")]);
        headers.set("A", "2");
        let lines: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(lines, [("B", "1"), ("A", "2")]);
    }

    #[test]
    fn target_splits_at_first_question_mark() {
        let request = Request {
            target: "/parties/MSISDN/1?a=1?b".to_owned(),
            ..Request::default()
        };
        assert_eq!(request.path(), "/parties/MSISDN/1");
        assert_eq!(request.query(), Some("a=1?b"));
    }

    #[test]
    fn request_without_query_has_none() {
        let request = Request {
            target: "/quotes".to_owned(),
            ..Request::default()
        };
        assert_eq!(request.path(), "/quotes");
        assert_eq!(request.query(), None);
    }

    #[test]
    fn request_with_trailing_question_mark_has_empty_query() {
        let request = Request {
            target: "/quotes?".to_owned(),
            ..Request::default()
        };
        assert_eq!(request.query(), Some(""));
    }
}
