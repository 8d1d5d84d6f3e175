use relais_plugin_sdk::http::Method;
use serde_json::json;

use super::support::*;

fn list_url(search: &str) -> String {
    if search.is_empty() {
        url("listaccts", WANT)
    } else {
        url("listaccts", &format!("{WANT}&{search}&searchmethod=exact"))
    }
}

#[test]
fn list_accounts_filters_and_sorts() {
    let host = whm_host().on(
        Method::Get,
        &list_url(""),
        accounts(vec![
            account("zed", "zed.example", true, "gold"),
            account("amy", "amy.example", false, "gold"),
            account("bob", "bob.example", true, "silver"),
        ]),
    );
    let out = run(
        &host,
        "list-accounts",
        json!({"connection": connection(), "suspended": true}),
    )
    .unwrap();
    assert_eq!(out["count"], 2);
    assert_eq!(out["truncated"], false);
    let users: Vec<&str> = out["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["bob", "zed"]);
    assert_eq!(
        out["accounts"][0],
        json!({"user": "bob", "domain": "bob.example", "email": "bob@bob.example",
            "package": "silver", "owner": "root", "ip": "192.0.2.10", "suspended": true,
            "suspend_reason": "Nonpayment", "suspended_at": "2020-07-06T13:07:36Z",
            "created_at": "2013-05-22T21:03:09Z", "disk_used_bytes": 262144000,
            "disk_limit_bytes": 1048576000})
    );

    let out = run(
        &host,
        "list-accounts",
        json!({"connection": connection(), "limit": 1}),
    )
    .unwrap();
    assert_eq!(out["count"], 3);
    assert_eq!(out["truncated"], true);
    assert_eq!(out["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(out["accounts"][0]["user"], "amy");
}

#[test]
fn list_accounts_searches_domain_at_whm_and_owner_here() {
    let host = whm_host().on(
        Method::Get,
        &list_url("search=bob.example&searchtype=domain"),
        accounts(vec![account("bob", "bob.example", false, "gold")]),
    );
    let out = run(
        &host,
        "list-accounts",
        json!({"connection": connection(), "domain": "BOB.example", "owner": "agency"}),
    )
    .unwrap();
    assert_eq!(out["count"], 0, "bob is owned by root, not agency");

    let host = whm_host().on(
        Method::Get,
        &list_url("search=agency&searchtype=owner"),
        accounts(vec![]),
    );
    let out = run(
        &host,
        "list-accounts",
        json!({"connection": connection(), "owner": "agency"}),
    )
    .unwrap();
    assert_eq!(out, json!({"count": 0, "truncated": false, "accounts": []}));
}

#[test]
fn list_accounts_limit_bounds() {
    for (limit, ok) in [(0, false), (1, true), (10_000, true), (10_001, false)] {
        let host = whm_host().on(Method::Get, &list_url(""), accounts(vec![]));
        let out = run(
            &host,
            "list-accounts",
            json!({"connection": connection(), "limit": limit}),
        );
        assert_eq!(out.is_ok(), ok, "{limit}: {out:?}");
        if !ok {
            assert_eq!(out.unwrap_err().kind(), "invalid-input");
        }
    }
}

fn usages_url() -> String {
    url(
        "uapi_cpanel",
        "cpanel.user=bob&cpanel.module=ResourceUsage&cpanel.function=get_usages",
    )
}

#[test]
fn account_summary_adds_usage_against_limits() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold"))).on(
        Method::Get,
        &usages_url(),
        ok(
            "uapi_cpanel",
            json!({"uapi": {"status": 1, "errors": null, "messages": null, "warnings": null,
                "metadata": {}, "data": [
                    {"id": "disk_usage", "description": "Disk Usage", "usage": 262144000,
                     "maximum": 1048576000, "formatter": "format_bytes"},
                    {"id": "bandwidth", "description": "Bandwidth", "usage": 5368709120u64,
                     "maximum": null, "formatter": "format_bytes"},
                    {"id": "addon_domains", "usage": 1, "maximum": 5}]}}),
        ),
    );
    let out = run(
        &host,
        "account-summary",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(out["account"]["domain"], "bob.example");
    assert_eq!(
        out["disk"],
        json!({"used_bytes": 262144000u64, "limit_bytes": 1048576000u64, "percent": 25.0})
    );
    assert_eq!(
        out["bandwidth"],
        json!({"used_bytes": 5368709120u64, "limit_bytes": null, "percent": null})
    );
    assert_eq!(out["warnings"], json!([]));
}

#[test]
fn account_summary_survives_a_failing_uapi_call() {
    let host = host_with("bob", Some(account("bob", "bob.example", true, "gold"))).on(
        Method::Get,
        &usages_url(),
        ok(
            "uapi_cpanel",
            json!({"uapi": {"status": 0, "errors": ["The account is suspended."],
                "data": null}}),
        ),
    );
    let out = run(
        &host,
        "account-summary",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(
        out["disk"],
        json!({"used_bytes": 262144000u64, "limit_bytes": 1048576000u64, "percent": 25.0})
    );
    assert_eq!(out["bandwidth"], json!(null));
    assert_eq!(
        out["warnings"],
        json!([
            "bandwidth unknown: uapi ResourceUsage::get_usages for bob failed: The account is suspended."
        ])
    );
}

#[test]
fn list_packages_reads_whm_limits() {
    let host = whm_host().on(
        Method::Get,
        &url("listpkgs", ""),
        ok(
            "listpkgs",
            json!({"pkg": [
                {"name": "silver", "QUOTA": "1000", "BWLIMIT": "unlimited", "MAXFTP": "5",
                 "MAXPOP": "10", "MAXSQL": "2", "MAXSUB": "unlimited", "MAXADDON": "0",
                 "MAXPARK": "0", "MAXLST": "0", "MAX_EMAIL_PER_HOUR": "250", "CGI": "y",
                 "HASSHELL": "n", "IP": "n", "CPMOD": "jupiter", "FEATURELIST": "default",
                 "LANG": "en"},
                {"name": "gold"}]}),
        ),
    );
    let out = run(&host, "list-packages", json!({"connection": connection()})).unwrap();
    assert_eq!(out["packages"][0]["name"], "gold");
    assert_eq!(
        out["packages"][1],
        json!({"name": "silver", "disk_quota_mb": 1000, "bandwidth_mb": "unlimited",
            "max_email_accounts": 10, "max_databases": 2, "max_ftp_accounts": 5,
            "max_subdomains": "unlimited", "max_addon_domains": 0, "max_parked_domains": 0,
            "max_mailing_lists": 0, "max_emails_per_hour": 250, "feature_list": "default",
            "theme": "jupiter", "language": "en", "shell": false, "cgi": true,
            "dedicated_ip": false})
    );
}
