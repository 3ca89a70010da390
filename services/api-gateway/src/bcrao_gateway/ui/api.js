/* Every call to the API: bearer token, JSON, and the error envelope {"error": {code, message, details}}. */

import { emit, state } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter; // seconds, from the Retry-After header (or details)
  }
}

function retryAfterOf(response, details) {
  const header = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  if (Number.isFinite(header) && header >= 0) return header;
  const inBody = details && Number(details.retry_after_seconds);
  return Number.isFinite(inBody) && inBody >= 0 ? inBody : undefined;
}

// An idempotent call whose answer was lost is sent again after these waits, with its key.
const LOST_ANSWER_RETRY_MS = [500, 2000];
// A proxy's answer for a gateway it lost: whether the gateway acted is unknown, as with no answer.
const LOST_ANSWER_STATUSES = new Set([502, 504]);

/** A random UUID (v4): crypto.randomUUID where the page is a secure context, else from
 * crypto.getRandomValues (a page served over plain HTTP from another host has only that). */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `ifMatch`: the version the change was made from; a stale one answers 412 with the current
 * state in `details.current` (conflict.js shows what changed). `keepalive`: the request outlives
 * the page (sent while it is being left).
 * `idempotent`: one user action that must not happen twice (generate, regenerate). The call
 * carries an Idempotency-Key of its own; when its answer is lost (no connection, or a proxy's
 * 502/504) it is sent again with the same key, so the gateway answers the task the first send
 * opened instead of opening (and charging) a second one. */
export async function api(method, path, body, { ifMatch, idempotent, keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (ifMatch) headers["If-Match"] = `"${ifMatch}"`;
  if (idempotent) headers["Idempotency-Key"] = newIdempotencyKey();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  for (let attempt = 0; ; attempt += 1) {
    const retry = idempotent && attempt < LOST_ANSWER_RETRY_MS.length;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        keepalive,
      });
    } catch (exc) {
      if (!retry) throw new ApiError(0, "NETWORK_ERROR", "The server cannot be reached. Is the gateway running?");
      await pause(LOST_ANSWER_RETRY_MS[attempt]);
      continue;
    }
    if (!(retry && LOST_ANSWER_STATUSES.has(response.status))) break;
    await pause(LOST_ANSWER_RETRY_MS[attempt]);
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch (exc) {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && payload.error;
    const details = (error && error.details) || {};
    const failure = new ApiError(
      response.status,
      (error && error.code) || `HTTP_${response.status}`,
      (error && error.message) || response.statusText || "Request failed",
      details,
      retryAfterOf(response, details),
    );
    // One place says "your token is not valid"; the sections that asked stay quiet (errors.js).
    if (failure.status === 401) emit("auth-failed", failure);
    throw failure;
  }
  return payload;
}

export const enc = encodeURIComponent;
