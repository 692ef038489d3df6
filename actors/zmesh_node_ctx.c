/*  zmesh_node_ctx.c: the shared, locked part of a node's state (see zmesh_node_ctx.h). */
#include "zmesh_node_ctx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
zmesh_ctx_set_endpoint (zmesh_node_ctx_t *self, const char *endpoint)
{
    pthread_mutex_lock (&self->mutex);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    pthread_mutex_unlock (&self->mutex);
}

void
zmesh_ctx_endpoint (zmesh_node_ctx_t *self, char *out)
{
    pthread_mutex_lock (&self->mutex);
    memcpy (out, self->endpoint, ZMESH_ENDPOINT_MAX);
    pthread_mutex_unlock (&self->mutex);
}

int
zmesh_ctx_publish_members (zmesh_node_ctx_t *self, const zmesh_member_t *members, size_t count)
{
    zmesh_member_t *copy = NULL;
    if (count) {
        copy = malloc (count * sizeof *copy);
        if (!copy)
            return ZMESH_ENOMEM;
        memcpy (copy, members, count * sizeof *copy);
    }
    //  Who is there and in what state: what the work plane's view depends on. Gossip
    //  publishes once a second even when only silences moved; those wake nobody.
    uint64_t shape = count;
    for (size_t i = 0; i < count; i++) {
        shape =
            zmesh_mix64 (shape ^ zmesh_mix64 ((uint64_t) strtoull (members [i].id + 16, NULL, 16)));
        shape = zmesh_mix64 (shape ^ (uint64_t) (uint8_t) members [i].state [0]
                             ^ ((uint64_t) members [i].generation << 8));
    }
    pthread_mutex_lock (&self->mutex);
    zmesh_member_t *old = self->members;
    self->members = copy;
    self->member_count = count;
    bool changed = shape != self->members_shape;
    self->members_shape = shape;
    pthread_mutex_unlock (&self->mutex);
    free (old);
    if (changed)
        zmesh_ctx_view_changed (self, ZMESH_VIEW_MEMBERS);
    return ZMESH_OK;
}

zmesh_member_t *
zmesh_ctx_members (zmesh_node_ctx_t *self, size_t *count)
{
    pthread_mutex_lock (&self->mutex);
    zmesh_member_t *copy = NULL;
    *count = 0;
    if (self->member_count && (copy = malloc (self->member_count * sizeof *copy))) {
        memcpy (copy, self->members, self->member_count * sizeof *copy);
        *count = self->member_count;
    }
    pthread_mutex_unlock (&self->mutex);
    return copy;
}

void
zmesh_ctx_set_actor (zmesh_node_ctx_t *self, const char *name, const char *state, uint32_t restarts)
{
    pthread_mutex_lock (&self->mutex);
    zmesh_actor_status_t *row = NULL;
    for (size_t i = 0; i < self->actor_count && !row; i++)
        if (strcmp (self->actors [i].name, name) == 0)
            row = &self->actors [i];
    if (!row && self->actor_count < ZMESH_ACTORS_MAX)
        row = &self->actors [self->actor_count++];
    if (row) {
        snprintf (row->name, sizeof row->name, "%s", name);
        snprintf (row->state, sizeof row->state, "%s", state);
        row->restarts = restarts;
    }
    pthread_mutex_unlock (&self->mutex);
}

size_t
zmesh_ctx_actors (zmesh_node_ctx_t *self, zmesh_actor_status_t *out, size_t max)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->actor_count < max ? self->actor_count : max;
    memcpy (out, self->actors, count * sizeof *out);
    pthread_mutex_unlock (&self->mutex);
    return count;
}

void
zmesh_ctx_set_profile (zmesh_node_ctx_t *self, const zmesh_profile_t *profile, uint64_t at_ms)
{
    pthread_mutex_lock (&self->mutex);
    self->profile = *profile;
    self->profile_valid = true;
    self->profile_at_ms = at_ms;
    pthread_mutex_unlock (&self->mutex);
}

bool
zmesh_ctx_profile (zmesh_node_ctx_t *self, zmesh_profile_t *out, uint64_t *at_ms)
{
    pthread_mutex_lock (&self->mutex);
    bool valid = self->profile_valid;
    if (valid) {
        *out = self->profile;
        *at_ms = self->profile_at_ms;
    }
    pthread_mutex_unlock (&self->mutex);
    return valid;
}

static void
s_chunk_destroy (void **item)
{
    zchunk_destroy ((zchunk_t **) item);
}

void
zmesh_ctx_init (zmesh_node_ctx_t *self)
{
    pthread_mutex_init (&self->mutex, NULL);
    self->view_fds [0] = self->view_fds [1] = -1;
    self->member_profiles = zhashx_new ();
    ZMESH_ASSERT (self->member_profiles);
    zhashx_set_destructor (self->member_profiles, s_chunk_destroy);
    self->member_work = zhashx_new ();
    ZMESH_ASSERT (self->member_work);
    zhashx_set_destructor (self->member_work, s_chunk_destroy);
    self->member_scale = zhashx_new ();
    ZMESH_ASSERT (self->member_scale);
    zhashx_set_destructor (self->member_scale, s_chunk_destroy);
}

void
zmesh_ctx_fini (zmesh_node_ctx_t *self)
{
    zhashx_destroy (&self->member_profiles);
    zhashx_destroy (&self->member_work);
    zhashx_destroy (&self->member_scale);
    zchunk_destroy (&self->work);
    zchunk_destroy (&self->scale);
    free (self->members);
    self->members = NULL;
    pthread_mutex_destroy (&self->mutex);
}

//  A member's value in one of the tables above (profiles, work offers): replace it with a copy
//  of data (NULL: remove it), then tell the watchers what changed.
static void
s_member_set (zmesh_node_ctx_t *self,
              zhashx_t *table,
              const char *id_hex,
              const uint8_t *data,
              size_t size,
              uint32_t what)
{
    zchunk_t *chunk = data ? zchunk_new (data, size) : NULL;
    pthread_mutex_lock (&self->mutex);
    if (chunk)
        zhashx_update (table, id_hex, chunk);
    else
        zhashx_delete (table, id_hex);
    pthread_mutex_unlock (&self->mutex);
    if (what)
        zmesh_ctx_view_changed (self, what);
}

//  Copy a member's value out of one of the tables into buffer (capacity bytes): its size, or 0
//  if there is none or it is larger.
static size_t
s_member_copy (
    zmesh_node_ctx_t *self, zhashx_t *table, const char *id_hex, uint8_t *buffer, size_t capacity)
{
    size_t size = 0;
    pthread_mutex_lock (&self->mutex);
    zchunk_t *chunk = (zchunk_t *) zhashx_lookup (table, id_hex);
    if (chunk && zchunk_size (chunk) <= capacity) {
        size = zchunk_size (chunk);
        memcpy (buffer, zchunk_data (chunk), size);
    }
    pthread_mutex_unlock (&self->mutex);
    return size;
}

void
zmesh_ctx_set_member_profile (zmesh_node_ctx_t *self,
                              const char *id_hex,
                              const uint8_t *data,
                              size_t size)
{
    s_member_set (self, self->member_profiles, id_hex, data, size, ZMESH_VIEW_PROFILES);
}

bool
zmesh_ctx_member_profile (zmesh_node_ctx_t *self, const char *id_hex, zmesh_profile_t *out)
{
    uint8_t buffer [ZMESH_PROFILE_ENCODED_MAX];
    size_t size = s_member_copy (self, self->member_profiles, id_hex, buffer, sizeof buffer);
    return size && zmesh_profile_decode (out, buffer, size) == ZMESH_OK;
}

void
zmesh_ctx_set_member_work (zmesh_node_ctx_t *self,
                           const char *id_hex,
                           const uint8_t *data,
                           size_t size)
{
    s_member_set (self, self->member_work, id_hex, data, size, ZMESH_VIEW_WORK);
}

bool
zmesh_ctx_member_work (zmesh_node_ctx_t *self, const char *id_hex, zmesh_work_info_t *out)
{
    uint8_t buffer [ZMESH_WORK_INFO_SIZE_MAX];
    size_t size = s_member_copy (self, self->member_work, id_hex, buffer, sizeof buffer);
    return size && zmesh_work_info_decode (out, buffer, size) == ZMESH_OK;
}

void
zmesh_ctx_set_member_scale (zmesh_node_ctx_t *self,
                            const char *id_hex,
                            const uint8_t *data,
                            size_t size)
{
    s_member_set (self, self->member_scale, id_hex, data, size, 0);  //  read each cycle
}

bool
zmesh_ctx_member_scale (zmesh_node_ctx_t *self, const char *id_hex, zmesh_scale_info_t *out)
{
    uint8_t buffer [ZMESH_SCALE_INFO_SIZE_MAX];
    size_t size = s_member_copy (self, self->member_scale, id_hex, buffer, sizeof buffer);
    return size && zmesh_scale_info_decode (out, buffer, size) == ZMESH_OK;
}

//  Replace one of the node's own values (under the mutex), and copy one out.
static void
s_own_set (zmesh_node_ctx_t *self, zchunk_t **slot, const uint8_t *data, size_t size)
{
    zchunk_t *chunk = zchunk_new (data, size);
    pthread_mutex_lock (&self->mutex);
    zchunk_destroy (slot);
    *slot = chunk;
    pthread_mutex_unlock (&self->mutex);
}

static zchunk_t *
s_own_copy (zmesh_node_ctx_t *self, zchunk_t *const *slot)
{
    pthread_mutex_lock (&self->mutex);
    zchunk_t *copy = *slot ? zchunk_dup (*slot) : NULL;
    pthread_mutex_unlock (&self->mutex);
    return copy;
}

void
zmesh_ctx_set_work (zmesh_node_ctx_t *self, const uint8_t *data, size_t size)
{
    s_own_set (self, &self->work, data, size);
}

zchunk_t *
zmesh_ctx_work (zmesh_node_ctx_t *self)
{
    return s_own_copy (self, &self->work);
}

void
zmesh_ctx_set_scale (zmesh_node_ctx_t *self, const uint8_t *data, size_t size)
{
    s_own_set (self, &self->scale, data, size);
}

zchunk_t *
zmesh_ctx_scale (zmesh_node_ctx_t *self)
{
    return s_own_copy (self, &self->scale);
}

void
zmesh_ctx_view_changed (zmesh_node_ctx_t *self, uint32_t what)
{
    __atomic_add_fetch (&self->view_version, 1, __ATOMIC_RELEASE);
    if (what & ZMESH_VIEW_WORK)
        __atomic_add_fetch (&self->work_version, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock (&self->mutex);
    for (int i = 0; i < 2; i++)
        if (self->view_fds [i] >= 0 && (self->view_masks [i] & what)) {
            uint64_t one = 1;
            ssize_t rc = write (self->view_fds [i], &one, sizeof one);
            (void) rc;  //  a full counter (never in practice) still reads as readable
        }
    pthread_mutex_unlock (&self->mutex);
}

void
zmesh_ctx_view_watch (zmesh_node_ctx_t *self, int slot, int fd, uint32_t mask)
{
    pthread_mutex_lock (&self->mutex);
    self->view_fds [slot] = fd;
    self->view_masks [slot] = mask;
    pthread_mutex_unlock (&self->mutex);
}

uint64_t
zmesh_ctx_work_version (zmesh_node_ctx_t *self)
{
    return __atomic_load_n (&self->work_version, __ATOMIC_ACQUIRE);
}

uint64_t
zmesh_ctx_view_version (zmesh_node_ctx_t *self)
{
    return __atomic_load_n (&self->view_version, __ATOMIC_ACQUIRE);
}

const zmesh_handler_entry_t *
zmesh_ctx_handler (const zmesh_node_ctx_t *self, const char *name)
{
    for (size_t i = 0; i < self->handler_count; i++)
        if (strcmp (self->handlers [i].name, name) == 0)
            return &self->handlers [i];
    return NULL;
}

bool
zmesh_member_curve_public (const zmesh_member_t *member,
                           const zmesh_id_t *id,
                           uint8_t curve_public [ZMESH_KEY_SIZE])
{
    uint8_t sign_public [ZMESH_KEY_SIZE];
    zmesh_public_t pub;
    if (zmesh_hex_decode (sign_public, ZMESH_KEY_SIZE, member->public_key)
        || zmesh_public_from_sign_key (&pub, sign_public) || !zmesh_id_equal (&pub.id, id))
        return false;
    memcpy (curve_public, pub.curve_public, ZMESH_KEY_SIZE);
    return true;
}
