/* The profile editor: a form (with the community's posting rules and style guide), a JSON box,
 * and "analyze posts" (a proposal to review, then save). */

import { clear, el, fmtNumber, shorten } from "./dom.js";
import { clearErrorsOnInput, clearFieldErrors, errorBox, showError, showFieldErrors } from "./errors.js";
import { formatIsc, iscTier } from "./rules.js";

const TONES = ["positive", "neutral", "negative"];
const POST_SEPARATOR = /\n-{3,}\n/;

function field(name, label, input, hint) {
  return el("div", { class: "field", dataset: { field: name } }, [
    el("label", { for: input.id, text: label }),
    hint ? el("span", { class: "muted", text: ` ${hint}` }) : null,
    input,
    el("p", { class: "field-error", hidden: true }),
  ]);
}

const num = (id, props) => el("input", { id, type: "number", inputmode: "decimal", ...props });

/** A list typed into a box: one item per line, or items separated by commas. */
export function listItems(text) {
  return String(text || "").split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
}

/** The style guide's keys as the API's schema describes them: label, meaning and limits. */
function styleKeys(schema) {
  return Object.entries((schema && schema.properties) || {}).map(([key, prop]) => {
    const text = (prop.anyOf || [prop]).find((p) => p.type === "string");
    return prop.type === "array"
      ? { key, label: prop.title || key, meaning: prop.description || "", list: true, maxItems: prop.maxItems, maxLength: (prop.items || {}).maxLength }
      : { key, label: prop.title || key, meaning: prop.description || "", list: false, maxLength: text && text.maxLength };
  });
}

/** The style guide's keys the schema does not know (a guessed `avoid`), and which real key each
 * may have meant. */
export function unknownStyleKeys(guide, known) {
  const unknown = Object.keys(guide && typeof guide === "object" ? guide : {}).filter((k) => !known.includes(k));
  return unknown.map((key) => {
    const bare = key.toLowerCase().replace(/[^a-z]/g, "");
    const near = known.find((k) => bare && k.replace(/_/g, "").includes(bare)) || known.find((k) => bare.includes(k.replace(/_/g, "")));
    return { key, near };
  });
}

const sentence = (text) => (text ? `${text[0].toUpperCase()}${text.slice(1)}.` : "");

/** What is over a style field's limits right now, in words ("" when nothing). */
function styleProblem(spec, input) {
  if (!spec.list) {
    const length = input.value.trim().length;
    return spec.maxLength && length > spec.maxLength ? `${spec.label} is ${length - spec.maxLength} characters over its ${spec.maxLength}-character limit` : "";
  }
  const items = listItems(input.value);
  if (spec.maxItems && items.length > spec.maxItems) return `${spec.label} has ${items.length} items, ${items.length - spec.maxItems} over the limit of ${spec.maxItems}`;
  const long = spec.maxLength ? items.findIndex((item) => item.length > spec.maxLength) : -1;
  return long >= 0 ? `${spec.label}: item ${long + 1} (“${shorten(items[long], 30)}”) is ${items[long].length - spec.maxLength} characters over the ${spec.maxLength}-character limit` : "";
}

/** Turn what the user pasted into the analyze body: a list of posts, {posts}, or a Reddit listing. */
export function analyzeBody(parsed) {
  if (Array.isArray(parsed) && parsed.every((p) => p && typeof p === "object" && "title" in p)) return { posts: parsed };
  return parsed;
}

export function profileEditor({ subreddit, initial, styleSchema, analyze, save, cancel }) {
  let extra = {}; // fields the form does not show (archetype mix, …) travel untouched
  let extraStyle = {}; // style guide keys of a newer server this page does not know, likewise
  const inputs = {
    isc_score: num("pf-isc", { step: "0.1", min: "1", max: "10" }),
    avg_sentence_length: num("pf-avg", { step: "0.1", min: "1", max: "100" }),
    formality_level: num("pf-formality", { step: "0.1", min: "1", max: "20" }),
    dominant_tone: el("select", { id: "pf-tone" }, TONES.map((t) => el("option", { value: t, text: t }))),
    top_success_hooks: el("textarea", { id: "pf-hooks", rows: "3" }),
    example_posts: el("textarea", { id: "pf-examples", rows: "4" }),
    sample_size: num("pf-sample", { step: "1", min: "0" }),
  };
  // The community's posting rules (profile.requirements), checked on every draft and edit.
  const rules = {
    title_min_length: num("pf-title-min", { step: "1", min: "1", max: "300" }),
    title_max_length: num("pf-title-max", { step: "1", min: "1", max: "300" }),
    links_allowed: el("input", { id: "pf-links-allowed", type: "checkbox" }),
    allowed_link_domains: el("input", { id: "pf-allowed-sites", type: "text", placeholder: "github.com, youtube.com" }),
    banned_link_domains: el("input", { id: "pf-banned-sites", type: "text", placeholder: "bit.ly, medium.com" }),
    required_flairs: el("input", { id: "pf-flairs", type: "text", placeholder: "Question, Showcase" }),
    banned_title_words: el("input", { id: "pf-title-words", type: "text", placeholder: "help, PSA" }),
  };
  const list = (input) => listItems(input.value);
  // The community's style guide (profile.style_guide): one box per key the API's schema has,
  // labelled, explained and limited as the schema says.
  const styleSpecs = styleKeys(styleSchema);
  const styleKnown = styleSpecs.map((spec) => spec.key);
  const style = {};
  const styleCounters = {};
  for (const spec of styleSpecs) {
    const id = `pf-style-${spec.key}`;
    style[spec.key] = spec.list || (spec.maxLength || 0) > 300
      ? el("textarea", { id, rows: spec.list ? "3" : "2", "aria-describedby": `${id}-hint ${id}-counter` })
      : el("input", { id, type: "text", "aria-describedby": `${id}-hint ${id}-counter` });
    styleCounters[spec.key] = el("p", { id: `${id}-counter`, class: "counter", "aria-live": "polite" });
  }
  const blocked = el("p", { id: "profile-blocked", class: "blocked", "aria-live": "polite", hidden: true });
  let saveButton = null;
  const checkStyle = () => {
    const problems = [];
    for (const spec of styleSpecs) {
      const input = style[spec.key];
      const counter = styleCounters[spec.key];
      const problem = styleProblem(spec, input);
      if (problem) problems.push(problem);
      if (spec.list) {
        const count = listItems(input.value).length;
        counter.textContent = `${count} of ${spec.maxItems} items${problem ? ` — ${problem}, fix it to save` : ""}`;
        counter.classList.toggle("near", count > spec.maxItems * 0.9);
      } else {
        counter.textContent = `${input.value.trim().length} / ${spec.maxLength}${problem ? ": shorten it to save" : ""}`;
        counter.classList.toggle("near", input.value.trim().length > spec.maxLength * 0.9);
      }
      counter.classList.toggle("over", Boolean(problem));
    }
    blocked.hidden = !problems.length;
    blocked.textContent = problems.length ? `Save is off: ${problems.join("; ")}.` : "";
    if (saveButton) saveButton.disabled = problems.length > 0;
  };
  const fillStyle = (guide) => {
    const g = guide && typeof guide === "object" ? guide : {};
    extraStyle = Object.fromEntries(Object.entries(g).filter(([key]) => !styleKnown.includes(key)));
    for (const spec of styleSpecs) {
      const value = g[spec.key];
      style[spec.key].value = spec.list ? (Array.isArray(value) ? value.join("\n") : "") : value ?? "";
    }
    checkStyle();
  };
  const readStyle = () => {
    const guide = { ...extraStyle };
    for (const spec of styleSpecs) {
      const input = style[spec.key];
      if (spec.list) guide[spec.key] = listItems(input.value);
      else guide[spec.key] = input.value.trim() || null;
    }
    const empty = Object.values(guide).every((v) => v === null || (Array.isArray(v) && !v.length));
    return empty ? null : guide;
  };
  const fillRules = (r) => {
    const req = r || {};
    rules.title_min_length.value = req.title_min_length ?? "";
    rules.title_max_length.value = req.title_max_length ?? "";
    rules.links_allowed.checked = req.links_allowed !== false;
    for (const key of ["allowed_link_domains", "banned_link_domains", "required_flairs", "banned_title_words"]) rules[key].value = (req[key] || []).join(", ");
  };
  const readRules = () => {
    const number = (input) => (input.value.trim() === "" ? null : Number(input.value));
    const req = {
      title_min_length: number(rules.title_min_length),
      title_max_length: number(rules.title_max_length),
      links_allowed: rules.links_allowed.checked,
      allowed_link_domains: list(rules.allowed_link_domains),
      banned_link_domains: list(rules.banned_link_domains),
      required_flairs: list(rules.required_flairs),
      banned_title_words: list(rules.banned_title_words),
    };
    const empty = req.title_min_length === null && req.title_max_length === null && req.links_allowed
      && !req.allowed_link_domains.length && !req.banned_link_domains.length && !req.required_flairs.length && !req.banned_title_words.length;
    return empty ? null : req;
  };
  const fill = (p) => {
    const { isc_score, avg_sentence_length, formality_level, dominant_tone, top_success_hooks, example_posts, sample_size, requirements, style_guide, subreddit: _s, campaign_id: _c, isc_tier: _t, updated_at: _u, version: _v, ...rest } = p || {};
    extra = rest;
    fillRules(requirements);
    fillStyle(style_guide);
    inputs.isc_score.value = isc_score ?? "";
    inputs.avg_sentence_length.value = avg_sentence_length ?? "";
    inputs.formality_level.value = formality_level ?? "";
    inputs.dominant_tone.value = dominant_tone || "neutral";
    inputs.top_success_hooks.value = (top_success_hooks || []).join("\n");
    inputs.example_posts.value = (example_posts || []).join("\n---\n");
    inputs.sample_size.value = sample_size ?? 0;
  };
  const read = () => {
    const number = (input) => (input.value.trim() === "" ? null : Number(input.value));
    return {
      ...extra,
      isc_score: number(inputs.isc_score),
      avg_sentence_length: number(inputs.avg_sentence_length),
      formality_level: number(inputs.formality_level),
      dominant_tone: inputs.dominant_tone.value,
      top_success_hooks: inputs.top_success_hooks.value.split("\n").map((s) => s.trim()).filter(Boolean),
      example_posts: inputs.example_posts.value.split(POST_SEPARATOR).map((s) => s.trim()).filter(Boolean),
      sample_size: number(inputs.sample_size) ?? 0,
      requirements: readRules(),
      style_guide: readStyle(),
    };
  };

  const formError = el("div", { role: "alert" });
  const form = el("form", { id: "profile-form", class: "subform", novalidate: true }, [
    field("isc_score", "ISC (1–10)", inputs.isc_score, "how hard the community is on promotion"),
    field("avg_sentence_length", "Average sentence length (words)", inputs.avg_sentence_length),
    field("formality_level", "Formality (school grade level)", inputs.formality_level),
    field("dominant_tone", "Dominant tone", inputs.dominant_tone),
    field("top_success_hooks", "Top hooks", inputs.top_success_hooks, "(one per line)"),
    field("example_posts", "Example posts", inputs.example_posts, "(separate posts with a line of ---)"),
    field("sample_size", "Sample size (posts)", inputs.sample_size),
    el("fieldset", { class: "community-rules", dataset: { field: "requirements" } }, [
      el("legend", { text: `r/${subreddit}'s posting rules` }),
      el("p", { class: "field-error", hidden: true }),
      el("p", { class: "hint", text: "Every draft and every edit is checked against these; a broken rule marks the draft “needs review”. Leave a box empty when the community has no such rule." }),
      el("div", { class: "field-row" }, [
        field("rules-title_min_length", "Shortest title (characters)", rules.title_min_length),
        field("rules-title_max_length", "Longest title (characters)", rules.title_max_length),
      ]),
      el("div", { class: "field checkbox", dataset: { field: "rules-links_allowed" } }, [rules.links_allowed, el("label", { for: "pf-links-allowed", text: " Links are allowed in posts" })]),
      field("rules-allowed_link_domains", "Links only to these sites", rules.allowed_link_domains, "(comma-separated; empty: any site)"),
      field("rules-banned_link_domains", "Never link to these sites", rules.banned_link_domains, "(comma-separated)"),
      field("rules-required_flairs", "Every post needs one of these flairs", rules.required_flairs, "(comma-separated)"),
      field("rules-banned_title_words", "Words not allowed in titles", rules.banned_title_words, "(comma-separated)"),
    ]),
    el("fieldset", { class: "community-rules style-guide", dataset: { field: "style_guide" } }, [
      el("legend", { text: `How r/${subreddit} writes (style guide)` }),
      el("p", { class: "field-error", hidden: true }),
      el("p", { class: "hint", text: "The writer is given what you enter here as it is. Lists take one item per line, or items separated by commas. Leave a box empty when you have nothing for it." }),
      ...styleSpecs.map((spec) => {
        const id = `pf-style-${spec.key}`;
        const limit = spec.list ? `up to ${spec.maxItems} items, each up to ${spec.maxLength} characters` : `up to ${spec.maxLength} characters`;
        return el("div", { class: "field", dataset: { field: `style_guide.${spec.key}` } }, [
          el("label", { for: id, text: spec.label }),
          el("p", { id: `${id}-hint`, class: "hint", text: `${sentence(spec.meaning)} ${sentence(limit)}` }),
          style[spec.key],
          styleCounters[spec.key],
          el("p", { class: "field-error", hidden: true }),
        ]);
      }),
    ]),
    el("div", { class: "actions" }, [
      (saveButton = el("button", { type: "submit", id: "profile-save", class: "btn btn-primary", text: "Save profile", "aria-describedby": "profile-blocked" })),
      el("button", { type: "button", class: "btn btn-ghost", text: "Cancel", on: { click: cancel } }),
    ]),
    blocked,
    formError,
  ]);
  for (const input of Object.values(style)) input.addEventListener("input", checkStyle);
  clearErrorsOnInput(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(formError);
    clearFieldErrors(form);
    try {
      await save(read());
    } catch (error) {
      const leftover = error.code === "VALIDATION_ERROR" ? showFieldErrors(form, error) : null;
      if (!leftover) showError(formError, error, { title: "The profile was not saved" });
      else if (leftover.length) formError.append(errorBox({ ...error, details: { errors: leftover } }, { title: "Please fix these" }));
    }
  });

  // Paste a whole profile as JSON: it fills the form, to check before saving.
  const jsonBox = el("textarea", { id: "profile-json", rows: "5", spellcheck: "false", placeholder: '{"isc_score": 6.4, "avg_sentence_length": 14, "formality_level": 8, …}' });
  const jsonError = el("div", { role: "alert" });
  const jsonPart = el("div", { class: "subform" }, [
    el("label", { for: "profile-json", text: "Paste a profile as JSON" }),
    jsonBox,
    el("div", { class: "actions" }, [
      el("button", { type: "button", id: "profile-json-load", class: "btn", text: "Put it in the form", on: { click: () => {
        clear(jsonError);
        let pasted;
        try {
          pasted = JSON.parse(jsonBox.value);
        } catch (exc) {
          jsonError.append(errorBox({ code: "INVALID_JSON", message: `This is not JSON: ${exc.message}` }));
          return;
        }
        // A style guide key the API does not have is said now, with the real keys, and left
        // out (the form has no box for it); everything else goes into the form.
        const guide = pasted && typeof pasted === "object" ? pasted.style_guide : null;
        const unknown = unknownStyleKeys(guide, styleKnown);
        if (unknown.length) {
          const kept = Object.fromEntries(Object.entries(guide).filter(([key]) => styleKnown.includes(key)));
          pasted = { ...pasted, style_guide: kept };
          jsonError.append(errorBox({
            code: "VALIDATION_ERROR",
            message: `The style guide has no ${unknown.map((u) => `“${u.key}”${u.near ? ` (did you mean “${u.near}”?)` : ""}`).join(", ")}: it was left out. Its keys are ${styleKnown.join(", ")}. The rest is in the form.`,
            details: {},
          }, { title: "Part of the pasted profile was not used" }));
        }
        fill(pasted);
        inputs.isc_score.focus();
      } } }),
    ]),
    jsonError,
  ]);

  // Analyze real posts: the server proposes a profile; the user reviews it, then saves it.
  const postsBox = el("textarea", { id: "analyze-input", rows: "6", spellcheck: "false", placeholder: "First post's title\nIts text…\n---\nSecond post's title\nIts text…" });
  const proposal = el("div", { id: "analyze-result" });
  const analyzePart = el("div", { class: "subform" }, [
    el("label", { for: "analyze-input", text: `Analyze posts from r/${subreddit}` }),
    el("p", { class: "hint", text: "Paste the community's posts as you copied them: one post per block, the title on its first line, posts separated by a line of --- (or by blank lines when each post is one paragraph). A saved listing page (add .json to the subreddit's address) or posts as JSON work too. Ten posts or more give a reliable estimate; fewer give a rough one. Nothing is saved until you save the profile." }),
    postsBox,
    el("div", { class: "actions" }, [
      el("button", { type: "button", id: "analyze-run", class: "btn", text: "Analyze posts", on: { click: async () => {
        clear(proposal);
        // JSON (posts, or a saved listing page) goes as it is; anything else is pasted post
        // texts, which the server splits on blank lines or "---".
        let body;
        try {
          body = analyzeBody(JSON.parse(postsBox.value));
        } catch (exc) {
          body = { text: postsBox.value };
        }
        try {
          const answer = await analyze(body);
          proposal.append(proposalView(answer, () => {
            // Posts say nothing of a style guide: the one in the form stays.
            fill({ ...answer.profile, sample_size: answer.profile.sample_size ?? answer.sample_size, style_guide: answer.profile.style_guide || readStyle() });
            inputs.isc_score.focus();
          }));
        } catch (error) {
          showError(proposal, error, { title: "The posts could not be analyzed" });
        }
      } } }),
    ]),
    proposal,
  ]);

  fill(initial);
  return el("div", { class: "profile-editor", dataset: { testid: "profile-editor" } }, [
    el("h3", { class: "small-heading", text: `Profile of r/${subreddit}` }),
    analyzePart,
    jsonPart,
    form,
  ]);
}

/** How the server reached its estimate: the ISC components (value, weight, why) and its notes;
 * an `explanation` object of other shapes is listed as it comes. */
function explanationRows(answer) {
  const rows = [];
  const isc = answer.isc || {};
  for (const c of isc.components || []) {
    rows.push(el("dt", { text: c.name.replace(/_/g, " ") }), el("dd", { text: `${fmtNumber(c.value)} × ${c.weight} — ${c.explanation}` }));
  }
  if (isc.formula) rows.push(el("dt", { text: "ISC" }), el("dd", { text: isc.formula }));
  for (const [key, value] of Object.entries(answer.explanation || {})) {
    const text = value && typeof value === "object" ? value.explanation || JSON.stringify(value) : value;
    rows.push(el("dt", { text: key.replace(/_/g, " ") }), el("dd", { text: String(text) }));
  }
  return rows;
}

function proposalView(answer, use) {
  const p = answer.profile || {};
  return el("div", { class: "proposal", dataset: { testid: "proposal" } }, [
    el("p", { class: "report-title", text: `Proposed from ${answer.sample_size ?? p.sample_size ?? 0} posts` }),
    answer.low_confidence ? el("p", { class: "warning", dataset: { testid: "low-confidence" }, text: `Low confidence: ${answer.confidence_note}.` }) : null,
    el("dl", { class: "profile-facts" }, [
      el("dt", { text: "ISC estimate" }), el("dd", { class: "proposal-isc", text: `${formatIsc(p.isc_score)} (${iscTier(p.isc_score)})` }),
      el("dt", { text: "Sentences" }), el("dd", { text: `${fmtNumber(p.avg_sentence_length)} words on average` }),
      el("dt", { text: "Formality" }), el("dd", { text: `grade ${fmtNumber(p.formality_level)}` }),
      el("dt", { text: "Tone" }), el("dd", { text: p.dominant_tone || "neutral" }),
      el("dt", { text: "Top hooks" }), el("dd", { text: (p.top_success_hooks || []).join(" · ") || "none" }),
      ...((p.requirements || {}).required_flairs || []).length ? [el("dt", { text: "Required flair" }), el("dd", { class: "proposal-flairs", text: `one of ${p.requirements.required_flairs.join(", ")}` })] : [],
    ]),
    el("p", { class: "small-heading", text: "How it was estimated" }),
    el("dl", { class: "details explanation" }, explanationRows(answer)),
    (answer.notes || []).length ? el("ul", { class: "notes" }, answer.notes.map((n) => el("li", { text: n }))) : null,
    el("button", { type: "button", id: "analyze-use", class: "btn btn-primary", text: "Use this proposal", on: { click: use } }),
    el("span", { class: "hint", text: " then check the form and save." }),
  ]);
}
