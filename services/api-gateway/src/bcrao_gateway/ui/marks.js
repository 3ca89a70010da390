/* Marking hits in a text: every occurrence of every needle becomes a <mark> (built as nodes). */

import { el } from "./dom.js";

/** needles: [{text, kind, label}] (case-insensitive substrings) or [{regex, kind, label}]. */
export function findRanges(text, needles) {
  const ranges = [];
  for (const needle of needles) {
    if (needle.regex) {
      needle.regex.lastIndex = 0;
      for (const match of text.matchAll(needle.regex)) {
        if (match[0]) ranges.push({ start: match.index, end: match.index + match[0].length, ...needle });
      }
      continue;
    }
    const wanted = String(needle.text || "").toLowerCase();
    if (!wanted) continue;
    const haystack = text.toLowerCase();
    for (let at = haystack.indexOf(wanted); at >= 0; at = haystack.indexOf(wanted, at + wanted.length)) {
      ranges.push({ start: at, end: at + wanted.length, ...needle });
    }
  }
  // Earliest first; overlapping hits ("check out my" and "my app") merge into one mark that
  // names both, so every hit stays marked.
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept = [];
  for (const range of ranges) {
    const last = kept[kept.length - 1];
    if (last && range.start < last.end) {
      last.end = Math.max(last.end, range.end);
      if (!last.label.includes(range.label)) last.label = `${last.label}; ${range.label}`;
      if (range.kind !== last.kind && !last.kind.includes(range.kind)) last.kind = `${last.kind} ${range.kind}`;
    } else {
      kept.push({ ...range });
    }
  }
  return kept;
}

/** Text nodes and <mark>s for `text` with `ranges` marked. */
export function marked(text, ranges) {
  const nodes = [];
  let at = 0;
  for (const range of ranges) {
    if (range.start > at) nodes.push(text.slice(at, range.start));
    nodes.push(el("mark", { class: `hit hit-${range.kind}`, title: range.label, dataset: { hit: range.kind } }, [text.slice(range.start, range.end)]));
    at = range.end;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}
