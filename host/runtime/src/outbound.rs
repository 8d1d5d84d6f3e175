//! Outbound HTTP for plugins: the `send_request` hook of `wasi:http`.
//!
//! A request leaves only towards an origin granted to the plugin. The host
//! name is resolved here, every resolved address is checked (private,
//! loopback, link-local and metadata addresses need an explicit grant), and
//! the connection goes to the address that was checked, so a second DNS
//! answer cannot redirect it (no DNS rebinding). Redirects are handed back
//! to the plugin as they are; a plugin that follows one makes a new request,
//! checked again.
//!
//! TLS certificates are checked under the plugin's [`TlsPolicy`]: the
//! public roots, or what the operator granted that origin. A
//! `relais-tls: operator-trust` header asks for such a grant, is refused
//! without one, and never leaves the host.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::grants::{HttpGrants, Origin};
use crate::limits::Limit;
use crate::tls::{OPERATOR_TRUST, TLS_HEADER, TlsPolicy};

/// What happened during an invocation that the host must report, shared
/// between the store and the tasks that carry outbound requests.
#[derive(Debug, Default)]
pub(crate) struct Incidents {
    pub(crate) limit: Option<Limit>,
    /// The note of the first limit hit.
    pub(crate) limit_note: String,
    pub(crate) notes: Vec<String>,
    /// Notes past [`MAX_NOTES`], counted only: a guest that is refused in
    /// a loop must not grow the host's memory.
    pub(crate) dropped: usize,
}

/// Host notes one invocation keeps.
pub(crate) const MAX_NOTES: usize = 100;

impl Incidents {
    fn push(&mut self, text: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(text);
        } else {
            self.dropped += 1;
        }
    }
}

pub(crate) type SharedIncidents = Arc<Mutex<Incidents>>;

fn note(incidents: &SharedIncidents, text: String) {
    tracing::info!(target: "relais::outbound", "{text}");
    incidents
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(text);
}

/// Records that the host stopped something on `limit`: a step that then
/// fails, failed on that limit.
pub(crate) fn hit(incidents: &SharedIncidents, limit: Limit, text: String) {
    let mut i = incidents.lock().unwrap_or_else(|e| e.into_inner());
    if i.limit.is_none() {
        i.limit = Some(limit);
        i.limit_note.clone_from(&text);
    }
    i.push(text);
}

/// The per-invocation `wasi:http` hooks.
pub(crate) struct Outbound {
    pub(crate) grants: Arc<HttpGrants>,
    pub(crate) max_response_bytes: u64,
    pub(crate) requests_left: u32,
    pub(crate) deadline: tokio::time::Instant,
    pub(crate) tls: Arc<TlsPolicy>,
    pub(crate) incidents: SharedIncidents,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + std::marker::Send>,
                ),
                HttpError,
            >,
        > + std::marker::Send,
>;

impl WasiHttpHooks for Outbound {
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        crate::resources::OUTGOING_BODY_CHUNK
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + std::marker::Send>,
    ) -> SendFuture {
        let incidents = self.incidents.clone();
        let refuse = move |err: HttpError, text: String| -> SendFuture {
            note(&incidents, text);
            Box::new(async move { Err(err) })
        };
        let Some(origin) = Origin::of_uri(request.uri()) else {
            let text = format!("refused request to {}: no scheme or host", request.uri());
            return refuse(HttpError::HttpRequestUriInvalid, text);
        };
        if !self.grants.allows(&origin) {
            let text = format!("refused request to {origin}: origin not granted to this plugin");
            return refuse(HttpError::HttpRequestDenied, text);
        }
        let operator_trust = match take_tls_header(request.headers_mut()) {
            Ok(asked) => asked,
            Err(value) => {
                let text = format!(
                    "refused request to {origin}: header {TLS_HEADER}: {value:?} is not \
                     understood (its one value is {OPERATOR_TRUST})"
                );
                return refuse(HttpError::HttpRequestDenied, text);
            }
        };
        let (tls, granted) = self.tls.for_origin(&origin);
        if operator_trust && origin.scheme == "https" && !granted {
            let section = &self.tls.section;
            let text = format!(
                "refused request to {origin}: connection.verify_tls is false (the plugin sent \
                 {TLS_HEADER}: {OPERATOR_TRUST}) but relais.toml grants no TLS setting for \
                 {origin}: add [{section}.http.tls.\"{origin}\"] pin_sha256 = \"<the \
                 certificate's sha256 fingerprint>\" (or ca_file = \"<PEM file>\")"
            );
            return refuse(HttpError::HttpRequestDenied, text);
        }
        if self.requests_left == 0 {
            hit(
                &self.incidents,
                Limit::HttpRequests,
                format!("refused request to {origin}: request limit reached"),
            );
            return Box::new(async { Err(HttpError::ConnectionLimitReached) });
        }
        self.requests_left -= 1;
        let job = Send {
            grants: self.grants.clone(),
            origin,
            max_response_bytes: self.max_response_bytes,
            deadline: self.deadline,
            tls,
            section: self.tls.section.clone(),
            incidents: self.incidents.clone(),
            options,
        };
        Box::new(job.run(request))
    }
}

struct Send {
    grants: Arc<HttpGrants>,
    origin: Origin,
    max_response_bytes: u64,
    deadline: tokio::time::Instant,
    tls: Arc<rustls::ClientConfig>,
    /// The plugin's `relais.toml` section, for hints.
    section: String,
    incidents: SharedIncidents,
    options: Option<RequestOptions>,
}

/// Removes every [`TLS_HEADER`] from a request: whether it asked for the
/// operator's TLS setting, or the value it carried that means nothing.
fn take_tls_header(headers: &mut http::HeaderMap) -> Result<bool, String> {
    let values: Vec<http::HeaderValue> = match headers.entry(TLS_HEADER) {
        http::header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
        http::header::Entry::Vacant(_) => return Ok(false),
    };
    match values
        .iter()
        .find(|v| !v.as_bytes().eq_ignore_ascii_case(OPERATOR_TRUST.as_bytes()))
    {
        Some(other) => Err(String::from_utf8_lossy(other.as_bytes()).into_owned()),
        None => Ok(true),
    }
}

impl Send {
    async fn run(
        self,
        mut request: http::Request<WasiBody>,
    ) -> Result<
        (
            http::Response<WasiBody>,
            Box<dyn Future<Output = Result<(), HttpError>> + std::marker::Send>,
        ),
        HttpError,
    > {
        let origin = &self.origin;
        let connect_timeout = self.timeout(|o| o.connect_timeout, Duration::from_secs(10));
        let addr = self.resolve(connect_timeout).await?;
        let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(|e| {
                note(
                    &self.incidents,
                    format!("connection to {origin} failed: {e}"),
                );
                HttpError::ConnectionRefused
            })?;
        let _ = tcp.set_nodelay(true);

        let io: Box<dyn Io> = if origin.scheme == "https" {
            let name = match origin.ip_literal() {
                Some(ip) => rustls::pki_types::ServerName::from(ip),
                None => rustls::pki_types::ServerName::try_from(origin.host.clone())
                    .map_err(|_| HttpError::HttpRequestUriInvalid)?,
            };
            let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
            let tls = tokio::time::timeout(connect_timeout, connector.connect(name, tcp))
                .await
                .map_err(|_| HttpError::ConnectionTimeout)?
                .map_err(|e| {
                    let (text, code) = crate::tls::failure(&e, origin, &self.section);
                    note(&self.incidents, text);
                    code
                })?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };

        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(io))
            .await
            .map_err(HttpError::from)?;
        let conn_task = tokio::spawn(conn);

        // Only the path goes on the request line; the authority is in `Host`.
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;

        let first_byte = self.timeout(|o| o.first_byte_timeout, Duration::from_secs(60));
        let response = tokio::time::timeout(first_byte, sender.send_request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(HttpError::from)?;

        let max = self.max_response_bytes;
        if let Some(len) = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > max
        {
            conn_task.abort();
            hit(
                &self.incidents,
                Limit::HttpResponseSize,
                format!("response from {origin} announces {len} bytes, the limit is {max}"),
            );
            return Err(HttpError::HttpResponseBodySize(Some(len)));
        }
        let incidents = self.incidents.clone();
        let origin = origin.to_string();
        let response = response.map(move |body| {
            Capped {
                inner: body,
                left: max,
                max,
                origin,
                incidents,
            }
            .boxed_unsync()
        });
        let worker = async move {
            match conn_task.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(HttpError::from(e)),
                Err(_) => Ok(()),
            }
        };
        Ok((response, Box::new(worker)))
    }

    fn timeout(
        &self,
        pick: impl Fn(&RequestOptions) -> Option<Duration>,
        default: Duration,
    ) -> Duration {
        let asked = self.options.as_ref().and_then(pick).unwrap_or(default);
        let left = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        asked.min(left)
    }

    /// Resolves the origin's host and returns the first address the grants
    /// allow; every refused address is noted.
    async fn resolve(&self, timeout: Duration) -> Result<SocketAddr, HttpError> {
        let origin = &self.origin;
        let addrs: Vec<SocketAddr> = match origin.ip_literal() {
            Some(ip) => vec![SocketAddr::new(ip, origin.port)],
            None => {
                let lookup = tokio::net::lookup_host((origin.host.as_str(), origin.port));
                match tokio::time::timeout(timeout, lookup).await {
                    Err(_) => return Err(HttpError::DnsTimeout),
                    Ok(Err(e)) => {
                        note(&self.incidents, format!("cannot resolve {origin}: {e}"));
                        return Err(HttpError::DestinationNotFound);
                    }
                    Ok(Ok(it)) => it.collect(),
                }
            }
        };
        let mut refused: Vec<IpAddr> = Vec::new();
        for addr in &addrs {
            if self.grants.allows_address(origin, addr.ip()) {
                return Ok(*addr);
            }
            refused.push(addr.ip());
        }
        let list = refused
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        note(
            &self.incidents,
            format!(
                "refused request to {origin}: it resolves to {list}, a private, loopback, \
                 link-local or metadata address that is not granted"
            ),
        );
        Err(HttpError::DestinationIpProhibited)
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + std::marker::Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + std::marker::Send + Unpin> Io for T {}

/// A response body that fails once more than `max` bytes have come through.
struct Capped {
    inner: hyper::body::Incoming,
    left: u64,
    max: u64,
    origin: String,
    incidents: SharedIncidents,
}

impl Body for Capped {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > self.left {
                        let text = format!(
                            "response from {} exceeded the limit of {} bytes",
                            self.origin, self.max
                        );
                        hit(&self.incidents, Limit::HttpResponseSize, text);
                        self.left = 0;
                        return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(Some(
                            self.max,
                        )))));
                    }
                    self.left -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(HttpError::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in values {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_tls_header_is_taken_out_of_every_request() {
        let mut h = headers(&[("accept", "*/*")]);
        assert_eq!(take_tls_header(&mut h), Ok(false));
        assert_eq!(h.len(), 1);

        let mut h = headers(&[("Relais-TLS", "operator-trust"), ("accept", "*/*")]);
        assert_eq!(take_tls_header(&mut h), Ok(true));
        assert!(h.get(TLS_HEADER).is_none());
        assert_eq!(h.len(), 1);

        let mut h = headers(&[
            ("relais-tls", "OPERATOR-TRUST"),
            ("relais-tls", "operator-trust"),
        ]);
        assert_eq!(take_tls_header(&mut h), Ok(true));
        assert!(h.is_empty());

        // A value that means nothing is refused, and removed all the same.
        for values in [
            &[("relais-tls", "off")][..],
            &[("relais-tls", "operator-trust"), ("relais-tls", "insecure")][..],
            &[("relais-tls", "")][..],
        ] {
            let mut h = headers(values);
            assert!(take_tls_header(&mut h).is_err(), "{values:?}");
            assert!(h.is_empty());
        }
        let mut h = headers(&[("relais-tls", "verify=false")]);
        assert_eq!(take_tls_header(&mut h), Err("verify=false".to_string()));
    }
}
