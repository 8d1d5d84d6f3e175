//! [`CheckedMock`]: a small HTTP server on 127.0.0.1 in front of a
//! [`ContractMock`], for scenarios the vendor's document cannot script
//! (an account already suspended, an error envelope): every request is
//! still validated by the contract mock, and the answer comes from the
//! test.

use std::sync::Arc;

use relais_runtime::Origin;

use crate::ContractMock;

/// A request as a [`CheckedMock`] received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query (without `?`).
    pub query: String,
    /// The header fields, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query's `name=value` pairs, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_decode(&self.query)
    }

    /// The value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// A form body's pairs, decoded.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        form_decode(&String::from_utf8_lossy(&self.body))
    }

    /// The body parsed as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `application/x-www-form-urlencoded` pairs, decoded.
pub fn form_decode(text: &str) -> Vec<(String, String)> {
    fn decode(part: &str) -> String {
        let bytes = part.as_bytes();
        let hex = |b: u8| char::from(b).to_digit(16);
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// An answer a [`CheckedMock`] sends.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A text answer with `content_type`.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What a [`CheckedMock`] does with a request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Send the contract mock's own answer.
    Contract,
    /// Send this scripted answer once the contract mock accepted the
    /// request (when it refuses, its refusal is sent instead).
    Checked(Reply),
    /// Send this answer without asking the contract mock: only for what no
    /// vendor document covers (cite the vendor's documentation beside it).
    Unchecked(Reply),
}

/// One request a [`CheckedMock`] handled.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request.
    pub request: Received,
    /// The contract mock's status and body, when it was asked.
    pub contract: Option<(u16, String)>,
    /// The status sent back.
    pub status: u16,
}

impl Exchange {
    /// Whether the contract mock refused the request (401, 404, 405, 422
    /// or its own failure).
    pub fn refused(&self) -> bool {
        self.contract
            .as_ref()
            .is_some_and(|(status, _)| *status >= 400)
    }
}

type Script = dyn Fn(&Received) -> Answer + Send + Sync;

/// A small HTTP server on 127.0.0.1 in front of a [`ContractMock`]: every
/// request goes to the contract mock to be validated against the vendor's
/// document, and the answer comes from a script (the contract mock's own,
/// or a scenario written from the vendor's documentation). A request the
/// contract refuses gets the refusal, and [`assert_contract_kept`]
/// (Self::assert_contract_kept) fails the test.
pub struct CheckedMock {
    /// Its port on 127.0.0.1.
    pub port: u16,
    exchanges: Arc<std::sync::Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CheckedMock {
    /// Starts it, checking requests against `contract` (when given) and
    /// answering with `script`.
    pub async fn start(
        contract: Option<&ContractMock>,
        script: impl Fn(&Received) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let exchanges = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let contract_port = contract.map(|c| c.port);
        let log = exchanges.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (script, log) = (script.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, contract_port, &*script, &log).await;
                });
            }
        });
        Self {
            port,
            exchanges,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its origin, to grant to a plugin.
    pub fn origin(&self) -> Origin {
        Origin::parse(&self.base_url()).expect("loopback origin")
    }

    /// Every request handled so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// `METHOD PATH` of every request so far.
    pub fn calls(&self) -> Vec<String> {
        self.exchanges()
            .iter()
            .map(|e| format!("{} {}", e.request.method, e.request.path))
            .collect()
    }

    /// Panics, listing them, when the contract mock refused any request.
    pub fn assert_contract_kept(&self) {
        let refused: Vec<String> = self
            .exchanges()
            .iter()
            .filter(|e| e.refused())
            .map(|e| {
                let (status, body) = e.contract.clone().unwrap_or_default();
                format!(
                    "{} {}?{} -> {status}: {body}",
                    e.request.method, e.request.path, e.request.query
                )
            })
            .collect();
        assert!(
            refused.is_empty(),
            "the vendor contract refused requests:\n{}",
            refused.join("\n")
        );
    }
}

impl Drop for CheckedMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    socket: tokio::net::TcpStream,
    contract_port: Option<u16>,
    script: &Script,
    log: &std::sync::Mutex<Vec<Exchange>>,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut reader = tokio::io::BufReader::new(socket);
    let (start, headers, body) = read_message(&mut reader, true).await?;
    let mut parts = start.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target
        .split_once('?')
        .map_or((target.as_str(), ""), |(p, q)| (p, q));
    let request = Received {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
    };
    let answer = script(&request);
    let mut contract = None;
    let reply = match answer {
        Answer::Unchecked(reply) => reply,
        Answer::Contract | Answer::Checked(_) => {
            let port =
                contract_port.expect("Answer::Contract and Answer::Checked need a contract mock");
            let (status, headers, body) = forward(port, &request, &target).await?;
            contract = Some((status, String::from_utf8_lossy(&body).into_owned()));
            match answer {
                Answer::Checked(reply) if status < 400 => reply,
                _ => Reply {
                    status,
                    headers,
                    body,
                },
            }
        }
    };
    if let Ok(mut log) = log.lock() {
        log.push(Exchange {
            request,
            contract,
            status: reply.status,
        });
    }
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (name, value) in reply.headers.iter().filter(|(n, _)| !is_hop_header(n)) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    let socket = reader.get_mut();
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&reply.body).await?;
    socket.shutdown().await
}

fn is_hop_header(name: &str) -> bool {
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

/// Sends one raw request to `127.0.0.1:port` and returns the answer's
/// status and body: for tests of the mocks themselves.
pub async fn send_raw(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let request = Received {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect(),
        body: body.to_vec(),
    };
    let (status, _, body) = forward(port, &request, target).await?;
    Ok((status, body))
}

/// Sends `request` to the contract mock and reads its answer.
async fn forward(
    port: u16,
    request: &Received,
    target: &str,
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    use tokio::io::AsyncWriteExt;
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n",
        request.method
    );
    for (name, value) in request.headers.iter().filter(|(n, _)| !is_hop_header(n)) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        request.body.len()
    ));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&request.body).await?;
    let mut reader = tokio::io::BufReader::new(socket);
    let (start, headers, body) = read_message(&mut reader, false).await?;
    let status = start
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    Ok((status, headers, body))
}

/// Reads one HTTP/1.1 message: start line, header fields (names
/// lowercase) and body (by `content-length`, chunked, or, for an answer,
/// until the connection closes).
async fn read_message<R>(
    reader: &mut R,
    is_request: bool,
) -> std::io::Result<(String, Vec<(String, String)>, Vec<u8>)>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut start = String::new();
    reader.read_line(&mut start).await?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed in the header"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("header line without ':'"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                let mut trailer = String::new();
                while reader.read_line(&mut trailer).await? > 2 {
                    trailer.clear();
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await?;
            chunk.truncate(size);
            body.extend_from_slice(&chunk);
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length.parse().map_err(|_| bad("bad content-length"))?;
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
    } else if !is_request {
        reader.read_to_end(&mut body).await?;
    }
    Ok((start.trim_end().to_owned(), headers, body))
}
