//! What the end-to-end tests share: the binary, free ports, a bare HTTP/1.1
//! client, and starting `relais serve`.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A manual workflow with an input schema and one `set` step.
pub const HELLO: &str = r#"id: hello
input:
  type: object
  required: [name]
  properties: { name: { type: string } }
steps:
  - id: greet
    set: { greeting: "Hello {{ trigger.input.name }}" }
"#;

/// The `relais` binary under test (`RELAIS_BIN`, else the debug build).
pub fn relais_bin() -> PathBuf {
    let bin = std::env::var_os("RELAIS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/relais"));
    assert!(
        bin.exists(),
        "{} missing: build it with `cargo build -p relais` (or set RELAIS_BIN)",
        bin.display()
    );
    bin
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request; `Err` when the connection fails or the answer is
/// cut (a server killed mid-request).
pub fn try_http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let cut = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no complete answer");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(cut)?;
    let (_, body) = text.split_once("\r\n\r\n").ok_or_else(cut)?;
    let value = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    Ok((status, value))
}

/// [`try_http`] that panics when the server does not answer.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    try_http(port, method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// `DIR/relais.toml`: data in `DIR/data`, plugins and workflows in the
/// folders `DIR/plugins` and `DIR/workflows` (made empty here), the server
/// on a free port of 127.0.0.1. Returns the file and the port.
pub fn server_config(dir: &Path) -> (PathBuf, u16) {
    let wf = dir.join("workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(dir.join("plugins")).unwrap();
    let port = free_port();
    let config = dir.join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nplugins_dir = {:?}\nworkflows_dir = {wf:?}\n[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace_secs = 2\n",
            dir.join("data"),
            dir.join("plugins")
        ),
    )
    .unwrap();
    (config, port)
}

/// `relais -c CONFIG serve`, its output discarded.
pub fn serve(config: &Path) -> Child {
    Command::new(relais_bin())
        .args(["-c", config.to_str().unwrap(), "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until something accepts connections on `port`.
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not start listening on {port}");
}

/// `relais -c CONFIG ARGS...` to completion: (success, stdout, stderr).
pub fn relais(config: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let config = config.to_str().unwrap();
    let all: Vec<&str> = ["-c", config]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    relais_in(&std::env::current_dir().unwrap(), &all, stdin)
}

/// `relais ARGS...` run in the folder `cwd`, to completion: (success,
/// stdout, stderr).
pub fn relais_in(cwd: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(relais_bin())
        .current_dir(cwd)
        .env_remove("RELAIS_CONFIG")
        .env_remove("RUST_LOG")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The bundled plugins' folder (`target/plugins`), built by
/// `scripts/build-plugins.sh`.
pub fn bundled_plugins() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins");
    assert!(
        dir.join("http.wasm").exists(),
        "{} has no http.wasm: run scripts/build-plugins.sh",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}
