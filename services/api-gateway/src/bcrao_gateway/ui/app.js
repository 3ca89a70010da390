/* BC-RAO Drafts — the web UI's entry module. ES modules, no build step, nothing from elsewhere.
 *
 * - Server and user text is only ever rendered with textContent (dom.js `el`), never as HTML.
 * - Every rule the page explains (gating, ISC tiers, transitions, limits, score bands) comes from
 *   GET /v1/rules; the server still decides, and its errors are shown the same way.
 * - Modules talk through small events (state.js `on`/`emit`) instead of importing each other.
 */

import { renderBlacklistForm, loadBlacklist } from "./blacklist.js";
import { initBulk } from "./bulk.js";
import { initCampaigns, loadCampaigns, refreshCampaigns, selectCampaign } from "./campaigns.js";
import { startChangeFeed, stopChangeFeed } from "./changes.js";
import { closeDetail, initDetail, openDraft, openDraftId } from "./detail.js";
import { $, clear, el } from "./dom.js";
import { errorBox } from "./errors.js";
import { initDrafts, loadDrafts, renderDrafts, renderFilters } from "./drafts.js";
import { applyLimits, chooseArchetype, initGenerate, resumeInFlight, updateGating } from "./generate.js";
import { loadProfile, renderSubreddits } from "./profiles.js";
import { loadRules } from "./rules.js";
import { following, readRoute, writeRoute } from "./route.js";
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

// The view the address asks for, applied when its campaign is chosen (at load, back/forward).
let pendingRoute = null;
let booting = true;

function takeRoute(route) {
  state.statusFilter = new Set(route.status);
  state.subredditFilter = route.subreddit;
  state.search = route.q;
  state.sort = ["newest", "oldest", "score"].includes(route.sort) ? route.sort : "newest";
  state.archetypeFilter = route.archetype;
  state.reviewOnly = route.review;
}

/** Back or forward: show the view the address names, recording nothing. */
function followAddress() {
  following(async () => {
    const route = readRoute();
    if (!state.token || !state.campaigns.length) return;
    if (route.campaign && (!state.campaign || state.campaign.id !== route.campaign)) {
      pendingRoute = route;
      if (state.campaigns.some((c) => c.id === route.campaign)) {
        $("campaign-select").value = route.campaign;
        selectCampaign(route.campaign);
      } else {
        pendingRoute = null;
        loadCampaigns({ fromLink: true });
      }
      return;
    }
    takeRoute(route);
    renderFilters();
    loadDrafts({ reset: true });
    if (!route.draft) closeDetail();
    else if (!state.selected || state.selected.id !== route.draft) await openDraftId(route.draft, { fromLink: true });
  });
}

function init() {
  initToken();
  initCampaigns();
  initGenerate();
  initDrafts();
  initDetail();
  initBulk();
  $("subreddit-select").addEventListener("change", (event) => {
    const chip = document.querySelector(`#subreddit-chips [data-subreddit="${CSS.escape(event.target.value)}"]`);
    if (chip) chip.click();
  });

  on("token-changed", start);
  pendingRoute = readRoute();
  window.addEventListener("popstate", followAddress);
  on("campaign-selected", () => {
    // The address is followed (and written) once there is a campaign: signed out, it waits.
    const route = state.campaign ? pendingRoute : null;
    if (state.campaign) pendingRoute = null;
    if (route) takeRoute(route);
    closeDetail();
    clear($("bulk-result"));
    renderSubreddits();
    renderFilters();
    loadDrafts({ reset: true });
    if (route && route.draft && state.campaign) openDraftId(route.draft, { fromLink: true });
    if (state.campaign) {
      writeRoute({ replace: booting });
      booting = false;
    }
    loadBlacklist();
    renderBlacklistForm();
    updateGating();
    resumeInFlight();
  });
  on("open-draft", (draft) => openDraft(draft));
  on("open-draft-id", (id) => openDraftId(id));
  on("drafts-changed", () => loadDrafts({ reset: true }));
  on("drafts-render", () => {
    renderDrafts();
    $("nav-draft").hidden = !state.selected;
  });
  for (const button of document.querySelectorAll("#section-nav [data-goto]")) {
    button.addEventListener("click", () => {
      const card = $(button.dataset.goto);
      card.scrollIntoView({ block: "start", behavior: "instant" }); // also ends a smooth scroll under way
      const heading = card.querySelector("h2");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
      for (const other of document.querySelectorAll("#section-nav [data-goto]")) other.setAttribute("aria-current", String(other === button));
    });
  }
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
