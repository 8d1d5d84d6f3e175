//! Support for contract tests: start `../shared/tools/contract-mock` (or a
//! hand-written mock) on 127.0.0.1, load a bundled plugin in the real host
//! with a grant for the mock only, and invoke its steps.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use relais_runtime::{
    Context, HttpGrants, Invocation, Limits, MemoryKv, Origin, Outcome, Plugin, PluginSettings,
    Runtime, RuntimeConfig, Secrets,
};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared` beside the repository.
pub fn shared() -> PathBuf {
    let p = repo_root().join("../shared");
    assert!(p.is_dir(), "{} is missing: the contract tests need ../shared beside the repository", p.display());
    p
}

/// A vendor contract file, e.g. `vendor_api("stripe/spec3.json")`.
pub fn vendor_api(rel: &str) -> PathBuf {
    let p = shared().join("vendor-apis").join(rel);
    assert!(p.exists(), "{} is missing", p.display());
    p
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running contract mock; stopped when dropped.
pub struct ContractMock {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl ContractMock {
    /// Starts `contract-mock/run.sh SPEC PORT [FIXTURES]` and waits for its
    /// `listening on` line (up to 120 s: the first start installs its npm
    /// packages).
    pub fn start(spec: &Path, fixtures: Option<&Path>) -> Self {
        let port = free_port();
        let script = shared().join("tools/contract-mock/run.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg(spec).arg(port.to_string());
        if let Some(f) = fixtures {
            cmd.arg(f);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the contract mock (needs node and npm)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the contract mock for {} exited: {status}", spec.display());
            }
            assert!(Instant::now() < deadline, "the contract mock for {} did not start", spec.display());
        }
        Self { port, child }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The mock's origin, to grant to a plugin.
    pub fn origin(&self) -> Origin {
        Origin::parse(&self.base_url()).expect("loopback origin")
    }
}

impl Drop for ContractMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bundled plugin (`target/plugins/NAME.wasm`, built by
/// `scripts/build-plugins.sh`), loaded with outbound HTTP granted to
/// `origins` only.
pub async fn plugin(name: &str, origins: &[Origin]) -> Plugin {
    let path = repo_root().join("target/plugins").join(format!("{name}.wasm"));
    assert!(path.exists(), "{} is missing: run scripts/build-plugins.sh first", path.display());
    let runtime = Runtime::new(&RuntimeConfig::default()).expect("runtime");
    let settings = PluginSettings {
        limits: Limits::default(),
        http: HttpGrants::hosts(origins.iter().cloned()),
        ..PluginSettings::default()
    };
    runtime.load(&path, settings).await.expect("load plugin").0
}

/// Invokes `step` with `input` and `secrets`, as attempt 1 of a run.
pub async fn invoke(plugin: &Plugin, step: &str, input: serde_json::Value, secrets: &[(&str, &str)]) -> Outcome {
    plugin
        .invoke(Invocation {
            step: step.into(),
            input: input.to_string(),
            context: Context {
                run_id: "run-contract".into(),
                step_id: step.into(),
                attempt: 1,
                idempotency_key: format!("run-contract/{step}"),
            },
            secrets: secrets.iter().map(|(k, v)| (*k, *v)).collect::<Secrets>(),
            kv: Arc::new(MemoryKv::default()),
        })
        .await
}
