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

/** An error box: code badge, message, gating details (forced archetype, constraints), the rest. */
export function errorBox(error, { title, onUseArchetype } = {}) {
  const code = error.code || "ERROR";
  const box = el("div", { class: "error-box", dataset: { code } }, [
    el("p", { class: "error-title" }, [
      el("span", { class: "code", text: code }),
      " ",
      el("span", { text: title || error.message || "Something went wrong" }),
    ]),
  ]);
  if (title && error.message) box.append(el("p", { class: "error-message", text: error.message }));
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
    box.append(el("ul", { class: "field-list" }, details.errors.map((e) => el("li", { text: `${fieldName(e.field)}: ${e.message}` }))));
  }
  const rest = detailsList(details);
  if (rest) box.append(rest);
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

/** Put each VALIDATION_ERROR field message next to its field (`[data-field=name] .field-error`);
 * returns the messages that matched no field, so the caller can show them in a box. */
export function showFieldErrors(form, error) {
  for (const slot of form.querySelectorAll(".field-error")) clear(slot).hidden = true;
  const leftover = [];
  for (const item of (error.details && error.details.errors) || []) {
    const name = fieldName(item.field).split(".")[0];
    const slot = form.querySelector(`[data-field="${CSS.escape(name)}"] .field-error`);
    if (!slot) {
      leftover.push(item);
      continue;
    }
    const sub = fieldName(item.field).split(".")[1];
    const where = sub === undefined ? "" : /^\d+$/.test(sub) ? `item ${Number(sub) + 1}: ` : `${sub.replace(/_/g, " ")}: `;
    slot.append(el("span", { text: `${where}${item.message}` }), " ");
    slot.hidden = false;
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
    el("p", { class: "error-title" }, [el("span", { class: "code", text: error.code }), " ", el("span", { text: "Too many generation requests." })]),
    el("p", {}, [line]),
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
