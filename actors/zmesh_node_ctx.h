/*  zmesh_node_ctx.h: what the actors of one node share.

    Immutable after start: config, identity, generation, start time. Thread-safe by design:
    the trust store (its own lock) and the metrics (atomics). Guarded by `mutex`: the
    advertised endpoint, the members snapshot that gossip publishes after every change (and
    once a second), and the actor table that the supervisor keeps. Readers (control, the C API)
    copy out under the lock, so a slow reader never holds up gossip. Everything else between
    actors travels as messages through the supervisor (docs/architecture.md).
*/
#ifndef ZMESH_NODE_CTX_H_INCLUDED
#define ZMESH_NODE_CTX_H_INCLUDED

#include "zmesh.h"
#include "zmesh_config.h"
#include "zmesh_identity.h"
#include "zmesh_metrics.h"
#include "zmesh_profile.h"
#include "zmesh_task.h"
#include "zmesh_trust.h"
#include <czmq.h>
#include <pthread.h>

#define ZMESH_ACTORS_MAX   8   //  actor kinds a node can run
#define ZMESH_HANDLERS_MAX 64  //  task handlers one node can register (built-ins included)

//  A task handler: a C callback (zmesh.h) or a built-in (echo, sleep, exec).
typedef struct {
    char name [64];
    zmesh_handler_fn *fn;
    void *arg;
    bool builtin;  //  a built-in not replaced yet
} zmesh_handler_entry_t;

typedef struct {
    char name [16];     //  "gossip", "beacon", "control"
    char state [16];    //  "starting", "running", "restarting", "stopped", "failed"
    uint32_t restarts;  //  times the supervisor restarted it
} zmesh_actor_status_t;

typedef struct {
    zmesh_config_t config;        //  the node's own copy
    zmesh_identity_t identity;    //  keys and id
    zmesh_trust_t *trust;         //  owned
    zmesh_metrics_t metrics;      //  counters
    uint64_t generation;          //  this run's generation: wall-clock ms at start
    int64_t started_mono_ms;      //  zclock_mono at start
    char events_endpoint [96];    //  inproc PULL of the API thread, for membership events
    char state_endpoint [96];     //  inproc ROUTER of the node-state service (gossip)
    char balancer_endpoint [96];  //  inproc ROUTER of the balancer (submissions)
    char worker_bound [ZMESH_ENDPOINT_MAX];  //  what the worker bound first; a restart reuses it
    //  Handlers: registered before start, read-only while the node runs.
    zmesh_handler_entry_t handlers [ZMESH_HANDLERS_MAX];
    size_t handler_count;
    uint64_t view_version;    //  grows (atomically) when members, profiles or work infos change
    uint64_t work_version;    //  grows when a zmesh.work value (this node's or a member's) changes
    int view_fds [2];         //  eventfds of the worker and balancer (-1: none), set under mutex,
    uint32_t view_masks [2];  //  written at the changes their ZMESH_VIEW_* mask names
    char bound [ZMESH_ENDPOINT_MAX];     //  what gossip bound first; a restart binds it again
    pthread_mutex_t mutex;               //  guards the fields below
    char endpoint [ZMESH_ENDPOINT_MAX];  //  advertised tcp endpoint ("" until bound)
    zmesh_member_t *members;             //  snapshot, self first
    size_t member_count;
    uint64_t members_shape;  //  hash of the members' ids, states and generations
    zmesh_actor_status_t actors [ZMESH_ACTORS_MAX];
    size_t actor_count;
    zhashx_t *member_profiles;  //  id hex -> zchunk_t: each member's encoded profile, as the
                                //  gossip state holds it (the "profile" key)
    zmesh_profile_t profile;    //  this node's profile, published by the health actor
    bool profile_valid;         //  false until the first one
    uint64_t profile_at_ms;     //  zclock_mono time of that read
    zhashx_t *member_work;      //  id hex -> zchunk_t: each member's zmesh.work value
    zchunk_t *work;             //  this node's own zmesh.work value (the worker's), or NULL
    zhashx_t *member_scale;     //  id hex -> zchunk_t: each member's zmesh.scale value
    zchunk_t *scale;            //  this node's own zmesh.scale value (the balancer's), or NULL
} zmesh_node_ctx_t;

void zmesh_ctx_set_endpoint (zmesh_node_ctx_t *self, const char *endpoint);
//  Copy of the advertised endpoint into out (ZMESH_ENDPOINT_MAX).
void zmesh_ctx_endpoint (zmesh_node_ctx_t *self, char *out);
//  Replace the members snapshot with a copy of members[0..count).
int zmesh_ctx_publish_members (zmesh_node_ctx_t *self, const zmesh_member_t *members, size_t count);
//  A malloc'd copy of the snapshot (caller frees); *count set. NULL with *count 0 if empty.
zmesh_member_t *zmesh_ctx_members (zmesh_node_ctx_t *self, size_t *count);
//  Create or update the status row of an actor.
void zmesh_ctx_set_actor (zmesh_node_ctx_t *self,
                          const char *name,
                          const char *state,
                          uint32_t restarts);
//  Copy up to max rows; returns how many.
size_t zmesh_ctx_actors (zmesh_node_ctx_t *self, zmesh_actor_status_t *out, size_t max);
//  Publish / copy out this node's profile (the copy: false if there is none yet).
void zmesh_ctx_set_profile (zmesh_node_ctx_t *self, const zmesh_profile_t *profile, uint64_t at_ms);
bool zmesh_ctx_profile (zmesh_node_ctx_t *self, zmesh_profile_t *out, uint64_t *at_ms);
//  A member's encoded profile (from the gossip state): set (data NULL: remove), or decode a
//  copy into out (false if there is none or it does not decode).
void zmesh_ctx_set_member_profile (zmesh_node_ctx_t *self,
                                   const char *id_hex,
                                   const uint8_t *data,
                                   size_t size);
bool zmesh_ctx_member_profile (zmesh_node_ctx_t *self, const char *id_hex, zmesh_profile_t *out);
//  A member's zmesh.work value (data NULL: remove); a copy of it into out (false if none or
//  it does not decode).
void zmesh_ctx_set_member_work (zmesh_node_ctx_t *self,
                                const char *id_hex,
                                const uint8_t *data,
                                size_t size);
bool zmesh_ctx_member_work (zmesh_node_ctx_t *self, const char *id_hex, zmesh_work_info_t *out);
//  The CURVE key of member, whose id is id: its signing key, converted. That costs about
//  560,000 instructions, so callers keep the key of a member they know. False if the key does
//  not decode or convert, or is not the key id was made from.
bool zmesh_member_curve_public (const zmesh_member_t *member,
                                const zmesh_id_t *id,
                                uint8_t curve_public [ZMESH_KEY_SIZE]);
//  A member's zmesh.scale value (data NULL: remove); a copy of it into out (false if none or
//  it does not decode). Changes wake nobody: the balancer reads them at each scaling cycle.
void zmesh_ctx_set_member_scale (zmesh_node_ctx_t *self,
                                 const char *id_hex,
                                 const uint8_t *data,
                                 size_t size);
bool zmesh_ctx_member_scale (zmesh_node_ctx_t *self, const char *id_hex, zmesh_scale_info_t *out);
//  This node's own zmesh.work value (the worker sets it; a restarted gossip republishes it).
void zmesh_ctx_set_work (zmesh_node_ctx_t *self, const uint8_t *data, size_t size);
zchunk_t *zmesh_ctx_work (zmesh_node_ctx_t *self);  //  a copy, or NULL; caller destroys
//  This node's own zmesh.scale value (the balancer sets it; a restarted gossip republishes it).
void zmesh_ctx_set_scale (zmesh_node_ctx_t *self, const uint8_t *data, size_t size);
zchunk_t *zmesh_ctx_scale (zmesh_node_ctx_t *self);  //  a copy, or NULL; caller destroys
//  The view version: bump after a change the balancer should see; read it cheaply.
#define ZMESH_VIEW_MEMBERS  (1u << 0)  //  a member's id, state or generation
#define ZMESH_VIEW_PROFILES (1u << 1)  //  a member's profile
#define ZMESH_VIEW_WORK     (1u << 2)  //  a zmesh.work value
void zmesh_ctx_view_changed (zmesh_node_ctx_t *self, uint32_t what);
uint64_t zmesh_ctx_work_version (zmesh_node_ctx_t *self);
uint64_t zmesh_ctx_view_version (zmesh_node_ctx_t *self);
//  Be woken at the view changes of mask: an eventfd (slot 0 worker, 1 balancer; fd -1 stops).
void zmesh_ctx_view_watch (zmesh_node_ctx_t *self, int slot, int fd, uint32_t mask);
//  The handler of that name, or NULL.
const zmesh_handler_entry_t *zmesh_ctx_handler (const zmesh_node_ctx_t *self, const char *name);
//  Create / free what the context allocates (lock, member profiles table, snapshot).
void zmesh_ctx_init (zmesh_node_ctx_t *self);
void zmesh_ctx_fini (zmesh_node_ctx_t *self);

#endif
