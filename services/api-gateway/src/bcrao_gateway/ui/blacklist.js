/* Blacklist entries of the campaign: list, add (literal or regex, category, severity, scope),
 * delete, and a box to try a pattern on sample text before saving it. */

import { api, enc } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { $, badge, clear, el } from "./dom.js";
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

function scopeText(entry) {
  if (!entry.campaign_id) return "everywhere (built in)";
  return entry.subreddit ? `r/${entry.subreddit} only` : "whole campaign";
}

let loading = 0; // only the latest load renders (the change feed may ask while one is running)

export async function loadBlacklist() {
  const card = $("blacklist-card");
  card.hidden = !state.campaign;
  const mine = ++loading;
  if (!state.campaign) {
    clear($("blacklist-list"));
    return;
  }
  try {
    const data = await api("GET", `/v1/campaigns/${enc(state.campaign.id)}/blacklist`);
    if (mine !== loading) return;
    const list = clear($("blacklist-list"));
    if (!data.entries.length) list.append(el("li", { class: "muted", text: "No entries yet." }));
    for (const entry of data.entries) list.append(entryItem(entry));
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
      ? el("button", { type: "button", class: "btn btn-ghost btn-small", text: "Delete", on: { click: () => deleteEntry(entry) } })
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

const select = (id, values, selected) =>
  el("select", { id }, values.map((v) => el("option", { value: v, text: v, selected: v === selected })));

function fieldBox(name, label, input) {
  return el("div", { class: "field", dataset: { field: name } }, [el("label", { for: input.id, text: label }), input, el("p", { class: "field-error", hidden: true })]);
}

let rendering = 0; // only the latest call renders: two calls at once must not leave two forms

export async function renderBlacklistForm() {
  const mine = ++rendering;
  clear($("blacklist-slot"));
  if (!state.campaign) return;
  let categories, severities;
  try {
    [categories, severities] = await Promise.all([enumOf("BlacklistCategory"), enumOf("Severity")]);
  } catch (error) {
    if (mine === rendering) clear($("blacklist-slot")).append(errorBox({ code: "UNAVAILABLE", message: String(error.message || error) }, { title: "The blacklist form could not be prepared" }));
    return;
  }
  if (mine !== rendering) return;
  const slot = clear($("blacklist-slot"));
  const kind = select("bl-kind", ["literal", "regex"], "literal");
  const pattern = el("input", { id: "bl-pattern", type: "text", maxlength: "500", spellcheck: "false" });
  const description = el("input", { id: "bl-description", type: "text", maxlength: "300", placeholder: "Why it gets posts removed" });
  const category = select("bl-category", categories, "Custom");
  const severity = select("bl-severity", severities, "medium");
  const scope = el("select", { id: "bl-scope" }, [
    el("option", { value: "", text: "The whole campaign" }),
    ...state.campaign.target_subreddits.map((s) => el("option", { value: s, text: `Only r/${s}` })),
  ]);
  const sample = el("textarea", { id: "bl-sample", rows: "3", placeholder: "Paste a sentence to try the pattern on" });
  const preview = el("div", { id: "bl-preview", class: "preview", "aria-live": "polite" });
  const formError = el("div", { role: "alert" });

  const ignoreCase = el("input", { id: "bl-ignore-case", type: "checkbox", checked: true, disabled: true });
  const caseHint = el("p", { id: "bl-case-hint", class: "hint" });
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

  const form = el("form", { id: "blacklist-form", class: "subform", novalidate: true }, [
    el("h3", { class: "small-heading", text: "Add an entry" }),
    el("div", { class: "grid-2" }, [fieldBox("kind", "Kind", kind), fieldBox("severity", "Severity", severity)]),
    fieldBox("pattern", "Pattern", pattern),
    el("div", { class: "field checkbox-field" }, [el("label", { for: "bl-ignore-case" }, [ignoreCase, " Ignore upper and lower case"]), caseHint]),
    fieldBox("description", "Description", description),
    el("div", { class: "grid-2" }, [fieldBox("category", "Category", category), fieldBox("subreddit", "Scope", scope)]),
    el("div", { class: "field" }, [el("label", { for: "bl-sample", text: "Try it on sample text" }), sample, preview]),
    el("div", { class: "actions" }, [el("button", { type: "submit", id: "bl-add", class: "btn btn-primary", text: "Add entry" })]),
    formError,
  ]);
  clearErrorsOnInput(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(formError);
    clearFieldErrors(form);
    const body = { kind: kind.value, pattern: savedPattern(kind.value, pattern.value, ignoreCase.checked), description: description.value.trim(), category: category.value, severity: severity.value, subreddit: scope.value || null };
    try {
      await api("POST", `/v1/campaigns/${enc(state.campaign.id)}/blacklist`, body);
      pattern.value = "";
      description.value = "";
      runPreview();
      loadBlacklist();
    } catch (error) {
      const leftover = error.code === "VALIDATION_ERROR" ? showFieldErrors(form, error) : null;
      if (!leftover) showError(formError, error, { title: "The entry was not added" });
      else if (leftover.length) formError.append(errorBox({ ...error, details: { errors: leftover } }, { title: "Please fix these" }));
    }
  });
  slot.append(form);
}
