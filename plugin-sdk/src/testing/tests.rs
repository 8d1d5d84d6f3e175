use std::cell::Cell;
use std::rc::Rc;

use serde_json::json;

use super::{FakeHost, FakeResponse};
use crate::http::{self, Method};
use crate::log::Level;
use crate::{StepError, kv, log, secrets};

/// The message of the panic `f` must raise (an assertion helper that must
/// fail).
pub(super) fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the assertion should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn routes_match_method_and_exact_url_in_order() {
    let host = FakeHost::new()
        .on_once(Method::Get, "http://127.0.0.1/a", FakeResponse::status(503))
        .on(
            Method::Get,
            "http://127.0.0.1/a",
            FakeResponse::ok().text("A"),
        )
        .on(
            Method::Post,
            "http://127.0.0.1/a",
            FakeResponse::status(201),
        );
    host.run(|| {
        let first = http::get("http://127.0.0.1/a").send().unwrap();
        assert_eq!(first.status(), 503);
        for _ in 0..2 {
            let again = http::get("http://127.0.0.1/a").send().unwrap();
            assert_eq!((again.status(), again.text()), (200, "A".to_owned()));
        }
        assert_eq!(http::post("http://127.0.0.1/a").send().unwrap().status(), 201);
        let err = http::get("http://127.0.0.1/a?x=1").send().unwrap_err();
        assert_eq!(
            StepError::from(err),
            StepError::retryable(
                "request to http://127.0.0.1/a?x=1 failed: no scripted response for GET http://127.0.0.1/a?x=1"
            )
        );
    });
    assert_eq!(
        host.requests().len(),
        5,
        "unmatched requests are recorded too"
    );
    assert_eq!(
        host.request_lines(),
        [
            "GET http://127.0.0.1/a",
            "GET http://127.0.0.1/a",
            "GET http://127.0.0.1/a",
            "POST http://127.0.0.1/a",
            "GET http://127.0.0.1/a?x=1",
        ]
    );
    assert!(FakeHost::new().request_lines().is_empty());
}

#[test]
fn dynamic_routes_see_the_request_and_may_pass() {
    let calls = Rc::new(Cell::new(0));
    let seen = Rc::clone(&calls);
    let host = FakeHost::new()
        .on_request(move |req| {
            seen.set(seen.get() + 1);
            (req.header("x-mode") == Some("echo"))
                .then(|| FakeResponse::ok().body(req.body.clone()))
        })
        .on(Method::Put, "http://127.0.0.1/b", FakeResponse::status(204));
    host.run(|| {
        let echoed = http::put("http://127.0.0.1/b")
            .header("X-Mode", "echo")
            .text("ping")
            .send()
            .unwrap();
        assert_eq!(echoed.text(), "ping");
        let passed = http::put("http://127.0.0.1/b").text("x").send().unwrap();
        assert_eq!(passed.status(), 204);
    });
    assert_eq!(calls.get(), 2);
}

#[test]
fn scripted_failures_map_to_sdk_errors() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            "http://127.0.0.1/t",
            FakeResponse::transport_error("connection-refused"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1/r",
            FakeResponse::refused("HTTP-request-denied"),
        );
    host.run(|| {
        let err = http::get("http://127.0.0.1/t").send().unwrap_err();
        assert!(matches!(err, http::Error::Transport { .. }), "{err}");
        let err = http::get("http://127.0.0.1/r").send().unwrap_err();
        assert!(matches!(err, http::Error::Refused { .. }), "{err}");
    });
}

#[test]
fn records_method_url_headers_and_body() {
    let host = FakeHost::new().on(
        Method::Patch,
        "http://127.0.0.1/c?q=a+b",
        FakeResponse::ok(),
    );
    host.run(|| {
        http::patch("http://127.0.0.1/c")
            .query([("q", "a b")])
            .basic("u", "p")
            .json(&json!({"k": [1]}))
            .send()
            .unwrap();
    });
    let req = &host.requests()[0];
    assert_eq!(req.method, Method::Patch);
    assert_eq!(req.url, "http://127.0.0.1/c?q=a+b");
    assert_eq!(req.header("Authorization"), Some("Basic dTpw"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.json(), json!({"k": [1]}));
}

#[test]
fn secrets_logs_and_kv_are_per_host() {
    let a = FakeHost::new().with_secret("key", "A").with_kv("n", "1");
    let b = FakeHost::new();
    a.run(|| {
        assert_eq!(secrets::get("key").as_deref(), Some("A"));
        assert_eq!(secrets::require("key"), Ok("A".to_owned()));
        log::warn!("from {}", "a");
        // A nested host takes over, then hands back.
        b.run(|| {
            assert_eq!(secrets::get("key"), None);
            assert_eq!(
                secrets::require("key"),
                Err(StepError::fatal("secret key is not granted to this step"))
            );
            assert_eq!(kv::get("n"), Ok(None));
            log::error!("from b");
        });
        assert_eq!(kv::get("n"), Ok(Some(b"1".to_vec())));
        log::trace!("back in a");
    });
    let lines: Vec<(Level, String)> = a.logs().into_iter().map(|l| (l.level, l.message)).collect();
    assert_eq!(
        lines,
        [
            (Level::Warn, "from a".to_owned()),
            (Level::Trace, "back in a".to_owned())
        ]
    );
    assert_eq!(b.logs().len(), 1);
}

#[test]
#[should_panic(expected = "no host outside wasm32")]
fn plugin_code_outside_a_host_panics_clearly() {
    let _ = secrets::get("x");
}

#[test]
fn host_is_uninstalled_after_a_panic() {
    let host = FakeHost::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        host.run(|| panic!("boom"));
    }));
    assert!(caught.is_err());
    let outside = std::panic::catch_unwind(|| secrets::get("x"));
    assert!(outside.is_err(), "no host must remain installed");
}

#[test]
fn kv_limits_both_sides() {
    let host = FakeHost::new();
    host.run(|| {
        let longest = "k".repeat(kv::MAX_KEY_BYTES);
        assert_eq!(kv::set(&longest, "v"), Ok(()));
        let too_long = "k".repeat(kv::MAX_KEY_BYTES + 1);
        let err = kv::set(&too_long, "v").unwrap_err();
        assert_eq!(
            err,
            kv::Error::KeyTooLong {
                len: kv::MAX_KEY_BYTES + 1
            }
        );
        assert_eq!(StepError::from(err).kind(), "fatal");
        assert!(kv::get(&too_long).is_err());
        assert!(kv::delete(&too_long).is_err());

        let biggest = vec![7u8; kv::MAX_VALUE_BYTES];
        assert_eq!(kv::set("big", &biggest), Ok(()));
        let err = kv::set("big", vec![7u8; kv::MAX_VALUE_BYTES + 1]).unwrap_err();
        assert!(
            matches!(err, kv::Error::ValueTooLarge { len, .. } if len == kv::MAX_VALUE_BYTES + 1)
        );
        assert_eq!(
            kv::get("big").map(|v| v.map(|v| v.len())),
            Ok(Some(kv::MAX_VALUE_BYTES))
        );

        assert_eq!(kv::delete("big"), Ok(()));
        assert_eq!(kv::delete("big"), Ok(()), "deleting a missing key is fine");
        assert_eq!(kv::get("big"), Ok(None));
    });
    assert_eq!(host.kv_keys(), ["k".repeat(kv::MAX_KEY_BYTES)]);
}

#[test]
fn kv_json_helpers() {
    let host = FakeHost::new().with_kv("bad", "not json");
    host.run(|| {
        assert_eq!(kv::get_json::<u32>("count"), Ok(None));
        kv::set_json("count", &41u32).unwrap();
        let next = kv::get_json::<u32>("count").unwrap().unwrap_or(0) + 1;
        kv::set_json("count", &next).unwrap();
        assert_eq!(kv::get_json::<u32>("count"), Ok(Some(42)));
        let err = kv::get_json::<u32>("bad").unwrap_err();
        assert!(matches!(err, kv::Error::Json { .. }), "{err}");
        assert_eq!(StepError::from(err).kind(), "fatal");
    });
    assert_eq!(host.kv_value("count"), Some(b"42".to_vec()));
}

#[test]
fn kv_host_failures_are_retryable() {
    let host = FakeHost::new().with_kv_failure("disk full");
    host.run(|| {
        for err in [
            kv::get("a").unwrap_err(),
            kv::set("a", "b").unwrap_err(),
            kv::delete("a").unwrap_err(),
        ] {
            let step = StepError::from(err);
            assert!(step.is_retryable(), "{step}");
            assert!(step.message().ends_with("failed: disk full"), "{step}");
        }
    });
}

#[test]
fn content_length_is_set_for_bodies_only() {
    let host = FakeHost::new().on_request(|_| Some(FakeResponse::ok()));
    host.run(|| {
        http::get("http://127.0.0.1/").send().unwrap();
        http::delete("http://127.0.0.1/").send().unwrap();
        http::post("http://127.0.0.1/").send().unwrap();
        http::put("http://127.0.0.1/").text("héllo").send().unwrap();
        http::post("http://127.0.0.1/")
            .header("Content-Length", "2")
            .body(b"ab".to_vec())
            .send()
            .unwrap();
        let err = http::post("http://127.0.0.1/")
            .header("content-length", "3")
            .body(b"ab".to_vec())
            .send()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request to http://127.0.0.1/: content-length \"3\" does not match the body's 2 bytes"
        );
    });
    let lengths: Vec<Option<String>> = host
        .requests()
        .iter()
        .map(|r| r.header("content-length").map(str::to_owned))
        .collect();
    assert_eq!(
        lengths,
        [
            None,
            None,
            Some("0".into()),
            Some("6".into()),
            Some("2".into())
        ]
    );
}
