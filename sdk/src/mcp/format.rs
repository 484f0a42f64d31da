//! How a tool result becomes the text of the `tool` message sent back to the model.
//!
//! Same rules as the reference clients (Python's `format_result`, JS's `ResultFormatter`): text
//! parts as they are, binary parts as a one-line summary, resource links dropped,
//! `structuredContent` and `isError` ignored. Works on the result's JSON so it does not depend
//! on rmcp's content types, which change between minor versions.

use serde_json::Value;

/// The text of a `tools/call` result (the JSON object of a `CallToolResult`).
pub(crate) fn format_result(result: &Value) -> String {
    let parts = result
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if parts.is_empty() {
        return "[No content]".to_owned();
    }
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        let str_field = |name: &str| part.get(name).and_then(Value::as_str);
        match str_field("type") {
            Some("text") => out.push(str_field("text").unwrap_or_default().to_owned()),
            Some(kind @ ("image" | "audio")) => out.push(format!(
                "[Binary Content: {} {}, {} bytes]\nThe task is complete and the content accessible to the User",
                if kind == "image" { "Image" } else { "Audio" },
                str_field("mimeType").unwrap_or("None"),
                base64_size(str_field("data").unwrap_or_default()),
            )),
            Some("resource") => {
                let Some(resource) = part.get("resource") else {
                    continue;
                };
                let field = |name: &str| resource.get(name).and_then(Value::as_str);
                if let Some(text) = field("text") {
                    out.push(text.to_owned());
                } else if let Some(blob) = field("blob") {
                    out.push(format!(
                        "[Binary Content ({}): {}, {} bytes]\nThe task is complete and the content accessible to the User",
                        field("uri").unwrap_or_default(),
                        field("mimeType").unwrap_or("None"),
                        base64_size(blob),
                    ));
                }
            }
            // `resource_link` and unknown kinds say nothing the model can use.
            _ => {}
        }
    }
    out.join("\n")
}

/// The decoded size of base64 text, estimated from its length (a `data:` prefix is skipped).
fn base64_size(data: &str) -> usize {
    let data = data.split_once(',').map_or(data, |(_, rest)| rest);
    let padding = if data.ends_with("==") {
        2
    } else {
        usize::from(data.ends_with('='))
    };
    (data.len() * 3 / 4).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_parts_join_with_newlines_and_links_are_dropped() {
        let result = json!({"content": [
            {"type": "text", "text": "first"},
            {"type": "resource_link", "uri": "demo://1", "name": "one"},
            {"type": "text", "text": "second"}
        ], "isError": true, "structuredContent": {"x": 1}});
        assert_eq!(format_result(&result), "first\nsecond");
    }

    #[test]
    fn binary_parts_are_summarised_with_their_size() {
        let result = json!({"content": [
            {"type": "image", "data": "aGVsbG8=", "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///a", "mimeType": "application/gzip", "blob": "aGk="}},
            {"type": "resource", "resource": {"uri": "file:///b", "text": "inline"}}
        ]});
        assert_eq!(
            format_result(&result),
            "[Binary Content: Image image/png, 5 bytes]\nThe task is complete and the content accessible to the User\n\
             [Binary Content (file:///a): application/gzip, 2 bytes]\nThe task is complete and the content accessible to the User\n\
             inline"
        );
    }

    #[test]
    fn no_content_is_said_so() {
        assert_eq!(format_result(&json!({"content": []})), "[No content]");
        assert_eq!(format_result(&json!({})), "[No content]");
    }
}
