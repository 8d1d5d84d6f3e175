//! The on-disk cache of precompiled components.
//!
//! An entry is keyed by the SHA-256 of the component's bytes and by the
//! engine's compatibility hash (wasmtime version, target, settings), so a
//! changed plugin or a changed engine never loads a stale artefact. Each
//! entry carries the SHA-256 of its own bytes: a truncated or corrupted file
//! is detected before wasmtime sees it, then rebuilt.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What loading through the cache did, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The precompiled artefact was loaded.
    Hit,
    /// No entry: the component was compiled and stored.
    Miss,
    /// The entry was damaged: it was removed, recompiled and stored again.
    Rebuilt,
    /// No cache folder configured: compiled in memory only.
    Disabled,
}

/// A folder of precompiled components for one engine configuration.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_key: String,
}

struct Sha(Sha256);

impl Hasher for Sha {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl ComponentCache {
    /// A cache in `dir` (created if missing) for `engine`.
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        let mut h = Sha(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_key = hex::encode(&h.0.finalize()[..8]);
        Ok(Self { dir, engine_key })
    }

    /// The file an entry for `wasm` lives in.
    pub fn entry_path(&self, wasm: &[u8]) -> PathBuf {
        let digest = hex::encode(Sha256::digest(wasm));
        self.dir
            .join(format!("{}-{}.cwasm", &digest[..32], self.engine_key))
    }

    /// Loads `wasm` precompiled if a sound entry exists, otherwise compiles
    /// it and stores the entry.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(wasm);
        let mut outcome = CacheOutcome::Miss;
        if path.exists() {
            match read_checked(&path) {
                Some(bytes) => {
                    if let Ok(c) = deserialize(engine, &bytes) {
                        return Ok((c, CacheOutcome::Hit));
                    }
                    outcome = CacheOutcome::Rebuilt;
                }
                None => outcome = CacheOutcome::Rebuilt,
            }
            tracing::warn!(path = %path.display(), "damaged precompiled plugin in the cache, rebuilding");
            let _ = std::fs::remove_file(&path);
        }
        let component = Component::new(engine, wasm)?;
        let bytes = component.serialize()?;
        if let Err(e) = write_checked(&path, &bytes) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the plugin cache");
        }
        Ok((component, outcome))
    }
}

const TRAILER: usize = 32;

fn read_checked(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.len() < TRAILER {
        return None;
    }
    let split = bytes.len() - TRAILER;
    let sum = Sha256::digest(&bytes[..split]);
    if sum.as_slice() != &bytes[split..] {
        return None;
    }
    bytes.truncate(split);
    Some(bytes)
}

fn write_checked(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut data = Vec::with_capacity(bytes.len() + TRAILER);
    data.extend_from_slice(bytes);
    data.extend_from_slice(&Sha256::digest(bytes));
    std::fs::write(&tmp, &data)?;
    std::fs::rename(&tmp, path)
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `bytes` were produced by `Component::serialize` of an engine
    // with the same compatibility hash (it is part of the file name), and
    // their SHA-256 trailer matched, so they are exactly what was written.
    unsafe { Component::deserialize(engine, bytes) }
}
