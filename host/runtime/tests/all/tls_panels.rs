//! The panel connectors (`target/plugins/cpanel.wasm`, `plesk.wasm`) with
//! `connection.verify_tls: false` against a self-signed local panel: the
//! request is refused until the operator grants the origin a TLS setting,
//! then passes under it, and the `relais-tls` header never reaches the
//! panel.

use std::sync::Arc;

use relais_runtime::{
    Context, Fingerprint, HttpGrants, Invocation, InvokeError, MemoryKv, Outcome, Plugin,
    PluginSettings, Secrets, StepError, TlsGrant,
};
use serde_json::{Value, json};

use crate::tls_server::TlsServer;
use crate::{repo_root, runtime};

const TOKEN: &str = "U7HMR63FGY292DQZ4H5BFH16JLYMO01M";

async fn panel(name: &str, http: HttpGrants) -> Plugin {
    let path = repo_root().join(format!("target/plugins/{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh plugin-{name}",
        path.display()
    );
    let settings = PluginSettings {
        http,
        ..PluginSettings::default()
    };
    runtime().load(&path, settings).await.expect("load panel").0
}

async fn test_connection(p: &Plugin, secret: &str, connection: Value) -> Outcome {
    p.invoke(Invocation {
        step: "test-connection".into(),
        input: json!({"connection": connection}).to_string(),
        context: Context::default(),
        secrets: [(secret, TOKEN)].into_iter().collect::<Secrets>(),
        kv: Arc::new(MemoryKv::default()),
    })
    .await
}

fn pin(server: &TlsServer) -> HttpGrants {
    let fp = Fingerprint::parse(&server.fingerprint).unwrap();
    HttpGrants::hosts([server.origin()]).with_tls(server.origin(), TlsGrant::Pinned(vec![fp]))
}

fn assert_no_tls_header(server: &TlsServer) {
    let heads = server.heads();
    assert!(!heads.is_empty());
    for head in heads {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("relais-tls"), "{head}");
        assert!(!lower.contains("operator-trust"), "{head}");
    }
}

#[tokio::test]
async fn verify_tls_false_without_a_grant_is_refused_before_any_connection() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let p = panel("cpanel", HttpGrants::hosts([server.origin()])).await;
    let out = test_connection(
        &p,
        "whm_api_token",
        json!({"url": server.origin_text(), "verify_tls": false}),
    )
    .await;
    match &out.result {
        Err(InvokeError::Step(StepError::Fatal { message })) => assert!(
            message.ends_with(
                "refused by the host: HTTP-request-denied: connection.verify_tls is false, so \
                 relais.toml must grant this panel a TLS setting (pin_sha256 or ca_file; the \
                 run log names the section)"
            ),
            "{message}"
        ),
        other => panic!("expected a fatal refusal, got {other:?}"),
    }
    let origin = server.origin_text();
    let expected = format!(
        "refused request to {origin}: connection.verify_tls is false (the plugin sent \
         relais-tls: operator-trust) but relais.toml grants no TLS setting for {origin}: add \
         [plugins.cpanel.http.tls.\"{origin}\"] pin_sha256 = \"<the certificate's sha256 \
         fingerprint>\" (or ca_file = \"<PEM file>\")"
    );
    assert!(
        out.logs
            .iter()
            .any(|l| l.level == "host" && l.message == expected),
        "{:?}",
        out.logs
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn under_the_operators_pin_the_panel_answers_and_never_sees_the_header() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let p = panel("cpanel", pin(&server)).await;
    let out = test_connection(
        &p,
        "whm_api_token",
        json!({"url": server.origin_text(), "verify_tls": false}),
    )
    .await;
    assert_eq!(
        out.result.unwrap(),
        json!({"ok": true, "version": "11.110.0.8", "username": "root"})
    );
    assert_no_tls_header(&server);
    assert!(
        server.heads()[0].to_ascii_lowercase().contains(&format!(
            "authorization: whm root:{}",
            TOKEN.to_ascii_lowercase()
        )),
        "{:?}",
        server.heads()
    );
    // The operator's grant applies whatever the step says.
    let out = test_connection(&p, "whm_api_token", json!({"url": server.origin_text()})).await;
    assert_eq!(out.result.unwrap()["version"], "11.110.0.8");
    assert_eq!(server.heads().len(), 2);
}

#[tokio::test]
async fn plesk_with_verify_tls_false_follows_the_same_rule() {
    let server = TlsServer::start(&["127.0.0.1"]).await;
    let connection = json!({"url": server.origin_text(), "verify_tls": false});
    let bare = panel("plesk", HttpGrants::hosts([server.origin()])).await;
    let out = test_connection(&bare, "plesk_api_key", connection.clone()).await;
    assert!(
        matches!(&out.result, Err(InvokeError::Step(StepError::Fatal { message }))
            if message.contains("connection.verify_tls is false")),
        "{:?}",
        out.result
    );
    assert_eq!(server.connections(), 0);
    let pinned = panel("plesk", pin(&server)).await;
    let out = test_connection(&pinned, "plesk_api_key", connection).await;
    assert_eq!(out.result.unwrap()["panel_version"], "18.0.62");
    assert_no_tls_header(&server);
}
