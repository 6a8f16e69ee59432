/* The hot loop of `ledger verify` in C: entries streamed by COPY (binary), checked, chained
 * and hashed into the range's Merkle tree without a Python object per entry.
 *
 * `ledger.verify.stored` feeds the bytes of `COPY (SELECT idx, body, prev_hash, entry_hash,
 * leaf_hash, kind, created_at ...) TO STDOUT (FORMAT binary)` to a `Walk`, which checks every
 * entry as the Python loop of `_read_range` does: contiguous indexes, leaf hash, the
 * canonical envelope (`{"body":<one JSON value>,"index":i,"kind":k,"log":origin,
 * "prev":"<base64>","time":"<created_at>","v":1}` exactly, so stricter than a decode),
 * non-decreasing times, the stored prev link, the chain hash, and the range's Merkle nodes
 * (one SHA-256 of the node hashes per level, compared with the stored ones by the caller).
 *
 * It only ever says "entry i is fine" or "something is off at entry i": on the first doubt it
 * stops (`bad`), and the caller verifies the range again with the Python loop, which names
 * the failure in words. So every log it accepts, the Python loop accepts too; it may send
 * more logs than needed to the slow path, never fewer.
 *
 * The bodies of the kinds that have projection rows are handed back in bulk: money bodies
 * as one JSON array (decoded by msgspec in one call), the others one by one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stdint.h>
#include <string.h>
#include <openssl/sha.h>

#define MAX_LEVELS 64
#define MAX_DEPTH 64
#define COPY_SIGNATURE "PGCOPY\n\377\r\n\0"
#define COPY_SIGNATURE_LEN 11
#define MAX_KIND 64
/* 2000-01-01T00:00:00Z (PostgreSQL's epoch) in days since 1970-01-01. */
#define PG_EPOCH_DAYS 10957

typedef struct {
    PyObject_HEAD
    /* where the walk is */
    long long start;   /* first index of the range */
    long long n;       /* entries accepted so far */
    unsigned char prev[32];
    long long bad;     /* index of the first doubtful entry, or -1 */
    int level;
    long long last_us;
    int have_time;
    /* Merkle */
    int depth;
    unsigned char stack[MAX_LEVELS][32];
    int stack_level[MAX_LEVELS];
    SHA256_CTX digests[MAX_LEVELS + 1];
    long long counts[MAX_LEVELS + 1];
    PyObject *wanted;   /* sorted list of sizes relative to start */
    Py_ssize_t wanted_at;
    PyObject *at_sizes; /* dict: absolute size -> list of (level, hash) */
    /* envelope */
    char *origin;       /* canonical JSON of the log's origin */
    Py_ssize_t origin_len;
    PyObject *kinds;    /* dict: kind -> 0 (no rows), 1 (money), 2 (other rows) */
    char last_kind[MAX_KIND];
    Py_ssize_t last_kind_len;
    int last_code;
    PyObject *last_kind_obj;
    /* COPY stream */
    int in_stream;      /* a header was read and no trailer yet */
    char *pending;
    Py_ssize_t pending_len, pending_cap;
    /* projection bodies since the last take() */
    char *money;
    Py_ssize_t money_len, money_cap;
    PyObject *money_index;
    PyObject *money_kind;
    PyObject *others;
} Walk;

static int grow(char **buf, Py_ssize_t *cap, Py_ssize_t need) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap : 65536;
    while (c < need) c *= 2;
    char *p = PyMem_Realloc(*buf, c);
    if (!p) { PyErr_NoMemory(); return -1; }
    *buf = p;
    *cap = c;
    return 0;
}

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* --- one JSON value, strictly (no whitespace: canonical bodies have none) ----------------- */

static const unsigned char *scan_value(const unsigned char *p, const unsigned char *e, int depth);

static const unsigned char *scan_string(const unsigned char *p, const unsigned char *e) {
    if (p >= e || *p != '"') return NULL;
    p++;
    while (p < e) {
        unsigned char c = *p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            if (++p >= e) return NULL;
            c = *p;
            if (c == 'u') {
                if (e - p < 5) return NULL;
                for (int k = 1; k <= 4; k++) {
                    unsigned char h = p[k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return NULL;
                }
                p += 5;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                p++;
            } else {
                return NULL;
            }
        } else if (c < 0x80) {
            p++;
        } else {  /* strict UTF-8: no overlong forms, no surrogates, at most U+10FFFF */
            int len;
            uint32_t cp;
            if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
            else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
            else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
            else return NULL;
            if (e - p < len) return NULL;
            for (int k = 1; k < len; k++) {
                if ((p[k] & 0xC0) != 0x80) return NULL;
                cp = cp << 6 | (p[k] & 0x3F);
            }
            if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
                return NULL;
            p += len;
        }
    }
    return NULL;
}

static const unsigned char *scan_digits(const unsigned char *p, const unsigned char *e) {
    const unsigned char *s = p;
    while (p < e && *p >= '0' && *p <= '9') p++;
    return p > s ? p : NULL;
}

static const unsigned char *scan_number(const unsigned char *p, const unsigned char *e) {
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') p++;
    else if (!(p = scan_digits(p, e))) return NULL;
    if (p < e && *p == '.') {
        if (!(p = scan_digits(p + 1, e))) return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p = scan_digits(p, e))) return NULL;
    }
    return p;
}

static const unsigned char *scan_value(const unsigned char *p, const unsigned char *e, int depth) {
    if (p >= e || depth > MAX_DEPTH) return NULL;
    switch (*p) {
    case '"':
        return scan_string(p, e);
    case '{':
        p++;
        if (p < e && *p == '}') return p + 1;
        for (;;) {
            if (!(p = scan_string(p, e))) return NULL;
            if (p >= e || *p != ':') return NULL;
            if (!(p = scan_value(p + 1, e, depth + 1))) return NULL;
            if (p >= e) return NULL;
            if (*p == '}') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    case '[':
        p++;
        if (p < e && *p == ']') return p + 1;
        for (;;) {
            if (!(p = scan_value(p, e, depth + 1))) return NULL;
            if (p >= e) return NULL;
            if (*p == ']') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    case 't':
        return (e - p >= 4 && memcmp(p, "true", 4) == 0) ? p + 4 : NULL;
    case 'f':
        return (e - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;
    case 'n':
        return (e - p >= 4 && memcmp(p, "null", 4) == 0) ? p + 4 : NULL;
    default:
        return scan_number(p, e);
    }
}

/* --- the envelope -------------------------------------------------------------------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *put(char *o, const char *s, size_t n) { memcpy(o, s, n); return o + n; }

static char *put_base64_32(char *o, const unsigned char *h) {
    int i = 0;
    for (; i + 3 <= 32; i += 3) {
        uint32_t v = (uint32_t)h[i] << 16 | (uint32_t)h[i + 1] << 8 | h[i + 2];
        *o++ = B64[v >> 18 & 63]; *o++ = B64[v >> 12 & 63];
        *o++ = B64[v >> 6 & 63]; *o++ = B64[v & 63];
    }
    uint32_t v = (uint32_t)h[30] << 16 | (uint32_t)h[31] << 8;
    *o++ = B64[v >> 18 & 63]; *o++ = B64[v >> 12 & 63]; *o++ = B64[v >> 6 & 63]; *o++ = '=';
    return o;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static void digits(char *o, uint64_t v, int width) {
    for (int k = width - 1; k >= 0; k--) { o[k] = (char)('0' + v % 10); v /= 10; }
}

/* created_at (microseconds since 2000-01-01 UTC) as format_time spells it: 27 characters.
 * Returns 0, or -1 for a time outside years 1..9999 (Python cannot hold it either). */
static int format_time(char *o, int64_t us) {
    int64_t day_us = 86400LL * 1000000LL;
    int64_t days = us / day_us, rem = us % day_us;
    if (rem < 0) { rem += day_us; days -= 1; }
    int64_t y; unsigned m, d;
    civil(days + PG_EPOCH_DAYS, &y, &m, &d);
    if (y < 1 || y > 9999) return -1;
    int64_t secs = rem / 1000000, frac = rem % 1000000;
    digits(o, (uint64_t)y, 4); o[4] = '-'; digits(o + 5, m, 2); o[7] = '-'; digits(o + 8, d, 2);
    o[10] = 'T'; digits(o + 11, (uint64_t)(secs / 3600), 2); o[13] = ':';
    digits(o + 14, (uint64_t)(secs / 60 % 60), 2); o[16] = ':'; digits(o + 17, (uint64_t)(secs % 60), 2);
    o[19] = '.'; digits(o + 20, (uint64_t)frac, 6); o[26] = 'Z';
    return 0;
}

static int plain_kind(const unsigned char *k, Py_ssize_t n) {
    if (n <= 0 || n >= MAX_KIND) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (k[i] < 0x20 || k[i] >= 0x7F || k[i] == '"' || k[i] == '\\') return 0;
    return 1;
}

/* --- one entry ----------------------------------------------------------------------------- */

static void sha256_2(unsigned char tag, const unsigned char *a, const unsigned char *b,
                     unsigned char *out) {
    unsigned char buf[65];
    buf[0] = tag;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    SHA256(buf, 65, out);
}

/* The kind's code (0, 1, 2), its str object in *obj (borrowed from the walk); -1 on error. */
static int kind_code(Walk *w, const unsigned char *k, Py_ssize_t n, PyObject **obj) {
    if (w->last_kind_obj && n == w->last_kind_len && memcmp(k, w->last_kind, (size_t)n) == 0) {
        *obj = w->last_kind_obj;
        return w->last_code;
    }
    PyObject *s = PyUnicode_DecodeUTF8((const char *)k, n, "strict");
    if (!s) return -1;
    PyObject *v = PyDict_GetItemWithError(w->kinds, s);
    if (!v && PyErr_Occurred()) { Py_DECREF(s); return -1; }
    int code = v ? (int)PyLong_AsLong(v) : 0;
    Py_XSETREF(w->last_kind_obj, s);
    memcpy(w->last_kind, k, (size_t)n);
    w->last_kind_len = n;
    w->last_code = code;
    *obj = s;
    return code;
}

typedef struct {
    const unsigned char *f[7];
    int32_t len[7];
} Row;

/* Check and absorb one entry. Returns 1 accepted, 0 doubtful (w->bad set), -1 Python error. */
static int walk_entry(Walk *w, const Row *r) {
    long long expected = w->start + w->n;
    for (int k = 0; k < 7; k++)
        if (r->len[k] < 0) goto doubt;
    if (r->len[0] != 8 || r->len[2] != 32 || r->len[3] != 32 || r->len[4] != 32 || r->len[6] != 8)
        goto doubt;
    if (be64(r->f[0]) != expected) goto doubt;
    const unsigned char *body = r->f[1];
    Py_ssize_t blen = r->len[1];
    unsigned char leaf[32], chained[32];
    {
        SHA256_CTX c;
        unsigned char zero = 0;
        SHA256_Init(&c);
        SHA256_Update(&c, &zero, 1);
        SHA256_Update(&c, body, (size_t)blen);
        SHA256_Final(leaf, &c);
    }
    if (memcmp(leaf, r->f[4], 32) != 0) goto doubt;
    if (memcmp(r->f[2], w->prev, 32) != 0) goto doubt;
    int64_t us = be64(r->f[6]);
    if (w->have_time && us < w->last_us) goto doubt;
    /* the envelope's tail, as the writer spells it */
    const unsigned char *kind = r->f[5];
    Py_ssize_t klen = r->len[5];
    if (!plain_kind(kind, klen)) goto doubt;
    char tail[256 + MAX_KIND];
    if (w->origin_len > 4096) goto doubt;
    char *tailbuf = tail;
    char *big = NULL;
    Py_ssize_t need = 140 + klen + w->origin_len;
    if (need > (Py_ssize_t)sizeof(tail)) {
        big = PyMem_Malloc((size_t)need);
        if (!big) { PyErr_NoMemory(); return -1; }
        tailbuf = big;
    }
    char *o = tailbuf;
    char num[24];
    int nl = snprintf(num, sizeof num, "%lld", expected);
    o = put(o, ",\"index\":", 9);
    o = put(o, num, (size_t)nl);
    o = put(o, ",\"kind\":\"", 9);
    o = put(o, (const char *)kind, (size_t)klen);
    o = put(o, "\",\"log\":", 8);
    o = put(o, w->origin, (size_t)w->origin_len);
    o = put(o, ",\"prev\":\"", 9);
    o = put_base64_32(o, w->prev);
    o = put(o, "\",\"time\":\"", 10);
    if (format_time(o, us) != 0) { PyMem_Free(big); goto doubt; }
    o += 27;
    o = put(o, "\",\"v\":1}", 8);
    Py_ssize_t tlen = o - tailbuf;
    int envelope_ok = blen > 8 + tlen && memcmp(body, "{\"body\":", 8) == 0 &&
                      memcmp(body + blen - tlen, tailbuf, (size_t)tlen) == 0;
    PyMem_Free(big);
    if (!envelope_ok) goto doubt;
    const unsigned char *span = body + 8, *span_end = body + blen - tlen;
    if (scan_value(span, span_end, 0) != span_end) goto doubt;
    sha256_2(2, w->prev, leaf, chained);
    if (memcmp(chained, r->f[3], 32) != 0) goto doubt;
    /* accepted: projection bodies, then chain and tree */
    PyObject *kind_obj;
    int code = kind_code(w, kind, klen, &kind_obj);
    if (code < 0) return -1;
    if (code == 1) {
        Py_ssize_t sl = span_end - span;
        if (grow(&w->money, &w->money_cap, w->money_len + sl + 2) < 0) return -1;
        w->money[w->money_len] = w->money_len == 0 ? '[' : ',';
        w->money_len++;
        memcpy(w->money + w->money_len, span, (size_t)sl);
        w->money_len += sl;
        PyObject *i = PyLong_FromLongLong(expected);
        if (!i) return -1;
        int bad = PyList_Append(w->money_index, i);
        Py_DECREF(i);
        if (bad || PyList_Append(w->money_kind, kind_obj)) return -1;
    } else if (code == 2) {
        PyObject *t = Py_BuildValue("(LOy#L)", expected, kind_obj, (const char *)span,
                                    (Py_ssize_t)(span_end - span), (long long)us);
        if (!t) return -1;
        int bad = PyList_Append(w->others, t);
        Py_DECREF(t);
        if (bad) return -1;
    }
    memcpy(w->prev, chained, 32);
    w->last_us = us;
    w->have_time = 1;
    /* Merkle: push the leaf, merge equal levels (each merge completes a node) */
    unsigned char node[32];
    memcpy(node, leaf, 32);
    int lvl = 0;
    long long k = w->n;
    while (k & 1) {
        if (w->depth == 0) goto doubt;
        w->depth--;
        sha256_2(1, w->stack[w->depth], node, node);
        lvl++;
        k >>= 1;
        if (lvl > w->level || lvl > MAX_LEVELS) goto doubt;
        SHA256_Update(&w->digests[lvl], node, 32);
        w->counts[lvl]++;
    }
    if (w->depth >= MAX_LEVELS) goto doubt;
    memcpy(w->stack[w->depth], node, 32);
    w->stack_level[w->depth] = lvl;
    w->depth++;
    w->n++;
    while (w->wanted_at < PyList_GET_SIZE(w->wanted)) {
        long long want = PyLong_AsLongLong(PyList_GET_ITEM(w->wanted, w->wanted_at));
        if (want == -1 && PyErr_Occurred()) return -1;
        if (want > w->n) break;
        w->wanted_at++;
        if (want == w->n) {
            PyObject *frontier = PyList_New(w->depth);
            if (!frontier) return -1;
            for (int j = 0; j < w->depth; j++) {
                PyObject *t = Py_BuildValue("(iy#)", w->stack_level[j], (const char *)w->stack[j],
                                            (Py_ssize_t)32);
                if (!t) { Py_DECREF(frontier); return -1; }
                PyList_SET_ITEM(frontier, j, t);
            }
            PyObject *size = PyLong_FromLongLong(w->start + w->n);
            int bad = size ? PyDict_SetItem(w->at_sizes, size, frontier) : -1;
            Py_XDECREF(size);
            Py_DECREF(frontier);
            if (bad) return -1;
        }
    }
    return 1;
doubt:
    w->bad = expected;
    return 0;
}

/* Parse complete tuples from buf; returns bytes consumed, or -1 on a Python error. */
static Py_ssize_t walk_buffer(Walk *w, const unsigned char *buf, Py_ssize_t len) {
    Py_ssize_t at = 0;
    while (w->bad < 0) {
        if (!w->in_stream) {
            if (len - at < COPY_SIGNATURE_LEN + 8) break;
            if (memcmp(buf + at, COPY_SIGNATURE, COPY_SIGNATURE_LEN) != 0) {
                w->bad = w->start + w->n;
                break;
            }
            uint32_t ext = be32(buf + at + COPY_SIGNATURE_LEN + 4);
            if (len - at < COPY_SIGNATURE_LEN + 8 + (Py_ssize_t)ext) break;
            at += COPY_SIGNATURE_LEN + 8 + ext;
            w->in_stream = 1;
            continue;
        }
        if (len - at < 2) break;
        int16_t nf = (int16_t)be16(buf + at);
        if (nf == -1) {
            at += 2;
            w->in_stream = 0;
            continue;
        }
        if (nf != 7) {
            w->bad = w->start + w->n;
            break;
        }
        Row r;
        Py_ssize_t p = at + 2;
        int complete = 1;
        for (int k = 0; k < 7; k++) {
            if (len - p < 4) { complete = 0; break; }
            int32_t fl = (int32_t)be32(buf + p);
            p += 4;
            r.len[k] = fl;
            r.f[k] = buf + p;
            if (fl > 0) {
                if (len - p < fl) { complete = 0; break; }
                p += fl;
            }
        }
        if (!complete) break;
        if (walk_entry(w, &r) < 0) return -1;
        at = p;
    }
    return at;
}

static PyObject *Walk_feed(Walk *w, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (w->bad >= 0) { PyBuffer_Release(&view); Py_RETURN_NONE; }
    const unsigned char *data = view.buf;
    Py_ssize_t len = view.len, used;
    if (w->pending_len) {
        if (grow(&w->pending, &w->pending_cap, w->pending_len + len) < 0) goto fail;
        memcpy(w->pending + w->pending_len, data, (size_t)len);
        w->pending_len += len;
        used = walk_buffer(w, (const unsigned char *)w->pending, w->pending_len);
        if (used < 0) goto fail;
        memmove(w->pending, w->pending + used, (size_t)(w->pending_len - used));
        w->pending_len -= used;
    } else {
        used = walk_buffer(w, data, len);
        if (used < 0) goto fail;
        if (used < len) {
            if (grow(&w->pending, &w->pending_cap, len - used) < 0) goto fail;
            memcpy(w->pending, data + used, (size_t)(len - used));
            w->pending_len = len - used;
        }
    }
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&view);
    return NULL;
}

static PyObject *Walk_take(Walk *w, PyObject *Py_UNUSED(ignored)) {
    PyObject *money;
    if (w->money_len) {
        if (grow(&w->money, &w->money_cap, w->money_len + 1) < 0) return NULL;
        w->money[w->money_len] = ']';
        money = PyBytes_FromStringAndSize(w->money, w->money_len + 1);
    } else {
        money = PyBytes_FromStringAndSize("[]", 2);
    }
    if (!money) return NULL;
    PyObject *mi = PyList_New(0), *mk = PyList_New(0), *ot = PyList_New(0);
    if (!mi || !mk || !ot) {
        Py_DECREF(money); Py_XDECREF(mi); Py_XDECREF(mk); Py_XDECREF(ot);
        return NULL;
    }
    PyObject *out = Py_BuildValue("(NNNN)", money, w->money_index, w->money_kind, w->others);
    if (!out) { Py_DECREF(mi); Py_DECREF(mk); Py_DECREF(ot); return NULL; }
    w->money_index = mi;  /* the old lists' references went into the tuple */
    w->money_kind = mk;
    w->others = ot;
    w->money_len = 0;
    return out;
}

static PyObject *Walk_frontier(Walk *w, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New(w->depth);
    if (!out) return NULL;
    for (int j = 0; j < w->depth; j++) {
        PyObject *t = Py_BuildValue("(iy#)", w->stack_level[j], (const char *)w->stack[j],
                                    (Py_ssize_t)32);
        if (!t) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, j, t);
    }
    return out;
}

static PyObject *Walk_digests(Walk *w, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    for (int lvl = 1; lvl <= w->level; lvl++) {
        SHA256_CTX c = w->digests[lvl];  /* a copy: the walk's own context stays open */
        unsigned char d[32];
        SHA256_Final(d, &c);
        PyObject *t = Py_BuildValue("(Ly#)", w->counts[lvl], (const char *)d, (Py_ssize_t)32);
        PyObject *k = PyLong_FromLong(lvl);
        int bad = (!t || !k) ? -1 : PyDict_SetItem(out, k, t);
        Py_XDECREF(t);
        Py_XDECREF(k);
        if (bad) { Py_DECREF(out); return NULL; }
    }
    return out;
}

static int Walk_init(Walk *w, PyObject *args, PyObject *kwds) {
    static char *names[] = {"start", "prev", "origin_json", "level", "wanted", "kinds", NULL};
    long long start;
    Py_buffer prev, origin;
    int level;
    PyObject *wanted, *kinds;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Ly*y*iO!O!", names, &start, &prev, &origin,
                                     &level, &PyList_Type, &wanted, &PyDict_Type, &kinds))
        return -1;
    int rc = -1;
    if (prev.len != 32) { PyErr_SetString(PyExc_ValueError, "prev must be 32 bytes"); goto done; }
    if (level < 0 || level > MAX_LEVELS) {
        PyErr_SetString(PyExc_ValueError, "level out of range");
        goto done;
    }
    w->start = start;
    w->n = 0;
    memcpy(w->prev, prev.buf, 32);
    w->bad = -1;
    w->level = level;
    w->have_time = 0;
    w->depth = 0;
    for (int k = 0; k <= MAX_LEVELS; k++) { SHA256_Init(&w->digests[k]); w->counts[k] = 0; }
    PyMem_Free(w->origin);
    w->origin = PyMem_Malloc((size_t)origin.len + 1);
    if (!w->origin) { PyErr_NoMemory(); goto done; }
    memcpy(w->origin, origin.buf, (size_t)origin.len);
    w->origin_len = origin.len;
    Py_INCREF(wanted);
    Py_XSETREF(w->wanted, wanted);
    w->wanted_at = 0;
    Py_INCREF(kinds);
    Py_XSETREF(w->kinds, kinds);
    Py_XSETREF(w->at_sizes, PyDict_New());
    Py_XSETREF(w->money_index, PyList_New(0));
    Py_XSETREF(w->money_kind, PyList_New(0));
    Py_XSETREF(w->others, PyList_New(0));
    Py_CLEAR(w->last_kind_obj);
    w->in_stream = 0;
    w->pending_len = 0;
    w->money_len = 0;
    if (!w->at_sizes || !w->money_index || !w->money_kind || !w->others) goto done;
    rc = 0;
done:
    PyBuffer_Release(&prev);
    PyBuffer_Release(&origin);
    return rc;
}

static void Walk_dealloc(Walk *w) {
    Py_XDECREF(w->wanted);
    Py_XDECREF(w->kinds);
    Py_XDECREF(w->at_sizes);
    Py_XDECREF(w->money_index);
    Py_XDECREF(w->money_kind);
    Py_XDECREF(w->others);
    Py_XDECREF(w->last_kind_obj);
    PyMem_Free(w->origin);
    PyMem_Free(w->pending);
    PyMem_Free(w->money);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static PyObject *Walk_get_n(Walk *w, void *c) { return PyLong_FromLongLong(w->n); }
static PyObject *Walk_get_prev(Walk *w, void *c) {
    return PyBytes_FromStringAndSize((const char *)w->prev, 32);
}
static PyObject *Walk_get_bad(Walk *w, void *c) {
    if (w->bad < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(w->bad);
}
static PyObject *Walk_get_at_sizes(Walk *w, void *c) { Py_INCREF(w->at_sizes); return w->at_sizes; }
static PyObject *Walk_get_complete(Walk *w, void *c) {
    return PyBool_FromLong(!w->in_stream && w->pending_len == 0);
}

static PyGetSetDef Walk_getset[] = {
    {"n", (getter)Walk_get_n, NULL, "entries accepted", NULL},
    {"prev", (getter)Walk_get_prev, NULL, "entry_hash of the last accepted entry", NULL},
    {"bad", (getter)Walk_get_bad, NULL, "index of the first doubtful entry, or None", NULL},
    {"at_sizes", (getter)Walk_get_at_sizes, NULL, "absolute size -> compact range then", NULL},
    {"complete", (getter)Walk_get_complete, NULL, "every COPY stream fed was read to its end", NULL},
    {NULL},
};

static PyMethodDef Walk_methods[] = {
    {"feed", (PyCFunction)Walk_feed, METH_O, "Feed bytes of a binary COPY stream."},
    {"take", (PyCFunction)Walk_take, METH_NOARGS,
     "(money JSON array, money indexes, money kinds, other (index, kind, body, created_us)) "
     "since the last take."},
    {"frontier", (PyCFunction)Walk_frontier, METH_NOARGS, "The compact range: [(level, hash)]."},
    {"digests", (PyCFunction)Walk_digests, METH_NOARGS,
     "{level: (count, SHA-256 of the node hashes)} for levels 1..level."},
    {NULL},
};

static PyTypeObject WalkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ledger.verify._entrywalk.Walk",
    .tp_basicsize = sizeof(Walk),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Entries of one verification range, checked and hashed from a binary COPY stream.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Walk_init,
    .tp_dealloc = (destructor)Walk_dealloc,
    .tp_methods = Walk_methods,
    .tp_getset = Walk_getset,
};

/* --- stored projection rows against the expected ones ---------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Is binary COPY field (p, len) surely equal to Python value v for column type t? */
static int same_field(char t, const unsigned char *p, int32_t len, PyObject *v) {
    if (len < 0) return v == Py_None;
    switch (t) {
    case 'q': {
        if (len != 8 || !PyLong_CheckExact(v)) return 0;
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || (x == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
        return x == be64(p);
    }
    case 't': {
        if (!PyUnicode_CheckExact(v)) return 0;
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(v, &n);
        if (!u) { PyErr_Clear(); return 0; }
        return n == len && memcmp(u, p, (size_t)n) == 0;
    }
    case 'd': {
        if (len != 4 || !PyDate_CheckExact(v)) return 0;
        int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                                       PyDateTime_GET_DAY(v)) - PG_EPOCH_DAYS;
        return days == (int32_t)be32(p);
    }
    default:
        return 0;
    }
}

static PyObject *same_rows(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *expected;
    const char *spec;
    Py_ssize_t ncols;
    if (!PyArg_ParseTuple(args, "y*O!s#", &view, &PyList_Type, &expected, &spec, &ncols))
        return NULL;
    const unsigned char *b = view.buf, *e = b + view.len;
    int same = 0;
    Py_ssize_t row = 0, rows = PyList_GET_SIZE(expected);
    while (b < e) {  /* one or more COPY streams, one after the other */
        if (e - b < COPY_SIGNATURE_LEN + 8 || memcmp(b, COPY_SIGNATURE, COPY_SIGNATURE_LEN) != 0)
            goto done;
        uint32_t ext = be32(b + COPY_SIGNATURE_LEN + 4);
        b += COPY_SIGNATURE_LEN + 8;
        if ((uint64_t)(e - b) < ext) goto done;
        b += ext;
        for (;;) {
            if (e - b < 2) goto done;
            int16_t nf = (int16_t)be16(b);
            b += 2;
            if (nf == -1) break;
            if (nf != ncols || row >= rows) goto done;
            PyObject *want = PyList_GET_ITEM(expected, row);
            if (!PyTuple_Check(want) || PyTuple_GET_SIZE(want) != ncols) goto done;
            for (Py_ssize_t k = 0; k < ncols; k++) {
                if (e - b < 4) goto done;
                int32_t fl = (int32_t)be32(b);
                b += 4;
                if (fl > 0 && e - b < fl) goto done;
                if (!same_field(spec[k], b, fl, PyTuple_GET_ITEM(want, k))) goto done;
                if (fl > 0) b += fl;
            }
            row++;
        }
    }
    same = row == rows;
done:
    PyBuffer_Release(&view);
    return PyBool_FromLong(same);
}

static PyMethodDef module_methods[] = {
    {"same_rows", same_rows, METH_VARARGS,
     "same_rows(copy_bytes, expected, spec): True when the rows of these binary COPY streams "
     "are surely equal, one for one and in order, to the tuples of expected (spec: one letter "
     "per column, q int8, t text, d date; NULL is None). False means: compare them in Python."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ledger.verify._entrywalk",
    "The C hot loop of ledger verify (see ledger/verify/_entrywalk.c).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__entrywalk(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    if (PyType_Ready(&WalkType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&WalkType);
    if (PyModule_AddObject(m, "Walk", (PyObject *)&WalkType) < 0) {
        Py_DECREF(&WalkType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
