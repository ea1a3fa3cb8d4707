//! Server-sent events as the real APIs send them: `event:` (when the API
//! names its events) and `data:` lines, a blank line after each event,
//! `content-type: text/event-stream`. The sandbox's replies are short, so a
//! whole stream is built first and sent as one body; clients parse it the
//! same way as one that trickles in.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Default)]
pub struct Sse {
    body: String,
}

impl Sse {
    /// A named event (Messages, Responses).
    pub fn event(&mut self, name: &str, data: Value) {
        self.body.push_str("event: ");
        self.body.push_str(name);
        self.body.push('\n');
        self.data_line(&data.to_string());
    }

    /// An unnamed event (Chat Completions), or its `[DONE]` sentinel.
    pub fn data(&mut self, data: &str) {
        self.data_line(data);
    }

    fn data_line(&mut self, data: &str) {
        self.body.push_str("data: ");
        self.body.push_str(data);
        self.body.push_str("\n\n");
    }

    pub fn response(self, headers: &[(&'static str, &str)]) -> Response {
        let mut r = (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "text/event-stream; charset=utf-8"),
                (CACHE_CONTROL, "no-cache"),
            ],
            self.body,
        )
            .into_response();
        for (k, v) in headers {
            if let Ok(v) = v.parse() {
                r.headers_mut().insert(*k, v);
            }
        }
        r
    }
}

/// The reply text cut into deltas of a few words, as a model streams it;
/// joined again they are the text exactly.
pub fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, word) in text.split_inclusive(' ').enumerate() {
        cur.push_str(word);
        if i % 3 == 2 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_back_to_the_text() {
        for t in [
            "",
            "one",
            "a b c d e f g",
            "Hello from the keyless sandbox. ",
        ] {
            let c = chunks(t);
            assert!(!c.is_empty());
            assert_eq!(c.concat(), t);
        }
        assert_eq!(chunks("a b c d").len(), 2);
    }

    #[test]
    fn events_are_framed_like_the_apis() {
        let mut s = Sse::default();
        s.event("ping", serde_json::json!({"type": "ping"}));
        s.data("[DONE]");
        assert_eq!(
            s.body,
            "event: ping\ndata: {\"type\":\"ping\"}\n\ndata: [DONE]\n\n"
        );
    }
}
