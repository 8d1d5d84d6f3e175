//! Account states and failures the document cannot script, answered in
//! the shapes of cPanel's documentation while the contract still checks
//! every request; and the harness's own refusals.

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, free_port, plugin, send_raw,
};
use relais_runtime::{Origin, StepError};
use serde_json::{Value, json};

use super::{TOKEN, connection, ok, run, step_error, whm_contract, whm_example};

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
    let port = free_port();
    let origin = Origin::parse(&format!("http://127.0.0.1:{port}")).unwrap();
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
