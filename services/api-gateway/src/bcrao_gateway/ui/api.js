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

/** `ifMatch`: the version the change was made from; a stale one answers 412 with the current
 * state in `details.current` (conflict.js shows what changed). `keepalive`: the request outlives
 * the page (sent while it is being left). */
export async function api(method, path, body, { ifMatch, keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (ifMatch) headers["If-Match"] = `"${ifMatch}"`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      keepalive,
    });
  } catch (exc) {
    throw new ApiError(0, "NETWORK_ERROR", "The server cannot be reached. Is the gateway running?");
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
