//! A recording proxy on 127.0.0.1 in front of a contract mock: every
//! request the plugin sends is checked by the mock against the vendor's
//! document (optionally after a faithful re-encoding the mock can read),
//! and the answer is the mock's own or, once the mock accepted the request,
//! one scripted from the vendor's documentation.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the plugin sent it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the proxy answers once the mock has seen the request.
pub enum After {
    /// The mock's own answer.
    Contract,
    /// This answer (status, headers, body) if the mock accepted the request.
    Reply(u16, Vec<(String, String)>, String),
}

/// One request, what the mock said about it, and what the plugin got.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Request,
    pub contract_status: u16,
    pub contract_body: String,
}

/// Re-encodes a request body for the mock: `Ok((content_type, body))`, or
/// why the body is malformed (the proxy then answers 400).
pub type Transform = dyn Fn(&Request) -> Result<(String, Vec<u8>), String> + Send + Sync;
type Script = dyn Fn(&Request) -> After + Send + Sync;

pub struct Proxy {
    pub port: u16,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(
        mock_port: u16,
        transform: Option<Arc<Transform>>,
        script: impl Fn(&Request) -> After + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let log = exchanges.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (script, log, transform) = (script.clone(), log.clone(), transform.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, mock_port, transform, script, log).await;
                });
            }
        });
        Self {
            port,
            exchanges,
            task,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn origin(&self) -> relais_runtime::Origin {
        relais_runtime::Origin::parse(&self.base_url()).unwrap()
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// Fails the test when the vendor's contract refused any request
    /// (401 missing credentials, 404 unknown path, 405, 422 violations, or
    /// a body the proxy could not re-encode).
    pub fn assert_contract_kept(&self) {
        let refused: Vec<String> = self
            .exchanges()
            .iter()
            .filter(|e| {
                matches!(e.contract_status, 400 | 401 | 404 | 405 | 422) || e.contract_status >= 500
            })
            .map(|e| {
                format!(
                    "{} {} -> {}: {}",
                    e.request.method, e.request.path, e.contract_status, e.contract_body
                )
            })
            .collect();
        assert!(
            refused.is_empty(),
            "the vendor contract refused:\n{}",
            refused.join("\n")
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut socket: TcpStream,
    mock_port: u16,
    transform: Option<Arc<Transform>>,
    script: Arc<Script>,
    log: Arc<Mutex<Vec<Exchange>>>,
) -> std::io::Result<()> {
    let request = read_request(&mut socket).await?;
    let (contract_status, contract_headers, contract_body) = match &transform {
        None => forward(mock_port, &request, None).await?,
        Some(t) => match t(&request) {
            Ok((ct, body)) => forward(mock_port, &request, Some((ct, body))).await?,
            Err(why) => (400, Vec::new(), format!("proxy: malformed body: {why}")),
        },
    };
    let (status, headers, body) = match script(&request) {
        After::Reply(s, h, b) if contract_status < 300 => (s, h, b),
        _ => (contract_status, contract_headers, contract_body.clone()),
    };
    log.lock().unwrap().push(Exchange {
        request,
        contract_status,
        contract_body,
    });
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    for (n, v) in headers.iter().filter(|(n, _)| !hop(n)) {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.shutdown().await
}

fn hop(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "host",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default();
    let mut parts = start.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or("/").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

/// Sends the request to the mock as HTTP/1.0 (so its answer is not
/// chunked and ends when the connection closes).
async fn forward(
    port: u16,
    r: &Request,
    replaced: Option<(String, Vec<u8>)>,
) -> std::io::Result<(u16, Vec<(String, String)>, String)> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await?;
    let (content_type, body) = match replaced {
        Some((ct, body)) => (Some(ct), body),
        None => (r.header("content-type").map(str::to_owned), r.body.clone()),
    };
    let mut head = format!(
        "{} {} HTTP/1.0\r\nhost: 127.0.0.1:{port}\r\n",
        r.method, r.path
    );
    for (n, v) in r
        .headers
        .iter()
        .filter(|(n, _)| !hop(n) && n != "content-type")
    {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(ct) = content_type {
        head.push_str(&format!("content-type: {ct}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&body).await?;
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

/// Posts a raw request to `url` (`http://127.0.0.1:PORT/path`) and returns
/// the answer's status: to try what the mocks refuse.
pub async fn post(url: String, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> u16 {
    let rest = url.trim_start_matches("http://");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(authority).await.unwrap();
    let mut head = format!(
        "POST /{path} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
