/* The per-packet core of ReceiverStatistics (tui_phone/rtp/stats.py) in C.
 *
 * StatsCore is tui_phone/rtp/stats_core.py's PyStatsCore with the hot state in
 * C fields, exposed to Python under the same attribute names.  on_packet
 * handles the packet after the highest one of a valid source (every ptime on
 * a clean network: RFC 3550 A.1 sequence tracking, A.8 jitter, the payload
 * size log of the bitrate) without running Python code or allocating; any
 * other packet goes to self._on_packet_general(seq, timestamp, arrival,
 * payload_type, payload_size, ssrc), the Python general path, which reads and
 * writes the same attributes.  The two cores must agree bit for bit:
 * tests/unit/rtp/test_stats_core.py feeds both the same packets.
 *
 * Representations chosen for the in-order path:
 * - _seen (a 128-bit Python int bitmask) is two uint64 words; the getset
 *   converts.
 * - _baseline (None or (arrival * clock_rate, timestamp)) is a flag, a double
 *   and a uint32; the getset builds the tuple.
 * - _payload_log (a deque of (arrival, size)) is a ring buffer that grows by
 *   doubling and never shrinks, so steady state does not allocate; Python sees
 *   a list copy and changes it through _log_payload, _prune_payload_log and
 *   _clear_payload_log.
 * Arrival times are doubles here (Python keeps an int as an int: the values
 * agree while they are below 2**53).  Sequence numbers, timestamps and
 * payload sizes must be ints.
 *
 * Floating point: the jitter is computed with the same operations in the same
 * order as the Python code; -std=c11 leaves floating-point contraction (FMA)
 * off in GCC, so the results are the same doubles.
 *
 * Plain stable API (Py_LIMITED_API 3.11), all under the GIL.  Single-phase
 * module init with static interned names: no sub-interpreter support.
 */

#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <structmember.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SOURCE_DIGEST
#error "SOURCE_DIGEST must be defined (setup.py does)"
#endif

/* RFC 3550 A.1; stats_core.py has the same constants. */
#define RTP_SEQ_MOD 65536
#define MIN_SEQUENTIAL 2
#define DUPLICATE_WINDOW 128 /* two 64-bit words of _seen */
#define U32 4294967296LL

#define LOG_INITIAL_CAPACITY 64

typedef struct {
    double arrival;
    long long size;
} PayloadEntry;

typedef struct {
    PyObject_HEAD
    PyObject *ssrc;     /* None or an int */
    PyObject *excluded; /* jitter_excluded_payload_types */
    long long clock_rate;
    double bitrate_window_s;
    char started;
    char payload_sizes_given;
    int probation;
    int max_seq;
    long long cycles; /* a multiple of RTP_SEQ_MOD, as in A.1 */
    long long received;
    double jitter;
    double max_jitter;
    double jitter_sum;
    long long jitter_samples;
    uint64_t seen_low; /* bit i: extended_max - i was received */
    uint64_t seen_high; /* bit i: extended_max - 64 - i */
    int has_baseline;
    double baseline_arrival; /* arrival time * clock_rate */
    uint32_t baseline_timestamp;
    PayloadEntry *log; /* ring buffer, oldest at log_head */
    Py_ssize_t log_capacity;
    Py_ssize_t log_head;
    Py_ssize_t log_length;
} StatsCore;

static PyObject *str_fast_paths;
static PyObject *str_on_packet_general;
/* on_packet's parameters, in order; the first three may be positional. */
#define ON_PACKET_PARAMS 6
#define ON_PACKET_POSITIONAL 3
static const char *const on_packet_param_names[ON_PACKET_PARAMS] = {
    "seq", "timestamp", "arrival_time_s", "payload_type", "payload_size", "ssrc",
};
static PyObject *on_packet_param_strs[ON_PACKET_PARAMS];

/* -- the payload-size log ------------------------------------------------ */

static int
log_grow(StatsCore *self)
{
    Py_ssize_t capacity = self->log_capacity ? self->log_capacity * 2 : LOG_INITIAL_CAPACITY;
    if ((size_t)capacity > PY_SSIZE_T_MAX / sizeof(PayloadEntry)) {
        PyErr_NoMemory();
        return -1;
    }
    PayloadEntry *entries = PyMem_Malloc((size_t)capacity * sizeof(PayloadEntry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->log_length; i++) {
        entries[i] = self->log[(self->log_head + i) % self->log_capacity];
    }
    PyMem_Free(self->log);
    self->log = entries;
    self->log_capacity = capacity;
    self->log_head = 0;
    return 0;
}

static inline void
log_pop_oldest(StatsCore *self)
{
    self->log_head = (self->log_head + 1) % self->log_capacity;
    self->log_length--;
}

/* stats_core.py _log_payload: append, then drop the entries older than the
 * window (it stops at the entry just appended at the latest). */
static int
log_payload(StatsCore *self, double arrival, long long size)
{
    if (self->log_length == self->log_capacity && log_grow(self) < 0) {
        return -1;
    }
    self->payload_sizes_given = 1;
    PayloadEntry *slot = &self->log[(self->log_head + self->log_length) % self->log_capacity];
    slot->arrival = arrival;
    slot->size = size;
    self->log_length++;
    double cutoff = arrival - self->bitrate_window_s;
    /* (The length test only matters for a window made negative after
     * __init__, where Python would raise IndexError on the empty deque.) */
    while (self->log_length && self->log[self->log_head].arrival < cutoff) {
        log_pop_oldest(self);
    }
    return 0;
}

/* -- on_packet ----------------------------------------------------------- */

static int
parse_on_packet_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                     PyObject *values[ON_PACKET_PARAMS])
{
    if (nargs > ON_PACKET_POSITIONAL) {
        PyErr_Format(PyExc_TypeError, "on_packet() takes %d positional arguments but %zd were given",
                     ON_PACKET_POSITIONAL + 1, nargs + 1);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        values[i] = args[i];
    }
    Py_ssize_t keywords = kwnames == NULL ? 0 : PyTuple_Size(kwnames);
    for (Py_ssize_t k = 0; k < keywords; k++) {
        PyObject *name = PyTuple_GetItem(kwnames, k);
        if (name == NULL) {
            return -1;
        }
        int index = 0;
        while (index < ON_PACKET_PARAMS && name != on_packet_param_strs[index]) {
            index++;
        }
        if (index == ON_PACKET_PARAMS) { /* not interned: compare the text */
            index = 0;
            while (index < ON_PACKET_PARAMS
                   && PyUnicode_Compare(name, on_packet_param_strs[index]) != 0) {
                index++;
            }
            if (PyErr_Occurred()) {
                return -1;
            }
        }
        if (index == ON_PACKET_PARAMS) {
            PyErr_Format(PyExc_TypeError, "on_packet() got an unexpected keyword argument '%U'", name);
            return -1;
        }
        if (values[index] != NULL) {
            PyErr_Format(PyExc_TypeError, "on_packet() got multiple values for argument '%U'", name);
            return -1;
        }
        values[index] = args[nargs + k];
    }
    for (int i = 0; i < ON_PACKET_PARAMS; i++) {
        if (values[i] != NULL) {
            continue;
        }
        if (i < ON_PACKET_POSITIONAL) {
            PyErr_Format(PyExc_TypeError, "on_packet() missing required argument: '%s'",
                         on_packet_param_names[i]);
            return -1;
        }
        values[i] = Py_None;
    }
    return 0;
}

/* An int argument as a long long; 0 (no error set) when it is not an int or
 * does not fit, which sends the packet to the general path. */
static int
as_long_long(PyObject *value, long long *out)
{
    if (!PyLong_Check(value)) {
        return 0;
    }
    int overflow;
    *out = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow) {
        return 0;
    }
    if (*out == -1 && PyErr_Occurred()) {
        return -1;
    }
    return 1;
}

/* 1 when the in-order shortcut applies, 0 when not, -1 on error.  The tests
 * are those of stats_core.py's on_packet, in its order (which matters only
 * for which error an odd argument raises). */
static int
takes_shortcut(StatsCore *self, PyObject *const values[ON_PACKET_PARAMS], long long *seq,
               long long *timestamp, long long *size)
{
    int found = as_long_long(values[0], seq);
    if (found <= 0 || *seq != ((self->max_seq + 1) & (RTP_SEQ_MOD - 1))) {
        return found < 0 ? -1 : 0;
    }
    PyObject *ssrc = values[5];
    if (ssrc != self->ssrc) {
        int same = PyObject_RichCompareBool(ssrc, self->ssrc, Py_EQ);
        if (same <= 0) {
            return same;
        }
    }
    PyObject *fast_paths = PyObject_GetAttr((PyObject *)self, str_fast_paths);
    if (fast_paths == NULL) {
        return -1;
    }
    int on = PyObject_IsTrue(fast_paths);
    Py_DECREF(fast_paths);
    if (on <= 0 || self->probation || !self->started || values[4] == Py_None) {
        return on < 0 ? -1 : 0;
    }
    found = as_long_long(values[4], size);
    if (found <= 0) {
        return found;
    }
    found = as_long_long(values[1], timestamp);
    if (found <= 0 || *timestamp < 0 || *timestamp >= U32 || !self->has_baseline) {
        return found < 0 ? -1 : 0;
    }
    int excluded = PySequence_Contains(self->excluded, values[3]);
    return excluded < 0 ? -1 : !excluded;
}

/* stats_core.py _next_in_order, step for step. */
static int
next_in_order(StatsCore *self, int seq, uint32_t timestamp, double arrival, long long size)
{
    if (log_payload(self, arrival, size) < 0) {
        return -1;
    }
    if (seq < self->max_seq) {
        self->cycles += RTP_SEQ_MOD; /* wrapped: another 64K cycle */
    }
    self->seen_high = (self->seen_high << 1) | (self->seen_low >> 63);
    self->seen_low = (self->seen_low << 1) | 1;
    self->max_seq = seq;
    self->received++;
    /* RFC 3550 A.8 */
    double point = arrival * (double)self->clock_rate;
    double previous = self->baseline_arrival;
    long long ts_delta = (long long)(uint32_t)(timestamp - self->baseline_timestamp);
    self->baseline_arrival = point;
    self->baseline_timestamp = timestamp;
    if (ts_delta >= (1LL << 31)) { /* timestamps wrap: take the signed delta */
        ts_delta -= U32;
    }
    double jitter = self->jitter;
    jitter += (fabs(point - previous - (double)ts_delta) - jitter) / 16.0;
    self->jitter = jitter;
    if (jitter > self->max_jitter) {
        self->max_jitter = jitter;
    }
    self->jitter_sum += jitter;
    self->jitter_samples++;
    return 0;
}

static PyObject *
core_on_packet(StatsCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *values[ON_PACKET_PARAMS] = {NULL};
    if (parse_on_packet_args(args, nargs, kwnames, values) < 0) {
        return NULL;
    }
    long long seq, timestamp, size;
    int shortcut = takes_shortcut(self, values, &seq, &timestamp, &size);
    if (shortcut < 0) {
        return NULL;
    }
    if (shortcut) {
        double arrival = PyFloat_AsDouble(values[2]);
        if (arrival == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (next_in_order(self, (int)seq, (uint32_t)timestamp, arrival, size) < 0) {
            return NULL;
        }
        Py_RETURN_TRUE;
    }
    return PyObject_CallMethodObjArgs((PyObject *)self, str_on_packet_general, values[0], values[1],
                                      values[2], values[3], values[4], values[5], NULL);
}

/* -- the payload log's Python side --------------------------------------- */

static PyObject *
core_log_payload(StatsCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "_log_payload() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    double arrival = PyFloat_AsDouble(args[0]);
    if (arrival == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    long long size = PyLong_AsLongLong(args[1]);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (log_payload(self, arrival, size) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
core_prune_payload_log(StatsCore *self, PyObject *now_obj)
{
    double now = PyFloat_AsDouble(now_obj);
    if (now == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    while (self->log_length && self->log[self->log_head].arrival < now - self->bitrate_window_s) {
        log_pop_oldest(self);
    }
    Py_RETURN_NONE;
}

static PyObject *
core_clear_payload_log(StatsCore *self, PyObject *Py_UNUSED(ignored))
{
    self->log_head = 0;
    self->log_length = 0;
    self->payload_sizes_given = 0;
    Py_RETURN_NONE;
}

static PyObject *
core_get_payload_log(StatsCore *self, void *Py_UNUSED(closure))
{
    PyObject *list = PyList_New(self->log_length);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->log_length; i++) {
        const PayloadEntry *entry = &self->log[(self->log_head + i) % self->log_capacity];
        PyObject *item = Py_BuildValue("(dL)", entry->arrival, entry->size);
        if (item == NULL || PyList_SetItem(list, i, item) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

/* -- _seen and _baseline as Python values -------------------------------- */

static PyObject *
core_get_seen(StatsCore *self, void *Py_UNUSED(closure))
{
    if (self->seen_high == 0) {
        return PyLong_FromUnsignedLongLong(self->seen_low);
    }
    PyObject *high = PyLong_FromUnsignedLongLong(self->seen_high);
    PyObject *shift = PyLong_FromLong(64);
    PyObject *low = PyLong_FromUnsignedLongLong(self->seen_low);
    PyObject *shifted = high && shift ? PyNumber_Lshift(high, shift) : NULL;
    PyObject *seen = shifted && low ? PyNumber_Or(shifted, low) : NULL;
    Py_XDECREF(high);
    Py_XDECREF(shift);
    Py_XDECREF(low);
    Py_XDECREF(shifted);
    return seen;
}

/* One 64-bit word of an int: (value >> shift) mod 2**64. */
static int
word_of(PyObject *value, long shift, uint64_t *word)
{
    PyObject *count = PyLong_FromLong(shift);
    PyObject *shifted = count ? PyNumber_Rshift(value, count) : NULL;
    Py_XDECREF(count);
    if (shifted == NULL) {
        return -1;
    }
    *word = PyLong_AsUnsignedLongLongMask(shifted);
    Py_DECREF(shifted);
    return *word == (uint64_t)-1 && PyErr_Occurred() ? -1 : 0;
}

static int
core_set_seen(StatsCore *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _seen");
        return -1;
    }
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "_seen must be an int, not %R", (PyObject *)Py_TYPE(value));
        return -1;
    }
    uint64_t low, high, beyond;
    if (word_of(value, 0, &low) < 0 || word_of(value, 64, &high) < 0
        || word_of(value, DUPLICATE_WINDOW, &beyond) < 0) {
        return -1;
    }
    if (beyond != 0) { /* also catches negative values (their shift is -1) */
        PyErr_Format(PyExc_ValueError, "_seen out of %d-bit range: %R", DUPLICATE_WINDOW, value);
        return -1;
    }
    self->seen_low = low;
    self->seen_high = high;
    return 0;
}

static PyObject *
core_get_baseline(StatsCore *self, void *Py_UNUSED(closure))
{
    if (!self->has_baseline) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(dk)", self->baseline_arrival, (unsigned long)self->baseline_timestamp);
}

static int
core_set_baseline(StatsCore *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _baseline");
        return -1;
    }
    if (value == Py_None) {
        self->has_baseline = 0;
        return 0;
    }
    if (!PyTuple_Check(value) || PyTuple_Size(value) != 2) {
        PyErr_SetString(PyExc_TypeError, "_baseline must be None or (arrival, timestamp)");
        return -1;
    }
    double arrival = PyFloat_AsDouble(PyTuple_GetItem(value, 0));
    if (arrival == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    long long timestamp = PyLong_AsLongLong(PyTuple_GetItem(value, 1));
    if (timestamp == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (timestamp < 0 || timestamp >= U32) {
        PyErr_Format(PyExc_ValueError, "_baseline timestamp out of 32-bit range: %lld", timestamp);
        return -1;
    }
    self->has_baseline = 1;
    self->baseline_arrival = arrival;
    self->baseline_timestamp = (uint32_t)timestamp;
    return 0;
}

/* -- the type ------------------------------------------------------------ */

static PyObject *
core_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    StatsCore *self = (StatsCore *)alloc(type, 0); /* zero-filled */
    if (self == NULL) {
        return NULL;
    }
    self->excluded = PyFrozenSet_New(NULL);
    if (self->excluded == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(Py_None);
    self->ssrc = Py_None;
    self->clock_rate = 1;
    self->bitrate_window_s = 2.0;
    self->probation = MIN_SEQUENTIAL;
    return (PyObject *)self;
}

static int
core_traverse(StatsCore *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE((PyObject *)self));
    Py_VISIT(self->ssrc);
    Py_VISIT(self->excluded);
    return 0;
}

static int
core_clear(StatsCore *self)
{
    Py_CLEAR(self->ssrc);
    Py_CLEAR(self->excluded);
    return 0;
}

static void
core_dealloc(StatsCore *self)
{
    PyTypeObject *type = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack((PyObject *)self);
    core_clear(self);
    PyMem_Free(self->log);
    self->log = NULL;
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(self);
    Py_DECREF(type);
}

static PyMethodDef core_methods[] = {
    {"on_packet", (PyCFunction)(void (*)(void))core_on_packet, METH_FASTCALL | METH_KEYWORDS,
     "on_packet($self, seq, timestamp, arrival_time_s, *, payload_type=None, payload_size=None, "
     "ssrc=None)\n--\n\n"
     "Account for one received RTP packet; return whether A.1 accepted it.\n\n"
     "arrival_time_s is the local receive time in seconds on any clock that does not jump\n"
     "(only differences matter). A new ssrc (when given) starts the statistics over for the\n"
     "new source. Packets A.1 rejects (probation, an unconfirmed big jump) return False;\n"
     "the caller should not play them."},
    {"_log_payload", (PyCFunction)(void (*)(void))core_log_payload, METH_FASTCALL,
     "Log one payload size and drop those older than the window."},
    {"_prune_payload_log", (PyCFunction)core_prune_payload_log, METH_O,
     "Drop payload sizes older than the window (keeps the log bounded)."},
    {"_clear_payload_log", (PyCFunction)core_clear_payload_log, METH_NOARGS,
     "Forget every payload size, and that any was ever given."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef core_members[] = {
    {"ssrc", T_OBJECT, offsetof(StatsCore, ssrc), 0, NULL},
    {"jitter_excluded_payload_types", T_OBJECT_EX, offsetof(StatsCore, excluded), 0, NULL},
    {"clock_rate", T_LONGLONG, offsetof(StatsCore, clock_rate), 0, NULL},
    {"bitrate_window_s", T_DOUBLE, offsetof(StatsCore, bitrate_window_s), 0, NULL},
    {"started", T_BOOL, offsetof(StatsCore, started), 0, NULL},
    {"_payload_sizes_given", T_BOOL, offsetof(StatsCore, payload_sizes_given), 0, NULL},
    {"probation", T_INT, offsetof(StatsCore, probation), 0, NULL},
    {"max_seq", T_INT, offsetof(StatsCore, max_seq), 0, NULL},
    {"cycles", T_LONGLONG, offsetof(StatsCore, cycles), 0, NULL},
    {"received", T_LONGLONG, offsetof(StatsCore, received), 0, NULL},
    {"jitter", T_DOUBLE, offsetof(StatsCore, jitter), 0, NULL},
    {"max_jitter", T_DOUBLE, offsetof(StatsCore, max_jitter), 0, NULL},
    {"_jitter_sum", T_DOUBLE, offsetof(StatsCore, jitter_sum), 0, NULL},
    {"_jitter_samples", T_LONGLONG, offsetof(StatsCore, jitter_samples), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef core_getsets[] = {
    {"_seen", (getter)core_get_seen, (setter)core_set_seen,
     "Bit i set: extended_max - i was received (the last DUPLICATE_WINDOW).", NULL},
    {"_baseline", (getter)core_get_baseline, (setter)core_set_baseline,
     "Jitter baseline: None or (arrival in timestamp units, RTP timestamp).", NULL},
    {"_payload_log", (getter)core_get_payload_log, NULL,
     "A copy of the payload log: [(arrival, payload size)], oldest first.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot core_slots[] = {
    {Py_tp_doc, "The hot state of one source's receive statistics and its in-order path, in C.\n\n"
                "Not used on its own: ReceiverStatistics (stats.py) builds on it."},
    {Py_tp_new, core_new},
    {Py_tp_dealloc, core_dealloc},
    {Py_tp_traverse, core_traverse},
    {Py_tp_clear, core_clear},
    {Py_tp_methods, core_methods},
    {Py_tp_members, core_members},
    {Py_tp_getset, core_getsets},
    {0, NULL},
};

static PyType_Spec core_spec = {
    .name = "tui_phone.rtp._cstats.StatsCore",
    .basicsize = sizeof(StatsCore),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = core_slots,
};

static struct PyModuleDef cstats_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._cstats",
    .m_doc = "The per-packet core of ReceiverStatistics in C (see stats_core.py).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__cstats(void)
{
    str_fast_paths = PyUnicode_InternFromString("_fast_paths");
    str_on_packet_general = PyUnicode_InternFromString("_on_packet_general");
    if (str_fast_paths == NULL || str_on_packet_general == NULL) {
        return NULL;
    }
    for (int i = 0; i < ON_PACKET_PARAMS; i++) {
        on_packet_param_strs[i] = PyUnicode_InternFromString(on_packet_param_names[i]);
        if (on_packet_param_strs[i] == NULL) {
            return NULL;
        }
    }
    PyObject *module = PyModule_Create(&cstats_module);
    if (module == NULL) {
        return NULL;
    }
    PyObject *type = PyType_FromSpec(&core_spec);
    if (type == NULL || PyModule_AddObject(module, "StatsCore", type) < 0
        || PyModule_AddStringConstant(module, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
        || PyModule_AddIntConstant(module, "DUPLICATE_WINDOW", DUPLICATE_WINDOW) < 0) {
        Py_XDECREF(type);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
