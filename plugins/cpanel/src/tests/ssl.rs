use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeHost;
use serde_json::{Value, json};

use super::support::*;

fn uapi_url(function: &str) -> String {
    url(
        "uapi_cpanel",
        &format!("cpanel.user=bob&cpanel.module=SSL&cpanel.function={function}"),
    )
}

fn uapi(data: Value) -> relais_plugin_sdk::testing::FakeResponse {
    ok(
        "uapi_cpanel",
        json!({"uapi": {"status": 1, "data": data, "errors": null, "messages": null,
            "warnings": null, "metadata": {}}}),
    )
    .header("date", "Sun, 22 Nov 2026 07:04:48 GMT")
}

/// An account with two websites: one with a Let's Encrypt wildcard from
/// AutoSSL, one with an expired self-signed certificate; one domain
/// excluded from AutoSSL, one with an AutoSSL problem.
fn ssl_host() -> FakeHost {
    whm_host()
        .on(
            Method::Get,
            &uapi_url("installed_hosts"),
            uapi(json!([
                {"servername": "bob.example", "domains": ["bob.example", "www.bob.example",
                    "shop.bob.example", "mail.other.example"],
                 "certificate": {"domains": ["bob.example", "*.bob.example"],
                    "issuer.organizationName": "Let's Encrypt", "issuer.commonName": "R3",
                    "subject.commonName": "bob.example", "not_before": 1795000000,
                    "not_after": 1797000000, "is_self_signed": 0, "validation_type": "dv",
                    "is_autossl": 1}},
                {"servername": "legacy.example", "domains": ["legacy.example"],
                 "certificate": {"domains": ["legacy.example"],
                    "issuer.organizationName": null, "subject.commonName": "legacy.example",
                    "not_after": "1700000000", "is_self_signed": "1", "is_autossl": "0"}}
            ])),
        )
        .on(
            Method::Get,
            &uapi_url("get_autossl_excluded_domains"),
            uapi(json!([{"excluded_domain": "legacy.example"}])),
        )
        .on(
            Method::Get,
            &uapi_url("get_autossl_problems"),
            uapi(json!([{"domain": "mail.other.example",
                "problem": "DNS DCV: The domain resolves to elsewhere.",
                "time": "2026-11-21T03:12:44Z"}])),
        )
}

#[test]
fn reports_certificates_and_autossl_per_domain() {
    let host = ssl_host();
    let out = run(
        &host,
        "ssl-status",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    let domains = out["domains"].as_array().unwrap();
    let names: Vec<&str> = domains
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "bob.example",
            "legacy.example",
            "mail.other.example",
            "shop.bob.example",
            "www.bob.example"
        ]
    );
    assert_eq!(
        domains[0],
        json!({"domain": "bob.example", "covered": true, "autossl_excluded": false,
            "autossl_problem": null,
            "certificate": {"issuer": "Let's Encrypt", "issuer_common_name": "R3",
                "subject": "bob.example", "not_before": "2026-11-18T11:06:40Z",
                "expires_at": "2026-12-11T14:40:00Z", "expires_in_days": 19,
                "self_signed": false, "validation_type": "dv", "autossl": true}})
    );
    assert_eq!(domains[1]["autossl_excluded"], true);
    assert_eq!(domains[1]["certificate"]["expires_in_days"], -1104);
    assert_eq!(domains[1]["certificate"]["self_signed"], true);
    assert_eq!(domains[1]["certificate"]["issuer"], json!(null));
    assert_eq!(domains[2]["covered"], false, "not covered by *.bob.example");
    assert_eq!(
        domains[2]["autossl_problem"],
        "DNS DCV: The domain resolves to elsewhere."
    );
    assert_eq!(domains[3]["covered"], true);
    assert_eq!(host.requests().len(), 3);
    host.requests().iter().for_each(assert_authenticated);
}

#[test]
fn picks_the_domains_asked_for() {
    let out = run(
        &ssl_host(),
        "ssl-status",
        json!({"connection": connection(), "user": "bob",
            "domains": ["WWW.bob.example", "unknown.example", "www.bob.example"]}),
    )
    .unwrap();
    assert_eq!(
        out["domains"],
        json!([
            {"domain": "unknown.example", "covered": false, "certificate": null,
             "autossl_excluded": false, "autossl_problem": null},
            out["domains"][1].clone(),
        ])
    );
    assert_eq!(out["domains"][1]["domain"], "www.bob.example");
    assert_eq!(out["domains"][1]["covered"], true);
    let err = run(
        &ssl_host(),
        "ssl-status",
        json!({"connection": connection(), "user": "bob", "domains": ["no_domain"]}),
    )
    .unwrap_err();
    assert!(
        err.message().starts_with("domains[0] \"no_domain\""),
        "{err}"
    );
}

#[test]
fn a_uapi_failure_fails_the_step() {
    let host = whm_host().on(
        Method::Get,
        &uapi_url("installed_hosts"),
        ok(
            "uapi_cpanel",
            json!({"uapi": {"status": 0, "errors": ["You do not have the feature “sslinstall”."],
                "data": null}}),
        ),
    );
    let err = run(
        &host,
        "ssl-status",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.to_string(),
        "uapi SSL::installed_hosts for bob failed: You do not have the feature “sslinstall”."
    );
}
