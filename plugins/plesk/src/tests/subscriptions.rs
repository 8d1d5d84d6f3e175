use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::json;

use super::support::*;

fn create_input() -> serde_json::Value {
    json!({"connection": connection(), "domain": "Shop.Example", "owner_login": "john",
        "plan": "Unlimited", "ip_addresses": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "ftp_login": "shopftp", "ftp_password_secret": "ftp_pw"})
}

#[test]
fn create_subscription_sends_owner_plan_and_hosting() {
    let host = with_client(0)
        .with_secret("ftp_pw", "changeme1Q**")
        .on(
            Method::Get,
            &api("/domains?name=shop.example"),
            json_ok(json!([])),
        )
        .on(
            Method::Post,
            &api("/domains"),
            FakeResponse::status(201).json(&json!({"id": 5, "guid": "b623e93d"})),
        );
    let out = run(&host, "create-subscription", create_input()).unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "id": 5, "guid": "b623e93d", "name": "shop.example"})
    );
    let post = host.requests().into_iter().last().unwrap();
    assert_key(&post);
    assert_eq!(
        post.json(),
        json!({"name": "shop.example", "hosting_type": "virtual",
            "hosting_settings": {"ftp_login": "shopftp", "ftp_password": "changeme1Q**"},
            "ip_addresses": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
            "plan": {"name": "Unlimited"},
            "owner_client": {"id": 7, "login": "john",
                "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "external_id": "link:12345"}})
    );
}

#[test]
fn create_subscription_is_a_no_op_when_the_domain_exists() {
    let host = with_domain("active").with_secret("ftp_pw", "x");
    let out = run(&host, "create-subscription", create_input()).unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "id": 5, "guid": "b623e93d-dc72-4102-b5f0-ded427cf0fb1",
            "name": "shop.example"})
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn create_subscription_checks_input_first() {
    for (field, value, why) in [
        ("domain", json!("shop"), "domain \"shop\""),
        ("ip_addresses", json!([]), "ip_addresses is empty"),
        ("ip_addresses", json!(["300.1.1.1"]), "ip_addresses[0]"),
        ("ftp_login", json!("shop ftp"), "ftp_login"),
        ("plan", json!(""), "plan is empty"),
    ] {
        let mut input = create_input();
        input[field] = value;
        let host = plesk_host().with_secret("ftp_pw", "x");
        let err = run(&host, "create-subscription", input).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{field}: {err}");
        assert!(err.message().contains(why), "{field}: {err}");
        assert!(host.requests().is_empty());
    }
    let host = plesk_host()
        .with_secret("ftp_pw", "x")
        .on(
            Method::Get,
            &api("/domains?name=shop.example"),
            json_ok(json!([])),
        )
        .on(Method::Get, &api("/clients"), json_ok(json!([])));
    let err = run(&host, "create-subscription", create_input()).unwrap_err();
    assert_eq!(err.to_string(), "no Plesk client with login \"john\"");
}

#[test]
fn get_subscription_and_status() {
    let host = with_domain("suspended");
    let out = run(
        &host,
        "get-subscription",
        json!({"connection": connection(), "domain": "shop.example"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"id": 5, "name": "shop.example", "ascii_name": "shop.example",
            "hosting_type": "virtual", "www_root": "/var/www/vhosts/shop.example/httpdocs",
            "guid": "b623e93d-dc72-4102-b5f0-ded427cf0fb1", "created": "2016-11-13",
            "aliases": ["alias-shop.example"], "status": "suspended"})
    );
    let out = run(
        &host,
        "subscription-status",
        json!({"connection": connection(), "id": 5}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "id": 5, "name": "shop.example", "status": "suspended"})
    );

    let host = plesk_host().on(
        Method::Get,
        &api("/domains?name=gone.example"),
        json_ok(json!([])),
    );
    let err = run(
        &host,
        "subscription-status",
        json!({"connection": connection(), "domain": "gone.example"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no Plesk subscription for \"gone.example\""
    );
    assert_eq!(err.kind(), "fatal");
}

#[test]
fn suspend_and_activate_subscriptions_only_when_needed() {
    let host = with_domain("active").on(
        Method::Put,
        &api("/domains/5/status"),
        json_ok(json!({"status": "suspended"})),
    );
    let out = run(
        &host,
        "suspend-subscription",
        json!({"connection": connection(), "domain": "shop.example"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "id": 5, "name": "shop.example", "status": "suspended"})
    );
    let put = host.requests().into_iter().last().unwrap();
    assert_eq!(put.json(), json!({"status": "suspended"}));

    let host = with_domain("suspended");
    let out = run(
        &host,
        "suspend-subscription",
        json!({"connection": connection(), "id": 5}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 2);

    let host = with_domain("suspended").on(
        Method::Put,
        &api("/domains/5/status"),
        json_ok(json!({"status": "active"})),
    );
    let out = run(
        &host,
        "activate-subscription",
        json!({"connection": connection(), "id": 5}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(
        host.requests().into_iter().last().unwrap().json(),
        json!({"status": "active"})
    );
}

const PLAN_GET: &str = "<service-plan><get><result><status>ok</status><id>2</id>\
    <guid>cc982f71-48c3-479d-bc7b-59b97547e092</guid><name>Unlimited</name></result></get></service-plan>";

fn webspace(plan_guids: &[&str]) -> String {
    let plans: String = plan_guids
        .iter()
        .map(|g| format!("<plan><plan-guid>{g}</plan-guid></plan>"))
        .collect();
    format!(
        "<webspace><get><result><status>ok</status><filter-id>shop.example</filter-id><id>5</id>\
         <data><subscriptions><subscription><locked>false</locked><synchronized>true</synchronized>\
         {plans}</subscription></subscriptions></data></result></get></webspace>"
    )
}

fn xml_host(plan: &str, current: &str) -> relais_plugin_sdk::testing::FakeHost {
    let plan = plan.to_owned();
    let current = current.to_owned();
    plesk_host().on_request(move |request| {
        let body = request.text();
        if request.url != AGENT {
            return None;
        }
        if body.contains("<service-plan><get>") {
            Some(packet(&plan))
        } else if body.contains("<webspace><get>") {
            Some(packet(&current))
        } else if body.contains("<switch-subscription>") {
            Some(packet("<webspace><switch-subscription><result><status>ok</status>\
                <filter-id>shop.example</filter-id><id>5</id></result></switch-subscription></webspace>"))
        } else {
            None
        }
    })
}

#[test]
fn change_plan_switches_through_xml_rpc() {
    let host = xml_host(
        PLAN_GET,
        &webspace(&["b9808ead-875a-c30f-d9bf-eb03ad12c89c"]),
    );
    let out = run(
        &host,
        "change-plan",
        json!({"connection": connection(), "domain": "shop.example", "plan": "Unlimited"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "domain": "shop.example", "plan": "Unlimited",
            "plan_guid": "cc982f71-48c3-479d-bc7b-59b97547e092"})
    );
    let requests = host.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_key(request);
        assert_eq!(
            request.header("content-type"),
            Some("text/xml; charset=UTF-8")
        );
    }
    assert_eq!(
        requests[0].text(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet><service-plan><get><filter><name>Unlimited</name></filter></get></service-plan></packet>"
    );
    assert_eq!(
        requests[1].text(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet><webspace><get><filter><name>shop.example</name></filter><dataset><subscriptions/></dataset></get></webspace></packet>"
    );
    assert_eq!(
        requests[2].text(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet><webspace><switch-subscription><filter><name>shop.example</name></filter><plan-guid>cc982f71-48c3-479d-bc7b-59b97547e092</plan-guid></switch-subscription></webspace></packet>"
    );
}

#[test]
fn change_plan_to_the_current_plan_changes_nothing() {
    let host = xml_host(
        PLAN_GET,
        &webspace(&["cc982f71-48c3-479d-bc7b-59b97547e092", "addon-guid"]),
    );
    let out = run(
        &host,
        "change-plan",
        json!({"connection": connection(), "domain": "shop.example", "plan": "Unlimited"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn change_plan_errors() {
    let missing = "<service-plan><get><result><status>error</status><errcode>1013</errcode>\
        <errtext>Service plan does not exist</errtext></result></get></service-plan>";
    let host = xml_host(missing, "");
    let err = run(
        &host,
        "change-plan",
        json!({"connection": connection(), "domain": "shop.example", "plan": "Gold & <Co>"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no service plan named \"Gold & <Co>\" on this server"
    );
    assert_eq!(err.kind(), "invalid-input");
    assert!(
        host.requests()[0]
            .text()
            .contains("<name>Gold &amp; &lt;Co&gt;</name>")
    );

    let gone = "<webspace><get><result><status>error</status><errcode>1013</errcode>\
        <errtext>Domain does not exist</errtext></result></get></webspace>";
    let err = run(
        &xml_host(PLAN_GET, gone),
        "change-plan",
        json!({"connection": connection(), "domain": "shop.example", "plan": "Unlimited"}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no Plesk subscription for \"shop.example\""
    );

    let auth = plesk_host().on(
        Method::Post,
        AGENT,
        packet("<system><status>error</status><errcode>1001</errcode><errtext>Authentication failed - wrong password.</errtext></system>"),
    );
    let err = run(
        &auth,
        "change-plan",
        json!({"connection": connection(), "domain": "shop.example", "plan": "Unlimited"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.to_string(),
        "plesk refused the credentials for xml api service-plan get (Authentication failed - wrong password.): check the API key in secret plesk_api_key"
    );
}
