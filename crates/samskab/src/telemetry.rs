use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Structured logs to stderr; `RUST_LOG` filters (default: info for samskab, warn elsewhere).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,samskab=info,samskab_api=info,samskab_projection=info,samskab_eventlog=info,samskab_directory_worker=info,samskab_matching_worker=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
