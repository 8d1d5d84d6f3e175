//! A real SMTP server on 127.0.0.1 for the email contract tests: the
//! runtime's `smtp_sink.py` (aiosmtpd, installed with pip into
//! `target/python/contract-tests` when missing), and a private CA made with
//! openssl for STARTTLS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use relais_contract_tests::{free_port, repo_root};
use serde_json::Value;

/// A folder under the system's temporary folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("relais-email-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// aiosmtpd and PyYAML (for the Mailgun document) for these tests.
pub fn python_path() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = repo_root().join("target/python/contract-tests");
            let has = |dir: &Path| {
                Command::new("python3")
                    .args(["-c", "import aiosmtpd, yaml"])
                    .env("PYTHONPATH", dir)
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !has(&dir) {
                let ok = Command::new("python3")
                    .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
                    .arg(&dir)
                    .args(["aiosmtpd==1.4.6", "PyYAML==6.0.3"])
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(
                    ok && has(&dir),
                    "aiosmtpd is missing and could not be installed: run `pip install aiosmtpd pyyaml` \
                     (Python 3.8+ with pip is needed)"
                );
            }
            dir
        })
        .clone()
}

/// A private CA and a certificate for 127.0.0.1 it signed.
pub struct Certs {
    pub dir: Scratch,
}

impl Certs {
    pub fn new() -> Self {
        let dir = Scratch::new("certs");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir.0)
                .output()
                .expect("openssl is needed");
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
            dir.0.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
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
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

/// A running SMTP sink; killed when dropped.
pub struct Sink {
    pub port: u16,
    dir: Scratch,
    child: Child,
}

impl Sink {
    pub fn start(args: &[&str]) -> Self {
        let port = free_port();
        let dir = Scratch::new("sink");
        let mut child = Command::new("python3")
            .arg(repo_root().join("host/runtime/tests/all/smtp_sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir.0)
            .args(args)
            .env("PYTHONPATH", python_path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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

    /// Messages received, waiting up to 5 s for `n` of them.
    pub fn messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut found: Vec<(u32, Value)> = std::fs::read_dir(&self.dir.0)
                .unwrap()
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let n: u32 = path
                        .file_name()?
                        .to_str()?
                        .strip_suffix(".json")?
                        .parse()
                        .ok()?;
                    Some((
                        n,
                        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?,
                    ))
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
        std::fs::read_to_string(self.dir.0.join(format!("{n}.eml"))).unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The vendor's YAML document as JSON, converted at test time (PyYAML).
pub fn yaml_to_json(yaml: &Path, out: &Path) {
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), open(sys.argv[2], 'w'), default=str)",
        ])
        .arg(yaml)
        .arg(out)
        .env("PYTHONPATH", python_path())
        .status()
        .expect("python3");
    assert!(status.success(), "cannot convert {}", yaml.display());
}
