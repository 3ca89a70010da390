/* The generate form: gating explained before submit (from the rules document), the plan limit,
 * a rate-limit countdown and a minimum context. The server still decides every one of them. */

import { api, enc } from "./api.js";
import { $, bindCounter, clear, el, shorten } from "./dom.js";
import { ERROR_WORDS, rateLimitCountdown, showError } from "./errors.js";
import { currentProfile } from "./profiles.js";
import { ACCOUNT_LABELS, archetypeLabel, formatIsc, gatingFor, iscTier, limits } from "./rules.js";
import { on, state } from "./state.js";
import { startStream } from "./stream.js";
import { loadUsage, planBlock } from "./usage.js";

let updateContextCounter = () => {};

const selectedArchetype = () => (document.querySelector('input[name="archetype"]:checked') || {}).value || "ProblemSolution";
const selectedAccount = () => (document.querySelector('input[name="account_status"]:checked') || {}).value || "Established";

export function chooseArchetype(value) {
  const radio = document.querySelector(`input[name="archetype"][value="${CSS.escape(value)}"]`);
  if (radio) {
    radio.checked = true;
    radio.focus();
  }
  updateGating();
}

/** Too short to write about ("a" gave "stuck on a and…"); empty is fine: the server then writes
 * about the campaign's keywords. */
function contextProblem() {
  const min = limits().context_min || 0;
  const max = limits().context_max;
  const length = $("context-input").value.trim().length;
  if (max && length > max) return `The context is ${length - max} characters over its ${max}-character limit: shorten it to generate.`;
  return length > 0 && length < min ? `Write at least ${min} characters of context (${length} so far), leave it empty to write about the campaign's keywords, or start from its description.` : null;
}

/** Why Generate is disabled right now, in words (null when it is not). */
function blockedReason() {
  if (state.campaign && state.campaign.status !== "active") return `This campaign is ${state.campaign.status}. Resume it to generate drafts.`;
  const plan = planBlock();
  if (plan) return plan;
  return null;
}

export function updateGating() {
  if (!state.rules) return;
  const panel = clear($("gating"));
  const entry = currentProfile();
  const account = selectedAccount();
  const archetype = selectedArchetype();
  const known = entry && (entry.status === "ok" || entry.status === "missing");
  const isc = entry && entry.status === "ok" ? entry.profile.isc_score : state.rules.isc.default;
  for (const tag of document.querySelectorAll("[data-refused-tag]")) {
    tag.hidden = !(state.subreddit && known && gatingFor(isc, tag.dataset.refusedTag, account).refused);
  }
  let refused = null;
  if (!state.campaign || !state.subreddit) {
    panel.append(el("p", { class: "muted", text: "Pick a campaign and a subreddit." }));
  } else if (!known) {
    panel.append(el("p", { class: "muted", text: "Checking the community profile…" }));
  } else {
    const gate = gatingFor(isc, archetype, account);
    refused = gate.refused;
    const basis =
      entry.status === "ok"
        ? `Based on r/${state.subreddit}'s ISC ${formatIsc(isc)} (${iscTier(isc)}) and ${account === "Established" ? "an" : "a"} ${ACCOUNT_LABELS[account].toLowerCase()} account.`
        : `r/${state.subreddit} has no profile: neutral defaults (ISC ${formatIsc(isc)}).`;
    const box = el("div", { class: refused ? "gate gate-refused" : "gate gate-ok", dataset: { gate: refused ? "refused" : "allowed", code: refused ? refused.code : "" } });
    if (refused) {
      box.append(
        el("p", { class: "gate-title", text: `Will be refused: ${ERROR_WORDS[refused.code] || refused.code}` }),
        el("p", { class: "gate-why", text: refused.why }),
        el("p", {}, [el("button", { type: "button", class: "btn btn-small", text: `Use ${archetypeLabel(refused.forced)} instead`, on: { click: () => chooseArchetype(refused.forced) } })]),
      );
    } else if (blockedReason()) {
      box.className = "gate gate-blocked";
      box.dataset.gate = "blocked";
      box.append(
        el("p", { class: "gate-title", text: "This community allows it, but you cannot generate right now:" }),
        el("p", { class: "gate-why", text: blockedReason() }),
        el("p", { class: "hint", text: "When you can, the draft will follow these rules:" }),
      );
    } else {
      box.append(el("p", { class: "gate-title", text: "Allowed — the draft will follow these rules:" }));
    }
    if (gate.rules.length) box.append(el("ul", {}, gate.rules.map((rule) => el("li", { text: rule }))));
    box.append(el("p", { class: "hint", text: `${basis} The server makes the final check.` }));
    panel.append(box);
  }
  const reason = blockedReason();
  const blocked = $("generate-blocked");
  blocked.hidden = !reason;
  blocked.textContent = reason || "";
  const waiting = Date.now() < state.rateLimitedUntil; // its countdown is in the error box
  const context = contextProblem();
  const empty = $("context-input").value.trim() === "";
  $("context-hint").textContent = context || (empty ? "Left empty, the draft is about the campaign's keywords." : "");
  const ready = state.campaign && state.subreddit && known && !refused && !reason && !context && !waiting;
  const button = $("generate-btn");
  button.disabled = !ready || state.submitting || state.streaming;
  button.textContent = state.submitting || state.streaming ? "Generating…" : "Generate draft";
  const feedbackMax = limits().feedback_max;
  const feedbackOver = feedbackMax && $("feedback-input").value.trim().length > feedbackMax;
  $("regenerate-btn").disabled = state.streaming || Boolean(reason) || waiting || Boolean(feedbackOver);
  const why = feedbackOver
    ? `The feedback is over its ${feedbackMax}-character limit: shorten it to regenerate.`
    : state.streaming
    ? "A draft is being written right now; Regenerate comes back when it is done."
    : reason || (waiting ? "Too many drafts asked for in a minute: Regenerate comes back when the countdown ends." : "");
  $("regenerate-blocked").hidden = !why;
  $("regenerate-blocked").textContent = why;
}

async function submitGenerate(event) {
  event.preventDefault();
  if (!state.campaign) return;
  const errorSlot = clear($("generate-error"));
  const body = { subreddit: state.subreddit, archetype: selectedArchetype(), account_status: selectedAccount(), context: $("context-input").value.trim() };
  state.submitting = true;
  updateGating();
  try {
    const accepted = await api("POST", `/v1/campaigns/${enc(state.campaign.id)}/drafts/generate`, body, { idempotent: true });
    startStream(accepted, `r/${body.subreddit} · ${archetypeLabel(body.archetype)} · ${ACCOUNT_LABELS[body.account_status]}`);
  } catch (error) {
    if (error.code === "RATE_LIMITED") rateLimitCountdown(errorSlot, error, updateGating);
    else showError(errorSlot, error, { title: "The draft was not started", onUseArchetype: chooseArchetype });
  } finally {
    state.submitting = false;
    updateGating();
    loadUsage();
  }
}

export function contextFromCampaign() {
  if (!state.campaign) return;
  const max = limits().context_max || 2000;
  $("context-input").value = shorten(state.campaign.description || state.campaign.product_context, max);
  updateContextCounter();
  updateGating();
}

export function initGenerate() {
  for (const input of document.querySelectorAll('input[name="archetype"], input[name="account_status"]')) input.addEventListener("change", updateGating);
  $("generate-form").addEventListener("submit", submitGenerate);
  $("context-from-campaign").addEventListener("click", contextFromCampaign);
  $("context-input").addEventListener("input", updateGating);
  on("rate-limited", (until) => {
    state.rateLimitedUntil = until;
    const tick = () => {
      updateGating();
      if (Date.now() < state.rateLimitedUntil) setTimeout(tick, 500);
    };
    tick();
  });
  for (const name of ["profile-changed", "usage-changed", "stream-changed"]) on(name, updateGating);
}

/** Called once the rules are loaded: the limits they give set the form's bounds. */
export function applyLimits() {
  const l = limits();
  const context = $("context-input");
  // No maxlength: a paste longer than the limit is kept whole and the counter says by how much
  // it is over (a browser would cut it silently).
  updateContextCounter = bindCounter(context, $("context-counter"), l.context_max, { min: l.context_min });
  bindCounter($("feedback-input"), $("feedback-counter"), l.feedback_max);
  $("feedback-input").addEventListener("input", updateGating);
}

/** After a reload (or in another tab): the campaign's generations still under way. The newest is
 * followed in the progress card from its start; the others are named under it, and their drafts
 * reach the list when they land (the change feed). */
export async function resumeInFlight() {
  const campaign = state.campaign;
  const others = $("inflight-others");
  clear(others).hidden = true;
  if (!campaign) return;
  let listed;
  try {
    listed = await api("GET", `/v1/campaigns/${enc(campaign.id)}/generations`);
  } catch (error) {
    return; // the page works without it; the drafts still land in the list
  }
  if (state.campaign !== campaign || !listed.tasks.length) return;
  const label = (task) =>
    task.kind === "regenerate" ? `regenerating a draft for r/${task.subreddit}` : `r/${task.subreddit} · ${archetypeLabel(task.archetype)}`;
  const tasks = [...listed.tasks];
  const newest = tasks.pop();
  if (!state.streaming) startStream(newest, label(newest), { resumed: true });
  if (tasks.length) {
    others.hidden = false;
    others.append(
      el("p", { class: "small-heading", text: `Also being written (${tasks.length}); each appears in Drafts when it is done:` }),
      el("ul", {}, tasks.map((task) => el("li", { dataset: { taskId: task.task_id }, text: label(task) }))),
    );
  }
}
