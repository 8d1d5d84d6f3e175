use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::json;

use super::support::*;

#[test]
fn create_account_posts_the_form_and_reports_whm_data() {
    let host = host_with("bob", None)
        .with_secret("bob_password", "s3cret pass&=")
        .on(
            Method::Post,
            &url("createacct", ""),
            ok(
                "createacct",
                json!({"ip": "192.0.2.20", "nameserver": "ns1.example.net",
                    "nameserver2": "ns2.example.net", "nameserver3": "", "nameserver4": "",
                    "package": "gold"}),
            ),
        );
    let out = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "Bob-Shop.example",
            "package": "gold", "contact_email": "bob@example.org",
            "password_secret": "bob_password", "owner": "agency", "dedicated_ip": true}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "domain": "bob-shop.example", "package": "gold",
            "ip": "192.0.2.20", "nameservers": ["ns1.example.net", "ns2.example.net"]})
    );
    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    let create = &requests[1];
    assert_authenticated(create);
    assert_eq!(
        create.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        create.text(),
        "username=bob&domain=bob-shop.example&plan=gold&contactemail=bob%40example.org\
         &password=s3cret+pass%26%3D&owner=agency&ip=y"
    );
    assert!(
        !create.url.contains("s3cret"),
        "the password stays out of the URL"
    );
    assert!(host.logs().iter().all(|l| !l.message.contains("s3cret")));
}

#[test]
fn create_account_is_a_no_op_when_it_exists_with_the_domain() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold")));
    let out = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "bob.example"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["package"], "gold");
    assert_eq!(host.request_lines(), [get(&lookup("bob"))]);
}

#[test]
fn create_account_refuses_a_user_taken_for_another_domain() {
    let host = host_with("bob", Some(account("bob", "other.example", false, "gold")));
    let err = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "bob.example"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("\"other.example\""), "{err}");
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn create_account_retry_finds_what_a_lost_attempt_created() {
    let host = whm_host()
        .on_once(Method::Get, &lookup("bob"), accounts(vec![]))
        .on(
            Method::Get,
            &lookup("bob"),
            accounts(vec![account("bob", "bob.example", false, "default")]),
        )
        .on(
            Method::Post,
            &url("createacct", ""),
            failed(
                "createacct",
                "Sorry, a group for that username already exists.",
            ),
        );
    let out = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "bob.example"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn create_account_reports_whm_refusals_as_invalid_input() {
    let host = host_with("bob", None).on(
        Method::Post,
        &url("createacct", ""),
        failed(
            "createacct",
            "example.com is already in use by another account",
        ),
    );
    let err = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "example.com"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "whm createacct failed: example.com is already in use by another account"
    );
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn create_account_checks_input_before_any_request() {
    for (input, why) in [
        (
            json!({"user": "Bob", "domain": "bob.example"}),
            "user \"Bob\"",
        ),
        (json!({"user": "bob", "domain": "bob"}), "domain \"bob\""),
        (
            json!({"user": "bob", "domain": "b.example", "contact_email": "nope"}),
            "contact_email",
        ),
        (
            json!({"user": "bob", "domain": "b.example", "owner": "Agency"}),
            "owner \"Agency\"",
        ),
        (
            json!({"user": "bob", "domain": "b.example", "password": "x"}),
            "unknown field `password`",
        ),
    ] {
        let mut input = input;
        input["connection"] = connection();
        let host = whm_host();
        let err = run(&host, "create-account", input).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{why}: {err}");
        assert!(err.message().contains(why), "{why}: {err}");
        assert!(host.requests().is_empty());
    }
    let host = host_with("bob", None);
    let err = run(
        &host,
        "create-account",
        json!({"connection": connection(), "user": "bob", "domain": "b.example",
            "password_secret": "missing"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret missing is not granted to this step"
    );
    assert!(host.requests().is_empty());
}

#[test]
fn suspend_sends_reason_and_lock() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold"))).on(
        Method::Get,
        &url(
            "suspendacct",
            "user=bob&reason=Unpaid+invoice+1042&disallowun=1",
        ),
        ok("suspendacct", json!(null)),
    );
    let out = run(
        &host,
        "suspend-account",
        json!({"connection": connection(), "user": "bob", "reason": "Unpaid invoice 1042",
            "lock_for_reseller": true}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "suspended": true,
            "reason": "Unpaid invoice 1042"})
    );
    assert_eq!(host.requests().len(), 2);
    host.requests().iter().for_each(assert_authenticated);
}

#[test]
fn suspending_a_suspended_account_changes_nothing() {
    let host = host_with("bob", Some(account("bob", "bob.example", true, "gold")));
    let out = run(
        &host,
        "suspend-account",
        json!({"connection": connection(), "user": "bob", "reason": "again"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "user": "bob", "suspended": true, "reason": "Nonpayment"})
    );
    assert_eq!(host.request_lines(), [get(&lookup("bob"))]);
}

#[test]
fn suspend_treats_whms_already_suspended_as_no_change() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold"))).on(
        Method::Get,
        &url("suspendacct", "user=bob"),
        failed("suspendacct", "bob is already suspended."),
    );
    let out = run(
        &host,
        "suspend-account",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
}

#[test]
fn suspend_of_a_missing_account_is_fatal() {
    let host = host_with("ghost", None);
    let err = run(
        &host,
        "suspend-account",
        json!({"connection": connection(), "user": "ghost"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message().starts_with("no cPanel account \"ghost\""),
        "{err}"
    );
}

#[test]
fn unsuspend_both_ways() {
    let host = host_with("bob", Some(account("bob", "bob.example", true, "gold"))).on(
        Method::Get,
        &url("unsuspendacct", "user=bob"),
        ok("unsuspendacct", json!(null)),
    );
    let out = run(
        &host,
        "unsuspend-account",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "suspended": false, "reason": null})
    );
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold")));
    let out = run(
        &host,
        "unsuspend-account",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn terminate_both_ways() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold"))).on(
        Method::Get,
        &url("removeacct", "username=bob&keepdns=1"),
        ok("removeacct", json!(null)),
    );
    let out = run(
        &host,
        "terminate-account",
        json!({"connection": connection(), "user": "bob", "keep_dns": true}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "domain": "bob.example", "kept_dns": true})
    );
    let host = host_with("bob", None);
    let out = run(
        &host,
        "terminate-account",
        json!({"connection": connection(), "user": "bob"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "user": "bob", "domain": null, "kept_dns": false})
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn change_package_checks_the_package_then_changes_it() {
    let packages = ok(
        "listpkgs",
        json!({"pkg": [{"name": "gold"}, {"name": "silver"}]}),
    );
    let host = host_with("bob", Some(account("bob", "bob.example", false, "silver")))
        .on(Method::Get, &url("listpkgs", ""), packages.clone())
        .on(
            Method::Get,
            &url("changepackage", "user=bob&pkg=gold"),
            ok("changepackage", json!(null)),
        );
    let out = run(
        &host,
        "change-package",
        json!({"connection": connection(), "user": "bob", "package": "gold"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "package": "gold", "previous_package": "silver"})
    );
    assert_eq!(host.requests().len(), 3);

    let host = host_with("bob", Some(account("bob", "bob.example", false, "silver"))).on(
        Method::Get,
        &url("listpkgs", ""),
        packages,
    );
    let err = run(
        &host,
        "change-package",
        json!({"connection": connection(), "user": "bob", "package": "platinum"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "package \"platinum\" does not exist on this server (packages: gold, silver)"
    );
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn change_package_to_the_same_package_changes_nothing() {
    let host = host_with("bob", Some(account("bob", "bob.example", false, "gold")));
    let out = run(
        &host,
        "change-package",
        json!({"connection": connection(), "user": "bob", "package": "gold"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn change_password_posts_it_from_the_secret() {
    let host = whm_host().with_secret("new_pw", "n3w-P@ss").on(
        Method::Post,
        &url("passwd", ""),
        ok("passwd", json!({"app": ["system", "ftp", "mail", "mysql"]})),
    );
    let out = run(
        &host,
        "change-password",
        json!({"connection": connection(), "user": "bob", "password_secret": "new_pw",
            "update_database_password": false}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "user": "bob", "services": ["system", "ftp", "mail", "mysql"]})
    );
    let request = &host.requests()[0];
    assert_eq!(
        request.text(),
        "user=bob&password=n3w-P%40ss&db_pass_update=0"
    );
    assert_authenticated(request);

    let host = whm_host().with_secret("new_pw", "");
    let err = run(
        &host,
        "change-password",
        json!({"connection": connection(), "user": "bob", "password_secret": "new_pw"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret new_pw is empty: it cannot be a password"
    );
    assert!(host.requests().is_empty());
}

#[test]
fn weak_passwords_are_invalid_input() {
    let host = whm_host().with_secret("new_pw", "abc").on(
        Method::Post,
        &url("passwd", ""),
        FakeResponse::ok().json(&json!({"metadata": {"command": "passwd", "result": 0,
            "reason": "The password you selected cannot be used because it is too weak.",
            "version": 1}})),
    );
    let err = run(
        &host,
        "change-password",
        json!({"connection": connection(), "user": "bob", "password_secret": "new_pw"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}
