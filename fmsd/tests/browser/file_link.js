// A file link: its page, the Download button (no script), an expired link's 410 page, a
// revoked link's 404 page, and a file whose name is markup, which must show as text.
"use strict";

const { env, open, shot, download, run } = require("./common");

run(async ({ page }) => {
  const file = await open(page, env("FMS_FILE_URL"));
  const heading = await page.locator("h1").textContent();
  await shot(page, "file-link");
  // Keyboard only: Tab reaches the Download button, which shows a focus ring.
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement.textContent.trim());
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  await shot(page, "file-link-focus");
  const saved = await download(page, page.getByRole("link", { name: "Download" }), "file-link.download");

  const expired = await open(page, env("FMS_EXPIRED_URL"));
  expired.heading = await page.locator("h1").textContent();
  await shot(page, "expired-link");

  const revoked = await open(page, env("FMS_REVOKED_URL"));
  revoked.heading = await page.locator("h1").textContent();
  await shot(page, "revoked-link");

  const xss = await open(page, env("FMS_XSS_URL"));
  xss.heading = await page.locator("h1").textContent();
  xss.images = await page.locator("img").count();
  await shot(page, "markup-name");

  return { file, heading, focused, outline, saved, expired, revoked, xss };
});
