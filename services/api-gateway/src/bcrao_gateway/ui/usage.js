/* The month's usage (GET /v1/usage) in the top bar, and whether the plan still allows a draft. */

import { api } from "./api.js";
import { $, clear, el, fmtDate, fmtDay, fmtMoney } from "./dom.js";
import { emit, state } from "./state.js";

const PLAN_ORDER = ["trial", "starter", "growth"];

/** What to do to get more: the next plan up, from GET /v1/rules. */
export function moreHint(usage = state.usage) {
  const plans = (state.rules && state.rules.plans) || {};
  const next = PLAN_ORDER.slice(PLAN_ORDER.indexOf(usage.plan) + 1).find((p) => plans[p]);
  if (!next) return "To go beyond it, contact support.";
  const limits = plans[next];
  const drafts = limits.drafts_per_month === null ? "unlimited drafts" : `${limits.drafts_per_month} drafts`;
  return `To get more now, ask your administrator to move you to the ${next} plan (${drafts} and ${fmtMoney(limits.spend_usd_per_month)} of writing a month).`;
}

/** Why Generate cannot run this month, or null: the plan's drafts or its spend cap are used up. */
export function planBlock(usage = state.usage) {
  if (!usage) return null;
  if (usage.drafts_limit !== null && usage.drafts_used >= usage.drafts_limit) {
    return `You have used all ${usage.drafts_limit} drafts of the ${usage.plan} plan this month. More on ${fmtDay(usage.resets_at)}. ${moreHint(usage)}`;
  }
  if (usage.spend_usd >= usage.spend_limit_usd) {
    return `The ${usage.plan} plan's monthly spend cap (${fmtMoney(usage.spend_limit_usd)}) is reached. It resets on ${fmtDay(usage.resets_at)}. ${moreHint(usage)}`;
  }
  return null;
}

/** A warning from 80 % of the month's drafts or spend (the server says when), or null. */
export function planWarning(usage = state.usage) {
  if (!usage || planBlock(usage)) return null;
  const parts = [];
  if (usage.drafts_warning && usage.drafts_limit !== null) {
    const left = usage.drafts_limit - usage.drafts_used;
    parts.push(`You have used ${usage.drafts_used} of your ${usage.drafts_limit} drafts this month: ${left} left until ${fmtDay(usage.resets_at)}.`);
  }
  if (usage.spend_warning) {
    parts.push(`You have used ${fmtMoney(usage.spend_usd)} of the ${fmtMoney(usage.spend_limit_usd)} monthly writing budget.`);
  }
  return parts.length ? `${parts.join(" ")} ${moreHint(usage)}` : null;
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
    badge.classList.toggle("warn", planWarning(usage) !== null);
    const warning = planWarning(usage);
    $("usage-warning").hidden = !warning;
    $("usage-warning").textContent = warning || "";
    const perMinute = usage.generate_per_minute;
    $("rate-hint").textContent = perMinute ? `Up to ${perMinute} drafts a minute; ${usage.generate_remaining_this_minute ?? perMinute} left right now.` : "";
    badge.setAttribute("aria-label", `Usage: ${usage.drafts_used} of ${limit} drafts this month`);
    badge.hidden = false;
  } catch (error) {
    state.usage = null;
    clear(badge).append(el("span", { text: "Usage unavailable right now" }));
    badge.hidden = error.status === 401;
  }
  emit("usage-changed");
}
