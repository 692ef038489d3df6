/*  zmesh_owner.c: the owner's side of a task (see zmesh_owner.h): configuration, the tables,
    the life cycle, and the public face: submitting, what workers and membership say (results,
    leases, steals, checkpoints, deaths), the tick and the deadline, and the queries.

    Inside. Tasks by id in a chained hash table; nodes by id in an open-addressing table that
    never shrinks (nodes are few). A replica is in at most one list: its node's open list
    (OWNER_REPLICA_OPEN) or the back-off list (OWNER_REPLICA_BACKOFF). A task waiting to be
    placed is in one of four pending lists (one per priority, each in enqueue order) or in the
    park list.

    The core is split by concern. This file is the public face; zmesh_owner_place.c holds the
    pending and parked tasks and placing them (choose, dispatch, the drain over the pending
    lists), zmesh_owner_attempt.c the attempts (open and back-off lists, moves, failures and
    retries, ending tasks, the quorum of redundant replicas). What the three files share is
    declared in zmesh_owner_internal.h.
*/
#include "zmesh_owner_internal.h"
#include "zmesh_place.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Digests and configuration

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

static owner_task_t *
s_task_find (zmesh_owner_t *self, const zmesh_id_t *id)
{
    for (owner_task_t *task = *zmesh_owner__bucket (self, id); task; task = task->hash_next)
        if (zmesh_id_equal (&task->spec.id, id))
            return task;
    return NULL;
}

static int
s_buckets_grow (zmesh_owner_t *self)
{
    uint32_t size = (self->bucket_mask + 1) * 2;
    owner_task_t **buckets = (owner_task_t **) calloc (size, sizeof *buckets);
    if (!buckets)
        return ZMESH_ENOMEM;
    for (uint32_t i = 0; i <= self->bucket_mask; i++)
        for (owner_task_t *task = self->buckets [i], *next; task; task = next) {
            next = task->hash_next;
            owner_task_t **bucket = &buckets [zmesh_id_hash (&task->spec.id) & (size - 1)];
            task->hash_next = *bucket;
            *bucket = task;
        }
    free (self->buckets);
    self->buckets = buckets;
    self->bucket_mask = size - 1;
    return ZMESH_OK;
}

static owner_node_t *
s_node_find (const zmesh_owner_t *self, const zmesh_id_t *id)
{
    for (uint32_t i = (uint32_t) zmesh_id_hash (id) & self->node_mask;;
         i = (i + 1) & self->node_mask) {
        owner_node_t *node = &self->nodes [i];
        if (!node->used)
            return NULL;
        if (zmesh_id_equal (&node->id, id))
            return node;
    }
}

//  The node's slot, added if new; NULL if memory is short.
owner_node_t *
zmesh_owner__node_get (zmesh_owner_t *self, const zmesh_id_t *id)
{
    owner_node_t *node = s_node_find (self, id);
    if (node)
        return node;
    if ((self->node_count + 1) * 2 > self->node_mask + 1) {
        //  Grow: open lists point at tasks, not at slots, so moving slots is safe once every
        //  replica's node field is renumbered.
        uint32_t size = (self->node_mask + 1) * 2;
        owner_node_t *nodes = (owner_node_t *) calloc (size, sizeof *nodes);
        if (!nodes)
            return NULL;
        for (uint32_t i = 0; i <= self->node_mask; i++) {
            if (!self->nodes [i].used)
                continue;
            uint32_t j = (uint32_t) zmesh_id_hash (&self->nodes [i].id) & (size - 1);
            while (nodes [j].used)
                j = (j + 1) & (size - 1);
            nodes [j] = self->nodes [i];
            for (owner_replica_t *r = nodes [j].open; r; r = r->next)
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
    self->buckets = (owner_task_t **) calloc (self->bucket_mask + 1, sizeof *self->buckets);
    self->node_mask = 63;
    self->nodes = (owner_node_t *) calloc (self->node_mask + 1, sizeof *self->nodes);
    self->park_retry_ms = UINT64_MAX;
    self->backoff_due_ms = UINT64_MAX;
    self->scan_ms = now_ms + config->lease_timeout_ms;
    if (!self->buckets || !self->nodes || zmesh_breaker_init (&self->breaker, &config->breaker)) {
        zmesh_owner_destroy (&self);
        return NULL;
    }
    return self;
}

void
zmesh_owner__task_free (owner_task_t *task)
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
            for (owner_task_t *task = self->buckets [i], *next; task; task = next) {
                next = task->hash_next;
                zmesh_owner__task_free (task);
            }
    free (self->buckets);
    free (self->nodes);
    zmesh_breaker_fini (&self->breaker);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Submitting

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
    owner_task_t *task = (owner_task_t *) calloc (1, sizeof *task);
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
        task->replicas [i].node = OWNER_NONE;
        task->replicas [i].state = OWNER_REPLICA_WAIT;
    }
    owner_task_t **bucket = zmesh_owner__bucket (self, &spec->id);
    task->hash_next = *bucket;
    *bucket = task;
    self->owned++;
    self->stats.submitted++;
    zmesh_owner__pend_push (self, task);
    zmesh_owner__drain (self, false);
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Messages: results, leases, steals, checkpoints, deaths

void
zmesh_owner_heard (zmesh_owner_t *self, uint64_t now_ms, const zmesh_id_t *from)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    owner_node_t *node = s_node_find (self, from);
    if (!node)
        return;
    node->heard_ms = self->now_ms;
    node->losses = 0;
    bool was_out = node->expired || node->down || node->probation;
    node->probation = false;
    if (was_out) {
        node->expired = false;
        node->down = false;
        zmesh_owner__drain (self, false);
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
    owner_node_t *from_node = s_node_find (self, from);
    if (from_node)
        from_node->heard_ms = self->now_ms;
    owner_task_t *task = s_task_find (self, &result->id);
    if (!task) {
        self->stats.duplicates++;
        return;
    }
    if (result->status == ZMESH_TASK_CANCELLED)
        return;  //  we cancelled nothing of an open task; a worker's word, not a result
    bool late;
    owner_replica_t *r = zmesh_owner__result_replica (task, result, &late);
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
    if (r->state == OWNER_REPLICA_OPEN && late)
        zmesh_owner__attempt_drop (self, r);  //  the attempt open now is not needed any more
    else if (r->state == OWNER_REPLICA_OPEN) {
        zmesh_owner__trial_release (self, r, from);
        zmesh_owner__open_unlink (self, r);
    }
    else if (r->state == OWNER_REPLICA_BACKOFF)
        zmesh_owner__backoff_unlink (self, r);
    char error [ZMESH_TASK_ERROR_MAX];
    uint32_t error_size =
        result->error_size < sizeof error - 1 ? result->error_size : (uint32_t) sizeof error - 1;
    if (error_size)
        memcpy (error, result->error, error_size);
    error [error_size] = 0;
    if (!ran && !error [0])
        snprintf (error, sizeof error, "%s", zmesh_task_status_name (result->status));
    if (!ran)
        zmesh_owner__replica_failed (self, r, from, result->status, error);
    else if (result->status == ZMESH_TASK_HANDLER_ERROR && task->spec.retry_on_error
             && task->retries < task->spec.max_retries)
        zmesh_owner__replica_failed (self, r, NULL, result->status, error);  //  the node is healthy
    else if (task->spec.redundancy == 1)
        zmesh_owner__finish (self, task, from, result->status == ZMESH_TASK_OK, result->status,
                             error, result->output, result->output_size, 0, result);
    else if (zmesh_owner__answered_on (task, from))
        //  One node, one vote: a steal (or a fallback placement) gave it a second replica.
        zmesh_owner__replica_failed (self, r, from, ZMESH_TASK_REFUSED,
                                     "a second answer from a node that answered already");
    else
        zmesh_owner__replica_result (self, r, from, result, error);
    zmesh_owner__drain (self, false);
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
        owner_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            owner_replica_t *r = &task->replicas [j];
            if (r->state != OWNER_REPLICA_OPEN || r->attempt != refs [i].attempt)
                continue;
            owner_node_t *node = zmesh_owner__node_get (self, from);
            if (!node)
                break;
            if (r->node != zmesh_owner__node_slot (self, node)) {
                //  Listed by another node than we thought: a steal whose MOVED we missed.
                zmesh_owner__attempt_move (self, r, node);
                moved = true;
            }
            r->listed_ms = self->now_ms;
            r->running = refs [i].running;
        }
    }
    if (moved)
        zmesh_owner__drain (self, false);
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
    owner_node_t *to = zmesh_owner__node_get (self, thief);
    if (!to)
        return;
    uint32_t slot =
        zmesh_owner__node_slot (self, s_node_find (self, from));  //  slots may have moved
    for (uint32_t i = 0; i < count; i++) {
        owner_task_t *task = s_task_find (self, &refs [i].id);
        if (!task)
            continue;
        for (uint32_t j = 0; j < task->spec.redundancy; j++) {
            owner_replica_t *r = &task->replicas [j];
            if (r->state == OWNER_REPLICA_OPEN && r->node == slot && r->attempt == refs [i].attempt)
                zmesh_owner__attempt_move (self, r, to);
        }
    }
    zmesh_owner__drain (self, false);  //  the victim has window again
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
    owner_task_t *task = s_task_find (self, &ref->id);
    if (!task || size > ZMESH_TASK_PAYLOAD_MAX || (size && !data))
        return;
    //  Not a redundant task's: its replicas are run apart so that one bad node cannot decide
    //  the result, and a checkpoint from a bad node would steer every replica started after.
    if (task->spec.redundancy > 1)
        return;
    //  Only an open attempt's: an older attempt's progress may lag the newest checkpoint.
    bool open = false;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        open = open
               || (task->replicas [i].state == OWNER_REPLICA_OPEN
                   && task->replicas [i].attempt == ref->attempt);
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
s_node_lost (zmesh_owner_t *self, owner_node_t *node, const char *why)
{
    while (node->open)
        zmesh_owner__lost (self, node->open, why);
}

//  How long a node just lost is shut out: lease_timeout_ms, doubled for each loss since it
//  was last heard (a frozen worker that stays frozen is tried ever more rarely), at most 32x.
static uint64_t
s_shut_out_ms (owner_node_t *node, const zmesh_owner_t *self)
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
    owner_node_t *node = s_node_find (self, id);
    if (!node)
        return;
    node->down = true;
    node->lost_until_ms = self->now_ms + s_shut_out_ms (node, self);
    s_node_lost (self, node, "worker lost: membership declared it dead or gone");
    zmesh_breaker_forget (&self->breaker, id);
    zmesh_owner__drain (self, false);
}

//  ---------------------------------------------------------------------------------------------
//  Timers

void
zmesh_owner_kick (zmesh_owner_t *self, uint64_t now_ms)
{
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    zmesh_owner__drain (self, self->parked > 0);
}

//  Attempts that no lease has listed for 2 x lease_timeout_ms are lost.
static void
s_scan (zmesh_owner_t *self)
{
    uint64_t limit = 2ull * self->config.lease_timeout_ms;
    for (uint32_t i = 0; i <= self->node_mask; i++) {
        owner_node_t *node = &self->nodes [i];
        if (!node->used)
            continue;
        for (owner_replica_t *r = node->open, *next; r; r = next) {
            next = r->next;
            if (self->now_ms - r->listed_ms >= limit) {
                zmesh_owner__lost (self, r, "attempt missing from its worker's leases");
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
        owner_node_t *node = &self->nodes [i];
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
        for (owner_replica_t *r = self->backoff, *next; r; r = next) {
            next = r->next;
            if (r->due_ms <= now_ms) {
                zmesh_owner__backoff_unlink (self, r);
                r->state = OWNER_REPLICA_WAIT;
                if (!r->task->pending && !r->task->parked)
                    zmesh_owner__pend_push_front (self, r->task);
            }
            else if (r->due_ms < self->backoff_due_ms)
                self->backoff_due_ms = r->due_ms;
        }
    }
    zmesh_owner__drain (self, self->parked && now_ms >= self->park_retry_ms);
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
        const owner_node_t *node = &self->nodes [i];
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
    const owner_node_t *node = s_node_find (self, id);
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
    const owner_node_t *node = s_node_find (self, id);
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
        for (const owner_task_t *task = self->buckets [i]; task && count < max;
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
                if (task->replicas [j].state == OWNER_REPLICA_OPEN) {
                    info->pending = false;
                    info->node = self->nodes [task->replicas [j].node].id;
                    break;
                }
        }
    return count;
}
