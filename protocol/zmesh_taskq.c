/*  zmesh_taskq.c: the worker's priority task queue (see zmesh_taskq.h).

    Layout. A pool of config.capacity nodes. A used node is in the doubly linked list of its
    priority, oldest first; since times never go backwards here, each list is also sorted by
    virtual time, so the next entry is one of four heads and the entry to steal one of three
    tails. An unused node is in the free list (singly linked through `next`). The index maps a
    task id to its node: open addressing, linear probing, at most half full, and deletion by
    backward shift, so it needs no tombstones and never degrades however long the queue runs.
*/
#include "zmesh_taskq.h"
#include "zmesh_error.h"
#include <stdlib.h>
#include <string.h>

#define S_NIL UINT32_MAX  //  no node

//  --------------------------------------------------------------------------------------------
//  Priorities

static const char *const s_priority_names [ZMESH_PRIORITY_COUNT] = {"low", "normal", "high",
                                                                    "critical"};

const char *
zmesh_priority_name (int priority)
{
    if (priority < 0 || priority >= ZMESH_PRIORITY_COUNT)
        return "?";
    return s_priority_names [priority];
}

int
zmesh_priority_parse (const char *text, zmesh_priority_t *priority)
{
    ZMESH_ASSERT (priority);
    int index = zmesh_name_index (text, s_priority_names, ZMESH_PRIORITY_COUNT);
    if (index < 0)
        return ZMESH_EINVAL;
    *priority = (zmesh_priority_t) index;
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Configuration

void
zmesh_taskq_config_defaults (zmesh_taskq_config_t *config)
{
    ZMESH_ASSERT (config);
    config->capacity = ZMESH_TASKQ_CAPACITY_DEFAULT;
    config->aging_ms = ZMESH_TASKQ_AGING_MS_DEFAULT;
    config->slots = ZMESH_TASKQ_SLOTS_DEFAULT;
    config->critical_reserve = ZMESH_TASKQ_CRITICAL_RESERVE_DEFAULT;
}

int
zmesh_taskq_config_check (const zmesh_taskq_config_t *config)
{
    ZMESH_ASSERT (config);
    if (config->capacity < 1 || config->capacity > ZMESH_TASKQ_CAPACITY_LIMIT)
        return ZMESH_ECONFIG;
    //  aging_ms of 0 would make every level equal (plain FIFO): surely a mistake.
    if (config->aging_ms < 1 || config->aging_ms > ZMESH_TASKQ_AGING_MS_LIMIT)
        return ZMESH_ECONFIG;
    if (config->slots < 1 || config->slots > ZMESH_TASKQ_SLOTS_LIMIT)
        return ZMESH_ECONFIG;
    //  A reserve of every slot would never start anything but CRITICAL work.
    if (config->critical_reserve >= config->slots)
        return ZMESH_ECONFIG;
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Index: task id -> pool slot

//  The index cell holding id, or the empty cell where it would go.
static uint32_t
s_index_find (const zmesh_taskq_t *self, const zmesh_id_t *id)
{
    uint32_t cell = (uint32_t) zmesh_id_hash (id) & self->index_mask;
    //  At most half full, so an empty cell always ends the probe.
    while (self->index [cell] != 0) {
        if (zmesh_id_equal (&self->nodes [self->index [cell] - 1].entry.id, id))
            break;
        cell = (cell + 1) & self->index_mask;
    }
    return cell;
}

//  Empty a cell, moving later cells of the same probe run back so that no lookup is cut short.
static void
s_index_delete (zmesh_taskq_t *self, uint32_t hole)
{
    uint32_t cell = hole;
    while (true) {
        cell = (cell + 1) & self->index_mask;
        if (self->index [cell] == 0)
            break;
        uint32_t home = (uint32_t) zmesh_id_hash (&self->nodes [self->index [cell] - 1].entry.id)
                        & self->index_mask;
        //  The entry may move to the hole only if its home is not cyclically in (hole, cell].
        bool stays = hole <= cell ? (hole < home && home <= cell) : (hole < home || home <= cell);
        if (stays)
            continue;
        self->index [hole] = self->index [cell];
        hole = cell;
    }
    self->index [hole] = 0;
}

//  --------------------------------------------------------------------------------------------
//  Lifecycle

int
zmesh_taskq_init (zmesh_taskq_t *self, const zmesh_taskq_config_t *config, uint64_t now_ms)
{
    ZMESH_ASSERT (self);
    memset (self, 0, sizeof *self);
    if (config)
        self->config = *config;
    else
        zmesh_taskq_config_defaults (&self->config);
    int rc = zmesh_taskq_config_check (&self->config);
    if (rc != ZMESH_OK)
        return rc;

    uint32_t cells = 2;
    while (cells < 2 * self->config.capacity)
        cells *= 2;
    self->nodes = calloc (self->config.capacity, sizeof *self->nodes);
    self->index = calloc (cells, sizeof *self->index);
    if (!self->nodes || !self->index) {
        zmesh_taskq_fini (self);
        return ZMESH_ENOMEM;
    }
    self->index_mask = cells - 1;
    for (uint32_t i = 0; i < self->config.capacity; i++)
        self->nodes [i].next = i + 1 < self->config.capacity ? i + 1 : S_NIL;
    self->free_head = 0;
    for (int level = 0; level < ZMESH_PRIORITY_COUNT; level++)
        self->head [level] = self->tail [level] = S_NIL;
    self->now_ms = now_ms;
    return ZMESH_OK;
}

void
zmesh_taskq_fini (zmesh_taskq_t *self)
{
    ZMESH_ASSERT (self);
    free (self->nodes);
    free (self->index);
    self->nodes = NULL;
    self->index = NULL;
    self->stats.depth = 0;
}

//  --------------------------------------------------------------------------------------------
//  Order

//  Time never goes backwards here (see the header): lists stay sorted by enqueue time.
static void
s_tick (zmesh_taskq_t *self, uint64_t now_ms)
{
    ZMESH_ASSERT (self->nodes);
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
}

//  The time at which a HIGH entry would rank with this one; saturates rather than wraps.
static uint64_t
s_virtual_ms (const zmesh_taskq_t *self, const zmesh_taskq_node_t *node)
{
    uint64_t boost =
        (uint64_t) (ZMESH_PRIORITY_HIGH - node->entry.priority) * self->config.aging_ms;
    uint64_t when = node->entry.enqueue_ms;
    return when > UINT64_MAX - boost ? UINT64_MAX : when + boost;
}

//  Whether a goes before b (both non-CRITICAL).
static bool
s_before (const zmesh_taskq_t *self, uint32_t a, uint32_t b)
{
    uint64_t va = s_virtual_ms (self, &self->nodes [a]);
    uint64_t vb = s_virtual_ms (self, &self->nodes [b]);
    if (va != vb)
        return va < vb;
    return self->nodes [a].seq < self->nodes [b].seq;
}

//  The non-CRITICAL node that goes first (from_head) or last (!from_head); S_NIL if none.
static uint32_t
s_pick (const zmesh_taskq_t *self, bool from_head)
{
    uint32_t best = S_NIL;
    for (int level = ZMESH_PRIORITY_LOW; level <= ZMESH_PRIORITY_HIGH; level++) {
        uint32_t node = from_head ? self->head [level] : self->tail [level];
        if (node == S_NIL)
            continue;
        if (best == S_NIL
            || (from_head ? s_before (self, node, best) : s_before (self, best, node)))
            best = node;
    }
    return best;
}

//  Out of its list and the index, back to the free list; its entry into *out if out.
static void
s_take (zmesh_taskq_t *self, uint32_t node, zmesh_taskq_entry_t *out)
{
    zmesh_taskq_node_t *n = &self->nodes [node];
    int level = (int) n->entry.priority;
    if (n->prev == S_NIL)
        self->head [level] = n->next;
    else
        self->nodes [n->prev].next = n->next;
    if (n->next == S_NIL)
        self->tail [level] = n->prev;
    else
        self->nodes [n->next].prev = n->prev;

    uint32_t cell = s_index_find (self, &n->entry.id);
    ZMESH_ASSERT (self->index [cell] == node + 1);
    s_index_delete (self, cell);

    ZMESH_ASSERT (self->stats.depth > 0 && self->stats.depth_by_priority [level] > 0);
    self->stats.depth--;
    self->stats.depth_by_priority [level]--;
    self->stats.cpu_millicores -= n->entry.cpu_millicores;
    if (out)
        *out = n->entry;
    n->prev = S_NIL;
    n->next = self->free_head;
    self->free_head = node;
}

//  --------------------------------------------------------------------------------------------
//  Operations

int
zmesh_taskq_push (zmesh_taskq_t *self,
                  uint64_t now_ms,
                  const zmesh_id_t *id,
                  zmesh_priority_t priority,
                  uint64_t handle,
                  uint32_t cpu_millicores)
{
    ZMESH_ASSERT (self && id);
    s_tick (self, now_ms);
    //  The priority may come from a decoded message: an error, not an assertion.
    if ((int) priority < 0 || (int) priority >= ZMESH_PRIORITY_COUNT)
        return ZMESH_EINVAL;
    uint32_t cell = s_index_find (self, id);
    if (self->index [cell] != 0) {
        self->stats.refused_duplicate++;
        return ZMESH_ESTATE;
    }
    if (self->free_head == S_NIL) {
        self->stats.refused_full++;
        return ZMESH_ELIMIT;
    }
    uint32_t node = self->free_head;
    zmesh_taskq_node_t *n = &self->nodes [node];
    self->free_head = n->next;

    n->entry.id = *id;
    n->entry.priority = priority;
    n->entry.enqueue_ms = self->now_ms;
    n->entry.handle = handle;
    n->entry.cpu_millicores = cpu_millicores;
    n->seq = self->next_seq++;
    n->next = S_NIL;
    n->prev = self->tail [priority];
    if (n->prev == S_NIL)
        self->head [priority] = node;
    else
        self->nodes [n->prev].next = node;
    self->tail [priority] = node;
    self->index [cell] = node + 1;

    self->stats.depth++;
    self->stats.depth_by_priority [priority]++;
    self->stats.cpu_millicores += cpu_millicores;
    self->stats.pushed++;
    return ZMESH_OK;
}

bool
zmesh_taskq_next (zmesh_taskq_t *self,
                  uint64_t now_ms,
                  uint32_t busy_slots,
                  zmesh_taskq_entry_t *out)
{
    ZMESH_ASSERT (self);
    s_tick (self, now_ms);
    if (self->stats.depth == 0 || busy_slots >= self->config.slots)
        return false;
    uint32_t node = self->head [ZMESH_PRIORITY_CRITICAL];
    if (node == S_NIL) {
        //  config_check made critical_reserve < slots, so this does not wrap.
        if (busy_slots >= self->config.slots - self->config.critical_reserve)
            return false;
        node = s_pick (self, true);
    }
    ZMESH_ASSERT (node != S_NIL);
    s_take (self, node, out);
    self->stats.started++;
    return true;
}

size_t
zmesh_taskq_steal (zmesh_taskq_t *self, uint64_t now_ms, size_t max, zmesh_taskq_entry_t *out)
{
    ZMESH_ASSERT (self);
    ZMESH_ASSERT (out || max == 0);
    s_tick (self, now_ms);
    size_t count = zmesh_taskq_stealable (self);
    if (count > max)
        count = max;
    for (size_t i = 0; i < count; i++) {
        uint32_t node = s_pick (self, false);
        ZMESH_ASSERT (node != S_NIL);
        s_take (self, node, &out [i]);
    }
    self->stats.stolen += count;
    return count;
}

int
zmesh_taskq_remove (zmesh_taskq_t *self,
                    uint64_t now_ms,
                    const zmesh_id_t *id,
                    zmesh_taskq_entry_t *out)
{
    ZMESH_ASSERT (self && id);
    s_tick (self, now_ms);
    uint32_t cell = s_index_find (self, id);
    if (self->index [cell] == 0)
        return ZMESH_ENOTFOUND;
    s_take (self, self->index [cell] - 1, out);
    self->stats.removed++;
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Figures

bool
zmesh_taskq_contains (const zmesh_taskq_t *self, const zmesh_id_t *id)
{
    ZMESH_ASSERT (self && self->nodes && id);
    return self->index [s_index_find (self, id)] != 0;
}

uint32_t
zmesh_taskq_depth (const zmesh_taskq_t *self)
{
    ZMESH_ASSERT (self);
    return self->stats.depth;
}

uint32_t
zmesh_taskq_depth_of (const zmesh_taskq_t *self, int priority)
{
    ZMESH_ASSERT (self);
    if (priority < 0 || priority >= ZMESH_PRIORITY_COUNT)
        return 0;
    return self->stats.depth_by_priority [priority];
}

uint32_t
zmesh_taskq_stealable (const zmesh_taskq_t *self)
{
    ZMESH_ASSERT (self);
    return (self->stats.depth - self->stats.depth_by_priority [ZMESH_PRIORITY_CRITICAL]) / 2;
}

void
zmesh_taskq_stats (const zmesh_taskq_t *self, zmesh_taskq_stats_t *stats)
{
    ZMESH_ASSERT (self && stats);
    *stats = self->stats;
}

uint32_t
zmesh_taskq_load_permille (const zmesh_taskq_t *self, uint32_t busy_slots)
{
    ZMESH_ASSERT (self && self->config.slots > 0);
    uint64_t load = 1000 * ((uint64_t) busy_slots + self->stats.depth) / self->config.slots;
    return load > UINT32_MAX ? UINT32_MAX : (uint32_t) load;
}
