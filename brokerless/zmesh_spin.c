/*  zmesh_spin.c: spin-then-sleep waits (see zmesh_spin.h). */
#include "zmesh_spin.h"
#include <poll.h>
#include <sched.h>

bool
zmesh_spin_wanted (const zmesh_spin_t *state, int spin_us, bool expecting)
{
    return spin_us > 0 && (expecting || !state || state->idle_wait_us <= spin_us);
}

static int s_poll_spin (zmq_pollitem_t *items, int count, long timeout_ms, int spin_us);

int
zmesh_poll_spin (zmq_pollitem_t *items,
                 int count,
                 long timeout_ms,
                 int spin_us,
                 zmesh_spin_t *state,
                 bool expecting)
{
    int64_t start = zclock_usecs ();
    bool look = zmesh_spin_wanted (state, spin_us, expecting);
    int rc = s_poll_spin (items, count, timeout_ms, look ? spin_us : 0);
    if (state && !expecting)
        state->idle_wait_us = zclock_usecs () - start;
    return rc;
}

static int
s_poll_spin (zmq_pollitem_t *items, int count, long timeout_ms, int spin_us)
{
    if (spin_us <= 0 || timeout_ms == 0 || count <= 0 || count > ZMESH_SPIN_ITEMS_MAX)
        return zmq_poll (items, count, timeout_ms);
    //  One full look: it also takes every socket's pending commands, so from here on any
    //  message arriving on a socket signals the socket's file descriptor.
    int rc = zmq_poll (items, count, 0);
    if (rc != 0)
        return rc;
    struct pollfd fds [ZMESH_SPIN_ITEMS_MAX];
    for (int i = 0; i < count; i++) {
        fds [i].fd = items [i].fd;
        if (items [i].socket) {
            size_t size = sizeof fds [i].fd;
            if (zmq_getsockopt (items [i].socket, ZMQ_FD, &fds [i].fd, &size) != 0)
                return zmq_poll (items, count, timeout_ms);
        }
        fds [i].events = POLLIN;
        fds [i].revents = 0;
    }
    int64_t start = zclock_usecs ();
    int64_t spent = 0;
    while (spent < spin_us) {
        sched_yield ();
        if (poll (fds, (nfds_t) count, 0) > 0) {
            //  Only the items whose descriptor fired can have something new: a socket's
            //  events are read (which takes its commands, and clears its descriptor).
            rc = 0;
            for (int i = 0; i < count; i++) {
                items [i].revents = 0;
                if (!(fds [i].revents & (POLLIN | POLLERR | POLLHUP)))
                    continue;
                if (items [i].socket) {
                    int events = 0;
                    size_t size = sizeof events;
                    if (zmq_getsockopt (items [i].socket, ZMQ_EVENTS, &events, &size) != 0)
                        return -1;
                    items [i].revents = (short) (events & items [i].events);
                }
                else
                    items [i].revents = (short) (items [i].events & ZMQ_POLLIN);
                rc += items [i].revents != 0;
            }
            if (rc)
                return rc;
        }
        spent = zclock_usecs () - start;
        if (timeout_ms > 0 && spent >= (int64_t) timeout_ms * 1000)
            return 0;
    }
    if (timeout_ms > 0) {
        timeout_ms -= (long) (spent / 1000);
        if (timeout_ms < 1)
            timeout_ms = 1;
    }
    return zmq_poll (items, count, timeout_ms);
}

bool
zmesh_spin_counter (const uint64_t *counter, uint64_t seen, int spin_us)
{
    if (spin_us <= 0)
        return __atomic_load_n (counter, __ATOMIC_ACQUIRE) != seen;
    int64_t until = zclock_usecs () + spin_us;
    while (__atomic_load_n (counter, __ATOMIC_ACQUIRE) == seen) {
        if (zclock_usecs () >= until)
            return false;
        sched_yield ();
    }
    return true;
}
