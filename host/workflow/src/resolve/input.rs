//! Step inputs (`with`, `set` values): YAML values whose strings may be
//! templates, and their check against the plugin step's input schema.

use indexmap::IndexMap;

use crate::catalog::StepSchema;
use crate::error::{Loc, WorkflowError};
use crate::expr::{Shape, shape};
use crate::model::Input;
use crate::yaml::{Node, NodeKind};

use super::{Cx, Site};

/// Builds an input; `templated` receives the JSON pointer of every
/// templated string.
pub(super) fn build(
    cx: &mut Cx<'_>,
    node: &Node,
    scope: &str,
    site: Site,
    pointer: &str,
    templated: &mut Vec<String>,
) -> Input {
    match &node.kind {
        NodeKind::Str(s) if !matches!(shape(s), Shape::Literal) => {
            templated.push(pointer.to_owned());
            match cx.text_template(s, node.loc, scope, site) {
                Some(t) => Input::Template(t),
                None => Input::Literal(node.to_json()),
            }
        }
        NodeKind::Seq(items) => {
            let built: Vec<Input> = items
                .iter()
                .enumerate()
                .map(|(i, n)| build(cx, n, scope, site, &format!("{pointer}/{i}"), templated))
                .collect();
            if built.iter().all(Input::is_static) {
                Input::Literal(node.to_json())
            } else {
                Input::List(built)
            }
        }
        NodeKind::Map(entries) => {
            let mut map = IndexMap::new();
            for (k, v) in entries {
                let key = k.key_text();
                let p = format!("{pointer}/{}", escape(&key));
                let built = build(cx, v, scope, site, &p, templated);
                map.insert(key, built);
            }
            if map.values().all(Input::is_static) {
                Input::Literal(node.to_json())
            } else {
                Input::Object(map)
            }
        }
        _ => Input::Literal(node.to_json()),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Keywords whose errors concern the shape of a container, not the value of
/// a templated leaf inside it: still reported when a template is below.
const STRUCTURAL: [&str; 8] = [
    "required",
    "additionalProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "minItems",
    "maxItems",
    "dependentRequired",
];

/// Checks the static parts of `instance` (the input as JSON, templates as
/// their text) against the schema. Errors at or below a templated value are
/// dropped, as are value errors on containers holding one.
pub(super) fn check_schema(
    cx: &mut Cx<'_>,
    schema: &StepSchema,
    instance: &serde_json::Value,
    root: Option<&Node>,
    fallback: Loc,
    templated: &[String],
    scope: &str,
) {
    let mut found = Vec::new();
    for err in schema.validator.iter_errors(instance) {
        let p = err.instance_path().as_str().to_owned();
        let at_or_below = templated
            .iter()
            .any(|t| p == *t || p.starts_with(&format!("{t}/")));
        if at_or_below {
            continue;
        }
        let above = templated.iter().any(|t| t.starts_with(&format!("{p}/")));
        if above && !STRUCTURAL.contains(&err.kind().keyword()) {
            continue;
        }
        let loc = root.and_then(|r| locate(r, &p)).unwrap_or(fallback);
        found.push((
            loc,
            WorkflowError::InputSchema {
                pointer: crate::model::pointer_or_root(&p).to_owned(),
                message: err.to_string(),
            },
        ));
    }
    for (loc, e) in found {
        cx.error(loc, scope, e);
    }
}

/// The node a JSON pointer designates.
fn locate(root: &Node, pointer: &str) -> Option<Loc> {
    let mut cur = root;
    for seg in pointer.split('/').skip(1) {
        let seg = unescape(seg);
        cur = match &cur.kind {
            NodeKind::Map(entries) => &entries.iter().find(|(k, _)| k.key_text() == seg)?.1,
            NodeKind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur.loc)
}
