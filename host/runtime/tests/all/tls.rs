//! TLS of outbound HTTP against a local server with a self-signed
//! certificate: refused by default, accepted only under the operator's
//! per-origin grant (pin, CA file, or no check), and the plugin's
//! `relais-tls: operator-trust` header asks for such a grant without ever
//! reaching the server.

use relais_runtime::{
    Fingerprint, HttpGrants, InvokeError, Limits, LoadError, Outcome, PluginSettings, StepError,
    TlsGrant,
};
use serde_json::json;

use crate::tls_server::TlsServer;
use crate::{call, guest, probe_with, repo_root, runtime};

fn pinned(hex: &str) -> TlsGrant {
    TlsGrant::Pinned(vec![Fingerprint::parse(hex).unwrap()])
}

/// Grants the server's origin (a literal loopback IP: reachable when
/// granted), with `tls` for its certificates when given.
fn grants(server: &TlsServer, tls: Option<TlsGrant>) -> HttpGrants {
    let grants = HttpGrants::hosts([server.origin()]);
    match tls {
        Some(tls) => grants.with_tls(server.origin(), tls),
        None => grants,
    }
}

fn host_lines(out: &Outcome) -> Vec<String> {
    out.logs
        .iter()
        .filter(|l| l.level == "host")
        .map(|l| l.message.clone())
        .collect()
}

async fn fetch_ok(server: &TlsServer, tls: Option<TlsGrant>) -> Outcome {
    let p = probe_with(Limits::default(), grants(server, tls)).await;
    call(&p, "fetch", json!({"url": server.url("/ok")})).await
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_by_default() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let out = fetch_ok(&server, None).await;
    match &out.result {
        Err(InvokeError::Step(StepError::Retryable { message, .. })) => {
            assert!(message.contains("TLS-certificate-error"), "{message}")
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(server.heads().is_empty());
    let origin = server.origin_text();
    let fp = &server.fingerprint;
    let lines = host_lines(&out);
    let line = lines
        .iter()
        .find(|l| l.starts_with(&format!("refused the certificate of {origin}: ")))
        .unwrap_or_else(|| panic!("no refusal in {lines:?}"));
    assert!(line.contains("UnknownIssuer"), "{line}");
    assert!(
        line.ends_with(&format!(
            "(its sha256 fingerprint is {fp}); if this is the server's own self-signed \
             certificate, check that fingerprint on the server, then trust it in relais.toml: \
             [plugins.probe.http.tls.\"{origin}\"] pin_sha256 = \"{fp}\""
        )),
        "{line}"
    );
}

#[tokio::test]
async fn the_pinned_certificate_is_accepted() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let out = fetch_ok(&server, Some(pinned(&server.fingerprint))).await;
    assert_eq!(
        out.result.unwrap(),
        json!({"status": 200, "body": "hello", "location": null})
    );
    assert_eq!(server.heads().len(), 1);
    // A pin ignores the name: a certificate for another name is accepted too.
    let other = TlsServer::start(&["panel.invalid"]).await;
    let out = fetch_ok(&other, Some(pinned(&other.fingerprint))).await;
    assert_eq!(out.result.unwrap()["status"], 200);
}

#[tokio::test]
async fn a_wrong_pin_is_refused_and_the_log_shows_the_fingerprint_seen() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let wrong = "ab".repeat(32);
    let out = fetch_ok(&server, Some(pinned(&wrong))).await;
    assert!(
        matches!(out.result, Err(InvokeError::Step(_))),
        "{:?}",
        out.result
    );
    assert!(server.heads().is_empty());
    let origin = server.origin_text();
    let fp = &server.fingerprint;
    let expected = format!(
        "refused the certificate of {origin}: its sha256 fingerprint is {fp}, relais.toml pins \
         {wrong} in [plugins.probe.http.tls.\"{origin}\"]; if the server's certificate was \
         replaced, check the new one on the server and set pin_sha256 = \"{fp}\""
    );
    assert!(host_lines(&out).contains(&expected), "{:?}", out.logs);
}

#[tokio::test]
async fn a_ca_file_holding_the_certificate_is_trusted_for_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let pem = dir.path().join("panel.pem");
    std::fs::write(&pem, &server.cert_pem).unwrap();
    let out = fetch_ok(&server, Some(TlsGrant::CaFile(pem))).await;
    assert_eq!(out.result.unwrap()["body"], "hello");
    assert_eq!(server.heads().len(), 1);

    // The name is still checked: a certificate for another name is refused.
    let misnamed = TlsServer::start(&["panel.invalid"]).await;
    let pem = dir.path().join("misnamed.pem");
    std::fs::write(&pem, &misnamed.cert_pem).unwrap();
    let out = fetch_ok(&misnamed, Some(TlsGrant::CaFile(pem.clone()))).await;
    assert!(out.result.is_err());
    assert!(misnamed.heads().is_empty());
    let line = host_lines(&out)
        .into_iter()
        .find(|l| l.starts_with("refused the certificate of"))
        .expect("a refusal");
    assert!(
        line.contains("certificate not valid for name \"127.0.0.1\""),
        "{line}"
    );
    assert!(
        line.contains(&format!("checked against ca_file {}", pem.display())),
        "{line}"
    );
    assert!(line.contains(&misnamed.fingerprint), "{line}");
}

#[tokio::test]
async fn verify_false_accepts_any_certificate() {
    let server = TlsServer::start(&["panel.invalid"]).await;
    let out = fetch_ok(&server, Some(TlsGrant::Unverified)).await;
    assert_eq!(out.result.unwrap()["body"], "hello");
    assert_eq!(server.heads().len(), 1);
}

#[tokio::test]
async fn a_tls_grant_for_one_origin_does_not_relax_another() {
    let a = TlsServer::start(&["127.0.0.1"]).await;
    let b = TlsServer::start(&["127.0.0.1"]).await;
    let grants =
        HttpGrants::hosts([a.origin(), b.origin()]).with_tls(a.origin(), TlsGrant::Unverified);
    let p = probe_with(Limits::default(), grants).await;
    let out = call(&p, "fetch", json!({"url": b.url("/ok")})).await;
    assert!(out.result.is_err(), "{:?}", out.result);
    assert!(b.heads().is_empty());
    assert!(
        host_lines(&out)
            .iter()
            .any(|l| l.starts_with(&format!("refused the certificate of {}", b.origin_text()))),
        "{:?}",
        out.logs
    );
    let out = call(&p, "fetch", json!({"url": a.url("/ok")})).await;
    assert_eq!(out.result.unwrap()["body"], "hello");
    // Nor does a pin of A's certificate let B's through.
    let grants =
        HttpGrants::hosts([a.origin(), b.origin()]).with_tls(a.origin(), pinned(&a.fingerprint));
    let p = probe_with(Limits::default(), grants).await;
    let out = call(&p, "fetch", json!({"url": b.url("/ok")})).await;
    assert!(out.result.is_err());
    assert!(b.heads().is_empty());
}

#[tokio::test]
async fn an_unreadable_ca_file_stops_the_plugin_from_loading() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let missing = repo_root().join("target/no-such-ca.pem");
    let settings = PluginSettings {
        http: grants(&server, Some(TlsGrant::CaFile(missing.clone()))),
        ..PluginSettings::default()
    };
    let err = runtime().load(guest("probe"), settings).await.unwrap_err();
    assert!(matches!(err, LoadError::Tls { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "tls setting for {}: cannot read ca_file {}",
            server.origin_text(),
            missing.display()
        )),
        "{text}"
    );
    // An entry for an origin that is not granted is refused too.
    let other = TlsServer::start(&["127.0.0.1"]).await;
    let settings = PluginSettings {
        http: grants(&server, None).with_tls(other.origin(), TlsGrant::Unverified),
        ..PluginSettings::default()
    };
    let err = runtime().load(guest("probe"), settings).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the origin is not granted to the plugin"),
        "{err}"
    );
}
