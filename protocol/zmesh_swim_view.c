/*  zmesh_swim_view.c: the SWIM core's views and joins (HyParView; see zmesh_swim.h).

    HyParView keeps a small active view (the neighbours this node holds links to, probes and
    pushes to) and a larger passive view (candidates to heal it from). A JOIN is forwarded on
    random walks and taken into active views along the way; NEIGHBOR requests heal the active
    view from the passive one; SHUFFLEs keep the passive views mixed. SYNC pages pull a whole
    table when joining (bootstrap) and one page at a time afterwards (anti-entropy). Only
    the views and link requests live here: records go through the table (zmesh_swim.c).
    Paper: HyParView (Leitao, Pereira, Rodrigues 2007).
*/
#include "zmesh_swim_internal.h"
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Link requests, this node's record

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

uint32_t
zmesh_swim__slot (const zmesh_swim_t *self, const zmesh_swim_member_t *m)
{
    return (uint32_t) (m - self->members);
}

static void
s_passive_remove (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    uint32_t slot = zmesh_swim__slot (self, m);
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
    if (m->view != SWIM_VIEW_NONE || zmesh_swim__slot (self, m) == 0 || !m->rec.has_contact
        || (m->rec.state != ZMESH_SWIM_STATE_ALIVE && m->rec.state != ZMESH_SWIM_STATE_SUSPECT))
        return;
    if (self->passive_count == self->config.passive_max) {
        uint32_t victim = zmesh_swim__below (self, self->passive_count);
        s_passive_remove (self, &self->members [self->passive [victim]]);
    }
    self->passive [self->passive_count++] = zmesh_swim__slot (self, m);
    m->view = SWIM_VIEW_PASSIVE;
}

void
zmesh_swim__active_remove (zmesh_swim_t *self, zmesh_swim_member_t *m, bool to_passive)
{
    uint32_t slot = zmesh_swim__slot (self, m);
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
    if (m->view == SWIM_VIEW_ACTIVE || zmesh_swim__slot (self, m) == 0 || !m->rec.has_contact
        || (m->rec.state != ZMESH_SWIM_STATE_ALIVE && m->rec.state != ZMESH_SWIM_STATE_SUSPECT))
        return;
    if (m->view == SWIM_VIEW_PASSIVE)
        s_passive_remove (self, m);
    if (self->active_count == self->config.active_max) {
        zmesh_swim_member_t *victim =
            &self->members [self->active [zmesh_swim__below (self, self->active_count)]];
        zmesh_swim_msg_t *msg = zmesh_swim__send (self, victim, ZMESH_SWIM_DISCONNECT);
        if (msg)
            zmesh_swim__seal (self, msg, &victim->rec.id);
        zmesh_swim__active_remove (self, victim, true);
    }
    self->active [self->active_count++] = zmesh_swim__slot (self, m);
    m->view = SWIM_VIEW_ACTIVE;
    m->checked_ms = 0;  //  a new link: probed first
    s_link (self, m, true);
    zmesh_swim__owe_suspicions (self, zmesh_swim__slot (self, m));
    if (self->neighbor_pending == zmesh_swim__slot (self, m))
        self->neighbor_pending = SWIM_NO_SLOT;
}

//  A member became DEAD or LEFT: out of both views.
void
zmesh_swim__view_drop (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    if (m->view == SWIM_VIEW_ACTIVE)
        zmesh_swim__active_remove (self, m, false);
    else if (m->view == SWIM_VIEW_PASSIVE)
        s_passive_remove (self, m);
    if (self->neighbor_pending == zmesh_swim__slot (self, m))
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
zmesh_swim_member_t *
zmesh_swim__random_active (zmesh_swim_t *self, const zmesh_id_t *not_a, const zmesh_id_t *not_b)
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
//  Joins and neighbours

void
zmesh_swim__send_neighbor (zmesh_swim_t *self, const zmesh_swim_member_t *to, uint8_t flags)
{
    zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_NEIGHBOR);
    if (!msg)
        return;
    msg->node = s_self_record (self);
    msg->flags = flags;
    zmesh_swim__seal (self, msg, &to->rec.id);
}

static void
s_forward_join (zmesh_swim_t *self,
                const zmesh_swim_member_t *to,
                const zmesh_swim_record_t *joiner,
                uint8_t ttl)
{
    zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_FORWARD_JOIN);
    if (!msg)
        return;
    msg->node = *joiner;
    msg->ttl = ttl;
    zmesh_swim__seal (self, msg, &to->rec.id);
}

void
zmesh_swim__on_join (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
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
    zmesh_swim__send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
}

void
zmesh_swim__on_forward_join (zmesh_swim_t *self,
                             const zmesh_id_t *from,
                             const zmesh_swim_msg_t *msg)
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
            zmesh_swim__send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
        }
        return;
    }
    if (msg->ttl == self->config.passive_walk_length)
        s_passive_add (self, m);
    zmesh_swim_member_t *next = zmesh_swim__random_active (self, from, &joiner->id);
    if (next)
        s_forward_join (self, next, joiner, (uint8_t) (msg->ttl - 1));
    else if (m->view != SWIM_VIEW_ACTIVE) {
        s_active_add (self, m);
        zmesh_swim__send_neighbor (self, m, ZMESH_SWIM_NEIGHBOR_ACCEPT);
    }
}

//  A request of normal priority was refused or not answered: the next one waits, the longer
//  the more neighbours this node still has (one with none asks at once, at high priority).
//  A mesh whose views are nearly full would otherwise trade refusals without end.
static void
s_neighbor_backoff (zmesh_swim_t *self)
{
    self->next_neighbor_ms =
        self->now_ms + (uint64_t) self->config.neighbor_timeout_ms * self->active_count;
}

void
zmesh_swim__on_neighbor (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    if (!zmesh_id_equal (&msg->node.id, from) || msg->node.state != ZMESH_SWIM_STATE_ALIVE
        || !msg->node.has_contact)
        return;
    bool stranger = zmesh_swim__find (self, from) == NULL;
    zmesh_swim__merge (self, &msg->node);
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || m->rec.state != ZMESH_SWIM_STATE_ALIVE || m->rec.generation != msg->node.generation)
        return;
    if (msg->flags & ZMESH_SWIM_NEIGHBOR_REQUEST) {
        bool accept = m->view == SWIM_VIEW_ACTIVE || (msg->flags & ZMESH_SWIM_NEIGHBOR_HIGH)
                      || self->active_count < self->config.active_max;
        if (accept)
            s_active_add (self, m);
        zmesh_swim__send_neighbor (
            self, m, accept ? ZMESH_SWIM_NEIGHBOR_ACCEPT : ZMESH_SWIM_NEIGHBOR_REJECT);
        //  A link asked by a node this one never heard of: another overlay found this one
        //  (zmesh_swim__on_heal). Learn its members.
        if (accept && stranger && !self->bootstrapping && !self->joining)
            zmesh_swim__start_pull (self, m);
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
        zmesh_swim_msg_t *out = island_count ? zmesh_swim__send (self, m, ZMESH_SWIM_GOSSIP) : NULL;
        if (out) {
            out->updates = island;  //  attach() copies them
            out->update_count = island_count;
            zmesh_swim__seal (self, out, from);
        }
        if (was_joining && !self->bootstrapping) {
            self->second_bootstrap = true;
            zmesh_swim__start_bootstrap (self, m);
        }
    }
    else if (msg->flags & ZMESH_SWIM_NEIGHBOR_REJECT) {
        if (self->neighbor_pending == zmesh_swim__slot (self, m)) {
            self->neighbor_pending = SWIM_NO_SLOT;
            s_neighbor_backoff (self);
        }
    }
}

void
zmesh_swim__on_disconnect (zmesh_swim_t *self, const zmesh_id_t *from)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (m && m->view == SWIM_VIEW_ACTIVE)
        zmesh_swim__active_remove (self, m, true);
}

//  ---------------------------------------------------------------------------------------------
//  Shuffles and table pulls

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
        //  Without its contact: an entry only names a member the receiver's table knows
        //  (zmesh_swim__integrate), and the table holds the contact (two thirds of the bytes).
        out [picked].has_contact = false;
        picked++;
    }
    return picked;
}

//  Shuffle entries join the passive view only when they name members the table knows
//  alive: an entry never creates a member (a view sample is not news of life).
void
zmesh_swim__integrate (zmesh_swim_t *self, const zmesh_swim_record_t *entries, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        zmesh_swim_member_t *m = zmesh_swim__find (self, &entries [i].id);
        if (m && m->view == SWIM_VIEW_NONE && m->rec.generation == entries [i].generation)
            s_passive_add (self, m);
    }
}

void
zmesh_swim__on_shuffle (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    const zmesh_swim_record_t *origin = &msg->node;
    if (zmesh_id_equal (&origin->id, &self->config.id) || !origin->has_contact)
        return;
    zmesh_swim_member_t *next = msg->ttl > 1 && self->active_count > 1
                                    ? zmesh_swim__random_active (self, from, &origin->id)
                                    : NULL;
    if (next) {
        zmesh_swim_msg_t *out = zmesh_swim__send (self, next, ZMESH_SWIM_SHUFFLE);
        if (out) {
            zmesh_swim_record_t *entries = zmesh_swim__pool (self, msg->entry_count);
            if (!entries)
                return;
            memcpy (entries, msg->entries, msg->entry_count * sizeof *entries);
            out->node = *origin;
            out->ttl = (uint8_t) (msg->ttl - 1);
            out->entries = entries;
            out->entry_count = msg->entry_count;
            zmesh_swim__seal (self, out, &next->rec.id);
        }
        return;
    }
    zmesh_swim_record_t *entries = zmesh_swim__pool (self, msg->entry_count);
    zmesh_swim_msg_t *reply = entries ? zmesh_swim__send_to (self, &origin->id, &origin->contact,
                                                             ZMESH_SWIM_SHUFFLE_REPLY)
                                      : NULL;
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
        zmesh_swim__seal (self, reply, &origin->id);
    }
    zmesh_swim__integrate (self, msg->entries, msg->entry_count);
}

//  The digest of each of `count` buckets of the table (the low 32 bits), into out.
static void
s_buckets (const zmesh_swim_t *self, uint32_t count, uint32_t *out)
{
    uint64_t wide [ZMESH_SWIM_BUCKETS_MAX] = {0};
    for (uint32_t i = 0; i < self->member_count; i++) {
        const zmesh_swim_record_t *rec = &self->members [self->order [i]].rec;
        wide [zmesh_swim__bucket (&rec->id, count)] ^= zmesh_swim__record_hash (rec);
    }
    for (uint32_t b = 0; b < count; b++)
        out [b] = (uint32_t) wide [b];
}

//  Scratch for one step's bucket digests, or NULL (counted).
static uint32_t *
s_bucket_scratch (zmesh_swim_t *self)
{
    if (self->bucket_used == 4) {
        self->stats.limit_drops++;
        return NULL;
    }
    return self->bucket_scratch [self->bucket_used++];
}

//  Ask `to` for the records of the buckets of its table that differ from this node's, from
//  its position `cursor` on (flags: SYNC_ALL for a bootstrap, with contacts, answered even
//  when nothing differs). Buckets: about SWIM_DIGEST_BUCKET_RECORDS members each, so that
//  the few that differ fit a page; a joiner's table is one bucket, and gets the whole
//  table; a pull that starts over (another source) skips what already agrees.
void
zmesh_swim__send_sync (zmesh_swim_t *self,
                       const zmesh_swim_member_t *to,
                       uint32_t cursor,
                       uint8_t flags)
{
    uint32_t *buckets = s_bucket_scratch (self);
    if (!buckets)
        return;
    uint32_t count = 1;
    while (count < ZMESH_SWIM_BUCKETS_MAX
           && count * SWIM_DIGEST_BUCKET_RECORDS < self->member_count)
        count *= 2;
    s_buckets (self, count, buckets);
    zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_SYNC);
    if (!msg)
        return;
    msg->cursor = cursor;
    msg->flags = flags | ZMESH_SWIM_SYNC_DIGEST;
    msg->bucket_count = count;
    msg->buckets = buckets;
    if (!(flags & ZMESH_SWIM_SYNC_ALL)) {
        if (!zmesh_id_equal (&self->digest_from, &to->rec.id) || cursor != self->digest_cursor)
            self->digest_tries = 0;  //  a new page (else the same, asked again)
        self->digest_from = to->rec.id;
        self->digest_cursor = cursor;
        self->digest_tries++;
        self->digest_retry_ms = self->now_ms + self->config.probe_timeout_ms;
    }
    zmesh_swim__seal (self, msg, &to->rec.id);
}

//  An active neighbour's digest (in its PING or ACK). Tables that differ for longer than
//  news takes to flood (SWIM_DIGEST_SETTLE_INTERVALS probe intervals) are compared bucket
//  by bucket, at most once per sync_interval_ms: anti-entropy costs no message while the
//  tables agree, and finds a missed member in one exchange when they do not.
void
zmesh_swim__on_digest (zmesh_swim_t *self, zmesh_swim_member_t *from, uint64_t digest)
{
    if (digest == self->digest) {
        from->mismatch_ms = 0;
        return;
    }
    if (from->mismatch_ms == 0)
        from->mismatch_ms = self->now_ms ? self->now_ms : 1;
    //  After a heal (zmesh_swim__recover), once the refutations had one probe interval to
    //  flood, any difference is compared at once, one SYNC per probe interval at most: nodes
    //  that missed the flood while their views were rebuilt catch up in a second or two.
    bool recovering = self->now_ms < self->recover_until_ms;
    uint64_t settle = (uint64_t) SWIM_DIGEST_SETTLE_INTERVALS * self->config.probe_interval_ms;
    bool settled =
        self->now_ms >= from->mismatch_ms + settle
        || (recovering && self->now_ms >= self->recover_since_ms + self->config.probe_interval_ms);
    uint64_t gap = recovering ? self->config.probe_interval_ms : self->config.sync_interval_ms;
    if (!settled || (self->digest_sync_ms && self->now_ms < self->digest_sync_ms + gap)
        || self->bootstrapping)
        return;
    from->mismatch_ms = 0;
    self->digest_sync_ms = self->now_ms;
    self->digest_pull++;  //  a new comparison: no member named by its pages yet
    self->digest_tries = 0;
    zmesh_swim__send_sync (self, from, 0, 0);
}

//  A page of the table from msg->cursor on: every record, or (digest SYNC) those of the
//  buckets where the asker's digest differs from this node's. Nothing when no bucket
//  differs (the tables agree now), unless a bootstrap waits for the answer.
void
zmesh_swim__on_sync (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    zmesh_swim_member_t *to = zmesh_swim__find (self, from);
    if (!to)
        return;
    uint32_t *mine = NULL;
    bool differ [ZMESH_SWIM_BUCKETS_MAX] = {false}, any = false;
    if ((msg->flags & ZMESH_SWIM_SYNC_DIGEST) && msg->bucket_count > 0) {
        mine = s_bucket_scratch (self);
        if (!mine)
            return;
        s_buckets (self, msg->bucket_count, mine);
        for (uint32_t b = 0; b < msg->bucket_count; b++)
            any |= differ [b] = mine [b] != msg->buckets [b];
        if (!any && !(msg->flags & ZMESH_SWIM_SYNC_ALL))
            return;
    }
    zmesh_swim_msg_t *reply = zmesh_swim__send (self, to, ZMESH_SWIM_SYNC_REPLY);
    zmesh_swim_record_t *entries = reply ? zmesh_swim__pool (self, ZMESH_SWIM_ENTRIES_MAX) : NULL;
    if (!entries)
        return;
    if (mine) {
        reply->bucket_count = msg->bucket_count;
        reply->buckets = mine;
    }
    //  Most of the budget for the page, some room for piggybacking.
    size_t size = zmesh_swim__msg_size (reply), budget = self->config.max_message_bytes - 256;
    uint32_t i = msg->cursor < self->member_count ? msg->cursor : 0, count = 0;
    for (; i < self->member_count && count < ZMESH_SWIM_ENTRIES_MAX; i++) {
        //  Anti-entropy pages leave contacts out (three times the records per page); a
        //  bootstrap's pages carry them, so the joiner can heal its views from the table.
        zmesh_swim_record_t rec = self->members [self->order [i]].rec;
        if (mine && !differ [zmesh_swim__bucket (&rec.id, msg->bucket_count)])
            continue;
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
    zmesh_swim__seal (self, reply, from);
}

//  Which of two records of a member is the newer news (generation, incarnation, state).
static bool
s_newer (const zmesh_swim_record_t *a, const zmesh_swim_record_t *b)
{
    if (a->generation != b->generation)
        return a->generation > b->generation;
    if (a->incarnation != b->incarnation)
        return a->incarnation > b->incarnation;
    return a->state > b->state;
}

//  One GOSSIP of `count` records (copied by attach) to `to`.
static void
s_gossip (zmesh_swim_t *self,
          const zmesh_swim_member_t *to,
          const zmesh_swim_record_t *records,
          uint32_t count)
{
    zmesh_swim_msg_t *gossip = count ? zmesh_swim__send (self, to, ZMESH_SWIM_GOSSIP) : NULL;
    if (!gossip)
        return;
    gossip->updates = records;
    gossip->update_count = count;
    zmesh_swim__seal (self, gossip, &to->rec.id);
}

//  The answer to a digest SYNC, merged already: either side of a link repairs both. What this
//  node holds newer than the page's records goes back at once (one GOSSIP, without contacts:
//  the asked node knows those members), and the next page is asked. After the last page, the
//  live members of the buckets that still differ that no page named (the asked node lacks
//  them) go back too, with their contacts, in up to SWIM_SENDBACK_MAX GOSSIPs.
static void
s_on_digest_reply (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    //  The asked node may have dropped this one from its view since (a DISCONNECT with the
    //  first page, as after a heal): the comparison goes on all the same, its pages are news.
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (!m || !zmesh_id_equal (from, &self->digest_from))
        return;
    zmesh_swim_record_t out [ZMESH_SWIM_UPDATES_MAX];  //  attach() copies them
    uint32_t count = 0;
    size_t size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
    for (uint32_t e = 0; e < msg->entry_count; e++) {
        zmesh_swim_member_t *known = zmesh_swim__find (self, &msg->entries [e].id);
        if (!known)
            continue;
        known->digest_pull = self->digest_pull;
        zmesh_swim_record_t rec = known->rec;
        rec.has_contact = false;
        if (s_newer (&rec, &msg->entries [e]) && count < ZMESH_SWIM_UPDATES_MAX
            && size + zmesh_swim_record_size (&rec) <= self->config.max_message_bytes) {
            out [count++] = rec;
            size += zmesh_swim_record_size (&rec);
        }
    }
    s_gossip (self, m, out, count);
    if (msg->cursor != 0) {
        if (msg->cursor > self->digest_cursor)
            zmesh_swim__send_sync (self, m, msg->cursor, 0);
        return;
    }
    self->digest_from = (zmesh_id_t){{0}};  //  done: a duplicate of the last page does nothing
    self->digest_retry_ms = 0;
    uint32_t *mine = s_bucket_scratch (self);
    if (!mine)
        return;
    s_buckets (self, msg->bucket_count, mine);
    count = 0;
    size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
    for (uint32_t i = 0, sent = 0; i < self->member_count && sent < SWIM_SENDBACK_MAX; i++) {
        const zmesh_swim_member_t *known = &self->members [self->order [i]];
        uint32_t b = zmesh_swim__bucket (&known->rec.id, msg->bucket_count);
        if (mine [b] == msg->buckets [b] || known->digest_pull == self->digest_pull
            || zmesh_swim__record_hash (&known->rec) == 0)
            continue;
        size_t record_size = zmesh_swim_record_size (&known->rec);
        if (count == ZMESH_SWIM_UPDATES_MAX
            || size + record_size > self->config.max_message_bytes) {
            s_gossip (self, m, out, count);
            sent++;
            count = 0;
            size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
            if (sent == SWIM_SENDBACK_MAX)
                break;
        }
        out [count++] = known->rec;
        size += record_size;
    }
    s_gossip (self, m, out, count);
}

//  A page of a digest comparison not answered within probe_timeout_ms (lost, most likely:
//  the pages follow each other at once) is asked again, SWIM_BOOTSTRAP_TRIES times in all.
void
zmesh_swim__digest_tick (zmesh_swim_t *self)
{
    self->digest_retry_ms = 0;  //  set again by the request
    zmesh_swim_member_t *m = zmesh_swim__find (self, &self->digest_from);
    if (!m || self->digest_tries >= SWIM_BOOTSTRAP_TRIES
        || (m->rec.state != ZMESH_SWIM_STATE_ALIVE && m->rec.state != ZMESH_SWIM_STATE_SUSPECT))
        return;
    zmesh_swim__send_sync (self, m, self->digest_cursor, 0);  //  the same page: once more
}

//  Pull a whole table from `from`, page by page, from its first page.
void
zmesh_swim__start_bootstrap (zmesh_swim_t *self, const zmesh_swim_member_t *from)
{
    zmesh_swim__start_pull (self, from);
    self->bootstrap_join = true;
}

//  The same, to learn the members of another overlay: given up if `from` does not answer.
void
zmesh_swim__start_pull (zmesh_swim_t *self, const zmesh_swim_member_t *from)
{
    self->bootstrapping = true;
    self->bootstrap_join = false;
    self->bootstrap_from = from->rec.id;
    self->sync_cursor = 0;
    self->bootstrap_tries = 1;
    self->next_sync_ms = self->now_ms + self->config.neighbor_timeout_ms;
    zmesh_swim__send_sync (self, from, 0, ZMESH_SWIM_SYNC_ALL);
}

//  The bootstrap's source answered its last page: the second whole table (from another
//  neighbour, if there is one), or the end of the bootstrap.
static void
s_bootstrap_done (zmesh_swim_t *self)
{
    self->bootstrapping = false;
    self->next_sync_ms = self->now_ms + self->config.sync_interval_ms;
    zmesh_swim_member_t *other = zmesh_swim__random_active (self, &self->bootstrap_from, NULL);
    if (self->second_bootstrap && other) {
        self->second_bootstrap = false;
        zmesh_swim__start_bootstrap (self, other);
    }
}

void
zmesh_swim__on_sync_reply (zmesh_swim_t *self, const zmesh_id_t *from, const zmesh_swim_msg_t *msg)
{
    bool from_bootstrap = self->bootstrapping && zmesh_id_equal (from, &self->bootstrap_from);
    //  The table of a joiner's neighbour is mostly old news to the mesh: the joiner pushes
    //  what it did not know once (its neighbours may not know it either while the mesh
    //  forms), but does not queue it for piggybacking too (a second copy of a whole table to
    //  every neighbour, for each joiner). Anti-entropy pages and another overlay's table are
    //  news here: they are queued as well.
    self->quiet = from_bootstrap && self->bootstrap_join;
    for (uint32_t i = 0; i < msg->entry_count; i++)
        zmesh_swim__merge (self, &msg->entries [i]);
    self->quiet = false;
    if (!from_bootstrap && msg->bucket_count > 0) {
        s_on_digest_reply (self, from, msg);
        return;
    }
    //  While bootstrapping, the cursor is a place in the source's table: a page of a source
    //  given up must not move it. Nor must a duplicated or late page of the source: only the
    //  answer to the page asked last goes on (the cursor grows page by page, and 0 ends the
    //  table).
    if (!from_bootstrap || (msg->cursor != 0 && msg->cursor <= self->sync_cursor))
        return;
    self->sync_cursor = msg->cursor;
    zmesh_swim_member_t *m = zmesh_swim__find (self, from);
    if (msg->cursor == 0 || !m)
        s_bootstrap_done (self);
    else {
        //  The next page at once; asked again if no answer comes within the timeout.
        self->bootstrap_tries = 1;
        self->next_sync_ms = self->now_ms + self->config.neighbor_timeout_ms;
        zmesh_swim__send_sync (self, m, msg->cursor, ZMESH_SWIM_SYNC_ALL);
    }
}

//  Table pulls: a bootstrap page not answered is asked again (SWIM_BOOTSTRAP_TRIES times,
//  then the whole table from another neighbour); a joiner's second whole table.
void
zmesh_swim__sync_tick (zmesh_swim_t *self)
{
    if (self->bootstrapping) {
        self->next_sync_ms = self->now_ms + self->config.neighbor_timeout_ms;
        zmesh_swim_member_t *from = zmesh_swim__find (self, &self->bootstrap_from);
        bool usable = from
                      && (self->bootstrap_join ? from->view == SWIM_VIEW_ACTIVE
                                               : from->rec.state == ZMESH_SWIM_STATE_ALIVE);
        zmesh_swim_member_t *other =
            self->bootstrap_join ? zmesh_swim__random_active (self, &self->bootstrap_from, NULL)
                                 : NULL;
        if (usable && (self->bootstrap_tries < SWIM_BOOTSTRAP_TRIES || !other)
            && (self->bootstrap_join || self->bootstrap_tries < SWIM_BOOTSTRAP_TRIES)) {
            self->bootstrap_tries++;
            zmesh_swim__send_sync (self, from, self->sync_cursor, ZMESH_SWIM_SYNC_ALL);
        }
        else if (other)
            zmesh_swim__start_bootstrap (self, other);
        else if (!self->bootstrap_join)
            s_bootstrap_done (self);  //  the other overlay's table: given up
        return;                       //  no neighbour yet: wait for one
    }
    self->next_sync_ms = self->now_ms + self->config.sync_interval_ms;
    //  The passive view takes a random member of the table in place of a random one of its
    //  own: it stays a uniform sample of the live members without a message (SHUFFLE walks
    //  mix it too, but the table knows every member already).
    if (self->member_count > 1 && self->passive_count == self->config.passive_max)
        s_passive_add (
            self,
            &self->members [self->order [1 + zmesh_swim__below (self, self->member_count - 1)]]);
    zmesh_swim_member_t *to = zmesh_swim__random_active (self, NULL, NULL);
    if (to && self->second_bootstrap) {
        self->second_bootstrap = false;
        zmesh_swim__start_bootstrap (self, to);
    }
    //  Anti-entropy needs no timer: digests in PING and ACK start it (zmesh_swim__on_digest).
}

//  ---------------------------------------------------------------------------------------------
//  Periodic work: view repair, join retries, shuffle

void
zmesh_swim__view_tick (zmesh_swim_t *self)
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
        //  No answer: HyParView drops the candidate from the passive view. SWIM probes it
        //  next (directly and through the neighbours): a member none of whose neighbours is
        //  on this side of a partition would otherwise never be suspected here.
        zmesh_swim_member_t *m = &self->members [self->neighbor_pending];
        self->neighbor_pending = SWIM_NO_SLOT;
        s_neighbor_backoff (self);
        if (m->view == SWIM_VIEW_PASSIVE)
            s_passive_remove (self, m);
        if (m->rec.state == ZMESH_SWIM_STATE_ALIVE && self->probe_first == SWIM_NO_SLOT)
            self->probe_first = zmesh_swim__slot (self, m);
    }
    bool thin = zmesh_swim__view_thin (self);
    if (self->neighbor_pending == SWIM_NO_SLOT && self->active_count < self->config.active_max
        && self->passive_count > 0 && (thin || self->now_ms >= self->next_neighbor_ms)) {
        zmesh_swim_member_t *m =
            &self->members [self->passive [zmesh_swim__below (self, self->passive_count)]];
        self->neighbor_pending = zmesh_swim__slot (self, m);
        self->neighbor_until_ms = self->now_ms + self->config.neighbor_timeout_ms;
        //  High priority when thin: the receiver drops another neighbour if full, and the one
        //  dropped still has more than half its view.
        zmesh_swim__send_neighbor (
            self, m, ZMESH_SWIM_NEIGHBOR_REQUEST | (thin ? ZMESH_SWIM_NEIGHBOR_HIGH : 0));
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
            zmesh_swim__send_to (self, &self->join_id, &self->join_contact, ZMESH_SWIM_JOIN);
        if (msg) {
            msg->node = s_self_record (self);
            zmesh_swim__seal (self, msg, &self->join_id);
        }
    }
}

void
zmesh_swim__shuffle_tick (zmesh_swim_t *self)
{
    self->next_shuffle_ms = self->now_ms + self->config.shuffle_interval_ms;
    zmesh_swim_member_t *to = zmesh_swim__random_active (self, NULL, NULL);
    if (!to)
        return;
    uint32_t want = self->config.shuffle_active + self->config.shuffle_passive;
    zmesh_swim_record_t *entries = zmesh_swim__pool (self, want);
    if (!entries)
        return;
    zmesh_swim_msg_t *msg = zmesh_swim__send (self, to, ZMESH_SWIM_SHUFFLE);
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
    zmesh_swim__seal (self, msg, &to->rec.id);
}
