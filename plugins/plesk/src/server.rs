//! `server-info` and `test-connection` (REST `/api/v2/server`).

use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::client::{Connection, Plesk};

/// Input of `server-info` and `test-connection`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerIn {
    /// How to reach Plesk.
    pub connection: Connection,
}

/// An IP address of the server.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ServerIp {
    /// The IPv4 address.
    pub ipv4: Option<String>,
    /// The IPv6 address.
    pub ipv6: Option<String>,
    /// `shared` or `exclusive`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The network interface.
    pub interface: Option<String>,
}

/// Output of `server-info`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServerOut {
    /// The server's hostname.
    pub hostname: Option<String>,
    /// `Unix` or `Windows`.
    pub platform: Option<String>,
    /// The Plesk version (e.g. `18.0.62`).
    pub panel_version: Option<String>,
    /// The installed update.
    pub panel_update_version: Option<String>,
    /// The build date.
    pub panel_build_date: Option<String>,
    /// The server's global id.
    pub guid: Option<String>,
    /// The REST API extension's version.
    pub extension_version: Option<String>,
    /// The server's IP addresses.
    pub ips: Vec<ServerIp>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The server's identity, version and IP addresses.
pub fn server_info(input: ServerIn, _cx: &Context) -> Result<ServerOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let server = plesk.get("/server")?;
    let ips = plesk.get("/server/ips")?;
    Ok(ServerOut {
        hostname: text(&server, "hostname"),
        platform: text(&server, "platform"),
        panel_version: text(&server, "panel_version"),
        panel_update_version: text(&server, "panel_update_version"),
        panel_build_date: text(&server, "panel_build_date"),
        guid: text(&server, "guid"),
        extension_version: text(&server, "extension_version"),
        ips: ips
            .as_array()
            .into_iter()
            .flatten()
            .map(|ip| ServerIp {
                ipv4: text(ip, "ipv4"),
                ipv6: text(ip, "ipv6"),
                kind: text(ip, "type"),
                interface: text(ip, "interface"),
            })
            .collect(),
    })
}

/// Output of `test-connection`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestOut {
    /// Always `true` (a failure is an error).
    pub ok: bool,
    /// The server's hostname.
    pub hostname: Option<String>,
    /// The Plesk version.
    pub panel_version: Option<String>,
}

/// Checks the address, the certificate and the credentials.
pub fn test_connection(input: ServerIn, _cx: &Context) -> Result<TestOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let server = plesk.get("/server")?;
    let out = TestOut {
        ok: true,
        hostname: text(&server, "hostname"),
        panel_version: text(&server, "panel_version"),
    };
    log::info!(
        "plesk answered: {} version {}",
        out.hostname.as_deref().unwrap_or("unknown host"),
        out.panel_version.as_deref().unwrap_or("unknown")
    );
    Ok(out)
}
