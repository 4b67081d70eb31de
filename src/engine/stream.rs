//! The byte stream under tungstenite: plain TCP or native-tls over a
//! non-blocking mio socket, with byte counters and a recorder that keeps the
//! raw handshake response.

use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// The largest opening-handshake response head accepted, in bytes; a
/// server that sends more without ending its head is refused.
pub(crate) const MAX_RESPONSE_HEAD: usize = 64 * 1024;

pub(crate) enum Inner {
    Plain(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

/// A connection's stream as tungstenite sees it.
pub(crate) struct Stream {
    inner: Inner,
    /// While `Some`, every byte read is appended (the handshake response).
    pub(crate) record: Option<Vec<u8>>,
    /// Bytes read from the connection (after TLS decryption).
    pub(crate) bytes_read: u64,
    /// Bytes accepted by the connection for writing (before TLS encryption).
    pub(crate) bytes_written: u64,
}

impl Stream {
    pub(crate) fn new(inner: Inner) -> Self {
        Stream {
            inner,
            record: None,
            bytes_read: 0,
            bytes_written: 0,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            Inner::Plain(s) => s.read(buf)?,
            Inner::Tls(s) => s.read(buf)?,
        };
        self.bytes_read += n as u64;
        if let Some(rec) = &mut self.record {
            rec.extend_from_slice(&buf[..n]);
            let head_done = rec.windows(4).any(|w| w == b"\r\n\r\n");
            if rec.len() > MAX_RESPONSE_HEAD && !head_done {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the handshake response head exceeds {MAX_RESPONSE_HEAD} bytes"),
                ));
            }
        }
        Ok(n)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            Inner::Plain(s) => s.write(buf)?,
            Inner::Tls(s) => s.write(buf)?,
        };
        self.bytes_written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(s) => s.flush(),
            Inner::Tls(s) => s.flush(),
        }
    }
}
