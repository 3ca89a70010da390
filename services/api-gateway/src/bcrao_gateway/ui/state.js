/* The page's shared state, one object every module reads and writes. */

export const TOKEN_KEY = "bcrao.token";
export const CAMPAIGN_KEY = "bcrao.campaign";
export const PAGE_SIZE = 20;

export const state = {
  token: "",
  rules: null, // GET /v1/rules: the only source of thresholds, tiers, transitions and limits
  usage: null,
  campaigns: [],
  campaign: null,
  subreddit: "",
  profiles: new Map(), // "<campaign>/<subreddit>" -> {status: "loading"|"ok"|"missing"|"error", profile, error}
  statusFilter: new Set(),
  subredditFilter: "",
  search: "", // words looked for in the drafts' titles and text
  sort: "newest", // newest | oldest | score
  archetypeFilter: "",
  reviewOnly: false,
  drafts: [],
  draftsTotal: 0,
  selected: null,
  chosen: new Map(), // drafts ticked in the list for a bulk action or export: id -> draft as shown
  // Drafts this page is writing right now: the change feed's news of them is this page's own
  // (its answer brings the new state), so it is not "changed in another tab".
  writing: new Set(),
  streaming: false,
  submitting: false,
  rateLimitedUntil: 0, // epoch ms; Generate waits for it
};

/** Tiny pub/sub so modules do not import each other in circles. */
const listeners = new Map();

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
}

export function emit(name, payload) {
  for (const fn of listeners.get(name) || []) fn(payload);
}
