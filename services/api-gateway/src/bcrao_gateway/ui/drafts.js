/* The drafts list of the chosen campaign: searched, sorted and filtered; drafts ticked for a bulk
 * action (bulk.js) or an export. */

import { api, enc } from "./api.js";
import { $, badge, clear, el, fmtDate, fmtNumber } from "./dom.js";
import { showError } from "./errors.js";
import { currentReport, needsReview, shownTitle, statusBadge } from "./draftview.js";
import { archetypeLabel, scoreBand } from "./rules.js";
import { writeRoute } from "./route.js";
import { PAGE_SIZE, emit, state } from "./state.js";
import { chosenDrafts, setChosen, syncChosen } from "./bulk.js";

let request = 0;

export function renderFilters() {
  const group = clear($("status-filters"));
  const chip = (label, pressed, value, onClick) =>
    el("button", { type: "button", class: "chip", "aria-pressed": String(pressed), dataset: { status: value }, text: label, on: { click: onClick } });
  group.append(chip("All", state.statusFilter.size === 0, "all", () => {
    state.statusFilter.clear();
    renderFilters();
    loadDrafts({ reset: true });
    writeRoute();
  }));
  for (const status of Object.keys((state.rules && state.rules.draft_transitions) || {})) {
    group.append(chip(status, state.statusFilter.has(status), status, () => {
      if (state.statusFilter.has(status)) state.statusFilter.delete(status);
      else state.statusFilter.add(status);
      renderFilters();
      loadDrafts({ reset: true });
      writeRoute();
    }));
  }
  const select = clear($("subreddit-filter"));
  select.append(el("option", { value: "", text: "All subreddits" }));
  for (const sub of state.campaign ? state.campaign.target_subreddits : []) select.append(el("option", { value: sub, text: `r/${sub}` }));
  if (!state.campaign || !state.campaign.target_subreddits.includes(state.subredditFilter)) state.subredditFilter = "";
  select.value = state.subredditFilter;
  const archetypes = clear($("drafts-archetype"));
  archetypes.append(el("option", { value: "", text: "All archetypes" }));
  for (const a of (state.rules && state.rules.archetypes) || []) archetypes.append(el("option", { value: a, text: archetypeLabel(a) }));
  if (!((state.rules && state.rules.archetypes) || []).includes(state.archetypeFilter)) state.archetypeFilter = "";
  archetypes.value = state.archetypeFilter;
  $("drafts-search").value = state.search;
  $("drafts-sort").value = state.sort;
  $("drafts-review").checked = state.reviewOnly;
}

export async function loadDrafts({ reset = false } = {}) {
  const list = $("drafts-list");
  const errorSlot = clear($("drafts-error"));
  if (!state.campaign) {
    clear(list);
    clear($("bulk-result"));
    state.drafts = [];
    state.draftsTotal = 0;
    syncChosen();
    $("drafts-summary").textContent = state.token ? "" : "Paste a token to see your drafts.";
    $("drafts-more").hidden = true;
    return;
  }
  const mine = ++request;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(reset ? 0 : state.drafts.length) });
  if (state.statusFilter.size) params.set("status", [...state.statusFilter].join(","));
  if (state.subredditFilter) params.set("subreddit", state.subredditFilter);
  if (state.search) params.set("q", state.search);
  if (state.sort !== "newest") params.set("sort", state.sort);
  if (state.archetypeFilter) params.set("archetype", state.archetypeFilter);
  if (state.reviewOnly) params.set("needs_review", "true");
  try {
    const data = await api("GET", `/v1/campaigns/${enc(state.campaign.id)}/drafts?${params}`);
    if (mine !== request) return;
    state.drafts = reset ? data.drafts : state.drafts.concat(data.drafts);
    state.draftsTotal = data.total;
    renderDrafts();
  } catch (error) {
    if (mine === request) showError(errorSlot, error, { title: "The drafts could not be loaded" });
  }
}

export function renderDrafts() {
  const list = clear($("drafts-list"));
  const filters = [
    ...state.statusFilter,
    state.subredditFilter && `r/${state.subredditFilter}`,
    state.archetypeFilter && archetypeLabel(state.archetypeFilter),
    state.reviewOnly && "needs review",
    state.search && `“${state.search}”`,
  ].filter(Boolean);
  const filtered = filters.length ? ` (${filters.join(", ")})` : "";
  const order = { newest: "newest first", oldest: "oldest first", score: "best score first" }[state.sort];
  const none = filters.length ? `No drafts match${filtered}.` : "No drafts yet.";
  $("drafts-summary").textContent = state.draftsTotal ? `${state.drafts.length} of ${state.draftsTotal} drafts${filtered}, ${order}` : none;
  for (const draft of state.drafts) {
    const overall = currentReport(draft).scores ? currentReport(draft).scores.overall : null;
    const review = needsReview(draft);
    list.append(el("li", { class: "draft-row" }, [
      el("input", { type: "checkbox", class: "draft-select", checked: state.chosen.has(draft.id), dataset: { chosenId: draft.id }, "aria-label": `Select “${shownTitle(draft)}”`, on: { change: (event) => setChosen(draft, event.target.checked) } }),
      el("button", { type: "button", class: "draft-item", "aria-current": state.selected && state.selected.id === draft.id ? "true" : null, dataset: { draftId: draft.id }, on: { click: () => emit("open-draft", draft) } }, [
        el("span", { class: "draft-item-title", text: shownTitle(draft) }),
        el("span", { class: "draft-item-meta" }, [
          statusBadge(draft.status),
          review ? badge("needs review", "review") : null,
          el("span", { text: `r/${draft.subreddit}` }),
          el("span", { text: archetypeLabel(draft.archetype) }),
          draft.parent_draft_id ? el("span", { text: "regenerated" }) : null,
          el("span", { class: "muted", text: fmtDate(draft.created_at) }),
          overall === null ? null : el("span", { class: `score-pill band-${scoreBand(overall)}`, text: `${fmtNumber(overall)} ${scoreBand(overall)}` }),
        ]),
      ]),
    ]));
  }
  $("drafts-more").hidden = state.drafts.length >= state.draftsTotal;
  syncChosen();
}

/** Every approved draft of the campaign (all pages), for the export. */
async function approvedDrafts() {
  const all = [];
  for (let offset = 0; ; offset += 100) {
    const params = new URLSearchParams({ status: "approved", limit: "100", offset: String(offset), sort: "oldest" });
    const page = await api("GET", `/v1/campaigns/${enc(state.campaign.id)}/drafts?${params}`);
    all.push(...page.drafts);
    if (all.length >= page.total || !page.drafts.length) return all;
  }
}

const csvCell = (value) => `"${String(value ?? "").replace(/"/g, '""')}"`;

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The drafts ticked in the list (as shown), or else the campaign's approved drafts, as Markdown
 * (one section each) or CSV (one row each), with the person's own title and text where they
 * edited them. */
async function exportApproved(format) {
  if (!state.campaign) return;
  const errorSlot = clear($("drafts-error"));
  const chosen = chosenDrafts();
  let drafts = chosen;
  if (!chosen.length) {
    try {
      drafts = await approvedDrafts();
    } catch (error) {
      showError(errorSlot, error, { title: "The approved drafts could not be exported" });
      return;
    }
  }
  if (!drafts.length) {
    $("drafts-summary").textContent = "No approved drafts to export yet: approve a draft first, or select the drafts to export.";
    return;
  }
  const what = chosen.length ? "selected" : "approved";
  const slug = state.campaign.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "campaign";
  const text = (d) => d.user_edits ?? d.body;
  if (format === "md") {
    const parts = drafts.map((d) => `## ${shownTitle(d)}\n\nr/${d.subreddit} · ${archetypeLabel(d.archetype)}${d.flair ? ` · flair: ${d.flair}` : ""}\n\n${text(d)}\n`);
    download(`${slug}-${what}.md`, "text/markdown", `# ${state.campaign.name}: ${what} drafts\n\n${parts.join("\n")}`);
  } else {
    const rows = [["title", "text", "subreddit", "archetype", "flair", "status", "score", "created_at", "id"]];
    for (const d of drafts) {
      const report = currentReport(d);
      rows.push([shownTitle(d), text(d), d.subreddit, d.archetype, d.flair || "", d.status, report.scores ? report.scores.overall : "", d.created_at, d.id]);
    }
    download(`${slug}-${what}.csv`, "text/csv", rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n");
  }
  $("drafts-summary").textContent = `Exported ${drafts.length} ${what} draft${drafts.length === 1 ? "" : "s"}.`;
}

export function initDrafts() {
  let typing = null;
  $("drafts-search").addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.search = event.target.value.trim();
      loadDrafts({ reset: true });
      writeRoute({ replace: true });
    }, 300);
  });
  $("drafts-sort").addEventListener("change", (event) => {
    state.sort = event.target.value;
    loadDrafts({ reset: true });
    writeRoute();
  });
  $("drafts-archetype").addEventListener("change", (event) => {
    state.archetypeFilter = event.target.value;
    loadDrafts({ reset: true });
    writeRoute();
  });
  $("drafts-review").addEventListener("change", (event) => {
    state.reviewOnly = event.target.checked;
    loadDrafts({ reset: true });
    writeRoute();
  });
  $("export-md").addEventListener("click", () => exportApproved("md"));
  $("export-csv").addEventListener("click", () => exportApproved("csv"));
  $("drafts-refresh").addEventListener("click", () => loadDrafts({ reset: true }));
  $("drafts-more").addEventListener("click", () => loadDrafts());
  $("subreddit-filter").addEventListener("change", (event) => {
    state.subredditFilter = event.target.value;
    loadDrafts({ reset: true });
    writeRoute();
  });
}
