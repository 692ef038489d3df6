/*  sim_work.c: a deterministic, seeded simulation of the owner's core (zmesh_owner.h) with the
    workers around it.

    1..3 owners, each with its own zmesh_owner_t and its own membership view, submit tasks to
    2..8 simulated workers over a virtual network that loses, delays (a few ms; up to half
    the lease timeout in some seeds), duplicates and reorders messages. Every message is
    encoded with zmesh_task's writer and decoded again at the receiver (the codec is in the
    loop). Each owner places tasks with zmesh_place_choose,
    through a chooser that does what the balancer's does (tests/sim cannot link the actor):
    the nodes alive in its view, not avoided, available (zmesh_owner_node_available); 0 when
    live nodes exist but none may take the task now, ZMESH_ENOTFOUND when none passes the
    filter at all.

    A worker is the real one's model (actors/zmesh_worker.c): executor slots, a zmesh_taskq
    queue of bounded capacity (a SUBMIT beyond it is REFUSED), a table of held tasks by id (a
    second attempt of a task it holds makes it answer for the newest), handlers that run for
    the task's work time (scaled by the worker's speed), save a checkpoint every
    SIM_CHECKPOINT_MS if the task asks, stop at the task's timeout (TIMEOUT), fail as the
    task's kind says (HANDLER_ERROR), or are missing (NO_HANDLER: some workers advertise a
    handler they do not have). It sends a LEASE to each owner it holds tasks for every
    lease_timeout / 4, and RESULT and CHECKPOINT as things happen. An idle worker that has
    every handler asks a random other one to STEAL; the victim takes up to half its queue
    (zmesh_taskq_steal), sends MOVED to each owner concerned and then STOLEN to the thief,
    and forgets them: the MOVED may be late, lost or overtaken by the thief's lease or
    result. A Byzantine worker (some seeds) lies about every output.

    Faults, until the quiet end: a worker crashes (loses everything; membership tells each
    owner after a detection delay, or never, so that only the lease catches it) and restarts
    empty a while later; a worker freezes (processes and sends nothing for up to
    3 x lease_timeout, then everything it missed, stale results included); membership
    declares a live worker dead (a false death) and alive again later; the link between an
    owner and a worker is cut both ways for up to 4 x lease_timeout. In some seeds only
    workers that crash have the `work` handler, so tasks park and come back. Worker 0 is steady
    (never crashes, never falsely dead, honest, every handler): there is always one healthy
    worker. At the quiet end every worker is up again and every view whole.

    Invariants, after every event:
    - exactly once: no task gets two results; every result is for a task its owner submitted;
      every attempt sent is the task's next one (1, 2, 3...), for a task still owned, with its
      payload and a checkpoint that some worker saved for that task;
    - stats: owned = submitted - completed; completed = succeeded + failed = results seen;
      in_flight = the sum over the workers of node_in_flight; pending <= owned;
    - deadline: after a tick, deadline_ms lies in the future (the tick did what was due);
    - every attempt goes to a node within its window, whose breaker is not OPEN;
    - outputs: a success carries the right output (unless one Byzantine worker alone
      answered a task without redundancy); a quorum never elects a lie.
    And at the end (after the quiet end, when every owner owns nothing, within
    SIM_END_LIMIT_MS): every submitted task has exactly one result; every idempotent task
    with plenty of retries whose handler exists and works succeeded (redundant ones too,
    unless redundancy 2 meets a Byzantine worker); tasks no node can take failed with "no
    eligible node", tasks whose handler always fails or times out failed.

    Usage: sim_work                       seeds 1..SIM_SEEDS_DEFAULT (ZMESH_SIM_SEEDS=n)
           ZMESH_SIM_SEED=n sim_work      one seed, run twice: same trace hash
           ZMESH_SIM_TRACE=1              print every event of the seeds run
*/
#include "sim_common.h"
#include "zmesh_error.h"
#include "zmesh_owner.h"
#include "zmesh_place.h"
#include "zmesh_task.h"
#include "zmesh_taskq.h"
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_SEEDS_DEFAULT 300
#define SIM_OWNERS_MAX    3
#define SIM_WORKERS_MAX   8
#define SIM_TASKS_MAX     240
#define SIM_SLOTS_MAX     4
#define SIM_QUEUE_MAX     32
#define SIM_HELD_MAX      (SIM_QUEUE_MAX + SIM_SLOTS_MAX)
#define SIM_CHECKPOINT_MS 100  //  a checkpointing task saves its progress this often
#ifndef SIM_END_LIMIT_MS
#define SIM_END_LIMIT_MS 600000  //  after the quiet end, every task must be done by then
#endif
#ifndef SIM_EVENTS_MAX
#define SIM_EVENTS_MAX 4000000  //  a seed that needs more is a failure (a livelock)
#endif
#define SIM_RETRIES_PLENTY 100  //  tasks with at least this many retries must succeed
#define SIM_BUF_SIZE       65536
#define SIM_FLAKY_PPM      300000  //  a flaky task's handler fails this often

//  Handlers: every worker has echo; some have work; none has nowhere.
static const char *s_handlers [3] = {"echo", "work", "nowhere"};

typedef enum {
    K_PLAIN = 0,  //  idempotent, plenty of retries: must succeed
    K_ONCE,       //  not idempotent: one result, maybe "lost while running"
    K_FLAKY,      //  its handler fails now and then; retry_on_error: must succeed
    K_BAD,        //  its handler always fails: must fail
    K_SLOW,       //  its timeout is shorter than its work: must fail
    K_NOWHERE,    //  no worker has its handler: must fail, "no eligible node"
    K_FEW,        //  idempotent with 0..2 retries: anything but two results
    K_CRITICAL,   //  redundancy 2 or 3, plenty of retries: must succeed (see the header)
    K_COUNT
} sim_kind_t;

typedef enum {
    EV_DELIVER = 1,  //  a message from a to b (entities: owners first, then workers)
    EV_TICK,         //  owner a ticks its core (if still its tick time)
    EV_SUBMIT,       //  owner a submits task `token`
    EV_PROGRESS,     //  worker a: a segment of held task b ends (token, run checked)
    EV_LEASE,        //  worker a sends its leases (run checked)
    EV_STEAL,        //  worker a, if idle, asks another to steal from (run checked)
    EV_FAULT,        //  the next fault
    EV_RESTART,      //  worker a starts again (run checked)
    EV_MEMBER,       //  owner a's membership: worker b down (token 0, at run) or up (token 1)
    EV_QUIET         //  faults end: everything up, every view whole
} sim_event_kind_t;

typedef struct {
    uint64_t at_ms;
    uint64_t seq;
    uint8_t kind;
    uint16_t a, b;
    uint32_t run, token;
    uint32_t size;
    uint8_t *bytes;
} sim_event_t;
SIM_EVENT_CHECK (sim_event_t);

typedef struct {
    uint32_t owner;
    zmesh_id_t id;
    uint8_t kind;
    uint8_t flags;
    uint8_t priority;
    uint8_t handler;
    uint8_t strategy;
    uint32_t redundancy;
    uint32_t max_retries;
    bool retry_on_error;
    bool checkpoints;
    uint32_t work_ms;
    uint32_t timeout_ms;
    uint64_t submit_at;
    bool submitted, done, success;
    uint8_t status;
    uint32_t dispatches;  //  attempts sent, as the sim saw them
    uint32_t saved_max;   //  the largest progress any worker saved for it
    zmesh_id_t winner;
    char error [ZMESH_TASK_ERROR_MAX];
} sim_task_t;

//  A task a worker holds.
typedef struct {
    bool used;
    bool running;
    uint32_t task;     //  index in sim->tasks
    uint32_t owner;    //  owner index
    uint32_t attempt;  //  the newest it answers for
    uint32_t progress_ms;
    uint32_t ran_ms;   //  this run's time so far
    uint32_t segment;  //  the running segment's length
    uint32_t token;    //  of the running segment's event
} sim_held_t;

typedef struct {
    zmesh_id_t id;
    bool up;
    uint32_t run;  //  grows at each crash and start: stale timers are dropped
    uint64_t frozen_until;
    bool byzantine;
    bool steady;          //  worker 0: never crashes nor dies falsely
    uint32_t handlers;    //  bit per handler it has
    uint32_t advertised;  //  bit per handler it says it has
    uint32_t slots, busy, capacity, speed_pct;
    zmesh_taskq_t queue;
    sim_held_t held [SIM_HELD_MAX];
    uint32_t next_token;
} sim_worker_t;

typedef struct sim_s sim_t;

typedef struct {
    sim_t *sim;
    uint32_t index;
    zmesh_id_t id;
    zmesh_owner_t *core;
    uint64_t tick_at;
    bool alive [SIM_WORKERS_MAX];  //  its membership view
    uint64_t place_rng;
    zmesh_place_ring_t ring;
    zmesh_place_node_t candidates [SIM_WORKERS_MAX];
    uint32_t submitted, results;
} sim_owner_t;

struct sim_s {
    uint32_t seed;
    uint64_t rng;
    uint64_t hash;
    bool failed, verbose;
    uint64_t now_ms, next_seq, events;
    sim_event_t *heap;
    uint32_t heap_size, heap_capacity;
    //  scenario
    uint32_t owner_count, worker_count, task_count;
    uint32_t loss_ppm, dup_ppm, delay_min_ms, delay_max_ms;
    uint32_t lease_interval_ms, steal_interval_ms, fault_gap_ms, detect_ppm;
    uint64_t quiet_at_ms;
    bool quiet;
    uint32_t byzantine_count;
    bool rare_work;  //  only workers that crash have `work`: tasks park while they are gone
    uint64_t cut_until [SIM_OWNERS_MAX][SIM_WORKERS_MAX];  //  link owner-worker cut until
    zmesh_owner_config_t config;
    //  actors
    sim_owner_t owners [SIM_OWNERS_MAX];
    sim_worker_t workers [SIM_WORKERS_MAX];
    sim_task_t tasks [SIM_TASKS_MAX];
    //  figures
    uint32_t done;  //  tasks with their result
    uint64_t messages, crashes, freezes, false_deaths, cuts, steals, stolen;
    uint8_t buf [SIM_BUF_SIZE];
};

static bool s_trace;
static zmesh_task_msg_t s_msg;  //  the one decoded message (large: not on the stack)

static void
s_fail (sim_t *sim, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    sim_fail_report (&sim->failed, sim->seed, sim->now_ms, format, args);
    va_end (args);
}

static void
s_trace_line (sim_t *sim, const char *format, ...)
{
    if (!s_trace)
        return;
    va_list args;
    va_start (args, format);
    printf ("%8" PRIu64 " ", sim->now_ms);
    vprintf (format, args);
    printf ("\n");
    va_end (args);
}

//  ---------------------------------------------------------------------------------------------
//  Ids

static zmesh_id_t
s_entity_id (uint8_t kind, uint32_t index)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = kind;
    id.bytes [1] = (uint8_t) index;
    id.bytes [7] = 0x42;
    id.bytes [15] = (uint8_t) (0x90 + index);
    return id;
}

//  Worker index of an id, or UINT32_MAX.
static uint32_t
s_worker_of (const sim_t *sim, const zmesh_id_t *id)
{
    if (id->bytes [0] != 0x0B || id->bytes [1] >= sim->worker_count
        || !zmesh_id_equal (id, &sim->workers [id->bytes [1]].id))
        return UINT32_MAX;
    return id->bytes [1];
}

static uint32_t
s_owner_of (const sim_t *sim, const zmesh_id_t *id)
{
    if (id->bytes [0] != 0x0A || id->bytes [1] >= sim->owner_count
        || !zmesh_id_equal (id, &sim->owners [id->bytes [1]].id))
        return UINT32_MAX;
    return id->bytes [1];
}

//  Task index of an id, or UINT32_MAX.
static uint32_t
s_task_of (const sim_t *sim, const zmesh_id_t *id)
{
    uint32_t index = id->bytes [0] | (uint32_t) id->bytes [1] << 8;
    if (index >= sim->task_count || !zmesh_id_equal (id, &sim->tasks [index].id))
        return UINT32_MAX;
    return index;
}

//  The right output of a task: 8 bytes from its id.
static void
s_output (const sim_task_t *task, uint8_t out [8])
{
    uint64_t h = zmesh_id_hash (&task->id) ^ 0x5bd1e995ull;
    for (int i = 0; i < 8; i++)
        out [i] = (uint8_t) (h >> (8 * i));
}

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return p [0] | (uint32_t) p [1] << 8 | (uint32_t) p [2] << 16 | (uint32_t) p [3] << 24;
}

//  ---------------------------------------------------------------------------------------------
//  Events: a heap on (time, insertion order)

static void
s_push (sim_t *sim, sim_event_t event)
{
    sim->heap =
        sim_heap_room (sim->heap, sim->heap_size, &sim->heap_capacity, sizeof *sim->heap, 1024);
    if (event.at_ms < sim->now_ms)
        event.at_ms = sim->now_ms;
    event.seq = sim->next_seq++;
    sim_heap_insert (sim->heap, &sim->heap_size, sizeof event, &event);
}

static sim_event_t
s_pop (sim_t *sim)
{
    sim_event_t top;
    sim_heap_take (sim->heap, &sim->heap_size, sizeof top, &top);
    return top;
}

static void
s_timer (
    sim_t *sim, uint64_t at_ms, uint8_t kind, uint32_t a, uint32_t b, uint32_t run, uint32_t token)
{
    sim_event_t event = {.at_ms = at_ms,
                         .kind = kind,
                         .a = (uint16_t) a,
                         .b = (uint16_t) b,
                         .run = run,
                         .token = token};
    s_push (sim, event);
}

//  ---------------------------------------------------------------------------------------------
//  The network. Entities: owner o is o, worker w is owner_count + w.

static void
s_net_send (sim_t *sim, uint32_t from, uint32_t to, const uint8_t *bytes, size_t size)
{
    sim->messages++;
    if (sim_chance (&sim->rng, sim->loss_ppm))
        return;
    uint32_t owner = from < sim->owner_count ? from : to;
    uint32_t worker = (from < sim->owner_count ? to : from) - sim->owner_count;
    if (owner < sim->owner_count && (from < sim->owner_count) != (to < sim->owner_count)
        && sim->now_ms < sim->cut_until [owner][worker])
        return;
    uint32_t copies = sim_chance (&sim->rng, sim->dup_ppm) ? 2 : 1;
    for (uint32_t i = 0; i < copies; i++) {
        sim_event_t event = {.kind = EV_DELIVER, .a = (uint16_t) from, .b = (uint16_t) to};
        event.at_ms = sim->now_ms + sim_range (&sim->rng, sim->delay_min_ms, sim->delay_max_ms);
        event.size = (uint32_t) size;
        event.bytes = malloc (size);
        ZMESH_ASSERT (event.bytes);
        memcpy (event.bytes, bytes, size);
        s_push (sim, event);
    }
}

static uint32_t
s_worker_entity (const sim_t *sim, uint32_t w)
{
    return sim->owner_count + w;
}

//  One writer per message: begin (or begin_moved), then add, then finish and send.
static void
s_finish_send (sim_t *sim, zmesh_task_writer_t *writer, uint32_t from, uint32_t to)
{
    size_t size;
    int rc = zmesh_task_writer_finish (writer, &size);
    if (rc != ZMESH_OK) {
        s_fail (sim, "writer finish: %s", zmesh_strerror (rc));
        return;
    }
    s_net_send (sim, from, to, sim->buf, size);
}

static void
s_check_rc (sim_t *sim, int rc, const char *what)
{
    if (rc != ZMESH_OK)
        s_fail (sim, "%s: %s", what, zmesh_strerror (rc));
}

//  A RESULT from worker w to owner o.
static void
s_send_result (sim_t *sim, uint32_t w, uint32_t o, const zmesh_task_result_item_t *item)
{
    zmesh_task_writer_t writer;
    s_check_rc (sim,
                zmesh_task_writer_begin (&writer, sim->buf, sizeof sim->buf, &sim->workers [w].id,
                                         ZMESH_TASK_KIND_RESULT, NULL),
                "begin result");
    s_check_rc (sim, zmesh_task_writer_add_result (&writer, item), "add result");
    s_finish_send (sim, &writer, s_worker_entity (sim, w), o);
}

//  ---------------------------------------------------------------------------------------------
//  Workers

static sim_held_t *
s_held_find (sim_worker_t *worker, const zmesh_id_t *id, const sim_t *sim)
{
    for (uint32_t i = 0; i < SIM_HELD_MAX; i++)
        if (worker->held [i].used && zmesh_id_equal (&sim->tasks [worker->held [i].task].id, id))
            return &worker->held [i];
    return NULL;
}

static void
s_worker_reset (sim_worker_t *worker)
{
    zmesh_taskq_fini (&worker->queue);
    zmesh_taskq_config_t config;
    zmesh_taskq_config_defaults (&config);
    config.capacity = worker->capacity;
    config.slots = worker->slots;
    config.critical_reserve = worker->slots > 1 ? 1 : 0;
    ZMESH_ASSERT (zmesh_taskq_init (&worker->queue, &config, 0) == ZMESH_OK);
    memset (worker->held, 0, sizeof worker->held);
    worker->busy = 0;
    worker->frozen_until = 0;
}

static void
s_schedule_segment (sim_t *sim, uint32_t w, uint32_t hi)
{
    sim_worker_t *worker = &sim->workers [w];
    sim_held_t *held = &worker->held [hi];
    const sim_task_t *task = &sim->tasks [held->task];
    uint32_t remaining = task->work_ms > held->progress_ms ? task->work_ms - held->progress_ms : 0;
    uint32_t segment = remaining;
    if (task->checkpoints && segment > SIM_CHECKPOINT_MS)
        segment = SIM_CHECKPOINT_MS;
    if (task->timeout_ms && held->ran_ms + segment > task->timeout_ms)
        segment = task->timeout_ms - held->ran_ms;
    held->segment = segment;
    held->token = ++worker->next_token;
    uint64_t at = sim->now_ms + (uint64_t) segment * worker->speed_pct / 100;
    s_timer (sim, at, EV_PROGRESS, w, hi, worker->run, held->token);
}

//  Start what may start.
static void
s_worker_start (sim_t *sim, uint32_t w)
{
    sim_worker_t *worker = &sim->workers [w];
    zmesh_taskq_entry_t entry;
    while (worker->busy < worker->slots
           && zmesh_taskq_next (&worker->queue, sim->now_ms, worker->busy, &entry)) {
        sim_held_t *held = &worker->held [entry.handle];
        ZMESH_ASSERT (held->used && !held->running);
        held->running = true;
        held->ran_ms = 0;
        worker->busy++;
        s_schedule_segment (sim, w, (uint32_t) entry.handle);
    }
}

static void
s_worker_forget (sim_worker_t *worker, sim_held_t *held)
{
    if (held->running)
        worker->busy--;
    memset (held, 0, sizeof *held);
}

//  A task ended at worker w: its result goes to its owner.
static void
s_worker_finish (sim_t *sim, uint32_t w, sim_held_t *held, uint8_t status, const char *error)
{
    sim_worker_t *worker = &sim->workers [w];
    const sim_task_t *task = &sim->tasks [held->task];
    uint8_t output [8];
    s_output (task, output);
    if (worker->byzantine)
        output [0] ^= 0x5A;
    zmesh_task_result_item_t item;
    memset (&item, 0, sizeof item);
    item.id = task->id;
    item.attempt = held->attempt;
    item.status = status;
    item.output = status == ZMESH_TASK_OK ? output : NULL;
    item.output_size = status == ZMESH_TASK_OK ? 8 : 0;
    item.error = error;
    item.error_size = (uint32_t) strlen (error);
    item.run_us = held->ran_ms * 1000ull;
    s_trace_line (sim, "worker %u: task %u attempt %u ends: %s", w, held->task, held->attempt,
                  zmesh_task_status_name (status));
    s_send_result (sim, w, held->owner, &item);
    s_worker_forget (worker, held);
    s_worker_start (sim, w);
}

static void
s_worker_progress (sim_t *sim, uint32_t w, uint32_t hi, uint32_t token)
{
    sim_worker_t *worker = &sim->workers [w];
    sim_held_t *held = &worker->held [hi];
    if (!held->used || !held->running || held->token != token)
        return;
    sim_task_t *task = &sim->tasks [held->task];
    if (!(worker->handlers & (1u << task->handler))) {
        s_worker_finish (sim, w, held, ZMESH_TASK_NO_HANDLER, "no such handler");
        return;
    }
    held->progress_ms += held->segment;
    held->ran_ms += held->segment;
    if (held->progress_ms >= task->work_ms) {
        bool fails =
            task->kind == K_BAD || (task->kind == K_FLAKY && sim_chance (&sim->rng, SIM_FLAKY_PPM));
        if (fails)
            s_worker_finish (sim, w, held, ZMESH_TASK_HANDLER_ERROR, "the handler failed");
        else
            s_worker_finish (sim, w, held, ZMESH_TASK_OK, "");
        return;
    }
    if (task->timeout_ms && held->ran_ms >= task->timeout_ms) {
        s_worker_finish (sim, w, held, ZMESH_TASK_TIMEOUT, "timed out");
        return;
    }
    if (task->checkpoints) {
        uint8_t data [8];
        s_put32 (data, held->task);
        s_put32 (data + 4, held->progress_ms);
        if (held->progress_ms > task->saved_max)
            task->saved_max = held->progress_ms;
        zmesh_task_ref_t ref = {.id = task->id, .attempt = held->attempt};
        size_t size;
        s_check_rc (sim,
                    zmesh_task_encode_checkpoint (sim->buf, sizeof sim->buf, &worker->id, NULL,
                                                  &ref, data, sizeof data, &size),
                    "encode checkpoint");
        s_net_send (sim, s_worker_entity (sim, w), held->owner, sim->buf, size);
    }
    s_schedule_segment (sim, w, hi);
}

//  A task item reaches worker w (SUBMIT from its owner, or STOLEN from a victim).
static void
s_worker_take (sim_t *sim, uint32_t w, const zmesh_task_item_t *item)
{
    sim_worker_t *worker = &sim->workers [w];
    uint32_t index = s_task_of (sim, &item->id);
    uint32_t o = s_owner_of (sim, &item->owner);
    if (index == UINT32_MAX || o == UINT32_MAX || sim->tasks [index].owner != o) {
        s_fail (sim, "worker %u got a task that nobody submitted", w);
        return;
    }
    sim_task_t *task = &sim->tasks [index];
    uint8_t payload [8];
    s_put32 (payload, index);
    s_put32 (payload + 4, task->work_ms);
    if (item->payload_size != 8 || memcmp (item->payload, payload, 8) != 0
        || strcmp (item->handler, s_handlers [task->handler]) != 0
        || item->attempt > task->dispatches || item->priority != task->priority
        || item->flags != task->flags) {
        s_fail (sim, "worker %u got task %u with the wrong fields", w, index);
        return;
    }
    uint32_t progress = 0;
    if (item->checkpoint) {
        if (item->checkpoint_size != 8 || s_get32 (item->checkpoint) != index
            || s_get32 (item->checkpoint + 4) > task->saved_max) {
            s_fail (sim, "worker %u got task %u with a checkpoint nobody saved", w, index);
            return;
        }
        progress = s_get32 (item->checkpoint + 4);
    }
    sim_held_t *held = s_held_find (worker, &item->id, sim);
    if (held) {
        //  Another attempt of a task held here: it answers for the newest.
        if (item->attempt > held->attempt)
            held->attempt = item->attempt;
        return;
    }
    uint32_t hi = 0;
    while (hi < SIM_HELD_MAX && worker->held [hi].used)
        hi++;
    if (hi == SIM_HELD_MAX
        || zmesh_taskq_push (&worker->queue, sim->now_ms, &item->id,
                             (zmesh_priority_t) item->priority, hi, item->cpu_millicores)
               != ZMESH_OK) {
        zmesh_task_result_item_t refused;
        memset (&refused, 0, sizeof refused);
        refused.id = item->id;
        refused.attempt = item->attempt;
        refused.status = ZMESH_TASK_REFUSED;
        refused.error = "worker queue full";
        refused.error_size = (uint32_t) strlen (refused.error);
        s_send_result (sim, w, o, &refused);
        return;
    }
    held = &worker->held [hi];
    memset (held, 0, sizeof *held);
    held->used = true;
    held->task = index;
    held->owner = o;
    held->attempt = item->attempt;
    held->progress_ms = progress;
    s_worker_start (sim, w);
}

static void
s_worker_cancel (sim_t *sim, uint32_t w, const zmesh_task_ref_t *ref)
{
    sim_worker_t *worker = &sim->workers [w];
    sim_held_t *held = s_held_find (worker, &ref->id, sim);
    if (held && !held->running) {
        zmesh_taskq_remove (&worker->queue, sim->now_ms, &ref->id, NULL);
        s_worker_forget (worker, held);
    }
}

static void
s_worker_leases (sim_t *sim, uint32_t w)
{
    sim_worker_t *worker = &sim->workers [w];
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        zmesh_task_writer_t writer;
        bool begun = false;
        for (uint32_t i = 0; i < SIM_HELD_MAX; i++) {
            sim_held_t *held = &worker->held [i];
            if (!held->used || held->owner != o)
                continue;
            if (!begun)
                s_check_rc (sim,
                            zmesh_task_writer_begin (&writer, sim->buf, sizeof sim->buf,
                                                     &worker->id, ZMESH_TASK_KIND_LEASE, NULL),
                            "begin lease");
            begun = true;
            zmesh_task_ref_t ref = {.id = sim->tasks [held->task].id,
                                    .attempt = held->attempt,
                                    .running = held->running};
            s_check_rc (sim, zmesh_task_writer_add_ref (&writer, &ref), "add lease ref");
        }
        if (begun)
            s_finish_send (sim, &writer, s_worker_entity (sim, w), o);
    }
}

//  Worker `victim` got a STEAL from worker `thief`.
static void
s_worker_steal (sim_t *sim, uint32_t victim, uint32_t thief, uint32_t max)
{
    sim_worker_t *worker = &sim->workers [victim];
    zmesh_taskq_entry_t entries [SIM_QUEUE_MAX];
    size_t count = zmesh_taskq_steal (&worker->queue, sim->now_ms,
                                      max < SIM_QUEUE_MAX ? max : SIM_QUEUE_MAX, entries);
    if (!count)
        return;
    sim->steals++;
    sim->stolen += count;
    //  MOVED to each owner concerned first, then STOLEN to the thief.
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        zmesh_task_writer_t writer;
        bool begun = false;
        for (size_t i = 0; i < count; i++) {
            sim_held_t *held = &worker->held [entries [i].handle];
            if (held->owner != o)
                continue;
            if (!begun)
                s_check_rc (sim,
                            zmesh_task_writer_begin_moved (&writer, sim->buf, sizeof sim->buf,
                                                           &worker->id, NULL,
                                                           &sim->workers [thief].id),
                            "begin moved");
            begun = true;
            zmesh_task_ref_t ref = {.id = sim->tasks [held->task].id, .attempt = held->attempt};
            s_check_rc (sim, zmesh_task_writer_add_ref (&writer, &ref), "add moved ref");
        }
        if (begun)
            s_finish_send (sim, &writer, s_worker_entity (sim, victim), o);
    }
    zmesh_task_writer_t writer;
    s_check_rc (sim,
                zmesh_task_writer_begin (&writer, sim->buf, sizeof sim->buf, &worker->id,
                                         ZMESH_TASK_KIND_STOLEN, NULL),
                "begin stolen");
    for (size_t i = 0; i < count; i++) {
        sim_held_t *held = &worker->held [entries [i].handle];
        const sim_task_t *task = &sim->tasks [held->task];
        uint8_t payload [8], checkpoint [8];
        s_put32 (payload, held->task);
        s_put32 (payload + 4, task->work_ms);
        s_put32 (checkpoint, held->task);
        s_put32 (checkpoint + 4, held->progress_ms);
        zmesh_task_item_t item;
        memset (&item, 0, sizeof item);
        item.id = task->id;
        item.owner = sim->owners [held->owner].id;
        item.attempt = held->attempt;
        item.priority = task->priority;
        item.flags = task->flags;
        item.timeout_ms = task->timeout_ms;
        snprintf (item.handler, sizeof item.handler, "%s", s_handlers [task->handler]);
        item.payload = payload;
        item.payload_size = 8;
        item.checkpoint = held->progress_ms ? checkpoint : NULL;
        item.checkpoint_size = held->progress_ms ? 8 : 0;
        s_check_rc (sim, zmesh_task_writer_add_task (&writer, &item), "add stolen");
        s_trace_line (sim, "worker %u: task %u attempt %u stolen by %u", victim, held->task,
                      held->attempt, thief);
        s_worker_forget (worker, held);
    }
    s_finish_send (sim, &writer, s_worker_entity (sim, victim), s_worker_entity (sim, thief));
}

static void
s_worker_deliver (sim_t *sim, uint32_t w, uint32_t from)
{
    const zmesh_task_msg_t *msg = &s_msg;
    switch (msg->kind) {
        case ZMESH_TASK_KIND_SUBMIT:
        case ZMESH_TASK_KIND_STOLEN:
            for (uint32_t i = 0; i < msg->count && !sim->failed; i++)
                s_worker_take (sim, w, &msg->u.tasks [i]);
            break;
        case ZMESH_TASK_KIND_CANCEL:
            for (uint32_t i = 0; i < msg->count; i++)
                s_worker_cancel (sim, w, &msg->u.refs [i]);
            break;
        case ZMESH_TASK_KIND_STEAL:
            if (from >= sim->owner_count)
                s_worker_steal (sim, w, from - sim->owner_count, msg->max);
            break;
        default:
            s_fail (sim, "worker %u got a message of kind %u", w, msg->kind);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Owners: the callbacks

static int
s_choose (void *arg,
          zmesh_owner_t *core,
          const zmesh_owner_choice_t *choice,
          zmesh_id_t *chosen,
          zmesh_id_t *optimal)
{
    sim_owner_t *owner = (sim_owner_t *) arg;
    sim_t *sim = owner->sim;
    const zmesh_owner_task_t *task = choice->task;
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    memcpy (request.handler, task->handler, sizeof request.handler);
    request.strategy = (zmesh_place_strategy_t) task->strategy;
    request.replicas = choice->want;
    request.task_id = task->id;
    uint32_t n = sim->worker_count, possible = 0;
    for (uint32_t i = 0; i < n; i++) {
        zmesh_place_node_t *candidate = &owner->candidates [i];
        const sim_worker_t *worker = &sim->workers [i];
        memset (candidate, 0, sizeof *candidate);
        candidate->id = worker->id;
        candidate->cpu_cores = 4;
        candidate->mem_available_bytes = 1ull << 34;
        candidate->slots = worker->slots;
        for (uint32_t h = 0; h < 3; h++)
            if (worker->advertised & (1u << h))
                snprintf (candidate->handlers [candidate->handler_count++], ZMESH_TASK_HANDLER_MAX,
                          "%s", s_handlers [h]);
        candidate->eligible = owner->alive [i];
        if (!candidate->eligible)
            continue;
        possible++;
        for (uint32_t j = 0; j < choice->avoid_count; j++)
            if (zmesh_id_equal (&choice->avoid [j], &candidate->id))
                candidate->eligible = false;
        if (candidate->eligible && !zmesh_owner_node_available (core, &candidate->id, sim->now_ms))
            candidate->eligible = false;
        candidate->queued = zmesh_owner_node_in_flight (core, &candidate->id);
    }
    if (!possible)
        return ZMESH_ENOTFOUND;
    zmesh_place_result_t result;
    int rc = zmesh_place_choose (NULL, &request, owner->candidates, n, &owner->ring,
                                 &owner->place_rng, &result);
    if (rc == ZMESH_ENOTFOUND) {
        //  Nothing eligible now: for lack of room (wait), or for good (park)?
        for (uint32_t i = 0; i < n; i++)
            owner->candidates [i].eligible = owner->alive [i];
        zmesh_place_result_t any;
        return zmesh_place_scan (NULL, &request, owner->candidates, n, &any) == ZMESH_OK
                   ? 0
                   : ZMESH_ENOTFOUND;
    }
    if (rc != ZMESH_OK) {
        s_fail (sim, "zmesh_place_choose: %s", zmesh_strerror (rc));
        return ZMESH_ENOTFOUND;
    }
    for (uint32_t i = 0; i < result.count; i++)
        chosen [i] = owner->candidates [result.nodes [i]].id;
    *optimal = chosen [0];
    return (int) result.count;
}

static void
s_send (void *arg, const zmesh_owner_send_t *send)
{
    sim_owner_t *owner = (sim_owner_t *) arg;
    sim_t *sim = owner->sim;
    uint32_t index = s_task_of (sim, &send->item.id);
    uint32_t w = s_worker_of (sim, &send->node);
    if (index == UINT32_MAX || w == UINT32_MAX) {
        s_fail (sim, "owner %u sent a task nobody submitted, or to a node that is no worker",
                owner->index);
        return;
    }
    sim_task_t *task = &sim->tasks [index];
    if (task->owner != owner->index || !task->submitted || task->done) {
        s_fail (sim, "owner %u sent task %u, which it does not own", owner->index, index);
        return;
    }
    if (send->item.attempt != task->dispatches + 1
        || send->item.attempt > task->redundancy + task->max_retries) {
        s_fail (sim, "owner %u sent task %u as attempt %u after %u attempts", owner->index, index,
                send->item.attempt, task->dispatches);
        return;
    }
    task->dispatches = send->item.attempt;
    //  Flow control and the breaker: the chooser only offers nodes that may take it.
    if (zmesh_owner_node_in_flight (owner->core, &send->node) > sim->config.window
        || zmesh_owner_breaker_state (owner->core, &send->node, sim->now_ms)
               == ZMESH_BREAKER_OPEN) {
        s_fail (sim, "owner %u sent task %u to worker %u beyond its window or breaker",
                owner->index, index, w);
        return;
    }
    s_trace_line (sim, "owner %u: task %u attempt %u -> worker %u", owner->index, index,
                  send->item.attempt, w);
    zmesh_task_item_t item = send->item;
    item.owner = owner->id;
    zmesh_task_writer_t writer;
    s_check_rc (sim,
                zmesh_task_writer_begin (&writer, sim->buf, sizeof sim->buf, &owner->id,
                                         ZMESH_TASK_KIND_SUBMIT, NULL),
                "begin submit");
    s_check_rc (sim, zmesh_task_writer_add_task (&writer, &item), "add task");
    s_finish_send (sim, &writer, owner->index, s_worker_entity (sim, w));
}

static void
s_cancel (void *arg, const zmesh_id_t *node, const zmesh_task_ref_t *ref)
{
    sim_owner_t *owner = (sim_owner_t *) arg;
    sim_t *sim = owner->sim;
    uint32_t w = s_worker_of (sim, node);
    if (w == UINT32_MAX) {
        s_fail (sim, "owner %u cancels on a node that is no worker", owner->index);
        return;
    }
    zmesh_task_writer_t writer;
    s_check_rc (sim,
                zmesh_task_writer_begin (&writer, sim->buf, sizeof sim->buf, &owner->id,
                                         ZMESH_TASK_KIND_CANCEL, NULL),
                "begin cancel");
    s_check_rc (sim, zmesh_task_writer_add_ref (&writer, ref), "add cancel ref");
    s_finish_send (sim, &writer, owner->index, s_worker_entity (sim, w));
}

static void
s_done (void *arg, const zmesh_owner_result_t *result)
{
    sim_owner_t *owner = (sim_owner_t *) arg;
    sim_t *sim = owner->sim;
    uint32_t index = s_task_of (sim, &result->task_id);
    if (index == UINT32_MAX || sim->tasks [index].owner != owner->index
        || !sim->tasks [index].submitted) {
        s_fail (sim, "owner %u delivered a result for a task it never took", owner->index);
        return;
    }
    sim_task_t *task = &sim->tasks [index];
    if (task->done) {
        s_fail (sim, "task %u got a second result", index);
        return;
    }
    task->done = true;
    sim->done++;
    task->success = result->success;
    task->status = result->status;
    task->winner = result->dispatched_to;
    snprintf (task->error, sizeof task->error, "%s", result->error);
    owner->results++;
    sim_hash (&sim->hash, index);
    sim_hash (&sim->hash, result->status | (uint64_t) result->attempts << 8);
    s_trace_line (sim, "owner %u: task %u done: %s (%s), %u attempts", owner->index, index,
                  result->success ? "ok" : "failed", result->error, result->attempts);
    if (result->attempts != task->dispatches || result->client != index
        || result->success != (result->status == ZMESH_TASK_OK)) {
        s_fail (sim, "task %u: result says %u attempts, %u were sent", index, result->attempts,
                task->dispatches);
        return;
    }
    if (result->success) {
        uint8_t right [8];
        s_output (task, right);
        uint32_t w = s_worker_of (sim, &result->dispatched_to);
        bool liar = w != UINT32_MAX && sim->workers [w].byzantine;
        bool right_output = result->output_size == 8 && memcmp (result->output, right, 8) == 0;
        if (!right_output && !(liar && task->redundancy == 1))
            s_fail (sim, "task %u succeeded with a wrong output (redundancy %u)", index,
                    task->redundancy);
    }
}

//  What every owner still owns (for a failure's report).
static void
s_dump (sim_t *sim)
{
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        sim_owner_t *owner = &sim->owners [o];
        zmesh_owner_stats_t stats;
        zmesh_owner_stats (owner->core, sim->now_ms, &stats);
        fprintf (stderr,
                 "  owner %u: owned %u, pending %u, in flight %u, deadline %" PRIu64 "; view:", o,
                 stats.owned, stats.pending, stats.in_flight,
                 zmesh_owner_deadline_ms (owner->core));
        for (uint32_t w = 0; w < sim->worker_count; w++)
            fprintf (
                stderr, " w%u %s%s%s in flight %u breaker %d", w,
                owner->alive [w] ? "alive" : "dead", sim->workers [w].up ? "" : " (down)",
                zmesh_owner_node_available (owner->core, &sim->workers [w].id, sim->now_ms)
                    ? ""
                    : " unavailable",
                zmesh_owner_node_in_flight (owner->core, &sim->workers [w].id),
                (int) zmesh_owner_breaker_state (owner->core, &sim->workers [w].id, sim->now_ms));
        fprintf (stderr, "\n");
        zmesh_owner_task_info_t info [8];
        uint32_t count = zmesh_owner_list (owner->core, sim->now_ms, info, 8);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t index = s_task_of (sim, &info [i].id);
            const sim_task_t *task = &sim->tasks [index];
            fprintf (stderr,
                     "    task %u: kind %u, redundancy %u, handler %s, %u attempts, %s, on worker "
                     "%d\n",
                     index, task->kind, task->redundancy, s_handlers [task->handler],
                     info [i].attempts, info [i].pending ? "pending" : "open",
                     info [i].pending ? -1 : (int) s_worker_of (sim, &info [i].node));
        }
    }
    for (uint32_t w = 0; w < sim->worker_count; w++) {
        const sim_worker_t *worker = &sim->workers [w];
        fprintf (stderr, "  worker %u: %s, busy %u/%u, queued %u, handlers %x (says %x)\n", w,
                 worker->up ? "up" : "down", worker->busy, worker->slots,
                 zmesh_taskq_depth (&worker->queue), worker->handlers, worker->advertised);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Owners: driving the core

static void
s_check_owner (sim_t *sim, sim_owner_t *owner)
{
    zmesh_owner_stats_t stats;
    zmesh_owner_stats (owner->core, sim->now_ms, &stats);
    uint32_t sum = 0;
    for (uint32_t w = 0; w < sim->worker_count; w++)
        sum += zmesh_owner_node_in_flight (owner->core, &sim->workers [w].id);
    if (stats.owned != stats.submitted - stats.completed
        || stats.completed != stats.succeeded + stats.failed || stats.completed != owner->results
        || stats.submitted != owner->submitted || stats.in_flight != sum
        || stats.pending > stats.owned)
        s_fail (sim,
                "owner %u: stats inconsistent: submitted %" PRIu64 " (%u), completed %" PRIu64
                " (%u results), owned %u, in flight %u (nodes say %u), pending %u",
                owner->index, stats.submitted, owner->submitted, stats.completed, owner->results,
                stats.owned, stats.in_flight, sum, stats.pending);
}

//  After any call into an owner's core: check it, and make sure a tick comes at its deadline.
static void
s_owner_after (sim_t *sim, sim_owner_t *owner)
{
    s_check_owner (sim, owner);
    uint64_t deadline = zmesh_owner_deadline_ms (owner->core);
    if (deadline < sim->now_ms)
        deadline = sim->now_ms;  //  due already: at once
    if (deadline == owner->tick_at)
        return;
    owner->tick_at = deadline;
    if (deadline != UINT64_MAX)
        s_timer (sim, deadline, EV_TICK, owner->index, 0, 0, 0);
}

static void
s_owner_deliver (sim_t *sim, sim_owner_t *owner, uint32_t w)
{
    const zmesh_task_msg_t *msg = &s_msg;
    const zmesh_id_t *from = &sim->workers [w].id;
    zmesh_owner_heard (owner->core, sim->now_ms, from);
    switch (msg->kind) {
        case ZMESH_TASK_KIND_RESULT:
            for (uint32_t i = 0; i < msg->count; i++)
                zmesh_owner_result (owner->core, sim->now_ms, from, &msg->u.results [i]);
            break;
        case ZMESH_TASK_KIND_LEASE:
            zmesh_owner_lease (owner->core, sim->now_ms, from, msg->u.refs, msg->count);
            break;
        case ZMESH_TASK_KIND_MOVED:
            zmesh_owner_moved (owner->core, sim->now_ms, from, &msg->thief, msg->u.refs,
                               msg->count);
            break;
        case ZMESH_TASK_KIND_CHECKPOINT:
            zmesh_owner_checkpoint (owner->core, sim->now_ms, from, &msg->checkpoint_of,
                                    msg->checkpoint, msg->checkpoint_size);
            break;
        default:
            s_fail (sim, "owner %u got a message of kind %u", owner->index, msg->kind);
    }
}

static void
s_owner_submit (sim_t *sim, sim_owner_t *owner, uint32_t index)
{
    sim_task_t *task = &sim->tasks [index];
    uint8_t payload [8];
    s_put32 (payload, index);
    s_put32 (payload + 4, task->work_ms);
    zmesh_owner_task_t spec;
    memset (&spec, 0, sizeof spec);
    spec.id = task->id;
    snprintf (spec.handler, sizeof spec.handler, "%s", s_handlers [task->handler]);
    spec.payload = payload;
    spec.payload_size = 8;
    spec.priority = task->priority;
    spec.flags = task->flags;
    spec.timeout_ms = task->timeout_ms;
    spec.cpu_millicores = 100;
    spec.max_retries = task->max_retries;
    spec.redundancy = task->redundancy;
    spec.retry_on_error = task->retry_on_error;
    spec.strategy = task->strategy;
    spec.client = index;
    //  Marked first: the core may send (and the send checks) from within submit.
    task->submitted = true;
    owner->submitted++;
    int rc = zmesh_owner_submit (owner->core, sim->now_ms, &spec);
    if (rc == ZMESH_ELIMIT) {
        //  The owner is full: the submitter waits and tries again.
        task->submitted = false;
        owner->submitted--;
        s_timer (sim, sim->now_ms + 100, EV_SUBMIT, owner->index, 0, 0, index);
        return;
    }
    if (rc != ZMESH_OK)
        s_fail (sim, "owner %u: submit of task %u: %s", owner->index, index, zmesh_strerror (rc));
    s_trace_line (sim, "owner %u: task %u submitted (kind %u, redundancy %u)", owner->index, index,
                  task->kind, task->redundancy);
}

static void
s_owner_tick (sim_t *sim, sim_owner_t *owner, uint64_t at_ms)
{
    if (at_ms != owner->tick_at)
        return;  //  a deadline since replaced
    owner->tick_at = UINT64_MAX;
    bool dumped = sim->failed;
    zmesh_owner_tick (owner->core, sim->now_ms);
    if (zmesh_owner_deadline_ms (owner->core) <= sim->now_ms)
        s_fail (sim,
                "owner %u: after a tick at %" PRIu64 ", the deadline is %" PRIu64
                " (work left undone)",
                owner->index, sim->now_ms, zmesh_owner_deadline_ms (owner->core));
    if (sim->failed && !dumped) {
        dumped = true;
        s_dump (sim);
    }
}

//  Membership tells owner o about worker w.
static void
s_member (sim_t *sim, uint32_t o, uint32_t w, bool up)
{
    sim_owner_t *owner = &sim->owners [o];
    if (owner->alive [w] == up)
        return;
    owner->alive [w] = up;
    s_trace_line (sim, "owner %u: membership says worker %u is %s", o, w, up ? "alive" : "dead");
    if (up)
        zmesh_owner_kick (owner->core, sim->now_ms);
    else
        zmesh_owner_node_down (owner->core, sim->now_ms, &sim->workers [w].id);
}

//  ---------------------------------------------------------------------------------------------
//  Faults

static void
s_worker_boot (sim_t *sim, uint32_t w)
{
    sim_worker_t *worker = &sim->workers [w];
    worker->up = true;
    worker->run++;
    s_worker_reset (worker);
    s_timer (sim, sim->now_ms + sim_range (&sim->rng, 1, sim->lease_interval_ms), EV_LEASE, w, 0,
             worker->run, 0);
    s_timer (sim, sim->now_ms + sim_range (&sim->rng, 1, sim->steal_interval_ms), EV_STEAL, w, 0,
             worker->run, 0);
}

static void
s_crash (sim_t *sim, uint32_t w)
{
    sim_worker_t *worker = &sim->workers [w];
    worker->up = false;
    worker->run++;
    s_worker_reset (worker);
    sim->crashes++;
    s_trace_line (sim, "worker %u crashes", w);
    s_timer (sim, sim->now_ms + sim_range (&sim->rng, 300, 8000), EV_RESTART, w, 0, worker->run, 0);
    for (uint32_t o = 0; o < sim->owner_count; o++)
        if (sim_chance (&sim->rng, sim->detect_ppm))
            s_timer (sim, sim->now_ms + sim_range (&sim->rng, 200, 3000), EV_MEMBER, o, w,
                     worker->run, 0);
}

static void
s_fault (sim_t *sim)
{
    if (sim->quiet)
        return;
    uint32_t w = (uint32_t) sim_range (&sim->rng, 0, sim->worker_count - 1);
    sim_worker_t *worker = &sim->workers [w];
    uint32_t roll = (uint32_t) sim_range (&sim->rng, 0, 99);
    if (roll < 40 && worker->up && !worker->steady)
        s_crash (sim, w);
    else if (roll < 75 && worker->up && worker->frozen_until <= sim->now_ms) {
        worker->frozen_until =
            sim->now_ms + sim_range (&sim->rng, 100, 3 * sim->config.lease_timeout_ms);
        sim->freezes++;
        s_trace_line (sim, "worker %u freezes until %" PRIu64, w, worker->frozen_until);
    }
    else if (roll >= 90) {
        //  The link between an owner and a worker is cut for a while, both ways.
        uint32_t o = (uint32_t) sim_range (&sim->rng, 0, sim->owner_count - 1);
        sim->cut_until [o][w] = sim->now_ms
                                + sim_range (&sim->rng, sim->config.lease_timeout_ms / 2,
                                             4 * sim->config.lease_timeout_ms);
        sim->cuts++;
        s_trace_line (sim, "link owner %u - worker %u cut until %" PRIu64, o, w,
                      sim->cut_until [o][w]);
    }
    else if (roll >= 75 && !worker->steady) {
        uint32_t o = (uint32_t) sim_range (&sim->rng, 0, sim->owner_count - 1);
        if (sim->owners [o].alive [w] && worker->up) {
            sim->false_deaths++;
            s_member (sim, o, w, false);
            s_owner_after (sim, &sim->owners [o]);
            s_timer (sim, sim->now_ms + sim_range (&sim->rng, 300, 4000), EV_MEMBER, o, w, 0, 1);
        }
    }
    uint64_t next =
        sim->now_ms + sim_range (&sim->rng, sim->fault_gap_ms / 2, sim->fault_gap_ms * 3 / 2);
    if (next < sim->quiet_at_ms)
        s_timer (sim, next, EV_FAULT, 0, 0, 0, 0);
}

static void
s_quiet (sim_t *sim)
{
    sim->quiet = true;
    s_trace_line (sim, "quiet: every worker up, every view whole");
    for (uint32_t w = 0; w < sim->worker_count; w++)
        if (!sim->workers [w].up)
            s_worker_boot (sim, w);
    memset (sim->cut_until, 0, sizeof sim->cut_until);
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        for (uint32_t w = 0; w < sim->worker_count; w++)
            s_member (sim, o, w, true);
        s_owner_after (sim, &sim->owners [o]);
    }
}

//  ---------------------------------------------------------------------------------------------
//  The event loop

static bool
s_worker_event (const sim_event_t *event, const sim_t *sim, uint32_t *w)
{
    if (event->kind == EV_DELIVER && event->b >= sim->owner_count) {
        *w = event->b - sim->owner_count;
        return true;
    }
    if (event->kind == EV_PROGRESS || event->kind == EV_LEASE || event->kind == EV_STEAL) {
        *w = event->a;
        return true;
    }
    return false;
}

static void
s_deliver (sim_t *sim, const sim_event_t *event)
{
    zmesh_id_t sender;
    int rc = zmesh_task_envelope_decode (&s_msg, &sender, event->bytes, event->size);
    if (rc != ZMESH_OK) {
        s_fail (sim, "a message does not decode: %s", zmesh_strerror (rc));
        return;
    }
    if (event->b < sim->owner_count) {
        uint32_t w = event->a - sim->owner_count;
        if (!zmesh_id_equal (&sender, &sim->workers [w].id)) {
            s_fail (sim, "a message to an owner has the wrong sender");
            return;
        }
        s_owner_deliver (sim, &sim->owners [event->b], w);
        s_owner_after (sim, &sim->owners [event->b]);
    }
    else if (sim->workers [event->b - sim->owner_count].up)
        s_worker_deliver (sim, event->b - sim->owner_count, event->a);
}

static void
s_dispatch (sim_t *sim, sim_event_t *event)
{
    uint32_t w;
    if (s_worker_event (event, sim, &w)) {
        sim_worker_t *worker = &sim->workers [w];
        if (event->kind != EV_DELIVER && event->run != worker->run)
            return;  //  a timer of a run that ended
        if (worker->up && worker->frozen_until > sim->now_ms) {
            //  Frozen: it happens when the worker thaws, in the same order.
            sim_event_t later = *event;
            later.at_ms = worker->frozen_until;
            event->bytes = NULL;
            s_push (sim, later);
            return;
        }
    }
    switch (event->kind) {
        case EV_DELIVER:
            s_deliver (sim, event);
            break;
        case EV_TICK:
            s_owner_tick (sim, &sim->owners [event->a], event->at_ms);
            s_owner_after (sim, &sim->owners [event->a]);
            break;
        case EV_SUBMIT:
            s_owner_submit (sim, &sim->owners [event->a], event->token);
            s_owner_after (sim, &sim->owners [event->a]);
            break;
        case EV_PROGRESS:
            s_worker_progress (sim, event->a, event->b, event->token);
            break;
        case EV_LEASE:
            s_worker_leases (sim, event->a);
            s_timer (sim, sim->now_ms + sim->lease_interval_ms, EV_LEASE, event->a, 0, event->run,
                     0);
            break;
        case EV_STEAL: {
            sim_worker_t *worker = &sim->workers [event->a];
            //  Idle, and able to run whatever it takes (a thief needs the handlers).
            if (worker->busy < worker->slots && zmesh_taskq_depth (&worker->queue) == 0
                && sim->worker_count > 1 && worker->handlers == 3u) {
                uint32_t victim = (uint32_t) sim_range (&sim->rng, 0, sim->worker_count - 2);
                if (victim >= event->a)
                    victim++;
                size_t size;
                s_check_rc (sim,
                            zmesh_task_encode_steal (sim->buf, sizeof sim->buf, &worker->id, NULL,
                                                     worker->slots, &size),
                            "encode steal");
                s_net_send (sim, s_worker_entity (sim, event->a), s_worker_entity (sim, victim),
                            sim->buf, size);
            }
            s_timer (sim, sim->now_ms + sim->steal_interval_ms, EV_STEAL, event->a, 0, event->run,
                     0);
            break;
        }
        case EV_FAULT:
            s_fault (sim);
            break;
        case EV_RESTART:
            if (!sim->workers [event->a].up && sim->workers [event->a].run == event->run) {
                s_trace_line (sim, "worker %u restarts", event->a);
                s_worker_boot (sim, event->a);
                //  Membership hears of it again.
                for (uint32_t o = 0; o < sim->owner_count; o++)
                    if (!sim->owners [o].alive [event->a])
                        s_timer (sim, sim->now_ms + sim_range (&sim->rng, 100, 2000), EV_MEMBER, o,
                                 event->a, 0, 1);
            }
            break;
        case EV_MEMBER:
            if (event->token == 1)
                s_member (sim, event->a, event->b, sim->workers [event->b].up);
            else if (!sim->workers [event->b].up && sim->workers [event->b].run == event->run)
                s_member (sim, event->a, event->b, false);
            s_owner_after (sim, &sim->owners [event->a]);
            break;
        case EV_QUIET:
            s_quiet (sim);
            break;
        default:
            ZMESH_ASSERT (false);
    }
}

//  What each task's one result must be, at the end.
static void
s_check_end (sim_t *sim)
{
    for (uint32_t i = 0; i < sim->task_count && !sim->failed; i++) {
        const sim_task_t *task = &sim->tasks [i];
        if (!task->done) {
            s_fail (sim, "task %u (kind %u) has no result at the end (%u attempts)", i, task->kind,
                    task->dispatches);
            return;
        }
        bool plenty = task->max_retries >= SIM_RETRIES_PLENTY;
        bool must_succeed =
            plenty
            && (task->kind == K_PLAIN || task->kind == K_FLAKY
                || (task->kind == K_CRITICAL && !(task->redundancy == 2 && sim->byzantine_count)));
        if (must_succeed && !task->success)
            s_fail (sim, "task %u (kind %u, redundancy %u) failed: %s", i, task->kind,
                    task->redundancy, task->error);
        if ((task->kind == K_BAD || task->kind == K_SLOW || task->kind == K_NOWHERE)
            && task->success)
            s_fail (sim, "task %u (kind %u) succeeded", i, task->kind);
        if (task->kind == K_NOWHERE
            && (task->status != ZMESH_TASK_REFUSED || !strstr (task->error, "no eligible node")))
            s_fail (sim, "task %u (no handler anywhere) failed with %s", i, task->error);
    }
    for (uint32_t o = 0; o < sim->owner_count && !sim->failed; o++) {
        zmesh_owner_stats_t stats;
        zmesh_owner_stats (sim->owners [o].core, sim->now_ms, &stats);
        if (stats.owned || stats.in_flight || stats.pending)
            s_fail (sim, "owner %u still owns %u tasks at the end", o, stats.owned);
    }
}

//  ---------------------------------------------------------------------------------------------
//  A seed

static void
s_draw_task (sim_t *sim, uint32_t index, uint64_t submit_end_ms)
{
    sim_task_t *task = &sim->tasks [index];
    memset (task, 0, sizeof *task);
    task->owner = (uint32_t) sim_range (&sim->rng, 0, sim->owner_count - 1);
    task->id.bytes [0] = (uint8_t) index;
    task->id.bytes [1] = (uint8_t) (index >> 8);
    uint64_t salt = sim_rand (&sim->rng);
    for (int i = 2; i < 10; i++)
        task->id.bytes [i] = (uint8_t) (salt >> (8 * (i - 2)));
    uint32_t roll = (uint32_t) sim_range (&sim->rng, 0, 99);
    task->kind = roll < 50   ? K_PLAIN
                 : roll < 62 ? K_ONCE
                 : roll < 68 ? K_FLAKY
                 : roll < 71 ? K_BAD
                 : roll < 74 ? K_SLOW
                 : roll < 76 ? K_NOWHERE
                 : roll < 86 ? K_FEW
                             : K_CRITICAL;
    task->flags = task->kind == K_ONCE ? 0 : ZMESH_TASK_FLAG_IDEMPOTENT;
    task->priority = (uint8_t) sim_range (&sim->rng, 0, ZMESH_PRIORITY_COUNT - 1);
    task->handler = sim_chance (&sim->rng, 300000) ? 1 : 0;
    if (task->kind == K_NOWHERE)
        task->handler = 2;
    uint32_t strategy = (uint32_t) sim_range (&sim->rng, 0, 2);  //  score, auction, hash
    task->strategy = (uint8_t) strategy;
    task->redundancy = 1;
    task->max_retries = (uint32_t) sim_range (&sim->rng, SIM_RETRIES_PLENTY, 300);
    task->work_ms = (uint32_t) sim_range (&sim->rng, 1, 400);
    task->checkpoints = sim_chance (&sim->rng, 300000);
    switch (task->kind) {
        case K_ONCE:
            task->max_retries = (uint32_t) sim_range (&sim->rng, 0, 20);
            break;
        case K_FLAKY:
            task->retry_on_error = true;
            break;
        case K_BAD:
            task->retry_on_error = sim_chance (&sim->rng, 500000);
            task->max_retries = (uint32_t) sim_range (&sim->rng, 0, 5);
            break;
        case K_SLOW:
            task->work_ms = (uint32_t) sim_range (&sim->rng, 50, 400);
            task->timeout_ms = (uint32_t) sim_range (&sim->rng, 1, task->work_ms / 3);
            task->max_retries = (uint32_t) sim_range (&sim->rng, 0, 4);
            task->checkpoints = false;  //  a checkpoint would carry it past its timeout
            break;
        case K_FEW:
            task->max_retries = (uint32_t) sim_range (&sim->rng, 0, 2);
            break;
        case K_CRITICAL:
            task->redundancy = (uint32_t) sim_range (&sim->rng, 2, 3);
            task->priority = ZMESH_PRIORITY_CRITICAL;
            task->handler = 0;
            break;
        default:
            break;
    }
    //  A generous timeout now and then on tasks that must succeed (never reached: slack x3).
    if (task->kind == K_PLAIN && sim_chance (&sim->rng, 200000))
        task->timeout_ms = task->work_ms * 3 + 10;
    task->submit_at = sim_range (&sim->rng, 1, submit_end_ms);
}

static void
s_setup (sim_t *sim)
{
    sim->owner_count = (uint32_t) sim_range (&sim->rng, 1, SIM_OWNERS_MAX);
    sim->worker_count = (uint32_t) sim_range (&sim->rng, 2, SIM_WORKERS_MAX);
    sim->task_count = (uint32_t) sim_range (&sim->rng, 20, SIM_TASKS_MAX);
    sim->loss_ppm = (uint32_t) sim_range (&sim->rng, 0, 100000);
    sim->dup_ppm = (uint32_t) sim_range (&sim->rng, 0, 50000);
    sim->delay_min_ms = (uint32_t) sim_range (&sim->rng, 1, 5);
    sim->delay_max_ms = sim->delay_min_ms + (uint32_t) sim_range (&sim->rng, 0, 60);
    bool slow_network = sim_chance (&sim->rng, 150000);
    sim->fault_gap_ms = (uint32_t) sim_range (&sim->rng, 300, 3000);
    sim->detect_ppm = (uint32_t) sim_range (&sim->rng, 0, 1000000);
    zmesh_owner_config_t *config = &sim->config;
    zmesh_owner_config_defaults (config);
    config->lease_timeout_ms = (uint32_t) sim_range (&sim->rng, 300, 2000);
    config->retry_base_ms = (uint32_t) sim_range (&sim->rng, 5, 100);
    config->retry_max_ms = config->retry_base_ms + (uint32_t) sim_range (&sim->rng, 0, 1500);
    config->window = (uint32_t) sim_range (&sim->rng, 1, 24);
    config->max_tasks = (uint32_t) sim_range (&sim->rng, 5, 200);
    config->aging_ms = (uint32_t) sim_range (&sim->rng, 50, 5000);
    config->place_timeout_ms = (uint32_t) sim_range (&sim->rng, 300, 4000);
    config->breaker.failures_in_row = (uint32_t) sim_range (&sim->rng, 2, 8);
    config->breaker.open_base_ms = (uint32_t) sim_range (&sim->rng, 200, 4000);
    config->breaker.open_max_ms = config->breaker.open_base_ms * 4;
    config->breaker.half_open_trials = (uint32_t) sim_range (&sim->rng, 1, 3);
    sim->lease_interval_ms = config->lease_timeout_ms / 4;
    //  A slow network: delays up to half the lease timeout (beyond it, the premise of leases
    //  breaks: every worker looks dead all the time, and progress only crawls). With a lost
    //  lease or two, live workers' leases expire; results and MOVED come late.
    if (slow_network)
        sim->delay_max_ms =
            sim->delay_min_ms + (uint32_t) sim_range (&sim->rng, 0, config->lease_timeout_ms / 2);
    sim->steal_interval_ms = (uint32_t) sim_range (&sim->rng, 50, 1000);
    uint64_t submit_end = sim_range (&sim->rng, 1000, 20000);
    sim->quiet_at_ms = submit_end + sim_range (&sim->rng, 1000, 15000);
    bool byzantine = sim->worker_count >= 3 && sim_chance (&sim->rng, 200000);
    sim->rare_work = sim_chance (&sim->rng, 250000);
    if (sim->rare_work)  //  parked tasks must outlast the workers' absences
        config->place_timeout_ms = (uint32_t) sim->quiet_at_ms + 30000;
    for (uint32_t w = 0; w < sim->worker_count; w++) {
        sim_worker_t *worker = &sim->workers [w];
        worker->id = s_entity_id (0x0B, w);
        worker->steady = w == 0;
        worker->slots = (uint32_t) sim_range (&sim->rng, 1, SIM_SLOTS_MAX);
        worker->capacity = (uint32_t) sim_range (&sim->rng, 1, SIM_QUEUE_MAX);
        worker->speed_pct = (uint32_t) sim_range (&sim->rng, 50, 300);
        worker->handlers = 1u | (w == 0 || sim_chance (&sim->rng, 500000) ? 2u : 0u);
        if (sim->rare_work)
            worker->handlers = 1u | (w == 1 || (w > 0 && sim_chance (&sim->rng, 300000)) ? 2u : 0u);
        worker->advertised = worker->handlers;
        if (w > 0 && sim_chance (&sim->rng, 100000))
            worker->advertised |= 2u;  //  says it has `work`, and has not
        if (byzantine && w == sim->worker_count - 1) {
            worker->byzantine = true;
            sim->byzantine_count = 1;
        }
    }
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        sim_owner_t *owner = &sim->owners [o];
        owner->sim = sim;
        owner->index = o;
        owner->id = s_entity_id (0x0A, o);
        owner->tick_at = UINT64_MAX;
        owner->place_rng = sim_rand (&sim->rng);
        for (uint32_t w = 0; w < sim->worker_count; w++) {
            owner->alive [w] = true;
            memset (&owner->candidates [w], 0, sizeof owner->candidates [w]);
            owner->candidates [w].id = sim->workers [w].id;
        }
        ZMESH_ASSERT (
            zmesh_place_ring_build (&owner->ring, NULL, owner->candidates, sim->worker_count)
            == ZMESH_OK);
        zmesh_owner_callbacks_t callbacks = {
            .arg = owner, .choose = s_choose, .send = s_send, .cancel = s_cancel, .done = s_done};
        owner->core = zmesh_owner_new (config, &callbacks, sim_rand (&sim->rng), 0);
        ZMESH_ASSERT (owner->core);
    }
    for (uint32_t i = 0; i < sim->task_count; i++) {
        s_draw_task (sim, i, submit_end);
        s_timer (sim, sim->tasks [i].submit_at, EV_SUBMIT, sim->tasks [i].owner, 0, 0, i);
    }
    for (uint32_t w = 0; w < sim->worker_count; w++)
        s_worker_boot (sim, w);
    s_timer (sim, sim_range (&sim->rng, 100, 2000), EV_FAULT, 0, 0, 0, 0);
    s_timer (sim, sim->quiet_at_ms, EV_QUIET, 0, 0, 0, 0);
}

static void
s_teardown (sim_t *sim)
{
    while (sim->heap_size)
        free (s_pop (sim).bytes);
    free (sim->heap);
    sim->heap = NULL;
    sim->heap_capacity = 0;
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        zmesh_owner_destroy (&sim->owners [o].core);
        zmesh_place_ring_fini (&sim->owners [o].ring);
    }
    for (uint32_t w = 0; w < sim->worker_count; w++)
        zmesh_taskq_fini (&sim->workers [w].queue);
}

//  Run one seed: its trace hash; *passed its verdict.
static uint64_t
s_run_seed (uint32_t seed, bool verbose, bool *passed)
{
    static sim_t sim_storage;
    sim_t *sim = &sim_storage;
    memset (sim, 0, sizeof *sim);
    sim_current_seed = (sig_atomic_t) seed;
    sim->seed = seed;
    sim->verbose = verbose;
    sim->rng = seed * 0x2545f4914f6cdd1dull + 7;
    sim->hash = 0xcbf29ce484222325ull;
    s_setup (sim);
    while (sim->heap_size && !sim->failed) {
        sim_event_t event = s_pop (sim);
        ZMESH_ASSERT (event.at_ms >= sim->now_ms);
        sim->now_ms = event.at_ms;
        sim->events++;
        sim_hash (&sim->hash, event.at_ms);
        sim_hash (&sim->hash, (uint64_t) event.kind << 32 | (uint64_t) event.a << 16 | event.b);
        s_dispatch (sim, &event);
        free (event.bytes);
        if (sim->quiet && sim->done == sim->task_count)
            break;
        if (sim->now_ms > sim->quiet_at_ms + SIM_END_LIMIT_MS || sim->events > SIM_EVENTS_MAX) {
            s_fail (sim, "tasks still open %u ms after the quiet end (%" PRIu64 " events)",
                    SIM_END_LIMIT_MS, sim->events);
            s_dump (sim);
            break;
        }
    }
    if (!sim->failed)
        s_check_end (sim);
    if (verbose) {
        uint64_t ok = 0, failed = 0, lost = 0, retried = 0, moved = 0, duplicates = 0,
                 disagreements = 0, checkpoints = 0;
        for (uint32_t o = 0; o < sim->owner_count; o++) {
            zmesh_owner_stats_t stats;
            zmesh_owner_stats (sim->owners [o].core, sim->now_ms, &stats);
            ok += stats.succeeded;
            failed += stats.failed;
            lost += stats.lost;
            retried += stats.retried;
            moved += stats.moved;
            duplicates += stats.duplicates;
            disagreements += stats.disagreements;
            checkpoints += stats.checkpoints;
        }
        printf (
            "seed %4u: %u owners, %u workers%s, %3u tasks, loss %2u%%, dup %u%%, delay %u..%u "
            "ms, lease %4u ms, window %2u: %6" PRIu64 " events, %3" PRIu64 " ok %3" PRIu64
            " failed, %2" PRIu64 " crashes %2" PRIu64 " freezes %2" PRIu64 " false deaths %2" PRIu64
            " cuts, %3" PRIu64 " lost %4" PRIu64 " retried %3" PRIu64 " moved (%3" PRIu64
            " stolen) %3" PRIu64 " duplicates %2" PRIu64 " disagreements %3" PRIu64
            " checkpoints, done at %3" PRIu64 " s, hash %016" PRIx64 "%s\n",
            seed, sim->owner_count, sim->worker_count, sim->byzantine_count ? " (1 byzantine)" : "",
            sim->task_count, sim->loss_ppm / 10000, sim->dup_ppm / 10000, sim->delay_min_ms,
            sim->delay_max_ms, sim->config.lease_timeout_ms, sim->config.window, sim->events, ok,
            failed, sim->crashes, sim->freezes, sim->false_deaths, sim->cuts, lost, retried, moved,
            sim->stolen, duplicates, disagreements, checkpoints, sim->now_ms / 1000, sim->hash,
            sim->failed ? "  FAILED" : "");
    }
    s_teardown (sim);
    *passed = !sim->failed;
    return sim->hash;
}

int
main (void)
{
    sim_name = "sim_work";
    signal (SIGABRT, sim_on_abort);
    setvbuf (stdout, NULL, _IOLBF, 0);
    const char *trace = getenv ("ZMESH_SIM_TRACE");
    s_trace = trace && *trace && *trace != '0';
    uint32_t first, count;
    sim_seed_range (SIM_SEEDS_DEFAULT, &first, &count);
    uint32_t passed = 0, failed = 0;
    for (uint32_t seed = first; seed < first + count; seed++) {
        bool ok;
        s_run_seed (seed, true, &ok);
        if (ok)
            passed++;
        else
            failed++;
    }
    s_trace = false;
    bool ok_a, ok_b;
    uint64_t a = s_run_seed (first, false, &ok_a);
    uint64_t b = s_run_seed (first, false, &ok_b);
    bool deterministic = sim_report_determinism ("sim_work", first, a, ok_a, b, ok_b);
    return sim_report_result ("sim_work", passed, failed, deterministic);
}
