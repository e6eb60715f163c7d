//! A webhook receiver per test: a real HTTP server (axum) on a free port of 127.0.0.1 that
//! keeps every request it is sent (the Standard Webhooks headers and the body) and answers
//! with the statuses a test lines up (204 when none is), so a test can be the receiver that
//! refuses, fails, or takes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::{oneshot, watch};

/// One request the receiver was sent, and what it answered.
#[derive(Debug, Clone)]
pub struct ReceivedHook {
    pub path: String,
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl ReceivedHook {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("the webhook's body is not JSON")
    }

    /// `webhook-timestamp` as a number.
    pub fn timestamp_secs(&self) -> anyhow::Result<i64> {
        self.timestamp
            .as_deref()
            .context("no webhook-timestamp")?
            .parse()
            .context("webhook-timestamp is no number")
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<ReceivedHook>>,
    answers: Mutex<VecDeque<u16>>,
}

pub struct WebhookReceiver {
    address: std::net::SocketAddr,
    inner: Arc<Inner>,
    count: watch::Receiver<usize>,
    stop: Option<oneshot::Sender<()>>,
}

impl WebhookReceiver {
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Inner::default());
        let (count_tx, count) = watch::channel(0usize);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the webhook receiver")?;
        let address = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(receive)
            .with_state((inner.clone(), Arc::new(count_tx)));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            address,
            inner,
            count,
            stop: Some(stop),
        })
    }

    /// The receiver's URL for `path` (`/hooks/a`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The next requests are answered with these statuses, in order; then 204 again.
    pub fn answer_next(&self, statuses: &[u16]) {
        if let Ok(mut answers) = self.inner.answers.lock() {
            answers.extend(statuses);
        }
    }

    /// Every request so far, in the order they arrived.
    pub fn received(&self) -> Vec<ReceivedHook> {
        self.inner
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits, up to 20 s, until at least `count` requests have arrived (woken by each), and
    /// returns them all.
    pub async fn wait_for(&self, count: usize) -> anyhow::Result<Vec<ReceivedHook>> {
        let mut seen = self.count.clone();
        let arrived = tokio::time::timeout(Duration::from_secs(20), seen.wait_for(|n| *n >= count));
        match arrived.await {
            Ok(Ok(_)) => Ok(self.received()),
            _ => bail!(
                "{} of {count} webhooks arrived in 20 s",
                self.received().len()
            ),
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type ReceiverState = (Arc<Inner>, Arc<watch::Sender<usize>>);

async fn receive(
    State((inner, count)): State<ReceiverState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let answered = inner
        .answers
        .lock()
        .ok()
        .and_then(|mut a| a.pop_front())
        .unwrap_or(204);
    let hook = ReceivedHook {
        path: uri.path().to_owned(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
        answered,
    };
    let total = match inner.received.lock() {
        Ok(mut received) => {
            received.push(hook);
            received.len()
        }
        Err(_) => 0,
    };
    count.send_replace(total);
    StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
