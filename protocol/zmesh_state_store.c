/*  zmesh_state_store.c: the state core's owner and entry store (see zmesh_state.h): lookups,
    writes and the changes they report, local writes, forgotten owners and the collection of
    tombstones.

    Layout: the owners live in one array sorted by id (binary search; a digest walks a range
    of it); each owner's entries in an unsorted array (at most a few hundred: linear search,
    and a sort by version when a run is built). An entry is one allocation: key, NUL, value.
    The changes of a step copy their keys and values into an arena, so a change stays valid
    until the next step even if a later run of the same step replaces or drops the entry.
    Forgotten owners are a second sorted array whose entries expire at until_ms. A tombstone
    is collected tombstone_ttl_ms after it was applied and raises its owner's floor (the GC
    rule in zmesh_state.h); gc_next_ms says when the next one is due.
*/
#include "zmesh_state_internal.h"
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Small helpers.

bool
zmesh_state__key_printable (const char *key, uint32_t size)
{
    for (uint32_t i = 0; i < size; i++)
        if ((unsigned char) key [i] < 0x20 || (unsigned char) key [i] > 0x7e)
            return false;
    return true;
}

//  Make room for need elements of elem bytes in *array (capacity *capacity, at most max):
//  double up to max. 0, or -1 when max is reached or memory is short.
int
zmesh_state__grow (void **array, uint32_t *capacity, uint32_t need, size_t elem, uint32_t max)
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
uint32_t
zmesh_state__owner_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t lo = 0, hi = self->owner_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (zmesh_state__id_cmp (&self->owners [mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

zmesh_state_owner_t *
zmesh_state__owner_find (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t i = zmesh_state__owner_lower_bound (self, id);
    if (i < self->owner_count && zmesh_state__id_cmp (&self->owners [i].id, id) == 0)
        return &self->owners [i];
    return NULL;
}

zmesh_state_owner_t *
zmesh_state__owner_self (const zmesh_state_t *self)
{
    zmesh_state_owner_t *owner = zmesh_state__owner_find (self, &self->self);
    ZMESH_ASSERT (owner);
    return owner;
}

zmesh_state_entry_t *
zmesh_state__entry_find (const zmesh_state_owner_t *owner, const char *key, uint32_t key_size)
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

bool
zmesh_state__arena_room (const zmesh_state_t *self, uint32_t key_size, uint32_t value_size)
{
    return (size_t) key_size + 1 + value_size <= self->arena_capacity - self->arena_used;
}

void
zmesh_state__change_entry (zmesh_state_t *self,
                           const zmesh_state_owner_t *owner,
                           const zmesh_state_entry_t *entry,
                           zmesh_state_change_kind_t kind)
{
    ZMESH_ASSERT (self->change_count < self->change_capacity);
    ZMESH_ASSERT (zmesh_state__arena_room (self, entry->key_size, entry->value_size));
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
void
zmesh_state__owner_clear (zmesh_state_t *self,
                          zmesh_state_owner_t *owner,
                          zmesh_state_cause_t cause)
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

zmesh_state_owner_t *
zmesh_state__owner_add (zmesh_state_t *self, const zmesh_id_t *id, zmesh_state_update_t *update)
{
    if (self->owner_count == self->config.max_owners
        || zmesh_state__grow ((void **) &self->owners, &self->owner_capacity, self->owner_count + 1,
                              sizeof *self->owners, self->config.max_owners)) {
        update->dropped [ZMESH_STATE_DROP_OWNERS]++;
        return NULL;
    }
    uint32_t i = zmesh_state__owner_lower_bound (self, id);
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
    zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_NONE);
    free (owner->entries);
    uint32_t i = (uint32_t) (owner - self->owners);
    memmove (&self->owners [i], &self->owners [i + 1],
             (self->owner_count - i - 1) * sizeof *self->owners);
    self->owner_count--;
}

//  Write an entry (new if entry is NULL): the key, the value unless deleted, the version.
//  ZMESH_ENOMEM leaves the owner as it was.
int
zmesh_state__entry_write (zmesh_state_t *self,
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
        && zmesh_state__grow ((void **) &owner->entries, &owner->entry_capacity,
                              owner->entry_count + 1, sizeof *owner->entries,
                              self->config.max_keys * ZMESH_STATE_REPLICA_SLACK))
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

uint32_t
zmesh_state__forgotten_lower_bound (const zmesh_state_t *self, const zmesh_id_t *id)
{
    uint32_t lo = 0, hi = self->forgotten_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (zmesh_state__id_cmp (&self->forgotten [mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
zmesh_state__forgotten_remove_at (zmesh_state_t *self, uint32_t i)
{
    memmove (&self->forgotten [i], &self->forgotten [i + 1],
             (self->forgotten_count - i - 1) * sizeof *self->forgotten);
    self->forgotten_count--;
}

//  Is a run or digest entry of this owner at this generation refused?
bool
zmesh_state__forgotten (const zmesh_state_t *self, const zmesh_id_t *id, uint64_t generation)
{
    uint32_t i = zmesh_state__forgotten_lower_bound (self, id);
    return i < self->forgotten_count && zmesh_state__id_cmp (&self->forgotten [i].id, id) == 0
           && self->forgotten [i].until_ms > self->now_ms
           && generation <= self->forgotten [i].generation;
}

static void
s_forgotten_add (zmesh_state_t *self, const zmesh_id_t *id, uint64_t generation)
{
    uint32_t i = zmesh_state__forgotten_lower_bound (self, id);
    if (i < self->forgotten_count && zmesh_state__id_cmp (&self->forgotten [i].id, id) == 0) {
        self->forgotten [i].generation =
            zmesh_state__max (self->forgotten [i].generation, generation);
        self->forgotten [i].until_ms = self->now_ms + self->config.forget_ttl_ms;
        return;
    }
    if (zmesh_state__grow ((void **) &self->forgotten, &self->forgotten_capacity,
                           self->forgotten_count + 1, sizeof *self->forgotten,
                           self->config.max_owners)) {
        //  Full: the entry that expires first makes room.
        uint32_t oldest = 0;
        for (uint32_t j = 1; j < self->forgotten_count; j++)
            if (self->forgotten [j].until_ms < self->forgotten [oldest].until_ms)
                oldest = j;
        if (self->forgotten_count == 0)
            return;
        zmesh_state__forgotten_remove_at (self, oldest);
        i = zmesh_state__forgotten_lower_bound (self, id);
    }
    memmove (&self->forgotten [i + 1], &self->forgotten [i],
             (self->forgotten_count - i) * sizeof *self->forgotten);
    self->forgotten_count++;
    self->forgotten [i].id = *id;
    self->forgotten [i].generation = generation;
    self->forgotten [i].until_ms = self->now_ms + self->config.forget_ttl_ms;
}

void
zmesh_state__forgotten_expire (zmesh_state_t *self)
{
    uint32_t i = 0;
    while (i < self->forgotten_count)
        if (self->forgotten [i].until_ms <= self->now_ms)
            zmesh_state__forgotten_remove_at (self, i);
        else
            i++;
}
//  ---------------------------------------------------------------------------------------------
//  Local writes.

int
zmesh_state__local_write (zmesh_state_t *self, const zmesh_state_event_t *event, bool deleted)
{
    const zmesh_state_config_t *config = &self->config;
    if (!event->key || (!deleted && event->value_size > 0 && !event->value))
        return ZMESH_EINVAL;
    size_t key_size = strnlen (event->key, config->key_size_max + 1);
    if (key_size == 0 || !zmesh_state__key_printable (event->key, (uint32_t) key_size))
        return ZMESH_EINVAL;
    if (key_size > config->key_size_max || (!deleted && event->value_size > config->value_size_max))
        return ZMESH_ETOOBIG;
    zmesh_state_owner_t *own = zmesh_state__owner_self (self);
    zmesh_state_entry_t *entry = zmesh_state__entry_find (own, event->key, (uint32_t) key_size);
    if (deleted && (!entry || entry->deleted))
        return ZMESH_ENOTFOUND;
    uint32_t value_size = deleted ? 0 : event->value_size;
    uint64_t keys = own->entry_count + (entry ? 0 : 1);
    uint64_t bytes = own->bytes + key_size + value_size;
    if (entry)
        bytes -= entry->key_size + entry->value_size;
    if (keys > config->max_keys || bytes > config->owner_bytes_max || own->version == UINT64_MAX)
        return ZMESH_ELIMIT;
    int rc = zmesh_state__entry_write (self, own, entry, event->key, (uint32_t) key_size,
                                       event->value, value_size, deleted, own->version + 1);
    if (rc)
        return rc;
    own->version++;
    own->changed_ms = self->now_ms;
    if (!entry)
        entry = &own->entries [own->entry_count - 1];
    zmesh_state__change_entry (self, own, entry,
                               deleted ? ZMESH_STATE_CHANGE_DELETE : ZMESH_STATE_CHANGE_SET);
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Garbage collection and forgetting.

//  Collect the tombstones whose time has come (see the GC rule in zmesh_state.h).
void
zmesh_state__collect (zmesh_state_t *self)
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
            owner->floor = zmesh_state__max (owner->floor, entry->version);
            owner->bytes -= entry->key_size;
            free (entry->key);
            *entry = owner->entries [--owner->entry_count];
        }
    }
    self->gc_next_ms = next;
}

int
zmesh_state__forget (zmesh_state_t *self, const zmesh_state_event_t *event)
{
    if (zmesh_state__id_cmp (&event->peer, &self->self) == 0)
        return ZMESH_EINVAL;
    uint64_t generation = event->generation;
    zmesh_state_owner_t *owner = zmesh_state__owner_find (self, &event->peer);
    if (owner) {
        generation = zmesh_state__max (generation, owner->generation);
        zmesh_state__owner_clear (self, owner, ZMESH_STATE_CAUSE_FORGOTTEN);
        s_owner_remove (self, owner);
    }
    if (self->config.forget_ttl_ms > 0)
        s_forgotten_add (self, &event->peer, generation);
    return ZMESH_OK;
}
