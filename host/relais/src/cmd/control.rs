//! How CLI commands reach a node: through the running server's control
//! socket (`DATA_DIR/relais.sock`) when one answers, else in process on the
//! store. Both paths send the same HTTP requests to the same router
//! ([`relais_server::local::local_app`]), so they answer alike.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use relais_server::ErrorBody;
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::cmd::node::{Load, Node};
use crate::config::Config;

/// Where `relais serve` listens for local control.
pub fn socket_path(config: &Config) -> PathBuf {
    config.data_dir.join("relais.sock")
}

/// Binds the control socket, replacing a stale one, readable and writable
/// by this user only. The caller holds the store, so no other server can
/// be using the path.
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("removing the old socket"),
    }
    let listener = tokio::net::UnixListener::bind(path).context("binding")?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .context("restricting its permissions to 0600")?;
    Ok(listener)
}

/// A node to talk to.
pub enum Control {
    /// A running server, through its socket.
    Remote(PathBuf),
    /// This process, on the store (boxed: a node is large).
    Local(Box<Node>),
}

/// An answer: its status and JSON body (a text body becomes a JSON string).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The body as `T` when the status is a success, else an error carrying
    /// the server's message.
    pub fn into_ok<T: DeserializeOwned>(self) -> Result<T> {
        self.check()?;
        serde_json::from_value(self.body).context("unexpected answer from relais")
    }

    /// An error carrying the server's message unless the status is a success.
    pub fn check(&self) -> Result<()> {
        if self.status.is_success() {
            return Ok(());
        }
        match ErrorBody::deserialize(&self.body) {
            Ok(body) => bail!("{}", body.error.message),
            Err(_) => bail!("{}", self.body),
        }
    }
}

impl Control {
    /// The running server if its socket answers, else a node opened here
    /// with what `load` asks for.
    pub async fn connect(config: &Config, load: Load) -> Result<Control> {
        let socket = socket_path(config);
        if tokio::net::UnixStream::connect(&socket).await.is_ok() {
            return Ok(Control::Remote(socket));
        }
        Ok(Control::Local(Box::new(Node::open(config, load).await?)))
    }

    /// Whether a running server answers (runs started here are executed by it).
    pub fn is_remote(&self) -> bool {
        matches!(self, Control::Remote(_))
    }

    /// Sends one request with `body` (labelled JSON; secret values are sent
    /// as their raw bytes, which the router reads as such).
    pub async fn request(&self, method: Method, path: &str, body: Vec<u8>) -> Result<Reply> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .context("building the request")?;
        let (status, bytes) = match self {
            Control::Local(node) => {
                let app = relais_server::local::local_app(node.state.clone());
                let response = app.oneshot(request).await.context("local request")?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                (status, bytes)
            }
            Control::Remote(socket) => send(socket, request).await?,
        };
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Reply { status, body })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.request(Method::GET, path, Vec::new()).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Reply> {
        self.request(Method::POST, path, serde_json::to_vec(body)?)
            .await
    }
}

async fn send(socket: &Path, request: Request<Body>) -> Result<(StatusCode, bytes::Bytes)> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .with_context(|| format!("connecting to the server at {}", socket.display()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("talking to the server")?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .context("talking to the server")?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .context("reading the server's answer")?
        .to_bytes();
    Ok((status, bytes))
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
