/* The C speed-up of tui_phone.rtp.ticker.DatagramPoller.drain (Drainer): the
 * RTP socket read on the ptime tick, with the kernel's arrival time of each
 * datagram (SO_TIMESTAMPNS).  ticker.py holds the reference (the Python loop
 * over socket.recvmsg), which also runs where this is not built.
 *
 * The same reads, handing each datagram to the same handler(data, (host,
 * port), arrival), without the Python loop, the ancillary-data tuples and a
 * new address tuple per datagram (the last source's tuple is reused while
 * the source stays the same, which it does for a whole call).  With a
 * session (set_session), the usual RTP packet goes straight to the session's
 * statistics and jitter buffer (receive_fast below); any other datagram goes
 * to the handler, session._on_rtp_datagram, which is the reference.
 */
#include "_cshared.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef SOURCE_DIGEST
#error "setup.py defines SOURCE_DIGEST"
#endif

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
    SessionView view;           /* the RtpSession whose usual packets receive_fast takes (session NULL: none) */
    int family;                 /* the socket's address family */
    PyObject *destination;      /* the last (host, port) sent to, and its address */
    struct sockaddr_storage destination_address;
    socklen_t destination_length;
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
    socklen_t family_size = sizeof self->family;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &self->family, &family_size) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    Py_CLEAR(self->destination);
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
    Py_VISIT(self->destination);
    return session_view_traverse(&self->view, visit, arg);
}

static int
Drainer_clear(Drainer *self)
{
    Py_CLEAR(self->handler);
    Py_CLEAR(self->last_source);
    session_view_clear(&self->view);
    Py_CLEAR(self->destination);
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

/* source == latch._trusted == latch.destination, as the latch's steady case compares. */
static int
steady_source(PyObject *latch, PyObject *latch_dict, PyObject *source)
{
    PyObject *names[2] = {trusted_name, destination_name};
    for (int k = 0; k < 2; k++) {
        PyObject *value = dict_get(latch, latch_dict, names[k]);
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
receive_fast(Drainer *self, PyObject *data, PyObject *source, PyObject *when)
{
    PyObject *session = self->view.session, *dict = self->view.dict, *latch = self->view.latch;
    PyObject *latch_dict = self->view.latch_dict;
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    const unsigned char *octets = (const unsigned char *)PyBytes_AS_STRING(data);
    if (size < RTP_HEADER_SIZE || octets[0] != RTP_PLAIN_FIRST_OCTET)
        return 0;
    int plain;
    if ((plain = attribute_is_true(session, dict, rtcp_mux_name)) != 0)
        return plain < 0 ? -1 : 0;
    PyObject *none_needed[3] = {srtp_name, dtmf_watch_name, NULL};
    for (int k = 0; none_needed[k] != NULL; k++)
        if ((plain = attribute_is_none(session, dict, none_needed[k])) != 1)
            return plain;
    if ((plain = attribute_is_true(session, dict, frame_callbacks_name)) != 0)
        return plain < 0 ? -1 : 0;
    int payload_type = octets[1] & 0x7F, marker = octets[1] >= 0x80;
    unsigned int sequence = (unsigned int)octets[2] << 8 | octets[3];
    unsigned long timestamp = (unsigned long)octets[4] << 24 | (unsigned long)octets[5] << 16
        | (unsigned long)octets[6] << 8 | octets[7];
    unsigned long ssrc_value = (unsigned long)octets[8] << 24 | (unsigned long)octets[9] << 16
        | (unsigned long)octets[10] << 8 | octets[11];

    PyObject *event = dict_get(session, dict, telephone_event_pt_name);
    if (event == NULL)
        return -1;
    int is_event = event != Py_None && PyLong_Check(event) && PyLong_AsLong(event) == payload_type;
    Py_DECREF(event);
    if (is_event)
        return 0;

    int result = -1;
    PyObject *types = NULL, *type_number = NULL, *ssrc = NULL, *remote = NULL;
    PyObject *receiver = NULL, *valid = NULL, *heard = NULL, *buffer = NULL, *payload = NULL;
    PyObject *sequence_number = NULL, *stamp = NULL;
    if ((types = dict_get(latch, latch_dict, payload_types_name)) == NULL
            || (type_number = PyLong_FromLong(payload_type)) == NULL
            || (ssrc = PyLong_FromUnsignedLong(ssrc_value)) == NULL
            || (remote = dict_get(latch, latch_dict, remote_ssrc_name)) == NULL)
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
    if ((same = steady_source(latch, latch_dict, source)) != 1) {
        result = same;
        goto done;
    }
    /* Taken: the statistics (RFC 3550 A.1 may still refuse it), the RTCP
     * scheduler's table of sources heard, the jitter buffer. */
    if ((sequence_number = PyLong_FromUnsignedLong(sequence)) == NULL
            || (stamp = PyLong_FromUnsignedLong(timestamp)) == NULL
            || (receiver = dict_get(session, dict, receiver_name)) == NULL)
        goto done;
    PyObject *payload_size = PyLong_FromSsize_t(size - RTP_HEADER_SIZE);
    if (payload_size == NULL)
        goto done;
    PyObject *on_packet_args[7] = {receiver, sequence_number, stamp, when, type_number, payload_size, ssrc};
    valid = PyObject_VectorcallMethod(on_packet_name, on_packet_args, 4, on_packet_keywords);
    Py_DECREF(payload_size);
    if (valid == NULL || (heard = dict_get(session, dict, rtp_heard_name)) == NULL
            || PyObject_SetItem(heard, ssrc, when) < 0)
        goto done;
    int accepted = PyObject_IsTrue(valid);
    if (accepted < 0)
        goto done;
    if (accepted) {
        if ((buffer = dict_get(session, dict, jitter_buffer_name)) == NULL)
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
    if (self->view.session != NULL) {
        int taken = receive_fast(self, data, source, when);
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
    if (session_view_set(&self->view, session, latch_name) < 0)
        return NULL;
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

/* drain(poller): ticker.DatagramPoller.drain (the reference): read what
 * waits on the socket (up to the limit) and hand each datagram to the
 * handler while poller.polling stays true; returns the number handed over.
 * A datagram without its kernel timestamp, or a read failing with anything
 * but EAGAIN or EINTR (an ICMP error queued on the socket, a closed socket),
 * ends the drain with poller._drain_ended(count, data or None, source or
 * errno), which returns the count. */
static PyObject *
Drainer_drain(Drainer *self, PyObject *poller)
{
    PyObject *polling_now = PyObject_GetAttr(poller, polling_name);
    if (polling_now == NULL)
        return NULL;
    int polling = PyObject_IsTrue(polling_now);
    Py_DECREF(polling_now);
    if (polling <= 0)
        return polling < 0 ? NULL : PyLong_FromLong(0);
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
            return PyObject_CallMethod(poller, "_drain_ended", "iOi", count, Py_None, errno);
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
            PyObject *ended = PyObject_CallMethod(poller, "_drain_ended", "iOO", count, data, source);
            Py_DECREF(data);
            Py_DECREF(source);
            return ended;
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
        PyObject *polling_after = PyObject_GetAttr(poller, polling_name);
        if (polling_after == NULL)
            return NULL;
        int still = PyObject_IsTrue(polling_after);
        Py_DECREF(polling_after);
        if (still < 0)
            return NULL;
        if (!still)
            break;  /* the handler stopped the stream: the reactor reads from now on */
    }
    return PyLong_FromLong(count);
}

/* The address of (host, port), an IP literal of the socket's family, as
 * ticker._check_literal and socket.sendto take it; 0, or -1 with an error. */
static int
Drainer_address(Drainer *self, PyObject *destination)
{
    if (!PyTuple_Check(destination) || PyTuple_GET_SIZE(destination) < 2
            || !PyUnicode_Check(PyTuple_GET_ITEM(destination, 0))) {
        PyErr_SetString(PyExc_TypeError, "sendto() needs a (host, port) tuple");
        return -1;
    }
    PyObject *host = PyTuple_GET_ITEM(destination, 0);
    long port = PyLong_AsLong(PyTuple_GET_ITEM(destination, 1));
    if (port == -1 && PyErr_Occurred())
        return -1;
    if (port < 0 || port > 65535) {
        PyErr_SetString(PyExc_OverflowError, "sendto(): port must be 0-65535.");
        return -1;
    }
    const char *text = PyUnicode_AsUTF8(host);
    if (text == NULL)
        return -1;
    struct sockaddr_storage address;
    memset(&address, 0, sizeof address);
    socklen_t length;
    int parsed;
    if (self->family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&address;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        parsed = inet_pton(AF_INET, text, &in4->sin_addr);
        length = sizeof *in4;
    }
    else if (self->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        parsed = inet_pton(AF_INET6, text, &in6->sin6_addr);
        length = sizeof *in6;
    }
    else
        parsed = 0, length = 0;
    if (parsed != 1) {  /* a host name (sendto would resolve it, blocking) or the wrong family */
        PyErr_Format(PyExc_OSError, "%R is not an IP address of the socket's family", host);
        return -1;
    }
    memcpy(&self->destination_address, &address, length);
    self->destination_length = length;
    Py_XSETREF(self->destination, Py_NewRef(destination));
    return 0;
}

/* sendto(data, (host, port)): ticker.DatagramPoller.sendto (the reference). */
static PyObject *
Drainer_sendto(Drainer *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "sendto(data, (host, port))");
        return NULL;
    }
    PyObject *destination = args[1];
    if (destination != self->destination) {
        int same = self->destination != NULL ? PyObject_RichCompareBool(destination, self->destination, Py_EQ) : 0;
        if (same < 0 || (!same && Drainer_address(self, destination) < 0))
            return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    ssize_t sent = sendto(self->fd, view.buf, (size_t)view.len, 0,
                          (const struct sockaddr *)&self->destination_address, self->destination_length);
    PyBuffer_Release(&view);
    if (sent < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyMethodDef Drainer_methods[] = {
    {"drain", (PyCFunction)Drainer_drain, METH_O,
     "drain(poller) -> the number of datagrams handed over"},
    {"sendto", (PyCFunction)(void (*)(void))Drainer_sendto, METH_FASTCALL,
     "sendto(data, (host, port)): one datagram to an IP literal of the socket's family"},
    {"set_session", (PyCFunction)Drainer_set_session, METH_O,
     "set_session(session or None): take the session's usual RTP packets in C"},
    {"deliver", (PyCFunction)(void (*)(void))Drainer_deliver_method, METH_FASTCALL,
     "deliver(data, source, arrival): one datagram as drain() hands it over"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DrainerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tui_phone.rtp._crecv.Drainer",
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

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._crecv",
    .m_doc = "C speed-up of the RTP socket read on the tick (ticker.py holds the reference code).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__crecv(void)
{
    polling_name = PyUnicode_InternFromString("polling");
    if (polling_name == NULL || PyType_Ready(&DrainerType) < 0)
        return NULL;
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
    if (on_packet_keywords == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddStringConstant(m, "SOURCE_DIGEST", SOURCE_DIGEST) < 0
            || PyModule_AddObjectRef(m, "Drainer", (PyObject *)&DrainerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
