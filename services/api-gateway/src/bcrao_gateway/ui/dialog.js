/* One modal confirmation (<dialog>), resolved with true (confirmed) or false. */

import { $, clear, el } from "./dom.js";

export function confirmDialog({ title, body = [], ok = "OK", cancel = "Cancel", danger = false }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  clear($("confirm-body")).append(...[].concat(body).map((b) => (typeof b === "string" ? el("p", { text: b }) : b)));
  const okButton = $("confirm-ok");
  okButton.textContent = ok;
  $("confirm-cancel").textContent = cancel;
  okButton.className = danger ? "btn btn-danger" : "btn btn-primary";
  dialog.dataset.kind = danger ? "danger" : "normal";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}
