/*
 * site.js: small enhancements of the organization and entry pages. Without JavaScript the
 * pages work the same; the buttons that need it stay hidden.
 *
 * - "Pin these keys": stores the log's vkeys in this browser (localStorage), so /verify
 *   checks receipts against the keys seen here, and warns if they ever change.
 * - "Copy": copies a code block.
 * - "Check this proof in the browser": hands the entry's tlog-proof to /verify.
 */
"use strict";

(function () {
  const PINS = "donation-ledger.pins";
  const HANDOFF = "donation-ledger.proof";
  const strings = document.getElementById("site-strings");
  const S = strings ? JSON.parse(strings.textContent) : {};

  for (const node of document.querySelectorAll(".js-only")) node.hidden = false;

  function storage(kind) {
    try {
      return window[kind];
    } catch (err) {
      return null; // storage disabled by the browser's privacy settings
    }
  }

  const pin = document.getElementById("pin-keys");
  if (pin) {
    pin.addEventListener("click", () => {
      const status = document.getElementById("pin-status");
      const vkeys = document.getElementById("vkeys").textContent.split("\n").map((l) => l.trim()).filter(Boolean);
      const local = storage("localStorage");
      if (!local) return;
      let pins = {};
      try {
        pins = JSON.parse(local.getItem(PINS) || "{}") || {};
      } catch (err) {
        pins = {};
      }
      const before = pins[pin.dataset.slug];
      const same = before && before.vkeys.join("\n") === vkeys.join("\n");
      const messages = [];
      if (before && !same) messages.push(S.pinned_changed);
      if (same) {
        messages.push(S.pinned_already);
      } else {
        pins[pin.dataset.slug] = {
          origin: pin.dataset.origin,
          name: pin.dataset.name,
          vkeys: vkeys,
          pinned_at: new Date().toISOString(),
        };
        local.setItem(PINS, JSON.stringify(pins));
        messages.push(S.pinned_ok);
      }
      status.textContent = messages.join(" ");
      status.classList.toggle("status-warn", Boolean(before && !same));
    });
  }

  for (const button of document.querySelectorAll(".js-copy")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = S.copied;
        setTimeout(() => (button.textContent = S.copy), 2000);
      } catch (err) {
        const range = document.createRange(); // no clipboard (plain http): select the text instead
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    });
  }

  const check = document.getElementById("check-proof");
  if (check) {
    check.addEventListener("click", () => {
      const session = storage("sessionStorage");
      if (!session) return;
      const text = document.getElementById("tlog-proof").textContent;
      session.setItem(HANDOFF, JSON.stringify({ index: check.dataset.index, text: text }));
    });
  }
})();
