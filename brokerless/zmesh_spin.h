/*  zmesh_spin.h: waits that look again for a short while before they sleep.

    On a virtual machine, waking a thread whose CPU has gone idle costs tens of microseconds
    (the hypervisor must run the halted vCPU again), several times the work of passing a task
    on. A task's round trip crosses six of our threads and four of libzmq's; a thread that keeps
    looking for spin_us after its last event is still awake when the next one comes, and so is
    its CPU. The price is CPU time spent looking: at most spin_us after each burst of work, and
    the looking thread yields the CPU to any thread that has work. spin_us = 0 sleeps at once
    (config node/spin_us).
*/
#ifndef ZMESH_SPIN_H_INCLUDED
#define ZMESH_SPIN_H_INCLUDED

#include <czmq.h>

#define ZMESH_SPIN_ITEMS_MAX 64  //  a poll over more items sleeps at once

//  zmq_poll that first looks for up to spin_us microseconds (one poll system call per look on
//  the items' file descriptors, yielding between looks), then sleeps for what is left of
//  timeout_ms (-1: no limit). Returns as zmq_poll.
int zmesh_poll_spin (zmq_pollitem_t *items, int count, long timeout_ms, int spin_us);

//  Look for up to spin_us microseconds, yielding between looks, while *counter still holds
//  seen. True if it changed.
bool zmesh_spin_counter (const uint64_t *counter, uint64_t seen, int spin_us);

#endif
