use relais_plugin_sdk::http::Method;
use serde_json::json;

use super::support::*;

fn create_input() -> serde_json::Value {
    json!({"connection": connection(), "login": "jdoe", "name": "John Doe",
        "email": "jdoe@example.org", "password_secret": "jdoe_pw", "company": "Doe & Co",
        "external_id": "cus_42"})
}

#[test]
fn create_client_posts_the_documented_body() {
    let host = with_client(0).with_secret("jdoe_pw", "changeme1Q**").on(
        Method::Post,
        &api("/clients"),
        relais_plugin_sdk::testing::FakeResponse::status(201)
            .json(&json!({"id": 100, "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc"})),
    );
    let out = run(&host, "create-client", create_input()).unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "id": 100, "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc",
            "login": "jdoe"})
    );
    let requests = host.requests();
    assert_eq!(
        host.request_lines(),
        [
            format!("GET {}", api("/clients")),
            format!("POST {}", api("/clients"))
        ]
    );
    requests.iter().for_each(assert_key);
    assert_eq!(
        requests[1].json(),
        json!({"name": "John Doe", "login": "jdoe", "password": "changeme1Q**",
            "email": "jdoe@example.org", "type": "customer", "company": "Doe & Co",
            "external_id": "cus_42"})
    );
    assert!(host.logs().iter().all(|l| !l.message.contains("changeme")));
}

#[test]
fn create_client_is_a_no_op_when_the_login_exists() {
    let host = with_client(0).with_secret("jdoe_pw", "x");
    let mut input = create_input();
    input["login"] = json!("ann");
    let out = run(&host, "create-client", input).unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "id": 9, "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc",
            "login": "ann"})
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn create_client_refusals_are_invalid_input_unless_a_lost_attempt_created_it() {
    let host = with_client(0).with_secret("jdoe_pw", "weak").on(
        Method::Post,
        &api("/clients"),
        error(400, "Password is too weak"),
    );
    let err = run(&host, "create-client", create_input()).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert_eq!(
        err.to_string(),
        "plesk POST /clients returned 400: Password is too weak"
    );

    let host = plesk_host()
        .with_secret("jdoe_pw", "x")
        .on_once(Method::Get, &api("/clients"), json_ok(json!([])))
        .on(
            Method::Get,
            &api("/clients"),
            json_ok(json!([client(100, "jdoe", 0)])),
        )
        .on(
            Method::Post,
            &api("/clients"),
            error(400, "Account with this name already exists"),
        );
    let out = run(&host, "create-client", create_input()).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["id"], 100);
}

#[test]
fn create_client_checks_input_first() {
    for (field, value, why) in [
        ("login", json!("j doe"), "login \"j doe\""),
        ("email", json!("nope"), "email"),
        ("name", json!(" "), "name must be"),
        ("type", json!("admin"), "unknown variant `admin`"),
        ("password", json!("x"), "unknown field `password`"),
    ] {
        let mut input = create_input();
        input[field] = value;
        let host = plesk_host().with_secret("jdoe_pw", "x");
        let err = run(&host, "create-client", input).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{field}: {err}");
        assert!(err.message().contains(why), "{field}: {err}");
        assert!(host.requests().is_empty());
    }
}

#[test]
fn get_client_by_id_or_login() {
    let host = with_client(16);
    let out = run(
        &host,
        "get-client",
        json!({"connection": connection(), "id": 7}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"id": 7, "login": "john", "name": "John Smith", "company": "Plesk",
            "email": "john_smith@msn.com", "type": "customer", "status": "suspended",
            "status_code": 16, "created": "2016-11-13",
            "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "external_id": "link:12345",
            "owner_login": "admin", "locale": "en-US", "description": "Nice guy"})
    );
    let out = run(
        &host,
        "get-client",
        json!({"connection": connection(), "login": "ann"}),
    )
    .unwrap();
    assert_eq!(out["id"], 9);
    assert_eq!(out["status"], "active");

    let host = plesk_host().on(
        Method::Get,
        &api("/clients/8"),
        error(404, "Client is not found"),
    );
    let err = run(
        &host,
        "get-client",
        json!({"connection": connection(), "id": 8}),
    )
    .unwrap_err();
    assert_eq!(
        err,
        relais_plugin_sdk::StepError::fatal("no Plesk client with id 8")
    );
    for input in [json!({}), json!({"id": 7, "login": "john"})] {
        let mut input = input;
        input["connection"] = connection();
        let err = run(&plesk_host(), "get-client", input).unwrap_err();
        assert_eq!(
            err.to_string(),
            "give the client's id or its login (one of them)"
        );
    }
}

#[test]
fn suspend_and_activate_clients_only_when_needed() {
    let host = with_client(0).on(
        Method::Put,
        &api("/clients/7/suspend"),
        json_ok(json!({"status": "success"})),
    );
    let out = run(
        &host,
        "suspend-client",
        json!({"connection": connection(), "id": 7}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "id": 7, "login": "john", "status": "suspended"})
    );
    assert_eq!(host.requests()[1].method, Method::Put);
    assert!(host.requests()[1].body.is_empty());

    let host = with_client(16);
    let out = run(
        &host,
        "suspend-client",
        json!({"connection": connection(), "login": "john"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 1);

    let host = with_client(16).on(
        Method::Put,
        &api("/clients/7/activate"),
        json_ok(json!({"status": "success"})),
    );
    let out = run(
        &host,
        "activate-client",
        json!({"connection": connection(), "id": 7}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["status"], "active");
    let host = with_client(0);
    let out = run(
        &host,
        "activate-client",
        json!({"connection": connection(), "id": 7}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
}

#[test]
fn delete_client_both_ways() {
    let host = with_client(0).on(
        Method::Delete,
        &api("/clients/7"),
        json_ok(json!({"id": 7, "guid": "g"})),
    );
    let out = run(
        &host,
        "delete-client",
        json!({"connection": connection(), "login": "john"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "id": 7, "login": "john", "status": "deleted"})
    );

    let host = plesk_host().on(
        Method::Get,
        &api("/clients/8"),
        error(404, "Client is not found"),
    );
    let out = run(
        &host,
        "delete-client",
        json!({"connection": connection(), "id": 8}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "id": 8, "login": null, "status": "deleted"})
    );
    assert_eq!(host.requests().len(), 1);
}
