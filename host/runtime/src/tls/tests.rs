use super::*;

const PIN: &str = "3f0c8a1e5b7d9c2f4a6e8b0d1c3e5f7a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e";

/// `[plugins.cpanel]` of a relais.toml, parsed the way the binary does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    http: HttpGrants,
}

fn parse(text: &str) -> Result<HttpGrants, String> {
    toml::from_str::<Section>(text)
        .map(|s| s.http)
        .map_err(|e| e.to_string())
}

fn origin(s: &str) -> Origin {
    Origin::parse(s).unwrap()
}

#[test]
fn fingerprints_parse_as_openssl_prints_them() {
    let plain = Fingerprint::parse(PIN).unwrap();
    assert_eq!(plain.to_string(), PIN);
    let colons: Vec<String> = PIN
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    let colons = colons.join(":");
    assert_eq!(Fingerprint::parse(&colons).unwrap(), plain);
    assert_eq!(
        Fingerprint::parse(&format!("sha256 Fingerprint={colons}\n")).unwrap(),
        plain
    );
    assert_eq!(
        Fingerprint::of(b"abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let short = Fingerprint::parse(&PIN[..62]).unwrap_err();
    assert_eq!(
        short.to_string(),
        format!(
            "invalid pin_sha256 {:?}: 62 hex digits, a sha256 fingerprint has 64",
            &PIN[..62]
        )
    );
    assert!(Fingerprint::parse(&format!("{PIN}00")).is_err());
    let bad = Fingerprint::parse(&format!("{}g", &PIN[..63])).unwrap_err();
    assert!(bad.to_string().contains("'g' is not a hex digit"), "{bad}");
    assert!(Fingerprint::parse("").is_err());
    assert!(Fingerprint::parse("md5 Fingerprint=AB:CD").is_err());
}

#[test]
fn tls_entries_are_read_from_relais_toml() {
    let grants = parse(&format!(
        r#"
        [http]
        hosts = ["https://whm.example.net:2087", "https://plesk.example.net:8443"]
        private = ["https://panel.lan"]
        [http.tls."https://WHM.example.net:2087/"]
        pin_sha256 = "{PIN}"
        [http.tls."https://plesk.example.net:8443"]
        pin_sha256 = ["{PIN}", "{}"]
        [http.tls."https://panel.lan"]
        ca_file = "/etc/relais/panel.pem"
        "#,
        "0".repeat(64)
    ))
    .unwrap();
    let pin = Fingerprint::parse(PIN).unwrap();
    assert_eq!(
        grants.tls.get(&origin("https://whm.example.net:2087")),
        Some(&TlsGrant::Pinned(vec![pin]))
    );
    assert_eq!(
        grants.tls.get(&origin("https://plesk.example.net:8443")),
        Some(&TlsGrant::Pinned(vec![pin, Fingerprint([0; 32])]))
    );
    assert_eq!(
        grants.tls.get(&origin("https://panel.lan:443")),
        Some(&TlsGrant::CaFile("/etc/relais/panel.pem".into()))
    );
    let grants = parse(
        r#"
        [http]
        hosts = ["https://whm.example.net:2087"]
        tls."https://whm.example.net:2087".verify = false
        "#,
    )
    .unwrap();
    assert_eq!(
        grants.tls.values().collect::<Vec<_>>(),
        [&TlsGrant::Unverified]
    );
    // No tls table at all: nothing changes.
    let grants = parse("[http]\nhosts = [\"https://a.example\"]\n").unwrap();
    assert!(grants.tls.is_empty());
}

#[test]
fn tls_entries_round_trip_through_serde() {
    let grants = HttpGrants::hosts([origin("https://a.example")]).with_tls(
        origin("https://a.example"),
        TlsGrant::Pinned(vec![Fingerprint::parse(PIN).unwrap()]),
    );
    let json = serde_json::to_value(&grants).unwrap();
    assert_eq!(
        json["tls"],
        serde_json::json!({"https://a.example:443": {"pin_sha256": [PIN]}})
    );
    let back: HttpGrants = serde_json::from_value(json).unwrap();
    assert_eq!(back, grants);
    // Without tls entries the grants serialise as they always did.
    let plain = serde_json::to_value(HttpGrants::hosts([origin("https://a.example")])).unwrap();
    assert_eq!(
        plain,
        serde_json::json!({"hosts": ["https://a.example:443"], "private": []})
    );
}

#[test]
fn bad_tls_entries_are_refused_with_their_reason() {
    let pin = format!("pin_sha256 = \"{PIN}\"");
    let cases = [
        (
            "pinn_sha256 = \"x\"".to_string(),
            "unknown field `pinn_sha256`, expected one of `ca_file`, `pin_sha256`, `verify`",
        ),
        (
            format!("{pin}\nverify = false"),
            "verify = false accepts any certificate: it cannot be combined with ca_file or pin_sha256",
        ),
        (
            format!("{pin}\nca_file = \"/x.pem\""),
            "give either ca_file or pin_sha256, not both",
        ),
        (
            "verify = true".to_string(),
            "a tls entry needs ca_file, pin_sha256 or verify = false",
        ),
        (
            String::new(),
            "a tls entry needs ca_file, pin_sha256 or verify = false",
        ),
        ("pin_sha256 = []".to_string(), "pin_sha256 is an empty list"),
        (
            "pin_sha256 = \"abcd\"".to_string(),
            "invalid pin_sha256 \"abcd\": 4 hex digits, a sha256 fingerprint has 64",
        ),
        (
            "pin_sha256 = [\"abcd\"]".to_string(),
            "invalid pin_sha256 \"abcd\"",
        ),
        (
            "pin_sha256 = 42".to_string(),
            "a sha256 fingerprint (64 hex digits) or a list of them",
        ),
        ("ca_file = \"\"".to_string(), "ca_file is empty"),
    ];
    for (entry, expected) in cases {
        let text = format!(
            "[http]\nhosts = [\"https://whm.example.net:2087\"]\n\
             [http.tls.\"https://whm.example.net:2087\"]\n{entry}\n"
        );
        let err = parse(&text).unwrap_err();
        assert!(err.contains(expected), "{entry:?}: {err}");
    }
}

#[test]
fn tls_entries_must_name_a_granted_https_origin() {
    let err = parse(&format!(
        "[http]\nhosts = [\"https://whm.example.net:2087\"]\n\
         [http.tls.\"https://other.example.net:2087\"]\npin_sha256 = \"{PIN}\"\n"
    ))
    .unwrap_err();
    assert!(
        err.contains(
            "tls setting for https://other.example.net:2087: the origin is not granted to the \
             plugin (add it to hosts or private)"
        ),
        "{err}"
    );
    // Same host, other port: another origin.
    let err = parse(&format!(
        "[http]\nhosts = [\"https://whm.example.net:2087\"]\n\
         [http.tls.\"https://whm.example.net\"]\npin_sha256 = \"{PIN}\"\n"
    ))
    .unwrap_err();
    assert!(
        err.contains("https://whm.example.net:443: the origin is not granted"),
        "{err}"
    );
    let err = parse(&format!(
        "[http]\nhosts = [\"http://whm.example.net:2086\"]\n\
         [http.tls.\"http://whm.example.net:2086\"]\npin_sha256 = \"{PIN}\"\n"
    ))
    .unwrap_err();
    assert!(
        err.contains("only https origins have certificates"),
        "{err}"
    );
    let err = parse(&format!(
        "[http]\nhosts = [\"https://a.example\"]\n\
         [http.tls.\"https://a.example\"]\npin_sha256 = \"{PIN}\"\n\
         [http.tls.\"https://a.example:443\"]\nverify = false\n"
    ))
    .unwrap_err();
    assert!(
        err.contains("names https://a.example:443, which has another entry"),
        "{err}"
    );
    let err = parse(&format!(
        "[http]\nhosts = [\"https://a.example\"]\n\
         [http.tls.\"https://a.example/path\"]\npin_sha256 = \"{PIN}\"\n"
    ))
    .unwrap_err();
    assert!(err.contains("a grant is an origin"), "{err}");
    let err = parse("[http]\nhost = []\n").unwrap_err();
    assert!(err.contains("unknown field `host`"), "{err}");
    // Built in code, the same grants are refused when the plugin loads.
    let grants = HttpGrants::hosts([origin("https://a.example")])
        .with_tls(origin("https://b.example"), TlsGrant::Unverified);
    assert!(matches!(
        TlsPolicy::new(default_config(), &grants, "probe"),
        Err(TlsError::NotGranted { .. })
    ));
}

fn ca_grant(path: &std::path::Path) -> HttpGrants {
    let o = origin("https://panel.lan");
    HttpGrants::hosts([o.clone()]).with_tls(o, TlsGrant::CaFile(path.to_path_buf()))
}

#[test]
fn ca_files_are_read_when_the_plugin_loads() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = TlsPolicy::new(default_config(), &ca_grant(&missing), "cpanel").unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "tls setting for https://panel.lan:443: cannot read ca_file {}: ",
            missing.display()
        )),
        "{err}"
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let err = TlsPolicy::new(default_config(), &ca_grant(&empty), "cpanel").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "tls setting for https://panel.lan:443: ca_file {}: holds no PEM certificate",
            empty.display()
        )
    );
    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = TlsPolicy::new(default_config(), &ca_grant(&key_only), "cpanel").unwrap_err();
    assert!(
        err.to_string().contains("holds no PEM certificate"),
        "{err}"
    );
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TlsPolicy::new(default_config(), &ca_grant(&garbage), "cpanel").unwrap_err();
    assert!(
        err.to_string().contains("certificate 1 is not usable"),
        "{err}"
    );

    let cert = rcgen::generate_simple_self_signed(vec!["panel.lan".to_string()]).unwrap();
    let good = dir.path().join("panel.pem");
    std::fs::write(&good, cert.cert.pem()).unwrap();
    let policy = TlsPolicy::new(default_config(), &ca_grant(&good), "cpanel").unwrap();
    assert!(policy.for_origin(&origin("https://panel.lan")).1);
    assert!(!policy.for_origin(&origin("https://other.lan")).1);
    assert_eq!(policy.section, "plugins.cpanel");
}

#[test]
fn one_client_config_per_distinct_setting() {
    let (a, b, c) = (
        origin("https://a.example"),
        origin("https://b.example"),
        origin("https://c.example"),
    );
    let pin = TlsGrant::Pinned(vec![Fingerprint::parse(PIN).unwrap()]);
    let grants = HttpGrants::hosts([a.clone(), b.clone(), c.clone()])
        .with_tls(a.clone(), pin.clone())
        .with_tls(b.clone(), pin)
        .with_tls(c.clone(), TlsGrant::Unverified);
    let default = default_config();
    let policy = TlsPolicy::new(default.clone(), &grants, "x").unwrap();
    let (ca, _) = policy.for_origin(&a);
    let (cb, _) = policy.for_origin(&b);
    let (cc, _) = policy.for_origin(&c);
    assert!(Arc::ptr_eq(&ca, &cb));
    assert!(!Arc::ptr_eq(&ca, &cc));
    assert!(!Arc::ptr_eq(&ca, &default));
    let (other, granted) = policy.for_origin(&origin("https://d.example"));
    assert!(Arc::ptr_eq(&other, &default));
    assert!(!granted);
}
