/* A draft's history (GET /v1/drafts/{id}/history) as a timeline, oldest first. */

import { api, enc } from "./api.js";
import { clear, el, fmtDate, shorten } from "./dom.js";
import { showError } from "./errors.js";
import { emit } from "./state.js";

const ACTIONS = { created: "Created", status_changed: "Status changed", edited: "Edited", regenerated: "Regenerated" };

function changesText(changes) {
  if (!changes || typeof changes !== "object") return "";
  return Object.entries(changes)
    .map(([field, value]) => {
      if (value && typeof value === "object" && ("from" in value || "to" in value)) {
        return `${field}: ${shorten(String(value.from ?? "—"), 60)} → ${shorten(String(value.to ?? "—"), 60)}`;
      }
      return `${field}: ${shorten(typeof value === "object" ? JSON.stringify(value) : String(value), 80)}`;
    })
    .join(" · ");
}

function entryItem(entry) {
  const fromTo = entry.from || entry.to ? `${entry.from ?? "—"} → ${entry.to ?? "—"}` : "";
  return el("li", { class: "timeline-item", dataset: { action: entry.action } }, [
    el("span", { class: "timeline-when muted", text: fmtDate(entry.at) }),
    el("span", { class: "timeline-what" }, [
      el("strong", { text: ACTIONS[entry.action] || entry.action }),
      fromTo ? el("span", { text: ` ${fromTo}` }) : null,
      el("span", { class: "muted", text: ` by ${entry.actor || "?"}` }),
    ]),
    entry.changes ? el("span", { class: "timeline-changes", text: changesText(entry.changes) }) : null,
    entry.child_draft_id
      ? el("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { child: entry.child_draft_id }, text: "Open the regenerated draft", on: { click: () => emit("open-draft-id", entry.child_draft_id) } })
      : null,
  ]);
}

export async function loadHistory(container, draft) {
  clear(container).append(el("h3", { class: "small-heading", text: "History" }));
  const list = el("ol", { class: "timeline", dataset: { testid: "history" } });
  container.append(list);
  try {
    const data = await api("GET", `/v1/drafts/${enc(draft.id)}/history`);
    if (!data.entries.length) list.append(el("li", { class: "muted", text: "Nothing recorded yet." }));
    for (const entry of data.entries) list.append(entryItem(entry));
  } catch (error) {
    const slot = el("div");
    container.append(slot);
    showError(slot, error, { title: "The history could not be loaded" });
  }
}
