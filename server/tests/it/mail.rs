//! Mail from the running app: the in-process outbox worker delivers a sign-up's welcome mail
//! through the file mailer, once.

use std::time::Duration;

use crate::common::{TestApp, TestOptions};

#[tokio::test]
async fn the_file_mailer_writes_the_welcome_mail_when_the_worker_delivers_a_sign_up() {
    let app = TestApp::spawn_with(TestOptions {
        run_worker: true,
        ..TestOptions::default()
    })
    .await;
    let res = app
        .client
        .post(app.url("/api/newsletter/subscribe"))
        .header("accept", "application/json")
        .form(&[("email", "reader@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let mail_dir = app.data_dir.path().join("mail");
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = std::fs::read_dir(&mail_dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(mails.len(), 1, "one mail written by the in-process worker");
    let raw = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(raw.contains("To: reader@example.com"), "{raw}");
    assert!(raw.contains("Subject: Welcome to the Test Shop newsletter"));
    assert!(raw.contains("Thanks for signing up"));

    // Signing up again queues no second mail.
    app.client
        .post(app.url("/api/newsletter/subscribe"))
        .header("accept", "application/json")
        .form(&[("email", "READER@example.com")])
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(std::fs::read_dir(&mail_dir).unwrap().count(), 1);
}
