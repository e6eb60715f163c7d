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

/// What one delivery says.
pub(crate) struct Mail<'a> {
    pub id: Uuid,
    pub channel: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
}

impl Mailer {
    /// `smtp_url`: `smtp://host:port` (no TLS: a local relay), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:port` (TLS from the start), as lettre reads it.
    /// `from`: the sender, `samskab <noreply@example.dk>`.
    pub fn new(smtp_url: &str, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("the sender's address {from:?} (SAMSKAB_MAIL_FROM)"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("the SMTP server's URL (SAMSKAB_SMTP_URL)")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self { transport, from })
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one mail. Its Message-ID is the delivery's id, so a copy sent again after a
    /// crash is the same message to the receiver.
    pub(crate) async fn send(&self, mail: &Mail<'_>) -> Result<(), Failure> {
        let to: Mailbox = mail.to.parse().map_err(|_| Failure::BadAddress)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!(
                "<{}.{}@{}>",
                mail.id,
                mail.channel,
                self.from.email.domain()
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "{}\n\nSe mere i samskab: {}\n",
                mail.body, mail.link
            ))
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
