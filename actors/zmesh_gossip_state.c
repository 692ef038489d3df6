/*  zmesh_gossip_state.c: the gossip actor's node-state shell (see zmesh_gossip_state.h). */
#include "zmesh_gossip_state.h"
#include "zmesh_mpack.h"
#include "zmesh_state_codec.h"
#include <czmq.h>
#include <sodium.h>

#define S_BIND_ATTEMPTS     40      //  tries to bind the service endpoint,
#define S_BIND_PAUSE_MS     50      //  this far apart
#define S_SWEEP_INTERVAL_MS 30000u  //  periodic exchanges (digests in SWIM probes do the rest)

struct zmesh_gstate_t {
    zmesh_node_ctx_t *ctx;
    zmesh_state_t core;
    zmesh_gstate_send_fn *send;
    void *arg;
    zmesh_state_msg_buf_t *in;  //  decoded message (large: on the heap)
    uint8_t *out;               //  encoded message
    size_t out_capacity;
    zsock_t *service;  //  ROUTER serving the API and control
    zmesh_gstate_change_fn *on_change;
};

static bool
s_reserved (const char *key)
{
    return strncmp (key, ZMESH_STATE_RESERVED_PREFIX, strlen (ZMESH_STATE_RESERVED_PREFIX)) == 0;
}

//  Drop reasons that are the protocol working as designed, not bad input.
static bool
s_benign (int reason)
{
    return reason == ZMESH_STATE_DROP_FORGOTTEN || reason == ZMESH_STATE_DROP_STALE
           || reason == ZMESH_STATE_DROP_GAP || reason == ZMESH_STATE_DROP_SELF
           || reason == ZMESH_STATE_DROP_BEHIND;
}

//  Carry out one update: send its message, count its drops, publish profile changes.
static void
s_apply (zmesh_gstate_t *self, const zmesh_state_update_t *update)
{
    zmesh_metrics_t *metrics = &self->ctx->metrics;
    //  Input that breaks a rule or a bound is a drop; a run the protocol's own rules set
    //  aside (crossing exchanges bring what is already held) is only skipped.
    for (int i = 0; i < ZMESH_STATE_DROP_COUNT; i++)
        if (update->dropped [i])
            zmesh_metrics_add (metrics,
                               s_benign (i) ? ZMESH_M_STATE_SKIPPED : ZMESH_M_STATE_DROPPED,
                               update->dropped [i]);
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
        if (self->on_change && (!change->key || !s_reserved (change->key)))
            self->on_change (self->arg, zmesh_state_change_name (change->kind), &change->owner,
                             change->key, change->value, change->value_size);
        if (change->kind == ZMESH_STATE_CHANGE_DROP
            || (change->key && streq (change->key, ZMESH_SCALE_STATE_KEY)
                && change->kind == ZMESH_STATE_CHANGE_DELETE))
            zmesh_ctx_set_member_scale (self->ctx, id_hex, NULL, 0);
        else if (change->kind == ZMESH_STATE_CHANGE_SET
                 && streq (change->key, ZMESH_SCALE_STATE_KEY))
            zmesh_ctx_set_member_scale (self->ctx, id_hex, change->value, change->value_size);
        if (change->kind == ZMESH_STATE_CHANGE_DROP
            || (change->key && streq (change->key, ZMESH_WORK_STATE_KEY)
                && change->kind == ZMESH_STATE_CHANGE_DELETE))
            zmesh_ctx_set_member_work (self->ctx, id_hex, NULL, 0);
        else if (change->kind == ZMESH_STATE_CHANGE_SET
                 && streq (change->key, ZMESH_WORK_STATE_KEY))
            zmesh_ctx_set_member_work (self->ctx, id_hex, change->value, change->value_size);
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
    //  Neighbours compare zmesh_state_digest in every PING and ACK (the gossip actor, which
    //  then starts an exchange, at most one per state/interval_ms per link): the core's own
    //  periodic exchanges are only a safety net.
    config.interval_ms = S_SWEEP_INTERVAL_MS > (uint32_t) ctx->config.state_interval_ms
                             ? S_SWEEP_INTERVAL_MS
                             : (uint32_t) ctx->config.state_interval_ms;
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
    //  A restarted gossip binds the endpoint again; libzmq releases the old one a moment
    //  after the old actor ended: retry for a bounded while.
    self->service = zsock_new (ZMQ_ROUTER);
    for (int attempt = 0; self->service && attempt < S_BIND_ATTEMPTS; attempt++) {
        if (zsock_bind (self->service, "%s", ctx->state_endpoint) == 0)
            break;
        if (attempt + 1 == S_BIND_ATTEMPTS)
            zsock_destroy (&self->service);
        else
            zclock_sleep (S_BIND_PAUSE_MS);
    }
    if (rc == 0 && !self->service)
        rc = ZMESH_EIO;
    if (rc || !self->out || !self->in) {
        zsock_destroy (&self->service);
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
        zsock_destroy (&self->service);
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

uint64_t
zmesh_gstate_digest (zmesh_gstate_t *self)
{
    return zmesh_state_digest (&self->core);
}

uint64_t
zmesh_gstate_version (const zmesh_gstate_t *self)
{
    return zmesh_state_version (&self->core);
}

void
zmesh_gstate_exchange (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *peer)
{
    zmesh_state_event_t event = {.type = ZMESH_STATE_EXCHANGE, .now_ms = now, .peer = *peer};
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

bool
zmesh_gstate_get_text (
    zmesh_gstate_t *self, const zmesh_id_t *owner, const char *key, char *out, size_t size)
{
    zmesh_state_item_t item;
    out [0] = 0;
    if (zmesh_state_get (&self->core, owner, key, &item) != ZMESH_OK)
        return false;
    size_t length = item.value_size < size - 1 ? item.value_size : size - 1;
    memcpy (out, item.value, length);
    out [length] = 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char) out [i] < 0x20 || out [i] == 0x7f)
            out [i] = '?';  //  hearsay is shown to people: no control characters
    return true;
}

void
zmesh_gstate_on_change (zmesh_gstate_t *self, zmesh_gstate_change_fn *fn)
{
    self->on_change = fn;
}

zsock_t *
zmesh_gstate_service (zmesh_gstate_t *self)
{
    return self->service;
}

//  One reply: ok + msgpack, or error + text.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    char error [256];
} s_answer_t;

static int
s_fail (s_answer_t *answer, int rc, const char *what)
{
    snprintf (answer->error, sizeof answer->error, "%s: %s", what, zmesh_strerror (rc));
    return rc;
}

static void
s_pack_kv_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zmesh_mp_pack_cstr (pk, key);
    msgpack_pack_uint64 (pk, value);
}

static void
s_visit_key (const zmesh_state_item_t *item, void *arg)
{
    msgpack_packer *pk = (msgpack_packer *) arg;
    msgpack_pack_map (pk, 3);
    zmesh_mp_pack_cstr (pk, "key");
    zmesh_mp_pack_cstr (pk, item->key);
    s_pack_kv_uint (pk, "version", item->version);
    s_pack_kv_uint (pk, "size", item->value_size);
}

static void
s_count_key (const zmesh_state_item_t *item, void *arg)
{
    (*(uint32_t *) arg)++;
}

//  Run one request; ZMESH_OK with the payload packed, or an error with answer->error set.
static int
s_run (zmesh_gstate_t *self, zmsg_t *request, s_answer_t *answer)
{
    char *command = zmsg_popstr (request);
    char *first = zmsg_popstr (request);
    zframe_t *second = zmsg_pop (request);
    uint64_t now = (uint64_t) zclock_mono ();
    zmesh_state_update_t update;
    zmesh_id_t owner;
    int rc = ZMESH_EINVAL;
    snprintf (answer->error, sizeof answer->error, "malformed request");
    if (!command || !first)
        ;
    else if (streq (command, "set") || streq (command, "del")) {
        bool set = streq (command, "set");
        if (s_reserved (first))
            snprintf (answer->error, sizeof answer->error,
                      "keys starting with '%s' are zmesh's own", ZMESH_STATE_RESERVED_PREFIX);
        else if (set && !second)
            ;
        else {
            rc = set ? zmesh_state_set (&self->core, now, first, zframe_data (second),
                                        (uint32_t) zframe_size (second), &update)
                     : zmesh_state_delete (&self->core, now, first, &update);
            s_apply (self, &update);
            if (rc)
                s_fail (answer, rc, set ? "cannot set" : "cannot delete");
            else {
                msgpack_pack_map (&answer->pk, 1);
                s_pack_kv_uint (&answer->pk, "version", zmesh_state_version (&self->core));
            }
        }
    }
    else if (streq (command, "get") || streq (command, "keys")) {
        char *key = second && streq (command, "get") ? zframe_strdup (second) : NULL;
        zmesh_state_item_t item;
        uint32_t count = 0;
        if (zmesh_hex_decode (owner.bytes, ZMESH_ID_SIZE, first))
            snprintf (answer->error, sizeof answer->error, "'%.40s' is not a node id", first);
        else if (streq (command, "keys")) {
            rc = zmesh_state_each (&self->core, &owner, false, s_count_key, &count);
            if (rc)
                s_fail (answer, rc, "no state of that node");
            else {
                msgpack_pack_array (&answer->pk, count);
                zmesh_state_each (&self->core, &owner, false, s_visit_key, &answer->pk);
            }
        }
        else if (!key)
            ;
        else if ((rc = zmesh_state_get (&self->core, &owner, key, &item)) != 0)
            s_fail (answer, rc, "no such key");
        else {
            msgpack_pack_map (&answer->pk, 4);
            zmesh_mp_pack_cstr (&answer->pk, "owner");
            zmesh_mp_pack_cstr (&answer->pk, first);
            zmesh_mp_pack_cstr (&answer->pk, "key");
            zmesh_mp_pack_cstr (&answer->pk, key);
            zmesh_mp_pack_cstr (&answer->pk, "value");
            msgpack_pack_bin (&answer->pk, item.value_size);
            msgpack_pack_bin_body (&answer->pk, item.value, item.value_size);
            s_pack_kv_uint (&answer->pk, "version", item.version);
        }
        zstr_free (&key);
    }
    else
        snprintf (answer->error, sizeof answer->error, "unknown request '%.40s'", command);
    zstr_free (&command);
    zstr_free (&first);
    zframe_destroy (&second);
    return rc;
}

void
zmesh_gstate_serve (zmesh_gstate_t *self)
{
    zmsg_t *request = zmsg_recv (self->service);
    zframe_t *caller = request ? zmsg_pop (request) : NULL;
    if (!caller) {
        zmsg_destroy (&request);
        return;
    }
    s_answer_t answer;
    msgpack_sbuffer_init (&answer.buffer);
    msgpack_packer_init (&answer.pk, &answer.buffer, msgpack_sbuffer_write);
    int rc = zmsg_size (request) <= 3 ? s_run (self, request, &answer) : ZMESH_EINVAL;
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &caller);
    zmsg_addstr (reply, rc ? "error" : "ok");
    if (rc) {
        zmsg_addstr (reply, answer.error);
        zmsg_addstrf (reply, "%d", rc);  //  the ZMESH_E* code, for the C API
    }
    else
        zmsg_addmem (reply, answer.buffer.data, answer.buffer.size);
    zmsg_send (&reply, self->service);
    msgpack_sbuffer_destroy (&answer.buffer);
    zmsg_destroy (&request);
}


//  Send [command a b] to the state service and wait for the answer (see the header).
int
zmesh_gstate_call (const char *endpoint,
                   const char *command,
                   const char *a,
                   const void *b,
                   size_t b_size,
                   zframe_t **payload,
                   char *err,
                   size_t err_size)
{
    zsock_t *call = zsock_new (ZMQ_DEALER);
    if (!call) {
        if (err)
            snprintf (err, err_size, "cannot make a socket to the gossip actor");
        return ZMESH_EIO;
    }
    zsock_set_rcvtimeo (call, ZMESH_STATE_CALL_TIMEOUT_MS);
    zsock_set_linger (call, 0);
    int rc = ZMESH_ETIMEOUT;
    if (err)
        snprintf (err, err_size, "the gossip actor did not answer within %d ms",
                  ZMESH_STATE_CALL_TIMEOUT_MS);
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, command);
    zmsg_addstr (request, a);
    if (b)
        zmsg_addmem (request, b, b_size);
    if (zsock_connect (call, "%s", endpoint) == 0 && zmsg_send (&request, call) == 0) {
        zmsg_t *answer = zmsg_recv (call);
        char *status = answer ? zmsg_popstr (answer) : NULL;
        zframe_t *body = answer ? zmsg_pop (answer) : NULL;
        if (status && body && streq (status, "ok")) {
            *payload = body;
            body = NULL;
            rc = ZMESH_OK;
        }
        else if (status && body) {
            //  [error text code]: the code is the ZMESH_E* the service met.
            char *code = zmsg_popstr (answer);
            if (err) {
                char *why = zframe_strdup (body);
                snprintf (err, err_size, "%s", why);
                zstr_free (&why);
            }
            rc = code ? atoi (code) : ZMESH_EPROTO;
            if (rc >= 0)
                rc = ZMESH_EPROTO;
            zstr_free (&code);
        }
        zstr_free (&status);
        zframe_destroy (&body);
        zmsg_destroy (&answer);
    }
    zmsg_destroy (&request);
    zsock_destroy (&call);
    return rc;
}
