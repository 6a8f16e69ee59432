/*
 * tlog-verify.js: verify donation-ledger receipts in the browser, with no server involved.
 *
 * The same checks as the Python reference verifier (ledger/offline.py and the modules it
 * uses), in the same order and with the same failure classes:
 *
 *   c2sp.org/tlog-proof@v1 parsing ........ ledger/tlogproof.py   parseProof
 *   c2sp.org/signed-note, Ed25519 ......... ledger/note.py        parseVkey, parseNote, openNote
 *   c2sp.org/tlog-cosignature (v1) ........ ledger/note.py        Verifier.verify (alg 0x04)
 *   c2sp.org/tlog-checkpoint .............. ledger/checkpoint.py  parseCheckpoint
 *   RFC 9162 section 2.1.3.2 inclusion .... ledger/merkle.py      rootFromInclusion
 *   RFC 8785 (JCS) canonical entry bytes .. ledger/canonical.py   canonicalJson
 *   c2sp.org/tlog-policy quorum ........... ledger/policy.py      parsePolicy, checkCheckpoint
 *   receipt, donor commitment ............. ledger/offline.py     verifyTlogProof, verifyReceipt
 *   recipient's acknowledgment (FORMAT §8)  ledger/verify/acknowledgments.py  verifyAcknowledgment
 *
 * Hashing and signatures use WebCrypto (SHA-256, Ed25519); where WebCrypto has no Ed25519,
 * signatures are checked with the vendored @noble/ed25519 (ed25519-fallback.js). Tree sizes and indexes are
 * BigInts: JavaScript's bitwise operators work on 32 bits only. Every failure throws a
 * VerificationError whose `code` says which kind of check failed (for the page's message)
 * and whose message says what was expected and what was found.
 */
"use strict";

(function (global) {
  const RECEIPT_FORMAT = "donation-ledger-receipt/v1";
  const ACK_FORMAT = "donation-ledger-acknowledgment/v1";
  /* docs/FORMAT.md section 8: the first line of the message a recipient signs. */
  const ACK_HEADER = "donation-ledger acknowledgment v1";
  const BENEFICIARY_RECORDS = ["beneficiary.registered", "beneficiary.updated"];
  const PROOF_HEADER = "c2sp.org/tlog-proof@v1";

  /* RFC 9162 section 2.1.1: domain separation of leaves and interior nodes. */
  const LEAF_PREFIX = 0x00;
  const NODE_PREFIX = 0x01;
  const HASH_SIZE = 32;

  /* c2sp.org/signed-note and c2sp.org/tlog-cosignature. */
  const ALG_ED25519 = 0x01;
  const ALG_COSIGNATURE_V1 = 0x04;
  const SIGNATURE_LINE_PREFIX = "\u2014 "; // em dash and a space start every signature line
  const COSIGNATURE_V1_HEADER = "cosignature/v1\n";
  const KEY_ID_SIZE = 4;
  const ED25519_KEY_SIZE = 32;
  const ED25519_SIGNATURE_SIZE = 64;
  const TIMESTAMP_SIZE = 8;
  const MAX_TIMESTAMP = (1n << 63n) - 1n;
  const MAX_SIGNATURES = 100;
  const MAX_TREE_SIZE = (1n << 64n) - 1n;

  /* docs/FORMAT.md, "Donor commitments". */
  const COMMITMENT_DOMAIN = "donation-ledger donor v1\u0000";

  /* Python's str.isspace() set, so names and policy words split exactly as ledger/*.py do. */
  const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const HAS_SPACE = new RegExp("[" + SPACE + "]");
  const SPACES = new RegExp("[" + SPACE + "]+");
  const NOTE_CONTROL = /[\x00-\x09\x0b-\x1f]/; // every control character but newline
  const LINE_CONTROL = /[\x00-\x1f]/;
  const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

  // --- errors (ledger/errors.py) ------------------------------------------------------------

  class VerificationError extends Error {
    constructor(message, code) {
      super(message);
      this.name = "VerificationError";
      this.code = code || "verify";
    }
  }
  class MalformedError extends VerificationError {
    constructor(message) {
      super(message, "malformed");
      this.name = "MalformedError";
    }
  }
  class SignatureError extends VerificationError {
    constructor(message) {
      super(message, "signature");
      this.name = "SignatureError";
    }
  }
  class InclusionProofError extends VerificationError {
    constructor(message) {
      super(message, "inclusion");
      this.name = "InclusionProofError";
    }
  }

  // --- bytes, text, hashes ------------------------------------------------------------------

  const encoder = new TextEncoder();
  const strictDecoder = new TextDecoder("utf-8", { fatal: true });

  function utf8(text, what) {
    if (typeof text.isWellFormed === "function" && !text.isWellFormed()) {
      throw new MalformedError("expected " + what + " encodable as UTF-8, got a lone surrogate");
    }
    return encoder.encode(text);
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function repr(text) {
    return JSON.stringify(String(text).slice(0, 60));
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function b64encode(bytes) {
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }

  /* Standard padded base64 (RFC 4648 section 4); with `canonical`, only its one canonical
     spelling (ledger.note.decode_canonical_base64), else any validly padded text. */
  function b64decode(text, what, canonical = true) {
    if (typeof text !== "string" || !BASE64.test(text)) {
      throw new MalformedError("expected standard base64 for " + what + ", got " + repr(text));
    }
    const binary = atob(text);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    if (canonical && b64encode(bytes) !== text) {
      throw new MalformedError("expected canonical padded base64 for " + what + ", got " + repr(text));
    }
    return bytes;
  }

  /* RFC 9162 section 2.1.1 */
  async function leafHash(data) {
    return sha256(concat(Uint8Array.of(LEAF_PREFIX), data));
  }

  async function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(NODE_PREFIX), left, right));
  }

  // --- keys and Ed25519 (ledger/note.py) ----------------------------------------------------

  function checkKeyName(name) {
    if (typeof name !== "string" || name === "") {
      throw new MalformedError("expected a non-empty key name, got " + repr(name));
    }
    if (name.includes("+") || HAS_SPACE.test(name) || LINE_CONTROL.test(name)) {
      throw new MalformedError("expected a key name without spaces, '+' or controls, got " + repr(name));
    }
    utf8(name, "a key name");
  }

  /* The 4-byte key id: SHA-256(name || 0x0A || signature type || public key)[:4]. */
  async function keyId(name, alg, publicKey) {
    checkKeyName(name);
    const digest = await sha256(concat(utf8(name, "a key name"), Uint8Array.of(0x0a, alg), publicKey));
    return digest.slice(0, KEY_ID_SIZE);
  }

  let ed25519Support = null;

  /* Whether this browser's WebCrypto verifies Ed25519 (RFC 8032) signatures. */
  async function ed25519Supported() {
    if (ed25519Support === null) {
      try {
        await crypto.subtle.importKey("raw", new Uint8Array(ED25519_KEY_SIZE), { name: "Ed25519" }, false, ["verify"]);
        ed25519Support = true;
      } catch (err) {
        ed25519Support = !(err && err.name === "NotSupportedError");
      }
    }
    return ed25519Support;
  }

  /* Ed25519 verification: WebCrypto's when the browser has it, else the vendored
     @noble/ed25519 (ed25519-fallback.js) in RFC 8032 strict mode, like the Python verifier. */
  async function ed25519Verify(publicKey, signature, message) {
    if (!(await ed25519Supported())) {
      const noble = window.NobleEd25519;
      if (!noble) throw new VerificationError("this browser's WebCrypto has no Ed25519", "crypto");
      try {
        return await noble.verifyAsync(signature, message, publicKey, { zip215: false });
      } catch (err) {
        return false; // not a valid point or signature encoding: nothing verifies
      }
    }
    let key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (err) {
      return false; // not a valid point: nothing verifies under it
    }
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (err) {
      return false;
    }
  }

  function cosignatureMessage(body, timestamp) {
    return concat(utf8(COSIGNATURE_V1_HEADER + "time " + timestamp.toString() + "\n", "a message"), body);
  }

  /* A trusted public key, as configured from a vkey; verifies one signature type. */
  class Verifier {
    constructor(name, id, publicKey, alg) {
      this.name = name;
      this.keyId = id;
      this.publicKey = publicKey;
      this.alg = alg;
    }

    get label() {
      return this.name + "+" + hex(this.keyId);
    }

    get identity() {
      return this.name + "\n" + hex(this.keyId);
    }

    equals(other) {
      return (
        this.name === other.name &&
        this.alg === other.alg &&
        equalBytes(this.keyId, other.keyId) &&
        equalBytes(this.publicKey, other.publicKey)
      );
    }

    /* Whether `signature` (the bytes after the key id) is valid over `message`, the note
       text. For cosignatures it is timestamp || Ed25519 signature over the cosigned message. */
    async verify(message, signature) {
      if (this.alg === ALG_COSIGNATURE_V1) {
        if (signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) return false;
        let timestamp = 0n;
        for (const b of signature.slice(0, TIMESTAMP_SIZE)) timestamp = (timestamp << 8n) | BigInt(b);
        if (timestamp > MAX_TIMESTAMP) return false;
        message = cosignatureMessage(message, timestamp);
        signature = signature.slice(TIMESTAMP_SIZE);
      }
      if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
      return ed25519Verify(this.publicKey, signature, message);
    }
  }

  /* Parse a vkey <name>+<hex key id>+<base64(type || key)> strictly (ledger.note.parse_vkey). */
  async function parseVkey(vkey, alg = ALG_ED25519) {
    const first = vkey.indexOf("+");
    const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
    if (second < 0) {
      throw new MalformedError("expected a vkey <name>+<hex key id>+<base64 key>, got " + repr(vkey));
    }
    const name = vkey.slice(0, first);
    const idHex = vkey.slice(first + 1, second);
    checkKeyName(name);
    if (!/^[0-9a-f]{8}$/.test(idHex)) {
      throw new MalformedError("expected 8 lowercase hex digits of key id, got " + repr(idHex));
    }
    const raw = b64decode(vkey.slice(second + 1), "the vkey's key");
    if (raw.length === 0 || raw[0] !== alg) {
      const found = raw.length ? "0x" + raw[0].toString(16).padStart(2, "0") : "nothing";
      throw new MalformedError("expected signature type 0x0" + alg + " in the vkey, got " + found);
    }
    const publicKey = raw.slice(1);
    if (publicKey.length !== ED25519_KEY_SIZE) {
      throw new MalformedError("expected a 32-byte Ed25519 public key, got " + publicKey.length + " bytes");
    }
    const expected = hex(await keyId(name, alg, publicKey));
    if (expected !== idHex) {
      throw new MalformedError("expected key id " + expected + ", got " + idHex);
    }
    return new Verifier(name, hexToBytes(idHex), publicKey, alg);
  }

  function hexToBytes(text) {
    return Uint8Array.from(text.match(/../g), (h) => parseInt(h, 16));
  }

  // --- signed notes (c2sp.org/signed-note) ----------------------------------------------------

  function parseSignatureLine(line, number) {
    const where = "signature line " + number;
    if (!line.startsWith(SIGNATURE_LINE_PREFIX)) {
      throw new MalformedError("expected " + where + " to start with '\u2014 ', got " + repr(line));
    }
    const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw new MalformedError("expected '\u2014 <name> <base64>' in " + where + ", got " + repr(line));
    const name = rest.slice(0, space);
    checkKeyName(name);
    const raw = b64decode(rest.slice(space + 1), where);
    if (raw.length <= KEY_ID_SIZE) {
      throw new MalformedError("expected at least 5 bytes in " + where + ", got " + raw.length);
    }
    return { name: name, keyId: raw.slice(0, KEY_ID_SIZE), signature: raw.slice(KEY_ID_SIZE) };
  }

  /* Parse a signed note strictly, verifying nothing (ledger.note.parse_note). */
  function parseNote(note) {
    const control = NOTE_CONTROL.exec(note);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
      throw new MalformedError("expected no control characters in a note, got U+" + code + " at " + control.index);
    }
    const separator = note.lastIndexOf("\n\n");
    if (separator < 0) throw new MalformedError("expected a blank line between text and signatures, found none");
    const text = note.slice(0, separator + 1);
    const block = note.slice(separator + 2);
    if (!block) throw new MalformedError("expected signature lines after the last blank line, found none");
    if (!block.endsWith("\n")) {
      throw new MalformedError("expected the note to end with a newline, got " + repr(block.split("\n").pop()));
    }
    const lines = block.slice(0, -1).split("\n");
    if (lines.length > MAX_SIGNATURES) {
      throw new MalformedError("expected at most " + MAX_SIGNATURES + " signatures, got " + lines.length);
    }
    return { text: text, signatures: lines.map((line, i) => parseSignatureLine(line, i + 1)) };
  }

  /* Every signature by a known key must verify, unknown ones are ignored, and at least one
     known key must have signed (ledger.note.open_note). Returns the note and who signed. */
  async function openNote(note, verifiers) {
    const parsed = parseNote(note);
    const known = new Map();
    for (const v of verifiers) {
      const existing = known.get(v.identity);
      if (!existing) known.set(v.identity, v);
      else if (!existing.equals(v)) throw new MalformedError("expected one key per name and id, got two for " + v.label);
    }
    const message = utf8(parsed.text, "the note text");
    const verified = [];
    for (const sig of parsed.signatures) {
      const v = known.get(sig.name + "\n" + hex(sig.keyId));
      if (!v) continue;
      if (!(await v.verify(message, sig.signature))) {
        throw new SignatureError("expected a valid signature by " + v.label + ", got a bad one");
      }
      if (!verified.some((w) => w.equals(v))) verified.push(v);
    }
    if (!verified.length) {
      const expected = Array.from(known.values(), (v) => v.label).sort().join(", ") || "no key (none given)";
      const found = parsed.signatures.map((s) => s.name + "+" + hex(s.keyId)).join(", ");
      throw new SignatureError("expected a signature by one of " + expected + ", found " + found);
    }
    return { note: parsed, used: verified };
  }

  // --- checkpoints (c2sp.org/tlog-checkpoint) ------------------------------------------------

  function checkLine(line, number, what) {
    if (!line) throw new MalformedError("line " + number + ": expected a non-empty " + what + ", got an empty line");
    const control = LINE_CONTROL.exec(line);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
      throw new MalformedError("line " + number + ": expected no control characters, got U+" + code);
    }
  }

  /* Parse a checkpoint note text strictly (ledger.checkpoint.parse_checkpoint). */
  function parseCheckpoint(text) {
    if (!text.endsWith("\n")) throw new MalformedError("expected a checkpoint text ending in a newline, got none");
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) {
      throw new MalformedError("expected at least 3 lines (origin, size, root), got " + lines.length);
    }
    const [origin, size, root, ...extensions] = lines;
    checkLine(origin, 1, "origin");
    if (HAS_SPACE.test(origin[0]) || HAS_SPACE.test(origin[origin.length - 1])) {
      throw new MalformedError("line 1: expected an origin without outer spaces, got " + repr(origin));
    }
    lines.slice(1).forEach((line, i) => checkLine(line, i + 2, "line"));
    if (!/^(0|[1-9][0-9]{0,19})$/.test(size) || BigInt(size) > MAX_TREE_SIZE) {
      throw new MalformedError(
        "line 2: expected a tree size in ASCII decimal without leading zeros, got " + repr(size));
    }
    const rootHash = b64decode(root, "the root hash (line 3)");
    if (rootHash.length !== HASH_SIZE) {
      throw new MalformedError("line 3: expected a 32-byte root hash, got " + rootHash.length + " bytes");
    }
    return { origin: origin, size: BigInt(size), root: rootHash, extensions: extensions };
  }

  async function openCheckpointSigned(note, verifiers) {
    const opened = await openNote(note, verifiers);
    return { checkpoint: parseCheckpoint(opened.note.text), used: opened.used };
  }

  // --- RFC 9162 inclusion proofs (ledger/merkle.py) ----------------------------------------

  function bitLength(n) {
    return n === 0n ? 0 : n.toString(2).length;
  }

  function popCount(n) {
    return Array.from(n.toString(2)).filter((c) => c === "1").length;
  }

  /* Number of hashes in the audit path of `index` in a tree of `size` leaves. */
  function inclusionLength(index, size) {
    const inner = bitLength(index ^ (size - 1n));
    return inner + popCount(index >> BigInt(inner));
  }

  function checkHash(what, h) {
    if (h.length !== HASH_SIZE) throw new MalformedError("expected a " + HASH_SIZE + "-byte " + what + ", got " + h.length + " bytes");
  }

  /* The root an inclusion proof leads to, by the algorithm of RFC 9162 section 2.1.3.2. */
  async function rootFromInclusion(leaf, index, size, proof) {
    checkHash("leaf hash", leaf);
    proof.forEach((p) => checkHash("proof hash", p));
    if (!(0n <= index && index < size)) {
      throw new InclusionProofError("expected 0 <= index < size, got index=" + index + ", size=" + size);
    }
    const wrongLength = () =>
      new InclusionProofError(
        "expected an inclusion proof of " + inclusionLength(index, size) + " hashes for index " + index +
          " in a tree of " + size + ", got " + proof.length);
    let fn = index;
    let sn = size - 1n;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0n) throw wrongLength();
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw wrongLength();
    return r;
  }

  async function verifyInclusion(leaf, index, size, proof, root) {
    checkHash("root", root);
    const computed = await rootFromInclusion(leaf, index, size, proof);
    if (!equalBytes(computed, root)) {
      throw new InclusionProofError(
        "expected root " + b64encode(root) + ", computed " + b64encode(computed) +
          " from the inclusion proof of index " + index + " in a tree of " + size);
    }
  }

  // --- RFC 8785 canonical JSON (ledger/canonical.py) ---------------------------------------

  /* JCS of the subset the ledger's documents use: ASCII member names, safe integers, strings
     (escaped exactly as ECMAScript's JSON.stringify, which RFC 8785 adopts), true, false,
     null, arrays and objects. */
  function canonicalJson(value, path = "$") {
    if (value === null) return "null";
    if (value === true || value === false) return String(value);
    if (typeof value === "string") return JSON.stringify(value);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        throw new MalformedError(path + ": expected an integer within \u00b1(2**53-1), got " + value);
      }
      return String(value);
    }
    if (Array.isArray(value)) return "[" + value.map((v, i) => canonicalJson(v, path + "[" + i + "]")).join(",") + "]";
    if (typeof value === "object") {
      const names = Object.keys(value);
      for (const name of names) {
        if (!/^[\x00-\x7f]*$/.test(name)) throw new MalformedError(path + ": expected ASCII member names, got " + repr(name));
      }
      names.sort(); // ASCII names: UTF-16 code unit order is code point order
      return "{" + names.map((n) => JSON.stringify(n) + ":" + canonicalJson(value[n], path + "." + n)).join(",") + "}";
    }
    throw new MalformedError(path + ": expected a string, integer, boolean, null, array or object");
  }

  function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
  }

  /* The entry document of canonical bytes; refuses bytes that are not exactly its JCS. */
  function decodeDocument(data) {
    let document;
    try {
      document = JSON.parse(strictDecoder.decode(data));
    } catch (err) {
      throw new MalformedError("entry bytes are not JSON: " + err.message);
    }
    if (!isObject(document) || !equalBytes(utf8(canonicalJson(document), "the entry"), data)) {
      throw new MalformedError("entry bytes are not in canonical form (RFC 8785)");
    }
    return document;
  }

  /* base64(SHA-256("donation-ledger donor v1" || 0x00 || salt || JCS(personal))) */
  async function commitmentOf(salt, personal) {
    return b64encode(await sha256(concat(utf8(COMMITMENT_DOMAIN, "the domain"), salt, utf8(canonicalJson(personal), "personal data"))));
  }

  // --- c2sp.org/tlog-proof (ledger/tlogproof.py) -------------------------------------------

  function parseProof(text) {
    const separator = text.indexOf("\n\n");
    const checkpoint = separator < 0 ? "" : text.slice(separator + 2);
    if (separator < 0 || !checkpoint) {
      throw new MalformedError("expected an empty line between the proof and the checkpoint");
    }
    const lines = text.slice(0, separator).split("\n");
    if (lines[0] !== PROOF_HEADER) {
      throw new MalformedError("line 1: expected '" + PROOF_HEADER + "', got " + repr(lines[0]));
    }
    let n = 1;
    let extra = null;
    if (n < lines.length && lines[n].startsWith("extra ")) {
      extra = b64decode(lines[n].slice(6), "line " + (n + 1) + " (extra)");
      n += 1;
    }
    if (n >= lines.length || !lines[n].startsWith("index ")) {
      throw new MalformedError("line " + (n + 1) + ": expected 'index <n>'");
    }
    const digits = lines[n].slice(6);
    if (!/^(0|[1-9][0-9]*)$/.test(digits)) {
      throw new MalformedError("line " + (n + 1) + ": expected a decimal index without leading zeros");
    }
    const proof = lines.slice(n + 1).map((line, k) => {
      const where = "line " + (n + 2 + k);
      const digest = b64decode(line, where + " (proof hash)");
      if (digest.length !== HASH_SIZE) {
        throw new MalformedError(where + ": expected a 32-byte hash, got " + digest.length + " bytes");
      }
      return digest;
    });
    return { index: BigInt(digits), proof: proof, checkpoint: checkpoint, extra: extra };
  }

  // --- c2sp.org/tlog-policy (ledger/policy.py) ----------------------------------------------

  async function parsePolicy(text) {
    const policy = { logs: [], witnesses: new Map(), groups: new Map(), quorum: null };
    const seenKeys = new Set();
    const taken = (name) => name === "none" || policy.witnesses.has(name) || policy.groups.has(name);
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i];
      const line = raw.replace(/^[ \t]+|[ \t]+$/g, "");
      if (!line || line.startsWith("#")) continue;
      const words = line.split(SPACES).filter(Boolean);
      const kind = words[0];
      const args = words.slice(1);
      const where = "policy line " + (i + 1);
      if (kind === "log" && args.length >= 1 && args.length <= 2) {
        const key = await parseVkey(args[0], ALG_ED25519);
        if (seenKeys.has(hex(key.publicKey))) throw new MalformedError(where + ": duplicate key");
        seenKeys.add(hex(key.publicKey));
        policy.logs.push(key);
      } else if (kind === "witness" && args.length >= 2 && args.length <= 3) {
        const name = args[0];
        if (taken(name)) throw new MalformedError(where + ": name " + repr(name) + " is taken or reserved");
        const key = await parseVkey(args[1], ALG_COSIGNATURE_V1);
        if (seenKeys.has(hex(key.publicKey))) throw new MalformedError(where + ": duplicate key");
        seenKeys.add(hex(key.publicKey));
        policy.witnesses.set(name, key);
      } else if (kind === "group" && args.length >= 3) {
        const [name, threshold, ...members] = args;
        if (taken(name)) throw new MalformedError(where + ": name " + repr(name) + " is taken or reserved");
        for (const m of members) {
          if (!policy.witnesses.has(m) && !policy.groups.has(m)) {
            throw new MalformedError(where + ": " + repr(m) + " is not defined before this line");
          }
        }
        if (new Set(members).size !== members.length) throw new MalformedError(where + ": duplicate member");
        let k;
        if (threshold === "any") k = 1;
        else if (threshold === "all") k = members.length;
        else if (/^[0-9]+$/.test(threshold) && Number(threshold) >= 1 && Number(threshold) <= members.length) k = Number(threshold);
        else throw new MalformedError(where + ": expected a threshold 1.." + members.length + ", any or all");
        policy.groups.set(name, { name: name, threshold: k, members: members });
      } else if (kind === "quorum" && args.length === 1) {
        if (policy.quorum !== null) throw new MalformedError(where + ": a second quorum line");
        const name = args[0];
        if (name !== "none" && !policy.witnesses.has(name) && !policy.groups.has(name)) {
          throw new MalformedError(where + ": quorum " + repr(name) + " is not defined before this line");
        }
        policy.quorum = name;
      } else {
        throw new MalformedError(where + ": expected log, witness, group or quorum, got " + repr(raw));
      }
    }
    if (policy.quorum === null) throw new MalformedError("the policy has no quorum line");
    return policy;
  }

  function satisfied(policy, vouched) {
    if (policy.quorum === "none") return true;
    const names = new Set(vouched);
    const ok = (name) => {
      if (policy.witnesses.has(name)) return names.has(name);
      const group = policy.groups.get(name);
      return group.members.filter(ok).length >= group.threshold;
    };
    return ok(policy.quorum);
  }

  /* The note is signed by a policy log and cosigned enough; returns the witnesses that vouched. */
  async function checkCheckpoint(note, policy) {
    const { used } = await openNote(note, [...policy.logs, ...policy.witnesses.values()]);
    if (!used.some((v) => policy.logs.some((l) => l.equals(v)))) {
      throw new SignatureError("the checkpoint is not signed by any log of the policy");
    }
    const vouched = Array.from(policy.witnesses)
      .filter(([, key]) => used.some((u) => u.equals(key)))
      .map(([name]) => name);
    if (!satisfied(policy, vouched)) {
      throw new VerificationError(
        "the checkpoint's cosignatures do not meet the quorum '" + policy.quorum + "': vouched by " +
          (vouched.join(", ") || "no witness"), "quorum");
    }
    return vouched;
  }

  // --- receipts (ledger/offline.py) ---------------------------------------------------------

  /* The proof's checkpoint is signed by a pinned key (and, with a policy, cosigned by a
     quorum of its witnesses) and includes the entry it carries. */
  async function verifyTlogProof(text, verifiers, policy) {
    const proof = parseProof(text);
    let witnesses = [];
    if (policy) {
      witnesses = await checkCheckpoint(proof.checkpoint, policy);
      verifiers = [...verifiers, ...policy.logs];
    }
    const { checkpoint, used } = await openCheckpointSigned(proof.checkpoint, verifiers);
    if (proof.extra === null) {
      throw new MalformedError("expected the entry's canonical bytes in the proof's extra line");
    }
    if (proof.index >= checkpoint.size) {
      throw new VerificationError(
        "expected an index below the checkpoint size " + checkpoint.size + ", got " + proof.index, "header");
    }
    await verifyInclusion(await leafHash(proof.extra), proof.index, checkpoint.size, proof.proof, checkpoint.root);
    const document = decodeDocument(proof.extra);
    const index = document.index;
    if (!Number.isSafeInteger(index) || BigInt(index) !== proof.index || document.log !== checkpoint.origin) {
      throw new VerificationError(
        "entry says index " + index + " of log " + repr(document.log) + "; the proof is for index " +
          proof.index + " of " + repr(checkpoint.origin), "header");
    }
    return {
      checkpoint: checkpoint,
      index: proof.index,
      document: document,
      signedBy: used.map((v) => v.label),
      donorOpened: null,
      witnesses: witnesses,
      reversal: null,
      reversalChecked: false,
    };
  }

  /* The receipt's fund proof is the fund.created entry of the donation's fund and currency,
     earlier in the same log: the exponent it recorded (minor_units) says what the amount
     means. Without the member (v1 entries), docs/FORMAT.md fixes ISO 4217 of 2026-01-01,
     which the page's currency table holds. As ledger.offline._with_fund. */
  async function withFund(proven, text, verifiers, policy) {
    if (typeof text !== "string") throw new MalformedError("expected the receipt's fund_proof as text");
    const fund = await verifyTlogProof(text, verifiers, policy);
    const body = isObject(proven.document.body) ? proven.document.body : {};
    const fundBody = isObject(fund.document.body) ? fund.document.body : {};
    if (fund.checkpoint.origin !== proven.checkpoint.origin || fund.document.kind !== "fund.created" ||
        fundBody.code !== body.fund || fundBody.currency !== body.currency || fund.index >= proven.index) {
      throw new VerificationError(
        "expected the fund proof to be the fund.created entry of fund '" + body.fund + "' earlier in the log; got entry " +
        fund.index + " (" + fund.document.kind + ")");
    }
    const recorded = fundBody.minor_units;
    if (recorded !== undefined && recorded !== null && !(Number.isInteger(recorded) && recorded >= 0 && recorded <= 4)) {
      throw new MalformedError("expected the fund's minor_units in 0..4, got " + JSON.stringify(recorded));
    }
    return Object.assign({}, proven, {
      fundIndex: fund.index,
      minorUnits: Number.isInteger(recorded) ? recorded : null,
      fundName: typeof fundBody.name === "string" ? fundBody.name : null,
    });
  }

  /* The receipt's org proof is entry 0 (log.created) under the donation's checkpoint: the name
     it records is the organization's own. As ledger.offline._with_org. */
  async function withOrg(proven, text, verifiers, policy) {
    if (typeof text !== "string") throw new MalformedError("expected the receipt's org_proof as tlog-proof text");
    const org = await verifyTlogProof(text, verifiers, policy);
    const body = isObject(org.document.body) ? org.document.body : {};
    const a = proven.checkpoint, b = org.checkpoint;
    if (b.origin !== a.origin || b.size !== a.size || b64encode(b.root) !== b64encode(a.root) ||
        org.index !== 0n || org.document.kind !== "log.created" || typeof body.name !== "string") {
      throw new VerificationError(
        "expected the org proof to be entry 0 (log.created) of " + a.origin + " under the donation's checkpoint; got entry " +
          org.index + " (" + org.document.kind + ") at size " + b.size, "header");
    }
    return Object.assign({}, proven, { orgName: body.name });
  }

  /* The receipt's reversal proof is a correction entry of the same log, proven under the very
     checkpoint that proves the donation, later than it, whose `corrects` is the donation's
     index: the donation is in the log but no longer counts. As ledger.offline._with_reversal. */
  async function withReversal(proven, text, verifiers, policy) {
    if (typeof text !== "string") throw new MalformedError("expected the receipt's reversal_proof as tlog-proof text");
    const reversal = await verifyTlogProof(text, verifiers, policy);
    const body = isObject(reversal.document.body) ? reversal.document.body : {};
    const a = proven.checkpoint, b = reversal.checkpoint;
    if (b.origin !== a.origin || b.size !== a.size || b64encode(b.root) !== b64encode(a.root)) {
      throw new VerificationError(
        "expected the reversal proof under the donation's checkpoint (" + a.origin + " at size " + a.size +
          "); got " + b.origin + " at size " + b.size, "header");
    }
    const corrects = body.corrects;
    if (reversal.document.kind !== "correction" || !Number.isSafeInteger(corrects) ||
        BigInt(corrects) !== BigInt(proven.index) || reversal.index <= proven.index) {
      throw new VerificationError(
        "expected the reversal proof to be a later correction entry with corrects " + proven.index +
          "; got entry " + reversal.index + " (" + reversal.document.kind + ", corrects " + JSON.stringify(corrects) + ")",
        "header");
    }
    if (typeof body.reason !== "string" || typeof reversal.document.time !== "string") {
      throw new MalformedError("expected the correction entry's reason and time as text");
    }
    /* The day shown for the reversal: the correction's value date (effective_on); one written
       before value dates existed: its recording date in Asia/Jakarta (UTC+7, no DST). */
    let effectiveOn = body.effective_on;
    if (typeof effectiveOn !== "string") {
      const t = Date.parse(reversal.document.time);
      if (Number.isNaN(t)) throw new MalformedError("expected the correction entry's time as RFC 3339");
      effectiveOn = new Date(t + 7 * 3600 * 1000).toISOString().slice(0, 10);
    }
    return Object.assign({}, proven, {
      reversal: { index: reversal.index, time: reversal.document.time, effectiveOn: effectiveOn, reason: body.reason },
      reversalChecked: true,
    });
  }

  /* A receipt (JSON) or bare tlog-proof: proven inclusion, and the donor opening if any. */
  async function verifyReceipt(text, verifiers, policy) {
    if (!text.trimStart().startsWith("{")) return verifyTlogProof(text, verifiers, policy);
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new MalformedError("receipt is not JSON: " + err.message);
    }
    if (!isObject(data) || data.format !== RECEIPT_FORMAT) {
      throw new MalformedError("expected a receipt with format '" + RECEIPT_FORMAT + "'");
    }
    if (typeof data.tlog_proof !== "string") throw new MalformedError("expected the receipt's tlog_proof as text");
    let proven = await verifyTlogProof(data.tlog_proof, verifiers, policy);
    if (data.fund_proof !== null && data.fund_proof !== undefined) {
      proven = await withFund(proven, data.fund_proof, verifiers, policy);
    }
    if (data.reversal_proof !== null && data.reversal_proof !== undefined) {
      proven = await withReversal(proven, data.reversal_proof, verifiers, policy);
    } else if ("reversal_proof" in data) {
      proven = Object.assign({}, proven, { reversalChecked: true });
    }
    if (data.org_proof !== null && data.org_proof !== undefined) {
      proven = await withOrg(proven, data.org_proof, verifiers, policy);
    }
    const opening = data.donor_opening;
    if (opening === null || opening === undefined) return proven;
    if (!isObject(opening) || typeof opening.salt !== "string" || !("personal" in opening)) {
      throw new MalformedError("donor_opening needs base64 'salt' and object 'personal'");
    }
    const salt = b64decode(opening.salt, "the donor opening's salt", false);
    const body = isObject(proven.document.body) ? proven.document.body : {};
    const expected = isObject(body.donor) ? body.donor.commitment : undefined;
    const found = await commitmentOf(salt, opening.personal);
    if (expected !== found) {
      throw new VerificationError(
        "the donor opening does not match the entry's commitment (expected " + expected + ", computed " + found + ")",
        "donor");
    }
    return Object.assign({}, proven, { donorOpened: true });
  }

  // --- a recipient's acknowledgment (ledger/verify/acknowledgments.py) -----------------------

  /* Whether `text` claims to be an acknowledgment file (nothing verified). */
  function isAcknowledgment(text) {
    if (!text.trimStart().startsWith("{") || !text.includes(ACK_FORMAT)) return false;
    try {
      const data = JSON.parse(text);
      return isObject(data) && data.format === ACK_FORMAT;
    } catch (err) {
      return false;
    }
  }

  function sameCheckpoint(a, b, what) {
    const ca = a.checkpoint, cb = b.checkpoint;
    if (ca.origin !== cb.origin || ca.size !== cb.size || b64encode(ca.root) !== b64encode(cb.root)) {
      throw new VerificationError(
        "expected the " + what + " under the acknowledgment's checkpoint (" + ca.origin + " at size " + ca.size +
          "); got " + cb.origin + " at size " + cb.size, "header");
    }
  }

  function integer(body, name) {
    const value = body[name];
    if (!Number.isSafeInteger(value)) {
      throw new MalformedError("expected the entry's " + name + " as an integer, got " + JSON.stringify(value));
    }
    return value;
  }

  /* The exact bytes a beneficiary signs (ledger.formats.acknowledgment.message). */
  async function acknowledgmentMessage(disbursed, verdict, received) {
    const body = disbursed.document.body;
    const origin = disbursed.checkpoint.origin;
    const leaf = await leafHash(utf8(canonicalJson(disbursed.document), "the disbursement"));
    const lines = [
      ACK_HEADER,
      "log " + origin,
      "org " + origin.split("/").pop(),
      "beneficiary " + body.beneficiary,
      "disbursement " + disbursed.index + " " + b64encode(leaf),
      "amount " + body.amount + " " + body.currency + " " + disbursed.minorUnits,
      "paid_on " + body.paid_on,
      "verdict " + verdict,
      "received " + received,
    ];
    return utf8(lines.join("\n") + "\n", "the message");
  }

  /* A donation-ledger-acknowledgment/v1 file: every proof under one checkpoint signed by a
     trusted key; the statement is about that disbursement and by its recipient; the key that
     signed was enrolled by the same beneficiary before it and not retired by a later one the
     file proves; the recipient's Ed25519 signature verifies over the documented message. The
     same checks, in the same order, as ledger.verify.acknowledgments.verify_acknowledgment. */
  async function verifyAcknowledgment(text, verifiers, policy) {
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new MalformedError("the acknowledgment file is not JSON: " + err.message);
    }
    if (!isObject(data) || data.format !== ACK_FORMAT) {
      throw new MalformedError("expected a file with format '" + ACK_FORMAT + "'");
    }
    const keys = data.key_proofs;
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
      throw new MalformedError("expected key_proofs as a list of tlog-proof texts");
    }
    const statement = await verifyTlogProof(String(data.acknowledgment_proof || ""), verifiers, policy);
    let disbursed = await verifyTlogProof(String(data.disbursement_proof || ""), verifiers, policy);
    sameCheckpoint(statement, disbursed, "disbursement proof");
    disbursed = await withFund(disbursed, String(data.fund_proof || ""), verifiers, policy);
    const kind = statement.document.kind;
    const body = isObject(statement.document.body) ? statement.document.body : {};
    const dBody = isObject(disbursed.document.body) ? disbursed.document.body : {};
    if (kind !== "disbursement.acknowledged" && kind !== "disbursement.disputed") {
      throw new VerificationError(
        "expected a disbursement.acknowledged or disbursement.disputed entry; entry " + statement.index +
          " is " + JSON.stringify(kind), "header");
    }
    if (disbursed.document.kind !== "disbursement" || BigInt(integer(body, "disbursement")) !== disbursed.index) {
      throw new VerificationError(
        "expected the disbursement proof to be entry " + body.disbursement + " (a disbursement); got entry " +
          disbursed.index + " (" + disbursed.document.kind + ")", "header");
    }
    if (body.beneficiary !== dBody.beneficiary) {
      throw new VerificationError(
        "the statement is by beneficiary " + JSON.stringify(body.beneficiary) + ", the disbursement went to " +
          JSON.stringify(dBody.beneficiary), "recipient");
    }
    const keyIndex = BigInt(integer(body, "key"));
    const proven = [];
    for (const k of keys) {
      const one = await verifyTlogProof(k, verifiers, policy);
      sameCheckpoint(statement, one, "key proof");
      if (one.document.kind !== "beneficiary.key") {
        throw new VerificationError("expected beneficiary.key entries in key_proofs; entry " + one.index +
          " is " + JSON.stringify(one.document.kind), "header");
      }
      proven.push(one);
    }
    const signer = proven.find((k) => k.index === keyIndex);
    if (!signer) throw new VerificationError("the file does not prove key entry " + keyIndex + ", the key that signed", "recipient");
    const kBody = isObject(signer.document.body) ? signer.document.body : {};
    if (kBody.beneficiary !== dBody.beneficiary) {
      throw new VerificationError(
        "key entry " + keyIndex + " belongs to beneficiary " + JSON.stringify(kBody.beneficiary) + ", not to " +
          JSON.stringify(dBody.beneficiary) + ", the recipient of disbursement " + disbursed.index, "recipient");
    }
    if (keyIndex >= statement.index) {
      throw new VerificationError("key entry " + keyIndex + " is not earlier than the statement " + statement.index, "recipient");
    }
    const later = proven
      .filter((k) => k.index > keyIndex && k.index < statement.index && isObject(k.document.body) &&
        k.document.body.beneficiary === dBody.beneficiary)
      .map((k) => k.index);
    if (later.length) {
      throw new VerificationError(
        "key entry " + keyIndex + " was retired: beneficiary " + JSON.stringify(dBody.beneficiary) +
          " enrolled a new key in entry " + later.reduce((a, b) => (a < b ? a : b)) + ", before this statement (entry " +
          statement.index + "); a retired key signs nothing after its replacement", "recipient");
    }
    const disputed = kind === "disbursement.disputed";
    const verdict = disputed ? "disputed" : "acknowledged";
    const received = disputed ? integer(body, "received") : integer(dBody, "amount");
    if (!Number.isInteger(disbursed.minorUnits)) {
      throw new MalformedError("expected the disbursement's fund to record its exponent");
    }
    const publicKey = b64decode(String(kBody.public_key), "an Ed25519 public key", false);
    const signature = b64decode(String(body.signature), "an Ed25519 signature", false);
    if (publicKey.length !== ED25519_KEY_SIZE) throw new MalformedError("expected an Ed25519 public key of 32 bytes, got " + publicKey.length);
    if (signature.length !== ED25519_SIGNATURE_SIZE) throw new MalformedError("expected an Ed25519 signature of 64 bytes, got " + signature.length);
    const message = await acknowledgmentMessage(disbursed, verdict, received);
    if (!(await ed25519Verify(publicKey, signature, message))) {
      throw new VerificationError(
        "the signature does not verify with the beneficiary's key over this message (another disbursement, " +
          "amount, verdict or key)", "recipient");
    }
    let orgName = null;
    if (data.org_proof !== null && data.org_proof !== undefined) {
      orgName = (await withOrg(statement, data.org_proof, verifiers, policy)).orgName;
    }
    let beneficiaryName = null;
    if (data.beneficiary_proof !== null && data.beneficiary_proof !== undefined) {
      if (typeof data.beneficiary_proof !== "string") throw new MalformedError("expected the file's beneficiary_proof as tlog-proof text");
      const record = await verifyTlogProof(data.beneficiary_proof, verifiers, policy);
      sameCheckpoint(statement, record, "beneficiary proof");
      const rBody = isObject(record.document.body) ? record.document.body : {};
      if (!BENEFICIARY_RECORDS.includes(record.document.kind) || rBody.code !== dBody.beneficiary ||
          record.index >= disbursed.index || typeof rBody.name !== "string") {
        throw new VerificationError(
          "expected the beneficiary proof to be a record of beneficiary " + JSON.stringify(dBody.beneficiary) +
            " before the disbursement (entry " + disbursed.index + "); got entry " + record.index, "header");
      }
      beneficiaryName = rBody.name;
    }
    return Object.assign({}, statement, {
      acknowledgment: {
        verdict: verdict,
        received: received,
        keyIndex: keyIndex,
        disbursement: disbursed.index,
        body: dBody,
        minorUnits: disbursed.minorUnits,
        fundName: disbursed.fundName,
        beneficiaryName: beneficiaryName,
      },
      orgName: orgName,
    });
  }

  // --- what the user trusts -----------------------------------------------------------------

  /* Whether `text` is a c2sp.org/tlog-policy rather than a list of vkeys (vkeys have no spaces). */
  function isPolicy(text) {
    return text.split("\n").some((line) => /^[ \t]*(log|witness|group|quorum)[ \t]/.test(line));
  }

  /* The verifiers and policy a user gave: vkey lines, or a policy. */
  async function parseTrusted(text) {
    if (isPolicy(text)) return { verifiers: [], policy: await parsePolicy(text) };
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    const verifiers = [];
    for (const line of lines) verifiers.push(await parseVkey(line));
    if (!verifiers.length) throw new MalformedError("give at least one vkey (the organization's published key)");
    return { verifiers: verifiers, policy: null };
  }

  /* The log origin a receipt or proof names (unverified; to find a pinned key for it). */
  function claimedOrigin(text) {
    try {
      let proof = text;
      if (text.trimStart().startsWith("{")) {
        const data = JSON.parse(text);
        proof = data.format === ACK_FORMAT ? data.acknowledgment_proof : data.tlog_proof;
      }
      const separator = proof.indexOf("\n\n");
      return separator < 0 ? null : proof.slice(separator + 2).split("\n")[0] || null;
    } catch (err) {
      return null;
    }
  }

  global.TlogVerify = Object.freeze({
    RECEIPT_FORMAT,
    ACK_FORMAT,
    VerificationError,
    MalformedError,
    SignatureError,
    InclusionProofError,
    b64encode,
    b64decode,
    leafHash,
    nodeHash,
    keyId,
    parseVkey,
    parseNote,
    openNote,
    parseCheckpoint,
    rootFromInclusion,
    verifyInclusion,
    canonicalJson,
    commitmentOf,
    parseProof,
    parsePolicy,
    checkCheckpoint,
    verifyTlogProof,
    verifyReceipt,
    isAcknowledgment,
    verifyAcknowledgment,
    isPolicy,
    parseTrusted,
    claimedOrigin,
    ed25519Supported,
  });
})(window);
