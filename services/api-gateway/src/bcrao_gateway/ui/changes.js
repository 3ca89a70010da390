/* Follow GET /v1/changes (Server-Sent Events over fetch: it needs the bearer header), so this
 * page learns what changed in other tabs, windows or the pipeline and shows it without a reload:
 * the draft list, the open draft, the campaigns, the profile and the blacklist. */

import { backoffDelay, readEvents } from "./sse.js";
import { emit, state } from "./state.js";

let controller = null;
let attempt = 0;
let listTimer = null;

/** Reload the draft list once for a burst of changes. */
function draftsChanged() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => emit("drafts-changed"), 150);
}

function apply(change) {
  const campaign = state.campaign;
  const ours = campaign && change.campaign_id === campaign.id;
  switch (change.kind) {
    case "draft":
      if (ours || !change.campaign_id) draftsChanged();
      if (state.selected && state.selected.id === change.id && state.selected.version !== change.version) {
        emit("selected-draft-changed", change);
      }
      if (change.action === "stored") {
        const waiting = document.querySelector(`#inflight-others [data-task-id]`);
        if (waiting && ours) emit("inflight-check");
      }
      break;
    case "campaign":
      if (!campaign || change.id !== campaign.id || campaign.version !== change.version) emit("campaigns-changed");
      break;
    case "profile":
      if (ours) emit("profiles-stale", change);
      break;
    case "blacklist":
      if (ours || !change.campaign_id) emit("blacklist-stale");
      break;
    default:
      break;
  }
}

async function follow(signal) {
  const response = await fetch("/v1/changes", {
    headers: { Accept: "text/event-stream", Authorization: `Bearer ${state.token}` },
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw Object.assign(new Error("change feed refused"), { status: response.status });
  attempt = 0;
  document.documentElement.dataset.changeFeed = "open";
  await readEvents(response, (message) => {
    try {
      const change = JSON.parse(message.data);
      if (change.type === "change") apply(change);
    } catch (exc) {
      /* a message this page does not understand is skipped */
    }
  });
}

/** (Re)start following the signed-in user's changes; stops the previous feed. */
export function startChangeFeed() {
  stopChangeFeed();
  if (!state.token) return;
  const mine = new AbortController();
  controller = mine;
  const loop = async () => {
    while (controller === mine) {
      try {
        await follow(mine.signal);
      } catch (error) {
        if (controller !== mine) return;
        if (error.status === 401) return; // the token is not valid: the page says so elsewhere
      }
      document.documentElement.dataset.changeFeed = "reconnecting";
      if (controller !== mine) return;
      // Reconnected after a gap: what changed meanwhile is not replayed, so reload the list.
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt++)));
      if (controller === mine) draftsChanged();
    }
  };
  loop();
}

export function stopChangeFeed() {
  if (controller) controller.abort();
  controller = null;
  delete document.documentElement.dataset.changeFeed;
}
