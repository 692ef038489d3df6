/*  zmesh_state_exchange.c: the state core's exchange (see zmesh_state.h): digest entries,
    runs and requests, push-pull scuttlebutt after van Renesse et al. (LADIS 2008), section 3.

    An exchange starts with a SUMMARY (zmesh_state_summary.c). The peer compares its listed
    entries and complete ranges with what it holds (zmesh_state__on_summary; a DIGEST is read
    as a SUMMARY of one complete range) and answers with DELTAS: its requests and the runs the
    sender lacks; the ranges whose counts or hashes differ it hands to zmesh_state__narrow. A
    DELTAS is applied run by run (zmesh_state__on_deltas); its requests, if any, are answered
    with the runs asked for, which ends that branch of the exchange. A run is built
    oldest first from a version-sorted scratch list of an owner's entries and cut at the byte
    budget, so a receiver always gets a prefix; it is checked against the owner's generation,
    version and floor before any entry is applied. Lists the budget may cut start at a random
    place, so that no owner is always the one left out.
*/
#include "zmesh_state_internal.h"
#include "zmesh_state_codec.h"
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Applying runs.

//  Apply one entry of a run to owner. Returns false when the run must stop here: the owner
//  was dropped (over its bounds) or there is no room for the change (the run is then cut
//  short, as if it had ended before this entry).
static bool
s_apply_delta (zmesh_state_t *self,
               zmesh_state_owner_t *owner,
               const zmesh_state_delta_t *delta,
               zmesh_state_update_t *update)
{
    const zmesh_state_config_t *config = &self->config;
    if (delta->key_size == 0 || delta->key_size > config->key_size_max
        || !zmesh_state__key_printable (delta->key, delta->key_size)) {
        update->dropped [ZMESH_STATE_DROP_KEY]++;
        return true;
    }
    if (!delta->deleted && delta->value_size > config->value_size_max) {
        update->dropped [ZMESH_STATE_DROP_VALUE]++;
        return true;
    }
    zmesh_state_entry_t *entry = zmesh_state__entry_find (owner, delta->key, delta->key_size);
    if (entry && entry->version >= delta->version)
        return true;  //  already held, or newer
    uint32_t value_size = delta->deleted ? 0 : delta->value_size;
    uint64_t keys = owner->entry_count + (entry ? 0 : 1);
    uint64_t bytes = owner->bytes + delta->key_size + value_size;
    if (entry)
        bytes -= entry->key_size + entry->value_size;
    bool over_keys = keys > (uint64_t) config->max_keys * ZMESH_STATE_REPLICA_SLACK;
    bool over_bytes = bytes > (uint64_t) config->owner_bytes_max * ZMESH_STATE_REPLICA_SLACK;
    if (over_keys || over_bytes) {
        update->dropped [over_keys ? ZMESH_STATE_DROP_OWNER_KEYS : ZMESH_STATE_DROP_OWNER_BYTES]++;
        zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_OVERFLOW);
        return false;
    }
    bool visible = !delta->deleted || (entry && !entry->deleted);
    bool room = !visible || zmesh_state__arena_room (self, delta->key_size, value_size);
    if (!room
        || zmesh_state__entry_write (self, owner, entry, delta->key, delta->key_size, delta->value,
                                     value_size, delta->deleted, delta->version)) {
        //  Everything of the run before this entry is applied: a prefix up to version - 1.
        owner->version = zmesh_state__max (owner->version, delta->version - 1);
        return false;
    }
    if (!entry)
        entry = &owner->entries [owner->entry_count - 1];
    if (visible)
        zmesh_state__change_entry (self, owner, entry,
                                   delta->deleted ? ZMESH_STATE_CHANGE_DELETE
                                                  : ZMESH_STATE_CHANGE_SET);
    return true;
}

//  Check a run against what this node holds of its owner; returns the owner to apply it to,
//  or NULL (and counts why) when the run must be ignored.
static zmesh_state_owner_t *
s_run_target (zmesh_state_t *self, const zmesh_state_run_t *run, zmesh_state_update_t *update)
{
    if (zmesh_state__id_cmp (&run->owner, &self->self) == 0) {
        update->dropped [ZMESH_STATE_DROP_SELF]++;
        return NULL;
    }
    zmesh_state_owner_t *owner = zmesh_state__owner_find (self, &run->owner);
    if (!owner) {
        if (run->to_version == 0)
            return NULL;  //  announces a generation with nothing in it: nothing to hold
        if (zmesh_state__forgotten (self, &run->owner, run->generation)) {
            update->dropped [ZMESH_STATE_DROP_FORGOTTEN]++;
            return NULL;
        }
        if (run->from_version != 0) {
            update->dropped [ZMESH_STATE_DROP_GAP]++;
            return NULL;
        }
        owner = zmesh_state__owner_add (self, &run->owner, update);
        if (!owner)
            return NULL;
        owner->generation = run->generation;
    }
    if (run->generation < owner->generation) {
        update->dropped [ZMESH_STATE_DROP_STALE]++;
        return NULL;
    }
    if (run->generation > owner->generation) {
        zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_GENERATION);
        owner->generation = run->generation;
        owner->changed_ms = self->now_ms;
    }
    //  The sender collected tombstones this node may lack: only a run from 0 is safe, and it
    //  replaces what is held, even if it is cut short before this node's version (the next
    //  runs continue from it; the floor keeps this from happening again).
    if (run->floor > zmesh_state__max (owner->version, owner->floor)) {
        if (run->from_version != 0) {
            update->dropped [ZMESH_STATE_DROP_GAP]++;
            return NULL;
        }
        zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_RESYNC);
        owner->floor = run->floor;
        return owner;
    }
    if (run->to_version <= owner->version) {
        if (run->to_version > run->from_version)
            update->dropped [ZMESH_STATE_DROP_STALE]++;
        return NULL;
    }
    if (run->from_version > owner->version) {
        update->dropped [ZMESH_STATE_DROP_GAP]++;
        return NULL;
    }
    //  After a reset this node accounts for every delete up to its floor; a sender that has
    //  seen less may still hold a value one of them removed.
    if (owner->floor > zmesh_state__max (run->held_version, run->floor)) {
        update->dropped [ZMESH_STATE_DROP_BEHIND]++;
        return NULL;
    }
    return owner;
}

static void
s_apply_run (zmesh_state_t *self,
             const zmesh_state_msg_t *msg,
             const zmesh_state_run_t *run,
             zmesh_state_update_t *update)
{
    zmesh_state_owner_t *owner = s_run_target (self, run, update);
    if (!owner)
        return;
    owner->changed_ms = self->now_ms;
    for (uint32_t i = 0; i < run->delta_count; i++)
        if (!s_apply_delta (self, owner, &msg->deltas [run->first_delta + i], update))
            return;
    owner->version = zmesh_state__max (owner->version, run->to_version);
}

//  ---------------------------------------------------------------------------------------------
//  Building messages.

//  Where a run for a peer that holds (generation, version, floor) of owner must start.
static uint64_t
s_run_from (const zmesh_state_owner_t *owner, uint64_t generation, uint64_t version, uint64_t floor)
{
    if (generation != owner->generation || owner->floor > zmesh_state__max (version, floor))
        return 0;
    return version;
}

static int
s_by_version (const void *a, const void *b)
{
    const zmesh_state_entry_t *x = *(const zmesh_state_entry_t *const *) a;
    const zmesh_state_entry_t *y = *(const zmesh_state_entry_t *const *) b;
    return x->version < y->version ? -1 : x->version > y->version;
}

static void
s_fill_delta (zmesh_state_delta_t *delta, const zmesh_state_entry_t *entry)
{
    delta->key = entry->key;
    delta->key_size = entry->key_size;
    delta->value = entry->value;
    delta->value_size = entry->value_size;
    delta->version = entry->version;
    delta->deleted = entry->deleted;
}

//  Add a run of owner's entries after from to the outgoing message, oldest first, as many as
//  the budget leaves room for (*used: bytes so far).
static void
s_emit_run (zmesh_state_t *self,
            zmesh_state_msg_t *msg,
            const zmesh_state_owner_t *owner,
            uint64_t from,
            size_t *used)
{
    if (msg->run_count == self->out_runs_max)
        return;
    uint32_t n = 0;
    for (uint32_t i = 0; i < owner->entry_count; i++)
        if (owner->entries [i].version > from)
            self->scratch [n++] = &owner->entries [i];
    qsort (self->scratch, n, sizeof *self->scratch, s_by_version);
    zmesh_state_run_t *run = &self->out_runs [msg->run_count];
    memset (run, 0, sizeof *run);
    run->owner = owner->id;
    run->generation = owner->generation;
    run->from_version = from;
    run->to_version = owner->version;  //  an upper bound of the final `to`, for the size
    run->held_version = owner->version;
    run->floor = owner->floor;
    run->first_delta = msg->delta_count;
    size_t size = zmesh_state_run_header_size (run);
    size_t budget = self->config.budget_bytes;
    for (uint32_t i = 0; i < n; i++) {
        if (msg->delta_count == self->out_deltas_max)
            break;
        zmesh_state_delta_t *delta = &self->out_deltas [msg->delta_count];
        s_fill_delta (delta, self->scratch [i]);
        size_t delta_size = zmesh_state_delta_size (delta);
        if (*used + size + delta_size > budget)
            break;
        size += delta_size;
        msg->delta_count++;
        run->delta_count++;
    }
    if (*used + size > budget || (n > 0 && run->delta_count == 0))
        return;  //  nothing of it fits: leave the room to another owner
    if (run->delta_count < n)
        run->to_version = self->scratch [run->delta_count - 1]->version;
    msg->run_count++;
    *used += size;
}

zmesh_state_msg_t *
zmesh_state__out_begin (zmesh_state_t *self,
                        const zmesh_state_update_t *update,
                        const zmesh_id_t *to,
                        zmesh_state_msg_type_t type)
{
    //  A DELTAS, then a SUMMARY: each has its own arrays, so never two of a type.
    ZMESH_ASSERT (update->msg_count < 2);
    ZMESH_ASSERT (update->msg_count == 0 || self->out [0].msg.type != type);
    zmesh_state_out_t *out = &self->out [update->msg_count];
    memset (out, 0, sizeof *out);
    out->to = *to;
    out->msg.type = type;
    if (type == ZMESH_STATE_MSG_SUMMARY) {
        out->msg.digest = self->out_listed;
        out->msg.summaries = self->out_summaries;
    }
    else {
        ZMESH_ASSERT (type == ZMESH_STATE_MSG_DELTAS);
        out->msg.digest = self->out_digest;
        out->msg.runs = self->out_runs;
        out->msg.deltas = self->out_deltas;
    }
    return &out->msg;
}

void
zmesh_state__out_send (zmesh_state_t *self, zmesh_state_update_t *update)
{
    const zmesh_state_msg_t *msg = &self->out [update->msg_count].msg;
    ZMESH_ASSERT (zmesh_state_msg_check (msg) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_state_msg_size (msg) <= self->config.budget_bytes);
    update->msg_count++;
}

//  A DELTAS message to peer: requests (wants), then runs (gives), each list started at a
//  random place so that when the budget cuts it, no owner is always the one left out.
static void
s_reply (zmesh_state_t *self,
         const zmesh_id_t *peer,
         uint32_t give_count,
         uint32_t want_count,
         zmesh_state_update_t *update)
{
    zmesh_state_msg_t *msg = zmesh_state__out_begin (self, update, peer, ZMESH_STATE_MSG_DELTAS);
    size_t used = ZMESH_STATE_DELTAS_BASE_SIZE;
    size_t wants_budget = give_count ? self->config.budget_bytes / 2 : self->config.budget_bytes;
    uint32_t start = want_count ? (uint32_t) (zmesh_state__rand (self) % want_count) : 0;
    for (uint32_t j = 0; j < want_count && msg->digest_count < self->out_digest_max; j++) {
        const zmesh_state_digest_entry_t *want = &self->wants [(start + j) % want_count];
        size_t size = zmesh_state_digest_entry_size (want);
        if (used + size > wants_budget)
            break;
        self->out_digest [msg->digest_count++] = *want;
        used += size;
    }
    start = give_count ? (uint32_t) (zmesh_state__rand (self) % give_count) : 0;
    for (uint32_t j = 0; j < give_count; j++) {
        uint32_t k = (start + j) % give_count;
        s_emit_run (self, msg, &self->owners [self->gives [k]], self->gives_from [k], &used);
    }
    if (msg->digest_count + msg->run_count > 0)
        zmesh_state__out_send (self, update);
}

//  ---------------------------------------------------------------------------------------------
//  Receiving.

static void
s_want (zmesh_state_t *self,
        uint32_t *want_count,
        const zmesh_id_t *owner,
        uint64_t generation,
        uint64_t version,
        uint64_t floor)
{
    if (*want_count == self->wants_capacity)
        return;
    zmesh_state_digest_entry_t *want = &self->wants [(*want_count)++];
    want->owner = *owner;
    want->generation = generation;
    want->version = version;
    want->floor = floor;
}

//  An owner the peer lists and this node does not hold.
static void
s_want_unknown (zmesh_state_t *self,
                const zmesh_state_digest_entry_t *theirs,
                uint32_t *want_count,
                uint32_t *new_count,
                zmesh_state_update_t *update)
{
    if (theirs->version == 0)
        return;
    if (zmesh_state__forgotten (self, &theirs->owner, theirs->generation)) {
        update->dropped [ZMESH_STATE_DROP_FORGOTTEN]++;
        return;
    }
    if (self->owner_count + *new_count >= self->config.max_owners) {
        update->dropped [ZMESH_STATE_DROP_OWNERS]++;
        return;
    }
    (*new_count)++;
    s_want (self, want_count, &theirs->owner, 0, 0, 0);
}

//  An owner this node holds, against the peer's digest entry (zeros if the peer lacks it).
static void
s_compare (zmesh_state_t *self,
           uint32_t index,
           const zmesh_state_digest_entry_t *theirs,
           bool listed,
           uint32_t *give_count,
           uint32_t *want_count,
           zmesh_state_update_t *update)
{
    zmesh_state_owner_t *owner = &self->owners [index];
    bool is_self = zmesh_state__id_cmp (&owner->id, &self->self) == 0;
    bool newer_generation = theirs->generation > owner->generation;
    if (newer_generation
        || (theirs->generation == owner->generation && theirs->version > owner->version)) {
        if (is_self) {
            update->dropped [ZMESH_STATE_DROP_SELF]++;
            return;
        }
        if (newer_generation) {
            zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_GENERATION);
            owner->generation = theirs->generation;
            owner->changed_ms = self->now_ms;
        }
        s_want (self, want_count, &owner->id, owner->generation, owner->version, owner->floor);
        return;
    }
    bool gives = owner->generation > theirs->generation || owner->version > theirs->version;
    if (!listed && owner->version == 0)
        gives = false;  //  nothing to tell a peer that does not know the owner
    if (owner->generation == theirs->generation
        && theirs->floor > zmesh_state__max (owner->version, owner->floor))
        gives = false;  //  the peer would refuse it (ZMESH_STATE_DROP_BEHIND)
    if (gives) {
        self->gives [*give_count] = index;
        self->gives_from [*give_count] =
            s_run_from (owner, theirs->generation, theirs->version, theirs->floor);
        (*give_count)++;
    }
}

//  A digest entry outside the digest's range: compared alone.
static void
s_compare_listed (zmesh_state_t *self,
                  const zmesh_state_digest_entry_t *theirs,
                  uint32_t *give_count,
                  uint32_t *want_count,
                  uint32_t *new_count,
                  zmesh_state_update_t *update)
{
    zmesh_state_owner_t *owner = zmesh_state__owner_find (self, &theirs->owner);
    if (owner)
        s_compare (self, (uint32_t) (owner - self->owners), theirs, true, give_count, want_count,
                   update);
    else
        s_want_unknown (self, theirs, want_count, new_count, update);
}

//  Own owners in a complete range (count 0) of msg that it does not list: the peer lacks them.
static void
s_compare_complete (zmesh_state_t *self,
                    const zmesh_state_msg_t *msg,
                    const zmesh_state_summary_t *range,
                    uint32_t *give_count,
                    uint32_t *want_count,
                    zmesh_state_update_t *update)
{
    uint32_t i = zmesh_state__owner_lower_bound (self, &range->lo);
    for (; i < self->owner_count && zmesh_state__id_cmp (&self->owners [i].id, &range->hi) <= 0;
         i++) {
        const zmesh_id_t *id = &self->owners [i].id;
        if (zmesh_state__listed (msg->digest, msg->digest_count, id))
            continue;
        zmesh_state_digest_entry_t none = {.owner = *id};
        s_compare (self, i, &none, false, give_count, want_count, update);
    }
}

void
zmesh_state__on_summary (zmesh_state_t *self,
                         const zmesh_id_t *peer,
                         const zmesh_state_msg_t *msg,
                         zmesh_state_update_t *update)
{
    uint32_t give_count = 0, want_count = 0, new_count = 0;
    //  Listed entries are compared one by one, wherever they are.
    for (uint32_t k = 0; k < msg->digest_count; k++)
        s_compare_listed (self, &msg->digest [k], &give_count, &want_count, &new_count, update);
    //  Ranges: complete ones as a digest's range; summarised ones by count and hash.
    self->differ_count = 0;
    for (uint32_t s = 0; s < msg->summary_count; s++) {
        const zmesh_state_summary_t *theirs = &msg->summaries [s];
        if (theirs->count == 0) {
            s_compare_complete (self, msg, theirs, &give_count, &want_count, update);
            continue;
        }
        zmesh_state_summary_t mine = {.lo = theirs->lo, .hi = theirs->hi};
        zmesh_state__range_sum (self, &mine, msg->digest, msg->digest_count);
        if (mine.count != theirs->count || mine.hash != theirs->hash) {
            ZMESH_ASSERT (self->differ_count < ZMESH_STATE_MSG_SUMMARIES_MAX);
            self->differ [self->differ_count++] = mine;
        }
    }
    s_reply (self, peer, give_count, want_count, update);
    if (self->differ_count > 0)
        zmesh_state__narrow (self, peer, update);
}

void
zmesh_state__on_digest (zmesh_state_t *self,
                        const zmesh_id_t *peer,
                        const zmesh_state_msg_t *msg,
                        zmesh_state_update_t *update)
{
    //  A DIGEST is a SUMMARY of one complete range.
    zmesh_state_summary_t range = {.lo = msg->range_lo, .hi = msg->range_hi};
    zmesh_state_msg_t summary = *msg;
    summary.type = ZMESH_STATE_MSG_SUMMARY;
    summary.summary_count = 1;
    summary.summaries = &range;
    zmesh_state__on_summary (self, peer, &summary, update);
}

void
zmesh_state__on_deltas (zmesh_state_t *self,
                        const zmesh_id_t *peer,
                        const zmesh_state_msg_t *msg,
                        zmesh_state_update_t *update)
{
    for (uint32_t i = 0; i < msg->run_count; i++)
        s_apply_run (self, msg, &msg->runs [i], update);
    if (msg->digest_count == 0)
        return;  //  the end of an exchange
    uint32_t give_count = 0;
    for (uint32_t i = 0; i < msg->digest_count && give_count < self->config.max_owners; i++) {
        const zmesh_state_digest_entry_t *request = &msg->digest [i];
        zmesh_state_owner_t *owner = zmesh_state__owner_find (self, &request->owner);
        if (!owner || request->generation > owner->generation
            || (request->generation == owner->generation
                && (request->version >= owner->version
                    || request->floor > zmesh_state__max (owner->version, owner->floor))))
            continue;
        self->gives [give_count] = (uint32_t) (owner - self->owners);
        self->gives_from [give_count] =
            s_run_from (owner, request->generation, request->version, request->floor);
        give_count++;
    }
    s_reply (self, peer, give_count, 0, update);
}
