/*  zmesh_state_summary.c: the state core's summaries (see zmesh_state.h): what makes an
    exchange cheap when nothing changed, and quick to find what did.

    A summary stands for the owners a node holds in an id range by their count and the sum
    (mod 2^64) of a 64-bit hash of each one's (owner, generation, version): equal sums, equal
    replicas (but for a 2^-64 chance), and a sum is cheap to compute over any range, whatever
    the order. Each owner caches its hash for the tuple it was computed for.

    An exchange starts with one SUMMARY (zmesh_state__start_exchange). Quiet (nothing hot
    here): one summary of the whole id space. Busy: the hot owners listed one by one, so that
    news spreads at once, then the others listed from a rotating cursor as complete ranges (a
    summary of owners this node may have missed news of would mostly differ, and cost a round
    of narrowing in a mesh whose owners all write every few seconds); the rest of the id space
    is summarised only when it is the larger part. A receiver whose own sums agree says nothing more; where a range differs
    (zmesh_state__narrow), it answers with a SUMMARY of its own: the range listed owner by owner
    when that fits (a complete range, which the other side compares entry by entry and answers
    with runs and requests), else the range cut into up to ZMESH_STATE_SPLIT_WAYS pieces of
    about as many owners each, with its own sums. The other side answers the pieces that still
    differ the same way, so each round trip cuts the ranges that differ by the split ways, until
    they are small enough to list. Ranges always shrink, so every chain of replies ends.
*/
#include "zmesh_state_internal.h"
#include "zmesh_state_codec.h"
#include <stdlib.h>
#include <string.h>

static const zmesh_id_t s_id_first = {{0}};
static const zmesh_id_t s_id_last = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

//  The id after id, in memcmp order (byte 0 most significant). Wraps to zero after the last.
static zmesh_id_t
s_id_next (zmesh_id_t id)
{
    for (int i = ZMESH_ID_SIZE - 1; i >= 0; i--)
        if (++id.bytes [i] != 0)
            break;
    return id;
}

//  owner's tuple hash, recomputed only when its generation or version moved.
static uint64_t
s_owner_hash (zmesh_state_owner_t *owner)
{
    if (owner->hash_generation != owner->generation || owner->hash_version != owner->version) {
        owner->hash = zmesh_state_tuple_hash (&owner->id, owner->generation, owner->version);
        owner->hash_generation = owner->generation;
        owner->hash_version = owner->version;
    }
    return owner->hash;
}

void
zmesh_state__range_sum (zmesh_state_t *self,
                        zmesh_state_summary_t *range,
                        const zmesh_state_digest_entry_t *listed,
                        uint32_t listed_count)
{
    range->count = 0;
    range->hash = 0;
    uint32_t i = zmesh_state__owner_lower_bound (self, &range->lo);
    for (; i < self->owner_count && zmesh_state__id_cmp (&self->owners [i].id, &range->hi) <= 0;
         i++) {
        zmesh_state_owner_t *owner = &self->owners [i];
        if (owner->version == 0 || zmesh_state__listed (listed, listed_count, &owner->id))
            continue;
        range->count++;
        range->hash += s_owner_hash (owner);
    }
}

static int
s_by_owner (const void *a, const void *b)
{
    return zmesh_state__id_cmp (&((const zmesh_state_digest_entry_t *) a)->owner,
                                &((const zmesh_state_digest_entry_t *) b)->owner);
}

static int
s_by_range (const void *a, const void *b)
{
    return zmesh_state__id_cmp (&((const zmesh_state_summary_t *) a)->lo,
                                &((const zmesh_state_summary_t *) b)->lo);
}

//  Add owner's digest entry to msg if it fits within limit bytes (*used: bytes so far).
static bool
s_list (zmesh_state_t *self,
        zmesh_state_msg_t *msg,
        const zmesh_state_owner_t *owner,
        size_t *used,
        size_t limit)
{
    zmesh_state_digest_entry_t entry = {owner->id, owner->generation, owner->version, owner->floor};
    size_t size = zmesh_state_digest_entry_size (&entry);
    if (msg->digest_count == self->out_digest_max || *used + size > limit)
        return false;
    self->out_listed [msg->digest_count++] = entry;
    *used += size;
    return true;
}

//  The id before id (id above the first).
static zmesh_id_t
s_id_prev (zmesh_id_t id)
{
    for (int i = ZMESH_ID_SIZE - 1; i >= 0; i--)
        if (id.bytes [i]-- != 0)
            break;
    return id;
}

//  Add range to msg (ranges must come in ascending order).
static void
s_add_range (zmesh_state_t *self, zmesh_state_msg_t *msg, zmesh_id_t lo, zmesh_id_t hi, bool sum)
{
    zmesh_state_summary_t *range = &self->out_summaries [msg->summary_count++];
    memset (range, 0, sizeof *range);
    range->lo = lo;
    range->hi = hi;
    if (sum)
        zmesh_state__range_sum (self, range, self->out_listed, msg->digest_count);
}

//  A busy exchange (some owners hot; the hot ones listed first): list the others from the
//  cursor on, wrapping round past the last id, as many as fit: one or two complete ranges.
//  The cursor moves on past them. The rest of the id space, between where the listing ended
//  and the cursor, is summarised only if it holds more owners than the message lists: while
//  news flows it mostly differs (this node is behind on what is not hot here) and the cursor
//  comes to it soon, but a node catching up on a large mesh gets it narrowed down at once
//  rather than over many turns of the cursor. *used counts four ranges already.
static void
s_list_from_cursor (zmesh_state_t *self, zmesh_state_msg_t *msg, size_t *used)
{
    size_t budget = self->config.budget_bytes;
    uint32_t hot = msg->digest_count, n = self->owner_count;
    uint32_t first = zmesh_state__owner_lower_bound (self, &self->cursor), j = 0;
    for (; j < n; j++) {
        zmesh_state_owner_t *owner = &self->owners [(first + j) % n];
        if (!zmesh_state__listed (self->out_listed, hot, &owner->id)
            && !s_list (self, msg, owner, used, budget))
            break;
    }
    qsort (self->out_listed, msg->digest_count, sizeof *self->out_listed, s_by_owner);
    if (j == n) {
        s_add_range (self, msg, s_id_first, s_id_last, false);  //  every owner listed
        return;
    }
    if (j == 0)
        return;  //  not one more owner fits: the hot ones only
    zmesh_id_t last = self->owners [(first + j - 1) % n].id;
    bool wrapped = first + j > n;
    //  The rest: [after last, before cursor], or the two ends of the id space.
    zmesh_state_summary_t rest [2];
    uint32_t rest_count = 0;
    uint64_t rest_owners = 0;
    if (wrapped)
        rest [rest_count++] =
            (zmesh_state_summary_t){s_id_next (last), s_id_prev (self->cursor), 0, 0};
    else {
        if (zmesh_state__id_cmp (&self->cursor, &s_id_first) != 0)
            rest [rest_count++] =
                (zmesh_state_summary_t){s_id_first, s_id_prev (self->cursor), 0, 0};
        if (zmesh_state__id_cmp (&last, &s_id_last) != 0)
            rest [rest_count++] = (zmesh_state_summary_t){s_id_next (last), s_id_last, 0, 0};
    }
    for (uint32_t r = 0; r < rest_count; r++) {
        zmesh_state__range_sum (self, &rest [r], self->out_listed, msg->digest_count);
        rest_owners += rest [r].count;
    }
    bool summarise = rest_owners > msg->digest_count;
    if (wrapped) {
        s_add_range (self, msg, s_id_first, last, false);
        if (summarise)
            self->out_summaries [msg->summary_count++] = rest [0];
        s_add_range (self, msg, self->cursor, s_id_last, false);
    }
    else {
        if (summarise && zmesh_state__id_cmp (&self->cursor, &s_id_first) != 0)
            self->out_summaries [msg->summary_count++] = rest [0];
        s_add_range (self, msg, self->cursor, last, false);
        if (summarise && zmesh_state__id_cmp (&last, &s_id_last) != 0)
            self->out_summaries [msg->summary_count++] = rest [rest_count - 1];
    }
    self->cursor = s_id_next (last);
}

//  Start an exchange. Quiet (no owner hot here): a SUMMARY of one summary of every owner, the
//  whole id space, which a peer in sync answers with nothing. Busy: the hot owners listed (up
//  to half the budget, from a random place), then a complete range of the others from the
//  cursor, as a DIGEST did. When news flows, the owners not hot here are the ones this node
//  may have missed news of, so a summary of them would mostly differ, and cost a round trip of
//  narrowing before any news moves; a listing lets the peer answer at once.
void
zmesh_state__start_exchange (zmesh_state_t *self,
                             const zmesh_id_t *peer,
                             zmesh_state_update_t *update)
{
    zmesh_state_msg_t *msg = zmesh_state__out_begin (self, update, peer, ZMESH_STATE_MSG_SUMMARY);
    //  Room for four summaries (a busy exchange's listed ranges and the rest).
    size_t used = ZMESH_STATE_SUMMARY_BASE_SIZE + 4 * ZMESH_STATE_SUMMARY_SIZE_MAX;
    size_t budget = self->config.budget_bytes;
    uint32_t start = (uint32_t) (zmesh_state__rand (self) % self->owner_count);
    for (uint32_t j = 0; j < self->owner_count; j++) {
        zmesh_state_owner_t *owner = &self->owners [(start + j) % self->owner_count];
        if (owner->changed_ms + self->config.hot_ms > self->now_ms
            && !s_list (self, msg, owner, &used, budget / 2))
            break;
    }
    qsort (self->out_listed, msg->digest_count, sizeof *self->out_listed, s_by_owner);
    if (msg->digest_count > 0) {
        s_list_from_cursor (self, msg, &used);
        zmesh_state__out_send (self, update);
        return;
    }
    zmesh_state_summary_t *all = &self->out_summaries [msg->summary_count++];
    all->lo = s_id_first;
    all->hi = s_id_last;
    zmesh_state__range_sum (self, all, self->out_listed, msg->digest_count);
    if (all->count == 0) {
        //  A complete range: list what is held at version 0 too, room allowing.
        for (uint32_t i = 0; i < self->owner_count; i++)
            if (!s_list (self, msg, &self->owners [i], &used, budget))
                break;
        qsort (self->out_listed, msg->digest_count, sizeof *self->out_listed, s_by_owner);
    }
    zmesh_state__out_send (self, update);
}

//  ---------------------------------------------------------------------------------------------
//  Narrowing down.

//  List this node's owners in range as a complete range, if those with a version fit (those
//  at version 0 only while room remains). False, with nothing added, if they do not.
static bool
s_list_range (zmesh_state_t *self,
              zmesh_state_msg_t *msg,
              const zmesh_state_summary_t *range,
              uint32_t first,
              uint32_t end,
              size_t *used)
{
    size_t budget = self->config.budget_bytes;
    zmesh_state_summary_t complete = {.lo = range->lo, .hi = range->hi};
    size_t needed = zmesh_state_summary_size (&complete);
    uint32_t count = 0;
    for (uint32_t i = first; i < end; i++) {
        const zmesh_state_owner_t *owner = &self->owners [i];
        zmesh_state_digest_entry_t entry = {owner->id, owner->generation, owner->version,
                                            owner->floor};
        if (owner->version > 0) {
            needed += zmesh_state_digest_entry_size (&entry);
            count++;
        }
    }
    if (*used + needed > budget || msg->digest_count + count > self->out_digest_max
        || msg->summary_count == self->out_summaries_max)
        return false;
    self->out_summaries [msg->summary_count++] = complete;
    *used += zmesh_state_summary_size (&complete);
    //  What the owners with a version not listed yet need: kept free for them.
    size_t reserve = needed - zmesh_state_summary_size (&complete);
    for (uint32_t i = first; i < end; i++) {
        const zmesh_state_owner_t *owner = &self->owners [i];
        if (owner->version > 0) {
            zmesh_state_digest_entry_t entry = {owner->id, owner->generation, owner->version,
                                                owner->floor};
            reserve -= zmesh_state_digest_entry_size (&entry);
            count--;
            bool listed = s_list (self, msg, owner, used, budget);
            ZMESH_ASSERT (listed);
        }
        else if (msg->digest_count + count < self->out_digest_max)
            s_list (self, msg, owner, used, budget - reserve);
    }
    return true;
}

//  Cut range into ways pieces of about as many owners with a version each (at least one),
//  each summarised; the pieces tile the range.
static void
s_split_range (zmesh_state_t *self,
               zmesh_state_msg_t *msg,
               const zmesh_state_summary_t *range,
               uint32_t first,
               uint32_t end,
               uint32_t held,
               uint32_t ways,
               size_t *used)
{
    zmesh_state_summary_t piece = {.lo = range->lo};
    uint32_t seen = 0, cut = 0;
    for (uint32_t i = first; i < end; i++) {
        zmesh_state_owner_t *owner = &self->owners [i];
        if (owner->version == 0)
            continue;
        piece.count++;
        piece.hash += s_owner_hash (owner);
        seen++;
        if (cut + 1 < ways && seen == (uint64_t) (cut + 1) * held / ways) {
            piece.hi = owner->id;
            self->out_summaries [msg->summary_count++] = piece;
            *used += zmesh_state_summary_size (&piece);
            memset (&piece, 0, sizeof piece);
            piece.lo = s_id_next (owner->id);
            cut++;
        }
    }
    ZMESH_ASSERT (cut + 1 == ways && piece.count > 0);
    piece.hi = range->hi;
    self->out_summaries [msg->summary_count++] = piece;
    *used += zmesh_state_summary_size (&piece);
}

//  One range that differs: list it, or split it, or (no room left) leave it to a later
//  exchange.
static void
s_narrow_range (zmesh_state_t *self,
                zmesh_state_msg_t *msg,
                const zmesh_state_summary_t *range,
                size_t *used)
{
    uint32_t first = zmesh_state__owner_lower_bound (self, &range->lo), end = first, held = 0;
    while (end < self->owner_count && zmesh_state__id_cmp (&self->owners [end].id, &range->hi) <= 0)
        held += self->owners [end++].version > 0;
    if (s_list_range (self, msg, range, first, end, used))
        return;
    size_t room = self->config.budget_bytes - *used;
    uint32_t ways = ZMESH_STATE_SPLIT_WAYS;
    if (ways > held)
        ways = held;
    if (ways > room / ZMESH_STATE_SUMMARY_SIZE_MAX)
        ways = (uint32_t) (room / ZMESH_STATE_SUMMARY_SIZE_MAX);
    if (ways > self->out_summaries_max - msg->summary_count)
        ways = self->out_summaries_max - msg->summary_count;
    if (ways >= 2)
        s_split_range (self, msg, range, first, end, held, ways, used);
}

void
zmesh_state__narrow (zmesh_state_t *self, const zmesh_id_t *peer, zmesh_state_update_t *update)
{
    zmesh_state_msg_t *msg = zmesh_state__out_begin (self, update, peer, ZMESH_STATE_MSG_SUMMARY);
    size_t used = ZMESH_STATE_SUMMARY_BASE_SIZE;
    //  From a random place: when the budget runs out, no range is always the one left out.
    uint32_t start = (uint32_t) (zmesh_state__rand (self) % self->differ_count);
    for (uint32_t j = 0; j < self->differ_count; j++)
        s_narrow_range (self, msg, &self->differ [(start + j) % self->differ_count], &used);
    qsort (self->out_listed, msg->digest_count, sizeof *self->out_listed, s_by_owner);
    qsort (self->out_summaries, msg->summary_count, sizeof *self->out_summaries, s_by_range);
    if (msg->summary_count > 0)
        zmesh_state__out_send (self, update);
}
