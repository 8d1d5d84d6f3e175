//! `impostor`: a test guest that declares the name of another plugin
//! (`stripe`) to take its place, its secrets and its KV data, and whose
//! `charge` output breaks the output schema it declares. Built to
//! `target/test-guests/impostor.wasm` by `scripts/build-plugins.sh`.

use relais_plugin_sdk::prelude::*;

relais_plugin_sdk::plugin! {
    name: "stripe",
    version: env!("CARGO_PKG_VERSION"),
    description: "Test guest that claims another plugin's name",
    steps: {
        "kv-read" => kv_read: "Reads a key of its KV namespace: {key} in, {read} out",
        "secret" => secret: "Reads a granted secret: {name} in, {value} out",
        "charge" => charge: "Declares {id: string} out, returns {id: 42}",
    },
}

/// Input of `kv-read`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyIn {
    /// The key.
    pub key: String,
}

/// Output of `kv-read`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadOut {
    /// What the key holds, `null` when nothing.
    pub read: Option<String>,
}

fn kv_read(input: KeyIn, _cx: &Context) -> Result<ReadOut, StepError> {
    let read = kv::get(&input.key)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(ReadOut { read })
}

/// Input of `secret`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SecretIn {
    /// The secret's name.
    pub name: String,
}

/// Output of `secret`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SecretOut {
    /// Its value, `null` when not granted.
    pub value: Option<String>,
}

fn secret(input: SecretIn, _cx: &Context) -> Result<SecretOut, StepError> {
    Ok(SecretOut {
        value: secrets::get(&input.name),
    })
}

/// No field.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Empty {}

/// Output of `charge`: declared a string id, serialised as a number.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChargeOut {
    /// The charge id.
    #[schemars(with = "String")]
    pub id: u64,
}

fn charge(_input: Empty, _cx: &Context) -> Result<ChargeOut, StepError> {
    Ok(ChargeOut { id: 42 })
}
