/* The drafts list of the chosen campaign: newest first, filtered by status and subreddit. */

import { api, enc } from "./api.js";
import { $, badge, clear, el, fmtDate, fmtNumber } from "./dom.js";
import { showError } from "./errors.js";
import { currentReport, needsReview, shownTitle, statusBadge } from "./draftview.js";
import { archetypeLabel, scoreBand } from "./rules.js";
import { writeRoute } from "./route.js";
import { PAGE_SIZE, emit, state } from "./state.js";

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
}

export async function loadDrafts({ reset = false } = {}) {
  const list = $("drafts-list");
  const errorSlot = clear($("drafts-error"));
  if (!state.campaign) {
    clear(list);
    $("drafts-summary").textContent = state.token ? "" : "Paste a token to see your drafts.";
    $("drafts-more").hidden = true;
    return;
  }
  const mine = ++request;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(reset ? 0 : state.drafts.length) });
  if (state.statusFilter.size) params.set("status", [...state.statusFilter].join(","));
  if (state.subredditFilter) params.set("subreddit", state.subredditFilter);
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
  const filters = [...state.statusFilter, state.subredditFilter && `r/${state.subredditFilter}`].filter(Boolean);
  const filtered = filters.length ? ` (${filters.join(", ")})` : "";
  $("drafts-summary").textContent = state.draftsTotal ? `${state.drafts.length} of ${state.draftsTotal} drafts${filtered}, newest first` : `No drafts yet${filtered}.`;
  for (const draft of state.drafts) {
    const overall = currentReport(draft).scores ? currentReport(draft).scores.overall : null;
    const review = needsReview(draft);
    list.append(el("li", {}, [
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
}

export function initDrafts() {
  $("drafts-refresh").addEventListener("click", () => loadDrafts({ reset: true }));
  $("drafts-more").addEventListener("click", () => loadDrafts());
  $("subreddit-filter").addEventListener("change", (event) => {
    state.subredditFilter = event.target.value;
    loadDrafts({ reset: true });
    writeRoute();
  });
}
