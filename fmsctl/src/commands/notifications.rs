//! `fmsctl notifications [on|off]`: whether activity mail (shares, links, file requests, quota
//! warnings) is sent. Security mail (a changed password, a deleted account) always goes.

use common::api::{NotificationSettings, UpdateProfileRequest};

use crate::cli::{NotificationsArgs, Switch};
use crate::client::Client;
use crate::output::Output;

/// Shows the setting, or changes it with `PATCH /v1/me`.
pub async fn run(client: &Client, output: Output, args: NotificationsArgs) -> anyhow::Result<()> {
    let profile = match args.activity_mail {
        None => client.me().await?,
        Some(switch) => {
            let request = UpdateProfileRequest {
                notifications: Some(NotificationSettings {
                    activity_mail: switch == Switch::On,
                }),
                ..UpdateProfileRequest::default()
            };
            client.update_me(&request).await?
        }
    };
    if output.json {
        return output.print_json(&profile.notifications);
    }
    let state = if profile.notifications.activity_mail {
        "on"
    } else {
        "off"
    };
    output.print_line(format_args!(
        "activity mail (shares, links, file requests, quota): {state}"
    ))?;
    output.print_line(format_args!(
        "security mail (password changed, account deleted): always on"
    ))
}
