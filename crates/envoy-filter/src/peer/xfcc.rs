//! Reader of Envoy's `x-forwarded-client-cert` (XFCC) header.
//!
//! The header contains one element per proxy hop, separated by `,`. An element is a list
//! of `Key=value` pairs separated by `;`. Keys compare without case, and a value that
//! contains `,`, `;` or `=` is double-quoted, with `\"` for a quote inside. `Cert` and
//! `Chain` carry URL-encoded PEM; `DNS` may repeat.
//!
//! Only the last element describes the hop next to this proxy: a client can write the
//! earlier ones itself when the connection manager appends or forwards. The filter
//! therefore reads the last element alone, and only when the operator configured the
//! header as trusted.

/// Maximum header length read, in bytes. Envoy's default request header limit is 60 KiB, and a
/// `Chain` of three RSA 4096 certificates, URL-encoded, stays under 20 KiB.
pub const MAX_XFCC_BYTES: usize = 64 * 1024;

/// Maximum number of elements (proxy hops) read.
pub const MAX_ELEMENTS: usize = 16;

/// Maximum number of key-value pairs read in one element.
pub const MAX_PAIRS: usize = 64;

/// One hop of the header: what the proxy that terminated the client's TLS saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XfccElement {
    /// `By`: the URI SAN of the proxy that wrote the element.
    pub by: Option<String>,
    /// `Hash`: lower-case hex SHA-256 of the client's certificate.
    pub hash: Option<String>,
    /// `Cert`: the client's certificate as PEM, URL-decoded.
    pub cert: Option<String>,
    /// `Chain`: the client's certificate and chain as PEM, URL-decoded.
    pub chain: Option<String>,
    /// `Subject`: the client's subject DN (RFC 4514 form).
    pub subject: Option<String>,
    /// `URI`: the client's URI SAN.
    pub uri: Vec<String>,
    /// `DNS`: the client's DNS SANs.
    pub dns: Vec<String>,
}

/// An XFCC header value: how many elements it has, and the last one read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Xfcc {
    /// Number of elements (proxy hops).
    pub elements: usize,
    /// The last element, written by the proxy next to this one.
    pub last: XfccElement,
}

/// Reads an XFCC header value.
///
/// # Errors
/// A sentence naming what is wrong: the size, an unterminated quote, a pair without `=`,
/// a bad percent-escape, or too many elements or pairs.
pub fn read(header: &str) -> Result<Xfcc, String> {
    if header.len() > MAX_XFCC_BYTES {
        return Err(format!(
            "x-forwarded-client-cert of {} bytes is over the {MAX_XFCC_BYTES}-byte limit",
            header.len()
        ));
    }
    let elements = split_outside_quotes(header, b',')?;
    if elements.len() > MAX_ELEMENTS {
        return Err(format!(
            "x-forwarded-client-cert has {} elements; at most {MAX_ELEMENTS} hops are read",
            elements.len()
        ));
    }
    let last = elements.last().map_or("", |element| element.trim());
    if last.is_empty() {
        return Err("x-forwarded-client-cert has an empty last element".to_owned());
    }
    Ok(Xfcc {
        elements: elements.len(),
        last: parse_element(last)?,
    })
}

/// Reads the last element of an XFCC header value; see [`read`].
///
/// # Errors
/// As [`read`].
pub fn last_element(header: &str) -> Result<XfccElement, String> {
    read(header).map(|xfcc| xfcc.last)
}

fn parse_element(element: &str) -> Result<XfccElement, String> {
    let pairs = split_outside_quotes(element, b';')?;
    if pairs.len() > MAX_PAIRS {
        return Err(format!(
            "an x-forwarded-client-cert element has {} pairs; at most {MAX_PAIRS} are read",
            pairs.len()
        ));
    }
    let mut out = XfccElement::default();
    for pair in pairs {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!(
                "x-forwarded-client-cert pair {:?} has no '='",
                crate::policy::clip(pair, 64)
            ));
        };
        let value = unquote(value.trim())?;
        let set = |slot: &mut Option<String>, value: String| -> Result<(), String> {
            if slot.is_some() {
                return Err(format!(
                    "x-forwarded-client-cert key {key} appears twice in one element"
                ));
            }
            *slot = Some(value);
            Ok(())
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "by" => set(&mut out.by, value)?,
            "hash" => set(&mut out.hash, value)?,
            "cert" => set(
                &mut out.cert,
                percent_decode(&value, "x-forwarded-client-cert Cert")?,
            )?,
            "chain" => set(
                &mut out.chain,
                percent_decode(&value, "x-forwarded-client-cert Chain")?,
            )?,
            "subject" => set(&mut out.subject, value)?,
            "uri" => out.uri.push(value),
            "dns" => out.dns.push(value),
            // Keys added by later Envoy versions are skipped, as Envoy itself does.
            _ => {}
        }
    }
    Ok(out)
}

/// Splits on `separator` where it is not inside a double-quoted value.
fn split_outside_quotes(text: &str, separator: u8) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if byte == separator && !quoted => {
                parts.push(text.get(start..index).unwrap_or_default());
                start = index + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err("x-forwarded-client-cert has an unterminated quoted value".to_owned());
    }
    parts.push(text.get(start..).unwrap_or_default());
    Ok(parts)
}

/// Removes the quotes of a quoted value and turns `\"` back into `"`; returns other
/// values as they are.
///
/// Every other backslash is kept: Envoy quotes the subject DN without escaping it again,
/// so `\,` and `\+` inside it are the DN's own escapes (RFC 4514 section 2.4). Removing
/// them would turn a CN `evil,CN=payerfsp` into two CNs.
fn unquote(value: &str) -> Result<String, String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Ok(value.to_owned());
    };
    let Some(inner) = inner.strip_suffix('"') else {
        return Err(format!(
            "x-forwarded-client-cert value {:?} opens a quote it does not close",
            crate::policy::clip(value, 64)
        ));
    };
    Ok(inner.replace("\\\"", "\""))
}

/// Decodes `%XX` escapes of the value that `source` names. Envoy encodes every reserved
/// character of a PEM, so `+` is kept as it is.
pub(crate) fn percent_decode(value: &str, source: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let decoded = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok());
            let Some(decoded) = decoded else {
                return Err(format!(
                    "{source} has an invalid percent-escape at byte {index}"
                ));
            };
            out.push(decoded);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{source} does not decode to UTF-8 text"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_element_only() {
        let header = "By=spiffe://forged;Hash=00;Subject=\"CN=payerfsp\",\
                      By=spiffe://gateway;Hash=abcd;Subject=\"CN=payeefsp,O=Example\";URI=spiffe://dfsp;DNS=a.example;DNS=b.example";
        let element = last_element(header).unwrap();
        assert_eq!(element.by.as_deref(), Some("spiffe://gateway"));
        assert_eq!(element.hash.as_deref(), Some("abcd"));
        assert_eq!(element.subject.as_deref(), Some("CN=payeefsp,O=Example"));
        assert_eq!(element.uri, ["spiffe://dfsp"]);
        assert_eq!(element.dns, ["a.example", "b.example"]);
    }

    #[test]
    fn cert_is_url_decoded() {
        let header = "Hash=ab;Cert=\"-----BEGIN%20CERTIFICATE-----%0AMII%2B%2F%3D%0A-----END%20CERTIFICATE-----%0A\"";
        let element = last_element(header).unwrap();
        assert_eq!(
            element.cert.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nMII+/=\n-----END CERTIFICATE-----\n")
        );
    }

    #[test]
    fn keys_compare_without_case_and_quotes_protect_separators() {
        let element = last_element("hash=ab;SUBJECT=\"CN=a\\\"b;c,d\"").unwrap();
        assert_eq!(element.hash.as_deref(), Some("ab"));
        assert_eq!(element.subject.as_deref(), Some("CN=a\"b;c,d"));
    }

    #[test]
    fn subject_keeps_the_dn_escapes() {
        let element = last_element("Hash=ab;Subject=\"CN=evil\\,CN=payerfsp,O=x\"").unwrap();
        assert_eq!(
            element.subject.as_deref(),
            Some("CN=evil\\,CN=payerfsp,O=x")
        );
        let names = fspiop_guard_core::pki::identity::common_names_of_dn(
            element.subject.as_deref().unwrap(),
        );
        assert_eq!(names, ["evil,CN=payerfsp"]);
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason() {
        for (header, expected) in [
            ("Hash=ab;Subject=\"CN=x", "unterminated"),
            ("Hash", "no '='"),
            ("Hash=ab;Cert=%ZZ", "invalid percent-escape"),
            ("Hash=ab;Cert=%4", "percent-escape"),
            ("Hash=a;Hash=b", "twice"),
            ("Hash=a,", "empty last element"),
            ("Cert=%FF%FE", "UTF-8"),
        ] {
            let error = last_element(header).unwrap_err();
            assert!(error.contains(expected), "{header}: {error}");
        }
        assert_eq!(read("Hash=a,Hash=b").unwrap().elements, 2);
        let many = "Hash=a,".repeat(MAX_ELEMENTS) + "Hash=b";
        assert!(last_element(&many).unwrap_err().contains("elements"));
        let big = "x".repeat(MAX_XFCC_BYTES + 1);
        assert!(last_element(&big).unwrap_err().contains("limit"));
    }
}
