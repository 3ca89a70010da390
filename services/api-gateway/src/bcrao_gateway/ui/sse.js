/* A Server-Sent Events reader over fetch, so the page sees HTTP statuses (EventSource hides them)
 * and owns the reconnection policy. Parses the text/event-stream format: `id:`, `data:`, comments. */

/** Read `response.body`, calling onMessage({id, data}) per event; resolves when the body ends. */
export async function readEvents(response, onMessage) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let id = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length) onMessage({ id, data: data.join("\n") });
        data = [];
        id = null;
        continue;
      }
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const rest = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(rest);
      else if (field === "id") id = rest;
    }
  }
}

/** Backoff for reconnecting: 1 s, 2 s, 4 s … capped, with a little jitter. */
export function backoffDelay(attempt, { base = 1000, cap = 15000 } = {}) {
  const plain = Math.min(cap, base * 2 ** attempt);
  return plain / 2 + Math.random() * (plain / 2);
}
