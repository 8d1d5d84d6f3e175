//! Plugin `cpanel` in the real host against WHM API 1's contract
//! (`../shared/vendor-apis/cpanel/`: an OpenAPI subset written from
//! cPanel's reference pages, and `WHM_API1_CONTRACT.md`).
//!
//! Every request goes through a [`CheckedMock`] to the contract mock, which
//! validates it (path, `api.version=1`, every parameter's name and type,
//! credentials); a refused request fails the test. Scenarios the document
//! cannot script (an account already suspended, `metadata.result: 0`, a
//! refused token) are answered by the test, in the shapes of cPanel's
//! documentation, while the contract still checks the request.

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, SpecFile, invoke, load_spec,
    mount_at_server_path, name_operations, plugin, send_raw, vendor_api,
};
use relais_runtime::{InvokeError, Plugin, StepError};
use serde_json::{Value, json};

const TOKEN: &str = "U7HMR63FGY292DQZ4H5BFH16JLYMO01M";

/// The WHM document, prepared for the mock.
fn whm_contract() -> SpecFile {
    SpecFile::write(&whm_spec())
}

/// The example named `name` of `function`'s answer in the WHM document.
fn whm_example(function: &str, name: &str) -> Value {
    whm_spec()["paths"][format!("/json-api/{function}")]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"][name]["value"]
        .clone()
}

/// The WHM document as the mock serves it.
fn whm_spec() -> Value {
    let mut spec = load_spec(&vendor_api("cpanel/whm_api1_subset.openapi.yaml"));
    // The subset writes `description: 1 success, 0 failure (see reason).`
    // inside a YAML flow mapping, where the comma starts a second key; the
    // mock validates the document itself and refuses that stray key.
    let result = &mut spec["components"]["schemas"]["Metadata"]["properties"]["result"];
    if let Some(result) = result.as_object_mut() {
        result.retain(|key, _| ["type", "enum", "description"].contains(&key.as_str()));
        result.insert(
            "description".into(),
            json!("1 success, 0 failure (see reason)."),
        );
    }
    add_documented_functions(&mut spec);
    add_form_posts(&mut spec);
    mount_at_server_path(&mut spec);
    name_operations(&mut spec);
    spec
}

/// The two WHM API 1 functions the plugin calls that the subset lacks,
/// written from their reference pages:
/// api.docs.cpanel.net/specifications/whm.openapi/passwords/passwd
/// (`passwd`: `user` and `password` required; `db_pass_update`,
/// `digestauth`, `enabledigest` 0/1; `data.app` lists the services) and
/// api.docs.cpanel.net/specifications/whm.openapi/server-information/version
/// (`version`: no parameter; `data.version`).
fn add_documented_functions(spec: &mut Value) {
    let flag = json!({"type": "integer", "enum": [0, 1]});
    let envelope = |command: &str, reason: &str, data: Value| {
        json!({"200": {"description": "HTTP 200 for success and failure alike.",
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Envelope"},
                "example": {"metadata": {"command": command, "result": 1, "reason": reason,
                    "version": 1}, "data": data}}}}})
    };
    spec["paths"]["/passwd"] = json!({"get": {"operationId": "passwd",
        "parameters": [
            {"$ref": "#/components/parameters/ApiVersion"},
            {"name": "user", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "password", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "db_pass_update", "in": "query", "schema": flag},
            {"name": "digestauth", "in": "query", "schema": flag},
            {"name": "enabledigest", "in": "query", "schema": flag}],
        "responses": envelope("passwd", "Password changed for user “username”.",
            json!({"app": ["system", "ftp", "mail", "mysql"]}))}});
    spec["paths"]["/version"] = json!({"get": {"operationId": "version",
        "parameters": [{"$ref": "#/components/parameters/ApiVersion"}],
        "responses": envelope("version", "OK", json!({"version": "11.138.0.6"}))}});
}

/// WHM takes every function as a POSTed form as well as a query string
/// (the subset's own description says so, and `WHM_API1_CONTRACT.md` asks
/// mocks to accept both): each GET gets a POST twin whose form body has
/// the same parameters, with `api.version` still in the query.
fn add_form_posts(spec: &mut Value) {
    let shared = spec["components"]["parameters"].clone();
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(get) = item.get("get").cloned() else {
            continue;
        };
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        let mut query = Vec::new();
        for param in get["parameters"].as_array().into_iter().flatten() {
            let resolved = match param["$ref"].as_str() {
                Some(r) => shared[r.rsplit('/').next().unwrap_or_default()].clone(),
                None => param.clone(),
            };
            let name = resolved["name"].as_str().unwrap_or_default().to_owned();
            if name == "api.version" {
                query.push(param.clone());
                continue;
            }
            if resolved["required"] == true {
                required.push(json!(name));
            }
            properties.insert(name, resolved["schema"].clone());
        }
        let mut post = get.clone();
        post["operationId"] = json!(format!(
            "{}_form",
            get["operationId"].as_str().unwrap_or("op")
        ));
        post["parameters"] = json!(query);
        post["requestBody"] = json!({"required": true, "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object",
                "properties": properties, "required": required, "additionalProperties": false}}}});
        item["post"] = post;
    }
}

fn connection(mock: &CheckedMock) -> Value {
    json!({"url": mock.base_url(), "username": "root", "token_secret": "whm_api_token"})
}

async fn run(plugin: &Plugin, step: &str, input: Value) -> Result<Value, InvokeError> {
    let outcome = invoke(plugin, step, input, &[("whm_api_token", TOKEN)]).await;
    outcome.result
}

async fn ok(plugin: &Plugin, step: &str, input: Value) -> Value {
    run(plugin, step, input)
        .await
        .unwrap_or_else(|e| panic!("{step} failed: {e}"))
}

fn step_error(result: Result<Value, InvokeError>) -> StepError {
    match result {
        Err(InvokeError::Step(err)) => err,
        other => panic!("expected a step error, got {other:?}"),
    }
}

/// Every request carried the token the way WHM wants it.
fn assert_whm_auth(mock: &CheckedMock) {
    for exchange in mock.exchanges() {
        assert_eq!(
            exchange.request.header("authorization"),
            Some(format!("whm root:{TOKEN}").as_str()),
            "{}",
            exchange.request.path
        );
    }
}

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

/// Answers in the shapes of cPanel's reference pages: the `listaccts`
/// entry of api.docs.cpanel.net/specifications/whm.openapi/account-information/listaccts
/// (a suspended account has `suspended: 1`, `suspendreason`,
/// `suspendtime`), and the UAPI results of
/// api.docs.cpanel.net/specifications/cpanel.openapi/ssl/installed_hosts,
/// .../ssl/get_autossl_excluded_domains, .../ssl/get_autossl_problems and
/// .../resourceusage/get_usages, under `data.uapi` as `uapi_cpanel`
/// returns them (`WHM_API1_CONTRACT.md`).
fn suspended_account_server(request: &Received) -> Answer {
    let envelope = |command: &str, data: Value| {
        Reply::json(
            200,
            &json!({"metadata": {"command": command, "result": 1,
            "reason": "OK", "version": 1}, "data": data}),
        )
        .header("date", "Sun, 22 Nov 2026 07:04:48 GMT")
    };
    let uapi = |data: Value| {
        envelope(
            "uapi_cpanel",
            json!({"uapi": {"status": 1, "data": data,
        "errors": null, "messages": null, "warnings": null, "metadata": {}}}),
        )
    };
    match (
        request.path.as_str(),
        request.query_param("cpanel.function").as_deref(),
    ) {
        ("/json-api/listaccts", _) => Answer::Checked(envelope(
            "listaccts",
            json!({"acct": [{
            "user": "bob", "domain": "bob.example", "email": "bob@bob.example",
            "plan": "gold", "owner": "agency", "ip": "192.0.2.10", "suspended": 1,
            "suspendreason": "Nonpayment", "suspendtime": 1594040856, "disklimit": "1000M",
            "diskused": "250M", "unix_startdate": 1369256589}]}),
        )),
        ("/json-api/uapi_cpanel", Some("get_usages")) => Answer::Checked(uapi(json!([
            {"id": "disk_usage", "description": "Disk Usage", "usage": 262144000,
             "maximum": 1048576000, "formatter": "format_bytes"},
            {"id": "bandwidth", "description": "Bandwidth", "usage": 1073741824,
             "maximum": 10737418240u64, "formatter": "format_bytes"}]))),
        ("/json-api/uapi_cpanel", Some("installed_hosts")) => Answer::Checked(uapi(json!([
            {"servername": "bob.example", "domains": ["bob.example", "www.bob.example"],
             "certificate": {"domains": ["bob.example", "www.bob.example"],
                "issuer.organizationName": "Let's Encrypt", "issuer.commonName": "R3",
                "subject.commonName": "bob.example", "not_before": 1795000000,
                "not_after": 1797000000, "is_self_signed": 0, "validation_type": "dv",
                "is_autossl": 1}}]))),
        ("/json-api/uapi_cpanel", Some("get_autossl_excluded_domains")) => {
            Answer::Checked(uapi(json!([{"excluded_domain": "www.bob.example"}])))
        }
        ("/json-api/uapi_cpanel", Some("get_autossl_problems")) => Answer::Checked(uapi(json!([
            {"domain": "www.bob.example", "problem": "DNS DCV: no local authority",
             "time": "2026-11-21T03:12:44Z"}]))),
        _ => Answer::Contract,
    }
}

#[tokio::test]
async fn scripted_account_states_keep_the_contract() {
    let spec = whm_contract();
    let contract = ContractMock::start(spec.path(), None);
    let mock = CheckedMock::start(Some(&contract), suspended_account_server).await;
    let cpanel = plugin("cpanel", &[mock.origin()]).await;
    let conn = connection(&mock);

    let out = ok(
        &cpanel,
        "suspend-account",
        json!({"connection": conn, "user": "bob"}),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": false, "user": "bob", "suspended": true,
        "reason": "Nonpayment"})
    );
    let out = ok(
        &cpanel,
        "unsuspend-account",
        json!({"connection": conn, "user": "bob"}),
    )
    .await;
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "suspended": false, "reason": null})
    );

    let out = ok(
        &cpanel,
        "account-summary",
        json!({"connection": conn, "user": "bob"}),
    )
    .await;
    assert_eq!(out["account"]["suspended_at"], "2020-07-06T13:07:36Z");
    assert_eq!(
        out["disk"],
        json!({"used_bytes": 262144000, "limit_bytes": 1048576000,
        "percent": 25.0})
    );
    assert_eq!(
        out["bandwidth"],
        json!({"used_bytes": 1073741824u64,
        "limit_bytes": 10737418240u64, "percent": 10.0})
    );

    let out = ok(
        &cpanel,
        "ssl-status",
        json!({"connection": conn, "user": "bob"}),
    )
    .await;
    assert_eq!(
        out["domains"][0],
        json!({"domain": "bob.example", "covered": true,
        "autossl_excluded": false, "autossl_problem": null,
        "certificate": {"issuer": "Let's Encrypt", "issuer_common_name": "R3",
            "subject": "bob.example", "not_before": "2026-11-18T11:06:40Z",
            "expires_at": "2026-12-11T14:40:00Z", "expires_in_days": 19,
            "self_signed": false, "validation_type": "dv", "autossl": true}})
    );
    assert_eq!(out["domains"][1]["autossl_excluded"], true);
    assert_eq!(
        out["domains"][1]["autossl_problem"],
        "DNS DCV: no local authority"
    );

    mock.assert_contract_kept();
    assert!(
        mock.calls()
            .contains(&"GET /json-api/unsuspendacct".to_owned())
    );
}

/// A failed function is HTTP 200 with `metadata.result: 0` and the reason
/// (api.docs.cpanel.net/whm/introduction, "WHM API 1 output"). The status
/// of a refused token is not documented on the function pages
/// (`WHM_API1_CONTRACT.md`); cpsrvd answers 403 with `Access denied`, and
/// the plugin treats 401 the same way.
#[tokio::test]
async fn whm_failures_become_step_errors() {
    let spec = whm_contract();
    let contract = ContractMock::start(spec.path(), None);
    let failing = |reason: &'static str| {
        move |request: &Received| {
            if request.path == "/json-api/listaccts" {
                Answer::Checked(Reply::json(
                    200,
                    &json!({"metadata": {"command": "listaccts",
                    "result": 0, "reason": reason, "version": 1}}),
                ))
            } else {
                Answer::Contract
            }
        }
    };
    for (reason, kind) in [
        (
            "Permission denied: the token lacks the “list-accts” privilege.",
            "fatal",
        ),
        (
            "Unable to obtain a lock on the accounts database. Try again later.",
            "retryable",
        ),
    ] {
        let mock = CheckedMock::start(Some(&contract), failing(reason)).await;
        let cpanel = plugin("cpanel", &[mock.origin()]).await;
        let err = step_error(
            run(
                &cpanel,
                "suspend-account",
                json!({"connection": connection(&mock), "user": "bob"}),
            )
            .await,
        );
        let (got, message) = match &err {
            StepError::Fatal { message } => ("fatal", message),
            StepError::Retryable { message, .. } => ("retryable", message),
            StepError::InvalidInput { message } => ("invalid-input", message),
        };
        assert_eq!(got, kind, "{err}");
        assert_eq!(message, &format!("whm listaccts failed: {reason}"));
        mock.assert_contract_kept();
    }

    let failed = Reply::json(200, &whm_example("createacct", "failed"));
    let mock = CheckedMock::start(Some(&contract), move |request: &Received| {
        if request.path == "/json-api/createacct" {
            Answer::Checked(failed.clone())
        } else {
            Answer::Contract
        }
    })
    .await;
    let cpanel = plugin("cpanel", &[mock.origin()]).await;
    let err = step_error(
        run(
            &cpanel,
            "create-account",
            json!({"connection": connection(&mock),
            "user": "newuser", "domain": "new.example"}),
        )
        .await,
    );
    assert_eq!(
        err,
        StepError::Fatal {
            message: "whm createacct failed: (human-readable reason; placeholder, not a \
                      documented string)"
                .into()
        }
    );
    mock.assert_contract_kept();

    for (status, kind) in [(403, "fatal"), (401, "fatal"), (503, "retryable")] {
        let mock = CheckedMock::start(Some(&contract), move |_: &Received| {
            Answer::Checked(Reply::text(status, "text/plain", "Access denied"))
        })
        .await;
        let cpanel = plugin("cpanel", &[mock.origin()]).await;
        let err = step_error(
            run(
                &cpanel,
                "test-connection",
                json!({"connection": connection(&mock)}),
            )
            .await,
        );
        let retryable = matches!(err, StepError::Retryable { .. });
        assert_eq!(retryable, kind == "retryable", "{status}: {err}");
        assert!(!err.to_string().contains(TOKEN));
        mock.assert_contract_kept();
    }

    // Nothing listening: a connection error is retryable.
    let port = relais_contract_tests::free_port();
    let origin = relais_runtime::Origin::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let cpanel = plugin("cpanel", &[origin]).await;
    let err = step_error(
        run(
            &cpanel,
            "test-connection",
            json!({"connection": {"url": format!("http://127.0.0.1:{port}")}}),
        )
        .await,
    );
    assert!(matches!(err, StepError::Retryable { .. }), "{err}");

    // An address the plugin was not granted: fatal, nothing sent.
    let mock = CheckedMock::start(Some(&contract), |_: &Received| Answer::Contract).await;
    let cpanel = plugin("cpanel", &[]).await;
    let err = step_error(
        run(
            &cpanel,
            "test-connection",
            json!({"connection": connection(&mock)}),
        )
        .await,
    );
    assert!(matches!(err, StepError::Fatal { .. }), "{err}");
    assert!(mock.exchanges().is_empty());
}

/// The harness itself: a request WHM would refuse is refused by the
/// contract mock, and `assert_contract_kept` fails on it.
#[tokio::test]
async fn the_contract_refuses_what_whm_would() {
    let spec = whm_contract();
    let contract = ContractMock::start(spec.path(), None);
    let auth = [("authorization", "whm root:TOKEN")];
    for (method, target, headers, body, status) in [
        (
            "GET",
            "/json-api/listaccts?api.version=1",
            &auth[..],
            "",
            200,
        ),
        ("GET", "/json-api/listaccts", &auth[..], "", 422),
        (
            "GET",
            "/json-api/listaccts?api.version=1&searchtype=email",
            &auth[..],
            "",
            422,
        ),
        (
            "GET",
            "/json-api/listaccts?api.version=1&bogus=1",
            &auth[..],
            "",
            422,
        ),
        (
            "GET",
            "/json-api/createacct?api.version=1&domain=x.example",
            &auth[..],
            "",
            422,
        ),
        (
            "GET",
            "/json-api/suspendacct?api.version=1&user=bob",
            &[][..],
            "",
            401,
        ),
        ("GET", "/json-api/showbw?api.version=1", &auth[..], "", 404),
        (
            "POST",
            "/json-api/passwd?api.version=1",
            &auth[..],
            "user=bob",
            422,
        ),
        (
            "POST",
            "/json-api/passwd?api.version=1",
            &auth[..],
            "user=bob&password=x&db_pass_update=2",
            422,
        ),
        (
            "POST",
            "/json-api/passwd?api.version=1",
            &auth[..],
            "user=bob&password=x&db_pass_update=1",
            200,
        ),
    ] {
        let mut headers = headers.to_vec();
        if method == "POST" {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        let (got, body) = send_raw(contract.port, method, target, &headers, body.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            got,
            status,
            "{method} {target}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    let mock = CheckedMock::start(Some(&contract), |_: &Received| Answer::Contract).await;
    let (status, _) = send_raw(
        mock.port,
        "GET",
        "/json-api/listaccts?api.version=1&bogus=1",
        &auth,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(status, 422);
    assert!(mock.exchanges()[0].refused());
    let kept =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mock.assert_contract_kept()));
    assert!(kept.is_err(), "a refused request must fail the test");
}
