/* BC-RAO Drafts — the web UI. Vanilla JS, no build step, nothing loaded from elsewhere.
 *
 * Rules this file keeps:
 * - Server text is only ever rendered with textContent (the `el` helper), never parsed as HTML.
 * - Every API call sends `Authorization: Bearer <token>`; errors arrive in the envelope
 *   {"error": {"code", "message", "details"}} and are shown as code + message (+ details).
 * - The gating rules are shown before submit and refused combinations cannot be submitted, but
 *   the server decides: its stream `error` is rendered the same way.
 */
"use strict";

const TOKEN_KEY = "bcrao.token";
const CAMPAIGN_KEY = "bcrao.campaign";
const CONTEXT_MAX = 2000;
const FEEDBACK_MAX = 1000;
const DEFAULT_ISC = 5.0; // DOMAIN.md: generation without a profile uses neutral defaults, ISC 5.0
const PAGE_SIZE = 20;

const STAGES = [
  ["loading_profile", "Loading profile"],
  ["checking_gating", "Checking gating"],
  ["building_prompt", "Building prompt"],
  ["generating", "Generating"],
  ["validating", "Validating"],
  ["scoring", "Scoring"],
  ["saving", "Saving"],
];
const STATUSES = ["generated", "edited", "approved", "posted", "discarded"];
const ARCHETYPE_LABELS = {
  ProblemSolution: "Problem → solution",
  Journey: "Journey",
  Feedback: "Feedback",
};
const ACCOUNT_LABELS = { New: "New", WarmingUp: "Warming up", Established: "Established" };
// Mirrors draft-store's transition table; only used to enable buttons (a 409 is still shown).
const TRANSITIONS = {
  generated: ["edited", "approved", "discarded"],
  edited: ["edited", "approved", "discarded"],
  approved: ["edited", "posted", "discarded"],
  posted: [],
  discarded: [],
};

const state = {
  token: "",
  campaigns: [],
  campaign: null,
  subreddit: "",
  profiles: new Map(), // "<campaign>/<subreddit>" -> {status: "loading"|"ok"|"missing"|"error", profile, error}
  statusFilter: new Set(),
  drafts: [],
  draftsTotal: 0,
  selected: null,
  stream: null,
  streaming: false,
  submitting: false,
};

/* ---------- small helpers ---------- */

const $ = (id) => document.getElementById(id);

/** Build an element; text goes through textContent, never parsed as HTML. */
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "on") for (const [evt, fn] of Object.entries(value)) node.addEventListener(evt, fn);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function fmtNumber(value, digits = 1) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function fmtDate(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function fmtMoney(value) {
  return typeof value === "number" ? `$${value.toFixed(value < 1 && value > 0 ? 4 : 2)}` : "–";
}

function iscTier(isc) {
  if (isc < 3) return "Low";
  if (isc < 5) return "Moderate";
  if (isc < 7) return "High";
  return "Very High";
}

function scoreBand(score) {
  if (score >= 8) return "excellent";
  if (score >= 6) return "good";
  if (score >= 4) return "moderate";
  return "low";
}

function shorten(text, max) {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, "")}…`;
}

function paragraphs(text) {
  const parts = String(text || "").split(/\n\s*\n/).filter((p) => p.trim() !== "");
  return parts.map((part) => el("p", { text: part.trim() }));
}

/* ---------- API ---------- */

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (exc) {
    throw new ApiError(0, "NETWORK_ERROR", "The API could not be reached. Is the gateway running?");
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch (exc) {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && payload.error;
    const failure = error
      ? new ApiError(response.status, error.code || `HTTP_${response.status}`, error.message || "", error.details)
      : new ApiError(response.status, `HTTP_${response.status}`, response.statusText || "Request failed");
    if (failure.status === 401) noteTokenRejected(failure);
    throw failure;
  }
  return payload;
}

/* ---------- error rendering ---------- */

function detailsList(details) {
  const entries = Object.entries(details || {}).filter(
    ([key]) => key !== "forced_archetype" && key !== "constraints",
  );
  if (!entries.length) return null;
  const list = el("dl", { class: "details" });
  for (const [key, value] of entries) {
    list.append(el("dt", { text: key.replace(/_/g, " ") }));
    const dd = el("dd");
    if (Array.isArray(value)) {
      const ul = el("ul");
      for (const item of value) {
        ul.append(el("li", { text: typeof item === "object" && item !== null ? describeObject(item) : item }));
      }
      dd.append(ul);
    } else if (typeof value === "object" && value !== null) {
      dd.textContent = describeObject(value);
    } else {
      dd.textContent = key.endsWith("_at") ? fmtDate(value) : String(value);
    }
    list.append(dd);
  }
  return list;
}

function describeObject(obj) {
  return Object.entries(obj)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(".") : typeof v === "object" && v ? JSON.stringify(v) : v}`)
    .join(" · ");
}

/** An error box: code badge, message, gating details (forced archetype, constraints), the rest. */
function errorBox(error, { title } = {}) {
  const code = error.code || "ERROR";
  const box = el("div", { class: "error-box", dataset: { code } }, [
    el("p", { class: "error-title" }, [
      el("span", { class: "code", text: code }),
      " ",
      el("span", { text: title || error.message || "Something went wrong" }),
    ]),
  ]);
  if (title && error.message) box.append(el("p", { class: "error-message", text: error.message }));
  const details = error.details || {};
  if (details.forced_archetype) {
    const forced = details.forced_archetype;
    box.append(
      el("p", {}, [
        "Allowed instead: ",
        el("strong", { class: "forced-archetype", text: ARCHETYPE_LABELS[forced] || forced }),
        " ",
        el("button", {
          type: "button",
          class: "btn btn-small",
          text: `Use ${ARCHETYPE_LABELS[forced] || forced}`,
          on: { click: () => chooseArchetype(forced) },
        }),
      ]),
    );
  }
  if (Array.isArray(details.constraints) && details.constraints.length) {
    box.append(el("p", { class: "small-heading", text: "Constraints that apply here" }));
    box.append(el("ul", { class: "constraints" }, details.constraints.map((c) => el("li", { text: c }))));
  }
  const rest = detailsList(details);
  if (rest) box.append(rest);
  return box;
}

function showError(container, error, options) {
  clear(container).append(errorBox(error, options));
}

function showGlobalError(error) {
  const box = $("global-error");
  clear(box).append(errorBox(error));
  box.hidden = false;
}

function clearGlobalError() {
  clear($("global-error")).hidden = true;
}

/* ---------- token ---------- */

function normalizeToken(raw) {
  return raw
    .trim()
    .replace(/^export\s+TOKEN=/i, "")
    .replace(/^["']|["']$/g, "")
    .replace(/^Bearer\s+/i, "")
    .trim();
}

function tokenSubject(token) {
  try {
    const part = token.split(".")[1];
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json);
    return { sub: claims.sub, exp: claims.exp };
  } catch (exc) {
    return null;
  }
}

function describeToken() {
  const info = tokenSubject(state.token);
  const note = $("token-state");
  note.classList.remove("bad");
  if (!state.token) {
    note.textContent = "No token yet.";
    return;
  }
  if (!info) {
    note.textContent = "Token saved (it does not look like a JWT; the API will say).";
    return;
  }
  const expires = info.exp ? ` · expires ${fmtDate(info.exp * 1000)}` : "";
  note.textContent = `Signed in as ${info.sub || "?"}${expires}`;
}

function noteTokenRejected(error) {
  const note = $("token-state");
  note.textContent = `Token rejected — ${error.code}: ${error.message}`;
  note.classList.add("bad");
  setTokenFormOpen(true);
}

/** Once a token works, the form folds away behind "Change token". */
function setTokenFormOpen(open) {
  $("token-form").hidden = !open;
  const change = $("token-change");
  change.hidden = open;
  change.setAttribute("aria-expanded", String(open));
}

function useToken(raw) {
  state.token = normalizeToken(raw);
  if (state.token) localStorage.setItem(TOKEN_KEY, state.token);
  else localStorage.removeItem(TOKEN_KEY);
  $("token-input").value = state.token;
  describeToken();
  start();
}

/* ---------- usage ---------- */

async function loadUsage() {
  const badge = $("usage");
  if (!state.token) {
    badge.hidden = true;
    return;
  }
  try {
    const usage = await api("GET", "/v1/usage");
    const limit = usage.drafts_limit === null || usage.drafts_limit === undefined ? "∞" : usage.drafts_limit;
    const full = usage.drafts_limit !== null && usage.drafts_used >= usage.drafts_limit;
    clear(badge).append(
      el("span", { class: "plan", text: usage.plan }),
      el("span", { class: "usage-item" }, [el("strong", { text: `${usage.drafts_used} / ${limit}` }), " drafts"]),
      el("span", { class: "usage-item" }, [
        el("strong", { text: `${fmtMoney(usage.spend_usd)} / ${fmtMoney(usage.spend_limit_usd)}` }),
        " spend",
      ]),
      el("span", { class: "usage-item muted", text: `resets ${fmtDate(usage.resets_at)}` }),
    );
    badge.classList.toggle("full", full);
    badge.setAttribute("aria-label", `Usage: ${usage.drafts_used} of ${limit} drafts this month`);
    badge.hidden = false;
  } catch (error) {
    clear(badge).append(el("span", { class: "code", text: error.code }), " usage unavailable");
    badge.hidden = false;
  }
}

/* ---------- campaigns, subreddits, profiles ---------- */

async function loadCampaigns() {
  const select = $("campaign-select");
  try {
    const data = await api("GET", "/v1/campaigns");
    state.campaigns = data.campaigns || [];
    clearGlobalError();
    setTokenFormOpen(false);
  } catch (error) {
    state.campaigns = [];
    clear(select).append(el("option", { value: "", text: "Could not load campaigns" }));
    select.disabled = true;
    showGlobalError(error);
    return;
  }
  clear(select);
  if (!state.campaigns.length) {
    select.append(el("option", { value: "", text: "No campaigns yet (create one with POST /v1/campaigns)" }));
    select.disabled = true;
    selectCampaign(null);
    return;
  }
  for (const campaign of state.campaigns) {
    const suffix = campaign.status && campaign.status !== "active" ? ` (${campaign.status})` : "";
    select.append(el("option", { value: campaign.id, text: campaign.name + suffix }));
  }
  select.disabled = false;
  const remembered = localStorage.getItem(CAMPAIGN_KEY);
  const chosen = state.campaigns.find((c) => c.id === remembered) || state.campaigns[0];
  select.value = chosen.id;
  selectCampaign(chosen.id);
}

function selectCampaign(id) {
  const campaign = state.campaigns.find((c) => c.id === id) || null;
  state.campaign = campaign;
  state.selected = null;
  $("detail-card").hidden = true;
  if (campaign) localStorage.setItem(CAMPAIGN_KEY, campaign.id);
  $("campaign-description").textContent = campaign ? campaign.description || campaign.product_context || "" : "";

  const chips = clear($("subreddit-chips"));
  const select = clear($("subreddit-select"));
  const subs = campaign ? campaign.target_subreddits || [] : [];
  if (subs.length) chips.append(el("span", { class: "chips-label", text: "Target subreddits:" }));
  for (const sub of subs) {
    chips.append(
      el("button", {
        type: "button",
        class: "chip",
        "aria-pressed": "false",
        dataset: { subreddit: sub },
        text: `r/${sub}`,
        on: { click: () => selectSubreddit(sub) },
      }),
    );
    select.append(el("option", { value: sub, text: `r/${sub}` }));
  }
  select.disabled = !subs.length;
  selectSubreddit(subs[0] || "");
  loadDrafts({ reset: true });
}

function profileKey(sub) {
  return `${state.campaign ? state.campaign.id : ""}/${sub}`;
}

function currentProfile() {
  return state.profiles.get(profileKey(state.subreddit)) || null;
}

function selectSubreddit(sub) {
  state.subreddit = sub;
  $("subreddit-select").value = sub;
  for (const chip of document.querySelectorAll("#subreddit-chips .chip")) {
    chip.setAttribute("aria-pressed", String(chip.dataset.subreddit === sub));
  }
  if (sub) loadProfile(sub);
  else clear($("profile"));
  updateGating();
}

async function loadProfile(sub, { force = false } = {}) {
  const campaign = state.campaign;
  if (!campaign) return;
  const key = profileKey(sub);
  if (!force && state.profiles.has(key) && state.profiles.get(key).status !== "error") {
    renderProfile();
    return;
  }
  state.profiles.set(key, { status: "loading" });
  renderProfile();
  let entry;
  try {
    const profile = await api(
      "GET",
      `/v1/campaigns/${encodeURIComponent(campaign.id)}/profiles/${encodeURIComponent(sub)}`,
    );
    entry = { status: "ok", profile };
  } catch (error) {
    entry = error.status === 404 ? { status: "missing" } : { status: "error", error };
  }
  state.profiles.set(key, entry);
  if (profileKey(state.subreddit) === key) {
    renderProfile();
    updateGating();
  }
}

function renderProfile() {
  const box = clear($("profile"));
  const sub = state.subreddit;
  const entry = currentProfile();
  if (!sub || !entry) return;
  if (entry.status === "loading") {
    box.append(el("p", { class: "muted", text: `Loading the profile of r/${sub}…` }));
    return;
  }
  if (entry.status === "missing") {
    box.append(
      el("div", { class: "warning", role: "status", dataset: { testid: "no-profile" } }, [
        el("strong", { text: `No profile for r/${sub}` }),
        el("span", {
          text:
            " — generation uses neutral defaults (ISC 5.0, neutral tone). " +
            "Load a community profile for a draft that fits this community.",
        }),
      ]),
    );
    return;
  }
  if (entry.status === "error") {
    box.append(errorBox(entry.error, { title: `The profile of r/${sub} could not be loaded` }));
    return;
  }
  const p = entry.profile;
  const tier = iscTier(p.isc_score);
  const tierClass = tier.toLowerCase().replace(/\s+/g, "-");
  box.append(
    el("div", { class: "profile-card" }, [
      el("div", { class: `isc tier-${tierClass}` }, [
        el("span", { class: "isc-label", text: "ISC" }),
        el("span", { class: "isc-value", text: fmtNumber(p.isc_score) }),
        el("span", { class: "isc-tier", text: tier }),
      ]),
      el("dl", { class: "profile-facts" }, [
        el("dt", { text: "Community" }),
        el("dd", { text: `r/${p.subreddit || sub}` }),
        el("dt", { text: "Tone" }),
        el("dd", { text: p.dominant_tone || "neutral" }),
        el("dt", { text: "Formality" }),
        el("dd", { text: `grade ${fmtNumber(p.formality_level)}` }),
        el("dt", { text: "Sentences" }),
        el("dd", { text: `${fmtNumber(p.avg_sentence_length)} words on average` }),
        p.sample_size ? el("dt", { text: "Sample" }) : null,
        p.sample_size ? el("dd", { text: `${p.sample_size} posts` }) : null,
        p.analyzed_at ? el("dt", { text: "Analyzed" }) : null,
        p.analyzed_at ? el("dd", { text: fmtDate(p.analyzed_at) }) : null,
      ]),
    ]),
  );
  if (p.isc_score > 7.5) {
    box.append(
      el("p", {
        class: "hint",
        text: "Very high sensitivity (ISC above 7.5): only Feedback posts are generated here.",
      }),
    );
  }
}

/* ---------- gating (shown before submit; the server still decides) ---------- */

function selectedArchetype() {
  const checked = document.querySelector('input[name="archetype"]:checked');
  return checked ? checked.value : "ProblemSolution";
}

function selectedAccountStatus() {
  const checked = document.querySelector('input[name="account_status"]:checked');
  return checked ? checked.value : "Established";
}

function chooseArchetype(value) {
  const radio = document.querySelector(`input[name="archetype"][value="${value}"]`);
  if (radio) {
    radio.checked = true;
    radio.focus();
  }
  updateGating();
}

/** DOMAIN.md gating, in the server's order: New account, then ISC > 7.5, then warm-up. */
function gatingFor(isc, archetype, account) {
  const rules = [];
  let refused = null;
  if (account === "New") {
    rules.push(
      "New account — warm-up mode: only Feedback; maximum vulnerability (first person, doubts, " +
        "questions); zero links; no product pitch, asking for help only.",
    );
    if (archetype !== "Feedback") {
      refused = {
        code: "WARMUP_ARCHETYPE_BLOCKED",
        forced: "Feedback",
        why: `New accounts may only post Feedback; ${ARCHETYPE_LABELS[archetype]} is refused.`,
      };
    }
  }
  if (isc > 7.5) {
    rules.push(
      `ISC ${fmtNumber(isc)} > 7.5 — Journey and Problem → solution are refused; very high ` +
        "sensitivity: zero links, minimal promotional language, genuine uncertainty and a " +
        "request for the community's guidance.",
    );
    if (!refused && (archetype === "Journey" || archetype === "ProblemSolution")) {
      refused = {
        code: "ISC_ARCHETYPE_BLOCKED",
        forced: "Feedback",
        why: `This community's ISC is ${fmtNumber(isc)} (above 7.5): ${ARCHETYPE_LABELS[archetype]} posts are refused.`,
      };
    }
  }
  if (account === "WarmingUp") {
    rules.push("Warming-up account — zero links; the product may appear only in the last paragraph.");
  }
  if (isc > 5 && isc <= 7.5) rules.push("Elevated sensitivity (ISC above 5): authenticity first.");
  if (isc <= 3) rules.push("Low sensitivity (ISC 3 or less): plain promotional language is fine.");
  const briefs = {
    ProblemSolution: "Problem → solution: about 90% pain, 10% solution; no greeting; the fix short, at the end.",
    Journey: "Journey: a building diary with milestones, timeframes, concrete numbers and setbacks.",
    Feedback: "Feedback: the community are the experts; specific questions; asks for criticism, not praise.",
  };
  if (!refused) rules.push(briefs[archetype]);
  return { refused, rules };
}

function updateGating() {
  const panel = clear($("gating"));
  const button = $("generate-btn");
  const entry = currentProfile();
  const account = selectedAccountStatus();
  const archetype = selectedArchetype();
  const known = entry && (entry.status === "ok" || entry.status === "missing");
  const isc = entry && entry.status === "ok" ? entry.profile.isc_score : DEFAULT_ISC;

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
        ? `Based on r/${state.subreddit}'s ISC ${fmtNumber(isc)} (${iscTier(isc)}) and ${account === "Established" ? "an" : "a"} ${ACCOUNT_LABELS[account].toLowerCase()} account.`
        : `r/${state.subreddit} has no profile: neutral defaults (ISC ${fmtNumber(DEFAULT_ISC)}).`;
    const box = el("div", {
      class: refused ? "gate gate-refused" : "gate gate-ok",
      dataset: { gate: refused ? "refused" : "allowed", code: refused ? refused.code : "" },
    });
    if (refused) {
      box.append(
        el("p", { class: "gate-title" }, [el("span", { class: "code", text: refused.code }), " Will be refused"]),
        el("p", { class: "gate-why", text: refused.why }),
        el("p", {}, [
          el("button", {
            type: "button",
            class: "btn btn-small",
            text: `Use ${ARCHETYPE_LABELS[refused.forced]} instead`,
            on: { click: () => chooseArchetype(refused.forced) },
          }),
        ]),
      );
    } else {
      box.append(el("p", { class: "gate-title", text: "Allowed — the draft will follow these rules:" }));
    }
    box.append(el("ul", {}, gate.rules.map((rule) => el("li", { text: rule }))));
    box.append(el("p", { class: "hint", text: `${basis} The server makes the final check.` }));
    panel.append(box);
  }

  const ready = state.campaign && state.subreddit && known && !refused;
  button.disabled = !ready || state.submitting || state.streaming;
  button.textContent = state.submitting || state.streaming ? "Generating…" : "Generate draft";
}

/* ---------- generate and stream ---------- */

async function submitGenerate(event) {
  event.preventDefault();
  if (!state.campaign) return;
  const errorSlot = clear($("generate-error"));
  const body = {
    subreddit: state.subreddit,
    archetype: selectedArchetype(),
    account_status: selectedAccountStatus(),
    context: $("context-input").value,
  };
  state.submitting = true;
  updateGating();
  try {
    const accepted = await api(
      "POST",
      `/v1/campaigns/${encodeURIComponent(state.campaign.id)}/drafts/generate`,
      body,
    );
    startStream(accepted, `r/${body.subreddit} · ${ARCHETYPE_LABELS[body.archetype]} · ${ACCOUNT_LABELS[body.account_status]}`);
  } catch (error) {
    showError(errorSlot, error, { title: "The draft was not started" });
  } finally {
    state.submitting = false;
    updateGating();
    loadUsage();
  }
}

function resetProgress(label) {
  const card = $("progress-card");
  card.hidden = false;
  $("progress-heading").textContent = label ? `Generation — ${label}` : "Generation";
  const list = clear($("stages"));
  for (const [stage, name] of STAGES) {
    list.append(
      el("li", { class: "stage", dataset: { stage, state: "pending" } }, [
        el("span", { class: "stage-icon", "aria-hidden": "true" }),
        el("span", { class: "stage-name", text: name }),
        el("span", { class: "visually-hidden stage-state", text: " (waiting)" }),
        el("span", { class: "stage-message" }),
      ]),
    );
  }
  clear($("live-text"));
  $("live-wrap").hidden = true;
  clear($("stream-error"));
  clear($("result"));
  setConnection("Connecting…", "pending");
  const rect = card.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight - 120) card.scrollIntoView({ behavior: "smooth", block: "start" });
}

function setConnection(text, kind) {
  const badge = $("connection");
  badge.textContent = text;
  badge.dataset.state = kind;
}

const STAGE_STATE_TEXT = { pending: " (waiting)", active: " (in progress)", done: " (done)", failed: " (failed)" };

function markStage(stage, message) {
  const items = [...document.querySelectorAll("#stages .stage")];
  const index = items.findIndex((li) => li.dataset.stage === stage);
  if (index < 0) return;
  items.forEach((li, i) => {
    const value = i < index ? "done" : i === index ? "active" : li.dataset.state === "done" ? "pending" : li.dataset.state;
    setStageState(li, value);
  });
  items[index].querySelector(".stage-message").textContent = message || "";
}

function setStageState(li, value) {
  li.dataset.state = value;
  li.querySelector(".stage-state").textContent = STAGE_STATE_TEXT[value] || "";
  if (value === "active") li.setAttribute("aria-current", "step");
  else li.removeAttribute("aria-current");
}

function finishStages(ok) {
  for (const li of document.querySelectorAll("#stages .stage")) {
    if (ok) setStageState(li, "done");
    else if (li.dataset.state === "active") setStageState(li, "failed");
  }
}

function closeStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
  state.streaming = false;
  updateGating();
  $("regenerate-btn").disabled = false;
}

/** Follow one task's SSE stream (generate and regenerate alike). */
function startStream(accepted, label) {
  closeStream();
  resetProgress(label);
  // stream_url is relative to the gateway origin and carries its own signed ?token=.
  const url = new URL(accepted.stream_url, window.location.href).href;
  const source = new EventSource(url);
  state.stream = source;
  state.streaming = true;
  updateGating();
  $("regenerate-btn").disabled = true;

  source.onopen = () => setConnection("Live", "live");
  source.onmessage = (event) => {
    if (state.stream !== source) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (exc) {
      return; // not ours to show; the stream goes on
    }
    handleStreamMessage(message, source);
  };
  source.onerror = () => {
    if (state.stream !== source) return;
    if (source.readyState === EventSource.CONNECTING) {
      // The browser reconnects by itself and sends Last-Event-ID: only missed events come back.
      setConnection("Reconnecting…", "reconnecting");
      return;
    }
    setConnection("Connection lost", "lost");
    finishStages(false);
    showError($("stream-error"), {
      code: "CONNECTION_LOST",
      message:
        "The progress stream closed before the draft was finished. If it was saved, it will " +
        "appear in the drafts list.",
    });
    closeStream();
    loadDrafts({ reset: true });
  };
}

function handleStreamMessage(message, source) {
  switch (message.type) {
    case "status": {
      setConnection("Live", "live");
      if (message.stage === "generating" && /^starting over/i.test(message.message || "")) {
        clear($("live-text"));
      }
      markStage(message.stage, message.message);
      break;
    }
    case "chunk": {
      setConnection("Live", "live");
      const live = $("live-text");
      $("live-wrap").hidden = false;
      live.append(document.createTextNode(message.content || ""));
      live.scrollTop = live.scrollHeight;
      break;
    }
    case "complete": {
      source.close();
      finishStages(true);
      setConnection("Done", "done");
      $("live-wrap").hidden = true;
      const draft = message.draft;
      const result = clear($("result"));
      result.append(
        draftView(draft, { headingLevel: "h3" }),
        el("div", { class: "actions" }, [
          el("button", {
            type: "button",
            class: "btn btn-primary",
            text: "Edit, approve or regenerate",
            on: { click: () => openDraft(draft) },
          }),
        ]),
      );
      closeStream();
      loadDrafts({ reset: true });
      loadUsage();
      break;
    }
    case "error": {
      source.close();
      finishStages(false);
      setConnection("Stopped", "lost");
      showError($("stream-error"), message, { title: refusalTitle(message.code) });
      if (message.code === "ISC_ARCHETYPE_BLOCKED") {
        // The server knew a different ISC than this page: fetch the profile again.
        loadProfile(state.subreddit, { force: true });
      }
      closeStream();
      loadUsage();
      break;
    }
    default:
      break;
  }
}

function refusalTitle(code) {
  if (code === "ISC_ARCHETYPE_BLOCKED") return "Refused: this community is too sensitive for that archetype";
  if (code === "WARMUP_ARCHETYPE_BLOCKED") return "Refused: a new account may only ask for feedback";
  if (code === "LLM_UNAVAILABLE") return "The language model is unavailable; try again shortly";
  return "The draft could not be generated";
}

/* ---------- draft rendering (result card and detail) ---------- */

function badge(text, kind) {
  return el("span", { class: `badge badge-${kind}`, text });
}

function statusBadge(status) {
  return badge(status, `status-${status}`);
}

function scoreRow(name, value, { penalty = false } = {}) {
  const band = penalty ? "penalty" : scoreBand(value);
  const width = Math.max(0, Math.min(10, Number(value) || 0)) * 10;
  const bar = el("span", { class: "bar", "aria-hidden": "true" }, [el("span", { class: `fill band-${band}` })]);
  bar.firstChild.style.width = `${width}%`;
  return el("div", { class: "score-row", dataset: { score: name } }, [
    el("span", { class: "score-name", text: name }),
    bar,
    el("span", { class: "score-value", text: fmtNumber(value) }),
    el("span", {
      class: `score-band band-${band}`,
      text: penalty ? (value > 0 ? "penalty" : "none") : band,
    }),
  ]);
}

function scoresView(scores) {
  if (!scores) return null;
  const overallBand = scoreBand(scores.overall);
  // Bands (DOMAIN.md) describe the 0–10 scores; penalties read "lower is better" instead.
  return el("div", { class: "scores" }, [
    el("div", { class: `overall band-${overallBand}`, dataset: { testid: "overall" } }, [
      el("span", { class: "overall-value", text: fmtNumber(scores.overall) }),
      el("span", { class: "overall-label" }, [el("span", { text: "overall" }), el("strong", { text: overallBand })]),
    ]),
    el("div", { class: "score-rows" }, [
      scoreRow("vulnerability", scores.vulnerability),
      scoreRow("rhythm match", scores.rhythm_match),
      scoreRow("formality match", scores.formality_match),
      scoreRow("burstiness", scores.burstiness),
      scoreRow("jargon", scores.jargon_penalty, { penalty: true }),
      scoreRow("links", scores.link_penalty, { penalty: true }),
    ]),
  ]);
}

function validationView(draft) {
  const report = draft.validation || {};
  const hits = report.blacklist_hits || [];
  const tells = report.machine_tells || [];
  const removed = report.links_removed || [];
  const warnings = draft.warnings || [];
  const section = el("div", { class: "validation" }, [el("h4", { class: "small-heading", text: "Validation report" })]);
  section.append(
    el("p", { class: "facts" }, [
      report.needs_review ? badge("needs review", "review") : badge("no high-severity hits", "ok"),
      el("span", { text: `${report.link_count ?? 0} link(s)` }),
      el("span", { text: `${report.sentence_count ?? 0} sentences, ${fmtNumber(report.avg_sentence_length)} words avg` }),
    ]),
  );
  const group = (title, items, render) => {
    const block = el("div", { class: "report-group" }, [el("p", { class: "report-title" }, [title, " ", el("span", { class: "count", text: String(items.length) })])]);
    if (items.length) block.append(el("ul", {}, items.map(render)));
    else block.append(el("p", { class: "muted", text: "None" }));
    return block;
  };
  section.append(
    group("Blacklist hits", hits, (hit) =>
      el("li", {}, [
        badge(hit.severity, `sev-${hit.severity}`),
        " ",
        el("q", { text: hit.matched_text }),
        el("span", { class: "muted", text: ` — ${hit.description || hit.entry} (${hit.category})` }),
      ]),
    ),
    group("Machine tells", tells, (tell) =>
      el("li", {}, [el("span", { class: "tell-category", text: tell.category }), ": ", el("q", { text: tell.matched_text })]),
    ),
    group("Links removed", removed, (link) => el("li", {}, [el("code", { text: link })])),
  );
  if (warnings.length) {
    section.append(group("Warnings", warnings, (w) => el("li", { text: w })));
  }
  return section;
}

function draftView(draft, { headingLevel = "h3" } = {}) {
  const view = el("article", { class: "draft", dataset: { draftId: draft.id, testid: "draft" } });
  view.append(el(headingLevel, { class: "draft-title", text: draft.title }));
  view.append(
    el("p", { class: "meta" }, [
      statusBadge(draft.status),
      draft.validation && draft.validation.needs_review ? badge("needs review", "review") : null,
      el("span", { text: `r/${draft.subreddit}` }),
      el("span", { text: ARCHETYPE_LABELS[draft.archetype] || draft.archetype }),
      el("span", { text: `${ACCOUNT_LABELS[draft.account_status] || draft.account_status} account` }),
      draft.parent_draft_id ? el("span", { text: "regenerated" }) : null,
      el("span", { class: "muted", text: fmtDate(draft.created_at) }),
    ]),
  );
  if (draft.user_edits) {
    view.append(el("p", { class: "small-heading", text: "Your edited version" }));
    view.append(el("div", { class: "draft-body" }, paragraphs(draft.user_edits)));
    view.append(
      el("details", { class: "original" }, [
        el("summary", { text: "Original generated text" }),
        el("div", { class: "draft-body" }, paragraphs(draft.body)),
      ]),
    );
  } else {
    view.append(el("div", { class: "draft-body" }, paragraphs(draft.body)));
  }
  view.append(scoresView(draft.scores));
  view.append(validationView(draft));
  const cost = typeof draft.cost_usd === "number" && draft.cost_usd > 0 ? ` · ${fmtMoney(draft.cost_usd)}` : "";
  view.append(
    el("p", { class: "model muted" }, [
      "Model: ",
      el("code", { class: "model-used", text: draft.model_used }),
      draft.token_count ? ` · ${draft.token_count} tokens` : "",
      cost,
    ]),
  );
  return view;
}

/* ---------- drafts list ---------- */

function renderStatusFilters() {
  const group = clear($("status-filters"));
  const chip = (label, pressed, onClick, value) =>
    el("button", {
      type: "button",
      class: "chip",
      "aria-pressed": String(pressed),
      dataset: { status: value },
      text: label,
      on: { click: onClick },
    });
  group.append(
    chip("All", state.statusFilter.size === 0, () => {
      state.statusFilter.clear();
      renderStatusFilters();
      loadDrafts({ reset: true });
    }, "all"),
  );
  for (const status of STATUSES) {
    group.append(
      chip(status, state.statusFilter.has(status), () => {
        if (state.statusFilter.has(status)) state.statusFilter.delete(status);
        else state.statusFilter.add(status);
        renderStatusFilters();
        loadDrafts({ reset: true });
      }, status),
    );
  }
}

let draftsRequest = 0;

async function loadDrafts({ reset = false } = {}) {
  const list = $("drafts-list");
  const errorSlot = clear($("drafts-error"));
  if (!state.campaign) {
    clear(list);
    $("drafts-summary").textContent = state.token ? "" : "Paste a token to see your drafts.";
    $("drafts-more").hidden = true;
    return;
  }
  const request = ++draftsRequest;
  const offset = reset ? 0 : state.drafts.length;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (state.statusFilter.size) params.set("status", [...state.statusFilter].join(","));
  try {
    const data = await api("GET", `/v1/campaigns/${encodeURIComponent(state.campaign.id)}/drafts?${params}`);
    if (request !== draftsRequest) return;
    state.drafts = reset ? data.drafts : state.drafts.concat(data.drafts);
    state.draftsTotal = data.total;
    renderDrafts();
  } catch (error) {
    if (request !== draftsRequest) return;
    showError(errorSlot, error, { title: "The drafts could not be loaded" });
  }
}

function renderDrafts() {
  const list = clear($("drafts-list"));
  const filtered = state.statusFilter.size ? ` (${[...state.statusFilter].join(", ")})` : "";
  $("drafts-summary").textContent = state.draftsTotal
    ? `${state.drafts.length} of ${state.draftsTotal} drafts${filtered}, newest first`
    : `No drafts yet${filtered}.`;
  for (const draft of state.drafts) {
    const selected = state.selected && state.selected.id === draft.id;
    const overall = draft.scores ? draft.scores.overall : null;
    list.append(
      el("li", {}, [
        el(
          "button",
          {
            type: "button",
            class: "draft-item",
            "aria-current": selected ? "true" : null,
            dataset: { draftId: draft.id },
            on: { click: () => openDraft(draft) },
          },
          [
            el("span", { class: "draft-item-title", text: draft.title }),
            el("span", { class: "draft-item-meta" }, [
              statusBadge(draft.status),
              draft.validation && draft.validation.needs_review ? badge("needs review", "review") : null,
              el("span", { text: `r/${draft.subreddit}` }),
              el("span", { text: ARCHETYPE_LABELS[draft.archetype] || draft.archetype }),
              el("span", { class: "muted", text: fmtDate(draft.created_at) }),
              overall === null
                ? null
                : el("span", { class: `score-pill band-${scoreBand(overall)}`, text: `${fmtNumber(overall)} ${scoreBand(overall)}` }),
            ]),
          ],
        ),
      ]),
    );
  }
  $("drafts-more").hidden = state.drafts.length >= state.draftsTotal;
}

/* ---------- draft detail ---------- */

function openDraft(draft, { notice } = {}) {
  state.selected = draft;
  const card = $("detail-card");
  card.hidden = false;
  clear($("detail-error"));
  const noticeBox = $("detail-notice");
  noticeBox.hidden = !notice;
  noticeBox.textContent = notice || "";
  $("detail-heading").textContent = "Draft";
  clear($("detail-view")).append(draftView(draft, { headingLevel: "h3" }));
  $("edit-input").value = draft.user_edits ?? draft.body;
  $("feedback-input").value = "";
  updateCounter($("feedback-input"), $("feedback-counter"), FEEDBACK_MAX);

  const allowed = TRANSITIONS[draft.status] || [];
  for (const button of document.querySelectorAll("#status-actions [data-status]")) {
    button.disabled = !allowed.includes(button.dataset.status);
  }
  const final = allowed.length === 0;
  $("edit-input").readOnly = final;
  $("edit-save").disabled = final;
  $("edit-reset").disabled = final;
  $("status-hint").textContent = final
    ? `This draft is ${draft.status}: it can no longer be edited or change status.`
    : "Approve when it reads right; mark it posted once you have posted it yourself.";
  $("regenerate-btn").disabled = state.streaming;
  collapseResult(draft);
  renderDrafts();
  const rect = card.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight - 80) card.scrollIntoView({ behavior: "smooth", block: "start" });
  $("detail-heading").focus({ preventScroll: true });
}

/** The generation card's result and the detail card need not show the same draft twice. */
function collapseResult(draft) {
  const result = $("result");
  if (!result.querySelector(`[data-draft-id="${CSS.escape(draft.id)}"]`)) return;
  clear(result).append(
    el("p", { class: "notice", role: "status" }, [
      el("span", { text: `“${draft.title}” is open in the draft panel.` }),
    ]),
  );
}

async function patchDraft(body, doneText) {
  const draft = state.selected;
  if (!draft) return;
  const errorSlot = clear($("detail-error"));
  try {
    const updated = await api("PATCH", `/v1/drafts/${encodeURIComponent(draft.id)}`, body);
    openDraft(updated, { notice: doneText });
    loadDrafts({ reset: true });
  } catch (error) {
    const title = error.status === 409 ? "That change is not allowed for this draft" : "The draft was not updated";
    showError(errorSlot, error, { title });
    if (error.status === 409 || error.status === 404) refreshSelected();
  }
}

async function refreshSelected() {
  const draft = state.selected;
  if (!draft) return;
  try {
    const fresh = await api("GET", `/v1/drafts/${encodeURIComponent(draft.id)}`);
    const errors = [...$("detail-error").childNodes];
    openDraft(fresh);
    $("detail-error").append(...errors); // keep the error that prompted the refresh visible
  } catch (error) {
    if (error.status === 404) {
      $("detail-card").hidden = true;
      state.selected = null;
    }
  }
  loadDrafts({ reset: true });
}

async function deleteDraft() {
  const draft = state.selected;
  if (!draft) return;
  if (!window.confirm(`Delete “${draft.title}”? This cannot be undone (it does not give quota back).`)) return;
  const errorSlot = clear($("detail-error"));
  try {
    await api("DELETE", `/v1/drafts/${encodeURIComponent(draft.id)}`);
    state.selected = null;
    $("detail-card").hidden = true;
    $("drafts-summary").textContent = "Draft deleted.";
    loadDrafts({ reset: true });
  } catch (error) {
    showError(errorSlot, error, { title: "The draft was not deleted" });
  }
}

async function regenerate(event) {
  event.preventDefault();
  const draft = state.selected;
  if (!draft) return;
  const errorSlot = clear($("detail-error"));
  const feedback = $("feedback-input").value.trim();
  $("regenerate-btn").disabled = true;
  try {
    const accepted = await api(
      "POST",
      `/v1/drafts/${encodeURIComponent(draft.id)}/regenerate`,
      feedback ? { feedback } : {},
    );
    startStream(accepted, `regenerating “${shorten(draft.title, 60)}”`);
  } catch (error) {
    showError(errorSlot, error, { title: "The draft was not regenerated" });
    $("regenerate-btn").disabled = state.streaming;
  } finally {
    loadUsage();
  }
}

/* ---------- wiring ---------- */

function updateCounter(input, counter, max) {
  const length = input.value.length;
  counter.textContent = `${length} / ${max}`;
  counter.classList.toggle("near", length > max * 0.9);
}

function start() {
  closeStream();
  $("progress-card").hidden = true;
  $("detail-card").hidden = true;
  state.profiles.clear();
  state.selected = null;
  if (!state.token) {
    setTokenFormOpen(true);
    state.campaigns = [];
    clear($("campaign-select")).append(el("option", { value: "", text: "Paste a token first" }));
    $("campaign-select").disabled = true;
    selectCampaign(null);
    loadUsage();
    return;
  }
  loadUsage();
  loadCampaigns();
}

function init() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken($("token-input").value);
  });
  $("token-toggle").addEventListener("click", (event) => {
    const input = $("token-input");
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    event.currentTarget.setAttribute("aria-pressed", String(show));
    event.currentTarget.textContent = show ? "Hide" : "Show";
  });
  $("token-clear").addEventListener("click", () => useToken(""));
  $("token-change").addEventListener("click", () => {
    setTokenFormOpen(true);
    $("token-input").focus();
  });

  $("campaign-select").addEventListener("change", (event) => selectCampaign(event.target.value));
  $("subreddit-select").addEventListener("change", (event) => selectSubreddit(event.target.value));
  for (const input of document.querySelectorAll('input[name="archetype"], input[name="account_status"]')) {
    input.addEventListener("change", updateGating);
  }
  const context = $("context-input");
  context.addEventListener("input", () => updateCounter(context, $("context-counter"), CONTEXT_MAX));
  const feedback = $("feedback-input");
  feedback.addEventListener("input", () => updateCounter(feedback, $("feedback-counter"), FEEDBACK_MAX));
  $("generate-form").addEventListener("submit", submitGenerate);

  $("drafts-refresh").addEventListener("click", () => loadDrafts({ reset: true }));
  $("drafts-more").addEventListener("click", () => loadDrafts());
  $("detail-close").addEventListener("click", () => {
    state.selected = null;
    $("detail-card").hidden = true;
    renderDrafts();
  });
  $("edit-save").addEventListener("click", () => patchDraft({ user_edits: $("edit-input").value }, "Edits saved."));
  $("edit-reset").addEventListener("click", () => {
    if (state.selected) $("edit-input").value = state.selected.body;
  });
  for (const button of document.querySelectorAll("#status-actions [data-status]")) {
    const status = button.dataset.status;
    button.addEventListener("click", () => patchDraft({ status }, `Marked as ${status}.`));
  }
  $("draft-delete").addEventListener("click", deleteDraft);
  $("regenerate-form").addEventListener("submit", regenerate);

  renderStatusFilters();
  state.token = localStorage.getItem(TOKEN_KEY) || "";
  $("token-input").value = state.token;
  describeToken();
  start();
}

document.addEventListener("DOMContentLoaded", init);
