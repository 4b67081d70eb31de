//! Refused handshakes and the reconnect policy against a server this
//! project did not write: Debian's nginx on 127.0.0.1 (tests/common/nginx.rs:
//! its own configuration in a temporary folder, started and stopped by
//! PID), configured the way an API gateway refuses WebSocket upgrades:
//! `401` with a JSON body, `429` with `Retry-After: 1`, `503` with an
//! HTTP-date `Retry-After` (a maintenance window). The tests assert what a
//! user sees (the error's status, reason, headers and body; each
//! reconnect decision) and, from nginx's access log (`$msec` per request),
//! when each attempt reached the server. Skipped, saying so, only when
//! nginx is not installed (scripts/install-deps.sh installs it).

mod common;
#[path = "common/nginx.rs"]
mod nginx;

use common::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wsc::{Client, Context, ReconnectReason, Status};

/// The JSON body of the 401, as an exchange sends it.
const KEY_BODY: &str = r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#;
/// The JSON body of the 429.
const RATE_BODY: &str = r#"{"code":-1003,"msg":"Too many requests; retry later."}"#;
/// The body of the 503.
const MAINTENANCE_BODY: &str = "down for maintenance";
/// How far ahead of nginx's start the 503's `Retry-After` date lies.
const MAINTENANCE_AHEAD: Duration = Duration::from_secs(5);

/// nginx with the three refusing locations, and the 503's `Retry-After`
/// date (as seconds since the epoch).
fn nginx_or_skip(test: &str) -> Option<(nginx::Nginx, u64)> {
    if let Some(why) = nginx::missing() {
        eprintln!("SKIPPED {test}: {why}");
        return None;
    }
    let until = SystemTime::now() + MAINTENANCE_AHEAD;
    let until_s = until.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(until_s));
    // nginx's `return CODE "text"` sends the text as the body with the
    // location's default_type; `always` adds a header to error statuses.
    let locations = format!(
        r#"        location = /v1/stream {{
            default_type application/json;
            add_header WWW-Authenticate 'ApiKey realm="stream"' always;
            return 401 '{KEY_BODY}';
        }}
        location = /v1/busy {{
            default_type application/json;
            add_header Retry-After 1 always;
            return 429 '{RATE_BODY}';
        }}
        location = /v1/maintenance {{
            default_type text/plain;
            add_header Retry-After "{date}" always;
            return 503 '{MAINTENANCE_BODY}';
        }}"#
    );
    Some((nginx::Nginx::start_plain(&locations), until_s))
}

/// A client with a short backoff (50..100 ms), so that any longer delay
/// is the server's `Retry-After`.
fn client_for(url: &str) -> (Context, Client) {
    let ctx = Context::new().unwrap();
    let client = ctx.client(url).unwrap();
    client.set_reconnect_backoff(50, 100).unwrap();
    (ctx, client)
}

/// The times (seconds since the epoch) nginx logged a request for `uri`,
/// waiting up to 10 s for at least `n` of them (nginx writes a refusal's
/// line when it has sent it).
fn requests_logged(proxy: &nginx::Nginx, uri: &str, n: usize) -> Vec<f64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let times: Vec<f64> = proxy
            .access_log()
            .iter()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (t, _status, u) = (f.next()?, f.next()?, f.next()?);
                (u == uri).then(|| t.parse().expect("$msec"))
            })
            .collect();
        if times.len() >= n || std::time::Instant::now() >= deadline {
            return times;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nginx's 401 with a JSON body: the error names the status and shows the
/// body; the response has nginx's headers; the policy does not retry it.
#[test]
fn nginx_401_with_a_json_body_is_reported_whole_and_not_retried() {
    let Some((proxy, _)) = nginx_or_skip("nginx_401") else {
        return;
    };
    let (ctx, client) = client_for(&proxy.ws("/v1/stream"));
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let kinds: Vec<_> = seen.iter().map(|e| &e.kind).collect();
    let err = seen.iter().find(|e| is_error(e)).expect("an error");
    let (text, resp) = refusal_of(err);
    assert_eq!(text, format!("HTTP 401 Unauthorized: {KEY_BODY}"));
    assert_eq!(
        error_of(err).to_string(),
        format!("opening handshake refused: HTTP 401 Unauthorized: {KEY_BODY}")
    );
    assert_eq!((resp.status, resp.reason.as_str()), (401, "Unauthorized"));
    assert_eq!(resp.body, KEY_BODY.as_bytes());
    assert!(resp.body_complete, "nginx sent Content-Length");
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        resp.header("www-authenticate").as_deref(),
        Some(r#"ApiKey realm="stream""#)
    );
    assert_eq!(
        resp.header("content-length").as_deref(),
        Some(KEY_BODY.len().to_string().as_str())
    );
    assert!(
        resp.header("server")
            .is_some_and(|s| s.starts_with("nginx")),
        "{:?}",
        resp.headers
    );
    assert!(resp.head.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    assert!(resp.head.ends_with(b"\r\n\r\n"));

    let decision = seen.iter().position(is_reconnect).expect("a decision");
    let (delay, reason, _, text) = reconnect_of(&seen[decision]);
    assert_eq!((delay, reason), (0, ReconnectReason::Fatal), "{kinds:?}");
    assert_eq!(text, "not reconnecting: HTTP 401 is not retried");
    assert_eq!(client.status().unwrap(), Status::Closed);
    assert!(
        drain(&ctx, Duration::from_millis(500)).is_empty(),
        "no further attempt"
    );
    assert_eq!(
        requests_logged(&proxy, "/v1/stream", 1).len(),
        1,
        "nginx saw one request: {:?}",
        proxy.access_log()
    );
}

/// nginx's 429 with `Retry-After: 1`: every decision waits the server's
/// second (not the 50..100 ms backoff), and nginx sees the attempts at
/// least a second apart.
#[test]
fn nginx_429_retry_after_one_second_spaces_the_attempts() {
    let Some((proxy, _)) = nginx_or_skip("nginx_429") else {
        return;
    };
    let (ctx, client) = client_for(&proxy.ws("/v1/busy"));
    client.set_reconnect_max_attempts(2).unwrap();
    client.connect().unwrap();
    let mut decisions = Vec::new();
    let mut errors = Vec::new();
    // Three attempts: two reconnects, then the attempt limit (bounded).
    for _ in 0..3 {
        let seen = wait_for(&ctx, WAIT, is_reconnect);
        errors.extend(seen.iter().filter(|e| is_error(e)).map(refusal_of));
        decisions.push(reconnect_of(seen.last().unwrap()));
    }
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(errors.len(), 3, "{errors:?}");
    for (text, resp) in &errors {
        assert_eq!(
            text,
            &format!("HTTP 429 Too Many Requests (Retry-After: 1): {RATE_BODY}")
        );
        assert_eq!(
            (resp.status, resp.reason.as_str()),
            (429, "Too Many Requests")
        );
        assert_eq!(resp.header("retry-after").as_deref(), Some("1"));
        assert_eq!(resp.body, RATE_BODY.as_bytes());
        assert_eq!(
            resp.retry_after(SystemTime::now()),
            Some(Duration::from_secs(1))
        );
    }
    let reasons: Vec<_> = decisions.iter().map(|d| (d.0, d.1, d.2)).collect();
    assert_eq!(
        reasons,
        [
            (1000, ReconnectReason::RetryAfter, 1),
            (1000, ReconnectReason::RetryAfter, 2),
            (0, ReconnectReason::AttemptsExhausted, 2),
        ],
        "{decisions:?}"
    );
    assert_eq!(
        decisions[0].3,
        "reconnecting in 1000 ms (attempt 1 of 2): the server asked to retry after 1 s (HTTP 429 Retry-After)"
    );
    assert_eq!(client.status().unwrap(), Status::Closed);
    // What nginx saw: three requests, each at least the second after the
    // one before ($msec has millisecond resolution).
    let times = requests_logged(&proxy, "/v1/busy", 3);
    assert_eq!(times.len(), 3, "{:?}", proxy.access_log());
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (0.995..10.0).contains(&gap),
            "attempts {gap:.3} s apart at nginx: {times:?}"
        );
    }
}

/// nginx's 503 with `Retry-After` as an HTTP date (the end of a
/// maintenance window a few seconds ahead): the first decision waits
/// until that date, and nginx sees the next attempt no earlier; once the
/// date has passed, the next 503 falls back to the backoff.
#[test]
fn nginx_503_retry_after_an_http_date_waits_until_the_date() {
    let Some((proxy, until_s)) = nginx_or_skip("nginx_503") else {
        return;
    };
    let (ctx, client) = client_for(&proxy.ws("/v1/maintenance"));
    let before = SystemTime::now();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_reconnect);
    let after = SystemTime::now();
    let (text, resp) = refusal_of(seen.iter().find(|e| is_error(e)).expect("an error"));
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(until_s));
    assert_eq!(
        text,
        format!(
            "HTTP 503 Service Temporarily Unavailable (Retry-After: {date}): {MAINTENANCE_BODY}"
        )
    );
    // nginx's own reason phrase for 503.
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (503, "Service Temporarily Unavailable")
    );
    assert_eq!(resp.header("retry-after"), Some(date.clone()));
    assert_eq!(resp.header("content-type").as_deref(), Some("text/plain"));

    let until = UNIX_EPOCH + Duration::from_secs(until_s);
    let left_at = |t: SystemTime| until.duration_since(t).unwrap_or_default();
    assert!(
        left_at(after) >= Duration::from_millis(500),
        "nginx took too long to answer: the date {date} is {:?} away",
        left_at(after)
    );
    let (delay, reason, attempt, why) = reconnect_of(seen.last().unwrap());
    assert_eq!((reason, attempt), (ReconnectReason::RetryAfter, 1), "{why}");
    // The client read the date at some moment between `before` and
    // `after`; the delay is the time left then (whole milliseconds).
    let delay = Duration::from_millis(delay);
    assert!(
        delay + Duration::from_millis(5) >= left_at(after)
            && delay <= left_at(before) + Duration::from_millis(5),
        "delay {delay:?}, time left to {date}: {:?}..{:?} ({why})",
        left_at(after),
        left_at(before)
    );

    // The second attempt: at nginx no earlier than the date; refused
    // again, now with a date in the past, so the backoff decides.
    let (delay2, reason2, attempt2, why2) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    client.close(1000, "").unwrap();
    assert_eq!((reason2, attempt2), (ReconnectReason::Backoff, 2), "{why2}");
    assert!(delay2 <= 100, "{why2}");
    let times = requests_logged(&proxy, "/v1/maintenance", 2);
    assert!(times.len() >= 2, "{:?}", proxy.access_log());
    assert!(
        times[1] >= until_s as f64 - 0.001,
        "the second attempt reached nginx at {:.3}, before the date {until_s} ({date}): {times:?}",
        times[1]
    );
}
