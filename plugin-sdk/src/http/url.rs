//! Splitting a URL into what `wasi:http` wants (scheme, authority, path with
//! query), and the encodings requests need (form, query, basic auth).

/// A URL split for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// `http` or `https`, lowercase.
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// `/path?query`, never empty; the fragment is dropped.
    pub path_with_query: String,
}

/// Splits an absolute `http`/`https` URL. The URL must already be
/// percent-encoded: spaces and control characters are refused, not encoded.
pub(crate) fn split(url: &str) -> Result<UrlParts, String> {
    if let Some(bad) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("contains {bad:?}: percent-encode it"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "not an absolute url (scheme://host/...)".to_owned())?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme {scheme:?} is not http or https"));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    check_authority(authority)?;
    let tail = tail.split('#').next().unwrap_or_default();
    let path_with_query = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    Ok(UrlParts {
        scheme,
        authority: authority.to_ascii_lowercase(),
        path_with_query,
    })
}

fn check_authority(authority: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err("has no host".to_owned());
    }
    if authority.contains('@') {
        return Err("carries credentials: use .basic() or .bearer() instead".to_owned());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or_else(|| "has an unclosed '[' in its host".to_owned())?;
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(format!("has an invalid IPv6 host [{inside}]"));
        }
        match after {
            "" => (inside, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (inside, Some(port)),
                None => return Err(format!("has junk {after:?} after its host")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(format!("has an invalid host {host:?}"));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65535);
        if !valid {
            return Err(format!("has an invalid port {port:?}"));
        }
    }
    Ok(())
}

/// `application/x-www-form-urlencoded` encoding of one component.
pub(crate) fn form_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
}

/// `k1=v1&k2=v2`, each part form-encoded.
pub(crate) fn form_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode(key, &mut out);
        out.push('=');
        form_encode(value, &mut out);
    }
    out
}

/// Standard base64 with padding (RFC 4648), for `Authorization: Basic`.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, String, String) {
        let p = split(url).unwrap();
        (p.scheme, p.authority, p.path_with_query)
    }

    #[test]
    fn splits_good_urls() {
        let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(
            parts("https://api.example.com"),
            s("https", "api.example.com", "/")
        );
        assert_eq!(
            parts("HTTPS://API.example.com:8443/v1/x?a=1&b=2#frag"),
            s("https", "api.example.com:8443", "/v1/x?a=1&b=2")
        );
        assert_eq!(
            parts("http://127.0.0.1:80?q=1"),
            s("http", "127.0.0.1:80", "/?q=1")
        );
        assert_eq!(parts("http://[::1]:8080/a"), s("http", "[::1]:8080", "/a"));
        assert_eq!(parts("http://[::1]"), s("http", "[::1]", "/"));
        assert_eq!(parts("http://h/a%20b"), s("http", "h", "/a%20b"));
    }

    #[test]
    fn refuses_bad_urls() {
        for (url, why) in [
            ("", "not an absolute url"),
            ("example.com/x", "not an absolute url"),
            ("ftp://example.com/", "scheme \"ftp\""),
            ("file:///etc/passwd", "scheme \"file\""),
            ("https:///path", "has no host"),
            ("https://:80/", "has no host"),
            ("https://user:pw@example.com/", "carries credentials"),
            ("https://example.com:99999/", "invalid port"),
            ("https://example.com:/", "invalid port"),
            ("https://example.com:8a/", "invalid port"),
            ("https://exa mple.com/", "contains ' '"),
            ("https://example.com/a b", "contains ' '"),
            ("https://example.com/\r\nx", "contains '\\r'"),
            ("https://[::1/", "unclosed"),
            ("https://[zz]/", "invalid IPv6"),
            ("https://[::1]x/", "junk"),
            ("https://exa$mple.com/", "invalid host"),
        ] {
            let err = split(url).unwrap_err();
            assert!(err.contains(why), "{url:?}: {err}");
        }
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_pairs([("a b", "c&d=e"), ("ü", "*-._~")]),
            "a+b=c%26d%3De&%C3%BC=*-._%7E"
        );
        assert_eq!(form_pairs([]), "");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(input.as_bytes()), output, "{input}");
        }
    }
}
