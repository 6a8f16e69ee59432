/* Whether no object of a JSON text repeats a member name, in C: the common answer of
 * `ledger.http.api.bodies.check_unique_keys` without a Python object per value.
 *
 * `unique(data)` returns True only when it is sure: it walked the text (a request body that
 * msgspec has already decoded, so valid JSON) to its end, no object repeats a name, and no
 * name is written with an escape (`"a"` and `"\u0061"` are the same name: only the Python
 * pass compares decoded names). Anything else returns False and the caller runs the Python
 * pass, which decides and names the repeated key: a repeat, an escaped name, an object of
 * more than MAX_OPEN_KEYS names in flight, nesting deeper than MAX_DEPTH, or bytes that are
 * not the JSON it expects. So it never accepts a body the Python pass refuses; it may send
 * more bodies than needed to the slow path, never fewer.
 *
 * It reads only within the buffer, whatever the bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_OPEN_KEYS 512

typedef struct {
    const unsigned char *name;
    Py_ssize_t size;
} Name;

/* 1 when every object's names are distinct and unescaped, 0 when unsure. */
static int walk(const unsigned char *s, Py_ssize_t n)
{
    char kind[MAX_DEPTH];          /* '{' or '[' per open container */
    Py_ssize_t first[MAX_DEPTH];   /* an open object's first name in `names` */
    Name names[MAX_OPEN_KEYS];     /* the names of the open objects, innermost last */
    int depth = 0;
    Py_ssize_t count = 0;
    Py_ssize_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return 0;
            kind[depth] = (char)c;
            first[depth] = count;
            depth++;
            i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0 || kind[depth - 1] != (c == '}' ? '{' : '['))
                return 0;
            depth--;
            if (c == '}') {
                Py_ssize_t a, b, from = first[depth];
                for (a = from; a < count; a++)
                    for (b = a + 1; b < count; b++)
                        if (names[a].size == names[b].size &&
                            memcmp(names[a].name, names[b].name, (size_t)names[a].size) == 0)
                            return 0;  /* a repeat: the Python pass names it */
                count = from;
            }
            i++;
        } else if (c == '"') {
            Py_ssize_t j = i + 1, k;
            int escaped = 0;
            while (j < n && s[j] != '"') {
                if (s[j] == '\\') {
                    escaped = 1;
                    j += 2;
                } else {
                    j++;
                }
            }
            if (j >= n)
                return 0;  /* no closing quote */
            k = j + 1;
            while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
                k++;
            if (k < n && s[k] == ':') {  /* a member name */
                if (depth == 0 || kind[depth - 1] != '{' || escaped || count == MAX_OPEN_KEYS)
                    return 0;
                names[count].name = s + i + 1;
                names[count].size = j - i - 1;
                count++;
            }
            i = j + 1;
        } else {
            i++;  /* numbers, literals, commas, colons, white space */
        }
    }
    return depth == 0 && n > 0;
}

static PyObject *unique(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    int sure;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    sure = walk((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return PyBool_FromLong(sure);
}

static PyMethodDef methods[] = {
    {"unique", unique, METH_O,
     "unique(data) -> bool: True only if no object in the JSON text `data` repeats a member "
     "name and none is escaped; False means: ask the Python pass."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonkeys",
    "Repeated member names in a JSON text, the common case in C "
    "(ledger.http.api.bodies.check_unique_keys).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__jsonkeys(void) { return PyModule_Create(&module); }
