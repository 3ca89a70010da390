/* The draft panel: lineage (parent, child, the feedback used), the editable title and text with
 * counts and copy buttons, status changes (confirmed approval, discard with undo, delete), the
 * history timeline and regeneration. */

import { api, enc } from "./api.js";
import { resolveConflict } from "./conflict.js";
import { confirmDialog } from "./dialog.js";
import { $, gentleScroll, bindCounter, clear, copyButton, el, shorten } from "./dom.js";
import { rateLimitCountdown, showError } from "./errors.js";
import { currentReport, draftView, failedRules, highHits, needsReview, ruleItem, shownTitle } from "./draftview.js";
import { loadHistory } from "./history.js";
import { allowedTransitions, limits } from "./rules.js";
import { writeRoute } from "./route.js";
import { emit, on, state } from "./state.js";
import { startStream } from "./stream.js";

const UNDO_SECONDS = 10;
let pendingDiscard = null; // {drafts, deadline, timer, done}
const writing = state.writing;

export const draftUrl = (id) => `/v1/drafts/${enc(id)}`;

/** One PATCH of a draft from the version this page shows (If-Match), as an outcome:
 * `{draft, saved}` or `{draft, error}` (a 412's error carries the current draft). */
export async function patchOutcome(draft, body, { keepalive = false } = {}) {
  writing.add(draft.id);
  try {
    return { draft, saved: await api("PATCH", draftUrl(draft.id), body, { ifMatch: draft.version, keepalive }) };
  } catch (error) {
    return { draft, error };
  } finally {
    writing.delete(draft.id);
  }
}

function lineage(draft) {
  const box = clear($("detail-lineage"));
  const feedback = draft.feedback || (draft.generation_params || {}).feedback;
  if (draft.parent_draft_id) {
    box.append(el("p", { class: "lineage" }, [
      "Regenerated from an earlier draft. ",
      el("button", { type: "button", id: "parent-link", class: "btn btn-ghost btn-small", text: "Open the original", on: { click: () => openDraftId(draft.parent_draft_id) } }),
    ]));
  }
  if (feedback) box.append(el("p", { class: "lineage feedback-used" }, [el("strong", { text: "Made with your feedback: " }), el("q", { text: feedback })]));
}

function editor(draft, final) {
  const l = limits();
  // No maxlength: a longer paste is kept whole; the counters say by how much it is over.
  const title = el("input", { id: "title-input", type: "text", value: shownTitle(draft), readonly: final || null });
  const body = el("textarea", { id: "edit-input", rows: "12", readonly: final || null });
  body.value = draft.user_edits ?? draft.body;
  const titleCount = el("p", { id: "title-counter", class: "counter" });
  const bodyCount = el("p", { id: "body-counter", class: "counter" });
  // The flair: offered from the community's list when its profile requires one.
  const flairRule = ((currentReport(draft).validation || {}).rule_verdicts || []).find((v) => v.rule === "community.flair");
  const flairOptions = (flairRule && flairRule.allowed) || [];
  const flair = el("input", { id: "flair-input", type: "text", maxlength: "64", list: "flair-options", value: draft.flair || "", readonly: final || null, placeholder: flairOptions.length ? `one of: ${flairOptions.join(", ")}` : "none" });
  const save = el("button", { type: "button", id: "edit-save", class: "btn btn-primary", text: "Save title and text", disabled: final || null });
  save.addEventListener("click", () => {
    const patch = {};
    if (title.value.trim() !== shownTitle(draft)) patch.title = title.value.trim();
    if (body.value !== (draft.user_edits ?? draft.body)) patch.user_edits = body.value;
    if (flair.value.trim() !== (draft.flair || "")) patch.flair = flair.value.trim();
    if (!Object.keys(patch).length) return;
    const wasApproved = draft.status === "approved";
    patchDraft(patch, (saved) => {
      const checked = saved.edit_report ? "Saved and checked again: see “Your edit” below, next to the generated report." : "Saved.";
      return wasApproved && saved.status !== "approved" ? `${checked} This draft was approved; changing it withdrew the approval. Approve it again when it reads right.` : checked;
    });
  });
  const reset = el("button", { type: "button", id: "edit-reset", class: "btn btn-ghost", text: "Back to the generated text", disabled: final || null, on: { click: () => {
    body.value = draft.body;
    body.dispatchEvent(new Event("input"));
  } } });
  const container = el("div", { class: "detail-section editor" }, [
    el("div", { class: "label-row" }, [el("label", { for: "title-input", text: "Title" }), copyButton("Copy title", () => title.value, "title")]),
    title, titleCount,
    el("div", { class: "label-row" }, [el("label", { for: "edit-input", text: "Text" }), copyButton("Copy text", () => body.value, "body")]),
    body, bodyCount,
    el("label", { for: "flair-input", text: "Post flair" }),
    flair,
    el("datalist", { id: "flair-options" }, flairOptions.map((o) => el("option", { value: o }))),
    el("div", { class: "actions" }, [save, reset]),
  ]);
  bindCounter(title, titleCount, l.title_max);
  bindCounter(body, bodyCount, l.body_max);
  const overLimit = () => {
    if (final) return;
    save.disabled = title.value.trim().length > l.title_max || body.value.length > l.body_max;
  };
  title.addEventListener("input", overLimit);
  body.addEventListener("input", overLimit);
  return container;
}

export function openDraft(draft, { notice } = {}) {
  state.selected = draft;
  const card = $("detail-card");
  card.hidden = false;
  clear($("detail-error"));
  const noticeBox = $("detail-notice");
  noticeBox.hidden = !notice;
  noticeBox.textContent = notice || "";
  lineage(draft);
  clear($("detail-view")).append(draftView(draft, { withTitle: false }));
  const allowed = allowedTransitions(draft.status);
  const final = allowed.length === 0;
  clear($("detail-editor")).append(editor(draft, final));
  for (const button of document.querySelectorAll("#status-actions [data-status]")) button.disabled = !allowed.includes(button.dataset.status);
  $("status-hint").textContent = final
    ? `This draft is ${draft.status}: it can no longer be edited or change status.`
    : draft.status === "approved"
      ? "Approved. Saving a change to the title, text or flair withdraws the approval; mark it posted once you have posted it yourself."
      : "Approve when it reads right; mark it posted once you have posted it yourself.";
  $("feedback-input").value = "";
  $("feedback-input").dispatchEvent(new Event("input"));
  loadHistory($("history"), draft);
  collapseResult(draft);
  writeRoute();
  emit("stream-changed"); // re-evaluates the regenerate button
  emit("drafts-render");
  const rect = card.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight - 80) card.scrollIntoView({ behavior: gentleScroll(), block: "start" });
  $("detail-heading").focus({ preventScroll: true });
}

export async function openDraftId(id, { fromLink = false } = {}) {
  try {
    openDraft(await api("GET", draftUrl(id)));
  } catch (error) {
    if (fromLink && error.status === 404) {
      closeDetail();
      writeRoute({ replace: true });
      showError($("drafts-error"), { code: "RESOURCE_NOT_FOUND", message: "It may have been deleted, or it belongs to another account: check that you are signed in as the person who shared the link." }, { title: "The draft in this link was not found" });
      return;
    }
    const slot = $("detail-card").hidden ? $("drafts-error") : $("detail-error");
    showError(slot, error, { title: "That draft could not be opened" });
  }
}

/** The generation card need not show the draft the panel shows. */
function collapseResult(draft) {
  const result = $("result");
  if (!result.querySelector(`[data-draft-id="${CSS.escape(draft.id)}"]`)) return;
  clear(result).append(el("p", { class: "notice", role: "status", text: `“${shownTitle(draft)}” is open in the draft panel.` }));
}

async function patchDraft(body, doneText) {
  const draft = state.selected;
  if (!draft) return;
  const errorSlot = clear($("detail-error"));
  writing.add(draft.id);
  try {
    const saved = await api("PATCH", draftUrl(draft.id), body, { ifMatch: draft.version });
    openDraft(saved, { notice: typeof doneText === "function" ? doneText(saved) : doneText });
    emit("drafts-changed");
  } catch (error) {
    if (error.status === 412) {
      const { choice, current } = await resolveConflict("draft", "draft", draft, error);
      emit("drafts-changed");
      if (choice === "gone") return closeDetail();
      if (state.selected && state.selected.id === draft.id) state.selected = current;
      if (choice === "keep") return patchDraft(body, doneText);
      openDraft(current, { notice: "Reloaded: this is the version saved in the other tab. Your change was not saved." });
      return;
    }
    if (error.status === 409 && body.status === "approved" && !body.confirm_needs_review) {
      // The server knows of high-severity hits this page did not: ask, then send the confirmation.
      const fresh = await api("GET", draftUrl(draft.id)).catch(() => draft);
      if (await confirmApproval(fresh)) return patchDraft({ ...body, confirm_needs_review: true }, doneText);
      openDraft(fresh);
      return;
    }
    showError(errorSlot, error, { title: error.status === 409 ? "That change is not allowed for this draft" : "The draft was not updated" });
    if (error.status === 409 || error.status === 404) refreshSelected();
  } finally {
    writing.delete(draft.id);
  }
}

async function refreshSelected() {
  const draft = state.selected;
  if (!draft) return;
  try {
    const errors = [...$("detail-error").childNodes];
    openDraft(await api("GET", draftUrl(draft.id)));
    $("detail-error").append(...errors); // keep the error that prompted the refresh visible
  } catch (error) {
    if (error.status === 404) closeDetail();
  }
  emit("drafts-changed");
}

/** Why a draft needs review: the rules its text breaks and its high-severity blacklist hits. */
function reviewReasons(draft) {
  const report = currentReport(draft);
  const hits = highHits(report);
  const rules = failedRules(report);
  return [
    rules.length ? el("p", { text: `The text as it stands breaks ${rules.length === 1 ? "a rule" : `${rules.length} rules`} of this account or community:` }) : null,
    rules.length ? el("ul", { class: "rules confirm-rules" }, rules.map(ruleItem)) : null,
    hits.length ? el("p", { text: "It has high-severity blacklist hits; posts like this are often removed:" }) : null,
    hits.length ? el("ul", { class: "confirm-hits" }, hits.map((h) => el("li", {}, [el("q", { text: h.matched_text }), ` — ${h.description || h.entry}`]))) : null,
  ].filter(Boolean);
}

/** The one confirmation approving needs: asked when a draft needs review, with the reasons of
 * each such draft; `others` more drafts (that need none) are approved with them. */
export function confirmApproval(drafts, { others = 0 } = {}) {
  const list = [].concat(drafts);
  if (list.length === 1 && !others) {
    return confirmDialog({
      title: "Approve a draft that needs review?",
      body: [...reviewReasons(list[0]), "Approve it anyway? Your confirmation is recorded with the approval."],
      ok: "Approve anyway",
      danger: true,
    });
  }
  const count = list.length + others;
  return confirmDialog({
    title: `Approve ${count} drafts? ${list.length === 1 ? "One needs" : `${list.length} need`} review`,
    body: [
      others ? `${others} of them ${others === 1 ? "needs" : "need"} no review. ${list.length === 1 ? "This one does" : "These do"}:` : null,
      el("div", { class: "confirm-drafts", dataset: { testid: "confirm-drafts" } }, list.map((draft) =>
        el("section", { class: "confirm-draft", dataset: { draftId: draft.id } }, [el("h3", { class: "confirm-draft-title", text: `“${shorten(shownTitle(draft), 80)}”` }), ...reviewReasons(draft)]))),
      `Approve ${count === 2 ? "both" : `all ${count}`} anyway? Your confirmation is recorded with each approval.`,
    ].filter(Boolean),
    ok: "Approve anyway",
    danger: true,
  });
}

async function approve() {
  const draft = state.selected;
  if (!draft) return;
  if (needsReview(draft)) {
    if (!(await confirmApproval(draft))) return;
    return patchDraft({ status: "approved", confirm_needs_review: true }, "Approved, with your confirmation recorded.");
  }
  return patchDraft({ status: "approved" }, "Approved.");
}

function sendDiscard({ keepalive = false } = {}) {
  const pending = pendingDiscard;
  if (!pending) return;
  pendingDiscard = null;
  clearTimeout(pending.timer);
  clear($("undo-slot"));
  const sent = pending.drafts.map((draft) => patchOutcome(draft, { status: "discarded" }, { keepalive }));
  if (keepalive) return; // the page is going: nobody is left to tell
  Promise.all(sent)
    .then(pending.done)
    .finally(() => emit("drafts-changed"));
}

/** Discarding is final on the server, so it is confirmed, then waits UNDO_SECONDS with an Undo
 * button before it is sent (each draft from the version this page shows); `done` gets the
 * outcomes. One pending discard at a time: starting another sends the earlier one now. */
export async function discardLater(drafts, { done }) {
  const one = drafts.length === 1;
  const label = one ? `“${shorten(shownTitle(drafts[0]), 60)}”` : `${drafts.length} drafts`;
  const ok = await confirmDialog({
    title: one ? `Discard “${shorten(shownTitle(drafts[0]), 80)}”?` : `Discard ${drafts.length} drafts?`,
    body: [
      one ? null : el("ul", { class: "confirm-titles" }, drafts.map((d) => el("li", { text: `“${shorten(shownTitle(d), 80)}”` }))),
      `You can undo it for ${UNDO_SECONDS} seconds; after that ${one ? "the draft stays" : "they stay"} discarded.`,
    ].filter(Boolean),
    ok: one ? "Discard" : `Discard ${drafts.length} drafts`,
    danger: true,
  });
  if (!ok) return false;
  sendDiscard();
  const deadline = Date.now() + UNDO_SECONDS * 1000;
  const line = el("span");
  const undo = el("button", { type: "button", id: "undo-discard", class: "btn btn-small", text: "Undo" });
  clear($("undo-slot")).append(el("div", { class: "notice undo", role: "status" }, [line, " ", undo]));
  const pending = { drafts, deadline, timer: null, done };
  pendingDiscard = pending;
  undo.addEventListener("click", () => {
    if (pendingDiscard !== pending) return;
    clearTimeout(pending.timer);
    pendingDiscard = null;
    clear($("undo-slot")).append(el("p", { class: "notice", role: "status", text: `${label} ${one ? "was" : "were"} not discarded.` }));
  });
  const tick = () => {
    if (pendingDiscard !== pending) return;
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) return sendDiscard();
    line.textContent = `${label} will be discarded in ${left} s.`;
    pending.timer = setTimeout(tick, 250);
  };
  tick();
  return true;
}

/** The open draft's discard: its outcome shows in the draft panel. */
async function discard() {
  const draft = state.selected;
  if (!draft) return;
  await discardLater([draft], {
    done: ([outcome]) => {
      const open = state.selected && state.selected.id === draft.id;
      if (outcome.saved) {
        if (open) openDraft(outcome.saved, { notice: "Discarded." });
        return;
      }
      const { error } = outcome;
      if (error.status === 412) {
        const current = (error.details || {}).current;
        const what = current ? `It was changed in another tab or window meanwhile (it is now ${current.status}), so it was not discarded.` : "It was deleted in another tab or window.";
        if (current && open) openDraft(current, { notice: what });
        else if (!current && open) closeDetail();
        showError($("drafts-error"), { code: "PRECONDITION_FAILED", message: what }, { title: "The draft was not discarded" });
        return;
      }
      showError($("drafts-error"), error, { title: "The draft was not discarded" });
    },
  });
}

async function deleteDraft() {
  const draft = state.selected;
  if (!draft) return;
  const ok = await confirmDialog({ title: `Delete “${shorten(shownTitle(draft), 80)}”?`, body: ["This cannot be undone, and it does not give the draft back to your monthly quota."], ok: "Delete", danger: true });
  if (!ok) return;
  writing.add(draft.id);
  try {
    await api("DELETE", draftUrl(draft.id), undefined, { ifMatch: draft.version });
    writing.delete(draft.id);
    closeDetail();
    $("drafts-summary").textContent = "Draft deleted.";
    emit("drafts-changed");
  } catch (error) {
    writing.delete(draft.id);
    if (error.status === 412) {
      const { choice, current } = await resolveConflict("draft", "draft", draft, error);
      emit("drafts-changed");
      if (choice === "gone") return closeDetail();
      openDraft(current, { notice: choice === "keep" ? "Reloaded the saved version: delete it again if you still want it gone." : "Reloaded: this is the version saved in the other tab." });
      return;
    }
    showError($("detail-error"), error, { title: "The draft was not deleted" });
  }
}

export function closeDetail() {
  state.selected = null;
  $("detail-card").hidden = true;
  emit("drafts-render");
}

async function regenerate(event) {
  event.preventDefault();
  const draft = state.selected;
  if (!draft) return;
  const errorSlot = clear($("detail-error"));
  clear($("detail-notice")).hidden = true;
  const feedback = $("feedback-input").value.trim();
  $("regenerate-btn").disabled = true;
  try {
    const accepted = await api("POST", `${draftUrl(draft.id)}/regenerate`, feedback ? { feedback } : {}, { idempotent: true });
    startStream(accepted, `regenerating “${shorten(shownTitle(draft), 60)}”`);
  } catch (error) {
    if (error.code === "RATE_LIMITED") rateLimitCountdown(errorSlot, error, () => emit("stream-changed"));
    else showError(errorSlot, error, { title: "The draft was not regenerated" });
    emit("stream-changed");
  } finally {
    emit("usage-may-change");
  }
}

/** The open draft changed elsewhere (change feed): show the new version, unless this page holds
 * unsaved edits, which stay and are saved (or not) through the conflict dialog. */
async function changedElsewhere(change) {
  const draft = state.selected;
  if (!draft || draft.id !== change.id || writing.has(change.id)) return;
  if (change.action === "deleted") {
    closeDetail();
    $("drafts-summary").textContent = "The open draft was deleted in another tab or window.";
    return;
  }
  const title = $("title-input");
  const body = $("edit-input");
  const dirty = (title && title.value.trim() !== shownTitle(draft)) || (body && body.value !== (draft.user_edits ?? draft.body));
  if (dirty) {
    const notice = $("detail-notice");
    notice.hidden = false;
    notice.textContent = "This draft was changed in another tab or window. Your unsaved edits are kept; saving them shows what changed.";
    return;
  }
  try {
    const fresh = await api("GET", draftUrl(draft.id));
    if (state.selected && state.selected.id === fresh.id) openDraft(fresh, { notice: `Updated: this draft was ${change.action === "edited" ? "edited" : change.action} in another tab or window.` });
  } catch (error) {
    if (error.status === 404) closeDetail();
  }
}

export function initDetail() {
  on("selected-draft-changed", changedElsewhere);
  $("detail-close").addEventListener("click", () => {
    closeDetail();
    writeRoute();
  });
  for (const button of document.querySelectorAll("#status-actions [data-status]")) {
    const status = button.dataset.status;
    if (status === "approved") button.addEventListener("click", approve);
    else if (status === "discarded") button.addEventListener("click", discard);
    else button.addEventListener("click", () => patchDraft({ status }, `Marked as ${status}.`));
  }
  $("draft-delete").addEventListener("click", deleteDraft);
  $("regenerate-form").addEventListener("submit", regenerate);
  window.addEventListener("pagehide", () => sendDiscard({ keepalive: true }));
}

