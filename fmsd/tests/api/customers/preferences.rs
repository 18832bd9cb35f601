//! Mail preferences on `/v1/me`: activity mail is on by default, `PATCH` turns it off and on,
//! bad bodies are refused, and every change reaches the bus as `customers.updated`.

use common::events::Envelope;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, eventually, spawn_app, TestApp, TestUser};

/// The `customers.updated` envelopes about `customer` on the embedded bus, in order.
fn profile_updates(app: &TestApp, customer: &TestUser) -> Vec<Envelope> {
    app.bus_envelopes()
        .into_iter()
        .filter(|envelope| {
            envelope.event_type == "customers.updated"
                && envelope.payload["customer_id"] == customer.id.to_string()
        })
        .collect()
}

/// `GET /v1/me`.
async fn me(app: &TestApp, user: &TestUser) -> Value {
    let response = app.get("/v1/me", Some(&user.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `PATCH /v1/me` with `body`, which must succeed.
async fn patch_me(app: &TestApp, user: &TestUser, body: &Value) -> Value {
    let response = app.patch("/v1/me", Some(&user.token), body).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn activity_mail_is_on_until_patch_turns_it_off() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let before = me(&app, &user).await;
    assert_eq!(before["notifications"], json!({"activity_mail": true}));

    let patched = patch_me(
        &app,
        &user,
        &json!({"notifications": {"activity_mail": false}}),
    )
    .await;
    assert_eq!(patched["notifications"], json!({"activity_mail": false}));
    assert_eq!(patched["name"], before["name"]);
    let after = me(&app, &user).await;
    assert_eq!(after["notifications"], json!({"activity_mail": false}));
    assert_eq!(after["name"], before["name"]);

    // Changing the name alone keeps the preference; both at once change both.
    let renamed = patch_me(&app, &user, &json!({"name": "Quiet Ann"})).await;
    assert_eq!(
        (&renamed["name"], &renamed["notifications"]),
        (&json!("Quiet Ann"), &json!({"activity_mail": false}))
    );
    let both = patch_me(
        &app,
        &user,
        &json!({"name": "Ann", "notifications": {"activity_mail": true}}),
    )
    .await;
    assert_eq!(
        (&both["name"], &both["notifications"]),
        (&json!("Ann"), &json!({"activity_mail": true}))
    );

    // An empty body changes nothing and answers the profile.
    let unchanged = patch_me(&app, &user, &json!({})).await;
    assert_eq!(unchanged, me(&app, &user).await);
    assert_eq!(unchanged["notifications"], json!({"activity_mail": true}));

    // The preference survives a restart.
    patch_me(
        &app,
        &user,
        &json!({"notifications": {"activity_mail": false}}),
    )
    .await;
    let app = app.restart().await;
    assert_eq!(
        me(&app, &user).await["notifications"],
        json!({"activity_mail": false})
    );
}

#[tokio::test]
async fn a_bad_preferences_body_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let before = me(&app, &user).await;
    let cases = [
        (
            json!({"notifications": {"activity_mail": "no"}}),
            "activity_mail",
        ),
        (json!({"notifications": {}}), "activity_mail"),
        (json!({"notifications": false}), "notifications"),
        (
            json!({"notifications": {"activity_mail": false, "security_mail": false}}),
            "security_mail",
        ),
        (
            json!({"name": "", "notifications": {"activity_mail": false}}),
            "name",
        ),
    ];
    for (body, needle) in cases {
        let (status, code, message) =
            error_code(app.patch("/v1/me", Some(&user.token), &body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}"
        );
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }
    assert_eq!(me(&app, &user).await, before);
    assert!(profile_updates(&app, &user).is_empty());
}

#[tokio::test]
async fn every_profile_change_emits_customers_updated_with_the_preference() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    patch_me(
        &app,
        &user,
        &json!({"notifications": {"activity_mail": false}}),
    )
    .await;
    let first = eventually(|| {
        let updates = profile_updates(&app, &user);
        (!updates.is_empty()).then_some(updates)
    })
    .await
    .expect("customers.updated reaches the bus");
    assert_eq!(first.len(), 1);
    let payload = &first[0].payload;
    assert_eq!(
        (
            &payload["email"],
            &payload["name"],
            &payload["activity_mail"]
        ),
        (&json!(user.email), &json!("Test User"), &json!(false))
    );

    // A name change carries the preference as it stands; an empty body emits nothing.
    patch_me(&app, &user, &json!({})).await;
    patch_me(&app, &user, &json!({"name": "Renamed"})).await;
    eventually(|| (profile_updates(&app, &user).len() >= 2).then_some(()))
        .await
        .expect("the second customers.updated reaches the bus");
    // Give an event the empty PATCH should not have written time to show up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let updates = profile_updates(&app, &user);
    assert_eq!(updates.len(), 2, "an empty PATCH emitted an event");
    assert_eq!(
        (
            &updates[1].payload["name"],
            &updates[1].payload["activity_mail"]
        ),
        (&json!("Renamed"), &json!(false))
    );
}
