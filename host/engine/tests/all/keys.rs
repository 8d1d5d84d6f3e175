//! Idempotency keys: the same for every attempt of a step within a
//! generation, a new generation at each retry by a user.

use relais_store::RetryFrom;
use serde_json::json;

use crate::*;

/// A charge the vendor declines three times per idempotency key.
const CHARGE: &str = r#"
id: charge
steps:
  - id: seen
    uses: probe/context
  - id: pay
    uses: probe/flaky
    with: { failures: 3 }
    retry: { attempts: 2, initial: 10ms }
"#;

/// `(key, error message)` of the attempts of `pay` from `from` on.
fn pay(d: &RunDetail, from: usize) -> Vec<(String, String)> {
    d.attempts[from..]
        .iter()
        .filter(|a| a.step_id == "pay")
        .map(|a| (a.idempotency_key.clone(), error(a).message.clone()))
        .collect()
}

#[tokio::test]
async fn a_retry_by_a_user_calls_the_plugin_with_a_new_key() {
    let f = fixture(&[CHARGE]).await;
    f.engine.start();
    let run = f.submit("charge", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let k0 = format!("{run}/pay");
    // The automatic retry keeps the key: the vendor counts two calls.
    assert_eq!(
        pay(&d, 0),
        [
            (k0.clone(), "failure 1 of 3".to_owned()),
            (k0.clone(), "failure 2 of 3".to_owned())
        ]
    );
    assert_eq!(
        output(&d.attempts[0])["idempotency_key"],
        json!(format!("{run}/seen"))
    );

    // A user's retry: the vendor sees a new key, and counts from one.
    f.engine.retry(run, RetryFrom::FailedStep).await.unwrap();
    let d = f.finish(run).await;
    let k1 = format!("{run}/pay/g1");
    assert_eq!(
        pay(&d, 3),
        [
            (k1.clone(), "failure 1 of 3".to_owned()),
            (k1.clone(), "failure 2 of 3".to_owned())
        ]
    );
    assert_eq!(
        trail(&d).len(),
        5,
        "the step that succeeded is not run again"
    );

    // From the start: every step it runs again gets the new generation,
    // and the plugin sees it in its context.
    f.engine.retry(run, RetryFrom::Start).await.unwrap();
    let d = f.finish(run).await;
    let seen = output(&d.attempts[5]);
    assert_eq!(seen["idempotency_key"], json!(format!("{run}/seen/g2")));
    assert_eq!(pay(&d, 6)[0].0, format!("{run}/pay/g2"));
    assert_eq!(d.run.key_generation(), 2);
}
