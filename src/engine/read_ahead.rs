//! Reads from the socket for tungstenite, in large pieces when data comes
//! in bulk, and without the last `recv` that only says "nothing more"
//! when the kernel already told us so.
//!
//! tungstenite reads into its input buffer at most `read_buffer_size`
//! bytes at a time (a few KiB for wsc, kept small so that 10,000 idle
//! connections fit): with 4 KiB a 1 MiB message took 256 `recv` calls, and on
//! loopback each small `recv` also makes the kernel send a window update
//! and push the peer's pending segments on this thread. While data comes
//! in bulk (a read filled the whole buffer asked for), the socket is read
//! into a 64 KiB buffer of the connection's own, from which tungstenite's
//! reads are served; the buffer is allocated only then and freed once
//! it is empty and the socket was drained, so an idle connection carries
//! none.
//!
//! Drained sockets: mio registers sockets edge-triggered. A `recv` on a
//! stream socket that returns fewer bytes than asked for has emptied the
//! kernel's receive queue at that moment (epoll(7), "for stream-oriented
//! files ... if read(2) returns a lower number of bytes, you can be sure of
//! having exhausted the read I/O space"), and any byte that arrives later
//! makes a new edge, so a new readiness event. The next read then answers
//! `WouldBlock` without asking the kernel (one `recv` less per wake-up).
//! The peer's FIN is different: a short read returns the data in front of
//! it, and the FIN (the next `recv` returning 0) raises no new edge when it
//! had already arrived before the readiness event was taken. So a short
//! read is trusted only in a read loop run for a readiness event that did
//! not include the FIN (`EPOLLRDHUP`/`EPOLLHUP`, mio's `is_read_closed`); a
//! FIN that arrives later makes an event of its own. It holds for plain
//! TCP only, not through TLS (OpenSSL returns one record at a time, a
//! short read says nothing about the socket); the caller says which it
//! is. The answer is given once: the connection's read loop reads until
//! `WouldBlock` before it waits again (`Conn::drive_open`), so it is
//! consumed in the same turn, and [`ReadAhead::begin`] clears it at the
//! start of every read loop, so a stale answer never hides data that
//! arrived after it. Outside such a loop (the handshake, `resume_recv`)
//! short reads are not trusted.

use std::io;

/// The size of the read-ahead buffer, in bytes.
const AHEAD: usize = 64 * 1024;

#[derive(Default)]
pub(crate) struct ReadAhead {
    /// The read-ahead buffer, while data comes in bulk or is left in it.
    buf: Option<Box<[u8]>>,
    /// The unread part of `buf`: `pos..len`.
    pos: usize,
    len: usize,
    /// The last read filled what it asked for: more is likely waiting.
    bulk: bool,
    /// The last `recv` drained the socket (plain TCP only): the next read
    /// answers `WouldBlock` without a system call.
    drained: bool,
    /// Short reads may be trusted in this read loop (see the module docs).
    trust_short_reads: bool,
}

impl ReadAhead {
    /// Starts a read loop: forgets that the socket was drained (data may
    /// have come since) and says whether short reads may be trusted in it.
    pub(crate) fn begin(&mut self, trust_short_reads: bool) {
        self.drained = false;
        self.trust_short_reads = trust_short_reads;
    }

    /// Bytes received and not yet handed out.
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.len - self.pos
    }

    /// Reads into `out` from what is buffered, else from `src` (the socket,
    /// through TLS or not; `short_means_drained` for plain TCP).
    pub(crate) fn read(
        &mut self,
        out: &mut [u8],
        short_means_drained: bool,
        mut src: impl FnMut(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pos < self.len {
            return Ok(self.hand_out(out));
        }
        if self.drained {
            self.drained = false;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if !self.bulk || out.len() >= AHEAD {
            self.buf = None;
            let n = src(out)?;
            self.bulk = n == out.len();
            self.drained = short_means_drained && self.trust_short_reads && n > 0 && n < out.len();
            return Ok(n);
        }
        let buf = self
            .buf
            .get_or_insert_with(|| vec![0u8; AHEAD].into_boxed_slice());
        let n = match src(buf) {
            Ok(n) => n,
            Err(e) => {
                // The burst is over (WouldBlock) or the connection failed:
                // an idle connection keeps no buffer.
                self.bulk = false;
                self.buf = None;
                return Err(e);
            }
        };
        self.bulk = n == buf.len();
        self.drained = short_means_drained && self.trust_short_reads && n > 0 && n < buf.len();
        self.pos = 0;
        self.len = n;
        Ok(self.hand_out(out))
    }

    fn hand_out(&mut self, out: &mut [u8]) -> usize {
        let Some(buf) = &self.buf else { return 0 };
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&buf[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
            if !self.bulk {
                self.buf = None;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::ReadAhead;
    use std::collections::VecDeque;
    use std::io;

    /// A socket: chunks the kernel holds; `None` = WouldBlock. Counts recvs.
    struct Sock {
        data: VecDeque<u8>,
        recvs: usize,
    }

    impl Sock {
        fn new(n: usize) -> Sock {
            Sock {
                data: (0..n).map(|i| (i % 251) as u8).collect(),
                recvs: 0,
            }
        }

        fn recv(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.recvs += 1;
            if self.data.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = out.len().min(self.data.len());
            for b in out.iter_mut().take(n) {
                *b = self.data.pop_front().expect("counted");
            }
            Ok(n)
        }
    }

    /// Reads 4 KiB at a time (as tungstenite does) until WouldBlock.
    fn read_all(ra: &mut ReadAhead, sock: &mut Sock, plain: bool) -> Vec<u8> {
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match ra.read(&mut chunk, plain, |b| sock.recv(b)) {
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return got,
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn bulk_data_is_read_in_large_pieces_in_order_and_the_buffer_freed_after() {
        let mut sock = Sock::new(1 << 20);
        let mut ra = ReadAhead::default();
        ra.begin(true);
        let got = read_all(&mut ra, &mut sock, true);
        assert_eq!(got, Sock::new(1 << 20).data.into_iter().collect::<Vec<_>>());
        // One 4 KiB read, then 16 reads of 64 KiB (the last one short: the
        // socket is drained, no recv for the WouldBlock).
        assert_eq!(sock.recvs, 1 + 16, "recv calls");
        assert!(ra.buf.is_none(), "the buffer is freed once drained");
        assert_eq!(ra.buffered(), 0);
    }

    #[test]
    fn small_reads_use_no_buffer_and_a_short_read_saves_the_last_recv() {
        let mut sock = Sock::new(100);
        let mut ra = ReadAhead::default();
        ra.begin(true);
        assert_eq!(read_all(&mut ra, &mut sock, true).len(), 100);
        assert_eq!(
            sock.recvs, 1,
            "the short read told that the socket is empty"
        );
        assert!(ra.buf.is_none());
        // The answer is given once: new data is read on the next turn.
        sock.data.extend([1, 2, 3]);
        ra.begin(true);
        assert_eq!(read_all(&mut ra, &mut sock, true), vec![1, 2, 3]);
    }

    #[test]
    fn through_tls_a_short_read_says_nothing_and_the_socket_is_read_until_would_block() {
        let mut sock = Sock::new(100);
        let mut ra = ReadAhead::default();
        ra.begin(true);
        assert_eq!(read_all(&mut ra, &mut sock, false).len(), 100);
        assert_eq!(sock.recvs, 2);
    }

    #[test]
    fn without_trust_a_short_read_is_followed_by_a_recv() {
        // A readiness event with the peer's FIN, the handshake, resume_recv.
        let mut sock = Sock::new(100);
        let mut ra = ReadAhead::default();
        ra.begin(false);
        assert_eq!(read_all(&mut ra, &mut sock, true).len(), 100);
        assert_eq!(
            sock.recvs, 2,
            "the recv after the short read sees EOF or WouldBlock"
        );
        let mut sock = Sock::new(100);
        let mut ra = ReadAhead::default();
        assert_eq!(read_all(&mut ra, &mut sock, true).len(), 100);
        assert_eq!(sock.recvs, 2, "not trusted before the first read loop");
    }

    #[test]
    fn a_burst_that_ends_with_would_block_frees_the_buffer() {
        let mut sock = Sock::new(4096 * 3);
        let mut ra = ReadAhead::default();
        let mut chunk = [0u8; 4096];
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 4096);
        assert_eq!(read_all(&mut ra, &mut sock, true).len(), 8192);
        assert!(ra.buf.is_none());
        // Exactly full reads until the socket is empty: WouldBlock ends it.
        let mut sock = Sock::new(4096);
        let mut ra = ReadAhead::default();
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 4096);
        assert!(ra.read(&mut chunk, true, |b| sock.recv(b)).is_err());
        assert!(ra.buf.is_none() && !ra.bulk);
    }

    #[test]
    fn begin_clears_a_stale_answer() {
        let mut sock = Sock::new(10);
        let mut ra = ReadAhead::default();
        ra.begin(true);
        let mut chunk = [0u8; 4096];
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 10);
        // Data arrives; the next turn must read it, not answer WouldBlock.
        sock.data.extend([7u8; 5]);
        ra.begin(true);
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 5);
    }

    #[test]
    fn data_left_in_the_buffer_is_handed_out_before_the_socket_is_read() {
        let mut sock = Sock::new(70_000);
        let mut ra = ReadAhead::default();
        let mut chunk = [0u8; 4096];
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 4096);
        assert_eq!(ra.read(&mut chunk, true, |b| sock.recv(b)).unwrap(), 4096);
        assert_eq!(ra.buffered(), 65536 - 4096);
        // A turn ends early (e.g. paused); the next starts from the buffer.
        ra.begin(true);
        let rest = read_all(&mut ra, &mut sock, true);
        assert_eq!(rest.len(), 70_000 - 8192);
        assert_eq!(rest[0], (8192 % 251) as u8);
    }
}
