//! `get-customer` and `find-customers`.

use std::collections::BTreeMap;

use relais_plugin_sdk::http::Method;
use serde_json::json;

use super::{BASE, host, ok, run};
use crate::customers::search_query;

#[test]
fn get_customer_returns_its_metadata() {
    let host = host().on(
        Method::Get,
        &format!("{BASE}/v1/customers/cus_1"),
        ok(json!({
            "id": "cus_1", "object": "customer", "email": "ann@example.com", "name": "Ann",
            "balance": -500, "delinquent": true, "created": 1700000000, "livemode": true,
            "metadata": {"cpanel_user": "ann"}, "invoice_settings": {"default_payment_method": null},
        })),
    );
    let out = run(&host, "get-customer", json!({"customer": "cus_1"})).unwrap();
    assert_eq!(
        out,
        json!({
            "id": "cus_1", "deleted": false, "email": "ann@example.com", "name": "Ann",
            "phone": null, "description": null, "currency": null, "balance": -500,
            "delinquent": true, "created": 1700000000, "livemode": true,
            "metadata": {"cpanel_user": "ann"},
        })
    );
    assert_eq!(host.logs()[1].message, "read customer cus_1");
}

#[test]
fn a_deleted_customer_says_so() {
    let host = host().on(
        Method::Get,
        &format!("{BASE}/v1/customers/cus_1"),
        ok(json!({"id": "cus_1", "object": "customer", "deleted": true})),
    );
    let out = run(&host, "get-customer", json!({"customer": "cus_1"})).unwrap();
    assert_eq!(out["deleted"], true);
    assert_eq!(out["metadata"], json!({}));
}

#[test]
fn find_by_email_lists_customers() {
    let url = format!("{BASE}/v1/customers?email=ann%40example.com&limit=10");
    let host = host().on(
        Method::Get,
        &url,
        ok(json!({"object": "list", "data": [{"id": "cus_1", "email": "ann@example.com"}], "has_more": false})),
    );
    let out = run(&host, "find-customers", json!({"email": "ann@example.com"})).unwrap();
    assert_eq!(out["count"], 1);
    assert_eq!(out["has_more"], false);
    assert_eq!(out["customers"][0]["id"], "cus_1");
}

#[test]
fn find_by_metadata_searches() {
    let url = format!(
        "{BASE}/v1/customers/search?query=email%3A%27ann%40example.com%27+AND+metadata%5B%27cpanel_user%27%5D%3A%27ann%27&limit=100"
    );
    let host = host().on(
        Method::Get,
        &url,
        ok(json!({"object": "search_result", "data": [{"id": "cus_1"}, {"id": "cus_2"}], "has_more": true})),
    );
    let out = run(
        &host,
        "find-customers",
        json!({"email": "ann@example.com", "metadata": {"cpanel_user": "ann"}, "limit": 100}),
    )
    .unwrap();
    assert_eq!(out["count"], 2);
    assert_eq!(out["has_more"], true);
}

#[test]
fn find_refuses_bad_input_before_any_request() {
    let host = host();
    for (input, message) in [
        (json!({}), "give email, metadata or both"),
        (json!({"metadata": {}}), "give email, metadata or both"),
        (json!({"email": "ann"}), "is not an email address"),
        (
            json!({"email": "ann@example.com", "limit": 0}),
            "limit: 0 is not between 1 and 100",
        ),
        (
            json!({"email": "ann@example.com", "limit": 101}),
            "limit: 101 is not between 1 and 100",
        ),
        (json!({"metadata": {"it's": "x"}}), "cannot be searched"),
    ] {
        let err = run(&host, "find-customers", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{input}: {err}");
    }
    assert!(host.requests().is_empty());
}

#[test]
fn search_values_are_quoted() {
    let metadata = BTreeMap::from([("a".to_owned(), "O'Brien \\ co".to_owned())]);
    assert_eq!(
        search_query(Some("o'neil@example.com"), &metadata).unwrap(),
        "email:'o\\'neil@example.com' AND metadata['a']:'O\\'Brien \\\\ co'"
    );
    assert_eq!(
        search_query(None, &metadata).unwrap(),
        "metadata['a']:'O\\'Brien \\\\ co'"
    );
    for key in ["", "a]b", "a\\"] {
        let metadata = BTreeMap::from([(key.to_owned(), "v".to_owned())]);
        assert!(search_query(None, &metadata).is_err(), "{key:?}");
    }
}
