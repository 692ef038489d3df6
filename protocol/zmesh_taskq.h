/*  zmesh_taskq.h: a node worker's priority task queue, bounded, with aging, a reserve of
    executor slots for CRITICAL work, and work stealing (issue 4, points 1, 4 and 5).

    What it holds. Small entries only: a task id, its priority, when it was queued, an opaque
    handle that tells the shell where the payload lives, and its CPU demand. No payload bytes.
    At most `capacity` entries, all priorities together; one more is ZMESH_ELIMIT. A task id
    already queued is refused with ZMESH_ESTATE (the table has no "exists" code; this is the
    wrong state for the operation), so a task is never queued twice at once. The queue forgets
    an entry once it is taken (next), stolen or removed: the shell keeps its own record of
    running tasks, and the owner's exactly-once bookkeeping, not this queue, stops a rerun.

    Order (aging). CRITICAL > HIGH > NORMAL > LOW, and an entry's effective priority rises one
    level per aging_ms it has waited, continuously: an entry of level L queued at time t ranks
    as if it were a HIGH entry queued at t + (HIGH - L) x aging_ms (its "virtual time"); the
    smallest virtual time goes first, ties by enqueue order. So a LOW entry queued at t goes
    before every HIGH entry queued after t + 2 x aging_ms, and before every NORMAL entry queued
    after t + aging_ms: behind any stream of HIGH and NORMAL work it waits at most
    2 x aging_ms, plus the time to run what was queued ahead of it (at most capacity - 1
    entries, a set that only shrinks once those 2 x aging_ms have passed). Nothing ages into
    CRITICAL: CRITICAL entries go first, in enqueue order, always, and only they may take the
    reserved slots, so a steady stream of CRITICAL work can starve the rest, by design.
    Because all entries age at the same rate, the order of two entries never changes with
    time: it is fixed when they are queued, which is what makes every operation O(1).

    Reserve. With `slots` executor slots and `critical_reserve` of them kept for CRITICAL, a
    non-CRITICAL entry may start only while busy < slots - critical_reserve; a CRITICAL entry
    while busy < slots. `next` never skips the head to find something that fits: when the head
    may not start, nothing starts.

    Stealing. `steal` gives a thief up to half (rounded down) of the queued non-CRITICAL entries,
    at most `max`, choosing those least likely to run soon: the largest virtual time first
    (lowest effective priority, newest first). CRITICAL entries are never stolen: they have
    slots reserved here, will start soon, and moving them only adds a network hop to the work
    that can least afford it. A stolen entry leaves the queue before the thief gets it, so it
    cannot also start here. At the thief it is queued anew and starts aging again.

    Time. Every call takes now_ms, a monotonic clock in milliseconds read by the shell. A time
    earlier than one already seen counts as the latest one seen (the clock stood still),
    which keeps each priority's entries in enqueue order.

    Complexity. push, next, remove and contains: O(1) expected (a doubly linked list per
    priority in a fixed pool, and an open-addressing index on the id with linear probing at
    a load factor of at most 1/2). steal: O(1) per entry. Memory: allocated by init only,
    about 80 bytes per entry of capacity; freed by fini.

    Shape. This is a data structure the worker's core calls, not a protocol: no events, no
    timers, so no step and no deadline (aging needs no tick, see above). No clock, no I/O,
    no logging, no allocation after init.
*/
#ifndef ZMESH_TASKQ_H_INCLUDED
#define ZMESH_TASKQ_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A task's priority. Larger is more urgent, so `a > b` reads "a is more urgent than b".
typedef enum {
    ZMESH_PRIORITY_LOW = 0,
    ZMESH_PRIORITY_NORMAL = 1,
    ZMESH_PRIORITY_HIGH = 2,
    ZMESH_PRIORITY_CRITICAL = 3
} zmesh_priority_t;

#define ZMESH_PRIORITY_COUNT 4

//  "low", "normal", "high", "critical"; "?" for a value out of range. Never NULL.
const char *zmesh_priority_name (int priority);
//  The priority named by text (any case); ZMESH_EINVAL if it names none.
int zmesh_priority_parse (const char *text, zmesh_priority_t *priority);

#define ZMESH_TASKQ_CAPACITY_DEFAULT         4096
#define ZMESH_TASKQ_CAPACITY_LIMIT           (1u << 20)  //  the largest capacity a config may ask
#define ZMESH_TASKQ_AGING_MS_DEFAULT         5000
#define ZMESH_TASKQ_AGING_MS_LIMIT           86400000  //  one day: the slowest aging allowed
#define ZMESH_TASKQ_SLOTS_DEFAULT            4
#define ZMESH_TASKQ_SLOTS_LIMIT              4096
#define ZMESH_TASKQ_CRITICAL_RESERVE_DEFAULT 1
//  Issue 4: a node is worth stealing from at >= 80% of its capacity (zmesh_taskq_load_permille).
#define ZMESH_TASKQ_STEAL_THRESHOLD_PERMILLE_DEFAULT 800

typedef struct {
    uint32_t capacity;          //  entries queued at most, all priorities; 1..CAPACITY_LIMIT
    uint32_t aging_ms;          //  wait that raises an entry one level; 1..AGING_MS_LIMIT
    uint32_t slots;             //  executor slots of this node; 1..SLOTS_LIMIT
    uint32_t critical_reserve;  //  slots only CRITICAL may take; < slots (0 with one slot)
} zmesh_taskq_config_t;

//  One queued task, as push stored it and next / steal / remove give it back.
typedef struct {
    zmesh_id_t id;              //  the task's 128-bit id
    zmesh_priority_t priority;  //  as pushed; aging never changes it
    uint64_t enqueue_ms;        //  when it was queued (now_ms of push, never before a seen time)
    uint64_t handle;            //  the shell's, opaque here (where the payload and task live)
    uint32_t cpu_millicores;    //  CPU demand, 1000 = one core
} zmesh_taskq_entry_t;

//  Figures for metrics. Counters only grow; depths are what is queued now.
typedef struct {
    uint32_t depth;  //  entries queued
    uint32_t depth_by_priority [ZMESH_PRIORITY_COUNT];
    uint64_t cpu_millicores;     //  CPU demand of the queued entries, summed
    uint64_t pushed;             //  entries accepted
    uint64_t started;            //  entries given by next
    uint64_t stolen;             //  entries given by steal
    uint64_t removed;            //  entries taken by remove
    uint64_t refused_full;       //  pushes refused with ZMESH_ELIMIT
    uint64_t refused_duplicate;  //  pushes refused with ZMESH_ESTATE
} zmesh_taskq_stats_t;

//  One slot of the pool (private: use the functions).
typedef struct {
    zmesh_taskq_entry_t entry;
    uint64_t seq;   //  enqueue order, unique
    uint32_t prev;  //  neighbours in its priority's list, or in the free list (next only)
    uint32_t next;
} zmesh_taskq_node_t;

//  The queue (fields private: use the functions). Embed it; init, then fini.
typedef struct {
    zmesh_taskq_config_t config;
    zmesh_taskq_node_t *nodes;  //  pool of config.capacity slots
    uint32_t *index;            //  id -> pool slot + 1 (0: empty), index_mask + 1 cells
    uint32_t index_mask;
    uint32_t free_head;                    //  first unused pool slot
    uint32_t head [ZMESH_PRIORITY_COUNT];  //  oldest entry of each priority
    uint32_t tail [ZMESH_PRIORITY_COUNT];  //  newest entry of each priority
    uint64_t next_seq;
    uint64_t now_ms;  //  the latest time seen
    zmesh_taskq_stats_t stats;
} zmesh_taskq_t;

void zmesh_taskq_config_defaults (zmesh_taskq_config_t *config);
//  ZMESH_OK, or ZMESH_ECONFIG if a field is out of its range.
int zmesh_taskq_config_check (const zmesh_taskq_config_t *config);

//  An empty queue. config NULL: the defaults. ZMESH_ECONFIG for a bad config, ZMESH_ENOMEM if
//  the table cannot be had; on error there is nothing to fini (fini is harmless anyway).
int zmesh_taskq_init (zmesh_taskq_t *self, const zmesh_taskq_config_t *config, uint64_t now_ms);
//  Free the table. Idempotent; the queue may be init'ed again.
void zmesh_taskq_fini (zmesh_taskq_t *self);

//  Queue a task. ZMESH_EINVAL for a priority out of range, ZMESH_ESTATE if the id is queued
//  already (the queued entry is untouched), ZMESH_ELIMIT if capacity entries are queued.
int zmesh_taskq_push (zmesh_taskq_t *self,
                      uint64_t now_ms,
                      const zmesh_id_t *id,
                      zmesh_priority_t priority,
                      uint64_t handle,
                      uint32_t cpu_millicores);

//  The entry to start now, given busy_slots slots of config.slots in use: true and the entry
//  in *out (it leaves the queue: the shell starts it), or false if the queue is empty or its
//  head may not start (reserve, see above). out may be NULL to drop the entry.
bool zmesh_taskq_next (zmesh_taskq_t *self,
                       uint64_t now_ms,
                       uint32_t busy_slots,
                       zmesh_taskq_entry_t *out);

//  Take up to half (rounded down) of the queued non-CRITICAL entries, at most max, least
//  likely to run soon first, into out [0 .. returned count). They leave the queue.
size_t
zmesh_taskq_steal (zmesh_taskq_t *self, uint64_t now_ms, size_t max, zmesh_taskq_entry_t *out);

//  Take the queued task id out (cancelled, migrated): ZMESH_OK and the entry in *out (may be
//  NULL), or ZMESH_ENOTFOUND if it is not queued.
int zmesh_taskq_remove (zmesh_taskq_t *self,
                        uint64_t now_ms,
                        const zmesh_id_t *id,
                        zmesh_taskq_entry_t *out);

//  Whether the task id is queued.
bool zmesh_taskq_contains (const zmesh_taskq_t *self, const zmesh_id_t *id);
//  Entries queued, all priorities.
uint32_t zmesh_taskq_depth (const zmesh_taskq_t *self);
//  Entries queued at one priority (as pushed, not as aged); 0 for a value out of range.
uint32_t zmesh_taskq_depth_of (const zmesh_taskq_t *self, int priority);
//  Entries a steal could take now (half the non-CRITICAL entries, rounded down).
uint32_t zmesh_taskq_stealable (const zmesh_taskq_t *self);
//  Counters and depths for metrics.
void zmesh_taskq_stats (const zmesh_taskq_t *self, zmesh_taskq_stats_t *stats);
//  Load against capacity, 1000 = every slot busy and nothing waiting:
//  1000 x (busy_slots + depth) / slots, capped at UINT32_MAX. A node whose figure is at least
//  ZMESH_TASKQ_STEAL_THRESHOLD_PERMILLE_DEFAULT (and whose stealable count is not 0) is a victim.
uint32_t zmesh_taskq_load_permille (const zmesh_taskq_t *self, uint32_t busy_slots);

#endif
