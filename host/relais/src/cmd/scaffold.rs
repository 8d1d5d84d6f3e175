//! `relais plugin new NAME`: a plugin crate that builds and passes its own test.

use std::path::{Path, PathBuf};

use crate::cmd::out::outln;
use anyhow::{Context as _, Result, bail};

const CARGO_TOML: &str = include_str!("scaffold/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("scaffold/lib.rs.tmpl");

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-')
}

/// The repository root, when `dir` is inside a Relais checkout.
fn relais_checkout(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("plugin-sdk/Cargo.toml").is_file() && d.join("wit/plugin.wit").is_file())
        .map(Path::to_path_buf)
}

/// Writes the crate and returns its folder.
pub fn new_plugin(name: &str, path: Option<PathBuf>) -> Result<PathBuf> {
    if !valid_name(name) {
        bail!(
            "plugin name {name:?}: use lowercase letters, digits and '-', starting with a letter"
        );
    }
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let checkout = relais_checkout(&cwd);
    let dir = match path {
        Some(p) => p,
        None => match &checkout {
            Some(root) => root.join("plugins").join(name),
            None => PathBuf::from(name),
        },
    };
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    // Inside the repository the crate joins the workspace (plugins/*) and
    // uses the SDK from the tree; elsewhere it is a crate of its own.
    let in_workspace = checkout.as_ref().is_some_and(|root| {
        dir.starts_with(root.join("plugins")) || cwd.join(&dir).starts_with(root.join("plugins"))
    });
    let sdk = if in_workspace {
        "relais-plugin-sdk = { path = \"../../plugin-sdk\" }".to_string()
    } else if let Some(root) = &checkout {
        let sdk = std::fs::canonicalize(root.join("plugin-sdk")).context("locating plugin-sdk")?;
        format!(
            "relais-plugin-sdk = {{ path = {:?} }}",
            sdk.display().to_string()
        )
    } else {
        format!("relais-plugin-sdk = \"{}\"", env!("CARGO_PKG_VERSION"))
    };
    let mut cargo = CARGO_TOML
        .replace("{{name}}", name)
        .replace("{{sdk}}", &sdk);
    if !in_workspace {
        // A crate outside the Relais workspace is its own workspace.
        cargo.push_str("\n[workspace]\n\n[profile.release]\nopt-level = \"s\"\nlto = true\nstrip = true\npanic = \"abort\"\n");
    }
    let lib = LIB_RS.replace("{{name}}", name);
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("Cargo.toml"), cargo)?;
    std::fs::write(dir.join("src/lib.rs"), lib)?;
    outln!("created plugin crate {}", dir.display())?;
    outln!(
        "  test it:   cargo test --manifest-path {}/Cargo.toml",
        dir.display()
    )?;
    if in_workspace {
        outln!(
            "  build it:  scripts/build-plugins.sh plugin-{name}   (writes target/plugins/{name}.wasm)"
        )?;
    } else {
        outln!("  build it:  cargo build --release --target wasm32-wasip2")?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(valid_name("whmcs-sync"));
        assert!(!valid_name("Whmcs"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("x-"));
        assert!(!valid_name("9lives"));
        assert!(!valid_name("a_b"));
    }

    #[test]
    fn the_template_uses_the_sdk_as_documented() {
        assert!(LIB_RS.contains("relais_plugin_sdk::plugin!"));
        assert!(CARGO_TOML.contains("cdylib"));
    }
}
