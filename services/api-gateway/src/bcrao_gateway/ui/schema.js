/* Closed vocabularies (blacklist categories, severities, tones) read from the API's own OpenAPI
 * document, so the page never keeps a second list of them. */

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
