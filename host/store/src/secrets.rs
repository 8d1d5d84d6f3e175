//! Secrets at rest: XChaCha20-Poly1305 with a per-secret key derived by
//! HKDF-SHA256 from the master key and the secret's name.
//!
//! A sealed record is `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.
//! The name is both in the key derivation and in the associated data, so a
//! record copied under another name does not decrypt.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const SALT: &[u8] = b"relais-store/secrets/v1";
/// Longest secret name accepted.
const MAX_SECRET_NAME: usize = 128;

/// Where the master key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A file holding the key as 64 hex characters. Created with 32 random
    /// bytes and mode 0600 when absent.
    File(PathBuf),
    /// An environment variable holding the key as 64 hex characters.
    Env(String),
}

impl MasterKeySource {
    fn location(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Env(name) => format!("env:{name}"),
        }
    }
}

/// The 32-byte master key, wiped from memory when dropped.
pub(crate) struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A decrypted secret value. Its `Debug` output never shows the value, and
/// its memory is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The plaintext. Keep it out of logs and run records.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// Checks a secret name: 1 to 128 ASCII letters, digits, `_`, `-` or `.`.
pub(crate) fn check_secret_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SECRET_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "secret name",
            reason: format!(
                "{:?}: use 1 to {MAX_SECRET_NAME} ASCII letters, digits, '_', '-' or '.'",
                name.chars().take(MAX_SECRET_NAME + 1).collect::<String>()
            ),
        })
    }
}

fn parse_hex_key(location: &str, text: &str) -> Result<MasterKey> {
    let bad = |reason: &str| StoreError::MasterKey {
        location: location.to_owned(),
        reason: reason.to_owned(),
    };
    let text = text.trim();
    if text.len() != 64 {
        return Err(bad("must be 64 hex characters (32 bytes)"));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, &mut key[..]).map_err(|_| bad("is not valid hex"))?;
    Ok(MasterKey(key))
}

impl MasterKey {
    /// Reads the key from `source`, creating the key file when it is absent.
    /// Returns the key and whether it was just created.
    pub(crate) fn load(source: &MasterKeySource) -> Result<(Self, bool)> {
        let location = source.location();
        match source {
            MasterKeySource::Env(name) => {
                let value = std::env::var(name).map_err(|e| StoreError::MasterKey {
                    location: location.clone(),
                    reason: format!("cannot be read: {e}"),
                })?;
                let value = Zeroizing::new(value);
                Ok((parse_hex_key(&location, &value)?, false))
            }
            MasterKeySource::File(path) => match std::fs::read(path) {
                Ok(bytes) => {
                    let bytes = Zeroizing::new(bytes);
                    let text = std::str::from_utf8(&bytes).map_err(|_| StoreError::MasterKey {
                        location: location.clone(),
                        reason: "is not valid hex".into(),
                    })?;
                    Ok((parse_hex_key(&location, text)?, false))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Ok((create_key_file(path, &location)?, true))
                }
                Err(e) => Err(StoreError::MasterKey {
                    location,
                    reason: format!("cannot be read: {e}"),
                }),
            },
        }
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    fn cipher_for(&self, name: &str) -> Option<XChaCha20Poly1305> {
        let hk = Hkdf::<Sha256>::new(Some(SALT), &self.0[..]);
        let mut okm = Zeroizing::new([0u8; 32]);
        let info = [b"secret:".as_slice(), name.as_bytes()].concat();
        hk.expand(&info, &mut okm[..]).ok()?;
        XChaCha20Poly1305::new_from_slice(&okm[..]).ok()
    }

    /// Encrypts `value` for the secret `name` with a fresh random nonce.
    pub(crate) fn seal(&self, name: &str, value: &str) -> Result<Vec<u8>> {
        let fail = || StoreError::SecretCrypto {
            name: name.to_owned(),
            action: "encrypted",
        };
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| fail())?;
        let aad = [&[VERSION], name.as_bytes()].concat();
        let ciphertext = self
            .cipher_for(name)
            .ok_or_else(fail)?
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| fail())?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a sealed record of the secret `name`.
    pub(crate) fn open(&self, name: &str, sealed: &[u8]) -> Result<SecretValue> {
        let fail = || StoreError::SecretCrypto {
            name: name.to_owned(),
            action: "decrypted",
        };
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(fail());
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().map_err(|_| fail())?;
        let aad = [&[VERSION], name.as_bytes()].concat();
        let plain = self
            .cipher_for(name)
            .ok_or_else(fail)?
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| fail())?;
        let plain = Zeroizing::new(plain);
        let text = std::str::from_utf8(&plain).map_err(|_| fail())?;
        Ok(SecretValue::new(text))
    }
}

#[cfg(unix)]
fn create_options() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn create_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    options
}

/// Creates the key file with 32 random bytes (hex), mode 0600, synced.
fn create_key_file(path: &Path, location: &str) -> Result<MasterKey> {
    let fail = |reason: String| StoreError::MasterKey {
        location: location.to_owned(),
        reason,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut key[..]).map_err(|e| fail(format!("no randomness for a new key: {e}")))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create its folder: {e}")))?;
    }
    let mut file = match create_options().open(path) {
        Ok(file) => file,
        // Another process created it in the meantime: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return MasterKey::load(&MasterKeySource::File(path.to_owned())).map(|(k, _)| k);
        }
        Err(e) => return Err(fail(format!("cannot be created: {e}"))),
    };
    let mut text = Zeroizing::new(hex::encode(&key[..]));
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(format!("cannot be written: {e}")))?;
    if let Some(dir) = parent
        && let Ok(d) = std::fs::File::open(dir)
    {
        // Makes the new directory entry durable; best effort.
        let _ = d.sync_all();
    }
    Ok(MasterKey(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn seal_then_open() {
        let sealed = key(1).seal("stripe_api_key", "sk_live_123").unwrap();
        assert_eq!(sealed.len(), 1 + 24 + 11 + 16);
        let value = key(1).open("stripe_api_key", &sealed).unwrap();
        assert_eq!(value.expose(), "sk_live_123");
    }

    #[test]
    fn two_seals_use_different_nonces() {
        let a = key(1).seal("n", "same").unwrap();
        let b = key(1).seal("n", "same").unwrap();
        assert_ne!(a[1..25], b[1..25]);
        assert_ne!(a, b);
    }

    #[test]
    fn another_name_another_key_or_a_flipped_bit_fail() {
        let sealed = key(1).seal("a", "v").unwrap();
        assert!(key(1).open("b", &sealed).is_err());
        assert!(key(2).open("a", &sealed).is_err());
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(key(1).open("a", &bad).is_err(), "bit flip at {i} accepted");
        }
        assert!(key(1).open("a", &sealed[..20]).is_err());
        assert!(key(1).open("a", &[]).is_err());
    }

    #[test]
    fn errors_and_debug_never_show_the_value() {
        let sealed = key(1).seal("a", "hunter2").unwrap();
        let err = key(2).open("a", &sealed).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        let value = SecretValue::new("hunter2");
        assert_eq!(format!("{value:?}"), "SecretValue(<redacted>)");
        assert_eq!(format!("{:?}", key(1)), "MasterKey(<redacted>)");
    }

    #[test]
    fn secret_names_are_checked() {
        assert!(check_secret_name("stripe_api_key").is_ok());
        assert!(check_secret_name("a.b-c_D9").is_ok());
        assert!(check_secret_name(&"a".repeat(128)).is_ok());
        assert!(check_secret_name(&"a".repeat(129)).is_err());
        for bad in ["", "has space", "slash/", "é", "nul\0"] {
            assert!(check_secret_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hex_keys_are_checked() {
        assert!(parse_hex_key("t", &"ab".repeat(32)).is_ok());
        assert!(parse_hex_key("t", &format!("  {}\n", "AB".repeat(32))).is_ok());
        assert!(parse_hex_key("t", &"ab".repeat(31)).is_err());
        assert!(parse_hex_key("t", &"zz".repeat(32)).is_err());
    }
}
