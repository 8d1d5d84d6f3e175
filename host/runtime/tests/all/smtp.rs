//! A real SMTP server for the mail tests: `smtp_sink.py` on aiosmtpd
//! (installed with pip into `target/python/runtime-tests` when missing), and
//! a private CA made with openssl for STARTTLS and TLS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::repo_root;

/// Where aiosmtpd is installed for these tests (pip `--target`), so the
/// system Python is left alone.
fn python_path() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = repo_root().join("target/python/runtime-tests");
            let has = |dir: &Path| {
                Command::new("python3")
                    .args(["-c", "import aiosmtpd"])
                    .env("PYTHONPATH", dir)
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !has(&dir) {
                let status = Command::new("python3")
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .arg("--target")
                    .arg(&dir)
                    .arg("aiosmtpd==1.4.6")
                    .status();
                assert!(
                    status.is_ok_and(|s| s.success()) && has(&dir),
                    "aiosmtpd is missing and could not be installed: \
                     run `pip install aiosmtpd` (Python 3.8+ with pip is needed)"
                );
            }
            dir
        })
        .clone()
}

/// A private CA and a certificate for 127.0.0.1 signed by it (openssl).
pub struct Certs {
    _dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl is needed to make test certificates");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Relais Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    Certs {
        ca: p("ca.pem"),
        cert: p("cert.pem"),
        key: p("key.pem"),
        _dir: dir,
    }
}

/// A running `smtp_sink.py`; killed when dropped.
pub struct Sink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Sink {
    pub fn start(args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let script = repo_root().join("host/runtime/tests/all/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(args)
            .env("PYTHONPATH", python_path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.starts_with("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = child.kill();
            panic!("the SMTP sink did not start");
        }
        Self { port, dir, child }
    }

    /// The messages received so far, waiting up to 5 s for `n` of them.
    pub fn messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut found: Vec<(u32, Value)> = std::fs::read_dir(self.dir.path())
                .unwrap()
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let n: u32 = path
                        .file_name()?
                        .to_str()?
                        .strip_suffix(".json")?
                        .parse()
                        .ok()?;
                    let text = std::fs::read_to_string(&path).ok()?;
                    Some((n, serde_json::from_str(&text).ok()?))
                })
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                found.sort_by_key(|(n, _)| *n);
                return found.into_iter().map(|(_, v)| v).collect();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The raw bytes of message `n` (from 1).
    pub fn raw(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{n}.eml"))).unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
