//! The connection settings every step takes, and the two ways to talk to
//! Plesk: the REST API v2 (`https://HOST:8443/api/v2/...`, JSON, header
//! `X-API-Key` or basic auth) and, for what REST lacks, the XML-RPC API
//! (`/enterprise/control/agent.php`, header `KEY` or `HTTP_AUTH_LOGIN` +
//! `HTTP_AUTH_PASSWD`).

use relais_plugin_sdk::http::{self, Method, ServerAddress, tls::OperatorTrust};
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::error::PleskError;
use crate::xml;

/// How users write the Plesk address: `plesk.example.com` or
/// `https://plesk.example.com:8443/` (also with `/api/v2`); plain `http`
/// only to the machine itself (port 8880).
const ADDRESS: ServerAddress<'static> = ServerAddress {
    field: "connection.url",
    tls_port: 8443,
    plain_port: 8880,
    api_path: "/api/v2",
    credential: "API key",
    secret_field: "connection.api_key_secret",
};

/// `connection.verify_tls: false`: Plesk's self-signed certificate is
/// checked by the host with the TLS setting the operator granted the
/// panel's origin.
const TLS: OperatorTrust<'static> = OperatorTrust {
    setting: "connection.verify_tls",
    server: "panel",
};

/// How to reach Plesk and who to be there. The same block goes into every
/// step (a YAML anchor keeps workflows short).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The Plesk address: `https://plesk.example.com:8443`, or just the
    /// host name (`https` and port 8443 implied).
    pub url: String,
    /// The name of the secret holding a REST API key (default
    /// `plesk_api_key`; create one with `plesk bin secret_key -c` or `POST
    /// /api/v2/auth/keys`). Used unless `login` is given.
    #[serde(default = "default_key_secret")]
    pub api_key_secret: String,
    /// Log in as this Plesk user (HTTP basic auth) instead of using an API
    /// key.
    #[serde(default)]
    pub login: Option<String>,
    /// The name of the secret holding `login`'s password (default
    /// `plesk_password`).
    #[serde(default = "default_password_secret")]
    pub password_secret: String,
    /// Check the panel's TLS certificate against the public roots (default
    /// `true`). `false` says the certificate is not publicly trusted
    /// (Plesk's self-signed one): the Relais host then checks it with the
    /// TLS setting the operator granted this origin in `relais.toml`
    /// (`pin_sha256` or `ca_file`), and refuses the request without one.
    /// A workflow alone never turns certificate checks off.
    #[serde(default = "default_true")]
    pub verify_tls: bool,
}

fn default_key_secret() -> String {
    "plesk_api_key".to_owned()
}

fn default_password_secret() -> String {
    "plesk_password".to_owned()
}

fn default_true() -> bool {
    true
}

#[derive(Debug)]
enum Auth {
    Key {
        secret: String,
        key: String,
    },
    Basic {
        login: String,
        password: String,
        secret: String,
    },
}

/// A Plesk server, ready to be called.
#[derive(Debug)]
pub(crate) struct Plesk {
    origin: String,
    auth: Auth,
    /// Ask the host for the operator's TLS setting of the origin.
    operator_trust: bool,
}

impl Plesk {
    /// Checks the settings and reads the credentials from their secret.
    pub fn connect(connection: &Connection) -> Result<Self, StepError> {
        let origin = ADDRESS.origin(&connection.url)?;
        let operator_trust = TLS.applies(connection.verify_tls, &origin);
        let usable = |value: &str| !value.is_empty() && !value.contains(['\r', '\n']);
        let auth = match &connection.login {
            Some(login) => {
                let login = login.trim();
                if login.is_empty() || login.contains([':', '\r', '\n']) {
                    return Err(StepError::invalid_input(format!(
                        "connection.login {login:?} is not a Plesk login"
                    )));
                }
                let password = secrets::require(&connection.password_secret)?;
                if !usable(&password) {
                    return Err(StepError::fatal(format!(
                        "secret {} does not hold a password (it is empty or has line breaks)",
                        connection.password_secret
                    )));
                }
                Auth::Basic {
                    login: login.to_owned(),
                    password,
                    secret: connection.password_secret.clone(),
                }
            }
            None => {
                let key = secrets::require(&connection.api_key_secret)?;
                let key = key.trim();
                if !usable(key) || key.contains(char::is_whitespace) {
                    return Err(StepError::fatal(format!(
                        "secret {} does not hold a Plesk API key (it is empty or contains spaces)",
                        connection.api_key_secret
                    )));
                }
                Auth::Key {
                    secret: connection.api_key_secret.clone(),
                    key: key.to_owned(),
                }
            }
        };
        Ok(Self {
            origin,
            auth,
            operator_trust,
        })
    }

    /// `GET /api/v2{path}`, parsed.
    pub fn get(&self, path: &str) -> Result<Value, PleskError> {
        self.rest(Method::Get, path, None)
    }

    /// `GET /api/v2{path}`, or `None` on 404.
    pub fn find(&self, path: &str) -> Result<Option<Value>, PleskError> {
        match self.get(path) {
            Ok(found) => Ok(Some(found)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// A REST call with an optional JSON body; the answer parsed (`null`
    /// when empty).
    pub fn rest(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PleskError> {
        let what = format!("{method} {path}");
        log::debug!("plesk {what}");
        let mut request = http::request(method.clone(), format!("{}/api/v2{path}", self.origin))
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        request = match &self.auth {
            Auth::Key { key, .. } => request.header("x-api-key", key.clone()),
            Auth::Basic {
                login, password, ..
            } => request.basic(login, password),
        };
        let response = self.send(request)?;
        let status = response.status();
        if status == 401 || status == 403 {
            return Err(self.auth_error(what, format!("http {status}")));
        }
        if http::is_retryable_status(status) {
            return Err(response.into_status_error().into());
        }
        let parsed: Option<Value> = if response.bytes().iter().all(u8::is_ascii_whitespace) {
            Some(Value::Null)
        } else {
            serde_json::from_slice(response.bytes()).ok()
        };
        if status >= 400 {
            let message = parsed
                .as_ref()
                .and_then(|body| body.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| http::excerpt(response.bytes()));
            return Err(PleskError::Api {
                method: method.to_string(),
                path: path.to_owned(),
                status,
                message,
            });
        }
        match parsed {
            Some(body) if (200..300).contains(&status) => Ok(body),
            _ => Err(PleskError::NotPlesk {
                what,
                status,
                detail: http::excerpt(response.bytes()),
            }),
        }
    }

    /// Sends an XML-RPC packet holding `operation` (the inside of
    /// `<packet>`) and returns the `<result>` of that operation once its
    /// status is `ok`.
    pub fn xml(&self, name: &str, operation: &str) -> Result<String, PleskError> {
        let what = format!("xml api {name}");
        log::debug!("plesk {what}");
        let packet =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet>{operation}</packet>");
        let mut request = http::post(format!("{}/enterprise/control/agent.php", self.origin))
            .header("content-type", "text/xml; charset=UTF-8")
            .body(packet.into_bytes());
        request = match &self.auth {
            Auth::Key { key, .. } => request.header("key", key.clone()),
            Auth::Basic {
                login, password, ..
            } => request
                .header("http_auth_login", login.clone())
                .header("http_auth_passwd", password.clone()),
        };
        let response = self.send(request)?;
        let status = response.status();
        if status == 401 || status == 403 {
            return Err(self.auth_error(what, format!("http {status}")));
        }
        if status >= 400 {
            return Err(response.into_status_error().into());
        }
        let body = response.text();
        if xml::element(&body, "packet").is_none() {
            return Err(PleskError::NotPlesk {
                what,
                status,
                detail: http::excerpt(response.bytes()),
            });
        }
        // A packet-level failure (authentication, a malformed packet) sits
        // in <system> instead of the operation.
        if let Some(system) = xml::element(&body, "system") {
            let code = xml::text(system, "errcode").and_then(|c| c.parse().ok());
            let text = xml::text(system, "errtext").unwrap_or_else(|| "no reason given".into());
            if matches!(code, Some(1001 | 1002 | 1003 | 1029)) {
                return Err(self.auth_error(what, text));
            }
            return Err(PleskError::Xml {
                operation: name.into(),
                code,
                text,
            });
        }
        let Some(result) = xml::element(&body, "result") else {
            return Err(PleskError::NotPlesk {
                what,
                status,
                detail: "no <result> in the packet".into(),
            });
        };
        if xml::text(result, "status").as_deref() != Some("ok") {
            return Err(PleskError::Xml {
                operation: name.into(),
                code: xml::text(result, "errcode").and_then(|c| c.parse().ok()),
                text: xml::text(result, "errtext").unwrap_or_else(|| "no reason given".into()),
            });
        }
        Ok(result.to_owned())
    }

    /// Sends a request, marked for the operator's TLS setting when the
    /// connection asked for it.
    fn send(&self, request: http::RequestBuilder) -> Result<http::Response, http::Error> {
        TLS.send(request, self.operator_trust)
    }

    fn auth_error(&self, what: String, detail: String) -> PleskError {
        let hint = match &self.auth {
            Auth::Key { secret, .. } => format!("the API key in secret {secret}"),
            Auth::Basic { login, secret, .. } => {
                format!("connection.login {login} and its password in secret {secret}")
            }
        };
        PleskError::Auth { what, detail, hint }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plesk ports, API path and credential names in [`ADDRESS`] (the
    /// rules themselves are tested in the SDK).
    #[test]
    fn plesk_addresses() {
        let read = [
            "Plesk.Example.com",
            "https://plesk.example.com/api/v2/",
            "http://localhost",
            "https://admin:pw@plesk.example.com",
            "http://plesk.example.com",
        ]
        .map(|written| ADDRESS.origin(written).map_err(|err| err.reason));
        let expected: [Result<&str, &str>; 5] = [
            Ok("https://plesk.example.com:8443"),
            Ok("https://plesk.example.com:8443"),
            Ok("http://localhost:8880"),
            Err("must not carry credentials: name a secret in connection.api_key_secret"),
            Err(
                "uses plain http: the API key would cross the network in clear; use https://HOST:8443",
            ),
        ];
        assert_eq!(
            read,
            expected.map(|r| r.map(str::to_owned).map_err(str::to_owned))
        );
    }
}
