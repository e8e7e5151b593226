/* The C speed-up of tui_phone.rtp.sender: the state of an RtpSender and its
 * every-ptime path, datagrams() when exactly one audio frame is due and no
 * DTMF is under way.
 *
 * sender.py holds the reference (_PySenderCore, the same path in Python) and
 * everything else (catch-up, skipping, DTMF), reading and writing the same
 * attributes, which here are C fields.  Same arithmetic in the same order:
 * the frame count due is floor((now - start_time) / ptime + 1e-3) + 1, the
 * next due time start_time + frames_done * ptime.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <math.h>
#include <string.h>

#ifndef SOURCE_DIGEST
#error "setup.py defines SOURCE_DIGEST"
#endif

#define DUE_SLACK 1e-3            /* sender._DUE_SLACK */
#define SEQ_MODULUS 65536LL       /* RFC 3550 5.1 */
#define TS_MODULUS 4294967296LL
#define HEADER_SIZE 12            /* RFC 3550 5.1: the fixed header, no CSRC */
#define PLAIN_FIRST_OCTET 0x80    /* V=2, no padding, extension or CSRC */
#define MARKER_BIT 0x80

typedef struct {
    PyObject_HEAD
    long long ssrc;
    int payload_type;
    long long clock_rate;
    long long samples_per_frame;
    double ptime;
    double start_time;
    double next_due;
    long long max_catch_up;
    PyObject *telephone_event_pt;
    long long sequence;
    long long timestamp;
    long long frames_done;
    char marker_next;
    PyObject *dtmf;
    long long packets;
    long long octets;
    long long frames_sent;
    long long dtmf_packets;
    long long late_ticks;
    long long caught_up;
    long long skipped;
    long long empty;
} SenderCore;

static PyObject *general_name;  /* interned "_datagrams_general" */

static int
SenderCore_traverse(SenderCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->telephone_event_pt);
    Py_VISIT(self->dtmf);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
SenderCore_clear(SenderCore *self)
{
    Py_CLEAR(self->telephone_event_pt);
    Py_CLEAR(self->dtmf);
    return 0;
}

static void
SenderCore_dealloc(SenderCore *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    SenderCore_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* datagrams(now, source): see RtpSender.datagrams. */
static PyObject *
SenderCore_datagrams(SenderCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "datagrams() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    double now = PyFloat_AsDouble(args[0]);
    if (now == -1.0 && PyErr_Occurred())
        return NULL;
    if ((self->dtmf != NULL && self->dtmf != Py_None)
            || (long long)floor((now - self->start_time) / self->ptime + DUE_SLACK) + 1 - self->frames_done != 1) {
        PyObject *call_args[3] = {(PyObject *)self, args[0], args[1]};
        return PyObject_VectorcallMethod(general_name, call_args, 3, NULL);
    }
    PyObject *payload = PyObject_CallNoArgs(args[1]);
    if (payload == NULL)
        return NULL;
    /* _audio_frame: account for this tick's frame. */
    long long timestamp = self->timestamp;
    self->timestamp = (timestamp + self->samples_per_frame) % TS_MODULUS;
    self->frames_done += 1;
    self->next_due = self->start_time + (double)self->frames_done * self->ptime;
    if (payload == Py_None) {
        Py_DECREF(payload);
        self->empty += 1;
        self->marker_next = 1;
        return PyList_New(0);
    }
    Py_buffer view;
    if (PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(payload);
        return NULL;
    }
    long long sequence = self->sequence;
    self->sequence = (sequence + 1) % SEQ_MODULUS;
    self->packets += 1;
    self->octets += view.len;
    self->frames_sent += 1;
    int marker = self->marker_next;
    self->marker_next = 0;
    PyObject *data = PyBytes_FromStringAndSize(NULL, HEADER_SIZE + view.len);
    PyObject *result = NULL;
    if (data != NULL) {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(data);
        unsigned long ts = (unsigned long)timestamp, ssrc = (unsigned long)(self->ssrc & 0xFFFFFFFFLL);
        out[0] = PLAIN_FIRST_OCTET;
        out[1] = (unsigned char)(self->payload_type | (marker ? MARKER_BIT : 0));
        out[2] = (unsigned char)(sequence >> 8);
        out[3] = (unsigned char)sequence;
        out[4] = (unsigned char)(ts >> 24);
        out[5] = (unsigned char)(ts >> 16);
        out[6] = (unsigned char)(ts >> 8);
        out[7] = (unsigned char)ts;
        out[8] = (unsigned char)(ssrc >> 24);
        out[9] = (unsigned char)(ssrc >> 16);
        out[10] = (unsigned char)(ssrc >> 8);
        out[11] = (unsigned char)ssrc;
        if (view.len)
            memcpy(out + HEADER_SIZE, view.buf, (size_t)view.len);
        PyObject *item = Py_BuildValue("(NLn)", data, timestamp, view.len);
        if (item != NULL) {
            result = PyList_New(1);
            if (result != NULL)
                PyList_SET_ITEM(result, 0, item);
            else
                Py_DECREF(item);
        }
    }
    PyBuffer_Release(&view);
    Py_DECREF(payload);
    return result;
}

static PyMethodDef SenderCore_methods[] = {
    {"datagrams", (PyCFunction)(void (*)(void))SenderCore_datagrams, METH_FASTCALL,
     "datagrams(now, source) -> [(datagram, RTP timestamp, payload size)]"},
    {NULL, NULL, 0, NULL},
};

#define FIELD(name, type, member) {name, type, offsetof(SenderCore, member), 0, NULL}
static PyMemberDef SenderCore_members[] = {
    FIELD("ssrc", T_LONGLONG, ssrc),
    FIELD("payload_type", T_INT, payload_type),
    FIELD("clock_rate", T_LONGLONG, clock_rate),
    FIELD("samples_per_frame", T_LONGLONG, samples_per_frame),
    FIELD("ptime", T_DOUBLE, ptime),
    FIELD("start_time", T_DOUBLE, start_time),
    FIELD("next_due", T_DOUBLE, next_due),
    FIELD("max_catch_up", T_LONGLONG, max_catch_up),
    FIELD("telephone_event_pt", T_OBJECT, telephone_event_pt),
    FIELD("_sequence", T_LONGLONG, sequence),
    FIELD("_timestamp", T_LONGLONG, timestamp),
    FIELD("_frames_done", T_LONGLONG, frames_done),
    FIELD("_marker_next", T_BOOL, marker_next),
    FIELD("_dtmf", T_OBJECT, dtmf),
    FIELD("_packets", T_LONGLONG, packets),
    FIELD("_octets", T_LONGLONG, octets),
    FIELD("_frames_sent", T_LONGLONG, frames_sent),
    FIELD("_dtmf_packets", T_LONGLONG, dtmf_packets),
    FIELD("_late_ticks", T_LONGLONG, late_ticks),
    FIELD("_caught_up", T_LONGLONG, caught_up),
    FIELD("_skipped", T_LONGLONG, skipped),
    FIELD("_empty", T_LONGLONG, empty),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot SenderCore_slots[] = {
    {Py_tp_doc, "The fields of an RtpSender and its every-ptime datagrams() (sender.py is the reference)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, SenderCore_dealloc},
    {Py_tp_traverse, SenderCore_traverse},
    {Py_tp_clear, SenderCore_clear},
    {Py_tp_methods, SenderCore_methods},
    {Py_tp_members, SenderCore_members},
    {0, NULL},
};

static PyType_Spec SenderCore_spec = {
    .name = "tui_phone.rtp._csender.SenderCore",
    .basicsize = sizeof(SenderCore),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = SenderCore_slots,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._csender",
    .m_doc = "C speed-up of the RTP sender's every-ptime path (sender.py holds the reference).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__csender(void)
{
    general_name = PyUnicode_InternFromString("_datagrams_general");
    if (general_name == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *type = PyType_FromSpec(&SenderCore_spec);
    if (type == NULL || PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
            || PyModule_AddObject(m, "SenderCore", type) < 0) {
        Py_XDECREF(type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
