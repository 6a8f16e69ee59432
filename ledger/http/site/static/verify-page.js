/*
 * verify-page.js: the /verify page. Reads a receipt (pasted, chosen or dropped) and the keys
 * the user trusts, runs TlogVerify in this browser and shows the verdict. Nothing is sent
 * anywhere: the page's Content-Security-Policy forbids scripts any network request.
 *
 * Keys come from what the user pinned on an organization's page (localStorage) or typed; for a
 * proof filled in from a receipt's QR link (?org=&entry=) with no pin, from the keys this
 * server publishes, which the page then says. A dropped receipt PDF is opened here
 * (pdf-attachments.js) and its attached receipt checked. A recipient's acknowledgment file
 * (donation-ledger-acknowledgment/v1) is checked too, the recipient's own signature
 * included, and said in plain words: "Panti X menandatangani bahwa telah menerima …".
 * A dropped PDF's own signature is checked as well (pdf-signature.js) and said apart from the
 * log's verdict: valid and whose, or refused (a changed byte, bytes appended after signing,
 * a certificate that is not the organization's, no signature at all). The organization's
 * certificate is the one this server publishes (GET …/certificate), sent in the page.
 */
"use strict";

(function () {
  const PINS = "donation-ledger.pins";
  const HANDOFF = "donation-ledger.proof";
  const form = document.getElementById("verify-form");
  if (!form || !window.TlogVerify) return;
  const S = JSON.parse(document.getElementById("site-strings").textContent);
  const CURRENCIES = JSON.parse(document.getElementById("currencies").textContent);
  const certificatesNode = document.getElementById("document-certificates");
  const CERTIFICATES = certificatesNode ? JSON.parse(certificatesNode.textContent) : {};
  const lang = document.documentElement.lang === "en" ? "en" : "id";
  const receipt = document.getElementById("receipt");
  const keys = document.getElementById("keys");
  const fileInput = document.getElementById("receipt-file");
  const dropZone = document.getElementById("drop-zone");
  const pinSource = document.getElementById("pin-source");
  const proofSource = document.getElementById("proof-source");
  const resultArea = document.getElementById("result");
  const resultBody = document.getElementById("result-body");
  const button = document.getElementById("verify-button");
  let keysFromPin = false;
  let pdfSignature = null; // PdfSignature.check's answer for the PDF the receipt came from

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  function readStore(storage, key) {
    try {
      return JSON.parse(storage.getItem(key) || "null");
    } catch (err) {
      return null;
    }
  }

  function pinnedDate(iso) {
    try {
      return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "id-ID", { dateStyle: "long" }).format(new Date(iso));
    } catch (err) {
      return iso;
    }
  }

  /* Fill the keys from a pin: of the organization in ?org=, or of the receipt's log. */
  function usePin(pin, slug) {
    keys.value = pin.vkeys.join("\n");
    keysFromPin = true;
    pinSource.textContent = format(S.keys_from_pin, { org: pin.name || slug, when: pinnedDate(pin.pinned_at) });
  }

  function pinFor(origin) {
    const pins = readStore(localStorage, PINS) || {};
    for (const slug of Object.keys(pins)) {
      if (pins[slug] && pins[slug].origin === origin) return [slug, pins[slug]];
    }
    return null;
  }

  function prefill() {
    const slug = form.dataset.org;
    const pins = readStore(localStorage, PINS) || {};
    if (slug && pins[slug]) usePin(pins[slug], slug);
    else if (slug) {
      pinSource.textContent = format(S.keys_not_pinned, { org: form.dataset.orgName || slug }) + " ";
      const base = form.dataset.entryBase.replace(/\?.*$/, "");
      const query = lang === "en" ? "?lang=en" : "";
      pinSource.append(el("a", { href: base + encodeURIComponent(slug) + query + "#checkpoint" }, form.dataset.orgName || slug));
    }
    const handed = readStore(sessionStorage, HANDOFF);
    if (handed && typeof handed.text === "string") {
      sessionStorage.removeItem(HANDOFF);
      receipt.value = handed.text;
      proofSource.textContent = format(S.proof_from_entry, { index: handed.index });
      matchPin();
    }
    if (form.dataset.entry !== "" && receipt.value.trim()) {
      // Opened from a receipt's QR code: the server filled in the entry's public receipt.
      proofSource.textContent = format(S.v_from_link, { index: form.dataset.entry, org: form.dataset.orgName || slug });
      matchPin();
      useServedKeys();
      if (keys.value.trim()) form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  }

  function matchPin() {
    if (keys.value.trim() && !keysFromPin) return;
    const origin = TlogVerify.claimedOrigin(receipt.value);
    const found = origin && pinFor(origin);
    if (found) usePin(found[1], found[0]);
  }

  /* A file the user chose or dropped: a receipt PDF (its attached receipt, read in this
     browser by PdfAttachments), or a receipt's JSON or .tlog-proof text. */
  async function loadFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    pdfSignature = null;
    if (window.PdfAttachments && PdfAttachments.isPdf(bytes)) {
      if (window.PdfSignature) pdfSignature = await PdfSignature.check(bytes);
      let found;
      try {
        found = await PdfAttachments.receiptsIn(bytes);
      } catch (err) {
        receipt.value = "";
        proofSource.textContent = format(S.v_pdf_unreadable, { reason: err.message || String(err) });
        return;
      }
      if (!found.length) {
        receipt.value = "";
        proofSource.textContent = S.v_pdf_none;
        return;
      }
      receipt.value = found[0].text;
      proofSource.textContent = found.length > 1
        ? format(S.v_pdf_many, { n: found.length, name: found[0].name })
        : format(S.v_from_pdf, { name: file.name + " \u2192 " + found[0].name });
      matchPin();
      return;
    }
    receipt.value = new TextDecoder("utf-8").decode(bytes); // like ledger-verify: bad bytes replaced
    proofSource.textContent = TlogVerify.isAcknowledgment(receipt.value) ? format(S.v_ack_file, { name: file.name }) : file.name;
    matchPin();
  }

  /* No pinned key for a proof that the link filled in: the keys this server publishes, said so. */
  function useServedKeys() {
    const served = form.dataset.servedVkeys || "";
    if (!served.trim() || keys.value.trim()) return false;
    keys.value = served;
    keysFromPin = true;
    pinSource.textContent = format(S.v_keys_served, { org: form.dataset.orgName || form.dataset.org });
    return true;
  }

  // --- showing the verdict --------------------------------------------------------------------

  /* `units`: the exponent the receipt's fund entry recorded; else the table's (ISO 4217 of
     2026-01-01, the docs/FORMAT.md rule for fund entries that recorded none). */
  function formatAmount(amount, currency, units) {
    const known = CURRENCIES[currency] || [2, currency];
    if (!Number.isInteger(units)) units = known[0];
    const digits = BigInt(amount < 0 ? -amount : amount).toString().padStart(units + 1, "0");
    const whole = digits.slice(0, digits.length - units).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    const fraction = units ? digits.slice(digits.length - units) : "";
    const shown = fraction && !(currency === "IDR" && /^0+$/.test(fraction)) ? whole + "," + fraction : whole;
    return (amount < 0 ? "\u2212" : "") + known[1] + " " + shown;
  }

  function formatDay(text) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
    const options = { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" };
    return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "id-ID", options).format(new Date(text + "T00:00:00Z"));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }

  function fact(list, label, value, field) {
    const dd = el("dd", field ? { "data-field": field } : {});
    dd.append(value);
    list.append(el("div", {}, el("dt", {}, label), dd));
  }

  function verdict(kind, text) {
    const mark = kind === "pass" ? "\u2713" : kind === "reversed" ? "!" : "\u2717";
    return el("p", { class: "verdict" }, el("span", { class: "verdict-mark", "aria-hidden": "true" }, mark), " ", text);
  }

  /* The verdict in plain words first: who, which fund, how much, and the three answers
     (recorded, unaltered, still counted), what "Sah" means; the cryptography under "Detail teknis". */
  function showPass(result) {
    const doc = result.document;
    const body = doc.body && typeof doc.body === "object" ? doc.body : {};
    const reversal = result.reversal;
    const status = reversal ? "reversed" : result.reversalChecked ? "counts" : "unknown";
    const headline = reversal ? S.v_headline_reversed : status === "counts" ? S.v_headline_ok : S.v_headline_unknown;
    const box = el("div", {
      class: "result result-pass" + (reversal ? " result-reversed" : ""), "data-verdict": "pass", "data-status": status,
    }, verdict(reversal ? "reversed" : "pass", headline));

    const orgName = result.orgName || form.dataset.orgName || "";
    const answers = el("ul", { class: "answers" });
    function answer(field, label, ok, text) {
      const mark = ok === true ? "\u2713" : ok === false ? "\u2717" : "?";
      const value = ok === true ? S.v_yes : ok === false ? S.v_no : S.v_unknown;
      answers.append(el("li", { "data-answer": field, class: "answer answer-" + (ok === true ? "yes" : ok === false ? "no" : "unknown") },
        el("span", { class: "answer-mark", "aria-hidden": "true" }, mark), " ",
        el("strong", {}, label + ": " + value), " ", el("span", {}, text)));
    }
    answer("recorded", S.v_recorded, true, format(S.v_recorded_text, { index: result.index, org: orgName || result.checkpoint.origin }));
    answer("unaltered", S.v_unaltered, true, S.v_unaltered_text);
    if (reversal) {
      const day = formatDay(reversal.effectiveOn || reversal.time.slice(0, 10));
      answer("counts", S.v_counts, false, format(S.v_reversed_text, { index: reversal.index, day: day, reason: reversal.reason }));
    } else if (doc.kind === "donation") {
      answer("counts", S.v_counts, result.reversalChecked ? true : null, result.reversalChecked ? S.v_counts_text : S.v_unknown_text);
    }
    box.append(answers);

    const list = el("dl", { class: "facts" });
    fact(list, S.v_org, result.orgName || S.v_org_unknown, "org");
    if (typeof body.fund === "string") fact(list, S.r_fund, result.fundName ? result.fundName + " (" + body.fund + ")" : body.fund, "fund");
    if (Number.isSafeInteger(body.amount) && typeof body.currency === "string") {
      fact(list, S.r_amount, formatAmount(body.amount, body.currency, result.minorUnits), "amount");
    }
    const day = body.received_on || body.paid_on || body.transferred_on || body.charged_on;
    if (typeof day === "string") fact(list, S.r_date, formatDay(day), "date");
    if (typeof body.reference === "string") fact(list, S.r_reference, body.reference, "reference");
    if (reversal) {
      const rday = formatDay(reversal.effectiveOn || reversal.time.slice(0, 10));
      fact(list, S.r_status, el("strong", {}, format(S.r_reversed, { index: reversal.index, day: rday, reason: reversal.reason })), "status");
    } else if (doc.kind === "donation") {
      fact(list, S.r_status, result.reversalChecked
        ? format(S.r_counts, { size: result.checkpoint.size }) : S.r_status_unknown, "status");
    }
    box.append(list);

    const sah = el("details", { class: "disclosure", open: "" }, el("summary", {}, S.v_what_sah));
    sah.append(el("p", { "data-field": "meaning" }, S.v_sah_text));
    box.append(sah);

    const tech = el("details", { class: "disclosure", "data-field": "technical" }, el("summary", {}, S.v_tech));
    const techList = el("dl", { class: "facts" });
    const slug = result.checkpoint.origin.split("/").pop();
    const entryLink = el(
      "a",
      { href: form.dataset.entryBase.replace(/\?.*$/, "") + encodeURIComponent(slug) + "/entries/" + result.index + (lang === "en" ? "?lang=en" : "") },
      "#" + result.index);
    fact(techList, S.r_index, entryLink, "index");
    fact(techList, S.r_kind, S["kind_" + doc.kind] || String(doc.kind), "kind");
    fact(techList, S.r_log, el("code", {}, result.checkpoint.origin), "origin");
    fact(techList, S.r_checkpoint, format(S.r_checkpoint_value, {
      size: result.checkpoint.size, root: TlogVerify.b64encode(result.checkpoint.root) }), "checkpoint");
    fact(techList, S.r_signed_by, el("code", {}, result.signedBy.join(", ")), "signed-by");
    if (result.witnesses.length || keys.value && TlogVerify.isPolicy(keys.value)) {
      fact(techList, S.r_witnesses, result.witnesses.join(", ") || S.r_no_witness, "witnesses");
    }
    fact(techList, S.r_donor, result.donorOpened ? S.r_donor_ok : S.r_donor_absent, "donor");
    tech.append(techList);
    box.append(tech);
    show(box);
  }

  /* A recipient's acknowledgment or dispute, verified: what the orphanage signed, in plain
     words first; the checks and the cryptography below. */
  function showAcknowledgment(result) {
    const ack = result.acknowledgment;
    const body = ack.body;
    const disputed = ack.verdict === "disputed";
    const box = el("div", {
      class: "result result-pass" + (disputed ? " result-disputed" : ""),
      "data-verdict": "pass", "data-kind": "acknowledgment", "data-status": ack.verdict,
    }, verdict(disputed ? "reversed" : "pass", disputed ? S.v_dispute_headline : S.v_ack_headline));
    const name = ack.beneficiaryName || body.beneficiary;
    const amount = formatAmount(body.amount, body.currency, ack.minorUnits);
    const received = formatAmount(ack.received, body.currency, ack.minorUnits);
    const said = format(disputed ? S.v_dispute_said : S.v_ack_said, {
      name: name, amount: amount, received: received, date: formatDay(body.paid_on),
    });
    box.append(el("p", { class: "said" + (disputed ? " said-disputed" : ""), "data-field": "said" }, el("strong", {}, said)));

    const orgName = result.orgName || form.dataset.orgName || result.checkpoint.origin;
    const answers = el("ul", { class: "answers" });
    function answer(field, label, text) {
      answers.append(el("li", { "data-answer": field, class: "answer answer-yes" },
        el("span", { class: "answer-mark", "aria-hidden": "true" }, "\u2713"), " ",
        el("strong", {}, label + ": " + S.v_yes), " ", el("span", {}, text)));
    }
    answer("signature", S.v_ack_signature, format(S.v_ack_signature_text, { name: name, key: ack.keyIndex }));
    answer("recorded", S.v_recorded, format(S.v_ack_recorded_text, {
      index: result.index, org: orgName, disbursement: ack.disbursement }));
    answer("unaltered", S.v_unaltered, S.v_unaltered_text);
    box.append(answers);

    const list = el("dl", { class: "facts" });
    fact(list, S.v_org, result.orgName || S.v_org_unknown, "org");
    fact(list, S.v_ack_beneficiary, ack.beneficiaryName ? ack.beneficiaryName + " (" + body.beneficiary + ")" : body.beneficiary, "beneficiary");
    const slug = result.checkpoint.origin.split("/").pop();
    const base = form.dataset.entryBase.replace(/\?.*$/, "") + encodeURIComponent(slug) + "/entries/";
    const query = lang === "en" ? "?lang=en" : "";
    fact(list, S.v_ack_disbursement, el("a", { href: base + ack.disbursement + query }, "#" + ack.disbursement), "disbursement");
    if (typeof body.fund === "string") fact(list, S.r_fund, ack.fundName ? ack.fundName + " (" + body.fund + ")" : body.fund, "fund");
    fact(list, S.v_ack_amount, amount, "amount");
    fact(list, S.v_ack_received, disputed ? el("strong", {}, received) : received, "received");
    fact(list, S.r_date, formatDay(body.paid_on), "date");
    if (typeof body.reference === "string") fact(list, S.r_reference, body.reference, "reference");
    box.append(list);

    const sah = el("details", { class: "disclosure", open: "" }, el("summary", {}, S.v_what_sah));
    sah.append(el("p", { "data-field": "meaning" }, S.v_ack_sah_text));
    box.append(sah);

    const tech = el("details", { class: "disclosure", "data-field": "technical" }, el("summary", {}, S.v_tech));
    const techList = el("dl", { class: "facts" });
    fact(techList, S.r_index, el("a", { href: base + result.index + query }, "#" + result.index), "index");
    fact(techList, S.r_kind, S["kind_" + result.document.kind] || String(result.document.kind), "kind");
    fact(techList, S.r_log, el("code", {}, result.checkpoint.origin), "origin");
    fact(techList, S.r_checkpoint, format(S.r_checkpoint_value, {
      size: result.checkpoint.size, root: TlogVerify.b64encode(result.checkpoint.root) }), "checkpoint");
    fact(techList, S.r_signed_by, el("code", {}, result.signedBy.join(", ")), "signed-by");
    if (result.witnesses.length || keys.value && TlogVerify.isPolicy(keys.value)) {
      fact(techList, S.r_witnesses, result.witnesses.join(", ") || S.r_no_witness, "witnesses");
    }
    tech.append(techList);
    box.append(tech);
    show(box);
  }

  function showFail(err) {
    const code = err && err.code ? err.code : "malformed";
    const known = {
      malformed: S.e_malformed, signature: S.e_signature, inclusion: S.e_inclusion, header: S.e_header,
      donor: S.e_donor, quorum: S.e_quorum, crypto: S.e_crypto, recipient: S.v_e_recipient, input: null,
    };
    const headline = code === "malformed" || code === "input" ? S.unusable : S.fail;
    const box = el("div", { class: "result result-fail", "data-verdict": "fail", "data-reason": code }, verdict("fail", headline));
    if (code === "input") {
      box.append(el("p", {}, err.message));
    } else {
      box.append(el("p", {}, known[code] || S.e_malformed));
      const detail = el("details", { class: "disclosure" }, el("summary", {}, S.r_detail));
      detail.append(el("p", {}, el("code", { class: "detail" }, err && err.message ? err.message : String(err))));
      box.append(detail);
    }
    show(box);
  }

  /* The dropped PDF's own signature, judged against the certificate of the organization whose
     log the attached proof names (else the one of ?org=): null when no PDF was dropped. */
  function signatureBlock() {
    if (!pdfSignature) return null;
    const origin = (receipt.value.trim() && TlogVerify.claimedOrigin(receipt.value)) || form.dataset.orgOrigin;
    const expected = origin ? CERTIFICATES[origin] : null;
    const signer = pdfSignature.signer || "?";
    let state = pdfSignature.status;
    let text;
    if (state === "valid" && !expected) {
      state = "unknown";
      text = format(S.v_sig_unknown, { name: signer });
    } else if (state === "valid" && !PdfSignature.equal(pdfSignature.certificate, PdfSignature.fromBase64(expected.der))) {
      state = "foreign";
      text = format(S.v_sig_foreign, { name: signer, org: expected.name });
    } else if (state === "valid") {
      text = format(S.v_sig_valid_text, { org: expected.name });
    } else {
      text = format(S["v_sig_" + state] || S.v_sig_unreadable, { reason: pdfSignature.detail });
    }
    const ok = state === "valid";
    const box = el("section", {
      class: "result pdf-signature " + (ok ? "result-pass" : "result-fail"), "data-pdf-signature": state,
      "aria-labelledby": "pdf-signature-h",
    });
    box.append(el("h3", { id: "pdf-signature-h", class: "sig-verdict" },
      el("span", { class: "verdict-mark", "aria-hidden": "true" }, ok ? "\u2713" : "\u2717"), " ",
      ok ? S.v_sig_valid : S.v_sig_refused));
    box.append(el("p", { "data-field": "pdf-signature" }, text));
    if (ok) box.append(el("p", { class: "muted" }, format(S.v_sig_served, { org: expected.name })));
    if (pdfSignature.detail) {
      const detail = el("details", { class: "disclosure" }, el("summary", {}, S.v_tech));
      detail.append(el("p", {}, el("code", { class: "detail" }, pdfSignature.detail)));
      box.append(detail);
    }
    return box;
  }

  function show(node) {
    const signature = signatureBlock();
    resultBody.replaceChildren(...(signature ? [signature, node] : [node]));
    resultArea.hidden = false;
    resultArea.focus();
  }

  // --- wiring --------------------------------------------------------------------------------

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = (message) => ({ code: "input", message: message });
    if (!receipt.value.trim()) return showFail(input(S.e_no_receipt));
    if (!keys.value.trim()) return showFail(input(S.e_no_key));
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    resultBody.replaceChildren(el("p", { class: "muted" }, S.working));
    resultArea.hidden = false;
    try {
      const trusted = await TlogVerify.parseTrusted(keys.value);
      if (TlogVerify.isAcknowledgment(receipt.value)) {
        showAcknowledgment(await TlogVerify.verifyAcknowledgment(receipt.value, trusted.verifiers, trusted.policy));
      } else {
        showPass(await TlogVerify.verifyReceipt(receipt.value, trusted.verifiers, trusted.policy));
      }
    } catch (err) {
      showFail(err);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });

  keys.addEventListener("input", () => {
    keysFromPin = false;
    pinSource.textContent = "";
  });
  receipt.addEventListener("input", () => {
    pdfSignature = null; // the text is no longer the PDF's
    proofSource.textContent = "";
    matchPin();
  });
  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) loadFile(fileInput.files[0]);
  });
  dropZone.addEventListener("dragover", (event) => {
    event.preventDefault();
    dropZone.classList.add("is-dragging");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("is-dragging"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("is-dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) loadFile(files[0]);
  });

  prefill();
})();
