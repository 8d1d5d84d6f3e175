//! An HTTPS/1.1 server on 127.0.0.1 with a self-signed certificate made
//! for the test: it records each request's head, counts TCP connections,
//! and answers `/ok`, WHM's `version` and Plesk's `/api/v2/server`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct TlsServer {
    pub port: u16,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Hex SHA-256 of the certificate's DER.
    pub fingerprint: String,
    heads: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// A server whose certificate names `names` (IP addresses or DNS
    /// names), self-signed, not a CA.
    pub async fn start(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names).expect("certificate");
        let der: CertificateDer<'static> = made.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
        let fingerprint = hex::encode(Sha256::digest(der.as_ref()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (h, c) = (heads.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let (acceptor, heads) = (acceptor.clone(), h.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    heads.lock().unwrap().push(head.clone());
                    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let path = target.split('?').next().unwrap_or("/");
                    let response = match path {
                        "/ok" => answer("text/plain", "hello"),
                        "/json-api/version" => answer(
                            "application/json",
                            r#"{"metadata":{"command":"version","result":1,"reason":"OK","version":1},"data":{"version":"11.110.0.8"}}"#,
                        ),
                        "/api/v2/server" => answer(
                            "application/json",
                            r#"{"platform":"Unix","hostname":"plesk.test","panel_version":"18.0.62"}"#,
                        ),
                        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .into(),
                    };
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            port,
            cert_pem: made.cert.pem(),
            fingerprint,
            heads,
            connections,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// `https://127.0.0.1:PORT`, as the host writes origins.
    pub fn origin_text(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn origin(&self) -> relais_runtime::Origin {
        relais_runtime::Origin::parse(&self.origin_text()).unwrap()
    }

    /// The heads of the requests that arrived (after a handshake).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// TCP connections accepted, handshakes failed or not.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
