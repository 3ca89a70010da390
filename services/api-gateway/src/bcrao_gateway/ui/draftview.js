/* A draft as the page shows it: text with every hit marked, scores with bands and a one-line
 * explanation each, and the validation report of the generated text and of the user's edit. */

import { badge, el, fmtDate, fmtMoney, fmtNumber, paragraphs } from "./dom.js";
import { findRanges, marked } from "./marks.js";
import { ACCOUNT_LABELS, archetypeLabel, scoreBand } from "./rules.js";

const SCORES = [
  ["vulnerability", "vulnerability"], ["rhythm_match", "rhythm match"], ["formality_match", "formality match"],
  ["burstiness", "burstiness"], ["jargon_penalty", "jargon", true], ["link_penalty", "links", true],
];

export const statusBadge = (status) => badge(status, `status-${status}`);

/** The report that describes the text as it stands now: the edit's once there is one. */
export function currentReport(draft) {
  return draft.edit_report && draft.edit_report.validation ? draft.edit_report : { validation: draft.validation, scores: draft.scores };
}

/** The title as it stands: the user's, once they changed it. */
export const shownTitle = (draft) => draft.user_title || draft.title;

/** Whether the current text needs review (the server says so; older answers only in the report). */
export function needsReview(draft) {
  if (typeof draft.needs_review === "boolean") return draft.needs_review;
  const v = currentReport(draft).validation;
  return Boolean(v && v.needs_review);
}

export function highHits(report) {
  return ((report.validation || {}).blacklist_hits || []).filter((h) => h.severity === "high");
}

/** The rules the text breaks (each with label, reason and where), from a report. */
export function failedRules(report) {
  return ((report.validation || {}).rule_verdicts || []).filter((v) => !v.passed);
}

function needles(validation) {
  const v = validation || {};
  const ruleMarks = (v.rule_verdicts || [])
    .filter((r) => !r.passed)
    .flatMap((r) => (r.locations || []).filter((l) => l.field !== "flair" && l.text).map((l) => ({ text: l.text, kind: "rule", label: `Breaks a rule: ${r.label}` })));
  return [
    ...(v.blacklist_hits || []).map((h) => ({ text: h.matched_text, kind: `blacklist sev-${h.severity}`, label: `Blacklist (${h.severity}): ${h.description || h.entry}` })),
    ...(v.machine_tells || []).map((t) => ({ text: t.matched_text, kind: "tell", label: `Machine tell: ${t.category}` })),
    ...ruleMarks,
  ];
}

const FIELD_WORDS = { title: "in the title", body: "in the text", flair: "flair" };

/** One rule's verdict as a marketer reads it: ✓ or ✗, the rule, why, and where it fails. */
export function ruleItem(verdict) {
  const where = verdict.passed ? [] : (verdict.locations || []).filter((l) => l.text);
  return el("li", { class: `rule rule-${verdict.passed ? "pass" : "fail"}`, dataset: { rule: verdict.rule } }, [
    el("span", { class: "rule-mark", "aria-hidden": "true", text: verdict.passed ? "✓" : "✗" }),
    el("span", { class: "rule-text" }, [
      el("span", { class: "rule-head" }, [
        el("strong", { class: "rule-label", text: verdict.label }),
        el("span", { class: "visually-hidden", text: verdict.passed ? " (kept)" : " (broken)" }),
        el("span", { class: "rule-source muted", text: verdict.source === "community" ? " · community rule" : " · account safety rule" }),
      ]),
      el("span", { class: "rule-reason", text: verdict.reason }),
      where.length ? el("span", { class: "rule-where" }, ["Where: ", ...where.slice(0, 3).flatMap((l, i) => [i ? ", " : "", el("q", { text: l.text }), ` ${FIELD_WORDS[l.field] || ""}`])]) : null,
    ]),
  ]);
}

/** The rules that apply, failed first. */
export function rulesList(verdicts) {
  const sorted = [...verdicts].sort((a, b) => Number(a.passed) - Number(b.passed));
  return el("ul", { class: "rules" }, sorted.map(ruleItem));
}

/** Paragraphs of `text` with the report's blacklist hits and machine tells marked. */
export function markedText(text, validation) {
  const list = needles(validation);
  return el("div", { class: "draft-body" }, paragraphs(text, (part) => marked(part, findRanges(part, list))));
}

/** One line saying what raised or lowered a score, from the stored breakdown. */
export function explain(name, scores) {
  const b = scores.breakdown || {};
  const given = (b.explanations && b.explanations[name]) || (b[name] && typeof b[name] === "object" && b[name].explanation);
  if (given) return String(given);
  const n = (v, d = 1) => fmtNumber(Number(v), d);
  switch (name) {
    case "vulnerability":
      return `${b.pronouns ?? 0} first-person words, ${b.questions ?? 0} questions, ${b.emotion_words ?? 0} feeling words, ${b.story_words ?? 0} story words.`;
    case "rhythm_match":
      return b.profile ? `Sentences average ${n(b.draft_avg_sentence_length)} words; the community's average ${n(b.community_avg_sentence_length)}.` : "No community profile: a neutral score.";
    case "formality_match":
      return b.profile ? `Reads at grade ${n(b.draft_grade_level)}; the community writes at grade ${n(b.community_grade_level)}.` : "No community profile: a neutral score.";
    case "burstiness":
      return `Sentence lengths vary by ${Math.round(Number(b.cv || 0) * 100)}% (more variety reads more human).`;
    case "jargon_penalty":
      return (b.jargon_terms || []).length ? `Buzzwords: ${b.jargon_terms.join(", ")}.` : "No buzzwords.";
    case "link_penalty":
      return `${b.links ?? 0} link(s) in the text.`;
    default:
      return "";
  }
}

function scoreRow(key, label, value, scores, penalty) {
  const band = penalty ? "penalty" : scoreBand(value);
  const bar = el("span", { class: "bar", "aria-hidden": "true" }, [el("span", { class: `fill band-${band}` })]);
  bar.firstChild.style.width = `${Math.max(0, Math.min(10, Number(value) || 0)) * 10}%`;
  return el("div", { class: "score-row", dataset: { score: key } }, [
    el("span", { class: "score-name", text: label }),
    bar,
    el("span", { class: "score-value", text: fmtNumber(value) }),
    el("span", { class: `score-band band-${band}`, text: penalty ? (Number(value.toFixed(1)) > 0 ? "penalty" : "none") : band }),
    el("span", { class: "score-why", text: explain(key, scores) }),
  ]);
}

export function scoresView(scores, heading) {
  if (!scores) return null;
  const band = scoreBand(scores.overall);
  return el("div", { class: "scores" }, [
    heading ? el("h4", { class: "small-heading", text: heading }) : null,
    el("div", { class: `overall band-${band}`, dataset: { testid: "overall" } }, [
      el("span", { class: "overall-value", text: fmtNumber(scores.overall) }),
      el("span", { class: "overall-label" }, [el("span", { text: "overall" }), el("strong", { text: band })]),
    ]),
    el("div", { class: "score-rows" }, SCORES.map(([key, label, penalty]) => scoreRow(key, label, scores[key], scores, penalty))),
  ]);
}

export function validationView(validation, { title = "Validation report", warnings = [], testid } = {}) {
  const v = validation || {};
  const hits = v.blacklist_hits || [];
  const tells = v.machine_tells || [];
  const removed = v.links_removed || [];
  const rules = v.rule_verdicts || [];
  const broken = rules.filter((r) => !r.passed).length;
  const group = (name, items, render) =>
    el("div", { class: "report-group" }, [
      el("p", { class: "report-title" }, [name, " ", el("span", { class: "count", text: String(items.length) })]),
      items.length ? el("ul", {}, items.map(render)) : el("p", { class: "muted", text: "None" }),
    ]);
  return el("div", { class: "validation", dataset: { testid: testid || "validation" } }, [
    el("h4", { class: "small-heading", text: title }),
    el("p", { class: "facts" }, [
      v.needs_review ? badge("needs review", "review") : badge(rules.length ? "no high-severity hits, every rule kept" : "no high-severity hits", "ok"),
      rules.length ? el("span", { class: "rules-summary", text: broken ? `${broken} of ${rules.length} rules broken` : `${rules.length} rules kept` }) : null,
      el("span", { text: `${v.link_count ?? 0} link(s)` }),
      el("span", { text: `${v.sentence_count ?? 0} sentences, ${fmtNumber(v.avg_sentence_length)} words avg` }),
    ]),
    rules.length ? el("div", { class: "report-group" }, [
      el("p", { class: "report-title" }, ["Rules ", el("span", { class: `count${broken ? " count-bad" : ""}`, text: broken ? `${broken} broken` : "all kept" })]),
      rulesList(rules),
    ]) : null,
    group("Blacklist hits", hits, (hit) => el("li", {}, [badge(hit.severity, `sev-${hit.severity}`), " ", el("q", { text: hit.matched_text }), el("span", { class: "muted", text: ` — ${hit.description || hit.entry} (${hit.category})` })])),
    group("Machine tells", tells, (t) => el("li", {}, [el("span", { class: "tell-category", text: t.category }), ": ", el("q", { text: t.matched_text })])),
    group("Links removed", removed, (link) => el("li", {}, [el("code", { text: link })])),
    warnings.length ? group("Warnings", warnings, (w) => el("li", { text: w })) : null,
  ]);
}

/** The whole draft: title, facts, text with marks, scores, reports (edit first, then generated). */
export function draftView(draft, { withTitle = true } = {}) {
  const view = el("article", { class: "draft", dataset: { draftId: draft.id, testid: "draft" } });
  const report = draft.edit_report;
  const edited = (draft.user_edits !== null && draft.user_edits !== undefined) || Boolean(draft.user_title);
  if (withTitle) view.append(el("h3", { class: "draft-title wrap", text: shownTitle(draft) }));
  view.append(
    el("p", { class: "meta" }, [
      statusBadge(draft.status),
      needsReview(draft) ? badge("needs review", "review") : null,
      el("span", { text: `r/${draft.subreddit}` }),
      draft.flair ? el("span", { class: "flair", text: `flair: ${draft.flair}` }) : null,
      el("span", { text: archetypeLabel(draft.archetype) }),
      el("span", { text: `${ACCOUNT_LABELS[draft.account_status] || draft.account_status} account` }),
      draft.parent_draft_id ? el("span", { text: "regenerated" }) : null,
      el("span", { class: "muted", text: fmtDate(draft.created_at) }),
    ]),
  );
  if (edited) {
    const checked = report ? report.validation : null;
    view.append(
      el("p", { class: "small-heading", text: "Your edited version" }),
      el("p", { class: "edited-title wrap" }, marked(shownTitle(draft), findRanges(shownTitle(draft), needles(checked)))),
      markedText(draft.user_edits ?? draft.body, checked),
    );
    if (!report) view.append(el("p", { class: "hint", text: "Your edit has not been checked yet." }));
    view.append(el("details", { class: "original" }, [el("summary", { text: "Original generated text" }), el("p", { class: "wrap", text: draft.title }), markedText(draft.body, draft.validation)]));
  } else {
    view.append(markedText(draft.body, draft.validation));
  }
  const reports = el("div", { class: "reports" });
  if (report) {
    reports.append(el("div", { class: "report report-edit" }, [scoresView(report.scores, "Your edit — scores"), validationView(report.validation, { title: "Your edit — validation", testid: "edit-report" })]));
  }
  reports.append(
    el("div", { class: "report report-generated" }, [
      scoresView(draft.scores, report ? "Generated — scores" : null),
      validationView(draft.validation, { title: report ? "Generated — validation" : "Validation report", warnings: draft.warnings || [], testid: "generated-report" }),
    ]),
  );
  view.append(reports);
  const cost = typeof draft.cost_usd === "number" && draft.cost_usd > 0 ? ` · ${fmtMoney(draft.cost_usd)}` : "";
  view.append(el("p", { class: "model muted" }, ["Model: ", el("code", { class: "model-used", text: draft.model_used }), draft.token_count ? ` · ${draft.token_count} tokens` : "", cost]));
  return view;
}
