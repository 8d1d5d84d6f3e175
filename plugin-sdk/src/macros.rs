//! [`plugin!`](crate::plugin!): the one way to declare a plugin.

/// Declares a plugin: its name, version, description and steps.
///
/// ```
/// use relais_plugin_sdk::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct SendIn { to: String }
///
/// #[derive(Serialize, JsonSchema)]
/// struct SendOut { id: String }
///
/// fn send(input: SendIn, cx: &Context) -> Result<SendOut, StepError> {
///     Ok(SendOut { id: format!("{}:{}", cx.idempotency_key, input.to) })
/// }
///
/// relais_plugin_sdk::plugin! {
///     name: "mailer",
///     version: env!("CARGO_PKG_VERSION"),
///     description: "Sends mail",
///     steps: {
///         "send" => send: "Send one message",
///     },
/// }
/// # assert_eq!(PLUGIN.name(), "mailer");
/// ```
///
/// Each step is `"NAME" => FUNCTION: "DESCRIPTION"`, where `FUNCTION` is
/// `fn(Input, &Context) -> Result<Output, E>` with `Input: Deserialize +
/// JsonSchema`, `Output: Serialize + JsonSchema` and `E: Into<StepError>`
/// (usually [`StepError`](crate::StepError) itself). The input and output
/// schemas are generated from the two types.
///
/// The macro defines `pub static PLUGIN: relais_plugin_sdk::Plugin` in the
/// module where it is used (the crate root, once per crate). On `wasm32` it
/// also exports the contract's `guest` interface; natively, tests run the
/// steps through [`testing::FakeHost`](crate::testing::FakeHost).
///
/// At run time an input that does not deserialise into the step's input
/// type is `invalid-input`, with serde's message and the path of the
/// offending field; an unknown step name is `invalid-input` too.
#[macro_export]
macro_rules! plugin {
    (
        name: $name:expr,
        version: $version:expr,
        description: $description:expr,
        steps: {
            $( $step:literal => $run:path : $step_description:expr ),+ $(,)?
        } $(,)?
    ) => {
        /// This crate's plugin, declared with `relais_plugin_sdk::plugin!`.
        pub static PLUGIN: $crate::Plugin = $crate::Plugin::new(
            $name,
            $version,
            $description,
            &[$(
                $crate::Step::new(
                    $step,
                    $step_description,
                    |input, cx| $crate::__private::run_step($run, input, cx),
                    || $crate::__private::input_schema($run),
                    || $crate::__private::output_schema($run),
                )
            ),+],
        );
        $crate::__export_guest!(PLUGIN);
    };
}

/// Exports the `guest` interface for a plugin table (on `wasm32`).
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_guest {
    ($plugin:ident) => {
        const _: () = {
            struct RelaisGuest;
            impl $crate::__private::PluginExport for RelaisGuest {
                fn plugin() -> &'static $crate::Plugin {
                    &$plugin
                }
            }
    $crate::bindings::__export_plugin_world!(RelaisGuest with_types_in $crate::bindings);
        };
    };
}

/// Natively there is nothing to export: tests call the table directly.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_guest {
    ($plugin:ident) => {};
}
