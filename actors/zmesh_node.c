/*  zmesh_node.c: the public node API (include/zmesh.h) over the supervisor actor. */
#include "zmesh_actors.h"
#include "zmesh_balancer.h"
#include "zmesh_work.h"
#include "zmesh_gossip_state.h"
#include "zmesh_mpack.h"
#include "zmesh_node_ctx.h"
#include "zmesh_spin.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

struct _zmesh_node_t {
    zmesh_node_ctx_t ctx;  //  shared with the actors; lives as long as the node
    zactor_t *supervisor;  //  NULL until started, and after stop
    zsock_t *events;       //  PULL: membership events from the supervisor
    char contact [ZMESH_CONTACT_MAX];
    char endpoint [ZMESH_ENDPOINT_MAX];  //  what zmesh_node_endpoint last returned
    int lock_fd;      //  DATA/lock, held (flock) while the node exists; -1 if none
    zsock_t *work;    //  DEALER to the balancer, made at the first submit
    zlistx_t *early;  //  results zmesh_node_submit received while waiting for its own
};

//  One node per data directory: two would share an identity and a control socket. An flock
//  on DATA/lock says so at once, and goes away with the process however it ends.
static int
s_lock_data (zmesh_node_t *self, char *err, size_t err_size)
{
    char path [ZMESH_DATA_PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/lock", self->ctx.config.data);
    self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0) {
        snprintf (err, err_size, "cannot open %s: %s", path, strerror (errno));
        return ZMESH_EIO;
    }
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf (err, err_size, "another zmesh node is using %s (%s is locked)",
                  self->ctx.config.data, path);
        return ZMESH_ESTATE;
    }
    return ZMESH_OK;
}

zmesh_node_t *
zmesh_node_new (const zmesh_config_t *config, char *err, size_t err_size)
{
    if (!config) {
        snprintf (err, err_size, "no configuration");
        return NULL;
    }
    if (zmesh_config_validate (config, err, err_size))
        return NULL;
    zmesh_node_t *self = (zmesh_node_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    zmesh_node_ctx_t *ctx = &self->ctx;
    ctx->config = *config;
    self->lock_fd = -1;
    zmesh_ctx_init (ctx);
    bool created;
    if (zmesh_identity_load (&ctx->identity, config->data, &created, err, err_size)
        || s_lock_data (self, err, err_size)) {
        zmesh_node_destroy (&self);
        return NULL;
    }
    if (!ctx->config.name [0]) {
        char host [ZMESH_NAME_MAX] = "";
        char ignored [256];
        //  Through the config's own check: a host name peers would refuse is not used.
        if (gethostname (host, sizeof host - 1) != 0 || !host [0]
            || zmesh_config_set (&ctx->config, "node/name", host, ignored, sizeof ignored) != 0)
            snprintf (ctx->config.name, sizeof ctx->config.name, "node");
    }
    char trusted_dir [ZMESH_DATA_PATH_MAX + 16];
    snprintf (trusted_dir, sizeof trusted_dir, "%s/trusted", config->data);
    ctx->trust = zmesh_trust_new (trusted_dir, streq (config->trust_mode, "open"));
    if (!ctx->trust || zmesh_trust_load_dir (ctx->trust, err, err_size)) {
        zmesh_node_destroy (&self);
        return NULL;
    }
    zmesh_trust_set_self (ctx->trust, ctx->identity.pub.curve_public);
    for (int i = 0; i < config->trusted_count; i++) {
        uint8_t key [ZMESH_KEY_SIZE];
        zmesh_hex_decode (key, ZMESH_KEY_SIZE, config->trusted [i]);
        zmesh_trust_add (ctx->trust, key, false);
    }
    if (created)
        zsys_info ("node: created identity %s in %s/identity", ctx->identity.id_hex, config->data);
    zmesh_worker_builtins (ctx);
    return self;
}

int
zmesh_node_start (zmesh_node_t *self, char *err, size_t err_size)
{
    if (self->supervisor) {
        snprintf (err, err_size, "node already started");
        return ZMESH_ESTATE;
    }
    zmesh_node_ctx_t *ctx = &self->ctx;
    struct timeval now;
    gettimeofday (&now, NULL);
    //  Wall-clock ms: grows across restarts of this node, which is all peers need of it.
    ctx->generation = (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_usec / 1000;
    ctx->started_mono_ms = zclock_mono ();
    snprintf (ctx->events_endpoint, sizeof ctx->events_endpoint, "inproc://zmesh-events-%p",
              (void *) self);
    snprintf (ctx->state_endpoint, sizeof ctx->state_endpoint, "inproc://zmesh-state-%p",
              (void *) self);
    snprintf (ctx->balancer_endpoint, sizeof ctx->balancer_endpoint, "inproc://zmesh-balancer-%p",
              (void *) self);
    if (!zmesh_trust_is_open (ctx->trust) && zmesh_trust_count (ctx->trust) == 0)
        zsys_info ("node: trusted mode and no peer keys yet: add some with `zmeshctl trust add`");
    if (zmesh_trust_is_open (ctx->trust))
        zsys_warning ("node: trust mode OPEN: any node with any key may connect");
    self->events = zsock_new (ZMQ_PULL);
    if (!self->events || zsock_bind (self->events, "%s", ctx->events_endpoint) != 0) {
        snprintf (err, err_size, "cannot create the event socket");
        zsock_destroy (&self->events);
        return ZMESH_EIO;
    }
    self->supervisor = zactor_new (zmesh_supervisor_actor, ctx);
    zstr_send (self->supervisor, "START");
    char *status = zstr_recv (self->supervisor);
    char *reason = status && streq (status, "FAILED") ? zstr_recv (self->supervisor) : NULL;
    int rc = ZMESH_OK;
    if (!status || !streq (status, "READY")) {
        snprintf (err, err_size, "%s", reason ? reason : "node did not start");
        zactor_destroy (&self->supervisor);
        zsock_destroy (&self->events);
        rc = ZMESH_EIO;
    }
    zstr_free (&status);
    zstr_free (&reason);
    return rc;
}

void
zmesh_node_stop (zmesh_node_t *self)
{
    if (!self || !self->supervisor)
        return;
    zstr_send (self->supervisor, "STOP");
    char *reply = zstr_recv (self->supervisor);
    zstr_free (&reply);
    zactor_destroy (&self->supervisor);
    zsock_destroy (&self->events);
    //  Results still queued to us: take and free them (pointers travel on that socket).
    if (self->work) {
        zmesh_work_reply_t left;
        while (zmq_recv (zsock_resolve (self->work), &left, sizeof left, ZMQ_DONTWAIT)
               == sizeof left) {
            zmesh_task_result_destroy (&left.result);
            free (left.list);
        }
        zsock_destroy (&self->work);
    }
    if (self->early) {
        zmesh_task_result_t *result;
        while ((result = (zmesh_task_result_t *) zlistx_detach (self->early, NULL)))
            zmesh_task_result_destroy (&result);
        zlistx_destroy (&self->early);
    }
}

void
zmesh_node_destroy (zmesh_node_t **self_p)
{
    if (!*self_p)
        return;
    zmesh_node_t *self = *self_p;
    zmesh_node_stop (self);
    zmesh_trust_destroy (&self->ctx.trust);
    zmesh_identity_wipe (&self->ctx.identity);
    zmesh_ctx_fini (&self->ctx);
    if (self->lock_fd >= 0)
        close (self->lock_fd);  //  releases the flock
    free (self);
    *self_p = NULL;
}

const char *
zmesh_node_id (zmesh_node_t *self)
{
    return self->ctx.identity.id_hex;
}

const char *
zmesh_node_public_key (zmesh_node_t *self)
{
    return self->ctx.identity.key_hex;
}

const char *
zmesh_node_name (zmesh_node_t *self)
{
    return self->ctx.config.name;
}

const char *
zmesh_node_endpoint (zmesh_node_t *self)
{
    //  A copy taken under the lock: a restarting gossip may be writing the shared one.
    zmesh_ctx_endpoint (&self->ctx, self->endpoint);
    return self->endpoint;
}

char *
zmesh_node_contact (zmesh_node_t *self)
{
    char endpoint [ZMESH_ENDPOINT_MAX], contact [ZMESH_CONTACT_MAX];
    zmesh_ctx_endpoint (&self->ctx, endpoint);
    zmesh_contact_format (contact, endpoint, self->ctx.identity.pub.sign_public);
    return strdup (contact);
}

int
zmesh_node_members (zmesh_node_t *self, zmesh_member_t *members, size_t max)
{
    size_t count;
    zmesh_member_t *all = zmesh_ctx_members (&self->ctx, &count);
    size_t n = count < max ? count : max;
    if (n)
        memcpy (members, all, n * sizeof *members);
    free (all);
    return (int) n;
}

int
zmesh_node_join (zmesh_node_t *self, const char *contact)
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_contact_parse (contact, endpoint, key))
        return ZMESH_EINVAL;
    if (!self->supervisor)
        return ZMESH_ESTATE;
    zstr_sendx (self->supervisor, "JOIN", contact, NULL);
    return ZMESH_OK;
}

int
zmesh_node_trust (zmesh_node_t *self, const char *key_hex)
{
    uint8_t key [ZMESH_KEY_SIZE];
    if (zmesh_hex_decode (key, ZMESH_KEY_SIZE, key_hex))
        return ZMESH_EINVAL;
    int rc = zmesh_trust_add (self->ctx.trust, key, true);
    if (rc == 0 && self->supervisor)
        zstr_send (self->supervisor, "TRUST");
    return rc;
}

static zmesh_event_type_t
s_event_type (const char *type)
{
    if (streq (type, "joined"))
        return ZMESH_EVENT_JOINED;
    if (streq (type, "left"))
        return ZMESH_EVENT_LEFT;
    if (streq (type, "forgotten"))
        return ZMESH_EVENT_FORGOTTEN;
    if (streq (type, "restarted"))
        return ZMESH_EVENT_RESTARTED;
    if (streq (type, "set"))
        return ZMESH_EVENT_STATE_SET;
    if (streq (type, "delete"))
        return ZMESH_EVENT_STATE_DELETE;
    if (streq (type, "drop"))
        return ZMESH_EVENT_STATE_DROP;
    return ZMESH_EVENT_STATE;
}

int
zmesh_node_event_recv (zmesh_node_t *self, zmesh_event_t *event, int timeout_ms)
{
    if (!self->events)
        return ZMESH_ESTATE;
    zsock_set_rcvtimeo (self->events, timeout_ms);
    zmsg_t *msg = zmsg_recv (self->events);
    if (!msg)
        return ZMESH_ETIMEOUT;
    char *field [7] = {0};
    for (int i = 0; i < 7; i++)
        field [i] = zmsg_popstr (msg);
    zframe_t *value = zmsg_pop (msg);
    memset (event, 0, sizeof *event);
    event->type = s_event_type (field [0] ? field [0] : "");
    snprintf (event->id, sizeof event->id, "%s", field [1] ? field [1] : "");
    snprintf (event->name, sizeof event->name, "%s", field [2] ? field [2] : "");
    snprintf (event->endpoint, sizeof event->endpoint, "%s", field [3] ? field [3] : "");
    snprintf (event->from, sizeof event->from, "%s", field [4] ? field [4] : "");
    snprintf (event->to, sizeof event->to, "%s", field [5] ? field [5] : "");
    snprintf (event->key, sizeof event->key, "%s", field [6] ? field [6] : "");
    if (value) {
        event->value_size = zframe_size (value);
        memcpy (event->value, zframe_data (value),
                event->value_size < sizeof event->value ? event->value_size : sizeof event->value);
    }
    zframe_destroy (&value);
    for (int i = 0; i < 7; i++)
        zstr_free (&field [i]);
    zmsg_destroy (&msg);
    return ZMESH_OK;
}

void *
zmesh_node_event_socket (zmesh_node_t *self)
{
    return self->events ? zsock_resolve (self->events) : NULL;
}

int
zmesh_node_fault (zmesh_node_t *self, const char *actor)
{
    if (!self->supervisor)
        return ZMESH_ESTATE;
    zstr_sendx (self->supervisor, "FAULT", actor, NULL);
    return ZMESH_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Node state: synchronous calls to the gossip actor's state service

//  The gossip actor's state service, if the node runs.
static int
s_state_call (zmesh_node_t *self,
              const char *command,
              const char *a,
              const void *b,
              size_t b_size,
              zframe_t **payload)
{
    if (!self->supervisor)
        return ZMESH_ESTATE;
    return zmesh_gstate_call (self->ctx.state_endpoint, command, a, b, b_size, payload, NULL, 0);
}

int
zmesh_node_state_set (zmesh_node_t *self, const char *key, const void *value, size_t size)
{
    if (!key || (!value && size))
        return ZMESH_EINVAL;
    zframe_t *payload = NULL;
    int rc = s_state_call (self, "set", key, value ? value : "", size, &payload);
    zframe_destroy (&payload);
    return rc;
}

int
zmesh_node_state_delete (zmesh_node_t *self, const char *key)
{
    if (!key)
        return ZMESH_EINVAL;
    zframe_t *payload = NULL;
    int rc = s_state_call (self, "del", key, NULL, 0, &payload);
    zframe_destroy (&payload);
    return rc;
}

int
zmesh_node_state_get (zmesh_node_t *self,
                      const char *owner,
                      const char *key,
                      void *value,
                      size_t capacity,
                      size_t *size)
{
    if (!key || !size || (!value && capacity))
        return ZMESH_EINVAL;
    zframe_t *payload = NULL;
    int rc = s_state_call (self, "get", owner ? owner : self->ctx.identity.id_hex, key,
                           strlen (key), &payload);
    if (rc)
        return rc;
    //  {owner, key, value: bin, version}
    zmesh_mp_reader_t r;
    zmesh_mp_reader_init (&r, zframe_data (payload), zframe_size (payload));
    uint32_t count;
    rc = ZMESH_EPROTO;
    if (zmesh_mp_read_map (&r, &count) == 0)
        for (uint32_t i = 0; i < count; i++) {
            const char *name;
            uint32_t name_size;
            const uint8_t *bin;
            uint32_t bin_size;
            if (zmesh_mp_read_str (&r, &name, &name_size))
                break;
            if (name_size == 5 && memcmp (name, "value", 5) == 0) {
                if (zmesh_mp_read_bin (&r, &bin, &bin_size))
                    break;
                *size = bin_size;
                memcpy (value, bin, bin_size < capacity ? bin_size : capacity);
                rc = ZMESH_OK;
            }
            else if (zmesh_mp_skip (&r))
                break;
        }
    zframe_destroy (&payload);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Work

int
zmesh_node_handler (zmesh_node_t *self, const char *name, zmesh_handler_fn *fn, void *arg)
{
    //  The wire's rule for a handler's name: 1..63 bytes of printable ASCII, space included.
    if (!self || !name || !fn
        || !zmesh_task_handler_valid (name, strnlen (name, ZMESH_TASK_HANDLER_MAX)))
        return ZMESH_EINVAL;
    if (self->supervisor)
        return ZMESH_ESTATE;
    zmesh_node_ctx_t *ctx = &self->ctx;
    for (size_t i = 0; i < ctx->handler_count; i++)
        if (streq (ctx->handlers [i].name, name)) {
            //  A registered handler replaces a built-in of the same name, once; a name
            //  registered already is refused.
            if (!ctx->handlers [i].builtin)
                return ZMESH_EINVAL;
            ctx->handlers [i].fn = fn;
            ctx->handlers [i].arg = arg;
            ctx->handlers [i].builtin = false;
            return ZMESH_OK;
        }
    if (ctx->handler_count == ZMESH_HANDLERS_MAX)
        return ZMESH_ELIMIT;
    zmesh_handler_entry_t *entry = &ctx->handlers [ctx->handler_count++];
    snprintf (entry->name, sizeof entry->name, "%s", name);
    entry->fn = fn;
    entry->arg = arg;
    return ZMESH_OK;
}

void
zmesh_task_spec_init (zmesh_task_spec_t *spec)
{
    memset (spec, 0, sizeof *spec);
    spec->priority = ZMESH_NORMAL;
    spec->max_retries = -1;
    spec->redundancy = 1;
    spec->idempotent = true;
}

void
zmesh_task_result_destroy (zmesh_task_result_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->output);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_work_socket (zmesh_node_t *self)
{
    if (!self->supervisor || !zmesh_config_has_actor (&self->ctx.config, "balancer"))
        return ZMESH_ESTATE;
    if (!self->work) {
        self->work = zsock_new (ZMQ_DEALER);
        if (!self->work)
            return ZMESH_EIO;
        zsock_set_sndhwm (self->work, 10000);
        zsock_set_rcvhwm (self->work, 0);
        if (zsock_connect (self->work, "%s", self->ctx.balancer_endpoint) != 0) {
            zsock_destroy (&self->work);
            return ZMESH_EIO;
        }
        self->early = zlistx_new ();
    }
    return ZMESH_OK;
}

int
zmesh_node_submit_async (zmesh_node_t *self,
                         const zmesh_task_spec_t *spec,
                         char *task_id,
                         int timeout_ms)
{
    if (!self || !spec)
        return ZMESH_EINVAL;
    int rc = s_work_socket (self);
    if (rc)
        return rc;
    char err [256];
    zmesh_work_submit_t *submit = zmesh_work_submit_new (spec, task_id, err, sizeof err);
    if (!submit)
        return ZMESH_EINVAL;
    zmesh_work_request_t request = {.kind = 'S', .submit = submit};
    zsock_set_sndtimeo (self->work, timeout_ms);
    if (zmq_send (zsock_resolve (self->work), &request, sizeof request, 0) != sizeof request) {
        zmesh_work_submit_destroy (&submit);
        return ZMESH_ETIMEOUT;
    }
    return ZMESH_OK;
}

//  What is left of a deadline (zclock_mono ms; -1: none) as a timeout: -1 forever, else >= 0.
static int
s_wait_ms (int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - zclock_mono ();
    return left > 0 ? (int) left : 0;
}

//  One reply from the balancer within timeout_ms.
static int
s_work_recv (zmesh_node_t *self, zmesh_work_reply_t *reply, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (self->work), 0, ZMQ_POLLIN, 0};
    //  The caller waits for its own task's result: it expects it (and it is its own thread).
    if (zmesh_poll_spin (&item, 1, timeout_ms, self->ctx.config.spin_us, NULL, true) <= 0)
        return ZMESH_ETIMEOUT;
    if (zmq_recv (zsock_resolve (self->work), reply, sizeof *reply, ZMQ_DONTWAIT) != sizeof *reply)
        return ZMESH_ETIMEOUT;
    return ZMESH_OK;
}

int
zmesh_node_result_recv (zmesh_node_t *self, zmesh_task_result_t **result, int timeout_ms)
{
    if (!self || !result)
        return ZMESH_EINVAL;
    int rc = s_work_socket (self);
    if (rc)
        return rc;
    *result = (zmesh_task_result_t *) zlistx_detach (self->early, NULL);
    if (*result)
        return ZMESH_OK;
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (true) {
        zmesh_work_reply_t reply;
        if (s_work_recv (self, &reply, s_wait_ms (deadline)))
            return ZMESH_ETIMEOUT;
        if (reply.kind == 'R') {
            *result = reply.result;
            return ZMESH_OK;
        }
        free (reply.list);
    }
}

int
zmesh_node_submit (zmesh_node_t *self,
                   const zmesh_task_spec_t *spec,
                   zmesh_task_result_t **result,
                   int timeout_ms)
{
    if (!result)
        return ZMESH_EINVAL;
    *result = NULL;
    char id [ZMESH_ID_HEX_SIZE];
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    int rc = zmesh_node_submit_async (self, spec, id, timeout_ms);
    if (rc)
        return rc;
    while (true) {
        zmesh_work_reply_t reply;
        if (s_work_recv (self, &reply, s_wait_ms (deadline)))
            return ZMESH_ETIMEOUT;
        if (reply.kind != 'R') {
            free (reply.list);
            continue;
        }
        if (streq (reply.result->task_id, id)) {
            *result = reply.result;
            return ZMESH_OK;
        }
        zlistx_add_end (self->early, reply.result);
    }
}
