/* Error boxes, field-level validation messages and the rate-limit countdown. */

import { clear, el, fmtDate } from "./dom.js";
import { archetypeLabel } from "./rules.js";
import { emit } from "./state.js";

const HIDDEN_DETAILS = new Set(["forced_archetype", "constraints", "errors", "retry_after_seconds"]);

function describe(value) {
  if (Array.isArray(value)) return value.map(describe).join(", ");
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")}: ${describe(v)}`).join(" · ");
  }
  return String(value);
}

function detailsList(details) {
  const entries = Object.entries(details || {}).filter(([key]) => !HIDDEN_DETAILS.has(key));
  if (!entries.length) return null;
  const list = el("dl", { class: "details" });
  for (const [key, value] of entries) {
    list.append(el("dt", { text: key.replace(/_/g, " ") }));
    list.append(el("dd", { text: key.endsWith("_at") ? fmtDate(value) : describe(value) }));
  }
  return list;
}

/** What each error code means, in a marketer's words; the code itself is kept on a last line for
 * support. */
export const ERROR_WORDS = {
  AUTH_REQUIRED: "You are not signed in. Paste your sign-in key at the top of the page.",
  AUTH_INVALID: "Your sign-in key is not valid any more (it may have expired). Paste a new one at the top of the page.",
  RESOURCE_NOT_FOUND: "This was not found. It may have been deleted, or it belongs to another account.",
  VALIDATION_ERROR: "Some of what was entered needs fixing.",
  PLAN_LIMIT_REACHED: "Your plan's limit for this month is reached.",
  CONFLICT: "That change is not possible for this item right now.",
  PRECONDITION_FAILED: "This was changed in another tab or window since you opened it.",
  PAYLOAD_TOO_LARGE: "That is too much to send at once. Shorten the text and try again.",
  RATE_LIMITED: "Too many requests in a short time. Wait a moment, then try again.",
  UNAVAILABLE: "The service is busy or restarting. Try again in a few seconds.",
  INTERNAL_ERROR: "Something went wrong on our side. Try again; if it keeps happening, tell support the code below.",
  ISC_ARCHETYPE_BLOCKED: "This community is too sensitive for that kind of post.",
  WARMUP_ARCHETYPE_BLOCKED: "A new or warming-up account may only ask the community for feedback.",
  LLM_UNAVAILABLE: "The writing service is unavailable right now. Try again shortly.",
  GENERATION_FAILED: "The draft could not be written. Try again.",
  NETWORK_ERROR: "The server cannot be reached. Check your connection; the page keeps trying.",
  INVALID_JSON: "That text is not in the expected format.",
  STREAM_ENDED: "This generation has already finished.",
};

/** The human sentence for an error code (the server's own message when the code is unknown). */
export const errorWords = (error) => ERROR_WORDS[error.code] || error.message || "Something went wrong.";

/** An error box: a human title and message, gating details (forced archetype, constraints), the
 * fields to fix, the rest; the code last, for support. */
export function errorBox(error, { title, onUseArchetype } = {}) {
  const code = error.code || "ERROR";
  const words = ERROR_WORDS[code];
  const box = el("div", { class: "error-box", dataset: { code } }, [
    el("p", { class: "error-title" }, [el("span", { text: title || words || error.message || "Something went wrong" })]),
  ]);
  const message = title ? (words && !error.message ? words : error.message) : words ? error.message : "";
  if (message && message !== title) box.append(el("p", { class: "error-message", text: message }));
  const details = error.details || {};
  if (details.forced_archetype) {
    const label = archetypeLabel(details.forced_archetype);
    box.append(
      el("p", {}, [
        "Allowed instead: ",
        el("strong", { class: "forced-archetype", text: label }),
        " ",
        onUseArchetype
          ? el("button", { type: "button", class: "btn btn-small", text: `Use ${label}`, on: { click: () => onUseArchetype(details.forced_archetype) } })
          : null,
      ]),
    );
  }
  if (Array.isArray(details.constraints) && details.constraints.length) {
    box.append(el("p", { class: "small-heading", text: "Constraints that apply here" }));
    box.append(el("ul", { class: "constraints" }, details.constraints.map((c) => el("li", { text: c }))));
  }
  if (Array.isArray(details.errors) && details.errors.length) {
    box.append(el("ul", { class: "field-list" }, details.errors.map((e) => el("li", { text: `${pathWords(fieldName(e.field).split("."))}: ${e.message}` }))));
  }
  const rest = detailsList(details);
  if (rest) box.append(rest);
  box.append(el("p", { class: "support-code" }, ["For support: ", el("code", { class: "code", text: code })]));
  return box;
}

/** Show an error in its section; an expired or invalid token is said once, at the top, instead. */
export function showError(container, error, options) {
  clear(container);
  if (error && error.status === 401) return;
  container.append(errorBox(error, options));
}

function fieldName(loc) {
  const parts = String(loc || "").split(".");
  return parts[0] === "body" ? parts.slice(1).join(".") || "body" : parts.join(".");
}

/** A field path in words: `style_guide.loved_tools.0` → "style guide › loved tools › item 1". */
function pathWords(parts) {
  return parts.map((p) => (/^\d+$/.test(p) ? `item ${Number(p) + 1}` : p.replace(/_/g, " "))).join(" › ");
}

/** The error slot of the most specific `[data-field]` box the path names (`style_guide.tone`
 * before `style_guide`), and the rest of the path, which the message then names. */
function fieldSlot(form, parts) {
  for (let n = parts.length; n > 0; n -= 1) {
    if (/^\d+$/.test(parts[n - 1])) continue;
    const box = form.querySelector(`[data-field="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    const slot = box && box.querySelector(".field-error");
    if (slot) return { slot, rest: parts.slice(n) };
  }
  return null;
}

/** Put each VALIDATION_ERROR field message next to its field (`[data-field=name] .field-error`);
 * returns the messages that matched no field, so the caller can show them in a box. */
export function showFieldErrors(form, error) {
  for (const slot of form.querySelectorAll(".field-error")) clear(slot).hidden = true;
  const leftover = [];
  for (const item of (error.details && error.details.errors) || []) {
    const found = fieldSlot(form, fieldName(item.field).split("."));
    if (!found) {
      leftover.push(item);
      continue;
    }
    const where = found.rest.length ? `${pathWords(found.rest)}: ` : "";
    found.slot.append(el("span", { text: `${where}${item.message}` }), " ");
    found.slot.hidden = false;
  }
  return leftover;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) clear(slot).hidden = true;
}

/** "Too many requests: try again in 12 s", counting down; calls `done` at zero. */
export function rateLimitCountdown(container, error, done) {
  const until = Date.now() + 1000 * (error.retryAfter ?? 5);
  emit("rate-limited", until);
  const line = el("span", { class: "countdown" });
  const box = el("div", { class: "error-box", dataset: { code: error.code } }, [
    el("p", { class: "error-title" }, [el("span", { text: "Too many drafts asked for in a minute." })]),
    el("p", {}, [line]),
    el("p", { class: "support-code" }, ["For support: ", el("code", { class: "code", text: error.code })]),
  ]);
  clear(container).append(box);
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      line.textContent = "You can try again now.";
      if (done) done();
      return;
    }
    line.textContent = `You can try again in ${left} s.`;
    setTimeout(tick, 250);
  };
  tick();
}

/** A field's message goes away as soon as the user changes that field. */
export function clearErrorsOnInput(form) {
  form.addEventListener("input", (event) => {
    const field = event.target.closest("[data-field]");
    const slot = field && field.querySelector(".field-error");
    if (slot) clear(slot).hidden = true;
  });
}
