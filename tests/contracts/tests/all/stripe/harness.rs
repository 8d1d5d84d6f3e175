//! The Stripe contract mock with Stripe's fixtures, behind a checking proxy,
//! and the plugin granted to it.

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, invoke, plugin, vendor_api,
};
use relais_runtime::{InvokeError, Plugin};
use serde_json::{Value, json};

use super::{KEY, SECRETS};

/// Stripe's fixture object for `resource` (`customer`, `invoice`, ...).
pub(super) fn fixture(resource: &str) -> Value {
    let path = vendor_api("stripe/fixtures3.json");
    let all: Value = serde_json::from_slice(&std::fs::read(path).expect("read the fixtures"))
        .expect("fixtures3.json is JSON");
    all["resources"][resource].clone()
}

/// Stripe's list envelope around `data`.
pub(super) fn list(url: &str, data: Vec<Value>) -> Reply {
    Reply::json(
        200,
        &json!({"object": "list", "data": data, "has_more": false, "url": url}),
    )
}

/// The mock's own answer, except for the list endpoints it cannot answer.
pub(super) fn fixtures_script(request: &Received) -> Answer {
    match request.path.as_str() {
        "/v1/customers" => Answer::Checked(list("/v1/customers", vec![fixture("customer")])),
        "/v1/customers/search" => Answer::Checked(Reply::json(
            200,
            &json!({"object": "search_result", "data": [fixture("customer")],
                    "has_more": false, "next_page": null, "url": "/v1/customers/search"}),
        )),
        "/v1/invoices" if request.method == "GET" => {
            let mut open = fixture("invoice");
            open["status"] = json!("open");
            Answer::Checked(list("/v1/invoices", vec![open]))
        }
        "/v1/refunds" if request.method == "GET" => {
            Answer::Checked(list("/v1/refunds", vec![fixture("refund")]))
        }
        _ => Answer::Contract,
    }
}

pub(super) struct Stripe {
    pub(super) mock: CheckedMock,
    pub(super) plugin: Plugin,
    _contract: ContractMock,
}

impl Stripe {
    pub(super) async fn start(
        script: impl Fn(&Received) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let contract = ContractMock::start_quick(
            &vendor_api("stripe/spec3.json"),
            Some(&vendor_api("stripe/fixtures3.json")),
        );
        let mock = CheckedMock::start(Some(&contract), script).await;
        let plugin = plugin("stripe", &[mock.origin()]).await;
        Self {
            mock,
            plugin,
            _contract: contract,
        }
    }

    pub(super) fn input(&self, mut input: Value) -> Value {
        input["connection"] = json!({"base_url": self.mock.base_url()});
        input
    }

    pub(super) async fn call(&self, step: &str, input: Value) -> Result<Value, InvokeError> {
        invoke(&self.plugin, step, self.input(input), SECRETS)
            .await
            .result
    }

    pub(super) async fn ok(&self, step: &str, input: Value) -> Value {
        self.call(step, input)
            .await
            .unwrap_or_else(|err| panic!("{step}: {err}"))
    }

    /// Every request kept the contract, and carried the key and version.
    pub(super) fn assert_requests_kept_the_contract(&self) {
        self.mock.assert_contract_kept();
        for exchange in self.mock.exchanges() {
            let request = &exchange.request;
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer {KEY}").as_str())
            );
            assert_eq!(request.header("stripe-version"), Some("2024-04-10"));
            let key = request.header("idempotency-key");
            match request.method.as_str() {
                "POST" => assert!(
                    key.is_some_and(|k| k.starts_with("run-contract/")),
                    "{} {} has no idempotency key",
                    request.method,
                    request.path
                ),
                _ => assert_eq!(key, None, "{} {}", request.method, request.path),
            }
        }
    }
}
