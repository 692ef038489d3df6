/*  sim_swim.c: a deterministic, seeded simulation of the SWIM membership core (zmesh_swim.h).

    N virtual nodes (3..3000), each with its own zmesh_swim_t, over a virtual network that
    loses, delays (a few ms), duplicates and reorders messages, with one-way links, partitions
    and heals, crashes, restarts (a new generation at a new endpoint, joining again through a
    random live node), graceful leaves and CPU-stalled nodes (a stalled node processes nothing
    for S seconds, then everything queued: messages first, then one tick, as a poll loop
    would). Every message a core sends is encoded with zmesh_swim_codec, checked against the
    byte budget, and decoded again at the receiver: the codec is in the loop. There is no
    clock and no thread: one event heap ordered by (virtual time, insertion order) drives
    everything, and a splitmix64 PRNG seeded from the seed draws every choice (and seeds the
    cores), so a seed replays exactly.

    Invariants, checked after every step of a core (o observes p):
    - every reported change of p starts from the state o last reported for p (transitions
      reported once, never repeated), and never reports o itself;
    - o's active view holds at most active_max members, never o;
    - every message encodes, within max_message_bytes, and decodes to the same type;
    - no false death: in seeds without partitions and one-way links, and loss <= 20%, o never
      reports p DEAD at p's current generation while p is up and has never been stalled for
      more than SIM_STALL_SAFE_MS in this run;
    - no resurrection: o never reports p ALIVE at a generation p left with, nor, while p is
      down since before o last reported it DEAD, LEFT or forgotten, at that generation or an
      older one; with one exception, below;
    and at the end (after a quiet period with every node up and the network whole):
    - one membership: every node reports every other ALIVE at its current generation, and
      has at least one active neighbour.

    The exception: o held p DEAD at incarnation d, and now reports it ALIVE, at the same
    generation, at an incarnation i with d + 2 <= i <= the incarnation p had when it went
    down. That is not a resurrection but old news arriving late, and the protocol must accept
    it. Only p makes its incarnations, so p sent "ALIVE at i" before it went down; and the
    ordering rule (zmesh_swim.h) lets ALIVE at i undo DEAD at d only from d + 2 on, which is
    what p itself sends to refute a death at d (a refutation of a mere suspicion at d is
    d + 1, and cannot undo the death). So i >= d + 2 means p had already answered a death
    at d, declared by another node earlier, before o declared the same death again at the
    old incarnation (o missed the refutation, and its suspicion ran out when p had crashed
    meanwhile). No rule without clocks can tell "ALIVE at d + 2, sent before p went down"
    from "ALIVE at d + 2, sent by p just now to refute o's death": refusing the first would
    refuse the second, and a live member falsely declared dead would stay dead. memberlist
    behaves the same way (a higher incarnation of alive overrides dead). p, being down, is
    then suspected and declared dead at i like any crashed member (the detection figures
    count it). The check still fails on ALIVE below d + 2 (an ordering bug), above what p
    reached (news nobody could have made), and after LEFT or a reap.

    Figures per seed: dissemination (leave -> LEFT on all nodes), detection (crash -> DEAD on
    all nodes that knew it), false suspicions and deaths, bytes per node per second.

    Usage: sim_swim                       seeds 1..SIM_SEEDS_DEFAULT (ZMESH_SIM_SEEDS=n)
           ZMESH_SIM_SEED=n sim_swim      one seed (verbose), run twice: same trace hash
    bench/bench_swim_sweep.c includes this file with SIM_SWIM_NO_MAIN for the long sweep.
*/
#include "sim_common.h"
#include "zmesh_error.h"
#include "zmesh_swim.h"
#include "zmesh_swim_codec.h"
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_SEEDS_DEFAULT 220
#define SIM_NODES_MAX     4096
#define SIM_STALL_SAFE_MS 4000  //  a node stalled this long must never be declared dead
#define SIM_SAMPLES_MAX   4096
#define SIM_ONEWAY_MAX    8

typedef enum {
    SIM_DELIVER = 1,  //  a message arrives at `to`
    SIM_TICK,         //  `to` ticks its core
    SIM_FAULT,        //  the scenario's next fault
    SIM_RESUME,       //  a stalled node `to` resumes
    SIM_RESTART,      //  a crashed node `to` starts again
    SIM_HEAL,         //  the partition / one-way links end
    SIM_SLOW,         //  a slow node `to` stalls for a while (periodic)
    SIM_SWEEP         //  periodic checks and figures
} sim_kind_t;

typedef struct {
    uint64_t at_ms;
    uint64_t seq;  //  insertion order: ties break the seed's way
    uint8_t kind;
    uint16_t from, to;
    uint32_t run;    //  TICK, RESUME: the run of `to` that set it; DELIVER: of `from`
    uint32_t size;   //  DELIVER: bytes
    uint8_t *bytes;  //  DELIVER: the encoded message (owned by the event)
} sim_event_t;
SIM_EVENT_CHECK (sim_event_t);

//  The scenario: what a seed (or the bench) asks for.
typedef struct {
    uint32_t nodes;
    uint64_t duration_ms;  //  virtual time of the run
    uint64_t quiet_ms;     //  the end without faults, for convergence
    uint32_t loss_ppm, dup_ppm;
    uint32_t delay_min_ms, delay_max_ms;
    uint32_t fault_gap_ms;  //  mean time between faults (0: none)
    bool crashes, leaves, restarts, stalls, partitions, oneway;
    uint32_t stall_max_ms;  //  longest stall of a stall fault
    uint32_t slow_nodes;    //  nodes stalled slow_ms every slow_period_ms
    uint32_t slow_ms, slow_period_ms;
    uint32_t partition_ms;       //  how long a partition lasts
    uint32_t bootstrap_ms;       //  nodes join over this span at the start
    bool check_end;              //  check one membership at the end
    uint64_t steady_from_ms;     //  bytes from here on count as steady state
    zmesh_swim_config_t config;  //  tunables (identity fields are filled per node)
} sim_scenario_t;

typedef struct {
    bool up;
    uint32_t run;  //  grows at each start and stop: stale timers and messages are ignored
    uint64_t generation;
    uint64_t up_since_ms, down_since_ms;
    uint32_t down_incarnation;  //  its incarnation when it went down
    bool left;                  //  the last stop was a LEAVE
    uint64_t left_generation;   //  generation it left with (0: none)
    uint64_t stalled_until_ms;  //  0: not stalled
    uint64_t longest_stall_ms;  //  in this run
    bool slow;                  //  one of the periodically slow nodes
    uint64_t tick_at_ms;        //  earliest pending tick of this run
    uint32_t group;             //  partition side
    zmesh_swim_t *core;
    //  A measurement in progress about this node (crash -> dead, leave -> left).
    bool measuring, measuring_leave;
    uint64_t measure_from_ms, measure_generation;
    uint32_t measure_pending;
} sim_node_t;

typedef struct {
    uint32_t count;
    uint32_t values [SIM_SAMPLES_MAX];
} sim_samples_t;

typedef struct {
    uint32_t seed;
    sim_scenario_t sc;
    uint64_t rng;
    uint64_t hash;
    bool failed, verbose;
    uint64_t now_ms, next_seq;
    sim_event_t *heap;
    uint32_t heap_size, heap_capacity;
    sim_node_t *node;
    uint8_t *seen;       //  [o * n + p]: the state o last reported for p
    uint64_t *tomb_ms;   //  [o * n + p]: when o last reported p DEAD / LEFT / forgotten
    uint32_t *tomb_gen;  //  [o * n + p]: at which generation of p
    uint32_t *tomb_inc;  //  [o * n + p]: at which incarnation (DEAD), else UINT32_MAX
    bool partitioned;
    uint64_t healed_at_ms;  //  last heal (0: none)
    uint32_t oneway_count;
    uint16_t oneway [SIM_ONEWAY_MAX][2];
    zmesh_swim_space_t space;
    uint8_t buf [65536];
    //  Figures.
    uint64_t events, messages, bytes, changes, limit_drops, steady_bytes;
    //  Steady-state bytes by message type, and the part of them that is piggybacked records.
    uint64_t steady_type_bytes [ZMESH_SWIM_TYPE_MAX + 1],
        steady_type_count [ZMESH_SWIM_TYPE_MAX + 1];
    uint64_t steady_update_bytes, steady_update_count, steady_update_states [5];
    uint64_t crashes, leaves, restarts, stalls, partitions, slow_episodes;
    uint64_t false_suspicions, false_suspicions_slow, false_deaths, accusations_by_slow;
    uint64_t slow_node_ms;  //  time slow nodes were up (for the per-minute figure)
    sim_samples_t detect, disseminate, heal;
    bool heal_pending;
} sim_t;

static int s_trace = -1;
static int s_trace2 = -1;  //  ZMESH_SIM_TRACE=p: print what happens to node p

static uint32_t s_index (const zmesh_id_t *id);

static void
s_fail (sim_t *sim, const char *format, ...)
{
    if (sim->failed)
        return;
    va_list args;
    va_start (args, format);
    sim_fail_report (&sim->failed, sim->seed, sim->now_ms, format, args);
    va_end (args);
    for (uint32_t i = 0; s_trace >= 0 && i < sim->sc.nodes; i++) {
        if (!sim->node [i].core)
            continue;
        zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT];
        uint32_t count = zmesh_swim_active (sim->node [i].core, active);
        fprintf (stderr, "  node %u (lhm %u, passive %u): active", i,
                 zmesh_swim_lhm (sim->node [i].core),
                 zmesh_swim_passive_count (sim->node [i].core));
        for (uint32_t j = 0; j < count; j++)
            fprintf (stderr, " %u", s_index (&active [j]));
        fprintf (stderr, "\n");
    }
}

static void
s_sample (sim_samples_t *samples, uint64_t value)
{
    if (samples->count < SIM_SAMPLES_MAX)
        samples->values [samples->count++] = (uint32_t) value;
}

static int
s_compare_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

//  The q-th percentile (0..100), or 0 without samples.
static uint32_t
s_percentile (sim_samples_t *samples, uint32_t q)
{
    if (samples->count == 0)
        return 0;
    qsort (samples->values, samples->count, sizeof samples->values [0], s_compare_u32);
    uint32_t i = (uint32_t) (((uint64_t) samples->count * q + 99) / 100);
    return samples->values [i ? i - 1 : 0];
}

static zmesh_id_t
s_id (uint32_t node)
{
    zmesh_id_t id;
    //  Spread over the bytes, as BLAKE2b ids are.
    uint64_t z = (node + 1) * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < ZMESH_ID_SIZE; i++) {
        z ^= z >> 29;
        z *= 0xbf58476d1ce4e5b9ull;
        id.bytes [i] = (uint8_t) (z >> 56);
    }
    id.bytes [ZMESH_ID_SIZE - 2] = (uint8_t) (node >> 8);
    id.bytes [ZMESH_ID_SIZE - 1] = (uint8_t) node;
    return id;
}

static uint32_t
s_index (const zmesh_id_t *id)
{
    return (uint32_t) id->bytes [ZMESH_ID_SIZE - 2] << 8 | id->bytes [ZMESH_ID_SIZE - 1];
}

static void
s_contact (zmesh_swim_contact_t *contact, uint32_t node, uint64_t generation)
{
    memset (contact, 0, sizeof *contact);
    memset (contact->key, (int) (node & 0xff), ZMESH_KEY_SIZE);
    snprintf (contact->endpoint, sizeof contact->endpoint, "tcp://10.%u.%u.%u:%u",
              (unsigned) (generation % 250), (node >> 8) & 0xff, node & 0xff, 5670u);
}

//  ---------------------------------------------------------------------------------------------
//  The event heap

static void
s_push (sim_t *sim, sim_event_t event)
{
    sim->heap =
        sim_heap_room (sim->heap, sim->heap_size, &sim->heap_capacity, sizeof *sim->heap, 4096);
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

//  ---------------------------------------------------------------------------------------------
//  Network

static bool
s_link_blocked (const sim_t *sim, uint32_t from, uint32_t to)
{
    if (sim->partitioned && sim->node [from].group != sim->node [to].group)
        return true;
    for (uint32_t i = 0; i < sim->oneway_count; i++)
        if (sim->oneway [i][0] == from && sim->oneway [i][1] == to)
            return true;
    return false;
}

static void
s_transmit (sim_t *sim, uint32_t from, uint32_t to, const uint8_t *bytes, size_t size)
{
    sim->messages++;
    sim->bytes += size;
    if (sim->now_ms >= sim->sc.steady_from_ms)
        sim->steady_bytes += size;
    if (to >= sim->sc.nodes || s_link_blocked (sim, from, to)
        || sim_chance (&sim->rng, sim->sc.loss_ppm)) {
        if ((int) from == s_trace || (int) to == s_trace)
            printf ("  t=%" PRIu64 " %u -> %u lost (%zu bytes)\n", sim->now_ms, from, to, size);
        return;
    }
    uint32_t copies = sim_chance (&sim->rng, sim->sc.dup_ppm) ? 2 : 1;
    for (uint32_t c = 0; c < copies; c++) {
        sim_event_t event = {.kind = SIM_DELIVER, .from = (uint16_t) from, .to = (uint16_t) to};
        event.at_ms =
            sim->now_ms + sim_range (&sim->rng, sim->sc.delay_min_ms, sim->sc.delay_max_ms);
        event.run = sim->node [from].run;
        event.size = (uint32_t) size;
        event.bytes = malloc (size);
        ZMESH_ASSERT (event.bytes);
        memcpy (event.bytes, bytes, size);
        s_push (sim, event);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Stepping a core, and the per-step invariants

static void s_step (sim_t *sim, uint32_t n, const zmesh_swim_event_t *event);

static bool
s_protected (const sim_t *sim, uint32_t p)
{
    const sim_node_t *node = &sim->node [p];
    return node->up && !sim->sc.partitions && !sim->sc.oneway && sim->sc.loss_ppm <= 200000
           && node->longest_stall_ms <= SIM_STALL_SAFE_MS;
}

static void
s_measure_done (sim_t *sim, uint32_t p)
{
    sim_node_t *node = &sim->node [p];
    if (!node->measuring || node->measure_pending == 0)
        return;
    if (--node->measure_pending == 0) {
        node->measuring = false;
        s_sample (node->measuring_leave ? &sim->disseminate : &sim->detect,
                  sim->now_ms - node->measure_from_ms);
    }
}

static bool
s_knows (uint8_t state)
{
    return state == ZMESH_PEER_ALIVE || state == ZMESH_PEER_SUSPECT;
}

static void
s_check_change (sim_t *sim, uint32_t o, const zmesh_swim_change_t *change)
{
    uint32_t p = s_index (&change->id);
    uint32_t n = sim->sc.nodes;
    if (p >= n || p == o) {
        s_fail (sim, "node %u reported a change of %s", o, p == o ? "itself" : "an unknown id");
        return;
    }
    uint8_t *seen = &sim->seen [(size_t) o * n + p];
    if ((int) p == s_trace || (int) o == s_trace)
        printf ("  t=%" PRIu64 " %u sees %u: %s -> %s gen %" PRIu64 " inc %u\n", sim->now_ms, o, p,
                zmesh_peer_state_name (change->from), zmesh_peer_state_name (change->to),
                change->generation, change->incarnation);
    bool restart = change->from == ZMESH_PEER_ALIVE && change->to == ZMESH_PEER_ALIVE;
    if (change->from != *seen || (change->from == change->to && !restart))
        s_fail (sim, "node %u: change of %u from %s to %s, but %s was reported last", o, p,
                zmesh_peer_state_name (change->from), zmesh_peer_state_name (change->to),
                zmesh_peer_state_name ((zmesh_peer_state_t) *seen));
    sim_node_t *peer = &sim->node [p];
    if (change->to == ZMESH_PEER_DEAD && change->generation == peer->generation
        && s_protected (sim, p) && !peer->left) {
        sim->false_deaths++;
        s_fail (sim, "node %u declared %u DEAD (generation %" PRIu64 "), which is up", o, p,
                change->generation);
    }
    if (change->to == ZMESH_PEER_SUSPECT && peer->up && change->generation == peer->generation) {
        if (peer->slow)
            sim->false_suspicions_slow++;
        else
            sim->false_suspicions++;
    }
    if (change->to == ZMESH_PEER_ALIVE) {
        //  Of the generation held dead (or an older one): news of a newer generation may
        //  rightly arrive after it went down too (its JOIN, queued at a stalled node), and
        //  no node can tell that from news of a live one.
        uint64_t tomb = sim->tomb_ms [(size_t) o * n + p];
        uint32_t dead_inc = sim->tomb_inc [(size_t) o * n + p];
        //  Old news of a later incarnation than the death (see the header): not a resurrection.
        bool late_news = change->generation == sim->tomb_gen [(size_t) o * n + p]
                         && dead_inc != UINT32_MAX && change->incarnation >= dead_inc + 2u
                         && change->incarnation <= peer->down_incarnation
                         && change->generation == peer->generation;
        if (!peer->up && tomb && peer->down_since_ms < tomb
            && change->generation <= sim->tomb_gen [(size_t) o * n + p] && !late_news)
            s_fail (sim,
                    "node %u resurrected %u (down since %" PRIu64 ", held dead at %" PRIu64 ")", o,
                    p, peer->down_since_ms, tomb);
    }
    if (change->to == ZMESH_PEER_DEAD || change->to == ZMESH_PEER_LEFT
        || change->to == ZMESH_PEER_NONE) {
        sim->tomb_ms [(size_t) o * n + p] = sim->now_ms;
        sim->tomb_gen [(size_t) o * n + p] = (uint32_t) change->generation;
        sim->tomb_inc [(size_t) o * n + p] =
            change->to == ZMESH_PEER_DEAD ? change->incarnation : UINT32_MAX;
    }
    if (s_knows (*seen) && !s_knows ((uint8_t) change->to) && peer->measuring
        && change->generation <= peer->measure_generation)
        s_measure_done (sim, p);
    *seen = (uint8_t) change->to;
    sim->changes++;
    sim_hash (&sim->hash, (uint64_t) o << 32 | p << 8 | change->to);
}

static void
s_schedule_tick (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    uint64_t at = zmesh_swim_deadline_ms (node->core);
    if (at < sim->now_ms)
        at = sim->now_ms;
    if (at >= node->tick_at_ms || at > sim->sc.duration_ms)
        return;
    node->tick_at_ms = at;
    sim_event_t event = {.kind = SIM_TICK, .to = (uint16_t) n, .at_ms = at, .run = node->run};
    s_push (sim, event);
}

static void
s_step (sim_t *sim, uint32_t n, const zmesh_swim_event_t *event)
{
    sim_node_t *node = &sim->node [n];
    zmesh_swim_update_t update;
    uint64_t accusations = zmesh_swim_stats (node->core)->suspicions;
    zmesh_swim_step (node->core, event, &update);
    //  Lifeguard's measure: accusations a slow node makes (of nodes that are fine).
    if (node->slow)
        sim->accusations_by_slow += zmesh_swim_stats (node->core)->suspicions - accusations;
    sim->events++;
    for (uint32_t i = 0; i < update.change_count && !sim->failed; i++)
        s_check_change (sim, n, &update.changes [i]);
    zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT];
    uint32_t active_count = zmesh_swim_active (node->core, active);
    if (active_count > sim->sc.config.active_max)
        s_fail (sim, "node %u: active view of %u > %u", n, active_count, sim->sc.config.active_max);
    for (uint32_t i = 0; i < active_count; i++)
        if (s_index (&active [i]) == n)
            s_fail (sim, "node %u is in its own active view", n);
    for (uint32_t i = 0; i < update.send_count && !sim->failed; i++) {
        const zmesh_swim_send_t *send = &update.sends [i];
        size_t size = 0;
        int rc = zmesh_swim_msg_encode (&send->msg, sim->buf, sizeof sim->buf, &size);
        if (rc != ZMESH_OK || size > sim->sc.config.max_message_bytes) {
            s_fail (sim, "node %u: %s of %zu bytes (rc %d), budget %u", n,
                    zmesh_swim_msg_type_name (send->msg.type), size, rc,
                    sim->sc.config.max_message_bytes);
            break;
        }
        sim_hash (&sim->hash, (uint64_t) n << 32 | s_index (&send->to) << 8 | send->msg.type);
        if (sim->now_ms >= sim->sc.steady_from_ms && send->msg.type <= ZMESH_SWIM_TYPE_MAX) {
            sim->steady_type_bytes [send->msg.type] += size;
            sim->steady_type_count [send->msg.type]++;
            for (uint32_t u = 0; u < send->msg.update_count; u++)
                sim->steady_update_bytes += zmesh_swim_record_size (&send->msg.updates [u]);
            for (uint32_t u = 0; u < send->msg.update_count; u++)
                sim->steady_update_states [send->msg.updates [u].state & 3]++;
            sim->steady_update_count += send->msg.update_count;
        }
        s_transmit (sim, n, s_index (&send->to), sim->buf, size);
    }
    if (!zmesh_swim_left (node->core))
        s_schedule_tick (sim, n);
}

static void
s_tick (sim_t *sim, uint32_t n)
{
    zmesh_swim_event_t event = {.type = ZMESH_SWIM_TICK, .now_ms = sim->now_ms};
    s_step (sim, n, &event);
}

//  ---------------------------------------------------------------------------------------------
//  Node lifecycle

//  A random node that is up, not n, or n itself when there is none.
static uint32_t
s_random_up (sim_t *sim, uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < sim->sc.nodes; i++)
        if (i != n && sim->node [i].up)
            count++;
    if (count == 0)
        return n;
    uint32_t pick = (uint32_t) sim_range (&sim->rng, 0, count - 1);
    for (uint32_t i = 0; i < sim->sc.nodes; i++)
        if (i != n && sim->node [i].up && pick-- == 0)
            return i;
    return n;
}

static void
s_join (sim_t *sim, uint32_t n)
{
    uint32_t via = s_random_up (sim, n);
    if (via == n)
        return;
    zmesh_swim_contact_t contact;
    s_contact (&contact, via, sim->node [via].generation);
    if ((int) n == s_trace || (int) via == s_trace)
        printf ("  t=%" PRIu64 " %u (generation %" PRIu64 ") joins via %u\n", sim->now_ms, n,
                sim->node [n].generation, via);
    zmesh_swim_event_t event = {.type = ZMESH_SWIM_JOIN_VIA,
                                .now_ms = sim->now_ms,
                                .from = s_id (via),
                                .contact = &contact};
    s_step (sim, n, &event);
}

static void
s_start (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    zmesh_swim_config_t config = sim->sc.config;
    node->generation++;
    node->run++;
    node->measuring = false;  //  a restart ends what was measured of the last run
    config.id = s_id (n);
    config.generation = node->generation;
    s_contact (&config.contact, n, node->generation);
    int rc = zmesh_swim_new (&node->core, &config, sim_rand (&sim->rng), sim->now_ms);
    ZMESH_ASSERT (rc == ZMESH_OK);
    node->up = true;
    node->left = false;
    node->up_since_ms = sim->now_ms;
    node->stalled_until_ms = 0;
    node->longest_stall_ms = 0;
    node->tick_at_ms = UINT64_MAX;
    memset (&sim->seen [(size_t) n * sim->sc.nodes], 0, sim->sc.nodes);
    memset (&sim->tomb_ms [(size_t) n * sim->sc.nodes], 0, sim->sc.nodes * sizeof (uint64_t));
    memset (&sim->tomb_gen [(size_t) n * sim->sc.nodes], 0, sim->sc.nodes * sizeof (uint32_t));
    memset (&sim->tomb_inc [(size_t) n * sim->sc.nodes], 0xff, sim->sc.nodes * sizeof (uint32_t));
    s_join (sim, n);
    s_schedule_tick (sim, n);
}

//  Start measuring how long until every node that knows p stops holding it alive.
static void
s_measure (sim_t *sim, uint32_t p, bool leave)
{
    sim_node_t *node = &sim->node [p];
    node->measuring = true;
    node->measuring_leave = leave;
    node->measure_from_ms = sim->now_ms;
    node->measure_generation = node->generation;
    node->measure_pending = 0;
    for (uint32_t o = 0; o < sim->sc.nodes; o++)
        if (o != p && sim->node [o].up && s_knows (sim->seen [(size_t) o * sim->sc.nodes + p]))
            node->measure_pending++;
    if (node->measure_pending == 0)
        node->measuring = false;
}

static void
s_stop (sim_t *sim, uint32_t n, bool leave)
{
    sim_node_t *node = &sim->node [n];
    if ((int) n == s_trace)
        printf ("  t=%" PRIu64 " %u %s\n", sim->now_ms, n, leave ? "leaves" : "crashes");
    if (leave) {
        zmesh_swim_event_t event = {.type = ZMESH_SWIM_LEAVE, .now_ms = sim->now_ms};
        s_step (sim, n, &event);
        node->left_generation = node->generation;
    }
    s_measure (sim, n, leave);
    node->down_incarnation = zmesh_swim_incarnation (node->core);
    zmesh_swim_destroy (&node->core);
    node->up = false;
    node->left = leave;
    node->run++;
    node->down_since_ms = sim->now_ms;
    //  Its own pending measurements stop needing it; so do others' that counted on it.
    uint32_t nodes = sim->sc.nodes;
    for (uint32_t p = 0; p < nodes; p++)
        if (p != n && sim->node [p].measuring && s_knows (sim->seen [(size_t) n * nodes + p]))
            s_measure_done (sim, p);
    if (sim->sc.restarts) {
        sim_event_t event = {.kind = SIM_RESTART, .to = (uint16_t) n, .run = node->run};
        event.at_ms = sim->now_ms + sim_range (&sim->rng, 2000, 20000);
        s_push (sim, event);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Faults

static uint32_t
s_up_count (const sim_t *sim)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < sim->sc.nodes; i++)
        count += sim->node [i].up;
    return count;
}

static void
s_stall (sim_t *sim, uint32_t n, uint64_t ms)
{
    sim_node_t *node = &sim->node [n];
    if (!node->up || node->stalled_until_ms)
        return;
    if ((int) n == s_trace)
        printf ("  t=%" PRIu64 " %u stalls for %" PRIu64 " ms\n", sim->now_ms, n, ms);
    node->stalled_until_ms = sim->now_ms + ms;
    if (ms > node->longest_stall_ms)
        node->longest_stall_ms = ms;
    sim_event_t event = {.kind = SIM_RESUME, .to = (uint16_t) n, .run = node->run};
    event.at_ms = node->stalled_until_ms;
    s_push (sim, event);
}

static void
s_fault (sim_t *sim)
{
    const sim_scenario_t *sc = &sim->sc;
    if (sim->now_ms + sc->quiet_ms < sc->duration_ms) {
        sim_event_t next = {.kind = SIM_FAULT};
        next.at_ms =
            sim->now_ms + sim_range (&sim->rng, sc->fault_gap_ms / 2, sc->fault_gap_ms * 3 / 2);
        s_push (sim, next);
    }
    else
        return;
    uint32_t kinds [6], count = 0;
    if (sc->crashes)
        kinds [count++] = 0;
    if (sc->leaves)
        kinds [count++] = 1;
    if (sc->stalls)
        kinds [count++] = 2;
    if (sc->partitions && !sim->partitioned)
        kinds [count++] = 3;
    if (sc->oneway && sim->oneway_count < SIM_ONEWAY_MAX)
        kinds [count++] = 4;
    if (count == 0)
        return;
    uint32_t kind = kinds [sim_range (&sim->rng, 0, count - 1)];
    uint32_t n = (uint32_t) sim_range (&sim->rng, 0, sc->nodes - 1);
    //  Keep at least two nodes up, and a majority of a small mesh.
    bool can_stop = s_up_count (sim) > 2 && s_up_count (sim) * 2 > sc->nodes + 1;
    if ((kind == 0 || kind == 1) && sim->node [n].up && can_stop
        && !sim->node [n].stalled_until_ms) {
        if (kind == 0)
            sim->crashes++;
        else
            sim->leaves++;
        s_stop (sim, n, kind == 1);
    }
    else if (kind == 2) {
        sim->stalls++;
        s_stall (sim, n, sim_range (&sim->rng, 100, sc->stall_max_ms));
    }
    else if (kind == 3) {
        sim->partitions++;
        sim->partitioned = true;
        for (uint32_t i = 0; i < sc->nodes; i++)
            sim->node [i].group = (uint32_t) sim_range (&sim->rng, 0, 1);
        sim_event_t heal = {.kind = SIM_HEAL, .at_ms = sim->now_ms + sc->partition_ms};
        s_push (sim, heal);
    }
    else if (kind == 4) {
        uint32_t m = (uint32_t) sim_range (&sim->rng, 0, sc->nodes - 1);
        if (m != n) {
            sim->oneway [sim->oneway_count][0] = (uint16_t) n;
            sim->oneway [sim->oneway_count][1] = (uint16_t) m;
            sim->oneway_count++;
            sim_event_t heal = {.kind = SIM_HEAL,
                                .at_ms = sim->now_ms + sim_range (&sim->rng, 1000, 15000)};
            s_push (sim, heal);
        }
    }
}

//  All pairs up agree: each holds each other ALIVE.
static bool
s_converged (const sim_t *sim)
{
    uint32_t n = sim->sc.nodes;
    for (uint32_t o = 0; o < n; o++) {
        if (!sim->node [o].up || sim->node [o].stalled_until_ms)
            continue;
        for (uint32_t p = 0; p < n; p++)
            if (p != o && sim->node [p].up && !s_knows (sim->seen [(size_t) o * n + p]))
                return false;
    }
    return true;
}

static void
s_sweep (sim_t *sim)
{
    if (sim->heal_pending && s_converged (sim)) {
        sim->heal_pending = false;
        s_sample (&sim->heal, sim->now_ms - sim->healed_at_ms);
    }
    for (uint32_t i = 0; i < sim->sc.nodes; i++)
        if (sim->node [i].slow && sim->node [i].up)
            sim->slow_node_ms += 100;
    if (sim->now_ms + 100 <= sim->sc.duration_ms) {
        sim_event_t event = {.kind = SIM_SWEEP, .at_ms = sim->now_ms + 100};
        s_push (sim, event);
    }
}

static void
s_dispatch (sim_t *sim, sim_event_t *event)
{
    sim_node_t *node = event->to < sim->sc.nodes ? &sim->node [event->to] : NULL;
    switch (event->kind) {
        case SIM_DELIVER: {
            if (!node->up)
                break;
            if (node->stalled_until_ms) {
                //  Queued until the stall ends, in arrival order.
                event->at_ms = node->stalled_until_ms;
                s_push (sim, *event);
                event->bytes = NULL;
                break;
            }
            zmesh_swim_msg_t msg;
            int rc = zmesh_swim_msg_decode (&msg, &sim->space, event->bytes, event->size);
            if (rc != ZMESH_OK) {
                s_fail (sim, "node %u: a message from %u does not decode (%d)", event->to,
                        event->from, rc);
                break;
            }
            sim_hash (&sim->hash, (uint64_t) event->from << 16 | event->to);
            for (uint32_t u = 0;
                 s_trace2 >= 0 && (int) event->to == s_trace2 && u < msg.update_count; u++)
                if ((int) s_index (&msg.updates [u].id) == s_trace)
                    printf ("  t=%" PRIu64 " %u -> %u %s: record of %d state %u inc %u\n",
                            sim->now_ms, event->from, event->to,
                            zmesh_swim_msg_type_name (msg.type), s_trace, msg.updates [u].state,
                            msg.updates [u].incarnation);
            for (uint32_t u = 0;
                 s_trace2 >= 0 && (int) event->to == s_trace2 && u < msg.entry_count; u++)
                if ((int) s_index (&msg.entries [u].id) == s_trace)
                    printf ("  t=%" PRIu64 " %u -> %u %s: entry of %d state %u inc %u\n",
                            sim->now_ms, event->from, event->to,
                            zmesh_swim_msg_type_name (msg.type), s_trace, msg.entries [u].state,
                            msg.entries [u].incarnation);
            if (s_trace2 >= 0 && (int) event->to == s_trace2
                && (msg.type == ZMESH_SWIM_SYNC_REPLY || msg.type == ZMESH_SWIM_SYNC))
                printf ("  t=%" PRIu64 " %u -> %u %s cursor %u flags %u, %u entries\n", sim->now_ms,
                        event->from, event->to, zmesh_swim_msg_type_name (msg.type), msg.cursor,
                        msg.flags, msg.entry_count);
            if ((int) event->to == s_trace || (int) event->from == s_trace)
                printf ("  t=%" PRIu64 " %u -> %u %s seq %" PRIu64 " target %u, %u updates\n",
                        sim->now_ms, event->from, event->to, zmesh_swim_msg_type_name (msg.type),
                        msg.seq, s_index (&msg.target), msg.update_count);
            zmesh_swim_event_t step = {.type = ZMESH_SWIM_RECEIVED,
                                       .now_ms = sim->now_ms,
                                       .from = s_id (event->from),
                                       .msg = &msg};
            s_step (sim, event->to, &step);
            break;
        }
        case SIM_TICK:
            if (!node->up || event->run != node->run || event->at_ms != node->tick_at_ms)
                break;
            node->tick_at_ms = UINT64_MAX;
            if (!node->stalled_until_ms)
                s_tick (sim, event->to);
            break;
        case SIM_RESUME:
            if (!node->up || event->run != node->run)
                break;
            node->stalled_until_ms = 0;
            //  After the queued messages (pushed earlier at this time): one tick.
            node->tick_at_ms = UINT64_MAX;
            s_schedule_tick (sim, event->to);
            break;
        case SIM_RESTART:
            if (!node->up && event->run == node->run) {
                sim->restarts++;
                s_start (sim, event->to);
            }
            break;
        case SIM_HEAL:
            if (sim->partitioned) {
                sim->partitioned = false;
                sim->healed_at_ms = sim->now_ms;
                sim->heal_pending = true;
            }
            if (sim->oneway_count > 0)
                sim->oneway_count--;
            break;
        case SIM_SLOW:
            if (node->up) {
                sim->slow_episodes++;
                s_stall (sim, event->to, sim->sc.slow_ms);
            }
            if (sim->now_ms + sim->sc.slow_period_ms < sim->sc.duration_ms) {
                sim_event_t next = *event;
                next.at_ms = sim->now_ms + sim->sc.slow_period_ms;
                s_push (sim, next);
            }
            break;
        case SIM_FAULT:
            s_fault (sim);
            break;
        case SIM_SWEEP:
            s_sweep (sim);
            break;
    }
    free (event->bytes);
}

//  ---------------------------------------------------------------------------------------------
//  One run

static void
s_check_end (sim_t *sim)
{
    uint32_t n = sim->sc.nodes;
    for (uint32_t o = 0; s_trace >= 0 && o < n && n <= 40; o++) {
        if (!sim->node [o].up)
            continue;
        printf ("  end: node %u (generation %" PRIu64 ") holds", o, sim->node [o].generation);
        for (uint32_t i = 0; i < zmesh_swim_member_count (sim->node [o].core); i++) {
            zmesh_swim_member_info_t info;
            zmesh_swim_member_at (sim->node [o].core, i, &info);
            printf (" %u:%s/%" PRIu64 "%s", s_index (&info.id), zmesh_peer_state_name (info.state),
                    info.generation,
                    info.active    ? "a"
                    : info.passive ? "p"
                                   : "");
        }
        printf ("\n");
    }
    for (uint32_t o = 0; o < n && !sim->failed; o++) {
        sim_node_t *node = &sim->node [o];
        if (!node->up)
            continue;
        zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT];
        if (s_up_count (sim) > 1 && zmesh_swim_active (node->core, active) == 0)
            s_fail (sim, "node %u has no active neighbour at the end", o);
        for (uint32_t p = 0; p < n && !sim->failed; p++) {
            if (p == o || !sim->node [p].up)
                continue;
            zmesh_id_t id = s_id (p);
            zmesh_swim_member_info_t info;
            if (zmesh_swim_member (node->core, &id, &info) != ZMESH_OK
                || !s_knows ((uint8_t) info.state) || info.generation != sim->node [p].generation)
                s_fail (sim,
                        "node %u does not hold %u as a member at generation %" PRIu64 " at the end",
                        o, p, sim->node [p].generation);
        }
    }
}

//  Run a scenario; returns the trace hash. The figures stay in *sim.
static uint64_t
s_run (sim_t *sim)
{
    const sim_scenario_t *sc = &sim->sc;
    uint32_t n = sc->nodes;
    ZMESH_ASSERT (n >= 2 && n <= SIM_NODES_MAX);
    sim_current_seed = (sig_atomic_t) sim->seed;
    sim->rng = sim->seed * 0x2545f4914f6cdd1dull + 1;
    sim->hash = 0xcbf29ce484222325ull;
    sim->node = calloc (n, sizeof *sim->node);
    sim->seen = calloc ((size_t) n * n, 1);
    sim->tomb_ms = calloc ((size_t) n * n, sizeof (uint64_t));
    sim->tomb_gen = calloc ((size_t) n * n, sizeof (uint32_t));
    sim->tomb_inc = malloc ((size_t) n * n * sizeof (uint32_t));
    ZMESH_ASSERT (sim->node && sim->seen && sim->tomb_ms && sim->tomb_gen && sim->tomb_inc);
    memset (sim->tomb_inc, 0xff, (size_t) n * n * sizeof (uint32_t));
    //  Node 0 starts alone; the others join through a random live node over bootstrap_ms.
    s_start (sim, 0);
    for (uint32_t i = 1; i < n; i++) {
        sim_event_t start = {.kind = SIM_RESTART, .to = (uint16_t) i, .run = 0};
        start.at_ms = 1 + (sc->bootstrap_ms * i) / n;
        s_push (sim, start);
    }
    for (uint32_t i = 0; i < sc->slow_nodes && i < n; i++) {
        uint32_t slow = n - 1 - i;
        sim->node [slow].slow = true;
        sim_event_t event = {.kind = SIM_SLOW, .to = (uint16_t) slow};
        event.at_ms = sc->bootstrap_ms + 5000 + sim_range (&sim->rng, 0, sc->slow_period_ms);
        s_push (sim, event);
    }
    if (sc->fault_gap_ms) {
        sim_event_t fault = {.kind = SIM_FAULT, .at_ms = sc->bootstrap_ms + 5000};
        s_push (sim, fault);
    }
    sim_event_t sweep = {.kind = SIM_SWEEP, .at_ms = 100};
    s_push (sim, sweep);
    bool quiet = false;
    while (sim->heap_size > 0 && !sim->failed) {
        sim_event_t event = s_pop (sim);
        if (event.at_ms > sc->duration_ms) {
            free (event.bytes);
            break;
        }
        ZMESH_ASSERT (event.at_ms >= sim->now_ms);
        sim->now_ms = event.at_ms;
        if (!quiet && sim->now_ms + sc->quiet_ms >= sc->duration_ms) {
            //  The quiet end: the network is whole again and every node comes back up.
            quiet = true;
            if (sim->partitioned) {
                sim->partitioned = false;
                sim->healed_at_ms = sim->now_ms;
                sim->heal_pending = true;
            }
            sim->oneway_count = 0;
            for (uint32_t i = 0; i < n; i++)
                if (!sim->node [i].up && sim->node [i].run > 0)
                    s_start (sim, i);
        }
        s_dispatch (sim, &event);
    }
    if (!sim->failed && sc->check_end)
        s_check_end (sim);
    while (sim->heap_size > 0)
        free (s_pop (sim).bytes);
    for (uint32_t i = 0; i < n; i++) {
        if (sim->node [i].core)
            sim->limit_drops += zmesh_swim_stats (sim->node [i].core)->limit_drops;
        zmesh_swim_destroy (&sim->node [i].core);
    }
    free (sim->heap);
    free (sim->node);
    free (sim->seen);
    free (sim->tomb_ms);
    free (sim->tomb_gen);
    free (sim->tomb_inc);
    sim->heap = NULL;
    sim->heap_size = sim->heap_capacity = 0;
    return sim->hash;
}

#ifndef SIM_SWIM_NO_MAIN
//  ---------------------------------------------------------------------------------------------
//  The seeds of the test suite

static void
s_draw_scenario (sim_t *sim, sim_scenario_t *sc)
{
    memset (sc, 0, sizeof *sc);
    zmesh_swim_config_defaults (&sc->config);
    //  Mostly small meshes (cheap), a few of 100..250 nodes.
    uint32_t size_class = (uint32_t) sim_range (&sim->rng, 0, 99);
    sc->nodes = size_class < 4 ? (uint32_t) sim_range (&sim->rng, 100, 250)
                               : (uint32_t) sim_range (&sim->rng, 3, size_class < 60 ? 12 : 40);
    sc->loss_ppm = (uint32_t) sim_range (&sim->rng, 0, 200000);
    sc->dup_ppm = (uint32_t) sim_range (&sim->rng, 0, 50000);
    sc->delay_min_ms = (uint32_t) sim_range (&sim->rng, 1, 3);
    sc->delay_max_ms = sc->delay_min_ms + (uint32_t) sim_range (&sim->rng, 0, 10);
    sc->bootstrap_ms = 2000;
    sc->quiet_ms = 25000;
    sc->duration_ms = sc->nodes > 50 ? 60000 : 60000 + sim_range (&sim->rng, 0, 30000);
    if (sc->nodes > 50)
        sc->quiet_ms = 40000;
    sc->fault_gap_ms = (uint32_t) sim_range (&sim->rng, 1500, 6000);
    sc->crashes = sim_chance (&sim->rng, 700000);
    sc->leaves = sim_chance (&sim->rng, 500000);
    sc->restarts = true;
    sc->stalls = sim_chance (&sim->rng, 500000);
    sc->stall_max_ms = SIM_STALL_SAFE_MS;
    //  Partitions and one-way links in a third of the seeds (the false-death check is off in
    //  those: a node cut off is rightly declared dead).
    bool hostile = sim_chance (&sim->rng, 330000);
    sc->partitions = hostile && sim_chance (&sim->rng, 600000);
    sc->oneway = hostile && !sc->partitions;
    sc->partition_ms = (uint32_t) sim_range (&sim->rng, 2000, 12000);
    sc->slow_nodes = sim_chance (&sim->rng, 200000) ? 1 : 0;
    sc->slow_ms = 1000;
    sc->slow_period_ms = 10000;
    sc->config.max_members = sc->nodes + 8;
    sc->config.reap_after_ms = (uint32_t) sim_range (&sim->rng, 20000, 60000);
    sc->check_end = true;
}

static uint64_t
s_run_seed (uint32_t seed, bool verbose, bool *passed)
{
    static sim_t sim;
    memset (&sim, 0, sizeof sim);
    sim.seed = seed;
    sim.rng = seed;
    s_draw_scenario (&sim, &sim.sc);
    sim.verbose = verbose;
    uint64_t hash = s_run (&sim);
    if (verbose) {
        double seconds = (double) sim.sc.duration_ms / 1000.0;
        printf ("seed %3u: %3u nodes, loss %2u%%, dup %u%%, delay %u..%u ms, %2" PRIu64
                " s: %7" PRIu64 " events, %3" PRIu64 " crashes %2" PRIu64 " leaves %2" PRIu64
                " stalls %" PRIu64 " partitions%s; detect p50/p99 %u/%u ms, disseminate "
                "p50/p99 %u/%u ms, false suspicions %" PRIu64 " (+%" PRIu64
                " of slow nodes), %" PRIu64 " limit drops, %.0f B/s per node, hash %016" PRIx64
                "%s\n",
                seed, sim.sc.nodes, sim.sc.loss_ppm / 10000, sim.sc.dup_ppm / 10000,
                sim.sc.delay_min_ms, sim.sc.delay_max_ms, sim.sc.duration_ms / 1000, sim.events,
                sim.crashes, sim.leaves, sim.stalls, sim.partitions,
                sim.sc.oneway ? ", one-way links" : "", s_percentile (&sim.detect, 50),
                s_percentile (&sim.detect, 99), s_percentile (&sim.disseminate, 50),
                s_percentile (&sim.disseminate, 99), sim.false_suspicions,
                sim.false_suspicions_slow, sim.limit_drops,
                (double) sim.bytes / sim.sc.nodes / seconds, hash, sim.failed ? "  FAILED" : "");
    }
    *passed = !sim.failed;
    return hash;
}

int
main (void)
{
    sim_name = "sim_swim";
    signal (SIGABRT, sim_on_abort);
    setvbuf (stdout, NULL, _IOLBF, 0);
    const char *trace = getenv ("ZMESH_SIM_TRACE");
    if (trace && *trace)
        s_trace = atoi (trace);
    if (getenv ("ZMESH_SIM_TRACE2"))
        s_trace2 = atoi (getenv ("ZMESH_SIM_TRACE2"));
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
    bool ok_a, ok_b;
    uint64_t a = s_run_seed (first, false, &ok_a);
    uint64_t b = s_run_seed (first, false, &ok_b);
    bool deterministic = sim_report_determinism ("sim_swim", first, a, ok_a, b, ok_b);
    return sim_report_result ("sim_swim", passed, failed, deterministic);
}
#endif
