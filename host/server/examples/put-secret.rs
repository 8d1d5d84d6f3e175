//! Stores a secret in a Relais data folder, for scripts and demos:
//! `put-secret DATA_DIR NAME < value`. Uses the same files as `relais serve`
//! (`DATA_DIR/relais.redb`, master key in `DATA_DIR/master.key`); run it
//! while the server is stopped.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use relais_store::{MasterKeySource, Store, StoreOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, name] = args.as_slice() else {
        eprintln!("usage: put-secret DATA_DIR NAME < value");
        return ExitCode::FAILURE;
    };
    let dir = PathBuf::from(dir);
    let mut value = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut value) {
        eprintln!("error: cannot read the value from stdin: {e}");
        return ExitCode::FAILURE;
    }
    let value = value.trim_end_matches(['\r', '\n']);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let opened = match Store::open(StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    )) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match opened.store.secret_set(name, value).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
