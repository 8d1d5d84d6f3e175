//! Every step, in the real host, against the WHM contract.

use relais_contract_tests::{Answer, CheckedMock, ContractMock, Received, Reply, plugin};
use serde_json::{Value, json};

use super::{assert_whm_auth, connection, ok, whm_contract, whm_example};

#[tokio::test]
async fn every_step_keeps_the_whm_contract() {
    let spec = whm_contract();
    let contract = ContractMock::start(spec.path(), None);
    // `createacct` has two examples, `ok` and `failed`, and the mock may
    // serve either: the document's `ok` one is sent here, `failed` in
    // `whm_failures_become_step_errors`.
    let created = Reply::json(200, &whm_example("createacct", "ok"));
    let mock = CheckedMock::start(Some(&contract), move |request: &Received| {
        if request.path == "/json-api/createacct" {
            Answer::Checked(created.clone())
        } else {
            Answer::Contract
        }
    })
    .await;
    let cpanel = plugin("cpanel", &[mock.origin()]).await;
    let conn = connection(&mock);
    let with = |extra: Value| {
        let mut input = extra;
        input["connection"] = conn.clone();
        input
    };

    let out = ok(&cpanel, "test-connection", with(json!({}))).await;
    assert_eq!(
        out,
        json!({"ok": true, "version": "11.138.0.6", "username": "root"})
    );

    // The document's listaccts example is one account, `username` at
    // example.com, on package `default`, not suspended.
    let out = ok(
        &cpanel,
        "create-account",
        with(json!({"user": "newuser",
        "domain": "new.example", "package": "default", "contact_email": "ann@new.example",
        "password_secret": "whm_api_token", "dedicated_ip": false})),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "newuser", "domain": "new.example",
        "package": "default", "ip": "192.0.2.0",
        "nameservers": ["ns1.example.com", "ns2.example.com"]})
    );
    let out = ok(
        &cpanel,
        "create-account",
        with(json!({"user": "username",
        "domain": "example.com"})),
    )
    .await;
    assert_eq!(out["changed"], false);
    assert_eq!(out["ip"], "192.168.0.128");

    let out = ok(
        &cpanel,
        "suspend-account",
        with(json!({"user": "username",
        "reason": "Unpaid invoice 1042", "lock_for_reseller": true})),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "username", "suspended": true,
        "reason": "Unpaid invoice 1042"})
    );
    let out = ok(
        &cpanel,
        "unsuspend-account",
        with(json!({"user": "username"})),
    )
    .await;
    assert_eq!(
        out["changed"], false,
        "the example account is not suspended"
    );

    let out = ok(
        &cpanel,
        "change-package",
        with(json!({"user": "username",
        "package": "package1"})),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "username", "package": "package1",
        "previous_package": "default"})
    );
    let out = ok(
        &cpanel,
        "change-package",
        with(json!({"user": "username",
        "package": "default"})),
    )
    .await;
    assert_eq!(out["changed"], false);

    let out = ok(
        &cpanel,
        "change-password",
        with(json!({"user": "username",
        "password_secret": "whm_api_token"})),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "username",
        "services": ["system", "ftp", "mail", "mysql"]})
    );

    let out = ok(
        &cpanel,
        "list-accounts",
        with(json!({"domain": "example.com"})),
    )
    .await;
    assert_eq!(out["count"], 1);
    assert_eq!(out["accounts"][0]["disk_used_bytes"], 14 * 1024 * 1024);
    assert_eq!(out["accounts"][0]["disk_limit_bytes"], Value::Null);
    assert_eq!(out["accounts"][0]["created_at"], "2013-05-22T21:03:09Z");
    let out = ok(
        &cpanel,
        "list-accounts",
        with(json!({"suspended": true,
        "owner": "root"})),
    )
    .await;
    assert_eq!(out["count"], 0);

    let out = ok(
        &cpanel,
        "account-summary",
        with(json!({"user": "username"})),
    )
    .await;
    assert_eq!(out["account"]["user"], "username");
    assert_eq!(
        out["disk"],
        json!({"used_bytes": 14680064, "limit_bytes": null, "percent": null})
    );
    assert_eq!(
        out["bandwidth"],
        Value::Null,
        "the example UAPI answer has no data"
    );

    let out = ok(&cpanel, "list-packages", with(json!({}))).await;
    assert_eq!(out["packages"][0]["name"], "package1");
    assert_eq!(out["packages"][0]["cgi"], true);
    assert_eq!(out["packages"][0]["bandwidth_mb"], "unlimited");

    let out = ok(&cpanel, "ssl-status", with(json!({"user": "username"}))).await;
    assert_eq!(out, json!({"user": "username", "domains": []}));

    let out = ok(
        &cpanel,
        "terminate-account",
        with(json!({"user": "username",
        "keep_dns": true})),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "username", "domain": "example.com",
        "kept_dns": true})
    );
    let out = ok(
        &cpanel,
        "terminate-account",
        with(json!({"user": "nobody"})),
    )
    .await;
    assert_eq!(out["changed"], false);

    mock.assert_contract_kept();
    assert_whm_auth(&mock);
    let calls = mock.calls();
    for call in [
        "GET /json-api/version",
        "POST /json-api/createacct",
        "GET /json-api/suspendacct",
        "GET /json-api/changepackage",
        "POST /json-api/passwd",
        "GET /json-api/listpkgs",
        "GET /json-api/uapi_cpanel",
        "GET /json-api/removeacct",
    ] {
        assert!(calls.iter().any(|c| c == call), "{call} not in {calls:?}");
    }
    for exchange in mock.exchanges() {
        assert_eq!(
            exchange.request.query_param("api.version").as_deref(),
            Some("1")
        );
        if exchange.request.method == "POST" {
            let form = exchange.request.form_pairs();
            assert!(form.iter().any(|(k, _)| k == "password"), "{form:?}");
            assert!(!exchange.request.query.contains("password"));
        }
    }
}
