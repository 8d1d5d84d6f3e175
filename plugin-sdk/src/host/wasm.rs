//! The real host, through the bindings generated from `wit/`.

use crate::bindings::relais::plugin::{kv, log, secrets, types};
use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types as wasi;
use crate::bindings::wasi::io::streams::StreamError;
use crate::http::Method;
use crate::log::Level;

use super::{WireError, WireRequest, WireResponse};

/// Largest write into a request body stream.
const WRITE_CHUNK: usize = 4096;
/// Largest read asked of a response body stream.
const READ_CHUNK: u64 = 64 * 1024;

pub(crate) fn log_write(level: Level, message: &str) {
    let level = match level {
        Level::Trace => types::Level::Trace,
        Level::Debug => types::Level::Debug,
        Level::Info => types::Level::Info,
        Level::Warn => types::Level::Warn,
        Level::Error => types::Level::Error,
    };
    log::write(level, message);
}

pub(crate) fn secret_get(name: &str) -> Option<String> {
    secrets::get(name)
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, String> {
    kv::get(key)
}

pub(crate) fn kv_set(key: &str, value: &[u8]) -> Result<(), String> {
    kv::set(key, value)
}

pub(crate) fn kv_delete(key: &str) -> Result<(), String> {
    kv::delete(key)
}

/// Sends a request and reads the whole answer, blocking.
///
/// `handle` is called before the body is written: the host reads the body
/// while it sends the request, and its body buffer is small (wasmtime's
/// default holds one chunk), so writing a large body first would wait
/// forever for room. The body's length is announced in `content-length`
/// (set by the caller), so the host sends no chunked body.
pub(crate) fn http_send(req: &WireRequest<'_>) -> Result<WireResponse, WireError> {
    let entries: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    let fields = wasi::Fields::from_list(&entries).map_err(|err| refused_header(&entries, &err))?;
    let request = wasi::OutgoingRequest::new(fields);
    request
        .set_method(&wasi_method(req.method))
        .map_err(|()| WireError::Invalid(format!("method {} refused by the host", req.method)))?;
    let scheme = if req.parts.scheme == "https" {
        wasi::Scheme::Https
    } else {
        wasi::Scheme::Http
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| WireError::Invalid("scheme refused by the host".to_owned()))?;
    request
        .set_authority(Some(&req.parts.authority))
        .map_err(|()| WireError::Invalid("authority refused by the host".to_owned()))?;
    request
        .set_path_with_query(Some(&req.parts.path_with_query))
        .map_err(|()| WireError::Invalid("path refused by the host".to_owned()))?;
    let Some(data) = req.body else {
        // No body resource at all: the host sends no body (and no
        // `transfer-encoding: chunked` on a GET).
        let future = outgoing_handler::handle(request, None).map_err(error_code)?;
        return read_response(wait(&future)?);
    };
    let body = request
        .body()
        .map_err(|()| WireError::Invalid("request body unavailable".to_owned()))?;

    let future = outgoing_handler::handle(request, None).map_err(error_code)?;

    let written = write_body(&body, data);
    let finished = wasi::OutgoingBody::finish(body, None);
    // The host's verdict on the request comes first: when it refused or
    // failed, writing the body failed too, for that reason.
    let response = wait(&future)?;
    finished.map_err(|code| {
        WireError::Transport(format!("request body not sent: {}", describe(&code)))
    })?;
    // A server may answer before reading the whole body (413, 401, ...):
    // its answer says more than the broken write, so it wins.
    if written.is_err() && response.status() < 400 {
        written?;
    }
    read_response(response)
}

/// Names the header the host refused (it only says that one was).
fn refused_header(entries: &[(String, Vec<u8>)], err: &wasi::HeaderError) -> WireError {
    let reason = match err {
        wasi::HeaderError::Forbidden => "forbidden",
        wasi::HeaderError::InvalidSyntax => "invalid",
        wasi::HeaderError::Immutable => "immutable",
    };
    let culprit = entries
        .iter()
        .find(|entry| wasi::Fields::from_list(std::slice::from_ref(*entry)).is_err());
    match culprit {
        Some((name, _)) => {
            WireError::Invalid(format!("header {name} refused by the host: {reason}"))
        }
        None => WireError::Invalid(format!("headers refused by the host: {reason}")),
    }
}

fn wasi_method(method: &Method) -> wasi::Method {
    match method {
        Method::Get => wasi::Method::Get,
        Method::Head => wasi::Method::Head,
        Method::Post => wasi::Method::Post,
        Method::Put => wasi::Method::Put,
        Method::Delete => wasi::Method::Delete,
        Method::Connect => wasi::Method::Connect,
        Method::Options => wasi::Method::Options,
        Method::Trace => wasi::Method::Trace,
        Method::Patch => wasi::Method::Patch,
        Method::Other(other) => wasi::Method::Other(other.clone()),
    }
}

/// Writes `data` in chunks of at most [`WRITE_CHUNK`] bytes, then drops the
/// stream (it must go before the body is finished).
fn write_body(body: &wasi::OutgoingBody, data: &[u8]) -> Result<(), WireError> {
    let stream = body
        .write()
        .map_err(|()| WireError::Invalid("request body stream unavailable".to_owned()))?;
    for chunk in data.chunks(WRITE_CHUNK) {
        stream.blocking_write_and_flush(chunk).map_err(|err| {
            WireError::Transport(format!("request body not sent: {}", stream_error(err)))
        })?;
    }
    drop(stream);
    Ok(())
}

fn wait(future: &wasi::FutureIncomingResponse) -> Result<wasi::IncomingResponse, WireError> {
    loop {
        match future.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(error_code(code)),
            Some(Err(())) => {
                return Err(WireError::Transport("response already taken".to_owned()));
            }
            None => future.subscribe().block(),
        }
    }
}

fn read_response(response: wasi::IncomingResponse) -> Result<WireResponse, WireError> {
    let status = response.status();
    let headers = response.headers().entries();
    let body = response
        .consume()
        .map_err(|()| WireError::Transport("response body unavailable".to_owned()))?;
    let stream = body
        .stream()
        .map_err(|()| WireError::Transport("response body stream unavailable".to_owned()))?;
    let mut data = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => data.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(err)) => {
                return Err(match wasi::http_error_code(&err) {
                    Some(code) => error_code(code),
                    None => WireError::Transport(format!(
                        "response body cut: {}",
                        err.to_debug_string()
                    )),
                });
            }
        }
    }
    drop(stream);
    drop(wasi::IncomingBody::finish(body));
    drop(response);
    Ok(WireResponse {
        status,
        headers,
        body: data,
    })
}

fn stream_error(err: StreamError) -> String {
    match err {
        StreamError::Closed => "stream closed".to_owned(),
        StreamError::LastOperationFailed(err) => match wasi::http_error_code(&err) {
            Some(code) => describe(&code),
            None => err.to_debug_string(),
        },
    }
}

/// Sorts an error code: refusals and host limits, malformed requests, and
/// everything else (transport).
fn error_code(code: wasi::ErrorCode) -> WireError {
    use wasi::ErrorCode as E;
    let text = describe(&code);
    match code {
        E::HttpRequestDenied
        | E::DestinationIpProhibited
        | E::HttpResponseBodySize(_)
        | E::HttpResponseHeaderSectionSize(_)
        | E::HttpResponseHeaderSize(_)
        | E::HttpResponseTrailerSectionSize(_)
        | E::HttpResponseTrailerSize(_) => WireError::Refused(text),
        E::HttpRequestUriInvalid | E::HttpRequestMethodInvalid => WireError::Invalid(text),
        _ => WireError::Transport(text),
    }
}

/// An error code in the words of the WIT (`connection-refused`, ...).
fn describe(code: &wasi::ErrorCode) -> String {
    use wasi::ErrorCode as E;
    match code {
        E::DnsTimeout => "DNS-timeout".to_owned(),
        E::DnsError(payload) => format!(
            "DNS-error{}",
            payload
                .rcode
                .as_ref()
                .map(|rcode| format!(" ({rcode})"))
                .unwrap_or_default()
        ),
        E::DestinationNotFound => "destination-not-found".to_owned(),
        E::DestinationUnavailable => "destination-unavailable".to_owned(),
        E::DestinationIpProhibited => "destination-IP-prohibited".to_owned(),
        E::DestinationIpUnroutable => "destination-IP-unroutable".to_owned(),
        E::ConnectionRefused => "connection-refused".to_owned(),
        E::ConnectionTerminated => "connection-terminated".to_owned(),
        E::ConnectionTimeout => "connection-timeout".to_owned(),
        E::ConnectionReadTimeout => "connection-read-timeout".to_owned(),
        E::ConnectionWriteTimeout => "connection-write-timeout".to_owned(),
        E::ConnectionLimitReached => "connection-limit-reached".to_owned(),
        E::TlsProtocolError => "TLS-protocol-error".to_owned(),
        E::TlsCertificateError => "TLS-certificate-error".to_owned(),
        E::HttpRequestDenied => "HTTP-request-denied".to_owned(),
        E::HttpResponseBodySize(limit) => format!(
            "HTTP-response-body-size{}",
            limit
                .map(|n| format!(" (limit {n} bytes)"))
                .unwrap_or_default()
        ),
        E::HttpResponseTimeout => "HTTP-response-timeout".to_owned(),
        E::InternalError(Some(message)) => format!("internal-error: {message}"),
        other => format!("{other:?}"),
    }
}
