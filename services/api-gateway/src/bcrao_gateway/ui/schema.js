/* Closed vocabularies (blacklist categories, severities, tones) and the shape of some bodies (the
 * style guide's keys, labels, meanings and limits) read from the API's own OpenAPI document, so
 * the page never keeps a second copy of them. */

let document_ = null;

async function openapi() {
  if (!document_) {
    const response = await fetch("/openapi.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`openapi.json answered ${response.status}`);
    document_ = await response.json();
  }
  return document_;
}

export async function enumOf(name) {
  const schema = (await openapi()).components.schemas[name];
  return (schema && schema.enum) || [];
}

/** A body's JSON Schema (its `properties`, with title, description and limits), or null. */
export async function schemaOf(name) {
  return (await openapi()).components.schemas[name] || null;
}
