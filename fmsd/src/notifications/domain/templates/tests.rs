use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::notifications::domain::assert_same_words;

const URL: &str = "https://fms.example.com";

fn server() -> Server {
    Server::new("https://fms.example.com/")
}

fn recipient(name: &str) -> Recipient {
    Recipient {
        customer_id: Uuid::nil(),
        email: "a@example.com".into(),
        name: name.into(),
    }
}

fn share_id() -> Uuid {
    Uuid::from_u128(0x5e)
}

fn link_id() -> Uuid {
    Uuid::from_u128(0x11)
}

fn shared(owner: &str, item: &str, kind: ItemKind, role: ShareRole) -> Template {
    Template::FileShared {
        share_id: share_id(),
        owner_name: owner.into(),
        owner_email: "owner@example.com".into(),
        item_name: item.into(),
        kind,
        role,
    }
}

fn expiring(item_path: Option<&str>) -> Template {
    Template::LinkExpiring {
        link_id: link_id(),
        item_name: "Photos".into(),
        item_path: item_path.map(str::to_owned),
        expires_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap(),
    }
}

fn received(path: Option<&str>) -> Template {
    Template::LinkUploadReceived {
        folder_name: "Inbox".into(),
        file_name: "cv.pdf".into(),
        size: 1536,
        path: path.map(str::to_owned),
    }
}

fn quota(percent: u8) -> Template {
    let gib = 1024 * 1024 * 1024;
    Template::QuotaThresholdReached {
        percent,
        used_bytes: u64::from(percent) * gib / 10,
        quota_bytes: 10 * gib,
    }
}

/// One of each mail.
fn every_template() -> Vec<Template> {
    vec![
        Template::Welcome,
        Template::PasswordChanged,
        Template::AccountDeleted,
        shared("Bob", "Reports", ItemKind::Folder, ShareRole::Viewer),
        shared("Bob", "Reports", ItemKind::Folder, ShareRole::Editor),
        shared("Bob", "a.txt", ItemKind::File, ShareRole::Viewer),
        expiring(Some("/Photos")),
        expiring(None),
        received(Some("/Inbox/cv.pdf")),
        received(None),
        quota(80),
        quota(100),
        Template::PasswordReset {
            token: CODE.into(),
            expires_at: expiry(),
        },
        Template::VerifyAddress {
            token: CODE.into(),
            expires_at: expiry(),
        },
        Template::ConfirmNewAddress {
            token: CODE.into(),
            expires_at: expiry(),
            previous_email: "old@example.com".into(),
        },
        Template::AddressChangeRequested {
            new_email: "new@example.com".into(),
        },
    ]
}

/// A code as the customers service makes them.
const CODE: &str = "Xq3_-abcdefghijklmnopqrstuvwxyz0123456789AB";

fn expiry() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 18, 30, 0).unwrap()
}

#[test]
fn code_mails_carry_the_command_that_uses_the_code_and_are_security_mails() {
    let reset = Template::PasswordReset {
        token: CODE.into(),
        expires_at: expiry(),
    };
    let mail = reset.render("e9", &recipient("Ada"), &server());
    assert!(
        mail.text.contains(&format!(
            "`fmsctl --server {URL} password-reset --token {CODE}`"
        )),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("until 2026-12-07 18:30 UTC"),
        "{}",
        mail.text
    );
    assert!(!reset.is_activity());
    let verify = Template::VerifyAddress {
        token: CODE.into(),
        expires_at: expiry(),
    };
    let mail = verify.render("e10", &recipient("Ada"), &server());
    assert!(mail
        .text
        .contains(&format!("`fmsctl --server {URL} verify {CODE}`")));
    assert!(!verify.is_activity());
    let notice = Template::AddressChangeRequested {
        new_email: "new@example.com".into(),
    };
    let mail = notice.render("e11", &recipient("Ada"), &server());
    assert!(
        mail.text.contains("from a@example.com to new@example.com"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains(CODE));
    assert!(!notice.is_activity());
}

#[test]
fn every_mail_names_the_server_and_says_the_same_in_text_and_html() {
    for template in every_template() {
        let mail = template.render("e0", &recipient("Ada"), &server());
        assert!(
            mail.text.ends_with(&format!("\n\n-- \nfms at {URL}\n")),
            "{}",
            mail.text
        );
        assert!(
            mail.html
                .contains(&format!("&mdash; fms at <a href=\"{URL}\">{URL}</a>")),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains('`'), "{}", mail.html);
        assert_same_words(&mail);
    }
}

#[test]
fn a_name_cannot_inject_html() {
    let mail = Template::Welcome.render("e1", &recipient("<script>x</script>"), &server());
    assert!(mail.html.contains("&lt;script&gt;"));
    assert!(!mail.html.contains("<script>"));
    assert!(mail.text.contains("Welcome to fms, <script>x</script>!"));
    assert_eq!(mail.message_id, "e1@fms");
}

#[test]
fn the_welcome_mail_says_how_to_log_in_to_this_server() {
    let mail = Template::Welcome.render("e1", &recipient("Ada"), &server());
    assert!(mail.text.contains(&format!(
        "Your account on {URL} is ready. Log in with `fmsctl --server {URL} login --email a@example.com`"
    )));
    assert!(mail.text.contains(&format!("`FMSCTL_SERVER={URL}`")));
    assert!(mail.html.contains(&format!(
        "<code>fmsctl --server {URL} login --email a@example.com</code>"
    )));
}

#[test]
fn security_mails_keep_their_words_and_have_no_footer() {
    let mail = Template::PasswordChanged.render("e2", &recipient("Ada"), &server());
    assert_eq!(
        mail.text,
        format!(
            "Hello Ada,\n\nthe password of your fms account on {URL} was just changed, and every \
             other session was logged out.\n\nIf this was not you, reset your password at once \
             with `fmsctl --server {URL} password-reset --email a@example.com` and contact your \
             administrator.\n\nIf it was you, log in again where you need to \
             with `fmsctl --server {URL} login --email a@example.com`.\n\n-- \nfms at {URL}\n"
        )
    );
    assert!(!mail.text.contains("PATCH /v1/me"));
    let deleted = Template::AccountDeleted.render("e3", &recipient("Ada"), &server());
    assert!(deleted
        .text
        .starts_with(&format!("Goodbye Ada,\n\nyour fms account on {URL}")));
    assert!(!deleted.html.contains("activity_mail"));
    assert!(!Template::Welcome.is_activity());
    assert!(!Template::PasswordChanged.is_activity());
    assert!(!Template::AccountDeleted.is_activity());
}

#[test]
fn a_share_mail_names_owner_item_role_and_the_command_to_run() {
    let template = shared("Bob", "Reports", ItemKind::Folder, ShareRole::Editor);
    let mail = template.render("e4", &recipient("Ada"), &server());
    assert_eq!(mail.subject, "Bob shared 'Reports' with you");
    assert!(mail.text.contains(
        "Bob (owner@example.com) shared the folder 'Reports' with you as an editor: you can list it and download what is in it, and also upload into it"
    ));
    assert!(mail
        .text
        .contains(&format!("`fmsctl --server {URL} ls shared:Reports`")));
    assert!(mail.text.contains(&format!(
        "`fmsctl --server {URL} upload FILE shared:Reports`"
    )));
    assert!(mail
        .text
        .contains(&format!("`fmsctl --server {URL} ls --shared`")));
    assert!(mail.text.contains(&format!("`shared:{}`", share_id())));
    assert!(mail.html.contains(&format!(
        "<code>fmsctl --server {URL} ls shared:Reports</code>"
    )));
    assert!(mail
        .html
        .contains("Bob (owner@example.com) shared the folder &#39;Reports&#39;"));
    assert!(mail.text.contains("PATCH /v1/me"));
    assert!(mail
        .text
        .contains(&format!("`fmsctl --server {URL} notifications off`")));
    assert!(mail.html.contains("&quot;activity_mail&quot;: false"));

    let viewer = shared("Bob", "Reports", ItemKind::Folder, ShareRole::Viewer).render(
        "e5",
        &recipient("Ada"),
        &server(),
    );
    assert!(viewer.text.contains(&format!(
        "`fmsctl --server {URL} download -r shared:Reports`"
    )));
    let file = shared("Bob", "a.txt", ItemKind::File, ShareRole::Viewer).render(
        "e5",
        &recipient("Ada"),
        &server(),
    );
    assert!(file
        .text
        .contains("the file 'a.txt' with you as a viewer: you can download it."));
    assert!(file.text.contains(&format!(
        "Download it with `fmsctl --server {URL} download shared:a.txt`."
    )));
    assert!(!file.text.contains(" ls shared:"));
}

#[test]
fn a_shared_name_a_shell_would_split_is_quoted_in_the_command() {
    let mail = shared("Bob", "Q3 $(rm) it's", ItemKind::Folder, ShareRole::Viewer).render(
        "e6",
        &recipient("Ada"),
        &server(),
    );
    assert!(
        mail.text.contains(&format!(
            r"`fmsctl --server {URL} ls 'shared:Q3 $(rm) it'\''s'`"
        )),
        "{}",
        mail.text
    );
    assert!(mail.html.contains(&format!(
        "<code>fmsctl --server {URL} ls &#39;shared:Q3 $(rm) it&#39;\\&#39;&#39;s&#39;</code>"
    )));
    assert_same_words(&mail);
}

#[test]
fn user_chosen_names_are_escaped_in_html_and_kept_on_one_line_in_the_subject() {
    let template = shared(
        "<b>Eve</b>",
        "x\r\nBcc: evil@example.com",
        ItemKind::Folder,
        ShareRole::Viewer,
    );
    let mail = template.render("e6", &recipient("Ada & Co"), &server());
    assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
    assert!(!mail.html.contains("<b>"));
    assert!(mail.html.contains("&lt;b&gt;Eve&lt;/b&gt;"));
    assert!(mail.html.contains("Hello Ada &amp; Co,"));
    assert!(mail.text.contains("Hello Ada & Co,"));
    assert!(mail.text.contains("<b>Eve</b> (owner@example.com) shared"));
    // A command is one line, whatever the name holds.
    assert!(mail
        .text
        .lines()
        .any(|line| line.contains("ls 'shared:x  Bcc: evil@example.com'")));
}

#[test]
fn the_link_mail_names_the_item_the_link_and_the_time_but_not_its_address() {
    let mail = expiring(Some("/Trips/Photos")).render("e7", &recipient("Ada"), &server());
    assert!(mail.text.contains(&format!(
        "Your link `{}` to 'Photos' expires at 2026-12-01 09:30 UTC, within a day.",
        link_id()
    )));
    assert!(mail.text.contains(&format!(
        "make a new one with `fmsctl --server {URL} share /Trips/Photos --link`"
    )));
    assert!(mail
        .text
        .contains(&format!("`fmsctl --server {URL} shares --links`")));
    assert!(mail.text.contains(&format!(
        "`fmsctl --server {URL} unshare --link {}`",
        link_id()
    )));
    assert!(!mail.text.contains("/s/"));
    assert!(mail.html.contains(&format!("<code>{}</code>", link_id())));
    let older = expiring(None).render("e7", &recipient("Ada"), &server());
    assert!(older.text.contains(" share PATH --link`"));
}

#[test]
fn the_file_request_mail_names_the_file_its_size_and_where_it_landed() {
    let upload = received(Some("/Inbox/cv (2).pdf")).render("e8", &recipient("Ada"), &server());
    assert!(upload.text.contains(
        "'cv.pdf' (1.50 KiB) was uploaded to 'Inbox' through your file request link. It is at `/Inbox/cv (2).pdf`."
    ));
    assert!(upload.text.contains(&format!(
        "Download it with `fmsctl --server {URL} download '/Inbox/cv (2).pdf'`."
    )));
    assert!(upload.html.contains("<code>/Inbox/cv (2).pdf</code>"));
    assert!(upload.text.contains("activity_mail"));
    let older = received(None).render("e8", &recipient("Ada"), &server());
    assert!(older.text.contains(&format!(
        "Find it with `fmsctl --server {URL} find / --name cv.pdf`."
    )));
}

#[test]
fn quota_mails_differ_at_80_and_100_percent() {
    let getting_full = quota(80).render("e9", &recipient("Ada"), &server());
    assert_eq!(getting_full.subject, "Your fms storage is getting full");
    assert!(getting_full.text.contains("8.00 GiB of 10.00 GiB (80 %)"));
    assert!(getting_full
        .text
        .contains(&format!("`fmsctl --server {URL} du /`")));
    let full = quota(100).render("e10", &recipient("Ada"), &server());
    assert_eq!(full.subject, "Your fms storage is full");
    assert!(full.text.contains("Uploads are refused"));
    assert!(full
        .text
        .contains(&format!("`fmsctl --server {URL} rm PATH`")));
}

#[test]
fn a_queued_mail_keeps_subject_main_paragraph_command_and_what_it_is_about() {
    let queued = shared("Bob", "Reports", ItemKind::Folder, ShareRole::Viewer).queued(
        "e11",
        &recipient("Ada"),
        &server(),
    );
    assert_eq!(queued.event_id, "e11");
    assert_eq!(queued.subject, "Bob shared 'Reports' with you");
    let summary = queued.summary.to_text();
    assert!(summary.starts_with("Bob (owner@example.com) shared the folder 'Reports'"));
    assert!(summary.contains(&format!("`fmsctl --server {URL} ls shared:Reports`")));
    assert_eq!(queued.about, Some(About::Share(share_id())));
    assert_eq!(
        expiring(None).about(),
        Some(About::Link(link_id())),
        "a link's expiry ends with the link"
    );
    assert_eq!(received(None).about(), None, "the uploaded file stays");
    assert_eq!(quota(80).about(), None);
}

#[test]
fn roles_and_kinds_parse_or_are_invalid() {
    assert_eq!(ShareRole::parse("editor").unwrap(), ShareRole::Editor);
    assert!(matches!(ShareRole::parse("owner"), Err(Error::Invalid(_))));
    assert_eq!(ItemKind::parse("file").unwrap(), ItemKind::File);
    assert!(matches!(ItemKind::parse("link"), Err(Error::Invalid(_))));
}

#[test]
fn sizes_read_well() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1023), "1023 B");
    assert_eq!(human_bytes(50 * 1024 * 1024), "50.00 MiB");
}
