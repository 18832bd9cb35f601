// The pages a mailed code opens: the verification page (confirm, then the same link again,
// its code used up), and the reset page (two passwords that differ, then the right ones).
"use strict";

const { env, open, shot, run } = require("./common");

run(async ({ page }) => {
  const verify = await open(page, env("FMS_VERIFY_URL"));
  await shot(page, "verify-page");
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.locator("#status.ok").waitFor();
  const verified = await page.locator("#status").textContent();
  const addressAfter = page.url();
  await shot(page, "verified");
  // A new load, not a jump to the fragment of the page already open.
  await page.goto("about:blank");
  await open(page, env("FMS_VERIFY_URL"));
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await page.locator("#status.error").waitFor();
  const used = await page.locator("#status").textContent();
  await shot(page, "verify-used");

  const reset = await open(page, env("FMS_RESET_URL"));
  await shot(page, "reset-page");
  await page.getByLabel("New password", { exact: true }).fill(env("FMS_NEW_PASSWORD"));
  await page.getByLabel("The new password again").fill("something else entirely");
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.locator("#status.error").waitFor();
  const mismatch = await page.locator("#status").textContent();
  await page.getByLabel("The new password again").fill(env("FMS_NEW_PASSWORD"));
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.locator("#status.ok").waitFor();
  const done = await page.locator("#status").textContent();
  await shot(page, "reset-done");

  await open(page, env("FMS_BARE_URL"));
  const bare = await page.locator("#status").textContent();
  const bareDisabled = await page.getByRole("button", { name: "Confirm my address" }).isDisabled();
  return { verify, verified, addressAfter, used, reset, mismatch, done, bare, bareDisabled };
});
