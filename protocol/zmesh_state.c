/*  zmesh_state.c: scuttlebutt anti-entropy of per-node key/value maps (see zmesh_state.h).

    Layout: the owners live in one array sorted by id (binary search; a digest walks a range
    of it); each owner's entries in an unsorted array (at most a few hundred: linear search,
    and a sort by version when a run is built). An entry is one allocation: key, NUL, value.
    The changes of a step copy their keys and values into an arena, so a change stays valid
    until the next step even if a later run of the same step replaces or drops the entry.
*/
#include "zmesh_state.h"
#include "zmesh_error.h"
#include "zmesh_state_codec.h"
#include <stdlib.h>
#include <string.h>

static const zmesh_id_t s_id_last = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

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
    if (config->budget_bytes < deltas_min || config->budget_bytes / 2 < digest_min)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Small helpers.

//  splitmix64: small, fast, and good enough to pick peers.
static uint64_t
s_rand (zmesh_state_t *self)
{
    uint64_t z = (self->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int
s_id_cmp (const zmesh_id_t *a, const zmesh_id_t *b)
{
    return memcmp (a->bytes, b->bytes, ZMESH_ID_SIZE);
}

//  The id after id, in memcmp order (byte 0 most significant). Wraps to zero after the last.
static zmesh_id_t
s_id_next (zmesh_id_t id)
{
    for (int i = ZMESH_ID_SIZE - 1; i >= 0; i--)
        if (++id.bytes [i] != 0)
            break;
    return id;
}

static uint64_t
s_max (uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static bool
s_key_printable (const char *key, uint32_t size)
{
    for (uint32_t i = 0; i < size; i++)
        if ((unsigned char) key [i] < 0x20 || (unsigned char) key [i] > 0x7e)
            return false;
    return true;
}

//  Make room for need elements of elem bytes in *array (capacity *capacity, at most max):
//  double up to max. 0, or -1 when max is reached or memory is short.
static int
s_grow (void **array, uint32_t *capacity, uint32_t need, size_t elem, uint32_t max)
{
    if (need <= *capacity)
        return 0;
    if (need > max)
        return -1;
    uint32_t target = *capacity ? *capacity : 4;
    while (target < need)
        target = target > max / 2 ? max : target * 2;
    void *grown = realloc (*array, (size_t) target * elem);
    if (!grown)
        return -1;
    *array = grown;
    *capacity = target;
    return 0;
}

//  Index of the first owner whose id is >= id.
static uint32_t
s_owner_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t lo = 0, hi = self->owner_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s_id_cmp (&self->owners [mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static zmesh_state_owner_t *
s_owner_find (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t i = s_owner_lower_bound (self, id);
    if (i < self->owner_count && s_id_cmp (&self->owners [i].id, id) == 0)
        return &self->owners [i];
    return NULL;
}

static zmesh_state_owner_t *
s_owner_self (const zmesh_state_t *self)
{
    zmesh_state_owner_t *owner = s_owner_find (self, &self->self);
    ZMESH_ASSERT (owner);
    return owner;
}

static zmesh_state_entry_t *
s_entry_find (const zmesh_state_owner_t *owner, const char *key, uint32_t key_size)
{
    for (uint32_t i = 0; i < owner->entry_count; i++) {
        zmesh_state_entry_t *entry = &owner->entries [i];
        if (entry->key_size == key_size && memcmp (entry->key, key, key_size) == 0)
            return entry;
    }
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Changes: each copies its key and value into the step's arena.

static bool
s_arena_room (const zmesh_state_t *self, uint32_t key_size, uint32_t value_size)
{
    return (size_t) key_size + 1 + value_size <= self->arena_capacity - self->arena_used;
}

static void
s_change_entry (zmesh_state_t *self,
                const zmesh_state_owner_t *owner,
                const zmesh_state_entry_t *entry,
                zmesh_state_change_kind_t kind)
{
    ZMESH_ASSERT (self->change_count < self->change_capacity);
    ZMESH_ASSERT (s_arena_room (self, entry->key_size, entry->value_size));
    zmesh_state_change_t *change = &self->changes [self->change_count++];
    memset (change, 0, sizeof *change);
    change->kind = kind;
    change->owner = owner->id;
    change->generation = owner->generation;
    change->version = entry->version;
    char *key = (char *) self->arena + self->arena_used;
    memcpy (key, entry->key, entry->key_size);
    key [entry->key_size] = 0;
    self->arena_used += entry->key_size + 1;
    change->key = key;
    if (kind == ZMESH_STATE_CHANGE_SET && entry->value_size > 0) {
        uint8_t *value = self->arena + self->arena_used;
        memcpy (value, entry->value, entry->value_size);
        self->arena_used += entry->value_size;
        change->value = value;
        change->value_size = entry->value_size;
    }
}

//  Drop every entry of an owner (its generation stays; version and floor go to 0). A DROP
//  change is reported (unless cause is NONE) if the owner held anything, so that a watcher
//  knows its view of the owner starts again.
static void
s_owner_clear (zmesh_state_t *self, zmesh_state_owner_t *owner, zmesh_state_cause_t cause)
{
    bool held = owner->entry_count > 0 || owner->version > 0;
    for (uint32_t i = 0; i < owner->entry_count; i++)
        free (owner->entries [i].key);
    owner->entry_count = 0;
    owner->bytes = 0;
    owner->version = 0;
    owner->floor = 0;
    if (held && cause != ZMESH_STATE_CAUSE_NONE) {
        ZMESH_ASSERT (self->change_count < self->change_capacity);
        zmesh_state_change_t *change = &self->changes [self->change_count++];
        memset (change, 0, sizeof *change);
        change->kind = ZMESH_STATE_CHANGE_DROP;
        change->cause = cause;
        change->owner = owner->id;
        change->generation = owner->generation;
    }
}

static zmesh_state_owner_t *
s_owner_add (zmesh_state_t *self, const zmesh_id_t *id, zmesh_state_update_t *update)
{
    if (self->owner_count == self->config.max_owners
        || s_grow ((void **) &self->owners, &self->owner_capacity, self->owner_count + 1,
                   sizeof *self->owners, self->config.max_owners)) {
        update->dropped [ZMESH_STATE_DROP_OWNERS]++;
        return NULL;
    }
    uint32_t i = s_owner_lower_bound (self, id);
    memmove (&self->owners [i + 1], &self->owners [i],
             (self->owner_count - i) * sizeof *self->owners);
    self->owner_count++;
    zmesh_state_owner_t *owner = &self->owners [i];
    memset (owner, 0, sizeof *owner);
    owner->id = *id;
    return owner;
}

static void
s_owner_remove (zmesh_state_t *self, zmesh_state_owner_t *owner)
{
    s_owner_clear (self, owner, ZMESH_STATE_CAUSE_NONE);
    free (owner->entries);
    uint32_t i = (uint32_t) (owner - self->owners);
    memmove (&self->owners [i], &self->owners [i + 1],
             (self->owner_count - i - 1) * sizeof *self->owners);
    self->owner_count--;
}

//  Write an entry (new if entry is NULL): the key, the value unless deleted, the version.
//  ZMESH_ENOMEM leaves the owner as it was.
static int
s_entry_write (zmesh_state_t *self,
               zmesh_state_owner_t *owner,
               zmesh_state_entry_t *entry,
               const char *key,
               uint32_t key_size,
               const void *value,
               uint32_t value_size,
               bool deleted,
               uint64_t version)
{
    if (deleted)
        value_size = 0;
    if (!entry
        && s_grow ((void **) &owner->entries, &owner->entry_capacity, owner->entry_count + 1,
                   sizeof *owner->entries, self->config.max_keys * ZMESH_STATE_REPLICA_SLACK))
        return ZMESH_ENOMEM;
    char *blob = malloc ((size_t) key_size + 1 + value_size);
    if (!blob)
        return ZMESH_ENOMEM;
    memcpy (blob, key, key_size);
    blob [key_size] = 0;
    if (value_size > 0)
        memcpy (blob + key_size + 1, value, value_size);
    if (entry) {
        owner->bytes -= entry->key_size + entry->value_size;
        free (entry->key);
    }
    else
        entry = &owner->entries [owner->entry_count++];
    entry->key = blob;
    entry->value = value_size > 0 ? (uint8_t *) blob + key_size + 1 : NULL;
    entry->key_size = key_size;
    entry->value_size = value_size;
    entry->version = version;
    entry->deleted = deleted;
    entry->deleted_ms = self->now_ms;
    owner->bytes += key_size + value_size;
    if (deleted && self->now_ms + self->config.tombstone_ttl_ms < self->gc_next_ms)
        self->gc_next_ms = self->now_ms + self->config.tombstone_ttl_ms;
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Forgotten owners: a sorted array, entries expire at until_ms.

static uint32_t
s_forgotten_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t lo = 0, hi = self->forgotten_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s_id_cmp (&self->forgotten [mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
s_forgotten_remove_at (zmesh_state_t *self, uint32_t i)
{
    memmove (&self->forgotten [i], &self->forgotten [i + 1],
             (self->forgotten_count - i - 1) * sizeof *self->forgotten);
    self->forgotten_count--;
}

//  Is a run or digest entry of this owner at this generation refused?
static bool
s_forgotten (const zmesh_state_t *self, const zmesh_id_t *id, uint64_t generation)
{
    uint32_t i = s_forgotten_lower_bound (self, id);
    return i < self->forgotten_count && s_id_cmp (&self->forgotten [i].id, id) == 0
           && self->forgotten [i].until_ms > self->now_ms
           && generation <= self->forgotten [i].generation;
}

static void
s_forgotten_add (zmesh_state_t *self, const zmesh_id_t *id, uint64_t generation)
{
    uint32_t i = s_forgotten_lower_bound (self, id);
    if (i < self->forgotten_count && s_id_cmp (&self->forgotten [i].id, id) == 0) {
        self->forgotten [i].generation = s_max (self->forgotten [i].generation, generation);
        self->forgotten [i].until_ms = self->now_ms + self->config.forget_ttl_ms;
        return;
    }
    if (s_grow ((void **) &self->forgotten, &self->forgotten_capacity, self->forgotten_count + 1,
                sizeof *self->forgotten, self->config.max_owners)) {
        //  Full: the entry that expires first makes room.
        uint32_t oldest = 0;
        for (uint32_t j = 1; j < self->forgotten_count; j++)
            if (self->forgotten [j].until_ms < self->forgotten [oldest].until_ms)
                oldest = j;
        if (self->forgotten_count == 0)
            return;
        s_forgotten_remove_at (self, oldest);
        i = s_forgotten_lower_bound (self, id);
    }
    memmove (&self->forgotten [i + 1], &self->forgotten [i],
             (self->forgotten_count - i) * sizeof *self->forgotten);
    self->forgotten_count++;
    self->forgotten [i].id = *id;
    self->forgotten [i].generation = generation;
    self->forgotten [i].until_ms = self->now_ms + self->config.forget_ttl_ms;
}

static void
s_forgotten_expire (zmesh_state_t *self)
{
    uint32_t i = 0;
    while (i < self->forgotten_count)
        if (self->forgotten [i].until_ms <= self->now_ms)
            s_forgotten_remove_at (self, i);
        else
            i++;
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
    //  The smallest digest entry takes 22 bytes, run 24, delta 5: no message needs more.
    self->out_digest_max =
        budget / 22 + 1 < ZMESH_STATE_MSG_DIGEST_MAX ? budget / 22 + 1 : ZMESH_STATE_MSG_DIGEST_MAX;
    self->out_runs_max =
        budget / 24 + 1 < ZMESH_STATE_MSG_RUNS_MAX ? budget / 24 + 1 : ZMESH_STATE_MSG_RUNS_MAX;
    self->out_deltas_max =
        budget / 5 + 1 < ZMESH_STATE_MSG_DELTAS_MAX ? budget / 5 + 1 : ZMESH_STATE_MSG_DELTAS_MAX;
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
    self->changes = calloc (self->change_capacity, sizeof *self->changes);
    self->arena = malloc (self->arena_capacity);
    self->scratch = calloc (self->scratch_capacity, sizeof *self->scratch);
    self->gives = calloc (config->max_owners, sizeof *self->gives);
    self->gives_from = calloc (config->max_owners, sizeof *self->gives_from);
    self->wants = calloc (self->wants_capacity, sizeof *self->wants);
    zmesh_state_update_t scratch_update;
    memset (&scratch_update, 0, sizeof scratch_update);
    zmesh_state_owner_t *own = NULL;
    if (self->out_digest && self->out_runs && self->out_deltas && self->changes && self->arena
        && self->scratch && self->gives && self->gives_from && self->wants)
        own = s_owner_add (self, self_id, &scratch_update);
    if (!own) {
        zmesh_state_fini (self);
        return ZMESH_ENOMEM;
    }
    own->generation = generation;
    own->version = version;
    own->changed_ms = now_ms;
    self->next_exchange_ms = now_ms + s_rand (self) % config->interval_ms;
    return ZMESH_OK;
}

void
zmesh_state_fini (zmesh_state_t *self)
{
    for (uint32_t i = 0; i < self->owner_count; i++) {
        s_owner_clear (self, &self->owners [i], ZMESH_STATE_CAUSE_NONE);
        free (self->owners [i].entries);
    }
    free (self->owners);
    free (self->forgotten);
    free (self->peers);
    free (self->out_digest);
    free (self->out_runs);
    free (self->out_deltas);
    free (self->changes);
    free (self->arena);
    free (self->scratch);
    free (self->gives);
    free (self->gives_from);
    free (self->wants);
    memset (self, 0, sizeof *self);
}

//  ---------------------------------------------------------------------------------------------
//  Local writes.

static int
s_local_write (zmesh_state_t *self, const zmesh_state_event_t *event, bool deleted)
{
    const zmesh_state_config_t *config = &self->config;
    if (!event->key || (!deleted && event->value_size > 0 && !event->value))
        return ZMESH_EINVAL;
    size_t key_size = strnlen (event->key, config->key_size_max + 1);
    if (key_size == 0 || !s_key_printable (event->key, (uint32_t) key_size))
        return ZMESH_EINVAL;
    if (key_size > config->key_size_max || (!deleted && event->value_size > config->value_size_max))
        return ZMESH_ETOOBIG;
    zmesh_state_owner_t *own = s_owner_self (self);
    zmesh_state_entry_t *entry = s_entry_find (own, event->key, (uint32_t) key_size);
    if (deleted && (!entry || entry->deleted))
        return ZMESH_ENOTFOUND;
    uint32_t value_size = deleted ? 0 : event->value_size;
    uint64_t keys = own->entry_count + (entry ? 0 : 1);
    uint64_t bytes = own->bytes + key_size + value_size;
    if (entry)
        bytes -= entry->key_size + entry->value_size;
    if (keys > config->max_keys || bytes > config->owner_bytes_max || own->version == UINT64_MAX)
        return ZMESH_ELIMIT;
    int rc = s_entry_write (self, own, entry, event->key, (uint32_t) key_size, event->value,
                            value_size, deleted, own->version + 1);
    if (rc)
        return rc;
    own->version++;
    own->changed_ms = self->now_ms;
    if (!entry)
        entry = &own->entries [own->entry_count - 1];
    s_change_entry (self, own, entry, deleted ? ZMESH_STATE_CHANGE_DELETE : ZMESH_STATE_CHANGE_SET);
    return ZMESH_OK;
}

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
        || !s_key_printable (delta->key, delta->key_size)) {
        update->dropped [ZMESH_STATE_DROP_KEY]++;
        return true;
    }
    if (!delta->deleted && delta->value_size > config->value_size_max) {
        update->dropped [ZMESH_STATE_DROP_VALUE]++;
        return true;
    }
    zmesh_state_entry_t *entry = s_entry_find (owner, delta->key, delta->key_size);
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
        s_owner_clear (self, owner, ZMESH_STATE_CAUSE_OVERFLOW);
        return false;
    }
    bool visible = !delta->deleted || (entry && !entry->deleted);
    bool room = !visible || s_arena_room (self, delta->key_size, value_size);
    if (!room
        || s_entry_write (self, owner, entry, delta->key, delta->key_size, delta->value, value_size,
                          delta->deleted, delta->version)) {
        //  Everything of the run before this entry is applied: a prefix up to version - 1.
        owner->version = s_max (owner->version, delta->version - 1);
        return false;
    }
    if (!entry)
        entry = &owner->entries [owner->entry_count - 1];
    if (visible)
        s_change_entry (self, owner, entry,
                        delta->deleted ? ZMESH_STATE_CHANGE_DELETE : ZMESH_STATE_CHANGE_SET);
    return true;
}

//  Check a run against what this node holds of its owner; returns the owner to apply it to,
//  or NULL (and counts why) when the run must be ignored.
static zmesh_state_owner_t *
s_run_target (zmesh_state_t *self, const zmesh_state_run_t *run, zmesh_state_update_t *update)
{
    if (s_id_cmp (&run->owner, &self->self) == 0) {
        update->dropped [ZMESH_STATE_DROP_SELF]++;
        return NULL;
    }
    zmesh_state_owner_t *owner = s_owner_find (self, &run->owner);
    if (!owner) {
        if (run->to_version == 0)
            return NULL;  //  announces a generation with nothing in it: nothing to hold
        if (s_forgotten (self, &run->owner, run->generation)) {
            update->dropped [ZMESH_STATE_DROP_FORGOTTEN]++;
            return NULL;
        }
        if (run->from_version != 0) {
            update->dropped [ZMESH_STATE_DROP_GAP]++;
            return NULL;
        }
        owner = s_owner_add (self, &run->owner, update);
        if (!owner)
            return NULL;
        owner->generation = run->generation;
    }
    if (run->generation < owner->generation) {
        update->dropped [ZMESH_STATE_DROP_STALE]++;
        return NULL;
    }
    if (run->generation > owner->generation) {
        s_owner_clear (self, owner, ZMESH_STATE_CAUSE_GENERATION);
        owner->generation = run->generation;
        owner->changed_ms = self->now_ms;
    }
    //  The sender collected tombstones this node may lack: only a run from 0 is safe, and it
    //  replaces what is held, even if it is cut short before this node's version (the next
    //  runs continue from it; the floor keeps this from happening again).
    if (run->floor > s_max (owner->version, owner->floor)) {
        if (run->from_version != 0) {
            update->dropped [ZMESH_STATE_DROP_GAP]++;
            return NULL;
        }
        s_owner_clear (self, owner, ZMESH_STATE_CAUSE_RESYNC);
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
    if (owner->floor > s_max (run->held_version, run->floor)) {
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
    owner->version = s_max (owner->version, run->to_version);
}

//  ---------------------------------------------------------------------------------------------
//  Building messages.

//  Where a run for a peer that holds (generation, version, floor) of owner must start.
static uint64_t
s_run_from (const zmesh_state_owner_t *owner, uint64_t generation, uint64_t version, uint64_t floor)
{
    if (generation != owner->generation || owner->floor > s_max (version, floor))
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
s_emit_run (zmesh_state_t *self, const zmesh_state_owner_t *owner, uint64_t from, size_t *used)
{
    zmesh_state_msg_t *msg = &self->out.msg;
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

static void
s_out_begin (zmesh_state_t *self, const zmesh_id_t *to, zmesh_state_msg_type_t type)
{
    memset (&self->out, 0, sizeof self->out);
    self->out.to = *to;
    self->out.msg.type = type;
    self->out.msg.digest = self->out_digest;
    self->out.msg.runs = self->out_runs;
    self->out.msg.deltas = self->out_deltas;
}

static void
s_out_send (zmesh_state_t *self, zmesh_state_update_t *update)
{
    ZMESH_ASSERT (zmesh_state_msg_check (&self->out.msg) == ZMESH_OK);
    ZMESH_ASSERT (zmesh_state_msg_size (&self->out.msg) <= self->config.budget_bytes);
    update->msg_count = 1;
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
    s_out_begin (self, peer, ZMESH_STATE_MSG_DELTAS);
    zmesh_state_msg_t *msg = &self->out.msg;
    size_t used = ZMESH_STATE_DELTAS_BASE_SIZE;
    size_t wants_budget = give_count ? self->config.budget_bytes / 2 : self->config.budget_bytes;
    uint32_t start = want_count ? (uint32_t) (s_rand (self) % want_count) : 0;
    for (uint32_t j = 0; j < want_count && msg->digest_count < self->out_digest_max; j++) {
        const zmesh_state_digest_entry_t *want = &self->wants [(start + j) % want_count];
        size_t size = zmesh_state_digest_entry_size (want);
        if (used + size > wants_budget)
            break;
        self->out_digest [msg->digest_count++] = *want;
        used += size;
    }
    start = give_count ? (uint32_t) (s_rand (self) % give_count) : 0;
    for (uint32_t j = 0; j < give_count; j++) {
        uint32_t k = (start + j) % give_count;
        s_emit_run (self, &self->owners [self->gives [k]], self->gives_from [k], &used);
    }
    if (msg->digest_count + msg->run_count > 0)
        s_out_send (self, update);
}

static int
s_by_owner (const void *a, const void *b)
{
    return s_id_cmp (&((const zmesh_state_digest_entry_t *) a)->owner,
                     &((const zmesh_state_digest_entry_t *) b)->owner);
}

//  Add owner's digest entry if it fits within limit bytes (*used: bytes so far).
static bool
s_list (zmesh_state_t *self, zmesh_state_owner_t *owner, size_t *used, size_t limit)
{
    zmesh_state_msg_t *msg = &self->out.msg;
    zmesh_state_digest_entry_t entry = {owner->id, owner->generation, owner->version, owner->floor};
    size_t size = zmesh_state_digest_entry_size (&entry);
    if (msg->digest_count == self->out_digest_max || *used + size > limit)
        return false;
    self->out_digest [msg->digest_count++] = entry;
    owner->listed = self->digests;
    *used += size;
    return true;
}

//  Start an exchange: a DIGEST of the hot owners (up to half the budget, from a random place),
//  then of every owner from the cursor on, as many as fit; entries sorted by id.
static void
s_start_exchange (zmesh_state_t *self, const zmesh_id_t *peer, zmesh_state_update_t *update)
{
    s_out_begin (self, peer, ZMESH_STATE_MSG_DIGEST);
    zmesh_state_msg_t *msg = &self->out.msg;
    self->digests++;
    size_t used = ZMESH_STATE_DIGEST_BASE_SIZE;
    size_t budget = self->config.budget_bytes;
    uint32_t start = (uint32_t) (s_rand (self) % self->owner_count);
    for (uint32_t j = 0; j < self->owner_count; j++) {
        zmesh_state_owner_t *owner = &self->owners [(start + j) % self->owner_count];
        if (owner->changed_ms + self->config.hot_ms > self->now_ms
            && !s_list (self, owner, &used, budget / 2))
            break;
    }
    msg->range_lo = self->cursor;
    uint32_t i = s_owner_lower_bound (self, &self->cursor);
    zmesh_state_owner_t *last = NULL;
    for (; i < self->owner_count; i++) {
        zmesh_state_owner_t *owner = &self->owners [i];
        if (owner->listed != self->digests && !s_list (self, owner, &used, budget))
            break;
        last = owner;
    }
    if (i == self->owner_count) {
        msg->range_hi = s_id_last;
        memset (&self->cursor, 0, sizeof self->cursor);
    }
    else {
        //  config_check: one entry fits after half the budget, so the range is never empty.
        ZMESH_ASSERT (last);
        msg->range_hi = last->id;
        self->cursor = s_id_next (msg->range_hi);
    }
    qsort (self->out_digest, msg->digest_count, sizeof *self->out_digest, s_by_owner);
    s_out_send (self, update);
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
    if (s_forgotten (self, &theirs->owner, theirs->generation)) {
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
    bool is_self = s_id_cmp (&owner->id, &self->self) == 0;
    bool newer_generation = theirs->generation > owner->generation;
    if (newer_generation
        || (theirs->generation == owner->generation && theirs->version > owner->version)) {
        if (is_self) {
            update->dropped [ZMESH_STATE_DROP_SELF]++;
            return;
        }
        if (newer_generation) {
            s_owner_clear (self, owner, ZMESH_STATE_CAUSE_GENERATION);
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
        && theirs->floor > s_max (owner->version, owner->floor))
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
    zmesh_state_owner_t *owner = s_owner_find (self, &theirs->owner);
    if (owner)
        s_compare (self, (uint32_t) (owner - self->owners), theirs, true, give_count, want_count,
                   update);
    else
        s_want_unknown (self, theirs, want_count, new_count, update);
}

static void
s_on_digest (zmesh_state_t *self,
             const zmesh_id_t *peer,
             const zmesh_state_msg_t *msg,
             zmesh_state_update_t *update)
{
    uint32_t give_count = 0, want_count = 0, new_count = 0, k = 0;
    const zmesh_state_digest_entry_t *entries = msg->digest;
    for (; k < msg->digest_count && s_id_cmp (&entries [k].owner, &msg->range_lo) < 0; k++)
        s_compare_listed (self, &entries [k], &give_count, &want_count, &new_count, update);
    //  In the range, the digest is complete: an owner it does not list, the peer lacks.
    uint32_t i = s_owner_lower_bound (self, &msg->range_lo);
    for (; i < self->owner_count && s_id_cmp (&self->owners [i].id, &msg->range_hi) <= 0; i++) {
        const zmesh_id_t *id = &self->owners [i].id;
        for (; k < msg->digest_count && s_id_cmp (&entries [k].owner, id) < 0; k++)
            s_want_unknown (self, &entries [k], &want_count, &new_count, update);
        zmesh_state_digest_entry_t none = {.owner = *id};
        bool listed = k < msg->digest_count && s_id_cmp (&entries [k].owner, id) == 0;
        s_compare (self, i, listed ? &entries [k] : &none, listed, &give_count, &want_count,
                   update);
        if (listed)
            k++;
    }
    for (; k < msg->digest_count && s_id_cmp (&entries [k].owner, &msg->range_hi) <= 0; k++)
        s_want_unknown (self, &entries [k], &want_count, &new_count, update);
    for (; k < msg->digest_count; k++)
        s_compare_listed (self, &entries [k], &give_count, &want_count, &new_count, update);
    s_reply (self, peer, give_count, want_count, update);
}

static void
s_on_deltas (zmesh_state_t *self,
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
        zmesh_state_owner_t *owner = s_owner_find (self, &request->owner);
        if (!owner || request->generation > owner->generation
            || (request->generation == owner->generation
                && (request->version >= owner->version
                    || request->floor > s_max (owner->version, owner->floor))))
            continue;
        self->gives [give_count] = (uint32_t) (owner - self->owners);
        self->gives_from [give_count] =
            s_run_from (owner, request->generation, request->version, request->floor);
        give_count++;
    }
    s_reply (self, peer, give_count, 0, update);
}

//  ---------------------------------------------------------------------------------------------
//  Time.

//  Collect the tombstones whose time has come (see the GC rule in zmesh_state.h).
static void
s_collect (zmesh_state_t *self)
{
    uint64_t next = UINT64_MAX;
    uint64_t ttl = self->config.tombstone_ttl_ms;
    for (uint32_t o = 0; o < self->owner_count; o++) {
        zmesh_state_owner_t *owner = &self->owners [o];
        uint32_t i = 0;
        while (i < owner->entry_count) {
            zmesh_state_entry_t *entry = &owner->entries [i];
            if (!entry->deleted) {
                i++;
                continue;
            }
            if (entry->deleted_ms + ttl > self->now_ms) {
                if (entry->deleted_ms + ttl < next)
                    next = entry->deleted_ms + ttl;
                i++;
                continue;
            }
            owner->floor = s_max (owner->floor, entry->version);
            owner->bytes -= entry->key_size;
            free (entry->key);
            *entry = owner->entries [--owner->entry_count];
        }
    }
    self->gc_next_ms = next;
}

static void
s_tick (zmesh_state_t *self, zmesh_state_update_t *update)
{
    s_forgotten_expire (self);
    if (self->gc_next_ms <= self->now_ms)
        s_collect (self);
    if (self->peer_count == 0 || self->now_ms < self->next_exchange_ms)
        return;
    //  Jitter of +-10% keeps nodes started together from exchanging in lockstep.
    uint32_t interval = self->config.interval_ms;
    self->next_exchange_ms =
        self->now_ms + interval - interval / 10 + s_rand (self) % (interval / 5 + 1);
    zmesh_id_t peer = self->peers [s_rand (self) % self->peer_count];
    s_start_exchange (self, &peer, update);
}

static int
s_set_peers (zmesh_state_t *self, const zmesh_state_event_t *event, zmesh_state_update_t *update)
{
    if (event->peer_count > 0 && !event->peers)
        return ZMESH_EINVAL;
    self->peer_count = 0;
    for (uint32_t i = 0; i < event->peer_count; i++) {
        if (s_id_cmp (&event->peers [i], &self->self) == 0)
            continue;
        if (self->peer_count == self->config.max_peers) {
            update->dropped [ZMESH_STATE_DROP_PEERS] += event->peer_count - i;
            return ZMESH_ELIMIT;
        }
        if (s_grow ((void **) &self->peers, &self->peer_capacity, self->peer_count + 1,
                    sizeof *self->peers, self->config.max_peers))
            return ZMESH_ENOMEM;
        self->peers [self->peer_count++] = event->peers [i];
    }
    return ZMESH_OK;
}

static int
s_forget (zmesh_state_t *self, const zmesh_state_event_t *event)
{
    if (s_id_cmp (&event->peer, &self->self) == 0)
        return ZMESH_EINVAL;
    uint64_t generation = event->generation;
    zmesh_state_owner_t *owner = s_owner_find (self, &event->peer);
    if (owner) {
        generation = s_max (generation, owner->generation);
        s_owner_clear (self, owner, ZMESH_STATE_CAUSE_FORGOTTEN);
        s_owner_remove (self, owner);
    }
    if (self->config.forget_ttl_ms > 0)
        s_forgotten_add (self, &event->peer, generation);
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
    update->msgs = &self->out;
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
            uint32_t f = s_forgotten_lower_bound (self, &event->peer);
            if (f < self->forgotten_count && s_id_cmp (&self->forgotten [f].id, &event->peer) == 0)
                s_forgotten_remove_at (self, f);
            if (event->msg->type == ZMESH_STATE_MSG_DIGEST)
                s_on_digest (self, &event->peer, event->msg, update);
            else
                s_on_deltas (self, &event->peer, event->msg, update);
            break;
        }
        case ZMESH_STATE_PEERS:
            update->error = s_set_peers (self, event, update);
            break;
        case ZMESH_STATE_FORGET:
            update->error = s_forget (self, event);
            break;
        case ZMESH_STATE_EXCHANGE:
            if (s_id_cmp (&event->peer, &self->self) == 0)
                update->error = ZMESH_EINVAL;
            else
                s_start_exchange (self, &event->peer, update);
            break;
        case ZMESH_STATE_SET:
        case ZMESH_STATE_DELETE:
            update->error = s_local_write (self, event, event->type == ZMESH_STATE_DELETE);
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
    return s_owner_self (self)->version;
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
    const zmesh_state_owner_t *owner = s_owner_find (self, owner_id);
    if (!owner || !key)
        return ZMESH_ENOTFOUND;
    size_t key_size = strnlen (key, ZMESH_STATE_KEY_SIZE_LIMIT + 1);
    const zmesh_state_entry_t *entry = s_entry_find (owner, key, (uint32_t) key_size);
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
    const zmesh_state_owner_t *owner = s_owner_find (self, owner_id);
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
    const zmesh_state_owner_t *owner = s_owner_find (self, owner_id);
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
