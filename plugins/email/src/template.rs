//! The plugin's template syntax: text with `{{ path }}` placeholders.
//!
//! - `{{ name }}` or `{{ customer.name }}`: a variable, looked up in the
//!   step's `vars` (dotted paths walk into objects; `items.0` into arrays);
//!   strings are inserted as they are, numbers and booleans as written in
//!   JSON, `null` as nothing;
//! - `{{ "{{" }}`: a quoted literal (double or single quotes), to write
//!   braces;
//! - a variable that does not exist, or that holds an object or an array,
//!   is an error that names it: a message never goes out with a hole in it;
//! - in an HTML template every inserted value is escaped (`&`, `<`, `>`,
//!   `"`, `'`); the template's own markup is kept.
//!
//! Nothing else: no code, no loops, no filters, no includes.

use serde_json::Value;

/// Where an inserted value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text: values inserted as they are.
    None,
    /// HTML: values escaped.
    Html,
}

/// One piece of a template.
enum Piece<'a> {
    /// Text kept as it is.
    Text(&'a str),
    /// A quoted literal.
    Literal(&'a str),
    /// A variable path.
    Var(&'a str),
}

/// Splits `template` into pieces, or says what is malformed.
fn parse<'a>(field: &str, template: &'a str) -> Result<Vec<Piece<'a>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        pieces.push(Piece::Text(&rest[..start]));
        let at = template.len() - rest.len() + start;
        let unclosed = || format!("{field}: `{{{{` at byte {at} is never closed with `}}}}`");
        let inner = &rest[start + 2..];
        let trimmed = inner.trim_start();
        let quote = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'');
        let (piece, after) = if let Some(q) = quote {
            // A literal may hold `}}`: find its closing quote first.
            let body = &trimmed[1..];
            let close = body
                .find(q)
                .ok_or_else(|| format!("{field}: unterminated literal at byte {at}"))?;
            let tail = body[close + 1..].trim_start();
            let after = tail.strip_prefix("}}").ok_or_else(|| {
                format!("{field}: a literal at byte {at} must be followed by `}}}}`")
            })?;
            (Piece::Literal(&body[..close]), after)
        } else {
            let end = inner.find("}}").ok_or_else(unclosed)?;
            let expr = inner[..end].trim();
            if expr.is_empty() {
                return Err(format!("{field}: empty placeholder `{{{{ }}}}`"));
            }
            if !expr
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
                || expr.starts_with('.')
                || expr.ends_with('.')
                || expr.contains("..")
            {
                return Err(format!(
                    "{field}: `{{{{ {expr} }}}}` is not a variable (letters, digits, `_`, `-`, dotted paths) or a quoted literal"
                ));
            }
            (Piece::Var(expr), &inner[end + 2..])
        };
        pieces.push(piece);
        rest = after;
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

/// Checks a template's syntax without filling it (any variable is
/// accepted): what storing a template checks.
pub fn check(field: &str, template: &str) -> Result<(), String> {
    parse(field, template).map(|_| ())
}

/// Renders `template` with `vars`; `field` names the template in errors.
pub fn render(field: &str, template: &str, vars: &Value, escape: Escape) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    for piece in parse(field, template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Literal(text) => out.push_str(text),
            Piece::Var(path) => {
                let value = lookup(field, path, vars)?;
                match escape {
                    Escape::None => out.push_str(&value),
                    Escape::Html => escape_html(&value, &mut out),
                }
            }
        }
    }
    Ok(out)
}

fn lookup(field: &str, expr: &str, vars: &Value) -> Result<String, String> {
    let mut current = vars;
    for part in expr.split('.') {
        let next = match current {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        current = next.ok_or_else(|| format!("{field}: variable `{expr}` is not in vars"))?;
    }
    match current {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(format!(
            "{field}: variable `{expr}` is a list or an object, not text"
        )),
    }
}

fn escape_html(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars() -> Value {
        json!({
            "name": "Élodie <b>&</b>",
            "n": 2,
            "ok": true,
            "none": null,
            "customer": {"domain": "exemple.fr", "tags": ["vip", "fr"]},
        })
    }

    #[test]
    fn substitutes_paths_numbers_and_literals() {
        let out = render(
            "text",
            "Bonjour {{name}}, relance n°{{ n }} pour {{ customer.domain }} ({{customer.tags.1}}) {{ok}}{{ none }} {{ \"{{\" }}x{{ '}}' }}",
            &vars(),
            Escape::None,
        );
        assert_eq!(
            out.unwrap(),
            "Bonjour Élodie <b>&</b>, relance n°2 pour exemple.fr (fr) true {{x}}"
        );
        assert_eq!(
            render("t", "no placeholder", &vars(), Escape::Html).unwrap(),
            "no placeholder"
        );
    }

    #[test]
    fn escapes_values_in_html_but_not_the_markup() {
        let out = render("html", "<p>{{ name }}</p>", &vars(), Escape::Html).unwrap();
        assert_eq!(out, "<p>Élodie &lt;b&gt;&amp;&lt;/b&gt;</p>");
        let out = render(
            "html",
            "<a title=\"{{ q }}\">",
            &json!({"q": "\"'"}),
            Escape::Html,
        );
        assert_eq!(out.unwrap(), "<a title=\"&quot;&#39;\">");
    }

    #[test]
    fn refuses_what_it_cannot_fill() {
        let cases = [
            ("{{ missing }}", "variable `missing` is not in vars"),
            (
                "{{ customer.nope }}",
                "variable `customer.nope` is not in vars",
            ),
            ("{{ customer }}", "is a list or an object"),
            ("{{ customer.tags }}", "is a list or an object"),
            ("{{ customer.tags.7 }}", "not in vars"),
            ("Bonjour {{ name", "`{{` at byte 8 is never closed"),
            ("{{ }}", "empty placeholder"),
            ("{{ name | upper }}", "is not a variable"),
            ("{{ .name }}", "is not a variable"),
            ("{{ a..b }}", "is not a variable"),
            ("{{ \"open }}", "unterminated literal"),
            ("{{ \"a\" b }}", "must be followed by"),
            ("{{ \"a\" b }}", "must be followed by"),
        ];
        for (template, expected) in cases {
            let err = render("subject", template, &vars(), Escape::None).unwrap_err();
            assert!(err.starts_with("subject: "), "{err}");
            assert!(err.contains(expected), "{template}: {err}");
        }
    }
}
