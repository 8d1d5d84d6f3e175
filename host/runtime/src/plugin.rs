//! A loaded plugin: its component pre-instantiated, its description, and the
//! settings (limits, grants) it runs under.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasmtime::component::Component;

use crate::grants::HttpGrants;
use crate::host::bindings;
use crate::invoke::{Context, Invocation, InvokeError};
use crate::kv::MemoryKv;
use crate::limits::{Limits, MAX_MEMORY_BYTES};
use crate::runtime::{LoadError, Runtime};
use crate::secrets::Secrets;
use crate::tls::TlsPolicy;

/// What an operator grants a plugin and the limits it runs under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginSettings {
    /// Resource limits of each invocation.
    pub limits: Limits,
    /// Where its outbound HTTP may go.
    pub http: HttpGrants,
    /// Names of the SMTP relays it may send mail through (`mail.send`);
    /// empty means none.
    pub mail: Vec<String>,
}

/// A plugin's description, as returned by its `describe` export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// The name the plugin declares. Only informative: it is known by the
    /// name the operator loads it under ([`Plugin::name`]).
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// One sentence for humans.
    pub description: String,
    /// Its steps.
    pub steps: Vec<StepInfo>,
}

/// One step of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Step name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    pub input_schema: serde_json::Value,
    /// JSON Schema of its output.
    pub output_schema: serde_json::Value,
}

impl PluginInfo {
    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&StepInfo> {
        self.steps.iter().find(|s| s.name == name)
    }
}

pub(crate) struct Inner {
    pub(crate) runtime: Runtime,
    pub(crate) path: PathBuf,
    pub(crate) pre: bindings::PluginPre<crate::host::State>,
    pub(crate) settings: PluginSettings,
    pub(crate) grants: Arc<HttpGrants>,
    pub(crate) tls: Arc<TlsPolicy>,
    pub(crate) name: Arc<str>,
    pub(crate) info: PluginInfo,
}

/// A loaded plugin. Cheap to clone; every invocation gets a fresh instance.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.name)
            .field("path", &self.inner.path)
            .finish()
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

impl Plugin {
    pub(crate) async fn new(
        runtime: Runtime,
        name: &str,
        path: PathBuf,
        component: Component,
        mut settings: PluginSettings,
    ) -> Result<Self, LoadError> {
        let describe_err = |message: String| LoadError::Describe {
            path: path.clone(),
            message,
        };
        if settings.limits.memory_bytes > MAX_MEMORY_BYTES {
            tracing::warn!(
                plugin = %path.display(),
                "memory limit {} is above the engine's maximum, using {}",
                settings.limits.memory_bytes,
                MAX_MEMORY_BYTES
            );
            settings.limits.memory_bytes = MAX_MEMORY_BYTES;
        }
        let instance_pre = runtime
            .shared
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Compile {
                path: path.clone(),
                message: format!("{e:#}"),
            })?;
        let pre = bindings::PluginPre::new(instance_pre).map_err(|e| LoadError::Compile {
            path: path.clone(),
            message: format!("it does not export relais:plugin/guest@0.1.0: {e:#}"),
        })?;
        if !valid_name(name) {
            return Err(LoadError::Name {
                path: path.clone(),
                name: name.to_owned(),
            });
        }
        let grants = Arc::new(settings.http.clone());
        let tls =
            TlsPolicy::new(runtime.shared.tls.clone(), &settings.http, name).map_err(|source| {
                LoadError::Tls {
                    path: path.clone(),
                    source: Box::new(source),
                }
            })?;
        let mut inner = Inner {
            runtime,
            path: path.clone(),
            pre,
            settings,
            grants,
            tls: Arc::new(tls),
            name: Arc::from(name),
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                steps: Vec::new(),
            },
        };
        let raw = Plugin::call_describe(&inner)
            .await
            .map_err(|e| describe_err(e.to_string()))?;
        inner.info = convert_info(raw).map_err(describe_err)?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    async fn call_describe(
        inner: &Inner,
    ) -> Result<bindings::relais::plugin::types::PluginInfo, InvokeError> {
        let inv = Invocation {
            step: String::new(),
            input: String::new(),
            context: Context::default(),
            secrets: Secrets::new(),
            kv: Arc::new(MemoryKv::default()),
        };
        crate::invoke::describe(inner, inv).await
    }

    /// The name the operator loaded it under: its file stem, or the name
    /// given to [`Runtime::load_as`]. Its KV namespace and what workflows,
    /// settings and grants call it. Its description may declare another
    /// name ([`PluginInfo::name`]); this one is the one that counts.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Its description (taken once, at load time).
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Its settings.
    pub fn settings(&self) -> &PluginSettings {
        &self.inner.settings
    }

    /// Instantiates it afresh and calls `describe` (what the load does once;
    /// exposed to measure the cost of a fresh instance).
    pub async fn describe_fresh(&self) -> Result<PluginInfo, InvokeError> {
        let raw = Plugin::call_describe(&self.inner).await?;
        convert_info(raw).map_err(|message| InvokeError::InvalidOutput { message })
    }
}

fn convert_info(raw: bindings::relais::plugin::types::PluginInfo) -> Result<PluginInfo, String> {
    if !valid_name(&raw.name) {
        return Err(format!(
            "plugin name {:?} must be lowercase letters, digits and '-'",
            raw.name
        ));
    }
    let mut steps = Vec::with_capacity(raw.steps.len());
    for s in raw.steps {
        if !valid_name(&s.name) {
            return Err(format!(
                "step name {:?} must be lowercase letters, digits and '-'",
                s.name
            ));
        }
        if steps.iter().any(|x: &StepInfo| x.name == s.name) {
            return Err(format!("step {:?} is described twice", s.name));
        }
        let schema = |text: &str, which: &str| {
            serde_json::from_str(text)
                .map_err(|e| format!("step {:?}: {which} schema is not JSON: {e}", s.name))
        };
        steps.push(StepInfo {
            input_schema: schema(&s.input_schema, "input")?,
            output_schema: schema(&s.output_schema, "output")?,
            name: s.name,
            description: s.description,
        });
    }
    Ok(PluginInfo {
        name: raw.name,
        version: raw.version,
        description: raw.description,
        steps,
    })
}
