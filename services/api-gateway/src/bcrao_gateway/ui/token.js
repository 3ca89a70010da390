/* The access token: pasted once, kept in localStorage, one clear message when it stops working. */

import { $, clear, el, fmtDate } from "./dom.js";
import { TOKEN_KEY, emit, on, state } from "./state.js";

function normalizeToken(raw) {
  return raw.trim().replace(/^export\s+TOKEN=/i, "").replace(/^["']|["']$/g, "").replace(/^Bearer\s+/i, "").trim();
}

function claims(token) {
  try {
    const part = token.split(".")[1];
    return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
  } catch (exc) {
    return null;
  }
}

export function describeToken() {
  const info = claims(state.token);
  const note = $("token-state");
  note.classList.remove("bad");
  if (!state.token) note.textContent = "Not signed in yet.";
  else if (!info) note.textContent = "Key saved (it does not look like a sign-in key; the server will say).";
  else note.textContent = `Signed in as ${info.sub || "?"}${info.exp ? ` · expires ${fmtDate(info.exp * 1000)}` : ""}`;
}

export function setTokenFormOpen(open) {
  $("token-form").hidden = !open;
  const change = $("token-change");
  change.hidden = open;
  change.setAttribute("aria-expanded", String(open));
}

let authMessageShown = false;

/** Every 401 lands here; the message appears once, whatever number of requests failed. */
function onAuthFailed(error) {
  if (authMessageShown) return;
  authMessageShown = true;
  const info = claims(state.token);
  const expired = info && info.exp && info.exp * 1000 <= Date.now();
  const box = clear($("global-error"));
  box.append(
    el("div", { class: "error-box", dataset: { code: error.code, testid: "auth-message" } }, [
      el("p", { class: "error-title" }, [el("span", { text: expired ? "Your sign-in key has expired." : "Your sign-in key was not accepted." })]),
      el("p", { text: "Paste a new key below (your administrator gives you one; on a development copy, run make token USER=<your name> in the project folder). Nothing you saved is lost." }),
      el("p", { class: "support-code" }, ["For support: ", el("code", { class: "code", text: error.code })]),
    ]),
  );
  box.hidden = false;
  const note = $("token-state");
  note.textContent = expired ? "Key expired" : "Key not accepted";
  note.classList.add("bad");
  setTokenFormOpen(true);
}

export function useToken(raw) {
  state.token = normalizeToken(raw);
  if (state.token) localStorage.setItem(TOKEN_KEY, state.token);
  else localStorage.removeItem(TOKEN_KEY);
  $("token-input").value = state.token;
  authMessageShown = false;
  clear($("global-error")).hidden = true;
  describeToken();
  emit("token-changed");
}

export function initToken() {
  on("auth-failed", onAuthFailed);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken($("token-input").value);
  });
  $("token-toggle").addEventListener("click", (event) => {
    const input = $("token-input");
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    event.currentTarget.setAttribute("aria-pressed", String(show));
    event.currentTarget.textContent = show ? "Hide" : "Show";
  });
  $("token-clear").addEventListener("click", () => useToken(""));
  $("token-change").addEventListener("click", () => {
    setTokenFormOpen(true);
    $("token-input").focus();
  });
  state.token = localStorage.getItem(TOKEN_KEY) || "";
  $("token-input").value = state.token;
  describeToken();
}
