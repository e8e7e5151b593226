/* The C speed-up of tui_phone.rtp.ticker.DatagramPoller.drain: the RTP
 * socket read on the ptime tick, with the kernel's arrival time of each
 * datagram (SO_TIMESTAMPNS).
 *
 * ticker.py holds the reference (the Python loop over socket.recvmsg) and
 * says why the socket is read on the tick.  This does the same reads and
 * hands each datagram to the same handler, handler(data, (host, port),
 * arrival), without the Python loop, the ancillary-data tuples and a new
 * address tuple per datagram (the last source's tuple is reused while the
 * source stays the same, which it does for a whole call).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <math.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <structmember.h>

#ifndef SOURCE_DIGEST
#error "setup.py defines SOURCE_DIGEST"
#endif

/* The exception raised, taken out of the error indicator (3.12's API, 3.11's before it). */
static PyObject *
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

static void
restore_exception(PyObject *error)
{
#if PY_VERSION_HEX >= 0x030C0000
    restore_exception(error);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(error)), error, PyException_GetTraceback(error));
#endif
}

static PyObject *acquire_name, *release_name;

/* The largest datagram a Drainer reads (RtpSession.MAX_DATAGRAM is 2048). */
#define MAX_BUFFER 65536

typedef struct {
    PyObject_HEAD
    int fd;
    Py_ssize_t size;            /* bytes read per datagram; longer ones are truncated, as recvmsg(size) does */
    int limit;                  /* datagrams read per drain at most */
    PyObject *handler;          /* handler(data, (host, port), arrival) */
    struct sockaddr_storage last_address;
    socklen_t last_length;
    PyObject *last_source;      /* (host, port) for last_address, or NULL */
    PyObject *session;          /* the RtpSession whose usual packets receive_fast takes, or NULL */
    char *buffer;
} Drainer;

static PyObject *polling_name;  /* interned "polling" */

static int
Drainer_init(Drainer *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fd", "handler", "size", "limit", NULL};
    int fd, limit;
    Py_ssize_t size;
    PyObject *handler;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iOni", keywords, &fd, &handler, &size, &limit))
        return -1;
    if (fd < 0 || size <= 0 || size > MAX_BUFFER || limit <= 0) {
        PyErr_SetString(PyExc_ValueError, "Drainer needs a descriptor, 0 < size <= 65536 and limit > 0");
        return -1;
    }
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return -1;
    }
    char *buffer = PyMem_Realloc(self->buffer, (size_t)size);
    if (buffer == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->buffer = buffer;
    self->fd = fd;
    self->size = size;
    self->limit = limit;
    Py_INCREF(handler);
    Py_XSETREF(self->handler, handler);
    Py_CLEAR(self->last_source);
    self->last_length = 0;
    return 0;
}

static int
Drainer_traverse(Drainer *self, visitproc visit, void *arg)
{
    Py_VISIT(self->handler);
    Py_VISIT(self->last_source);
    Py_VISIT(self->session);
    return 0;
}

static int
Drainer_clear(Drainer *self)
{
    Py_CLEAR(self->handler);
    Py_CLEAR(self->last_source);
    Py_CLEAR(self->session);
    return 0;
}

static void
Drainer_dealloc(Drainer *self)
{
    PyObject_GC_UnTrack(self);
    Drainer_clear(self);
    PyMem_Free(self->buffer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* (host, port) as socket.recvmsg gives its first two items (getnameinfo with
 * NI_NUMERICHOST, so an IPv6 link-local address keeps its %scope). */
static PyObject *
source_of(const struct sockaddr_storage *address, socklen_t length)
{
    char host[NI_MAXHOST];
    int port;
    if (address->ss_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)address)->sin_port);
    else if (address->ss_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)address)->sin6_port);
    else {
        PyErr_Format(PyExc_OSError, "datagram from address family %d", address->ss_family);
        return NULL;
    }
    int error = getnameinfo((const struct sockaddr *)address, length, host, sizeof host, NULL, 0, NI_NUMERICHOST);
    if (error != 0) {
        PyErr_Format(PyExc_OSError, "getnameinfo: %s", gai_strerror(error));
        return NULL;
    }
    return Py_BuildValue("(si)", host, port);
}

/* The source tuple for this datagram's address: the last one if unchanged. */
static PyObject *
Drainer_source(Drainer *self, const struct sockaddr_storage *address, socklen_t length)
{
    if (self->last_source != NULL && length == self->last_length
            && memcmp(address, &self->last_address, (size_t)length) == 0)
        return Py_NewRef(self->last_source);
    PyObject *source = source_of(address, length);
    if (source == NULL)
        return NULL;
    memcpy(&self->last_address, address, (size_t)length);
    self->last_length = length;
    Py_XSETREF(self->last_source, Py_NewRef(source));
    return source;
}

/* -- the usual RTP packet ---------------------------------------------------- */

#define RTP_HEADER_SIZE 12
#define RTP_PLAIN_FIRST_OCTET 0x80  /* V=2, no padding, extension or CSRC */

static PyObject *rtcp_mux_name, *srtp_name, *telephone_event_pt_name, *frame_callbacks_name, *dtmf_watch_name,
    *latch_name, *receiver_name, *rtp_heard_name, *jitter_buffer_name, *payload_types_name, *remote_ssrc_name,
    *trusted_name, *destination_name, *on_packet_name, *put_name, *on_packet_keywords;

/* An attribute that must be None (1), is something else (0), or failed (-1). */
static int
attribute_is_none(PyObject *object, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(object, name);
    if (value == NULL)
        return -1;
    int none = value == Py_None;
    Py_DECREF(value);
    return none;
}

static int
attribute_is_true(PyObject *object, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(object, name);
    if (value == NULL)
        return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

/* source == latch._trusted == latch.destination, as the latch's steady case compares. */
static int
steady_source(PyObject *latch, PyObject *source)
{
    PyObject *names[2] = {trusted_name, destination_name};
    for (int k = 0; k < 2; k++) {
        PyObject *value = PyObject_GetAttr(latch, names[k]);
        if (value == NULL)
            return -1;
        int same = value == source ? 1 : PyObject_RichCompareBool(source, value, Py_EQ);
        Py_DECREF(value);
        if (same != 1)
            return same;
    }
    return 1;
}

/* What RtpSession._on_rtp_datagram does with the usual packet, step for step:
 * a plain RTP packet (no padding, extension or CSRC) of a session without
 * rtcp-mux, SRTP, frame callbacks or a DTMF timeout to watch, not a
 * telephone event, that its latch takes in its steady case (the negotiated
 * payload type, the known SSRC, from where we send to).  Returns 1 when it
 * took the packet, 0 when the session's handler must (nothing was changed),
 * -1 on an error.  Every check comes before any change. */
static int
receive_fast(PyObject *session, PyObject *data, PyObject *source, PyObject *when)
{
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    const unsigned char *octets = (const unsigned char *)PyBytes_AS_STRING(data);
    if (size < RTP_HEADER_SIZE || octets[0] != RTP_PLAIN_FIRST_OCTET)
        return 0;
    int plain;
    if ((plain = attribute_is_true(session, rtcp_mux_name)) != 0)
        return plain < 0 ? -1 : 0;
    PyObject *none_needed[3] = {srtp_name, dtmf_watch_name, NULL};
    for (int k = 0; none_needed[k] != NULL; k++)
        if ((plain = attribute_is_none(session, none_needed[k])) != 1)
            return plain;
    if ((plain = attribute_is_true(session, frame_callbacks_name)) != 0)
        return plain < 0 ? -1 : 0;
    int payload_type = octets[1] & 0x7F, marker = octets[1] >= 0x80;
    unsigned int sequence = (unsigned int)octets[2] << 8 | octets[3];
    unsigned long timestamp = (unsigned long)octets[4] << 24 | (unsigned long)octets[5] << 16
        | (unsigned long)octets[6] << 8 | octets[7];
    unsigned long ssrc_value = (unsigned long)octets[8] << 24 | (unsigned long)octets[9] << 16
        | (unsigned long)octets[10] << 8 | octets[11];

    PyObject *event = PyObject_GetAttr(session, telephone_event_pt_name);
    if (event == NULL)
        return -1;
    int is_event = event != Py_None && PyLong_Check(event) && PyLong_AsLong(event) == payload_type;
    Py_DECREF(event);
    if (is_event)
        return 0;

    int result = -1;
    PyObject *latch = NULL, *types = NULL, *type_number = NULL, *ssrc = NULL, *remote = NULL;
    PyObject *receiver = NULL, *valid = NULL, *heard = NULL, *buffer = NULL, *payload = NULL;
    PyObject *sequence_number = NULL, *stamp = NULL;
    if ((latch = PyObject_GetAttr(session, latch_name)) == NULL
            || (types = PyObject_GetAttr(latch, payload_types_name)) == NULL
            || (type_number = PyLong_FromLong(payload_type)) == NULL
            || (ssrc = PyLong_FromUnsignedLong(ssrc_value)) == NULL
            || (remote = PyObject_GetAttr(latch, remote_ssrc_name)) == NULL)
        goto done;
    if (types != Py_None) {
        int known = PySequence_Contains(types, type_number);
        if (known != 1) {
            result = known;
            goto done;
        }
    }
    int same = PyObject_RichCompareBool(ssrc, remote, Py_EQ);
    if (same != 1) {
        result = same;
        goto done;
    }
    if ((same = steady_source(latch, source)) != 1) {
        result = same;
        goto done;
    }
    /* Taken: the statistics (RFC 3550 A.1 may still refuse it), the RTCP
     * scheduler's table of sources heard, the jitter buffer. */
    if ((sequence_number = PyLong_FromUnsignedLong(sequence)) == NULL
            || (stamp = PyLong_FromUnsignedLong(timestamp)) == NULL
            || (receiver = PyObject_GetAttr(session, receiver_name)) == NULL)
        goto done;
    PyObject *payload_size = PyLong_FromSsize_t(size - RTP_HEADER_SIZE);
    if (payload_size == NULL)
        goto done;
    PyObject *on_packet_args[7] = {receiver, sequence_number, stamp, when, type_number, payload_size, ssrc};
    valid = PyObject_VectorcallMethod(on_packet_name, on_packet_args, 4, on_packet_keywords);
    Py_DECREF(payload_size);
    if (valid == NULL || (heard = PyObject_GetAttr(session, rtp_heard_name)) == NULL
            || PyObject_SetItem(heard, ssrc, when) < 0)
        goto done;
    int accepted = PyObject_IsTrue(valid);
    if (accepted < 0)
        goto done;
    if (accepted) {
        if ((buffer = PyObject_GetAttr(session, jitter_buffer_name)) == NULL)
            goto done;
        if (buffer != Py_None) {
            payload = PyBytes_FromStringAndSize((const char *)octets + RTP_HEADER_SIZE, size - RTP_HEADER_SIZE);
            if (payload == NULL)
                goto done;
            PyObject *put_args[7] = {buffer, sequence_number, stamp, payload, when, marker ? Py_True : Py_False, ssrc};
            PyObject *outcome = PyObject_VectorcallMethod(put_name, put_args, 7, NULL);
            if (outcome == NULL)
                goto done;
            Py_DECREF(outcome);
        }
    }
    result = 1;
done:
    Py_XDECREF(latch);
    Py_XDECREF(types);
    Py_XDECREF(type_number);
    Py_XDECREF(ssrc);
    Py_XDECREF(remote);
    Py_XDECREF(receiver);
    Py_XDECREF(valid);
    Py_XDECREF(heard);
    Py_XDECREF(buffer);
    Py_XDECREF(payload);
    Py_XDECREF(sequence_number);
    Py_XDECREF(stamp);
    return result;
}

/* One datagram: the session's usual packet in C, anything else to the handler. */
static int
Drainer_deliver(Drainer *self, PyObject *data, PyObject *source, PyObject *when)
{
    if (self->session != NULL) {
        int taken = receive_fast(self->session, data, source, when);
        if (taken != 0)
            return taken < 0 ? -1 : 0;
    }
    PyObject *arguments[3] = {data, source, when};
    PyObject *outcome = PyObject_Vectorcall(self->handler, arguments, 3, NULL);
    if (outcome == NULL)
        return -1;
    Py_DECREF(outcome);
    return 0;
}

/* set_session(session or None): take the usual packets of this RtpSession in C. */
static PyObject *
Drainer_set_session(Drainer *self, PyObject *session)
{
    Py_XSETREF(self->session, session == Py_None ? NULL : Py_NewRef(session));
    Py_RETURN_NONE;
}

/* deliver(data, source, arrival): one datagram as drain() hands it over (for tests). */
static PyObject *
Drainer_deliver_method(Drainer *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "deliver(data: bytes, source, arrival)");
        return NULL;
    }
    if (Drainer_deliver(self, args[0], args[1], args[2]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* drain(poller): read what waits on the socket (up to the limit) and hand
 * each datagram to the handler while poller.polling stays true.
 *
 * Returns the number handed over; or (count, data, source) when a datagram
 * came without its kernel timestamp (not handed over: the caller decides);
 * or (count, None, errno) when the read failed with anything but EAGAIN or
 * EINTR (an ICMP error queued on the socket, a closed socket). */
static PyObject *
Drainer_drain(Drainer *self, PyObject *poller)
{
    union {
        char space[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct sockaddr_storage address;
    struct iovec vector = {self->buffer, (size_t)self->size};
    int count = 0;
    while (count < self->limit) {
        struct msghdr message = {
            .msg_name = &address, .msg_namelen = sizeof address,
            .msg_iov = &vector, .msg_iovlen = 1,
            .msg_control = control.space, .msg_controllen = sizeof control.space,
        };
        ssize_t length = recvmsg(self->fd, &message, 0);
        if (length < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return Py_BuildValue("(iOi)", count, Py_None, errno);
        }
        double arrival = -1.0;
        for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL;
                header = CMSG_NXTHDR(&message, header)) {
            if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS
                    && header->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec stamp;
                memcpy(&stamp, CMSG_DATA(header), sizeof stamp);
                arrival = (double)stamp.tv_sec + (double)stamp.tv_nsec * 1e-9;
            }
        }
        PyObject *data = PyBytes_FromStringAndSize(self->buffer, length);
        if (data == NULL)
            return NULL;
        PyObject *source = Drainer_source(self, &address, message.msg_namelen);
        if (source == NULL) {
            Py_DECREF(data);
            return NULL;
        }
        if (arrival < 0.0) {
            PyObject *result = Py_BuildValue("(iNN)", count, data, source);
            return result;
        }
        PyObject *when = PyFloat_FromDouble(arrival);
        if (when == NULL) {
            Py_DECREF(data);
            Py_DECREF(source);
            return NULL;
        }
        int delivered = Drainer_deliver(self, data, source, when);
        Py_DECREF(data);
        Py_DECREF(source);
        Py_DECREF(when);
        if (delivered < 0)
            return NULL;
        count++;
        PyObject *polling = PyObject_GetAttr(poller, polling_name);
        if (polling == NULL)
            return NULL;
        int still = PyObject_IsTrue(polling);
        Py_DECREF(polling);
        if (still < 0)
            return NULL;
        if (!still)
            break;  /* the handler stopped the stream: the reactor reads from now on */
    }
    return PyLong_FromLong(count);
}

static PyMethodDef Drainer_methods[] = {
    {"drain", (PyCFunction)Drainer_drain, METH_O,
     "drain(poller) -> count | (count, data, source) | (count, None, errno)"},
    {"set_session", (PyCFunction)Drainer_set_session, METH_O,
     "set_session(session or None): take the session's usual RTP packets in C"},
    {"deliver", (PyCFunction)(void (*)(void))Drainer_deliver_method, METH_FASTCALL,
     "deliver(data, source, arrival): one datagram as drain() hands it over"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DrainerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tui_phone.rtp._ctick.Drainer",
    .tp_doc = "Drainer(fd, handler, size, limit): reads an RTP socket with kernel arrival times.",
    .tp_basicsize = sizeof(Drainer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Drainer_init,
    .tp_dealloc = (destructor)Drainer_dealloc,
    .tp_traverse = (traverseproc)Drainer_traverse,
    .tp_clear = (inquiry)Drainer_clear,
    .tp_methods = Drainer_methods,
};

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
    PyObject *session;
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
    Py_XSETREF(self->session, Py_NewRef(session));
    return 0;
}

static int
SendTick_traverse(SendTick *self, visitproc visit, void *arg)
{
    Py_VISIT(self->session);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
SendTick_clear(SendTick *self)
{
    Py_CLEAR(self->session);
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

static PyObject *
call_method0(PyObject *object, PyObject *name)
{
    return PyObject_CallMethodNoArgs(object, name);
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
    PyObject *session = self->session;
    if (PyObject_SetAttr(session, send_call_name, Py_None) < 0)
        return NULL;
    PyObject *result = NULL;
    PyObject *poller = NULL, *sender = NULL, *source = NULL, *reactor = NULL, *now = NULL, *pace = NULL;
    PyObject *datagrams = NULL, *port = NULL, *latch = NULL, *destination = NULL, *srtp = NULL, *stats = NULL;
    PyObject *iterator = NULL, *item = NULL;
    if ((poller = PyObject_GetAttr(session, poller_name)) == NULL)
        goto done;
    if (poller != Py_None) {  /* what arrived since the last tick (ticker.py says why) */
        PyObject *drained = call_method0(poller, drain_name);
        if (drained == NULL)
            goto done;
        Py_DECREF(drained);
    }
    if ((sender = PyObject_GetAttr(session, sender_name)) == NULL
            || (source = PyObject_GetAttr(session, source_name)) == NULL)
        goto done;
    int sending = attribute_is_true(session, sending_name);
    if (sending < 0)
        goto done;
    if (sender == Py_None || source == Py_None || !sending) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if ((reactor = PyObject_GetAttr(session, reactor_name)) == NULL
            || (now = call_method0(reactor, seconds_name)) == NULL)  /* wall clock: SR NTP timestamps */
        goto done;
    if (pace_now != Py_None)
        pace = Py_NewRef(pace_now);
    else {
        PyObject *pacer = PyObject_GetAttr(session, pacer_name);
        if (pacer == NULL)
            goto done;
        pace = call_method0(pacer, now_name);
        Py_DECREF(pacer);
        if (pace == NULL)
            goto done;
    }
    PyObject *datagrams_args[3] = {sender, pace, source};
    datagrams = PyObject_VectorcallMethod(datagrams_name, datagrams_args, 3, NULL);
    if (datagrams == NULL) {  /* as LoopingCall did: an error stops the loop */
        PyObject *error = take_exception();
        if (PyObject_SetAttr(session, sending_name, Py_False) < 0)
            PyErr_WriteUnraisable(session);
        restore_exception(error);
        goto done;
    }
    Py_CLEAR(poller);
    if ((port = PyObject_GetAttr(session, rtp_port_name)) == NULL
            || (latch = PyObject_GetAttr(session, latch_name)) == NULL
            || (destination = PyObject_GetAttr(latch, destination_name)) == NULL
            || (poller = PyObject_GetAttr(session, poller_name)) == NULL
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
        Py_XSETREF(srtp, PyObject_GetAttr(session, srtp_name));
        if (srtp == NULL)
            goto done;
        int sent = send_one(session, poller, srtp, port, data, destination);
        if (sent < 0)
            goto done;
        if (sent) {
            if (stats == NULL && (stats = PyObject_GetAttr(session, sender_stats_name)) == NULL)
                goto done;
            PyObject *stats_args[4] = {stats, timestamp, size, now};
            PyObject *counted = PyObject_VectorcallMethod(on_packet_sent_name, stats_args, 4, NULL);
            if (counted == NULL)
                goto done;
            Py_DECREF(counted);
            if (PyObject_SetAttr(session, rtp_sent_at_name, now) < 0)
                goto done;
        }
        Py_CLEAR(item);
    }
    if (PyErr_Occurred())
        goto done;
    int watching = attribute_is_none(session, dtmf_watch_name);
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
    if ((sending = attribute_is_true(session, sending_name)) < 0)
        goto done;
    if (sending) {
        PyObject *current = PyObject_GetAttr(session, sender_name);
        if (current == NULL)
            goto done;
        Py_DECREF(current);
        int idle = attribute_is_none(session, send_call_name);
        if (idle < 0)
            goto done;
        if (current == sender && idle) {
            PyObject *pacer = PyObject_GetAttr(session, pacer_name), *due = NULL, *ptime = NULL, *call = NULL;
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
            int stored = PyObject_SetAttr(session, send_call_name, call);
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
    Py_XDECREF(latch);
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
    .m_doc = "C speed-ups of the RTP tick (ticker.py holds the reference code).",
    .m_size = -1,
    .m_methods = module_functions,
};

PyMODINIT_FUNC
PyInit__ctick(void)
{
    polling_name = PyUnicode_InternFromString("polling");
    arm_name = PyUnicode_InternFromString("_arm");
    call_at_general_name = PyUnicode_InternFromString("_call_at_general");
    acquire_name = PyUnicode_InternFromString("acquire");
    release_name = PyUnicode_InternFromString("release");
    zero = PyFloat_FromDouble(0.0);
    const char *names[] = {"rtcp_mux", "srtp", "_telephone_event_pt", "_frame_callbacks", "_dtmf_watch", "_latch",
                           "_receiver", "_rtp_heard", "jitter_buffer", "payload_types", "remote_ssrc", "_trusted",
                           "destination", "on_packet", "put"};
    PyObject **slots[] = {&rtcp_mux_name, &srtp_name, &telephone_event_pt_name, &frame_callbacks_name,
                          &dtmf_watch_name, &latch_name, &receiver_name, &rtp_heard_name, &jitter_buffer_name,
                          &payload_types_name, &remote_ssrc_name, &trusted_name, &destination_name, &on_packet_name,
                          &put_name};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if ((*slots[k] = PyUnicode_InternFromString(names[k])) == NULL)
            return NULL;
    on_packet_keywords = Py_BuildValue("(sss)", "payload_type", "payload_size", "ssrc");
    rtcp_keyword = Py_BuildValue("(s)", "rtcp");
    if (on_packet_keywords == NULL || rtcp_keyword == NULL)
        return NULL;
    const char *tick_names[] = {"_send_call", "_poller", "drain", "_sender", "_source", "_sending", "_reactor",
                                "seconds", "_pacer", "now", "datagrams", "_rtp_port", "sendto", "_write",
                                "_send_failed", "_sender_stats", "on_packet_sent", "_rtp_sent_at", "_watch_dtmf",
                                "next_due", "ptime", "call_at"};
    PyObject **tick_slots[] = {&send_call_name, &poller_name, &drain_name, &sender_name, &source_name,
                               &sending_name, &reactor_name, &seconds_name, &pacer_name, &now_name, &datagrams_name,
                               &rtp_port_name, &sendto_name, &write_name, &send_failed_name, &sender_stats_name,
                               &on_packet_sent_name, &rtp_sent_at_name, &watch_dtmf_name, &next_due_name,
                               &ptime_name, &call_at_name};
    for (size_t k = 0; k < sizeof tick_names / sizeof tick_names[0]; k++)
        if ((*tick_slots[k] = PyUnicode_InternFromString(tick_names[k])) == NULL)
            return NULL;
    if (polling_name == NULL || arm_name == NULL || call_at_general_name == NULL || acquire_name == NULL
            || release_name == NULL || zero == NULL || PyType_Ready(&DrainerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *pacer = PyType_FromSpec(&PacerCore_spec);
    if (pacer == NULL || PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
            || PyModule_AddObjectRef(m, "Drainer", (PyObject *)&DrainerType) < 0
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
