//! `POST /hooks/{path}`: verify, parse, deduplicate, store, answer.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::Utc;
use indexmap::IndexMap;
use relais_store::{CreateOutcome, RunGuard, RunStatus, Timestamp, TriggerKind};
use relais_triggers::verify::{
    Encoding as HmacEncoding, HmacOptions, Scheme, StripeOptions, TokenOptions,
};
use relais_workflow::context::webhook_trigger;
use relais_workflow::model::{
    DEFAULT_DEDUPE_WINDOW, Encoding, Respond, Trigger, Verify, VerifyScheme, WebhookTrigger,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::{AppState, metrics};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/hooks/{*path}", any(hook))
}

async fn hook(
    State(state): State<AppState>,
    Path(path): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let began = std::time::Instant::now();
    match handle(&state, &path, request).await {
        Ok((outcome, response)) => {
            metrics::webhook(outcome, began.elapsed());
            Ok(response)
        }
        Err(e) => {
            metrics::webhook(e.code, began.elapsed());
            Err(e)
        }
    }
}

/// Answers a delivery, with its outcome for the metrics: `accepted` (202),
/// `duplicate` (a dedupe key seen before) or `answered` (a sync answer
/// with the finished run's output).
async fn handle(
    state: &AppState,
    path: &str,
    request: Request,
) -> Result<(&'static str, Response), ApiError> {
    let Some(loaded) = state.workflows.by_webhook_path(path).cloned() else {
        return Err(ApiError::not_found(format!(
            "no workflow listens on /hooks/{path}"
        )));
    };
    if request.method() != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("/hooks/{path} accepts POST only"),
        ));
    }
    let Trigger::Webhook(hook) = &loaded.workflow.trigger else {
        return Err(ApiError::internal(
            "webhook index points at a non-webhook workflow",
        ));
    };
    let (parts, body) = request.into_parts();
    let limit = state.config.body_limit;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is over the limit of {limit} bytes"),
        )
    })?;
    let scheme = verify(state, &hook.verify, &parts.headers, &body).await?;

    // The header that carried a shared token is the secret itself: it is
    // not kept with the run (signatures, being single-use, are).
    let mut headers = header_map(&parts.headers);
    if let Scheme::Token(token) = &scheme {
        headers.shift_remove(token.header.as_str());
    }
    let payload = webhook_trigger(
        parse_body(&parts.headers, &body)?,
        headers,
        query_map(parts.uri.query()),
    );
    let guard = dedupe_guard(hook, &payload)?;
    let outcome = state
        .backend
        .submit(
            loaded.id(),
            TriggerKind::Webhook,
            payload,
            Value::Null,
            guard,
        )
        .await?;
    let run = match outcome {
        CreateOutcome::Created(id) => {
            tracing::info!(workflow = loaded.id(), run_id = %id, "webhook accepted");
            id
        }
        CreateOutcome::Existing(id) => {
            tracing::info!(workflow = loaded.id(), run_id = %id, "webhook duplicate");
            // The first delivery's run may have been removed by retention
            // while its key still guards: then no run id is given.
            let body = match state.store.run(id).await? {
                Some(_) => json!({ "run_id": id.to_string(), "duplicate": true }),
                None => json!({ "duplicate": true }),
            };
            return Ok(("duplicate", (StatusCode::OK, Json(body)).into_response()));
        }
        CreateOutcome::SlotTooOld => {
            return Err(ApiError::internal("webhook refused as a cron slot"));
        }
    };
    let accepted = (
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run.to_string(), "status": "queued" })),
    );
    let Respond::Sync { timeout } = hook.respond else {
        return Ok(("accepted", accepted.into_response()));
    };
    let finished = state.backend.wait_finished(run, timeout.as_std()).await?;
    match finished {
        Some(r) if r.status.is_finished() => {
            let output = state.backend.run_output(run).await?.unwrap_or(Value::Null);
            let status = if r.status == RunStatus::Succeeded {
                StatusCode::OK
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            let mut body =
                json!({ "run_id": run.to_string(), "status": r.status.as_str(), "output": output });
            if let Some(error) = &r.error {
                body["error"] = serde_json::to_value(error).unwrap_or(Value::Null);
            }
            Ok(("answered", (status, Json(body)).into_response()))
        }
        _ => Ok(("accepted", accepted.into_response())),
    }
}

/// The triggers crate's scheme for a workflow's `verify:` block.
pub(crate) fn scheme(verify: &Verify) -> Result<Scheme, ApiError> {
    let header = header::HeaderName::from_bytes(verify.header.to_ascii_lowercase().as_bytes())
        .map_err(|e| ApiError::internal(format!("verify header {:?}: {e}", verify.header)))?;
    Ok(match verify.scheme {
        VerifyScheme::Stripe => Scheme::Stripe(StripeOptions {
            tolerance: verify
                .tolerance
                .map(|t| t.as_std())
                .unwrap_or(relais_triggers::verify::DEFAULT_STRIPE_TOLERANCE),
        }),
        VerifyScheme::Github => Scheme::Github,
        VerifyScheme::HmacSha256 => Scheme::HmacSha256(HmacOptions {
            header,
            prefix: verify.prefix.clone(),
            encoding: match verify.encoding {
                Encoding::Hex => HmacEncoding::Hex,
                Encoding::Base64 => HmacEncoding::Base64,
            },
        }),
        VerifyScheme::Token => Scheme::Token(TokenOptions {
            header,
            auth_scheme: verify
                .prefix
                .strip_suffix(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        }),
    })
}

async fn verify(
    state: &AppState,
    verify: &Verify,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Scheme, ApiError> {
    let scheme = scheme(verify)?;
    let secret = state
        .secrets
        .get(&state.store, verify.secret.as_str())
        .await?
        .ok_or_else(|| {
            tracing::error!(secret = verify.secret.as_str(), "webhook secret is not set");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "secret_missing",
                "this webhook's signing secret is not configured",
            )
        })?;
    scheme
        .verify(secret.expose().as_bytes(), headers, body, Utc::now())
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "signature_invalid",
                format!("webhook verification failed: {e}"),
            )
        })?;
    Ok(scheme)
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if body.is_empty() {
        return Ok(Value::Null);
    }
    if content_type == "application/json" || content_type.ends_with("+json") {
        return serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    if content_type == "application/x-www-form-urlencoded" {
        let map: IndexMap<String, String> = url_pairs(text).collect();
        return Ok(serde_json::to_value(map).unwrap_or(Value::Null));
    }
    Ok(Value::String(text.to_owned()))
}

fn header_map(headers: &HeaderMap) -> IndexMap<String, String> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

fn query_map(query: Option<&str>) -> IndexMap<String, String> {
    url_pairs(query.unwrap_or("")).collect()
}

/// `a=1&b=x+y` pairs, percent- and plus-decoded.
fn url_pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn dedupe_guard(hook: &WebhookTrigger, payload: &Value) -> Result<Option<RunGuard>, ApiError> {
    let Some(template) = &hook.dedupe else {
        return Ok(None);
    };
    let key = match template.render(payload) {
        Ok(Value::String(s)) => s,
        Ok(Value::Null) => String::new(),
        Ok(other) => other.to_string(),
        Err(e) => {
            return Err(ApiError::bad_request(format!(
                "cannot compute the dedupe key: {e}"
            )));
        }
    };
    if key.is_empty() {
        return Err(ApiError::bad_request(
            "the dedupe key of this request is empty",
        ));
    }
    let window = hook.dedupe_window.unwrap_or(DEFAULT_DEDUPE_WINDOW);
    let expires_at = Timestamp::now().saturating_add(window.as_std());
    Ok(Some(RunGuard::Dedupe { key, expires_at }))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%é"), "%é");
        assert_eq!(decode("%4"), "%4");
    }
}
