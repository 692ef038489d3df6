/*  zmesh_state.c: scuttlebutt anti-entropy of per-node key/value maps (see zmesh_state.h):
    configuration, init and teardown, the step and its deadline, and the reads.

    The core is split by concern. This file is the public face: zmesh_state_step hands each
    event to the store (zmesh_state_store.c: owners, entries, the changes they report, local
    writes, forgetting and the collection of tombstones) or to the exchange
    (zmesh_state_exchange.c: digest entries, runs and requests; zmesh_state_summary.c: the
    summaries that start an exchange and narrow down a range that differs), and the timer here
    picks the peer of the next exchange. What the three files share is declared in zmesh_state_internal.h.
    Every step starts with an empty change list and arena, so what an update reports stays
    valid until the next step.
*/
#include "zmesh_state_internal.h"
#include "zmesh_state_codec.h"
#include <stdlib.h>
#include <string.h>

void
zmesh_state_config_defaults (zmesh_state_config_t *config)
{
    config->interval_ms = ZMESH_STATE_INTERVAL_MS_DEFAULT;
    config->budget_bytes = ZMESH_STATE_BUDGET_BYTES_DEFAULT;
    config->tombstone_ttl_ms = ZMESH_STATE_TOMBSTONE_TTL_MS_DEFAULT;
    config->forget_ttl_ms = ZMESH_STATE_FORGET_TTL_MS_DEFAULT;
    config->hot_ms = ZMESH_STATE_HOT_MS_DEFAULT;
    config->max_keys = ZMESH_STATE_MAX_KEYS_DEFAULT;
    config->key_size_max = ZMESH_STATE_KEY_SIZE_DEFAULT;
    config->value_size_max = ZMESH_STATE_VALUE_SIZE_DEFAULT;
    config->owner_bytes_max = ZMESH_STATE_OWNER_BYTES_DEFAULT;
    config->max_owners = ZMESH_STATE_MAX_OWNERS_DEFAULT;
    config->max_peers = ZMESH_STATE_MAX_PEERS_DEFAULT;
}

int
zmesh_state_config_check (const zmesh_state_config_t *config)
{
    if (config->interval_ms == 0 || config->tombstone_ttl_ms == 0 || config->max_keys == 0
        || config->max_keys > 65535 || config->key_size_max == 0
        || config->key_size_max > ZMESH_STATE_KEY_SIZE_LIMIT
        || config->value_size_max > ZMESH_STATE_VALUE_SIZE_LIMIT || config->owner_bytes_max == 0
        || config->owner_bytes_max > (1u << 30) || config->max_owners == 0
        || config->max_owners > (1u << 20) || config->max_peers == 0
        || config->max_peers > (1u << 20) || config->budget_bytes > ZMESH_STATE_MSG_SIZE_MAX)
        return ZMESH_EINVAL;
    //  The largest entry must fit one message, or a run could never move past it.
    zmesh_state_run_t run = {.generation = UINT64_MAX,
                             .from_version = UINT64_MAX,
                             .to_version = UINT64_MAX,
                             .held_version = UINT64_MAX,
                             .floor = UINT64_MAX};
    zmesh_state_delta_t delta = {.key_size = config->key_size_max,
                                 .value_size = config->value_size_max,
                                 .version = UINT64_MAX};
    zmesh_state_digest_entry_t entry = {
        .generation = UINT64_MAX, .version = UINT64_MAX, .floor = UINT64_MAX};
    size_t deltas_min = ZMESH_STATE_DELTAS_BASE_SIZE + zmesh_state_run_header_size (&run)
                        + zmesh_state_delta_size (&delta);
    size_t digest_min = ZMESH_STATE_DIGEST_BASE_SIZE + zmesh_state_digest_entry_size (&entry);
    //  A range that differs can always be split in two, or listed if it holds one owner.
    size_t summary_min = ZMESH_STATE_SUMMARY_BASE_SIZE + 2 * ZMESH_STATE_SUMMARY_SIZE_MAX
                         + zmesh_state_digest_entry_size (&entry);
    if (config->budget_bytes < deltas_min || config->budget_bytes / 2 < digest_min
        || config->budget_bytes < summary_min)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Init and teardown.

int
zmesh_state_init (zmesh_state_t *self,
                  const zmesh_state_config_t *config,
                  const zmesh_id_t *self_id,
                  uint64_t generation,
                  uint64_t version,
                  uint64_t seed,
                  uint64_t now_ms)
{
    memset (self, 0, sizeof *self);
    if (zmesh_state_config_check (config))
        return ZMESH_EINVAL;
    self->config = *config;
    self->self = *self_id;
    self->rng = seed;
    self->now_ms = now_ms;
    self->gc_next_ms = UINT64_MAX;
    uint32_t budget = config->budget_bytes;
    //  The smallest digest entry takes 22 bytes, run 24, delta 5, summary 39: no message needs
    //  more.
    self->out_digest_max =
        budget / 22 + 1 < ZMESH_STATE_MSG_DIGEST_MAX ? budget / 22 + 1 : ZMESH_STATE_MSG_DIGEST_MAX;
    self->out_runs_max =
        budget / 24 + 1 < ZMESH_STATE_MSG_RUNS_MAX ? budget / 24 + 1 : ZMESH_STATE_MSG_RUNS_MAX;
    self->out_deltas_max =
        budget / 5 + 1 < ZMESH_STATE_MSG_DELTAS_MAX ? budget / 5 + 1 : ZMESH_STATE_MSG_DELTAS_MAX;
    self->out_summaries_max = budget / 39 + 1 < ZMESH_STATE_MSG_SUMMARIES_MAX
                                  ? budget / 39 + 1
                                  : ZMESH_STATE_MSG_SUMMARIES_MAX;
    //  A received message makes at most a change per delta, two per run (a drop before and
    //  one after), one per digest entry; a local event one.
    self->change_capacity =
        ZMESH_STATE_MSG_DELTAS_MAX + 2 * ZMESH_STATE_MSG_RUNS_MAX + ZMESH_STATE_MSG_DIGEST_MAX + 4;
    self->arena_capacity =
        ZMESH_STATE_MSG_SIZE_MAX + (size_t) config->key_size_max + config->value_size_max + 2;
    self->scratch_capacity = config->max_keys * ZMESH_STATE_REPLICA_SLACK;
    self->wants_capacity = ZMESH_STATE_MSG_DIGEST_MAX;
    self->out_digest = calloc (self->out_digest_max, sizeof *self->out_digest);
    self->out_runs = calloc (self->out_runs_max, sizeof *self->out_runs);
    self->out_deltas = calloc (self->out_deltas_max, sizeof *self->out_deltas);
    self->out_listed = calloc (self->out_digest_max, sizeof *self->out_listed);
    self->out_summaries = calloc (self->out_summaries_max, sizeof *self->out_summaries);
    self->differ = calloc (ZMESH_STATE_MSG_SUMMARIES_MAX, sizeof *self->differ);
    self->changes = calloc (self->change_capacity, sizeof *self->changes);
    self->arena = malloc (self->arena_capacity);
    self->scratch = calloc (self->scratch_capacity, sizeof *self->scratch);
    self->gives = calloc (config->max_owners, sizeof *self->gives);
    self->gives_from = calloc (config->max_owners, sizeof *self->gives_from);
    self->wants = calloc (self->wants_capacity, sizeof *self->wants);
    zmesh_state_update_t scratch_update;
    memset (&scratch_update, 0, sizeof scratch_update);
    zmesh_state_owner_t *own = NULL;
    if (self->out_digest && self->out_runs && self->out_deltas && self->out_listed
        && self->out_summaries && self->differ && self->changes && self->arena && self->scratch
        && self->gives && self->gives_from && self->wants)
        own = zmesh_state__owner_add (self, self_id, &scratch_update);
    if (!own) {
        zmesh_state_fini (self);
        return ZMESH_ENOMEM;
    }
    own->generation = generation;
    own->version = version;
    own->changed_ms = now_ms;
    self->next_exchange_ms = now_ms + zmesh_state__rand (self) % config->interval_ms;
    return ZMESH_OK;
}

void
zmesh_state_fini (zmesh_state_t *self)
{
    for (uint32_t i = 0; i < self->owner_count; i++) {
        zmesh_state__owner_clear (self, &self->owners [i], ZMESH_STATE_CAUSE_NONE);
        free (self->owners [i].entries);
    }
    free (self->owners);
    free (self->forgotten);
    free (self->peers);
    free (self->out_digest);
    free (self->out_runs);
    free (self->out_deltas);
    free (self->out_listed);
    free (self->out_summaries);
    free (self->differ);
    free (self->changes);
    free (self->arena);
    free (self->scratch);
    free (self->gives);
    free (self->gives_from);
    free (self->wants);
    memset (self, 0, sizeof *self);
}

//  ---------------------------------------------------------------------------------------------
//  Time, peers and the step.

static void
s_tick (zmesh_state_t *self, zmesh_state_update_t *update)
{
    zmesh_state__forgotten_expire (self);
    if (self->gc_next_ms <= self->now_ms)
        zmesh_state__collect (self);
    if (self->peer_count == 0 || self->now_ms < self->next_exchange_ms)
        return;
    //  Jitter of +-10% keeps nodes started together from exchanging in lockstep.
    uint32_t interval = self->config.interval_ms;
    self->next_exchange_ms =
        self->now_ms + interval - interval / 10 + zmesh_state__rand (self) % (interval / 5 + 1);
    zmesh_id_t peer = self->peers [zmesh_state__rand (self) % self->peer_count];
    zmesh_state__start_exchange (self, &peer, update);
}

static int
s_set_peers (zmesh_state_t *self, const zmesh_state_event_t *event, zmesh_state_update_t *update)
{
    if (event->peer_count > 0 && !event->peers)
        return ZMESH_EINVAL;
    self->peer_count = 0;
    for (uint32_t i = 0; i < event->peer_count; i++) {
        if (zmesh_state__id_cmp (&event->peers [i], &self->self) == 0)
            continue;
        if (self->peer_count == self->config.max_peers) {
            update->dropped [ZMESH_STATE_DROP_PEERS] += event->peer_count - i;
            return ZMESH_ELIMIT;
        }
        if (zmesh_state__grow ((void **) &self->peers, &self->peer_capacity, self->peer_count + 1,
                               sizeof *self->peers, self->config.max_peers))
            return ZMESH_ENOMEM;
        self->peers [self->peer_count++] = event->peers [i];
    }
    return ZMESH_OK;
}
void
zmesh_state_step (zmesh_state_t *self,
                  const zmesh_state_event_t *event,
                  zmesh_state_update_t *update)
{
    memset (update, 0, sizeof *update);
    self->change_count = 0;
    self->arena_used = 0;
    update->msgs = self->out;
    update->changes = self->changes;
    if (event->now_ms > self->now_ms)
        self->now_ms = event->now_ms;
    switch (event->type) {
        case ZMESH_STATE_TICK:
            s_tick (self, update);
            break;
        case ZMESH_STATE_RECEIVED: {
            if (!event->msg || zmesh_state_msg_check (event->msg) != ZMESH_OK) {
                update->dropped [ZMESH_STATE_DROP_MALFORMED]++;
                break;
            }
            //  The owner itself talks to this node: it is back, whatever was forgotten.
            uint32_t f = zmesh_state__forgotten_lower_bound (self, &event->peer);
            if (f < self->forgotten_count
                && zmesh_state__id_cmp (&self->forgotten [f].id, &event->peer) == 0)
                zmesh_state__forgotten_remove_at (self, f);
            if (event->msg->type == ZMESH_STATE_MSG_DIGEST)
                zmesh_state__on_digest (self, &event->peer, event->msg, update);
            else if (event->msg->type == ZMESH_STATE_MSG_SUMMARY)
                zmesh_state__on_summary (self, &event->peer, event->msg, update);
            else
                zmesh_state__on_deltas (self, &event->peer, event->msg, update);
            break;
        }
        case ZMESH_STATE_PEERS:
            update->error = s_set_peers (self, event, update);
            break;
        case ZMESH_STATE_FORGET:
            update->error = zmesh_state__forget (self, event);
            break;
        case ZMESH_STATE_EXCHANGE:
            if (zmesh_state__id_cmp (&event->peer, &self->self) == 0)
                update->error = ZMESH_EINVAL;
            else
                zmesh_state__start_exchange (self, &event->peer, update);
            break;
        case ZMESH_STATE_SET:
        case ZMESH_STATE_DELETE:
            update->error =
                zmesh_state__local_write (self, event, event->type == ZMESH_STATE_DELETE);
            break;
        default:
            update->error = ZMESH_EINVAL;
            break;
    }
    update->change_count = self->change_count;
    for (int r = 0; r < ZMESH_STATE_DROP_COUNT; r++)
        self->dropped [r] += update->dropped [r];
}

uint64_t
zmesh_state_deadline_ms (const zmesh_state_t *self)
{
    uint64_t deadline = self->gc_next_ms;
    if (self->peer_count > 0 && self->next_exchange_ms < deadline)
        deadline = self->next_exchange_ms;
    return deadline;
}

//  ---------------------------------------------------------------------------------------------
//  Convenience steps and reads.

int
zmesh_state_set (zmesh_state_t *self,
                 uint64_t now_ms,
                 const char *key,
                 const void *value,
                 uint32_t value_size,
                 zmesh_state_update_t *update)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_SET,
                                 .now_ms = now_ms,
                                 .key = key,
                                 .value = value,
                                 .value_size = value_size};
    zmesh_state_step (self, &event, update);
    return update->error;
}

int
zmesh_state_delete (zmesh_state_t *self,
                    uint64_t now_ms,
                    const char *key,
                    zmesh_state_update_t *update)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_DELETE, .now_ms = now_ms, .key = key};
    zmesh_state_step (self, &event, update);
    return update->error;
}

int
zmesh_state_forget (zmesh_state_t *self,
                    uint64_t now_ms,
                    const zmesh_id_t *owner,
                    uint64_t generation,
                    zmesh_state_update_t *update)
{
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_FORGET, .now_ms = now_ms, .peer = *owner, .generation = generation};
    zmesh_state_step (self, &event, update);
    return update->error;
}

uint64_t
zmesh_state_version (const zmesh_state_t *self)
{
    return zmesh_state__owner_self (self)->version;
}

static void
s_item (zmesh_state_item_t *item, const zmesh_state_entry_t *entry)
{
    item->key = entry->key;
    item->value = entry->value;
    item->value_size = entry->value_size;
    item->version = entry->version;
    item->deleted = entry->deleted;
}

int
zmesh_state_get (const zmesh_state_t *self,
                 const zmesh_id_t *owner_id,
                 const char *key,
                 zmesh_state_item_t *item)
{
    const zmesh_state_owner_t *owner = zmesh_state__owner_find (self, owner_id);
    if (!owner || !key)
        return ZMESH_ENOTFOUND;
    size_t key_size = strnlen (key, ZMESH_STATE_KEY_SIZE_LIMIT + 1);
    const zmesh_state_entry_t *entry = zmesh_state__entry_find (owner, key, (uint32_t) key_size);
    if (!entry || entry->deleted)
        return ZMESH_ENOTFOUND;
    s_item (item, entry);
    return ZMESH_OK;
}

int
zmesh_state_each (const zmesh_state_t *self,
                  const zmesh_id_t *owner_id,
                  bool with_deleted,
                  zmesh_state_visit_fn *visit,
                  void *arg)
{
    const zmesh_state_owner_t *owner = zmesh_state__owner_find (self, owner_id);
    if (!owner)
        return ZMESH_ENOTFOUND;
    for (uint32_t i = 0; i < owner->entry_count; i++) {
        if (owner->entries [i].deleted && !with_deleted)
            continue;
        zmesh_state_item_t item;
        s_item (&item, &owner->entries [i]);
        visit (&item, arg);
    }
    return ZMESH_OK;
}

uint32_t
zmesh_state_owner_count (const zmesh_state_t *self)
{
    return self->owner_count;
}

static void
s_owner_info (const zmesh_state_owner_t *owner, zmesh_state_owner_info_t *info)
{
    memset (info, 0, sizeof *info);
    info->id = owner->id;
    info->generation = owner->generation;
    info->version = owner->version;
    info->floor = owner->floor;
    info->bytes = owner->bytes;
    for (uint32_t i = 0; i < owner->entry_count; i++) {
        if (owner->entries [i].deleted)
            info->tombstone_count++;
        else
            info->key_count++;
    }
}

int
zmesh_state_owner_at (const zmesh_state_t *self, uint32_t index, zmesh_state_owner_info_t *info)
{
    if (index >= self->owner_count)
        return ZMESH_ENOTFOUND;
    s_owner_info (&self->owners [index], info);
    return ZMESH_OK;
}

int
zmesh_state_owner_info (const zmesh_state_t *self,
                        const zmesh_id_t *owner_id,
                        zmesh_state_owner_info_t *info)
{
    const zmesh_state_owner_t *owner = zmesh_state__owner_find (self, owner_id);
    if (!owner)
        return ZMESH_ENOTFOUND;
    s_owner_info (owner, info);
    return ZMESH_OK;
}

uint64_t
zmesh_state_dropped (const zmesh_state_t *self, zmesh_state_drop_t reason)
{
    return (unsigned) reason < ZMESH_STATE_DROP_COUNT ? self->dropped [reason] : 0;
}

const char *
zmesh_state_drop_name (zmesh_state_drop_t reason)
{
    static const char *names [ZMESH_STATE_DROP_COUNT] = {
        "malformed", "key",   "value", "owner_keys", "owner_bytes", "owners",
        "forgotten", "stale", "gap",   "self",       "peers",       "behind"};
    return (unsigned) reason < ZMESH_STATE_DROP_COUNT ? names [reason] : "unknown";
}

const char *
zmesh_state_change_name (zmesh_state_change_kind_t kind)
{
    switch (kind) {
        case ZMESH_STATE_CHANGE_SET:
            return "set";
        case ZMESH_STATE_CHANGE_DELETE:
            return "delete";
        case ZMESH_STATE_CHANGE_DROP:
            return "drop";
    }
    return "unknown";
}

uint64_t
zmesh_state_digest (zmesh_state_t *self)
{
    static const zmesh_id_t first = {{0}};
    zmesh_state_summary_t all = {.lo = first};
    memset (&all.hi, 0xff, sizeof all.hi);
    zmesh_state__range_sum (self, &all, NULL, 0);
    //  Mixed, so that no two small (count, sum) pairs meet; 0 means none.
    uint64_t z = zmesh_mix64 (all.hash ^ (all.count * 0x9e3779b97f4a7c15ull));
    return z ? z : 1;
}
