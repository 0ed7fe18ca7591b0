//! Logging to stderr in go-hclog's JSON line format.
//!
//! go-plugin reads the plugin's stderr line by line; a line that parses as JSON with
//! `@level`, `@message` and `@timestamp` (exactly `2006-01-02T15:04:05.000000Z07:00`) is
//! re-logged by Terraform under the provider's name with the remaining keys as fields, so
//! `TF_LOG=debug` shows our lines. Stdout is never used: it belongs to the handshake.

use std::io::Write;
use std::sync::Once;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};

/// The level from `TF_LOG_PROVIDER`, else `TF_LOG` (as Terraform reads them); `None` means
/// off. Unset means info.
pub fn level_from_env() -> Option<Level> {
    let setting = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("TF_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty())
        });
    match setting.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None => Some(Level::INFO),
        Some("trace" | "json") => Some(Level::TRACE),
        Some("debug") => Some(Level::DEBUG),
        Some("info") => Some(Level::INFO),
        Some("warn") => Some(Level::WARN),
        Some("error") => Some(Level::ERROR),
        Some("off") => None,
        // Terraform treats unknown values as trace; so do we.
        Some(_) => Some(Level::TRACE),
    }
}

/// Installs the stderr logger and a panic hook that logs one line instead of printing a
/// backtrace. Safe to call more than once.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let layer = HclogLayer {
            max_level: level_from_env(),
        };
        let subscriber = tracing_subscriber::registry().with(layer);
        let _ = tracing::subscriber::set_global_default(subscriber);
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_owned());
            tracing::error!("internal error (panic){location}: {payload}");
        }));
    });
}

struct HclogLayer {
    max_level: Option<Level>,
}

/// Library internals (HTTP/2 frames, connection handling) are only interesting when they
/// go wrong.
fn is_dependency(target: &str) -> bool {
    [
        "h2",
        "hyper",
        "tower",
        "tonic",
        "rustls",
        "tokio_rustls",
        "mio",
    ]
    .iter()
    .any(|prefix| target == *prefix || target.starts_with(&format!("{prefix}::")))
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: LayerContext<'_, S>) -> bool {
        let Some(max) = self.max_level else {
            return false;
        };
        let max = if is_dependency(metadata.target()) {
            max.min(Level::WARN)
        } else {
            max
        };
        *metadata.level() <= max
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if !self.enabled(event.metadata(), ctx) {
            return;
        }
        let mut line = format_event(event);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

pub(crate) fn timestamp() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

fn format_event(event: &Event<'_>) -> String {
    let metadata = event.metadata();
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    let mut object = Map::new();
    object.insert("@level".into(), hclog_level(metadata.level()).into());
    object.insert(
        "@message".into(),
        fields.message.take().unwrap_or_default().into(),
    );
    object.insert("@timestamp".into(), timestamp().into());
    object.insert(
        "@module".into(),
        metadata.target().replace("::", ".").into(),
    );
    for (key, value) in fields.fields {
        object.insert(key, value);
    }
    Json::Object(object).to_string()
}

#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    fields: Vec<(String, Json)>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: Json) {
        if field.name() == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else if !field.name().starts_with("log.") {
            self.fields.push((field.name().to_owned(), value));
        }
    }
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_the_exact_hclog_shape() {
        let ts = timestamp();
        // 2006-01-02T15:04:05.000000Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert_eq!(&ts[10..11], "T");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
    }

    #[test]
    fn dependency_targets_are_recognised() {
        assert!(is_dependency("h2::proto::connection"));
        assert!(is_dependency("hyper"));
        assert!(!is_dependency("hyperloop"));
        assert!(!is_dependency("tfplugin::server"));
    }
}
