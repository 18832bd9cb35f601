// A password link: the form, a wrong password (the form again, with the error), the right
// one (the file's page, then its download, with no password asked again).
"use strict";

const { env, open, shot, download, run } = require("./common");

run(async ({ page }) => {
  const form = await open(page, env("FMS_PASSWORD_URL"));
  await shot(page, "password-form");
  await page.getByLabel("Password").fill("not the password");
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Open" }).click()]);
  const error = await page.locator(".error").textContent();
  await shot(page, "password-wrong");
  await page.getByLabel("Password").fill(env("FMS_PASSWORD"));
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  const heading = await page.locator("h1").textContent();
  await shot(page, "password-right");
  const saved = await download(page, page.getByRole("link", { name: "Download" }), "password.download");
  // Back at the link, the cookie still holds.
  const again = await open(page, env("FMS_PASSWORD_URL"));
  return { form, error, heading, saved, again };
});
