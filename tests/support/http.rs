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
