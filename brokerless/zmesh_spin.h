/*  zmesh_spin.h: waits that look again for a short while before they sleep.

    On a virtual machine, waking a thread whose CPU has gone idle costs tens of microseconds
    (the hypervisor must run the halted vCPU again), several times the work of passing a task
    on. A task's round trip crosses six of our threads and four of libzmq's; a thread that keeps
    looking for spin_us after its last event is still awake when the next one comes, and so is
    its CPU. The price is CPU time spent looking, and the looking thread yields the CPU to any
    thread that has work. So a waiter looks only when the next message should come soon: when
    it expects an answer (it has work out: tasks in flight, tasks running), or when, the last
    time it had nothing out, the next message came within spin_us (one task after another). A
    trickle of work, a task every few milliseconds, costs looking only while each task is out.
    spin_us = 0 sleeps at once always (config node/spin_us).
*/
#ifndef ZMESH_SPIN_H_INCLUDED
#define ZMESH_SPIN_H_INCLUDED

#include <czmq.h>

#define ZMESH_SPIN_ITEMS_MAX 64  //  a poll over more items sleeps at once

//  One waiter's memory: how long its last wait with nothing out lasted (zero it to start).
typedef struct {
    int64_t idle_wait_us;
} zmesh_spin_t;

//  Should a waiter look before it sleeps this time? spin_us > 0, and it expects an answer or
//  its last wait with nothing out lasted at most spin_us (state NULL: always).
bool zmesh_spin_wanted (const zmesh_spin_t *state, int spin_us, bool expecting);

//  zmq_poll that first looks for up to spin_us microseconds when zmesh_spin_wanted says so (one
//  poll system call per look on the items' file descriptors, yielding between looks), then
//  sleeps for what is left of timeout_ms (-1: no limit). A wait with nothing out (expecting
//  false) is recorded in state (may be NULL). Returns as zmq_poll.
int zmesh_poll_spin (zmq_pollitem_t *items,
                     int count,
                     long timeout_ms,
                     int spin_us,
                     zmesh_spin_t *state,
                     bool expecting);

//  Look for up to spin_us microseconds, yielding between looks, while *counter still holds
//  seen. True if it changed.
bool zmesh_spin_counter (const uint64_t *counter, uint64_t seen, int spin_us);

#endif
