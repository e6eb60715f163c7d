//! A message as a mail, and its sending over SMTP (lettre, with a pool of connections).

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use crate::Failure;

/// The SMTP server and the sender's address.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// The language a message is written in: the mail's own words around it follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Danish,
    English,
}

impl Language {
    /// The line under a message that points to it.
    fn see_more(self, link: &str) -> String {
        match self {
            Language::Danish => format!("Se mere i samskab: {link}"),
            Language::English => format!("See more in samskab: {link}"),
        }
    }

    /// A digest's subject, of `count` messages.
    fn digest_subject(self, count: usize) -> String {
        match (self, count) {
            (Language::Danish, 1) => "Dagens besked fra samskab".into(),
            (Language::Danish, n) => format!("Dagens {n} beskeder fra samskab"),
            (Language::English, 1) => "Today's message from samskab".into(),
            (Language::English, n) => format!("Today's {n} messages from samskab"),
        }
    }
}

/// What one delivery says.
pub(crate) struct Mail<'a> {
    pub id: Uuid,
    pub channel: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub language: Language,
}

/// A recipient's daily digest: the day's messages in one mail. Its Message-ID is the first
/// message's, with `digest`.
pub(crate) struct Digest<'a> {
    pub id: Uuid,
    pub to: &'a str,
    pub language: Language,
    pub items: &'a [DigestItem<'a>],
}

/// One message of a digest.
pub(crate) struct DigestItem<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
}

impl Mailer {
    /// `smtp_url`: `smtp://host:port` (no TLS: a local relay), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:port` (TLS from the start), as lettre reads it.
    /// `from`: the sender, `samskab <noreply@example.dk>`.
    pub fn new(smtp_url: &str, from: &str) -> anyhow::Result<Self> {
        Self::with_timeout(smtp_url, from, Duration::from_secs(20))
    }

    /// [`Mailer::new`], giving up on a conversation after `timeout` (then tried again later).
    pub fn with_timeout(smtp_url: &str, from: &str, timeout: Duration) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("the sender's address {from:?} (SAMSKAB_MAIL_FROM)"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("the SMTP server's URL (SAMSKAB_SMTP_URL)")?
            .timeout(Some(timeout))
            .build();
        Ok(Self { transport, from })
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one mail. Its Message-ID is the delivery's id, so a copy sent again after a
    /// crash is the same message to the receiver.
    pub(crate) async fn send(&self, mail: &Mail<'_>) -> Result<(), Failure> {
        let body = format!("{}\n\n{}\n", mail.body, mail.language.see_more(mail.link));
        self.send_text(mail.to, mail.subject, mail.id, mail.channel, body)
            .await
    }

    /// Sends a digest: each message's subject, body and link, one after the other.
    pub(crate) async fn send_digest(&self, digest: &Digest<'_>) -> Result<(), Failure> {
        let subject = digest.language.digest_subject(digest.items.len());
        let body = digest
            .items
            .iter()
            .map(|item| {
                format!(
                    "{}\n\n{}\n\n{}\n",
                    item.subject,
                    item.body,
                    digest.language.see_more(item.link)
                )
            })
            .collect::<Vec<_>>()
            .join("\n----\n\n");
        self.send_text(digest.to, &subject, digest.id, "digest", body)
            .await
    }

    async fn send_text(
        &self,
        to: &str,
        subject: &str,
        id: Uuid,
        channel: &str,
        body: String,
    ) -> Result<(), Failure> {
        let to: Mailbox = to.parse().map_err(|_| Failure::BadAddress)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!(
                "<{id}.{channel}@{}>",
                self.from.email.domain()
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| Failure::BadAddress)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(classify(&error)),
        }
    }
}

/// A status code and a class; never the server's text, which may repeat the address.
fn classify(error: &lettre::transport::smtp::Error) -> Failure {
    let code = error.status().map(|code| code.to_string());
    if error.is_permanent() {
        Failure::Permanent(format!("SMTP {} (permanent)", code.unwrap_or_default()))
    } else if error.is_transient() {
        Failure::Transient(format!("SMTP {} (transient)", code.unwrap_or_default()))
    } else if error.is_timeout() {
        Failure::Transient("the SMTP server did not answer in time".into())
    } else {
        Failure::Transient("no SMTP conversation (connection refused or broken)".into())
    }
}
