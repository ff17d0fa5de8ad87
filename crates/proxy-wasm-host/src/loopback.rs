//! A call handler that forwards callouts to a real HTTP/1.1 server on loopback.
//!
//! Deliberately small: one blocking connection per call, `Connection: close`, a response
//! read to the end and decoded from `Content-Length`, chunked transfer coding or EOF.
//! Only loopback addresses are accepted, so tests cannot reach other hosts.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::HostError;
use crate::host::CallHandler;
use crate::pairs::HeaderList;
use crate::types::{CallReply, CallRequest};

/// Maximum number of response bytes the forwarder reads (16 MiB).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Returns a handler that sends each callout to `base` (`http://127.0.0.1:PORT`,
/// `http://localhost:PORT` or `http://[::1]:PORT`) and replies with the server's
/// response. The callout's `:method`, `:path` and `:authority` (as `Host`) and its other
/// headers and body are sent. A connection, I/O or parse failure, or exceeding `timeout`
/// (real time, for the whole exchange), replies with `CallReply::Fail`.
///
/// Fails with `HostError::InvalidConfig` for a base that is not an `http://` loopback
/// address with a port.
pub fn loopback_handler(base: &str, timeout: Duration) -> Result<CallHandler, HostError> {
    let address = parse_base(base).ok_or_else(|| HostError::InvalidConfig {
        reason: format!("{base} is not an http:// loopback address with a port"),
    })?;
    Ok(Box::new(move |request: &CallRequest| {
        forward(address, timeout, request).unwrap_or(CallReply::Fail)
    }))
}

fn parse_base(base: &str) -> Option<SocketAddr> {
    let rest = base.strip_prefix("http://")?.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip: IpAddr = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?,
    };
    ip.is_loopback().then_some(SocketAddr::new(ip, port))
}

fn forward(address: SocketAddr, timeout: Duration, request: &CallRequest) -> Option<CallReply> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&address, timeout).ok()?;
    stream.write_all(&encode_request(request)).ok()?;
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || response.len() > MAX_RESPONSE_BYTES {
            break;
        }
        response.extend_from_slice(buf.get(..n)?);
    }
    parse_response(&response)
}

fn encode_request(request: &CallRequest) -> Vec<u8> {
    let header = |name: &str| request.header(name).unwrap_or_default();
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        header(":method"),
        header(":path"),
        header(":authority")
    )
    .into_bytes();
    for (name, value) in &request.headers {
        if name.starts_with(':')
            || matches!(name.as_str(), "host" | "content-length" | "connection")
        {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            request.body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&request.body);
    out
}

fn parse_response(response: &[u8]) -> Option<CallReply> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(response.get(..split)?).ok()?;
    let rest = response.get(split + 4..)?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers: HeaderList = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((
            name.trim().to_ascii_lowercase(),
            value.trim().as_bytes().to_vec(),
        ));
    }
    let value_of = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase())
    };
    let body = if value_of("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        decode_chunked(rest)?
    } else if let Some(len) = value_of("content-length") {
        rest.get(..len.parse::<usize>().ok()?)?.to_vec()
    } else {
        rest.to_vec()
    };
    headers.retain(|(key, _)| key != "transfer-encoding");
    Some(CallReply::Response {
        status,
        headers,
        body,
    })
}

fn decode_chunked(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(data.get(..line_end)?).ok()?;
        let size_hex = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        data = data.get(line_end + 2..)?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_loopback_bases_are_accepted() {
        assert!(parse_base("http://127.0.0.1:8080").is_some());
        assert!(parse_base("http://localhost:80/").is_some());
        assert!(parse_base("http://[::1]:9000").is_some());
        assert!(parse_base("http://10.0.0.1:80").is_none());
        assert!(parse_base("https://127.0.0.1:443").is_none());
        assert!(parse_base("http://127.0.0.1").is_none());
    }

    #[test]
    fn chunked_body_is_decoded() {
        let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let reply = parse_response(response).unwrap();
        assert_eq!(
            reply,
            CallReply::Response {
                status: 200,
                headers: Vec::new(),
                body: b"abcde".to_vec()
            }
        );
    }

    #[test]
    fn content_length_bounds_the_body() {
        let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nX-A: b\r\n\r\nnoEXTRA";
        let CallReply::Response {
            status,
            headers,
            body,
        } = parse_response(response).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(status, 404);
        assert_eq!(body, b"no".to_vec());
        assert!(headers.contains(&("x-a".to_string(), b"b".to_vec())));
    }
}
