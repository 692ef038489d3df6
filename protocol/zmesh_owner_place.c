/*  zmesh_owner_place.c: the owner core's waiting tasks and placing them (see zmesh_owner.h):
    the pending lists, the park list, choosing nodes through the shell, dispatching attempts,
    and the drain that places what waits.

    The pending order is zmesh_taskq's (CRITICAL first; the others by virtual time enqueue_ms
    + (HIGH - L) x aging_ms, then enqueue order), taken over the four heads: the head can be
    looked at without taking it out, so a task that must wait for a window keeps its place,
    and a more urgent task submitted later still goes before it.
*/
#include "zmesh_owner_internal.h"
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Pending and parked tasks

static void
s_wait_link (owner_task_t **head, owner_task_t **tail, owner_task_t *task)
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
s_wait_unlink (owner_task_t **head, owner_task_t **tail, owner_task_t *task)
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

void
zmesh_owner__pend_push (zmesh_owner_t *self, owner_task_t *task)
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
void
zmesh_owner__pend_push_front (zmesh_owner_t *self, owner_task_t *task)
{
    uint8_t priority = task->spec.priority;
    owner_task_t *head = self->pend_head [priority];
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

void
zmesh_owner__pend_remove (zmesh_owner_t *self, owner_task_t *task)
{
    uint8_t priority = task->spec.priority;
    s_wait_unlink (&self->pend_head [priority], &self->pend_tail [priority], task);
    task->pending = false;
    self->pend_count--;
}

//  The next pending task in zmesh_taskq's order (see the file header), from cursors into the
//  four lists (start them at pend_head); the cursor of its list moves past it, so the caller
//  may take it out of its list.
static owner_task_t *
s_pend_next (const zmesh_owner_t *self, owner_task_t **cursor)
{
    owner_task_t *best = cursor [ZMESH_PRIORITY_CRITICAL];
    uint64_t best_at = 0;
    if (!best)
        for (int level = ZMESH_PRIORITY_LOW; level <= ZMESH_PRIORITY_HIGH; level++) {
            owner_task_t *task = cursor [level];
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
s_park (zmesh_owner_t *self, owner_task_t *task)
{
    task->parked = true;
    task->parked_ms = self->now_ms;
    s_wait_link (&self->park_head, &self->park_tail, task);
    self->parked++;
    if (self->park_retry_ms == UINT64_MAX)
        s_park_schedule (self);
}

void
zmesh_owner__unpark (zmesh_owner_t *self, owner_task_t *task)
{
    s_wait_unlink (&self->park_head, &self->park_tail, task);
    task->parked = false;
    self->parked--;
    if (!self->parked)
        self->park_retry_ms = UINT64_MAX;  //  else a deadline in the past, for ever
}

//  ---------------------------------------------------------------------------------------------
//  Placing

static bool
s_id_zero (const zmesh_id_t *id)
{
    static const zmesh_id_t zero;
    return zmesh_id_equal (id, &zero);
}

//  Does another replica of task have an attempt open on this node?
static bool
s_open_on (const zmesh_owner_t *self, const owner_task_t *task, const zmesh_id_t *id)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == OWNER_REPLICA_OPEN
            && zmesh_id_equal (&self->nodes [task->replicas [i].node].id, id))
            return true;
    return false;
}

//  Has task an attempt open anywhere?
static bool
s_any_open (const owner_task_t *task)
{
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == OWNER_REPLICA_OPEN)
            return true;
    return false;
}

//  Dispatch replica r's next attempt to node.
static void
s_send_attempt (
    zmesh_owner_t *self, owner_task_t *task, owner_replica_t *r, owner_node_t *node, bool trial)
{
    task->attempts++;
    r->attempt = task->attempts;
    r->running = false;
    r->listed_ms = self->now_ms;
    r->trial = trial;
    if (trial)
        r->trial_on = node->id;
    zmesh_owner__open_link (self, node, r);
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
       owner_task_t *task,
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
s_choose (zmesh_owner_t *self, owner_task_t *task, uint32_t want, zmesh_id_t *chosen)
{
    zmesh_id_t avoid [ZMESH_OWNER_REDUNDANCY_MAX + OWNER_FAILED_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == OWNER_REPLICA_OPEN)
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
s_place (zmesh_owner_t *self, owner_task_t *task, bool *none)
{
    *none = false;
    uint32_t waiting = 0;
    for (uint32_t i = 0; i < task->spec.redundancy; i++)
        if (task->replicas [i].state == OWNER_REPLICA_WAIT)
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
        while (next < task->spec.redundancy && task->replicas [next].state != OWNER_REPLICA_WAIT)
            next++;
        if (next == task->spec.redundancy)
            break;
        if (s_open_on (self, task, &chosen [c]))
            continue;  //  a shell that chose a node twice
        owner_node_t *node = zmesh_owner__node_get (self, &chosen [c]);
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
        if (task->replicas [i].state == OWNER_REPLICA_WAIT)
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
//  must wait keeps its place, and the pass looks further (OWNER_LOOKAHEAD_SCAN tasks at most,
//  OWNER_LOOKAHEAD_TRIES of them tried in vain at most): a task whose nodes are busy or shut
//  must not hold up tasks other nodes could run now. A fresh task of a kind that found no
//  node in this pass is not tried again (whether choose finds a node depends on the task's
//  needs, not on its id).
void
zmesh_owner__drain (zmesh_owner_t *self, bool parked_too)
{
    if (self->draining)
        return;
    self->draining = true;
    if (parked_too) {
        uint32_t count = self->parked;
        for (owner_task_t *task = self->park_head, *next; task && count; task = next, count--) {
            next = task->wait_next;
            bool none;
            int rc = s_place (self, task, &none);
            if (rc == 1)
                zmesh_owner__unpark (self, task);
            else if (rc == 0) {
                //  A node could take it now, once it has room: wait in line.
                zmesh_owner__unpark (self, task);
                zmesh_owner__pend_push (self, task);
            }
            else if (self->now_ms - task->parked_ms >= self->config.place_timeout_ms
                     && !s_any_open (task))  //  open replicas may yet make a quorum
                zmesh_owner__finish (
                    self, task, NULL, false, ZMESH_TASK_REFUSED,
                    "no eligible node: no node has the handler, tags and resources it "
                    "needs",
                    NULL, 0, 0, NULL);
        }
        s_park_schedule (self);
    }
    owner_task_t *cursor [ZMESH_PRIORITY_COUNT];
    memcpy (cursor, self->pend_head, sizeof cursor);
    uint64_t kinds [OWNER_LOOKAHEAD_TRIES];  //  kinds that found no node (0: not a fresh task)
    uint32_t waited = 0, scanned = 0;
    owner_task_t *task;
    while ((task = s_pend_next (self, cursor))) {
        bool fresh = task->attempts == 0;
        if (waited && ++scanned > OWNER_LOOKAHEAD_SCAN)
            break;
        if (waited && fresh && s_kind_waits (kinds, waited, task->kind))
            continue;
        bool none;
        int rc = s_place (self, task, &none);
        if (rc == 0) {
            kinds [waited++] = fresh && none ? task->kind : 0;
            if (waited == OWNER_LOOKAHEAD_TRIES)
                break;
            continue;
        }
        zmesh_owner__pend_remove (self, task);
        if (rc == ZMESH_ENOTFOUND)
            s_park (self, task);
    }
    self->draining = false;
}
