//! Outbound HTTP: granted origins only, private addresses only when granted
//! explicitly, no redirect followed behind the plugin's back.

use relais_runtime::{HttpGrants, InvokeError, Limit, Limits, Origin};
use serde_json::json;

use crate::server::TestServer;
use crate::{call, probe_with};

fn refused(r: &Result<serde_json::Value, InvokeError>) -> bool {
    matches!(r, Err(InvokeError::Step(_)))
}

#[tokio::test]
async fn an_explicitly_granted_loopback_server_is_reachable() {
    let server = TestServer::start().await;
    let p = probe_with(Limits::default(), HttpGrants::hosts([server.origin()])).await;
    let out = call(&p, "fetch", json!({"url": server.url("/ok")})).await;
    assert_eq!(
        out.result.unwrap(),
        json!({"status": 200, "body": "hello", "location": null})
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn ungranted_origins_are_refused_before_any_connection() {
    let granted = TestServer::start().await;
    let other = TestServer::start().await;
    let p = probe_with(Limits::default(), HttpGrants::hosts([granted.origin()])).await;
    let out = call(&p, "fetch", json!({"url": other.url("/ok")})).await;
    assert!(refused(&out.result), "{:?}", out.result);
    assert_eq!(other.hits(), 0);
    assert!(
        out.logs
            .iter()
            .any(|l| l.level == "host" && l.message.contains("origin not granted")),
        "{:?}",
        out.logs
    );
    // Same host, other scheme or port: also not granted.
    let out = call(
        &p,
        "fetch",
        json!({"url": format!("https://127.0.0.1:{}/ok", granted.port)}),
    )
    .await;
    assert!(refused(&out.result));
    assert_eq!(granted.hits(), 0);
}

#[tokio::test]
async fn loopback_is_refused_when_not_granted() {
    let server = TestServer::start().await;
    let p = probe_with(Limits::default(), HttpGrants::default()).await;
    let out = call(&p, "fetch", json!({"url": server.url("/ok")})).await;
    assert!(refused(&out.result));
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn the_metadata_address_is_refused_even_when_named() {
    let p = probe_with(Limits::default(), HttpGrants::default()).await;
    let out = call(
        &p,
        "fetch",
        json!({"url": "http://169.254.169.254/latest/meta-data/"}),
    )
    .await;
    assert!(refused(&out.result));
    // A name granted as private may reach private ranges, never metadata.
    let name = Origin::parse("http://metadata.internal").unwrap();
    let grants = HttpGrants {
        private: vec![name.clone()],
        ..HttpGrants::default()
    };
    assert!(grants.allows_address(&name, "10.0.0.7".parse().unwrap()));
    assert!(!grants.allows_address(&name, "169.254.169.254".parse().unwrap()));
}

#[tokio::test]
async fn a_granted_name_that_resolves_to_loopback_is_refused() {
    let server = TestServer::start().await;
    let by_name = Origin::parse(&format!("http://localhost:{}", server.port)).unwrap();
    let p = probe_with(Limits::default(), HttpGrants::hosts([by_name.clone()])).await;
    let out = call(
        &p,
        "fetch",
        json!({"url": format!("http://localhost:{}/ok", server.port)}),
    )
    .await;
    assert!(refused(&out.result), "{:?}", out.result);
    assert_eq!(server.hits(), 0);
    assert!(
        out.logs.iter().any(|l| l.message.contains("resolves to")),
        "{:?}",
        out.logs
    );
    // Granted as private, the same name works.
    let grants = HttpGrants {
        private: vec![by_name],
        ..HttpGrants::default()
    };
    let p = probe_with(Limits::default(), grants).await;
    let out = call(
        &p,
        "fetch",
        json!({"url": format!("http://localhost:{}/ok", server.port)}),
    )
    .await;
    assert_eq!(out.result.unwrap()["status"], 200);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_redirect_towards_a_forbidden_host_is_not_followed() {
    let granted = TestServer::start().await;
    let forbidden = TestServer::start().await;
    let p = probe_with(Limits::default(), HttpGrants::hosts([granted.origin()])).await;
    let target = forbidden.url("/ok");
    let out = call(
        &p,
        "fetch",
        json!({"url": granted.url(&format!("/redirect?to={target}"))}),
    )
    .await;
    let out = out.result.unwrap();
    assert_eq!(out["status"], 302);
    assert_eq!(out["location"], target);
    assert_eq!(forbidden.hits(), 0);
    // Following it by hand is a new request, checked again.
    let out = call(&p, "fetch", json!({"url": target})).await;
    assert!(refused(&out.result));
    assert_eq!(forbidden.hits(), 0);
}

#[tokio::test]
async fn http_response_size_is_capped() {
    let server = TestServer::start().await;
    let limits = Limits {
        http_response_bytes: 10_000,
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::hosts([server.origin()])).await;
    let ok = call(&p, "fetch", json!({"url": server.url("/big?n=9000")})).await;
    assert_eq!(ok.result.unwrap()["body"].as_str().unwrap().len(), 9000);
    let over = call(&p, "fetch", json!({"url": server.url("/big?n=50000")})).await;
    match over.result {
        Err(InvokeError::Limit { limit, .. }) => assert_eq!(limit, Limit::HttpResponseSize),
        other => panic!("expected the response size limit, got {other:?}"),
    }
}
