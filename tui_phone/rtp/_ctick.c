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
    return 0;
}

static int
Drainer_clear(Drainer *self)
{
    Py_CLEAR(self->handler);
    Py_CLEAR(self->last_source);
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
        PyObject *arguments[3] = {data, source, when};
        PyObject *outcome = PyObject_Vectorcall(self->handler, arguments, 3, NULL);
        Py_DECREF(data);
        Py_DECREF(source);
        Py_DECREF(when);
        if (outcome == NULL)
            return NULL;
        Py_DECREF(outcome);
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

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tui_phone.rtp._ctick",
    .m_doc = "C speed-ups of the RTP tick (ticker.py holds the reference code).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__ctick(void)
{
    polling_name = PyUnicode_InternFromString("polling");
    if (polling_name == NULL || PyType_Ready(&DrainerType) < 0)
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
