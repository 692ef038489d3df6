/*  sim_state.c: a deterministic, seeded simulation of the anti-entropy core (zmesh_state).

    N virtual nodes (3..200), each with its own zmesh_state_t, write and delete keys at random
    and exchange DIGEST / DELTAS messages, every one encoded and decoded by zmesh_state_codec,
    over a virtual network that loses, delays, duplicates and reorders them. Partitions split
    the nodes into groups and heal; nodes crash and restart with a higher generation (an empty
    map); membership (played by the simulator) sometimes tells a node to FORGET an owner that is
    down, and now and then one that is not (a false death). Peer lists are either everyone or
    a partial view (ring neighbours plus a few random nodes). Tombstone TTLs are short, and
    partitions sometimes outlast them, so collection and resync are exercised. One event queue
    ordered by (virtual time, insertion order) drives everything, and a splitmix64 PRNG seeded
    from the seed draws every choice, so a seed replays exactly.

    Invariants, checked after every step of a core:
    - every change (SET / DELETE) is a write its owner really made: that generation, that
      version, that key, that value; no replica holds a generation newer than its owner's, or a
      version of the owner's generation beyond what the owner wrote;
    - no replica goes backwards: (generation, version) per owner never decreases, except where
      a DROP (resync or overflow) says the replica was dropped to be rebuilt from scratch;
    - every message fits the byte budget, encodes to exactly zmesh_state_msg_size bytes, and
      decodes; no core ever counts a malformed message, a bad key or value, or an owner beyond
      its table;
    - bounds: keys and bytes per owner (own map: the configured bounds; replicas: the slack),
      owners per node.
    At the end, after the last fault: every partition healed, every node up, writes stopped;
    then, checked each virtual second: every node's replica of every owner equals the owner's
    map (convergence), within SIM_CONVERGE_MAX_MS. The run then goes on with nothing changing,
    and the traffic is measured over SIM_QUIET_MS from SIM_QUIET_AFTER_MS after convergence
    (past the time changes stay "hot"). Reported: the time to converge, the bytes sent per node per second over
    the whole run, and the bytes and messages per node per second in that quiet period (the
    cost of anti-entropy when there is nothing to tell). A last scenario measures the quiet
    period alone on a plain mesh of SIM_QUIET_NODES nodes: default config, everyone peers, no
    loss and no faults, a few writes and then nothing.

    The mesh scenario plays what zmeshd does (SIM_MESH_SEEDS seeds): SIM_MESH_NODES nodes
    started one after the other, partial views, default config; each writes its name once, its
    links when its neighbours change and a ~200-byte profile every SIM_MESH_PROFILE_MS, for ever.
    At SIM_MESH_KILL_MS one node dies for good; each other node notices it at its own time
    (drops it from its peers, replaces it by another, rewrites or deletes its links) and forgets
    it SIM_MESH_REAP_MS later, so for a while some nodes hold the dead owner and others refuse
    it; another node restarts with a new generation. The traffic per live node and second is
    measured in three windows: before the kill, after every node forgot the dead owner, and
    after the forgotten owner's refusal expired; the last two must come back to the first. At
    the end the profiles stop and every live replica must converge, with no node holding the
    dead owner.

    Usage: sim_state                   seeds 1..200 (ZMESH_SIM_SEEDS=n for another count)
           ZMESH_SIM_SEED=n sim_state  one seed, run twice: same trace hash required
*/
#include "sim_common.h"
#include "zmesh_error.h"
#include "zmesh_state.h"
#include "zmesh_state_codec.h"
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_NODES_MIN       3
#define SIM_NODES_MAX       200
#define SIM_SEEDS_DEFAULT   200
#define SIM_EVENTS_MAX      (1u << 22)  //  bound on queued events
#define SIM_GENERATIONS_MAX 64          //  restarts per node and seed, at most
#define SIM_CHECK_MS        1000        //  period of the convergence check at the end
#define SIM_CONVERGE_MAX_MS 300000      //  convergence must come within this after the faults
#define SIM_KEYS_POOL       96          //  keys a node writes are k0..k95 (some over max_keys)
#define SIM_QUIET_MS        20000       //  traffic measured this long after convergence,
#define SIM_QUIET_AFTER_MS  10000       //  from this long after it (news is old by then)
#define SIM_QUIET_NODES     50          //  nodes of the quiet-mesh scenario
#define SIM_MESH_SEEDS      8           //  seeds of the mesh scenario
#define SIM_MESH_NODES      50          //  nodes of the mesh scenario
#define SIM_MESH_START_MS   100         //  mesh: node n starts at n times this
#define SIM_MESH_PROFILE_MS 5000        //  mesh: each node rewrites its profile this often
#define SIM_MESH_KILL_MS    60000       //  mesh: one node dies for good then,
#define SIM_MESH_DETECT_MS  20000       //  each other node notices within this,
#define SIM_MESH_REAP_MS    60000       //  and forgets it this long after noticing
#define SIM_MESH_STOP_MS    240000      //  mesh: the profiles stop; convergence is checked
#define SIM_MESH_WINDOW_MS  20000       //  mesh: traffic windows this long, starting at:
#define SIM_MESH_SLACK_PCT  125         //  after the kill, at most this share of the first
static const uint64_t s_mesh_window_ms [3] = {40000, 150000, 210000};

typedef enum {
    SIM_DELIVER = 1,  //  a message arrives at `to`
    SIM_TICK,         //  `to` ticks its core (at its deadline)
    SIM_WRITE,        //  a random node sets or deletes a key
    SIM_CRASH,        //  `to` stops
    SIM_RESTART,      //  `to` starts with a higher generation
    SIM_PARTITION,    //  the nodes split into groups
    SIM_HEAL,         //  one group again
    SIM_FAULT,        //  a crash, a partition or a FORGET, at random
    SIM_QUIET,        //  the faults end: heal, restart everyone, stop writing
    SIM_CHECK,        //  convergence check
    SIM_PROFILE,      //  mesh: `to` rewrites its profile
    SIM_DETECT,       //  mesh: `to` notices that the dead node is gone
    SIM_REAP,         //  mesh: `to` forgets the dead node
    SIM_STOP          //  mesh: the profiles stop, convergence checks start
} sim_kind_t;

typedef enum {
    SIM_SCENARIO_FAULTS,  //  random writes and faults, then quiet
    SIM_SCENARIO_PLAIN,   //  a calm mesh: a few writes and then nothing
    SIM_SCENARIO_MESH     //  what zmeshd does: profiles for ever, a node killed and forgotten
} sim_scenario_t;

typedef struct {
    uint64_t at_ms;
    uint64_t seq;  //  insertion order: breaks ties
    uint8_t kind;
    uint16_t from, to;
    uint32_t incarnation;  //  TICK, CRASH: the incarnation of `to` that set it
    uint32_t size;         //  DELIVER: bytes of data
    uint8_t *data;         //  DELIVER: the encoded message (owned by the event)
} sim_event_t;
SIM_EVENT_CHECK (sim_event_t);

typedef struct {
    uint16_t key;  //  index in the key pool
    bool deleted;
    uint64_t value_hash;
} sim_write_t;

typedef struct {
    uint32_t count, capacity;
    sim_write_t *writes;  //  writes [v - 1]: the write of version v
} sim_history_t;

typedef struct {
    bool up;
    uint64_t generation;  //  1 at the first start
    uint32_t incarnation;
    uint64_t tick_at_ms;  //  the tick queued for this incarnation, UINT64_MAX if none
    uint64_t down_since_ms;
    uint32_t group;  //  partition group
    zmesh_state_t core;
    sim_history_t history [SIM_GENERATIONS_MAX];  //  [generation - 1]
    uint64_t *seen;  //  [owner * 2]: generation, version last seen in this node's replica
    uint32_t peer_count;
    zmesh_id_t *peers;
} sim_node_t;

typedef struct {
    uint32_t seed;
    uint64_t rng;
    uint64_t hash;
    bool failed;
    //  The scenario.
    uint32_t nodes;
    zmesh_state_config_t config;
    uint32_t loss_ppm, dup_ppm, delay_min_ms, delay_max_ms;
    uint32_t view;              //  0: everyone; else ring + this many random peers
    uint32_t write_gap_ms;      //  mean time between writes, over the whole mesh
    uint32_t value_max;         //  largest value written
    uint32_t delete_ppm;        //  share of writes that are deletes
    uint32_t fault_gap_ms;      //  mean time between faults
    uint32_t false_forget_ppm;  //  share of FORGETs that hit a node that is up
    uint64_t quiet_at_ms;       //  faults and writes end here
    sim_scenario_t scenario;
    uint32_t victim;     //  mesh: the node killed for good
    uint32_t restarted;  //  mesh: the node that restarts with a new generation
    //  The run.
    uint64_t now_ms;
    uint64_t next_seq;
    sim_event_t *heap;
    uint32_t heap_size;
    sim_node_t *node;
    bool quiet;
    uint64_t converged_ms;  //  when convergence was seen, 0 if not yet
    //  Figures.
    uint64_t events, messages, bytes, writes, changes, crashes, partitions, forgets, resyncs;
    uint64_t converged_bytes;                        //  sent until convergence
    uint64_t quiet_messages, quiet_bytes;            //  sent in the quiet period (nothing changes)
    uint64_t window_messages [3], window_bytes [3];  //  mesh: sent in each window
    uint64_t drops [ZMESH_STATE_DROP_COUNT];
} sim_t;

static zmesh_state_msg_buf_t s_decoded;
static uint8_t s_wire [ZMESH_STATE_MSG_SIZE_MAX];

static uint64_t
s_bytes_hash (const void *data, size_t size)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) {
        hash ^= ((const uint8_t *) data) [i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static void
s_fail (sim_t *sim, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    sim_fail_report (&sim->failed, sim->seed, sim->now_ms, format, args);
    va_end (args);
}

//  Node n's id: byte 0 and 1 say which node; the rest spreads ids over the id space.
static zmesh_id_t
s_id (uint32_t n)
{
    zmesh_id_t id;
    for (int i = 0; i < ZMESH_ID_SIZE; i++)
        id.bytes [i] = (uint8_t) (n * 37 + i * 11);
    id.bytes [0] = (uint8_t) (n * 131 % 256);  //  a permutation of 0..255: order != index
    id.bytes [1] = (uint8_t) n;
    return id;
}

static uint32_t
s_node_of (const zmesh_id_t *id)
{
    return id->bytes [1];
}

//  ---------------------------------------------------------------------------------------------
//  The event queue: a binary min-heap on (at_ms, seq).

static void
s_push (sim_t *sim, sim_event_t event)
{
    if (sim->heap_size == SIM_EVENTS_MAX) {
        s_fail (sim, "event queue full (%u events)", SIM_EVENTS_MAX);
        free (event.data);
        return;
    }
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
s_event (sim_t *sim, sim_kind_t kind, uint32_t to, uint64_t at_ms)
{
    sim_event_t event = {.at_ms = at_ms, .kind = (uint8_t) kind, .to = (uint16_t) to};
    if (to < sim->nodes)
        event.incarnation = sim->node [to].incarnation;
    s_push (sim, event);
}

//  ---------------------------------------------------------------------------------------------
//  The network.

static void
s_send (sim_t *sim, uint32_t from, const zmesh_state_out_t *out)
{
    size_t size = 0;
    int rc = zmesh_state_msg_encode (&out->msg, s_wire, sizeof s_wire, &size);
    if (rc != ZMESH_OK) {
        s_fail (sim, "node %u: a message does not encode: %s", from, zmesh_strerror (rc));
        return;
    }
    if (size != zmesh_state_msg_size (&out->msg) || size > sim->config.budget_bytes) {
        s_fail (sim, "node %u: a message of %zu bytes (size %zu, budget %u)", from, size,
                zmesh_state_msg_size (&out->msg), sim->config.budget_bytes);
        return;
    }
    uint32_t to = s_node_of (&out->to);
    if (to >= sim->nodes || to == from) {
        s_fail (sim, "node %u: a message to %u", from, to);
        return;
    }
    sim->messages++;
    sim->bytes += size;
    if (sim->converged_ms && sim->now_ms >= sim->converged_ms + SIM_QUIET_AFTER_MS) {
        sim->quiet_messages++;
        sim->quiet_bytes += size;
    }
    for (int w = 0; w < 3 && sim->scenario == SIM_SCENARIO_MESH; w++)
        if (sim->now_ms >= s_mesh_window_ms [w]
            && sim->now_ms < s_mesh_window_ms [w] + SIM_MESH_WINDOW_MS) {
            sim->window_messages [w]++;
            sim->window_bytes [w] += size;
        }
    sim_hash (&sim->hash, s_bytes_hash (s_wire, size));
    if (sim_chance (&sim->rng, sim->loss_ppm))
        return;
    int copies = sim_chance (&sim->rng, sim->dup_ppm) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        sim_event_t event = {.kind = SIM_DELIVER,
                             .from = (uint16_t) from,
                             .to = (uint16_t) to,
                             .size = (uint32_t) size};
        event.at_ms = sim->now_ms + sim_range (&sim->rng, sim->delay_min_ms, sim->delay_max_ms);
        event.data = malloc (size);
        if (!event.data) {
            fprintf (stderr, "sim_state: out of memory\n");
            exit (2);
        }
        memcpy (event.data, s_wire, size);
        s_push (sim, event);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Checks on one step of node n's core.

static const sim_write_t *
s_write_at (sim_t *sim, uint32_t owner, uint64_t generation, uint64_t version)
{
    if (generation < 1 || generation > sim->node [owner].generation || version < 1)
        return NULL;
    const sim_history_t *history = &sim->node [owner].history [generation - 1];
    return version <= history->count ? &history->writes [version - 1] : NULL;
}

static void
s_check_change (sim_t *sim, uint32_t n, const zmesh_state_change_t *change, bool *rebuilt)
{
    uint32_t o = s_node_of (&change->owner);
    sim->changes++;
    sim_hash (&sim->hash,
              (uint64_t) n << 48 | (uint64_t) o << 32 | change->kind << 8 | change->cause);
    sim_hash (&sim->hash, change->version);
    if (o >= sim->nodes) {
        s_fail (sim, "node %u: a change of an unknown owner", n);
        return;
    }
    if (change->kind == ZMESH_STATE_CHANGE_DROP) {
        if (change->cause == ZMESH_STATE_CAUSE_RESYNC)
            sim->resyncs++;
        //  Rebuilt from scratch: the replica's version may go back (a reset run cut short).
        if (change->cause == ZMESH_STATE_CAUSE_RESYNC
            || change->cause == ZMESH_STATE_CAUSE_OVERFLOW)
            rebuilt [o] = true;
        return;
    }
    const sim_write_t *write = s_write_at (sim, o, change->generation, change->version);
    unsigned key = 0;
    if (!write || sscanf (change->key, "k%u", &key) != 1 || key != write->key
        || write->deleted != (change->kind == ZMESH_STATE_CHANGE_DELETE)
        || (!write->deleted
            && write->value_hash != s_bytes_hash (change->value, change->value_size)))
        s_fail (sim,
                "node %u: change %s %s of owner %u (generation %" PRIu64 ", version %" PRIu64
                ") is not a write the owner made",
                n, zmesh_state_change_name (change->kind), change->key, o, change->generation,
                change->version);
}

//  The replicas node n holds: never ahead of their owners, never backwards, within bounds.
static void
s_check_replicas (sim_t *sim, uint32_t n, const bool *rebuilt)
{
    sim_node_t *node = &sim->node [n];
    const zmesh_state_config_t *config = &sim->config;
    uint32_t count = zmesh_state_owner_count (&node->core);
    if (count > config->max_owners)
        s_fail (sim, "node %u holds %u owners", n, count);
    for (uint32_t i = 0; i < count && !sim->failed; i++) {
        zmesh_state_owner_info_t info;
        ZMESH_ASSERT (zmesh_state_owner_at (&node->core, i, &info) == ZMESH_OK);
        uint32_t o = s_node_of (&info.id);
        bool own = o == n;
        uint64_t slack = own ? 1 : ZMESH_STATE_REPLICA_SLACK;
        if (info.key_count + info.tombstone_count > slack * config->max_keys
            || info.bytes > slack * config->owner_bytes_max)
            s_fail (sim, "node %u: owner %u has %u keys, %" PRIu64 " bytes", n, o,
                    info.key_count + info.tombstone_count, info.bytes);
        const sim_node_t *owner = &sim->node [o];
        if (info.generation > owner->generation
            || (info.generation >= 1 && info.version > 0
                && !s_write_at (sim, o, info.generation, info.version)
                && info.version > owner->history [info.generation - 1].count))
            s_fail (sim,
                    "node %u holds owner %u at generation %" PRIu64 " version %" PRIu64
                    ", beyond what it wrote",
                    n, o, info.generation, info.version);
        uint64_t *seen = &node->seen [2 * o];
        bool backwards =
            info.generation < seen [0] || (info.generation == seen [0] && info.version < seen [1]);
        if (backwards && !rebuilt [o])
            s_fail (sim,
                    "node %u: owner %u went back from %" PRIu64 ".%" PRIu64 " to %" PRIu64
                    ".%" PRIu64,
                    n, o, seen [0], seen [1], info.generation, info.version);
        seen [0] = info.generation;
        seen [1] = info.version;
    }
}

//  Step node n's core with event; check the update; send what it says.
static void
s_step (sim_t *sim, uint32_t n, zmesh_state_event_t *event)
{
    sim_node_t *node = &sim->node [n];
    zmesh_state_update_t update;
    event->now_ms = sim->now_ms;
    zmesh_state_step (&node->core, event, &update);
    bool network = event->type == ZMESH_STATE_RECEIVED || event->type == ZMESH_STATE_TICK;
    if (network && update.error != ZMESH_OK)
        s_fail (sim, "node %u: step error %s", n, zmesh_strerror (update.error));
    for (int r = 0; r < ZMESH_STATE_DROP_COUNT; r++)
        sim->drops [r] += update.dropped [r];
    //  (A run about the node itself is no fault: it answers a digest of the node's that was
    //  overtaken by a later write.)
    if (update.dropped [ZMESH_STATE_DROP_MALFORMED] || update.dropped [ZMESH_STATE_DROP_OWNERS]
        || update.dropped [ZMESH_STATE_DROP_KEY] || update.dropped [ZMESH_STATE_DROP_VALUE])
        s_fail (sim,
                "node %u dropped input that is never sent (malformed %u, owners %u, key %u, "
                "value %u)",
                n, update.dropped [ZMESH_STATE_DROP_MALFORMED],
                update.dropped [ZMESH_STATE_DROP_OWNERS], update.dropped [ZMESH_STATE_DROP_KEY],
                update.dropped [ZMESH_STATE_DROP_VALUE]);
    static bool rebuilt [SIM_NODES_MAX];
    memset (rebuilt, 0, sizeof rebuilt);
    for (uint32_t i = 0; i < update.change_count; i++)
        s_check_change (sim, n, &update.changes [i], rebuilt);
    s_check_replicas (sim, n, rebuilt);
    for (uint32_t i = 0; i < update.msg_count; i++)
        s_send (sim, n, &update.msgs [i]);
    //  The shell's timer: the core's deadline.
    uint64_t deadline = zmesh_state_deadline_ms (&node->core);
    if (deadline < node->tick_at_ms) {
        node->tick_at_ms = deadline;
        s_event (sim, SIM_TICK, n, deadline > sim->now_ms ? deadline : sim->now_ms);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Nodes: start, crash, write.

static void
s_history_add (sim_t *sim, uint32_t n, const sim_write_t *write)
{
    sim_node_t *node = &sim->node [n];
    sim_history_t *history = &node->history [node->generation - 1];
    if (history->count == history->capacity) {
        history->capacity = history->capacity ? history->capacity * 2 : 64;
        history->writes = realloc (history->writes, history->capacity * sizeof *history->writes);
        if (!history->writes) {
            fprintf (stderr, "sim_state: out of memory\n");
            exit (2);
        }
    }
    history->writes [history->count++] = *write;
}

static void s_mesh_boot (sim_t *sim, uint32_t n);

static void
s_start (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    if (node->generation == SIM_GENERATIONS_MAX) {
        s_fail (sim, "node %u: too many restarts", n);
        return;
    }
    node->generation++;
    node->incarnation++;
    node->up = true;
    node->tick_at_ms = UINT64_MAX;
    memset (node->seen, 0, 2 * sizeof *node->seen * sim->nodes);
    zmesh_id_t id = s_id (n);
    int rc = zmesh_state_init (&node->core, &sim->config, &id, node->generation, 0,
                               sim_rand (&sim->rng), sim->now_ms);
    if (rc != ZMESH_OK) {
        s_fail (sim, "node %u: init: %s", n, zmesh_strerror (rc));
        node->up = false;
        return;
    }
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_PEERS, .peers = node->peers, .peer_count = node->peer_count};
    s_step (sim, n, &event);
    if (sim->scenario == SIM_SCENARIO_MESH)
        s_mesh_boot (sim, n);
}

static void
s_crash (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    zmesh_state_fini (&node->core);
    node->up = false;
    node->incarnation++;
    node->down_since_ms = sim->now_ms;
    sim->crashes++;
}

//  Node n sets key k to value_size random bytes, or deletes it; recorded in its history.
static void
s_write_key (sim_t *sim, uint32_t n, uint32_t k, bool deleted, uint32_t value_size)
{
    static uint8_t value [ZMESH_STATE_VALUE_SIZE_LIMIT];
    sim_node_t *node = &sim->node [n];
    char key [16];
    snprintf (key, sizeof key, "k%u", k);
    zmesh_state_event_t event = {.type = ZMESH_STATE_SET, .key = key};
    if (deleted)
        event.type = ZMESH_STATE_DELETE;
    else {
        event.value_size = value_size;
        for (uint32_t i = 0; i < event.value_size; i++)
            value [i] = (uint8_t) sim_rand (&sim->rng);
        event.value = value;
    }
    //  Recorded before the step, so that the change check finds it; undone if refused.
    sim_write_t write = {.key = (uint16_t) k,
                         .deleted = deleted,
                         .value_hash = s_bytes_hash (value, event.value_size)};
    s_history_add (sim, n, &write);
    uint64_t before = zmesh_state_version (&node->core);
    s_step (sim, n, &event);
    uint64_t after = zmesh_state_version (&node->core);
    sim_history_t *history = &node->history [node->generation - 1];
    if (after == before)
        history->count--;  //  refused (ZMESH_ELIMIT, ZMESH_ENOTFOUND): no version taken
    else
        sim->writes++;
    if (history->count != after)
        s_fail (sim, "node %u: version %" PRIu64 " after %u writes", n, after, history->count);
}

//  A random write of the faults scenario.
static void
s_write (sim_t *sim, uint32_t n)
{
    uint32_t k = (uint32_t) sim_range (&sim->rng, 0, SIM_KEYS_POOL - 1);
    //  Most writes go to a few hot keys, like a health profile's load figures.
    if (sim_chance (&sim->rng, 600000))
        k %= 8;
    bool deleted = sim_chance (&sim->rng, sim->delete_ppm);
    uint32_t value_size = deleted ? 0 : (uint32_t) sim_range (&sim->rng, 0, sim->value_max);
    s_write_key (sim, n, k, deleted, value_size);
}

//  ---------------------------------------------------------------------------------------------
//  The mesh scenario: keys k0 (the name), k1 (the profile), k2 (the links).

#define SIM_KEY_NAME    0
#define SIM_KEY_PROFILE 1
#define SIM_KEY_LINKS   2

//  Node n publishes its links (16 bytes a peer), or now and then deletes them.
static void
s_mesh_links (sim_t *sim, uint32_t n)
{
    bool deleted = sim_chance (&sim->rng, 300000);
    s_write_key (sim, n, SIM_KEY_LINKS, deleted, deleted ? 0 : 16 * sim->node [n].peer_count);
}

//  Node n has just started: its name, its links, and its first profile a while later.
static void
s_mesh_boot (sim_t *sim, uint32_t n)
{
    s_write_key (sim, n, SIM_KEY_NAME, false, 8);
    s_write_key (sim, n, SIM_KEY_LINKS, false, 16 * sim->node [n].peer_count);
    s_event (sim, SIM_PROFILE, n, sim->now_ms + sim_range (&sim->rng, 1, SIM_MESH_PROFILE_MS));
}

//  Node n notices that the victim is gone: drops it from its peers, takes another one if it
//  was among them (a partial view repairs itself), and publishes its links again.
static void
s_mesh_detect (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    zmesh_id_t victim = s_id (sim->victim);
    uint32_t i = 0;
    while (i < node->peer_count && memcmp (&node->peers [i], &victim, sizeof victim) != 0)
        i++;
    bool was_peer = i < node->peer_count;
    if (was_peer) {
        uint32_t other = (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 1);
        bool known = other == n || other == sim->victim;
        for (uint32_t j = 0; j < node->peer_count && !known; j++)
            known = s_node_of (&node->peers [j]) == other;
        node->peers [i] = known ? node->peers [--node->peer_count] : s_id (other);
    }
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_PEERS, .peers = node->peers, .peer_count = node->peer_count};
    s_step (sim, n, &event);
    if (was_peer)
        s_mesh_links (sim, n);
    s_event (sim, SIM_REAP, n, sim->now_ms + SIM_MESH_REAP_MS);
}

//  Node n forgets the victim, as membership does when it reaps a dead member (generation 0:
//  what the node holds of it).
static void
s_mesh_reap (sim_t *sim, uint32_t n)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_FORGET, .peer = s_id (sim->victim)};
    sim->node [n].seen [2 * sim->victim] = sim->node [n].seen [2 * sim->victim + 1] = 0;
    s_step (sim, n, &event);
    sim->forgets++;
}

//  The mesh's timeline: starts one after the other, the kill, each node's detection, a
//  restart, the end of the profiles.
static void
s_mesh_schedule (sim_t *sim)
{
    for (uint32_t n = 0; n < sim->nodes; n++)
        s_event (sim, SIM_RESTART, n, (uint64_t) n * SIM_MESH_START_MS);
    s_event (sim, SIM_CRASH, sim->victim, SIM_MESH_KILL_MS);
    for (uint32_t n = 0; n < sim->nodes; n++)
        if (n != sim->victim)
            s_event (sim, SIM_DETECT, n,
                     SIM_MESH_KILL_MS + sim_range (&sim->rng, 1000, SIM_MESH_DETECT_MS));
    s_event (sim, SIM_CRASH, sim->restarted, SIM_MESH_KILL_MS + 5000);
    s_event (sim, SIM_RESTART, sim->restarted, SIM_MESH_KILL_MS + 7000);
    s_event (sim, SIM_STOP, 0, SIM_MESH_STOP_MS);
}

//  ---------------------------------------------------------------------------------------------
//  The scenario.

static void
s_draw_config (sim_t *sim)
{
    zmesh_state_config_t *config = &sim->config;
    zmesh_state_config_defaults (config);
    config->interval_ms = (uint32_t) sim_range (&sim->rng, 500, 1500);
    config->max_keys = (uint32_t) sim_range (&sim->rng, 8, 64);
    config->key_size_max = 16;
    sim->value_max = (uint32_t) (sim_chance (&sim->rng, 200000) ? sim_range (&sim->rng, 200, 600)
                                                                : sim_range (&sim->rng, 0, 64));
    config->value_size_max = sim->value_max;
    config->owner_bytes_max = (uint32_t) sim_range (&sim->rng, 512, 8192);
    config->tombstone_ttl_ms = (uint32_t) sim_range (&sim->rng, 2000, 30000);
    config->forget_ttl_ms = (uint32_t) sim_range (&sim->rng, 2000, 20000);
    config->max_owners = sim->nodes + (uint32_t) sim_range (&sim->rng, 0, 8);
    //  The budget: the default, or as small as the largest entry allows.
    config->budget_bytes = ZMESH_STATE_BUDGET_BYTES_DEFAULT;
    if (sim_chance (&sim->rng, 300000))
        config->budget_bytes = (uint32_t) sim_range (&sim->rng, 200 + sim->value_max, 1200);
    ZMESH_ASSERT (zmesh_state_config_check (config) == ZMESH_OK);
}

static void
s_draw_scenario (sim_t *sim)
{
    //  Mostly small meshes, which cost little; one seed in five has 100..200 nodes.
    sim->nodes =
        (uint32_t) (sim_chance (&sim->rng, 200000) ? sim_range (&sim->rng, 100, SIM_NODES_MAX)
                                                   : sim_range (&sim->rng, SIM_NODES_MIN, 40));
    s_draw_config (sim);
    sim->loss_ppm = (uint32_t) sim_range (&sim->rng, 0, 200000);
    sim->dup_ppm = (uint32_t) sim_range (&sim->rng, 0, 50000);
    sim->delay_min_ms = (uint32_t) sim_range (&sim->rng, 0, 20);
    sim->delay_max_ms = sim->delay_min_ms + (uint32_t) sim_range (&sim->rng, 0, 300);
    sim->view = sim_chance (&sim->rng, 500000) ? 0 : (uint32_t) sim_range (&sim->rng, 1, 4);
    //  Writes at a share of what the mesh can carry: a node takes in about one budget per
    //  interval, and every write must reach every node. Mostly 5..50% of that; one seed in
    //  five loads the mesh up to 200%, where replicas lag and resync until the end.
    uint64_t entry_bytes = sim->value_max / 2 + 24;
    uint64_t load_pct = sim_chance (&sim->rng, 200000) ? sim_range (&sim->rng, 50, 200)
                                                       : sim_range (&sim->rng, 5, 50);
    uint64_t capacity = (uint64_t) sim->config.budget_bytes * 1000 / sim->config.interval_ms;
    sim->write_gap_ms = (uint32_t) (entry_bytes * 1000 * 100 / (load_pct * capacity) + 1);
    sim->delete_ppm = (uint32_t) sim_range (&sim->rng, 50000, 400000);
    sim->fault_gap_ms = (uint32_t) sim_range (&sim->rng, 1000, 8000);
    sim->false_forget_ppm = (uint32_t) sim_range (&sim->rng, 0, 100000);
    sim->quiet_at_ms = sim_range (&sim->rng, 20, 60) * 1000;
    if (sim->scenario == SIM_SCENARIO_MESH) {
        //  zmeshd on loopback: default config (owners: gossip/max_peers + 1), no loss.
        sim->nodes = SIM_MESH_NODES;
        zmesh_state_config_defaults (&sim->config);
        sim->config.max_owners = 1025;
        sim->loss_ppm = sim->dup_ppm = 0;
        sim->delay_min_ms = 1;
        sim->delay_max_ms = 5;
        sim->view = 4;
        sim->victim = (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 1);
        sim->restarted =
            (sim->victim + 1 + (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 2)) % sim->nodes;
        sim->fault_gap_ms = UINT32_MAX / 4;
        sim->quiet_at_ms = SIM_MESH_STOP_MS;
    }
    if (sim->scenario == SIM_SCENARIO_PLAIN) {
        //  A calm mesh: what an idle deployment costs.
        sim->nodes = SIM_QUIET_NODES;
        zmesh_state_config_defaults (&sim->config);
        sim->config.max_owners = 2 * SIM_QUIET_NODES;
        sim->loss_ppm = sim->dup_ppm = 0;
        sim->delay_min_ms = 1;
        sim->delay_max_ms = 5;
        sim->view = 0;
        sim->fault_gap_ms = UINT32_MAX / 4;
        sim->quiet_at_ms = 10000;
    }
}

//  Peers: everyone, or a partial view (ring neighbours, so the graph stays connected, plus a
//  few random nodes).
static void
s_draw_peers (sim_t *sim, uint32_t n)
{
    sim_node_t *node = &sim->node [n];
    node->peers = calloc (sim->nodes, sizeof *node->peers);
    node->seen = calloc (2 * (size_t) sim->nodes, sizeof *node->seen);
    if (!node->peers || !node->seen) {
        fprintf (stderr, "sim_state: out of memory\n");
        exit (2);
    }
    for (uint32_t p = 0; p < sim->nodes; p++) {
        bool ring = p == (n + 1) % sim->nodes || (p + 1) % sim->nodes == n;
        bool chosen =
            sim->view == 0 || ring || sim_chance (&sim->rng, sim->view * 1000000 / sim->nodes);
        if (p != n && chosen)
            node->peers [node->peer_count++] = s_id (p);
    }
}

static void
s_fault (sim_t *sim)
{
    uint32_t n = (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 1);
    uint32_t what = (uint32_t) sim_range (&sim->rng, 0, 9);
    uint64_t ttl = sim->config.tombstone_ttl_ms;
    if (what < 4 && sim->node [n].up) {
        //  Down for a while; sometimes longer than a tombstone lives.
        s_event (sim, SIM_CRASH, n, sim->now_ms);
        s_event (sim, SIM_RESTART, n, sim->now_ms + sim_range (&sim->rng, 500, ttl * 3 / 2));
    }
    else if (what < 7) {
        s_event (sim, SIM_PARTITION, 0, sim->now_ms);
        s_event (sim, SIM_HEAL, 0, sim->now_ms + sim_range (&sim->rng, 1000, ttl * 3 / 2));
    }
    else {
        //  Membership reaps an owner at some node: one that is down, or by mistake one that is
        //  up (a false death).
        uint32_t o = (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 1);
        if (o != n && sim->node [n].up
            && (!sim->node [o].up || sim_chance (&sim->rng, sim->false_forget_ppm))) {
            zmesh_state_event_t event = {.type = ZMESH_STATE_FORGET,
                                         .peer = s_id (o),
                                         .generation = sim->node [o].generation};
            sim->node [n].seen [2 * o] = sim->node [n].seen [2 * o + 1] = 0;
            s_step (sim, n, &event);
            sim->forgets++;
        }
    }
}

//  Every node's replica of every owner equals the owner's map. Cheap test first (versions),
//  then the full comparison.
typedef struct {
    uint64_t sum;
    uint32_t count;
} sim_digest_t;

static void
s_visit (const zmesh_state_item_t *item, void *arg)
{
    sim_digest_t *digest = arg;
    uint64_t hash = s_bytes_hash (item->key, strlen (item->key)) ^ (item->version * 0x9e37);
    hash ^= s_bytes_hash (item->value, item->value_size) * 31;
    digest->sum += hash;
    digest->count++;
}

static bool
s_converged (sim_t *sim, bool full)
{
    for (uint32_t o = 0; o < sim->nodes; o++) {
        zmesh_state_t *owner = &sim->node [o].core;
        zmesh_id_t id = s_id (o);
        zmesh_state_owner_info_t mine, theirs;
        if (!sim->node [o].up) {
            //  Dead for good (the mesh scenario), and forgotten: no live node holds it.
            for (uint32_t n = 0; n < sim->nodes; n++)
                if (sim->node [n].up
                    && zmesh_state_owner_info (&sim->node [n].core, &id, &theirs) == ZMESH_OK
                    && theirs.key_count > 0)
                    return false;
            continue;
        }
        ZMESH_ASSERT (zmesh_state_owner_info (owner, &id, &mine) == ZMESH_OK);
        sim_digest_t expect = {0, 0};
        if (full)
            zmesh_state_each (owner, &id, false, s_visit, &expect);
        for (uint32_t n = 0; n < sim->nodes; n++) {
            if (n == o || !sim->node [n].up)
                continue;
            zmesh_state_t *replica = &sim->node [n].core;
            bool held = zmesh_state_owner_info (replica, &id, &theirs) == ZMESH_OK;
            bool same =
                held && theirs.generation == mine.generation && theirs.version == mine.version;
            bool both_empty = mine.key_count == 0 && (!held || theirs.key_count == 0);
            if (!same && !both_empty)
                return false;
            if (!full)
                continue;
            sim_digest_t got = {0, 0};
            if (held)
                zmesh_state_each (replica, &id, false, s_visit, &got);
            if (got.sum != expect.sum || got.count != expect.count) {
                s_fail (sim, "node %u's replica of owner %u differs: %u keys, owner has %u", n, o,
                        got.count, expect.count);
                return false;
            }
        }
    }
    return true;
}

//  Why convergence did not come: the first pair that differs, and the drop counters.
static void
s_report_divergence (sim_t *sim)
{
    char drops [512];
    int used = 0;
    for (int r = 0; r < ZMESH_STATE_DROP_COUNT && used < (int) sizeof drops - 40; r++)
        used += snprintf (drops + used, sizeof drops - used, " %s=%" PRIu64,
                          zmesh_state_drop_name ((zmesh_state_drop_t) r), sim->drops [r]);
    for (uint32_t o = 0; o < sim->nodes; o++) {
        zmesh_id_t id = s_id (o);
        zmesh_state_owner_info_t mine, theirs;
        memset (&mine, 0, sizeof mine);  //  a dead owner: no one should hold it
        if (sim->node [o].up)
            ZMESH_ASSERT (zmesh_state_owner_info (&sim->node [o].core, &id, &mine) == ZMESH_OK);
        for (uint32_t n = 0; n < sim->nodes; n++) {
            if (n == o || !sim->node [n].up)
                continue;
            if (zmesh_state_owner_info (&sim->node [n].core, &id, &theirs) != ZMESH_OK)
                memset (&theirs, 0, sizeof theirs);
            if (theirs.generation == mine.generation && theirs.version == mine.version)
                continue;
            if (mine.key_count == 0 && theirs.key_count == 0)
                continue;
            s_fail (sim,
                    "no convergence %u ms after the faults ended: node %u holds owner %u at "
                    "%" PRIu64 ".%" PRIu64 " floor %" PRIu64 " (%u keys), the owner is at %" PRIu64
                    ".%" PRIu64 " floor %" PRIu64 " (%u keys); drops:%s",
                    SIM_CONVERGE_MAX_MS, n, o, theirs.generation, theirs.version, theirs.floor,
                    theirs.key_count, mine.generation, mine.version, mine.floor, mine.key_count,
                    drops);
            return;
        }
    }
    s_fail (sim, "no convergence %u ms after the faults ended; drops:%s", SIM_CONVERGE_MAX_MS,
            drops);
}

static void
s_dispatch (sim_t *sim, sim_event_t *event)
{
    sim_node_t *node = event->to < sim->nodes ? &sim->node [event->to] : NULL;
    sim_hash (&sim->hash, event->at_ms << 8 | event->kind);
    sim_hash (&sim->hash, (uint64_t) event->from << 16 | event->to);
    switch (event->kind) {
        case SIM_DELIVER: {
            bool cut = sim->node [event->from].group != node->group;
            if (!node->up || cut)
                break;
            int rc = zmesh_state_msg_decode (&s_decoded, event->data, event->size);
            if (rc != ZMESH_OK) {
                s_fail (sim, "node %u: a message from %u does not decode: %s", event->to,
                        event->from, zmesh_strerror (rc));
                break;
            }
            zmesh_state_event_t received = {
                .type = ZMESH_STATE_RECEIVED, .peer = s_id (event->from), .msg = &s_decoded.msg};
            s_step (sim, event->to, &received);
            break;
        }
        case SIM_TICK:
            if (!node->up || event->incarnation != node->incarnation
                || event->at_ms < node->tick_at_ms)
                break;  //  an earlier run's timer, or one replaced by an earlier deadline
            node->tick_at_ms = UINT64_MAX;
            zmesh_state_event_t tick = {.type = ZMESH_STATE_TICK};
            s_step (sim, event->to, &tick);
            break;
        case SIM_WRITE:
            if (sim->quiet)
                break;
            uint32_t n = (uint32_t) sim_range (&sim->rng, 0, sim->nodes - 1);
            if (sim->node [n].up)
                s_write (sim, n);
            s_event (sim, SIM_WRITE, 0,
                     sim->now_ms + sim_range (&sim->rng, 1, 2 * sim->write_gap_ms));
            break;
        case SIM_FAULT:
            if (sim->quiet)
                break;
            s_fault (sim);
            s_event (sim, SIM_FAULT, 0,
                     sim->now_ms + sim_range (&sim->rng, 1, 2 * sim->fault_gap_ms));
            break;
        case SIM_CRASH:
            if (node->up && !sim->quiet)
                s_crash (sim, event->to);
            break;
        case SIM_RESTART:
            if (!node->up)
                s_start (sim, event->to);
            break;
        case SIM_PARTITION:
            if (sim->quiet)
                break;
            sim->partitions++;
            uint32_t groups = (uint32_t) sim_range (&sim->rng, 2, 3);
            for (uint32_t i = 0; i < sim->nodes; i++)
                sim->node [i].group = (uint32_t) sim_range (&sim->rng, 0, groups - 1);
            break;
        case SIM_HEAL:
            for (uint32_t i = 0; i < sim->nodes; i++)
                sim->node [i].group = 0;
            break;
        case SIM_QUIET:
            sim->quiet = true;
            for (uint32_t i = 0; i < sim->nodes; i++) {
                sim->node [i].group = 0;
                if (!sim->node [i].up)
                    s_start (sim, i);
            }
            s_event (sim, SIM_CHECK, 0, sim->now_ms + SIM_CHECK_MS);
            break;
        case SIM_PROFILE:
            if (sim->quiet || !node->up || event->incarnation != node->incarnation)
                break;
            s_write_key (sim, event->to, SIM_KEY_PROFILE, false,
                         (uint32_t) sim_range (&sim->rng, 190, 210));
            s_event (sim, SIM_PROFILE, event->to,
                     sim->now_ms + SIM_MESH_PROFILE_MS + sim_range (&sim->rng, 0, 50));
            break;
        case SIM_DETECT:
            if (node->up)
                s_mesh_detect (sim, event->to);
            else  //  restarting: it learns of the death once it is back
                s_event (sim, SIM_DETECT, event->to, sim->now_ms + 1000);
            break;
        case SIM_REAP:
            if (node->up)
                s_mesh_reap (sim, event->to);
            break;
        case SIM_STOP:
            sim->quiet = true;
            s_event (sim, SIM_CHECK, 0, sim->now_ms + SIM_CHECK_MS);
            break;
        case SIM_CHECK:
            if (s_converged (sim, false) && s_converged (sim, true)) {
                sim->converged_ms = sim->now_ms;
                sim->converged_bytes = sim->bytes;
            }
            else if (sim->now_ms >= sim->quiet_at_ms + SIM_CONVERGE_MAX_MS)
                s_report_divergence (sim);
            else
                s_event (sim, SIM_CHECK, 0, sim->now_ms + SIM_CHECK_MS);
            break;
    }
}

//  ---------------------------------------------------------------------------------------------

typedef struct {
    uint64_t hash;
    uint64_t converge_ms;
    double bytes_per_node_s;
    double quiet_bytes_per_node_s;          //  after convergence
    double quiet_messages_per_node_s;       //  after convergence
    double window_bytes_per_node_s [3];     //  mesh: per live node, in each window
    double window_messages_per_node_s [3];  //  mesh
} sim_result_t;

static bool
s_run (uint32_t seed, sim_scenario_t scenario, bool verbose, sim_result_t *result)
{
    static sim_t sim;
    memset (&sim, 0, sizeof sim);
    sim.seed = seed;
    sim.scenario = scenario;
    sim.rng = seed;
    sim.hash = 0xcbf29ce484222325ull;
    sim_current_seed = (sig_atomic_t) seed;
    s_draw_scenario (&sim);
    sim.heap = malloc (SIM_EVENTS_MAX * sizeof *sim.heap);
    sim.node = calloc (sim.nodes, sizeof *sim.node);
    if (!sim.heap || !sim.node) {
        fprintf (stderr, "sim_state: out of memory\n");
        exit (2);
    }
    for (uint32_t n = 0; n < sim.nodes; n++)
        s_draw_peers (&sim, n);
    if (scenario == SIM_SCENARIO_MESH)
        s_mesh_schedule (&sim);
    else {
        for (uint32_t n = 0; n < sim.nodes; n++)
            s_start (&sim, n);
        s_event (&sim, SIM_WRITE, 0, 1);
        s_event (&sim, SIM_FAULT, 0, sim_range (&sim.rng, 1, sim.fault_gap_ms));
        s_event (&sim, SIM_QUIET, 0, sim.quiet_at_ms);
    }
    uint64_t end_after_ms = scenario == SIM_SCENARIO_MESH ? 0 : SIM_QUIET_AFTER_MS + SIM_QUIET_MS;
    while (sim.heap_size > 0 && !sim.failed
           && !(sim.converged_ms && sim.now_ms >= sim.converged_ms + end_after_ms)) {
        sim_event_t event = s_pop (&sim);
        ZMESH_ASSERT (event.at_ms >= sim.now_ms);
        sim.now_ms = event.at_ms;
        sim.events++;
        s_dispatch (&sim, &event);
        free (event.data);
    }
    if (!sim.failed && !sim.converged_ms)
        s_fail (&sim, "the event queue ran dry");
    result->hash = sim.hash;
    result->converge_ms = sim.converged_ms ? sim.converged_ms - sim.quiet_at_ms : 0;
    uint64_t until_ms = sim.converged_ms ? sim.converged_ms : sim.now_ms;
    result->bytes_per_node_s =
        (double) sim.converged_bytes / sim.nodes / ((double) until_ms / 1000);
    double quiet_s = (double) SIM_QUIET_MS / 1000;
    result->quiet_bytes_per_node_s = (double) sim.quiet_bytes / sim.nodes / quiet_s;
    result->quiet_messages_per_node_s = (double) sim.quiet_messages / sim.nodes / quiet_s;
    for (int w = 0; w < 3; w++) {
        //  Per live node: all before the kill, all but the victim after it.
        double live = s_mesh_window_ms [w] < SIM_MESH_KILL_MS ? sim.nodes : sim.nodes - 1;
        double window_s = (double) SIM_MESH_WINDOW_MS / 1000;
        result->window_bytes_per_node_s [w] = (double) sim.window_bytes [w] / live / window_s;
        result->window_messages_per_node_s [w] = (double) sim.window_messages [w] / live / window_s;
    }
    if (scenario == SIM_SCENARIO_MESH && !sim.failed)
        for (int w = 1; w < 3; w++)
            if (result->window_bytes_per_node_s [w]
                    > result->window_bytes_per_node_s [0] * SIM_MESH_SLACK_PCT / 100
                || result->window_messages_per_node_s [w]
                       > result->window_messages_per_node_s [0] * SIM_MESH_SLACK_PCT / 100)
                s_fail (&sim,
                        "mesh: window %d after the kill costs %.0f B %.2f msg/node/s, before it "
                        "%.0f B %.2f msg/node/s",
                        w, result->window_bytes_per_node_s [w],
                        result->window_messages_per_node_s [w], result->window_bytes_per_node_s [0],
                        result->window_messages_per_node_s [0]);
    if (verbose && scenario == SIM_SCENARIO_MESH)
        printf ("mesh seed %3u: victim %2u, restarted %2u, %6" PRIu64 " writes, %3" PRIu64
                " forgets; B/msg per live node/s: before the kill %4.0f/%.2f, after the reap "
                "%4.0f/%.2f, after the refusal expired %4.0f/%.2f; converged %5.1f s after the "
                "profiles stopped%s\n",
                seed, sim.victim, sim.restarted, sim.writes, sim.forgets,
                result->window_bytes_per_node_s [0], result->window_messages_per_node_s [0],
                result->window_bytes_per_node_s [1], result->window_messages_per_node_s [1],
                result->window_bytes_per_node_s [2], result->window_messages_per_node_s [2],
                (double) result->converge_ms / 1000, sim.failed ? "  FAILED" : "");
    else if (verbose)
        printf (
            "seed %3u: nodes %3u, view %u, loss %2u%%, dup %u%%, delay %3u..%3u ms, budget "
            "%4u, keys %2u, value %3u, ttl %5u ms, %2" PRIu64 " s: %6" PRIu64 " writes, %4" PRIu64
            " crashes, %3" PRIu64 " partitions, %3" PRIu64 " forgets, %4" PRIu64
            " resyncs; converged in %5.1f s, %6.0f B/node/s, quiet %5.0f B/node/s %4.2f "
            "msg/node/s, hash %016" PRIx64 "%s\n",
            seed, sim.nodes, sim.view, sim.loss_ppm / 10000, sim.dup_ppm / 10000, sim.delay_min_ms,
            sim.delay_max_ms, sim.config.budget_bytes, sim.config.max_keys, sim.value_max,
            sim.config.tombstone_ttl_ms, sim.quiet_at_ms / 1000, sim.writes, sim.crashes,
            sim.partitions, sim.forgets, sim.resyncs, (double) result->converge_ms / 1000,
            result->bytes_per_node_s, result->quiet_bytes_per_node_s,
            result->quiet_messages_per_node_s, sim.hash, sim.failed ? "  FAILED" : "");
    while (sim.heap_size > 0)
        free (s_pop (&sim).data);
    for (uint32_t n = 0; n < sim.nodes; n++) {
        if (sim.node [n].up)
            zmesh_state_fini (&sim.node [n].core);
        for (uint32_t g = 0; g < SIM_GENERATIONS_MAX; g++)
            free (sim.node [n].history [g].writes);
        free (sim.node [n].seen);
        free (sim.node [n].peers);
    }
    free (sim.node);
    free (sim.heap);
    return !sim.failed;
}

int
main (void)
{
    sim_name = "sim_state";
    signal (SIGABRT, sim_on_abort);
    setvbuf (stdout, NULL, _IOLBF, 0);
    uint32_t first, count;
    sim_seed_range (SIM_SEEDS_DEFAULT, &first, &count);
    uint32_t passed = 0, failed = 0;
    uint64_t converge_max = 0, converge_sum = 0;
    double bytes_sum = 0, quiet_bytes_sum = 0, quiet_messages_sum = 0;
    for (uint32_t seed = first; seed < first + count; seed++) {
        sim_result_t result;
        if (s_run (seed, SIM_SCENARIO_FAULTS, true, &result)) {
            passed++;
            converge_sum += result.converge_ms;
            if (result.converge_ms > converge_max)
                converge_max = result.converge_ms;
            bytes_sum += result.bytes_per_node_s;
            quiet_bytes_sum += result.quiet_bytes_per_node_s;
            quiet_messages_sum += result.quiet_messages_per_node_s;
        }
        else
            failed++;
    }
    //  Determinism: the first seed again gives the same trace hash, twice.
    sim_result_t a, b;
    bool ok_a = s_run (first, SIM_SCENARIO_FAULTS, false, &a);
    bool ok_b = s_run (first, SIM_SCENARIO_FAULTS, false, &b);
    bool deterministic = sim_report_determinism ("sim_state", first, a.hash, ok_a, b.hash, ok_b);
    if (passed > 0)
        printf ("sim_state: convergence after the last fault: mean %.1f s, max %.1f s; mean "
                "%.0f bytes/node/s; quiet (%d..%d s after convergence): mean %.0f bytes/node/s, "
                "%.2f messages/node/s\n",
                (double) converge_sum / passed / 1000, (double) converge_max / 1000,
                bytes_sum / passed, SIM_QUIET_AFTER_MS / 1000,
                (SIM_QUIET_AFTER_MS + SIM_QUIET_MS) / 1000, quiet_bytes_sum / passed,
                quiet_messages_sum / passed);
    //  The quiet-mesh figure: the first seed's draws, on the plain scenario.
    sim_result_t quiet;
    if (s_run (first, SIM_SCENARIO_PLAIN, false, &quiet))
        printf ("sim_state: quiet mesh of %d nodes (default config, no loss): %.0f bytes/node/s, "
                "%.2f messages/node/s\n",
                SIM_QUIET_NODES, quiet.quiet_bytes_per_node_s, quiet.quiet_messages_per_node_s);
    else
        failed++;
    //  The mesh scenario: the traffic before the kill, after the reap, after the refusal.
    double windows [2][3] = {{0}};
    uint32_t mesh_passed = 0;
    for (uint32_t seed = first; seed < first + SIM_MESH_SEEDS; seed++) {
        sim_result_t result;
        if (!s_run (seed, SIM_SCENARIO_MESH, true, &result)) {
            failed++;
            continue;
        }
        mesh_passed++;
        for (int w = 0; w < 3; w++) {
            windows [0][w] += result.window_bytes_per_node_s [w];
            windows [1][w] += result.window_messages_per_node_s [w];
        }
    }
    if (mesh_passed > 0)
        printf ("sim_state: mesh of %d nodes (profiles every %d s, a node killed and forgotten): "
                "bytes/messages per live node/s before the kill %.0f/%.2f, after the reap "
                "%.0f/%.2f, after the refusal expired %.0f/%.2f\n",
                SIM_MESH_NODES, SIM_MESH_PROFILE_MS / 1000, windows [0][0] / mesh_passed,
                windows [1][0] / mesh_passed, windows [0][1] / mesh_passed,
                windows [1][1] / mesh_passed, windows [0][2] / mesh_passed,
                windows [1][2] / mesh_passed);
    return sim_report_result ("sim_state", passed, failed, deterministic);
}
