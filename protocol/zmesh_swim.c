/*  zmesh_swim.c: SWIM + Lifeguard membership over a HyParView partial view (see zmesh_swim.h).

    This file holds the table (members, ordering of records, transitions, tombstones) and
    dissemination (piggyback queue, eager push, message budget); zmesh_swim_view.c holds the
    views and joins, zmesh_swim_probe.c probing and suspicion, zmesh_swim_step.c the life
    cycle, the step and read access. zmesh_swim_internal.h is what they share.
*/
#include "zmesh_swim_internal.h"
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  PRNG (splitmix64), seeded through the API

uint64_t
zmesh_swim__rand (zmesh_swim_t *self)
{
    return zmesh_mix64 (self->rng += 0x9e3779b97f4a7c15ull);
}

uint32_t
zmesh_swim__below (zmesh_swim_t *self, uint32_t bound)
{
    ZMESH_ASSERT (bound > 0);
    return (uint32_t) (zmesh_swim__rand (self) % bound);
}

//  ---------------------------------------------------------------------------------------------
//  The id -> slot index: open addressing, linear probing, backward-shift deletion.

static uint32_t
s_hash_of (const zmesh_id_t *id)
{
    uint32_t h;
    memcpy (&h, id->bytes, sizeof h);
    return h * 2654435761u;
}

zmesh_swim_member_t *
zmesh_swim__find (const zmesh_swim_t *self, const zmesh_id_t *id)
{
    for (uint32_t i = s_hash_of (id) & self->hash_mask;; i = (i + 1) & self->hash_mask) {
        uint32_t slot = self->hash [i];
        if (slot == SWIM_NO_SLOT)
            return NULL;
        if (zmesh_id_equal (&self->members [slot].rec.id, id))
            return &self->members [slot];
    }
}

static void
s_hash_insert (zmesh_swim_t *self, uint32_t slot)
{
    uint32_t i = s_hash_of (&self->members [slot].rec.id) & self->hash_mask;
    while (self->hash [i] != SWIM_NO_SLOT)
        i = (i + 1) & self->hash_mask;
    self->hash [i] = slot;
}

static void
s_hash_remove (zmesh_swim_t *self, const zmesh_id_t *id)
{
    uint32_t i = s_hash_of (id) & self->hash_mask;
    while (!zmesh_id_equal (&self->members [self->hash [i]].rec.id, id))
        i = (i + 1) & self->hash_mask;
    //  Shift back every later entry of the cluster that may now sit before its home.
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & self->hash_mask; self->hash [j] != SWIM_NO_SLOT;
         j = (j + 1) & self->hash_mask) {
        uint32_t home = s_hash_of (&self->members [self->hash [j]].rec.id) & self->hash_mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            self->hash [hole] = self->hash [j];
            hole = j;
        }
    }
    self->hash [hole] = SWIM_NO_SLOT;
}

//  ---------------------------------------------------------------------------------------------
//  Table digest: what PING and ACK carry (anti-entropy by digest, zmesh_swim_view.c)


//  The hash of a live record (ALIVE or SUSPECT: the same, as a suspicion floods by itself)
//  over its id, generation and incarnation; 0 for tombstones, which are left out of the
//  digest (a node that never knew a dead member, or reaped it already, agrees with one that
//  still holds its tombstone). Never 0 for a live record.
uint64_t
zmesh_swim__record_hash (const zmesh_swim_record_t *rec)
{
    if (rec->state != ZMESH_SWIM_STATE_ALIVE && rec->state != ZMESH_SWIM_STATE_SUSPECT)
        return 0;
    //  The id's two halves as little-endian words (protocol.md 7.6.5), whatever this host's
    //  byte order: nodes of both kinds must agree on every digest.
    uint64_t a = 0, b = 0;
    for (int i = 7; i >= 0; i--) {
        a = a << 8 | rec->id.bytes [i];
        b = b << 8 | rec->id.bytes [8 + i];
    }
    uint64_t h = zmesh_mix64 (a ^ 0x9e3779b97f4a7c15ull);
    h = zmesh_mix64 (h ^ b);
    h = zmesh_mix64 (h ^ rec->generation);
    h = zmesh_mix64 (h ^ ((uint64_t) rec->incarnation << 1));
    return h ? h : 1;
}

//  The bucket of a member among `buckets` (a power of two): its id's first four bytes.
uint32_t
zmesh_swim__bucket (const zmesh_id_t *id, uint32_t buckets)
{
    uint32_t h = (uint32_t) id->bytes [0] << 24 | (uint32_t) id->bytes [1] << 16
                 | (uint32_t) id->bytes [2] << 8 | id->bytes [3];
    return h & (buckets - 1);
}

//  ---------------------------------------------------------------------------------------------
//  Members

static void
s_change (zmesh_swim_t *self, zmesh_swim_member_t *m, uint8_t from, uint8_t to)
{
    if (self->update->change_count == self->change_capacity) {
        self->update->error = ZMESH_ELIMIT;
        self->stats.limit_drops++;
        return;
    }
    zmesh_swim_change_t *change = &self->update->changes [self->update->change_count++];
    change->id = m->rec.id;
    change->from = (zmesh_peer_state_t) from;
    change->to = (zmesh_peer_state_t) to;
    change->generation = m->rec.generation;
    change->incarnation = m->rec.incarnation;
}

static void
s_track (zmesh_swim_t *self, zmesh_swim_member_t *m, bool tracked)
{
    uint32_t slot = (uint32_t) (m - self->members);
    if (tracked && m->tracked_pos == SWIM_NO_SLOT) {
        m->tracked_pos = self->tracked_count;
        self->tracked [self->tracked_count++] = slot;
    }
    else if (!tracked && m->tracked_pos != SWIM_NO_SLOT) {
        uint32_t last = self->tracked [--self->tracked_count];
        self->tracked [m->tracked_pos] = last;
        self->members [last].tracked_pos = m->tracked_pos;
        m->tracked_pos = SWIM_NO_SLOT;
    }
}

static zmesh_swim_member_t *
s_create (zmesh_swim_t *self, const zmesh_swim_record_t *rec)
{
    if (self->member_count == self->config.max_members) {
        self->update->error = ZMESH_ELIMIT;
        self->stats.limit_drops++;
        return NULL;
    }
    uint32_t slot = self->free [self->config.max_members - ++self->member_count];
    zmesh_swim_member_t *m = &self->members [slot];
    memset (m, 0, sizeof *m);
    m->rec = *rec;
    m->tracked_pos = SWIM_NO_SLOT;
    m->order_pos = self->member_count - 1;
    self->order [m->order_pos] = slot;
    s_hash_insert (self, slot);
    return m;
}

//  This node takes slot 0 at init; it is never reaped.
void
zmesh_swim__init_self (zmesh_swim_t *self, const zmesh_swim_record_t *me)
{
    zmesh_swim_update_t scratch = {.changes = self->changes};
    self->update = &scratch;
    zmesh_swim_member_t *m = s_create (self, me);
    ZMESH_ASSERT (m == &self->members [0]);
    self->digest = zmesh_swim__record_hash (&m->rec);
    self->update = NULL;
}

//  Forget a member: views and queues must not hold it any more.
static void
s_reap (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    uint32_t slot = (uint32_t) (m - self->members);
    ZMESH_ASSERT (slot != 0 && m->view == SWIM_VIEW_NONE);
    self->digest ^= zmesh_swim__record_hash (&m->rec);
    s_change (self, m, m->rec.state, 0);
    s_track (self, m, false);
    zmesh_swim__unqueue (self, slot);
    s_hash_remove (self, &m->rec.id);
    uint32_t last = self->order [self->member_count - 1];
    self->order [m->order_pos] = last;
    self->members [last].order_pos = m->order_pos;
    self->free [self->config.max_members - self->member_count--] = slot;
    m->rec.state = 0;
}

//  Lifeguard's suspicion timeout: from max with one accuser down to min with K + 1.
static uint64_t
s_suspicion_timeout (const zmesh_swim_t *self, const zmesh_swim_member_t *m)
{
    //  1000 * log2 (n), n = 1..9: the ratio of two logarithms does not depend on the base.
    static const uint32_t log2_milli [] = {0, 0, 1000, 1585, 2000, 2322, 2585, 2807, 3000, 3170};
    uint32_t k = self->config.confirmations;
    uint32_t c = m->suspecter_count > 0 ? m->suspecter_count - 1u : 0;
    if (c > k)
        c = k;
    uint64_t span = self->config.suspicion_max_ms - self->config.suspicion_min_ms;
    return self->config.suspicion_max_ms - span * log2_milli [c + 1] / log2_milli [k + 1];
}

static void
s_add_suspecter (zmesh_swim_t *self, zmesh_swim_member_t *m, const zmesh_id_t *accuser, bool *fresh)
{
    for (uint32_t i = 0; i < m->suspecter_count; i++)
        if (zmesh_id_equal (&m->suspecters [i], accuser))
            return;
    if (m->suspecter_count == ZMESH_SWIM_SUSPECTERS_MAX)
        return;
    m->suspecters [m->suspecter_count++] = *accuser;
    m->rec.accuser = *accuser;
    m->dead_at_ms = m->suspect_start_ms + s_suspicion_timeout (self, m);
    //  Up to K confirmations are news worth spreading: each one shortens timers elsewhere.
    *fresh = m->suspecter_count <= self->config.confirmations + 1;
}

//  Move m to a new state (the record already holds the new generation and incarnation).
static void
s_set_state (zmesh_swim_t *self, zmesh_swim_member_t *m, uint8_t to, bool restarted)
{
    uint8_t from = m->rec.state;
    m->rec.state = to;
    if (from != to || (restarted && to == ZMESH_SWIM_STATE_ALIVE)) {
        s_change (self, m, from, to);
        m->state_since_ms = self->now_ms;
    }
    s_track (self, m, to != ZMESH_SWIM_STATE_ALIVE);
    if (to != ZMESH_SWIM_STATE_SUSPECT)
        m->suspecter_count = 0;
    //  A suspicion of a new incarnation is a new suspicion: its timer starts again.
    if (to == ZMESH_SWIM_STATE_SUSPECT
        && (from != ZMESH_SWIM_STATE_SUSPECT || m->suspect_incarnation != m->rec.incarnation
            || restarted)) {
        m->suspect_start_ms = self->now_ms;
        m->suspect_incarnation = m->rec.incarnation;
        m->suspecter_count = 0;
        m->recheck_at_ms = self->now_ms + self->config.suspicion_min_ms / 2;
    }
    if (to == ZMESH_SWIM_STATE_DEAD || to == ZMESH_SWIM_STATE_LEFT)
        zmesh_swim__view_drop (self, m);
    else if (restarted && m->view == SWIM_VIEW_ACTIVE)
        zmesh_swim__relink (self, m);
}

//  0 ALIVE < SUSPECT < DEAD < LEFT: at equal incarnation, the worse news wins.
static int
s_rank (uint8_t state)
{
    return state;
}

//  A record about this node: refute a suspicion or death of this generation.
static bool
s_merge_self (zmesh_swim_t *self, const zmesh_swim_record_t *rec)
{
    zmesh_swim_member_t *me = &self->members [0];
    if (self->left || rec->generation != me->rec.generation)
        return false;
    //  A death is refuted two incarnations above it: news of life one above a death may be
    //  older than it (the refutation of a suspicion that ran out elsewhere), and does not
    //  undo it (see zmesh_swim__merge).
    uint32_t refute =
        rec->state == ZMESH_SWIM_STATE_DEAD ? rec->incarnation + 2 : rec->incarnation + 1;
    if ((rec->state == ZMESH_SWIM_STATE_SUSPECT || rec->state == ZMESH_SWIM_STATE_DEAD)
        && refute > me->rec.incarnation && refute > rec->incarnation) {
        if (rec->state == ZMESH_SWIM_STATE_DEAD) {
            zmesh_swim__recover (self);  //  held dead while alive: a partition healed
            self->check_views = true;
        }
        me->rec.incarnation = refute;
        self->stats.refutations++;
        zmesh_swim__lhm (self, +1);
        zmesh_swim__enqueue (self, 0, true);
        zmesh_swim__fresh (self, &me->rec);
        return true;
    }
    return false;
}

static bool s_merge_other (zmesh_swim_t *self, const zmesh_swim_record_t *rec);

//  Merge a record into the table (SWIM's ordering, above); true when it changed it (news).
//  The digest follows every change of a record.
bool
zmesh_swim__merge (zmesh_swim_t *self, const zmesh_swim_record_t *rec)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, &rec->id);
    uint64_t before = m ? zmesh_swim__record_hash (&m->rec) : 0;
    bool fresh = zmesh_id_equal (&rec->id, &self->config.id) ? s_merge_self (self, rec)
                                                             : s_merge_other (self, rec);
    m = zmesh_swim__find (self, &rec->id);
    self->digest ^= before ^ (m ? zmesh_swim__record_hash (&m->rec) : 0);
    return fresh;
}

static bool
s_merge_other (zmesh_swim_t *self, const zmesh_swim_record_t *rec)
{
    zmesh_swim_member_t *m = zmesh_swim__find (self, &rec->id);
    bool fresh = false;
    uint8_t was = m ? m->rec.state : 0;
    if (!m) {
        //  Only news of a live member creates one: a tombstone of a member reaped here must
        //  not bring it back, nor be reported as a new transition.
        if (rec->state != ZMESH_SWIM_STATE_ALIVE && rec->state != ZMESH_SWIM_STATE_SUSPECT)
            return false;
        //  A suspicion of a member this node did not know starts it ALIVE: the refutation
        //  may have passed here before this node knew the member, and would never come again.
        //  If the member did fail, its DEAD record will apply.
        m = s_create (self, rec);
        if (!m)
            return false;
        m->rec.state = 0;
        m->rec.accuser = (zmesh_id_t){{0}};
        s_set_state (self, m, ZMESH_SWIM_STATE_ALIVE, false);
        fresh = true;
    }
    else if (rec->generation > m->rec.generation) {
        bool contact = m->rec.has_contact;
        zmesh_swim_contact_t old = m->rec.contact;
        m->rec.generation = rec->generation;
        m->rec.incarnation = rec->incarnation;
        m->rec.has_contact = rec->has_contact;
        m->rec.contact = rec->contact;
        if (!rec->has_contact) {
            m->rec.has_contact = contact;
            m->rec.contact = old;
        }
        s_set_state (self, m, rec->state, true);
        if (rec->state == ZMESH_SWIM_STATE_SUSPECT)
            s_add_suspecter (self, m, &rec->accuser, &fresh);
        fresh = true;
    }
    else if (rec->generation < m->rec.generation || m->rec.state == ZMESH_SWIM_STATE_LEFT)
        return false;
    else if (m->rec.state == ZMESH_SWIM_STATE_DEAD
             && (rec->state == ZMESH_SWIM_STATE_ALIVE || rec->state == ZMESH_SWIM_STATE_SUSPECT)
             && rec->incarnation < m->rec.incarnation + 2) {
        //  Life one incarnation above a death may be older than the death (a refutation that
        //  missed the nodes whose suspicion ran out, after which the member crashed): only
        //  the member's refutation of the death itself (two above) brings it back. If it is
        //  alive, it never heard of this death (it refuted another node's, older): tell it.
        if (rec->incarnation > m->rec.incarnation && self->tell_count < SWIM_TELL_MAX
            && self->now_ms >= m->told_ms + self->config.probe_interval_ms) {
            m->told_ms = self->now_ms;
            self->tell [self->tell_count++] = (uint32_t) (m - self->members);
        }
        return false;
    }
    else if (rec->incarnation > m->rec.incarnation
             || (rec->incarnation == m->rec.incarnation
                 && s_rank (rec->state) > s_rank (m->rec.state))
             || rec->state == ZMESH_SWIM_STATE_LEFT) {
        if (was == ZMESH_SWIM_STATE_DEAD
            && (rec->state == ZMESH_SWIM_STATE_ALIVE || rec->state == ZMESH_SWIM_STATE_SUSPECT))
            zmesh_swim__recover (self);  //  the refutation of a death: a partition healed
        m->rec.incarnation = rec->incarnation;
        if (rec->state == ZMESH_SWIM_STATE_ALIVE && rec->has_contact) {
            m->rec.has_contact = true;
            m->rec.contact = rec->contact;
        }
        s_set_state (self, m, rec->state, false);
        if (rec->state == ZMESH_SWIM_STATE_SUSPECT)
            s_add_suspecter (self, m, &rec->accuser, &fresh);
        fresh = true;
    }
    else if (rec->state == ZMESH_SWIM_STATE_SUSPECT && m->rec.state == ZMESH_SWIM_STATE_SUSPECT
             && rec->incarnation == m->rec.incarnation)
        s_add_suspecter (self, m, &rec->accuser, &fresh);  //  a confirmation
    else if (rec->state == ZMESH_SWIM_STATE_ALIVE && rec->has_contact
             && m->rec.state == ZMESH_SWIM_STATE_ALIVE
             && (!m->rec.has_contact
                 || memcmp (rec->contact.key, m->rec.contact.key, ZMESH_KEY_SIZE) != 0
                 || strcmp (rec->contact.endpoint, m->rec.contact.endpoint) != 0)) {
        //  The same news with the contact of this generation (it restarted at a new address,
        //  and its first message here said only its generation): relink to it.
        m->rec.has_contact = true;
        m->rec.contact = rec->contact;
        if (m->view == SWIM_VIEW_ACTIVE)
            zmesh_swim__relink (self, m);
    }
    //  A neighbour another node suspects is probed next: a confirmation shortens every
    //  node's timer (s_suspicion_timeout), and only neighbours can give one.
    if (was != ZMESH_SWIM_STATE_SUSPECT && m->rec.state == ZMESH_SWIM_STATE_SUSPECT
        && m->view == SWIM_VIEW_ACTIVE && !zmesh_id_equal (&rec->accuser, &self->config.id))
        m->checked_ms = 0;
    if (fresh) {
        //  Urgent: a suspicion, death or leave, or the news that ends one here (a refutation).
        bool urgent = m->rec.state != ZMESH_SWIM_STATE_ALIVE || was == ZMESH_SWIM_STATE_SUSPECT
                      || was == ZMESH_SWIM_STATE_DEAD;
        zmesh_swim_record_t copy = m->rec;
        if (rec->state == ZMESH_SWIM_STATE_SUSPECT)
            copy.accuser = rec->accuser;
        if (!self->quiet || urgent)
            zmesh_swim__enqueue (self, (uint32_t) (m - self->members), urgent);
        zmesh_swim__fresh (self, &copy);
    }
    return fresh;
}

//  This node suspects m (its probe failed), or confirms a suspicion it already holds.
void
zmesh_swim__suspect (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    zmesh_swim_record_t rec = m->rec;
    rec.state = ZMESH_SWIM_STATE_SUSPECT;
    rec.has_contact = false;
    rec.accuser = self->config.id;
    if (m->rec.state == ZMESH_SWIM_STATE_ALIVE)
        self->stats.suspicions++;
    zmesh_swim__merge (self, &rec);
}

//  ---------------------------------------------------------------------------------------------
//  Timers of the table: suspicions that ran out, tombstones to reap.

//  Halfway through a suspicion, the neighbours are told it again, whatever they sent: one
//  that holds the refutation answers with it (zmesh_swim_step.c, s_correct). The copies of a
//  refutation to a node can all be lost, and a neighbour that sent the suspicion here does
//  not know it was (the suspicion never goes back to where it came from).
static void
s_recheck (zmesh_swim_t *self, zmesh_swim_member_t *m)
{
    m->recheck_at_ms = 0;
    zmesh_swim__enqueue (self, (uint32_t) (m - self->members), true);
    m->pushed_ms = self->now_ms - SWIM_REPUSH_MS;  //  not pushed in this step: owed at once
    self->next_repush_ms = self->now_ms;
}

//  A new active neighbour (slot) is owed every suspicion this node holds: if it knows of a
//  refutation, it answers with it (s_correct in zmesh_swim_step.c). The news of a refutation
//  that flooded while this node's links were failing would otherwise come too late; the old
//  neighbours, who had the suspicion, are not sent it again.
void
zmesh_swim__owe_suspicions (zmesh_swim_t *self, uint32_t slot)
{
    for (uint32_t i = 0; i < self->tracked_count; i++) {
        uint32_t owed = self->tracked [i];
        zmesh_swim_member_t *m = &self->members [owed];
        if (m->rec.state != ZMESH_SWIM_STATE_SUSPECT || m->queued || owed == slot)
            continue;
        zmesh_swim__enqueue (self, owed, true);
        for (uint32_t a = 0; a < self->active_count; a++)
            for (uint32_t k = 0; self->active [a] != slot && k < SWIM_URGENT_SENDS; k++)
                zmesh_swim__mark_sent (self, m, self->active [a]);
        m->pushed_ms = self->now_ms - SWIM_REPUSH_MS;  //  not pushed in this step
        self->next_repush_ms = self->now_ms;
    }
}

//  This node heard from no live member for SWIM_DEAF_INTERVALS probe intervals, though it
//  holds some that are not suspected (with none, as in a mesh of two, silence is the news).
//  Lifeguard's premise: when nothing gets through, the fault is more likely this node's
//  (its neighbours stalled, its links lost) than every other member's.
static bool
s_deaf (const zmesh_swim_t *self)
{
    uint32_t live = self->member_count - 1 - self->tracked_count;  //  ALIVE, self excluded
    return live > 0
           && self->now_ms >= self->heard_ms
                                  + (uint64_t) SWIM_DEAF_INTERVALS * self->config.probe_interval_ms;
}

//  A message from a live member: this node is not cut off. If a death was put off while it
//  was, every suspicion is asked about again, and runs out one probe interval later at the
//  earliest: the neighbours' answers (a refutation) come first.
void
zmesh_swim__heard (zmesh_swim_t *self)
{
    self->heard_ms = self->now_ms;
    if (!self->deaf)
        return;
    self->deaf = false;
    for (uint32_t i = 0; i < self->tracked_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->tracked [i]];
        if (m->rec.state != ZMESH_SWIM_STATE_SUSPECT)
            continue;
        if (m->dead_at_ms < self->now_ms + self->config.probe_interval_ms)
            m->dead_at_ms = self->now_ms + self->config.probe_interval_ms;
        s_recheck (self, m);
    }
}

//  A partition healed (a death of this generation was refuted): for sync_interval_ms, tables
//  that differ are compared sooner (zmesh_swim__on_digest). The probes that failed were the
//  partition's fault, not this node's: Lifeguard's multiplier starts again from 0, or the
//  nodes next to the cut would probe, and so compare digests, up to lhm_max + 1 times less
//  often while the mesh heals. Deaths are refuted only after a partition or a node cut off;
//  crashes, loss and slow nodes alone never start it.
void
zmesh_swim__recover (zmesh_swim_t *self)
{
    if (self->now_ms >= self->recover_until_ms)
        self->recover_since_ms = self->now_ms;
    self->recover_until_ms = self->now_ms + self->config.sync_interval_ms;
    self->lhm = 0;
    if (!self->probe.running && self->next_probe_ms > self->now_ms + self->config.probe_interval_ms)
        self->next_probe_ms = self->now_ms + self->config.probe_interval_ms;
}

void
zmesh_swim__table_tick (zmesh_swim_t *self)
{
    uint32_t i = 0;
    while (i < self->tracked_count) {
        zmesh_swim_member_t *m = &self->members [self->tracked [i]];
        if (m->rec.state == ZMESH_SWIM_STATE_SUSPECT && m->recheck_at_ms
            && self->now_ms >= m->recheck_at_ms && self->now_ms < m->dead_at_ms)
            s_recheck (self, m);
        if (m->rec.state == ZMESH_SWIM_STATE_SUSPECT && self->now_ms >= m->dead_at_ms
            && s_deaf (self)) {
            //  Cut off: a refutation could not have reached this node. Wait to hear again.
            m->dead_at_ms = self->now_ms + self->config.probe_interval_ms;
            self->deaf = true;
        }
        if (m->rec.state == ZMESH_SWIM_STATE_SUSPECT && self->now_ms >= m->dead_at_ms) {
            zmesh_swim_record_t rec = m->rec;
            rec.state = ZMESH_SWIM_STATE_DEAD;
            rec.has_contact = false;
            self->stats.deaths_declared++;
            zmesh_swim__merge (self, &rec);
        }
        if ((m->rec.state == ZMESH_SWIM_STATE_DEAD || m->rec.state == ZMESH_SWIM_STATE_LEFT)
            && self->now_ms >= m->state_since_ms + self->config.reap_after_ms
            && m->view == SWIM_VIEW_NONE) {
            s_reap (self, m);
            continue;  //  the last tracked member moved into i
        }
        i++;
    }
}

uint64_t
zmesh_swim__table_deadline (const zmesh_swim_t *self)
{
    uint64_t at = UINT64_MAX;
    for (uint32_t i = 0; i < self->tracked_count; i++) {
        const zmesh_swim_member_t *m = &self->members [self->tracked [i]];
        uint64_t when = m->rec.state == ZMESH_SWIM_STATE_SUSPECT
                            ? m->dead_at_ms
                            : m->state_since_ms + self->config.reap_after_ms;
        if (m->rec.state == ZMESH_SWIM_STATE_SUSPECT && m->recheck_at_ms && m->recheck_at_ms < when)
            when = m->recheck_at_ms;
        if (when < at)
            at = when;
    }
    return at;
}

//  ---------------------------------------------------------------------------------------------
//  Dissemination: the piggyback queue, fewest transmissions first.

//  Queue the member's record for piggybacking. Urgent records (suspicions, deaths, leaves,
//  refutations) go first, and to every active neighbour SWIM_URGENT_SENDS times.
void
zmesh_swim__enqueue (zmesh_swim_t *self, uint32_t slot, bool urgent)
{
    zmesh_swim_member_t *m = &self->members [slot];
    m->transmits = 0;
    m->urgent = urgent;
    m->pushed_ms = self->now_ms;  //  the eager push of this step
    if (urgent)
        self->repush_pending = true;
    m->sent_n = 0;  //  new news: every neighbour is owed it again
    if (m->queued)
        return;
    m->queued = true;
    self->queue [self->queue_count++] = slot;
}

void
zmesh_swim__unqueue (zmesh_swim_t *self, uint32_t slot)
{
    if (!self->members [slot].queued)
        return;
    for (uint32_t i = 0; i < self->queue_count; i++)
        if (self->queue [i] == slot) {
            memmove (&self->queue [i], &self->queue [i + 1],
                     (self->queue_count - i - 1) * sizeof self->queue [0]);
            self->queue_count--;
            break;
        }
    self->members [slot].queued = false;
}

uint32_t
zmesh_swim__retransmit_limit (const zmesh_swim_t *self)
{
    uint32_t digits = 0;
    for (uint64_t n = (uint64_t) self->member_count + 1; n > 0; n /= 10)
        digits++;  //  ceil (log10 (N + 1)) for N + 1 not a power of ten; near enough otherwise
    return self->config.retransmit_mult * digits;
}

zmesh_swim_record_t *
zmesh_swim__pool (zmesh_swim_t *self, uint32_t count)
{
    if (self->pool_used + count > ZMESH_SWIM_POOL_RECORDS) {
        self->stats.limit_drops++;
        return NULL;
    }
    zmesh_swim_record_t *records = &self->pool [self->pool_used];
    self->pool_used += count;
    return records;
}

size_t
zmesh_swim__msg_size (const zmesh_swim_msg_t *msg)
{
    size_t size = ZMESH_SWIM_MSG_OVERHEAD_MAX;
    if (msg->type == ZMESH_SWIM_JOIN || msg->type == ZMESH_SWIM_FORWARD_JOIN
        || msg->type == ZMESH_SWIM_NEIGHBOR || msg->type == ZMESH_SWIM_SHUFFLE)
        size += zmesh_swim_record_size (&msg->node);
    for (uint32_t i = 0; i < msg->entry_count; i++)
        size += zmesh_swim_record_size (&msg->entries [i]);
    for (uint32_t i = 0; i < msg->update_count; i++)
        size += zmesh_swim_record_size (&msg->updates [i]);
    if (msg->bucket_count > 0)
        size += 3 + 4 * (size_t) msg->bucket_count;
    return size;
}

//  Suspicions, deaths, leaves and refutations: a timer elsewhere runs on them.
static bool
s_urgent (const zmesh_swim_member_t *m)
{
    return m->urgent;
}

//  How often a queued record is owed to each active neighbour (the eager push counts, and
//  so does the neighbour sending it here): urgent news more, so that it gets through loss.
static uint32_t
s_wanted (const zmesh_swim_member_t *m)
{
    return s_urgent (m) ? SWIM_URGENT_SENDS : SWIM_NEWS_SENDS;
}

//  Urgent records first, then news of joins; fewest transmissions first within each class.
static uint32_t
s_queue_key (const zmesh_swim_member_t *m)
{
    return (s_urgent (m) ? 0u : 256u) + m->transmits;
}

//  Stable insertion sort of the queue: it is mostly sorted already.
static void
s_sort_queue (zmesh_swim_t *self)
{
    for (uint32_t i = 1; i < self->queue_count; i++) {
        uint32_t slot = self->queue [i];
        uint32_t key = s_queue_key (&self->members [slot]);
        uint32_t j = i;
        while (j > 0 && s_queue_key (&self->members [self->queue [j - 1]]) > key) {
            self->queue [j] = self->queue [j - 1];
            j--;
        }
        self->queue [j] = slot;
    }
}

//  How often m's queued record went to the active neighbour in `slot`.
static uint32_t
s_sent_count (const zmesh_swim_member_t *m, uint32_t slot)
{
    for (uint32_t i = 0; i < m->sent_n; i++)
        if (m->sent_to [i] == slot)
            return m->sent_count [i];
    return 0;
}

static void
s_mark_sent (const zmesh_swim_t *self, zmesh_swim_member_t *m, uint32_t slot)
{
    for (uint32_t i = 0; i < m->sent_n; i++)
        if (m->sent_to [i] == slot) {
            if (m->sent_count [i] < UINT8_MAX)
                m->sent_count [i]++;
            return;
        }
    uint32_t at = m->sent_n;
    if (at == ZMESH_SWIM_ACTIVE_LIMIT) {
        //  Full: reuse the entry of a member that left the active view (one must have: the
        //  view holds at most ZMESH_SWIM_ACTIVE_LIMIT, `slot` among them).
        for (at = 0; at < m->sent_n; at++)
            if (self->members [m->sent_to [at]].view != SWIM_VIEW_ACTIVE)
                break;
        if (at == m->sent_n)
            return;
    }
    else
        m->sent_n++;
    m->sent_to [at] = slot;
    m->sent_count [at] = 1;
}

//  The record is still owed to some active neighbour.
static bool
s_owed (const zmesh_swim_t *self, const zmesh_swim_member_t *m)
{
    for (uint32_t i = 0; i < self->active_count; i++)
        if (s_sent_count (m, self->active [i]) < s_wanted (m))
            return true;
    return false;
}

static bool
s_same_news (const zmesh_swim_record_t *a, const zmesh_swim_record_t *b)
{
    return a->generation == b->generation && a->incarnation == b->incarnation
           && a->state == b->state;
}

//  The urgent record of m is still owed to the active neighbour in `slot`.
bool
zmesh_swim__owed (const zmesh_swim_t *self, const zmesh_swim_member_t *m, uint32_t slot)
{
    (void) self;
    return m->queued && s_urgent (m) && s_sent_count (m, slot) < SWIM_URGENT_SENDS;
}

void
zmesh_swim__mark_sent (const zmesh_swim_t *self, zmesh_swim_member_t *m, uint32_t slot)
{
    s_mark_sent (self, m, slot);
}

//  Neighbour `from` sent this record: it holds the news, and is owed it no more.
void
zmesh_swim__known_by (zmesh_swim_t *self, const zmesh_swim_record_t *rec, const zmesh_id_t *from)
{
    zmesh_swim_member_t *sender = zmesh_swim__find (self, from);
    zmesh_swim_member_t *m = zmesh_swim__find (self, &rec->id);
    if (!sender || sender->view != SWIM_VIEW_ACTIVE || !m || !m->queued
        || !s_same_news (&m->rec, rec))
        return;
    uint32_t slot = (uint32_t) (sender - self->members);
    for (uint32_t i = 0; i < SWIM_URGENT_SENDS; i++)
        if (s_sent_count (m, slot) < s_wanted (m))
            s_mark_sent (self, m, slot);
}

//  Fill the piggyback part of a message to `to` (a member, or NULL) within the byte budget:
//  first the record of `to` itself when this node holds it SUSPECT or DEAD, then the queue.
//  To an active neighbour, the urgent records it is still owed come first.
void
zmesh_swim__attach (zmesh_swim_t *self, zmesh_swim_msg_t *msg, const zmesh_swim_member_t *to)
{
    size_t size = zmesh_swim__msg_size (msg);
    uint32_t free_pool = ZMESH_SWIM_POOL_RECORDS - self->pool_used;
    if (free_pool <= msg->update_count || msg->update_count >= ZMESH_SWIM_UPDATES_MAX)
        return;
    uint32_t total_max = ZMESH_SWIM_UPDATES_MAX < free_pool ? ZMESH_SWIM_UPDATES_MAX : free_pool;
    uint32_t to_slot =
        to && to->view == SWIM_VIEW_ACTIVE ? (uint32_t) (to - self->members) : SWIM_NO_SLOT;
    uint32_t stamp = ++self->attach_seq;
    //  The message's own updates (a GOSSIP's fresh records) come first, then ours.
    zmesh_swim_record_t *out = &self->pool [self->pool_used];
    uint32_t count = msg->update_count;
    if (count > 0)
        memcpy (out, msg->updates, count * sizeof *out);
    if (to_slot != SWIM_NO_SLOT)
        for (uint32_t i = 0; i < count; i++) {
            zmesh_swim_member_t *m = zmesh_swim__find (self, &out [i].id);
            if (m && m->queued && s_same_news (&m->rec, &out [i])) {
                s_mark_sent (self, m, to_slot);
                m->attach_stamp = stamp;
            }
        }
    bool told = false;
    if (to && (to->rec.state == ZMESH_SWIM_STATE_SUSPECT || to->rec.state == ZMESH_SWIM_STATE_DEAD)
        && size + zmesh_swim_record_size (&to->rec) <= self->config.max_message_bytes) {
        out [count++] = to->rec;
        size += zmesh_swim_record_size (&to->rec);
        told = true;
    }
    s_sort_queue (self);
    uint32_t limit = zmesh_swim__retransmit_limit (self);
    //  Eager pushes carry their fresh records only: the piggyback budget of a record is
    //  spent on the regular traffic that follows, its second chance to reach every node.
    uint32_t queue_count = msg->type == ZMESH_SWIM_GOSSIP ? 0 : self->queue_count;
    //  Pass 0: urgent records owed to this neighbour; pass 1: the rest, fewest sent first.
    for (int pass = to_slot == SWIM_NO_SLOT ? 1 : 0; pass < 2; pass++)
        for (uint32_t i = 0; i < queue_count && count < total_max; i++) {
            zmesh_swim_member_t *m = &self->members [self->queue [i]];
            if ((told && m == to) || m->attach_stamp == stamp)
                continue;
            bool owed = to_slot != SWIM_NO_SLOT && s_sent_count (m, to_slot) < s_wanted (m);
            if (pass == 0 && !(owed && s_urgent (m)))
                continue;
            //  To an active neighbour, what it is still owed; to another node, what has not
            //  reached its limit yet.
            if (pass == 1 && (to_slot != SWIM_NO_SLOT ? !owed : m->transmits >= limit))
                continue;
            size_t record_size = zmesh_swim_record_size (&m->rec);
            if (size + record_size > self->config.max_message_bytes)
                continue;
            out [count++] = m->rec;
            size += record_size;
            m->attach_stamp = stamp;
            if (m->transmits < UINT8_MAX)
                m->transmits++;
            if (to_slot != SWIM_NO_SLOT)
                s_mark_sent (self, m, to_slot);
        }
    //  Records every active neighbour has (sent to it often enough, or heard from it) leave
    //  the queue, and so do those sent limit * SWIM_HARD_LIMIT_MULT times whatever.
    uint32_t kept = 0;
    for (uint32_t i = 0; i < self->queue_count; i++) {
        zmesh_swim_member_t *m = &self->members [self->queue [i]];
        bool done = !s_owed (self, m) || m->transmits >= limit * SWIM_HARD_LIMIT_MULT;
        if (done)
            m->queued = false;
        else
            self->queue [kept++] = self->queue [i];
    }
    self->queue_count = kept;
    msg->updates = out;
    msg->update_count = count;
    self->pool_used += count;
}

//  A record that changed the table in this step: pushed eagerly at the end of the step.
void
zmesh_swim__fresh (zmesh_swim_t *self, const zmesh_swim_record_t *rec)
{
    if (self->fresh_count == SWIM_FRESH_MAX) {
        self->stats.limit_drops++;  //  still queued for piggybacking
        return;
    }
    self->fresh_records [self->fresh_count++] = *rec;
}
