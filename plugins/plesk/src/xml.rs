//! Just enough XML for Plesk's XML-RPC packets: escaping what goes in, and
//! finding elements and their text in what comes back. Packets are small
//! and flat (no namespaces, no mixed content), so a scan by tag name is
//! enough.

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The contents of every `<name>` element in `doc`, in order; an empty
/// element (`<name/>`) gives `""`. Elements named `name` must not nest.
pub(crate) fn elements<'a>(doc: &'a str, name: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut rest = doc;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        // `<name>`, `<name attr=...>` or `<name/>`, not `<name-other>`.
        let Some(end) = after.find('>') else { break };
        let tag = &after[..end];
        if !(tag.is_empty() || tag.starts_with(char::is_whitespace) || tag == "/") {
            rest = after;
            continue;
        }
        if tag.ends_with('/') {
            found.push("");
            rest = &after[end + 1..];
            continue;
        }
        let body = &after[end + 1..];
        let Some(stop) = body.find(&close) else { break };
        found.push(&body[..stop]);
        rest = &body[stop + close.len()..];
    }
    found
}

/// The first `<name>` element's contents.
pub(crate) fn element<'a>(doc: &'a str, name: &str) -> Option<&'a str> {
    elements(doc, name).into_iter().next()
}

/// The first `<name>` element's text, unescaped and trimmed.
pub(crate) fn text(doc: &str, name: &str) -> Option<String> {
    element(doc, name).map(|inner| unescape(inner.trim()))
}

/// Character data with the five predefined entities, numeric references
/// and CDATA sections resolved.
pub(crate) fn unescape(text: &str) -> String {
    let text = match text
        .strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
    {
        Some(raw) => return raw.to_owned(),
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(end) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes() {
        let nasty = r#"a&b <c> "d" 'e'"#;
        assert_eq!(
            escape(nasty),
            "a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(unescape(&escape(nasty)), nasty);
        assert_eq!(
            unescape("caf&#233; &#x263A; &bogus; & x"),
            "café ☺ &bogus; & x"
        );
        assert_eq!(unescape("<![CDATA[a <b> & c]]>"), "a <b> & c");
    }

    #[test]
    fn finds_elements_by_name() {
        let doc = "<packet><webspace><get><result><status>ok</status><id>5</id>\
                   <data><subscriptions><subscription><plan><plan-guid>g1</plan-guid></plan>\
                   <plan><plan-guid>g2</plan-guid></plan></subscription></subscriptions></data>\
                   </result></get></webspace><empty/><status-x>no</status-x></packet>";
        assert_eq!(elements(doc, "plan-guid"), ["g1", "g2"]);
        assert_eq!(text(doc, "status").as_deref(), Some("ok"));
        assert_eq!(text(doc, "id").as_deref(), Some("5"));
        assert_eq!(elements(doc, "empty"), [""]);
        assert_eq!(elements(doc, "status-x"), ["no"]);
        assert_eq!(element(doc, "missing"), None);
        assert_eq!(elements(doc, "plan").len(), 2);
        assert_eq!(elements("<a>unclosed", "a"), Vec::<&str>::new());
        assert_eq!(
            text("<errtext> Bad &amp; worse </errtext>", "errtext").as_deref(),
            Some("Bad & worse")
        );
    }
}
