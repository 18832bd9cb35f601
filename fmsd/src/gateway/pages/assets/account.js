// The account pages (/account/verify, /account/reset): reads the mailed code from the URL's
// fragment, which the browser never sends, posts it with what the form asks to the JSON API,
// says what came of it, and takes the code out of the address bar once it is used.
"use strict";

(function () {
  const form = document.getElementById("account-form");
  const status = document.getElementById("status");
  if (!form || !status) return;
  const button = form.querySelector("button");
  const kind = form.dataset.kind;

  function show(text, failed) {
    status.textContent = text;
    status.className = failed ? "error" : "ok";
  }

  let code = "";
  try {
    code = decodeURIComponent(window.location.hash.slice(1)).trim();
  } catch (_) {
    code = "";
  }
  if (!code) {
    show("This page needs the code from your mail: open the link in the mail as it is.", true);
    return;
  }
  button.disabled = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = "/v1/auth/verify";
    let body = { token: code };
    if (kind === "reset") {
      const password = form.elements.password.value;
      if (password !== form.elements.again.value) {
        show("The two passwords differ: type the same one twice.", true);
        return;
      }
      url = "/v1/auth/password-reset/confirm";
      body = { token: code, new_password: password };
    }
    button.disabled = true;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    } catch (_) {
      show("The server could not be reached. Try again in a moment.", true);
      button.disabled = false;
      return;
    }
    if (!response.ok) {
      let message = `The server answered ${response.status}.`;
      try {
        const error = await response.json();
        if (error && error.error && error.error.message) message = error.error.message;
      } catch (_) {
        // Not JSON: keep the status.
      }
      const sentence = message.charAt(0).toUpperCase() + message.slice(1);
      show(/[.!?]$/.test(sentence) ? sentence : `${sentence}.`, true);
      button.disabled = response.status === 401;
      return;
    }
    history.replaceState(null, "", window.location.pathname);
    form.hidden = true;
    if (kind === "reset") {
      show("Your password is set, and every session ended: log in again with the new one (fmsctl login).", false);
    } else {
      const profile = await response.json();
      show(`${profile.email} is verified: you can share, make links and be shared with.`, false);
    }
  });
})();
