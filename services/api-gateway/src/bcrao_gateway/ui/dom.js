/* DOM helpers. Server and user text only ever goes through textContent (never parsed as HTML). */

export const $ = (id) => document.getElementById(id);

/** Build an element; `text` goes through textContent, children are nodes or plain strings. */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "on") for (const [evt, fn] of Object.entries(value)) node.addEventListener(evt, fn);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function fmtNumber(value, digits = 1) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function fmtDate(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function fmtDay(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value || "");
  return date.toLocaleDateString(undefined, { dateStyle: "long" });
}

export function fmtMoney(value) {
  return typeof value === "number" ? `$${value.toFixed(value < 1 && value > 0 ? 4 : 2)}` : "–";
}

export function shorten(text, max) {
  const value = String(text || "");
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, "")}…`;
}

/** Paragraphs split on blank lines; `render(part)` may return nodes (e.g. with marks). */
export function paragraphs(text, render = (part) => part) {
  const parts = String(text || "").split(/\n\s*\n/).filter((p) => p.trim() !== "");
  return parts.map((part) => el("p", {}, render(part.trim())));
}

export function badge(text, kind) {
  return el("span", { class: `badge badge-${kind}`, text });
}

/** A live "n / max" counter for a text field. */
export function bindCounter(input, counter, max, { min = 0 } = {}) {
  const update = () => {
    const length = input.value.length;
    counter.textContent =
      length > max
        ? `${length} / ${max}: ${length - max} characters over the limit, shorten it to save`
        : min && length < min ? `${length} / ${max} (at least ${min})` : `${length} / ${max}`;
    counter.classList.toggle("near", length > max * 0.9 || (min > 0 && length > 0 && length < min));
    counter.classList.toggle("over", length > max);
  };
  input.addEventListener("input", update);
  update();
  return update;
}

/** Copy text to the clipboard; falls back to a selected textarea where the API is missing. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = el("textarea", { class: "visually-hidden", readonly: true, value: text });
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** A button that copies `getText()` and says so for a moment. */
export function copyButton(label, getText, testid) {
  const button = el("button", { type: "button", class: "btn btn-ghost btn-small", text: label, dataset: { copy: testid } });
  button.addEventListener("click", async () => {
    try {
      await copyText(getText());
      button.textContent = "Copied";
    } catch (exc) {
      button.textContent = "Copy failed";
    }
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}

/** Smooth scrolling on wide screens; on a phone (where the section bar also scrolls) a jump, so a
 * tap on the bar never races an animation still under way. */
export function gentleScroll() {
  return window.matchMedia("(max-width: 760px)").matches ? "instant" : "smooth";
}
