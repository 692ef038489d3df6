/*  zmesh_health.c: the health actor: what this node can do, and how busy it is.

    At start it runs the short baseline benchmark (health/bench_budget_ms; 0 skips it), then
    reads the profile (protocol/zmesh_profile.h: cores, load, CPU use, memory, disks, network,
    GPUs) every health/interval_ms and publishes it in the node context whenever a section
    changed past its threshold (zmesh_profile_changed), so `zmeshctl status` and the C API
    show it. Reading /proc and /sys takes a few hundred microseconds; the benchmark the budget.
    The next step (issue 3) puts the profile's key/value pairs into the gossip state, so that
    every node sees every other's.
*/
#include "zmesh_actors.h"
#include "zmesh_node_ctx.h"

typedef struct {
    zmesh_node_ctx_t *ctx;
    zsock_t *pipe;
    zpoller_t *poller;
    zmesh_profile_t profile;    //  the last read
    zmesh_profile_t published;  //  the last published
    zmesh_profile_thresholds_t thresholds;
    bool terminated;
} self_t;

//  Read the profile; publish it if it changed enough (or was never published).
static void
s_refresh (self_t *self, bool first)
{
    zmesh_profile_read (&self->profile, NULL, &self->profile);  //  keeps the bench figures
    uint32_t changed =
        first ? ZMESH_PROFILE_SECTION_ALL
              : zmesh_profile_changed (&self->published, &self->profile, &self->thresholds);
    if (changed) {
        self->published = self->profile;
        zmesh_ctx_set_profile (self->ctx, &self->profile, (uint64_t) zclock_mono ());
        //  And into the gossip state, for the other nodes.
        uint8_t encoded [ZMESH_PROFILE_ENCODED_MAX];
        size_t size;
        if (zmesh_profile_encode (&self->profile, encoded, sizeof encoded, &size) == ZMESH_OK)
            zsock_send (self->pipe, "sssb", "ROUTE", "gossip", "PROFILE", encoded, size);
    }
}

void
zmesh_health_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("health");
    self_t *self = (self_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->ctx = (zmesh_node_ctx_t *) args;
    self->pipe = pipe;
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);
    zmesh_profile_thresholds_default (&self->thresholds);
    const zmesh_config_t *config = &self->ctx->config;
    //  READY first: what follows sends ROUTE messages, which must not come before it.
    zmesh_actor_ready (pipe);
    if (config->health_bench_budget_ms > 0
        && zmesh_profile_bench (&self->profile.bench, (uint32_t) config->health_bench_budget_ms))
        zsys_warning ("health: baseline benchmark failed (out of memory)");
    s_refresh (self, true);
    int64_t next = zclock_mono () + config->health_interval_ms;
    while (!self->terminated) {
        int64_t wait = next - zclock_mono ();
        void *which = zpoller_wait (self->poller, wait > 0 ? (int) wait : 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            self->terminated = !command || streq (command, "$TERM") || streq (command, "FAULT");
            zstr_free (&command);
        }
        if (zclock_mono () >= next) {
            s_refresh (self, false);
            next = zclock_mono () + config->health_interval_ms;
        }
    }
    zpoller_destroy (&self->poller);
    free (self);
}
