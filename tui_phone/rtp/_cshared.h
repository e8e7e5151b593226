/* Helpers shared by the C speed-ups of the RTP tick (_ctick.c, _crecv.c).
 * setup.py folds the _c*.h files into every module's SOURCE_DIGEST. */
#ifndef TUI_PHONE_CSHARED_H
#define TUI_PHONE_CSHARED_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The exception raised, taken out of the error indicator (3.12's API, 3.11's before it). */
static inline PyObject *
take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != NULL && traceback != NULL)
        PyException_SetTraceback(value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return value;
#endif
}

static inline void
restore_exception(PyObject *error)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(error);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(error)), error, PyException_GetTraceback(error));
#endif
}
/* object.name for a plain instance attribute, read from ``dict``, the
 * object's __dict__ (cached by the caller: a dict lookup instead of
 * getattr's walk through the type).  When the dict lacks the name (a class
 * attribute, a property), getattr.  New reference, or NULL with an error. */
static inline PyObject *
dict_get(PyObject *object, PyObject *dict, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(dict, name);
    if (value != NULL)
        return Py_NewRef(value);
    if (PyErr_Occurred())
        return NULL;
    return PyObject_GetAttr(object, name);
}

/* An attribute that must be None (1), is something else (0), or failed (-1). */
static inline int
attribute_is_none(PyObject *object, PyObject *dict, PyObject *name)
{
    PyObject *value = dict_get(object, dict, name);
    if (value == NULL)
        return -1;
    int none = value == Py_None;
    Py_DECREF(value);
    return none;
}

static inline int
attribute_is_true(PyObject *object, PyObject *dict, PyObject *name)
{
    PyObject *value = dict_get(object, dict, name);
    if (value == NULL)
        return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}


/* An RtpSession as the C tick reads it: the session, its __dict__, its
 * latch and the latch's __dict__ (for dict_get), taken once. */
typedef struct {
    PyObject *session;
    PyObject *dict;
    PyObject *latch;
    PyObject *latch_dict;
} SessionView;

static inline void
session_view_clear(SessionView *view)
{
    Py_CLEAR(view->session);
    Py_CLEAR(view->dict);
    Py_CLEAR(view->latch);
    Py_CLEAR(view->latch_dict);
}

/* View ``session`` (its latch is the attribute ``latch_name``); 0, or -1
 * with an error and the view unchanged.  None clears the view. */
static inline int
session_view_set(SessionView *view, PyObject *session, PyObject *latch_name)
{
    if (session == Py_None) {
        session_view_clear(view);
        return 0;
    }
    PyObject *dict = PyObject_GenericGetDict(session, NULL), *latch = NULL, *latch_dict = NULL;
    if (dict == NULL || (latch = PyObject_GetAttr(session, latch_name)) == NULL
            || (latch_dict = PyObject_GenericGetDict(latch, NULL)) == NULL) {
        Py_XDECREF(dict);
        Py_XDECREF(latch);
        return -1;
    }
    Py_XSETREF(view->session, Py_NewRef(session));
    Py_XSETREF(view->dict, dict);
    Py_XSETREF(view->latch, latch);
    Py_XSETREF(view->latch_dict, latch_dict);
    return 0;
}

static inline int
session_view_traverse(SessionView *view, visitproc visit, void *arg)
{
    Py_VISIT(view->session);
    Py_VISIT(view->dict);
    Py_VISIT(view->latch);
    Py_VISIT(view->latch_dict);
    return 0;
}

#endif
