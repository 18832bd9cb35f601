//! Notifications' ports: the `Mailer` contract (run against the `.eml` mailer and SMTP into
//! maildev), the `NotificationRepo` contract (SQLite and PostgreSQL: handled events, the
//! activity-mail preferences, last sends and the digest queue), and the service over them (an
//! event delivered twice mails once; a burst of activity mail becomes one digest).
//!
//! Isolation: every mail goes to a recipient address no other test uses, and each read-back
//! keeps only that address's mail, so tests share one maildev; every PostgreSQL test makes a
//! database of its own and drops it at the end.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fmsd::clock::ManualClock;
use fmsd::error::Error;
use fmsd::notifications::adapters::maildir::MaildirMailer;
use fmsd::notifications::adapters::sql::SqlNotificationRepo;
use fmsd::notifications::domain::{ItemKind, Recipient, Server, ShareRole, Template};
use fmsd::notifications::ports::{Mailer, NotificationRepo};
use fmsd::notifications::service::NotificationService;
use fmsd::store_url::StoreUrl;

use crate::support;
use eml::EmlFolder;

mod activity;
mod eml;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "smtp")]
mod smtp;

/// The `From:` every mailer here is given.
const FROM: &str = "fms <no-reply@fms.localhost>";
/// The address part of [`FROM`].
const FROM_ADDRESS: &str = "no-reply@fms.localhost";
/// How long a mail may take to show up in a mailbox.
const DELIVERY_WAIT: Duration = Duration::from_secs(10);
/// How long to keep looking for a mail that should not come.
const DUPLICATE_WAIT: Duration = Duration::from_millis(500);

/// One mail as a mailbox holds it, whichever mailer sent it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The subject line.
    pub subject: String,
    /// The recipients' addresses.
    pub to: Vec<String>,
    /// The sender's address.
    pub from: String,
    /// The `Message-ID` header, angle brackets included.
    pub message_id: String,
    /// The decoded plain-text part.
    pub text: String,
    /// The decoded HTML part.
    pub html: String,
}

/// Somewhere mail can be read back from.
pub trait Mailbox {
    /// Every mail it holds for `address`.
    async fn received(&self, address: &str) -> Vec<Received>;
}

/// The server the mails of these tests name.
pub fn server() -> Server {
    Server::new("https://fms.example.com")
}

/// An address no other test mails.
pub fn recipient() -> String {
    format!("{}@example.com", support::unique("rcpt-"))
}

/// A new customer at `email`, called Ada.
pub fn customer(email: &str) -> Recipient {
    Recipient {
        customer_id: uuid::Uuid::new_v4(),
        email: email.to_owned(),
        name: "Ada".into(),
    }
}

/// The mail for `address`, once there are at least `n` (or the wait is over).
pub async fn wait_for(mailbox: &impl Mailbox, address: &str, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + DELIVERY_WAIT;
    loop {
        let received = mailbox.received(address).await;
        if received.len() >= n || Instant::now() >= deadline {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `Mailer` contract, written once.
pub async fn mailer_contract(mailer: Arc<dyn Mailer>, mailbox: &impl Mailbox) {
    let to = recipient();
    let event_id = support::unique("evt-");
    let name = "Ada <script>alert(1)</script>";
    let mail = Template::Welcome.render(
        &event_id,
        &Recipient {
            name: name.into(),
            ..customer(&to)
        },
        &server(),
    );
    mailer.send(&mail).await.unwrap();

    let received = wait_for(mailbox, &to, 1).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    let got = &received[0];
    assert_eq!(got.subject, "Welcome to fms");
    assert_eq!(got.to, vec![to.clone()]);
    assert_eq!(got.from, FROM_ADDRESS);
    assert_eq!(got.message_id, format!("<{event_id}@fms>"));
    assert!(
        got.text
            .contains("Welcome to fms, Ada <script>alert(1)</script>!"),
        "{}",
        got.text
    );
    assert!(
        got.html
            .contains("Ada &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        got.html
    );
    assert!(!got.html.contains("<script>"), "{}", got.html);
    // The markup arrives as it was sent: commands as code, the server as a link.
    assert!(
        got.html.contains(&format!(
            "<code>fmsctl --server https://fms.example.com login --email {to}</code>"
        )),
        "{}",
        got.html
    );
    assert!(
        got.html
            .contains("<a href=\"https://fms.example.com\">https://fms.example.com</a>"),
        "{}",
        got.html
    );
    assert!(
        got.text.contains(&format!(
            "`fmsctl --server https://fms.example.com login --email {to}`"
        )),
        "{}",
        got.text
    );

    // A second mail to the same address arrives as a mail of its own.
    let second_id = support::unique("evt-");
    let second = Template::PasswordChanged.render(&second_id, &customer(&to), &server());
    mailer.send(&second).await.unwrap();
    let received = wait_for(mailbox, &to, 2).await;
    let mut ids: Vec<&str> = received
        .iter()
        .map(|mail| mail.message_id.as_str())
        .collect();
    ids.sort_unstable();
    let mut expected = [format!("<{event_id}@fms>"), format!("<{second_id}@fms>")];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let changed = received
        .iter()
        .find(|mail| mail.message_id == format!("<{second_id}@fms>"))
        .unwrap();
    assert_eq!(changed.subject, "Your fms password was changed");

    // Something that is not an address is refused before anything is sent.
    let bad = Template::Welcome.render(
        &support::unique("evt-"),
        &customer("not an address"),
        &server(),
    );
    let error = mailer.send(&bad).await.unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
}

/// The `NotificationRepo` contract, written once; returns an event id it remembered, for a
/// check that the record survives reopening the store.
pub async fn repo_contract(repo: Arc<dyn NotificationRepo>) -> String {
    let event_id = support::unique("evt-");
    assert!(!repo.already_handled(&event_id).await.unwrap());
    repo.remember_handled(&event_id).await.unwrap();
    assert!(repo.already_handled(&event_id).await.unwrap());

    // Remembering twice is fine and changes nothing.
    repo.remember_handled(&event_id).await.unwrap();
    assert!(repo.already_handled(&event_id).await.unwrap());

    // Another event is still unknown.
    let other = support::unique("evt-");
    assert!(!repo.already_handled(&other).await.unwrap());

    // Two deliveries of one event may race; both records succeed.
    let racing = support::unique("evt-");
    let (first, second) = tokio::join!(
        repo.remember_handled(&racing),
        repo.remember_handled(&racing)
    );
    first.unwrap();
    second.unwrap();
    assert!(repo.already_handled(&racing).await.unwrap());
    event_id
}

/// The service over a mailer and a repo: an event delivered twice mails once (a security mail
/// and an activity mail, the share mail), and a new event mails again.
pub async fn service_contract(
    mailer: Arc<dyn Mailer>,
    repo: Arc<dyn NotificationRepo>,
    mailbox: &impl Mailbox,
) {
    let service = NotificationService::new(
        mailer,
        repo,
        Arc::new(ManualClock::new()),
        Duration::from_secs(300),
        server(),
    );
    let to = recipient();
    let ada = customer(&to);
    let event_id = support::unique("evt-");
    service
        .notify(&event_id, Template::Welcome, &ada)
        .await
        .unwrap();
    service
        .notify(&event_id, Template::Welcome, &ada)
        .await
        .unwrap();
    assert_eq!(wait_for(mailbox, &to, 1).await.len(), 1);
    tokio::time::sleep(DUPLICATE_WAIT).await;
    let received = mailbox.received(&to).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].message_id, format!("<{event_id}@fms>"));

    let deleted = support::unique("evt-");
    service
        .notify(&deleted, Template::AccountDeleted, &ada)
        .await
        .unwrap();
    assert_eq!(wait_for(mailbox, &to, 2).await.len(), 2);

    let shared_to = recipient();
    let bob = customer(&shared_to);
    let shared = support::unique("evt-");
    let share_mail = Template::FileShared {
        share_id: uuid::Uuid::now_v7(),
        owner_name: "Ada".into(),
        owner_email: "owner@example.com".into(),
        item_name: "plans".into(),
        kind: ItemKind::Folder,
        role: ShareRole::Editor,
    };
    for _ in 0..2 {
        service
            .notify(&shared, share_mail.clone(), &bob)
            .await
            .unwrap();
    }
    assert_eq!(wait_for(mailbox, &shared_to, 1).await.len(), 1);
    tokio::time::sleep(DUPLICATE_WAIT).await;
    let received = mailbox.received(&shared_to).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].message_id, format!("<{shared}@fms>"));
}

/// A temporary folder and the `.eml` mailer writing into it.
fn eml_mailer(dir: &Path) -> (Arc<dyn Mailer>, EmlFolder) {
    let folder = dir.join("mail");
    let mailer = MaildirMailer::open(&folder, FROM).unwrap();
    (Arc::new(mailer), EmlFolder(folder))
}

#[tokio::test]
async fn eml_mailer_keeps_the_mailer_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (mailer, folder) = eml_mailer(dir.path());
    mailer_contract(mailer, &folder).await;
}

/// The notifications store on SQLite at `path`, created or reopened.
pub async fn sqlite_repo(path: &std::path::Path) -> SqlNotificationRepo {
    SqlNotificationRepo::open(&StoreUrl::Sqlite(path.to_owned()))
        .await
        .unwrap()
}

#[tokio::test]
async fn sqlite_repo_keeps_the_repo_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notifications.db");
    let remembered = repo_contract(Arc::new(sqlite_repo(&path).await)).await;
    let reopened = sqlite_repo(&path).await;
    assert!(reopened.already_handled(&remembered).await.unwrap());
}

#[tokio::test]
async fn sqlite_repo_keeps_the_activity_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notifications.db");
    let kept = activity::repo_contract(Arc::new(sqlite_repo(&path).await)).await;
    let reopened = sqlite_repo(&path).await;
    activity::kept_after_reopening(&reopened, &kept).await;
}

#[tokio::test]
async fn service_over_eml_and_sqlite_sends_a_burst_as_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (mailer, folder) = eml_mailer(dir.path());
    let repo = sqlite_repo(&dir.path().join("notifications.db")).await;
    activity::service_contract(mailer, Arc::new(repo), &folder).await;
}

#[tokio::test]
async fn service_over_eml_and_sqlite_mails_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mailer, folder) = eml_mailer(dir.path());
    let repo = sqlite_repo(&dir.path().join("notifications.db")).await;
    service_contract(mailer, Arc::new(repo), &folder).await;
}
