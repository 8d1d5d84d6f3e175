//! Relative paths of a configuration file are read from its folder.

use std::path::{Path, PathBuf};

use relais_runtime::{Origin, TlsGrant};

use super::Config;

const FILE: &str = r#"
data_dir = "data"
plugins_dir = "../shared/plugins"
workflows_dir = "/etc/relais/workflows"
[mail_relays.primary]
host = "smtp.example.fr"
password_file = "smtp.pw"
ca_file = "certs/relay.pem"
[plugin_defaults.http]
hosts = ["https://panel.example.net:2087"]
[plugin_defaults.http.tls."https://panel.example.net:2087"]
ca_file = "panel.pem"
[plugins.cpanel.http]
hosts = ["https://whm.example.net:2087"]
[plugins.cpanel.http.tls."https://whm.example.net:2087"]
ca_file = "/etc/ssl/whm.pem"
"#;

fn ca_file(grant: Option<&TlsGrant>) -> PathBuf {
    match grant {
        Some(TlsGrant::CaFile(p)) => p.clone(),
        other => panic!("expected a ca_file grant, found {other:?}"),
    }
}

#[test]
fn relative_paths_are_read_from_the_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("srv").join("relais");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("relais.toml");
    std::fs::write(&file, FILE).unwrap();
    std::fs::write(folder.join("smtp.pw"), "s3cret\n").unwrap();

    let c = Config::load(Some(&file)).unwrap();
    assert_eq!(c.data_dir, folder.join("data"));
    assert_eq!(c.store_path(), folder.join("data").join("relais.redb"));
    assert_eq!(c.cache_dir(), folder.join("data").join("cache"));
    assert_eq!(c.plugins_dir, folder.join("../shared/plugins"));
    assert_eq!(c.workflows_dir, Path::new("/etc/relais/workflows"));
    let relay = &c.mail_relays["primary"];
    assert_eq!(relay.password_file, Some(folder.join("smtp.pw")));
    assert_eq!(relay.ca_file, Some(folder.join("certs/relay.pem")));
    // The password file is found although the tests run elsewhere.
    let relays = c.mail_relays().unwrap();
    assert_eq!(
        relays["primary"].password.as_ref().map(|p| p.expose()),
        Some("s3cret")
    );
    let panel = Origin::parse("https://panel.example.net:2087").unwrap();
    assert_eq!(
        ca_file(c.plugin_defaults.http.tls.get(&panel)),
        folder.join("panel.pem")
    );
    let whm = Origin::parse("https://whm.example.net:2087").unwrap();
    assert_eq!(
        ca_file(c.plugin_settings("cpanel").http.tls.get(&whm)),
        Path::new("/etc/ssl/whm.pem")
    );
}

#[test]
fn a_file_named_without_a_folder_and_the_embedded_default_keep_relative_paths() {
    // `relais.toml` found in the current folder: its folder is the current one.
    let mut c = Config::parse(FILE, "relais.toml").unwrap();
    c.resolve_paths(Path::new("relais.toml").parent().unwrap());
    assert_eq!(c.data_dir, Path::new("data"));
    assert_eq!(c.plugins_dir, Path::new("../shared/plugins"));

    // Without a file (the tests run in the crate's folder, which has none),
    // the embedded default's paths stay relative to the current folder, as
    // scripts/run.sh expects.
    assert!(!Path::new("relais.toml").exists());
    let c = Config::load(None).unwrap();
    assert_eq!(c.source, "<embedded default>");
    assert_eq!(c.data_dir, Path::new("data"));
    assert_eq!(c.plugins_dir, Path::new("target/plugins"));
    assert_eq!(c.workflows_dir, Path::new("examples/workflows"));
}
