use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A real `nats-server` with JetStream, owned by one test. Killed when dropped; its store and log
/// stay in a temporary folder that is kept when the test panics (see `keep_on_panic`).
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> anyhow::Result<Self> {
        let binary = nats_binary()?;
        // Quiet: `restart` leaves the port unbound for a moment, and the server must get it back.
        let port = quiet_port()?;
        let store = tempfile::Builder::new().prefix("samskab-nats-").tempdir()?;
        let mut server = Self {
            binary,
            port,
            store,
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Every file under the server's directory (its JetStream store and its log) whose bytes
    /// contain `needle`: how a test shows that erased or sealed data is not on disk.
    pub fn files_containing(&self, needle: &[u8]) -> anyhow::Result<Vec<PathBuf>> {
        crate::files_containing(self.store.path(), needle)
    }

    /// Waits, up to 10 s, until `needle` is in the server's files (`present`) or in none of
    /// them, and returns the files that hold it then. The file store writes its blocks
    /// asynchronously: a search for what must *not* be on disk proves something only once what
    /// was written with it is there, and an erase takes a moment to reach the file.
    pub async fn wait_for_files_containing(
        &self,
        needle: &[u8],
        present: bool,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let files = self.files_containing(needle)?;
            if files.is_empty() != present || Instant::now() > deadline {
                return Ok(files);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server with SIGKILL (no graceful flush: what was acknowledged must survive).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port with the same store.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.store.path().join("server.log"))?;
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path().join("js"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            // Keep the store and server log of a failed test for a post-mortem.
            self.store.disable_cleanup(true);
            eprintln!("nats store and log kept at {}", self.store.path().display());
        }
    }
}

fn nats_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = crate::env_or_dotdata("SAMSKAB_NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let local = crate::repo_root().join(".data/bin/nats-server");
    if local.exists() {
        return Ok(local);
    }
    bail!(
        "no nats-server 2.12+: run `bash deploy/local/install-nats.sh` or set SAMSKAB_NATS_SERVER"
    )
}

/// A free port for a server that is to start later, below Linux's ephemeral range (32768 and
/// up): a port from `bind(:0)` left unbound is soon handed to another test's `bind(:0)` (a
/// listener, an outgoing connection), and a client meant to find nobody there then talks to a
/// stranger. Ports here are only ever taken by choice, so only another such choice collides.
pub(crate) fn quiet_port() -> anyhow::Result<u16> {
    for _ in 0..100 {
        let random = uuid::Uuid::new_v4().as_u128();
        let port = 20_000 + u16::try_from(random % 12_000).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port in 20000..32000")
}

pub(crate) fn wait_for_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("nothing listened on port {port} within {timeout:?}")
}
