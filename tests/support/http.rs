//! A small HTTP server on 127.0.0.1 for tests: fixed responses per path, a log of requests,
//! and a server that accepts connections but never answers.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: format!("status {status}").into_bytes(),
        }
    }
}

/// Serves `routes` (path → reply; anything else is 404, or `fallback` when set) until dropped.
pub struct Server {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    requests: Arc<Mutex<Vec<String>>>,
    pub url: String,
}

impl Server {
    pub fn start(routes: BTreeMap<String, Reply>, fallback: Option<Reply>) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let url = format!("http://{}", server.server_addr().to_ip().expect("an IP address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let server = Arc::clone(&server);
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let path = request.url().to_owned();
                    requests.lock().unwrap().push(path.clone());
                    let reply = routes
                        .get(&path)
                        .cloned()
                        .or_else(|| fallback.clone())
                        .unwrap_or(Reply::status(404));
                    let response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    let _ = request.respond(response);
                }
            })
        };
        Server {
            server,
            thread: Some(thread),
            requests,
            url,
        }
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections and never answers, until dropped.
pub struct Silent {
    _listener: TcpListener,
    pub url: String,
}

impl Silent {
    pub fn start() -> Self {
        // The kernel completes the handshake from the listen backlog; nobody ever reads.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        Silent {
            _listener: listener,
            url,
        }
    }
}

/// How a [`Faulty`] server misbehaves on a path it has no answer for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Sends its response headers one byte at a time, a byte every 200 ms.
    DripHeaders,
    /// Sends headers (a body up to the end of the connection) and 10 bytes, then nothing more.
    StallMidBody,
    /// Sends headers, then a body of 600 bytes, a byte every 200 ms.
    DripBody,
}

/// A server that answers the paths it is given and misbehaves on every other one; each
/// connection ends when the client hangs up, the server is dropped, or after two minutes.
pub struct Faulty {
    stop: Arc<std::sync::atomic::AtomicBool>,
    pub url: String,
}

impl Faulty {
    pub fn start(routes: BTreeMap<String, Vec<u8>>, how: Misbehaviour) -> Self {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let routes = Arc::new(routes);
        let flag = Arc::clone(&stop);
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let began = std::time::Instant::now();
            while !flag.load(Ordering::Relaxed) && began.elapsed() < std::time::Duration::from_secs(120) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                };
                let (routes, flag) = (Arc::clone(&routes), Arc::clone(&flag));
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    let _ = reader.read_line(&mut first);
                    let path = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let mut stream = stream;
                    if let Some(body) = routes.get(&path) {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
                        return;
                    }
                    // No length: the body runs until the connection closes, so no client can refuse it
                    // as too large up front.
                    let head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
                    let drip = |stream: &mut std::net::TcpStream, bytes: &[u8]| {
                        for byte in bytes {
                            if flag.load(Ordering::Relaxed) || stream.write_all(&[*byte]).is_err() {
                                return false;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(200));
                        }
                        true
                    };
                    let held = match how {
                        Misbehaviour::DripHeaders => drip(&mut stream, head),
                        Misbehaviour::StallMidBody => stream
                            .write_all(head)
                            .and_then(|_| stream.write_all(&[b'x'; 10]))
                            .is_ok(),
                        Misbehaviour::DripBody => stream.write_all(head).is_ok() && drip(&mut stream, &[b'x'; 600]),
                    };
                    // Hold the connection open (a stall) until the client or the test gives up.
                    let began = std::time::Instant::now();
                    while held && !flag.load(Ordering::Relaxed) && began.elapsed() < std::time::Duration::from_secs(120)
                    {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                });
            }
        });
        Faulty { stop, url }
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
