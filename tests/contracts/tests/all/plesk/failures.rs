//! Plesk's refusals, a broken network and the contract's own refusals.

use relais_contract_tests::{Answer, CheckedMock, Received, Reply, free_port, plugin, send_raw};
use relais_runtime::{InvokeError, Origin, StepError};
use serde_json::json;

use super::steps::run;
use super::{KEY, Panel, connection, contract};

fn step_error(result: Result<serde_json::Value, InvokeError>) -> StepError {
    match result {
        Err(InvokeError::Step(err)) => err,
        other => panic!("expected a step error, got {other:?}"),
    }
}

/// A 400 carries the document's `ErrorResponse` (`{"code", "message"}`,
/// the example message is its own). The document declares no answer for
/// refused credentials; the plugin treats 401 and 403 alike (both tried).
#[tokio::test]
async fn plesk_refusals_become_step_errors() {
    let contract = contract();
    let panel = Panel::new(&contract.spec);
    let refusing = panel.clone();
    let mock = CheckedMock::start(Some(&contract.mock), move |request: &Received| {
        if request.method == "POST" && request.path == "/api/v2/clients" {
            Answer::Checked(Reply::json(400, &refusing.example("ErrorResponse")))
        } else {
            refusing.answer(request)
        }
    })
    .await;
    let plesk = plugin("plesk", &[mock.origin()]).await;
    let err = step_error(
        run(
            &plesk,
            "create-client",
            json!({"connection": connection(&mock),
            "login": "newcustomer", "name": "Ann", "email": "ann@example.org",
            "password_secret": "new_password"}),
        )
        .await,
    );
    assert_eq!(
        err,
        StepError::InvalidInput {
            message: "plesk POST /clients returned 400: Account with this name already exists"
                .into()
        }
    );
    mock.assert_contract_kept();

    for (status, retryable) in [(401, false), (403, false), (503, true), (429, true)] {
        let mock = CheckedMock::start(Some(&contract.mock), move |_: &Received| {
            Answer::Checked(Reply::json(
                status,
                &json!({"code": status, "message": "refused"}),
            ))
        })
        .await;
        let plesk = plugin("plesk", &[mock.origin()]).await;
        let err = step_error(
            run(
                &plesk,
                "test-connection",
                json!({"connection": connection(&mock)}),
            )
            .await,
        );
        assert_eq!(
            matches!(err, StepError::Retryable { .. }),
            retryable,
            "{status}: {err}"
        );
        if !retryable {
            assert_eq!(
                err.to_string(),
                format!(
                    "fatal: plesk refused the credentials for GET /server (http {status}): \
                         check the API key in secret plesk_api_key"
                )
            );
        }
        assert!(!err.to_string().contains(KEY));
        mock.assert_contract_kept();
    }

    // XML-RPC refuses a key at packet level (the panel checks `KEY`).
    let mock = super::serve(&contract, &panel).await;
    let plesk = plugin("plesk", &[mock.origin()]).await;
    let result = relais_contract_tests::invoke(
        &plesk,
        "change-plan",
        json!({"connection": connection(&mock), "domain": "example.com", "plan": "Unlimited"}),
        &[("plesk_api_key", "not-the-key")],
    )
    .await
    .result;
    let err = step_error(result);
    assert_eq!(
        err.to_string(),
        "fatal: plesk refused the credentials for xml api service-plan get (Authentication \
         failed - wrong secret key.): check the API key in secret plesk_api_key"
    );

    // Nothing listening: retryable. Not granted: fatal, nothing sent.
    let port = free_port();
    let origin = Origin::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let plesk = plugin("plesk", &[origin]).await;
    let err = step_error(
        run(
            &plesk,
            "test-connection",
            json!({"connection": {"url": format!("http://127.0.0.1:{port}")}}),
        )
        .await,
    );
    assert!(matches!(err, StepError::Retryable { .. }), "{err}");
    let mock = super::serve(&contract, &panel).await;
    let plesk = plugin("plesk", &[]).await;
    let err = step_error(
        run(
            &plesk,
            "test-connection",
            json!({"connection": connection(&mock)}),
        )
        .await,
    );
    assert!(matches!(err, StepError::Fatal { .. }), "{err}");
    assert!(mock.exchanges().is_empty());
}

/// The harness itself: requests Plesk's document refuses are refused, and
/// `assert_contract_kept` fails on them.
#[tokio::test]
async fn the_contract_refuses_what_plesk_would() {
    let contract = contract();
    let key = [("x-api-key", KEY)];
    let json_key = [("x-api-key", KEY), ("content-type", "application/json")];
    for (method, target, headers, body, status) in [
        ("GET", "/api/v2/server", &key[..], "", 200),
        ("GET", "/api/v2/server", &[][..], "", 401),
        ("GET", "/server", &key[..], "", 404),
        ("PUT", "/api/v2/clients/john/suspend", &key[..], "", 422),
        (
            "GET",
            "/api/v2/domains?name=example.com&bogus=1",
            &key[..],
            "",
            422,
        ),
        (
            "PUT",
            "/api/v2/domains/7/status",
            &json_key[..],
            r#"{"status":"paused"}"#,
            422,
        ),
        (
            "PUT",
            "/api/v2/domains/7/status",
            &json_key[..],
            r#"{"status":"suspended"}"#,
            200,
        ),
        (
            "POST",
            "/api/v2/clients",
            &json_key[..],
            r#"{"name":"a","login":"b","email":"c@d.e","type":"customer"}"#,
            422,
        ),
        (
            "POST",
            "/api/v2/clients",
            &json_key[..],
            r#"{"name":"a","login":"b","email":"c@d.e","type":"owner","password":"x"}"#,
            422,
        ),
        (
            "POST",
            "/api/v2/domains",
            &json_key[..],
            r#"{"name":"x.example","owner_client":{"login":"john"}}"#,
            422,
        ),
        (
            "POST",
            "/api/v2/domains",
            &json_key[..],
            r#"{"name":"x.example","plan":{"name":"Unlimited"},"ip_addresses":["192.0.2.1"]}"#,
            201,
        ),
    ] {
        let (got, answer) = send_raw(contract.mock.port, method, target, headers, body.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            got,
            status,
            "{method} {target} {body}: {}",
            String::from_utf8_lossy(&answer)
        );
    }

    let mock = CheckedMock::start(Some(&contract.mock), |_: &Received| Answer::Contract).await;
    let (status, _) = send_raw(mock.port, "PUT", "/api/v2/clients/john/activate", &key, b"")
        .await
        .unwrap();
    assert_eq!(status, 422);
    let kept =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mock.assert_contract_kept()));
    assert!(kept.is_err(), "a refused request must fail the test");
}
