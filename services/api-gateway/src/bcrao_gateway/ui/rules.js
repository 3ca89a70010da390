/* The product rules, as GET /v1/rules describes them. Nothing here repeats a Python constant:
 * every threshold, tier, transition and limit is read from that document (docs/DOMAIN.md lists
 * them); this module only turns them into words and decisions for the page. */

import { api } from "./api.js";
import { state } from "./state.js";

// Display names; the archetypes themselves come from the rules document.
const ARCHETYPE_NAMES = { ProblemSolution: "Problem → solution", Journey: "Journey", Feedback: "Feedback" };
export const ACCOUNT_LABELS = { New: "New", WarmingUp: "Warming up", Established: "Established" };

export async function loadRules() {
  if (!state.rules) state.rules = await api("GET", "/v1/rules");
  return state.rules;
}

export function archetypeName(entry) {
  return typeof entry === "string" ? entry : entry.name || entry.id || entry.value;
}

export function archetypeLabel(name) {
  const listed = ((state.rules && state.rules.archetypes) || []).find((a) => archetypeName(a) === name);
  return (listed && typeof listed === "object" && listed.label) || ARCHETYPE_NAMES[name] || name;
}

export const limits = () => (state.rules ? state.rules.limits : {});

export function iscTier(isc) {
  for (const tier of state.rules.isc.tiers) {
    if (tier.below === null || tier.below === undefined || isc < tier.below) return tier.label;
  }
  return "";
}

/** Everything the ISC rules decide about a value, to compare a rounded value against. */
function iscClass(isc) {
  const r = state.rules.isc;
  return [iscTier(isc), isc > r.archetype_block_above, isc > r.elevated_above, isc <= r.promotional_at_or_below].join("|");
}

/** One decimal, unless rounding would cross a rule's threshold (a value just above the block
 * threshold is never shown equal to it, next to "refused above"): then as many decimals as it
 * takes to stay truthful. */
export function formatIsc(isc) {
  if (typeof isc !== "number" || !Number.isFinite(isc)) return "–";
  const truth = iscClass(isc);
  for (let digits = 1; digits <= 4; digits += 1) {
    const shown = isc.toFixed(digits);
    if (iscClass(Number(shown)) === truth) return shown;
  }
  return String(isc);
}

export const isBlockedIsc = (isc) => isc > state.rules.isc.archetype_block_above;

/** The ISC rule in one sentence, consistent with the tier label shown beside it. */
export function iscRuleSentence(isc) {
  const r = state.rules.isc;
  const blocked = r.blocked_archetypes.map(archetypeLabel).join(" and ");
  const limit = formatIsc(r.archetype_block_above);
  const others = state.rules.archetypes.map(archetypeName).filter((a) => !r.blocked_archetypes.includes(a));
  return isBlockedIsc(isc)
    ? `${blocked} posts are refused here (ISC above ${limit}); only ${others.map(archetypeLabel).join(" and ")} posts are generated.`
    : `Every archetype is allowed here; ${blocked} would be refused above ISC ${limit}.`;
}

/** Gating, in the server's order: the account's allowed archetypes, then the ISC block. */
export function gatingFor(isc, archetype, account) {
  const r = state.rules;
  const accountRules = r.account_statuses[account] || {};
  const rules = [];
  let refused = null;
  const allowed = accountRules.allowed_archetypes || [];
  if (allowed.length && !allowed.includes(archetype)) {
    refused = {
      code: "WARMUP_ARCHETYPE_BLOCKED",
      forced: allowed[0],
      why: `${ACCOUNT_LABELS[account]} accounts may only post ${allowed.map(archetypeLabel).join(", ")}; ${archetypeLabel(archetype)} is refused.`,
    };
  }
  if (isBlockedIsc(isc)) {
    rules.push(`ISC ${formatIsc(isc)} is above ${formatIsc(r.isc.archetype_block_above)}: zero links, minimal promotion, genuine questions for the community.`);
    if (!refused && r.isc.blocked_archetypes.includes(archetype)) {
      const forced = r.archetypes.map(archetypeName).find((a) => !r.isc.blocked_archetypes.includes(a));
      refused = {
        code: "ISC_ARCHETYPE_BLOCKED",
        forced,
        why: `This community's ISC is ${formatIsc(isc)} (above ${formatIsc(r.isc.archetype_block_above)}): ${archetypeLabel(archetype)} posts are refused.`,
      };
    }
  } else if (isc > r.isc.elevated_above) {
    rules.push(`Elevated sensitivity (ISC above ${formatIsc(r.isc.elevated_above)}): authenticity first.`);
  } else if (isc <= r.isc.promotional_at_or_below) {
    rules.push(`Low sensitivity (ISC ${formatIsc(r.isc.promotional_at_or_below)} or less): plain promotional language is fine.`);
  }
  if (accountRules.links === false) rules.push(`${ACCOUNT_LABELS[account]} account: zero links.`);
  if (accountRules.product_mention === false) rules.push("No product pitch: the post only asks for help.");
  else if (accountRules.product_mention === "last_paragraph") rules.push("The product may appear only in the last paragraph.");
  return { refused, rules };
}

export function allowedTransitions(status) {
  return (state.rules && state.rules.draft_transitions[status]) || [];
}

/** The band of a score as shown: computed on the one-decimal value the page displays. */
export function scoreBand(score) {
  if (typeof score !== "number") return "";
  const shown = Number(score.toFixed(1));
  for (const band of state.rules.score_bands) if (shown >= band.min) return band.label;
  return state.rules.score_bands[state.rules.score_bands.length - 1].label;
}
