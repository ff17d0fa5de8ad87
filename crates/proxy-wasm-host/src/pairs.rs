//! The proxy-wasm header map serialization.
//!
//! Layout, all integers u32 little-endian: the entry count `N`, then `N` pairs of
//! (key length, value length), then each key and value followed by one NUL byte. The
//! lengths exclude the NUL bytes. An empty map is zero bytes. Values are bytes, so
//! header values that are not UTF-8 survive a round trip.

/// Header entries in order, duplicates kept. Keys of maps the host owns are lower-case.
pub type HeaderList = Vec<(String, Vec<u8>)>;

/// Serializes `pairs` in the proxy-wasm map format; an empty list gives zero bytes.
pub fn serialize<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Vec<u8> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let data_len: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 10)
        .sum();
    let mut out = Vec::with_capacity(4 + data_len);
    out.extend_from_slice(&len_u32(pairs.len()).to_le_bytes());
    for (key, value) in pairs {
        out.extend_from_slice(&len_u32(key.as_ref().len()).to_le_bytes());
        out.extend_from_slice(&len_u32(value.as_ref().len()).to_le_bytes());
    }
    for (key, value) in pairs {
        out.extend_from_slice(key.as_ref());
        out.push(0);
        out.extend_from_slice(value.as_ref());
        out.push(0);
    }
    out
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Parses the proxy-wasm map format into raw key and value bytes.
///
/// Zero bytes is an empty map. Returns `None` when the data is truncated, a length runs
/// past the end, or a terminator is not NUL.
pub fn deserialize(data: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let count = usize::try_from(read_u32(data, 0)?).ok()?;
    let sizes_end = count.checked_mul(8)?.checked_add(4)?;
    if sizes_end > data.len() {
        return None;
    }
    let mut pairs = Vec::with_capacity(count);
    let mut cursor = sizes_end;
    for i in 0..count {
        let key_len = usize::try_from(read_u32(data, 4 + i * 8)?).ok()?;
        let value_len = usize::try_from(read_u32(data, 8 + i * 8)?).ok()?;
        let key = take_terminated(data, &mut cursor, key_len)?;
        let value = take_terminated(data, &mut cursor, value_len)?;
        pairs.push((key.to_vec(), value.to_vec()));
    }
    Some(pairs)
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn take_terminated<'a>(data: &'a [u8], cursor: &mut usize, len: usize) -> Option<&'a [u8]> {
    let end = cursor.checked_add(len)?;
    let bytes = data.get(*cursor..end)?;
    if *data.get(end)? != 0 {
        return None;
    }
    *cursor = end + 1;
    Some(bytes)
}

/// Parses map bytes the way Envoy does for hostcall arguments: keys are lower-cased and
/// malformed data yields an empty list rather than an error.
pub(crate) fn deserialize_lenient(data: &[u8]) -> HeaderList {
    deserialize(data)
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (lower_key(&key), value))
        .collect()
}

/// Lower-cases a header name the way Envoy's `LowerCaseString` does (ASCII only).
pub(crate) fn lower_key(key: &[u8]) -> String {
    String::from_utf8_lossy(key).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn single_pair_layout() {
        let bytes = serialize(&[(":method", "GET")]);
        let mut expected = vec![1, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0];
        expected.extend_from_slice(b":method\0GET\0");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn empty_map_is_zero_bytes() {
        let empty: [(&str, &str); 0] = [];
        assert!(serialize(&empty).is_empty());
        assert_eq!(deserialize(&[]), Some(Vec::new()));
    }

    #[test]
    fn round_trip_keeps_duplicates_and_binary_values() {
        let pairs = vec![
            ("a".to_string(), vec![0xff, 0x00, 0x80]),
            ("a".to_string(), b"second".to_vec()),
            ("empty".to_string(), Vec::new()),
        ];
        let parsed = deserialize(&serialize(&pairs)).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], (b"a".to_vec(), vec![0xff, 0x00, 0x80]));
        assert_eq!(parsed[1], (b"a".to_vec(), b"second".to_vec()));
        assert_eq!(parsed[2], (b"empty".to_vec(), Vec::new()));
    }

    #[test]
    fn truncated_data_is_rejected() {
        let bytes = serialize(&[("key", "value")]);
        for cut in 1..bytes.len() {
            assert_eq!(deserialize(&bytes[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn missing_terminator_is_rejected() {
        let mut bytes = serialize(&[("k", "v")]);
        let last = bytes.len() - 1;
        bytes[last] = b'x';
        assert_eq!(deserialize(&bytes), None);
    }

    #[test]
    fn huge_count_is_rejected_without_allocating() {
        assert_eq!(deserialize(&[0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn lenient_parse_lowercases_keys() {
        let parsed = deserialize_lenient(&serialize(&[("Content-Type", "x")]));
        assert_eq!(parsed, vec![("content-type".to_string(), b"x".to_vec())]);
        assert!(deserialize_lenient(b"garbage").is_empty());
    }
}
