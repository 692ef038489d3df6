/*  zmesh_swim_proto.c: the SWIM core's messages, probes and views (see zmesh_swim.h).

    The views are HyParView's; probing is SWIM's with Lifeguard's local health; the handlers
    turn every received message into table merges (zmesh_swim.c) and replies.
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

void
zmesh_swim__lhm (zmesh_swim_t *self, int delta)
{
    if (delta > 0 && self->lhm < self->config.lhm_max)
        self->lhm++;
    else if (delta < 0 && self->lhm > 0)
        self->lhm--;
}

//  ---------------------------------------------------------------------------------------------
//  Sending

//  A new message to `id` (contact: how to reach it without a link). NULL when the step has
//  no room left (counted).
static zmesh_swim_msg_t *
s_send_to (zmesh_swim_t *self,
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

static zmesh_swim_msg_t *
s_send (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t type)
{
    return s_send_to (self, &to->rec.id, to->rec.has_contact ? &to->rec.contact : NULL, type);
}

//  Piggyback and close a message: call last, once its body is complete.
static void
s_seal (zmesh_swim_t *self, zmesh_swim_msg_t *msg, const zmesh_id_t *to)
{
    zmesh_swim__attach (self, msg, zmesh_swim__find (self, to));
    ZMESH_ASSERT (zmesh_swim__msg_size (msg) <= self->config.max_message_bytes);
}

static void
s_link (zmesh_swim_t *self, const zmesh_swim_member_t *m, bool open)
{
    zmesh_swim_update_t *update = self->update;
    //  Opening and closing the same link in one step cancel out.
    for (uint32_t i = 0; i < update->link_count; i++)
        if (zmesh_id_equal (&update->links [i].id, &m->rec.id) && update->links [i].open != open) {
            update->links [i] = update->links [--update->link_count];
            return;
        }
    if (update->link_count == SWIM_LINKS_MAX) {
        update->error = ZMESH_ELIMIT;
        self->stats.limit_drops++;
        return;
    }
    zmesh_swim_link_t *link = &update->links [update->link_count++];
    link->id = m->rec.id;
    link->open = open;
    link->contact = open && m->rec.has_contact ? &m->rec.contact : NULL;
}

static zmesh_swim_record_t
s_self_record (const zmesh_swim_t *self)
{
    return self->members [0].rec;
}

//  ---------------------------------------------------------------------------------------------
//  Views (HyParView)

static uint32_t
s_slot (const zmesh_swim_t *self, const zmesh_swim_member_t *m)
{
    return (uint32_t) (m - self->members);
}

static void
s_passive_remove (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    uint32_t slot = s_slot (self, m);
    for (uint32_t i = 0; i < self->passive_count; i++)
        if (self->passive [i] == slot) {
            self->passive [i] = self->passive [--self->passive_count];
            break;
        }
    m->view = SWIM_VIEW_NONE;
}

static void
s_passive_add (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    if (m->view != SWIM_VIEW_NONE || s_slot (self, m) == 0 || !m->rec.has_contact
        || (m->rec.state != ZMESH_SWIM_STATE_ALIVE && m->rec.state != ZMESH_SWIM_STATE_SUSPECT))
        return;
    if (self->passive_count == self->config.passive_max) {
        uint32_t victim = zmesh_swim__below (self, self->passive_count);
        s_passive_remove (self, &self->members [self->passive [victim]]);
    }
    self->passive [self->passive_count++] = s_slot (self, m);
    m->view = SWIM_VIEW_PASSIVE;
}

static void
s_active_remove (zmesh_swim_t *self, zmesh_swim_member_t *m, bool to_passive)
{
    uint32_t slot = s_slot (self, m);
    for (uint32_t i = 0; i < self->active_count; i++)
        if (self->active [i] == slot) {
            self->active [i] = self->active [--self->active_count];
            break;
        }
    m->view = SWIM_VIEW_NONE;
    s_link (self, m, false);
    if (to_passive)
        s_passive_add (self, m);
}

static void
s_active_add (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    if (m->view == SWIM_VIEW_ACTIVE || s_slot (self, m) == 0 || !m->rec.has_contact
        || (m->rec.state != ZMESH_SWIM_STATE_ALIVE && m->rec.state != ZMESH_SWIM_STATE_SUSPECT))
        return;
    if (m->view == SWIM_VIEW_PASSIVE)
        s_passive_remove (self, m);
    if (self->active_count == self->config.active_max) {
        zmesh_swim_member_t *victim =
            &self->members [self->active [zmesh_swim__below (self, self->active_count)]];
        zmesh_swim_msg_t *msg = s_send (self, victim, ZMESH_SWIM_DISCONNECT);
        if (msg)
            s_seal (self, msg, &victim->rec.id);
        s_active_remove (self, victim, true);
    }
    self->active [self->active_count++] = s_slot (self, m);
    m->view = SWIM_VIEW_ACTIVE;
    s_link (self, m, true);
    if (self->neighbor_pending == s_slot (self, m))
        self->neighbor_pending = SWIM_NO_SLOT;
}

//  A member became DEAD or LEFT: out of both views.
void
zmesh_swim__view_drop (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    if (m->view == SWIM_VIEW_ACTIVE)
        s_active_remove (self, m, false);
    else if (m->view == SWIM_VIEW_PASSIVE)
        s_passive_remove (self, m);
    if (self->neighbor_pending == s_slot (self, m))
        self->neighbor_pending = SWIM_NO_SLOT;
}

//  An active neighbour restarted (maybe at a new address): a new link to its new contact.
void
zmesh_swim__relink (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    zmesh_swim_update_t *update = self->update;
    if (update->link_count + 2 > SWIM_LINKS_MAX)
        return;
    zmesh_swim_link_t *link = &update->links [update->link_count++];
    link->id = m->rec.id;
    link->open = false;
    link->contact = NULL;
    link = &update->links [update->link_count++];
    link->id = m->rec.id;
    link->open = true;
    link->contact = m->rec.has_contact ? &m->rec.contact : NULL;
}

//  A random active neighbour other than the given ones, or NULL.
static zmesh_swim_member_t *
s_random_active (zmesh_swim_t *self, const zmesh_id_t *not_a, const zmesh_id_t *not_b)
{
    uint32_t candidates [ZMESH_SWIM_ACTIVE_LIMIT], count = 0;
    for (uint32_t i = 0; i < self->active_count; i++) {
        const zmesh_id_t *id = &self->members [self->active [i]].rec.id;
        if ((!not_a || !zmesh_id_equal (id, not_a)) && (!not_b || !zmesh_id_equal (id, not_b)))
            candidates [count++] = self->active [i];
    }
    return count ? &self->members [candidates [zmesh_swim__below (self, count)]] : NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Handlers

static void
s_send_neighbor (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t flags)
{
    zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_NEIGHBOR);
    if (!msg)
        return;
    msg->node = s_self_record (self);
    msg->flags = flags;
    s_seal (self, msg, &to->rec.id);
}

static void
s_on_ping (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    if (!zmesh_id_equal (&msg->target, &self->config.id))
        return;  //  meant for someone else (an older address of it)
    zmesh_swim_member_t *sender = zmesh_swim__find (self, from);
    zmesh_swim_msg_t *ack = sender ? s_send (self, sender, ZMESH_SWIM_ACK)
                                   : s_send_to (self, from, NULL, ZMESH_SWIM_ACK);
    if (!ack)
        return;
    ack->seq = msg->seq;
    ack->target = self->config.id;
    s_seal (self, ack, from);
    //  A direct probe from a node that is not my active neighbour: its view is one-sided (a
    //  DISCONNECT or an ACCEPT was lost). Say so, so that it takes another neighbour; eager
    //  pushes follow active views, and a one-sided link would starve it of them.
    if (sender && sender->view != SWIM_VIEW_ACTIVE
        && !(msg->flags & (ZMESH_SWIM_PING_INDIRECT | ZMESH_SWIM_PING_RECONNECT))) {
        zmesh_swim_msg_t *out = s_send (self, sender, ZMESH_SWIM_DISCONNECT);
        if (out)
            s_seal (self, out, from);
    }
}

static void
s_on_ack (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    swim_probe_t *probe = &self->probe;
    if (probe->running && msg->seq == probe->seq && zmesh_id_equal (&msg->target, &probe->id)) {
        if (!zmesh_id_equal (from, &probe->id))
            probe->answers++;
        probe->running = false;
        zmesh_swim__lhm (self, -1);
        return;
    }
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX; i++) {
        swim_relay_t *relay = &self->relays [i];
        if (relay->used && relay->seq == msg->seq && zmesh_id_equal (&relay->target, from)) {
            zmesh_swim_member_t *requester = zmesh_swim__find (self, &relay->requester);
            zmesh_swim_msg_t *out = requester ? s_send (self, requester, ZMESH_SWIM_ACK) : NULL;
            if (out) {
                out->seq = relay->requester_seq;
                out->target = relay->target;
                s_seal (self, out, &relay->requester);
            }
            relay->used = false;
            return;
        }
    }
    //  The answer to a reconnect probe: the member this node holds DEAD is alive. Both sides
    //  learn (records lead the messages between them); one link per interval joins the
    //  overlays of a healed partition.
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (m && msg->seq == self->reconnect_seq && self->now_ms >= self->next_heal_link_ms
        && m->rec.state == ZMESH_SWIM_STATE_DEAD && m->rec.has_contact) {
        self->next_heal_link_ms = self->now_ms + self->config.shuffle_interval_ms;
        s_send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_REQUEST | ZMESH_SWIM_NEIGHBOR_HIGH);
    }
}

static void
s_on_ping_req (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *requester = zmesh_swim__find (self, from);
    zmesh_swim_member_t *target = zmesh_swim__find (self, &msg->target);
    swim_relay_t *relay = NULL;
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX && !relay; i++)
        if (!self->relays [i].used)
            relay = &self->relays [i];
    if (!requester)
        return;
    if (!target || target->view != SWIM_VIEW_ACTIVE || !relay) {
        //  No link of mine to the target: refuse at once rather than open one for a probe.
        zmesh_swim_msg_t *nack = s_send (self, requester, ZMESH_SWIM_NACK);
        if (nack) {
            nack->seq = msg->seq;
            nack->target = msg->target;
            nack->flags = ZMESH_SWIM_NACK_REFUSED;
            s_seal (self, nack, from);
        }
        self->stats.nacks_refused++;
        return;
    }
    zmesh_swim_msg_t *ping = s_send (self, target, ZMESH_SWIM_PING);
    if (!ping)
        return;
    ping->seq = ++self->seq;
    ping->target = target->rec.id;
    ping->flags = ZMESH_SWIM_PING_INDIRECT;
    s_seal (self, ping, &target->rec.id);
    uint64_t window = self->config.probe_interval_ms - self->config.probe_timeout_ms;
    *relay = (swim_relay_t){.used = true,
                            .requester = *from,
                            .target = target->rec.id,
                            .requester_seq = msg->seq,
                            .seq = self->seq,
                            .nack_at_ms = self->now_ms + window * 8 / 10,
                            .expire_ms = self->now_ms + 2 * window};
}

static void
s_on_nack (zmesh_swim_t *self, const zmesh_swim_msg_t *msg)
{
    swim_probe_t *probe = &self->probe;
    if (probe->running && msg->seq == probe->seq && zmesh_id_equal (&msg->target, &probe->id))
        probe->answers++;
}

static void
s_forward_join (zmesh_swim_t *self,
                const zmesh_swim_member_t *to,
                const zmesh_swim_record_t *joiner,
                uint8_t ttl)
{
    zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_FORWARD_JOIN);
    if (!msg)
        return;
    msg->node = *joiner;
    msg->ttl = ttl;
    s_seal (self, msg, &to->rec.id);
}

static void
s_on_join (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    const zmesh_swim_record_t *joiner = &msg->node;
    if (!zmesh_id_equal (&joiner->id, from) || joiner->state != ZMESH_SWIM_STATE_ALIVE
        || !joiner->has_contact)
        return;
    zmesh_swim__merge (self, joiner);
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || m->rec.generation != joiner->generation || m->rec.state != ZMESH_SWIM_STATE_ALIVE)
        return;
    for (uint32_t i = 0; i < self->active_count; i++) {
        zmesh_swim_member_t *other = &self->members [self->active [i]];
        if (other != m)
            s_forward_join (self, other, &m->rec, (uint8_t) self->config.active_walk_length);
    }
    s_active_add (self, m);
    s_send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
}

static void
s_on_forward_join (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    const zmesh_swim_record_t *joiner = &msg->node;
    if (zmesh_id_equal (&joiner->id, &self->config.id) || !joiner->has_contact
        || joiner->state != ZMESH_SWIM_STATE_ALIVE)
        return;
    zmesh_swim__merge (self, joiner);
    zmesh_swim_member_t *m = zmesh_swim__find (self, &joiner->id);
    if (!m || m->rec.state != ZMESH_SWIM_STATE_ALIVE)
        return;
    if (msg->ttl == 0 || self->active_count <= 1) {
        if (m->view != SWIM_VIEW_ACTIVE) {
            s_active_add (self, m);
            s_send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
        }
        return;
    }
    if (msg->ttl == self->config.passive_walk_length)
        s_passive_add (self, m);
    zmesh_swim_member_t *next = s_random_active (self, from, &joiner->id);
    if (next)
        s_forward_join (self, next, joiner, (uint8_t) (msg->ttl - 1));
    else if (m->view != SWIM_VIEW_ACTIVE) {
        s_active_add (self, m);
        s_send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
    }
}

//  Pull the first page of a table (bootstrap) or the next one (anti-entropy).
static void
s_send_sync (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint32_t cursor, uint8_t flags)
{
    zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_SYNC);
    if (!msg)
        return;
    msg->cursor = cursor;
    msg->flags = flags;
    s_seal (self, msg, &to->rec.id);
}

static void
s_on_neighbor (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    if (!zmesh_id_equal (&msg->node.id, from) || msg->node.state != ZMESH_SWIM_STATE_ALIVE
        || !msg->node.has_contact)
        return;
    zmesh_swim__merge (self, &msg->node);
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || m->rec.state != ZMESH_SWIM_STATE_ALIVE || m->rec.generation != msg->node.generation)
        return;
    if (msg->flags & ZMESH_SWIM_NEIGHBOR_REQUEST) {
        bool accept = m->view == SWIM_VIEW_ACTIVE || (msg->flags & ZMESH_SWIM_NEIGHBOR_HIGH)
                      || self->active_count < self->config.active_max;
        if (accept)
            s_active_add (self, m);
        s_send_neighbor (self, m, accept ? ZMESH_SWIM_NEIGHBOR_ACCEPT : ZMESH_SWIM_NEIGHBOR_REJECT);
    }
    else if (msg->flags & ZMESH_SWIM_NEIGHBOR_ACCEPT) {
        //  Joined only when the contact answered: a newcomer that joined through this node
        //  while it was still joining does not make a mesh.
        bool was_joining = self->joining && zmesh_id_equal (from, &self->join_id);
        if (was_joining)
            self->joining = false;
        s_active_add (self, m);
        //  Members that joined through this node while it was still joining (an island the
        //  mesh never heard of): announce them now that this node is in the mesh.
        //  The eager push skips the contact (it sent the ACCEPT): it gets its own GOSSIP.
        zmesh_swim_record_t island [ZMESH_SWIM_UPDATES_MAX];
        uint32_t island_count = 0;
        size_t size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
        for (uint32_t i = 1; was_joining && i < self->member_count; i++) {
            zmesh_swim_member_t *other = &self->members [self->order [i]];
            if (other == m
                || (other->rec.state != ZMESH_SWIM_STATE_ALIVE
                    && other->rec.state != ZMESH_SWIM_STATE_SUSPECT))
                continue;
            zmesh_swim__enqueue (self, self->order [i], false);
            if (self->fresh_count < SWIM_FRESH_MAX)
                zmesh_swim__fresh (self, &other->rec);
            size_t record_size = zmesh_swim_record_size (&other->rec);
            if (island_count < ZMESH_SWIM_UPDATES_MAX
                && size + record_size <= self->config.max_message_bytes) {
                island [island_count++] = other->rec;
                size += record_size;
            }
        }
        zmesh_swim_msg_t *out = island_count ? s_send (self, m, ZMESH_SWIM_GOSSIP) : NULL;
        if (out) {
            out->updates = island;  //  attach() copies them
            out->update_count = island_count;
            s_seal (self, out, from);
        }
        if (was_joining && !self->bootstrapping) {
            self->bootstrapping = true;
            self->bootstrap_from = m->rec.id;
            self->second_bootstrap = true;
            self->sync_cursor = 0;
            s_send_sync (self, m, 0, ZMESH_SWIM_SYNC_ALL);
        }
    }
    else if (msg->flags & ZMESH_SWIM_NEIGHBOR_REJECT) {
        if (self->neighbor_pending == s_slot (self, m))
            self->neighbor_pending = SWIM_NO_SLOT;
    }
}

static void
s_on_disconnect (zmesh_swim_t *self, const zmesh_id_t *from)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (m && m->view == SWIM_VIEW_ACTIVE)
        s_active_remove (self, m, true);
}

//  Random passive entries (and active ones, for a SHUFFLE) into the pool.
static uint32_t
s_sample (zmesh_swim_t *self,
          zmesh_swim_record_t *out,
          const uint32_t *from,
          uint32_t from_count,
          uint32_t want,
          const zmesh_id_t *skip)
{
    uint32_t picked = 0;
    uint32_t order [ZMESH_SWIM_PASSIVE_LIMIT];
    for (uint32_t i = 0; i < from_count; i++)
        order [i] = from [i];
    for (uint32_t i = 0; i < from_count && picked < want; i++) {
        uint32_t j = i + zmesh_swim__below (self, from_count - i);
        uint32_t t = order [i];
        order [i] = order [j];
        order [j] = t;
        const zmesh_swim_member_t *m = &self->members [order [i]];
        if (skip && zmesh_id_equal (&m->rec.id, skip))
            continue;
        out [picked] = m->rec;
        if (out [picked].state != ZMESH_SWIM_STATE_ALIVE) {
            out [picked].state = ZMESH_SWIM_STATE_ALIVE;  //  a view entry: a way to reach it
            out [picked].incarnation = 0;
            out [picked].generation = m->rec.generation;
        }
        picked++;
    }
    return picked;
}

//  Shuffle entries join the passive view only when they name members the table knows
//  alive: an entry never creates a member (a view sample is not news of life).
static void
s_integrate (zmesh_swim_t *self, const zmesh_swim_record_t *entries, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        zmesh_swim_member_t *m = zmesh_swim__find (self, &entries [i].id);
        if (m && m->view == SWIM_VIEW_NONE && m->rec.generation == entries [i].generation)
            s_passive_add (self, m);
    }
}

static void
s_on_shuffle (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    const zmesh_swim_record_t *origin = &msg->node;
    if (zmesh_id_equal (&origin->id, &self->config.id) || !origin->has_contact)
        return;
    zmesh_swim_member_t *next =
        msg->ttl > 1 && self->active_count > 1 ? s_random_active (self, from, &origin->id) : NULL;
    if (next) {
        zmesh_swim_msg_t *out = s_send (self, next, ZMESH_SWIM_SHUFFLE);
        if (out) {
            zmesh_swim_record_t *entries = zmesh_swim__pool (self, msg->entry_count);
            if (!entries)
                return;
            memcpy (entries, msg->entries, msg->entry_count * sizeof *entries);
            out->node = *origin;
            out->ttl = (uint8_t) (msg->ttl - 1);
            out->entries = entries;
            out->entry_count = msg->entry_count;
            s_seal (self, out, &next->rec.id);
        }
        return;
    }
    zmesh_swim_record_t *entries = zmesh_swim__pool (self, msg->entry_count);
    zmesh_swim_msg_t *reply =
        entries ? s_send_to (self, &origin->id, &origin->contact, ZMESH_SWIM_SHUFFLE_REPLY) : NULL;
    if (reply) {
        //  The origin's contact is in the message, not (maybe) in the table: the send points
        //  at a copy that lives as long as the update.
        zmesh_swim_record_t *copy = zmesh_swim__pool (self, 1);
        if (copy) {
            *copy = *origin;
            self->update->sends [self->update->send_count - 1].contact = &copy->contact;
        }
        reply->entries = entries;
        reply->entry_count =
            s_sample (self, entries, self->passive, self->passive_count, msg->entry_count, NULL);
        s_seal (self, reply, &origin->id);
    }
    s_integrate (self, msg->entries, msg->entry_count);
}

static void
s_on_sync (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *to = zmesh_swim__find (self, from);
    if (!to)
        return;
    zmesh_swim_msg_t *reply = s_send (self, to, ZMESH_SWIM_SYNC_REPLY);
    zmesh_swim_record_t *entries = reply ? zmesh_swim__pool (self, ZMESH_SWIM_ENTRIES_MAX) : NULL;
    if (!entries)
        return;
    //  Most of the budget for the page, some room for piggybacking.
    size_t size = zmesh_swim__msg_size (reply), budget = self->config.max_message_bytes - 256;
    uint32_t i = msg->cursor < self->member_count ? msg->cursor : 0, count = 0;
    for (; i < self->member_count && count < ZMESH_SWIM_ENTRIES_MAX; i++) {
        //  Anti-entropy pages leave contacts out (three times the records per page); a
        //  bootstrap's pages carry them, so the joiner can heal its views from the table.
        zmesh_swim_record_t rec = self->members [self->order [i]].rec;
        if (!(msg->flags & ZMESH_SWIM_SYNC_ALL) && i > 0)
            rec.has_contact = false;
        size_t record_size = zmesh_swim_record_size (&rec);
        if (size + record_size > budget)
            break;
        entries [count++] = rec;
        size += record_size;
    }
    reply->entries = entries;
    reply->entry_count = count;
    reply->cursor = i < self->member_count ? i : 0;
    reply->flags = msg->flags;
    s_seal (self, reply, from);
}

static void
s_on_sync_reply (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    for (uint32_t i = 0; i < msg->entry_count; i++)
        zmesh_swim__merge (self, &msg->entries [i]);
    bool from_bootstrap = self->bootstrapping && zmesh_id_equal (from, &self->bootstrap_from);
    self->sync_cursor = msg->cursor;
    if (from_bootstrap && msg->cursor != 0) {
        zmesh_swim_member_t *m = zmesh_swim__find (self, from);
        if (m)
            s_send_sync (self, m, msg->cursor, ZMESH_SWIM_SYNC_ALL);
        else
            self->bootstrapping = false;
    }
    else if (from_bootstrap)
        self->bootstrapping = false;
}

//  What every message says about its sender: it is alive at (generation, incarnation).
//  False when the message is from a generation that left, and must be ignored.
static bool
s_on_sender (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || zmesh_id_equal (from, &self->config.id))
        return true;
    if (msg->generation < m->rec.generation)
        return false;
    if (m->rec.state == ZMESH_SWIM_STATE_LEFT && msg->generation == m->rec.generation)
        return false;
    if (msg->generation > m->rec.generation || msg->incarnation > m->rec.incarnation) {
        zmesh_swim_record_t rec = m->rec;
        rec.generation = msg->generation;
        rec.incarnation = msg->incarnation;
        rec.state = ZMESH_SWIM_STATE_ALIVE;
        rec.has_contact = false;
        if (msg->generation > m->rec.generation) {
            //  A restarted node at an address this node does not know yet: its JOIN or its
            //  ALIVE record brings the contact.
            rec.has_contact = false;
        }
        zmesh_swim__merge (self, &rec);
    }
    if ((m->rec.state == ZMESH_SWIM_STATE_SUSPECT || m->rec.state == ZMESH_SWIM_STATE_DEAD)
        && msg->type != ZMESH_SWIM_PING
        && self->now_ms >= m->told_ms + self->config.probe_interval_ms) {
        //  It does not know what this node holds of it: tell it, so it refutes.
        m->told_ms = self->now_ms;
        zmesh_swim_msg_t *out = s_send (self, m, ZMESH_SWIM_GOSSIP);
        if (out)
            s_seal (self, out, from);
    }
    return true;
}

static void
s_received (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    if (zmesh_id_equal (from, &self->config.id) || !s_on_sender (self, from, msg))
        return;
    //  Any message of the probe's target, at its current generation, says it is alive: the
    //  probe succeeded (under loss, the target's own traffic often gets through when the one
    //  ack was lost).
    swim_probe_t *probe = &self->probe;
    if (probe->running && zmesh_id_equal (from, &probe->id)
        && msg->generation == self->members [probe->slot].rec.generation) {
        probe->running = false;
        zmesh_swim__lhm (self, -1);
    }
    for (uint32_t i = 0; i < msg->update_count; i++) {
        zmesh_swim__merge (self, &msg->updates [i]);
        zmesh_swim__known_by (self, &msg->updates [i], from);
    }
    switch (msg->type) {
        case ZMESH_SWIM_PING:
            s_on_ping (self, from, msg);
            break;
        case ZMESH_SWIM_ACK:
            s_on_ack (self, from, msg);
            break;
        case ZMESH_SWIM_PING_REQ:
            s_on_ping_req (self, from, msg);
            break;
        case ZMESH_SWIM_NACK:
            s_on_nack (self, msg);
            break;
        case ZMESH_SWIM_JOIN:
            s_on_join (self, from, msg);
            break;
        case ZMESH_SWIM_FORWARD_JOIN:
            s_on_forward_join (self, from, msg);
            break;
        case ZMESH_SWIM_NEIGHBOR:
            s_on_neighbor (self, from, msg);
            break;
        case ZMESH_SWIM_DISCONNECT:
            s_on_disconnect (self, from);
            break;
        case ZMESH_SWIM_SHUFFLE:
            s_on_shuffle (self, from, msg);
            break;
        case ZMESH_SWIM_SHUFFLE_REPLY:
            s_integrate (self, msg->entries, msg->entry_count);
            break;
        case ZMESH_SWIM_SYNC:
            s_on_sync (self, from, msg);
            break;
        case ZMESH_SWIM_SYNC_REPLY:
            s_on_sync_reply (self, from, msg);
            break;
        default:  //  GOSSIP: its updates were all
            break;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Probing (SWIM, Lifeguard)

static uint64_t
s_scaled (const zmesh_swim_t *self, uint32_t ms)
{
    return (uint64_t) ms * (self->lhm + 1);
}

//  The next active neighbour of a shuffled round-robin list, or NULL.
static zmesh_swim_member_t *
s_next_target (zmesh_swim_t *self)
{
    if (self->probe_first != SWIM_NO_SLOT) {
        zmesh_swim_member_t *m = &self->members [self->probe_first];
        self->probe_first = SWIM_NO_SLOT;
        if (m->view == SWIM_VIEW_ACTIVE)
            return m;
    }
    for (int round = 0; round < 2; round++) {
        while (self->probe_list_pos < self->probe_list_count) {
            zmesh_swim_member_t *m = &self->members [self->probe_list [self->probe_list_pos++]];
            if (m->view == SWIM_VIEW_ACTIVE)
                return m;
        }
        self->probe_list_count = self->active_count;
        self->probe_list_pos = 0;
        for (uint32_t i = 0; i < self->active_count; i++) {
            uint32_t j = zmesh_swim__below (self, i + 1);
            self->probe_list [i] = self->probe_list [j];
            self->probe_list [j] = self->active [i];
        }
    }
    return NULL;
}

static void
s_ping (zmesh_swim_t *self, const zmesh_swim_member_t *target, uint64_t seq, uint8_t flags)
{
    zmesh_swim_msg_t *ping = s_send (self, target, ZMESH_SWIM_PING);
    if (!ping)
        return;
    ping->seq = seq;
    ping->target = target->rec.id;
    ping->flags = flags;
    s_seal (self, ping, &target->rec.id);
}

static void
s_probe_indirect (zmesh_swim_t *self, const zmesh_swim_member_t *target)
{
    swim_probe_t *probe = &self->probe;
    probe->indirect_sent = true;
    s_ping (self, target, probe->seq, 0);  //  a second chance over the same link
    uint32_t candidates [ZMESH_SWIM_ACTIVE_LIMIT], count = 0;
    for (uint32_t i = 0; i < self->active_count; i++)
        if (self->active [i] != probe->slot)
            candidates [count++] = self->active [i];
    for (uint32_t i = 0; i < count && i < self->config.indirect_probes; i++) {
        uint32_t j = i + zmesh_swim__below (self, count - i);
        uint32_t t = candidates [i];
        candidates [i] = candidates [j];
        candidates [j] = t;
        zmesh_swim_member_t *via = &self->members [candidates [i]];
        zmesh_swim_msg_t *req = s_send (self, via, ZMESH_SWIM_PING_REQ);
        if (!req)
            break;
        req->seq = probe->seq;
        req->target = probe->id;
        s_seal (self, req, &via->rec.id);
        probe->requests++;
        self->stats.indirect_requests++;
    }
}

static void
s_probe_tick (zmesh_swim_t *self)
{
    swim_probe_t *probe = &self->probe;
    zmesh_swim_member_t *target = NULL;
    if (probe->running) {
        target = &self->members [probe->slot];
        if (!zmesh_id_equal (&target->rec.id, &probe->id) || target->rec.state == 0)
            target = NULL;
    }
    if (probe->running && !probe->indirect_sent && self->now_ms >= probe->direct_deadline_ms
        && target)
        s_probe_indirect (self, target);
    if (probe->running && self->now_ms >= probe->end_ms) {
        probe->running = false;
        self->stats.probe_failures++;
        zmesh_swim__lhm (self, +1);
        if (probe->answers < probe->requests)
            zmesh_swim__lhm (self, +1);  //  missing nacks: the fault may be this node's
        if (target
            && (target->rec.state == ZMESH_SWIM_STATE_ALIVE
                || target->rec.state == ZMESH_SWIM_STATE_SUSPECT))
            zmesh_swim__suspect (self, target);
    }
    if (!probe->running && self->now_ms >= self->next_probe_ms) {
        self->next_probe_ms = self->now_ms + s_scaled (self, self->config.probe_interval_ms);
        target = s_next_target (self);
        if (!target)
            return;
        *probe = (swim_probe_t){.running = true,
                                .slot = s_slot (self, target),
                                .id = target->rec.id,
                                .seq = ++self->seq,
                                .direct_deadline_ms =
                                    self->now_ms + s_scaled (self, self->config.probe_timeout_ms),
                                .end_ms = self->next_probe_ms};
        self->stats.probes++;
        s_ping (self, target, probe->seq, 0);
    }
}

static void
s_relay_tick (zmesh_swim_t *self)
{
    for (uint32_t i = 0; i < ZMESH_SWIM_RELAYS_MAX; i++) {
        swim_relay_t *relay = &self->relays [i];
        if (!relay->used)
            continue;
        if (self->now_ms >= relay->expire_ms)
            relay->used = false;
        else if (!relay->nacked && self->now_ms >= relay->nack_at_ms) {
            relay->nacked = true;
            zmesh_swim_member_t *requester = zmesh_swim__find (self, &relay->requester);
            zmesh_swim_msg_t *nack = requester ? s_send (self, requester, ZMESH_SWIM_NACK) : NULL;
            if (nack) {
                nack->seq = relay->requester_seq;
                nack->target = relay->target;
                s_seal (self, nack, &relay->requester);
            }
        }
    }
}

//  ---------------------------------------------------------------------------------------------
//  Periodic work: view repair, shuffle, anti-entropy, reconnect probes, join retries.

static void
s_view_tick (zmesh_swim_t *self)
{
    //  The table knows more members than the views: a passive view with room takes a few
    //  random live ones, so healing never starves (shuffles keep it mixed).
    for (uint32_t tries = 0;
         tries < 4 && self->passive_count < self->config.passive_max && self->member_count > 1;
         tries++)
        s_passive_add (
            self,
            &self->members [self->order [1 + zmesh_swim__below (self, self->member_count - 1)]]);
    if (self->neighbor_pending != SWIM_NO_SLOT && self->now_ms >= self->neighbor_until_ms) {
        //  No answer: HyParView drops the candidate from the passive view.
        zmesh_swim_member_t *m = &self->members [self->neighbor_pending];
        self->neighbor_pending = SWIM_NO_SLOT;
        if (m->view == SWIM_VIEW_PASSIVE)
            s_passive_remove (self, m);
    }
    if (self->neighbor_pending == SWIM_NO_SLOT && self->active_count < self->config.active_max
        && self->passive_count > 0) {
        zmesh_swim_member_t *m =
            &self->members [self->passive [zmesh_swim__below (self, self->passive_count)]];
        self->neighbor_pending = s_slot (self, m);
        self->neighbor_until_ms = self->now_ms + self->config.neighbor_timeout_ms;
        s_send_neighbor (self, m,
                         ZMESH_SWIM_NEIGHBOR_REQUEST
                             | (self->active_count == 0 ? ZMESH_SWIM_NEIGHBOR_HIGH : 0));
    }
    //  Cut off: no neighbour and no candidate to heal from (the members this node knew left
    //  or died, and the mesh forgot it). Join again through the contact the shell gave.
    if (!self->joining && self->active_count == 0 && self->passive_count == 0
        && self->neighbor_pending == SWIM_NO_SLOT && self->join_contact.endpoint [0] != '\0'
        && self->now_ms >= self->next_join_ms) {
        self->joining = true;
        self->next_join_ms = self->now_ms;
    }
    if (self->joining && self->now_ms >= self->next_join_ms) {
        self->next_join_ms = self->now_ms + self->config.join_retry_ms;
        zmesh_swim_msg_t *msg =
            s_send_to (self, &self->join_id, &self->join_contact, ZMESH_SWIM_JOIN);
        if (msg) {
            msg->node = s_self_record (self);
            s_seal (self, msg, &self->join_id);
        }
    }
}

static void
s_shuffle_tick (zmesh_swim_t *self)
{
    self->next_shuffle_ms = self->now_ms + self->config.shuffle_interval_ms;
    zmesh_swim_member_t *to = s_random_active (self, NULL, NULL);
    if (!to)
        return;
    uint32_t want = self->config.shuffle_active + self->config.shuffle_passive;
    zmesh_swim_record_t *entries = zmesh_swim__pool (self, want);
    if (!entries)
        return;
    zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_SHUFFLE);
    if (!msg)
        return;
    uint32_t count = s_sample (self, entries, self->active, self->active_count,
                               self->config.shuffle_active, &to->rec.id);
    count += s_sample (self, entries + count, self->passive, self->passive_count,
                       self->config.shuffle_passive, NULL);
    msg->node = s_self_record (self);
    msg->ttl = (uint8_t) self->config.active_walk_length;
    msg->entries = entries;
    msg->entry_count = count;
    s_seal (self, msg, &to->rec.id);
}

static void
s_reconnect_tick (zmesh_swim_t *self)
{
    self->next_reconnect_ms = self->now_ms + self->config.reconnect_interval_ms;
    uint32_t dead = 0;
    for (uint32_t i = 0; i < self->tracked_count; i++)
        if (self->members [self->tracked [i]].rec.state == ZMESH_SWIM_STATE_DEAD
            && self->members [self->tracked [i]].rec.has_contact)
            dead++;
    if (dead == 0)
        return;
    uint32_t pick = zmesh_swim__below (self, dead);
    for (uint32_t i = 0; i < self->tracked_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->tracked [i]];
        if (m->rec.state == ZMESH_SWIM_STATE_DEAD && m->rec.has_contact && pick-- == 0) {
            self->reconnect_seq = ++self->seq;
            s_ping (self, m, self->reconnect_seq, ZMESH_SWIM_PING_RECONNECT);
            break;
        }
    }
}

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
        zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_GOSSIP);
        if (!msg)
            return;
        msg->updates = out;
        msg->update_count = count;
        s_seal (self, msg, &to->rec.id);  //  marks them sent to `to`
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
    s_probe_tick (self);
    s_relay_tick (self);
    s_view_tick (self);
    if (self->now_ms >= self->next_shuffle_ms)
        s_shuffle_tick (self);
    if (self->now_ms >= self->next_sync_ms) {
        self->next_sync_ms = self->now_ms + self->config.sync_interval_ms;
        //  A bootstrap whose page was lost resumes where it stopped; else one page of a
        //  random neighbour's table (anti-entropy).
        zmesh_swim_member_t *from =
            self->bootstrapping ? zmesh_swim__find (self, &self->bootstrap_from) : NULL;
        zmesh_swim_member_t *to = s_random_active (self, NULL, NULL);
        if (from && from->rec.state == ZMESH_SWIM_STATE_ALIVE)
            s_send_sync (self, from, self->sync_cursor, ZMESH_SWIM_SYNC_ALL);
        else if (to && self->second_bootstrap) {
            //  A second whole table from another neighbour: the contact may have joined just
            //  before this node, and known only part of the mesh.
            self->second_bootstrap = false;
            self->bootstrapping = true;
            self->bootstrap_from = to->rec.id;
            self->sync_cursor = 0;
            s_send_sync (self, to, 0, ZMESH_SWIM_SYNC_ALL);
        }
        else {
            self->bootstrapping = false;
            if (to)
                s_send_sync (self, to, self->sync_cursor, 0);
        }
    }
    if (self->now_ms >= self->next_reconnect_ms)
        s_reconnect_tick (self);
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
        for (uint32_t i = 0; i < self->active_count; i++) {
            zmesh_swim_member_t *to = &self->members [self->active [i]];
            if (origin && zmesh_id_equal (&to->rec.id, origin))
                continue;
            zmesh_swim_msg_t *msg = s_send (self, to, ZMESH_SWIM_GOSSIP);
            if (!msg)
                return;
            msg->updates = &self->fresh_records [first];
            msg->update_count = count;
            s_seal (self, msg, &to->rec.id);
        }
        first += count;
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
        s_active_remove (self, &self->members [self->active [0]], false);
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
        && self->active_count < self->config.active_max)
        at = self->now_ms;  //  the view wants repair at once (the next tick)
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
                    self->probe_first = s_slot (self, m);
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
                    s_view_tick (self);
                }
                break;
            case ZMESH_SWIM_LEAVE:
                s_leave (self);
                break;
        }
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
