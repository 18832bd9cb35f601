// What every browser script shares: Chromium through playwright-core (headless, the system's
// chromium), a log of console errors, page errors and dialogs (none may appear), screenshots
// into FMS_SCREENSHOTS, and one JSON line of results on stdout for the Rust test to check.
"use strict";

const path = require("path");
const { chromium } = require("playwright-core");

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: env("FMS_TEST_CHROMIUM"),
    headless: true,
    // The tests run as root, where Chromium's sandbox cannot start.
    args: ["--no-sandbox"],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 412, height: 915 } });
  const problems = [];
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    // Chromium logs every 4xx main document; the scripts check those statuses themselves.
    if (/^Failed to load resource: the server responded with a status of (401|404|410|429)/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    await dialog.dismiss();
  });
  return { browser, context, page, problems };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(env("FMS_SCREENSHOTS"), `${name}.png`), fullPage: true });
}

// Opens `url`; returns the main response's status and its security headers.
async function open(page, url) {
  const response = await page.goto(url);
  const headers = response.headers();
  return {
    status: response.status(),
    csp: headers["content-security-policy"] || "",
    referrer: headers["referrer-policy"] || "",
    nosniff: headers["x-content-type-options"] || "",
  };
}

// Clicks what `locator` names and saves the download it starts into FMS_SCREENSHOTS/`name`.
async function download(page, locator, name) {
  const [started] = await Promise.all([page.waitForEvent("download"), locator.click()]);
  const file = path.join(env("FMS_SCREENSHOTS"), name);
  await started.saveAs(file);
  return { file, suggested: started.suggestedFilename() };
}

// Runs `body({ page, problems, ... })`, prints its result with the problems seen, and exits.
async function main(body) {
  const session = await launch();
  try {
    const result = await body(session);
    result.problems = session.problems;
    console.log(JSON.stringify(result));
  } finally {
    await session.browser.close();
  }
}

function run(body) {
  main(body).catch((error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(1);
  });
}

module.exports = { env, open, shot, download, run };
