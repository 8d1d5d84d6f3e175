//! `steps:` — each step read and resolved on its own.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::error::{Loc, WorkflowError};
use crate::ids::{PluginRef, SecretName, StepId, ValueName};
use crate::model::{Action, ForEach, ForEachPolicy, Input, PluginCall, Retry, Step, Wait};
use crate::yaml::{Located, Node, NodeKind, from_node};

use super::raw::{RawStep, RawWaitUntil};
use super::refs::{self, StepInfo};
use super::{Cx, Site, input, retry};

/// Resolves every step; `None` if any step (or the whole) has a problem.
pub(super) fn resolve_all(cx: &mut Cx<'_>, nodes: &[Node], list_loc: Loc) -> Option<Vec<Step>> {
    if nodes.is_empty() {
        cx.error(list_loc, "", WorkflowError::NoSteps);
        return None;
    }
    let mut infos: Vec<StepInfo> = nodes.iter().enumerate().map(|(i, n)| peek(n, i)).collect();
    let mut first: HashMap<String, u32> = HashMap::new();
    for (info, node) in infos.iter().zip(nodes) {
        if let Some(id) = &info.id {
            match first.get(id) {
                Some(line) => {
                    let loc = node.get("id").map_or(node.loc, |n| n.loc);
                    cx.error(
                        loc,
                        &info.scope,
                        WorkflowError::DuplicateStep {
                            id: id.clone(),
                            first_line: *line,
                        },
                    );
                }
                None => {
                    first.insert(id.clone(), info.loc.line);
                }
            }
        }
    }
    let mut steps: Vec<Option<Step>> = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let scope = infos[i].scope.clone();
        let step = match from_node::<RawStep>(node) {
            Ok(raw) => {
                infos[i].on_failure = raw.on_failure.clone();
                one(cx, i, raw, node, &scope, &mut infos[i])
            }
            Err((loc, message)) => {
                cx.error(loc, &scope, WorkflowError::Shape { message });
                None
            }
        };
        steps.push(step);
    }
    let fallback_for = refs::check(cx, &infos);
    let mut out = Vec::with_capacity(steps.len());
    for (i, s) in steps.into_iter().enumerate() {
        let mut s = s?;
        s.fallback_for = fallback_for
            .get(i)
            .map(|v| {
                v.iter()
                    .filter_map(|&j| infos[j].id.as_deref().and_then(|id| StepId::parse(id).ok()))
                    .collect()
            })
            .unwrap_or_default();
        out.push(s);
    }
    if out.iter().all(Step::is_fallback) && cx.sink.is_empty() {
        cx.error(list_loc, "", WorkflowError::NoSteps);
        return None;
    }
    Some(out)
}

/// What can be learnt of a step before reading it fully.
fn peek(node: &Node, index: usize) -> StepInfo {
    let id = node.get("id").and_then(Node::as_str).map(str::to_owned);
    let scope = match &id {
        Some(id) => format!("step {id:?}"),
        None => format!("step #{}", index + 1),
    };
    StepInfo {
        id,
        loc: node.loc,
        on_failure: None,
        set_names: None,
        scope,
    }
}

fn field_loc(node: &Node, field: &str) -> Loc {
    node.entries()
        .and_then(|e| e.iter().find(|(k, _)| k.as_str() == Some(field)))
        .map_or(node.loc, |(k, _)| k.loc)
}

fn one(
    cx: &mut Cx<'_>,
    index: usize,
    raw: RawStep,
    node: &Node,
    scope: &str,
    info: &mut StepInfo,
) -> Option<Step> {
    let id = StepId::parse(&raw.id.value)
        .map_err(|e| cx.error(raw.id.loc, scope, e))
        .ok();
    let mut kinds = Vec::new();
    if raw.uses.is_some() {
        kinds.push("uses");
    }
    if raw.wait.is_some() {
        kinds.push("wait");
    }
    if raw.set.is_some() {
        kinds.push("set");
    }
    if kinds.len() != 1 {
        let found = if kinds.is_empty() {
            String::new()
        } else {
            format!(", found {}", kinds.join(" and "))
        };
        cx.error(node.loc, scope, WorkflowError::StepKind { found });
        return None;
    }
    let mut ok = true;
    if raw.uses.is_none() {
        let present = [
            ("with", raw.with.is_some()),
            ("secrets", raw.secrets.is_some()),
            ("retry", raw.retry.is_some()),
            ("timeout", raw.timeout.is_some()),
            ("for_each", raw.for_each.is_some()),
        ];
        for (field, is) in present {
            if is {
                cx.error(
                    field_loc(node, field),
                    scope,
                    WorkflowError::Misplaced {
                        field,
                        requirement: "only applies to a plugin step (`uses`)",
                    },
                );
                ok = false;
            }
        }
    }
    if raw.for_each.is_none() {
        for (field, is) in [
            ("for_each_concurrency", raw.for_each_concurrency.is_some()),
            ("for_each_policy", raw.for_each_policy.is_some()),
        ] {
            if is {
                cx.error(
                    field_loc(node, field),
                    scope,
                    WorkflowError::Misplaced {
                        field,
                        requirement: "requires `for_each`",
                    },
                );
                ok = false;
            }
        }
    }
    let condition = match &raw.condition {
        Some(n) => match cx.expression(n, "if", scope, Site::Step { index, item: false }) {
            Some(t) => Some(t),
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let on_failure = match &raw.on_failure {
        Some(t) => match StepId::parse(&t.value) {
            Ok(s) => Some(s),
            Err(e) => {
                cx.error(t.loc, scope, e);
                ok = false;
                None
            }
        },
        None => None,
    };
    let action = if let Some(uses) = &raw.uses {
        plugin(cx, index, &raw, uses, node, scope)
    } else if let Some(wait) = &raw.wait {
        wait_action(cx, index, wait, scope)
    } else if let Some(set) = &raw.set {
        let a = set_action(cx, index, set, scope);
        if let Some(Action::Set(values)) = &a {
            info.set_names = Some(values.keys().map(|k| k.as_str().to_owned()).collect());
        }
        a
    } else {
        None
    };
    if !ok {
        return None;
    }
    Some(Step {
        id: id?,
        name: raw.name,
        loc: node.loc,
        action: action?,
        condition,
        on_failure,
        continue_on_error: raw.continue_on_error.unwrap_or(false),
        fallback_for: Vec::new(),
    })
}

fn known(names: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = names.collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

fn plugin(
    cx: &mut Cx<'_>,
    index: usize,
    raw: &RawStep,
    uses: &Located<String>,
    node: &Node,
    scope: &str,
) -> Option<Action> {
    let uses_ref = PluginRef::parse(&uses.value)
        .map_err(|e| cx.error(uses.loc, scope, e))
        .ok();
    let item = raw.for_each.is_some();
    let site = Site::Step { index, item };
    let mut templated = Vec::new();
    let with = match &raw.with {
        Some(n) => input::build(cx, n, scope, site, "", &mut templated),
        None => Input::Literal(serde_json::json!({})),
    };
    if let Some(r) = &uses_ref {
        let catalog = cx.catalog;
        match catalog.plugin(&r.plugin) {
            None => cx.error(
                uses.loc,
                scope,
                match catalog.broken(&r.plugin) {
                    Some(reason) => WorkflowError::BrokenPlugin {
                        plugin: r.plugin.clone(),
                        reason: reason.to_owned(),
                    },
                    None => WorkflowError::UnknownPlugin {
                        plugin: r.plugin.clone(),
                        known: known(catalog.plugin_names().map(str::to_owned)),
                    },
                },
            ),
            Some(steps) => match steps.get(&r.step) {
                None => cx.error(
                    uses.loc,
                    scope,
                    WorkflowError::UnknownPluginStep {
                        plugin: r.plugin.clone(),
                        step: r.step.clone(),
                        known: known(steps.keys().cloned()),
                    },
                ),
                Some(schema) => {
                    let instance = raw
                        .with
                        .as_ref()
                        .map_or_else(|| serde_json::json!({}), Node::to_json);
                    let fallback = raw.with.as_ref().map_or(uses.loc, |w| w.loc);
                    input::check_schema(
                        cx,
                        schema,
                        &instance,
                        raw.with.as_ref(),
                        fallback,
                        &templated,
                        scope,
                    );
                }
            },
        }
    }
    let mut secrets = Vec::new();
    let mut ok = true;
    for s in raw.secrets.iter().flatten() {
        match SecretName::parse(&s.value) {
            Ok(n) if !secrets.contains(&n) => secrets.push(n),
            Ok(_) => {}
            Err(e) => {
                cx.error(s.loc, scope, e);
                ok = false;
            }
        }
    }
    let retry = match &raw.retry {
        Some(r) => retry::resolve(cx, &r.value, scope),
        None => Some(Retry::NONE),
    };
    let timeout = match &raw.timeout {
        Some(t) => cx.duration(t, scope).map(Some),
        None => Some(None),
    };
    let for_each = match &raw.for_each {
        None => Some(None),
        Some(n) => {
            let items = cx.expression(n, "for_each", scope, Site::Step { index, item: false });
            let concurrency = match &raw.for_each_concurrency {
                Some(c) if c.value == 0 || c.value > 100 => {
                    cx.error(
                        c.loc,
                        scope,
                        WorkflowError::InvalidValue {
                            field: "for_each_concurrency",
                            reason: format!("expected 1 to 100, found {}", c.value),
                        },
                    );
                    None
                }
                Some(c) => Some(c.value),
                None => Some(1),
            };
            match (items, concurrency) {
                (Some(items), Some(concurrency)) => Some(Some(ForEach {
                    items,
                    concurrency,
                    policy: raw.for_each_policy.unwrap_or(ForEachPolicy::Stop),
                })),
                _ => None,
            }
        }
    };
    let _ = node;
    if !ok {
        return None;
    }
    Some(Action::Plugin(Box::new(PluginCall {
        uses: uses_ref?,
        with,
        secrets,
        retry: retry?,
        timeout: timeout?,
        for_each: for_each?,
    })))
}

fn wait_action(cx: &mut Cx<'_>, index: usize, node: &Node, scope: &str) -> Option<Action> {
    match &node.kind {
        NodeKind::Str(s) => {
            let d = Located {
                value: s.clone(),
                loc: node.loc,
            };
            cx.duration(&d, scope).map(|d| Action::Wait(Wait::For(d)))
        }
        NodeKind::Map(_) => match from_node::<RawWaitUntil>(node) {
            Ok(w) => cx
                .expression(&w.until, "until", scope, Site::Step { index, item: false })
                .map(|t| Action::Wait(Wait::Until(t))),
            Err((loc, message)) => {
                cx.error(loc, scope, WorkflowError::Shape { message });
                None
            }
        },
        _ => {
            cx.error(
                node.loc,
                scope,
                WorkflowError::Shape {
                    message: format!(
                        "`wait` expects a duration such as 3d or {{ until: \"{{{{ ... }}}}\" }}, found {}",
                        node.kind_name()
                    ),
                },
            );
            None
        }
    }
}

fn set_action(cx: &mut Cx<'_>, index: usize, node: &Node, scope: &str) -> Option<Action> {
    let Some(entries) = node.entries().filter(|e| !e.is_empty()) else {
        let found = if node.entries().is_some() {
            "an empty mapping"
        } else {
            node.kind_name()
        };
        cx.error(
            node.loc,
            scope,
            WorkflowError::Shape {
                message: format!("`set` expects a mapping of names to values, found {found}"),
            },
        );
        return None;
    };
    let mut values = IndexMap::new();
    let mut ok = true;
    for (k, v) in entries {
        let name = match ValueName::parse(&k.key_text()) {
            Ok(n) => n,
            Err(e) => {
                cx.error(k.loc, scope, e);
                ok = false;
                continue;
            }
        };
        let mut templated = Vec::new();
        let value = input::build(
            cx,
            v,
            scope,
            Site::Step { index, item: false },
            "",
            &mut templated,
        );
        values.insert(name, value);
    }
    ok.then_some(Action::Set(values))
}
