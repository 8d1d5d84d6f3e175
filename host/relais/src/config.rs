//! `relais.toml`: loaded once into typed settings. Unknown keys are errors
//! that name the key and the file. Without a file, the embedded default
//! runs the bundled examples with data under `./data`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use relais_runtime::PluginSettings;
use serde::Deserialize;

/// The configuration used when no `relais.toml` is given or found.
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where durable data lives.
    pub data_dir: PathBuf,
    /// Folder of plugin components (`*.wasm`).
    pub plugins_dir: PathBuf,
    /// Folder of workflow files (`*.yaml`).
    pub workflows_dir: PathBuf,
    /// SMTP relays of the `mail` capability (`[mail_relays.NAME]`), granted
    /// per plugin with `mail = ["NAME"]` in its `[plugins.NAME]` section.
    #[serde(default)]
    pub mail_relays: BTreeMap<String, MailRelaySection>,
    /// Settings every plugin gets unless it has its own section.
    #[serde(default)]
    pub plugin_defaults: PluginSettings,
    /// Per-plugin sections, by plugin name: the file stem of a plugin of
    /// the plugins folder (`http` for `http.wasm`), or any name given a
    /// `file`.
    #[serde(default, deserialize_with = "crate::plugins::sections")]
    pub plugins: BTreeMap<String, crate::plugins::PluginSection>,
    /// The HTTP server, scheduler and shutdown (`[server]`).
    #[serde(default)]
    pub server: ServerSection,
    /// How long run history is kept (`[retention]`).
    #[serde(default)]
    pub retention: RetentionSection,
    /// The log's format and level (`[log]`).
    #[serde(default)]
    pub log: crate::logging::LogSection,
    /// Where the file came from, for messages.
    #[serde(skip)]
    pub source: String,
}

/// `[server]`: what `relais serve` listens on and how it behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Listen address (default `127.0.0.1:8080`).
    pub listen: std::net::SocketAddr,
    /// Largest accepted webhook body in bytes (default 1 MiB).
    pub body_limit: usize,
    /// Zone of cron workflows without `timezone:` (default `UTC`; never the
    /// machine's zone).
    pub timezone: String,
    /// Seconds running steps get to finish on SIGTERM/SIGINT (default 10).
    pub shutdown_grace_secs: u64,
    /// Steps in flight at once across all runs (default 8).
    pub workers: usize,
    /// Most workers the steps of one workflow hold at once (default three
    /// quarters of `workers`): the rest stay free for other workflows.
    pub workers_per_workflow: Option<usize>,
}

impl ServerSection {
    /// Refuses worker counts the engine cannot honour, naming the key.
    fn check(&self, source: &str) -> Result<()> {
        if self.workers == 0 {
            anyhow::bail!("{source}: [server] workers = 0: at least one worker is needed");
        }
        if let Some(share) = self.workers_per_workflow
            && !(1..=self.workers).contains(&share)
        {
            anyhow::bail!(
                "{source}: [server] workers_per_workflow = {share}: must be between 1 and workers ({})",
                self.workers
            );
        }
        Ok(())
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 1024 * 1024,
            timezone: "UTC".to_owned(),
            shutdown_grace_secs: 10,
            workers: 8,
            workers_per_workflow: None,
        }
    }
}

/// `[retention]`: how long finished runs are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSection {
    /// Finished runs older than this are removed with their attempts and
    /// logs (default `30d`); `forever` keeps them.
    pub runs: String,
    /// Time between retention passes (default `10m`).
    pub every: String,
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            runs: "30d".to_owned(),
            every: "10m".to_owned(),
        }
    }
}

impl Config {
    /// The `[retention]` settings, checked.
    pub fn retention(&self) -> Result<relais_server::retention::Retention> {
        let parse = |field: &str, text: &str| {
            relais_workflow::Duration::parse(text)
                .map(|d| d.as_std())
                .map_err(|e| {
                    anyhow::anyhow!("{}: [retention] {field} = {text:?}: {e}", self.source)
                })
        };
        let keep_runs = match self.retention.runs.as_str() {
            "forever" => None,
            text => Some(parse("runs", text)?),
        };
        Ok(relais_server::retention::Retention {
            keep_runs,
            every: parse("every", &self.retention.every)?,
        })
    }

    /// Loads `path`, or `./relais.toml` when present, or the embedded default.
    /// Relative paths in a file are read from the file's folder, wherever
    /// the command runs; those of the embedded default from the current one.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let (text, source, file) = match path {
            Some(p) => (
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config {}", p.display()))?,
                p.display().to_string(),
                Some(p),
            ),
            None if Path::new("relais.toml").exists() => (
                std::fs::read_to_string("relais.toml").context("cannot read ./relais.toml")?,
                "relais.toml".to_string(),
                Some(Path::new("relais.toml")),
            ),
            None => (
                EMBEDDED_DEFAULT.to_string(),
                "<embedded default>".to_string(),
                None,
            ),
        };
        let mut config = Self::parse(&text, &source)?;
        if let Some(folder) = file.and_then(Path::parent) {
            config.resolve_paths(folder);
        }
        Ok(config)
    }

    /// Makes every relative path of the configuration relative to `folder`
    /// (the configuration file's): the data, plugins and workflows folders,
    /// the mail relays' `password_file` and `ca_file`, the plugins' `file`
    /// and TLS `ca_file`s. Absolute paths are kept.
    pub fn resolve_paths(&mut self, folder: &Path) {
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        at(&mut self.data_dir);
        at(&mut self.plugins_dir);
        at(&mut self.workflows_dir);
        for relay in self.mail_relays.values_mut() {
            for p in [&mut relay.password_file, &mut relay.ca_file]
                .into_iter()
                .flatten()
            {
                at(p);
            }
        }
        for section in self.plugins.values_mut() {
            if let Some(file) = &mut section.file {
                at(file);
            }
        }
        let sections = self.plugins.values_mut();
        let plugins = std::iter::once(&mut self.plugin_defaults)
            .chain(sections.filter_map(|s| s.settings.as_mut()));
        for settings in plugins {
            for grant in settings.http.tls.values_mut() {
                if let relais_runtime::TlsGrant::CaFile(p) = grant {
                    at(p);
                }
            }
        }
    }

    /// Parses configuration text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        config.source = source.to_string();
        config.server.check(source)?;
        Ok(config)
    }

    /// The settings of the plugin named `name`: its section's, else
    /// `[plugin_defaults]`.
    pub fn plugin_settings(&self, name: &str) -> PluginSettings {
        self.plugins
            .get(name)
            .and_then(|s| s.settings.clone())
            .unwrap_or_else(|| self.plugin_defaults.clone())
    }

    /// The store's database file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("relais.redb")
    }

    /// The precompiled-component cache folder.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }
}

/// `[mail_relays.NAME]`: one SMTP relay. The password is never written in
/// this file: `password_file` names a file holding it (trailing newline
/// ignored), read once at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailRelaySection {
    /// Host name or address.
    pub host: String,
    /// Port (default 587, 465 with `tls = "tls"`, 25 with `tls = "none"`).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: relais_runtime::MailTls,
    /// User name for AUTH.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the password for AUTH.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Timeout of each SMTP exchange, e.g. `"30s"` (default 30 s).
    #[serde(default)]
    pub timeout: Option<serde_json::Value>,
    /// PEM file of extra certificate authorities to trust (an internal CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name given in EHLO.
    #[serde(default)]
    pub hello_name: Option<String>,
}

impl Config {
    /// The mail relays for the runtime, passwords read from their files.
    pub fn mail_relays(&self) -> Result<BTreeMap<String, relais_runtime::MailRelay>> {
        let mut relays = BTreeMap::new();
        for (name, s) in &self.mail_relays {
            let password = match &s.password_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| {
                        format!(
                            "{}: mail relay {name}: cannot read password_file {}",
                            self.source,
                            path.display()
                        )
                    })?;
                    Some(relais_runtime::SecretValue::new(
                        text.trim_end_matches(['\r', '\n']),
                    ))
                }
                None => None,
            };
            let mut relay = relais_runtime::MailRelay::new(s.host.clone());
            relay.port = s.port;
            relay.tls = s.tls;
            relay.username = s.username.clone();
            relay.password = password;
            relay.ca_file = s.ca_file.clone();
            relay.hello_name = s.hello_name.clone();
            if let Some(t) = &s.timeout {
                // The runtime's own parser: a number of ms, or "500ms", "30s", "2m".
                let parsed: relais_runtime::MailRelay =
                    serde_json::from_value(serde_json::json!({"host": s.host, "timeout": t}))
                        .map_err(|e| {
                            anyhow::anyhow!("{}: mail relay {name}: timeout: {e}", self.source)
                        })?;
                relay.timeout = parsed.timeout;
            }
            relays.insert(name.clone(), relay);
        }
        Ok(relays)
    }
}

#[cfg(test)]
mod mail_relay_tests {
    use super::*;

    #[test]
    fn retention_defaults_and_bad_values() {
        let base = "data_dir = \"d\"\nplugins_dir = \"p\"\nworkflows_dir = \"w\"\n";
        let c = Config::parse(base, "t.toml").unwrap();
        let r = c.retention().unwrap();
        assert_eq!(
            r.keep_runs,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        assert_eq!(r.every, std::time::Duration::from_secs(600));
        let c = Config::parse(
            &format!("{base}[retention]\nruns = \"forever\"\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.retention().unwrap().keep_runs, None);
        let c = Config::parse(&format!("{base}[retention]\nruns = \"3x\"\n"), "t.toml").unwrap();
        let e = c.retention().unwrap_err().to_string();
        assert!(e.contains("t.toml: [retention] runs = \"3x\""), "{e}");
        let e = Config::parse(&format!("{base}[retention]\nkeep = \"1d\"\n"), "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `keep`"), "{e}");
    }

    #[test]
    fn mail_relays_are_typed_and_read_their_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("smtp.pw");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let text = format!(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[mail_relays.primary]\nhost='smtp.example.fr'\ntls='tls'\nusername='relais'\npassword_file='{}'\ntimeout='10s'\n[plugins.email]\nmail=['primary']\n",
            pw.display()
        );
        let c = Config::parse(&text, "relais.toml").unwrap();
        let relays = c.mail_relays().unwrap();
        let r = &relays["primary"];
        assert_eq!(r.effective_port(), 465);
        assert_eq!(r.password.as_ref().map(|p| p.expose()), Some("s3cret"));
        assert_eq!(r.timeout, std::time::Duration::from_secs(10));
        assert_eq!(c.plugin_settings("email").mail, ["primary"]);
        let err = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[mail_relays.x]\nhost='h'\npassword='literal'\n",
            "relais.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
        let missing = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[mail_relays.x]\nhost='h'\npassword_file='/nonexistent/pw'\n",
            "relais.toml",
        )
        .unwrap();
        assert!(
            missing
                .mail_relays()
                .unwrap_err()
                .to_string()
                .contains("mail relay x")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let c = Config::parse(EMBEDDED_DEFAULT, "default").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn server_section_defaults_and_checks() {
        let c = Config::parse(EMBEDDED_DEFAULT, "default").unwrap();
        assert_eq!(c.server.body_limit, 1024 * 1024);
        assert_eq!(c.server.timezone, "UTC");
        let c = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[server]\nlisten='0.0.0.0:9000'\nbody_limit=10\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.server.body_limit, 10);
        assert_eq!(c.server.shutdown_grace_secs, 10);
        assert_eq!(c.server.workers_per_workflow, None);
        let c = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[server]\nworkers_per_workflow=2\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.server.workers_per_workflow, Some(2));
        for (server, key) in [
            ("workers=0", "workers = 0"),
            ("workers_per_workflow=0", "workers_per_workflow = 0"),
            (
                "workers=2\nworkers_per_workflow=5",
                "workers_per_workflow = 5",
            ),
        ] {
            let err = Config::parse(
                &format!("data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[server]\n{server}\n"),
                "t.toml",
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(&format!("t.toml: [server] {key}")), "{err}");
        }
        let err = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[server]\nport=1\n",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse(
            "data_dir = 'd'\nplugins_dir = 'p'\nworkflows_dir = 'w'\ncolour = 1\n",
            "relais.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("relais.toml"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn plugin_sections_are_typed() {
        let c = Config::parse(
            r#"
data_dir = "d"
plugins_dir = "p"
workflows_dir = "w"
[plugins.http.limits]
timeout = "5s"
memory_bytes = 1048576
[plugins.http.http]
hosts = ["https://api.example.com"]
"#,
            "t",
        )
        .unwrap();
        let s = c.plugin_settings("http");
        assert_eq!(s.limits.timeout, std::time::Duration::from_secs(5));
        assert_eq!(s.http.hosts.len(), 1);
        let err = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[plugins.http.http]\nhosts=['ftp://x']\n",
            "t",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("scheme must be http or https"),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_are_read_from_the_file_folder() {
        let mut c = Config::parse(
            "data_dir='d'\nplugins_dir='/abs/p'\nworkflows_dir='w'\n\
             [plugin_defaults.http]\nhosts=['https://panel.example:2087']\n\
             [plugin_defaults.http.tls.\"https://panel.example:2087\"]\nca_file='ca.pem'\n\
             [plugins.stripe-eu]\nfile='stripe.wasm'\n",
            "t",
        )
        .unwrap();
        c.resolve_paths(Path::new("/srv/relais"));
        assert_eq!(c.data_dir, PathBuf::from("/srv/relais/d"));
        assert_eq!(c.plugins_dir, PathBuf::from("/abs/p"));
        assert_eq!(
            c.plugins["stripe-eu"].file.as_deref(),
            Some(Path::new("/srv/relais/stripe.wasm"))
        );
        let tls = c.plugin_defaults.http.tls.values().next().unwrap();
        assert!(
            matches!(tls, relais_runtime::TlsGrant::CaFile(p) if p == Path::new("/srv/relais/ca.pem")),
            "{tls:?}"
        );
    }
}
