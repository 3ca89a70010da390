/* The month's usage (GET /v1/usage) in the top bar, and whether the plan still allows a draft. */

import { api } from "./api.js";
import { $, clear, el, fmtDate, fmtDay, fmtMoney } from "./dom.js";
import { emit, state } from "./state.js";

/** Why Generate cannot run this month, or null: the plan's drafts or its spend cap are used up. */
export function planBlock(usage = state.usage) {
  if (!usage) return null;
  if (usage.drafts_limit !== null && usage.drafts_used >= usage.drafts_limit) {
    return `You have used all ${usage.drafts_limit} drafts of the ${usage.plan} plan this month. More on ${fmtDay(usage.resets_at)}.`;
  }
  if (usage.spend_usd >= usage.spend_limit_usd) {
    return `The ${usage.plan} plan's monthly spend cap (${fmtMoney(usage.spend_limit_usd)}) is reached. It resets on ${fmtDay(usage.resets_at)}.`;
  }
  return null;
}

export async function loadUsage() {
  const badge = $("usage");
  if (!state.token) {
    badge.hidden = true;
    state.usage = null;
    emit("usage-changed");
    return;
  }
  try {
    const usage = await api("GET", "/v1/usage");
    state.usage = usage;
    const limit = usage.drafts_limit === null ? "∞" : usage.drafts_limit;
    clear(badge).append(
      el("span", { class: "plan", text: usage.plan }),
      el("span", { class: "usage-item" }, [el("strong", { text: `${usage.drafts_used} / ${limit}` }), " drafts"]),
      el("span", { class: "usage-item" }, [el("strong", { text: `${fmtMoney(usage.spend_usd)} / ${fmtMoney(usage.spend_limit_usd)}` }), " spend"]),
      el("span", { class: "usage-item muted", text: `resets ${fmtDate(usage.resets_at)}` }),
    );
    badge.classList.toggle("full", planBlock(usage) !== null);
    badge.setAttribute("aria-label", `Usage: ${usage.drafts_used} of ${limit} drafts this month`);
    badge.hidden = false;
  } catch (error) {
    state.usage = null;
    clear(badge).append(el("span", { class: "code", text: error.code }), " usage unavailable");
    badge.hidden = error.status === 401;
  }
  emit("usage-changed");
}
