/* Several drafts at once: ticked in the list (or "select all shown"), then approved or discarded
 * with the same confirmations as one draft (detail.js), each request from the version the page
 * shows (If-Match), and every draft's outcome said: nothing is left half done without a word. */

import { api } from "./api.js";
import { $, clear, el, shorten } from "./dom.js";
import { confirmApproval, discardLater, draftUrl, openDraft, patchOutcome } from "./detail.js";
import { needsReview, shownTitle } from "./draftview.js";
import { errorWords } from "./errors.js";
import { allowedTransitions } from "./rules.js";
import { emit, state } from "./state.js";

/** The chosen drafts, in the order the list shows them. */
export function chosenDrafts() {
  return [...state.chosen.values()];
}

/** After the list is drawn: keep only chosen drafts it still shows, each as it shows it now (the
 * version an action sends is the one on screen), and set the bar. */
export function syncChosen() {
  const shown = new Map(state.drafts.map((d) => [d.id, d]));
  const kept = new Map();
  for (const id of state.chosen.keys()) if (shown.has(id)) kept.set(id, shown.get(id));
  state.chosen = new Map(state.drafts.filter((d) => kept.has(d.id)).map((d) => [d.id, d]));
  renderBar();
}

export function setChosen(draft, on) {
  if (on) state.chosen.set(draft.id, draft);
  else state.chosen.delete(draft.id);
  syncChosen();
}

function renderBar() {
  const count = state.chosen.size;
  const shown = state.drafts.length;
  const all = $("select-all");
  all.checked = shown > 0 && count === shown;
  all.indeterminate = count > 0 && count < shown;
  all.disabled = shown === 0;
  $("bulk-count").textContent = count ? `${count} selected` : "";
  $("bulk-approve").disabled = !count;
  $("bulk-discard").disabled = !count;
  $("export-label").textContent = count ? `Export the ${count} selected draft${count === 1 ? "" : "s"}:` : "Export approved drafts:";
  for (const box of document.querySelectorAll("#drafts-list .draft-select")) box.checked = state.chosen.has(box.dataset.chosenId);
}

/** Drafts whose status cannot go to `status` are not sent; they are reported as skipped. */
function split(drafts, status) {
  const ready = [];
  const skipped = [];
  for (const draft of drafts) {
    if (allowedTransitions(draft.status).includes(status)) ready.push(draft);
    else skipped.push({ draft, skipped: draft.status === status ? `already ${status}` : `a ${draft.status} draft cannot be ${status}` });
  }
  return { ready, skipped };
}

/** One outcome in words, and whether the draft changed or went elsewhere. */
function describe(outcome, status) {
  if (outcome.saved) return { kind: "done", text: status };
  if (outcome.skipped) return { kind: "skipped", text: `skipped: ${outcome.skipped}` };
  const { error } = outcome;
  if (error.status === 412) {
    const current = (error.details || {}).current;
    return current
      ? { kind: "changed", text: `changed in another tab or window (it is ${current.status} now), so it was not ${status}`, current }
      : { kind: "gone", text: "deleted in another tab or window" };
  }
  if (error.status === 404) return { kind: "gone", text: "deleted in another tab or window" };
  if (error.status === 409 && outcome.review) return { kind: "refused", text: "needs review: not approved, as you did not confirm it" };
  return { kind: "failed", text: `not ${status}: ${error.message || errorWords(error)}` };
}

const PLURAL = {
  done: (n, status) => `${n} ${status}`,
  changed: (n) => `${n} changed elsewhere — reload ${n === 1 ? "it" : "them"}`,
  gone: (n) => `${n} deleted elsewhere`,
  refused: (n) => `${n} not confirmed`,
  failed: (n) => `${n} failed`,
  skipped: (n) => `${n} skipped`,
};

/** Every draft's outcome: one summary line ("3 approved, 1 changed elsewhere — reload it") and a
 * line per draft; a draft changed elsewhere can be opened as it is now. */
function report(status, outcomes) {
  const box = clear($("bulk-result"));
  const described = outcomes.map((o) => ({ ...o, said: describe(o, status) }));
  const counts = new Map();
  for (const o of described) counts.set(o.said.kind, (counts.get(o.said.kind) || 0) + 1);
  const order = ["done", "changed", "gone", "refused", "failed", "skipped"];
  const summary = order.filter((k) => counts.has(k)).map((k) => PLURAL[k](counts.get(k), status)).join(", ");
  const clean = counts.size === 1 && counts.has("done");
  box.append(
    el("div", { class: clean ? "notice bulk-outcome" : "warning bulk-outcome", dataset: { testid: "bulk-outcome" } }, [
      el("p", { class: "bulk-summary", dataset: { testid: "bulk-summary" }, text: `${summary}.` }),
      el("ul", { class: "bulk-lines" }, described.map((o) =>
        el("li", { dataset: { draftId: o.draft.id, outcome: o.said.kind } }, [
          el("span", { text: `“${shorten(shownTitle(o.draft), 70)}”: ${o.said.text}` }),
          o.said.current ? el("button", { type: "button", class: "btn btn-ghost btn-small", text: "Reload it", on: { click: () => openDraft(o.said.current) } }) : null,
        ]))),
      el("button", { type: "button", class: "btn btn-ghost btn-small", text: "Dismiss", on: { click: () => clear(box) } }),
    ]),
  );
  // Drafts that went through leave the selection; the others stay chosen, to try again.
  for (const o of described) if (o.said.kind === "done") state.chosen.delete(o.draft.id);
  // The open draft, if it was one of them, shows how it is now.
  const open = state.selected && described.find((o) => o.draft.id === state.selected.id && (o.saved || o.said.current));
  if (open && open.saved) openDraft(open.saved, { notice: `${status === "approved" ? "Approved" : "Discarded"} with the other drafts you selected.` });
  else if (open) openDraft(open.said.current, { notice: `Not ${status}: it was changed in another tab or window. This is how it is now.` });
  emit("drafts-changed");
}

async function approveChosen() {
  const { ready, skipped } = split(chosenDrafts(), "approved");
  if (!ready.length) return report("approved", skipped);
  const review = ready.filter(needsReview);
  if (review.length && !(await confirmApproval(review, { others: ready.length - review.length }))) return;
  const body = (draft) => (needsReview(draft) ? { status: "approved", confirm_needs_review: true } : { status: "approved" });
  const outcomes = await Promise.all(ready.map((draft) => patchOutcome(draft, body(draft))));
  // The server knew of hits this page did not (as for one draft): ask once for those, then send
  // them again from the version just read.
  const late = outcomes.filter((o) => o.error && o.error.status === 409 && !needsReview(o.draft));
  if (late.length) {
    const fresh = await Promise.all(late.map((o) => api("GET", draftUrl(o.draft.id)).catch(() => o.draft)));
    const confirmed = await confirmApproval(fresh);
    const again = confirmed ? await Promise.all(fresh.map((d) => patchOutcome(d, { status: "approved", confirm_needs_review: true }))) : fresh.map((d) => ({ draft: d, error: { status: 409 }, review: true }));
    for (const [i, o] of late.entries()) outcomes[outcomes.indexOf(o)] = again[i];
  }
  report("approved", [...outcomes, ...skipped]);
}

async function discardChosen() {
  const { ready, skipped } = split(chosenDrafts(), "discarded");
  if (!ready.length) return report("discarded", skipped);
  await discardLater(ready, { done: (outcomes) => report("discarded", [...outcomes, ...skipped]) });
}

export function initBulk() {
  $("select-all").addEventListener("change", (event) => {
    state.chosen = event.target.checked ? new Map(state.drafts.map((d) => [d.id, d])) : new Map();
    syncChosen();
  });
  $("bulk-approve").addEventListener("click", approveChosen);
  $("bulk-discard").addEventListener("click", discardChosen);
  renderBar();
}
