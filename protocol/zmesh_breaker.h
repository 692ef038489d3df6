/*  zmesh_breaker.h: a circuit breaker per peer, for the balancer, as a pure core.

    What it does. The balancer asks, before it sends a task to a peer, whether the peer's
    breaker lets it through, and tells the breaker how every task sent there ended. A peer
    whose tasks keep failing for system reasons stops getting tasks for a while, then gets a
    few trial tasks, and gets its full share back when a trial succeeds. Pattern: Nygard,
    "Release It!" (2007), ch. 5; the states and the sliding window follow Resilience4j.

    - CLOSED: tasks flow. The breaker keeps the last window_size outcomes and the number of
      system failures in a row. It OPENs on a system failure that makes failures_in_row
      consecutive ones (default 5), or that brings the failures to failure_rate_pct percent
      or more of the window (default 50% of the last 20) once the window holds at least
      min_outcomes (default 10).
    - OPEN: allow says no. After open_ms (default 30 s) the breaker is HALF_OPEN.
    - HALF_OPEN: allow says yes to at most half_open_trials tasks at once (default 3). The
      first trial that succeeds CLOSEs the breaker (window cleared, open time back to
      open_base_ms); the first that fails with a system failure reOPENs it for twice the last
      open time, at most open_max_ms (default 5 min).
    - Only system failures count: a timeout, a lost worker (dead, or its lease expired), a
      failed link. A task whose handler reported an error (TASK_ERROR) ran on a healthy peer:
      for the breaker it is a success (it ends a run of failures, and a trial that ends in a
      handler error closes the breaker).
    - Outcomes recorded while OPEN are ignored: they are of tasks sent before the breaker
      opened. In HALF_OPEN every outcome is taken as a trial's: a late answer is news too.
    - Every HALF_OPEN allow that said yes holds a trial slot until its outcome is recorded,
      or zmesh_breaker_cancel gives it back (the task was not sent after all). A lost task is
      a timeout, so a shell that records every timeout never leaks a slot.

    Table. A fixed table of peers_max peers, allocated at init (open addressing on the
    16-byte id, which is a hash already); nothing is allocated afterwards. A peer nobody
    recorded anything for is CLOSED and takes no slot: allow and available never add one.
    When record needs a slot and the table is full, the least recently used CLOSED peer is
    evicted (it loses only its window of outcomes, which is what CLOSED forgets anyway); if
    every peer in the table is OPEN or HALF_OPEN, record returns ZMESH_ELIMIT and nothing
    changes, because forgetting an open breaker would send tasks to a broken peer.
    zmesh_breaker_forget drops a peer that membership declared dead or gone.

    Time. Every call takes now_ms (monotonic milliseconds from the shell); the core reads no
    clock, does no I/O and does not log. An OPEN breaker becomes HALF_OPEN at the first call
    at or after its open time ends: the shell calls zmesh_breaker_tick at
    zmesh_breaker_deadline_ms, and allow and record make the change themselves if the tick
    has not come yet. Every change of state is reported once, in the update of the call that
    made it; zmesh_breaker_state and zmesh_breaker_available only read.

    Ownership: the update is the caller's; peer ids are borrowed for the call only.
*/
#ifndef ZMESH_BREAKER_H_INCLUDED
#define ZMESH_BREAKER_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include <stdbool.h>
#include <stdint.h>

#define ZMESH_BREAKER_PEERS_MAX_DEFAULT        1024
#define ZMESH_BREAKER_PEERS_LIMIT              65536  //  the largest table a config may ask
#define ZMESH_BREAKER_FAILURES_IN_ROW_DEFAULT  5
#define ZMESH_BREAKER_WINDOW_SIZE_DEFAULT      20
#define ZMESH_BREAKER_WINDOW_LIMIT             64  //  the window is a 64-bit ring
#define ZMESH_BREAKER_MIN_OUTCOMES_DEFAULT     10
#define ZMESH_BREAKER_FAILURE_RATE_PCT_DEFAULT 50
#define ZMESH_BREAKER_OPEN_BASE_MS_DEFAULT     30000
#define ZMESH_BREAKER_OPEN_MAX_MS_DEFAULT      300000
#define ZMESH_BREAKER_HALF_OPEN_TRIALS_DEFAULT 3
#define ZMESH_BREAKER_HALF_OPEN_TRIALS_LIMIT   64
#define ZMESH_BREAKER_CHANGES_MAX              16  //  changes one call may report

typedef enum {
    ZMESH_BREAKER_CLOSED = 0,  //  tasks flow
    ZMESH_BREAKER_OPEN,        //  no tasks until the open time ends
    ZMESH_BREAKER_HALF_OPEN    //  a few trial tasks
} zmesh_breaker_state_t;

typedef enum {
    ZMESH_BREAKER_SUCCESS = 0,     //  the task ran and its result came back
    ZMESH_BREAKER_SYSTEM_FAILURE,  //  timeout, lost worker, failed link: counts against the peer
    ZMESH_BREAKER_TASK_ERROR       //  the handler reported an error: the peer is fine
} zmesh_breaker_outcome_t;

typedef struct {
    uint32_t peers_max;         //  table size, 1..ZMESH_BREAKER_PEERS_LIMIT
    uint32_t failures_in_row;   //  consecutive system failures that open; >= 1
    uint32_t window_size;       //  outcomes the failure rate looks at, 1..WINDOW_LIMIT
    uint32_t min_outcomes;      //  outcomes needed before the rate counts, 1..window_size
    uint32_t failure_rate_pct;  //  system failures in the window that open, 1..100 (%)
    uint32_t open_base_ms;      //  first open time; >= 1
    uint32_t open_max_ms;       //  cap of the doubling open time; >= open_base_ms
    uint32_t half_open_trials;  //  trial tasks in flight at once, 1..HALF_OPEN_TRIALS_LIMIT
} zmesh_breaker_config_t;

//  One change of state of one peer's breaker.
typedef struct {
    zmesh_id_t peer;
    zmesh_breaker_state_t from;
    zmesh_breaker_state_t to;
    uint64_t open_until_ms;  //  to == OPEN: when it becomes HALF_OPEN; 0 otherwise
} zmesh_breaker_change_t;

//  What a call changed. A call reports at most ZMESH_BREAKER_CHANGES_MAX changes; only tick
//  can have more, and it leaves the rest for the next tick (deadline_ms stays <= now_ms).
typedef struct {
    uint32_t change_count;
    zmesh_breaker_change_t changes [ZMESH_BREAKER_CHANGES_MAX];
} zmesh_breaker_update_t;

//  Figures for metrics, at a given time.
typedef struct {
    uint32_t peers;          //  peers in the table
    uint32_t closed;         //  of which CLOSED
    uint32_t open;           //  OPEN (their open time not over)
    uint32_t half_open;      //  HALF_OPEN, or OPEN with the open time over
    uint64_t opened_total;   //  times any breaker went to OPEN (from CLOSED or HALF_OPEN)
    uint64_t closed_total;   //  times any breaker went from HALF_OPEN back to CLOSED
    uint64_t evicted_total;  //  CLOSED peers evicted to make room
    uint64_t refused_total;  //  records refused with ZMESH_ELIMIT
} zmesh_breaker_counts_t;

typedef struct zmesh_breaker_entry_s zmesh_breaker_entry_t;

//  The core. Fields are private; it lives where the caller puts it.
typedef struct {
    zmesh_breaker_config_t config;
    zmesh_breaker_entry_t *entries;  //  peers_max entries, the first peer_count in use
    uint32_t *index;                 //  index_mask + 1 slots: entry number or UINT32_MAX
    uint32_t index_mask;
    uint32_t peer_count;
    uint64_t opened_total;
    uint64_t closed_total;
    uint64_t evicted_total;
    uint64_t refused_total;
} zmesh_breaker_t;

//  The documented defaults above.
void zmesh_breaker_config_defaults (zmesh_breaker_config_t *config);
//  ZMESH_OK, or ZMESH_EINVAL for a field out of the ranges above.
int zmesh_breaker_config_check (const zmesh_breaker_config_t *config);
//  Checks the config and allocates the table: ZMESH_EINVAL, ZMESH_ENOMEM. On success the
//  caller calls zmesh_breaker_fini. On failure *self is left empty (fini is harmless).
int zmesh_breaker_init (zmesh_breaker_t *self, const zmesh_breaker_config_t *config);
//  Frees the table; idempotent.
void zmesh_breaker_fini (zmesh_breaker_t *self);

//  May a task go to this peer now? CLOSED: yes. OPEN: no. HALF_OPEN: yes while a trial slot
//  is free, and the yes takes the slot. Reports OPEN -> HALF_OPEN if the open time is over.
bool zmesh_breaker_allow (zmesh_breaker_t *self,
                          const zmesh_id_t *peer,
                          uint64_t now_ms,
                          zmesh_breaker_update_t *update);
//  Gives back the trial slot of a HALF_OPEN allow whose task was not sent after all.
void zmesh_breaker_cancel (zmesh_breaker_t *self, const zmesh_id_t *peer);
//  How a task sent to this peer ended. ZMESH_EINVAL for an unknown outcome; ZMESH_ELIMIT if
//  the peer is new, the table full and no peer in it CLOSED. Reports any change of state.
int zmesh_breaker_record (zmesh_breaker_t *self,
                          const zmesh_id_t *peer,
                          zmesh_breaker_outcome_t outcome,
                          uint64_t now_ms,
                          zmesh_breaker_update_t *update);
//  Turns every OPEN breaker whose open time is over into HALF_OPEN (at most CHANGES_MAX).
void zmesh_breaker_tick (zmesh_breaker_t *self, uint64_t now_ms, zmesh_breaker_update_t *update);
//  When the next OPEN breaker becomes HALF_OPEN; UINT64_MAX if none is OPEN.
uint64_t zmesh_breaker_deadline_ms (const zmesh_breaker_t *self);
//  Drops a peer from the table (membership says it is dead or gone); its trials with it.
void zmesh_breaker_forget (zmesh_breaker_t *self, const zmesh_id_t *peer);

//  The state as of now_ms (OPEN with its open time over reads HALF_OPEN). Changes nothing.
zmesh_breaker_state_t
zmesh_breaker_state (const zmesh_breaker_t *self, const zmesh_id_t *peer, uint64_t now_ms);
//  Would allow say yes now? Takes no slot: for filtering candidates before choosing one.
bool zmesh_breaker_available (const zmesh_breaker_t *self, const zmesh_id_t *peer, uint64_t now_ms);
//  Figures for metrics; counts.open + counts.half_open is circuit_breakers_open.
void
zmesh_breaker_counts (const zmesh_breaker_t *self, uint64_t now_ms, zmesh_breaker_counts_t *counts);
//  "CLOSED", "OPEN", "HALF_OPEN" (the result field circuit_state); "?" for anything else.
const char *zmesh_breaker_state_name (zmesh_breaker_state_t state);

#endif
