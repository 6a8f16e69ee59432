/*
 * pdf-signature.js: a receipt PDF's own signature (ISO 32000-1 section 12.8; PAdES, ETSI EN
 * 319 142: a detached CMS SignedData, RFC 5652), checked in the browser with WebCrypto and a
 * minimal DER reader (X.690). The JavaScript twin of ledger/formats/pdfsignature.py, which
 * ledger-verify runs; nothing is sent anywhere.
 *
 * What is checked, in this order:
 *   1. the last signature's /ByteRange covers the whole file except its own /Contents (bytes
 *      appended after signing, an incremental update, leave the old signature "valid" for the
 *      part it signed: that is refused here);
 *   2. the digest (SHA-256, -384 or -512) of those bytes equals the CMS signed attribute
 *      messageDigest;
 *   3. the signature over the DER signed attributes (re-tagged [0] -> SET, 0x31, as signed)
 *      verifies under the public key of a certificate the CMS carries: ECDSA P-256 or P-384
 *      (the DER signature turned into WebCrypto's raw r||s), or RSA PKCS #1 v1.5.
 * The caller then compares the certificate that verified with the organization's published
 * document certificate (GET .../certificate). Not checked: chains, revocation, timestamps.
 *
 * PdfSignature.check(bytes) resolves to {status, signer, certificate, detail}; status is
 * "valid" (certificate: its DER bytes; signer: its subject common name), "unsigned",
 * "extended" (the signature does not cover the whole file), "altered" (the digest or the
 * signature does not match) or "unreadable".
 */
"use strict";

(function () {
  const OID = {
    messageDigest: "2a864886f70d010904",
    sha256: "608648016503040201",
    sha384: "608648016503040202",
    sha512: "608648016503040203",
    ecPublicKey: "2a8648ce3d0201",
    p256: "2a8648ce3d030107",
    p384: "2b81040022",
    rsaEncryption: "2a864886f70d010101",
    commonName: "550403",
  };
  const HASHES = { [OID.sha256]: "SHA-256", [OID.sha384]: "SHA-384", [OID.sha512]: "SHA-512" };
  const CURVES = { [OID.p256]: ["P-256", 32], [OID.p384]: ["P-384", 48] };

  class Unreadable extends Error {}

  // --- a minimal DER reader (X.690 section 8.1: tag, length, value) -----------------------------

  /* The element at `pos`: {tag, start (of its header), value, end}. */
  function tlv(data, pos) {
    if (pos + 2 > data.length) throw new Unreadable("the signature's CMS ends early");
    const tag = data[pos];
    let length = data[pos + 1];
    let value = pos + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4 || value + count > data.length) throw new Unreadable("the signature's CMS has a bad length");
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + data[value + i];
      value += count;
    }
    if (value + length > data.length) throw new Unreadable("the signature's CMS ends early");
    return { tag: tag, start: pos, value: value, end: value + length };
  }

  /* The elements inside `parent` (an element from tlv). */
  function children(data, parent) {
    const found = [];
    for (let pos = parent.value; pos < parent.end;) {
      const child = tlv(data, pos);
      found.push(child);
      pos = child.end;
    }
    return found;
  }

  function hex(data, element) {
    let out = "";
    for (let i = element.value; i < element.end; i++) out += data[i].toString(16).padStart(2, "0");
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // --- the PDF side ---------------------------------------------------------------------------

  /* [a, b, c, d] of the file's last /ByteRange, or null when it has none. */
  function lastByteRange(text) {
    const re = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
    let match;
    let last = null;
    while ((match = re.exec(text)) !== null) last = match.slice(1, 5).map(Number);
    return last;
  }

  function fromHex(text) {
    const clean = text.replace(/\s+/g, "");
    if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new Unreadable("the signature's /Contents is not hex");
    const out = new Uint8Array(clean.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  // --- certificates (RFC 5280) ----------------------------------------------------------------

  /* {der, spki, algorithm, curve, name} of an X.509 certificate element. */
  function certificate(data, element) {
    const tbs = children(data, children(data, element)[0]);
    const rest = tbs[0].tag === 0xa0 ? tbs.slice(1) : tbs; // [0] version is optional
    // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    const subject = rest[4];
    const spki = rest[5];
    const algorithm = children(data, children(data, spki)[0]);
    let name = "";
    for (const set of children(data, subject)) {
      for (const pair of children(data, set)) {
        const [type, value] = children(data, pair);
        if (hex(data, type) === OID.commonName) name = new TextDecoder("utf-8").decode(data.subarray(value.value, value.end));
      }
    }
    return {
      der: data.slice(element.start, element.end),
      spki: data.slice(spki.start, spki.end),
      algorithm: hex(data, algorithm[0]),
      curve: algorithm[1] && algorithm[1].tag === 0x06 ? hex(data, algorithm[1]) : null,
      name: name,
    };
  }

  /* An ECDSA-Sig-Value (SEQUENCE {r INTEGER, s INTEGER}) as WebCrypto's r||s of `size` bytes. */
  function rawEcdsa(signature, size) {
    const seq = tlv(signature, 0);
    const parts = children(signature, seq);
    if (seq.tag !== 0x30 || parts.length !== 2) throw new Unreadable("expected an ECDSA signature (r, s)");
    const out = new Uint8Array(2 * size);
    parts.forEach((part, i) => {
      let bytes = signature.subarray(part.value, part.end);
      while (bytes.length > size && bytes[0] === 0) bytes = bytes.subarray(1);
      if (bytes.length > size) throw new Unreadable("an ECDSA signature number is too long for its curve");
      out.set(bytes, (i + 1) * size - bytes.length);
    });
    return out;
  }

  async function verifiesUnder(cert, hash, signature, message) {
    const subtle = crypto.subtle;
    try {
      if (cert.algorithm === OID.ecPublicKey && CURVES[cert.curve]) {
        const [curve, size] = CURVES[cert.curve];
        const key = await subtle.importKey("spki", cert.spki, { name: "ECDSA", namedCurve: curve }, false, ["verify"]);
        return await subtle.verify({ name: "ECDSA", hash: hash }, key, rawEcdsa(signature, size), message);
      }
      if (cert.algorithm === OID.rsaEncryption) {
        const key = await subtle.importKey("spki", cert.spki, { name: "RSASSA-PKCS1-v1_5", hash: hash }, false, ["verify"]);
        return await subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, key, signature, message);
      }
    } catch (err) {
      if (err instanceof Unreadable) throw err;
      return false; // a key WebCrypto cannot use: try the next certificate
    }
    return false;
  }

  // --- the check ------------------------------------------------------------------------------

  async function inspect(bytes) {
    const text = new TextDecoder("latin1").decode(bytes);
    const range = lastByteRange(text);
    if (!range) return { status: "unsigned", detail: "the PDF has no signature (/ByteRange)" };
    const [a, b, c, d] = range;
    if (a !== 0 || c + d !== bytes.length || a + b > c) {
      return {
        status: "extended",
        detail: `the signature covers bytes 0..${a + b} and ${c}..${c + d} of ${bytes.length}: ` +
          "the file was changed or extended after it was signed",
      };
    }
    const contents = text.slice(a + b, c).trim();
    if (!contents.startsWith("<") || !contents.endsWith(">")) throw new Unreadable("expected the signature's /Contents as a hex string");
    const padded = fromHex(contents.slice(1, -1));
    const cms = padded.subarray(0, tlv(padded, 0).end); // without the zeros that pad /Contents
    const signed = new Uint8Array(b + d);
    signed.set(bytes.subarray(a, a + b), 0);
    signed.set(bytes.subarray(c, c + d), b);

    // ContentInfo -> [0] SignedData -> certificates [0], signerInfos (the last SET).
    const content = children(cms, tlv(cms, 0));
    if (content.length < 2) throw new Unreadable("expected a CMS ContentInfo with SignedData");
    const signedData = children(cms, tlv(cms, content[1].value));
    const certs = signedData.filter((e) => e.tag === 0xa0).flatMap((e) => children(cms, e)).filter((e) => e.tag === 0x30);
    const infos = children(cms, signedData[signedData.length - 1]);
    if (!infos.length) throw new Unreadable("the CMS has no SignerInfo");
    const parts = children(cms, infos[0]);
    const digestAlg = parts[2] && parts[2].tag === 0x30 ? parts[2] : null;
    const attrs = parts.find((p) => p.tag === 0xa0);
    const signature = parts.find((p) => p.tag === 0x04);
    if (!digestAlg || !attrs || !signature) throw new Unreadable("expected a SignerInfo with digest algorithm, signed attributes, signature");
    const hash = HASHES[hex(cms, children(cms, digestAlg)[0])];
    if (!hash) throw new Unreadable("the signature's digest is not SHA-256, SHA-384 or SHA-512");

    let messageDigest = null;
    for (const attr of children(cms, attrs)) {
      const [type, values] = children(cms, attr);
      if (hex(cms, type) === OID.messageDigest) {
        const inner = children(cms, values)[0];
        messageDigest = cms.subarray(inner.value, inner.end);
      }
    }
    const digest = new Uint8Array(await crypto.subtle.digest(hash, signed));
    if (!messageDigest || !equal(messageDigest, digest)) {
      return { status: "altered", detail: "the PDF's signed bytes do not match the digest its signature signs" };
    }
    const toVerify = cms.slice(attrs.start, attrs.end);
    toVerify[0] = 0x31; // [0] IMPLICIT -> SET OF, as signed (RFC 5652 section 5.4)
    const sig = cms.slice(signature.value, signature.end);
    for (const element of certs) {
      const cert = certificate(cms, element);
      if (await verifiesUnder(cert, hash, sig, toVerify)) {
        return { status: "valid", signer: cert.name, certificate: cert.der, detail: "" };
      }
    }
    return { status: "altered", detail: "the PDF's signature does not verify under any certificate it carries" };
  }

  async function check(bytes) {
    try {
      return await inspect(bytes);
    } catch (err) {
      if (err instanceof Unreadable || err instanceof TypeError || err instanceof RangeError) {
        return { status: "unreadable", detail: err.message || String(err) };
      }
      throw err;
    }
  }

  /* Base64 text (a served certificate) as bytes. */
  function fromBase64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  window.PdfSignature = { check: check, equal: equal, fromBase64: fromBase64 };
})();
