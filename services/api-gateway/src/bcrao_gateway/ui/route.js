/* The page's place in the address: campaign, open draft, status and subreddit filters, search.
 * Every change a person makes is a history entry, so back and forward walk through them, and a
 * copied link opens the same view (for the same account; another account gets a clear
 * not-found). The address never holds the token. */

import { state } from "./state.js";

let applying = false;

/** What the address asks for. */
export function readRoute() {
  const params = new URLSearchParams(window.location.search);
  return {
    campaign: params.get("campaign") || "",
    draft: params.get("draft") || "",
    status: (params.get("status") || "").split(",").map((s) => s.trim()).filter(Boolean),
    subreddit: params.get("subreddit") || "",
    q: params.get("q") || "",
    sort: params.get("sort") || "newest",
    archetype: params.get("archetype") || "",
    review: params.get("review") === "1",
  };
}

function routeUrl() {
  const params = new URLSearchParams();
  if (state.campaign) params.set("campaign", state.campaign.id);
  if (state.selected) params.set("draft", state.selected.id);
  if (state.statusFilter.size) params.set("status", [...state.statusFilter].join(","));
  if (state.subredditFilter) params.set("subreddit", state.subredditFilter);
  if (state.search) params.set("q", state.search);
  if (state.sort && state.sort !== "newest") params.set("sort", state.sort);
  if (state.archetypeFilter) params.set("archetype", state.archetypeFilter);
  if (state.reviewOnly) params.set("review", "1");
  const query = params.toString();
  return `${window.location.pathname}${query ? `?${query}` : ""}`;
}

/** Record the page's current view in the address: a new history entry, or (`replace`) in place.
 * Nothing is recorded while the page is itself following the address (back/forward, a link). */
export function writeRoute({ replace = false } = {}) {
  if (applying) return;
  const url = routeUrl();
  if (url === `${window.location.pathname}${window.location.search}`) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
}

/** Run `fn` (which may be async) as the address's own doing: it records nothing. */
export async function following(fn) {
  applying = true;
  try {
    await fn();
  } finally {
    applying = false;
  }
}

export const isFollowing = () => applying;
