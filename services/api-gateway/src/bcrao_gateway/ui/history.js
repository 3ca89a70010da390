/* A draft's history (GET /v1/drafts/{id}/history) as a timeline, oldest first: who did what, the
 * fields an edit changed, a confirmed approval, and links to the parent and the regenerations. */

import { api, enc } from "./api.js";
import { clear, el, fmtDate, shorten } from "./dom.js";
import { showError } from "./errors.js";
import { emit } from "./state.js";

const ACTIONS = { generated: "Generated", created: "Generated", status_changed: "Status changed", edited: "Edited", regenerated: "Regenerated" };
const FIELD_NAMES = { title: "title", user_edits: "text" };

/** Changes come as a list of {field, before_length, after_length, diff} (or, from older
 * servers, an object of field → value). */
function changesText(changes) {
  if (Array.isArray(changes)) {
    return changes
      .map((c) => `${FIELD_NAMES[c.field] || c.field}: ${c.before_length} → ${c.after_length} characters${c.diff ? ` (${shorten(c.diff, 120)})` : ""}`)
      .join(" · ");
  }
  if (!changes || typeof changes !== "object") return "";
  return Object.entries(changes).map(([field, value]) => `${field}: ${shorten(typeof value === "object" ? JSON.stringify(value) : String(value), 80)}`).join(" · ");
}

function link(entry) {
  const related = entry.related_draft_id || entry.child_draft_id;
  if (!related) return null;
  const child = entry.action === "regenerated";
  return el("button", {
    type: "button",
    class: "btn btn-ghost btn-small",
    dataset: child ? { child: related } : { parent: related },
    text: child ? "Open the regenerated draft" : "Open the draft it was regenerated from",
    on: { click: () => emit("open-draft-id", related) },
  });
}

function entryItem(entry) {
  const from = entry.from_status ?? entry.from;
  const to = entry.to_status ?? entry.to;
  const moved = entry.action === "status_changed" || (from && to && from !== to);
  const fromTo = moved && (from || to) ? ` ${from ?? "—"} → ${to ?? "—"}` : "";
  const flair = entry.flair_change;
  const changes = [
    changesText(entry.changes),
    flair ? `flair: ${flair.before || "none"} → ${flair.after || "none"}` : "",
  ].filter(Boolean).join(" · ");
  return el("li", { class: "timeline-item", dataset: { action: entry.action } }, [
    el("span", { class: "timeline-when muted", text: fmtDate(entry.at) }),
    el("span", { class: "timeline-what" }, [
      el("strong", { text: ACTIONS[entry.action] || entry.action }),
      fromTo ? el("span", { text: fromTo }) : null,
      el("span", { class: "muted", text: ` by ${entry.actor || "?"}` }),
    ]),
    entry.confirmed_needs_review ? el("span", { class: "timeline-confirmed", text: "Approved with its high-severity hits confirmed." }) : null,
    changes ? el("span", { class: "timeline-changes", text: changes }) : null,
    (entry.failed_rules || []).length ? el("span", { class: "timeline-rules", text: `Rules broken: ${entry.failed_rules.join(", ")}` }) : null,
    entry.feedback ? el("span", { class: "timeline-feedback" }, ["Feedback: ", el("q", { text: entry.feedback })]) : null,
    link(entry),
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
