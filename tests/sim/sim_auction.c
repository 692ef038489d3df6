/*  sim_auction.c: a deterministic, seeded simulation of the owner's rounds of bids
    (zmesh_auction.h, protocol.md 8.14), against a reference model.

    1..4 owners, each with its own zmesh_auction_t and its own view of 2..12 nodes, place
    tasks of 2..8 kinds (a handler of 3, and a CPU demand of 3) as the balancer does
    (actors/zmesh_balancer.c, s_auction): the round for the task's kind; if it is new, a CALL
    to every node the owner sees alive offering the handler (a send may fail: that node is
    not asked), then sent; a task whose round is open waits, and every waiting task is tried
    again when a round closes (by its last answer, or by a tick at the core's deadline) or
    the owner's view changes. A task whose round is closed, or that gets none (every round
    kept is open), is placed with zmesh_place_choose, strategy AUCTION, over the candidates
    with the round's bids applied. Messages are encoded with zmesh_task's codec and decoded
    by the receiver, over a network that loses, delays (past the wait, in some seeds),
    duplicates and so reorders them.

    Nodes answer a CALL after a delay of their own (some are slow: their bids come late),
    `able` for the handlers they have; some offer a handler they do not have (they answer
    unable), some have one they do not offer (never asked); some answer twice, the second
    time differently. Nodes die (they never answer again; an owner's view learns it after a
    while, or never). In some seeds a hostile node sends bids for calls it was not asked
    in, with ids it saw go by, forged ids and 0, answers many times when asked, and the
    simulator hands a core bids the decoder would refuse (permille above 1000, unable with
    a permille). Time advances by random steps, cut at the cores' deadlines and the next
    message (as a shell's poll timeout), or, in "lazy" seeds, not cut at the deadlines (the
    shell ticks late).

    A reference model of each owner's rounds (the rules of zmesh_auction.h, written again
    apart) predicts every answer of the core: the round found or opened and its call id,
    ZMESH_ELIMIT when every round kept is open, the code of every bid, whether it closed
    the round. Invariants, after every event and every step:
    - every answer of the core is the model's; the stats are the model's counts, and add up
      (opened = closed by answers + empty + by deadline + open; bids = accepted + ignored);
    - at most rounds_max rounds kept; the core's deadline is the earliest open round's;
    - no round is open at or past its deadline after a tick; a round closes no later than its
      deadline (lazy seeds: at the first tick at or after it), and at once on the answer
      that completes it (no waiting when every node asked answered);
    - a closed round is never reopened, and its bids never change: applying it marks
      exactly the nodes asked that answered unable, and gives exactly the first answer of
      each node asked that answered before the close (no other node, no later answer);
    - placement never chooses a node whose answer in the round was unable.
    And at the end (submissions over, SIM_END_LIMIT_MS later at most): every task was
    placed or found no node, none waits; a round forgotten is NONE to the core.

    Usage: sim_auction                       seeds 1..SIM_SEEDS_DEFAULT (ZMESH_SIM_SEEDS=n)
           ZMESH_SIM_SEED=n sim_auction      one seed, run twice: same trace hash
           ZMESH_SIM_TRACE=1                 print every event of the seeds run
*/
#include "sim_common.h"
#include "zmesh_auction.h"
#include "zmesh_error.h"
#include "zmesh_place.h"
#include "zmesh_task.h"
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_SEEDS_DEFAULT 300
#define SIM_OWNERS_MAX    4
#define SIM_NODES_MAX     13  //  12 honest, and the hostile one
#define SIM_HANDLERS      3
#define SIM_KINDS_MAX     8
#define SIM_TASKS_MAX     300
#define SIM_ROUNDS_MAX    8192  //  rounds one owner may open in a seed (more: a livelock)
#define SIM_END_LIMIT_MS  20000
#define SIM_BUF_SIZE      2048

#define SIM_NONE   (-2)  //  a node's answer in the model: none yet
#define SIM_UNABLE (-1)  //  `able` false

typedef enum {
    EV_DELIVER = 1,  //  a message from entity a to entity b
    EV_SUBMIT,       //  owner a submits task `token`
    EV_DEATH,        //  node a dies
    EV_DETECT,       //  owner a's view learns node b died
    EV_HOSTILE,      //  the hostile node sends a forged bid
    EV_INJECT,       //  a malformed bid straight into owner a's core
    EV_ANSWER        //  node a answers the call in the event's bytes, to owner b
} sim_event_kind_t;

typedef struct {
    uint64_t at_ms;
    uint64_t seq;
    uint8_t kind;
    uint16_t a, b;
    uint32_t token;
    uint32_t size;
    uint8_t *bytes;
} sim_event_t;
SIM_EVENT_CHECK (sim_event_t);

//  The model of one round.
typedef struct {
    bool exists;
    bool sent, closed, gone;
    uint8_t kind;
    uint64_t opened_ms, deadline_ms, closed_ms, valid_until_ms;
    uint32_t asked;  //  bit per node
    uint32_t count;  //  nodes asked
    uint32_t answered;
    int16_t answer [SIM_NODES_MAX];
} sim_round_t;

typedef struct {
    uint32_t owner;
    uint8_t kind;
    uint64_t submit_at;
    bool submitted, waiting, done;
    int32_t placed_on;  //  node index; -1 none found
    bool computed;      //  placed without a round (every round kept was open)
} sim_task_t;

typedef struct {
    zmesh_id_t id;
    bool dead;
    bool hostile;
    bool twice;          //  answers every call twice, the second time otherwise
    uint32_t has;        //  bit per handler it has: it answers able
    uint32_t offers;     //  bit per handler it says it has: owners call it
    uint32_t answer_ms;  //  its time to answer, at most
} sim_node_t;

typedef struct {
    zmesh_id_t id;
    zmesh_auction_t *core;
    bool alive [SIM_NODES_MAX];  //  its view
    uint64_t place_rng;
    sim_round_t rounds [SIM_ROUNDS_MAX + 1];  //  by call id
    uint32_t last_id;
    uint32_t kept [ZMESH_AUCTION_ROUNDS_MAX_DEFAULT];  //  call ids, as the core keeps them
    uint32_t kept_count;
    zmesh_auction_stats_t expect;  //  the model's counts (rounds and open unused)
    uint32_t waiting [SIM_TASKS_MAX];
    uint32_t waiting_count;
} sim_owner_t;

typedef struct {
    uint32_t seed;
    uint64_t rng;
    uint64_t hash;
    bool failed;
    uint64_t now_ms, next_seq, events, steps;
    sim_event_t *heap;
    uint32_t heap_size, heap_capacity;
    //  scenario
    uint32_t owner_count, node_count, kind_count, task_count;
    bool hostile, lazy;
    uint32_t loss_ppm, dup_ppm, delay_max_ms, step_max_ms, send_fail_ppm;
    uint64_t submit_end_ms;
    zmesh_auction_config_t config;
    sim_owner_t owners [SIM_OWNERS_MAX];
    sim_node_t nodes [SIM_NODES_MAX];
    sim_task_t tasks [SIM_TASKS_MAX];
    //  figures
    uint32_t done, computed, unplaceable, messages;
    uint8_t buf [SIM_BUF_SIZE];
} sim_t;

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

static zmesh_id_t
s_entity_id (uint8_t kind, uint32_t index)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = kind;
    id.bytes [1] = (uint8_t) index;
    id.bytes [9] = 0x42;
    id.bytes [15] = (uint8_t) (0x90 + index);
    return id;
}

//  The call of a kind: handler h<kind % 3>, CPU (kind / 3) x 100 millicores.
static zmesh_task_call_t
s_kind_call (uint32_t kind)
{
    zmesh_task_call_t call;
    memset (&call, 0, sizeof call);
    snprintf (call.handler, sizeof call.handler, "h%u", kind % SIM_HANDLERS);
    call.cpu_millicores = (kind / SIM_HANDLERS) * 100;
    return call;
}

static uint32_t
s_handler_of (const char *handler)
{
    return handler [0] == 'h' && handler [1] >= '0' && handler [1] < '0' + SIM_HANDLERS
                   && handler [2] == 0
               ? (uint32_t) (handler [1] - '0')
               : UINT32_MAX;
}

//  ---------------------------------------------------------------------------------------------
//  Events and the network. Entities: owner o is o, node n is SIM_OWNERS_MAX + n.

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
s_timer (sim_t *sim, uint64_t at_ms, uint8_t kind, uint32_t a, uint32_t b, uint32_t token)
{
    sim_event_t event = {
        .at_ms = at_ms, .kind = kind, .a = (uint16_t) a, .b = (uint16_t) b, .token = token};
    s_push (sim, event);
}

//  An event that carries bytes (a message, or a call a node will answer).
static void
s_push_bytes (sim_t *sim, sim_event_t event, const uint8_t *bytes, size_t size)
{
    event.size = (uint32_t) size;
    event.bytes = malloc (size);
    ZMESH_ASSERT (event.bytes);
    memcpy (event.bytes, bytes, size);
    s_push (sim, event);
}

static void
s_net_send (sim_t *sim, uint32_t from, uint32_t to, const uint8_t *bytes, size_t size)
{
    sim->messages++;
    if (sim_chance (&sim->rng, sim->loss_ppm))
        return;
    uint32_t copies = sim_chance (&sim->rng, sim->dup_ppm) ? 2 : 1;
    for (uint32_t i = 0; i < copies; i++) {
        sim_event_t event = {.kind = EV_DELIVER, .a = (uint16_t) from, .b = (uint16_t) to};
        event.at_ms = sim->now_ms + sim_range (&sim->rng, 0, sim->delay_max_ms);
        s_push_bytes (sim, event, bytes, size);
    }
}

//  ---------------------------------------------------------------------------------------------
//  The model of an owner's rounds, and the checks against the core

static sim_round_t *
s_model_round (sim_owner_t *owner, uint32_t call_id)
{
    if (call_id == 0 || call_id > owner->last_id)
        return NULL;
    sim_round_t *round = &owner->rounds [call_id];
    return round->exists && !round->gone ? round : NULL;
}

static void
s_model_forget (sim_owner_t *owner, uint32_t k)
{
    owner->rounds [owner->kept [k]].gone = true;
    memmove (&owner->kept [k], &owner->kept [k + 1],
             (owner->kept_count - k - 1) * sizeof owner->kept [0]);
    owner->kept_count--;
}

static void
s_model_close (sim_t *sim, sim_owner_t *owner, sim_round_t *round)
{
    round->closed = true;
    round->sent = true;
    round->closed_ms = sim->now_ms;
    round->valid_until_ms = sim->now_ms + sim->config.valid_ms;
    if (round->count == 0)
        owner->expect.closed_empty++;
    else if (round->answered == round->count)
        owner->expect.closed_answers++;
    else
        owner->expect.closed_deadline++;
    //  A round closes no later than its deadline; lazy shells tick late, but then at once.
    if (!sim->lazy && round->closed_ms > round->deadline_ms)
        s_fail (sim, "a round closed at %" PRIu64 ", after its deadline %" PRIu64, round->closed_ms,
                round->deadline_ms);
}

//  What zmesh_auction_round must answer: ZMESH_OK with *call_id and *opened, or ZMESH_ELIMIT.
static int
s_model_lookup (sim_t *sim, sim_owner_t *owner, uint32_t kind, uint32_t *call_id, bool *opened)
{
    *opened = false;
    *call_id = 0;
    for (uint32_t k = 0; k < owner->kept_count;) {
        sim_round_t *round = &owner->rounds [owner->kept [k]];
        if (round->closed && sim->now_ms >= round->valid_until_ms) {
            s_model_forget (owner, k);
            owner->expect.expired++;
        }
        else
            k++;
    }
    for (uint32_t k = 0; k < owner->kept_count; k++)
        if (owner->rounds [owner->kept [k]].kind == kind) {
            *call_id = owner->kept [k];
            return ZMESH_OK;
        }
    if (owner->kept_count == sim->config.rounds_max) {
        uint32_t victim = UINT32_MAX;
        for (uint32_t k = 0; k < owner->kept_count; k++) {
            const sim_round_t *round = &owner->rounds [owner->kept [k]];
            if (round->closed
                && (victim == UINT32_MAX
                    || round->valid_until_ms < owner->rounds [owner->kept [victim]].valid_until_ms))
                victim = k;
        }
        if (victim == UINT32_MAX) {
            owner->expect.refused_full++;
            return ZMESH_ELIMIT;
        }
        s_model_forget (owner, victim);
        owner->expect.dropped_room++;
    }
    if (owner->last_id == SIM_ROUNDS_MAX) {
        s_fail (sim, "an owner opened %u rounds: a livelock?", SIM_ROUNDS_MAX);
        return ZMESH_ELIMIT;
    }
    uint32_t id = ++owner->last_id;
    sim_round_t *round = &owner->rounds [id];
    memset (round, 0, sizeof *round);
    round->exists = true;
    round->kind = (uint8_t) kind;
    round->opened_ms = sim->now_ms;
    round->deadline_ms = sim->now_ms + sim->config.wait_ms;
    for (uint32_t n = 0; n < SIM_NODES_MAX; n++)
        round->answer [n] = SIM_NONE;
    owner->kept [owner->kept_count++] = id;
    owner->expect.opened++;
    *call_id = id;
    *opened = true;
    return ZMESH_OK;
}

//  The code zmesh_auction_bid must return for this bid, and the model's change.
static int
s_model_bid (
    sim_t *sim, sim_owner_t *owner, uint32_t node, const zmesh_task_bid_t *bid, bool *closed)
{
    *closed = false;
    owner->expect.bids++;
    if (bid->permille > 1000 || (!bid->able && bid->permille)) {
        owner->expect.ignored_malformed++;
        return ZMESH_EPROTO;
    }
    sim_round_t *round = s_model_round (owner, bid->call_id);
    if (!round) {
        owner->expect.ignored_unknown++;
        return ZMESH_ENOTFOUND;
    }
    if (round->closed) {
        owner->expect.ignored_late++;
        return ZMESH_ETIMEOUT;
    }
    if (!(round->asked & (1u << node))) {
        owner->expect.ignored_not_asked++;
        return ZMESH_EINVAL;
    }
    if (round->answer [node] != SIM_NONE) {
        owner->expect.ignored_duplicate++;
        return ZMESH_ESTATE;
    }
    round->answer [node] = bid->able ? (int16_t) bid->permille : SIM_UNABLE;
    round->answered++;
    owner->expect.bids_accepted++;
    if (!bid->able)
        owner->expect.bids_unable++;
    if (round->sent && round->answered == round->count) {
        s_model_close (sim, owner, round);
        *closed = true;
    }
    return ZMESH_OK;
}

//  The candidates of a kind as the owner sees them: alive in its view, offering the handler
//  (the filter reads the handler list), no bid.
static uint32_t
s_candidates (sim_t *sim, sim_owner_t *owner, uint32_t kind, zmesh_place_node_t *out)
{
    for (uint32_t n = 0; n < sim->node_count; n++) {
        zmesh_place_node_t *c = &out [n];
        memset (c, 0, sizeof *c);
        c->id = sim->nodes [n].id;
        c->eligible = owner->alive [n];
        c->cpu_cores = 4;
        c->slots = 4;
        c->busy = n % 3;
        c->mem_available_bytes = 1ull << 30;
        for (uint32_t h = 0; h < SIM_HANDLERS; h++)
            if (sim->nodes [n].offers & (1u << h))
                snprintf (c->handlers [c->handler_count++], ZMESH_TASK_HANDLER_MAX, "h%u", h);
    }
    (void) kind;
    return sim->node_count;
}

//  Apply a closed round (the core's) to fresh candidates, and check it gives exactly the
//  model's first answers before the close.
static void
s_check_applied (sim_t *sim, sim_owner_t *owner, uint32_t call_id, zmesh_place_node_t *nodes)
{
    const sim_round_t *round = &owner->rounds [call_id];
    uint32_t count = s_candidates (sim, owner, round->kind, nodes);
    zmesh_place_node_t before [SIM_NODES_MAX];
    memcpy (before, nodes, count * sizeof nodes [0]);
    int rc = zmesh_auction_apply (owner->core, call_id, sim->now_ms, nodes, count);
    if (rc != ZMESH_OK) {
        s_fail (sim, "apply of closed round %u: %s", call_id, zmesh_strerror (rc));
        return;
    }
    for (uint32_t n = 0; n < count; n++) {
        int16_t answer = (round->asked & (1u << n)) ? round->answer [n] : SIM_NONE;
        bool eligible = answer == SIM_UNABLE ? false : before [n].eligible;
        bool has_bid = answer >= 0;
        if (nodes [n].eligible != eligible || nodes [n].has_bid != has_bid
            || (has_bid && nodes [n].bid_permille != (uint32_t) answer))
            s_fail (sim, "round %u applied to node %u: eligible %d bid %d/%u, expected %d %d/%d",
                    call_id, n, nodes [n].eligible, nodes [n].has_bid, nodes [n].bid_permille,
                    eligible, has_bid, answer);
    }
}

//  Every invariant of one owner against its model.
static void
s_check_owner (sim_t *sim, sim_owner_t *owner, uint32_t index)
{
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (owner->core, &stats);
    const zmesh_auction_stats_t *e = &owner->expect;
    uint32_t open = 0;
    uint64_t deadline = UINT64_MAX;
    for (uint32_t k = 0; k < owner->kept_count; k++) {
        const sim_round_t *round = &owner->rounds [owner->kept [k]];
        if (!round->closed) {
            open++;
            if (round->deadline_ms < deadline)
                deadline = round->deadline_ms;
        }
    }
    if (stats.opened != e->opened || stats.closed_answers != e->closed_answers
        || stats.closed_empty != e->closed_empty || stats.closed_deadline != e->closed_deadline
        || stats.dropped_room != e->dropped_room || stats.refused_full != e->refused_full
        || stats.expired != e->expired || stats.asked != e->asked || stats.bids != e->bids
        || stats.bids_accepted != e->bids_accepted || stats.bids_unable != e->bids_unable
        || stats.ignored_unknown != e->ignored_unknown || stats.ignored_late != e->ignored_late
        || stats.ignored_not_asked != e->ignored_not_asked
        || stats.ignored_duplicate != e->ignored_duplicate
        || stats.ignored_malformed != e->ignored_malformed || stats.rounds != owner->kept_count
        || stats.open != open)
        s_fail (sim, "owner %u: the core's stats are not the model's", index);
    if (stats.opened
            != stats.closed_answers + stats.closed_empty + stats.closed_deadline + stats.open
        || stats.bids
               != stats.bids_accepted + stats.ignored_unknown + stats.ignored_late
                      + stats.ignored_not_asked + stats.ignored_duplicate + stats.ignored_malformed)
        s_fail (sim, "owner %u: the stats do not add up", index);
    if (stats.rounds > sim->config.rounds_max)
        s_fail (sim, "owner %u keeps %u rounds, more than %u", index, stats.rounds,
                sim->config.rounds_max);
    if (zmesh_auction_deadline_ms (owner->core) != deadline)
        s_fail (sim, "owner %u: deadline %" PRIu64 ", the model's %" PRIu64, index,
                zmesh_auction_deadline_ms (owner->core), deadline);
    zmesh_place_node_t nodes [SIM_NODES_MAX];
    for (uint32_t k = 0; k < owner->kept_count && !sim->failed; k++) {
        uint32_t id = owner->kept [k];
        const sim_round_t *round = &owner->rounds [id];
        zmesh_auction_state_t expect = !round->closed ? ZMESH_AUCTION_OPEN
                                       : sim->now_ms >= round->valid_until_ms
                                           ? ZMESH_AUCTION_EXPIRED
                                           : ZMESH_AUCTION_CLOSED;
        zmesh_auction_state_t state = zmesh_auction_state (owner->core, id, sim->now_ms);
        if (state != expect)
            s_fail (sim, "owner %u round %u: state %d, the model's %d", index, id, state, expect);
        if (state == ZMESH_AUCTION_CLOSED)
            s_check_applied (sim, owner, id, nodes);
    }
}

//  After the ticks of a step: no round open at or past its deadline.
static void
s_check_ticked (sim_t *sim, sim_owner_t *owner, uint32_t index)
{
    for (uint32_t k = 0; k < owner->kept_count; k++) {
        const sim_round_t *round = &owner->rounds [owner->kept [k]];
        if (!round->closed && round->deadline_ms <= sim->now_ms)
            s_fail (sim, "owner %u round %u still open at its deadline %" PRIu64, index,
                    owner->kept [k], round->deadline_ms);
    }
}

//  ---------------------------------------------------------------------------------------------
//  The owner: placing tasks as the balancer does

//  Place a task with what the round gives (call_id 0: no round, every bid computed).
static void
s_place (sim_t *sim, sim_owner_t *owner, uint32_t t, uint32_t call_id)
{
    sim_task_t *task = &sim->tasks [t];
    zmesh_place_node_t nodes [SIM_NODES_MAX];
    uint32_t count = s_candidates (sim, owner, task->kind, nodes);
    const sim_round_t *round = NULL;
    if (call_id) {
        round = &owner->rounds [call_id];
        int rc = zmesh_auction_apply (owner->core, call_id, sim->now_ms, nodes, count);
        if (rc != ZMESH_OK)
            s_fail (sim, "apply of round %u to place task %u: %s", call_id, t, zmesh_strerror (rc));
    }
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    zmesh_task_call_t call = s_kind_call (task->kind);
    memcpy (request.handler, call.handler, sizeof request.handler);
    request.cpu_millicores = call.cpu_millicores;
    request.strategy = ZMESH_PLACE_AUCTION;
    request.task_id = s_entity_id (0x7A, t);
    zmesh_place_result_t result;
    int rc = zmesh_place_choose (NULL, &request, nodes, count, NULL, &owner->place_rng, &result);
    task->done = true;
    task->waiting = false;
    task->computed = call_id == 0;
    sim->done++;
    if (rc == ZMESH_ENOTFOUND) {
        task->placed_on = -1;
        sim->unplaceable++;
    }
    else if (rc != ZMESH_OK)
        s_fail (sim, "zmesh_place_choose: %s", zmesh_strerror (rc));
    else {
        uint32_t n = result.nodes [0];
        task->placed_on = (int32_t) n;
        if (round && (round->asked & (1u << n)) && round->answer [n] == SIM_UNABLE)
            s_fail (sim, "task %u placed on node %u, which answered unable in round %u", t, n,
                    call_id);
        if (!owner->alive [n] || !(sim->nodes [n].offers & (1u << (task->kind % SIM_HANDLERS))))
            s_fail (sim, "task %u placed on node %u, which its owner cannot use", t, n);
    }
    if (call_id == 0)
        sim->computed++;
    sim_hash (&sim->hash, (uint64_t) t << 32 | (uint32_t) task->placed_on);
    s_trace_line (sim, "owner %u places task %u (kind %u) on %d%s", task->owner, t, task->kind,
                  task->placed_on, call_id ? "" : " (no round)");
}

//  A new round: the CALL to every node the owner sees alive offering the handler, then sent.
static void
s_call (sim_t *sim, sim_owner_t *owner, uint32_t o, uint32_t call_id, uint32_t kind)
{
    sim_round_t *round = &owner->rounds [call_id];
    zmesh_task_call_t call = s_kind_call (kind);
    call.id = call_id;
    size_t size;
    int rc = zmesh_task_encode_call (sim->buf, sizeof sim->buf, &owner->id, NULL, &call, &size);
    if (rc != ZMESH_OK)
        s_fail (sim, "encode call: %s", zmesh_strerror (rc));
    for (uint32_t n = 0; n < sim->node_count && rc == ZMESH_OK; n++) {
        if (!owner->alive [n] || !(sim->nodes [n].offers & (1u << (kind % SIM_HANDLERS))))
            continue;
        if (sim_chance (&sim->rng, sim->send_fail_ppm))
            continue;  //  the send failed: not asked
        s_net_send (sim, o, SIM_OWNERS_MAX + n, sim->buf, size);
        //  Sent, then asked (the balancer's order): beyond nodes_max the node is not asked.
        int expect = round->count == sim->config.nodes_max ? ZMESH_ELIMIT : ZMESH_OK;
        int got = zmesh_auction_ask (owner->core, call_id, &sim->nodes [n].id);
        if (got != expect)
            s_fail (sim, "ask node %u in round %u: %s, expected %s", n, call_id,
                    zmesh_error_name (got), zmesh_error_name (expect));
        if (got == ZMESH_OK) {
            round->asked |= 1u << n;
            round->count++;
            owner->expect.asked++;
        }
    }
    zmesh_auction_state_t state;
    rc = zmesh_auction_sent (owner->core, call_id, sim->now_ms, &state);
    round->sent = true;
    if (round->answered == round->count)
        s_model_close (sim, owner, round);
    zmesh_auction_state_t expect = round->closed ? ZMESH_AUCTION_CLOSED : ZMESH_AUCTION_OPEN;
    if (rc != ZMESH_OK || state != expect)
        s_fail (sim, "sent of round %u: %s, state %d, expected %d", call_id, zmesh_strerror (rc),
                state, expect);
    sim_hash (&sim->hash, (uint64_t) call_id << 32 | round->asked);
    s_trace_line (sim, "owner %u opens round %u (kind %u), asks %03x", o, call_id, kind,
                  round->asked);
}

//  Try to place task t (the balancer's s_auction): true if placed.
static bool
s_try (sim_t *sim, uint32_t t)
{
    sim_task_t *task = &sim->tasks [t];
    sim_owner_t *owner = &sim->owners [task->owner];
    zmesh_task_call_t call = s_kind_call (task->kind);
    uint32_t expect_id;
    bool expect_opened;
    int expect = s_model_lookup (sim, owner, task->kind, &expect_id, &expect_opened);
    zmesh_auction_round_t round;
    int rc = zmesh_auction_round (owner->core, &call, sim->now_ms, &round);
    if (rc != expect || round.call_id != expect_id || round.opened != expect_opened) {
        s_fail (sim, "round for task %u: %s id %u opened %d; the model: %s id %u opened %d", t,
                zmesh_error_name (rc), round.call_id, round.opened, zmesh_error_name (expect),
                expect_id, expect_opened);
        return false;
    }
    if (rc == ZMESH_ELIMIT) {
        s_place (sim, owner, t, 0);
        return true;
    }
    const sim_round_t *model = &owner->rounds [round.call_id];
    zmesh_auction_state_t state_expect = model->closed ? ZMESH_AUCTION_CLOSED : ZMESH_AUCTION_OPEN;
    if (round.state != state_expect)
        s_fail (sim, "round %u for task %u: state %d, the model's %d", round.call_id, t,
                round.state, state_expect);
    if (round.opened)
        s_call (sim, owner, task->owner, round.call_id, task->kind);
    if (!model->closed)
        return false;
    s_place (sim, owner, t, round.call_id);
    return true;
}

//  Every waiting task of owner o, in order, tries again (the owner core's drain).
static void
s_kick (sim_t *sim, uint32_t o)
{
    sim_owner_t *owner = &sim->owners [o];
    uint32_t kept = 0;
    uint32_t count = owner->waiting_count;
    for (uint32_t i = 0; i < count && !sim->failed; i++) {
        uint32_t t = owner->waiting [i];
        if (!s_try (sim, t))
            owner->waiting [kept++] = t;
    }
    //  Tasks added while trying (none here: submissions are events) would follow.
    memmove (&owner->waiting [kept], &owner->waiting [count],
             (owner->waiting_count - count) * sizeof owner->waiting [0]);
    owner->waiting_count = kept + (owner->waiting_count - count);
}

//  A BID reaches owner o from node n (or a bid handed over as is: inject).
static void
s_owner_bid (sim_t *sim, uint32_t o, uint32_t n, const zmesh_task_bid_t *bid)
{
    sim_owner_t *owner = &sim->owners [o];
    bool expect_closed;
    int expect = s_model_bid (sim, owner, n, bid, &expect_closed);
    bool closed = false;
    int rc = zmesh_auction_bid (owner->core, &sim->nodes [n].id, bid, sim->now_ms, &closed);
    sim_hash (&sim->hash, (uint64_t) (uint32_t) rc << 32 | bid->call_id);
    s_trace_line (sim, "owner %u hears node %u bid %s/%u for round %u: %s%s", o, n,
                  bid->able ? "able" : "unable", bid->permille, bid->call_id, zmesh_error_name (rc),
                  closed ? ", closed" : "");
    if (rc != expect || closed != expect_closed) {
        s_fail (sim, "owner %u, bid of node %u for round %u: %s closed %d; the model: %s %d", o, n,
                bid->call_id, zmesh_error_name (rc), closed, zmesh_error_name (expect),
                expect_closed);
        return;
    }
    if (closed)
        s_kick (sim, o);
}

//  ---------------------------------------------------------------------------------------------
//  Nodes

static void
s_send_bid (sim_t *sim, uint32_t n, uint32_t o, uint32_t call_id, bool able, uint32_t permille)
{
    zmesh_task_bid_t bid = {.call_id = call_id, .able = able, .permille = able ? permille : 0};
    size_t size;
    int rc =
        zmesh_task_encode_bid (sim->buf, sizeof sim->buf, &sim->nodes [n].id, NULL, &bid, &size);
    if (rc != ZMESH_OK)
        s_fail (sim, "encode bid: %s", zmesh_strerror (rc));
    else
        s_net_send (sim, SIM_OWNERS_MAX + n, o, sim->buf, size);
}

//  A CALL reached node n: it answers after its own delay (EV_ANSWER), if alive then.
static void
s_node_call (sim_t *sim, uint32_t n, uint32_t o, const uint8_t *bytes, uint32_t size)
{
    sim_node_t *node = &sim->nodes [n];
    if (node->dead)
        return;
    sim_event_t event = {.kind = EV_ANSWER, .a = (uint16_t) n, .b = (uint16_t) o};
    event.at_ms = sim->now_ms + sim_range (&sim->rng, 0, node->answer_ms);
    s_push_bytes (sim, event, bytes, size);
}

static void
s_node_answer (sim_t *sim, uint32_t n, uint32_t o, const zmesh_task_call_t *call)
{
    sim_node_t *node = &sim->nodes [n];
    if (node->dead)
        return;
    uint32_t handler = s_handler_of (call->handler);
    bool able = handler != UINT32_MAX && (node->has & (1u << handler));
    if (node->hostile) {
        //  Anything, several times.
        uint32_t times = (uint32_t) sim_range (&sim->rng, 0, 4);
        for (uint32_t i = 0; i < times; i++)
            s_send_bid (sim, n, o, call->id, sim_chance (&sim->rng, 500000),
                        (uint32_t) sim_range (&sim->rng, 0, 1000));
        return;
    }
    s_send_bid (sim, n, o, call->id, able, (uint32_t) sim_range (&sim->rng, 0, 1000));
    if (node->twice)
        s_send_bid (sim, n, o, call->id, !able, (uint32_t) sim_range (&sim->rng, 0, 1000));
}

//  ---------------------------------------------------------------------------------------------
//  Events

static void
s_deliver (sim_t *sim, const sim_event_t *event)
{
    zmesh_id_t sender;
    int rc = zmesh_task_envelope_decode (&s_msg, &sender, event->bytes, event->size);
    if (rc != ZMESH_OK) {
        s_fail (sim, "a message does not decode: %s", zmesh_strerror (rc));
        return;
    }
    if (event->b >= SIM_OWNERS_MAX) {
        uint32_t n = event->b - SIM_OWNERS_MAX;
        if (s_msg.kind != ZMESH_TASK_KIND_CALL)
            s_fail (sim, "node %u got a message of kind %u", n, s_msg.kind);
        else
            s_node_call (sim, n, event->a, event->bytes, event->size);
        return;
    }
    if (s_msg.kind != ZMESH_TASK_KIND_BID || event->a < SIM_OWNERS_MAX) {
        s_fail (sim, "owner %u got a message of kind %u", event->b, s_msg.kind);
        return;
    }
    uint32_t n = event->a - SIM_OWNERS_MAX;
    if (!zmesh_id_equal (&sender, &sim->nodes [n].id))
        s_fail (sim, "a bid's sender is not its node");
    s_owner_bid (sim, event->b, n, &s_msg.bid);
}

//  The hostile node: a bid for a call it saw go by, a forged id, or 0.
static void
s_hostile (sim_t *sim)
{
    uint32_t h = sim->node_count - 1;
    uint32_t o = (uint32_t) sim_range (&sim->rng, 0, sim->owner_count - 1);
    sim_owner_t *owner = &sim->owners [o];
    uint32_t call_id;
    uint64_t pick = sim_range (&sim->rng, 0, 9);
    if (pick < 6 && owner->last_id)
        call_id = (uint32_t) sim_range (&sim->rng, owner->last_id > 8 ? owner->last_id - 8 : 1,
                                        owner->last_id);
    else if (pick < 9)
        call_id = (uint32_t) sim_rand (&sim->rng);
    else
        call_id = 0;
    s_send_bid (sim, h, o, call_id, sim_chance (&sim->rng, 700000),
                (uint32_t) sim_range (&sim->rng, 0, 1000));
}

//  A bid the decoder would refuse, straight into a core (as a codec with a hole would).
static void
s_inject (sim_t *sim, uint32_t o)
{
    sim_owner_t *owner = &sim->owners [o];
    zmesh_task_bid_t bid;
    bid.call_id = owner->last_id ? (uint32_t) sim_range (&sim->rng, 1, owner->last_id) : 1;
    if (sim_chance (&sim->rng, 500000)) {
        bid.able = true;
        bid.permille = (uint32_t) sim_range (&sim->rng, 1001, UINT32_MAX);
    }
    else {
        bid.able = false;
        bid.permille = (uint32_t) sim_range (&sim->rng, 1, 1000);
    }
    s_owner_bid (sim, o, (uint32_t) sim_range (&sim->rng, 0, sim->node_count - 1), &bid);
}

static void
s_dispatch (sim_t *sim, const sim_event_t *event)
{
    switch (event->kind) {
        case EV_DELIVER:
            s_deliver (sim, event);
            break;
        case EV_SUBMIT: {
            sim_task_t *task = &sim->tasks [event->token];
            sim_owner_t *owner = &sim->owners [task->owner];
            task->submitted = true;
            s_trace_line (sim, "owner %u submits task %u (kind %u)", task->owner, event->token,
                          task->kind);
            if (!s_try (sim, event->token)) {
                task->waiting = true;
                owner->waiting [owner->waiting_count++] = event->token;
            }
            break;
        }
        case EV_DEATH:
            sim->nodes [event->a].dead = true;
            s_trace_line (sim, "node %u dies", event->a);
            break;
        case EV_DETECT:
            sim->owners [event->a].alive [event->b] = false;
            s_trace_line (sim, "owner %u learns node %u died", event->a, event->b);
            s_kick (sim, event->a);  //  the view changed
            break;
        case EV_HOSTILE:
            s_hostile (sim);
            if (sim->now_ms < sim->submit_end_ms)
                s_timer (sim, sim->now_ms + sim_range (&sim->rng, 1, 40), EV_HOSTILE, 0, 0, 0);
            break;
        case EV_INJECT:
            s_inject (sim, event->a);
            break;
        case EV_ANSWER: {
            int rc = zmesh_task_envelope_decode (&s_msg, NULL, event->bytes, event->size);
            if (rc != ZMESH_OK || s_msg.kind != ZMESH_TASK_KIND_CALL)
                s_fail (sim, "a call does not decode: %s", zmesh_strerror (rc));
            else {
                zmesh_task_call_t call = s_msg.call;
                s_node_answer (sim, event->a, event->b, &call);
            }
            break;
        }
        default:
            s_fail (sim, "unknown event %u", event->kind);
    }
}

//  ---------------------------------------------------------------------------------------------
//  A seed

static void
s_setup (sim_t *sim)
{
    sim->owner_count = (uint32_t) sim_range (&sim->rng, 1, SIM_OWNERS_MAX);
    sim->hostile = sim_chance (&sim->rng, 500000);
    uint32_t honest = (uint32_t) sim_range (&sim->rng, 2, SIM_NODES_MAX - 1);
    sim->node_count = honest + (sim->hostile ? 1 : 0);
    sim->kind_count = (uint32_t) sim_range (&sim->rng, 2, SIM_KINDS_MAX);
    sim->task_count = (uint32_t) sim_range (&sim->rng, 20, SIM_TASKS_MAX);
    sim->lazy = sim_chance (&sim->rng, 250000);
    sim->loss_ppm = (uint32_t) sim_range (&sim->rng, 0, 200000);
    sim->dup_ppm = (uint32_t) sim_range (&sim->rng, 0, 100000);
    zmesh_auction_config_defaults (&sim->config);
    sim->config.wait_ms = (uint32_t) sim_range (&sim->rng, 5, 100);
    sim->config.valid_ms = (uint32_t) sim_range (&sim->rng, 1, 800);
    if (sim_chance (&sim->rng, 500000))
        sim->config.rounds_max = (uint32_t) sim_range (&sim->rng, 1, SIM_KINDS_MAX);
    if (sim_chance (&sim->rng, 200000))
        sim->config.nodes_max = (uint32_t) sim_range (&sim->rng, 1, SIM_NODES_MAX);
    //  Mostly within the wait both ways; in some seeds past it (most bids late).
    sim->delay_max_ms =
        sim_chance (&sim->rng, 700000)
            ? (uint32_t) sim_range (&sim->rng, 0, sim->config.wait_ms / 3)
            : (uint32_t) sim_range (&sim->rng, sim->config.wait_ms / 3, sim->config.wait_ms * 2);
    sim->step_max_ms = (uint32_t) sim_range (&sim->rng, 1, 30);
    sim->send_fail_ppm = sim_chance (&sim->rng, 300000) ? 100000 : 0;
    sim->submit_end_ms = sim_range (&sim->rng, 500, 4000);
    for (uint32_t n = 0; n < sim->node_count; n++) {
        sim_node_t *node = &sim->nodes [n];
        node->id = s_entity_id (0x0B, n);
        node->hostile = sim->hostile && n == sim->node_count - 1;
        node->has = (uint32_t) sim_range (&sim->rng, 0, 7);
        node->offers = node->has;
        if (sim_chance (&sim->rng, 250000))  //  offers a handler it does not have
            node->offers |= 1u << sim_range (&sim->rng, 0, SIM_HANDLERS - 1);
        if (sim_chance (&sim->rng, 150000))  //  has one it does not offer
            node->offers &= ~(1u << sim_range (&sim->rng, 0, SIM_HANDLERS - 1));
        if (node->hostile)
            node->offers = sim_chance (&sim->rng, 500000) ? 7 : 0;
        node->twice = sim_chance (&sim->rng, 100000);
        node->answer_ms =
            sim_chance (&sim->rng, 200000)
                ? (uint32_t) sim_range (&sim->rng, sim->config.wait_ms, sim->config.wait_ms * 3)
                : (uint32_t) sim_range (&sim->rng, 0, sim->config.wait_ms / 2);
        if (sim_chance (&sim->rng, 250000)) {
            uint64_t at = sim_range (&sim->rng, 0, sim->submit_end_ms);
            s_timer (sim, at, EV_DEATH, n, 0, 0);
            for (uint32_t o = 0; o < sim->owner_count; o++)
                if (sim_chance (&sim->rng, 700000))  //  else its view never learns it
                    s_timer (sim, at + sim_range (&sim->rng, 0, 1000), EV_DETECT, o, n, 0);
        }
    }
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        sim_owner_t *owner = &sim->owners [o];
        owner->id = s_entity_id (0x0A, o);
        owner->core = zmesh_auction_new (&sim->config);
        ZMESH_ASSERT (owner->core);
        owner->place_rng = sim_rand (&sim->rng);
        for (uint32_t n = 0; n < sim->node_count; n++)
            owner->alive [n] = true;
        if (sim_chance (&sim->rng, 300000))
            for (uint32_t i = 0, count = (uint32_t) sim_range (&sim->rng, 1, 20); i < count; i++)
                s_timer (sim, sim_range (&sim->rng, 0, sim->submit_end_ms), EV_INJECT, o, 0, 0);
    }
    for (uint32_t t = 0; t < sim->task_count; t++) {
        sim_task_t *task = &sim->tasks [t];
        task->owner = (uint32_t) sim_range (&sim->rng, 0, sim->owner_count - 1);
        task->kind = (uint8_t) sim_range (&sim->rng, 0, sim->kind_count - 1);
        task->submit_at = sim_range (&sim->rng, 0, sim->submit_end_ms);
        s_timer (sim, task->submit_at, EV_SUBMIT, task->owner, 0, t);
    }
    if (sim->hostile)
        s_timer (sim, sim_range (&sim->rng, 0, 50), EV_HOSTILE, 0, 0, 0);
}

//  One step: time moves to the next event, deadline or random step (whichever comes
//  first; lazy shells do not stop at deadlines), what is due there happens, then the ticks.
static void
s_step (sim_t *sim)
{
    uint64_t next = sim->now_ms + sim_range (&sim->rng, 0, sim->step_max_ms);
    if (sim->heap_size && sim->heap [0].at_ms < next)
        next = sim->heap [0].at_ms;
    for (uint32_t o = 0; o < sim->owner_count && !sim->lazy; o++) {
        uint64_t deadline = zmesh_auction_deadline_ms (sim->owners [o].core);
        if (deadline < next)
            next = deadline;
    }
    if (next > sim->now_ms)
        sim->now_ms = next;
    sim->steps++;
    sim_hash (&sim->hash, sim->now_ms);
    while (sim->heap_size && sim->heap [0].at_ms <= sim->now_ms && !sim->failed) {
        sim_event_t event = s_pop (sim);
        sim->events++;
        sim_hash (&sim->hash, (uint64_t) event.kind << 32 | (uint64_t) event.a << 16 | event.b);
        s_dispatch (sim, &event);
        free (event.bytes);
        for (uint32_t o = 0; o < sim->owner_count && !sim->failed; o++)
            s_check_owner (sim, &sim->owners [o], o);
    }
    for (uint32_t o = 0; o < sim->owner_count && !sim->failed; o++) {
        sim_owner_t *owner = &sim->owners [o];
        if (sim->now_ms < zmesh_auction_deadline_ms (owner->core))
            continue;
        uint32_t expect = 0;
        for (uint32_t k = 0; k < owner->kept_count; k++) {
            sim_round_t *round = &owner->rounds [owner->kept [k]];
            if (!round->closed && sim->now_ms >= round->deadline_ms) {
                s_model_close (sim, owner, round);
                expect++;
            }
        }
        uint32_t closed = zmesh_auction_tick (owner->core, sim->now_ms);
        sim_hash (&sim->hash, closed);
        if (closed != expect)
            s_fail (sim, "owner %u: a tick closed %u rounds, the model %u", o, closed, expect);
        s_trace_line (sim, "owner %u ticks: %u closed", o, closed);
        if (closed)
            s_kick (sim, o);
    }
    for (uint32_t o = 0; o < sim->owner_count && !sim->failed; o++) {
        s_check_ticked (sim, &sim->owners [o], o);
        s_check_owner (sim, &sim->owners [o], o);
    }
}

//  At the end: every task placed or found no node; rounds forgotten are NONE to the core.
static void
s_check_end (sim_t *sim)
{
    if (sim->done != sim->task_count)
        s_fail (sim, "%u of %u tasks placed, %u ms after the last submission", sim->done,
                sim->task_count, SIM_END_LIMIT_MS);
    for (uint32_t o = 0; o < sim->owner_count && !sim->failed; o++) {
        sim_owner_t *owner = &sim->owners [o];
        if (owner->waiting_count)
            s_fail (sim, "owner %u has %u tasks waiting", o, owner->waiting_count);
        for (uint32_t id = 1; id <= owner->last_id && !sim->failed; id++)
            if (owner->rounds [id].gone
                && zmesh_auction_state (owner->core, id, sim->now_ms) != ZMESH_AUCTION_NONE)
                s_fail (sim, "owner %u: round %u, forgotten, is still known", o, id);
    }
}

static void
s_teardown (sim_t *sim)
{
    while (sim->heap_size)
        free (s_pop (sim).bytes);
    free (sim->heap);
    sim->heap = NULL;
    sim->heap_capacity = 0;
    for (uint32_t o = 0; o < sim->owner_count; o++)
        zmesh_auction_destroy (&sim->owners [o].core);
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
    sim->rng = seed * 0x2545f4914f6cdd1dull + 11;
    sim->hash = 0xcbf29ce484222325ull;
    s_setup (sim);
    while (!sim->failed && sim->done < sim->task_count
           && sim->now_ms <= sim->submit_end_ms + SIM_END_LIMIT_MS)
        s_step (sim);
    if (!sim->failed)
        s_check_end (sim);
    zmesh_auction_stats_t total;
    memset (&total, 0, sizeof total);
    for (uint32_t o = 0; o < sim->owner_count; o++) {
        zmesh_auction_stats_t stats;
        zmesh_auction_stats (sim->owners [o].core, &stats);
        total.opened += stats.opened;
        total.closed_answers += stats.closed_answers;
        total.closed_empty += stats.closed_empty;
        total.closed_deadline += stats.closed_deadline;
        total.dropped_room += stats.dropped_room;
        total.refused_full += stats.refused_full;
        total.bids_accepted += stats.bids_accepted;
        total.ignored_unknown += stats.ignored_unknown;
        total.ignored_late += stats.ignored_late;
        total.ignored_not_asked += stats.ignored_not_asked;
        total.ignored_duplicate += stats.ignored_duplicate;
        total.ignored_malformed += stats.ignored_malformed;
    }
    if (verbose)
        printf ("seed %4u: %u owners, %2u nodes%s, %u kinds, %3u tasks, wait %3u valid %3u "
                "rounds %2u nodes_max %4u, loss %2u%% dup %2u%% delay 0..%3u%s: %5" PRIu64
                " steps %5" PRIu64 " events, rounds %3" PRIu64 " (answers %3" PRIu64
                " empty %3" PRIu64 " deadline %3" PRIu64 " dropped %3" PRIu64 " full %3" PRIu64
                "), bids %4" PRIu64 " (ignored: unknown %3" PRIu64 " late %3" PRIu64
                " not asked %3" PRIu64 " duplicate %3" PRIu64 " malformed %2" PRIu64
                "), placed %3u (no round %3u, no node %3u), hash %016" PRIx64 "%s\n",
                seed, sim->owner_count, sim->node_count, sim->hostile ? " (1 hostile)" : "",
                sim->kind_count, sim->task_count, sim->config.wait_ms, sim->config.valid_ms,
                sim->config.rounds_max, sim->config.nodes_max, sim->loss_ppm / 10000,
                sim->dup_ppm / 10000, sim->delay_max_ms, sim->lazy ? ", lazy" : "", sim->steps,
                sim->events, total.opened, total.closed_answers, total.closed_empty,
                total.closed_deadline, total.dropped_room, total.refused_full, total.bids_accepted,
                total.ignored_unknown, total.ignored_late, total.ignored_not_asked,
                total.ignored_duplicate, total.ignored_malformed, sim->done - sim->unplaceable,
                sim->computed, sim->unplaceable, sim->hash, sim->failed ? "  FAILED" : "");
    s_teardown (sim);
    *passed = !sim->failed;
    return sim->hash;
}

int
main (void)
{
    sim_name = "sim_auction";
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
    bool deterministic = sim_report_determinism ("sim_auction", first, a, ok_a, b, ok_b);
    return sim_report_result ("sim_auction", passed, failed, deterministic);
}
