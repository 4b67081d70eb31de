//! DNS resolution on a thread of its own, so that a slow resolver never
//! holds the context lock. Started on the first host name that needs it;
//! it ends when the context drops its request channel.

use crossbeam_channel::{Receiver, Sender, unbounded};
use mio::Waker;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

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
}

impl Resolver {
    pub(crate) fn new(waker: Arc<Waker>) -> Self {
        let (answers_tx, answers) = unbounded();
        Resolver {
            requests: None,
            answers_tx,
            answers,
            waker,
        }
    }

    /// Queues a look-up; the answer comes back through `answers` and wakes
    /// the poller.
    pub(crate) fn resolve(&mut self, req: Request) -> io::Result<()> {
        if self.requests.is_none() {
            let (tx, rx) = unbounded::<Request>();
            let answers = self.answers_tx.clone();
            let waker = self.waker.clone();
            std::thread::Builder::new()
                .name("wsc-resolver".into())
                .spawn(move || {
                    for r in rx.iter() {
                        let addrs = (r.host.as_str(), r.port)
                            .to_socket_addrs()
                            .map(|it| it.collect::<Vec<_>>());
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

    /// Lets the thread end after its current look-up.
    pub(crate) fn stop(&mut self) {
        self.requests = None;
    }
}
