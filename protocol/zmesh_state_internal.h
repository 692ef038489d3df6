/*  zmesh_state_internal.h: what zmesh_state.c (config, init, step, reads),
    zmesh_state_store.c (owners, entries, changes, forgetting, GC), zmesh_state_exchange.c
    (digest entries, runs, requests) and zmesh_state_summary.c (summaries: starting an exchange,
    narrowing a range that differs) share. Not for the shell: use zmesh_state.h.
*/
#ifndef ZMESH_STATE_INTERNAL_H_INCLUDED
#define ZMESH_STATE_INTERNAL_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_state.h"
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Small helpers, inline in each file.

//  splitmix64: small, fast, and good enough to pick peers.
static inline uint64_t
zmesh_state__rand (zmesh_state_t *self)
{
    return zmesh_mix64 (self->rng += 0x9e3779b97f4a7c15ull);
}

static inline int
zmesh_state__id_cmp (const zmesh_id_t *a, const zmesh_id_t *b)
{
    return memcmp (a->bytes, b->bytes, ZMESH_ID_SIZE);
}

static inline uint64_t
zmesh_state__max (uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

//  Is id among the count entries of listed (ascending ids)?
static inline bool
zmesh_state__listed (const zmesh_state_digest_entry_t *listed, uint32_t count, const zmesh_id_t *id)
{
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int cmp = zmesh_state__id_cmp (&listed [mid].owner, id);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  The store (zmesh_state_store.c).

//  Make room for need elements of elem bytes in *array (capacity *capacity, at most max):
//  double up to max. 0, or -1 when max is reached or memory is short.
int zmesh_state__grow (void **array, uint32_t *capacity, uint32_t need, size_t elem, uint32_t max);

//  Is key (size bytes, no NUL needed) printable ASCII?
bool zmesh_state__key_printable (const char *key, uint32_t size);

//  Index of the first owner whose id is >= id.
uint32_t zmesh_state__owner_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id);

//  The owner with this id, or NULL.
zmesh_state_owner_t *zmesh_state__owner_find (const zmesh_state_t *self, const zmesh_id_t *id);

//  This node's own owner, always held.
zmesh_state_owner_t *zmesh_state__owner_self (const zmesh_state_t *self);

//  owner's entry with this key (tombstones too), or NULL.
zmesh_state_entry_t *
zmesh_state__entry_find (const zmesh_state_owner_t *owner, const char *key, uint32_t key_size);

//  Does the step's arena have room for the change of such an entry?
bool zmesh_state__arena_room (const zmesh_state_t *self, uint32_t key_size, uint32_t value_size);

//  Report a change of entry, its key and value copied into the arena (room checked before).
void zmesh_state__change_entry (zmesh_state_t *self,
                                const zmesh_state_owner_t *owner,
                                const zmesh_state_entry_t *entry,
                                zmesh_state_change_kind_t kind);

//  Drop every entry of an owner (generation kept; version, floor to 0); a DROP change with
//  cause unless cause is NONE or the owner held nothing.
void zmesh_state__owner_clear (zmesh_state_t *self,
                               zmesh_state_owner_t *owner,
                               zmesh_state_cause_t cause);

//  Add an empty owner in id order; NULL (counted in update) past max_owners or out of memory.
zmesh_state_owner_t *
zmesh_state__owner_add (zmesh_state_t *self, const zmesh_id_t *id, zmesh_state_update_t *update);

//  Write an entry (new if entry is NULL). ZMESH_ENOMEM leaves the owner as it was.
int zmesh_state__entry_write (zmesh_state_t *self,
                              zmesh_state_owner_t *owner,
                              zmesh_state_entry_t *entry,
                              const char *key,
                              uint32_t key_size,
                              const void *value,
                              uint32_t value_size,
                              bool deleted,
                              uint64_t version);

//  Index of the first forgotten owner whose id is >= id.
uint32_t zmesh_state__forgotten_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id);

//  Remove the forgotten owner at index i.
void zmesh_state__forgotten_remove_at (zmesh_state_t *self, uint32_t i);

//  Is a run or digest entry of this owner at this generation refused?
bool zmesh_state__forgotten (const zmesh_state_t *self, const zmesh_id_t *id, uint64_t generation);

//  Drop the forgotten owners whose time has run out.
void zmesh_state__forgotten_expire (zmesh_state_t *self);

//  Collect the tombstones whose time has come; sets gc_next_ms.
void zmesh_state__collect (zmesh_state_t *self);

//  A SET (or DELETE when deleted) event on this node's own map.
int zmesh_state__local_write (zmesh_state_t *self, const zmesh_state_event_t *event, bool deleted);

//  A FORGET event: drop the owner and refuse it for forget_ttl_ms.
int zmesh_state__forget (zmesh_state_t *self, const zmesh_state_event_t *event);

//  ---------------------------------------------------------------------------------------------
//  The exchange (zmesh_state_exchange.c). A step makes at most two messages, to one peer: a
//  DELTAS, then a SUMMARY, each in the next slot of self->out.

//  Start the next message of update (type DELTAS or SUMMARY), to peer, with no content.
zmesh_state_msg_t *zmesh_state__out_begin (zmesh_state_t *self,
                                           const zmesh_state_update_t *update,
                                           const zmesh_id_t *to,
                                           zmesh_state_msg_type_t type);

//  Send the message begun last (checked against the rules and the budget).
void zmesh_state__out_send (zmesh_state_t *self, zmesh_state_update_t *update);

//  A SUMMARY from peer (checked): apply nothing; answer with requests and runs (DELTAS), and
//  narrow down the ranges that differ (zmesh_state__narrow).
void zmesh_state__on_summary (zmesh_state_t *self,
                              const zmesh_id_t *peer,
                              const zmesh_state_msg_t *msg,
                              zmesh_state_update_t *update);

//  A DIGEST from peer (checked): as a SUMMARY of its one complete range.
void zmesh_state__on_digest (zmesh_state_t *self,
                             const zmesh_id_t *peer,
                             const zmesh_state_msg_t *msg,
                             zmesh_state_update_t *update);

//  A DELTAS from peer (checked): apply its runs, answer its requests.
void zmesh_state__on_deltas (zmesh_state_t *self,
                             const zmesh_id_t *peer,
                             const zmesh_state_msg_t *msg,
                             zmesh_state_update_t *update);

//  ---------------------------------------------------------------------------------------------
//  Summaries (zmesh_state_summary.c).

//  Start an exchange with peer: a SUMMARY (hot owners listed, the rest summarised).
void zmesh_state__start_exchange (zmesh_state_t *self,
                                  const zmesh_id_t *peer,
                                  zmesh_state_update_t *update);

//  Set range->count and range->hash from this node's owners in [range->lo, range->hi] with a
//  version above 0, leaving out those among the listed_count entries of listed.
void zmesh_state__range_sum (zmesh_state_t *self,
                             zmesh_state_summary_t *range,
                             const zmesh_state_digest_entry_t *listed,
                             uint32_t listed_count);

//  Answer the ranges of self->differ with a SUMMARY to peer: each listed, or split in pieces.
void
zmesh_state__narrow (zmesh_state_t *self, const zmesh_id_t *peer, zmesh_state_update_t *update);

#endif
