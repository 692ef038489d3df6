/*  zmesh_owner.c: the owner's side of a task. See zmesh_owner.h.

    Inside. Tasks by id in a chained hash table; nodes by id in an open-addressing table that
    never shrinks (nodes are few). A replica is in at most one list: its node's open list
    (R_OPEN) or the back-off list (R_BACKOFF). A task waiting to be placed is in one of four
    pending lists (one per priority, each in enqueue order) or in the park list. The pending
    order is zmesh_taskq's (CRITICAL first; the others by virtual time enqueue_ms + (HIGH - L)
    x aging_ms, then enqueue order), taken over the four heads: the head can be looked at
    without taking it out, so a task that must wait for a window keeps its place, and a more
    urgent task submitted later still goes before it.
*/

#include "zmesh_owner.h"
#include "zmesh_place.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE            UINT32_MAX
#define S_LOOKAHEAD_SCAN  256  //  pending tasks a pass looks at past the first that waits
#define S_LOOKAHEAD_TRIES 8    //  tasks a pass tries in vain at most
#define S_FAILED_MAX      8    //  nodes a task failed on that its next attempts avoid

typedef enum {
    R_WAIT = 0,  //  to be placed (the task is pending or parked)
    R_BACKOFF,   //  failed, waiting for its back-off to end
    R_OPEN,      //  an attempt is open on a worker
    R_DONE,      //  has a result (redundant tasks), or given up
} s_replica_state_t;

typedef struct s_task_s s_task_t;
typedef struct s_replica_s s_replica_t;

struct s_replica_s {
    s_task_t *task;
    uint8_t state;
    bool running;            //  the last lease said it runs
    bool has_result;         //  R_DONE with a result (else given up); redundant tasks only
    bool trial;              //  its open attempt holds a HALF_OPEN trial slot of trial_on
    uint8_t status;          //  of that result
    uint32_t node;           //  node slot while R_OPEN, else S_NONE
    uint32_t attempt;        //  the open (or last) attempt
    uint64_t listed_ms;      //  last time a lease listed it (or it was sent or moved)
    uint64_t due_ms;         //  R_BACKOFF: when it may go again
    zmesh_id_t result_from;  //  has_result: the node that produced it
    zmesh_id_t trial_on;     //  trial: the node whose breaker gave the slot
    uint8_t digest [ZMESH_OWNER_DIGEST_SIZE];
    uint8_t *output;  //  redundant tasks: this replica's output until a quorum
    uint32_t output_size;
    s_replica_t *prev, *next;  //  in its node's open list, or in the back-off list
};

struct s_task_s {
    zmesh_owner_task_t spec;  //  payload points at `payload` below
    uint8_t *payload;
    uint8_t *checkpoint;
    uint32_t checkpoint_size;
    uint64_t submitted_ms;
    uint64_t parked_ms;   //  when it was parked (while parked)
    uint64_t enqueue_ms;  //  when it joined its pending list (while pending)
    uint64_t seq;         //  enqueue order (while pending)
    uint64_t kind;        //  hash of what choose looks at besides the id (never 0)
    uint32_t attempts;    //  dispatches so far, all replicas
    uint32_t retries;     //  re-dispatches so far
    bool placed_once;
    bool pending;  //  in a pending list
    bool parked;   //  in the park list
    zmesh_id_t selected;
    zmesh_id_t optimal;
    uint8_t last_status;
    char last_error [ZMESH_TASK_ERROR_MAX];
    zmesh_id_t failed [S_FAILED_MAX];  //  distinct nodes it failed on lately, oldest first
    uint32_t failed_count;
    s_replica_t replicas [ZMESH_OWNER_REDUNDANCY_MAX];
    s_task_t *hash_next;              //  bucket chain
    s_task_t *wait_prev, *wait_next;  //  in its pending list or in the park list
};

typedef struct {
    zmesh_id_t id;
    bool used;
    bool down;               //  membership said dead or left
    bool expired;            //  its lease expired
    uint32_t in_flight;      //  open attempts
    uint64_t heard_ms;       //  last message from it (or when its first open attempt went)
    uint64_t lost_until_ms;  //  down or expired: no new attempts before this, unless heard
    uint32_t losses;         //  times lost since it was last heard (the shut-out doubles)
    bool probation;          //  shut out and not heard since: one attempt at a time
    s_replica_t *open;       //  its open attempts (doubly linked)
} s_node_t;

struct zmesh_owner_s {
    zmesh_owner_config_t config;
    zmesh_owner_callbacks_t cb;
    uint64_t rng;
    uint64_t now_ms;
    //  tasks by id
    s_task_t **buckets;
    uint32_t bucket_mask;
    uint32_t owned;
    //  nodes by id (open addressing, never shrinks; nodes are few)
    s_node_t *nodes;
    uint32_t node_mask;
    uint32_t node_count;
    //  pending: one list per priority; parked: one list, in the order they were parked
    s_task_t *pend_head [ZMESH_PRIORITY_COUNT], *pend_tail [ZMESH_PRIORITY_COUNT];
    uint32_t pend_count;
    uint64_t pend_seq;  //  starts high: a retry pushed in front takes the head's seq - 1
    s_task_t *park_head, *park_tail;
    uint32_t parked;
    uint64_t park_retry_ms;  //  next try of the parked tasks (or the first one's timeout)
    //  back-off
    s_replica_t *backoff;
    uint32_t backoff_count;
    uint64_t backoff_due_ms;  //  earliest due, or UINT64_MAX (may be early, never late)
    uint64_t scan_ms;         //  next scan for attempts no lease lists
    bool draining;
    zmesh_breaker_t breaker;
    zmesh_owner_stats_t stats;
};

//  ---------------------------------------------------------------------------------------------
//  Small things

static uint64_t
s_rand (zmesh_owner_t *self)
{
    self->rng += 0x9e3779b97f4a7c15ull;
    return zmesh_mix64 (self->rng);
}

static bool
s_id_zero (const zmesh_id_t *id)
{
    static const zmesh_id_t zero;
    return zmesh_id_equal (id, &zero);
}

void
zmesh_owner_digest (uint8_t status,
                    const uint8_t *output,
                    uint32_t size,
                    uint8_t digest [ZMESH_OWNER_DIGEST_SIZE])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, ZMESH_OWNER_DIGEST_SIZE);
    crypto_generichash_update (&state, &status, 1);
    if (size)
        crypto_generichash_update (&state, output, size);
    crypto_generichash_final (&state, digest, ZMESH_OWNER_DIGEST_SIZE);
}

void
zmesh_owner_config_defaults (zmesh_owner_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->lease_timeout_ms = ZMESH_OWNER_LEASE_TIMEOUT_MS_DEFAULT;
    config->retry_base_ms = ZMESH_OWNER_RETRY_BASE_MS_DEFAULT;
    config->retry_max_ms = ZMESH_OWNER_RETRY_MAX_MS_DEFAULT;
    config->window = ZMESH_OWNER_WINDOW_DEFAULT;
    config->max_tasks = ZMESH_OWNER_MAX_TASKS_DEFAULT;
    config->aging_ms = ZMESH_TASKQ_AGING_MS_DEFAULT;
    config->place_timeout_ms = ZMESH_OWNER_PLACE_TIMEOUT_MS_DEFAULT;
    zmesh_breaker_config_defaults (&config->breaker);
}

int
zmesh_owner_config_check (const zmesh_owner_config_t *c)
{
    if (c->lease_timeout_ms < 10 || c->retry_base_ms < 1 || c->retry_max_ms < c->retry_base_ms
        || c->window < 1 || c->max_tasks < 1 || c->max_tasks > ZMESH_OWNER_MAX_TASKS_LIMIT
        || c->aging_ms < 1 || c->aging_ms > ZMESH_TASKQ_AGING_MS_LIMIT || c->place_timeout_ms < 1
        || zmesh_breaker_config_check (&c->breaker))
        return ZMESH_ECONFIG;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Tables

static s_task_t **
s_bucket (zmesh_owner_t *self, const zmesh_id_t *id)
{
    return &self->buckets [zmesh_id_hash (id) & self->bucket_mask];
}

static s_task_t *
s_task_find (zmesh_owner_t *self, const zmesh_id_t *id)
{
    for (s_task_t *task = *s_bucket (self, id); task; task = task->hash_next)
        if (zmesh_id_equal (&task->spec.id, id))
            return task;
    return NULL;
}

static int
s_buckets_grow (zmesh_owner_t *self)
{
    uint32_t size = (self->bucket_mask + 1) * 2;
    s_task_t **buckets = (s_task_t **) calloc (size, sizeof *buckets);
    if (!buckets)
        return ZMESH_ENOMEM;
    for (uint32_t i = 0; i <= self->bucket_mask; i++)
        for (s_task_t *task = self->buckets [i], *next; task; task = next) {
            next = task->hash_next;
            s_task_t **bucket = &buckets [zmesh_id_hash (&task->spec.id) & (size - 1)];
            task->hash_next = *bucket;
            *bucket = task;
        }
    free (self->buckets);
    self->buckets = buckets;
    self->bucket_mask = size - 1;
    return ZMESH_OK;
}

static s_node_t *
s_node_find (const zmesh_owner_t *self, const zmesh_id_t *id)
{
    for (uint32_t i = (uint32_t) zmesh_id_hash (id) & self->node_mask;;
         i = (i + 1) & self->node_mask) {
        s_node_t *node = &self->nodes [i];
        if (!node->used)
            return NULL;
        if (zmesh_id_equal (&node->id, id))
            return node;
    }
}

static uint32_t
s_node_slot (const zmesh_owner_t *self, const s_node_t *node)
{
    return (uint32_t) (node - self->nodes);
}

//  The node's slot, added if new; NULL if memory is short.
static s_node_t *
s_node_get (zmesh_owner_t *self, const zmesh_id_t *id)
{
    s_node_t *node = s_node_find (self, id);
    if (node)
        return node;
    if ((self->node_count + 1) * 2 > self->node_mask + 1) {
        //  Grow: open lists point at tasks, not at slots, so moving slots is safe once every
        //  replica's node field is renumbered.
        uint32_t size = (self->node_mask + 1) * 2;
        s_node_t *nodes = (s_node_t *) calloc (size, sizeof *nodes);
        if (!nodes)
            return NULL;
        for (uint32_t i = 0; i <= self->node_mask; i++) {
            if (!self->nodes [i].used)
                continue;
            uint32_t j = (uint32_t) zmesh_id_hash (&self->nodes [i].id) & (size - 1);
            while (nodes [j].used)
                j = (j + 1) & (size - 1);
            nodes [j] = self->nodes [i];
            for (s_replica_t *r = nodes [j].open; r; r = r->next)
                r->node = j;
        }
        free (self->nodes);
        self->nodes = nodes;
        self->node_mask = size - 1;
    }
    uint32_t i = (uint32_t) zmesh_id_hash (id) & self->node_mask;
    while (self->nodes [i].used)
        i = (i + 1) & self->node_mask;
    node = &self->nodes [i];
    memset (node, 0, sizeof *node);
    node->used = true;
    node->id = *id;
    node->heard_ms = self->now_ms;
    self->node_count++;
    return node;
}

//  ---------------------------------------------------------------------------------------------
//  Lists

static void
s_open_link (zmesh_owner_t *self, s_node_t *node, s_replica_t *r)
{
    if (node->in_flight == 0)
        node->heard_ms = self->now_ms;  //  its lease starts now
    r->prev = NULL;
    r->next = node->open;
    if (node->open)
        node->open->prev = r;
    node->open = r;
    node->in_flight++;
    self->stats.in_flight++;
    r->node = s_node_slot (self, node);
    r->state = R_OPEN;
}

static void
s_open_unlink (zmesh_owner_t *self, s_replica_t *r)
{
    s_node_t *node = &self->nodes [r->node];
    if (r->prev)
        r->prev->next = r->next;
    else
        node->open = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    node->in_flight--;
    self->stats.in_flight--;
    r->node = S_NONE;
    r->state = R_DONE;  //  until the caller says what follows
}

static void
s_backoff_link (zmesh_owner_t *self, s_replica_t *r)
{
    r->prev = NULL;
    r->next = self->backoff;
    if (self->backoff)
        self->backoff->prev = r;
    self->backoff = r;
    self->backoff_count++;
    if (r->due_ms < self->backoff_due_ms)
        self->backoff_due_ms = r->due_ms;
}

static void
s_backoff_unlink (zmesh_owner_t *self, s_replica_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        self->backoff = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    self->backoff_count--;
    r->state = R_DONE;  //  until the caller says what follows
}

static void
s_wait_link (s_task_t **head, s_task_t **tail, s_task_t *task)
{
    task->wait_prev = *tail;
    task->wait_next = NULL;
    if (*tail)
        (*tail)->wait_next = task;
    else
        *head = task;
    *tail = task;
}

static void
s_wait_unlink (s_task_t **head, s_task_t **tail, s_task_t *task)
{
    if (task->wait_prev)
        task->wait_prev->wait_next = task->wait_next;
    else
        *head = task->wait_next;
    if (task->wait_next)
        task->wait_next->wait_prev = task->wait_prev;
    else
        *tail = task->wait_prev;
    task->wait_prev = task->wait_next = NULL;
}

static void
s_pend_push (zmesh_owner_t *self, s_task_t *task)
{
    uint8_t priority = task->spec.priority;
    task->pending = true;
    task->enqueue_ms = self->now_ms;
    task->seq = ++self->pend_seq;
    s_wait_link (&self->pend_head [priority], &self->pend_tail [priority], task);
    self->pend_count++;
}

//  A retry goes before every task of its priority that waits: it was submitted before them
//  (or, if not, it has waited through its first attempt and its back-off already). It takes
//  the head's place in the aging order, so the list stays sorted by enqueue time.
static void
s_pend_push_front (zmesh_owner_t *self, s_task_t *task)
{
    uint8_t priority = task->spec.priority;
    s_task_t *head = self->pend_head [priority];
    task->pending = true;
    task->enqueue_ms =
        head && head->enqueue_ms < task->submitted_ms ? head->enqueue_ms : task->submitted_ms;
    task->seq = head ? head->seq - 1 : ++self->pend_seq;
    task->wait_prev = NULL;
    task->wait_next = head;
    if (head)
        head->wait_prev = task;
    else
        self->pend_tail [priority] = task;
    self->pend_head [priority] = task;
    self->pend_count++;
}

static void
s_pend_remove (zmesh_owner_t *self, s_task_t *task)
{
    uint8_t priority = task->spec.priority;
    s_wait_unlink (&self->pend_head [priority], &self->pend_tail [priority], task);
    task->pending = false;
    self->pend_count--;
}

//  The next pending task in zmesh_taskq's order (see the file header), from cursors into the
//  four lists (start them at pend_head); the cursor of its list moves past it, so the caller
//  may take it out of its list.
static s_task_t *
s_pend_next (const zmesh_owner_t *self, s_task_t **cursor)
{
    s_task_t *best = cursor [ZMESH_PRIORITY_CRITICAL];
    uint64_t best_at = 0;
    if (!best)
        for (int level = ZMESH_PRIORITY_LOW; level <= ZMESH_PRIORITY_HIGH; level++) {
            s_task_t *task = cursor [level];
            if (!task)
                continue;
            uint64_t at =
                task->enqueue_ms + (uint64_t) (ZMESH_PRIORITY_HIGH - level) * self->config.aging_ms;
            if (!best || at < best_at || (at == best_at && task->seq < best->seq)) {
                best = task;
                best_at = at;
            }
        }
    if (best)
        cursor [best->spec.priority] = best->wait_next;
    return best;
}

//  The next try of the parked tasks: a retry period from now, or the first one's timeout.
static void
s_park_schedule (zmesh_owner_t *self)
{
    self->park_retry_ms = UINT64_MAX;
    if (!self->park_head)
        return;
    self->park_retry_ms = self->now_ms + ZMESH_OWNER_PARK_RETRY_MS;
    uint64_t timeout = self->park_head->parked_ms + self->config.place_timeout_ms;
    if (timeout < self->park_retry_ms)
        self->park_retry_ms = timeout;
}

static void
s_park (zmesh_owner_t *self, s_task_t *task)
{
    task->parked = true;
    task->parked_ms = self->now_ms;
    s_wait_link (&self->park_head, &self->park_tail, task);
    self->parked++;
    if (self->park_retry_ms == UINT64_MAX)
        s_park_schedule (self);
}

static void
s_unpark (zmesh_owner_t *self, s_task_t *task)
{
    s_wait_unlink (&self->park_head, &self->park_tail, task);
    task->parked = false;
    self->parked--;
    if (!self->parked)
        self->park_retry_ms = UINT64_MAX;  //  else a deadline in the past, for ever
}

//  ---------------------------------------------------------------------------------------------
//  Lifecycle

zmesh_owner_t *
zmesh_owner_new (const zmesh_owner_config_t *config,
                 const zmesh_owner_callbacks_t *callbacks,
                 uint64_t seed,
                 uint64_t now_ms)
{
    zmesh_owner_config_t defaults;
    if (!config) {
        zmesh_owner_config_defaults (&defaults);
        config = &defaults;
    }
    if (zmesh_owner_config_check (config) || !callbacks || !callbacks->choose || !callbacks->send
        || !callbacks->done || sodium_init () < 0)
        return NULL;
    zmesh_owner_t *self = (zmesh_owner_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pend_seq = 1ull << 62;  //  room below for retries pushed in front
    self->config = *config;
    self->cb = *callbacks;
    self->rng = seed;
    self->now_ms = now_ms;
    self->bucket_mask = 1023;
    self->buckets = (s_task_t **) calloc (self->bucket_mask + 1, sizeof *self->buckets);
    self->node_mask = 63;
    self->nodes = (s_node_t *) calloc (self->node_mask + 1, sizeof *self->nodes);
    self->park_retry_ms = UINT64_MAX;
    self->backoff_due_ms = UINT64_MAX;
    self->scan_ms = now_ms + config->lease_timeout_ms;
    if (!self->buckets || !self->nodes || zmesh_breaker_init (&self->breaker, &config->breaker)) {
        zmesh_owner_destroy (&self);
        return NULL;
    }
    return self;
}

static void
s_task_free (s_task_t *task)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        free (task->replicas [i].output);
    free (task->payload);
    free (task->checkpoint);
    free (task);
}

void
zmesh_owner_destroy (zmesh_owner_t **self_p)
{
    zmesh_owner_t *self = *self_p;
    if (!self)
        return;
    if (self->buckets)
        for (uint32_t i = 0; i <= self->bucket_mask; i++)
            for (s_task_t *task = self->buckets [i], *next; task; task = next) {
                next = task->hash_next;
                s_task_free (task);
            }
    free (self->buckets);
    free (self->nodes);
    zmesh_breaker_fini (&self->breaker);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Ending attempts and tasks

//  The attempt of r ends. If it held a HALF_OPEN trial slot and its outcome is not recorded
//  on that node (recorded_on NULL or another node), the slot goes back: an attempt moved
//  away, cancelled or made useless would otherwise hold it for ever.
static void
s_trial_release (zmesh_owner_t *self, s_replica_t *r, const zmesh_id_t *recorded_on)
{
    if (!r->trial)
        return;
    r->trial = false;
    if (!recorded_on || !zmesh_id_equal (recorded_on, &r->trial_on))
        zmesh_breaker_cancel (&self->breaker, &r->trial_on);
}

//  The open attempt of r is not needed any more: cancel it (best effort) and close it.
static void
s_attempt_drop (zmesh_owner_t *self, s_replica_t *r)
{
    if (self->cb.cancel) {
        zmesh_task_ref_t ref = {.id = r->task->spec.id, .attempt = r->attempt};
        self->cb.cancel (self->cb.arg, &self->nodes [r->node].id, &ref);
    }
    s_trial_release (self, r, NULL);
    s_open_unlink (self, r);
}

//  The open attempt of r is on `to` now (a steal moved it).
static void
s_attempt_move (zmesh_owner_t *self, s_replica_t *r, s_node_t *to)
{
    s_trial_release (self, r, NULL);
    s_open_unlink (self, r);
    r->listed_ms = self->now_ms;
    r->running = false;
    s_open_link (self, to, r);
    self->stats.moved++;
}

static void
s_task_remove (zmesh_owner_t *self, s_task_t *task)
{
    for (s_task_t **at = s_bucket (self, &task->spec.id); *at; at = &(*at)->hash_next)
        if (*at == task) {
            *at = task->hash_next;
            break;
        }
    if (task->pending)
        s_pend_remove (self, task);
    if (task->parked)
        s_unpark (self, task);
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        s_replica_t *r = &task->replicas [i];
        if (r->state == R_OPEN)
            s_attempt_drop (self, r);
        else if (r->state == R_BACKOFF)
            s_backoff_unlink (self, r);
        r->state = R_DONE;
    }
    self->owned--;
    s_task_free (task);
}

//  Deliver the one result and forget the task. winner_node: the node whose result it is
//  (NULL if the task failed without one); item: the winning RESULT (NULL if none).
static void
s_finish (zmesh_owner_t *self,
          s_task_t *task,
          const zmesh_id_t *winner_node,
          bool success,
          uint8_t status,
          const char *error,
          const uint8_t *output,
          uint32_t output_size,
          uint32_t disagreements,
          const zmesh_task_result_item_t *item)
{
    static const zmesh_id_t zero;
    zmesh_owner_result_t result = {
        .task_id = task->spec.id,
        .task_type = task->spec.handler,
        .client = task->spec.client,
        .selected_node = task->selected,
        .cost_optimal_node = task->optimal,
        .dispatched_to = winner_node ? *winner_node : zero,
        .circuit_state = winner_node
                             ? zmesh_breaker_state (&self->breaker, winner_node, self->now_ms)
                             : ZMESH_BREAKER_CLOSED,
        .success = success,
        .status = status,
        .error = error ? error : "",
        .output = output,
        .output_size = output_size,
        .latency_ms = self->now_ms - task->submitted_ms,
        .attempts = task->attempts,
        .disagreements = disagreements,
        .queued_us = item ? item->queued_us : 0,
        .run_us = item ? item->run_us : 0,
    };
    self->stats.completed++;
    if (success)
        self->stats.succeeded++;
    else
        self->stats.failed++;
    self->cb.done (self->cb.arg, &result);
    s_task_remove (self, task);
}

//  ---------------------------------------------------------------------------------------------
//  Placing

//  Does another replica of task have an attempt open on this node?
static bool
s_open_on (const zmesh_owner_t *self, const s_task_t *task, const zmesh_id_t *id)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_OPEN
            && zmesh_id_equal (&self->nodes [task->replicas [i].node].id, id))
            return true;
    return false;
}

//  Has task an attempt open anywhere?
static bool
s_any_open (const s_task_t *task)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_OPEN)
            return true;
    return false;
}

//  Dispatch replica r's next attempt to node.
static void
s_send_attempt (zmesh_owner_t *self, s_task_t *task, s_replica_t *r, s_node_t *node, bool trial)
{
    task->attempts++;
    r->attempt = task->attempts;
    r->running = false;
    r->listed_ms = self->now_ms;
    r->trial = trial;
    if (trial)
        r->trial_on = node->id;
    s_open_link (self, node, r);
    self->stats.dispatched++;
    zmesh_owner_send_t send;
    memset (&send, 0, sizeof send);
    send.node = node->id;
    zmesh_task_item_t *item = &send.item;
    item->id = task->spec.id;
    item->attempt = r->attempt;
    item->priority = task->spec.priority;
    item->flags = task->spec.flags;
    item->timeout_ms = task->spec.timeout_ms;
    item->cpu_millicores = task->spec.cpu_millicores;
    item->memory_bytes = task->spec.memory_bytes;
    item->gpus = task->spec.gpus;
    memcpy (item->handler, task->spec.handler, sizeof item->handler);
    item->payload = task->payload;
    item->payload_size = task->spec.payload_size;
    item->checkpoint = task->checkpoint;
    item->checkpoint_size = task->checkpoint_size;
    self->cb.send (self->cb.arg, &send);
}

//  One call of the shell's choose, with the first avoid_count nodes of avoid.
static int
s_ask (zmesh_owner_t *self,
       s_task_t *task,
       const zmesh_id_t *avoid,
       uint32_t avoid_count,
       uint32_t want,
       zmesh_id_t *chosen,
       zmesh_id_t *optimal)
{
    zmesh_owner_choice_t choice = {
        .task = &task->spec, .avoid = avoid, .avoid_count = avoid_count, .want = want};
    memset (optimal, 0, sizeof *optimal);
    int rc = self->cb.choose (self->cb.arg, self, &choice, chosen, optimal);
    return rc < 0 ? ZMESH_ENOTFOUND : rc > (int) want ? (int) want : rc;
}

//  Ask the shell for nodes. The avoid list holds the nodes of open replicas (one node holds
//  one attempt of a task) and the nodes that answered for the task (a second answer would
//  be no vote), always; then the nodes the task failed on lately, the most recent first
//  (not only the last one: two nodes that cannot run it must not take turns for ever). If
//  that leaves nothing but the list without failed nodes does (the nodes that could take it
//  all failed it), the failed nodes are dropped oldest first; the most recent goes last.
static int
s_choose (zmesh_owner_t *self, s_task_t *task, uint32_t want, zmesh_id_t *chosen)
{
    zmesh_id_t avoid [ZMESH_OWNER_REDUNDANCY_MAX + S_FAILED_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_OPEN)
            avoid [count++] = self->nodes [task->replicas [i].node].id;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].has_result)
            avoid [count++] = task->replicas [i].result_from;
    uint32_t kept = count;
    for (uint32_t i = task->failed_count; i > 0; i--)
        avoid [count++] = task->failed [i - 1];
    zmesh_id_t optimal;
    int rc = s_ask (self, task, avoid, count, want, chosen, &optimal);
    if (rc <= 0 && count > kept) {
        zmesh_id_t any [ZMESH_OWNER_REDUNDANCY_MAX], any_optimal;
        int any_rc = s_ask (self, task, avoid, kept, want, any, &any_optimal);
        rc = 0;
        for (uint32_t size = count - 1; any_rc > 0 && size > kept && rc <= 0; size--)
            rc = s_ask (self, task, avoid, size, want, chosen, &optimal);
        if (rc <= 0) {
            rc = any_rc;
            if (any_rc > 0) {
                memcpy (chosen, any, (size_t) any_rc * sizeof any [0]);
                optimal = any_optimal;
            }
        }
    }
    if (rc > 0 && !task->placed_once) {
        task->placed_once = true;
        task->selected = chosen [0];
        task->optimal = s_id_zero (&optimal) ? chosen [0] : optimal;
    }
    return rc;
}

//  Place every waiting replica of task. Returns 1 if all are placed, 0 if some must wait
//  for a window (*none: choose found no node at all), ZMESH_ENOTFOUND if no node can take it.
static int
s_place (zmesh_owner_t *self, s_task_t *task, bool *none)
{
    *none = false;
    uint32_t waiting = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_WAIT)
            waiting++;
    if (!waiting)
        return 1;
    zmesh_id_t chosen [ZMESH_OWNER_REDUNDANCY_MAX];
    int count = s_choose (self, task, waiting, chosen);
    *none = count == 0;
    if (count <= 0)
        return count;
    uint32_t next = 0;  //  the next replica to place
    for (int c = 0; c < count; c++) {
        while (next < task->spec.redundancy && task->replicas [next].state != R_WAIT)
            next++;
        if (next == task->spec.redundancy)
            break;
        if (s_open_on (self, task, &chosen [c]))
            continue;  //  a shell that chose a node twice
        s_node_t *node = s_node_get (self, &chosen [c]);
        if (!node)
            continue;
        bool trial = zmesh_breaker_state (&self->breaker, &chosen [c], self->now_ms)
                     == ZMESH_BREAKER_HALF_OPEN;
        zmesh_breaker_update_t update;
        if (!zmesh_breaker_allow (&self->breaker, &chosen [c], self->now_ms, &update))
            continue;
        s_send_attempt (self, task, &task->replicas [next], node, trial);
    }
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_WAIT)
            return 0;
    return 1;
}

//  Did a task of this kind find no node in this pass already?
static bool
s_kind_waits (const uint64_t *kinds, uint32_t count, uint64_t kind)
{
    for (uint32_t i = 0; i < count; i++)
        if (kinds [i] == kind)
            return true;
    return false;
}

//  Place the parked tasks (when parked_too), then the pending ones in order. A task that
//  must wait keeps its place, and the pass looks further (S_LOOKAHEAD_SCAN tasks at most,
//  S_LOOKAHEAD_TRIES of them tried in vain at most): a task whose nodes are busy or shut
//  must not hold up tasks other nodes could run now. A fresh task of a kind that found no
//  node in this pass is not tried again (whether choose finds a node depends on the task's
//  needs, not on its id).
static void
s_drain (zmesh_owner_t *self, bool parked_too)
{
    if (self->draining)
        return;
    self->draining = true;
    if (parked_too) {
        uint32_t count = self->parked;
        for (s_task_t *task = self->park_head, *next; task && count; task = next, count--) {
            next = task->wait_next;
            bool none;
            int rc = s_place (self, task, &none);
            if (rc == 1)
                s_unpark (self, task);
            else if (rc == 0) {
                //  A node could take it now, once it has room: wait in line.
                s_unpark (self, task);
                s_pend_push (self, task);
            }
            else if (self->now_ms - task->parked_ms >= self->config.place_timeout_ms
                     && !s_any_open (task))  //  open replicas may yet make a quorum
                s_finish (self, task, NULL, false, ZMESH_TASK_REFUSED,
                          "no eligible node: no node has the handler, tags and resources it "
                          "needs",
                          NULL, 0, 0, NULL);
        }
        s_park_schedule (self);
    }
    s_task_t *cursor [ZMESH_PRIORITY_COUNT];
    memcpy (cursor, self->pend_head, sizeof cursor);
    uint64_t kinds [S_LOOKAHEAD_TRIES];  //  kinds that found no node (0: not a fresh task)
    uint32_t waited = 0, scanned = 0;
    s_task_t *task;
    while ((task = s_pend_next (self, cursor))) {
        bool fresh = task->attempts == 0;
        if (waited && ++scanned > S_LOOKAHEAD_SCAN)
            break;
        if (waited && fresh && s_kind_waits (kinds, waited, task->kind))
            continue;
        bool none;
        int rc = s_place (self, task, &none);
        if (rc == 0) {
            kinds [waited++] = fresh && none ? task->kind : 0;
            if (waited == S_LOOKAHEAD_TRIES)
                break;
            continue;
        }
        s_pend_remove (self, task);
        if (rc == ZMESH_ENOTFOUND)
            s_park (self, task);
    }
    self->draining = false;
}

//  A replica of task waits to be placed: the task joins the pending tasks, unless it waits
//  already.
//  What choose looks at besides the task's id and the avoid list: its needs, and whether it
//  must run here (LOCAL). FNV-1a, mixed; never 0.
static uint64_t
s_task_kind (const zmesh_owner_task_t *spec)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const char *texts [1 + ZMESH_TASK_TAGS_MAX];
    size_t sizes [1 + ZMESH_TASK_TAGS_MAX];
    uint32_t count = 0;
    texts [count] = spec->handler;
    sizes [count++] = sizeof spec->handler;
    for (uint32_t i = 0; i < spec->tag_count; i++) {
        texts [count] = spec->tags [i];
        sizes [count++] = sizeof spec->tags [i];
    }
    for (uint32_t i = 0; i < count; i++) {
        for (size_t j = 0; j < sizes [i] && texts [i][j]; j++)
            h = (h ^ (uint8_t) texts [i][j]) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;  //  end of a string
    }
    const uint64_t numbers [4] = {spec->cpu_millicores, spec->memory_bytes, spec->gpus,
                                  spec->strategy == ZMESH_PLACE_LOCAL};
    for (uint32_t i = 0; i < 4; i++)
        h = zmesh_mix64 (h ^ numbers [i]);
    return h | 1;
}

static bool
s_spec_valid (const zmesh_owner_task_t *spec)
{
    if (!spec || spec->redundancy < 1 || spec->redundancy > ZMESH_OWNER_REDUNDANCY_MAX
        || spec->priority >= ZMESH_PRIORITY_COUNT || spec->strategy >= ZMESH_PLACE_STRATEGY_COUNT
        || spec->payload_size > ZMESH_TASK_PAYLOAD_MAX || (spec->payload_size && !spec->payload)
        || spec->tag_count > ZMESH_TASK_TAGS_MAX || spec->affinity_size > ZMESH_OWNER_AFFINITY_MAX
        || spec->max_retries > ZMESH_TASK_ATTEMPTS_MAX - ZMESH_OWNER_REDUNDANCY_MAX)
        return false;
    //  The handler as the wire takes it (no NUL within its array: too long).
    return zmesh_task_handler_valid (spec->handler, strnlen (spec->handler, sizeof spec->handler));
}

int
zmesh_owner_submit (zmesh_owner_t *self, uint64_t now_ms, const zmesh_owner_task_t *spec)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    if (!s_spec_valid (spec))
        return ZMESH_EINVAL;
    if (s_task_find (self, &spec->id))
        return ZMESH_ESTATE;
    if (self->owned >= self->config.max_tasks)
        return ZMESH_ELIMIT;
    if (self->owned + 1 > (self->bucket_mask + 1) * 2 && s_buckets_grow (self))
        return ZMESH_ENOMEM;
    s_task_t *task = (s_task_t *) calloc (1, sizeof *task);
    if (!task)
        return ZMESH_ENOMEM;
    task->spec = *spec;
    if (spec->payload_size) {
        task->payload = (uint8_t *) malloc (spec->payload_size);
        if (!task->payload) {
            free (task);
            return ZMESH_ENOMEM;
        }
        memcpy (task->payload, spec->payload, spec->payload_size);
    }
    task->spec.payload = task->payload;
    task->kind = s_task_kind (spec);
    task->submitted_ms = self->now_ms;
    for (uint32_t i = 0; i < spec->redundancy; i++) {
        task->replicas [i].task = task;
        task->replicas [i].node = S_NONE;
        task->replicas [i].state = R_WAIT;
    }
    s_task_t **bucket = s_bucket (self, &spec->id);
    task->hash_next = *bucket;
    *bucket = task;
    self->owned++;
    self->stats.submitted++;
    s_pend_push (self, task);
    s_drain (self, false);
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Failures and results

static uint64_t
s_backoff_ms (zmesh_owner_t *self, uint32_t retry)
{
    uint64_t delay = self->config.retry_base_ms;
    for (uint32_t i = 1; i < retry && delay < self->config.retry_max_ms; i++)
        delay *= 2;
    if (delay > self->config.retry_max_ms)
        delay = self->config.retry_max_ms;
    //  Jitter in [0.5, 1): retries of tasks lost together spread out.
    uint64_t jitter = 500 + s_rand (self) % 500;
    uint64_t ms = delay * jitter / 1000;
    return ms ? ms : 1;
}

static bool s_check_quorum (zmesh_owner_t *self, s_task_t *task);

//  The task failed on node: it goes to the end of the task's failed nodes (the most recent),
//  the oldest dropping out when they are S_FAILED_MAX.
static void
s_failed_on (s_task_t *task, const zmesh_id_t *node)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < task->failed_count; i++)
        if (!zmesh_id_equal (&task->failed [i], node))
            task->failed [kept++] = task->failed [i];
    if (kept == S_FAILED_MAX) {
        memmove (&task->failed [0], &task->failed [1],
                 (S_FAILED_MAX - 1) * sizeof task->failed [0]);
        kept--;
    }
    task->failed [kept++] = *node;
    task->failed_count = kept;
}

//  Replica r's attempt failed (on node, which its next attempts avoid; NULL: the node is not
//  to blame). r is neither open nor backing off now. Retry it or give it up. Returns true if
//  that finished (and freed) the task.
static bool
s_replica_failed (
    zmesh_owner_t *self, s_replica_t *r, const zmesh_id_t *node, uint8_t status, const char *error)
{
    s_task_t *task = r->task;
    task->last_status = status;
    snprintf (task->last_error, sizeof task->last_error, "%s", error);
    if (node)
        s_failed_on (task, node);
    if (task->retries < task->spec.max_retries) {
        task->retries++;
        self->stats.retried++;
        r->due_ms = self->now_ms + s_backoff_ms (self, task->retries);
        s_backoff_link (self, r);
        r->state = R_BACKOFF;
        return false;
    }
    r->state = R_DONE;
    r->has_result = false;
    if (task->spec.redundancy == 1) {
        s_finish (self, task, NULL, false, status, task->last_error, NULL, 0, 0, NULL);
        return true;
    }
    return s_check_quorum (self, task);
}

//  The attempt open on r was lost with its worker (or never reached it). Returns true if
//  that finished the task.
static bool
s_lost (zmesh_owner_t *self, s_replica_t *r, const char *why)
{
    zmesh_id_t node_id = self->nodes [r->node].id;
    bool running = r->running;
    s_trial_release (self, r, &node_id);  //  the failure is recorded on that node, below
    s_open_unlink (self, r);
    self->stats.lost++;
    zmesh_breaker_update_t update;
    zmesh_breaker_record (&self->breaker, &node_id, ZMESH_BREAKER_SYSTEM_FAILURE, self->now_ms,
                          &update);
    if (running && !(r->task->spec.flags & ZMESH_TASK_FLAG_IDEMPOTENT)) {
        //  It may have had effects: running it again is not ours to decide.
        r->task->retries = r->task->spec.max_retries;
        char error [ZMESH_TASK_ERROR_MAX];
        snprintf (error, sizeof error, "lost while running (%s); not idempotent, not re-run", why);
        return s_replica_failed (self, r, &node_id, ZMESH_TASK_TIMEOUT, error);
    }
    return s_replica_failed (self, r, &node_id, ZMESH_TASK_TIMEOUT, why);
}

//  Replicas with a result whose digest equals r's.
static uint32_t
s_same_digest (const s_task_t *task, const s_replica_t *r)
{
    uint32_t same = 0;
    for (uint32_t j = 0; j < task->spec.redundancy; j++)
        if (task->replicas [j].has_result
            && memcmp (task->replicas [j].digest, r->digest, ZMESH_OWNER_DIGEST_SIZE) == 0)
            same++;
    return same;
}

//  Finish the task if a quorum agrees, or if none is possible any more: true if it did (the
//  task is freed).
static bool
s_check_quorum (zmesh_owner_t *self, s_task_t *task)
{
    uint32_t quorum = task->spec.redundancy / 2 + 1;
    uint32_t open = 0, best = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        s_replica_t *r = &task->replicas [i];
        if (r->state != R_DONE)
            open++;
        if (!r->has_result)
            continue;
        uint32_t same = s_same_digest (task, r);
        if (same > best)
            best = same;
        if (same < quorum)
            continue;
        uint32_t disagreements = 0;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            const s_replica_t *other = &task->replicas [j];
            if (other->has_result
                && memcmp (other->digest, r->digest, ZMESH_OWNER_DIGEST_SIZE) != 0) {
                disagreements++;
                self->stats.disagreements++;
                if (self->cb.disagree)
                    self->cb.disagree (self->cb.arg, &other->result_from, &task->spec.id);
            }
        }
        zmesh_id_t winner_node = r->result_from;
        s_finish (self, task, &winner_node, r->status == ZMESH_TASK_OK, r->status,
                  r->status == ZMESH_TASK_OK ? "" : task->last_error, r->output, r->output_size,
                  disagreements, NULL);
        return true;
    }
    //  No quorum yet: is one still possible? The best digest plus every replica still open.
    if (best + open >= quorum)
        return false;
    s_finish (self, task, NULL, false, task->last_status ? task->last_status : 1,
              "no quorum: the replicas' results disagree", NULL, 0, 0, NULL);
    return true;
}

void
zmesh_owner_heard (zmesh_owner_t *self, uint64_t now_ms, const zmesh_id_t *from)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    s_node_t *node = s_node_find (self, from);
    if (!node)
        return;
    node->heard_ms = self->now_ms;
    node->losses = 0;
    bool was_out = node->expired || node->down || node->probation;
    node->probation = false;
    if (was_out) {
        node->expired = false;
        node->down = false;
        s_drain (self, false);
    }
}

//  The replica a RESULT is for: the one whose open attempt it names; else, for a task without
//  redundancy, the one replica (a late answer of an earlier attempt), unless that is an error
//  a retry is under way for already. *late tells which.
static s_replica_t *
s_result_replica (s_task_t *task, const zmesh_task_result_item_t *result, bool *late)
{
    *late = false;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_OPEN && task->replicas [i].attempt == result->attempt)
            return &task->replicas [i];
    bool ran = result->status == ZMESH_TASK_OK || result->status == ZMESH_TASK_HANDLER_ERROR;
    if (task->spec.redundancy > 1 || task->replicas [0].state == R_DONE || !ran)
        return NULL;
    if (result->status == ZMESH_TASK_HANDLER_ERROR && task->spec.retry_on_error
        && task->retries < task->spec.max_retries)
        return NULL;
    *late = true;
    return &task->replicas [0];
}

//  Did node give a result for another replica of task already?
static bool
s_answered_on (const s_task_t *task, const zmesh_id_t *node)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].has_result && zmesh_id_equal (&task->replicas [i].result_from, node))
            return true;
    return false;
}

//  A redundant replica's result: keep it until a quorum decides.
static void
s_replica_result (zmesh_owner_t *self,
                  s_replica_t *r,
                  const zmesh_id_t *from,
                  const zmesh_task_result_item_t *result,
                  const char *error)
{
    s_task_t *task = r->task;
    r->state = R_DONE;
    r->has_result = true;
    r->status = result->status;
    r->result_from = *from;
    zmesh_owner_digest (result->status, result->output, result->output_size, r->digest);
    if (result->status == ZMESH_TASK_HANDLER_ERROR) {
        task->last_status = result->status;
        snprintf (task->last_error, sizeof task->last_error, "%s", error);
    }
    if (result->output_size) {
        r->output = (uint8_t *) malloc (result->output_size);
        if (r->output) {
            memcpy (r->output, result->output, result->output_size);
            r->output_size = result->output_size;
        }
    }
    s_check_quorum (self, task);
}

void
zmesh_owner_result (zmesh_owner_t *self,
                    uint64_t now_ms,
                    const zmesh_id_t *from,
                    const zmesh_task_result_item_t *result)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    s_node_t *from_node = s_node_find (self, from);
    if (from_node)
        from_node->heard_ms = self->now_ms;
    s_task_t *task = s_task_find (self, &result->id);
    if (!task) {
        self->stats.duplicates++;
        return;
    }
    if (result->status == ZMESH_TASK_CANCELLED)
        return;  //  we cancelled nothing of an open task; a worker's word, not a result
    bool late;
    s_replica_t *r = s_result_replica (task, result, &late);
    if (!r) {
        self->stats.duplicates++;
        return;
    }
    bool ran = result->status == ZMESH_TASK_OK || result->status == ZMESH_TASK_HANDLER_ERROR;
    zmesh_breaker_update_t update;
    zmesh_breaker_record (&self->breaker, from,
                          result->status == ZMESH_TASK_OK ? ZMESH_BREAKER_SUCCESS
                          : ran                           ? ZMESH_BREAKER_TASK_ERROR
                                                          : ZMESH_BREAKER_SYSTEM_FAILURE,
                          self->now_ms, &update);
    if (r->state == R_OPEN && late)
        s_attempt_drop (self, r);  //  the attempt open now is not needed any more
    else if (r->state == R_OPEN) {
        s_trial_release (self, r, from);
        s_open_unlink (self, r);
    }
    else if (r->state == R_BACKOFF)
        s_backoff_unlink (self, r);
    char error [ZMESH_TASK_ERROR_MAX];
    uint32_t error_size =
        result->error_size < sizeof error - 1 ? result->error_size : (uint32_t) sizeof error - 1;
    if (error_size)
        memcpy (error, result->error, error_size);
    error [error_size] = 0;
    if (!ran && !error [0])
        snprintf (error, sizeof error, "%s", zmesh_task_status_name (result->status));
    if (!ran)
        s_replica_failed (self, r, from, result->status, error);
    else if (result->status == ZMESH_TASK_HANDLER_ERROR && task->spec.retry_on_error
             && task->retries < task->spec.max_retries)
        s_replica_failed (self, r, NULL, result->status, error);  //  the node is healthy
    else if (task->spec.redundancy == 1)
        s_finish (self, task, from, result->status == ZMESH_TASK_OK, result->status, error,
                  result->output, result->output_size, 0, result);
    else if (s_answered_on (task, from))
        //  One node, one vote: a steal (or a fallback placement) gave it a second replica.
        s_replica_failed (self, r, from, ZMESH_TASK_REFUSED,
                          "a second answer from a node that answered already");
    else
        s_replica_result (self, r, from, result, error);
    s_drain (self, false);
}

void
zmesh_owner_lease (zmesh_owner_t *self,
                   uint64_t now_ms,
                   const zmesh_id_t *from,
                   const zmesh_task_ref_t *refs,
                   uint32_t count)
{
    zmesh_owner_heard (self, now_ms, from);
    bool moved = false;
    for (uint32_t i = 0; i < count; i++) {
        s_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            s_replica_t *r = &task->replicas [j];
            if (r->state != R_OPEN || r->attempt != refs [i].attempt)
                continue;
            s_node_t *node = s_node_get (self, from);
            if (!node)
                break;
            if (r->node != s_node_slot (self, node)) {
                //  Listed by another node than we thought: a steal whose MOVED we missed.
                s_attempt_move (self, r, node);
                moved = true;
            }
            r->listed_ms = self->now_ms;
            r->running = refs [i].running;
        }
    }
    if (moved)
        s_drain (self, false);
}

void
zmesh_owner_moved (zmesh_owner_t *self,
                   uint64_t now_ms,
                   const zmesh_id_t *from,
                   const zmesh_id_t *thief,
                   const zmesh_task_ref_t *refs,
                   uint32_t count)
{
    zmesh_owner_heard (self, now_ms, from);
    if (!s_node_find (self, from) || zmesh_id_equal (from, thief))
        return;
    s_node_t *to = s_node_get (self, thief);
    if (!to)
        return;
    uint32_t slot = s_node_slot (self, s_node_find (self, from));  //  slots may have moved
    for (uint32_t i = 0; i < count; i++) {
        s_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            s_replica_t *r = &task->replicas [j];
            if (r->state == R_OPEN && r->node == slot && r->attempt == refs [i].attempt)
                s_attempt_move (self, r, to);
        }
    }
    s_drain (self, false);  //  the victim has window again
}

void
zmesh_owner_checkpoint (zmesh_owner_t *self,
                        uint64_t now_ms,
                        const zmesh_id_t *from,
                        const zmesh_task_ref_t *ref,
                        const uint8_t *data,
                        uint32_t size)
{
    zmesh_owner_heard (self, now_ms, from);
    s_task_t *task = s_task_find (self, &ref->id);
    if (!task || size > ZMESH_TASK_PAYLOAD_MAX || (size && !data))
        return;
    //  Not a redundant task's: its replicas are run apart so that one bad node cannot decide
    //  the result, and a checkpoint from a bad node would steer every replica started after.
    if (task->spec.redundancy > 1)
        return;
    //  Only an open attempt's: an older attempt's progress may lag the newest checkpoint.
    bool open = false;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        open =
            open
            || (task->replicas [i].state == R_OPEN && task->replicas [i].attempt == ref->attempt);
    if (!open)
        return;
    uint8_t *copy = size ? (uint8_t *) malloc (size) : NULL;
    if (size && !copy)
        return;
    if (size)
        memcpy (copy, data, size);
    free (task->checkpoint);
    task->checkpoint = copy;
    task->checkpoint_size = size;
    self->stats.checkpoints++;
}

//  Every open attempt on node is lost. Nothing here adds nodes, so the table stays put.
static void
s_node_lost (zmesh_owner_t *self, s_node_t *node, const char *why)
{
    while (node->open)
        s_lost (self, node->open, why);
}

//  How long a node just lost is shut out: lease_timeout_ms, doubled for each loss since it
//  was last heard (a frozen worker that stays frozen is tried ever more rarely), at most 32x.
static uint64_t
s_shut_out_ms (s_node_t *node, const zmesh_owner_t *self)
{
    uint32_t shift = node->losses < 5 ? node->losses : 5;
    node->losses++;
    return (uint64_t) self->config.lease_timeout_ms << shift;
}

void
zmesh_owner_node_down (zmesh_owner_t *self, uint64_t now_ms, const zmesh_id_t *id)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    s_node_t *node = s_node_find (self, id);
    if (!node)
        return;
    node->down = true;
    node->lost_until_ms = self->now_ms + s_shut_out_ms (node, self);
    s_node_lost (self, node, "worker lost: membership declared it dead or gone");
    zmesh_breaker_forget (&self->breaker, id);
    s_drain (self, false);
}

void
zmesh_owner_kick (zmesh_owner_t *self, uint64_t now_ms)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    s_drain (self, self->parked > 0);
}

//  Attempts that no lease has listed for 2 x lease_timeout_ms are lost.
static void
s_scan (zmesh_owner_t *self)
{
    uint64_t limit = 2ull * self->config.lease_timeout_ms;
    for (uint32_t i = 0; i <= self->node_mask; i++) {
        s_node_t *node = &self->nodes [i];
        if (!node->used)
            continue;
        for (s_replica_t *r = node->open, *next; r; r = next) {
            next = r->next;
            if (self->now_ms - r->listed_ms >= limit) {
                s_lost (self, r, "attempt missing from its worker's leases");
                next = node->open;  //  the list may have changed under us: start again
            }
        }
    }
}

void
zmesh_owner_tick (zmesh_owner_t *self, uint64_t now_ms)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    now_ms = self->now_ms;
    zmesh_breaker_update_t update;
    zmesh_breaker_tick (&self->breaker, now_ms, &update);
    for (uint32_t i = 0; i <= self->node_mask; i++) {
        s_node_t *node = &self->nodes [i];
        if (!node->used)
            continue;
        //  A lost node was shut out long enough: one that restarted empty never speaks to
        //  us, and must not be shut out for ever.
        if ((node->down || node->expired) && now_ms >= node->lost_until_ms) {
            node->down = node->expired = false;
            node->probation = true;  //  one attempt, until it speaks
        }
        //  Leases: a node silent for lease_timeout_ms loses what it holds.
        if (node->in_flight && now_ms - node->heard_ms >= self->config.lease_timeout_ms) {
            node->expired = true;
            node->lost_until_ms = now_ms + s_shut_out_ms (node, self);
            s_node_lost (self, node, "worker lost: its lease expired (no word from it)");
        }
    }
    if (now_ms >= self->scan_ms) {
        self->scan_ms = now_ms + self->config.lease_timeout_ms / 2;
        s_scan (self);
    }
    //  Back-offs that ended go back to placing.
    if (now_ms >= self->backoff_due_ms) {
        self->backoff_due_ms = UINT64_MAX;
        for (s_replica_t *r = self->backoff, *next; r; r = next) {
            next = r->next;
            if (r->due_ms <= now_ms) {
                s_backoff_unlink (self, r);
                r->state = R_WAIT;
                if (!r->task->pending && !r->task->parked)
                    s_pend_push_front (self, r->task);
            }
            else if (r->due_ms < self->backoff_due_ms)
                self->backoff_due_ms = r->due_ms;
        }
    }
    s_drain (self, self->parked && now_ms >= self->park_retry_ms);
}

uint64_t
zmesh_owner_deadline_ms (const zmesh_owner_t *self)
{
    uint64_t deadline = self->backoff_due_ms;
    if (self->park_retry_ms < deadline)
        deadline = self->park_retry_ms;
    uint64_t breaker = zmesh_breaker_deadline_ms (&self->breaker);
    if (breaker < deadline)
        deadline = breaker;
    for (uint32_t i = 0; i <= self->node_mask; i++) {
        const s_node_t *node = &self->nodes [i];
        if (!node->used)
            continue;
        if ((node->down || node->expired) && node->lost_until_ms < deadline)
            deadline = node->lost_until_ms;
        if (node->in_flight && node->heard_ms + self->config.lease_timeout_ms < deadline)
            deadline = node->heard_ms + self->config.lease_timeout_ms;
    }
    if (self->stats.in_flight && self->scan_ms < deadline)
        deadline = self->scan_ms;
    return deadline;
}

//  ---------------------------------------------------------------------------------------------
//  Queries

bool
zmesh_owner_node_available (const zmesh_owner_t *self, const zmesh_id_t *id, uint64_t now_ms)
{
    const s_node_t *node = s_node_find (self, id);
    if (node
        && (node->in_flight >= self->config.window
            || ((node->down || node->expired) && now_ms < node->lost_until_ms)
            || (node->probation && node->in_flight > 0)))
        return false;
    return zmesh_breaker_available (&self->breaker, id, now_ms);
}

uint32_t
zmesh_owner_node_in_flight (const zmesh_owner_t *self, const zmesh_id_t *id)
{
    const s_node_t *node = s_node_find (self, id);
    return node ? node->in_flight : 0;
}

zmesh_breaker_state_t
zmesh_owner_breaker_state (const zmesh_owner_t *self, const zmesh_id_t *node, uint64_t now_ms)
{
    return zmesh_breaker_state (&self->breaker, node, now_ms);
}

const zmesh_breaker_t *
zmesh_owner_breaker (const zmesh_owner_t *self)
{
    return &self->breaker;
}

void
zmesh_owner_stats (const zmesh_owner_t *self, uint64_t now_ms, zmesh_owner_stats_t *stats)
{
    (void) now_ms;
    *stats = self->stats;
    stats->owned = self->owned;
    stats->pending = self->pend_count + self->parked;
}

uint32_t
zmesh_owner_list (const zmesh_owner_t *self,
                  uint64_t now_ms,
                  zmesh_owner_task_info_t *out,
                  uint32_t max)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i <= self->bucket_mask && count < max; i++)
        for (const s_task_t *task = self->buckets [i]; task && count < max;
             task = task->hash_next) {
            zmesh_owner_task_info_t *info = &out [count++];
            memset (info, 0, sizeof *info);
            info->id = task->spec.id;
            memcpy (info->handler, task->spec.handler, sizeof info->handler);
            info->priority = task->spec.priority;
            info->attempts = task->attempts;
            info->age_ms = now_ms > task->submitted_ms ? now_ms - task->submitted_ms : 0;
            info->pending = true;
            for (uint32_t j = 0; j < task->spec.redundancy; j++)
                if (task->replicas [j].state == R_OPEN) {
                    info->pending = false;
                    info->node = self->nodes [task->replicas [j].node].id;
                    break;
                }
        }
    return count;
}
