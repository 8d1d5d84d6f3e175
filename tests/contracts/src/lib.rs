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
    assert!(
        p.is_dir(),
        "{} is missing: the contract tests need ../shared beside the repository",
        p.display()
    );
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
        Self::start_with_env(spec, fixtures, &[])
    }

    /// Like [`start`](Self::start) with `QUICK=1`: the mock compiles each
    /// schema when a request first needs it instead of all of them up front,
    /// and skips its strict check of the document. Stripe's document then
    /// loads in about a second (instead of minutes and gigabytes), and
    /// PayPal's, which that strict check refuses, loads at all; requests are
    /// validated the same way.
    pub fn start_quick(spec: &Path, fixtures: Option<&Path>) -> Self {
        Self::start_with_env(spec, fixtures, &[("QUICK", "1")])
    }

    /// Like [`start`](Self::start), with extra environment variables for
    /// the mock.
    ///
    /// Mocks started at the same moment share the mock's install folder, and
    /// one that exits before listening (a file being replaced under it, a
    /// port taken meanwhile) is started again, up to three times.
    pub fn start_with_env(spec: &Path, fixtures: Option<&Path>, env: &[(&str, &str)]) -> Self {
        let mut tries = 0;
        loop {
            tries += 1;
            match Self::try_start(spec, fixtures, env) {
                Ok(mock) => return mock,
                Err(status) if tries < 3 => {
                    eprintln!(
                        "the contract mock for {} exited before listening ({status}), starting it again",
                        spec.display()
                    );
                    std::thread::sleep(Duration::from_millis(300 * tries));
                }
                Err(status) => panic!("the contract mock for {} exited: {status}", spec.display()),
            }
        }
    }

    fn try_start(
        spec: &Path,
        fixtures: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Self, std::process::ExitStatus> {
        let port = free_port();
        let script = shared().join("tools/contract-mock/run.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg(spec).arg(port.to_string());
        cmd.envs(env.iter().copied());
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
                return Err(status);
            }
            assert!(
                Instant::now() < deadline,
                "the contract mock for {} did not start",
                spec.display()
            );
        }
        Ok(Self { port, child })
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
    let path = repo_root()
        .join("target/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh first",
        path.display()
    );
    let runtime = Runtime::new(&RuntimeConfig::default()).expect("runtime");
    let settings = PluginSettings {
        limits: Limits::default(),
        http: HttpGrants::hosts(origins.iter().cloned()),
        ..PluginSettings::default()
    };
    runtime.load(&path, settings).await.expect("load plugin").0
}

/// Invokes `step` with `input` and `secrets`, as attempt 1 of a run.
pub async fn invoke(
    plugin: &Plugin,
    step: &str,
    input: serde_json::Value,
    secrets: &[(&str, &str)],
) -> Outcome {
    invoke_with_kv(plugin, step, input, secrets, Arc::new(MemoryKv::default())).await
}

/// Like [`invoke`], with the plugin's key-value store given: several
/// invocations that share it see what earlier ones kept (a cached token, a
/// record of a message sent). The idempotency key is `run-contract/STEP`, the
/// same on every call, as on the retries of one step.
pub async fn invoke_with_kv(
    plugin: &Plugin,
    step: &str,
    input: serde_json::Value,
    secrets: &[(&str, &str)],
    kv: Arc<MemoryKv>,
) -> Outcome {
    let outcome = plugin
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
            kv,
        })
        .await;
    if let Ok(output) = &outcome.result {
        assert_output_schema(plugin, step, output);
    }
    outcome
}

/// Panics unless `output` matches the output schema `step` declares: the
/// engine checks every output the same way, so a connector whose real
/// answers break its own schema would fail its steps.
pub fn assert_output_schema(plugin: &Plugin, step: &str, output: &serde_json::Value) {
    let info = plugin.info();
    let schema = &info
        .step(step)
        .unwrap_or_else(|| panic!("{} has no step {step}", info.name))
        .output_schema;
    let validator = jsonschema::validator_for(schema)
        .unwrap_or_else(|e| panic!("{}/{step}: output schema does not compile: {e}", info.name));
    let problems: Vec<String> = validator
        .iter_errors(output)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect();
    assert!(
        problems.is_empty(),
        "{}/{step}: output breaks its declared schema: {}\noutput: {output}",
        info.name,
        problems.join("; ")
    );
}

/// `Basic base64(USER:PASSWORD)`, the `Authorization` value of HTTP basic
/// auth (RFC 7617), to check what a plugin sent.
pub fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in format!("{user}:{password}").as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[((n >> shift) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The step error of an invocation that should have failed with one.
///
/// # Panics
///
/// When the invocation succeeded or failed another way (a trap, a limit).
pub fn step_error(
    result: Result<serde_json::Value, relais_runtime::InvokeError>,
) -> relais_runtime::StepError {
    match result {
        Err(relais_runtime::InvokeError::Step(err)) => err,
        other => panic!("expected a step error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Vendor documents prepared for the contract mock (JSON or YAML, mounted at
// their server path, every operation named), and the checking proxy of
// `checked.rs`.
// ---------------------------------------------------------------------------

mod checked;

pub use checked::{Answer, CheckedMock, Exchange, Received, Reply, form_decode, send_raw};

/// A vendor's OpenAPI document as JSON, whether the file is JSON or YAML.
///
/// YAML goes through `js-yaml` from the contract mock's own npm packages
/// (installed on first use, like `contract-mock/run.sh` does), so nothing
/// converted is ever committed.
pub fn load_spec(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if !is_yaml {
        return serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    }
    let js_yaml = contract_mock_home().join("node_modules/js-yaml");
    if !js_yaml.is_dir() {
        install_contract_mock_packages();
    }
    let output = Command::new("node")
        .arg("-e")
        .arg("const y = require(process.argv[1]); const fs = require('fs'); process.stdout.write(JSON.stringify(y.load(fs.readFileSync(process.argv[2], 'utf8'))));")
        .arg(&js_yaml)
        .arg(path)
        .output()
        .expect("run node (needed for the contract mocks)");
    assert!(
        output.status.success(),
        "js-yaml could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("js-yaml writes JSON")
}

fn contract_mock_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CONTRACT_MOCK_HOME") {
        return PathBuf::from(home);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME");
    cache.join("contract-mock")
}

fn install_contract_mock_packages() {
    let home = contract_mock_home();
    std::fs::create_dir_all(&home).expect("create the contract mock's folder");
    std::fs::copy(
        shared().join("tools/contract-mock/package.json"),
        home.join("package.json"),
    )
    .expect("copy package.json");
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&home)
        .stdout(Stdio::null())
        .status()
        .expect("run npm");
    assert!(status.success(), "npm install in {} failed", home.display());
}

/// Serves the document's paths under the path of its first `servers` URL
/// (`https://{host}/json-api` → `/json-api/...`), where clients call them.
pub fn mount_at_server_path(spec: &mut serde_json::Value) {
    let url = spec["servers"][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let base = after_scheme
        .find('/')
        .map_or("", |at| &after_scheme[at..])
        .trim_end_matches('/')
        .to_owned();
    if base.is_empty() {
        return;
    }
    if let Some(paths) = spec["paths"].as_object_mut() {
        *paths = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| (format!("{base}{path}"), item))
            .collect();
    }
}

/// Gives every operation without an `operationId` one made of its method
/// and path (the mock routes by operation id).
pub fn name_operations(spec: &mut serde_json::Value) {
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if let Some(op) = item.get_mut(method).and_then(|op| op.as_object_mut()) {
                op.entry("operationId").or_insert_with(|| {
                    let slug: String = path
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect();
                    serde_json::Value::String(format!("{method}{slug}"))
                });
            }
        }
    }
}

/// A prepared document in a temporary file, removed when dropped.
pub struct SpecFile {
    path: PathBuf,
}

impl SpecFile {
    /// Writes `spec` to a fresh temporary file.
    pub fn write(spec: &serde_json::Value) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("relais-contract-{}-{n}.json", std::process::id()));
        std::fs::write(
            &path,
            serde_json::to_vec(spec).expect("a JSON value serialises"),
        )
        .expect("write the prepared spec");
        Self { path }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpecFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An instance of schema `name` (under `components.schemas`) built from the
/// document's own `example` values (or the first value of an `enum`),
/// property by property, following `$ref`s: what the vendor says an answer
/// looks like, for documents whose responses carry no whole example. A
/// property with neither an example nor a shape to build is left out.
pub fn example_of(spec: &serde_json::Value, name: &str) -> serde_json::Value {
    fn build(
        spec: &serde_json::Value,
        schema: &serde_json::Value,
        depth: usize,
    ) -> Option<serde_json::Value> {
        if depth > 8 {
            return None;
        }
        if let Some(pointer) = schema.get("$ref").and_then(|r| r.as_str()) {
            let target = spec.pointer(pointer.trim_start_matches('#'))?;
            return build(spec, target, depth + 1);
        }
        if let Some(example) = schema.get("example") {
            return Some(example.clone());
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return Some(first.clone());
        }
        if let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) {
            let object = properties
                .iter()
                .filter_map(|(key, property)| {
                    build(spec, property, depth + 1).map(|v| (key.clone(), v))
                })
                .collect();
            return Some(serde_json::Value::Object(object));
        }
        match schema.get("type").and_then(|t| t.as_str()) {
            Some("array") => Some(serde_json::Value::Array(
                build(spec, schema.get("items")?, depth + 1)
                    .into_iter()
                    .collect(),
            )),
            _ => None,
        }
    }
    let schema = spec
        .pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("the document has no schema {name}"));
    build(spec, schema, 0).unwrap_or(serde_json::Value::Null)
}
