//! Plugin `twilio` in the real host against Twilio's OpenAPI document
//! (`../shared/vendor-apis/twilio/twilio_api_v2010.json`).
//!
//! Every request goes through a [`CheckedMock`] to the contract mock, which
//! validates it (account SID and message SID patterns, parameter types,
//! basic auth); a refused request fails the test. Twilio's document leaves
//! request bodies open (no `additionalProperties: false`), so a misspelt
//! parameter would pass the mock: the test also checks that every form
//! field and query parameter sent is one the document declares.
//!
//! Scenarios the examples cannot give (an attempt that got no answer, a
//! recipient who opted out) are scripted from Twilio's documentation, cited
//! where they are written; the request is still validated first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, basic_auth, invoke_with_kv, load_spec,
    plugin, step_error, vendor_api,
};
use relais_runtime::{InvokeError, MemoryKv, Plugin, StepError};
use serde_json::{Value, json};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "d41d8cd98f00b204e9800998ecf8427e";
const SECRETS: &[(&str, &str)] = &[
    ("twilio_account_sid", ACCOUNT),
    ("twilio_auth_token", TOKEN),
];
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// The parameter names the document declares for the Messages list (query)
/// and create (form body) operations.
fn declared_names() -> (Vec<String>, Vec<String>) {
    let spec = load_spec(&vendor_api("twilio/twilio_api_v2010.json"));
    let item = &spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"];
    let query = item["get"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let form = item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        ["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    (query, form)
}

struct Twilio {
    mock: CheckedMock,
    plugin: Plugin,
    kv: Arc<MemoryKv>,
    _contract: ContractMock,
}

impl Twilio {
    async fn start(script: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Self {
        // QUICK: the mock compiles a schema when a request first needs it;
        // validation is the same, and the mock starts in a second instead of
        // about ten.
        let contract = ContractMock::start_quick(&vendor_api("twilio/twilio_api_v2010.json"), None);
        let mock = CheckedMock::start(Some(&contract), script).await;
        let plugin = plugin("twilio", &[mock.origin()]).await;
        Self {
            mock,
            plugin,
            kv: Arc::new(MemoryKv::default()),
            _contract: contract,
        }
    }

    async fn call(&self, step: &str, mut input: Value) -> Result<Value, InvokeError> {
        input["connection"] = json!({"base_url": self.mock.base_url()});
        invoke_with_kv(&self.plugin, step, input, SECRETS, self.kv.clone())
            .await
            .result
    }

    async fn ok(&self, step: &str, input: Value) -> Value {
        self.call(step, input)
            .await
            .unwrap_or_else(|err| panic!("{step}: {err}"))
    }

    /// The contract kept, basic auth on every request, and only declared
    /// parameters sent.
    fn assert_requests_kept_the_contract(&self) {
        self.mock.assert_contract_kept();
        let (query, form) = declared_names();
        let basic = basic_auth(ACCOUNT, TOKEN);
        for exchange in self.mock.exchanges() {
            let request = &exchange.request;
            assert_eq!(request.header("authorization"), Some(basic.as_str()));
            for (name, _) in request.query_pairs() {
                assert!(
                    query.contains(&name),
                    "query parameter {name} is not in the document"
                );
            }
            if request.method == "POST" {
                for (name, _) in request.form_pairs() {
                    assert!(
                        form.contains(&name),
                        "form field {name} is not in the document"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn an_sms_is_sent_and_its_status_read() {
    let twilio = Twilio::start(|_: &Received| Answer::Contract).await;
    let out = twilio
        .ok(
            "send-sms",
            json!({"to": "+33612345678", "from": "+33700000000", "body": "Your payment failed"}),
        )
        .await;
    assert_eq!(out["changed"], true);
    // The document's example message.
    assert_eq!(out["message"]["sid"], "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(out["message"]["status"], "queued");
    assert_eq!(out["message"]["num_segments"], "1");
    let sid = out["message"]["sid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The document's example of a message read back is `sent`: on its way,
    // not delivered yet.
    let out = twilio.ok("message-status", json!({"message": sid})).await;
    assert_eq!(out["message"]["status"], "sent");
    assert_eq!(out["pending"], true);
    assert_eq!(out["delivered"], false);
    let out = twilio
        .ok(
            "message-status",
            json!({"message": sid, "wait_until": "sent"}),
        )
        .await;
    assert_eq!(out["message"]["status"], "sent");
    let err = step_error(
        twilio
            .call(
                "message-status",
                json!({"message": sid, "wait_until": "delivered"}),
            )
            .await,
    );
    assert!(
        matches!(&err, StepError::Retryable { message, .. } if message.ends_with("is still sent")),
        "{err:?}"
    );

    // Another step (a store of its own): a messaging service, media, a
    // status callback and a validity period. Two media URLs: the mock reads
    // a form field given once as text and refuses it where the document
    // declares an array (`MediaUrl`), while Twilio takes one `MediaUrl` as
    // well as several (a false result of the mock, not of the request).
    let mut other = json!({"to": "whatsapp:+33612345678", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef",
                           "body": "Votre paiement a échoué ✗",
                           "media_url": ["https://cdn.example.com/invoice.png", "https://cdn.example.com/logo.png"],
                           "status_callback": "https://relais.example.com/hooks/sms", "validity_period": 3600});
    other["connection"] = json!({"base_url": twilio.mock.base_url()});
    let out = invoke_with_kv(
        &twilio.plugin,
        "send-sms",
        other,
        SECRETS,
        Arc::new(MemoryKv::default()),
    )
    .await
    .result
    .unwrap_or_else(|err| panic!("send-sms: {err}"));
    assert_eq!(out["changed"], true);

    twilio.assert_requests_kept_the_contract();
    assert_eq!(
        twilio.mock.calls(),
        [
            format!("POST {MESSAGES}"),
            format!(
                "GET {}/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
                MESSAGES.trim_end_matches(".json")
            ),
            format!(
                "GET {}/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
                MESSAGES.trim_end_matches(".json")
            ),
            format!(
                "GET {}/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
                MESSAGES.trim_end_matches(".json")
            ),
            format!("POST {MESSAGES}"),
        ]
    );
    let last = &twilio.mock.exchanges()[4].request;
    assert!(
        last.form_pairs()
            .contains(&("Body".to_owned(), "Votre paiement a échoué ✗".to_owned()))
    );
    assert!(last.form_pairs().contains(&(
        "MediaUrl".to_owned(),
        "https://cdn.example.com/invoice.png".to_owned()
    )));
}

#[tokio::test]
async fn a_retry_never_texts_twice() {
    // The first attempt gets a 503 (Twilio's error body, from
    // twilio.com/docs/usage/twilios-response), after which the text may or
    // may not have gone out; the retry finds it among the recipient's
    // messages and sends nothing.
    let posts = Arc::new(AtomicUsize::new(0));
    let count = posts.clone();
    let twilio = Twilio::start(move |request: &Received| match request.method.as_str() {
        "POST" if count.fetch_add(1, Ordering::SeqCst) == 0 => Answer::Checked(Reply::json(
            503,
            &json!({"code": 20503, "message": "Service Unavailable",
                    "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503}),
        )),
        "GET" if request.path == MESSAGES => Answer::Checked(Reply::json(
            200,
            &json!({"messages": [{"sid": "SM0123456789abcdef0123456789abcdef", "status": "sent",
                                  "to": "+33612345678", "from": "+33700000000", "body": "Your payment failed",
                                  "date_created": now_rfc2822(), "direction": "outbound-api"}],
                    "end": 0, "page": 0, "page_size": 20, "start": 0,
                    "first_page_uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json?PageSize=20&Page=0",
                    "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json?PageSize=20&Page=0",
                    "next_page_uri": null, "previous_page_uri": null}),
        )),
        _ => Answer::Contract,
    })
    .await;
    let input =
        json!({"to": "+33612345678", "from": "+33700000000", "body": "Your payment failed"});
    let err = step_error(twilio.call("send-sms", input.clone()).await);
    assert!(matches!(err, StepError::Retryable { .. }), "{err:?}");
    let out = twilio.ok("send-sms", input.clone()).await;
    assert_eq!(out["changed"], false);
    assert_eq!(out["message"]["sid"], "SM0123456789abcdef0123456789abcdef");
    let out = twilio.ok("send-sms", input).await;
    assert_eq!(
        out["changed"], false,
        "a third attempt reads the message back"
    );
    twilio.assert_requests_kept_the_contract();
    assert_eq!(
        twilio.mock.calls(),
        [
            format!("POST {MESSAGES}"),
            format!("GET {MESSAGES}"),
            format!(
                "GET {}/SM0123456789abcdef0123456789abcdef.json",
                MESSAGES.trim_end_matches(".json")
            ),
        ]
    );
    assert_eq!(
        twilio.mock.exchanges()[1].request.query_pairs(),
        [
            ("To".to_owned(), "+33612345678".to_owned()),
            ("PageSize".to_owned(), "20".to_owned()),
            ("From".to_owned(), "+33700000000".to_owned())
        ]
    );
}

#[tokio::test]
async fn twilio_refusals_map_as_documented() {
    // Error codes from twilio.com/docs/api/errors: 21610 (recipient replied
    // STOP), 21602 (body required), 20429 (too many requests).
    let twilio = Twilio::start(|request: &Received| {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let error = |status: u16, code: u32, message: &str| {
            Answer::Checked(Reply::json(status, &json!({"code": code, "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})))
        };
        if body.contains("To=%2B33600000001") {
            error(400, 21610, "Attempt to send to unsubscribed recipient")
        } else if body.contains("To=%2B33600000002") {
            error(400, 21602, "Message body is required.")
        } else if body.contains("To=%2B33600000003") {
            match error(429, 20429, "Too Many Requests") {
                Answer::Checked(reply) => Answer::Checked(reply.header("retry-after", "2")),
                other => other,
            }
        } else {
            Answer::Contract
        }
    })
    .await;
    let send = |to: &str| json!({"to": to, "from": "+33700000000", "body": "Your payment failed"});
    let err = step_error(twilio.call("send-sms", send("+33600000001")).await);
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("error 21610")),
        "{err:?}"
    );
    let err = step_error(twilio.call("send-sms", send("+33600000002")).await);
    assert!(
        matches!(&err, StepError::InvalidInput { message } if message.contains("error 21602")),
        "{err:?}"
    );
    let err = step_error(twilio.call("send-sms", send("+33600000003")).await);
    assert!(
        matches!(
            err,
            StepError::Retryable {
                retry_after_ms: Some(2000),
                ..
            }
        ),
        "{err:?}"
    );
    twilio.assert_requests_kept_the_contract();
    assert_eq!(
        twilio.mock.calls().len(),
        3,
        "a refusal clears the record: each attempt sends"
    );
}

/// Now in RFC 2822, as Twilio writes dates.
fn now_rfc2822() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "Mon, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
