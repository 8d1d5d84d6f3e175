//! What spans steps: `on_failure` targets and cycles, which steps run before
//! which, and what each template may read.

use std::collections::{BTreeSet, HashMap};

use crate::error::{Loc, WorkflowError};
use crate::expr::Form;
use crate::yaml::Located;

use super::{Cx, Site, TemplateUse};

/// What the cross-step checks need to know of a step.
#[derive(Debug)]
pub(super) struct StepInfo {
    pub id: Option<String>,
    pub loc: Loc,
    pub on_failure: Option<Located<String>>,
    /// The names a `set` step computes.
    pub set_names: Option<Vec<String>>,
    pub scope: String,
}

/// The fields of `steps.ID` in the expression context.
pub(crate) const STEP_FIELDS: &str = "output, status, failed, succeeded, skipped, error, attempts";

/// Checks `on_failure` and template references; returns, per step, the
/// steps whose `on_failure` names it.
pub(super) fn check(cx: &mut Cx<'_>, infos: &[StepInfo]) -> Vec<Vec<usize>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in infos.iter().enumerate() {
        if let Some(id) = &s.id {
            index.entry(id.as_str()).or_insert(i);
        }
    }
    let known = || {
        let mut ids: Vec<&str> = infos.iter().filter_map(|s| s.id.as_deref()).collect();
        ids.dedup();
        ids.join(", ")
    };

    // on_failure edges.
    let mut target: Vec<Option<usize>> = vec![None; infos.len()];
    for (i, s) in infos.iter().enumerate() {
        let Some(t) = &s.on_failure else { continue };
        match index.get(t.value.as_str()) {
            Some(&j) => target[i] = Some(j),
            None => cx.error(
                t.loc,
                &s.scope,
                WorkflowError::UnknownFallback {
                    target: t.value.clone(),
                    known: known(),
                },
            ),
        }
    }
    let in_cycle = cycles(cx, infos, &target);
    let mut sources: Vec<Vec<usize>> = vec![Vec::new(); infos.len()];
    for (i, t) in target.iter().enumerate() {
        if let Some(j) = t {
            sources[*j].push(i);
        }
    }

    // Which steps have finished (or been skipped) before each step starts.
    let mut before: Vec<Option<BTreeSet<usize>>> = vec![None; infos.len()];
    let mut done = BTreeSet::new();
    for i in 0..infos.len() {
        if sources[i].is_empty() {
            before[i] = Some(done.clone());
            let mut j = Some(i);
            let mut guard = 0;
            while let Some(k) = j {
                if !done.insert(k) || guard > infos.len() {
                    break;
                }
                guard += 1;
                j = target[k];
            }
        }
    }
    for i in 0..infos.len() {
        fallback_before(i, &sources, &in_cycle, &mut before, 0);
    }

    let uses = std::mem::take(&mut cx.uses);
    for u in &uses {
        check_use(cx, u, infos, &index, &before, &known);
    }
    cx.uses = uses;
    sources
}

fn cycles(cx: &mut Cx<'_>, infos: &[StepInfo], target: &[Option<usize>]) -> Vec<bool> {
    let mut in_cycle = vec![false; infos.len()];
    for start in 0..infos.len() {
        let mut path = vec![start];
        let mut cur = target[start];
        while let Some(c) = cur {
            if c == start {
                // Report each cycle once, at its first step.
                if path.iter().all(|&p| p >= start) {
                    let mut names: Vec<String> = path
                        .iter()
                        .map(|&p| infos[p].id.clone().unwrap_or_default())
                        .collect();
                    names.push(infos[start].id.clone().unwrap_or_default());
                    let loc = infos[start]
                        .on_failure
                        .as_ref()
                        .map_or(infos[start].loc, |t| t.loc);
                    cx.error(
                        loc,
                        &infos[start].scope,
                        WorkflowError::FallbackCycle {
                            cycle: names.join(" -> "),
                        },
                    );
                }
                in_cycle[start] = true;
                break;
            }
            if path.contains(&c) || path.len() > infos.len() {
                break;
            }
            path.push(c);
            cur = target[c];
        }
    }
    in_cycle
}

/// Steps surely finished before fallback `i`: those before every step that
/// falls back to it, and that step itself.
fn fallback_before(
    i: usize,
    sources: &[Vec<usize>],
    in_cycle: &[bool],
    before: &mut Vec<Option<BTreeSet<usize>>>,
    depth: usize,
) -> BTreeSet<usize> {
    if let Some(b) = &before[i] {
        return b.clone();
    }
    if in_cycle[i] || depth > sources.len() {
        before[i] = Some(BTreeSet::new());
        return BTreeSet::new();
    }
    let mut acc: Option<BTreeSet<usize>> = None;
    for &s in &sources[i] {
        let mut b = fallback_before(s, sources, in_cycle, before, depth + 1);
        b.insert(s);
        acc = Some(match acc {
            None => b,
            Some(a) => a.intersection(&b).copied().collect(),
        });
    }
    let result = acc.unwrap_or_default();
    before[i] = Some(result.clone());
    result
}

fn check_use(
    cx: &mut Cx<'_>,
    u: &TemplateUse,
    infos: &[StepInfo],
    index: &HashMap<&str, usize>,
    before: &[Option<BTreeSet<usize>>],
    known: &dyn Fn() -> String,
) {
    let (roots, current): (&[&str], Option<usize>) = match u.site {
        Site::Step { index, item: true } => {
            (&["trigger", "steps", "run", "item", "index"], Some(index))
        }
        Site::Step { index, item: false } => (&["trigger", "steps", "run"], Some(index)),
        Site::Dedupe => (&["body", "headers", "query"], None),
    };
    for var in u.template.variables() {
        let segs: Vec<&str> = var.split('.').collect();
        let root = segs[0];
        if root == "secrets" || root == "secret" {
            cx.error(u.loc, &u.scope, WorkflowError::SecretsInExpression);
            continue;
        }
        if !roots.contains(&root) {
            if cx.templates.is_global(root) {
                continue;
            }
            if (root == "item" || root == "index") && current.is_some() {
                let field = if root == "item" { "item" } else { "index" };
                cx.error(
                    u.loc,
                    &u.scope,
                    WorkflowError::Misplaced {
                        field,
                        requirement: "is only available in the `with` of a `for_each` step",
                    },
                );
                continue;
            }
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownVariable {
                    name: root.to_owned(),
                    available: roots.join(", "),
                },
            );
            continue;
        }
        let (Some(cur), "steps", Some(step)) = (current, root, segs.get(1)) else {
            continue;
        };
        let Some(&target) = index.get(step) else {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownStepRef {
                    path: var.clone(),
                    step: (*step).to_owned(),
                    known: known(),
                },
            );
            continue;
        };
        let runs_before = before[cur].as_ref().is_some_and(|b| b.contains(&target));
        if !runs_before {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::StepNotBefore {
                    path: var.clone(),
                    step: (*step).to_owned(),
                },
            );
            continue;
        }
        let Some(field) = segs.get(2) else { continue };
        if !STEP_FIELDS.split(", ").any(|f| f == *field) {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownStepField {
                    path: var.clone(),
                    field: (*field).to_owned(),
                    expected: STEP_FIELDS,
                },
            );
            continue;
        }
        if let (&"output", Some(name), Some(names)) = (field, segs.get(3), &infos[target].set_names)
            && !names.iter().any(|n| n == name)
        {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownSetValue {
                    path: var.clone(),
                    step: (*step).to_owned(),
                    name: (*name).to_owned(),
                    known: names.join(", "),
                },
            );
        }
    }
    let (filters, tests) = helpers(u.template.source(), u.template.form());
    for f in filters {
        if !cx.templates.has_filter(&f) {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownHelper {
                    kind: "filter",
                    name: f,
                },
            );
        }
    }
    for t in tests {
        if !cx.templates.has_test(&t) {
            cx.error(
                u.loc,
                &u.scope,
                WorkflowError::UnknownHelper {
                    kind: "test",
                    name: t,
                },
            );
        }
    }
}

/// The filter and test names a template uses (`x | name`, `x is name`).
pub(crate) fn helpers(source: &str, form: Form) -> (Vec<String>, Vec<String>) {
    let mut filters = Vec::new();
    let mut tests = Vec::new();
    for region in regions(source, form) {
        scan(region, &mut filters, &mut tests);
    }
    filters.sort();
    filters.dedup();
    tests.sort();
    tests.dedup();
    (filters, tests)
}

/// The parts of a template that are code: inside `{{ }}` and `{% %}`, or
/// all of a bare expression.
fn regions(source: &str, form: Form) -> Vec<&str> {
    if form == Form::Expression && !source.contains("{{") {
        return vec![source];
    }
    let mut out = Vec::new();
    let mut rest = source;
    loop {
        let open = match (rest.find("{{"), rest.find("{%")) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let close = if rest[open..].starts_with("{{") {
            "}}"
        } else {
            "%}"
        };
        let body = &rest[open + 2..];
        let end = code_end(body, close).unwrap_or(body.len());
        out.push(&body[..end]);
        rest = body.get(end + 2..).unwrap_or("");
    }
    out
}

/// Where `close` ends a code region, skipping string literals.
fn code_end(body: &str, close: &str) -> Option<usize> {
    let mut quote = None;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if bytes[i..].starts_with(close.as_bytes()) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn scan(code: &str, filters: &mut Vec<String>, tests: &mut Vec<String>) {
    let mut tokens: Vec<String> = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '"' || c == '\'' {
            let mut escaped = false;
            for (_, d) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == c {
                    break;
                }
            }
            tokens.push("\"\"".to_owned());
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut word = c.to_string();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    word.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(word);
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    for (i, t) in tokens.iter().enumerate() {
        let ident = |k: usize| {
            tokens
                .get(k)
                .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        };
        if t == "|" {
            if let Some(name) = ident(i + 1) {
                filters.push(name.clone());
            }
        } else if t == "is" {
            let k = if tokens.get(i + 1).is_some_and(|w| w == "not") {
                i + 2
            } else {
                i + 1
            };
            if let Some(name) = ident(k) {
                tests.push(name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_filters_and_tests_outside_strings() {
        let (f, t) = helpers(
            "Hi {{ name | upper }}, due {{ d | add_days(7) | format_date(\"%d | x\") }} {% if a is not defined %}x{% endif %} | y",
            Form::Text,
        );
        assert_eq!(f, ["add_days", "format_date", "upper"]);
        assert_eq!(t, ["defined"]);
        let (f, t) = helpers(
            "Échéance {{ 'é{{' ~ d | upper }} à {{ \"ü\" | lower }}é",
            Form::Text,
        );
        assert_eq!(f, ["lower", "upper"]);
        assert!(t.is_empty());
        let (f, t) = helpers("steps.a.output.n is number", Form::Expression);
        assert!(f.is_empty());
        assert_eq!(t, ["number"]);
    }
}
