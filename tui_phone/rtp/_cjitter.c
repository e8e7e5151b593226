/* The jitter buffer's core in C: its hot state and its in-order put and pop.
 *
 * The C twin of tui_phone/rtp/jitter_core.py (PyJitterCore), which stays the
 * reference: same attribute names, same conditions, same float operations in
 * the same order (built with -std=c11, so GCC does not contract a*b+c into
 * an FMA, which would round differently from Python).  JitterBuffer subclasses
 * JitterCore; whenever the in-order conditions do not hold, put and pop call
 * its Python general paths (self._put_general(...), self._pop(now)), which
 * read and write the same attributes, here C fields behind members/getsets.
 *
 * The Python objects of the in-order path stay what the general path expects:
 * _buffer is a dict of Packet, _seen a set, _seen_order a deque.  The counters
 * are C fields, seen from Python through _counts, a mapping view.  Packet and
 * Frame (dataclasses with slots) are built without running their __init__:
 * allocated and their four slots written at the offsets their member
 * descriptors give.  bind(Frame, Packet) tells this module both classes.
 *
 * Everything runs under the GIL (the media thread holds it); nothing here
 * releases it.  No I/O, no clock: time comes in as arguments.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>

/* Python rounds every float operation: so must we (no a*b+c contracted to an FMA). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define SEQ_MASK 0xFFFFULL         /* RFC 3550 5.1: 16-bit sequence number */
#define TS_MASK 0xFFFFFFFFULL      /* RFC 3550 5.1: 32-bit timestamp */
#define TS_HALF 0x80000000ULL
#define JITTER_GAIN (1.0 / 16)     /* RFC 3550 A.8 */
#define TRANSIT_GAIN (1.0 / 16)
#define DUPLICATE_HISTORY 512
#define EPSILON 1e-9
/* Integers up to 2**53 convert to double exactly: then int / int in Python
 * (true division) is the division of the two doubles. */
#define EXACT_LIMIT 9007199254740992LL

enum {
    C_RECEIVED, C_PLAYED, C_LATE, C_DUPLICATES, C_LOST, C_CONCEALED, C_RESYNCS,
    C_OVERFLOW, C_FLUSHED, C_SKIPPED, C_DISCARDED, C_NON_AUDIO, N_COUNTERS
};

static const char *const counter_names[N_COUNTERS] = {
    "received", "played", "late", "duplicates", "lost", "concealed", "resyncs",
    "overflow", "flushed", "skipped", "discarded", "non_audio",
};

/* A slots class of four fields, built and read here without running Python
 * code: allocated, then each slot written (or read) at its offset, which its
 * member descriptor tells (Frame and Packet are dataclasses with slots=True). */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t offsets[4];
} SlotClass;

#define SLOT(object, class, i) (*(PyObject **)((char *)(object) + (class).offsets[i]))

/* Bound by bind(): Frame(payload, seq, timestamp, marker), Packet(seq, timestamp, payload, marker). */
static SlotClass frame_class, packet_class;
/* collections.deque and its unbound append/popleft. */
static PyTypeObject *deque_type;
static PyObject *deque_append;
static PyObject *deque_popleft;
static PyObject *counter_strings[N_COUNTERS];
static PyObject *str_fast_paths, *str_put_general, *str_pop, *str_buffered;

typedef struct {
    PyObject_HEAD
    /* configuration */
    PyObject *clock_rate_obj;
    double clock_rate;
    int clock_rate_exact; /* clock_rate is a float, or an int below 2**53 */
    long long frame;
    double ptime, min_delay, max_delay, k, resync_threshold, late_half_life;
    Py_ssize_t max_packets;
    PyObject *is_silent;
    /* the network */
    double jitter, late_floor, late_floor_time, delay;
    char has_late_floor_time;
    PyObject *ssrc;
    PyObject *candidate;
    /* the stream */
    PyObject *buffer;     /* dict: extended seq -> Packet */
    PyObject *seen;       /* set */
    PyObject *seen_order; /* deque */
    char started, has_played;
    long long next_ts, ts_ref, gap_run;
    long long last_seq, max_seq;
    char has_last_seq, has_max_seq;
    double transit, prev_transit;
    char has_prev_transit;
    long long counts[N_COUNTERS];
} CoreObject;

typedef struct {
    PyObject_HEAD
    CoreObject *core;
} CountsObject;

static PyTypeObject CoreType;
static PyTypeObject CountsType;

/* -- helpers ------------------------------------------------------------- */

/* A masked field from a Python int: value & mask, as Python computes it
 * (two's complement for negative numbers).  -1 with an exception set on error. */
static long long masked(PyObject *value, unsigned long long mask, PyObject **boxed)
{
    *boxed = NULL;
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow && !(v == -1 && PyErr_Occurred()))
            return (long long)((unsigned long long)v & mask);
        if (PyErr_Occurred())
            return -1;
    }
    PyObject *mask_obj = PyLong_FromUnsignedLongLong(mask);
    if (mask_obj == NULL)
        return -1;
    PyObject *result = PyNumber_And(value, mask_obj);
    Py_DECREF(mask_obj);
    if (result == NULL)
        return -1;
    long long v = PyLong_AsLongLong(result);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(result);
        return -1;
    }
    *boxed = result;
    return v;
}

/* A time argument as a double, if it is an exact float or int that Python
 * would convert to this same double; 0 (no exception) otherwise. */
static int as_time(PyObject *value, double *out)
{
    if (PyFloat_CheckExact(value)) {
        *out = PyFloat_AS_DOUBLE(value);
        return 1;
    }
    if (PyLong_CheckExact(value)) {
        double d = PyLong_AsDouble(value);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear(); /* the general path raises it again */
            return 0;
        }
        *out = d;
        return 1;
    }
    return 0;
}

static int fast_paths_on(PyObject *self)
{
    PyObject *flag = PyObject_GetAttr(self, str_fast_paths);
    if (flag == NULL)
        return -1;
    int on = PyObject_IsTrue(flag);
    Py_DECREF(flag);
    return on;
}


/* -- put ----------------------------------------------------------------- */

static PyObject *new_slots(const SlotClass *class, PyObject *a, PyObject *b, PyObject *c, PyObject *d)
{
    PyObject *object = class->type->tp_alloc(class->type, 0);
    if (object == NULL)
        return NULL;
    PyObject *values[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        SLOT(object, *class, i) = Py_NewRef(values[i]);
    return object;
}

/* PyJitterCore._put_in_order: 1 if buffered, 0 if the general path must take
 * the packet (nothing changed), -1 on error. */
static int put_in_order(CoreObject *self, long long seq, long long timestamp, PyObject *payload,
                        double arrival, PyObject *marker)
{
    if (!self->has_max_seq || self->candidate != Py_None || !self->clock_rate_exact)
        return 0;
    long long max_seq = self->max_seq;
    if ((unsigned long long)seq != (((unsigned long long)max_seq + 1) & SEQ_MASK))
        return 0;
    long long ts_ref = self->ts_ref;
    unsigned long long delta = ((unsigned long long)timestamp - (unsigned long long)ts_ref) & TS_MASK;
    if (delta >= TS_HALF)
        return 0; /* the timestamp went back: _extend's other half */
    if (ts_ref > EXACT_LIMIT - (long long)TS_MASK || ts_ref < -EXACT_LIMIT || max_seq > EXACT_LIMIT)
        return 0; /* far beyond any real stream: Python's big ints take it */
    long long ext_ts = ts_ref + (long long)delta;
    double transit = arrival - (double)ext_ts / self->clock_rate;
    double mean = self->transit;
    PyObject *buffer = self->buffer, *seen = self->seen, *seen_order = self->seen_order;
    if (buffer == NULL || !PyDict_CheckExact(buffer) || seen == NULL || !PySet_CheckExact(seen)
        || seen_order == NULL || !Py_IS_TYPE(seen_order, deque_type) || packet_class.type == NULL)
        return 0;
    if (fabs(transit - mean) > self->resync_threshold || PyDict_GET_SIZE(buffer) >= self->max_packets
        || (self->started && ext_ts < self->next_ts))
        return 0;
    long long ext_seq = max_seq + 1;
    PyObject *seq_obj = PyLong_FromLongLong(ext_seq);
    PyObject *ts_obj = PyLong_FromLongLong(ext_ts);
    PyObject *packet = NULL;
    int status = -1;
    if (seq_obj == NULL || ts_obj == NULL)
        goto done;
    packet = new_slots(&packet_class, seq_obj, ts_obj, payload, marker);
    if (packet == NULL)
        goto done;

    self->counts[C_RECEIVED] += 1;
    /* _remember, _update_jitter, the new highest packet, written out. */
    if (PySet_Add(seen, seq_obj) < 0)
        goto done;
    PyObject *call[2] = {seen_order, seq_obj};
    PyObject *result = PyObject_Vectorcall(deque_append, call, 2, NULL);
    if (result == NULL)
        goto done;
    Py_DECREF(result);
    Py_ssize_t remembered = PyObject_Length(seen_order);
    if (remembered < 0)
        goto done;
    if (remembered > DUPLICATE_HISTORY) {
        PyObject *oldest = PyObject_Vectorcall(deque_popleft, call, 1, NULL);
        if (oldest == NULL)
            goto done;
        int discarded = PySet_Discard(seen, oldest);
        Py_DECREF(oldest);
        if (discarded < 0)
            goto done;
    }
    if (self->has_prev_transit)
        self->jitter += (fabs(transit - self->prev_transit) - self->jitter) * JITTER_GAIN;
    self->prev_transit = transit;
    self->has_prev_transit = 1;
    self->transit = mean + (transit - mean) * TRANSIT_GAIN;
    self->max_seq = ext_seq;
    self->has_max_seq = 1;
    self->ts_ref = ext_ts;
    if (PyDict_SetItem(buffer, seq_obj, packet) < 0)
        goto done;
    status = 1;
done:
    Py_XDECREF(seq_obj);
    Py_XDECREF(ts_obj);
    Py_XDECREF(packet);
    return status;
}

PyDoc_STRVAR(put_doc,
"put(seq, timestamp, payload, arrival_time, marker=False, ssrc=None)\n--\n\n"
"Offer one received packet; return what became of it.\n\n"
"``seq`` and ``timestamp`` are the raw 16- and 32-bit RTP fields;\n"
"``arrival_time`` is in seconds on the same clock as ``pop(now)``.");

static PyObject *core_put(CoreObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *seq_arg, *ts_arg, *payload, *arrival_arg, *marker = Py_False, *ssrc = Py_None;
    if (kwnames == NULL && nargs >= 4 && nargs <= 6) {
        seq_arg = args[0];
        ts_arg = args[1];
        payload = args[2];
        arrival_arg = args[3];
        if (nargs > 4)
            marker = args[4];
        if (nargs > 5)
            ssrc = args[5];
    } else { /* keywords: the slow, general parser (the arguments stay owned by the caller) */
        static char *kwlist[] = {"seq", "timestamp", "payload", "arrival_time", "marker", "ssrc", NULL};
        PyObject *tuple = PyTuple_New(nargs), *dict = NULL;
        if (tuple == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < nargs; i++) {
            Py_INCREF(args[i]);
            PyTuple_SET_ITEM(tuple, i, args[i]);
        }
        if (kwnames != NULL) {
            dict = PyDict_New();
            for (Py_ssize_t i = 0; dict != NULL && i < PyTuple_GET_SIZE(kwnames); i++) {
                if (PyDict_SetItem(dict, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0)
                    Py_CLEAR(dict);
            }
            if (dict == NULL) {
                Py_DECREF(tuple);
                return NULL;
            }
        }
        int parsed = PyArg_ParseTupleAndKeywords(tuple, dict, "OOOO|OO:put", kwlist, &seq_arg, &ts_arg,
                                                 &payload, &arrival_arg, &marker, &ssrc);
        Py_DECREF(tuple);
        Py_XDECREF(dict);
        if (!parsed)
            return NULL;
    }
    PyObject *seq_boxed, *ts_boxed = NULL, *result = NULL;
    long long seq = masked(seq_arg, SEQ_MASK, &seq_boxed);
    if (seq == -1 && PyErr_Occurred())
        return NULL;
    long long timestamp = masked(ts_arg, TS_MASK, &ts_boxed);
    if (timestamp == -1 && PyErr_Occurred())
        goto done;
    int on = fast_paths_on((PyObject *)self);
    if (on < 0)
        goto done;
    if (on && self->ssrc != NULL) {
        int same = PyObject_RichCompareBool(ssrc, self->ssrc, Py_EQ);
        if (same < 0)
            goto done;
        double arrival;
        if (same && as_time(arrival_arg, &arrival)) {
            int buffered = put_in_order(self, seq, timestamp, payload, arrival, marker);
            if (buffered < 0)
                goto done;
            if (buffered) {
                result = Py_NewRef(str_buffered);
                goto done;
            }
        }
    }
    if (seq_boxed == NULL && (seq_boxed = PyLong_FromLongLong(seq)) == NULL)
        goto done;
    if (ts_boxed == NULL && (ts_boxed = PyLong_FromLongLong(timestamp)) == NULL)
        goto done;
    PyObject *call[7] = {(PyObject *)self, seq_boxed, ts_boxed, payload, arrival_arg, marker, ssrc};
    result = PyObject_VectorcallMethod(str_put_general, call, 7, NULL);
done:
    Py_XDECREF(seq_boxed);
    Py_XDECREF(ts_boxed);
    return result;
}

/* -- pop ----------------------------------------------------------------- */

/* An exact int field of a packet as a long long within the exact range. */
static int packet_field(PyObject *value, long long *out)
{
    if (value == NULL || !PyLong_CheckExact(value))
        return 0;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || v > EXACT_LIMIT || v < -EXACT_LIMIT)
        return 0;
    *out = v;
    return 1;
}

/* PyJitterCore._pop_in_order: a new Frame, or NULL: with an exception set on
 * error, else when the general path must decide. */
static PyObject *pop_in_order(CoreObject *self, double now)
{
    if (!self->has_last_seq || self->is_silent != Py_None || !self->clock_rate_exact || frame_class.type == NULL)
        return NULL;
    PyObject *buffer = self->buffer;
    long long last = self->last_seq, next_ts = self->next_ts, frame = self->frame;
    if (buffer == NULL || !PyDict_CheckExact(buffer) || last > EXACT_LIMIT || next_ts > EXACT_LIMIT
        || next_ts < -EXACT_LIMIT || frame > EXACT_LIMIT || frame < -EXACT_LIMIT)
        return NULL;
    PyObject *key = PyLong_FromLongLong(last + 1); /* every buffered packet is above the last played */
    if (key == NULL)
        return NULL;
    PyObject *head = PyDict_GetItemWithError(buffer, key); /* borrowed */
    Py_DECREF(key);
    if (head == NULL || !Py_IS_TYPE(head, packet_class.type))
        return NULL;
    PyObject *head_seq = SLOT(head, packet_class, 0), *payload = SLOT(head, packet_class, 2),
             *marker = SLOT(head, packet_class, 3);
    long long seq, ts;
    if (payload == NULL || marker == NULL || !packet_field(head_seq, &seq)
        || !packet_field(SLOT(head, packet_class, 1), &ts))
        return NULL;
    if (ts >= next_ts + frame)
        return NULL;
    /* _decay_late_floor, written out. */
    if (self->late_floor > 0 && self->has_late_floor_time) {
        double elapsed = now - self->late_floor_time;
        if (0.0 > elapsed) /* max(elapsed, 0.0) */
            elapsed = 0.0;
        if (self->late_half_life == 0.0)
            return NULL; /* Python raises ZeroDivisionError: let the general path do it */
        double factor = pow(0.5, elapsed / self->late_half_life);
        if (isinf(factor))
            return NULL; /* Python's float pow raises or special-cases: the general path decides */
        self->late_floor *= factor;
    }
    self->late_floor_time = now;
    self->has_late_floor_time = 1;
    /* _target, written out */
    double target = self->k * self->jitter + self->ptime;
    if (self->late_floor > target)
        target = self->late_floor;
    if (target < self->min_delay)
        target = self->min_delay;
    if (target > self->max_delay)
        target = self->max_delay;
    double delay = now - (double)next_ts / self->clock_rate - self->transit;
    if (delay < target - EPSILON || delay > self->max_delay + self->ptime)
        return NULL;
    /* _play and _consume, written out for the packet following the last one. */
    Py_INCREF(head);
    if (PyDict_DelItem(buffer, head_seq) < 0) {
        Py_DECREF(head);
        return NULL;
    }
    self->last_seq = seq;
    self->has_last_seq = 1;
    self->next_ts = (next_ts > ts ? next_ts : ts) + frame;
    self->delay = delay;
    self->counts[C_PLAYED] += 1;
    self->gap_run = 0;
    self->has_played = 1;
    PyObject *result = NULL;
    PyObject *seq16 = PyLong_FromUnsignedLongLong((unsigned long long)seq & SEQ_MASK);
    PyObject *ts32 = PyLong_FromUnsignedLongLong((unsigned long long)ts & TS_MASK);
    if (seq16 != NULL && ts32 != NULL)
        result = new_slots(&frame_class, payload, seq16, ts32, marker);
    Py_XDECREF(seq16);
    Py_XDECREF(ts32);
    Py_DECREF(head);
    return result;
}

PyDoc_STRVAR(pop_doc,
"pop(now)\n--\n\n"
"Return what to play for the frame starting at ``now``.\n\n"
"``None`` while filling (before the first packet is due); afterwards a\n"
"Frame or a Gap on every call.");

static PyObject *core_pop(CoreObject *self, PyObject *now_arg)
{
    int on = fast_paths_on((PyObject *)self);
    if (on < 0)
        return NULL;
    double now;
    if (on && self->started && as_time(now_arg, &now)) {
        PyObject *frame = pop_in_order(self, now);
        if (frame != NULL || PyErr_Occurred())
            return frame;
    }
    PyObject *call[2] = {(PyObject *)self, now_arg};
    return PyObject_VectorcallMethod(str_pop, call, 2, NULL);
}

/* -- attributes ---------------------------------------------------------- */

static PyObject *get_clock_rate(CoreObject *self, void *closure)
{
    (void)closure;
    if (self->clock_rate_obj == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_clock_rate");
        return NULL;
    }
    return Py_NewRef(self->clock_rate_obj);
}

static int no_delete(PyObject *value, const char *name)
{
    if (value == NULL) {
        PyErr_Format(PyExc_TypeError, "cannot delete %s", name);
        return -1;
    }
    return 0;
}

static int set_clock_rate(CoreObject *self, PyObject *value, void *closure)
{
    (void)closure;
    if (no_delete(value, "_clock_rate") < 0)
        return -1;
    /* The shortcuts divide by a double: only where Python's division gives the same. */
    self->clock_rate_exact = 0;
    if (PyFloat_CheckExact(value)) {
        self->clock_rate = PyFloat_AS_DOUBLE(value);
        self->clock_rate_exact = 1;
    } else if (PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (!overflow && v <= EXACT_LIMIT && v >= -EXACT_LIMIT) {
            self->clock_rate = (double)v;
            self->clock_rate_exact = 1;
        }
    }
    Py_INCREF(value);
    Py_XSETREF(self->clock_rate_obj, value);
    return 0;
}

/* A number or None (an Optional, passed as the getset's closure): the value
 * at one offset in CoreObject, and at another the flag saying it is not None. */
typedef struct {
    size_t value;
    size_t flag;
} Optional;

static const Optional opt_last_seq = {offsetof(CoreObject, last_seq), offsetof(CoreObject, has_last_seq)};
static const Optional opt_max_seq = {offsetof(CoreObject, max_seq), offsetof(CoreObject, has_max_seq)};
static const Optional opt_prev_transit = {offsetof(CoreObject, prev_transit), offsetof(CoreObject, has_prev_transit)};
static const Optional opt_late_floor_time = {offsetof(CoreObject, late_floor_time),
                                             offsetof(CoreObject, has_late_floor_time)};

static PyObject *get_optional_int(CoreObject *self, void *closure)
{
    const Optional *field = closure;
    if (!*((char *)self + field->flag))
        Py_RETURN_NONE;
    return PyLong_FromLongLong(*(long long *)((char *)self + field->value));
}

static int set_optional_int(CoreObject *self, PyObject *value, void *closure)
{
    const Optional *field = closure;
    if (no_delete(value, "an extended number") < 0)
        return -1;
    if (value == Py_None) {
        *((char *)self + field->flag) = 0;
        return 0;
    }
    long long v = PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *(long long *)((char *)self + field->value) = v;
    *((char *)self + field->flag) = 1;
    return 0;
}

static PyObject *get_optional_float(CoreObject *self, void *closure)
{
    const Optional *field = closure;
    if (!*((char *)self + field->flag))
        Py_RETURN_NONE;
    return PyFloat_FromDouble(*(double *)((char *)self + field->value));
}

static int set_optional_float(CoreObject *self, PyObject *value, void *closure)
{
    const Optional *field = closure;
    if (no_delete(value, "a time") < 0)
        return -1;
    if (value == Py_None) {
        *((char *)self + field->flag) = 0;
        return 0;
    }
    double v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    *(double *)((char *)self + field->value) = v;
    *((char *)self + field->flag) = 1;
    return 0;
}

static PyObject *get_counts(CoreObject *self, void *closure)
{
    (void)closure;
    CountsObject *view = PyObject_New(CountsObject, &CountsType);
    if (view == NULL)
        return NULL;
    Py_INCREF(self);
    view->core = self;
    return (PyObject *)view;
}

#define OPTIONAL(name, kind, table, doc) \
    {name, (getter)get_optional_##kind, (setter)set_optional_##kind, doc, (void *)&table}

static PyGetSetDef core_getset[] = {
    {"_clock_rate", (getter)get_clock_rate, (setter)set_clock_rate, "samples per second", NULL},
    OPTIONAL("_last_seq", int, opt_last_seq, "extended sequence number last played or skipped"),
    OPTIONAL("_max_seq", int, opt_max_seq, "highest extended sequence number accepted"),
    OPTIONAL("_prev_transit", float, opt_prev_transit, "transit of the previous packet, seconds"),
    OPTIONAL("_late_floor_time", float, opt_late_floor_time, "when the late floor last decayed"),
    {"_counts", (getter)get_counts, NULL, "the counters, as a mapping view", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define MEMBER(name, type, field) {name, type, offsetof(CoreObject, field), 0, NULL}

static PyMemberDef core_members[] = {
    MEMBER("_frame", T_LONGLONG, frame),
    MEMBER("_ptime", T_DOUBLE, ptime),
    MEMBER("_min_delay", T_DOUBLE, min_delay),
    MEMBER("_max_delay", T_DOUBLE, max_delay),
    MEMBER("_k", T_DOUBLE, k),
    MEMBER("_resync_threshold", T_DOUBLE, resync_threshold),
    MEMBER("_late_half_life", T_DOUBLE, late_half_life),
    MEMBER("_max_packets", T_PYSSIZET, max_packets),
    MEMBER("_is_silent", T_OBJECT_EX, is_silent),
    MEMBER("_jitter", T_DOUBLE, jitter),
    MEMBER("_late_floor", T_DOUBLE, late_floor),
    MEMBER("_delay", T_DOUBLE, delay),
    MEMBER("_ssrc", T_OBJECT_EX, ssrc),
    MEMBER("_candidate", T_OBJECT_EX, candidate),
    MEMBER("_buffer", T_OBJECT_EX, buffer),
    MEMBER("_seen", T_OBJECT_EX, seen),
    MEMBER("_seen_order", T_OBJECT_EX, seen_order),
    MEMBER("_started", T_BOOL, started),
    MEMBER("_has_played", T_BOOL, has_played),
    MEMBER("_next_ts", T_LONGLONG, next_ts),
    MEMBER("_ts_ref", T_LONGLONG, ts_ref),
    MEMBER("_transit", T_DOUBLE, transit),
    MEMBER("_gap_run", T_LONGLONG, gap_run),
    {NULL, 0, 0, 0, NULL},
};

/* -- the type ------------------------------------------------------------ */

static PyObject *core_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args; /* the subclass's __init__ takes them */
    (void)kwargs;
    CoreObject *self = (CoreObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->is_silent = Py_NewRef(Py_None);
    self->ssrc = Py_NewRef(Py_None);
    self->candidate = Py_NewRef(Py_None);
    return (PyObject *)self;
}

static int core_traverse(CoreObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->clock_rate_obj);
    Py_VISIT(self->is_silent);
    Py_VISIT(self->ssrc);
    Py_VISIT(self->candidate);
    Py_VISIT(self->buffer);
    Py_VISIT(self->seen);
    Py_VISIT(self->seen_order);
    return 0;
}

static int core_clear(CoreObject *self)
{
    Py_CLEAR(self->clock_rate_obj);
    Py_CLEAR(self->is_silent);
    Py_CLEAR(self->ssrc);
    Py_CLEAR(self->candidate);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->seen);
    Py_CLEAR(self->seen_order);
    return 0;
}

static void core_dealloc(CoreObject *self)
{
    PyObject_GC_UnTrack(self);
    core_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef core_methods[] = {
    {"put", (PyCFunction)(void (*)(void))core_put, METH_FASTCALL | METH_KEYWORDS, put_doc},
    {"pop", (PyCFunction)core_pop, METH_O, pop_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tui_phone.rtp._cjitter.JitterCore",
    .tp_doc = PyDoc_STR("The C core of the jitter buffer (see tui_phone/rtp/jitter_core.py)."),
    .tp_basicsize = sizeof(CoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = core_new,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_methods = core_methods,
    .tp_members = core_members,
    .tp_getset = core_getset,
};

/* -- the counters' view -------------------------------------------------- */

static int counter_index(PyObject *key)
{
    for (int i = 0; i < N_COUNTERS; i++) {
        if (key == counter_strings[i])
            return i;
    }
    if (PyUnicode_Check(key)) {
        for (int i = 0; i < N_COUNTERS; i++) {
            if (PyUnicode_Compare(key, counter_strings[i]) == 0)
                return i;
        }
    }
    if (!PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, key);
    return -1;
}

static PyObject *counts_getitem(CountsObject *self, PyObject *key)
{
    int i = counter_index(key);
    return i < 0 ? NULL : PyLong_FromLongLong(self->core->counts[i]);
}

static int counts_setitem(CountsObject *self, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "counters cannot be deleted");
        return -1;
    }
    int i = counter_index(key);
    if (i < 0)
        return -1;
    long long v = PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    self->core->counts[i] = v;
    return 0;
}

static Py_ssize_t counts_length(CountsObject *self)
{
    (void)self;
    return N_COUNTERS;
}

static PyObject *counts_keys(CountsObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *keys = PyList_New(N_COUNTERS);
    for (int i = 0; keys != NULL && i < N_COUNTERS; i++)
        PyList_SET_ITEM(keys, i, Py_NewRef(counter_strings[i]));
    return keys;
}

static PyObject *counts_dict(CountsObject *self)
{
    PyObject *dict = PyDict_New();
    for (int i = 0; dict != NULL && i < N_COUNTERS; i++) {
        PyObject *value = PyLong_FromLongLong(self->core->counts[i]);
        if (value == NULL || PyDict_SetItem(dict, counter_strings[i], value) < 0)
            Py_CLEAR(dict);
        Py_XDECREF(value);
    }
    return dict;
}

static PyObject *counts_iter(CountsObject *self)
{
    PyObject *keys = counts_keys(self, NULL);
    if (keys == NULL)
        return NULL;
    PyObject *iterator = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return iterator;
}

static PyObject *counts_repr(CountsObject *self)
{
    PyObject *dict = counts_dict(self);
    if (dict == NULL)
        return NULL;
    PyObject *text = PyObject_Repr(dict);
    Py_DECREF(dict);
    return text;
}

static PyObject *counts_richcompare(CountsObject *self, PyObject *other, int op)
{
    PyObject *dict = counts_dict(self);
    if (dict == NULL)
        return NULL;
    if (Py_IS_TYPE(other, &CountsType)) {
        PyObject *other_dict = counts_dict((CountsObject *)other);
        PyObject *result = other_dict == NULL ? NULL : PyObject_RichCompare(dict, other_dict, op);
        Py_XDECREF(other_dict);
        Py_DECREF(dict);
        return result;
    }
    PyObject *result = PyObject_RichCompare(dict, other, op);
    Py_DECREF(dict);
    return result;
}

static void counts_dealloc(CountsObject *self)
{
    Py_DECREF(self->core);
    PyObject_Free(self);
}

static PyMappingMethods counts_mapping = {
    .mp_length = (lenfunc)counts_length,
    .mp_subscript = (binaryfunc)counts_getitem,
    .mp_ass_subscript = (objobjargproc)counts_setitem,
};

static PyMethodDef counts_methods[] = {
    {"keys", (PyCFunction)counts_keys, METH_NOARGS, "the counters' names"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CountsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tui_phone.rtp._cjitter.Counts",
    .tp_doc = PyDoc_STR("The counters of a JitterCore, as a mapping of name to count."),
    .tp_basicsize = sizeof(CountsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)counts_dealloc,
    .tp_as_mapping = &counts_mapping,
    .tp_iter = (getiterfunc)counts_iter,
    .tp_repr = (reprfunc)counts_repr,
    .tp_richcompare = (richcmpfunc)counts_richcompare,
    .tp_methods = counts_methods,
};

/* -- the module ---------------------------------------------------------- */

PyDoc_STRVAR(bind_doc,
"bind(frame_class, packet_class)\n--\n\n"
"Tell the core the classes it builds: Frame(payload, seq, timestamp, marker)\n"
"and Packet(seq, timestamp, payload, marker), both dataclasses with slots.");

static int bind_slots(SlotClass *class, PyObject *type, const char *const names[4])
{
    if (!PyType_Check(type) || ((PyTypeObject *)type)->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "bind() takes classes with __slots__ and no __dict__");
        return -1;
    }
    SlotClass bound = {(PyTypeObject *)type, {0, 0, 0, 0}};
    for (int i = 0; i < 4; i++) {
        PyObject *descr = PyObject_GetAttrString(type, names[i]);
        if (descr == NULL)
            return -1;
        int ok = Py_IS_TYPE(descr, &PyMemberDescr_Type)
                 && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX
                 && PyType_IsSubtype((PyTypeObject *)type, PyDescr_TYPE(descr));
        if (ok)
            bound.offsets[i] = ((PyMemberDescrObject *)descr)->d_member->offset;
        Py_DECREF(descr);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", ((PyTypeObject *)type)->tp_name, names[i]);
            return -1;
        }
    }
    Py_INCREF(type);
    Py_XDECREF(class->type);
    *class = bound;
    return 0;
}

static PyObject *module_bind(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    static const char *const frame_fields[4] = {"payload", "seq", "timestamp", "marker"};
    static const char *const packet_fields[4] = {"seq", "timestamp", "payload", "marker"};
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "bind() takes the Frame and Packet classes");
        return NULL;
    }
    if (bind_slots(&frame_class, args[0], frame_fields) < 0 || bind_slots(&packet_class, args[1], packet_fields) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))module_bind, METH_FASTCALL, bind_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._cjitter",
    .m_doc = "The jitter buffer's in-order put and pop in C (see tui_phone/rtp/jitter_core.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int init_names(void)
{
    for (int i = 0; i < N_COUNTERS; i++) {
        if ((counter_strings[i] = PyUnicode_InternFromString(counter_names[i])) == NULL)
            return -1;
    }
    str_fast_paths = PyUnicode_InternFromString("_fast_paths");
    str_put_general = PyUnicode_InternFromString("_put_general");
    str_pop = PyUnicode_InternFromString("_pop");
    str_buffered = PyUnicode_InternFromString("buffered");
    if (!str_fast_paths || !str_put_general || !str_pop || !str_buffered)
        return -1;
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL)
        return -1;
    deque_type = (PyTypeObject *)PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (deque_type == NULL)
        return -1;
    deque_append = PyObject_GetAttrString((PyObject *)deque_type, "append");
    deque_popleft = PyObject_GetAttrString((PyObject *)deque_type, "popleft");
    return deque_append && deque_popleft ? 0 : -1;
}

PyMODINIT_FUNC PyInit__cjitter(void)
{
    if (init_names() < 0 || PyType_Ready(&CoreType) < 0 || PyType_Ready(&CountsType) < 0)
        return NULL;
    /* The in-order shortcuts are on unless a class or an instance turns them off. */
    if (PyDict_SetItem(CoreType.tp_dict, str_fast_paths, Py_True) < 0)
        return NULL;
    PyType_Modified(&CoreType);
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    if (PyModule_AddStringConstant(module, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
        || PyModule_AddObjectRef(module, "JitterCore", (PyObject *)&CoreType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
