/* A change made from an old version (412 PRECONDITION_FAILED): say what changed meanwhile, then
 * let the person choose "Reload theirs" (show the current state, drop this change) or "Keep mine"
 * (send this change again, from the current version). */

import { confirmDialog } from "./dialog.js";
import { el, shorten } from "./dom.js";

const show = (value) => {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (Array.isArray(value)) return value.join(", ") || "(none)";
  return shorten(String(value), 120);
};

/** A style guide in one line: each key that is set, with its value(s). */
const styleText = (guide) =>
  Object.entries(guide || {})
    .filter(([, v]) => (Array.isArray(v) ? v.length : v))
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${[].concat(v).join(", ")}`)
    .join("; ");

const DRAFT_FIELDS = [
  ["Status", (d) => d.status],
  ["Title", (d) => d.user_title || d.title],
  ["Text", (d) => (d.user_edits ?? d.body)],
  ["Flair", (d) => d.flair || ""],
];
const CAMPAIGN_FIELDS = [
  ["Name", (c) => c.name],
  ["Status", (c) => c.status],
  ["Description", (c) => c.description || ""],
  ["What the product does", (c) => c.product_context],
  ["Product link", (c) => c.product_url || ""],
  ["Keywords", (c) => c.keywords],
  ["Subreddits", (c) => c.target_subreddits],
];
const PROFILE_FIELDS = [
  ["ISC score", (p) => p.isc_score],
  ["Tone", (p) => p.dominant_tone],
  ["Formality", (p) => p.formality_level],
  ["Average sentence length", (p) => p.avg_sentence_length],
  ["Top hooks", (p) => p.top_success_hooks],
  ["Style guide", (p) => styleText(p.style_guide)],
];
const BLACKLIST_FIELDS = [
  ["Kind", (b) => b.kind],
  ["Pattern", (b) => b.pattern],
  ["Description", (b) => b.description],
  ["Category", (b) => b.category],
  ["Severity", (b) => b.severity],
  ["Scope", (b) => (b.subreddit ? `r/${b.subreddit} only` : "whole campaign")],
];
const FIELDS = { draft: DRAFT_FIELDS, campaign: CAMPAIGN_FIELDS, profile: PROFILE_FIELDS, blacklist: BLACKLIST_FIELDS };

/** The fields that differ between what this page had and what is stored now. */
export function changedFields(kind, before, now) {
  const out = [];
  for (const [label, get] of FIELDS[kind] || []) {
    const a = JSON.stringify(get(before) ?? null);
    const b = JSON.stringify(get(now) ?? null);
    if (a !== b) out.push({ label, before: get(before), now: get(now) });
  }
  return out;
}

/** Resolve a 412. Returns "keep" (send again from `current.version`), "reload" (show `current`)
 * or "gone" (it was deleted meanwhile). */
export async function resolveConflict(kind, noun, before, error) {
  const current = error.details && error.details.current;
  if (!current) {
    await confirmDialog({ title: `This ${noun} was deleted`, body: [`It was deleted in another tab or window, so your change was not saved.`], ok: "OK", cancel: "Close" });
    return { choice: "gone", current: null };
  }
  const changes = changedFields(kind, before, current);
  const list = changes.length
    ? el("ul", { class: "conflict-changes", dataset: { testid: "conflict-changes" } }, changes.map((c) =>
        el("li", {}, [el("strong", { text: `${c.label}: ` }), el("span", { class: "was", text: show(c.before) }), " → ", el("span", { class: "now", text: show(c.now) })])))
    : el("p", { text: "Nothing you can see here changed, but it was saved again meanwhile." });
  const keep = await confirmDialog({
    title: `This ${noun} was changed in another tab or window`,
    body: [
      "Since you opened it, someone saved these changes:",
      list,
      "“Keep mine” saves your change on top of theirs. “Reload theirs” shows the saved version and drops your change.",
      kind === "draft" && current.status === "approved" ? "It is approved now: keeping your edit withdraws that approval, and the draft needs approving again." : null,
    ].filter(Boolean),
    ok: "Keep mine",
    cancel: "Reload theirs",
  });
  return { choice: keep ? "keep" : "reload", current };
}
