/* C speed-ups of the RTP tick; the Python code named holds the reference,
 * which also runs where this is not built.
 *
 * - PacerCore (ticker.TimerfdPacer): the timerfd's expiry read and the call
 *   of the tick at its due time, and call_at for the expiry already armed.
 * - SendTick (session.RtpSession._send_tick): the session's ptime tick.
 * - run_media (mediathread.MediaThread._run): the media thread's loop.
 */
#include "_cshared.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <structmember.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#ifndef SOURCE_DIGEST
#error "setup.py defines SOURCE_DIGEST"
#endif

static PyObject *acquire_name, *release_name, *srtp_name, *dtmf_watch_name, *latch_name, *destination_name;

/* -- PacerCore ------------------------------------------------------------ */

#define SAME_EXPIRY 1e-6  /* ticker._SAME_EXPIRY */

typedef struct {
    PyObject_HEAD
    int fd;
    PyObject *function;  /* the tick to call at the next expiry, or NULL/None */
    double period;       /* the interval armed (0: disarmed) */
    double first;        /* the first expiry armed */
    long long expiries;  /* expiries since then */
    double next;         /* the expiry the timer heads for */
    char reading;
    PyObject *clock;     /* time.monotonic */
} PacerCore;

static PyObject *arm_name, *call_at_general_name;
static PyObject *zero;  /* 0.0 */

static int
PacerCore_traverse(PacerCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->function);
    Py_VISIT(self->clock);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
PacerCore_clear(PacerCore *self)
{
    Py_CLEAR(self->function);
    Py_CLEAR(self->clock);
    return 0;
}

static void
PacerCore_dealloc(PacerCore *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PacerCore_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
PacerCore_disarm(PacerCore *self)
{
    PyObject *args[3] = {(PyObject *)self, zero, zero};
    return PyObject_VectorcallMethod(arm_name, args, 3, NULL);
}

/* _fire(): see ticker._PyPacerCore._fire. */
static PyObject *
PacerCore_fire(PacerCore *self, PyObject *Py_UNUSED(ignored))
{
    uint64_t count;
    ssize_t got = read(self->fd, &count, sizeof count);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            Py_RETURN_NONE;  /* re-armed since it became readable */
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (got != (ssize_t)sizeof count) {
        PyErr_SetString(PyExc_OSError, "short read from a timerfd");
        return NULL;
    }
    PyObject *function = self->function;  /* (the reference moves to here) */
    self->function = NULL;
    double due;
    if (self->period != 0.0) {
        long long expiries = self->expiries + (long long)count;
        self->expiries = expiries;
        due = self->first + (double)(expiries - 1) * self->period;
        self->next = self->first + (double)expiries * self->period;
    }
    else
        due = self->next;
    if (function == NULL || function == Py_None) {
        Py_XDECREF(function);
        return PacerCore_disarm(self);
    }
    PyObject *clock = PyObject_CallNoArgs(self->clock);
    if (clock == NULL) {
        Py_DECREF(function);
        return NULL;
    }
    double now = PyFloat_AsDouble(clock);
    if (now == -1.0 && PyErr_Occurred()) {
        Py_DECREF(clock);
        Py_DECREF(function);
        return NULL;
    }
    PyObject *when = now >= due ? clock : PyFloat_FromDouble(due);
    if (when != clock)
        Py_DECREF(clock);
    if (when == NULL) {
        Py_DECREF(function);
        return NULL;
    }
    PyObject *outcome = PyObject_CallOneArg(function, when);
    Py_DECREF(when);
    Py_DECREF(function);
    if (outcome == NULL)
        return NULL;
    Py_DECREF(outcome);
    if ((self->function == NULL || self->function == Py_None) && self->period != 0.0)
        return PacerCore_disarm(self);  /* not asked again: stop waking up */
    Py_RETURN_NONE;
}

/* call_at(when, function, period=None): see ticker._PyPacerCore.call_at. */
static PyObject *
PacerCore_call_at(PacerCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames == NULL && (nargs == 2 || nargs == 3) && self->reading && self->period != 0.0) {
        double when = PyFloat_AsDouble(args[0]);
        if (when == -1.0 && PyErr_Occurred())
            return NULL;
        if (fabs(when - self->next) < SAME_EXPIRY) {
            Py_INCREF(args[1]);
            Py_XSETREF(self->function, args[1]);
            return Py_NewRef((PyObject *)self);
        }
    }
    Py_ssize_t given = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *call_args[4] = {(PyObject *)self, NULL, NULL, NULL};
    if (given > 3) {
        PyErr_Format(PyExc_TypeError, "call_at() takes at most 3 arguments (%zd given)", given);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < given; k++)
        call_args[k + 1] = args[k];
    return PyObject_VectorcallMethod(call_at_general_name, call_args, (size_t)nargs + 1, kwnames);
}

static PyMethodDef PacerCore_methods[] = {
    {"_fire", (PyCFunction)PacerCore_fire, METH_NOARGS, "Read the expiry count and call the tick."},
    {"call_at", (PyCFunction)(void (*)(void))PacerCore_call_at, METH_FASTCALL | METH_KEYWORDS,
     "call_at(when, function, period=None): call function(now) at when."},
    {NULL, NULL, 0, NULL},
};

#define PACER_FIELD(name, type, member) {name, type, offsetof(PacerCore, member), 0, NULL}
static PyMemberDef PacerCore_members[] = {
    PACER_FIELD("_fd", T_INT, fd),
    PACER_FIELD("_function", T_OBJECT, function),
    PACER_FIELD("_period", T_DOUBLE, period),
    PACER_FIELD("_first", T_DOUBLE, first),
    PACER_FIELD("_expiries", T_LONGLONG, expiries),
    PACER_FIELD("_next", T_DOUBLE, next),
    PACER_FIELD("_reading", T_BOOL, reading),
    PACER_FIELD("_clock", T_OBJECT, clock),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot PacerCore_slots[] = {
    {Py_tp_doc, "The fields of a TimerfdPacer, its _fire and the call_at of an armed expiry."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, PacerCore_dealloc},
    {Py_tp_traverse, PacerCore_traverse},
    {Py_tp_clear, PacerCore_clear},
    {Py_tp_methods, PacerCore_methods},
    {Py_tp_members, PacerCore_members},
    {0, NULL},
};

static PyType_Spec PacerCore_spec = {
    .name = "tui_phone.rtp._ctick.PacerCore",
    .basicsize = sizeof(PacerCore),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = PacerCore_slots,
};

/* -- SendTick --------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    SessionView view;
} SendTick;

static PyObject *send_call_name, *poller_name, *drain_name, *sender_name, *source_name, *sending_name,
    *reactor_name, *seconds_name, *pacer_name, *now_name, *datagrams_name, *rtp_port_name, *sendto_name,
    *write_name, *send_failed_name, *sender_stats_name, *on_packet_sent_name, *rtp_sent_at_name,
    *watch_dtmf_name, *next_due_name, *ptime_name, *call_at_name, *rtcp_keyword;

static int
SendTick_init(SendTick *self, PyObject *args, PyObject *kwargs)
{
    PyObject *session;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "SendTick takes the session only");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O:SendTick", &session))
        return -1;
    if (session == Py_None) {
        PyErr_SetString(PyExc_TypeError, "SendTick needs a session");
        return -1;
    }
    if (session_view_set(&self->view, session, latch_name) < 0)
        return -1;
    return 0;
}

static int
SendTick_traverse(SendTick *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return session_view_traverse(&self->view, visit, arg);
}

static int
SendTick_clear(SendTick *self)
{
    session_view_clear(&self->view);
    return 0;
}

static void
SendTick_dealloc(SendTick *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    SendTick_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* Send one datagram as _send_tick does: 1 sent, 0 not (counted and logged), -1 error. */
static int
send_one(PyObject *session, PyObject *poller, PyObject *srtp, PyObject *port, PyObject *data,
         PyObject *destination)
{
    if (poller != Py_None && srtp == Py_None) {  /* _write's usual case, every ptime */
        PyObject *args[3] = {poller, data, destination};
        PyObject *sent = PyObject_VectorcallMethod(sendto_name, args, 3, NULL);
        if (sent != NULL) {
            Py_DECREF(sent);
            return 1;
        }
        if (!PyErr_ExceptionMatches(PyExc_OSError))
            return -1;
        PyObject *error = take_exception();
        PyObject *failed_args[3] = {session, destination, error};
        PyObject *noted = PyObject_VectorcallMethod(send_failed_name, failed_args, 3, NULL);
        Py_DECREF(error);
        if (noted == NULL)
            return -1;
        Py_DECREF(noted);
        return 0;
    }
    PyObject *args[5] = {session, port, data, destination, Py_False};
    PyObject *written = PyObject_VectorcallMethod(write_name, args, 4, rtcp_keyword);
    if (written == NULL)
        return -1;
    int ok = PyObject_IsTrue(written);
    Py_DECREF(written);
    return ok;
}

/* SendTick(session)(pace_now=None): session._send_tick(pace_now), step for step. */
static PyObject *
SendTick_call(SendTick *self, PyObject *args, PyObject *kwargs)
{
    PyObject *pace_now = Py_None;
    static char *keywords[] = {"pace_now", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:SendTick", keywords, &pace_now))
        return NULL;
    PyObject *session = self->view.session, *dict = self->view.dict;
    if (PyDict_SetItem(dict, send_call_name, Py_None) < 0)
        return NULL;
    PyObject *result = NULL;
    PyObject *poller = NULL, *sender = NULL, *source = NULL, *reactor = NULL, *now = NULL, *pace = NULL;
    PyObject *datagrams = NULL, *port = NULL, *destination = NULL, *srtp = NULL, *stats = NULL;
    PyObject *iterator = NULL, *item = NULL;
    if ((poller = dict_get(session, dict, poller_name)) == NULL)
        goto done;
    if (poller != Py_None) {  /* what arrived since the last tick (ticker.py says why) */
        PyObject *drained = PyObject_CallMethodNoArgs(poller, drain_name);
        if (drained == NULL)
            goto done;
        Py_DECREF(drained);
    }
    if ((sender = dict_get(session, dict, sender_name)) == NULL
            || (source = dict_get(session, dict, source_name)) == NULL)
        goto done;
    int sending = attribute_is_true(session, dict, sending_name);
    if (sending < 0)
        goto done;
    if (sender == Py_None || source == Py_None || !sending) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if ((reactor = dict_get(session, dict, reactor_name)) == NULL
            || (now = PyObject_CallMethodNoArgs(reactor, seconds_name)) == NULL)  /* wall clock: SR NTP timestamps */
        goto done;
    if (pace_now != Py_None)
        pace = Py_NewRef(pace_now);
    else {
        PyObject *pacer = dict_get(session, dict, pacer_name);
        if (pacer == NULL)
            goto done;
        pace = PyObject_CallMethodNoArgs(pacer, now_name);
        Py_DECREF(pacer);
        if (pace == NULL)
            goto done;
    }
    PyObject *datagrams_args[3] = {sender, pace, source};
    datagrams = PyObject_VectorcallMethod(datagrams_name, datagrams_args, 3, NULL);
    if (datagrams == NULL) {  /* as LoopingCall did: an error stops the loop */
        PyObject *error = take_exception();
        if (PyDict_SetItem(dict, sending_name, Py_False) < 0)
            PyErr_WriteUnraisable(session);
        restore_exception(error);
        goto done;
    }
    Py_CLEAR(poller);
    if ((port = dict_get(session, dict, rtp_port_name)) == NULL
            || (destination = dict_get(self->view.latch, self->view.latch_dict, destination_name)) == NULL
            || (poller = dict_get(session, dict, poller_name)) == NULL
            || (iterator = PyObject_GetIter(datagrams)) == NULL)
        goto done;
    while ((item = PyIter_Next(iterator)) != NULL) {
        PyObject *data, *timestamp, *size;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "datagrams() gives (data, timestamp, size) tuples");
            goto done;
        }
        data = PyTuple_GET_ITEM(item, 0);
        timestamp = PyTuple_GET_ITEM(item, 1);
        size = PyTuple_GET_ITEM(item, 2);
        if (port == Py_None || destination == Py_None) {
            Py_CLEAR(item);
            continue;
        }
        Py_XSETREF(srtp, dict_get(session, dict, srtp_name));
        if (srtp == NULL)
            goto done;
        int sent = send_one(session, poller, srtp, port, data, destination);
        if (sent < 0)
            goto done;
        if (sent) {
            if (stats == NULL && (stats = dict_get(session, dict, sender_stats_name)) == NULL)
                goto done;
            PyObject *stats_args[4] = {stats, timestamp, size, now};
            PyObject *counted = PyObject_VectorcallMethod(on_packet_sent_name, stats_args, 4, NULL);
            if (counted == NULL)
                goto done;
            Py_DECREF(counted);
            if (PyDict_SetItem(dict, rtp_sent_at_name, now) < 0)
                goto done;
        }
        Py_CLEAR(item);
    }
    if (PyErr_Occurred())
        goto done;
    int watching = attribute_is_none(session, dict, dtmf_watch_name);
    if (watching < 0)
        goto done;
    if (!watching) {
        PyObject *watch_args[2] = {session, now};
        PyObject *watched = PyObject_VectorcallMethod(watch_dtmf_name, watch_args, 2, NULL);
        if (watched == NULL)
            goto done;
        Py_DECREF(watched);
    }
    /* (the source or a callback may have stopped or restarted sending) */
    if ((sending = attribute_is_true(session, dict, sending_name)) < 0)
        goto done;
    if (sending) {
        PyObject *current = dict_get(session, dict, sender_name);
        if (current == NULL)
            goto done;
        Py_DECREF(current);
        int idle = attribute_is_none(session, dict, send_call_name);
        if (idle < 0)
            goto done;
        if (current == sender && idle) {
            PyObject *pacer = dict_get(session, dict, pacer_name), *due = NULL, *ptime = NULL, *call = NULL;
            if (pacer != NULL && (due = PyObject_GetAttr(sender, next_due_name)) != NULL
                    && (ptime = PyObject_GetAttr(sender, ptime_name)) != NULL) {
                PyObject *call_args[4] = {pacer, due, (PyObject *)self, ptime};
                call = PyObject_VectorcallMethod(call_at_name, call_args, 4, NULL);
            }
            Py_XDECREF(pacer);
            Py_XDECREF(due);
            Py_XDECREF(ptime);
            if (call == NULL)
                goto done;
            int stored = PyDict_SetItem(dict, send_call_name, call);
            Py_DECREF(call);
            if (stored < 0)
                goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(poller);
    Py_XDECREF(sender);
    Py_XDECREF(source);
    Py_XDECREF(reactor);
    Py_XDECREF(now);
    Py_XDECREF(pace);
    Py_XDECREF(datagrams);
    Py_XDECREF(port);
    Py_XDECREF(destination);
    Py_XDECREF(srtp);
    Py_XDECREF(stats);
    Py_XDECREF(iterator);
    Py_XDECREF(item);
    return result;
}

static PyType_Slot SendTick_slots[] = {
    {Py_tp_doc, "SendTick(session): calling it is session._send_tick(pace_now) (session.py is the reference)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, SendTick_init},
    {Py_tp_call, SendTick_call},
    {Py_tp_dealloc, SendTick_dealloc},
    {Py_tp_traverse, SendTick_traverse},
    {Py_tp_clear, SendTick_clear},
    {0, NULL},
};

static PyType_Spec SendTick_spec = {
    .name = "tui_phone.rtp._ctick.SendTick",
    .basicsize = sizeof(SendTick),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = SendTick_slots,
};

/* -- run_media -------------------------------------------------------------- */

#define MAX_EVENTS 64

static PyObject *
first_timer(PyObject *scheduled)
{
    if (PyList_Check(scheduled) && PyList_GET_SIZE(scheduled) > 0)
        return Py_NewRef(PyList_GET_ITEM(scheduled, 0));
    return Py_NewRef(Py_None);
}

/* One wake-up's ticks, the turn held; 0, or -1 with an exception set. */
static int
run_ticks(struct epoll_event *events, int count, int wake, PyObject *readers, PyObject *on_error)
{
    for (int k = 0; k < count; k++) {
        int fd = events[k].data.fd;
        if (fd == wake) {
            eventfd_t value;
            (void)eventfd_read(wake, &value);
            continue;
        }
        PyObject *key = PyLong_FromLong(fd);
        if (key == NULL)
            return -1;
        PyObject *callback = PyDict_GetItemWithError(readers, key);
        Py_DECREF(key);
        if (callback == NULL) {
            if (PyErr_Occurred())
                return -1;
            continue;  /* removed meanwhile */
        }
        Py_INCREF(callback);
        PyObject *outcome = PyObject_CallNoArgs(callback);
        Py_DECREF(callback);
        if (outcome != NULL) {
            Py_DECREF(outcome);
            continue;
        }
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return -1;  /* (as the Python loop: only an Exception is logged and survived) */
        PyObject *error = take_exception();
        PyObject *logged = PyObject_CallOneArg(on_error, error);
        Py_DECREF(error);
        if (logged == NULL)
            return -1;
        Py_DECREF(logged);
    }
    return 0;
}

/* run_media(epoll_fd, wake_fd, readers, turn, ready, scheduled, write_to_self, on_error):
 * see mediathread.MediaThread._run_in_python.  Returns when the last reader
 * is gone, with the turn held (the caller cleans up, then releases it). */
static PyObject *
run_media(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "run_media takes 8 arguments");
        return NULL;
    }
    long epoll_fd = PyLong_AsLong(args[0]), wake = PyLong_AsLong(args[1]);
    if ((epoll_fd == -1 || wake == -1) && PyErr_Occurred())
        return NULL;
    PyObject *readers = args[2], *turn = args[3], *ready = args[4], *scheduled = args[5];
    PyObject *write_to_self = args[6], *on_error = args[7];
    if (!PyDict_Check(readers)) {
        PyErr_SetString(PyExc_TypeError, "readers must be a dict");
        return NULL;
    }
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int count;
        Py_BEGIN_ALLOW_THREADS
        count = epoll_wait((int)epoll_fd, events, MAX_EVENTS, -1);
        Py_END_ALLOW_THREADS
        if (count < 0) {
            if (errno == EINTR)
                continue;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        PyObject *held = PyObject_CallMethodNoArgs(turn, acquire_name);
        if (held == NULL)
            return NULL;
        Py_DECREF(held);
        Py_ssize_t queued = PyObject_Length(ready);
        PyObject *head = first_timer(scheduled);
        int failed = queued < 0 || run_ticks(events, count, (int)wake, readers, on_error) < 0;
        if (!failed) {
            Py_ssize_t now_queued = PyObject_Length(ready);
            PyObject *now_head = first_timer(scheduled);
            failed = now_queued < 0;
            if (!failed && (now_queued != queued || now_head != head)) {
                /* The loop chose its epoll timeout without this work: wake it. */
                PyObject *woken = PyObject_CallNoArgs(write_to_self);
                failed = woken == NULL;
                Py_XDECREF(woken);
            }
            Py_DECREF(now_head);
        }
        Py_DECREF(head);
        if (failed) {
            PyObject *error = take_exception();
            PyObject *released = PyObject_CallMethodNoArgs(turn, release_name);
            Py_XDECREF(released);
            if (released == NULL)
                PyErr_WriteUnraisable(turn);
            restore_exception(error);
            return NULL;
        }
        if (PyDict_GET_SIZE(readers) == 0)
            Py_RETURN_NONE;  /* the turn stays held: the caller closes and releases */
        PyObject *released = PyObject_CallMethodNoArgs(turn, release_name);
        if (released == NULL)
            return NULL;
        Py_DECREF(released);
    }
}

static PyMethodDef module_functions[] = {
    {"run_media", (PyCFunction)(void (*)(void))run_media, METH_FASTCALL,
     "run_media(epoll_fd, wake_fd, readers, turn, ready, scheduled, write_to_self, on_error)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._ctick",
    .m_doc = "C speed-ups of the RTP tick (ticker.py, session.py and mediathread.py hold the reference code).",
    .m_size = -1,
    .m_methods = module_functions,
};

PyMODINIT_FUNC
PyInit__ctick(void)
{
    arm_name = PyUnicode_InternFromString("_arm");
    call_at_general_name = PyUnicode_InternFromString("_call_at_general");
    zero = PyFloat_FromDouble(0.0);
    rtcp_keyword = Py_BuildValue("(s)", "rtcp");
    if (arm_name == NULL || call_at_general_name == NULL || zero == NULL || rtcp_keyword == NULL)
        return NULL;
    const char *names[] = {"acquire", "release", "srtp", "_dtmf_watch", "_latch", "destination",
                           "_send_call", "_poller", "drain", "_sender", "_source", "_sending", "_reactor",
                           "seconds", "_pacer", "now", "datagrams", "_rtp_port", "sendto", "_write",
                           "_send_failed", "_sender_stats", "on_packet_sent", "_rtp_sent_at", "_watch_dtmf",
                           "next_due", "ptime", "call_at"};
    PyObject **slots[] = {&acquire_name, &release_name, &srtp_name, &dtmf_watch_name, &latch_name,
                          &destination_name, &send_call_name, &poller_name, &drain_name, &sender_name,
                          &source_name, &sending_name, &reactor_name, &seconds_name, &pacer_name, &now_name,
                          &datagrams_name, &rtp_port_name, &sendto_name, &write_name, &send_failed_name,
                          &sender_stats_name, &on_packet_sent_name, &rtp_sent_at_name, &watch_dtmf_name,
                          &next_due_name, &ptime_name, &call_at_name};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if ((*slots[k] = PyUnicode_InternFromString(names[k])) == NULL)
            return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *pacer = PyType_FromSpec(&PacerCore_spec);
    if (pacer == NULL || PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
            || PyModule_AddObject(m, "PacerCore", pacer) < 0) {
        Py_XDECREF(pacer);
        Py_DECREF(m);
        return NULL;
    }
    PyObject *tick = PyType_FromSpec(&SendTick_spec);
    if (tick == NULL || PyModule_AddObject(m, "SendTick", tick) < 0) {
        Py_XDECREF(tick);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
