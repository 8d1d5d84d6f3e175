//! The raw shape of a workflow file, as serde reads it (every struct refuses
//! unknown fields). Parts that are checked on their own stay [`Node`]s.

use serde::Deserialize;

use crate::model::{Backoff, CatchUp, Encoding, ForEachPolicy, VerifyScheme};
use crate::yaml::{Located, Node};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    pub id: Located<String>,
    pub description: Option<String>,
    pub trigger: Option<Node>,
    pub concurrency: Option<Located<u32>>,
    pub timeout: Option<Located<String>>,
    pub input: Option<Node>,
    pub steps: Located<Vec<Node>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrigger {
    pub cron: Option<Located<String>>,
    pub timezone: Option<Located<String>>,
    pub catch_up: Option<Located<CatchUp>>,
    pub webhook: Option<Located<RawWebhook>>,
    pub manual: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub path: Located<String>,
    pub verify: Located<RawVerify>,
    pub dedupe: Option<Node>,
    pub dedupe_window: Option<Located<String>>,
    pub respond: Option<Located<RawRespond>>,
    pub respond_timeout: Option<Located<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawRespond {
    Async,
    Sync,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVerify {
    pub scheme: Located<VerifyScheme>,
    pub secret: Located<String>,
    pub header: Option<Located<String>>,
    pub prefix: Option<Located<String>>,
    pub encoding: Option<Located<Encoding>>,
    pub tolerance: Option<Located<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub id: Located<String>,
    pub name: Option<String>,
    pub uses: Option<Located<String>>,
    pub wait: Option<Node>,
    pub set: Option<Node>,
    pub with: Option<Node>,
    pub secrets: Option<Vec<Located<String>>>,
    #[serde(rename = "if")]
    pub condition: Option<Node>,
    pub retry: Option<Located<RawRetry>>,
    pub timeout: Option<Located<String>>,
    pub on_failure: Option<Located<String>>,
    pub continue_on_error: Option<bool>,
    pub for_each: Option<Node>,
    pub for_each_concurrency: Option<Located<u32>>,
    pub for_each_policy: Option<ForEachPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    pub attempts: Option<Located<u32>>,
    pub backoff: Option<Backoff>,
    pub initial: Option<Located<String>>,
    pub max: Option<Located<String>>,
    pub jitter: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWaitUntil {
    pub until: Node,
}
