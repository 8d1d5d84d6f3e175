//! `trigger:` — cron, webhook or manual.

use crate::duration::Duration;
use crate::error::WorkflowError;
use crate::ids::SecretName;
use crate::model::{
    CatchUp, CronTrigger, DEFAULT_DEDUPE_WINDOW, Encoding, Respond, Trigger, Verify, VerifyScheme,
    WebhookTrigger,
};
use crate::schedule::{Schedule, Timezone};
use crate::yaml::{Located, Node, NodeKind, from_node};

use super::raw::{RawRespond, RawTrigger, RawVerify, RawWebhook};
use super::{Cx, MaybeTrigger, Site};

const SCOPE: &str = "trigger";

pub(super) fn resolve(cx: &mut Cx<'_>, node: Option<&Node>) -> MaybeTrigger {
    let Some(node) = node else {
        return Some(Trigger::Manual);
    };
    match &node.kind {
        NodeKind::Null => return Some(Trigger::Manual),
        NodeKind::Str(s) if s == "manual" => return Some(Trigger::Manual),
        _ => {}
    }
    let raw: RawTrigger = match from_node(node) {
        Ok(r) => r,
        Err((loc, message)) => {
            cx.error(loc, SCOPE, WorkflowError::Shape { message });
            return None;
        }
    };
    let mut kinds = Vec::new();
    if raw.cron.is_some() {
        kinds.push("cron");
    }
    if raw.webhook.is_some() {
        kinds.push("webhook");
    }
    if raw.manual.is_some() {
        kinds.push("manual");
    }
    if kinds.len() != 1 {
        let found = if kinds.is_empty() {
            String::new()
        } else {
            format!(", found {}", kinds.join(" and "))
        };
        cx.error(node.loc, SCOPE, WorkflowError::TriggerKind { found });
        return None;
    }
    if raw.cron.is_none() {
        if let Some(tz) = &raw.timezone {
            misplaced(cx, tz.loc, "timezone", "only applies to a cron trigger");
        }
        if let Some(c) = &raw.catch_up {
            misplaced(cx, c.loc, "catch_up", "only applies to a cron trigger");
        }
    }
    if let Some(cron) = &raw.cron {
        return cron_trigger(cx, cron, &raw);
    }
    if let Some(hook) = &raw.webhook {
        return webhook(cx, &hook.value);
    }
    if let Some(manual) = &raw.manual {
        let empty = match &manual.kind {
            NodeKind::Null => true,
            NodeKind::Map(e) => e.is_empty(),
            _ => false,
        };
        if !empty {
            cx.error(
                manual.loc,
                SCOPE,
                WorkflowError::Shape {
                    message: "`manual` takes no options: write `manual: {}`".to_owned(),
                },
            );
            return None;
        }
    }
    Some(Trigger::Manual)
}

fn misplaced(
    cx: &mut Cx<'_>,
    loc: crate::error::Loc,
    field: &'static str,
    requirement: &'static str,
) {
    cx.error(loc, SCOPE, WorkflowError::Misplaced { field, requirement });
}

fn cron_trigger(cx: &mut Cx<'_>, cron: &Located<String>, raw: &RawTrigger) -> MaybeTrigger {
    let schedule = Schedule::parse(&cron.value)
        .map_err(|e| cx.error(cron.loc, SCOPE, e))
        .ok();
    let timezone = match &raw.timezone {
        Some(tz) => match Timezone::parse(&tz.value) {
            Ok(t) => Some(Some(t)),
            Err(e) => {
                cx.error(tz.loc, SCOPE, e);
                None
            }
        },
        None => Some(None),
    };
    let catch_up = raw.catch_up.as_ref().map_or(CatchUp::Latest, |c| c.value);
    Some(Trigger::Cron(CronTrigger {
        schedule: schedule?,
        timezone: timezone?,
        catch_up,
    }))
}

fn webhook(cx: &mut Cx<'_>, raw: &RawWebhook) -> MaybeTrigger {
    let mut ok = true;
    if let Err(reason) = check_path(&raw.path.value) {
        cx.error(
            raw.path.loc,
            SCOPE,
            WorkflowError::WebhookPath {
                value: raw.path.value.clone(),
                reason,
            },
        );
        ok = false;
    }
    let verify = verify(cx, &raw.verify.value);
    let dedupe = match &raw.dedupe {
        None => Some(None),
        Some(node) => dedupe(cx, node).map(Some),
    };
    let dedupe_window = match &raw.dedupe_window {
        None => Some(raw.dedupe.as_ref().map(|_| DEFAULT_DEDUPE_WINDOW)),
        Some(w) => {
            if raw.dedupe.is_none() {
                misplaced(cx, w.loc, "dedupe_window", "requires `dedupe`");
                ok = false;
            }
            cx.duration(w, SCOPE).map(Some)
        }
    };
    let respond = match raw.respond.as_ref().map(|r| r.value) {
        None | Some(RawRespond::Async) => {
            if let Some(t) = &raw.respond_timeout {
                misplaced(
                    cx,
                    t.loc,
                    "respond_timeout",
                    "only applies with `respond: sync`",
                );
                ok = false;
            }
            Some(Respond::Async)
        }
        Some(RawRespond::Sync) => {
            let timeout = match &raw.respond_timeout {
                Some(t) => cx.duration(t, SCOPE),
                None => Some(Duration::from_secs_const(30)),
            };
            timeout.map(|timeout| Respond::Sync { timeout })
        }
    };
    if !ok {
        return None;
    }
    Some(Trigger::Webhook(WebhookTrigger {
        path: raw.path.value.clone(),
        verify: verify?,
        dedupe: dedupe?,
        dedupe_window: dedupe_window?,
        respond: respond?,
    }))
}

fn dedupe(cx: &mut Cx<'_>, node: &Node) -> Option<crate::expr::Template> {
    let Some(s) = node.as_str() else {
        cx.error(
            node.loc,
            SCOPE,
            WorkflowError::Shape {
                message: format!(
                    "`dedupe` expects a template such as \"{{{{ body.id }}}}\", found {}",
                    node.kind_name()
                ),
            },
        );
        return None;
    };
    if matches!(crate::expr::shape(s), crate::expr::Shape::Literal) {
        cx.error(
            node.loc,
            SCOPE,
            WorkflowError::InvalidValue {
                field: "dedupe",
                reason: "expected a template that depends on the request, e.g. \"{{ body.id }}\"; a fixed key would start one run ever".to_owned(),
            },
        );
        return None;
    }
    cx.text_template(s, node.loc, SCOPE, Site::Dedupe)
}

/// The path under `/hooks/`.
fn check_path(p: &str) -> Result<(), &'static str> {
    if p.is_empty() {
        return Err("expected a non-empty path");
    }
    if p.starts_with('/') || p.ends_with('/') {
        return Err("expected no leading or trailing / (the server adds /hooks/)");
    }
    if p.len() > 200 {
        return Err("expected at most 200 characters");
    }
    for seg in p.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err("expected segments separated by single /, without . or ..");
        }
        if !seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("expected letters, digits, -, _ or . between the /");
        }
    }
    Ok(())
}

fn verify(cx: &mut Cx<'_>, raw: &RawVerify) -> Option<Verify> {
    let scheme = raw.scheme.value;
    let mut ok = true;
    let secret = SecretName::parse(&raw.secret.value)
        .map_err(|e| cx.error(raw.secret.loc, SCOPE, e))
        .ok();
    if let Some(enc) = &raw.encoding
        && scheme != VerifyScheme::HmacSha256
    {
        misplaced(
            cx,
            enc.loc,
            "encoding",
            "only applies to scheme hmac-sha256",
        );
        ok = false;
    }
    let tolerance = match (&raw.tolerance, scheme) {
        (Some(t), VerifyScheme::Stripe) => cx.duration(t, SCOPE).map(Some),
        (Some(t), _) => {
            misplaced(cx, t.loc, "tolerance", "only applies to scheme stripe");
            None
        }
        (None, VerifyScheme::Stripe) => Some(Some(Duration::from_secs_const(300))),
        (None, _) => Some(None),
    };
    let (header, prefix) = match scheme {
        VerifyScheme::Stripe => ("Stripe-Signature", ""),
        VerifyScheme::Github => ("X-Hub-Signature-256", "sha256="),
        VerifyScheme::HmacSha256 => ("X-Signature", ""),
        VerifyScheme::Token => ("Authorization", "Bearer "),
    };
    let header = match &raw.header {
        Some(h) => {
            let valid = !h.value.is_empty()
                && h.value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
            if !valid {
                cx.error(
                    h.loc,
                    SCOPE,
                    WorkflowError::InvalidValue {
                        field: "header",
                        reason: format!(
                            "{:?} is not a header name (letters, digits, - or _)",
                            h.value
                        ),
                    },
                );
                ok = false;
            }
            h.value.clone()
        }
        None => header.to_owned(),
    };
    // A token in `Authorization` has an authentication scheme word; one in
    // a header of its own is bare.
    let prefix = if scheme == VerifyScheme::Token && !header.eq_ignore_ascii_case("authorization") {
        ""
    } else {
        prefix
    };
    let prefix = raw
        .prefix
        .as_ref()
        .map_or_else(|| prefix.to_owned(), |p| p.value.clone());
    let encoding = raw.encoding.as_ref().map_or(Encoding::Hex, |e| e.value);
    if !ok {
        return None;
    }
    Some(Verify {
        scheme,
        secret: secret?,
        header,
        prefix,
        encoding,
        tolerance: tolerance?,
    })
}
