/*  zmesh_node.c: the public node API (include/zmesh.h) over the supervisor actor. */
#include "zmesh_actors.h"
#include "zmesh_node_ctx.h"
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
    int lock_fd;  //  DATA/lock, held (flock) while the node exists; -1 if none
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
    for (int i = 0; i < config->trusted_count; i++) {
        uint8_t key [ZMESH_KEY_SIZE];
        zmesh_hex_decode (key, ZMESH_KEY_SIZE, config->trusted [i]);
        zmesh_trust_add (ctx->trust, key, false);
    }
    if (created)
        zsys_info ("node: created identity %s in %s/identity", ctx->identity.id_hex, config->data);
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
    char *field [6] = {0};
    for (int i = 0; i < 6; i++)
        field [i] = zmsg_popstr (msg);
    memset (event, 0, sizeof *event);
    event->type = s_event_type (field [0] ? field [0] : "");
    snprintf (event->id, sizeof event->id, "%s", field [1] ? field [1] : "");
    snprintf (event->name, sizeof event->name, "%s", field [2] ? field [2] : "");
    snprintf (event->endpoint, sizeof event->endpoint, "%s", field [3] ? field [3] : "");
    snprintf (event->from, sizeof event->from, "%s", field [4] ? field [4] : "");
    snprintf (event->to, sizeof event->to, "%s", field [5] ? field [5] : "");
    for (int i = 0; i < 6; i++)
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
