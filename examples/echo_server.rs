//! `wsc-echo-server`: the WebSocket echo server of the demo, the tests and
//! the benchmarks. Loopback only; a thread per connection (tungstenite,
//! blocking).
//!
//! Usage: `wsc-echo-server [--addr 127.0.0.1:1234]` (port 0 picks a free
//! one). Prints `listening on ADDR` once ready. Behaviour by request path:
//! - anything else: echo every message with its opcode, answer pings and
//!   close frames;
//! - `/status/NNN`: answer the handshake with HTTP status NNN (body
//!   `NNN Reason`, with Content-Length) and close; query parameters:
//!   `body=TEXT` (percent-decoded) instead, `retry-after=V` adds
//!   `Retry-After: V`, `retry-after-date=S` adds `Retry-After` as the HTTP
//!   date S seconds from now, `chunked=1` sends the body chunked;
//! - `/drop`: accept the handshake, then close TCP at once (no close
//!   frame);
//! - `/bad-accept`: answer 101 with a wrong `Sec-WebSocket-Accept`;
//! - `/headers`: first send the request headers as a JSON object (names
//!   lowercased), then echo;
//! - `/opcode`: answer each message with `text:<payload>` or
//!   `binary:<payload>` (a text message);
//! - `/report-pings`: echo, and answer each ping also with `ping:<payload>`;
//! - `/close/NNNN`: send a close frame with code NNNN, reason `bye`;
//! - `/ping`: right after the handshake send a ping with payload
//!   `hello-ping`, then echo;
//! - `/stall/MS`: after the handshake, read nothing for MS milliseconds
//!   (the client's send buffer fills), then read and discard everything;
//! - `/no-pong`: after the handshake, read and ignore everything (pings
//!   get no pong: a peer that is gone without closing TCP);
//! - `/silent`: accept TCP and never answer;
//! - `/push/COUNT/SIZE`: the server-push benchmark's feed: after the
//!   handshake, send COUNT text messages of SIZE bytes (at least 80, at
//!   most 64 KiB; a JSON object with the message's sequence number from 0
//!   in `"seq"`, padded to SIZE) as fast as the client takes them (TCP
//!   flow control holds the server back), then a close frame (1000);
//!   then read until the client closes;
//! - `/peer-address`: first send the client's address as this server sees
//!   it (`IP:PORT`, IPv6 in brackets) as a text message, then echo.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::time::Duration;
use tungstenite::Message;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket, WebSocketConfig};

fn main() {
    let mut addr = "127.0.0.1:1234".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--addr" => addr = args.next().expect("--addr needs a value"),
            "-h" | "--help" => {
                println!("usage: wsc-echo-server [--addr 127.0.0.1:1234]");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    raise_open_files_limit();
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let local = listener.local_addr().expect("local address");
    if !is_loopback(local.ip()) {
        eprintln!("refusing to listen on {local}: loopback addresses only");
        std::process::exit(2);
    }
    // std listens with a backlog of 128; listen() again raises it (Linux
    // caps it at net.core.somaxconn).
    // SAFETY: listen on the listener's own fd, which it keeps open.
    unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 4096) };
    println!("listening on {local}");
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let _ = serve(stream);
            });
    }
}

/// Raises the open-files soft limit to the hard limit (a connection is an
/// fd; the benchmarks and tests open thousands), as libwsc does for its
/// own process.
fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit fill or read the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

struct Head {
    path: String,
    headers: Vec<(String, String)>,
}

/// Reads the request head (up to the empty line, at most 64 KiB).
fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Head> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    let mut total = line.len();
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        total += n;
        if n == 0 || total > 64 * 1024 {
            return Err(std::io::Error::other("bad request head"));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    Ok(Head { path, headers })
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `/status/NNN[?query]`: refuses the handshake with that status (see the
/// module doc for the query), then closes.
fn refuse(stream: &mut TcpStream, code: &str, query: Option<&str>) -> std::io::Result<()> {
    let code: u16 = code.parse().unwrap_or(400);
    let reason = tungstenite::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut body = format!("{code} {reason}\n");
    let mut extra = String::new();
    let mut chunked = false;
    for pair in query.unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        match name {
            "body" => body = value.into_owned(),
            "retry-after" => extra += &format!("Retry-After: {value}\r\n"),
            "retry-after-date" => {
                let secs: u64 = value.parse().unwrap_or(1);
                let at = std::time::SystemTime::now() + Duration::from_secs(secs);
                extra += &format!("Retry-After: {}\r\n", httpdate::fmt_http_date(at));
            }
            "chunked" => chunked = value == "1",
            _ => {}
        }
    }
    let framed = if chunked {
        extra += "Transfer-Encoding: chunked\r\n";
        let (a, b) = body.split_at(body.len() / 2);
        format!("{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len())
    } else {
        extra += &format!("Content-Length: {}\r\n", body.len());
        body
    };
    write!(
        stream,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\n{extra}Connection: close\r\n\r\n{framed}"
    )
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?;
    // Bytes the client sent after its head (frames sent at once) stay in
    // the BufReader; hand them to tungstenite.
    let leftover = reader.buffer().to_vec();
    let mut stream = reader.into_inner();
    let path = head.path.split('?').next().unwrap_or("/").to_string();
    if path == "/silent" {
        let mut sink = [0u8; 1024];
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        while stream.read(&mut sink)? > 0 {}
        return Ok(());
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return refuse(&mut stream, code, head.path.split_once('?').map(|q| q.1));
    }
    let key = head
        .headers
        .iter()
        .find(|(n, _)| n == "sec-websocket-key")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let accept = if path == "/bad-accept" {
        derive_accept_key(b"not the client's key")
    } else {
        derive_accept_key(key.as_bytes())
    };
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    if path == "/drop" {
        return Ok(());
    }
    if let Some(ms) = path.strip_prefix("/stall/") {
        let ms: u64 = ms.parse().unwrap_or(1000).min(60_000);
        std::thread::sleep(Duration::from_millis(ms));
        let mut sink = vec![0u8; 1 << 16];
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        while stream.read(&mut sink)? > 0 {}
        return Ok(());
    }
    if let Some(spec) = path.strip_prefix("/push/") {
        let mut ws = WebSocket::from_partially_read(stream, leftover, Role::Server, None);
        return push(&mut ws, spec);
    }
    if path == "/no-pong" {
        let mut sink = [0u8; 4096];
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        while stream.read(&mut sink)? > 0 {}
        return Ok(());
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(64 * 1024)
        .max_message_size(Some(64 << 20));
    let mut ws = WebSocket::from_partially_read(stream, leftover, Role::Server, Some(config));
    if path == "/headers" {
        let fields: Vec<String> = head
            .headers
            .iter()
            .map(|(n, v)| format!("{}:{}", json_string(n), json_string(v)))
            .collect();
        ws.send(Message::text(format!("{{{}}}", fields.join(","))))
            .map_err(std::io::Error::other)?;
    }
    if path == "/peer-address" {
        let peer = ws.get_ref().peer_addr()?;
        ws.send(Message::text(peer.to_string()))
            .map_err(std::io::Error::other)?;
    }
    if path == "/ping" {
        ws.send(Message::Ping("hello-ping".into()))
            .map_err(std::io::Error::other)?;
    }
    if let Some(code) = path.strip_prefix("/close/") {
        let code: u16 = code.parse().unwrap_or(1000);
        let _ = ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: "bye".into(),
        }));
    }
    loop {
        let msg = match ws.read() {
            Ok(m) => m,
            Err(_) => return Ok(()),
        };
        let reply = match msg {
            Message::Text(t) if path == "/opcode" => {
                Some(Message::text(format!("text:{}", t.as_str())))
            }
            Message::Binary(b) if path == "/opcode" => {
                let mut v = b"binary:".to_vec();
                v.extend_from_slice(&b);
                Some(Message::Text(
                    String::from_utf8_lossy(&v).into_owned().into(),
                ))
            }
            Message::Text(t) => Some(Message::Text(t)),
            Message::Binary(b) => Some(Message::Binary(b)),
            Message::Ping(p) if path == "/report-pings" => {
                let mut v = b"ping:".to_vec();
                v.extend_from_slice(&p);
                Some(Message::Text(
                    String::from_utf8_lossy(&v).into_owned().into(),
                ))
            }
            _ => None,
        };
        if let Some(r) = reply {
            if ws.send(r).is_err() {
                return Ok(());
            }
        } else if ws.flush().is_err() {
            return Ok(());
        }
    }
}

/// `/push/COUNT/SIZE`: COUNT JSON text messages of SIZE bytes, then a
/// close frame; see the module docs.
fn push(ws: &mut WebSocket<TcpStream>, spec: &str) -> std::io::Result<()> {
    let mut parts = spec.split('/').map(|p| p.parse::<usize>().ok());
    let (Some(Some(count)), Some(Some(size)), None) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(std::io::Error::other("usage: /push/COUNT/SIZE"));
    };
    let size = size.clamp(80, 64 * 1024);
    let head = r#"{"e":"trade","s":"BTCUSDT","p":"27123.45","q":"0.0150","seq":"#;
    let mut template = format!("{head}0000000000,\"pad\":\"");
    let pad = size - template.len() - 2;
    template.push_str(&"x".repeat(pad));
    template.push_str("\"}");
    debug_assert_eq!(template.len(), size);
    let digits = head.len()..head.len() + 10;
    let mut buf = template.into_bytes();
    for seq in 0..count {
        // Right-aligned, spaces before it (JSON allows no leading zeros).
        let mut n = seq;
        for (i, d) in buf[digits.clone()].iter_mut().rev().enumerate() {
            *d = if n > 0 || i == 0 {
                b'0' + (n % 10) as u8
            } else {
                b' '
            };
            n /= 10;
        }
        let text = String::from_utf8(buf.clone()).map_err(std::io::Error::other)?;
        // `write` buffers (tungstenite's 128 KiB write buffer) and writes
        // when it is full: the socket gets large writes.
        ws.write(Message::text(text))
            .map_err(std::io::Error::other)?;
    }
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }));
    let _ = ws.flush();
    while ws.read().is_ok() {}
    Ok(())
}
