/* The C speed-up of G.711 encoding (codecs/g711.py): one table lookup per
 * sample.  The tables are audioop's own conversion of every 16-bit sample
 * value (g711.py builds them with audioop.lin2ulaw and lin2alaw), so the
 * bytes are audioop's by construction; this only replaces its per-sample
 * segment search with an index.  Without this module g711.py calls audioop.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#ifndef SOURCE_DIGEST
#error "setup.py defines SOURCE_DIGEST"
#endif

#define TABLE_SIZE 65536

/* translate16(pcm, table): bytes([table[s & 0xFFFF] for s in the native
 * 16-bit samples of pcm]). */
static PyObject *
translate16(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "translate16(pcm, table)");
        return NULL;
    }
    Py_buffer pcm, table;
    if (PyObject_GetBuffer(args[0], &pcm, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &table, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&pcm);
        return NULL;
    }
    PyObject *result = NULL;
    if (pcm.len % 2 != 0)
        PyErr_SetString(PyExc_ValueError, "not a whole number of 16-bit samples");
    else if (table.len != TABLE_SIZE)
        PyErr_SetString(PyExc_ValueError, "the table needs 65536 entries");
    else if ((result = PyBytes_FromStringAndSize(NULL, pcm.len / 2)) != NULL) {
        const unsigned char *from = pcm.buf, *map = table.buf;
        unsigned char *to = (unsigned char *)PyBytes_AS_STRING(result);
        for (Py_ssize_t k = 0; k < pcm.len / 2; k++) {
            uint16_t sample;
            memcpy(&sample, from + 2 * k, sizeof sample);
            to[k] = map[sample];
        }
    }
    PyBuffer_Release(&table);
    PyBuffer_Release(&pcm);
    return result;
}

static PyMethodDef functions[] = {
    {"translate16", (PyCFunction)(void (*)(void))translate16, METH_FASTCALL,
     "translate16(pcm, table) -> one byte per native 16-bit sample, looked up in the 65536-byte table"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.audio._cg711",
    .m_doc = "C speed-up of G.711 encoding by table (codecs/g711.py holds the reference).",
    .m_size = -1,
    .m_methods = functions,
};

PyMODINIT_FUNC
PyInit__cg711(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
