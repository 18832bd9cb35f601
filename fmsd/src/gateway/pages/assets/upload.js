// The file request's uploader: files picked or dropped go up with the part protocol fmsctl
// speaks (POST /s/{token}/uploads, PUT each part to its signed URL, a few at once, then
// POST .../complete with the file's SHA-256, which the server checks). Parts are cut with
// File.slice, and the hash is computed from slices read in order, so a large file is never
// read whole into memory. Each file has its own progress bar.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const base = form.dataset.link; // "/s/{token}"
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const list = document.getElementById("uploads");
  const status = document.getElementById("upload-status");
  const PARALLEL_PARTS = 4;
  const HASH_SLICE = 4 * 1024 * 1024;

  function say(text) {
    status.textContent = text;
  }

  function human(bytes) {
    const units = ["KiB", "MiB", "GiB", "TiB"];
    if (bytes < 1024) return bytes + " B";
    let value = bytes;
    let unit = -1;
    do {
      value /= 1024;
      unit++;
    } while (value >= 1024 && unit < units.length - 1);
    return value.toFixed(2) + " " + units[unit];
  }

  async function api(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    if (!response.ok) {
      const message = json && json.error ? json.error.message : "the server answered " + response.status;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return json;
  }

  // Reads the file in order, slice by slice, into the hash.
  async function hashFile(file, onProgress) {
    const hash = new Sha256();
    for (let at = 0; at < file.size; at += HASH_SLICE) {
      const slice = file.slice(at, Math.min(at + HASH_SLICE, file.size));
      hash.update(new Uint8Array(await slice.arrayBuffer()));
      onProgress(Math.min(at + HASH_SLICE, file.size));
    }
    return hash.hex();
  }

  // PUTs one part; calls onProgress with the bytes of it sent so far.
  function putPart(url, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", url);
      request.upload.onprogress = (event) => onProgress(event.loaded);
      request.onload = () => {
        if (request.status >= 200 && request.status < 300) {
          onProgress(blob.size);
          resolve();
        } else {
          const error = new Error("a part was refused (" + request.status + ")");
          error.status = request.status;
          reject(error);
        }
      };
      request.onerror = () => reject(new Error("the connection failed while a part was sent"));
      request.send(blob);
    });
  }

  function row(file) {
    const item = document.createElement("li");
    const name = document.createElement("div");
    name.className = "file-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    const note = document.createElement("div");
    note.className = "muted";
    note.setAttribute("aria-live", "polite");
    note.textContent = "Waiting, " + human(file.size);
    item.append(name, bar, note);
    list.append(item);
    return { item, bar, note };
  }

  async function upload(file, view) {
    let session = await api("POST", "/uploads", { name: file.name, size: file.size });
    const sent = new Map();
    const show = () => {
      let total = 0;
      for (const value of sent.values()) total += value;
      view.bar.value = Math.min(total, file.size);
      const percent = file.size === 0 ? 100 : Math.floor((total * 100) / file.size);
      view.note.textContent = "Sending, " + percent + " % of " + human(file.size);
    };
    const hashing = hashFile(file, () => {});
    const pending = session.parts.filter((part) => !part.stored);
    for (const part of session.parts) if (part.stored) sent.set(part.number, part.size);
    show();
    const next = async () => {
      for (;;) {
        const part = pending.shift();
        if (!part) return;
        const blob = file.slice(part.offset, part.offset + part.size);
        const progress = (bytes) => {
          sent.set(part.number, bytes);
          show();
        };
        try {
          await putPart(part.url, blob, progress);
        } catch (error) {
          // An expired URL (403) or a dropped connection: fresh URLs, then once more.
          session = await api("GET", "/uploads/" + session.upload_id);
          const fresh = session.parts.find((candidate) => candidate.number === part.number);
          if (fresh.stored) {
            progress(part.size);
            continue;
          }
          await putPart(fresh.url, blob, progress);
        }
      }
    };
    const workers = [];
    for (let i = 0; i < Math.min(PARALLEL_PARTS, Math.max(pending.length, 1)); i++) workers.push(next());
    await Promise.all(workers);
    view.note.textContent = "Checking…";
    const sha256 = await hashing;
    await api("POST", "/uploads/" + session.upload_id + "/complete", { sha256 });
    view.bar.value = view.bar.max;
    view.item.classList.add("done");
    view.note.className = "ok";
    view.note.textContent = "Uploaded, 100 %: " + human(file.size) + " received.";
  }

  async function uploadAll(files) {
    if (files.length === 0) return;
    say("Uploading " + files.length + (files.length === 1 ? " file…" : " files…"));
    const jobs = files.map((file) => {
      const view = row(file);
      return upload(file, view).then(
        () => true,
        (error) => {
          view.note.className = "error";
          view.note.textContent = "Not uploaded: " + error.message;
          view.item.classList.add("failed");
          return false;
        },
      );
    });
    const results = await Promise.all(jobs);
    const failed = results.filter((ok) => !ok).length;
    say(failed === 0 ? "All files were uploaded." : failed + " of " + results.length + " files were not uploaded.");
  }

  input.addEventListener("change", () => {
    const files = Array.from(input.files);
    input.value = "";
    uploadAll(files);
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadAll(Array.from(event.dataTransfer.files));
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.hidden = false;
  document.getElementById("needs-script").hidden = true;
})();
