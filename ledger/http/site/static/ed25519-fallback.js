/*
 * ed25519-fallback.js: offers @noble/ed25519 2.3.0 (vendored in vendor/, MIT licence beside it)
 * to tlog-verify.js as window.NobleEd25519, for browsers whose WebCrypto has no Ed25519 (older
 * Chrome, Android WebView). tlog-verify.js uses WebCrypto when it can and this otherwise, with
 * RFC 8032 strict verification ({ zip215: false }), as the Python verifier does.
 */
import * as ed from "./vendor/noble-ed25519.js";

window.NobleEd25519 = ed;
