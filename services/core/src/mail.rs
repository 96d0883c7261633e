//! Outgoing email through lettre.
//!
//! Production sends over SMTP (`SMTP_URL`). By default each message is written as an
//! `.eml` file under the data folder, so a laptop or a test run can read every mail the shop
//! sent without a mail server. Either way the send is logged (redacted recipient and
//! subject, never the body: bodies carry tokens).

use std::path::{Path, PathBuf};

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::email::Email;

/// A message to send.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail configuration: {0}")]
    Config(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("could not write the message file: {0}")]
    File(#[from] lettre::transport::file::Error),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

/// Sends mail from the shop's address.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::File { dir, .. } => format!("file:{}", dir.display()),
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &kind)
            .finish()
    }
}

impl Mailer {
    /// Parses the sender, e.g. `Shop <shop@example.com>`.
    pub fn parse_from(from: &str) -> Result<Mailbox, MailError> {
        from.parse::<Mailbox>()
            .map_err(|e| MailError::Config(format!("MAIL_FROM: {e}")))
    }

    /// SMTP, from a URL such as `smtps://user:pass@smtp.example.com` or
    /// `smtp://smtp.example.com:587?tls=required`.
    pub fn smtp(url: &str, from: Mailbox) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("SMTP_URL: {e}")))?
            .build();
        Ok(Mailer {
            from,
            transport: Transport::Smtp(transport),
        })
    }

    /// Writes each message as `<id>.eml` into `dir` (created if missing).
    pub fn file(dir: &Path, from: Mailbox) -> Result<Mailer, MailError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MailError::Config(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Mailer {
            from,
            transport: Transport::File {
                transport: AsyncFileTransport::new(dir),
                dir: dir.to_path_buf(),
            },
        })
    }

    /// Sends one message; returns an id for the log (the file name stem for file delivery).
    pub async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let to: Mailbox = email
            .to
            .as_str()
            .parse()
            .map_err(|e| MailError::Build(format!("recipient: {e}")))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone());
        let message = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.text.clone()),
        }
        .map_err(|e| MailError::Build(e.to_string()))?;

        let id = match &self.transport {
            Transport::Smtp(smtp) => {
                let response = smtp.send(message).await?;
                response.message().collect::<Vec<_>>().join(" ")
            }
            Transport::File { transport, .. } => transport.send(message).await?,
        };
        tracing::info!(mail.to = %email.to.redacted(), mail.subject = %email.subject, mail.id = %id, "mail sent");
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_transport_writes_a_readable_eml() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::file(
            &dir.path().join("mail"),
            Mailer::parse_from("Shop <shop@example.com>").unwrap(),
        )
        .unwrap();
        let id = mailer
            .send(&OutgoingEmail {
                to: Email::parse("jane@example.com").unwrap(),
                subject: "Welcome".into(),
                text: "Hello Jane".into(),
                html: Some("<p>Hello Jane</p>".into()),
            })
            .await
            .unwrap();
        let raw =
            std::fs::read_to_string(dir.path().join("mail").join(format!("{id}.eml"))).unwrap();
        assert!(raw.contains("To: jane@example.com"));
        assert!(raw.contains("Subject: Welcome"));
        assert!(raw.contains("Hello Jane"));
        assert!(raw.contains("text/html"));
    }

    #[test]
    fn bad_configuration_is_reported() {
        assert!(Mailer::parse_from("not an address").is_err());
        let from = Mailer::parse_from("shop@example.com").unwrap();
        assert!(Mailer::smtp("ftp://nope", from).is_err());
    }
}
