//! A tiny blocking HTTP/1.1 client over std's TcpStream, for talking to
//! the console and to chromedriver in tests (no client crate to compile).
//! One request per connection (`Connection: close`); bodies are read to
//! the end, or, for event streams, line by line.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The status line, the headers and a reader positioned at the body.
type Head = (u16, Vec<(String, String)>, BufReader<TcpStream>);

/// Sends one request and reads its status line and headers; returns them
/// with the reader positioned at the body. Panics on a transport error.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Head {
    try_send(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

/// [`send`], with a transport error returned instead.
fn try_send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Head> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    Ok((status, headers, r))
}

/// One whole request and response; panics on a transport error.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

/// [`request`], with a transport error returned instead (for a caller that
/// waits for a server to come up, or explains a failure better).
pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Reply> {
    let (status, headers, mut r) = try_send(addr, method, path, headers, body)?;
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = if chunked {
        dechunk(&mut r)?
    } else if let Some(n) = length {
        // Some servers (chromedriver) keep the connection open a while
        // after the body despite `Connection: close`.
        let mut b = vec![0; n];
        r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(std::io::Error::other)?
    } else {
        let mut b = String::new();
        r.read_to_string(&mut b)?;
        b
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Reads a chunked body to its end.
fn dechunk(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size)?;
        let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(out).map_err(std::io::Error::other)
}

/// An event stream being read: events as (event, id, data).
pub struct Events {
    reader: BufReader<TcpStream>,
    chunked: bool,
    pending: String,
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: serde_json::Value,
}

impl Events {
    /// Opens `path` as an event stream (status 200 expected).
    pub fn open(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Events {
        let (status, headers, reader) = send(addr, "GET", path, headers, None);
        assert_eq!(status, 200, "{path}");
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        Events {
            reader,
            chunked,
            pending: String::new(),
        }
    }

    /// More text of the stream.
    fn more(&mut self) -> bool {
        if self.chunked {
            let mut size = String::new();
            if self.reader.read_line(&mut size).unwrap_or(0) == 0 {
                return false;
            }
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                return false;
            };
            let mut chunk = vec![0; n + 2];
            if self.reader.read_exact(&mut chunk).is_err() || n == 0 {
                return false;
            }
            self.pending
                .push_str(std::str::from_utf8(&chunk[..n]).unwrap());
        } else {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return false;
            }
            self.pending.push_str(&line);
        }
        true
    }

    /// The next event (comments and `retry:` skipped); `None` at the end.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).unwrap());
                    }
                }
                if let Some(data) = data {
                    return Some(Event { event, id, data });
                }
            }
            if !self.more() {
                return None;
            }
        }
    }
}
