//! One smoke session: a Lambda Runtime API (2018-06-01) and Extensions API (2020-01-01)
//! emulator on 127.0.0.1 and an ephemeral port, serving exactly one child process.
//!
//! The emulator answers one invocation, or one extension registration, and then the session
//! ends: the child is killed and reaped whatever happened, so no smoke test leaves a process
//! behind.

use std::collections::VecDeque;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tiny_http::{Header, Method, Request, Response, Server};

/// How many of the child's last output lines a failure shows.
pub const TAIL_LINES: usize = 20;

/// The request id of the one invocation.
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// The largest body a request may announce: Lambda's limit on a synchronous response and
/// payload (6 MB); a larger response fails the invocation as [`TOO_LARGE`].
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The error type Lambda gives an invocation whose response is over the limit.
const TOO_LARGE: &str = "Function.ResponseSizeTooLarge";

/// A response with its body in memory.
type Reply = Response<std::io::Cursor<Vec<u8>>>;

/// What the child must do in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A function: reach `/invocation/next` and answer the event.
    Function,
    /// An extension: register and reach `event/next`.
    Extension,
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The function answered with a response.
    Response,
    /// The function answered with a handled error (its `errorType`).
    HandledError(String),
    /// The extension registered and asked for its next event.
    Registered,
    /// The child reported `/runtime/init/error` (its `errorType`).
    InitError(String),
    /// The child exited (status) before it was done.
    Exited { status: String, initialized: bool },
    /// The time ran out (`initialized`: it had reached `/next`).
    Timeout { initialized: bool },
}

/// A finished session: how it ended, its times and the child's last output lines.
#[derive(Clone, Debug)]
pub struct Session {
    /// How it ended.
    pub ended: Ended,
    /// From the start of the process to its first `/next` (or `event/next`).
    pub init: Option<Duration>,
    /// From handing out the event to the answer.
    pub invoke: Option<Duration>,
    /// The child's last output lines (stdout and stderr together).
    pub tail: Vec<String>,
    /// The body of its answer (response or handled error).
    pub answer: Vec<u8>,
}

/// Where the session is.
struct State {
    role: Role,
    started: Instant,
    init: Option<Duration>,
    handed_out: Option<Instant>,
    invoke: Option<Duration>,
    ended: Option<Ended>,
    answer: Vec<u8>,
}

/// Runs `command` (the binary, or qemu and the binary) against a fresh emulator that hands it
/// `event`, for at most `timeout`. `env` is what Lambda sets, without the API address.
pub fn run(
    mut command: Command,
    role: Role,
    event: &[u8],
    env: &[(String, String)],
    timeout: Duration,
) -> anyhow::Result<Session> {
    let server = Server::http("127.0.0.1:0").map_err(|e| anyhow::anyhow!("starting the Runtime API emulator: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| anyhow::anyhow!("the Runtime API emulator has no TCP port"))?;
    let (reader, writer) = std::io::pipe()?;
    command
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {:?}: {e}", command.get_program()))?;
    // The parent's copies of the pipe's write end went with `command`'s Stdio; drop it so the
    // reader sees end of file when the child (and anything it started) is gone.
    drop(command);
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let reading = read_tail(reader, Arc::clone(&tail));
    let mut state = State {
        role,
        started,
        init: None,
        handed_out: None,
        invoke: None,
        ended: None,
        answer: Vec::new(),
    };
    let deadline = started + timeout;
    let ended = serve(&server, &mut child, &mut state, event, deadline);
    crate::process::stop(&mut child);
    // The pipe closes once the process group is gone; bounded, in case a grandchild escaped it.
    let waited = Instant::now();
    while !reading.is_finished() && waited.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let tail = tail.lock().map(|t| t.iter().cloned().collect()).unwrap_or_default();
    Ok(Session {
        ended,
        init: state.init,
        invoke: state.invoke,
        tail,
        answer: state.answer,
    })
}

/// Answers the child's requests until the session has an end.
fn serve(server: &Server, child: &mut Child, state: &mut State, event: &[u8], deadline: Instant) -> Ended {
    loop {
        if let Some(ended) = state.ended.take() {
            return ended;
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Requests it sent just before exiting still count (an init error, then exit).
            while let Ok(Some(request)) = server.try_recv() {
                handle(request, state, event, deadline);
            }
            if let Some(ended) = state.ended.take() {
                return ended;
            }
            return Ended::Exited {
                status: describe(status),
                initialized: state.init.is_some(),
            };
        }
        let now = Instant::now();
        if now >= deadline {
            return Ended::Timeout {
                initialized: state.init.is_some(),
            };
        }
        let wait = deadline.saturating_duration_since(now).min(Duration::from_millis(20));
        if let Ok(Some(request)) = server.recv_timeout(wait) {
            handle(request, state, event, deadline);
        }
    }
}

/// Answers one request as the Lambda service would.
fn handle(request: Request, state: &mut State, event: &[u8], deadline: Instant) {
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    let method = request.method().clone();
    let invocation = format!("/2018-06-01/runtime/invocation/{REQUEST_ID}/");
    if request.body_length().is_some_and(|length| length > MAX_BODY) {
        // The session ends here: nothing more is read from this connection.
        state.ended = Some(if path.starts_with(&invocation) {
            state.invoke = state.handed_out.map(|t| t.elapsed());
            Ended::HandledError(TOO_LARGE.to_owned())
        } else {
            Ended::InitError(TOO_LARGE.to_owned())
        });
        return refuse_oversized(request);
    }
    let Some((request, body)) = read_body(request, deadline) else {
        state.ended = Some(Ended::Timeout {
            initialized: state.init.is_some(),
        });
        return;
    };
    let response = match (&method, path.as_str()) {
        (Method::Get, "/2018-06-01/runtime/invocation/next") if state.role == Role::Function => {
            if state.handed_out.is_some() {
                // A second poll: the answer was given; the session is about to end. Not answered.
                return;
            }
            state.init = Some(state.started.elapsed());
            state.handed_out = Some(Instant::now());
            next_invocation(event)
        }
        (Method::Post, p) if p.starts_with(&invocation) => {
            let answer = &p[invocation.len()..];
            state.invoke = state.handed_out.map(|t| t.elapsed());
            state.ended = Some(match answer {
                "response" => Ended::Response,
                _ => Ended::HandledError(error_type(&request, &body)),
            });
            state.answer = body;
            accepted()
        }
        (Method::Post, "/2018-06-01/runtime/init/error") => {
            state.ended = Some(Ended::InitError(error_type(&request, &body)));
            accepted()
        }
        (Method::Post, "/2020-01-01/extension/register") => register(&request),
        (Method::Get, "/2020-01-01/extension/event/next") => {
            state.init = Some(state.started.elapsed());
            if state.role == Role::Extension {
                state.ended = Some(Ended::Registered);
            }
            shutdown_event()
        }
        (Method::Post, "/2020-01-01/extension/init/error") => {
            state.ended = Some(Ended::InitError(error_type(&request, &body)));
            accepted()
        }
        // Logs and Telemetry API subscriptions: accepted, nothing is sent.
        (Method::Put, p) if p.ends_with("/logs") || p.ends_with("/telemetry") => {
            Response::from_string("OK").with_status_code(200)
        }
        _ => Response::from_string("{\"errorMessage\":\"not found\"}").with_status_code(404),
    };
    let _ = request.respond(response);
}

/// The request's body (at most [`MAX_BODY`]), read by a helper thread so that a client that
/// announces a body and stops sending it cannot hold the session past its deadline (the socket
/// has no timeout of its own); `None` at the deadline. The helper ends when the child is killed
/// and its socket closes.
fn read_body(request: Request, deadline: Instant) -> Option<(Request, Vec<u8>)> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut request = request;
        let mut body = Vec::new();
        let _ = request.as_reader().take(MAX_BODY as u64).read_to_end(&mut body);
        let _ = sender.send((request, body));
    });
    receiver
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// Refuses a request whose announced body is over [`MAX_BODY`] with Lambda's 413, without
/// reading it. tiny_http discards an unread body when the request is dropped by allocating a
/// buffer of its whole announced length (a `Content-Length: 1000000000000` aborts the process)
/// and reading it all (a client that stops sending hangs), so the connection is taken over and
/// deliberately leaked: its socket is closed when the session kills the child, and the one
/// parked connection thread costs nothing further.
fn refuse_oversized(request: Request) {
    let message = format!(
        "{{\"errorMessage\":\"Exceeded maximum allowed payload size ({MAX_BODY} bytes).\",\"errorType\":\"RequestEntityTooLarge\"}}"
    );
    let length = message.len().to_string();
    let response = with_headers(
        Response::from_string(message).with_status_code(413),
        &[("Content-Length", &length)],
    );
    let stream = request.upgrade("close", response);
    std::mem::forget(stream);
}

/// The `/next` answer: the event and the headers the Lambda service sends with it.
fn next_invocation(event: &[u8]) -> Reply {
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() + 900_000)
        .unwrap_or_default();
    with_headers(
        Response::from_data(event.to_vec()),
        &[
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", REQUEST_ID),
            ("Lambda-Runtime-Deadline-Ms", &deadline_ms.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:smoke",
            ),
            (
                "Lambda-Runtime-Trace-Id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
            ),
        ],
    )
}

/// The `register` answer: an identifier and the function's description.
fn register(request: &Request) -> Reply {
    let name = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Lambda-Extension-Name"))
        .map(|h| h.value.as_str().to_owned())
        .unwrap_or_default();
    let body = serde_json::json!({"functionName": "smoke", "functionVersion": "$LATEST", "handler": "bootstrap"});
    with_headers(
        Response::from_data(body.to_string().into_bytes()),
        &[
            ("Content-Type", "application/json"),
            ("Lambda-Extension-Identifier", &format!("smoke-{name}")),
        ],
    )
}

/// The event that ends an extension's session.
fn shutdown_event() -> Reply {
    let body = serde_json::json!({"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": 0});
    with_headers(
        Response::from_data(body.to_string().into_bytes()),
        &[("Content-Type", "application/json")],
    )
}

fn accepted() -> Reply {
    Response::from_data(b"{\"status\":\"OK\"}".to_vec()).with_status_code(202)
}

/// `response` with these headers (a value that is no valid header value is left out).
fn with_headers(response: Reply, headers: &[(&str, &str)]) -> Reply {
    headers.iter().fold(response, |response, (name, value)| {
        match Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(header) => response.with_header(header),
            Err(()) => response,
        }
    })
}

/// The error's type: the `Lambda-Runtime-Function-Error-Type` header, else the body's
/// `errorType`, else `unknown`.
fn error_type(request: &Request, body: &[u8]) -> String {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Lambda-Runtime-Function-Error-Type"))
        .map(|h| h.value.as_str().to_owned())
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("errorType").and_then(|t| t.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// An exit status as people read it: `exit code 1`, `signal 6 (SIGABRT)`.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => status.to_string(),
    }
}

/// Keeps the last [`TAIL_LINES`] lines the child writes, on a thread of its own.
fn read_tail(reader: std::io::PipeReader, tail: Arc<Mutex<VecDeque<String>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(reader);
        let mut line = Vec::new();
        while matches!(lines.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(text);
            }
            line.clear();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child that asks for its event, then POSTs a response announcing `length` bytes,
    /// sends `sent` and stalls.
    fn responding(length: &str, sent: &str) -> Command {
        let script = format!(
            r#"
            port=${{AWS_LAMBDA_RUNTIME_API#*:}}
            exec 3<>/dev/tcp/127.0.0.1/$port
            printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n' >&3
            read -r status <&3
            exec 4<>/dev/tcp/127.0.0.1/$port
            printf 'POST /2018-06-01/runtime/invocation/{REQUEST_ID}/response HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{sent}' >&4
            sleep 60
            "#
        );
        let mut command = Command::new("bash");
        command.args(["-c", &script]);
        command
    }

    #[test]
    fn a_response_body_that_stops_coming_times_out_at_the_deadline() {
        // Before, the emulator read the body with no bound and waited for the child for good.
        let session = run(
            responding("2000", "0123456789"),
            Role::Function,
            b"{}",
            &[],
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(
            session.ended,
            Ended::Timeout { initialized: true },
            "{:?}",
            session.tail
        );
    }

    #[test]
    fn a_response_announcing_more_than_lambdas_limit_fails_the_invocation_without_reading_it() {
        let command = responding("1000000000000", "{\"a\":");
        // Before the bound, tiny_http's discarding of the unread body allocated 1 TB (abort);
        // a hang would end as a timeout instead.
        let session = run(command, Role::Function, b"{}", &[], Duration::from_secs(30)).unwrap();
        assert_eq!(
            session.ended,
            Ended::HandledError(TOO_LARGE.to_owned()),
            "{:?}",
            session.tail
        );
        assert!(session.init.is_some());
    }
}
