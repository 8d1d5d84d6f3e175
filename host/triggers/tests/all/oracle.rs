//! Cross-check against an independent implementation: Python's croniter,
//! on 600 random schedules in UTC. The expected fire times were computed
//! once by `tests/fixtures/make_croniter_fixture.py` and committed as
//! `tests/fixtures/croniter_utc.tsv`, so this test needs no Python.

use super::{next_utc, schedule};

const FIXTURE: &str = include_str!("../fixtures/croniter_utc.tsv");

struct Case<'a> {
    expression: &'a str,
    start: &'a str,
    croniter_default_agrees: bool,
    expected: Vec<&'a str>,
}

fn cases() -> Vec<Case<'static>> {
    FIXTURE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            let [expression, start, agrees, expected] = columns[..] else {
                panic!("fixture line has {} columns: {line}", columns.len());
            };
            Case {
                expression,
                start,
                croniter_default_agrees: agrees == "yes",
                expected: expected.split(' ').collect(),
            }
        })
        .collect()
}

#[test]
fn agrees_with_croniter_on_random_schedules_in_utc() {
    let cases = cases();
    assert_eq!(cases.len(), 600, "the fixture holds 600 cases");
    let mut disagreements = Vec::new();
    for case in &cases {
        let actual = next_utc(
            &schedule(case.expression, "UTC"),
            case.start,
            case.expected.len(),
        );
        if actual != case.expected {
            disagreements.push(format!(
                "`{}` after {}: croniter {:?}, ours {:?}",
                case.expression, case.start, case.expected, actual
            ));
        }
    }
    let agreed = cases.len() - disagreements.len();
    let default_differs = cases
        .iter()
        .filter(|case| !case.croniter_default_agrees)
        .count();
    println!(
        "croniter agreement: {agreed}/{} schedules, 5 fire times each \
         ({default_differs} of them need Vixie's day rule, which croniter's default lacks)",
        cases.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The fixture does exercise the day rule and the macros.
    assert!(default_differs > 10, "{default_differs}");
    assert!(
        cases
            .iter()
            .filter(|case| case.expression.starts_with('@'))
            .count()
            > 10
    );
}
