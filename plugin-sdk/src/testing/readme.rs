//! [`Readme`]: checks that a plugin's README documents what the plugin
//! declares, and that its workflow examples are valid.

use std::fmt::Display;

use crate::Plugin;
use crate::testing::declaration::schema_properties;

/// A plugin's README (Markdown), read by tests.
///
/// Step sections are headed `` ### `STEP` ``. A section runs from its
/// heading to the next heading of the same or a higher level; lines in
/// fenced code blocks are never headings (a shell comment `# ...` in a
/// block does not end a section).
///
/// ```
/// use relais_plugin_sdk::testing::Readme;
///
/// let readme = Readme::new(
///     "# Plugin `pinger`\n\n## Steps\n\n### `ping`\n\nPings `url`.\n\n\
///      ```yaml\n# a comment, not a heading\nsteps: []\n```\n\n## Tests\n",
/// );
/// assert!(readme.step_section("ping").contains("`url`"));
/// assert!(readme.step_section("ping").contains("a comment"));
/// assert!(!readme.section("## Steps").contains("## Tests"));
/// assert_eq!(readme.yaml_blocks(), ["# a comment, not a heading\nsteps: []\n"]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Readme<'a> {
    text: &'a str,
}

impl<'a> Readme<'a> {
    /// The README's text (usually `include_str!("../../README.md")`, in a
    /// `const`).
    pub const fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The text under `heading` (a whole line, `## Connection`), up to the
    /// next heading of the same or a higher level.
    ///
    /// # Panics
    ///
    /// When no line is `heading`.
    pub fn section(&self, heading: &str) -> &'a str {
        self.find_section(heading)
            .unwrap_or_else(|| panic!("README has no heading {heading:?}"))
    }

    /// The section of step `step`: `` ### `STEP` ``.
    ///
    /// # Panics
    ///
    /// When there is none.
    pub fn step_section(&self, step: &str) -> &'a str {
        self.section(&format!("### `{step}`"))
    }

    /// The body of every fenced ```` ```yaml ```` block, in order.
    pub fn yaml_blocks(&self) -> Vec<&'a str> {
        let mut blocks = Vec::new();
        // Inside a block: `Some(Some(start))` for YAML, `Some(None)` for
        // another language.
        let mut open: Option<Option<usize>> = None;
        for (at, line) in lines(self.text) {
            let Some(info) = line.trim_start().strip_prefix("```") else {
                continue;
            };
            match open {
                None if info.trim() == "yaml" => open = Some(Some(at + line.len() + 1)),
                None => open = Some(None),
                Some(yaml) => {
                    if let Some(start) = yaml {
                        blocks.push(&self.text[start.min(at)..at]);
                    }
                    open = None;
                }
            }
        }
        blocks
    }

    /// Asserts that every step has a section, and that its section names
    /// each input field (as `` `field` ``) but those in `except`.
    ///
    /// # Panics
    ///
    /// Listing every step and field missing.
    pub fn assert_documents_inputs(&self, plugin: &Plugin, except: &[&str]) {
        let missing = self.missing_fields(plugin, except, |step| step.input_schema.clone());
        assert!(
            missing.is_empty(),
            "README does not document input fields: {}",
            missing.join(", ")
        );
    }

    /// Asserts that every step has a section, and that its section names
    /// each output field (as `` `field` ``).
    ///
    /// # Panics
    ///
    /// Listing every step and field missing.
    pub fn assert_documents_outputs(&self, plugin: &Plugin) {
        let missing = self.missing_fields(plugin, &[], |step| step.output_schema.clone());
        assert!(
            missing.is_empty(),
            "README does not document output fields: {}",
            missing.join(", ")
        );
    }

    /// Asserts that every step has a section holding the step's
    /// description, word for word.
    ///
    /// # Panics
    ///
    /// Listing every step whose section lacks it.
    pub fn assert_documents_descriptions(&self, plugin: &Plugin) {
        let missing: Vec<String> = plugin
            .describe()
            .steps
            .into_iter()
            .filter(|step| !self.step_section(&step.name).contains(&step.description))
            .map(|step| format!("{} ({:?})", step.name, step.description))
            .collect();
        assert!(
            missing.is_empty(),
            "README step sections lack their description: {}",
            missing.join(", ")
        );
    }

    /// Asserts that there is at least one ```` ```yaml ```` block and that
    /// `parse` accepts each one, given a file name `example-N.yaml` (N from
    /// 0) and the block's text. `parse` is typically the host's workflow
    /// parser with a catalog holding this plugin's steps.
    ///
    /// # Panics
    ///
    /// On the first block `parse` refuses, with its error and the block.
    pub fn assert_examples<E: Display>(&self, mut parse: impl FnMut(&str, &str) -> Result<(), E>) {
        let blocks = self.yaml_blocks();
        assert!(!blocks.is_empty(), "README has no ```yaml example");
        for (i, text) in blocks.iter().enumerate() {
            if let Err(err) = parse(&format!("example-{i}.yaml"), text) {
                panic!("README example {i} is not a valid workflow: {err}\n{text}");
            }
        }
    }

    /// `STEP: `FIELD`` for each field of each step's schema (as `schema`
    /// picks it) that the step's section does not name.
    fn missing_fields(
        &self,
        plugin: &Plugin,
        except: &[&str],
        schema: impl Fn(&crate::StepInfo) -> String,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for step in plugin.describe().steps {
            let section = self.step_section(&step.name);
            for field in schema_properties(&schema(&step)) {
                if !except.contains(&field.as_str()) && !section.contains(&format!("`{field}`")) {
                    missing.push(format!("{}: `{field}`", step.name));
                }
            }
        }
        missing
    }

    fn find_section(&self, heading: &str) -> Option<&'a str> {
        let level = heading_level(heading)?;
        let mut start = None;
        let mut in_code = false;
        for (at, line) in lines(self.text) {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                continue;
            }
            match start {
                None if line.trim_end() == heading => start = Some(at + line.len() + 1),
                Some(from) if heading_level(line).is_some_and(|other| other <= level) => {
                    return Some(&self.text[from.min(at)..at]);
                }
                _ => {}
            }
        }
        start.map(|from| &self.text[from.min(self.text.len())..])
    }
}

/// Each line with the byte offset it starts at.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len() + 1;
        Some((start, line))
    })
}

/// How many `#` start a Markdown heading (`## Title` is 2); `None` when
/// the line is not a heading.
fn heading_level(line: &str) -> Option<usize> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    let heading = (1..=6).contains(&hashes) && line[hashes..].starts_with(' ');
    heading.then_some(hashes)
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::testing::tests::panic_text;
    use crate::{Context, StepError};

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct PingIn {
        connection: Option<String>,
        url: String,
    }

    #[derive(Serialize, JsonSchema)]
    struct PingOut {
        status: u16,
    }

    fn ping(_: PingIn, _: &Context) -> Result<PingOut, StepError> {
        Ok(PingOut { status: 200 })
    }

    crate::plugin! {
        name: "pinger", version: "1.0.0", description: "Pings",
        steps: {
            "ping" => ping: "Ping a URL",
            "pong" => ping: "Pong a URL",
        },
    }

    const GOOD: &str = "# Plugin `pinger`

## Connection

`connection` names the server.

```sh
# a shell comment is not a heading
```

## Steps

### `ping`

Ping a URL: `url`, answers `status`.

### `pong`

Pong a URL: `url`, answers `status`.

## Example

```yaml
id: first
```

```json
{\"not\": \"yaml\"}
```

```yaml
id: second
```
";

    #[test]
    fn sections_end_at_the_next_heading_of_their_level_outside_code() {
        let readme = Readme::new(GOOD);
        let connection = readme.section("## Connection");
        assert!(connection.contains("a shell comment"), "{connection}");
        assert!(!connection.contains("## Steps"), "{connection}");
        let ping = readme.step_section("ping");
        assert_eq!(ping, "\nPing a URL: `url`, answers `status`.\n\n");
        let steps = readme.section("## Steps");
        assert!(steps.contains("### `pong`") && !steps.contains("## Example"));
        assert!(readme.section("## Example").ends_with("id: second\n```\n"));
        assert!(Readme::new("## Last").section("## Last").is_empty());
        let text = panic_text(|| {
            Readme::new(GOOD).section("## Grants");
        });
        assert_eq!(text, "README has no heading \"## Grants\"");
        let text = panic_text(|| {
            Readme::new("text mentioning ### `ping` inline").step_section("ping");
        });
        assert_eq!(text, "README has no heading \"### `ping`\"");
    }

    #[test]
    fn yaml_blocks_are_the_yaml_fences_only() {
        assert_eq!(
            Readme::new(GOOD).yaml_blocks(),
            ["id: first\n", "id: second\n"]
        );
        assert!(Readme::new("```yaml\nunclosed\n").yaml_blocks().is_empty());
        assert!(
            Readme::new("```yamlx\nid: x\n```\n")
                .yaml_blocks()
                .is_empty()
        );
    }

    #[test]
    fn a_complete_readme_passes() {
        let readme = Readme::new(GOOD);
        readme.assert_documents_inputs(&PLUGIN, &["connection"]);
        readme.assert_documents_outputs(&PLUGIN);
        readme.assert_documents_descriptions(&PLUGIN);
        let mut seen = Vec::new();
        readme.assert_examples(|name, text| {
            seen.push((name.to_owned(), text.to_owned()));
            Ok::<(), String>(())
        });
        assert_eq!(
            seen,
            [
                ("example-0.yaml".to_owned(), "id: first\n".to_owned()),
                ("example-1.yaml".to_owned(), "id: second\n".to_owned()),
            ]
        );
    }

    #[test]
    fn each_gap_fails_naming_it() {
        let no_url = GOOD.replace("Pong a URL: `url`", "Pong a URL");
        let text =
            panic_text(|| Readme::new(&no_url).assert_documents_inputs(&PLUGIN, &["connection"]));
        assert_eq!(text, "README does not document input fields: pong: `url`");
        let text = panic_text(|| Readme::new(GOOD).assert_documents_inputs(&PLUGIN, &[]));
        assert_eq!(
            text,
            "README does not document input fields: ping: `connection`, pong: `connection`"
        );
        let no_status = GOOD.replace("answers `status`", "answers");
        let text = panic_text(|| Readme::new(&no_status).assert_documents_outputs(&PLUGIN));
        assert_eq!(
            text,
            "README does not document output fields: ping: `status`, pong: `status`"
        );
        let no_description = GOOD.replace("Ping a URL:", "Pings:");
        let text =
            panic_text(|| Readme::new(&no_description).assert_documents_descriptions(&PLUGIN));
        assert_eq!(
            text,
            "README step sections lack their description: ping (\"Ping a URL\")"
        );
        let no_step = GOOD.replace("### `pong`", "### pong");
        let text = panic_text(|| Readme::new(&no_step).assert_documents_outputs(&PLUGIN));
        assert_eq!(text, "README has no heading \"### `pong`\"");
    }

    #[test]
    fn examples_must_exist_and_parse() {
        let text = panic_text(|| {
            Readme::new(GOOD).assert_examples(|_, text| {
                if text.contains("second") {
                    Err("unknown plugin")
                } else {
                    Ok(())
                }
            });
        });
        assert_eq!(
            text,
            "README example 1 is not a valid workflow: unknown plugin\nid: second\n"
        );
        let text =
            panic_text(|| Readme::new("# Plugin\n").assert_examples(|_, _| Ok::<(), String>(())));
        assert_eq!(text, "README has no ```yaml example");
    }
}
