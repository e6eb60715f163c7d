//! One check for every JetStream stream a process uses but may not change (the events, the
//! snapshots, the data keys): only `samskab migrate` creates or changes a stream; every other
//! process compares it with what it expects and refuses to start on a difference, naming each.
//! Here, at the lowest layer that talks to JetStream, so the event log and the key store share
//! it.

use async_nats::jetstream::{self, stream};

/// One setting of a stream, shown as text to compare and to print.
pub type ShowSetting = fn(&stream::Config) -> String;

/// Why a stream is not as expected.
#[derive(Debug)]
pub enum StreamCheckError {
    /// There is no such stream.
    Missing,
    /// "setting: the stream has X, this process expects Y", for each setting that differs.
    Differs(String),
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

/// Compares the stream `wanted.name` with `wanted` on `settings` (each named as an operator
/// would look for it).
pub async fn check_stream(
    js: &jetstream::Context,
    wanted: &stream::Config,
    settings: &[(&str, ShowSetting)],
) -> Result<(), StreamCheckError> {
    let mut stream = js
        .get_stream(&wanted.name)
        .await
        .map_err(|e| match e.kind() {
            jetstream::context::GetStreamErrorKind::JetStream(js_error)
                if js_error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
            {
                StreamCheckError::Missing
            }
            _ => StreamCheckError::Unavailable(Box::new(e)),
        })?;
    let info = stream
        .info()
        .await
        .map_err(|e| StreamCheckError::Unavailable(Box::new(e)))?;
    let differences: Vec<String> = settings
        .iter()
        .filter_map(|(setting, show)| {
            let (has, expects) = (show(&info.config), show(wanted));
            (has != expects)
                .then(|| format!("{setting}: the stream has {has}, this process expects {expects}"))
        })
        .collect();
    if differences.is_empty() {
        Ok(())
    } else {
        Err(StreamCheckError::Differs(differences.join("; ")))
    }
}
