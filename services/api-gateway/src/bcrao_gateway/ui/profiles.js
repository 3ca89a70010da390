/* Community profiles: the chosen subreddit's profile (ISC with its tier and gating rule, its style
 * guide), and an editor to write one, paste one as JSON, or propose one from real posts
 * (POST …/analyze). */

import { api, enc } from "./api.js";
import { resolveConflict } from "./conflict.js";
import { $, clear, el, fmtDate, fmtNumber } from "./dom.js";
import { errorBox, showError } from "./errors.js";
import { formatIsc, iscRuleSentence, iscTier, isBlockedIsc } from "./rules.js";
import { emit, state } from "./state.js";
import { profileEditor } from "./profile_editor.js";
import { schemaOf } from "./schema.js";

const profileKey = (sub) => `${state.campaign ? state.campaign.id : ""}/${sub}`;
export const currentProfile = () => state.profiles.get(profileKey(state.subreddit)) || null;
const profileUrl = (sub) => `/v1/campaigns/${enc(state.campaign.id)}/profiles/${enc(sub)}`;

export function renderSubreddits() {
  const chips = clear($("subreddit-chips"));
  const select = clear($("subreddit-select"));
  const subs = state.campaign ? state.campaign.target_subreddits : [];
  if (subs.length) chips.append(el("span", { class: "chips-label", text: "Target subreddits:" }));
  for (const sub of subs) {
    chips.append(el("button", { type: "button", class: "chip", "aria-pressed": "false", dataset: { subreddit: sub }, text: `r/${sub}`, on: { click: () => selectSubreddit(sub) } }));
    select.append(el("option", { value: sub, text: `r/${sub}` }));
  }
  select.disabled = !subs.length;
  selectSubreddit(subs.includes(state.subreddit) ? state.subreddit : subs[0] || "");
}

export function selectSubreddit(sub) {
  state.subreddit = sub;
  $("subreddit-select").value = sub;
  for (const chip of document.querySelectorAll("#subreddit-chips .chip")) {
    chip.setAttribute("aria-pressed", String(chip.dataset.subreddit === sub));
  }
  clear($("profile-editor-slot"));
  if (sub) loadProfile(sub);
  else clear($("profile"));
  emit("profile-changed");
}

export async function loadProfile(sub, { force = false } = {}) {
  if (!state.campaign) return;
  const key = profileKey(sub);
  const known = state.profiles.get(key);
  if (!force && known && known.status !== "error") {
    renderProfile();
    return;
  }
  state.profiles.set(key, { status: "loading" });
  renderProfile();
  // The campaign's profiles in one read: a subreddit without one is simply not in the list (no
  // 404 per subreddit in the browser's console), and the others are known for the next choice.
  let entry;
  try {
    const campaign = state.campaign;
    const listed = await api("GET", `/v1/campaigns/${enc(campaign.id)}/profiles`);
    const byName = new Map(listed.profiles.map((p) => [p.subreddit.toLowerCase(), p]));
    for (const name of campaign.target_subreddits) {
      const other = `${campaign.id}/${name}`;
      const found = byName.get(name.toLowerCase());
      if (other !== key) state.profiles.set(other, found ? { status: "ok", profile: found } : { status: "missing" });
    }
    const found = byName.get(sub.toLowerCase());
    entry = found ? { status: "ok", profile: found } : { status: "missing" };
  } catch (error) {
    entry = { status: "error", error };
  }
  state.profiles.set(key, entry);
  if (profileKey(state.subreddit) === key) {
    renderProfile();
    emit("profile-changed");
  }
}

/** PUT from the version the editor was opened on; on a 412 say what changed and let the person
 * keep theirs (send again from the current version) or take the saved one. */
async function putProfile(sub, body, initial) {
  try {
    return await api("PUT", profileUrl(sub), body, { ifMatch: initial ? initial.version : undefined });
  } catch (error) {
    if (error.status !== 412 || !initial) throw error;
    const { choice, current } = await resolveConflict("profile", "profile", initial, error);
    if (choice === "keep") return api("PUT", profileUrl(sub), body, { ifMatch: current.version });
    state.profiles.set(profileKey(sub), current ? { status: "ok", profile: current } : { status: "missing" });
    renderProfile();
    emit("profile-changed");
    throw Object.assign(new Error("Your profile was not saved: the profile saved in the other tab is shown."), { code: "PRECONDITION_FAILED", details: {} });
  }
}

let opening = 0; // only the latest "Edit profile" opens an editor

async function openEditor(initial) {
  const mine = ++opening;
  const sub = state.subreddit;
  let styleSchema;
  try {
    styleSchema = await schemaOf("StyleGuide");
  } catch (error) {
    if (mine === opening) showError(clear($("profile-editor-slot")), { code: "UNAVAILABLE", message: String(error.message || error) }, { title: "The profile editor could not be prepared" });
    return;
  }
  if (mine !== opening || sub !== state.subreddit) return;
  const slot = clear($("profile-editor-slot"));
  slot.append(
    profileEditor({
      subreddit: sub,
      initial,
      styleSchema,
      analyze: (body) => api("POST", `${profileUrl(sub)}/analyze`, body),
      save: async (body) => {
        const saved = await putProfile(sub, body, initial);
        state.profiles.set(profileKey(sub), { status: "ok", profile: saved });
        clear(slot);
        renderProfile();
        emit("profile-changed");
        return saved;
      },
      cancel: () => clear(slot),
    }),
  );
}

function iscBlock(isc) {
  const tier = iscTier(isc);
  return el("div", { class: `isc tier-${tier.toLowerCase().replace(/\s+/g, "-")}`, dataset: { blocks: isBlockedIsc(isc) ? "yes" : "no" } }, [
    el("span", { class: "isc-label", text: "ISC" }),
    el("span", { class: "isc-value", text: formatIsc(isc) }),
    el("span", { class: "isc-tier", text: tier }),
  ]);
}

export function renderProfile() {
  const box = clear($("profile"));
  const sub = state.subreddit;
  const entry = currentProfile();
  if (!sub || !entry || !state.rules) return;
  const editButton = (label) =>
    el("button", { type: "button", id: "profile-edit", class: "btn btn-small", text: label, on: { click: () => openEditor(entry.profile || null) } });
  if (entry.status === "loading") {
    box.append(el("p", { class: "muted", text: `Loading the profile of r/${sub}…` }));
    return;
  }
  if (entry.status === "error") {
    box.append(errorBox(entry.error, { title: `The profile of r/${sub} could not be loaded` }));
    return;
  }
  if (entry.status === "missing") {
    box.append(
      el("div", { class: "warning", role: "status", dataset: { testid: "no-profile" } }, [
        el("strong", { text: `No profile for r/${sub}` }),
        el("span", { text: ` — generation uses neutral defaults (ISC ${formatIsc(state.rules.isc.default)}). Add one so drafts fit this community: ` }),
        editButton("Add a profile"),
      ]),
    );
    return;
  }
  const p = entry.profile;
  box.append(
    el("div", { class: "profile-card" }, [
      iscBlock(p.isc_score),
      el("dl", { class: "profile-facts" }, [
        el("dt", { text: "Community" }), el("dd", { text: `r/${p.subreddit || sub}` }),
        el("dt", { text: "Tone" }), el("dd", { text: p.dominant_tone || "neutral" }),
        el("dt", { text: "Formality" }), el("dd", { text: `grade ${fmtNumber(p.formality_level)}` }),
        el("dt", { text: "Sentences" }), el("dd", { text: `${fmtNumber(p.avg_sentence_length)} words on average` }),
        p.sample_size ? el("dt", { text: "Sample" }) : null,
        p.sample_size ? el("dd", { text: `${p.sample_size} posts` }) : null,
        p.analyzed_at ? el("dt", { text: "Analyzed" }) : null,
        p.analyzed_at ? el("dd", { text: fmtDate(p.analyzed_at) }) : null,
      ]),
    ]),
    el("p", { class: "hint isc-rule", text: `${iscTier(p.isc_score)} sensitivity. ${iscRuleSentence(p.isc_score)}` }),
    styleGuideView(p.style_guide),
    el("p", {}, [editButton("Edit profile")]),
  );
}

/** The saved style guide, labelled as the API's schema labels it; nothing when there is none. */
function styleGuideView(guide) {
  const set = Object.entries(guide || {}).filter(([, v]) => (Array.isArray(v) ? v.length : v));
  if (!set.length) return null;
  const list = el("dl", { class: "profile-facts style-guide-facts" });
  const box = el("div", { class: "style-guide-view", dataset: { testid: "style-guide" } }, [el("p", { class: "small-heading", text: "Style guide" }), list]);
  const draw = (titles) => {
    clear(list);
    for (const [key, value] of set) {
      list.append(el("dt", { text: titles[key] || key.replace(/_/g, " ") }), el("dd", { class: "wrap", dataset: { key }, text: Array.isArray(value) ? value.join(", ") : value }));
    }
  };
  draw({});
  schemaOf("StyleGuide")
    .then((schema) => draw(Object.fromEntries(Object.entries((schema && schema.properties) || {}).map(([k, p]) => [k, p.title]))))
    .catch(() => {}); // the keys themselves stay as labels
  return box;
}
