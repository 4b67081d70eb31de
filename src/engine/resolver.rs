//! DNS resolution on a thread of its own, so that a slow resolver never
//! holds the context lock. Started on the first host name that needs it;
//! it ends when the context stops it: joined when it is idle, so that it
//! has ended (and glibc has freed its per-thread resolver state) before
//! `wsc_context_free` returns; left to end by itself when it is inside a
//! look-up, which can take seconds.

use crossbeam_channel::{Receiver, Sender, unbounded};
use mio::Waker;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

pub(crate) struct Request {
    pub(crate) client_id: u64,
    pub(crate) generation: u64,
    pub(crate) host: String,
    pub(crate) port: u16,
}

pub(crate) struct Answer {
    pub(crate) client_id: u64,
    pub(crate) generation: u64,
    pub(crate) addrs: io::Result<Vec<SocketAddr>>,
}

pub(crate) struct Resolver {
    requests: Option<Sender<Request>>,
    answers_tx: Sender<Answer>,
    answers: Receiver<Answer>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
    /// Set by the thread while it takes a request and looks it up.
    busy: Arc<AtomicBool>,
    /// Set by `stop`: the thread takes no further request.
    stopping: Arc<AtomicBool>,
}

impl Resolver {
    pub(crate) fn new(waker: Arc<Waker>) -> Self {
        let (answers_tx, answers) = unbounded();
        Resolver {
            requests: None,
            answers_tx,
            answers,
            waker,
            thread: None,
            busy: Arc::new(AtomicBool::new(false)),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues a look-up; the answer comes back through `answers` and wakes
    /// the poller.
    pub(crate) fn resolve(&mut self, req: Request) -> io::Result<()> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(io::Error::other("the resolver thread ended"));
        }
        if self.requests.is_none() {
            let (tx, rx) = unbounded::<Request>();
            let answers = self.answers_tx.clone();
            let waker = self.waker.clone();
            let (busy, stopping) = (self.busy.clone(), self.stopping.clone());
            let thread = std::thread::Builder::new()
                .name("wsc-resolver".into())
                .spawn(move || {
                    for r in rx.iter() {
                        // busy before stopping is read (both SeqCst): either
                        // this sees stopping, or stop() sees busy.
                        busy.store(true, Ordering::SeqCst);
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        let addrs = (r.host.as_str(), r.port)
                            .to_socket_addrs()
                            .map(|it| it.collect::<Vec<_>>());
                        busy.store(false, Ordering::SeqCst);
                        let answer = Answer {
                            client_id: r.client_id,
                            generation: r.generation,
                            addrs,
                        };
                        if answers.send(answer).is_err() {
                            break;
                        }
                        let _ = waker.wake();
                    }
                })?;
            self.thread = Some(thread);
            self.requests = Some(tx);
        }
        self.requests
            .as_ref()
            .expect("started above")
            .send(req)
            .map_err(|_| io::Error::other("the resolver thread ended"))
    }

    /// Answers that arrived, without waiting.
    pub(crate) fn try_answer(&self) -> Option<Answer> {
        self.answers.try_recv().ok()
    }

    /// Ends the thread: it takes no further request. When it is idle, waits
    /// for it to end (at once: its channel is closed); when it is inside a
    /// look-up, lets it end by itself afterwards.
    pub(crate) fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.requests = None;
        if let Some(thread) = self.thread.take()
            && !self.busy.load(Ordering::SeqCst)
        {
            let _ = thread.join();
        }
    }
}
