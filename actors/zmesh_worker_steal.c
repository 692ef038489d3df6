/*  zmesh_worker_steal.c: how work finds its way to a worker besides SUBMIT: stealing from
    busier workers, giving to thieves, and bids for owners' auctions.

    Stealing is worker to worker. The victims are the members whose published zmesh.work says
    they are worth stealing from (rebuilt when membership or work values move); an idle
    worker asks one of them, drawn at random, through a CURVE DEALER kept per victim, one
    request at a time. The victim gives up to half of what its queue lets be stolen, tells
    each task's owner where it went (MOVED), then hands the tasks over (STOLEN). A bid answers
    an owner's CALL with zmesh_place_bid over what this worker offers, its load, and its own
    run times and outcomes of the handler, which every finished task feeds.
*/
#include "zmesh_worker_internal.h"

#define S_RUN_ALPHA    0.2  //  weight of a new run in run_ms
#define S_OUTCOMES_MAX 64   //  ok + failed above it: both halved

//  ---------------------------------------------------------------------------------------------
//  Stealing

//  A thief asks for up to max queued tasks: give up to half of what may be stolen (the
//  queue's rule), tell each task's owner where it went (MOVED, before the thief can answer
//  for it), then hand the tasks over (STOLEN) and forget them.
void
zmesh_worker__give (self_t *self, w_owner_t *thief, uint32_t max)
{
    zmesh_taskq_entry_t *entries =
        (zmesh_taskq_entry_t *) malloc (ZMESH_TASK_BATCH_MAX * sizeof *entries);
    ZMESH_ASSERT (entries);
    if (max > ZMESH_TASK_BATCH_MAX)
        max = ZMESH_TASK_BATCH_MAX;
    pthread_mutex_lock (&self->lock);
    size_t count = zmesh_taskq_steal (&self->queue, (uint64_t) zclock_mono (), max, entries);
    zmesh_task_load_t load = zmesh_worker__load (self);
    pthread_mutex_unlock (&self->lock);
    //  MOVED, one message per owner.
    for (size_t i = 0; i < count; i++) {
        w_task_t *task = (w_task_t *) (uintptr_t) entries [i].handle;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = !zmesh_id_equal (&((w_task_t *) (uintptr_t) entries [j].handle)->item.owner,
                                     &task->item.owner);
        w_owner_t *owner = zmesh_worker__owner (self, &task->item.owner);
        if (!first || !owner || !owner->routing_size)
            continue;
        zmesh_task_writer_t writer;
        zmesh_task_writer_begin_moved (&writer, self->out, self->out_capacity,
                                       &self->ctx->identity.pub.id, &load, &thief->id);
        for (size_t j = i; j < count; j++) {
            w_task_t *other = (w_task_t *) (uintptr_t) entries [j].handle;
            if (!zmesh_id_equal (&other->item.owner, &task->item.owner))
                continue;
            zmesh_task_ref_t ref = {.id = other->item.id, .attempt = other->item.attempt};
            zmesh_task_writer_add_ref (&writer, &ref);
        }
        size_t size;
        if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
            zmesh_worker__send_to (self, owner, self->out, size);
    }
    //  STOLEN to the thief (maybe empty: it then knows to look elsewhere).
    zmesh_task_writer_t writer;
    zmesh_task_writer_begin (&writer, self->out, self->out_capacity, &self->ctx->identity.pub.id,
                             ZMESH_TASK_KIND_STOLEN, &load);
    size_t given = 0;
    for (size_t i = 0; i < count; i++) {
        w_task_t *task = (w_task_t *) (uintptr_t) entries [i].handle;
        if (zmesh_task_writer_add_task (&writer, &task->item) == ZMESH_OK)
            given++;
        //  One that does not fit is dropped here: its owner's lease finds it missing.
        zmesh_worker__forget (self, task);
    }
    size_t size;
    if (zmesh_task_writer_finish (&writer, &size) == ZMESH_OK)
        zmesh_worker__send_to (self, thief, self->out, size);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_STOLEN_OUT, given);
    free (entries);
}

//  The nodes worth stealing from, from their published zmesh.work (rebuilt when the view moves).
void
zmesh_worker__victims_rebuild (self_t *self)
{
    //  Who is worth stealing from changes with the zmesh.work values and with membership;
    //  the eventfd says "membership or work" (victims_dirty), the work version the rest.
    uint64_t version = zmesh_ctx_work_version (self->ctx);
    if (version == self->view_version && !self->victims_dirty)
        return;
    self->view_version = version;
    self->victims_dirty = false;
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    free (self->victims);
    self->victims = (w_victim_t *) calloc (count ? count : 1, sizeof *self->victims);
    ZMESH_ASSERT (self->victims);
    self->victim_count = 0;
    for (size_t i = 0; i < count; i++) {
        const zmesh_member_t *member = &members [i];
        zmesh_work_info_t work;
        zmesh_id_t id;
        if (member->self || !streq (member->state, "alive")
            || !zmesh_ctx_member_work (self->ctx, member->id, &work)
            || zmesh_work_load_band (&work.load, (uint32_t) self->config->worker_steal_threshold)
                   != 2
            || zmesh_hex_decode (id.bytes, ZMESH_ID_SIZE, member->id))
            continue;
        //  A victim stolen from before has its CURVE key with its dealer: no conversion again.
        const w_victim_t *known = (const w_victim_t *) zhashx_lookup (self->dealers, &id);
        uint8_t curve_public [ZMESH_KEY_SIZE];
        if (known)
            memcpy (curve_public, known->curve_public, ZMESH_KEY_SIZE);
        else if (!zmesh_member_curve_public (member, &id, curve_public))
            continue;
        w_victim_t *victim = &self->victims [self->victim_count++];
        victim->id = id;
        snprintf (victim->endpoint, sizeof victim->endpoint, "%s", work.worker_endpoint);
        memcpy (victim->curve_public, curve_public, ZMESH_KEY_SIZE);
    }
    free (members);
}

//  Short of work: a slot free, or about to be (fewer tasks queued than slots). Asking before
//  the queue is empty hides the steal's round trip behind the tasks still running.
static bool
s_idle (self_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool idle = self->busy + zmesh_taskq_depth (&self->queue) < 2 * self->slots
                && zmesh_taskq_depth (&self->queue) < self->slots;
    pthread_mutex_unlock (&self->lock);
    return idle;
}

//  An idle worker asks one busy node (drawn at random) for work; one request at a time.
void
zmesh_worker__steal (self_t *self, int64_t now)
{
    if (!self->config->worker_steal || now < self->steal_at)
        return;
    if (self->steal_pending && now - self->steal_sent < 1000)
        return;
    if (self->steal_pending) {
        //  No answer in a second: that node is gone or stuck; look elsewhere until the view
        //  says otherwise.
        for (uint32_t i = 0; i < self->victim_count; i++)
            if (zmesh_id_equal (&self->victims [i].id, &self->steal_from))
                self->victims [i--] = self->victims [--self->victim_count];
    }
    self->steal_pending = false;
    zmesh_worker__victims_rebuild (self);
    if (!self->victim_count || !s_idle (self))
        return;
    self->rng = zmesh_mix64 (self->rng + 0x9e3779b97f4a7c15ull);
    w_victim_t *pick = &self->victims [self->rng % self->victim_count];
    w_victim_t *victim = (w_victim_t *) zhashx_lookup (self->dealers, &pick->id);
    if (victim && strcmp (victim->endpoint, pick->endpoint) != 0) {
        zhashx_delete (self->dealers, &pick->id);
        victim = NULL;
    }
    if (!victim) {
        victim = (w_victim_t *) calloc (1, sizeof *victim);
        ZMESH_ASSERT (victim);
        *victim = *pick;
        zmesh_link_config_t link = {
            .max_message_bytes = ZMESH_TASK_MSG_MAX, .linger_ms = 0, .queue_early = true};
        victim->dealer = zmesh_link_client_new (&self->ctx->identity, victim->curve_public,
                                                victim->endpoint, &link);
        if (!victim->dealer) {
            free (victim);
            self->steal_at = now + 1000;
            return;
        }
        victim->handle = zsock_resolve (victim->dealer);
        zhashx_insert (self->dealers, &victim->id, victim);
    }
    uint8_t buffer [256];
    size_t size;
    zmesh_task_load_t load = zmesh_worker__load_locked (self);
    uint32_t want = 2 * self->slots;
    if (zmesh_task_encode_steal (buffer, sizeof buffer, &self->ctx->identity.pub.id, &load,
                                 want > ZMESH_TASK_BATCH_MAX ? ZMESH_TASK_BATCH_MAX : want, &size)
            == ZMESH_OK
        && zmq_send (victim->handle, buffer, size, ZMQ_DONTWAIT) >= 0) {
        self->steal_pending = true;
        self->steal_sent = now;
        self->steal_from = victim->id;
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_STEAL_REQUESTS, 1);
    }
    self->steal_at = now + self->config->worker_steal_interval_ms;
}

//  STOLEN from a victim: queue the tasks; ask again at once if it has more and we are idle.
void
zmesh_worker__handle_victim (self_t *self, w_victim_t *victim)
{
    for (int n = 0; n < 16; n++) {
        zmq_msg_t payload;
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&payload, victim->handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&payload);
            break;
        }
        if (zmesh_work_recv_from (&self->ctx->metrics, &payload, &victim->id, self->msg) == ZMESH_OK
            && self->msg->kind == ZMESH_TASK_KIND_STOLEN) {
            self->steal_pending = false;
            zmesh_worker__submit (self, self->msg);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_STOLEN_IN, self->msg->count);
            int64_t now = zclock_mono ();
            //  More there: ask again as soon as our queue runs short; nothing now (its queue
            //  is filling, or draining): ask again after steal_interval_ms.
            self->steal_at = self->msg->count && self->msg->load.stealable
                                 ? now
                                 : now + self->config->worker_steal_interval_ms;
        }
        zmq_msg_close (&payload);
    }
}

void
zmesh_worker__victim_destroy (void **item)
{
    w_victim_t *victim = (w_victim_t *) *item;
    if (victim) {
        zsock_destroy (&victim->dealer);
        free (victim);
        *item = NULL;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Bids

//  A task of a handler ended here: into the figures this worker bids with.
void
zmesh_worker__handler_ran (self_t *self, const w_task_t *task)
{
    w_handler_stat_t *stat =
        (w_handler_stat_t *) zhashx_lookup (self->handler_stats, task->item.handler);
    if (!stat) {
        if (zhashx_size (self->handler_stats) >= ZMESH_HANDLERS_MAX)
            return;  //  names no handler here has are not kept without bound
        stat = (w_handler_stat_t *) calloc (1, sizeof *stat);
        ZMESH_ASSERT (stat);
        zhashx_insert (self->handler_stats, task->item.handler, stat);
    }
    double ms = (double) task->run_us / 1000.0;
    stat->run_ms = stat->samples ? stat->run_ms * (1 - S_RUN_ALPHA) + ms * S_RUN_ALPHA : ms;
    stat->samples++;
    if (task->status == ZMESH_TASK_TIMEOUT)
        stat->failed++;
    else
        stat->ok++;
    if (stat->ok + stat->failed > S_OUTCOMES_MAX) {
        stat->ok /= 2;
        stat->failed /= 2;
    }
}

//  What this worker offers (zmesh.work), with load; its profile into *profile_out if not
//  NULL. False if it is not profiled yet.
bool
zmesh_worker__work_info (self_t *self,
                         zmesh_work_info_t *out,
                         const zmesh_task_load_t *load,
                         zmesh_profile_t *profile_out)
{
    zmesh_work_info_t info;
    memset (&info, 0, sizeof info);
    snprintf (info.worker_endpoint, sizeof info.worker_endpoint, "%s", self->endpoint);
    char tags [512];
    snprintf (tags, sizeof tags, "%s", self->config->worker_tags);
    char *save = NULL;
    for (char *word = strtok_r (tags, " ,", &save); word && info.tag_count < ZMESH_TASK_TAGS_MAX;
         word = strtok_r (NULL, " ,", &save))
        snprintf (info.tags [info.tag_count++], ZMESH_TASK_TAG_MAX, "%s", word);
    zmesh_profile_t profile;
    uint64_t at;
    bool profiled = zmesh_ctx_profile (self->ctx, &profile, &at);
    if (profiled && profile.gpu_count && info.tag_count < ZMESH_TASK_TAGS_MAX)
        snprintf (info.tags [info.tag_count++], ZMESH_TASK_TAG_MAX, "gpu");
    for (size_t i = 0; i < self->ctx->handler_count && info.handler_count < ZMESH_TASK_TAGS_MAX;
         i++) {
        if (streq (self->ctx->handlers [i].name, "exec") && !self->exec_allow [0])
            continue;
        snprintf (info.handlers [info.handler_count++], ZMESH_TASK_HANDLER_MAX, "%s",
                  self->ctx->handlers [i].name);
    }
    info.load = *load;
    info.cost_permille = (uint32_t) self->config->worker_cost;
    *out = info;
    if (profile_out && profiled)
        *profile_out = profile;
    return profiled;
}

//  A CALL from an owner: this worker's bid for tasks like the one described, from what it
//  offers and its load now, its own run times of the handler and its outcomes, by the same
//  function owners use for the nodes that do not answer (zmesh_place_bid).
void
zmesh_worker__bid (self_t *self, w_owner_t *owner, const zmesh_task_call_t *call)
{
    pthread_mutex_lock (&self->lock);
    zmesh_task_load_t load = zmesh_worker__load (self);
    bool stopping = self->stopping;
    pthread_mutex_unlock (&self->lock);
    zmesh_work_info_t *info = (zmesh_work_info_t *) malloc (sizeof *info);
    zmesh_place_node_t *node = (zmesh_place_node_t *) calloc (1, sizeof *node);
    ZMESH_ASSERT (info && node);
    zmesh_profile_t profile;
    bool profiled = zmesh_worker__work_info (self, info, &load, &profile);
    zmesh_work_place_node (node, info, profiled ? &profile : NULL);
    node->id = self->ctx->identity.pub.id;
    node->is_self = true;
    node->eligible = true;
    w_handler_stat_t *stat =
        (w_handler_stat_t *) zhashx_lookup (self->handler_stats, call->handler);
    if (stat) {
        node->perf_ms = stat->run_ms;
        node->perf_samples = stat->samples;
        node->outcomes_ok = stat->ok;
        node->outcomes_failed = stat->failed;
    }
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    snprintf (request.handler, sizeof request.handler, "%s", call->handler);
    request.tag_count = call->tag_count;
    memcpy (request.tags, call->tags, sizeof request.tags);
    request.cpu_millicores = call->cpu_millicores;
    request.memory_bytes = call->memory_bytes;
    request.gpus = call->gpus;
    request.strategy = ZMESH_PLACE_AUCTION;
    double figure = -1;
    bool able = !stopping
                && zmesh_place_bid (&self->place, &request, node,
                                    (double) call->perf_best_us / 1000.0, &figure)
                       == ZMESH_OK;
    free (info);
    free (node);
    zmesh_task_bid_t bid = {.call_id = call->id, .able = able, .permille = 0};
    if (able)
        bid.permille = figure >= 1 ? 1000 : figure <= 0 ? 0 : (uint32_t) (figure * 1000.0 + 0.5);
    size_t size;
    if (zmesh_task_encode_bid (self->out, self->out_capacity, &self->ctx->identity.pub.id, &load,
                               &bid, &size)
        == ZMESH_OK)
        zmesh_worker__send_to (self, owner, self->out, size);
    zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_TASKS_BIDS, 1);
}
