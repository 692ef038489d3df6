/*  zmesh_gossip_state.c: the gossip actor's node-state shell (see zmesh_gossip_state.h). */
#include "zmesh_gossip_state.h"
#include "zmesh_state_codec.h"
#include <czmq.h>
#include <sodium.h>

struct zmesh_gstate_t {
    zmesh_node_ctx_t *ctx;
    zmesh_state_t core;
    zmesh_gstate_send_fn *send;
    void *arg;
    zmesh_state_msg_buf_t *in;  //  decoded message (large: on the heap)
    uint8_t *out;               //  encoded message
    size_t out_capacity;
};

//  Carry out one update: send its message, count its drops, publish profile changes.
static void
s_apply (zmesh_gstate_t *self, const zmesh_state_update_t *update)
{
    zmesh_metrics_t *metrics = &self->ctx->metrics;
    for (int i = 0; i < ZMESH_STATE_DROP_COUNT; i++)
        if (update->dropped [i])
            zmesh_metrics_add (metrics, ZMESH_M_STATE_DROPPED, update->dropped [i]);
    for (uint32_t i = 0; i < update->msg_count; i++) {
        size_t size;
        //  The core builds within its byte budget: a message that does not encode is a bug.
        ZMESH_ASSERT (
            zmesh_state_msg_encode (&update->msgs [i].msg, self->out, self->out_capacity, &size)
            == ZMESH_OK);
        self->send (self->arg, &update->msgs [i].to, self->out, size);
    }
    zmesh_metrics_add (metrics, ZMESH_M_STATE_CHANGES, update->change_count);
    for (uint32_t i = 0; i < update->change_count; i++) {
        const zmesh_state_change_t *change = &update->changes [i];
        char id_hex [ZMESH_ID_HEX_SIZE];
        zmesh_id_to_hex (&change->owner, id_hex);
        if (change->kind == ZMESH_STATE_CHANGE_DROP
            || (change->key && streq (change->key, ZMESH_STATE_PROFILE_KEY)
                && change->kind == ZMESH_STATE_CHANGE_DELETE))
            zmesh_ctx_set_member_profile (self->ctx, id_hex, NULL, 0);
        else if (change->kind == ZMESH_STATE_CHANGE_SET
                 && streq (change->key, ZMESH_STATE_PROFILE_KEY))
            zmesh_ctx_set_member_profile (self->ctx, id_hex, change->value, change->value_size);
    }
}

static void
s_step (zmesh_gstate_t *self, const zmesh_state_event_t *event)
{
    zmesh_state_update_t update;
    zmesh_state_step (&self->core, event, &update);
    s_apply (self, &update);
}

zmesh_gstate_t *
zmesh_gstate_new (
    zmesh_node_ctx_t *ctx, zmesh_gstate_send_fn *send, void *arg, char *err, size_t err_size)
{
    zmesh_gstate_t *self = (zmesh_gstate_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "state: out of memory");
        return NULL;
    }
    self->ctx = ctx;
    self->send = send;
    self->arg = arg;
    zmesh_state_config_t config;
    zmesh_state_config_defaults (&config);
    config.interval_ms = (uint32_t) ctx->config.state_interval_ms;
    config.budget_bytes = (uint32_t) ctx->config.state_budget_bytes;
    config.max_owners = (uint32_t) ctx->config.max_peers + 1;
    self->out_capacity = ZMESH_STATE_MSG_SIZE_MAX;
    self->out = malloc (self->out_capacity);
    self->in = malloc (sizeof *self->in);
    uint64_t seed;
    randombytes_buf (&seed, sizeof seed);
    int rc = zmesh_state_config_check (&config);
    if (rc == 0 && self->out && self->in)
        rc = zmesh_state_init (&self->core, &config, &ctx->identity.pub.id, ctx->generation, 0,
                               seed, (uint64_t) zclock_mono ());
    if (rc || !self->out || !self->in) {
        snprintf (err, err_size, "state: %s (state/budget_bytes too small for its limits?)",
                  zmesh_strerror (rc ? rc : ZMESH_ENOMEM));
        free (self->out);
        free (self->in);
        free (self);
        return NULL;
    }
    return self;
}

void
zmesh_gstate_destroy (zmesh_gstate_t **self_p)
{
    if (*self_p) {
        zmesh_gstate_t *self = *self_p;
        zmesh_state_fini (&self->core);
        free (self->out);
        free (self->in);
        free (self);
        *self_p = NULL;
    }
}

void
zmesh_gstate_tick (zmesh_gstate_t *self, uint64_t now)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_TICK, .now_ms = now};
    s_step (self, &event);
}

void
zmesh_gstate_received (
    zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *from, const uint8_t *body, size_t size)
{
    if (zmesh_state_msg_decode (self->in, body, size) != ZMESH_OK) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_STATE_DROPPED, 1);
        return;
    }
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_RECEIVED, .now_ms = now, .peer = *from, .msg = &self->in->msg};
    s_step (self, &event);
}

void
zmesh_gstate_peers (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *peers, uint32_t count)
{
    zmesh_state_event_t event = {
        .type = ZMESH_STATE_PEERS, .now_ms = now, .peers = peers, .peer_count = count};
    s_step (self, &event);
}

void
zmesh_gstate_forget (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *owner)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_FORGET, .now_ms = now, .peer = *owner};
    s_step (self, &event);
}

int
zmesh_gstate_set (
    zmesh_gstate_t *self, uint64_t now, const char *key, const void *value, uint32_t size)
{
    zmesh_state_update_t update;
    int rc = zmesh_state_set (&self->core, now, key, value, size, &update);
    s_apply (self, &update);
    return rc;
}

uint64_t
zmesh_gstate_deadline (const zmesh_gstate_t *self)
{
    return zmesh_state_deadline_ms (&self->core);
}
