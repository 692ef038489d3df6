/*  zmesh_auction.c: the owner's rounds of bids (see zmesh_auction.h for the design).

    Rounds live in one array of rounds_max, oldest first (a handful: a lookup is a linear
    scan, a drop a memmove; valid_ms is the same for all, so the round that closed first is
    the one valid until the earliest). A round's nodes are an array of (id, answer) grown by doubling up
    to nodes_max; once its CALLs are sent it is sorted by id (and nodes asked twice merged),
    so that each bid and each candidate of apply is a binary search.
*/
#include "zmesh_auction.h"
#include <stdlib.h>
#include <string.h>

#define S_BID_NONE    (-2)  //  no answer (yet)
#define S_BID_UNABLE  (-1)  //  answered `able` false
#define S_NODES_FIRST 8     //  first allocation of a round's nodes

typedef struct {
    zmesh_id_t node;
    int32_t bid;  //  S_BID_NONE, S_BID_UNABLE, or 0..1000
} s_node_t;

typedef struct {
    zmesh_task_call_t call;   //  what its tasks are like; call.id is the round's id
    uint64_t deadline_ms;     //  closes then at the latest
    uint64_t valid_until_ms;  //  once closed: serves tasks until then
    bool closed;
    bool sent;       //  the shell's CALLs are out: no more asks, sorted
    uint32_t count;  //  nodes asked
    uint32_t capacity;
    uint32_t answered;  //  of which answered
    s_node_t *nodes;
} s_round_t;

struct zmesh_auction_s {
    zmesh_auction_config_t config;
    s_round_t *rounds;  //  [config.rounds_max], the first round_count in use, oldest first
    uint32_t round_count;
    uint32_t next_id;  //  the next call id to try
    uint64_t now_ms;   //  the latest time seen
    zmesh_auction_stats_t stats;
};

void
zmesh_auction_config_defaults (zmesh_auction_config_t *config)
{
    ZMESH_ASSERT (config);
    memset (config, 0, sizeof *config);
    config->wait_ms = ZMESH_AUCTION_WAIT_MS_DEFAULT;
    config->valid_ms = ZMESH_AUCTION_VALID_MS_DEFAULT;
    config->rounds_max = ZMESH_AUCTION_ROUNDS_MAX_DEFAULT;
    config->nodes_max = ZMESH_AUCTION_NODES_MAX_DEFAULT;
}

int
zmesh_auction_config_check (const zmesh_auction_config_t *config)
{
    if (!config || config->wait_ms < 1 || config->wait_ms > ZMESH_AUCTION_WAIT_MS_LIMIT
        || config->valid_ms < 1 || config->valid_ms > ZMESH_AUCTION_VALID_MS_LIMIT
        || config->rounds_max < 1 || config->rounds_max > ZMESH_AUCTION_ROUNDS_LIMIT
        || config->nodes_max < 1 || config->nodes_max > ZMESH_AUCTION_NODES_LIMIT)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

zmesh_auction_t *
zmesh_auction_new (const zmesh_auction_config_t *config)
{
    zmesh_auction_config_t defaults;
    if (!config) {
        zmesh_auction_config_defaults (&defaults);
        config = &defaults;
    }
    if (zmesh_auction_config_check (config) != ZMESH_OK)
        return NULL;
    zmesh_auction_t *self = (zmesh_auction_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->config = *config;
    self->rounds = (s_round_t *) calloc (config->rounds_max, sizeof *self->rounds);
    ZMESH_ASSERT (self->rounds);
    self->next_id = 1;
    return self;
}

void
zmesh_auction_destroy (zmesh_auction_t **self_p)
{
    ZMESH_ASSERT (self_p);
    zmesh_auction_t *self = *self_p;
    if (!self)
        return;
    for (uint32_t i = 0; i < self->round_count; i++)
        free (self->rounds [i].nodes);
    free (self->rounds);
    free (self);
    *self_p = NULL;
}

//  The latest time seen (a time that goes backwards does not move rounds back).
static uint64_t
s_now (const zmesh_auction_t *self, uint64_t now_ms)
{
    return now_ms > self->now_ms ? now_ms : self->now_ms;
}

//  ---------------------------------------------------------------------------------------------
//  Calls and rounds

//  Is text NUL-terminated within size?
static bool
s_terminated (const char *text, size_t size)
{
    return memchr (text, 0, size) != NULL;
}

static bool
s_call_valid (const zmesh_task_call_t *call)
{
    if (!call || call->tag_count > ZMESH_TASK_TAGS_MAX
        || !s_terminated (call->handler, sizeof call->handler))
        return false;
    for (uint32_t i = 0; i < call->tag_count; i++)
        if (!s_terminated (call->tags [i], sizeof call->tags [i]))
            return false;
    return true;
}

bool
zmesh_auction_alike (const zmesh_task_call_t *a, const zmesh_task_call_t *b)
{
    ZMESH_ASSERT (a && b);
    if (strncmp (a->handler, b->handler, sizeof a->handler) != 0
        || a->cpu_millicores != b->cpu_millicores || a->memory_bytes != b->memory_bytes
        || a->gpus != b->gpus || a->tag_count != b->tag_count || a->tag_count > ZMESH_TASK_TAGS_MAX)
        return false;
    for (uint32_t i = 0; i < a->tag_count; i++)
        if (strncmp (a->tags [i], b->tags [i], sizeof a->tags [i]) != 0)
            return false;
    return true;
}

static s_round_t *
s_round_find (const zmesh_auction_t *self, uint32_t call_id)
{
    for (uint32_t i = 0; i < self->round_count; i++)
        if (self->rounds [i].call.id == call_id)
            return &self->rounds [i];
    return NULL;
}

//  Drop round i, keeping the others' order.
static void
s_round_drop (zmesh_auction_t *self, uint32_t i)
{
    ZMESH_ASSERT (i < self->round_count);
    free (self->rounds [i].nodes);
    memmove (&self->rounds [i], &self->rounds [i + 1],
             (self->round_count - i - 1) * sizeof self->rounds [0]);
    self->round_count--;
    memset (&self->rounds [self->round_count], 0, sizeof self->rounds [0]);
}

static void
s_round_close (zmesh_auction_t *self, s_round_t *round, uint64_t now_ms)
{
    ZMESH_ASSERT (!round->closed && round->sent);  //  sealed: sorted, no duplicates
    round->closed = true;
    round->valid_until_ms = now_ms + self->config.valid_ms;
    if (round->answered == round->count && round->count == 0)
        self->stats.closed_empty++;
    else if (round->answered == round->count)
        self->stats.closed_answers++;
    else
        self->stats.closed_deadline++;
}

//  A call id that is not 0 and names no round kept.
static uint32_t
s_fresh_id (zmesh_auction_t *self)
{
    for (;;) {
        uint32_t id = self->next_id++;
        if (id != 0 && !s_round_find (self, id))
            return id;
    }
}

//  Drop the rounds that served their time.
static void
s_prune (zmesh_auction_t *self, uint64_t now)
{
    for (uint32_t i = 0; i < self->round_count;) {
        const s_round_t *kept = &self->rounds [i];
        if (kept->closed && now >= kept->valid_until_ms) {
            s_round_drop (self, i);
            self->stats.expired++;
        }
        else
            i++;
    }
}

//  Room for one more round: if rounds_max are kept, the closed one that closed first goes
//  (ties: the oldest); never an open one, which tasks wait for. False if every one is open.
static bool
s_make_room (zmesh_auction_t *self)
{
    if (self->round_count < self->config.rounds_max)
        return true;
    uint32_t victim = UINT32_MAX;
    for (uint32_t i = 0; i < self->round_count; i++) {
        const s_round_t *kept = &self->rounds [i];
        if (kept->closed
            && (victim == UINT32_MAX
                || kept->valid_until_ms < self->rounds [victim].valid_until_ms))
            victim = i;
    }
    if (victim == UINT32_MAX)
        return false;
    s_round_drop (self, victim);
    self->stats.dropped_room++;
    return true;
}

int
zmesh_auction_round (zmesh_auction_t *self,
                     const zmesh_task_call_t *call,
                     uint64_t now_ms,
                     zmesh_auction_round_t *round)
{
    ZMESH_ASSERT (self && round);
    memset (round, 0, sizeof *round);
    if (!s_call_valid (call))
        return ZMESH_EINVAL;
    uint64_t now = self->now_ms = s_now (self, now_ms);
    s_prune (self, now);
    for (uint32_t i = 0; i < self->round_count; i++) {
        const s_round_t *kept = &self->rounds [i];
        if (zmesh_auction_alike (&kept->call, call)) {
            round->call_id = kept->call.id;
            round->state = kept->closed ? ZMESH_AUCTION_CLOSED : ZMESH_AUCTION_OPEN;
            return ZMESH_OK;
        }
    }
    if (!s_make_room (self)) {
        self->stats.refused_full++;
        return ZMESH_ELIMIT;
    }
    s_round_t *fresh = &self->rounds [self->round_count++];
    memset (fresh, 0, sizeof *fresh);
    fresh->call = *call;
    fresh->call.id = s_fresh_id (self);
    fresh->deadline_ms = now + self->config.wait_ms;
    self->stats.opened++;
    round->call_id = fresh->call.id;
    round->state = ZMESH_AUCTION_OPEN;
    round->opened = true;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Asking and answering

static int
s_node_compare (const void *a, const void *b)
{
    return memcmp (((const s_node_t *) a)->node.bytes, ((const s_node_t *) b)->node.bytes,
                   ZMESH_ID_SIZE);
}

//  The entry of node in round (NULL: not asked).
static s_node_t *
s_node_find (const s_round_t *round, const zmesh_id_t *node)
{
    if (!round->count)
        return NULL;  //  nodes may be NULL then, which bsearch must not see
    if (round->sent) {
        s_node_t key = {.node = *node};
        return (s_node_t *) bsearch (&key, round->nodes, round->count, sizeof key, s_node_compare);
    }
    for (uint32_t i = 0; i < round->count; i++)
        if (zmesh_id_equal (&round->nodes [i].node, node))
            return &round->nodes [i];
    return NULL;
}

int
zmesh_auction_ask (zmesh_auction_t *self, uint32_t call_id, const zmesh_id_t *node)
{
    ZMESH_ASSERT (self && node);
    s_round_t *round = s_round_find (self, call_id);
    if (!round)
        return ZMESH_ENOTFOUND;
    if (round->sent || round->closed)
        return ZMESH_ESTATE;
    if (round->count == self->config.nodes_max)
        return ZMESH_ELIMIT;
    //  Duplicates are merged at sent (sorted then): asking stays O(1).
    if (round->count == round->capacity) {
        uint32_t capacity = round->capacity ? round->capacity * 2 : S_NODES_FIRST;
        if (capacity > self->config.nodes_max)
            capacity = self->config.nodes_max;
        s_node_t *nodes = (s_node_t *) realloc (round->nodes, capacity * sizeof *nodes);
        ZMESH_ASSERT (nodes);
        round->nodes = nodes;
        round->capacity = capacity;
    }
    round->nodes [round->count].node = *node;
    round->nodes [round->count].bid = S_BID_NONE;
    round->count++;
    self->stats.asked++;
    return ZMESH_OK;
}

//  Sort a round's nodes by id and merge a node asked twice (keeping its answer, if any).
static void
s_round_seal (zmesh_auction_t *self, s_round_t *round)
{
    if (round->count > 1)
        qsort (round->nodes, round->count, sizeof round->nodes [0], s_node_compare);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < round->count; i++) {
        if (kept && zmesh_id_equal (&round->nodes [kept - 1].node, &round->nodes [i].node)) {
            if (round->nodes [kept - 1].bid == S_BID_NONE)
                round->nodes [kept - 1].bid = round->nodes [i].bid;
            self->stats.asked--;
            continue;
        }
        round->nodes [kept++] = round->nodes [i];
    }
    round->count = kept;
    round->answered = 0;
    for (uint32_t i = 0; i < round->count; i++)
        if (round->nodes [i].bid != S_BID_NONE)
            round->answered++;
    round->sent = true;
}

int
zmesh_auction_sent (zmesh_auction_t *self,
                    uint32_t call_id,
                    uint64_t now_ms,
                    zmesh_auction_state_t *state)
{
    ZMESH_ASSERT (self);
    uint64_t now = self->now_ms = s_now (self, now_ms);
    s_round_t *round = s_round_find (self, call_id);
    if (!round)
        return ZMESH_ENOTFOUND;
    if (round->sent || round->closed)
        return ZMESH_ESTATE;
    s_round_seal (self, round);
    if (round->answered == round->count)
        s_round_close (self, round, now);
    if (state)
        *state = round->closed ? ZMESH_AUCTION_CLOSED : ZMESH_AUCTION_OPEN;
    return ZMESH_OK;
}

int
zmesh_auction_bid (zmesh_auction_t *self,
                   const zmesh_id_t *from,
                   const zmesh_task_bid_t *bid,
                   uint64_t now_ms,
                   bool *closed)
{
    ZMESH_ASSERT (self && from && bid);
    if (closed)
        *closed = false;
    uint64_t now = self->now_ms = s_now (self, now_ms);
    self->stats.bids++;
    //  The decoder refuses these already; a core does not trust its shell's input either.
    if (bid->permille > 1000 || (!bid->able && bid->permille)) {
        self->stats.ignored_malformed++;
        return ZMESH_EPROTO;
    }
    s_round_t *round = s_round_find (self, bid->call_id);
    if (!round) {
        self->stats.ignored_unknown++;
        return ZMESH_ENOTFOUND;
    }
    if (round->closed) {
        self->stats.ignored_late++;
        return ZMESH_ETIMEOUT;
    }
    s_node_t *node = s_node_find (round, from);
    if (!node) {
        self->stats.ignored_not_asked++;
        return ZMESH_EINVAL;
    }
    if (node->bid != S_BID_NONE) {
        self->stats.ignored_duplicate++;
        return ZMESH_ESTATE;
    }
    node->bid = bid->able ? (int32_t) bid->permille : S_BID_UNABLE;
    round->answered++;
    self->stats.bids_accepted++;
    if (!bid->able)
        self->stats.bids_unable++;
    if (round->sent && round->answered == round->count) {
        s_round_close (self, round, now);
        if (closed)
            *closed = true;
    }
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Time and use

uint32_t
zmesh_auction_tick (zmesh_auction_t *self, uint64_t now_ms)
{
    ZMESH_ASSERT (self);
    uint64_t now = self->now_ms = s_now (self, now_ms);
    uint32_t closed = 0;
    for (uint32_t i = 0; i < self->round_count; i++) {
        s_round_t *round = &self->rounds [i];
        if (!round->closed && now >= round->deadline_ms) {
            if (!round->sent)
                s_round_seal (self, round);  //  the shell never said: what it asked counts
            s_round_close (self, round, now);
            closed++;
        }
    }
    return closed;
}

uint64_t
zmesh_auction_deadline_ms (const zmesh_auction_t *self)
{
    ZMESH_ASSERT (self);
    uint64_t deadline = UINT64_MAX;
    for (uint32_t i = 0; i < self->round_count; i++)
        if (!self->rounds [i].closed && self->rounds [i].deadline_ms < deadline)
            deadline = self->rounds [i].deadline_ms;
    return deadline;
}

zmesh_auction_state_t
zmesh_auction_state (const zmesh_auction_t *self, uint32_t call_id, uint64_t now_ms)
{
    ZMESH_ASSERT (self);
    const s_round_t *round = s_round_find (self, call_id);
    if (!round)
        return ZMESH_AUCTION_NONE;
    if (!round->closed)
        return ZMESH_AUCTION_OPEN;
    return s_now (self, now_ms) >= round->valid_until_ms ? ZMESH_AUCTION_EXPIRED
                                                         : ZMESH_AUCTION_CLOSED;
}

int
zmesh_auction_apply (const zmesh_auction_t *self,
                     uint32_t call_id,
                     uint64_t now_ms,
                     zmesh_place_node_t *candidates,
                     uint32_t count)
{
    ZMESH_ASSERT (self);
    if (!candidates && count)
        return ZMESH_EINVAL;
    const s_round_t *round = s_round_find (self, call_id);
    if (!round)
        return ZMESH_ENOTFOUND;
    if (!round->closed)
        return ZMESH_ESTATE;
    if (s_now (self, now_ms) >= round->valid_until_ms)
        return ZMESH_ETIMEOUT;
    ZMESH_ASSERT (round->sent);  //  closing seals: sorted, no duplicates
    for (uint32_t i = 0; i < count; i++) {
        const s_node_t *node = s_node_find (round, &candidates [i].id);
        if (!node || node->bid == S_BID_NONE)
            continue;  //  not asked, or silent: the shell computes its bid
        if (node->bid == S_BID_UNABLE)
            candidates [i].eligible = false;
        else {
            candidates [i].has_bid = true;
            candidates [i].bid_permille = (uint32_t) node->bid;
        }
    }
    return ZMESH_OK;
}

void
zmesh_auction_stats (const zmesh_auction_t *self, zmesh_auction_stats_t *stats)
{
    ZMESH_ASSERT (self && stats);
    *stats = self->stats;
    stats->rounds = self->round_count;
    stats->open = 0;
    for (uint32_t i = 0; i < self->round_count; i++)
        if (!self->rounds [i].closed)
            stats->open++;
}
