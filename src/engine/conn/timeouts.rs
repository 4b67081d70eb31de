//! What a connection does when one of its timers fires: connect,
//! handshake and close timeouts, the ping interval, the pong timeout, the
//! reconnect delay, the heartbeat and the receive-idle timeout.

use super::{Conn, Env, State};
use crate::engine::timers::TimerKind;
use crate::error::{Error, Reason, TimeoutKind};
use std::time::Instant;

impl Conn {
    /// A timer of this client fired (already checked: same generation).
    pub(crate) fn timer(&mut self, env: &mut Env, kind: TimerKind) {
        match kind {
            TimerKind::Connect => {
                if matches!(
                    self.state,
                    State::Resolving | State::Connecting { .. } | State::Proxy(_) | State::Tls(_)
                ) {
                    let ms = self.opts.connect_timeout.as_millis();
                    let tried = match &self.state {
                        State::Connecting { race } => format!(" (tried {})", race.tried()),
                        _ => String::new(),
                    };
                    self.fail(
                        env,
                        Error::Timeout(Reason::new(
                            TimeoutKind::Connect,
                            format!("no connection within {ms} ms{tried}"),
                        )),
                    );
                }
            }
            TimerKind::Handshake => {
                // A refusal whose body is late: reported as the refusal
                // it is, with what came, not as a timeout.
                if let State::Handshaking(mid) = &mut self.state
                    && mid.get_mut().get_mut().expire_refusal()
                {
                    return self.drive(env);
                }
                if matches!(self.state, State::Handshaking(_)) {
                    let ms = self.opts.handshake_timeout.as_millis();
                    self.fail(
                        env,
                        Error::Timeout(Reason::new(
                            TimeoutKind::Handshake,
                            format!("no handshake response within {ms} ms"),
                        )),
                    );
                }
            }
            TimerKind::Close => {
                if matches!(self.state, State::Closing(_)) {
                    match self.peer_close.take().map(|b| *b) {
                        Some((code, reason)) => self.finish(env, None, code, reason, true),
                        None => {
                            let ms = self.opts.close_timeout.as_millis();
                            self.lost(env, Error::Timeout(Reason::new(
                                TimeoutKind::Close,
                                format!(
                                    "the server did not complete the closing handshake within {ms} ms"
                                ),
                            )));
                        }
                    }
                }
            }
            TimerKind::Ping => {
                if let State::Open(_) = self.state {
                    let _ = self.ping(env, &[]);
                    if let (State::Open(_), Some(iv)) = (&self.state, self.opts.ping_interval) {
                        env.timers.push(
                            Instant::now() + iv,
                            self.id,
                            self.generation,
                            TimerKind::Ping,
                        );
                    }
                }
            }
            TimerKind::Pong => {
                let (Some(since), Some(t)) = (self.ping_outstanding, self.opts.pong_timeout) else {
                    return;
                };
                if self.paused || self.throttled {
                    // Not reading: the pong may be waiting in the socket.
                    // Judge again a timeout later.
                    env.timers.push(
                        Instant::now() + t,
                        self.id,
                        self.generation,
                        TimerKind::Pong,
                    );
                    return;
                }
                if since.elapsed() >= t && matches!(self.state, State::Open(_) | State::Closing(_))
                {
                    let e = Error::Timeout(Reason::new(
                        TimeoutKind::Pong,
                        format!(
                            "no pong within {} ms of a ping: the server or the network is gone",
                            t.as_millis()
                        ),
                    ));
                    let reason = e.to_string();
                    self.finish(env, Some(e), 1006, reason, false);
                }
            }
            TimerKind::RefusalBody => {
                // The server refused the handshake and its body is late:
                // report the refusal with what came.
                if matches!(self.state, State::Handshaking(_)) {
                    self.drive(env);
                }
            }
            TimerKind::Reconnect => {
                if let State::ReconnectWait = self.state {
                    self.start(env);
                }
            }
            TimerKind::NextAttempt => {
                if let State::Connecting { .. } = self.state {
                    self.attempt_due(env);
                }
            }
            TimerKind::Heartbeat => self.heartbeat(env),
            TimerKind::Idle => self.idle_check(env),
        }
    }
}
