// The orphanage's key, on its own phone (docs/FORMAT.md section 8).
//
// Enrolment (/daftar/<token>): make an Ed25519 key with WebCrypto, keep the private key in
// IndexedDB as a non-extractable CryptoKey, optionally save a passphrase-encrypted backup
// file (PBKDF2-SHA-256 + AES-GCM over the PKCS#8 key), and send only the public key.
// Acknowledgment pages: rebuild the documented message from the disbursement's facts on the
// page, sign it with the stored key, and send the signature. The server checks it again
// and so do `ledger verify` and `ledger-verify acknowledgment`.
//
// No text for people lives here: the page carries it (#recipient-texts, from the gettext
// catalog). No library, no framework, no other host.
"use strict";

(function () {
  const DB_NAME = "donation-ledger-recipient";
  const STORE = "keys";
  const HEADER = "donation-ledger acknowledgment v1";
  const BACKUP_FORMAT = "donation-ledger-recipient-key-backup/v1";
  const PBKDF2_ITERATIONS = 310000;
  const texts = document.getElementById("recipient-texts");
  const say = (name, values) => {
    let text = texts ? texts.dataset[name] || "" : "";
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  };
  const subtle = window.crypto && window.crypto.subtle;

  // --- bytes -----------------------------------------------------------------------------
  const b64 = (bytes) => {
    let s = "";
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s);
  };
  const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const utf8 = (text) => new TextEncoder().encode(text);

  // --- storage (IndexedDB; a CryptoKey is stored as is, never as bytes) -------------------
  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function keyStore(mode, action) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const slot = (origin, beneficiary) => origin + " " + beneficiary;
  const saveKey = (origin, beneficiary, record) =>
    keyStore("readwrite", (s) => s.put(record, slot(origin, beneficiary)));
  const loadKey = (origin, beneficiary) =>
    keyStore("readonly", (s) => s.get(slot(origin, beneficiary)));

  async function ed25519Supported() {
    if (!subtle) return false;
    try {
      await subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      return true;
    } catch (e) {
      return false;
    }
  }

  // --- the API -----------------------------------------------------------------------------
  async function send(url, body, headers) {
    const answer = await fetch(url, {
      method: "POST",
      headers: Object.assign(
        {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Accept-Language": document.documentElement.lang || "id",
        },
        headers || {}
      ),
      body: JSON.stringify(body),
    });
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(data.detail || data.title || String(answer.status));
    return data;
  }

  // --- backup file ---------------------------------------------------------------------------
  async function wrapKey(passphrase, salt) {
    const material = await subtle.importKey("raw", utf8(passphrase), "PBKDF2", false, [
      "deriveKey",
    ]);
    return subtle.deriveKey(
      { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: PBKDF2_ITERATIONS },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"]
    );
  }
  async function backupFile(pair, passphrase, origin, beneficiary, publicKey) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const pkcs8 = await subtle.exportKey("pkcs8", pair.privateKey);
    const sealed = await subtle.encrypt({ name: "AES-GCM", iv: iv }, await wrapKey(passphrase, salt), pkcs8);
    return JSON.stringify({
      format: BACKUP_FORMAT,
      origin: origin,
      beneficiary: beneficiary,
      public_key: publicKey,
      kdf: { name: "PBKDF2", hash: "SHA-256", iterations: PBKDF2_ITERATIONS, salt: b64(salt) },
      cipher: { name: "AES-GCM", iv: b64(iv) },
      sealed_pkcs8: b64(sealed),
    });
  }
  function download(name, text) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // --- enrolment ---------------------------------------------------------------------------
  async function enrol(card) {
    const status = document.getElementById("enrol-status");
    const button = document.getElementById("enrol-button");
    const passphrase = document.getElementById("passphrase").value;
    const d = card.dataset;
    if (passphrase && passphrase.length < 8) {
      status.textContent = say("shortPassphrase");
      return;
    }
    if (!(await ed25519Supported())) {
      status.textContent = say("unsupported");
      status.dataset.state = "unsupported";
      return;
    }
    button.disabled = true;
    status.textContent = say("working");
    try {
      // extractable only for the backup; what is stored is a non-extractable copy
      const pair = await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
      const publicKey = b64(await subtle.exportKey("raw", pair.publicKey));
      const pkcs8 = await subtle.exportKey("pkcs8", pair.privateKey);
      const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
      if (passphrase) {
        const file = await backupFile(pair, passphrase, d.origin, d.beneficiary, publicKey);
        download(d.beneficiary + "-key-backup.json", file);
      }
      const recorded = await send("/v1/enrolments/" + d.token, { public_key: publicKey });
      await saveKey(d.origin, d.beneficiary, {
        privateKey: privateKey,
        publicKey: publicKey,
        keyIndex: recorded.index,
      });
      status.textContent = say("done", { index: recorded.index });
      status.dataset.state = "enrolled";
      status.dataset.index = recorded.index;
      const next = document.createElement("a");
      next.href = d.next;
      next.className = "button button-primary";
      next.id = "next-link";
      next.textContent = say("next");
      status.after(next);
    } catch (e) {
      status.textContent = say("failed") + " " + e.message;
      status.dataset.state = "failed";
      button.disabled = false;
    }
  }

  // --- acknowledgment ------------------------------------------------------------------------
  function messageOf(d, verdict, received) {
    const lines = [
      HEADER,
      "log " + d.origin,
      "org " + d.org,
      "beneficiary " + d.beneficiary,
      "disbursement " + d.disbursement + " " + d.leafHash,
      "amount " + d.amount + " " + d.currency + " " + d.minorUnits,
      "paid_on " + d.paidOn,
      "verdict " + verdict,
      "received " + received,
    ];
    return utf8(lines.join("\n") + "\n");
  }

  function minorUnitsOf(text, exponent) {
    const digits = text.replace(/[.\s]/g, "");
    if (!/^[0-9]{1,13}$/.test(digits)) return null;
    return Number(digits) * Math.pow(10, Number(exponent));
  }

  async function sign(item, verdict, received) {
    const d = item.dataset;
    const out = item.querySelector('[data-field="message"]');
    const stored = await loadKey(d.origin, d.beneficiary).catch(() => undefined);
    if (!stored) {
      document.getElementById("key-missing").hidden = false;
      return;
    }
    if (stored.publicKey !== d.publicKey) {
      out.textContent = say("retired");
      out.dataset.state = "retired";
      return;
    }
    item.querySelectorAll("button").forEach((b) => (b.disabled = true));
    out.textContent = say("signing");
    try {
      const signed = messageOf(d, verdict, received);
      const signature = b64(await subtle.sign({ name: "Ed25519" }, stored.privateKey, signed));
      const body = { verdict: verdict, key: Number(d.key), signature: signature };
      if (verdict === "disputed") body.received = received;
      const key = "ack-" + signature.slice(0, 32).replace(/\+/g, "-").replace(/\//g, "_");
      const url = "/v1/orgs/" + d.org + "/disbursements/" + d.disbursement + "/acknowledgment";
      const recorded = await send(url, body, { "Idempotency-Key": key });
      out.textContent = say("recorded", { index: recorded.index });
      out.dataset.state = verdict;
      window.setTimeout(() => window.location.reload(), 600);
    } catch (e) {
      out.textContent = say("failed") + " " + e.message;
      out.dataset.state = "failed";
      item.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  }

  async function restore() {
    const status = document.getElementById("restore-status");
    try {
      const file = document.getElementById("backup-file").files[0];
      const backup = JSON.parse(await file.text());
      if (backup.format !== BACKUP_FORMAT) throw new Error("format");
      const passphrase = document.getElementById("backup-passphrase").value;
      const wrapping = await wrapKey(passphrase, unb64(backup.kdf.salt));
      const pkcs8 = await subtle.decrypt(
        { name: "AES-GCM", iv: unb64(backup.cipher.iv) },
        wrapping,
        unb64(backup.sealed_pkcs8)
      );
      const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
      const publicKey = await subtle.importKey("raw", unb64(backup.public_key), { name: "Ed25519" }, false, ["verify"]);
      const probe = utf8("donation-ledger backup check");
      const ok = await subtle.verify({ name: "Ed25519" }, publicKey, await subtle.sign({ name: "Ed25519" }, privateKey, probe), probe);
      const items = document.querySelectorAll(".ack-item");
      const current = items.length ? items[0].dataset.publicKey : backup.public_key;
      if (!ok || backup.public_key !== current) throw new Error("key");
      await saveKey(backup.origin, backup.beneficiary, { privateKey: privateKey, publicKey: backup.public_key });
      status.textContent = say("restored");
      document.getElementById("key-missing").hidden = true;
    } catch (e) {
      status.textContent = say("restoreFailed");
    }
  }

  async function start() {
    const card = document.getElementById("enrol");
    if (card) {
      const button = document.getElementById("enrol-button");
      if (button) button.addEventListener("click", () => enrol(card));
      return;
    }
    const supported = await ed25519Supported();
    for (const item of document.querySelectorAll(".ack-item")) {
      const out = item.querySelector('[data-field="message"]');
      item.addEventListener("click", (event) => {
        const action = event.target.dataset && event.target.dataset.action;
        if (!action) return;
        if (!supported) {
          out.textContent = say("unsupported");
          out.dataset.state = "unsupported";
          return;
        }
        if (action === "acknowledge") sign(item, "acknowledged", Number(item.dataset.amount));
        if (action === "show-dispute") {
          item.querySelector(".ack-dispute").hidden = false;
          item.querySelector(".ack-dispute input").focus();
        }
        if (action === "dispute") {
          const received = minorUnitsOf(item.querySelector(".ack-dispute input").value, item.dataset.minorUnits);
          if (received === null) {
            out.textContent = say("badAmount");
            return;
          }
          sign(item, "disputed", received);
        }
      });
    }
    const restoreButton = document.getElementById("restore-button");
    if (restoreButton) restoreButton.addEventListener("click", restore);
    if (texts && texts.dataset.origin && supported) {
      const stored = await loadKey(texts.dataset.origin, texts.dataset.beneficiary).catch(() => undefined);
      if (!stored && document.querySelector('.ack-item[data-status="awaiting"]')) {
        document.getElementById("key-missing").hidden = false;
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
