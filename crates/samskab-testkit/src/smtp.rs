//! A real SMTP server per test: aiosmtpd (installed by `deploy/local/install-smtp.sh` into
//! `.data/python`) with its Maildir handler, so what it received is read back from a folder.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::nats::{quiet_port, wait_for_port};

/// An SMTP server owned by one test, listening on 127.0.0.1 without authentication or TLS.
/// Killed when dropped; it can be stopped and started again on the same port.
pub struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
}

/// One message as the server stored it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The header fields, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ReceivedMail {
    /// The first header field `name` (any case), unfolded.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl SmtpServer {
    pub fn start() -> anyhow::Result<Self> {
        let mut server = Self::stopped()?;
        server.spawn()?;
        Ok(server)
    }

    /// A server with its port and folder chosen but not yet listening (for a sender that must
    /// first find nobody there): a port outside the ephemeral range, which no other test's
    /// listener or connection takes meanwhile.
    pub fn stopped() -> anyhow::Result<Self> {
        Ok(Self {
            port: quiet_port()?,
            maildir: tempfile::Builder::new().prefix("samskab-smtp-").tempdir()?,
            child: None,
        })
    }

    /// `smtp://127.0.0.1:<port>`, as `SAMSKAB_SMTP_URL` takes it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts listening (again) on the same port, with the same folder.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let python = crate::repo_root().join(".data/python");
        if !python.join("aiosmtpd").exists() {
            bail!("no aiosmtpd: run `bash deploy/local/install-smtp.sh`");
        }
        let child = Command::new("python3")
            .env("PYTHONPATH", &python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(
                self.maildir.path().join("server.log"),
            )?)
            .spawn()
            .context("starting aiosmtpd")?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10))?;
        // Listening, but is it ours? A server that could not bind has exited (another
        // process has the port, and would be sent our mail).
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            bail!(
                "aiosmtpd exited ({status}) on port {}: taken by another process",
                self.port
            );
        }
        Ok(())
    }

    /// Every message received so far, in the order they arrived.
    pub fn received(&self) -> anyhow::Result<Vec<ReceivedMail>> {
        let new = self.maildir.path().join("mail/new");
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&new) {
            Ok(entries) => entries
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        // Maildir names begin with the second of delivery, then a counter in the name.
        files.sort_by_key(|path| {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            (modified, path.clone())
        });
        files
            .iter()
            .map(|path| parse(&std::fs::read(path)?))
            .collect()
    }

    /// Waits, up to 20 s, until at least `count` messages have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received()?;
            if received.len() >= count {
                return Ok(received);
            }
            if Instant::now() > deadline {
                bail!("{} of {count} messages arrived in 20 s", received.len());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            self.maildir.disable_cleanup(true);
            eprintln!("received mail kept at {}", self.maildir.path().display());
        }
    }
}

/// Splits a stored message into unfolded, decoded header fields (RFC 2047 words) and its body,
/// decoded from its transfer encoding (quoted-printable or base64; anything else as it is).
fn parse(bytes: &[u8]) -> anyhow::Result<ReceivedMail> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    for (_, value) in &mut headers {
        *value = decode_words(value);
    }
    let mail = ReceivedMail {
        headers,
        body: String::new(),
    };
    let encoding = mail
        .header("content-transfer-encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let body = match encoding.as_str() {
        "quoted-printable" => String::from_utf8_lossy(&quoted_printable(body, false)).into_owned(),
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8_lossy(&BASE64.decode(joined).context("base64 body")?).into_owned()
        }
        _ => body.to_string(),
    };
    Ok(ReceivedMail { body, ..mail })
}

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Decodes the RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) in a header
/// value; whitespace between two encoded words goes, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, word) = rest.split_at(start);
        let decoded = word[2..].splitn(3, '?').collect::<Vec<_>>();
        let Some(end) = decoded.get(2).and_then(|tail| tail.find("?=")) else {
            break;
        };
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let (encoding, text) = (decoded[1].to_ascii_lowercase(), &decoded[2][..end]);
        let bytes = match encoding.as_str() {
            "b" => BASE64.decode(text).unwrap_or_default(),
            _ => quoted_printable(text, true),
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        let consumed = 2 + decoded[0].len() + 1 + decoded[1].len() + 1 + end + 2;
        rest = &word[consumed..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// Quoted-printable to bytes; `words`: the header form, where `_` is a space.
fn quoted_printable(text: &str, words: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'=');
                        i += 1;
                    }
                }
            }
            b'_' if words => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}
