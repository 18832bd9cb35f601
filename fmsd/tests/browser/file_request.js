// A file request: three files dropped at once onto the drop zone (FMS_UPLOAD_FILES, paths
// separated by newlines; the browser reads them from disk, so a large one is never copied
// into the page), each progress bar watched until it is full.
"use strict";

const { env, open, shot, run } = require("./common");

run(async ({ page }) => {
  const opened = await open(page, env("FMS_UPLOAD_URL"));
  await shot(page, "file-request");
  const files = env("FMS_UPLOAD_FILES").split("\n");
  // A file input of the test's own holds the files; a drop event carries them to the page.
  await page.evaluate(() => {
    const picker = document.createElement("input");
    picker.type = "file";
    picker.multiple = true;
    picker.id = "test-picker";
    picker.hidden = true;
    document.body.append(picker);
  });
  await page.setInputFiles("#test-picker", files);
  await page.evaluate(() => {
    const transfer = new DataTransfer();
    for (const file of document.getElementById("test-picker").files) transfer.items.add(file);
    document.getElementById("test-picker").remove();
    const drop = document.getElementById("drop");
    drop.dispatchEvent(new DragEvent("dragenter", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  // The highest value each bar showed, sampled while the files go up.
  const seen = [];
  const deadline = Date.now() + 10 * 60 * 1000;
  let midway = false;
  for (;;) {
    const state = await page.evaluate(() => ({
      bars: Array.from(document.querySelectorAll("#uploads progress"), (bar) => [bar.value, bar.max]),
      finished: document.querySelectorAll("#uploads li.done, #uploads li.failed").length,
    }));
    state.bars.forEach(([value, max], index) => {
      seen[index] = Math.max(seen[index] || 0, value / max);
    });
    if (!midway && state.bars.some(([value, max]) => value > 0 && value < max)) {
      midway = true;
      await shot(page, "file-request-uploading");
    }
    if (state.bars.length === files.length && state.finished === files.length) break;
    if (Date.now() > deadline) throw new Error("the uploads did not finish within 10 minutes");
    await page.waitForTimeout(100);
  }
  await shot(page, "file-request-done");
  const rows = await page.evaluate(() =>
    Array.from(document.querySelectorAll("#uploads li"), (item) => ({
      name: item.querySelector(".file-name").textContent,
      done: item.classList.contains("done"),
      note: item.querySelector("div:last-child").textContent,
      value: item.querySelector("progress").value,
      max: item.querySelector("progress").max,
    })),
  );
  const status = await page.locator("#upload-status").textContent();
  return { opened, rows, seen, status };
});
