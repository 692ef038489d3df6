/*  zmesh_owner.c: the owner's side of a task. See zmesh_owner.h. */

#include "zmesh_owner.h"
#include "zmesh_place.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE UINT32_MAX

typedef enum {
    R_WAIT = 0,  //  to be placed (the task is in the pending queue, held or parked)
    R_BACKOFF,   //  failed, waiting for its back-off to end
    R_OPEN,      //  an attempt is open on a worker
    R_DONE,      //  has a result (redundant tasks), or given up
} s_replica_state_t;

typedef struct s_task_s s_task_t;
typedef struct s_replica_s s_replica_t;

struct s_replica_s {
    s_task_t *task;
    uint8_t index;
    uint8_t state;
    bool running;      //  the last lease said it runs
    bool has_result;   //  R_DONE with a result (else given up)
    uint8_t status;    //  of that result
    uint32_t node;     //  node slot while R_OPEN, else S_NONE
    uint32_t attempt;  //  the open (or last) attempt
    uint64_t sent_ms;
    uint64_t listed_ms;    //  last time a lease listed it (or sent_ms)
    uint64_t due_ms;       //  R_BACKOFF: when it may go again
    zmesh_id_t failed_on;  //  the node its last attempt failed on (avoided next)
    bool has_failed_on;
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
    uint64_t parked_ms;  //  when it was first parked (0: not parked)
    uint32_t attempts;   //  dispatches so far, all replicas
    uint32_t retries;    //  re-dispatches so far
    bool placed_once;
    bool queued;  //  in the pending queue, held or parked
    bool parked;
    zmesh_id_t selected;
    zmesh_id_t optimal;
    uint8_t last_status;
    char last_error [ZMESH_TASK_ERROR_MAX];
    s_replica_t replicas [ZMESH_OWNER_REDUNDANCY_MAX];
    s_task_t *hash_next;  //  bucket chain
    s_task_t *park_prev, *park_next;
};

typedef struct {
    zmesh_id_t id;
    bool used;
    bool down;           //  membership said dead or left; no new attempts until heard again
    bool expired;        //  lease expired; no new attempts until heard again
    uint32_t in_flight;  //  open attempts
    uint64_t heard_ms;   //  last message from it (or the first send)
    s_replica_t *open;   //  its open attempts (doubly linked)
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
    //  pending: the queue by priority with aging, one task held at its head, parked ones
    zmesh_taskq_t pending;
    s_task_t *held;
    s_task_t *park_head, *park_tail;
    uint32_t parked;
    uint64_t park_retry_ms;
    //  back-off
    s_replica_t *backoff;
    uint32_t backoff_count;
    uint64_t backoff_due_ms;  //  earliest due, or UINT64_MAX
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

static void
s_open_link (s_node_t *node, s_replica_t *r)
{
    r->prev = NULL;
    r->next = node->open;
    if (node->open)
        node->open->prev = r;
    node->open = r;
    node->in_flight++;
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
}

static void
s_park (zmesh_owner_t *self, s_task_t *task)
{
    task->parked = true;
    if (!task->parked_ms)
        task->parked_ms = self->now_ms ? self->now_ms : 1;
    task->park_prev = self->park_tail;
    task->park_next = NULL;
    if (self->park_tail)
        self->park_tail->park_next = task;
    else
        self->park_head = task;
    self->park_tail = task;
    self->parked++;
    if (self->park_retry_ms == UINT64_MAX)
        self->park_retry_ms = self->now_ms + ZMESH_OWNER_PARK_RETRY_MS;
}

static void
s_unpark (zmesh_owner_t *self, s_task_t *task)
{
    if (task->park_prev)
        task->park_prev->park_next = task->park_next;
    else
        self->park_head = task->park_next;
    if (task->park_next)
        task->park_next->park_prev = task->park_prev;
    else
        self->park_tail = task->park_prev;
    task->park_prev = task->park_next = NULL;
    task->parked = false;
    self->parked--;
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
    self->config = *config;
    self->cb = *callbacks;
    self->rng = seed;
    self->now_ms = now_ms;
    self->bucket_mask = 1023;
    self->buckets = (s_task_t **) calloc (self->bucket_mask + 1, sizeof *self->buckets);
    self->node_mask = 63;
    self->nodes = (s_node_t *) calloc (self->node_mask + 1, sizeof *self->nodes);
    zmesh_taskq_config_t q;
    zmesh_taskq_config_defaults (&q);
    q.capacity = config->max_tasks;
    q.aging_ms = config->aging_ms;
    q.slots = 1;
    q.critical_reserve = 0;
    self->park_retry_ms = UINT64_MAX;
    self->backoff_due_ms = UINT64_MAX;
    self->scan_ms = now_ms + config->lease_timeout_ms;
    if (!self->buckets || !self->nodes || zmesh_taskq_init (&self->pending, &q, now_ms)
        || zmesh_breaker_init (&self->breaker, &config->breaker)) {
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
    zmesh_taskq_fini (&self->pending);
    zmesh_breaker_fini (&self->breaker);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Ending a task

static void
s_task_remove (zmesh_owner_t *self, s_task_t *task)
{
    for (s_task_t **at = s_bucket (self, &task->spec.id); *at; at = &(*at)->hash_next)
        if (*at == task) {
            *at = task->hash_next;
            break;
        }
    if (task->parked)
        s_unpark (self, task);
    if (self->held == task)
        self->held = NULL;
    if (task->queued)
        zmesh_taskq_remove (&self->pending, self->now_ms, &task->spec.id, NULL);
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        s_replica_t *r = &task->replicas [i];
        if (r->state == R_OPEN) {
            if (self->cb.cancel) {
                zmesh_task_ref_t ref = {.id = task->spec.id, .attempt = r->attempt};
                self->cb.cancel (self->cb.arg, &self->nodes [r->node].id, &ref);
            }
            s_open_unlink (self, r);
        }
        else if (r->state == R_BACKOFF)
            s_backoff_unlink (self, r);
        r->state = R_DONE;
    }
    self->owned--;
    s_task_free (task);
}

//  Deliver the one result and forget the task. winner: the replica whose result it is (NULL
//  if the task failed without one).
static void
s_finish (zmesh_owner_t *self,
          s_task_t *task,
          const s_replica_t *winner,
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
    (void) winner;
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

static void s_queue (zmesh_owner_t *self, s_task_t *task);

//  Place every waiting replica of task. Returns 1 if all are placed, 0 if it must wait for a
//  window, ZMESH_ENOTFOUND if no node can take it.
static int
s_place (zmesh_owner_t *self, s_task_t *task)
{
    uint32_t waiting = 0;
    zmesh_id_t avoid [ZMESH_OWNER_REDUNDANCY_MAX * 2];
    uint32_t avoid_count = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        s_replica_t *r = &task->replicas [i];
        if (r->state == R_WAIT)
            waiting++;
        if (r->state == R_OPEN)
            avoid [avoid_count++] = self->nodes [r->node].id;
        if (r->state == R_WAIT && r->has_failed_on)
            avoid [avoid_count++] = r->failed_on;
    }
    if (!waiting)
        return 1;
    zmesh_owner_choice_t choice = {
        .task = &task->spec, .avoid = avoid, .avoid_count = avoid_count, .want = waiting};
    zmesh_id_t chosen [ZMESH_OWNER_REDUNDANCY_MAX], optimal;
    memset (&optimal, 0, sizeof optimal);
    int count = self->cb.choose (self->cb.arg, self, &choice, chosen, &optimal);
    if (count <= 0 && avoid_count) {
        //  Avoiding failed nodes left nothing: a failed node is better than none.
        choice.avoid_count = 0;
        for (uint32_t i = 0; i < task->spec.redundancy; i++)
            if (task->replicas [i].state == R_OPEN)
                avoid [choice.avoid_count++] = self->nodes [task->replicas [i].node].id;
        count = self->cb.choose (self->cb.arg, self, &choice, chosen, &optimal);
    }
    if (count < 0)
        return ZMESH_ENOTFOUND;
    if (count == 0)
        return 0;
    if (!task->placed_once) {
        task->placed_once = true;
        task->selected = chosen [0];
        task->optimal = s_id_zero (&optimal) ? chosen [0] : optimal;
    }
    uint32_t next = 0;
    for (uint32_t i = 0; i < task->spec.redundancy && next < (uint32_t) count; i++) {
        s_replica_t *r = &task->replicas [i];
        if (r->state != R_WAIT)
            continue;
        zmesh_breaker_update_t update;
        s_node_t *node = s_node_get (self, &chosen [next]);
        if (!node || !zmesh_breaker_allow (&self->breaker, &chosen [next], self->now_ms, &update)) {
            next++;
            continue;
        }
        next++;
        task->attempts++;
        r->attempt = task->attempts;
        r->state = R_OPEN;
        r->running = false;
        r->sent_ms = r->listed_ms = self->now_ms;
        r->node = s_node_slot (self, node);
        if (node->in_flight == 0)
            node->heard_ms = self->now_ms;  //  its lease starts now
        s_open_link (node, r);
        self->stats.in_flight++;
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
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == R_WAIT)
            return 0;
    return 1;
}

//  Place what waits, in order: the held task, the parked ones (on their retry time), then
//  the pending queue; stop at the first that must wait for a window.
static void
s_drain (zmesh_owner_t *self, bool parked_too)
{
    if (self->draining)
        return;
    self->draining = true;
    if (parked_too) {
        self->park_retry_ms = UINT64_MAX;
        uint32_t count = self->parked;
        for (s_task_t *task = self->park_head, *next; task && count; task = next, count--) {
            next = task->park_next;
            int rc = s_place (self, task);
            if (rc == 1) {
                s_unpark (self, task);
                task->queued = false;
                task->parked_ms = 0;
            }
            else if (rc == ZMESH_ENOTFOUND
                     && self->now_ms - task->parked_ms >= self->config.place_timeout_ms)
                s_finish (self, task, NULL, NULL, false, ZMESH_TASK_REFUSED,
                          "no eligible node: no node has the handler, tags and resources it "
                          "needs",
                          NULL, 0, 0, NULL);
            else if (rc == 0)
                break;
        }
        if (self->parked && self->park_retry_ms == UINT64_MAX)
            self->park_retry_ms = self->now_ms + ZMESH_OWNER_PARK_RETRY_MS;
    }
    while (true) {
        s_task_t *task = self->held;
        if (!task) {
            zmesh_taskq_entry_t entry;
            if (!zmesh_taskq_next (&self->pending, self->now_ms, 0, &entry))
                break;
            task = (s_task_t *) (uintptr_t) entry.handle;
            self->held = task;
        }
        int rc = s_place (self, task);
        if (rc == 0)
            break;  //  no window: stays held
        self->held = NULL;
        if (rc == 1)
            task->queued = false;
        else
            s_park (self, task);
    }
    self->draining = false;
}

static void
s_queue (zmesh_owner_t *self, s_task_t *task)
{
    if (task->queued)
        return;
    task->queued = true;
    int rc = zmesh_taskq_push (&self->pending, self->now_ms, &task->spec.id, task->spec.priority,
                               (uint64_t) (uintptr_t) task, task->spec.cpu_millicores);
    if (rc)  //  cannot happen: the queue holds max_tasks, as many as can be owned
        s_park (self, task);
}

int
zmesh_owner_submit (zmesh_owner_t *self, uint64_t now_ms, const zmesh_owner_task_t *spec)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    if (!spec || spec->redundancy < 1 || spec->redundancy > ZMESH_OWNER_REDUNDANCY_MAX
        || spec->priority >= ZMESH_PRIORITY_COUNT || spec->strategy >= ZMESH_PLACE_STRATEGY_COUNT
        || spec->payload_size > ZMESH_TASK_PAYLOAD_MAX || (spec->payload_size && !spec->payload)
        || !spec->handler [0] || memchr (spec->handler, 0, sizeof spec->handler) == NULL
        || spec->tag_count > ZMESH_TASK_TAGS_MAX || spec->affinity_size > ZMESH_OWNER_AFFINITY_MAX
        || spec->max_retries > ZMESH_TASK_ATTEMPTS_MAX - ZMESH_OWNER_REDUNDANCY_MAX)
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
    task->submitted_ms = self->now_ms;
    for (uint32_t i = 0; i < spec->redundancy; i++) {
        task->replicas [i].task = task;
        task->replicas [i].index = (uint8_t) i;
        task->replicas [i].node = S_NONE;
        task->replicas [i].state = R_WAIT;
    }
    s_task_t **bucket = s_bucket (self, &spec->id);
    task->hash_next = *bucket;
    *bucket = task;
    self->owned++;
    self->stats.submitted++;
    //  Fast path: nothing waits ahead of it, so it may go at once.
    if (!self->held && zmesh_taskq_depth (&self->pending) == 0 && !self->draining) {
        int rc = s_place (self, task);
        if (rc == 1)
            return ZMESH_OK;
        if (rc == ZMESH_ENOTFOUND) {
            task->queued = true;
            s_park (self, task);
            return ZMESH_OK;
        }
    }
    s_queue (self, task);
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

//  Whether a quorum is still possible, and which digest has one.
static uint32_t
s_quorum (const s_task_t *task)
{
    return task->spec.redundancy / 2 + 1;
}

static bool s_check_quorum (zmesh_owner_t *self, s_task_t *task);

//  Replica r's attempt failed (its node is recorded as failed on). Retry it or give it up.
//  May finish (and free) the task: the caller must not touch it afterwards unless it returns
//  false.
static bool
s_replica_failed (
    zmesh_owner_t *self, s_replica_t *r, const zmesh_id_t *node, uint8_t status, const char *error)
{
    s_task_t *task = r->task;
    task->last_status = status;
    snprintf (task->last_error, sizeof task->last_error, "%s", error);
    if (node) {
        r->failed_on = *node;
        r->has_failed_on = true;
    }
    if (task->retries < task->spec.max_retries) {
        task->retries++;
        self->stats.retried++;
        r->state = R_BACKOFF;
        r->due_ms = self->now_ms + s_backoff_ms (self, task->retries);
        s_backoff_link (self, r);
        return false;
    }
    r->state = R_DONE;
    r->has_result = false;
    if (task->spec.redundancy == 1) {
        s_finish (self, task, NULL, NULL, false, status, task->last_error, NULL, 0, 0, NULL);
        return true;
    }
    return s_check_quorum (self, task);
}

//  The attempt open on r was lost with its worker (or never reached it).
static bool
s_lost (zmesh_owner_t *self, s_replica_t *r, const char *why)
{
    s_node_t *node = &self->nodes [r->node];
    zmesh_id_t node_id = node->id;
    bool running = r->running;
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

//  Finish the task if a quorum agrees, or if none is possible any more: true if it did (the
//  task is freed).
static bool
s_check_quorum (zmesh_owner_t *self, s_task_t *task)
{
    uint32_t quorum = s_quorum (task);
    uint32_t open = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        const s_replica_t *r = &task->replicas [i];
        if (r->state != R_DONE)
            open++;
        if (!r->has_result)
            continue;
        uint32_t same = 0;
        for (uint32_t j = 0; j < task->spec.redundancy; j++)
            if (task->replicas [j].has_result
                && memcmp (task->replicas [j].digest, r->digest, ZMESH_OWNER_DIGEST_SIZE) == 0)
                same++;
        if (same >= quorum) {
            uint32_t disagreements = 0;
            for (uint32_t j = 0; j < task->spec.redundancy; j++) {
                const s_replica_t *other = &task->replicas [j];
                if (other->has_result
                    && memcmp (other->digest, r->digest, ZMESH_OWNER_DIGEST_SIZE) != 0) {
                    disagreements++;
                    self->stats.disagreements++;
                    if (self->cb.disagree)
                        self->cb.disagree (self->cb.arg, &other->failed_on, &task->spec.id);
                }
            }
            //  failed_on of a replica with a result holds the node that produced it.
            zmesh_id_t winner_node = r->failed_on;
            s_finish (self, task, r, &winner_node, r->status == ZMESH_TASK_OK, r->status,
                      r->status == ZMESH_TASK_OK ? "" : task->last_error, r->output, r->output_size,
                      disagreements, NULL);
            return true;
        }
    }
    //  No quorum yet: is one still possible? The best digest plus every replica still open.
    uint32_t best = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        uint32_t same = 0;
        if (!task->replicas [i].has_result)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++)
            if (task->replicas [j].has_result
                && memcmp (task->replicas [j].digest, task->replicas [i].digest,
                           ZMESH_OWNER_DIGEST_SIZE)
                       == 0)
                same++;
        if (same > best)
            best = same;
    }
    if (best + open >= quorum)
        return false;
    s_finish (self, task, NULL, NULL, false, task->last_status ? task->last_status : 1,
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
    if (node->expired || node->down) {
        node->expired = false;
        node->down = false;
        s_drain (self, false);
    }
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
    if (!task || result->status == ZMESH_TASK_CANCELLED) {
        self->stats.duplicates += task ? 0 : 1;
        return;
    }
    //  Which replica: the one whose open attempt it is; else (a late answer of an earlier
    //  attempt) the only replica of a task without redundancy.
    s_replica_t *r = NULL;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state != R_DONE && task->replicas [i].attempt == result->attempt
            && task->replicas [i].state == R_OPEN)
            r = &task->replicas [i];
    if (!r && task->spec.redundancy == 1 && task->replicas [0].state != R_DONE
        && (result->status == ZMESH_TASK_OK || result->status == ZMESH_TASK_HANDLER_ERROR))
        r = &task->replicas [0];
    if (!r) {
        self->stats.duplicates++;
        return;
    }
    if (r->state == R_OPEN)
        s_open_unlink (self, r);
    else if (r->state == R_BACKOFF)
        s_backoff_unlink (self, r);
    zmesh_breaker_update_t update;
    bool ran = result->status == ZMESH_TASK_OK || result->status == ZMESH_TASK_HANDLER_ERROR;
    zmesh_breaker_record (&self->breaker, from,
                          result->status == ZMESH_TASK_OK ? ZMESH_BREAKER_SUCCESS
                          : ran                           ? ZMESH_BREAKER_TASK_ERROR
                                                          : ZMESH_BREAKER_SYSTEM_FAILURE,
                          self->now_ms, &update);
    char error [ZMESH_TASK_ERROR_MAX];
    uint32_t error_size =
        result->error_size < sizeof error - 1 ? result->error_size : (uint32_t) sizeof error - 1;
    if (error_size)
        memcpy (error, result->error, error_size);
    error [error_size] = 0;
    if (!ran) {
        if (!error [0])
            snprintf (error, sizeof error, "%s", zmesh_task_status_name (result->status));
        s_replica_failed (self, r, from, result->status, error);
        s_drain (self, false);
        return;
    }
    if (result->status == ZMESH_TASK_HANDLER_ERROR && task->spec.retry_on_error
        && task->retries < task->spec.max_retries) {
        s_replica_failed (self, r, from, result->status, error);
        s_drain (self, false);
        return;
    }
    if (task->spec.redundancy == 1) {
        s_finish (self, task, r, from, result->status == ZMESH_TASK_OK, result->status, error,
                  result->output, result->output_size, 0, result);
        s_drain (self, false);
        return;
    }
    //  A replica's result: keep it until a quorum decides.
    r->state = R_DONE;
    r->has_result = true;
    r->status = result->status;
    r->failed_on = *from;  //  for a replica with a result: the node that produced it
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
    s_node_t *node = s_node_find (self, from);
    if (!node)
        return;
    uint32_t slot = s_node_slot (self, node);
    for (uint32_t i = 0; i < count; i++) {
        s_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            s_replica_t *r = &task->replicas [j];
            if (r->state == R_OPEN && r->node == slot && r->attempt == refs [i].attempt) {
                r->listed_ms = self->now_ms;
                r->running = refs [i].running != 0;
            }
        }
    }
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
    s_node_t *victim = s_node_find (self, from);
    if (!victim || zmesh_id_equal (from, thief))
        return;
    s_node_t *to = s_node_get (self, thief);
    if (!to)
        return;
    victim = s_node_find (self, from);  //  s_node_get may have moved the slots
    uint32_t slot = s_node_slot (self, victim);
    for (uint32_t i = 0; i < count; i++) {
        s_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            s_replica_t *r = &task->replicas [j];
            if (r->state == R_OPEN && r->node == slot && r->attempt == refs [i].attempt) {
                s_open_unlink (self, r);
                if (to->in_flight == 0)
                    to->heard_ms = self->now_ms;
                r->node = s_node_slot (self, to);
                r->state = R_OPEN;
                r->listed_ms = self->now_ms;
                r->running = false;
                s_open_link (to, r);
                self->stats.in_flight++;
                self->stats.moved++;
            }
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
    if (!task || size > ZMESH_TASK_PAYLOAD_MAX)
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

//  Every open attempt on node is lost.
static void
s_node_lost (zmesh_owner_t *self, s_node_t *node, const char *why)
{
    zmesh_id_t id = node->id;
    while (node->open) {
        s_lost (self, node->open, why);
        node = s_node_find (self, &id);  //  retries may have added nodes (slots moved)
        if (!node)
            return;
    }
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

void
zmesh_owner_tick (zmesh_owner_t *self, uint64_t now_ms)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    now_ms = self->now_ms;
    zmesh_breaker_update_t update;
    zmesh_breaker_tick (&self->breaker, now_ms, &update);
    //  Leases: a node silent for lease_timeout_ms loses what it holds.
    for (uint32_t i = 0; i <= self->node_mask; i++) {
        s_node_t *node = &self->nodes [i];
        if (node->used && node->in_flight && !node->expired
            && now_ms - node->heard_ms >= self->config.lease_timeout_ms) {
            node->expired = true;
            zmesh_id_t id = node->id;
            s_node_lost (self, node, "worker lost: its lease expired (no word from it)");
            (void) id;
        }
    }
    //  Attempts that no lease has listed for lease_timeout_ms from a node that does speak.
    if (now_ms >= self->scan_ms) {
        self->scan_ms = now_ms + self->config.lease_timeout_ms / 2;
        for (uint32_t i = 0; i <= self->node_mask; i++) {
            s_node_t *node = &self->nodes [i];
            if (!node->used)
                continue;
            zmesh_id_t id = node->id;
            for (s_replica_t *r = node->open, *next; r; r = next) {
                next = r->next;
                if (now_ms - r->listed_ms >= 2ull * self->config.lease_timeout_ms) {
                    s_lost (self, r, "attempt missing from its worker's leases");
                    node = s_node_find (self, &id);
                    if (!node)
                        break;
                    next = node->open;  //  the list changed under us: start again
                }
            }
        }
    }
    //  Back-offs that ended go back to placing.
    if (now_ms >= self->backoff_due_ms) {
        self->backoff_due_ms = UINT64_MAX;
        for (s_replica_t *r = self->backoff, *next; r; r = next) {
            next = r->next;
            if (r->due_ms <= now_ms) {
                s_backoff_unlink (self, r);
                r->state = R_WAIT;
                s_queue (self, r->task);
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
    if (self->stats.in_flight) {
        //  The earliest lease that can expire, and the next scan.
        for (uint32_t i = 0; i <= self->node_mask; i++) {
            const s_node_t *node = &self->nodes [i];
            if (node->used && node->in_flight && !node->expired) {
                uint64_t at = node->heard_ms + self->config.lease_timeout_ms;
                if (at < deadline)
                    deadline = at;
            }
        }
        if (self->scan_ms < deadline)
            deadline = self->scan_ms;
    }
    return deadline;
}

//  ---------------------------------------------------------------------------------------------
//  Queries

bool
zmesh_owner_node_available (const zmesh_owner_t *self, const zmesh_id_t *id, uint64_t now_ms)
{
    const s_node_t *node = s_node_find (self, id);
    if (node && (node->in_flight >= self->config.window || node->expired || node->down))
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
    stats->pending = zmesh_taskq_depth (&self->pending) + self->parked + (self->held ? 1 : 0);
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
