//! The connection settings every step takes, and the WHM API 1 client:
//! `https://HOST:2087/json-api/FUNCTION?api.version=1`, header
//! `Authorization: whm USER:TOKEN`, and the `{metadata, data}` envelope.

use relais_plugin_sdk::http::{self, ServerAddress, tls::OperatorTrust};
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::error::WhmError;

/// How users write the WHM address: `whm.example.com` or
/// `https://whm.example.com:2087/` (also with `/json-api`); plain `http`
/// only to the machine itself (port 2086).
const ADDRESS: ServerAddress<'static> = ServerAddress {
    field: "connection.url",
    tls_port: 2087,
    plain_port: 2086,
    api_path: "/json-api",
    credential: "API token",
    secret_field: "connection.token_secret",
};

/// `connection.verify_tls: false`: WHM's self-signed certificate is checked
/// by the host with the TLS setting the operator granted the panel's origin.
const TLS: OperatorTrust<'static> = OperatorTrust {
    setting: "connection.verify_tls",
    server: "panel",
};

/// How to reach WHM and who to be there. The same block goes into every
/// step (a YAML anchor keeps workflows short).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The WHM address: `https://whm.example.com:2087`, or just the host
    /// name (`https` and port 2087 are implied).
    pub url: String,
    /// The WHM user that owns the API token: `root` or a reseller
    /// (default `root`).
    #[serde(default = "default_username")]
    pub username: String,
    /// The name of the secret that holds the WHM API token (default
    /// `whm_api_token`); grant it to the step with `secrets: [...]`.
    #[serde(default = "default_token_secret")]
    pub token_secret: String,
    /// Check the panel's TLS certificate against the public roots (default
    /// `true`). `false` says the certificate is not publicly trusted (WHM's
    /// self-signed one): the Relais host then checks it with the TLS
    /// setting the operator granted this origin in `relais.toml`
    /// (`pin_sha256` or `ca_file`), and refuses the request without one.
    /// A workflow alone never turns certificate checks off.
    #[serde(default = "default_true")]
    pub verify_tls: bool,
}

fn default_username() -> String {
    "root".to_owned()
}

fn default_token_secret() -> String {
    "whm_api_token".to_owned()
}

fn default_true() -> bool {
    true
}

/// A successful WHM answer.
#[derive(Debug)]
pub(crate) struct Reply {
    /// `metadata.reason` (`OK` for most functions).
    pub reason: String,
    /// `data`, or `null` for functions that return none.
    pub data: Value,
    /// The answer's `Date` header: the server's clock.
    pub date: Option<String>,
}

/// A WHM server, ready to be called.
#[derive(Debug)]
pub(crate) struct Whm {
    origin: String,
    username: String,
    secret: String,
    authorization: String,
    /// Ask the host for the operator's TLS setting of the origin.
    operator_trust: bool,
}

impl Whm {
    /// Checks the settings and reads the token from its secret.
    pub fn connect(connection: &Connection) -> Result<Self, StepError> {
        let origin = ADDRESS.origin(&connection.url)?;
        let operator_trust = TLS.applies(connection.verify_tls, &origin);
        let username = connection.username.trim();
        if username.is_empty() || username.contains([':', ' ', '\t', '\r', '\n']) {
            return Err(StepError::invalid_input(format!(
                "connection.username {:?} is not a WHM user name",
                connection.username
            )));
        }
        let token = secrets::require(&connection.token_secret)?;
        let token = token.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(StepError::fatal(format!(
                "secret {} does not hold a WHM API token (it is empty or contains spaces)",
                connection.token_secret
            )));
        }
        Ok(Self {
            origin,
            username: username.to_owned(),
            secret: connection.token_secret.clone(),
            authorization: format!("whm {username}:{token}"),
            operator_trust,
        })
    }

    /// Calls `function` with `params` in the query string (read calls and
    /// calls that carry no secret).
    pub fn get(&self, function: &str, params: &[(&str, String)]) -> Result<Reply, WhmError> {
        let request = http::get(self.url(function)).query(params.iter());
        self.send(function, request)
    }

    /// Calls `function` with `params` in a form body, so passwords never
    /// appear in a URL (WHM takes POSTed forms as well as query strings).
    pub fn post(&self, function: &str, params: &[(&str, String)]) -> Result<Reply, WhmError> {
        let request = http::post(self.url(function)).form(params.iter());
        self.send(function, request)
    }

    /// Runs UAPI `module::function` as cPanel user `user`, through WHM's
    /// `uapi_cpanel` (root and resellers need no token of the user), and
    /// returns the UAPI `data` in a [`Reply`].
    pub fn uapi(&self, user: &str, module: &str, function: &str) -> Result<Reply, WhmError> {
        let params = [
            ("cpanel.user", user.to_owned()),
            ("cpanel.module", module.to_owned()),
            ("cpanel.function", function.to_owned()),
        ];
        let mut reply = self.get("uapi_cpanel", &params)?;
        let uapi = reply.data.get_mut("uapi").map(Value::take);
        let Some(mut uapi) = uapi.filter(Value::is_object) else {
            return Err(WhmError::NotWhm {
                function: "uapi_cpanel".into(),
                status: 200,
                detail: "no data.uapi in the reply".into(),
            });
        };
        if uapi.get("status").and_then(as_flag) != Some(true) {
            return Err(WhmError::UapiFailed {
                user: user.into(),
                module: module.into(),
                function: function.into(),
                reason: joined_errors(uapi.get("errors")),
            });
        }
        Ok(Reply {
            reason: reply.reason,
            data: uapi.get_mut("data").map(Value::take).unwrap_or(Value::Null),
            date: reply.date,
        })
    }

    fn url(&self, function: &str) -> String {
        format!("{}/json-api/{function}?api.version=1", self.origin)
    }

    fn send(&self, function: &str, request: http::RequestBuilder) -> Result<Reply, WhmError> {
        log::debug!("whm {function}");
        let request = request
            .header("authorization", self.authorization.clone())
            .header("accept", "application/json");
        let response = TLS.send(request, self.operator_trust)?;
        let status = response.status();
        if status == 401 || status == 403 {
            return Err(WhmError::Auth {
                function: function.into(),
                status,
                username: self.username.clone(),
                secret: self.secret.clone(),
                detail: http::excerpt(response.bytes()),
            });
        }
        if status >= 400 {
            return Err(response.into_status_error().into());
        }
        let not_whm = |detail: String| WhmError::NotWhm {
            function: function.into(),
            status,
            detail,
        };
        if (300..400).contains(&status) {
            let to = response.header("location").unwrap_or("nowhere");
            return Err(not_whm(format!("redirected to {to}")));
        }
        let body: Value = serde_json::from_slice(response.bytes())
            .map_err(|_| not_whm(http::excerpt(response.bytes())))?;
        let metadata = body
            .get("metadata")
            .filter(|m| m.is_object())
            .ok_or_else(|| not_whm("no metadata in the reply".into()))?;
        let result = metadata
            .get("result")
            .and_then(as_flag)
            .ok_or_else(|| not_whm("no metadata.result in the reply".into()))?;
        let reason = metadata
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !result {
            return Err(WhmError::Failed {
                function: function.into(),
                reason: if reason.is_empty() {
                    "no reason given".into()
                } else {
                    reason
                },
            });
        }
        Ok(Reply {
            reason,
            data: body.get("data").cloned().unwrap_or(Value::Null),
            date: response.header("date").map(str::to_owned),
        })
    }
}

/// `1`/`0`, `"1"`/`"0"` or `true`/`false`, as WHM writes its flags.
pub(crate) fn as_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(text) => match text.trim() {
            "1" => Some(true),
            "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// UAPI's `errors` list as one line.
fn joined_errors(errors: Option<&Value>) -> String {
    let text = match errors {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::String(text)) => text.clone(),
        _ => String::new(),
    };
    if text.trim().is_empty() {
        "no reason given".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whm ports, API path and credential names in [`ADDRESS`] (the
    /// rules themselves are tested in the SDK).
    #[test]
    fn whm_addresses() {
        let read = [
            "WHM.Example.com",
            "https://whm.example.com/json-api/",
            "http://localhost",
            "https://root:pw@whm.example.com",
            "http://whm.example.com",
        ]
        .map(|written| ADDRESS.origin(written).map_err(|err| err.reason));
        let expected: [Result<&str, &str>; 5] = [
            Ok("https://whm.example.com:2087"),
            Ok("https://whm.example.com:2087"),
            Ok("http://localhost:2086"),
            Err("must not carry credentials: name a secret in connection.token_secret"),
            Err(
                "uses plain http: the API token would cross the network in clear; use https://HOST:2087",
            ),
        ];
        assert_eq!(
            read,
            expected.map(|r| r.map(str::to_owned).map_err(str::to_owned))
        );
    }
}
