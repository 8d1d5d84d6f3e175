//! The `guest` export on `wasm32`: the contract's `describe` and `invoke`
//! served from a [`Plugin`] table.

use crate::bindings::exports::relais::plugin::guest::{self, Guest};
use crate::bindings::relais::plugin::types;
use crate::{Context, Plugin, StepError};

/// Names the plugin table an exported type serves; written by
/// [`plugin!`](crate::plugin!).
pub trait PluginExport {
    /// The plugin table.
    fn plugin() -> &'static Plugin;
}

impl<T: PluginExport + 'static> Guest for T {
    fn describe() -> guest::PluginInfo {
        let info = T::plugin().describe();
        types::PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            steps: info
                .steps
                .into_iter()
                .map(|step| types::StepInfo {
                    name: step.name,
                    description: step.description,
                    input_schema: step.input_schema,
                    output_schema: step.output_schema,
                })
                .collect(),
        }
    }

    fn invoke(
        step: String,
        input: String,
        ctx: guest::Context,
    ) -> Result<String, guest::StepError> {
        let cx = Context {
            run_id: ctx.run_id,
            step_id: ctx.step_id,
            attempt: ctx.attempt,
            idempotency_key: ctx.idempotency_key,
        };
        T::plugin()
            .invoke(&step, &input, &cx)
            .map_err(|err| match err {
                StepError::Retryable {
                    message,
                    retry_after,
                } => types::StepError::Retryable(types::RetryableError {
                    message,
                    retry_after_ms: retry_after
                        .map(|after| u64::try_from(after.as_millis()).unwrap_or(u64::MAX)),
                }),
                StepError::Fatal(message) => types::StepError::Fatal(message),
                StepError::InvalidInput(message) => types::StepError::InvalidInput(message),
            })
    }
}
