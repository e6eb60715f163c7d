//! What `/metrics` shows of the HTTP side, in the Prometheus text format: for each route (its
//! template, `/volunteers/{id}`, never a concrete path, so the series stay few and name no
//! one) and method, a latency histogram and the answers by status class. Recorded by
//! [`record`], a layer around every route (the access check included: a flood of 401s shows).
//!
//! Kept by hand rather than with a metrics crate: a few atomics per route and one text
//! writer, and the format is the one in <https://prometheus.io/docs/instrumenting/exposition_formats/>.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Upper bounds of the latency buckets, in seconds: from a cached read (well under a
/// millisecond) to a command waiting out a slow log (the client's 5 s timeout) and beyond.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The status classes counted: 1xx to 5xx.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
struct RouteFigures {
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative; summed when written).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
    by_class: [AtomicU64; CLASSES.len()],
}

impl RouteFigures {
    fn observe(&self, seconds: f64, status: u16) {
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
    }
}

/// The HTTP figures of this process, by route template, then method (a label of
/// [`method_label`]). Looked up by borrowed keys: a request allocates nothing here once its
/// route and method have been seen.
#[derive(Default)]
pub struct HttpMetrics {
    routes: RwLock<BTreeMap<String, BTreeMap<&'static str, Arc<RouteFigures>>>>,
}

impl HttpMetrics {
    fn figures(&self, route: &str, method: &'static str) -> Option<Arc<RouteFigures>> {
        let seen = self
            .routes
            .read()
            .ok()?
            .get(route)
            .and_then(|methods| methods.get(method))
            .cloned();
        if seen.is_some() {
            return seen;
        }
        let mut routes = self.routes.write().ok()?;
        let methods = routes.entry(route.to_string()).or_default();
        Some(methods.entry(method).or_default().clone())
    }

    /// Records one answer.
    pub fn observe(&self, route: &str, method: &'static str, seconds: f64, status: u16) {
        if let Some(figures) = self.figures(route, method) {
            figures.observe(seconds, status);
        }
    }

    /// Writes the histogram and the answer counters in the text format.
    pub fn write(&self, out: &mut String) {
        let Ok(routes) = self.routes.read() else {
            return;
        };
        let _ = writeln!(
            out,
            "# HELP samskab_http_request_duration_seconds Time from a request to its answer, by route template and method.\n\
             # TYPE samskab_http_request_duration_seconds histogram"
        );
        let series = || {
            routes.iter().flat_map(|(route, methods)| {
                methods
                    .iter()
                    .map(move |(method, figures)| (route, method, figures))
            })
        };
        for (route, method, figures) in series() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&figures.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "samskab_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = figures.count.load(Ordering::Relaxed);
            let sum = figures.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "samskab_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}\n\
                 samskab_http_request_duration_seconds_sum{{{labels}}} {sum}\n\
                 samskab_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP samskab_http_responses_total Answers by route template, method and status class.\n\
             # TYPE samskab_http_responses_total counter"
        );
        for (route, method, figures) in series() {
            for (class, counter) in CLASSES.iter().zip(&figures.by_class) {
                let n = counter.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "samskab_http_responses_total{{method=\"{}\",route=\"{}\",class=\"{class}\"}} {n}",
                        escape(method),
                        escape(route)
                    );
                }
            }
        }
    }
}

/// A label value as the text format wants it: backslash, double quote and line feed escaped.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A method as a label: the standard ones by name, any other as `other`, so that a client
/// sending made-up methods cannot make the series grow without bound.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The layer around every route: times the answer and counts it under the route's template.
pub async fn record(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    if let Some(route) = matched {
        state.metrics.observe(
            route.as_str(),
            method,
            started.elapsed().as_secs_f64(),
            response.status().as_u16(),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_the_count() {
        let metrics = HttpMetrics::default();
        for (seconds, status) in [(0.0004, 201), (0.003, 201), (0.003, 422), (20.0, 503)] {
            metrics.observe("/volunteers", "POST", seconds, status);
        }
        let mut out = String::new();
        metrics.write(&mut out);
        let line = |suffix: &str| {
            out.lines()
                .find(|l| l.starts_with("samskab_http_") && l.contains(suffix))
                .unwrap_or_else(|| panic!("no line with {suffix} in\n{out}"))
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(line("le=\"0.0005\"}"), "1");
        assert_eq!(line("le=\"0.001\"}"), "1");
        assert_eq!(line("le=\"0.005\"}"), "3");
        assert_eq!(line("le=\"10\"}"), "3", "20 s is beyond the last bound");
        assert_eq!(line("le=\"+Inf\"}"), "4");
        assert_eq!(line("_count{"), "4");
        assert_eq!(line("class=\"2xx\""), "2");
        assert_eq!(line("class=\"4xx\""), "1");
        assert_eq!(line("class=\"5xx\""), "1");
        assert!(
            !out.contains("class=\"3xx\""),
            "classes never seen are left out"
        );
    }

    #[test]
    fn made_up_methods_share_one_label() {
        use axum::http::Method;
        assert_eq!(method_label(&Method::POST), "POST");
        for made_up in ["FOO", "BAR", "PURGE"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap_or_default();
            assert_eq!(method_label(&method), "other", "{made_up}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
