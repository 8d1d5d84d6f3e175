//! Stored templates (`put-template`) and the rendering of a message's
//! subject and bodies.

use relais_plugin_sdk::prelude::*;

use crate::input::{Content, TemplateIn};
use crate::template::{self, Escape};

/// Longest subject after rendering, in characters.
pub const MAX_SUBJECT_CHARS: usize = 998;

/// A rendered message content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Rendered {
    /// The subject, on one line.
    pub subject: String,
    /// The plain-text body, if any.
    pub text: Option<String>,
    /// The HTML body, if any.
    pub html: Option<String>,
}

/// The key-value key of a stored template.
pub fn template_key(name: &str) -> String {
    format!("template/{name}")
}

/// Checks a template name: 1 to 64 of lowercase letters, digits, `-`, `_`.
pub fn check_name(name: &str) -> Result<(), StepError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StepError::invalid_input(format!(
            "template name {name:?} must be 1 to 64 lowercase letters, digits, '-' or '_'"
        )))
    }
}

/// Checks a template's syntax (placeholders closed and well formed); any
/// variable is accepted.
pub fn check_syntax(field: &str, text: &str) -> Result<(), StepError> {
    template::check(field, text).map_err(StepError::invalid_input)
}

/// The template part of `content`: the stored template it names (if any),
/// with the inline parts taking precedence.
fn resolve(content: &Content) -> Result<TemplateIn, StepError> {
    let stored = match &content.template {
        Some(name) => {
            check_name(name)?;
            let found: Option<TemplateIn> = kv::get_json(&template_key(name))?;
            Some(found.ok_or_else(|| {
                StepError::invalid_input(format!(
                    "template {name:?} is not stored (store it with email/put-template)"
                ))
            })?)
        }
        None => None,
    };
    let subject = content
        .subject
        .clone()
        .or_else(|| stored.as_ref().map(|t| t.subject.clone()))
        .ok_or_else(|| StepError::invalid_input("give a subject, or a template that has one"))?;
    Ok(TemplateIn {
        name: content.template.clone().unwrap_or_default(),
        subject,
        text: content
            .text
            .clone()
            .or_else(|| stored.as_ref().and_then(|t| t.text.clone())),
        html: content
            .html
            .clone()
            .or_else(|| stored.as_ref().and_then(|t| t.html.clone())),
    })
}

/// Renders the subject and bodies of `content` with its `vars`.
pub fn render(content: &Content) -> Result<Rendered, StepError> {
    if !content.vars.is_object() {
        return Err(StepError::invalid_input("vars must be an object"));
    }
    let t = resolve(content)?;
    if t.text.is_none() && t.html.is_none() {
        return Err(StepError::invalid_input(
            "give a body: text, html or both (inline or in the template)",
        ));
    }
    let fill = |field: &str, text: &str, escape| {
        template::render(field, text, &content.vars, escape).map_err(StepError::invalid_input)
    };
    // A value may hold a line break; a subject is one line.
    let subject: String = fill("subject", &t.subject, Escape::None)?
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if subject.is_empty() {
        return Err(StepError::invalid_input("subject is empty once rendered"));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(StepError::invalid_input(format!(
            "subject is longer than {MAX_SUBJECT_CHARS} characters once rendered"
        )));
    }
    let text = t
        .text
        .as_deref()
        .map(|x| fill("text", x, Escape::None))
        .transpose()?;
    let html = t
        .html
        .as_deref()
        .map(|x| fill("html", x, Escape::Html))
        .transpose()?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}
