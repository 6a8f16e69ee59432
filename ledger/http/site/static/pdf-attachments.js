/*
 * pdf-attachments.js: the files embedded in a receipt PDF (ISO 32000-1 section 7.11.4), read
 * in the browser, so a donor can drop the signed PDF they hold on the verify page.
 *
 * The JavaScript twin of ledger/formats/pdffiles.py, reduced to what this ledger's receipts
 * contain: file specifications (/Type /Filespec) naming an embedded file stream, stored
 * uncompressed or with /FlateDecode (inflated with the browser's DecompressionStream).
 * Nothing is sent anywhere. The PDF's own signature is for PDF readers to check; the proof
 * inside is what the verify page checks.
 */
"use strict";

(function () {
  const MAX_FILE_BYTES = 4 * 1024 * 1024;

  function isPdf(bytes) {
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
    return head.includes("%PDF-");
  }

  async function inflate(data) {
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot unpack the PDF's attachment (no DecompressionStream)");
    }
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
    const out = new Uint8Array(await new Response(stream).arrayBuffer());
    if (out.length > MAX_FILE_BYTES) throw new Error("an attachment is larger than 4 MiB");
    return out;
  }

  function unescapeLiteral(text) {
    return text.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (m, c) => {
      const map = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", "(": "(", ")": ")", "\\": "\\" };
      return c in map ? map[c] : String.fromCharCode(parseInt(c, 8) & 0xff);
    });
  }

  /* Object number → {dict, start} of every "N G obj", the last definition winning (as after an
     incremental update); stream data is skipped by its /Length so its bytes are never parsed. */
  function objects(bytes, text) {
    const found = new Map();
    const re = /(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b/g;
    let match;
    while ((match = re.exec(text)) !== null) {
      const bodyStart = re.lastIndex;
      const streamAt = text.indexOf("stream", bodyStart);
      const endAt = text.indexOf("endobj", bodyStart);
      if (endAt < 0) break;
      const isStream = streamAt >= 0 && streamAt < endAt && text.slice(streamAt - 3, streamAt) !== "end";
      const dict = text.slice(bodyStart, isStream ? streamAt : endAt);
      const entry = { dict: dict, data: null };
      if (isStream) {
        let start = streamAt + "stream".length;
        start += text.startsWith("\r\n", start) ? 2 : 1;
        const length = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict);
        let end = length ? start + Number(length[1]) : text.indexOf("endstream", start);
        if (end < start || end > bytes.length) end = text.indexOf("endstream", start);
        entry.data = bytes.subarray(start, end);
        re.lastIndex = Math.max(end, re.lastIndex);
      }
      found.set(Number(match[1]), entry);
    }
    return found;
  }

  /* Every embedded file as {name, bytes}, in the order of their names. */
  async function embeddedFiles(bytes) {
    const text = new TextDecoder("latin1").decode(bytes);
    const all = objects(bytes, text);
    const files = [];
    for (const entry of all.values()) {
      if (!/\/Type\s*\/Filespec\b/.test(entry.dict)) continue;
      const target = /\/EF\s*<<[^>]*?\/F\s+(\d+)\s+\d+\s+R/.exec(entry.dict);
      const name = /\/UF\s*\(((?:\\.|[^\\)])*)\)/.exec(entry.dict) || /\/F\s*\(((?:\\.|[^\\)])*)\)/.exec(entry.dict);
      if (!target || !name || !all.has(Number(target[1]))) continue;
      const stream = all.get(Number(target[1]));
      if (!stream.data) continue;
      const filter = /\/Filter\s*\[?\s*\/(\w+)/.exec(stream.dict);
      if (filter && filter[1] !== "FlateDecode") continue;
      files.push({ name: unescapeLiteral(name[1]), bytes: filter ? await inflate(stream.data) : stream.data });
    }
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /* The receipts a PDF carries, one per donation: its JSON receipt, else its .tlog-proof. */
  async function receiptsIn(bytes) {
    const chosen = new Map();
    for (const file of await embeddedFiles(bytes)) {
      const dot = file.name.lastIndexOf(".");
      const stem = file.name.slice(0, dot), suffix = file.name.slice(dot + 1);
      if (suffix === "json" || (suffix === "tlog-proof" && !chosen.has(stem))) {
        chosen.set(stem, { name: file.name, text: new TextDecoder("utf-8").decode(file.bytes) });
      }
    }
    return Array.from(chosen.values());
  }

  window.PdfAttachments = { isPdf, embeddedFiles, receiptsIn };
})();
