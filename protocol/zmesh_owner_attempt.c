/*  zmesh_owner_attempt.c: the owner core's attempts (see zmesh_owner.h): the open and back-off
    lists of replicas, attempts moved or dropped, ending tasks (the one result), failures and
    retries with back-off, and the results of redundant replicas up to a quorum.
*/
#include "zmesh_owner_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Open and back-off lists

void
zmesh_owner__open_link (zmesh_owner_t *self, owner_node_t *node, owner_replica_t *r)
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
    r->node = zmesh_owner__node_slot (self, node);
    r->state = OWNER_REPLICA_OPEN;
}

void
zmesh_owner__open_unlink (zmesh_owner_t *self, owner_replica_t *r)
{
    owner_node_t *node = &self->nodes [r->node];
    if (r->prev)
        r->prev->next = r->next;
    else
        node->open = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    node->in_flight--;
    self->stats.in_flight--;
    r->node = OWNER_NONE;
    r->state = OWNER_REPLICA_DONE;  //  until the caller says what follows
}

static void
s_backoff_link (zmesh_owner_t *self, owner_replica_t *r)
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

void
zmesh_owner__backoff_unlink (zmesh_owner_t *self, owner_replica_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        self->backoff = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    self->backoff_count--;
    r->state = OWNER_REPLICA_DONE;  //  until the caller says what follows
}

//  ---------------------------------------------------------------------------------------------
//  Ending attempts and tasks

//  The attempt of r ends. If it held a HALF_OPEN trial slot and its outcome is not recorded
//  on that node (recorded_on NULL or another node), the slot goes back: an attempt moved
//  away, cancelled or made useless would otherwise hold it for ever.
void
zmesh_owner__trial_release (zmesh_owner_t *self, owner_replica_t *r, const zmesh_id_t *recorded_on)
{
    if (!r->trial)
        return;
    r->trial = false;
    if (!recorded_on || !zmesh_id_equal (recorded_on, &r->trial_on))
        zmesh_breaker_cancel (&self->breaker, &r->trial_on);
}

//  The open attempt of r is not needed any more: cancel it (best effort) and close it.
void
zmesh_owner__attempt_drop (zmesh_owner_t *self, owner_replica_t *r)
{
    if (self->cb.cancel) {
        zmesh_task_ref_t ref = {.id = r->task->spec.id, .attempt = r->attempt};
        self->cb.cancel (self->cb.arg, &self->nodes [r->node].id, &ref);
    }
    zmesh_owner__trial_release (self, r, NULL);
    zmesh_owner__open_unlink (self, r);
}

//  The open attempt of r is on `to` now (a steal moved it).
void
zmesh_owner__attempt_move (zmesh_owner_t *self, owner_replica_t *r, owner_node_t *to)
{
    zmesh_owner__trial_release (self, r, NULL);
    zmesh_owner__open_unlink (self, r);
    r->listed_ms = self->now_ms;
    r->running = false;
    zmesh_owner__open_link (self, to, r);
    self->stats.moved++;
}

static void
s_task_remove (zmesh_owner_t *self, owner_task_t *task)
{
    for (owner_task_t **at = zmesh_owner__bucket (self, &task->spec.id); *at;
         at = &(*at)->hash_next)
        if (*at == task) {
            *at = task->hash_next;
            break;
        }
    if (task->pending)
        zmesh_owner__pend_remove (self, task);
    if (task->parked)
        zmesh_owner__unpark (self, task);
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        owner_replica_t *r = &task->replicas [i];
        if (r->state == OWNER_REPLICA_OPEN)
            zmesh_owner__attempt_drop (self, r);
        else if (r->state == OWNER_REPLICA_BACKOFF)
            zmesh_owner__backoff_unlink (self, r);
        r->state = OWNER_REPLICA_DONE;
    }
    self->owned--;
    zmesh_owner__task_free (task);
}

//  Deliver the one result and forget the task. winner_node: the node whose result it is
//  (NULL if the task failed without one); item: the winning RESULT (NULL if none).
void
zmesh_owner__finish (zmesh_owner_t *self,
                     owner_task_t *task,
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
//  Failures and results

static uint64_t
s_rand (zmesh_owner_t *self)
{
    self->rng += 0x9e3779b97f4a7c15ull;
    return zmesh_mix64 (self->rng);
}

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

static bool s_check_quorum (zmesh_owner_t *self, owner_task_t *task);

//  The task failed on node: it goes to the end of the task's failed nodes (the most recent),
//  the oldest dropping out when they are OWNER_FAILED_MAX.
static void
s_failed_on (owner_task_t *task, const zmesh_id_t *node)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < task->failed_count; i++)
        if (!zmesh_id_equal (&task->failed [i], node))
            task->failed [kept++] = task->failed [i];
    if (kept == OWNER_FAILED_MAX) {
        memmove (&task->failed [0], &task->failed [1],
                 (OWNER_FAILED_MAX - 1) * sizeof task->failed [0]);
        kept--;
    }
    task->failed [kept++] = *node;
    task->failed_count = kept;
}

//  Replica r's attempt failed (on node, which its next attempts avoid; NULL: the node is not
//  to blame). r is neither open nor backing off now. Retry it or give it up. Returns true if
//  that finished (and freed) the task.
bool
zmesh_owner__replica_failed (zmesh_owner_t *self,
                             owner_replica_t *r,
                             const zmesh_id_t *node,
                             uint8_t status,
                             const char *error)
{
    owner_task_t *task = r->task;
    task->last_status = status;
    snprintf (task->last_error, sizeof task->last_error, "%s", error);
    if (node)
        s_failed_on (task, node);
    if (task->retries < task->spec.max_retries) {
        task->retries++;
        self->stats.retried++;
        r->due_ms = self->now_ms + s_backoff_ms (self, task->retries);
        s_backoff_link (self, r);
        r->state = OWNER_REPLICA_BACKOFF;
        return false;
    }
    r->state = OWNER_REPLICA_DONE;
    r->has_result = false;
    if (task->spec.redundancy == 1) {
        zmesh_owner__finish (self, task, NULL, false, status, task->last_error, NULL, 0, 0, NULL);
        return true;
    }
    return s_check_quorum (self, task);
}

//  The attempt open on r was lost with its worker (or never reached it). Returns true if
//  that finished the task.
bool
zmesh_owner__lost (zmesh_owner_t *self, owner_replica_t *r, const char *why)
{
    zmesh_id_t node_id = self->nodes [r->node].id;
    bool running = r->running;
    zmesh_owner__trial_release (self, r, &node_id);  //  the failure is recorded on that node, below
    zmesh_owner__open_unlink (self, r);
    self->stats.lost++;
    zmesh_breaker_update_t update;
    zmesh_breaker_record (&self->breaker, &node_id, ZMESH_BREAKER_SYSTEM_FAILURE, self->now_ms,
                          &update);
    if (running && !(r->task->spec.flags & ZMESH_TASK_FLAG_IDEMPOTENT)) {
        //  It may have had effects: running it again is not ours to decide.
        r->task->retries = r->task->spec.max_retries;
        char error [ZMESH_TASK_ERROR_MAX];
        snprintf (error, sizeof error, "lost while running (%s); not idempotent, not re-run", why);
        return zmesh_owner__replica_failed (self, r, &node_id, ZMESH_TASK_TIMEOUT, error);
    }
    return zmesh_owner__replica_failed (self, r, &node_id, ZMESH_TASK_TIMEOUT, why);
}

//  Replicas with a result whose digest equals r's.
static uint32_t
s_same_digest (const owner_task_t *task, const owner_replica_t *r)
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
s_check_quorum (zmesh_owner_t *self, owner_task_t *task)
{
    uint32_t quorum = task->spec.redundancy / 2 + 1;
    uint32_t open = 0, best = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++) {
        owner_replica_t *r = &task->replicas [i];
        if (r->state != OWNER_REPLICA_DONE)
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
            const owner_replica_t *other = &task->replicas [j];
            if (other->has_result
                && memcmp (other->digest, r->digest, ZMESH_OWNER_DIGEST_SIZE) != 0) {
                disagreements++;
                self->stats.disagreements++;
                if (self->cb.disagree)
                    self->cb.disagree (self->cb.arg, &other->result_from, &task->spec.id);
            }
        }
        zmesh_id_t winner_node = r->result_from;
        zmesh_owner__finish (self, task, &winner_node, r->status == ZMESH_TASK_OK, r->status,
                             r->status == ZMESH_TASK_OK ? "" : task->last_error, r->output,
                             r->output_size, disagreements, NULL);
        return true;
    }
    //  No quorum yet: is one still possible? The best digest plus every replica still open.
    if (best + open >= quorum)
        return false;
    zmesh_owner__finish (self, task, NULL, false, task->last_status ? task->last_status : 1,
                         "no quorum: the replicas' results disagree", NULL, 0, 0, NULL);
    return true;
}

//  The replica a RESULT is for: the one whose open attempt it names; else, for a task without
//  redundancy, the one replica (a late answer of an earlier attempt), unless that is an error
//  a retry is under way for already. *late tells which.
owner_replica_t *
zmesh_owner__result_replica (owner_task_t *task, const zmesh_task_result_item_t *result, bool *late)
{
    *late = false;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == OWNER_REPLICA_OPEN
            && task->replicas [i].attempt == result->attempt)
            return &task->replicas [i];
    bool ran = result->status == ZMESH_TASK_OK || result->status == ZMESH_TASK_HANDLER_ERROR;
    if (task->spec.redundancy > 1 || task->replicas [0].state == OWNER_REPLICA_DONE || !ran)
        return NULL;
    if (result->status == ZMESH_TASK_HANDLER_ERROR && task->spec.retry_on_error
        && task->retries < task->spec.max_retries)
        return NULL;
    *late = true;
    return &task->replicas [0];
}

//  Did node give a result for another replica of task already?
bool
zmesh_owner__answered_on (const owner_task_t *task, const zmesh_id_t *node)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].has_result && zmesh_id_equal (&task->replicas [i].result_from, node))
            return true;
    return false;
}

//  A redundant replica's result: keep it until a quorum decides.
void
zmesh_owner__replica_result (zmesh_owner_t *self,
                             owner_replica_t *r,
                             const zmesh_id_t *from,
                             const zmesh_task_result_item_t *result,
                             const char *error)
{
    owner_task_t *task = r->task;
    r->state = OWNER_REPLICA_DONE;
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
