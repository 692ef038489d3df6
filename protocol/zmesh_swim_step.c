/*  zmesh_swim_step.c: the SWIM core's life cycle, step and read access (see zmesh_swim.h).

    zmesh_swim_step() is the core's one entry point for events: it resets the step's
    scratch, dispatches a received message to its handler (zmesh_swim_view.c for views and
    joins, zmesh_swim_probe.c for probing) or runs the timers that are due, then pushes what
    changed the table in this step to every active neighbour (eager push) and computes the
    next deadline. Urgent news still owed to a neighbour is pushed again every
    SWIM_REPUSH_MS (reliable flooding under loss). The sending primitives every handler uses
    live here too: a message is added to the step's sends, then sealed (piggybacked).
    The table and the piggyback queue are zmesh_swim.c's; zmesh_swim_internal.h is what
    the files share.
*/
#include "zmesh_swim_internal.h"
#include <string.h>

void
zmesh_swim_config_defaults (zmesh_swim_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->active_max = ZMESH_SWIM_ACTIVE_MAX_DEFAULT;
    config->passive_max = ZMESH_SWIM_PASSIVE_MAX_DEFAULT;
    config->active_walk_length = ZMESH_SWIM_ACTIVE_WALK_DEFAULT;
    config->passive_walk_length = ZMESH_SWIM_PASSIVE_WALK_DEFAULT;
    config->shuffle_active = ZMESH_SWIM_SHUFFLE_ACTIVE_DEFAULT;
    config->shuffle_passive = ZMESH_SWIM_SHUFFLE_PASSIVE_DEFAULT;
    config->shuffle_interval_ms = ZMESH_SWIM_SHUFFLE_INTERVAL_MS_DEFAULT;
    config->neighbor_timeout_ms = ZMESH_SWIM_NEIGHBOR_TIMEOUT_MS_DEFAULT;
    config->join_retry_ms = ZMESH_SWIM_JOIN_RETRY_MS_DEFAULT;
    config->probe_interval_ms = ZMESH_SWIM_PROBE_INTERVAL_MS_DEFAULT;
    config->probe_timeout_ms = ZMESH_SWIM_PROBE_TIMEOUT_MS_DEFAULT;
    config->indirect_probes = ZMESH_SWIM_INDIRECT_PROBES_DEFAULT;
    config->suspicion_min_ms = ZMESH_SWIM_SUSPICION_MIN_MS_DEFAULT;
    config->suspicion_max_ms = ZMESH_SWIM_SUSPICION_MAX_MS_DEFAULT;
    config->confirmations = ZMESH_SWIM_CONFIRMATIONS_DEFAULT;
    config->lhm_max = ZMESH_SWIM_LHM_MAX_DEFAULT;
    config->retransmit_mult = ZMESH_SWIM_RETRANSMIT_MULT_DEFAULT;
    config->max_message_bytes = ZMESH_SWIM_MAX_MESSAGE_BYTES_DEFAULT;
    config->sync_interval_ms = ZMESH_SWIM_SYNC_INTERVAL_MS_DEFAULT;
    config->reconnect_interval_ms = ZMESH_SWIM_RECONNECT_INTERVAL_MS_DEFAULT;
    config->reap_after_ms = ZMESH_SWIM_REAP_AFTER_MS_DEFAULT;
    config->max_members = ZMESH_SWIM_MAX_MEMBERS_DEFAULT;
}

static bool
s_config_valid (const zmesh_swim_config_t *c)
{
    size_t endpoint = strnlen (c->contact.endpoint, ZMESH_ENDPOINT_MAX);
    return c->active_max >= 1 && c->active_max <= ZMESH_SWIM_ACTIVE_LIMIT && c->passive_max >= 1
           && c->passive_max <= ZMESH_SWIM_PASSIVE_LIMIT && c->active_walk_length >= 1
           && c->active_walk_length <= 32 && c->passive_walk_length <= c->active_walk_length
           && c->shuffle_active + c->shuffle_passive + 1 <= ZMESH_SWIM_ENTRIES_MAX
           && c->shuffle_interval_ms >= 1 && c->neighbor_timeout_ms >= 1 && c->join_retry_ms >= 1
           && c->probe_timeout_ms >= 1 && c->probe_interval_ms > c->probe_timeout_ms
           && c->indirect_probes < ZMESH_SWIM_ACTIVE_LIMIT && c->suspicion_min_ms >= 1
           && c->suspicion_max_ms >= c->suspicion_min_ms && c->confirmations >= 1
           && c->confirmations < ZMESH_SWIM_SUSPECTERS_MAX && c->lhm_max <= 64
           && c->retransmit_mult >= 1 && c->retransmit_mult <= 20
           && c->max_message_bytes >= ZMESH_SWIM_MAX_MESSAGE_BYTES_MIN
           && c->max_message_bytes <= 65536 && c->sync_interval_ms >= 1
           && c->reconnect_interval_ms >= 1 && c->reap_after_ms >= 1 && c->max_members >= 2
           && c->max_members <= 1000000 && endpoint > 0 && endpoint < ZMESH_ENDPOINT_MAX;
}

int
zmesh_swim_new (zmesh_swim_t **self_p,
                const zmesh_swim_config_t *config,
                uint64_t seed,
                uint64_t now_ms)
{
    *self_p = NULL;
    if (!s_config_valid (config))
        return ZMESH_EINVAL;
    zmesh_swim_t *self = calloc (1, sizeof *self);
    if (!self)
        return ZMESH_ENOMEM;
    uint32_t n = config->max_members;
    uint32_t hash_size = 4;
    while (hash_size < 2 * n)
        hash_size *= 2;
    self->config = *config;
    self->members = calloc (n, sizeof *self->members);
    self->free = calloc (n, sizeof (uint32_t));
    self->order = calloc (n, sizeof (uint32_t));
    self->tracked = calloc (n, sizeof (uint32_t));
    self->queue = calloc (n, sizeof (uint32_t));
    self->passive = calloc (config->passive_max, sizeof (uint32_t));
    self->hash = malloc (hash_size * sizeof (uint32_t));
    self->change_capacity = 2 * n + 2 * ZMESH_SWIM_POOL_RECORDS;
    self->changes = calloc (self->change_capacity, sizeof *self->changes);
    if (!self->members || !self->free || !self->order || !self->tracked || !self->queue
        || !self->passive || !self->hash || !self->changes) {
        zmesh_swim_destroy (&self);
        return ZMESH_ENOMEM;
    }
    memset (self->hash, 0xff, hash_size * sizeof (uint32_t));
    self->hash_mask = hash_size - 1;
    for (uint32_t i = 0; i < n; i++)
        self->free [i] = n - 1 - i;  //  slot 0 on top: this node takes it
    self->rng = seed;
    self->now_ms = now_ms;
    self->probe_first = SWIM_NO_SLOT;
    self->neighbor_pending = SWIM_NO_SLOT;
    self->heard_ms = now_ms;
    //  This node, slot 0.
    zmesh_swim_record_t me = {.id = config->id,
                              .generation = config->generation,
                              .state = ZMESH_SWIM_STATE_ALIVE,
                              .has_contact = true,
                              .contact = config->contact};
    zmesh_swim__init_self (self, &me);
    //  Spread the timers of nodes started together.
    self->next_probe_ms = now_ms + zmesh_swim__below (self, config->probe_interval_ms);
    self->next_shuffle_ms = now_ms + zmesh_swim__below (self, config->shuffle_interval_ms);
    self->next_sync_ms = now_ms + zmesh_swim__below (self, config->sync_interval_ms);
    self->next_reconnect_ms = now_ms + zmesh_swim__below (self, config->reconnect_interval_ms);
    self->deadline_ms = self->next_probe_ms;
    *self_p = self;
    return ZMESH_OK;
}

void
zmesh_swim_destroy (zmesh_swim_t **self_p)
{
    zmesh_swim_t *self = *self_p;
    if (!self)
        return;
    free (self->members);
    free (self->free);
    free (self->order);
    free (self->tracked);
    free (self->queue);
    free (self->passive);
    free (self->hash);
    free (self->changes);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Sending

//  A new message to `id` (contact: how to reach it without a link). NULL when the step has
//  no room left (counted).
zmesh_swim_msg_t *
zmesh_swim__send_to (zmesh_swim_t *self,
                     const zmesh_id_t *id,
                     const zmesh_swim_contact_t *contact,
                     uint8_t type)
{
    zmesh_swim_update_t *update = self->update;
    if (update->send_count == ZMESH_SWIM_SENDS_MAX) {
        update->error = ZMESH_ELIMIT;
        self->stats.limit_drops++;
        return NULL;
    }
    zmesh_swim_send_t *send = &update->sends [update->send_count++];
    memset (send, 0, sizeof *send);
    send->to = *id;
    send->contact = contact;
    send->msg.type = type;
    send->msg.generation = self->members [0].rec.generation;
    send->msg.incarnation = self->members [0].rec.incarnation;
    return &send->msg;
}

zmesh_swim_msg_t *
zmesh_swim__send (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t type)
{
    return zmesh_swim__send_to (self, &to->rec.id, to->rec.has_contact ? &to->rec.contact : NULL,
                                type);
}

//  Piggyback and close a message: call last, once its body is complete.
void
zmesh_swim__seal (zmesh_swim_t *self, zmesh_swim_msg_t *msg, const zmesh_id_t *to)
{
    if (msg->type == ZMESH_SWIM_PING || msg->type == ZMESH_SWIM_ACK)
        msg->digest = self->digest;
    zmesh_swim__attach (self, msg, zmesh_swim__find (self, to));
    ZMESH_ASSERT (zmesh_swim__msg_size (msg) <= self->config.max_message_bytes);
}

//  ---------------------------------------------------------------------------------------------
//  Receiving

//  The sender holds a suspicion or death that this node knows is over (a refutation that
//  did not reach it): *out is this node's record, which undoes it there. Without this, a
//  node that missed a refutation would run its suspicion timer out while every neighbour
//  knew better.
static bool
s_supersedes (const zmesh_swim_t *self, const zmesh_swim_record_t *rec, zmesh_swim_record_t *out)
{
    if (rec->state != ZMESH_SWIM_STATE_SUSPECT && rec->state != ZMESH_SWIM_STATE_DEAD)
        return false;
    const zmesh_swim_member_t *m = zmesh_swim__find (self, &rec->id);
    if (!m || m->rec.generation != rec->generation || m->rec.state != ZMESH_SWIM_STATE_ALIVE)
        return false;
    uint32_t undoes =
        rec->state == ZMESH_SWIM_STATE_DEAD ? rec->incarnation + 2 : rec->incarnation + 1;
    if (m->rec.incarnation < undoes)
        return false;
    *out = m->rec;
    out->has_contact = false;
    return true;
}

//  Tell `from` what undoes the stale records it sent (one GOSSIP).
static void
s_correct (zmesh_swim_t *self,
           const zmesh_id_t *from,
           const zmesh_swim_record_t *records,
           uint32_t count)
{
    zmesh_swim_member_t *to = zmesh_swim__find (self, from);
    if (count == 0 || !to || to == &self->members [0])
        return;
    zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_GOSSIP);
    if (!msg)
        return;
    msg->updates = records;
    msg->update_count = count;
    zmesh_swim__seal (self, msg, from);
}

static void
s_received (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    //  The answer to a reconnect probe, from a member held DEAD or LEFT until now.
    zmesh_swim_member_t *sender = zmesh_swim__find (self, from);
    bool heal = sender && msg->type == ZMESH_SWIM_ACK && msg->seq == self->reconnect_seq
                && zmesh_id_equal (&msg->target, from)
                && (sender->rec.state == ZMESH_SWIM_STATE_DEAD
                    || sender->rec.state == ZMESH_SWIM_STATE_LEFT);
    uint64_t generation = sender ? sender->rec.generation : 0;
    if (zmesh_id_equal (from, &self->config.id) || !zmesh_swim__on_sender (self, from, msg))
        return;
    if (sender && sender->rec.state != ZMESH_SWIM_STATE_DEAD
        && sender->rec.state != ZMESH_SWIM_STATE_LEFT)
        zmesh_swim__heard (self);
    if (heal && sender->rec.state == ZMESH_SWIM_STATE_ALIVE) {
        if (sender->rec.generation == generation)
            zmesh_swim__recover (self);  //  held dead, alive at the same generation
        self->reconnect_answered = true;
        if (self->reconnect_burst < SWIM_HEAL_BURST) {
            self->reconnect_burst++;
            self->next_reconnect_ms = self->now_ms;
        }
        zmesh_swim__on_heal (self, sender, sender->rec.generation > generation);
    }
    //  Any message of the probe's target, at its current generation, says it is alive: the
    //  probe succeeded (under loss, the target's own traffic often gets through when the one
    //  ack was lost).
    swim_probe_t *probe = &self->probe;
    if (probe->running && zmesh_id_equal (from, &probe->id)
        && msg->generation == self->members [probe->slot].rec.generation) {
        probe->running = false;
        zmesh_swim__lhm (self, -1);
    }
    zmesh_swim_record_t stale [ZMESH_SWIM_UPDATES_MAX];  //  attach() copies them
    uint32_t stale_count = 0;
    size_t stale_size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
    for (uint32_t i = 0; i < msg->update_count; i++) {
        if (!zmesh_swim__merge (self, &msg->updates [i])
            && s_supersedes (self, &msg->updates [i], &stale [stale_count])
            && stale_size + zmesh_swim_record_size (&stale [stale_count])
                   <= self->config.max_message_bytes) {
            stale_size += zmesh_swim_record_size (&stale [stale_count]);
            stale_count++;
        }
        zmesh_swim__known_by (self, &msg->updates [i], from);
    }
    s_correct (self, from, stale, stale_count);
    sender = zmesh_swim__find (self, from);
    if (sender && sender->view == SWIM_VIEW_ACTIVE && msg->digest != 0
        && msg->generation == sender->rec.generation
        && (msg->type == ZMESH_SWIM_PING || msg->type == ZMESH_SWIM_ACK))
        zmesh_swim__on_digest (self, sender, msg->digest);
    switch (msg->type) {
        case ZMESH_SWIM_PING:
            zmesh_swim__on_ping (self, from, msg);
            break;
        case ZMESH_SWIM_ACK:
            zmesh_swim__on_ack (self, from, msg);
            break;
        case ZMESH_SWIM_PING_REQ:
            zmesh_swim__on_ping_req (self, from, msg);
            break;
        case ZMESH_SWIM_NACK:
            zmesh_swim__on_nack (self, msg);
            break;
        case ZMESH_SWIM_JOIN:
            zmesh_swim__on_join (self, from, msg);
            break;
        case ZMESH_SWIM_FORWARD_JOIN:
            zmesh_swim__on_forward_join (self, from, msg);
            break;
        case ZMESH_SWIM_NEIGHBOR:
            zmesh_swim__on_neighbor (self, from, msg);
            break;
        case ZMESH_SWIM_DISCONNECT:
            zmesh_swim__on_disconnect (self, from);
            break;
        case ZMESH_SWIM_SHUFFLE:
            zmesh_swim__on_shuffle (self, from, msg);
            break;
        case ZMESH_SWIM_SHUFFLE_REPLY:
            zmesh_swim__integrate (self, msg->entries, msg->entry_count);
            break;
        case ZMESH_SWIM_SYNC:
            zmesh_swim__on_sync (self, from, msg);
            break;
        case ZMESH_SWIM_SYNC_REPLY:
            zmesh_swim__on_sync_reply (self, from, msg);
            break;
        default:  //  GOSSIP: its updates were all
            break;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Periodic work: urgent re-pushes, the timers of the step

//  Reliable flooding of urgent news: a suspicion, death, leave or refutation still owed to
//  an active neighbour (sent fewer than SWIM_URGENT_SENDS times, and not heard from it) is
//  pushed to it again every SWIM_REPUSH_MS. Under loss, one eager push per link is not
//  enough: a node whose copies were all lost would run its suspicion timer out.
static void
s_repush_tick (zmesh_swim_t *self)
{
    self->next_repush_ms = self->now_ms + SWIM_REPUSH_MS;
    bool owed_any = false;
    for (uint32_t a = 0; a < self->active_count; a++) {
        uint32_t slot = self->active [a];
        zmesh_swim_member_t *to = &self->members [slot];
        zmesh_swim_record_t out [ZMESH_SWIM_UPDATES_MAX];  //  attach() copies them
        uint32_t count = 0;
        size_t size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
        for (uint32_t i = 0; i < self->queue_count && count < ZMESH_SWIM_UPDATES_MAX; i++) {
            zmesh_swim_member_t *m = &self->members [self->queue [i]];
            if (!zmesh_swim__owed (self, m, slot))
                continue;
            owed_any = true;
            if (self->now_ms < m->pushed_ms + SWIM_REPUSH_MS)
                continue;
            size_t record_size = zmesh_swim_record_size (&m->rec);
            if (size + record_size > self->config.max_message_bytes)
                break;
            out [count++] = m->rec;
            size += record_size;
        }
        if (count == 0)
            continue;
        zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_GOSSIP);
        if (!msg)
            return;
        msg->updates = out;
        msg->update_count = count;
        zmesh_swim__seal (self, msg, &to->rec.id);  //  marks them sent to `to`
    }
    //  Pushed in this round: the next one in SWIM_REPUSH_MS.
    for (uint32_t i = 0; i < self->queue_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->queue [i]];
        if (m->urgent && self->now_ms >= m->pushed_ms + SWIM_REPUSH_MS)
            m->pushed_ms = self->now_ms;
    }
    self->repush_pending = owed_any;
}

static void
s_tick (zmesh_swim_t *self)
{
    zmesh_swim__table_tick (self);
    if (self->repush_pending && self->now_ms >= self->next_repush_ms)
        s_repush_tick (self);
    uint64_t probe_was = self->next_probe_ms;
    zmesh_swim__probe_tick (self);
    zmesh_swim__relay_tick (self);
    zmesh_swim__view_tick (self);
    //  Timers that need no precision (shuffles, table upkeep, healing probes) ride on the
    //  tick that starts a probe interval: those due before the next one run now, a little
    //  early, and so are never what the shell must wake up for next. (A wake-up costs more
    //  than the work: a 50-node mesh on one machine idles on wake-ups.)
    uint64_t lax = self->next_probe_ms != probe_was ? self->next_probe_ms : self->now_ms + 1;
    if (lax > self->next_shuffle_ms)
        zmesh_swim__shuffle_tick (self);
    if (lax > self->next_sync_ms && (!self->bootstrapping || self->now_ms >= self->next_sync_ms))
        zmesh_swim__sync_tick (self);
    if (lax > self->next_reconnect_ms)
        zmesh_swim__reconnect_tick (self);
    if (self->digest_retry_ms && self->now_ms >= self->digest_retry_ms)
        zmesh_swim__digest_tick (self);
}

//  ---------------------------------------------------------------------------------------------
//  Step

//  Eager push: what changed the table in this step goes to every active neighbour now,
//  except back to the one it came from.
static void
s_push_fresh (zmesh_swim_t *self, const zmesh_id_t *origin)
{
    uint32_t first = 0;
    while (first < self->fresh_count) {
        //  As many fresh records as fit one message; the rest in the next one.
        zmesh_swim_msg_t probe = {.type = ZMESH_SWIM_GOSSIP};
        size_t size = zmesh_swim__msg_size (&probe);
        uint32_t count = 0;
        while (first + count < self->fresh_count && count < ZMESH_SWIM_UPDATES_MAX) {
            size_t record_size = zmesh_swim_record_size (&self->fresh_records [first + count]);
            if (size + record_size > self->config.max_message_bytes)
                break;
            size += record_size;
            count++;
        }
        ZMESH_ASSERT (count > 0);
        //  A refutation goes back to where the suspicion came from too: that node needs it most.
        bool mine = false;
        for (uint32_t i = 0; i < count; i++)
            mine |= zmesh_id_equal (&self->fresh_records [first + i].id, &self->config.id);
        for (uint32_t i = 0; i < self->active_count; i++) {
            zmesh_swim_member_t *to = &self->members [self->active [i]];
            if (origin && !mine && zmesh_id_equal (&to->rec.id, origin))
                continue;
            zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_GOSSIP);
            if (!msg)
                return;
            msg->updates = &self->fresh_records [first];
            msg->update_count = count;
            zmesh_swim__seal (self, msg, &to->rec.id);
        }
        first += count;
    }
}

//  Members whose refutation of an older death reached this node, which holds them DEAD: a
//  GOSSIP to each (it leads with the DEAD record, zmesh_swim__attach) makes it refute this
//  death too. Partition heals otherwise wait for a reconnect probe to pick each one.
static void
s_tell_dead (zmesh_swim_t *self)
{
    for (uint32_t i = 0; i < self->tell_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->tell [i]];
        if (m->rec.state != ZMESH_SWIM_STATE_DEAD || !m->rec.has_contact)
            continue;
        zmesh_swim_msg_t *msg = zmesh_swim__send (self, m, ZMESH_SWIM_GOSSIP);
        if (msg)
            zmesh_swim__seal (self, msg, &m->rec.id);
    }
    self->tell_count = 0;
}

//  This node learnt that it was held dead: the neighbours that held it so dropped it from
//  their views, and a view of links that are one-sided starves it of the refutation flood.
//  One PING to every active neighbour: the ACKs carry their digests (zmesh_swim__on_digest
//  compares tables), and a neighbour that dropped this node answers DISCONNECT too, so the
//  view is repaired now rather than one probe interval per neighbour.
static void
s_check_views (zmesh_swim_t *self)
{
    self->check_views = false;
    if (self->now_ms < self->check_views_ms)
        return;
    self->check_views_ms = self->now_ms + self->config.probe_interval_ms;
    for (uint32_t i = 0; i < self->active_count; i++) {
        const zmesh_swim_member_t *to = &self->members [self->active [i]];
        zmesh_swim_msg_t *ping = zmesh_swim__send (self, to, ZMESH_SWIM_PING);
        if (!ping)
            return;
        ping->seq = ++self->seq;
        ping->target = to->rec.id;
        zmesh_swim__seal (self, ping, &to->rec.id);
    }
}

static void
s_leave (zmesh_swim_t *self)
{
    zmesh_swim_member_t *me = &self->members [0];
    me->rec.state = ZMESH_SWIM_STATE_LEFT;
    me->rec.has_contact = false;
    zmesh_swim__fresh (self, &me->rec);
    s_push_fresh (self, NULL);
    self->fresh_count = 0;
    while (self->active_count > 0)
        zmesh_swim__active_remove (self, &self->members [self->active [0]], false);
    self->left = true;
}

static void
s_update_deadline (zmesh_swim_t *self)
{
    uint64_t at = self->next_probe_ms;
    if (self->probe.running) {
        at = self->probe.end_ms;
        if (!self->probe.indirect_sent && self->probe.direct_deadline_ms < at)
            at = self->probe.direct_deadline_ms;
        if (self->probe.indirect_sent && !self->probe.retried && self->probe.retry_ms < at)
            at = self->probe.retry_ms;
    }
    uint64_t timers [] = {self->next_shuffle_ms, self->next_sync_ms, self->next_reconnect_ms,
                          zmesh_swim__table_deadline (self)};
    for (size_t i = 0; i < sizeof timers / sizeof timers [0]; i++)
        if (timers [i] < at)
            at = timers [i];
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX; i++) {
        const swim_relay_t *relay = &self->relays [i];
        if (relay->used) {
            uint64_t when = relay->nacked ? relay->expire_ms : relay->nack_at_ms;
            if (when < at)
                at = when;
        }
    }
    if (self->neighbor_pending != SWIM_NO_SLOT && self->neighbor_until_ms < at)
        at = self->neighbor_until_ms;
    if (self->neighbor_pending == SWIM_NO_SLOT && self->passive_count > 0
        && self->active_count < self->config.active_max) {
        //  The view wants repair: at once (the next tick), or when the back-off ends.
        uint64_t when = zmesh_swim__view_thin (self) ? self->now_ms : self->next_neighbor_ms;
        if (when < at)
            at = when;
    }
    if (self->digest_retry_ms && self->digest_retry_ms < at)
        at = self->digest_retry_ms;
    if (self->repush_pending && self->next_repush_ms < at)
        at = self->next_repush_ms;
    if (self->joining && self->next_join_ms < at)
        at = self->next_join_ms;
    self->deadline_ms = at < self->now_ms ? self->now_ms : at;
}

void
zmesh_swim_step (zmesh_swim_t *self, const zmesh_swim_event_t *event, zmesh_swim_update_t *update)
{
    memset (update, 0, sizeof *update);
    update->sends = self->sends;
    update->links = self->links;
    update->changes = self->changes;
    self->update = update;
    self->pool_used = 0;
    self->bucket_used = 0;
    self->tell_count = 0;
    self->fresh_count = 0;
    if (event->now_ms > self->now_ms)
        self->now_ms = event->now_ms;
    const zmesh_id_t *origin = NULL;
    if (!self->left) {
        switch (event->type) {
            case ZMESH_SWIM_TICK:
                s_tick (self);
                break;
            case ZMESH_SWIM_RECEIVED:
                if (event->msg) {
                    s_received (self, &event->from, event->msg);
                    origin = &event->from;
                }
                break;
            case ZMESH_SWIM_LINK_UP:
                break;
            case ZMESH_SWIM_LINK_DOWN: {
                zmesh_swim_member_t *m = zmesh_swim__find (self, &event->from);
                if (m && m->view == SWIM_VIEW_ACTIVE) {
                    self->probe_first = zmesh_swim__slot (self, m);
                    if (!self->probe.running)
                        self->next_probe_ms = self->now_ms;
                }
                break;
            }
            case ZMESH_SWIM_JOIN_VIA:
                if (event->contact && !zmesh_id_equal (&event->from, &self->config.id)) {
                    self->joining = true;
                    self->join_id = event->from;
                    self->join_contact = *event->contact;
                    self->next_join_ms = self->now_ms;
                    zmesh_swim__view_tick (self);
                }
                break;
            case ZMESH_SWIM_LEAVE:
                s_leave (self);
                break;
        }
        s_tell_dead (self);
        if (self->check_views)
            s_check_views (self);
        if (self->fresh_count > 0)
            s_push_fresh (self, origin);
    }
    self->update = NULL;
    s_update_deadline (self);
    if (self->left)
        self->deadline_ms = UINT64_MAX - 1;
}

uint64_t
zmesh_swim_deadline_ms (const zmesh_swim_t *self)
{
    return self->deadline_ms;
}

//  ---------------------------------------------------------------------------------------------
//  Read access

static void
s_info (const zmesh_swim_member_t *m, zmesh_swim_member_info_t *info)
{
    info->id = m->rec.id;
    info->state = (zmesh_peer_state_t) m->rec.state;
    info->generation = m->rec.generation;
    info->incarnation = m->rec.incarnation;
    info->has_contact = m->rec.has_contact;
    info->contact = &m->rec.contact;
    info->active = m->view == SWIM_VIEW_ACTIVE;
    info->passive = m->view == SWIM_VIEW_PASSIVE;
}

int
zmesh_swim_member (const zmesh_swim_t *self, const zmesh_id_t *id, zmesh_swim_member_info_t *info)
{
    const zmesh_swim_member_t *m = zmesh_swim__find (self, id);
    if (!m || m == &self->members [0])
        return ZMESH_ENOTFOUND;
    s_info (m, info);
    return ZMESH_OK;
}

uint32_t
zmesh_swim_member_count (const zmesh_swim_t *self)
{
    return self->member_count - 1;
}

void
zmesh_swim_member_at (const zmesh_swim_t *self, uint32_t i, zmesh_swim_member_info_t *info)
{
    ZMESH_ASSERT (i + 1 < self->member_count);
    s_info (&self->members [self->order [i + 1]], info);
}

uint32_t
zmesh_swim_active (const zmesh_swim_t *self, zmesh_id_t *ids)
{
    for (uint32_t i = 0; i < self->active_count; i++)
        ids [i] = self->members [self->active [i]].rec.id;
    return self->active_count;
}

uint32_t
zmesh_swim_passive_count (const zmesh_swim_t *self)
{
    return self->passive_count;
}

uint32_t
zmesh_swim_incarnation (const zmesh_swim_t *self)
{
    return self->members [0].rec.incarnation;
}

uint32_t
zmesh_swim_lhm (const zmesh_swim_t *self)
{
    return self->lhm;
}

bool
zmesh_swim_left (const zmesh_swim_t *self)
{
    return self->left;
}

const zmesh_swim_stats_t *
zmesh_swim_stats (const zmesh_swim_t *self)
{
    return &self->stats;
}
