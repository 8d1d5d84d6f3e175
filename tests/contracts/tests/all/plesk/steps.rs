//! Every step, in the real host, against the document.

use relais_contract_tests::{invoke, plugin};
use relais_runtime::{InvokeError, Plugin, StepError};
use serde_json::{Value, json};

use super::{KEY, OLD_PLAN_GUID, PLAN_GUID, Panel, connection, contract, serve};

pub(super) async fn run(plesk: &Plugin, step: &str, input: Value) -> Result<Value, InvokeError> {
    invoke(
        plesk,
        step,
        input,
        &[("plesk_api_key", KEY), ("new_password", "changeme1Q**")],
    )
    .await
    .result
}

async fn ok(plesk: &Plugin, step: &str, input: Value) -> Value {
    run(plesk, step, input)
        .await
        .unwrap_or_else(|e| panic!("{step} failed: {e}"))
}

#[tokio::test]
async fn every_step_keeps_the_plesk_contract() {
    let contract = contract();
    let panel = Panel::new(&contract.spec);
    let mock = serve(&contract, &panel).await;
    let plesk = plugin("plesk", &[mock.origin()]).await;
    let conn = connection(&mock);
    let with = |extra: Value| {
        let mut input = extra;
        input["connection"] = conn.clone();
        input
    };

    // The document's examples: ServerMeta, ServerIp, Client 7
    // `john-unit-test`, DomainResponse 7 `example.com`, CreatedResponse 100.
    let out = ok(&plesk, "test-connection", with(json!({}))).await;
    assert_eq!(
        out,
        json!({"ok": true, "hostname": "example.com", "panel_version": "17.9.3"})
    );
    let out = ok(&plesk, "server-info", with(json!({}))).await;
    assert_eq!(
        out,
        json!({"hostname": "example.com", "platform": "Unix", "panel_version": "17.9.3",
            "panel_update_version": "10", "panel_build_date": "2018-06-20",
            "guid": "baa58292-fee0-4ecb-9da1-bba0cc5adea7", "extension_version": "1.1.0",
            "ips": [{"ipv4": "93.184.216.34", "ipv6": "2606:2800:220:1:248:1893:25c8:1946",
                "type": "exclusive", "interface": "eth0"}]})
    );

    let new_client = json!({"login": "newcustomer", "name": "Ann Client",
        "email": "ann@example.org", "password_secret": "new_password", "company": "Ann & Co",
        "locale": "fr-FR", "external_id": "cus_42", "description": "from billing"});
    let out = ok(&plesk, "create-client", with(new_client.clone())).await;
    assert_eq!(
        out,
        json!({"changed": true, "id": 100,
        "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "login": "newcustomer"})
    );
    let mut existing = new_client;
    existing["login"] = json!("john-unit-test");
    let out = ok(&plesk, "create-client", with(existing)).await;
    assert_eq!(out["changed"], false);
    assert_eq!(out["id"], 7);

    let out = ok(&plesk, "get-client", with(json!({"id": 7}))).await;
    assert_eq!(
        out,
        json!({"id": 7, "login": "john-unit-test", "name": "John Smith", "company": "Plesk",
            "email": "john_smith@msn.com", "type": "reseller", "status": "active",
            "status_code": 0, "created": "2016-11-13",
            "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "external_id": "link:12345",
            "owner_login": "admin", "locale": "en-US", "description": "Nice guy"})
    );

    for (step, changed, status) in [
        ("suspend-client", true, "suspended"),
        ("suspend-client", false, "suspended"),
        ("activate-client", true, "active"),
        ("activate-client", false, "active"),
    ] {
        let out = ok(&plesk, step, with(json!({"login": "john-unit-test"}))).await;
        assert_eq!(
            out,
            json!({"changed": changed, "id": 7, "login": "john-unit-test",
            "status": status}),
            "{step}"
        );
    }

    let subscription = json!({"domain": "new.example", "owner_login": "john-unit-test",
        "plan": "Unlimited", "ip_addresses": ["93.184.216.34"], "ftp_login": "newftp",
        "ftp_password_secret": "new_password", "description": "shop"});
    let out = ok(&plesk, "create-subscription", with(subscription.clone())).await;
    assert_eq!(
        out,
        json!({"changed": true, "id": 100,
        "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "name": "new.example"})
    );
    let mut existing = subscription;
    existing["domain"] = json!("example.com");
    let out = ok(&plesk, "create-subscription", with(existing)).await;
    assert_eq!(out["changed"], false);
    assert_eq!(out["id"], 7);

    let out = ok(
        &plesk,
        "get-subscription",
        with(json!({"domain": "example.com"})),
    )
    .await;
    assert_eq!(
        out,
        json!({"id": 7, "name": "example.com", "ascii_name": "ascii-example.com",
            "hosting_type": "virtual", "www_root": "/var/www/vhosts/example.com/httpdocs",
            "guid": "b623e93d-dc72-4102-b5f0-ded427cf0fb1", "created": "2016-11-13",
            "aliases": ["example.com"], "status": "active"})
    );
    for (step, changed, status) in [
        ("suspend-subscription", true, "suspended"),
        ("suspend-subscription", false, "suspended"),
        ("subscription-status", false, "suspended"),
        ("activate-subscription", true, "active"),
        ("activate-subscription", false, "active"),
    ] {
        let out = ok(&plesk, step, with(json!({"id": 7}))).await;
        assert_eq!(
            out,
            json!({"changed": changed, "id": 7, "name": "example.com",
            "status": status}),
            "{step}"
        );
    }

    for changed in [true, false] {
        let out = ok(
            &plesk,
            "change-plan",
            with(json!({"domain": "example.com",
            "plan": "Unlimited"})),
        )
        .await;
        assert_eq!(
            out,
            json!({"changed": changed, "domain": "example.com", "plan": "Unlimited",
            "plan_guid": PLAN_GUID})
        );
    }
    assert_eq!(panel.state.lock().unwrap().plan_guid, PLAN_GUID);
    assert_ne!(PLAN_GUID, OLD_PLAN_GUID);
    match run(
        &plesk,
        "change-plan",
        with(json!({"domain": "example.com", "plan": "Gold"})),
    )
    .await
    {
        Err(InvokeError::Step(StepError::InvalidInput { message })) => {
            assert_eq!(message, "no service plan named \"Gold\" on this server");
        }
        other => panic!("unknown plan: {other:?}"),
    }

    let out = ok(&plesk, "delete-client", with(json!({"id": 7}))).await;
    assert_eq!(
        out,
        json!({"changed": true, "id": 7, "login": "john-unit-test",
        "status": "deleted"})
    );
    let out = ok(&plesk, "delete-client", with(json!({"id": 7}))).await;
    assert_eq!(
        out,
        json!({"changed": false, "id": 7, "login": null, "status": "deleted"})
    );

    mock.assert_contract_kept();
    let exchanges = mock.exchanges();
    assert!(exchanges.len() > 30, "{}", exchanges.len());
    for exchange in &exchanges {
        let request = &exchange.request;
        if request.path.starts_with("/api/v2/") {
            assert_eq!(request.header("x-api-key"), Some(KEY), "{}", request.path);
            assert!(
                exchange.contract.is_some(),
                "{} was not checked",
                request.path
            );
        } else {
            assert_eq!(request.path, "/enterprise/control/agent.php");
        }
    }
    let created: Vec<Value> = exchanges
        .iter()
        .filter(|e| e.request.method == "POST" && e.request.path.starts_with("/api/v2/"))
        .map(|e| e.request.json())
        .collect();
    assert_eq!(
        created,
        [
            json!({"name": "Ann Client", "login": "newcustomer", "password": "changeme1Q**",
                "email": "ann@example.org", "type": "customer", "company": "Ann & Co",
                "locale": "fr-FR", "external_id": "cus_42", "description": "from billing"}),
            json!({"name": "new.example", "hosting_type": "virtual",
                "hosting_settings": {"ftp_login": "newftp", "ftp_password": "changeme1Q**"},
                "ip_addresses": ["93.184.216.34"], "plan": {"name": "Unlimited"},
                "owner_client": {"id": 7, "login": "john-unit-test",
                    "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "external_id": "link:12345"},
                "description": "shop"}),
        ]
    );
}
