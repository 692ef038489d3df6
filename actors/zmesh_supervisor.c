/*  zmesh_supervisor.c: composes a node's actors, routes between them, restarts the dead.

    Starts the actors node/actors names in dependency order (gossip, health, worker,
    balancer, beacon, control), one at a time, each confirming READY before the next starts. Routes "ROUTE actor ..." messages
    between them and forwards membership events to the node's event socket. An actor that
    returns without being told to has died: it is restarted after a back-off that doubles
    from supervisor/restart_backoff_ms up to supervisor/restart_backoff_max_ms, and resets
    once the actor has run for supervisor/stable_after_ms; every restart is logged and
    counted. STOP sends LEAVE through gossip, then stops the actors in reverse order.
*/
#include "zmesh_actors.h"
#include <limits.h>
#include <pthread.h>
#include "zmesh_node_ctx.h"

#define S_START_TIMEOUT_MS 10000  //  an actor slower than this to start has failed
#define S_LEAVE_TIMEOUT_MS 1000   //  how long STOP waits for gossip to send its LEAVEs
#define S_EVENTS_QUEUE_MAX 10000  //  events queued for an API reader before they are dropped

typedef struct {
    const char *name;
    zactor_fn *fn;
    zmesh_metric_t restart_metric;
} s_kind_t;

//  In dependency order.
static const s_kind_t s_kinds [] = {
    {"gossip", zmesh_gossip_actor, ZMESH_M_RESTARTS_GOSSIP},
    {"health", zmesh_health_actor, ZMESH_M_RESTARTS_HEALTH},
    {"worker", zmesh_worker_actor, ZMESH_M_RESTARTS_WORKER},
    {"balancer", zmesh_balancer_actor, ZMESH_M_RESTARTS_BALANCER},
    {"beacon", zmesh_beacon_actor, ZMESH_M_RESTARTS_BEACON},
    {"control", zmesh_control_actor, ZMESH_M_RESTARTS_CONTROL},
};
#define S_KINDS (sizeof s_kinds / sizeof s_kinds [0])

typedef struct {
    const s_kind_t *kind;
    bool enabled;        //  named in node/actors
    zactor_t *actor;     //  NULL while stopped or waiting to restart
    uint32_t restarts;   //  times restarted
    int backoff_ms;      //  delay before the next restart
    int64_t restart_at;  //  zclock_mono time of the pending restart, 0 if none
    int64_t started_at;  //  when it last started
} s_child_t;

typedef struct {
    zmesh_node_ctx_t *ctx;
    zsock_t *pipe;      //  to the node API
    zsock_t *events;    //  PUSH to the API's event socket
    zpoller_t *poller;  //  pipe + running children; rebuilt when they change
    s_child_t children [S_KINDS];
    bool running;  //  between START and STOP
    bool terminated;
} self_t;

void
zmesh_actor_name (const char *name)
{
    char thread_name [16];
    snprintf (thread_name, sizeof thread_name, "zm-%s", name);
    pthread_setname_np (pthread_self (), thread_name);
}

void
zmesh_actor_ready (zsock_t *pipe)
{
    zstr_send (pipe, "READY");
}

void
zmesh_actor_failed (zsock_t *pipe, const char *reason)
{
    zstr_sendx (pipe, "FAILED", reason, NULL);
}

static void
s_rebuild_poller (self_t *self)
{
    zpoller_destroy (&self->poller);
    self->poller = zpoller_new (self->pipe, NULL);
    zpoller_set_nonstop (self->poller, true);
    for (size_t i = 0; i < S_KINDS; i++)
        if (self->children [i].actor)
            zpoller_add (self->poller, self->children [i].actor);
}

//  Start one actor and wait for its READY. On failure, reason holds why.
static int
s_child_start (self_t *self, s_child_t *child, char *reason, size_t reason_size)
{
    zmesh_ctx_set_actor (self->ctx, child->kind->name, "starting", child->restarts);
    child->actor = zactor_new (child->kind->fn, self->ctx);
    if (!child->actor) {
        snprintf (reason, reason_size, "%s: cannot start thread", child->kind->name);
        return ZMESH_EIO;
    }
    zsock_t *sock = zactor_sock (child->actor);
    zsock_set_rcvtimeo (sock, S_START_TIMEOUT_MS);
    char *status = zstr_recv (sock);
    char *why = status && streq (status, "FAILED") ? zstr_recv (sock) : NULL;
    zsock_set_rcvtimeo (sock, -1);
    int rc = ZMESH_OK;
    if (!status || !streq (status, "READY")) {
        snprintf (reason, reason_size, "%s", why ? why : "did not start in time");
        zactor_destroy (&child->actor);
        rc = ZMESH_EIO;
    }
    zstr_free (&status);
    zstr_free (&why);
    child->started_at = zclock_mono ();
    child->restart_at = 0;
    zmesh_ctx_set_actor (self->ctx, child->kind->name, rc ? "failed" : "running", child->restarts);
    s_rebuild_poller (self);
    return rc;
}

static void
s_child_stop (self_t *self, s_child_t *child)
{
    zactor_destroy (&child->actor);
    child->restart_at = 0;
    zmesh_ctx_set_actor (self->ctx, child->kind->name, "stopped", child->restarts);
}

//  A child died (or failed to restart): schedule its restart with back-off.
static void
s_child_died (self_t *self, s_child_t *child, const char *why)
{
    const zmesh_config_t *config = &self->ctx->config;
    int64_t now = zclock_mono ();
    //  Its exit signal is consumed: zactor_destroy must not wait for another one. (No actor
    //  at all when it is a restart that failed to start.)
    if (child->actor)
        zsock_set_rcvtimeo (zactor_sock (child->actor), 0);
    zactor_destroy (&child->actor);
    if (child->started_at && now - child->started_at >= config->stable_after_ms)
        child->backoff_ms = config->restart_backoff_ms;
    child->restart_at = now + child->backoff_ms;
    zsys_warning ("supervisor: actor %s %s; restart %u in %d ms", child->kind->name, why,
                  child->restarts + 1, child->backoff_ms);
    child->backoff_ms = child->backoff_ms * 2 > config->restart_backoff_max_ms
                            ? config->restart_backoff_max_ms
                            : child->backoff_ms * 2;
    zmesh_ctx_set_actor (self->ctx, child->kind->name, "restarting", child->restarts);
    s_rebuild_poller (self);
}

static void
s_restart_due (self_t *self)
{
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < S_KINDS; i++) {
        s_child_t *child = &self->children [i];
        if (!self->running || !child->restart_at || now < child->restart_at)
            continue;
        child->restarts++;
        zmesh_metrics_add (&self->ctx->metrics, child->kind->restart_metric, 1);
        char reason [256];
        if (s_child_start (self, child, reason, sizeof reason) == 0)
            zsys_info ("supervisor: actor %s restarted (%u)", child->kind->name, child->restarts);
        else
            s_child_died (self, child, reason);
    }
}

static s_child_t *
s_child_named (self_t *self, const char *name)
{
    for (size_t i = 0; i < S_KINDS; i++)
        if (name && streq (self->children [i].kind->name, name) && self->children [i].actor)
            return &self->children [i];
    return NULL;
}

static int
s_start_all (self_t *self, char *reason, size_t reason_size)
{
    self->running = true;
    for (size_t i = 0; i < S_KINDS; i++) {
        s_child_t *child = &self->children [i];
        if (!child->enabled)
            continue;
        char why [256];
        if (s_child_start (self, child, why, sizeof why)) {
            snprintf (reason, reason_size, "%s", why);
            return ZMESH_EIO;
        }
    }
    return ZMESH_OK;
}

static void
s_stop_all (self_t *self)
{
    s_child_t *gossip = s_child_named (self, "gossip");
    if (gossip) {
        //  LEAVE first, so peers learn at once; skip what else gossip says meanwhile.
        zsock_t *sock = zactor_sock (gossip->actor);
        zstr_send (gossip->actor, "LEAVE");
        zsock_set_rcvtimeo (sock, S_LEAVE_TIMEOUT_MS);
        char *reply = NULL;
        while ((reply = zstr_recv (sock)) && !streq (reply, "LEFT"))
            zstr_free (&reply);
        zstr_free (&reply);
        zsock_set_rcvtimeo (sock, -1);
    }
    for (size_t i = S_KINDS; i-- > 0;)
        s_child_stop (self, &self->children [i]);
    self->running = false;
    s_rebuild_poller (self);
}

//  A message from a child: ROUTE, EVENT, or its death signal.
static void
s_handle_child (self_t *self, s_child_t *child)
{
    zmsg_t *msg = zmsg_recv (child->actor);
    zframe_t *first = msg ? zmsg_first (msg) : NULL;
    //  The death signal of a CZMQ actor: one 8-byte frame 0x7766554433221100 + status.
    uint64_t signal = 0;
    if (first && zmsg_size (msg) == 1 && zframe_size (first) == sizeof signal)
        memcpy (&signal, zframe_data (first), sizeof signal);
    if (!first || (signal & ~0xffULL) == 0x7766554433221100ULL) {
        zmsg_destroy (&msg);
        s_child_died (self, child, "died");
        return;
    }
    char *command = zmsg_popstr (msg);
    if (streq (command, "ROUTE")) {
        char *target = zmsg_popstr (msg);
        s_child_t *to = s_child_named (self, target);
        if (to)
            zmsg_send (&msg, to->actor);
        else
            zsys_warning ("supervisor: actor %s is not running; a message for it from %s is lost",
                          target ? target : "?", child->kind->name);
        zstr_free (&target);
    }
    else if (streq (command, "EVENT")) {
        //  To zmeshctl watchers through control, and to the API's event socket.
        s_child_t *control = s_child_named (self, "control");
        if (control) {
            zmsg_t *copy = zmsg_dup (msg);
            zmsg_pushstr (copy, "EVENT");
            zmsg_send (&copy, control->actor);
        }
        if (zmsg_send (&msg, self->events) != 0)
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_EVENTS_DROPPED, 1);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (!command || streq (command, "$TERM")) {
        if (self->running)
            s_stop_all (self);
        self->terminated = true;
    }
    else if (streq (command, "START")) {
        char reason [256] = "";
        if (s_start_all (self, reason, sizeof reason) == 0)
            zstr_send (self->pipe, "READY");
        else {
            s_stop_all (self);
            zstr_sendx (self->pipe, "FAILED", reason, NULL);
        }
    }
    else if (streq (command, "STOP")) {
        if (self->running)
            s_stop_all (self);
        zstr_send (self->pipe, "STOPPED");
    }
    else if (streq (command, "JOIN") || streq (command, "TRUST") || streq (command, "FAULT")) {
        //  JOIN and TRUST go to gossip as they are; FAULT names its target.
        char *target = streq (command, "FAULT") ? zmsg_popstr (msg) : strdup ("gossip");
        s_child_t *to = s_child_named (self, target);
        if (to) {
            zmsg_pushstr (msg, command);
            zmsg_send (&msg, to->actor);
        }
        else
            zsys_warning ("supervisor: actor %s is not running; %s is lost", target ? target : "?",
                          command);
        zstr_free (&target);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  The poll timeout: until the next pending restart, or -1 (none: sleep until a message).
//  Nothing else is periodic here, so an idle node's supervisor never wakes on its own.
static int
s_next_timeout (self_t *self)
{
    int64_t now = zclock_mono (), next = INT64_MAX;
    for (size_t i = 0; i < S_KINDS; i++)
        if (self->children [i].restart_at && self->children [i].restart_at < next)
            next = self->children [i].restart_at;
    if (next == INT64_MAX)
        return -1;
    //  Restart delays are capped by supervisor/restart_backoff_max_ms (an int): only a guard.
    return next > now ? (int) (next - now < INT_MAX ? next - now : INT_MAX) : 0;
}

void
zmesh_supervisor_actor (zsock_t *pipe, void *args)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->ctx = (zmesh_node_ctx_t *) args;
    self->pipe = pipe;
    self->events = zsock_new (ZMQ_PUSH);
    ZMESH_ASSERT (self->events);
    zsock_set_sndhwm (self->events, S_EVENTS_QUEUE_MAX);
    zsock_set_sndtimeo (self->events, 0);  //  a service that does not read events loses them
    zsock_connect (self->events, "%s", self->ctx->events_endpoint);
    for (size_t i = 0; i < S_KINDS; i++) {
        s_child_t *child = &self->children [i];
        child->kind = &s_kinds [i];
        child->enabled =
            zmesh_config_has_actor (&self->ctx->config, child->kind->name)
            && (child->kind->fn != zmesh_beacon_actor || self->ctx->config.beacon_enabled);
        child->backoff_ms = self->ctx->config.restart_backoff_ms;
    }
    s_rebuild_poller (self);
    zsock_signal (pipe, 0);
    zmesh_actor_name ("supervisor");
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_next_timeout (self));
        if (which == pipe)
            s_handle_pipe (self);
        else if (which)
            for (size_t i = 0; i < S_KINDS; i++)
                if (self->children [i].actor && which == self->children [i].actor) {
                    s_handle_child (self, &self->children [i]);
                    break;
                }
        s_restart_due (self);
    }
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->events);
    free (self);
}
