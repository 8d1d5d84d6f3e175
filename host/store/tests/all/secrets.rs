//! Secrets: encrypted at rest, bound to their name, master key handling.

use std::os::unix::fs::PermissionsExt;

use redb::{ReadableTable, TableDefinition};
use relais_store::{MasterKeySource, Store, StoreError, StoreOptions};

use crate::support::*;

const PLAIN: &str = "sk_live_PLAINTEXT_MARKER_4242";

#[tokio::test]
async fn set_get_list_remove() {
    let f = fixture().await;
    assert!(!f.store.secret_set("stripe_api_key", PLAIN).await.unwrap());
    assert!(
        f.store
            .secret_set("stripe_api_key", "sk_live_2")
            .await
            .unwrap()
    );
    f.store.secret_set("b.smtp-pass", "pw").await.unwrap();
    let value = f.store.secret_get("stripe_api_key").await.unwrap().unwrap();
    assert_eq!(value.expose(), "sk_live_2");
    assert!(!format!("{value:?}").contains("sk_live"));
    assert_eq!(
        f.store.secret_names().await.unwrap(),
        ["b.smtp-pass", "stripe_api_key"]
    );
    assert!(f.store.secret_get("missing").await.unwrap().is_none());
    assert!(f.store.secret_remove("b.smtp-pass").await.unwrap());
    assert!(!f.store.secret_remove("b.smtp-pass").await.unwrap());
    assert_eq!(f.store.secret_names().await.unwrap(), ["stripe_api_key"]);
    for bad in ["", "with space", "../etc", "ünicode"] {
        assert!(matches!(
            f.store.secret_set(bad, "v").await,
            Err(StoreError::Invalid { .. })
        ));
        assert!(f.store.secret_get(bad).await.is_err());
    }
    // Empty and long values round-trip.
    f.store.secret_set("empty", "").await.unwrap();
    assert_eq!(
        f.store.secret_get("empty").await.unwrap().unwrap().expose(),
        ""
    );
    let long = "x".repeat(100_000);
    f.store.secret_set("long", &long).await.unwrap();
    assert_eq!(
        f.store.secret_get("long").await.unwrap().unwrap().expose(),
        long
    );
}

#[tokio::test]
async fn the_plaintext_is_not_in_the_database_file() {
    let f = fixture().await;
    f.store.secret_set("api", PLAIN).await.unwrap();
    // Control: the same bytes stored in plain KV are found by the scan.
    let control = "KV_CONTROL_MARKER_4242";
    f.store
        .kv_set("p", "k", control.as_bytes().to_vec())
        .await
        .unwrap();
    let path = f.store.path().to_owned();
    drop(f.store);
    let bytes = std::fs::read(path).unwrap();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(control.as_bytes()));
    assert!(!contains(PLAIN.as_bytes()));
    assert!(!contains(b"PLAINTEXT_MARKER"));
}

#[tokio::test]
async fn the_master_key_file_is_created_0600_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("keys/master.key");
    let options = StoreOptions::new(
        dir.path().join("db/relais.redb"),
        MasterKeySource::File(key_path.clone()),
    );
    let opened = Store::open(options.clone()).unwrap();
    assert!(opened.master_key_created);
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    opened.store.secret_set("s", PLAIN).await.unwrap();
    drop(opened);

    let opened = Store::open(options).unwrap();
    assert!(!opened.master_key_created);
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), text);
    let value = opened.store.secret_get("s").await.unwrap().unwrap();
    assert_eq!(value.expose(), PLAIN);
}

#[tokio::test]
async fn another_master_key_cannot_decrypt_and_the_error_hides_the_value() {
    let f = fixture().await;
    f.store.secret_set("api", PLAIN).await.unwrap();
    let dir = f.dir;
    drop(f.store);
    std::fs::write(dir.path().join("master.key"), "11".repeat(32)).unwrap();
    let store = open_in(dir.path()).store;
    let err = store.secret_get("api").await.unwrap_err();
    assert!(matches!(err, StoreError::SecretCrypto { .. }));
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("api"));
    assert!(!shown.contains("PLAINTEXT"));
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_name_does_not_decrypt() {
    let f = fixture().await;
    f.store.secret_set("stripe_api_key", PLAIN).await.unwrap();
    f.store.secret_set("slack_token", "xoxb").await.unwrap();
    let dir = f.dir;
    drop(f.store);
    {
        let db = redb::Database::open(dir.path().join("relais.redb")).unwrap();
        let table: TableDefinition<&[u8], &[u8]> = TableDefinition::new("secrets");
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(table).unwrap();
            let sealed = t
                .get(&b"stripe_api_key"[..])
                .unwrap()
                .unwrap()
                .value()
                .to_vec();
            t.insert(&b"slack_token"[..], sealed.as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let store = open_in(dir.path()).store;
    let err = store.secret_get("slack_token").await.unwrap_err();
    assert!(matches!(err, StoreError::SecretCrypto { ref name, .. } if name == "slack_token"));
    assert_eq!(
        store
            .secret_get("stripe_api_key")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        PLAIN
    );
}

#[test]
fn bad_or_missing_master_keys_refuse_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("master.key");
    for content in ["", "abcd", &"zz".repeat(32), &"ab".repeat(33)] {
        std::fs::write(&key_path, content).unwrap();
        let err = Store::open(options(dir.path())).unwrap_err();
        assert!(
            matches!(err, StoreError::MasterKey { .. }),
            "{content:?}: {err}"
        );
    }
    let env = StoreOptions::new(
        dir.path().join("relais.redb"),
        MasterKeySource::Env("RELAIS_STORE_TEST_UNSET_VARIABLE_7F3A".into()),
    );
    let err = Store::open(env).unwrap_err();
    assert!(
        err.to_string()
            .contains("env:RELAIS_STORE_TEST_UNSET_VARIABLE_7F3A")
    );
}

const CHILD_ENV: &str = "RELAIS_STORE_TEST_ENV_KEY_DIR";
const KEY_VAR: &str = "RELAIS_STORE_TEST_MASTER_KEY";

/// Runs only as a child of `the_master_key_can_come_from_an_environment_variable`.
#[tokio::test]
async fn env_key_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let options = StoreOptions::new(
        std::path::Path::new(&dir).join("relais.redb"),
        MasterKeySource::Env(KEY_VAR.into()),
    );
    let opened = Store::open(options).unwrap();
    assert!(!opened.master_key_created);
    opened.store.secret_set("from_env", PLAIN).await.unwrap();
    println!("CHILD-OK");
}

#[tokio::test]
async fn the_master_key_can_come_from_an_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let hex_key = "5a".repeat(32);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["secrets::env_key_child", "--exact", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .env(KEY_VAR, &hex_key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "{stdout}"
    );
    // The same key given as a file decrypts what the child stored.
    std::fs::write(dir.path().join("master.key"), &hex_key).unwrap();
    let store = open_in(dir.path()).store;
    assert_eq!(
        store
            .secret_get("from_env")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        PLAIN
    );
}
