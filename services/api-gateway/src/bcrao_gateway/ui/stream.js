/* Following one task's stream (generate and regenerate alike): stages, the live text without the
 * model's "Title:" line, restarts, the stored draft on `complete`, and errors that end the view.
 * Without a connection for OFFLINE_AFTER_MS the page says so, and keeps retrying with backoff. */

import { $, gentleScroll, clear, el } from "./dom.js";
import { errorBox } from "./errors.js";
import { draftView } from "./draftview.js";
import { backoffDelay, readEvents } from "./sse.js";
import { emit, state } from "./state.js";

const OFFLINE_AFTER_MS = 30_000;
const STAGES = [
  ["loading_profile", "Loading profile"], ["checking_gating", "Checking gating"], ["building_prompt", "Building prompt"],
  ["generating", "Generating"], ["validating", "Validating"], ["scoring", "Scoring"], ["finishing", "Finishing"],
];
const STAGE_ALIASES = { saving: "finishing" }; // what gateways up to 0.2.0 called the last stage
const STAGE_STATE_TEXT = { pending: " (waiting)", active: " (in progress)", done: " (done)", failed: " (failed)" };
let current = null; // the stream being followed: {controller, timer, ...}

/** The preview without the model's title line: {title, body}; a partial "Tit…" shows nothing yet. */
export function splitTitle(raw) {
  const text = raw.replace(/^\s+/, "");
  const probe = text.toLowerCase().replace(/^[*#\s]+/, "");
  if (probe.length < 6 && "title:".startsWith(probe)) return { title: "", body: "" };
  const match = text.match(/^[*#\s]*title\s*:\s*\**\s*([^\n]*)(\n|$)/i);
  if (!match) return { title: "", body: raw };
  return { title: match[1].replace(/\**\s*$/, ""), body: match[2] ? text.slice(match[0].length).replace(/^\s+/, "") : "" };
}

function setConnection(text, kind) {
  const badge = $("connection");
  badge.textContent = text;
  badge.dataset.state = kind;
}

function setStageState(li, value) {
  li.dataset.state = value;
  li.querySelector(".stage-state").textContent = STAGE_STATE_TEXT[value] || "";
  if (value === "active") li.setAttribute("aria-current", "step");
  else li.removeAttribute("aria-current");
}

function markStage(stage, message) {
  const items = [...document.querySelectorAll("#stages .stage")];
  const name = STAGE_ALIASES[stage] || stage;
  const index = items.findIndex((li) => li.dataset.stage === name);
  if (index < 0) return;
  items.forEach((li, i) => setStageState(li, i < index ? "done" : i === index ? "active" : li.dataset.state === "done" ? "pending" : li.dataset.state));
  items[index].querySelector(".stage-message").textContent = message || "";
}

function finishStages(ok) {
  for (const li of document.querySelectorAll("#stages .stage")) {
    if (ok) setStageState(li, "done");
    else if (li.dataset.state === "active") setStageState(li, "failed");
  }
}

function notice(text, kind = "info") {
  const box = $("stream-notice");
  box.hidden = !text;
  box.textContent = text || "";
  box.dataset.kind = kind;
}

function resetProgress(label) {
  const card = $("progress-card");
  card.hidden = false;
  $("progress-heading").textContent = label ? `Generation — ${label}` : "Generation";
  const list = clear($("stages"));
  for (const [stage, name] of STAGES) {
    list.append(el("li", { class: "stage", dataset: { stage, state: "pending" } }, [
      el("span", { class: "stage-icon", "aria-hidden": "true" }), el("span", { class: "stage-name", text: name }),
      el("span", { class: "visually-hidden stage-state", text: " (waiting)" }), el("span", { class: "stage-message" }),
    ]));
  }
  clear($("live-text"));
  $("live-title").textContent = "";
  $("live-wrap").hidden = true;
  clear($("stream-error"));
  clear($("result"));
  notice("");
  setConnection("Connecting…", "pending");
  const rect = card.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight - 120) card.scrollIntoView({ behavior: gentleScroll(), block: "start" });
}

export function closeStream() {
  if (current) {
    current.closed = true;
    current.controller.abort();
    clearTimeout(current.timer);
    clearTimeout(current.offlineTimer);
  }
  current = null;
  state.streaming = false;
  emit("stream-changed");
}

function renderLive(stream) {
  const { title, body } = splitTitle(stream.raw);
  $("live-wrap").hidden = !title && !body;
  $("live-title").textContent = title;
  const live = $("live-text");
  live.textContent = body;
  live.scrollTop = live.scrollHeight;
}

function endWithError(stream, message, title) {
  finishStages(false);
  setConnection("Stopped", "lost");
  $("live-wrap").hidden = true;
  clear($("stream-error")).append(errorBox(message, { title, onUseArchetype: (a) => emit("use-archetype", a) }));
  closeStream();
  emit("drafts-changed");
  emit("usage-may-change");
}

function errorTitle(message) {
  if (message.code === "ISC_ARCHETYPE_BLOCKED") return "Refused: this community is too sensitive for that archetype";
  if (message.code === "WARMUP_ARCHETYPE_BLOCKED") return "Refused: this account may only ask for feedback";
  if (message.code === "LLM_UNAVAILABLE") return "The language model is unavailable; try again shortly";
  if ((message.details || {}).reason === "campaign_deleted") return "The campaign was deleted while this draft was being written. Nothing was saved and the draft was not counted.";
  return "The draft could not be generated";
}

function handle(stream, message) {
  switch (message.type) {
    case "status":
      setConnection("Live", "live");
      // Older gateways announced a restart only in the status prose; newer ones send `restart`.
      if (message.stage === "generating" && /^starting over/i.test(message.message || "")) restart(stream, message.message);
      markStage(message.stage, message.message);
      break;
    case "restart":
      restart(stream, message.reason);
      break;
    case "chunk":
      stream.raw += message.content || "";
      renderLive(stream);
      break;
    case "complete": {
      finishStages(true);
      setConnection("Done", "done");
      $("live-wrap").hidden = true;
      notice("The final text was checked and lightly edited after it was written, so it can differ a little from the live preview. This is the stored draft.", "done");
      const draft = message.draft;
      clear($("result")).append(
        draftView(draft),
        el("div", { class: "actions" }, [el("button", { type: "button", class: "btn btn-primary", text: "Edit, approve or regenerate", on: { click: () => emit("open-draft", draft) } })]),
      );
      closeStream();
      emit("drafts-changed");
      emit("usage-may-change");
      break;
    }
    case "error":
      endWithError(stream, message, errorTitle(message));
      if (message.code === "ISC_ARCHETYPE_BLOCKED") emit("profile-stale");
      if ((message.details || {}).reason === "campaign_deleted") emit("campaigns-stale");
      break;
    default:
      break;
  }
}

function restart(stream, reason) {
  stream.raw = "";
  renderLive(stream);
  notice(`The writer started over${reason ? `: ${reason}` : ""}. The text below is the new attempt.`);
}

function offline(stream) {
  if (stream.closed) return;
  setConnection("Server unreachable", "lost");
  notice("The server cannot be reached. Your draft was accepted, so it is still being written and will appear in Drafts; this page keeps trying to reconnect.", "offline");
  $("stream-notice").dataset.testid = "offline";
}

function scheduleReconnect(stream) {
  if (stream.closed) return;
  if (stream.disconnectedAt === null) {
    stream.disconnectedAt = Date.now();
    stream.offlineTimer = setTimeout(() => offline(stream), OFFLINE_AFTER_MS);
  }
  if (Date.now() - stream.disconnectedAt < OFFLINE_AFTER_MS) setConnection("Reconnecting…", "reconnecting");
  stream.timer = setTimeout(() => connect(stream), backoffDelay(stream.attempt));
  stream.attempt += 1;
}

async function connect(stream) {
  if (stream.closed) return;
  stream.controller = new AbortController();
  const url = new URL(stream.url, window.location.href);
  if (stream.lastId !== null) url.searchParams.set("last_event_id", stream.lastId);
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "text/event-stream" }, cache: "no-store", signal: stream.controller.signal });
  } catch (exc) {
    scheduleReconnect(stream);
    return;
  }
  if (response.status === 204) {
    endWithError(stream, { code: "STREAM_ENDED", message: "This generation has already finished. Its draft, if any, is in Drafts." }, "Nothing more to show");
    return;
  }
  if (response.status === 404 || response.status === 401 || response.status === 422) {
    const payload = await response.json().catch(() => null);
    const error = (payload && payload.error) || { code: `HTTP_${response.status}`, message: "" };
    const title = response.status === 404 ? "This generation no longer exists (was its campaign deleted?)" : "The progress stream was refused";
    endWithError(stream, error, title);
    if (response.status === 404) emit("campaigns-stale");
    return;
  }
  if (!response.ok) {
    scheduleReconnect(stream); // 5xx: a restarting gateway; try again
    return;
  }
  stream.attempt = 0;
  stream.disconnectedAt = null;
  clearTimeout(stream.offlineTimer);
  if ($("stream-notice").dataset.kind === "offline") notice("");
  setConnection("Live", "live");
  try {
    await readEvents(response, ({ id, data }) => {
      if (stream.closed) return;
      if (id !== null && id !== "") stream.lastId = id;
      let message;
      try {
        message = JSON.parse(data);
      } catch (exc) {
        return; // not ours to show; the stream goes on
      }
      handle(stream, message);
    });
  } catch (exc) {
    // the connection dropped mid-stream: resume after the last id seen
  }
  scheduleReconnect(stream);
}

export function startStream(accepted, label, { resumed = false } = {}) {
  closeStream();
  resetProgress(label);
  if (resumed) notice("This generation was already under way when the page loaded; it is shown from the start and goes on live.", "resumed");
  const stream = { url: accepted.stream_url, lastId: null, raw: "", attempt: 0, disconnectedAt: null, closed: false, controller: new AbortController() };
  current = stream;
  state.streaming = true;
  emit("stream-changed");
  connect(stream);
}
