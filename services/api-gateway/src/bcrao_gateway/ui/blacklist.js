/* Blacklist entries of the campaign: list, add (literal or regex, category, severity, scope),
 * edit in place, delete, and a box to try a pattern on sample text before saving it. */

import { api, enc } from "./api.js";
import { resolveConflict } from "./conflict.js";
import { confirmDialog } from "./dialog.js";
import { $, badge, clear, el, shorten } from "./dom.js";
import { clearErrorsOnInput, clearFieldErrors, errorBox, showError, showFieldErrors } from "./errors.js";
import { marked } from "./marks.js";
import { enumOf } from "./schema.js";
import { state } from "./state.js";

/** UTF-16 offsets (the browser's) of the server's character offsets (Python's code points). */
function utf16Offsets(text) {
  const offsets = [0];
  let at = 0;
  for (const ch of text) {
    at += ch.length;
    offsets.push(at);
  }
  return offsets;
}

/** The pattern as saved: a regex with "Ignore case" starts with RE2's own (?i) flag. */
export function savedPattern(kind, pattern, ignoreCase) {
  if (kind !== "regex" || !ignoreCase || pattern.startsWith("(?i)")) return pattern;
  return `(?i)${pattern}`;
}

/** A saved entry as the form shows it: a regex's leading (?i) is the "Ignore case" box. */
export function shownPattern(entry) {
  const folded = entry.kind === "regex" && entry.pattern.startsWith("(?i)") && entry.pattern.length > 4;
  return { pattern: folded ? entry.pattern.slice(4) : entry.pattern, ignoreCase: entry.kind !== "regex" || folded };
}

function scopeText(entry) {
  if (!entry.campaign_id) return "everywhere (built in)";
  return entry.subreddit ? `r/${entry.subreddit} only` : "whole campaign";
}

let loading = 0; // only the latest load renders (the change feed may ask while one is running)
// The entry being edited in place: its list item survives reloads of the list (the change feed
// reloads it whenever any entry changes), so typing is never lost to someone else's save.
let editing = null; // {id, version, item, notice}

export async function loadBlacklist() {
  const card = $("blacklist-card");
  card.hidden = !state.campaign;
  const mine = ++loading;
  if (!state.campaign) {
    editing = null;
    clear($("blacklist-list"));
    return;
  }
  try {
    const data = await api("GET", `/v1/campaigns/${enc(state.campaign.id)}/blacklist`);
    if (mine !== loading) return;
    const list = clear($("blacklist-list"));
    if (!data.entries.length) list.append(el("li", { class: "muted", text: "No entries yet." }));
    const open = editing && data.entries.find((e) => e.id === editing.id);
    if (editing && !open) editing = null;
    for (const entry of data.entries) {
      if (open && entry.id === open.id) {
        list.append(editing.item);
        if (entry.version !== editing.version) {
          editing.notice.hidden = false;
          editing.notice.textContent = "This entry was changed in another tab or window. Your changes are kept; saving shows what changed.";
        }
      } else {
        list.append(entryItem(entry));
      }
    }
  } catch (error) {
    if (mine === loading) showError(clear($("blacklist-list")), error, { title: "The blacklist could not be loaded" });
  }
}

function entryItem(entry) {
  const own = Boolean(entry.campaign_id);
  return el("li", { class: "entry", dataset: { entryId: entry.id, kind: entry.kind } }, [
    el("code", { class: "entry-pattern", text: entry.pattern }),
    el("span", { class: "entry-meta" }, [
      badge(entry.kind, "kind"), badge(entry.severity, `sev-${entry.severity}`),
      el("span", { text: entry.category }), el("span", { class: "muted", text: scopeText(entry) }),
    ]),
    el("span", { class: "entry-description", text: entry.description }),
    own
      ? el("span", { class: "entry-actions" }, [
          el("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { action: "edit" }, text: "Edit", "aria-label": `Edit ${entry.pattern}`, on: { click: (event) => editEntry(entry, event.currentTarget.closest("li")) } }),
          el("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { action: "delete" }, text: "Delete", "aria-label": `Delete ${entry.pattern}`, on: { click: () => deleteEntry(entry) } }),
        ])
      : null,
  ]);
}

async function deleteEntry(entry) {
  const ok = await confirmDialog({ title: "Delete this blacklist entry?", body: [el("code", { text: entry.pattern })], ok: "Delete", danger: true });
  if (!ok) return;
  try {
    await api("DELETE", `/v1/blacklist/${enc(entry.id)}`, undefined, { ifMatch: entry.version });
  } catch (error) {
    if (error.status !== 412) {
      showError($("blacklist-list"), error, { title: "The entry was not deleted" });
      return;
    }
    // Changed or deleted in another tab: the list shows what is there now.
  }
  loadBlacklist();
}

/** Edit an entry where it is listed: the same form as a new entry, with its preview. */
async function editEntry(entry, item) {
  if (editing) {
    const other = editing;
    editing = null;
    other.item.replaceWith(entryItem(other.entry));
  }
  let vocab;
  try {
    vocab = await vocabulary();
  } catch (error) {
    showError($("blacklist-list"), error, { title: "The entry cannot be edited right now" });
    return;
  }
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const editor = el("li", { class: "entry entry-editing", dataset: { entryId: entry.id, kind: entry.kind } });
  const close = () => {
    if (!editing || editing.id !== entry.id) return;
    editing = null;
    loadBlacklist();
  };
  // On a 412, say what changed and let the person keep theirs (send again from the current
  // version) or take the saved one (the list shows it; this change is dropped).
  const send = async (body, version) => {
    try {
      await api("PATCH", `/v1/blacklist/${enc(entry.id)}`, body, { ifMatch: version });
      return true;
    } catch (error) {
      if (error.status !== 412) throw error;
      const { choice, current } = await resolveConflict("blacklist", "blacklist entry", entry, error);
      if (choice === "keep") return send(body, current.version);
      return false;
    }
  };
  const form = entryForm({
    prefix: "ble",
    formId: "blacklist-edit-form",
    submitId: "ble-save",
    vocab,
    entry,
    heading: "Edit this entry",
    submitLabel: "Save changes",
    failTitle: "The entry was not changed",
    submit: async (body) => {
      // Only what was changed here is sent: "Keep mine" after a conflict keeps the other tab's
      // changes to the fields left alone.
      const before = { kind: entry.kind, pattern: entry.pattern, description: entry.description, category: entry.category, severity: entry.severity, subreddit: entry.subreddit || null };
      const changes = Object.fromEntries(Object.entries(body).filter(([key, value]) => value !== before[key]));
      if (!Object.keys(changes).length) return close();
      const saved = await send(changes, entry.version);
      close();
      say(saved ? `Changes to “${shorten(body.pattern, 60)}” saved.` : "Your change was not saved: the entry is shown as it was saved in the other tab or window.");
    },
    cancel: close,
  });
  editor.append(notice, form);
  editing = { id: entry.id, version: entry.version, entry, item: editor, notice };
  say("");
  // The list may have been drawn again while the form was being prepared.
  const shownItem = $("blacklist-list").querySelector(`[data-entry-id="${CSS.escape(entry.id)}"]`) || item;
  shownItem.replaceWith(editor);
  $("ble-pattern").focus();
}

/** A line above the list that says what just happened (empty: hidden). */
function say(text) {
  const notice = $("blacklist-notice");
  notice.textContent = text;
  notice.hidden = !text;
}

const select = (id, values, selected) =>
  el("select", { id }, values.map((v) => el("option", { value: v, text: v, selected: v === selected })));

function fieldBox(name, label, input) {
  return el("div", { class: "field", dataset: { field: name } }, [el("label", { for: input.id, text: label }), input, el("p", { class: "field-error", hidden: true })]);
}

async function vocabulary() {
  const [categories, severities] = await Promise.all([enumOf("BlacklistCategory"), enumOf("Severity")]);
  return { categories, severities };
}

/** The form of an entry, new (`entry` null) or saved: kind, pattern with the case option, what it
 * guards against, category, severity, scope, and the server's preview on sample text. Ids start
 * with `prefix` (one form of each kind is on the page at a time). */
function entryForm({ prefix, formId, submitId, vocab, entry, heading, submitLabel, failTitle, submit, cancel }) {
  const id = (name) => `${prefix}-${name}`;
  const shown = entry ? shownPattern(entry) : { pattern: "", ignoreCase: true };
  const kind = select(id("kind"), ["literal", "regex"], entry ? entry.kind : "literal");
  const pattern = el("input", { id: id("pattern"), type: "text", maxlength: "500", spellcheck: "false", value: shown.pattern });
  const description = el("input", { id: id("description"), type: "text", maxlength: "300", placeholder: "Why it gets posts removed", value: entry ? entry.description : "" });
  const category = select(id("category"), vocab.categories, entry ? entry.category : "Custom");
  const severity = select(id("severity"), vocab.severities, entry ? entry.severity : "medium");
  const targets = state.campaign.target_subreddits;
  const scoped = entry && entry.subreddit && !targets.some((s) => s.toLowerCase() === entry.subreddit.toLowerCase()) ? [entry.subreddit] : [];
  const scope = el("select", { id: id("scope") }, [
    el("option", { value: "", text: "The whole campaign" }),
    ...[...targets, ...scoped].map((s) => el("option", { value: s, text: `Only r/${s}`, selected: Boolean(entry && entry.subreddit && entry.subreddit.toLowerCase() === s.toLowerCase()) })),
  ]);
  const sample = el("textarea", { id: id("sample"), rows: "3", placeholder: "Paste a sentence to try the pattern on" });
  const preview = el("div", { id: id("preview"), class: "preview", "aria-live": "polite" });
  const formError = el("div", { role: "alert" });

  const ignoreCase = el("input", { id: id("ignore-case"), type: "checkbox", checked: shown.ignoreCase, disabled: kind.value !== "regex" });
  const caseHint = el("p", { id: id("case-hint"), class: "hint" });
  let lastKind = kind.value;
  const syncCase = () => {
    const regex = kind.value === "regex";
    ignoreCase.disabled = !regex;
    if (kind.value !== lastKind) ignoreCase.checked = !regex; // a regex starts as written
    lastKind = kind.value;
    caseHint.textContent = regex
      ? ignoreCase.checked ? "Upper and lower case count the same." : "Upper and lower case must match exactly."
      : "Plain text always ignores case and matches whole words.";
  };
  syncCase();

  // The preview asks the server, which runs the same engine (RE2) and rules as the check of every
  // draft: what it shows here is what a saved entry will catch.
  let asked = 0;
  let timer = null;
  const runPreview = async () => {
    const mine = ++asked;
    if (!pattern.value || !sample.value) {
      clear(preview);
      return;
    }
    let answer;
    try {
      answer = await api("POST", "/v1/blacklist/preview", { kind: kind.value, pattern: savedPattern(kind.value, pattern.value, ignoreCase.checked), text: sample.value });
    } catch (error) {
      if (mine === asked) showError(clear(preview), error, { title: "The pattern could not be tried" });
      return;
    }
    if (mine !== asked) return;
    clear(preview);
    if (answer.problem) {
      preview.append(el("p", { class: "bad", dataset: { matches: "0" }, text: `This pattern cannot be used: ${answer.problem.replace(/^this regular expression cannot be used: /, "")}` }));
      return;
    }
    const offsets = utf16Offsets(sample.value);
    const ranges = answer.matches.map((m) => ({ start: offsets[m.start], end: offsets[m.end], kind: "blacklist", label: pattern.value }));
    preview.append(
      el("p", { class: "report-title", dataset: { matches: String(ranges.length) }, text: ranges.length ? `${ranges.length} match(es)` : "No match" }),
      el("p", { class: "sample wrap" }, marked(sample.value, ranges)),
      el("p", { class: "hint", text: "Checked by the server with the same rules as your drafts: a saved entry catches exactly this." }),
    );
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 250);
  };
  for (const input of [kind, pattern, sample, ignoreCase]) input.addEventListener("input", schedule);
  kind.addEventListener("input", syncCase);
  ignoreCase.addEventListener("input", syncCase);

  const form = el("form", { id: formId, class: "subform", novalidate: true }, [
    el("h3", { class: "small-heading", text: heading }),
    el("div", { class: "grid-2" }, [fieldBox("kind", "Kind", kind), fieldBox("severity", "Severity", severity)]),
    fieldBox("pattern", "Pattern", pattern),
    el("div", { class: "field checkbox-field" }, [el("label", { for: id("ignore-case") }, [ignoreCase, " Ignore upper and lower case"]), caseHint]),
    fieldBox("description", "Description", description),
    el("div", { class: "grid-2" }, [fieldBox("category", "Category", category), fieldBox("subreddit", "Scope", scope)]),
    el("div", { class: "field" }, [el("label", { for: id("sample"), text: "Try it on sample text" }), sample, preview]),
    el("div", { class: "actions" }, [
      el("button", { type: "submit", id: submitId, class: "btn btn-primary", text: submitLabel }),
      cancel ? el("button", { type: "button", id: id("cancel"), class: "btn btn-ghost", text: "Cancel", on: { click: cancel } }) : null,
    ]),
    formError,
  ]);
  clearErrorsOnInput(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(formError);
    clearFieldErrors(form);
    const body = { kind: kind.value, pattern: savedPattern(kind.value, pattern.value, ignoreCase.checked), description: description.value.trim(), category: category.value, severity: severity.value, subreddit: scope.value || null };
    try {
      await submit(body, { reset: () => {
        pattern.value = "";
        description.value = "";
        runPreview();
      } });
    } catch (error) {
      const leftover = error.code === "VALIDATION_ERROR" ? showFieldErrors(form, error) : null;
      if (!leftover) showError(formError, error, { title: failTitle });
      else if (leftover.length) formError.append(errorBox({ ...error, details: { errors: leftover } }, { title: "Please fix these" }));
    }
  });
  return form;
}

let rendering = 0; // only the latest call renders: two calls at once must not leave two forms

export async function renderBlacklistForm() {
  const mine = ++rendering;
  clear($("blacklist-slot"));
  if (!state.campaign) return;
  let vocab;
  try {
    vocab = await vocabulary();
  } catch (error) {
    if (mine === rendering) clear($("blacklist-slot")).append(errorBox({ code: "UNAVAILABLE", message: String(error.message || error) }, { title: "The blacklist form could not be prepared" }));
    return;
  }
  if (mine !== rendering) return;
  const form = entryForm({
    prefix: "bl",
    formId: "blacklist-form",
    submitId: "bl-add",
    vocab,
    entry: null,
    heading: "Add an entry",
    submitLabel: "Add entry",
    failTitle: "The entry was not added",
    submit: async (body, { reset }) => {
      await api("POST", `/v1/campaigns/${enc(state.campaign.id)}/blacklist`, body);
      say("");
      reset();
      loadBlacklist();
    },
  });
  clear($("blacklist-slot")).append(form);
}
