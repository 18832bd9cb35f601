// A folder link: into a sub-folder, one file downloaded, the whole folder as one zip.
"use strict";

const { env, open, shot, download, run } = require("./common");

run(async ({ page }) => {
  const root = await open(page, env("FMS_FOLDER_URL"));
  const rootHeading = await page.locator("h1").textContent();
  const rootNames = await page.locator("td.name").allTextContents();
  await shot(page, "folder-root");
  await page.getByRole("link", { name: "sub/" }).click();
  await page.waitForLoadState();
  const subHeading = await page.locator("h1").textContent();
  const subNames = await page.locator("td.name").allTextContents();
  await shot(page, "folder-sub");
  const one = await download(page, page.getByRole("link", { name: "Download b.bin" }), "folder-one.download");
  await page.getByRole("link", { name: rootHeading }).click();
  await page.waitForLoadState();
  const zip = await download(page, page.getByRole("link", { name: "Download all as .zip" }), "folder.zip");
  return { root, rootHeading, rootNames, subHeading, subNames, one, zip };
});
