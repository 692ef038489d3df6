/*  zmesh_worker_queue.c: the tasks a worker holds: queued, run by its executors, and their
    results and checkpoints sent back to their owners.

    SUBMIT (or STOLEN, from a victim) queues tasks in the zmesh_taskq under the worker's lock;
    CANCEL takes a queued one out, or marks a running one. Executors take the next task
    themselves, run its handler and append it to the done list; the first entry on empty
    lists wakes the actor through its eventfd. The actor then sends every checkpoint and
    result of the lists, results batched in one RESULT per owner, and forgets the tasks. A
    stolen task's owner may not have spoken to this worker yet: its results wait for its
    routing id.
*/
#include "zmesh_worker_internal.h"

//  ---------------------------------------------------------------------------------------------
//  Tasks

static uint64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void
zmesh_worker__task_free (w_task_t *task)
{
    if (!task)
        return;
    free (task->payload);
    free (task->resume);
    free (task->output);
    free (task->checkpoint);
    free (task);
}

//  ---------------------------------------------------------------------------------------------
//  Executors

static void
s_run (self_t *self, w_task_t *task)
{
    const zmesh_handler_entry_t *handler = zmesh_ctx_handler (self->ctx, task->item.handler);
    uint64_t start = s_now_us ();
    task->started_us = start;
    task->queued_us = start - task->received_us;
    if (!handler) {
        task->status = ZMESH_TASK_NO_HANDLER;
        snprintf (task->error, sizeof task->error, "no handler '%s' on this node",
                  task->item.handler);
        return;
    }
    zmesh_handler_fn *fn = handler->fn;
    void *arg = handler->arg;
    if (fn == zmesh_worker__exec)
        arg = self;
    int rc = fn (task, arg);
    task->run_us = s_now_us () - start;
    if (task->item.timeout_ms && task->run_us > (uint64_t) task->item.timeout_ms * 1000) {
        task->status = ZMESH_TASK_TIMEOUT;
        if (!task->error [0])
            snprintf (task->error, sizeof task->error, "ran %llu ms, past its limit of %u ms",
                      (unsigned long long) (task->run_us / 1000), task->item.timeout_ms);
    }
    else if (rc != 0) {
        task->status = ZMESH_TASK_HANDLER_ERROR;
        if (!task->error [0])
            snprintf (task->error, sizeof task->error, "handler '%s' returned %d",
                      task->item.handler, rc);
    }
    else
        task->status = ZMESH_TASK_OK;
}

//  Append a finished task to the done list (lock held); true if the actor needs waking.
static bool
s_done_push (self_t *self, w_task_t *task)
{
    task->finished = true;
    task->done_next = NULL;
    bool wake = !self->done_head && !self->ckpt_head;
    if (self->done_tail)
        self->done_tail->done_next = task;
    else
        self->done_head = task;
    self->done_tail = task;
    return wake;
}

void *
zmesh_worker__executor (void *arg)
{
    self_t *self = (self_t *) arg;
    zmesh_actor_name ("exec");
    pthread_mutex_lock (&self->lock);
    int64_t idle_since = 0;  //  when this executor began to wait for a task (0: it has one)
    while (!self->stopping) {
        zmesh_taskq_entry_t entry;
        if (!zmesh_taskq_next (&self->queue, (uint64_t) zclock_mono (), self->busy, &entry)) {
            if (!idle_since)
                idle_since = zclock_usecs ();
            //  One idle executor at a time looks for the next task before it sleeps, while
            //  tasks come close together (zmesh_spin.h).
            if (zmesh_spin_wanted (&self->idle, self->config->spin_us, false) && !self->spinning) {
                self->spinning = true;
                uint64_t seen = __atomic_load_n (&self->queued, __ATOMIC_ACQUIRE);
                pthread_mutex_unlock (&self->lock);
                zmesh_spin_counter (&self->queued, seen, self->config->spin_us);
                pthread_mutex_lock (&self->lock);
                self->spinning = false;
                if (self->stopping || __atomic_load_n (&self->queued, __ATOMIC_ACQUIRE) != seen)
                    continue;  //  a task came (or we stop) while we looked
            }
            pthread_cond_wait (&self->wake, &self->lock);
            continue;
        }
        if (idle_since) {
            self->idle.idle_wait_us = zclock_usecs () - idle_since;
            idle_since = 0;
        }
        w_task_t *task = (w_task_t *) (uintptr_t) entry.handle;
        self->busy++;
        task->running = true;
        pthread_mutex_unlock (&self->lock);
        s_run (self, task);
        pthread_mutex_lock (&self->lock);
        self->busy--;
        task->running = false;
        if (s_done_push (self, task))
            zmesh_worker__wake_actor (self);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Sending

zmesh_task_load_t
zmesh_worker__load (self_t *self)
{
    //  lock held by the caller
    zmesh_task_load_t load = {.slots = self->slots,
                              .busy = self->busy,
                              .queued = zmesh_taskq_depth (&self->queue),
                              .stealable = zmesh_taskq_stealable (&self->queue)};
    return load;
}

zmesh_task_load_t
zmesh_worker__load_locked (self_t *self)
{
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = zmesh_worker__load (self);
    pthread_mutex_unlock (&self->lock);
    return load;
}

void
zmesh_worker__send_to (self_t *self, w_owner_t *owner, const uint8_t *data, size_t size)
{
    void *handle = owner->local ? self->local_handle : self->server_handle;
    if (zmq_send (handle, owner->routing, owner->routing_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send (handle, data, size, ZMQ_DONTWAIT) < 0) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        return;
    }
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_MSG_SENT, 1);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_BYTES_SENT, size);
}

//  A writer per owner while results are batched.
typedef struct {
    w_owner_t *owner;
    zmesh_task_writer_t writer;
    uint8_t kind;
} s_batch_t;

static void
s_batch_flush (self_t *self, s_batch_t *batch)
{
    size_t size;
    if (batch->writer.count && zmesh_task_writer_finish (&batch->writer, &size) == ZMESH_OK)
        zmesh_worker__send_to (self, batch->owner, batch->writer.buf, size);
    batch->owner = NULL;
}

static void
s_batch_begin (
    self_t *self, s_batch_t *batch, w_owner_t *owner, uint8_t kind, const zmesh_task_load_t *load)
{
    batch->owner = owner;
    batch->kind = kind;
    ZMESH_ASSERT (zmesh_task_writer_begin (&batch->writer, self->out, self->out_capacity,
                                           &self->ctx->identity.pub.id, kind, load)
                  == ZMESH_OK);
}

static void
s_batch_result (self_t *self,
                s_batch_t *batch,
                w_owner_t *owner,
                const w_task_t *task,
                const zmesh_task_load_t *load)
{
    if (batch->owner != owner) {
        if (batch->owner)
            s_batch_flush (self, batch);
        s_batch_begin (self, batch, owner, ZMESH_TASK_KIND_RESULT, load);
    }
    zmesh_task_result_item_t item = {
        .id = task->item.id,
        .attempt = task->item.attempt,
        .status = task->status,
        .output = task->status == ZMESH_TASK_OK ? task->output : NULL,
        .output_size = task->status == ZMESH_TASK_OK ? task->output_size : 0,
        .error = task->error,
        .error_size = (uint32_t) strlen (task->error),
        .queued_us = task->queued_us,
        .run_us = task->run_us,
    };
    int rc = zmesh_task_writer_add_result (&batch->writer, &item);
    if (rc == ZMESH_ETOOBIG || rc == ZMESH_ELIMIT) {
        s_batch_flush (self, batch);
        s_batch_begin (self, batch, owner, ZMESH_TASK_KIND_RESULT, load);
        rc = zmesh_task_writer_add_result (&batch->writer, &item);
    }
    if (rc)
        zsys_warning ("worker: a result of %s does not encode: %s", task->id_hex,
                      zmesh_strerror (rc));
}

w_owner_t *
zmesh_worker__owner (self_t *self, const zmesh_id_t *id)
{
    return (w_owner_t *) zhashx_lookup (self->owners, id);
}

w_owner_t *
zmesh_worker__owner_get (self_t *self, const zmesh_id_t *id)
{
    w_owner_t *owner = zmesh_worker__owner (self, id);
    if (!owner) {
        owner = (w_owner_t *) calloc (1, sizeof *owner);
        ZMESH_ASSERT (owner);
        owner->id = *id;
        zhashx_insert (self->owners, id, owner);
    }
    return owner;
}

//  Forget a task: out of the table, its owner's count down, freed.
void
zmesh_worker__forget (self_t *self, w_task_t *task)
{
    w_owner_t *owner = zmesh_worker__owner (self, &task->item.owner);
    if (owner && owner->held)
        owner->held--;
    zhashx_delete (self->tasks, &task->item.id);
    zmesh_worker__task_free (task);
}

//  Results and checkpoints the executors finished: send them, batched by owner.
void
zmesh_worker__flush_done (self_t *self)
{
    uint64_t counter;
    ssize_t rc = read (self->event_fd, &counter, sizeof counter);
    (void) rc;
    pthread_mutex_lock (&self->lock);
    w_task_t *done = self->done_head;
    w_task_t *ckpt = self->ckpt_head;
    self->done_head = self->done_tail = NULL;
    self->ckpt_head = self->ckpt_tail = NULL;
    //  Checkpoints: take each one's bytes while locked (the executor may replace them).
    typedef struct {
        w_task_t *task;
        uint8_t *data;
        uint32_t size;
    } s_ckpt_t;
    s_ckpt_t ckpts [64];
    size_t ckpt_count = 0;
    for (w_task_t *t = ckpt; t; t = t->ckpt_next) {
        t->checkpoint_listed = false;
        if (ckpt_count < 64 && !t->finished) {
            ckpts [ckpt_count].task = t;
            ckpts [ckpt_count].data = t->checkpoint;
            ckpts [ckpt_count].size = t->checkpoint_size;
            ckpt_count++;
            t->checkpoint = NULL;
        }
    }
    zmesh_task_load_t load = zmesh_worker__load (self);
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; i < ckpt_count; i++) {
        w_owner_t *owner = zmesh_worker__owner (self, &ckpts [i].task->item.owner);
        zmesh_task_ref_t ref = {.id = ckpts [i].task->item.id,
                                .attempt = ckpts [i].task->item.attempt};
        size_t size;
        if (owner
            && zmesh_task_encode_checkpoint (self->out, self->out_capacity,
                                             &self->ctx->identity.pub.id, &load, &ref,
                                             ckpts [i].data, ckpts [i].size, &size)
                   == ZMESH_OK) {
            zmesh_worker__send_to (self, owner, self->out, size);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_CHECKPOINTS, 1);
        }
        free (ckpts [i].data);
    }
    s_batch_t batch = {0};
    for (w_task_t *task = done, *next; task; task = next) {
        next = task->done_next;
        zmesh_metric_t metric = task->status == ZMESH_TASK_OK           ? ZMESH_M_TASKS_RUN_OK
                                : task->status == ZMESH_TASK_TIMEOUT    ? ZMESH_M_TASKS_RUN_TIMEOUT
                                : task->status == ZMESH_TASK_NO_HANDLER ? ZMESH_M_TASKS_NO_HANDLER
                                                                        : ZMESH_M_TASKS_RUN_ERROR;
        zmesh_metrics_add (&self->ctx->metrics, metric, 1);
        if (task->status != ZMESH_TASK_NO_HANDLER && !task->cancelled)
            zmesh_worker__handler_ran (self, task);
        w_owner_t *owner = zmesh_worker__owner (self, &task->item.owner);
        if (owner && !task->cancelled && !owner->routing_size) {
            //  A stolen task whose owner has not spoken to us yet: its result waits.
            task->done_next = owner->waiting;
            owner->waiting = task;
            continue;
        }
        if (owner && !task->cancelled)
            s_batch_result (self, &batch, owner, task, &load);
        zmesh_worker__forget (self, task);
    }
    if (batch.owner)
        s_batch_flush (self, &batch);
}

//  The owner's routing id is known now: send the results that waited for it.
void
zmesh_worker__flush_waiting (self_t *self, w_owner_t *owner)
{
    if (!owner->waiting)
        return;
    zmesh_task_load_t load = zmesh_worker__load_locked (self);
    s_batch_t batch = {0};
    w_task_t *task = owner->waiting;
    owner->waiting = NULL;
    while (task) {
        w_task_t *next = task->done_next;
        s_batch_result (self, &batch, owner, task, &load);
        zmesh_worker__forget (self, task);
        task = next;
    }
    if (batch.owner)
        s_batch_flush (self, &batch);
}

//  Refuse one task at once (queue full, stopping): a RESULT with that status.
void
zmesh_worker__refuse (
    self_t *self, w_owner_t *owner, const zmesh_task_item_t *item, uint8_t status, const char *why)
{
    zmesh_task_load_t load = zmesh_worker__load_locked (self);
    zmesh_task_writer_t writer;
    uint8_t buffer [1024];
    zmesh_task_result_item_t result = {.id = item->id,
                                       .attempt = item->attempt,
                                       .status = status,
                                       .error = why,
                                       .error_size = (uint32_t) strlen (why)};
    size_t size;
    if (zmesh_task_writer_begin (&writer, buffer, sizeof buffer, &self->ctx->identity.pub.id,
                                 ZMESH_TASK_KIND_RESULT, &load)
            == ZMESH_OK
        && zmesh_task_writer_add_result (&writer, &result) == ZMESH_OK
        && zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
        zmesh_worker__send_to (self, owner, buffer, size);
}

//  ---------------------------------------------------------------------------------------------
//  Receiving

//  SUBMIT from an owner, or STOLEN from a victim: queue the tasks (each with its owner).
void
zmesh_worker__submit (self_t *self, const zmesh_task_msg_t *msg)
{
    uint64_t now_us = s_now_us ();
    uint32_t added = 0;
    pthread_mutex_lock (&self->lock);
    for (uint32_t i = 0; i < msg->count; i++) {
        const zmesh_task_item_t *item = &msg->u.tasks [i];
        w_task_t *known = (w_task_t *) zhashx_lookup (self->tasks, &item->id);
        if (known) {
            //  Another attempt of a task held here: it answers for the newest.
            if (item->attempt > known->item.attempt)
                known->item.attempt = item->attempt;
            continue;
        }
        w_owner_t *owner = zmesh_worker__owner_get (self, &item->owner);
        if (self->stopping) {
            pthread_mutex_unlock (&self->lock);
            if (owner->routing_size)
                zmesh_worker__refuse (self, owner, item, ZMESH_TASK_REFUSED, "worker stopping");
            pthread_mutex_lock (&self->lock);
            continue;
        }
        w_task_t *task = (w_task_t *) calloc (1, sizeof *task);
        ZMESH_ASSERT (task);
        task->worker = self;
        task->item = *item;
        if (item->payload_size) {
            task->payload = (uint8_t *) malloc (item->payload_size);
            ZMESH_ASSERT (task->payload);
            memcpy (task->payload, item->payload, item->payload_size);
        }
        if (item->checkpoint) {
            task->resume = (uint8_t *) malloc (item->checkpoint_size ? item->checkpoint_size : 1);
            ZMESH_ASSERT (task->resume);
            memcpy (task->resume, item->checkpoint, item->checkpoint_size);
        }
        task->item.payload = task->payload;
        task->item.checkpoint = task->resume;
        zmesh_id_to_hex (&item->id, task->id_hex);
        task->received_us = now_us;
        int rc = zmesh_taskq_push (&self->queue, (uint64_t) zclock_mono (), &item->id,
                                   (zmesh_priority_t) item->priority, (uint64_t) (uintptr_t) task,
                                   item->cpu_millicores);
        if (rc) {
            zmesh_worker__task_free (task);
            pthread_mutex_unlock (&self->lock);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_REFUSED_FULL, 1);
            if (owner->routing_size)
                zmesh_worker__refuse (self, owner, item, ZMESH_TASK_REFUSED, "worker queue full");
            pthread_mutex_lock (&self->lock);
            continue;
        }
        zhashx_insert (self->tasks, &item->id, task);
        owner->held++;
        added++;
    }
    if (added)
        __atomic_add_fetch (&self->queued, added, __ATOMIC_RELEASE);
    if (added == 1)
        pthread_cond_signal (&self->wake);
    else if (added > 1)
        pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

void
zmesh_worker__cancel (self_t *self, const zmesh_task_msg_t *msg)
{
    for (uint32_t i = 0; i < msg->count; i++) {
        w_task_t *task = (w_task_t *) zhashx_lookup (self->tasks, &msg->u.refs [i].id);
        if (!task)
            continue;
        pthread_mutex_lock (&self->lock);
        bool removed =
            zmesh_taskq_remove (&self->queue, (uint64_t) zclock_mono (), &task->item.id, NULL)
            == ZMESH_OK;
        task->cancelled = true;
        pthread_mutex_unlock (&self->lock);
        if (removed) {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_CANCELLED, 1);
            zmesh_worker__forget (self, task);
        }
    }
}
