//! Prepares the WIT tree the guest bindings are generated from.
//!
//! The bindings come from the workspace's `wit/` folder (world `plugin`). Its
//! vendored `wasi:http` package declares worlds (`imports`, `proxy`) that name
//! `wasi:random` and `wasi:cli`, which the `plugin` world never imports and
//! which `wit/deps/` may not vendor; the WIT parser still needs every named
//! package to exist. This script copies `wit/` into `OUT_DIR` and adds empty
//! placeholder packages for those two when, and only when, `wit/deps/` lacks
//! them. The placeholders cannot reach a plugin: nothing in world `plugin`
//! refers to them.

use std::env;
use std::fs;
use std::io;
use std::path::Path;

/// Placeholder packages: (folder under `deps/`, package, file contents).
const PLACEHOLDERS: &[(&str, &str, &str)] = &[
    (
        "random",
        "wasi:random",
        "package wasi:random@0.2.12;\n\ninterface random {}\n",
    ),
    (
        "cli",
        "wasi:cli",
        "package wasi:cli@0.2.12;\n\ninterface stdout {}\ninterface stderr {}\ninterface stdin {}\n",
    ),
];

fn main() -> io::Result<()> {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?;
    let out_dir = env::var("OUT_DIR").map_err(io::Error::other)?;
    let source = Path::new(&manifest_dir).join("../wit");
    let dest = Path::new(&out_dir).join("wit");

    println!("cargo:rerun-if-changed={}", source.display());
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    copy_tree(&source, &dest)?;

    for (folder, package, text) in PLACEHOLDERS {
        if !declares_package(&dest.join("deps"), package)? {
            let dir = dest.join("deps").join(folder);
            fs::create_dir_all(&dir)?;
            fs::write(dir.join(format!("{folder}.wit")), text)?;
        }
    }
    Ok(())
}

/// Copies `from` into `to`, folders and `.wit` files only.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            copy_tree(&path, &target)?;
        } else if path.extension().is_some_and(|ext| ext == "wit") {
            println!("cargo:rerun-if-changed={}", path.display());
            fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// Whether any `.wit` file under `deps` declares `package NAME@...`.
fn declares_package(deps: &Path, name: &str) -> io::Result<bool> {
    if !deps.is_dir() {
        return Ok(false);
    }
    let needle = format!("package {name}@");
    for entry in fs::read_dir(deps)? {
        let path = entry?.path();
        let found = if path.is_dir() {
            declares_package(&path, name)?
        } else if path.extension().is_some_and(|ext| ext == "wit") {
            fs::read_to_string(&path)?
                .lines()
                .any(|line| line.trim_start().starts_with(&needle))
        } else {
            false
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}
