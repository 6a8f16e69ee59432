/* Whether a value lies in the JSON subset whose canonical bytes `ledger.formats.canonical`
 * writes, in C: the common answer of its `_check` without a Python call per member.
 *
 * `plain(value)` returns True only when it is sure: the value is built of exact `dict` (with
 * exact-`str` ASCII member names), `list`, `tuple`, `str`, `bool`, `None` and exact `int`
 * within +-(2**53-1), nested at most MAX_DEPTH deep. Anything else (a float, a larger
 * integer, a non-ASCII or non-string name, a subclass, deeper nesting) returns False and the
 * caller runs `_check`, which decides (subclasses may pass there) and names the value at
 * fault. So it never accepts a value `_check` refuses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_DEPTH 64
#define MAX_SAFE_INTEGER 9007199254740991LL

static int plain_value(PyObject *v, int depth)
{
    if (v == Py_None || PyBool_Check(v) || PyUnicode_CheckExact(v))
        return 1;
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow != 0 || (x == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        return x >= -MAX_SAFE_INTEGER && x <= MAX_SAFE_INTEGER;
    }
    if (depth >= MAX_DEPTH)
        return 0;
    if (PyDict_CheckExact(v)) {
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        while (PyDict_Next(v, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key) || PyUnicode_READY(key) < 0) {
                PyErr_Clear();
                return 0;
            }
            if (!PyUnicode_IS_ASCII(key))
                return 0;
            if (!plain_value(item, depth + 1))
                return 0;
        }
        return 1;
    }
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
        /* No Python code runs during the walk (exact built-in types only), so nothing can
         * change the sequence under it. */
        Py_ssize_t i, n = PySequence_Fast_GET_SIZE(v);
        for (i = 0; i < n; i++)
            if (!plain_value(PySequence_Fast_GET_ITEM(v, i), depth + 1))
                return 0;
        return 1;
    }
    return 0;
}

static PyObject *plain(PyObject *self, PyObject *value)
{
    return PyBool_FromLong(plain_value(value, 0));
}

static PyMethodDef methods[] = {
    {"plain", plain, METH_O,
     "plain(value) -> bool: True only if value is plainly in the canonical JSON subset; "
     "False means: ask ledger.formats.canonical._check."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jcs",
    "The canonical JSON subset's common case in C (ledger.formats.canonical).", -1, methods,
};

PyMODINIT_FUNC PyInit__jcs(void) { return PyModule_Create(&module); }
