//! Step durations recorded through the `metrics` facade: one sample per
//! attempt, measured over the step's action, labelled by workflow, step
//! and outcome.

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use relais_engine::metrics::STEP_DURATION;
use relais_store::RunStatus;
use serde_json::json;

use crate::fixture;

#[test]
fn each_attempt_records_its_duration_with_its_outcome() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let f = fixture(&[r#"
id: timed
steps:
  - id: nap
    uses: probe/sleep
    with: { ms: 80 }
  - id: note
    set: { done: "yes" }
  - id: flop
    uses: probe/fail
    with: { kind: retryable, message: busy }
    retry: { attempts: 2, initial: 1ms }
    continue_on_error: true
"#])
            .await;
            f.engine.start();
            let run = f.submit("timed", json!({})).await;
            let d = f.finish(run).await;
            assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
        });
    });

    let mut samples: Vec<(String, String, Vec<String>, Vec<f64>)> = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        if key.kind() != MetricKind::Histogram || key.key().name() != STEP_DURATION {
            continue;
        }
        let label = |name: &str| {
            key.key()
                .labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_owned())
                .unwrap_or_default()
        };
        let DebugValue::Histogram(values) = value else {
            panic!("{STEP_DURATION} is not a histogram");
        };
        assert_eq!(label("workflow"), "timed");
        samples.push((
            label("step"),
            label("outcome"),
            key.key().labels().map(|l| l.key().to_owned()).collect(),
            values.into_iter().map(|v| v.into_inner()).collect(),
        ));
    }
    samples.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let summary: Vec<(&str, &str, usize)> = samples
        .iter()
        .map(|(step, outcome, _, values)| (step.as_str(), outcome.as_str(), values.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("flop", "retryable", 2),
            ("nap", "succeeded", 1),
            ("note", "succeeded", 1)
        ]
    );
    for (_, _, labels, _) in &samples {
        assert_eq!(
            labels,
            &["workflow", "step", "outcome"],
            "only bounded labels"
        );
    }
    let nap = samples[1].3[0];
    assert!(
        (0.08..5.0).contains(&nap),
        "the sleep step's duration covers its call: {nap} s"
    );
    let note = samples[2].3[0];
    assert!(
        note < 0.08,
        "a set step takes no time to speak of: {note} s"
    );
}
