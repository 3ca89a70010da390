/* BC-RAO Drafts — the web UI's entry module. ES modules, no build step, nothing from elsewhere.
 *
 * - Server and user text is only ever rendered with textContent (dom.js `el`), never as HTML.
 * - Every rule the page explains (gating, ISC tiers, transitions, limits, score bands) comes from
 *   GET /v1/rules; the server still decides, and its errors are shown the same way.
 * - Modules talk through small events (state.js `on`/`emit`) instead of importing each other.
 */

import { renderBlacklistForm, loadBlacklist } from "./blacklist.js";
import { initCampaigns, loadCampaigns, refreshCampaigns, selectCampaign } from "./campaigns.js";
import { startChangeFeed, stopChangeFeed } from "./changes.js";
import { closeDetail, initDetail, openDraft, openDraftId } from "./detail.js";
import { $, clear, el } from "./dom.js";
import { errorBox } from "./errors.js";
import { initDrafts, loadDrafts, renderDrafts, renderFilters } from "./drafts.js";
import { applyLimits, chooseArchetype, initGenerate, resumeInFlight, updateGating } from "./generate.js";
import { loadProfile, renderSubreddits } from "./profiles.js";
import { loadRules } from "./rules.js";
import { on, state } from "./state.js";
import { closeStream } from "./stream.js";
import { initToken, setTokenFormOpen } from "./token.js";
import { loadUsage } from "./usage.js";

async function start() {
  closeStream();
  $("progress-card").hidden = true;
  closeDetail();
  state.profiles.clear();
  stopChangeFeed();
  if (!state.token) {
    setTokenFormOpen(true);
    state.campaigns = [];
    clear($("campaign-select")).append(el("option", { value: "", text: "Paste a token first" }));
    $("campaign-select").disabled = true;
    $("campaign-new").disabled = true;
    selectCampaign(null);
    loadUsage();
    return;
  }
  try {
    await loadRules();
  } catch (error) {
    if (error.status !== 401) {
      const box = clear($("global-error"));
      box.append(errorBox(error, { title: "The product rules could not be loaded; reload the page" }));
      box.hidden = false;
    }
    return;
  }
  applyLimits();
  renderFilters();
  loadUsage();
  startChangeFeed();
  loadCampaigns();
}

function init() {
  initToken();
  initCampaigns();
  initGenerate();
  initDrafts();
  initDetail();
  $("subreddit-select").addEventListener("change", (event) => {
    const chip = document.querySelector(`#subreddit-chips [data-subreddit="${CSS.escape(event.target.value)}"]`);
    if (chip) chip.click();
  });

  on("token-changed", start);
  on("campaign-selected", () => {
    closeDetail();
    renderSubreddits();
    renderFilters();
    loadDrafts({ reset: true });
    loadBlacklist();
    renderBlacklistForm();
    updateGating();
    resumeInFlight();
  });
  on("open-draft", (draft) => openDraft(draft));
  on("open-draft-id", (id) => openDraftId(id));
  on("drafts-changed", () => loadDrafts({ reset: true }));
  on("drafts-render", renderDrafts);
  on("usage-may-change", loadUsage);
  on("profile-stale", () => loadProfile(state.subreddit, { force: true }));
  on("campaigns-stale", () => loadCampaigns());
  on("campaigns-changed", refreshCampaigns);
  on("inflight-check", resumeInFlight);
  on("blacklist-stale", loadBlacklist);
  on("profiles-stale", (change) => {
    state.profiles.delete(`${state.campaign ? state.campaign.id : ""}/${change.id}`);
    if (state.subreddit.toLowerCase() === change.id.toLowerCase()) loadProfile(state.subreddit, { force: true });
  });
  on("use-archetype", chooseArchetype);
  start();
}

document.addEventListener("DOMContentLoaded", init);
