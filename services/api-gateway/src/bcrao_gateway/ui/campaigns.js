/* Campaigns: choose one, create and edit them (the API's messages beside each field), pause,
 * resume, archive and delete. Choosing a campaign emits "campaign-selected". */

import { api, enc } from "./api.js";
import { resolveConflict } from "./conflict.js";
import { confirmDialog } from "./dialog.js";
import { $, clear, el } from "./dom.js";
import { clearErrorsOnInput, clearFieldErrors, errorBox, showError, showFieldErrors } from "./errors.js";
import { readRoute } from "./route.js";
import { setTokenFormOpen } from "./token.js";
import { CAMPAIGN_KEY, emit, state } from "./state.js";

let editing = null; // null: the form creates; a campaign: the form edits it

const splitList = (text) => text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);

let linkChecked = false; // the address's campaign is checked at the first load, and on back/forward

export async function loadCampaigns({ select, fromLink = false } = {}) {
  const picker = $("campaign-select");
  try {
    const data = await api("GET", "/v1/campaigns?limit=100");
    state.campaigns = data.campaigns || [];
    setTokenFormOpen(false);
  } catch (error) {
    state.campaigns = [];
    clear(picker).append(el("option", { value: "", text: "Could not load campaigns" }));
    picker.disabled = true;
    showError($("campaign-error"), error, { title: "The campaigns could not be loaded" });
    return;
  }
  $("campaign-new").disabled = false;
  clear($("campaign-error"));
  clear(picker);
  const linkedId = select || (linkChecked && !fromLink) ? "" : readRoute().campaign;
  linkChecked = true;
  if (linkedId && !state.campaigns.some((c) => c.id === linkedId)) {
    $("campaign-error").append(errorBox(
      { code: "RESOURCE_NOT_FOUND", message: "It may have been deleted, or it belongs to another account: check that you are signed in as the person who shared the link. Your own campaigns are shown instead." },
      { title: "The campaign in this link was not found" },
    ));
  }
  if (!state.campaigns.length) {
    picker.append(el("option", { value: "", text: "No campaigns yet" }));
    picker.disabled = true;
    selectCampaign(null);
    openForm(null);
    return;
  }
  for (const campaign of state.campaigns) {
    const suffix = campaign.status !== "active" ? ` (${campaign.status})` : "";
    picker.append(el("option", { value: campaign.id, text: campaign.name + suffix }));
  }
  picker.disabled = false;
  const wanted = select || linkedId || localStorage.getItem(CAMPAIGN_KEY);
  const chosen = state.campaigns.find((c) => c.id === wanted) || state.campaigns[0];
  picker.value = chosen.id;
  selectCampaign(chosen.id);
}

export function selectCampaign(id) {
  const campaign = state.campaigns.find((c) => c.id === id) || null;
  state.campaign = campaign;
  if (campaign) localStorage.setItem(CAMPAIGN_KEY, campaign.id);
  $("campaign-edit").disabled = !campaign;
  $("campaign-description").textContent = campaign ? campaign.description || campaign.product_context : "";
  const actions = $("campaign-actions");
  actions.hidden = !campaign;
  if (campaign) {
    for (const button of actions.querySelectorAll("[data-campaign-status]")) {
      button.hidden = button.dataset.campaignStatus === campaign.status;
    }
    $("campaign-status").textContent =
      campaign.status === "active" ? "" : `This campaign is ${campaign.status}: no new drafts until it is active again.`;
  } else {
    $("campaign-status").textContent = "";
  }
  emit("campaign-selected", campaign);
}

/** A confirmation under the campaign picker; it stays until the next campaign action. */
function say(text) {
  const notice = $("campaign-notice");
  notice.textContent = text;
  notice.hidden = !text;
}

function openForm(campaign) {
  say("");
  editing = campaign;
  const form = $("campaign-form");
  form.hidden = false;
  clearFieldErrors(form);
  clear($("campaign-form-error"));
  $("campaign-form-heading").textContent = campaign ? `Edit “${campaign.name}”` : "New campaign";
  $("campaign-save").textContent = campaign ? "Save changes" : "Create campaign";
  $("cf-name").value = campaign ? campaign.name : "";
  $("cf-description").value = campaign ? campaign.description || "" : "";
  $("cf-product-context").value = campaign ? campaign.product_context : "";
  $("cf-product-url").value = campaign ? campaign.product_url || "" : "";
  $("cf-keywords").value = campaign ? campaign.keywords.join(", ") : "";
  $("cf-subreddits").value = campaign ? campaign.target_subreddits.join(", ") : "";
  $("cf-humanizer-level").value = campaign ? campaign.humanizer_level || "light" : "light";
  $("cf-name").focus();
}

function formBody() {
  const url = $("cf-product-url").value.trim();
  const description = $("cf-description").value.trim();
  return {
    name: $("cf-name").value.trim(),
    description: description || null,
    product_context: $("cf-product-context").value.trim(),
    product_url: url || null,
    keywords: splitList($("cf-keywords").value),
    target_subreddits: splitList($("cf-subreddits").value),
    humanizer_level: $("cf-humanizer-level").value,
  };
}

async function saveForm(event) {
  event.preventDefault();
  const form = $("campaign-form");
  const errorSlot = clear($("campaign-form-error"));
  clearFieldErrors(form);
  const body = formBody();
  try {
    const saved = editing
      ? await api("PATCH", `/v1/campaigns/${enc(editing.id)}`, body, { ifMatch: editing.version })
      : await api("POST", "/v1/campaigns", body);
    form.hidden = true;
    await loadCampaigns({ select: saved.id });
    say(editing ? `Changes to “${saved.name}” saved.` : `Campaign “${saved.name}” created. Next: pick a subreddit and load its community profile.`);
  } catch (error) {
    if (error.status === 412 && editing) {
      const { choice, current } = await resolveConflict("campaign", "campaign", editing, error);
      if (choice === "gone") {
        form.hidden = true;
        return loadCampaigns();
      }
      if (choice === "keep") {
        editing = current;
        return saveForm(event);
      }
      await loadCampaigns({ select: current.id });
      openForm(current);
      return;
    }
    if (error.code === "VALIDATION_ERROR") {
      const leftover = showFieldErrors(form, error);
      if (leftover.length) errorSlot.append(errorBox({ ...error, details: { errors: leftover } }, { title: "Please fix these" }));
      const first = form.querySelector(".field-error:not([hidden])");
      if (first) first.closest(".field").querySelector("input, textarea, select").focus();
    } else {
      showError(errorSlot, error, { title: "The campaign was not saved" });
    }
  }
}

async function setStatus(status) {
  const campaign = state.campaign;
  if (!campaign) return;
  try {
    const saved = await api("PATCH", `/v1/campaigns/${enc(campaign.id)}`, { status }, { ifMatch: campaign.version });
    await loadCampaigns({ select: saved.id });
    say(`“${saved.name}” is now ${saved.status}.`);
  } catch (error) {
    if (error.status === 412) {
      const { choice, current } = await resolveConflict("campaign", "campaign", campaign, error);
      if (choice === "keep") state.campaign = current;
      await loadCampaigns(current ? { select: current.id } : {});
      if (choice === "keep") return setStatus(status);
      return;
    }
    showError($("campaign-error"), error, { title: `The campaign was not ${status}` });
  }
}

async function deleteCampaign() {
  const campaign = state.campaign;
  if (!campaign) return;
  const ok = await confirmDialog({
    title: `Delete “${campaign.name}”?`,
    body: ["Its profiles, blacklist entries and drafts go with it. This cannot be undone."],
    ok: "Delete campaign",
    danger: true,
  });
  if (!ok) return;
  try {
    await api("DELETE", `/v1/campaigns/${enc(campaign.id)}`, undefined, { ifMatch: campaign.version });
    localStorage.removeItem(CAMPAIGN_KEY);
    await loadCampaigns();
    say(`Campaign “${campaign.name}” deleted.`);
  } catch (error) {
    if (error.status === 412) {
      const { current } = await resolveConflict("campaign", "campaign", campaign, error);
      await loadCampaigns(current ? { select: current.id } : {});
      return;
    }
    showError($("campaign-error"), error, { title: "The campaign was not deleted" });
  }
}

/** Another tab or window changed a campaign (change feed): refresh the names and the chosen
 * campaign's facts in place; only a campaign whose targets changed, or that is gone, is chosen
 * again (which reloads its sections). */
export async function refreshCampaigns() {
  const before = state.campaign;
  let data;
  try {
    data = await api("GET", "/v1/campaigns?limit=100");
  } catch (error) {
    return;
  }
  const fresh = data.campaigns || [];
  const now = before && fresh.find((c) => c.id === before.id);
  if (!before || !now || JSON.stringify(now.target_subreddits) !== JSON.stringify(before.target_subreddits) || fresh.length !== state.campaigns.length) {
    return loadCampaigns(now ? { select: now.id } : {});
  }
  state.campaigns = fresh;
  const picker = $("campaign-select");
  for (const option of picker.options) {
    const campaign = fresh.find((c) => c.id === option.value);
    if (campaign) option.textContent = campaign.name + (campaign.status !== "active" ? ` (${campaign.status})` : "");
  }
  state.campaign = now;
  $("campaign-description").textContent = now.description || now.product_context;
  for (const button of $("campaign-actions").querySelectorAll("[data-campaign-status]")) button.hidden = button.dataset.campaignStatus === now.status;
  $("campaign-status").textContent = now.status === "active" ? "" : `This campaign is ${now.status}: no new drafts until it is active again.`;
  emit("campaign-updated", now);
}

export function initCampaigns() {
  $("campaign-select").addEventListener("change", (event) => selectCampaign(event.target.value));
  $("campaign-new").addEventListener("click", () => openForm(null));
  $("campaign-edit").addEventListener("click", () => state.campaign && openForm(state.campaign));
  $("campaign-cancel").addEventListener("click", () => ($("campaign-form").hidden = true));
  $("campaign-form").addEventListener("submit", saveForm);
  for (const button of document.querySelectorAll("[data-campaign-status]")) {
    button.addEventListener("click", () => setStatus(button.dataset.campaignStatus));
  }
  $("campaign-delete").addEventListener("click", deleteCampaign);
  clearErrorsOnInput($("campaign-form"));
}
