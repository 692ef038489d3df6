/*  zmesh_health.c: the health actor: what this node can do, and how busy it is.

    At start it runs the short baseline benchmark (health/bench_budget_ms; 0 skips it), then
    reads the profile (protocol/zmesh_profile.h: cores, load, CPU use, memory, disks, network,
    GPUs) every health/interval_ms. Most of those reads are refreshes of the figures that move
    (load, CPU use, available memory, free disk: four files and a statvfs per disk); the full
    read, which also lists CPUs, cgroup limits, mounts, interfaces and GPUs and costs most of
    the time, is done at start and then once every S_FULL_READ_MS. A new disk, interface or GPU
    is therefore seen within a minute.

    Publication follows zmesh_profile_publish_due: a structural change (cores, memory total,
    disks, interfaces, GPUs) at once, a large move of a dynamic figure at once, and a small one
    (still past its threshold) at most every health/publish_min_ms, since every publication is
    stored and flooded by every node of the mesh. Publishing puts the profile in the node
    context (`zmeshctl status`, the C API) and sends it to gossip as the state key
    zmesh.profile, which carries it to the other nodes.
*/
#include "zmesh_actors.h"
#include "zmesh_node_ctx.h"

//  Time between two full reads of the profile; refreshes of the dynamic figures in between.
#define S_FULL_READ_MS 60000

typedef struct {
    zmesh_node_ctx_t *ctx;
    zsock_t *pipe;
    zpoller_t *poller;
    zmesh_profile_t profile;    //  the last read
    zmesh_profile_t published;  //  the last published
    zmesh_profile_thresholds_t thresholds;
    int64_t published_ms;  //  zclock_mono time of the last publication
    int64_t full_read_ms;  //  zclock_mono time of the last full read
    bool terminated;
} self_t;

//  Read the profile (in full, or its dynamic figures); publish it if the policy says so (or it
//  was never published).
static void
s_refresh (self_t *self, bool first)
{
    int64_t now = zclock_mono ();
    if (first || now - self->full_read_ms >= S_FULL_READ_MS) {
        zmesh_profile_read (&self->profile, NULL, &self->profile);  //  keeps the bench figures
        self->full_read_ms = now;
    }
    else
        zmesh_profile_refresh (&self->profile, NULL, 0);
    uint32_t changed =
        first ? ZMESH_PROFILE_SECTION_ALL
              : zmesh_profile_publish_due (&self->published, &self->profile, &self->thresholds,
                                           (uint64_t) (now - self->published_ms),
                                           (uint64_t) self->ctx->config.health_publish_min_ms);
    //  This node's own view (status, the self row of members) is every read: it costs a copy.
    //  What the mesh stores and floods follows the policy.
    zmesh_ctx_set_profile (self->ctx, &self->profile, (uint64_t) now);
    if (changed) {
        self->published = self->profile;
        self->published_ms = now;
        //  Into the gossip state, for the other nodes.
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
