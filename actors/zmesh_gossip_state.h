/*  zmesh_gossip_state.h: the gossip actor's node-state shell (internal).

    Drives protocol/zmesh_state.c (scuttlebutt anti-entropy of each node's versioned key/value
    map) from the gossip actor: time, received STATE envelopes, the list of linked peers, the
    members membership forgets, and local writes (the health actor's profile, the API). It
    hands messages to send back through a callback, counts drops and changes in the node's
    metrics, and keeps the node context's per-member profiles current (the "profile" key of
    each owner), which `zmeshctl members` shows as resources.
*/
#ifndef ZMESH_GOSSIP_STATE_H_INCLUDED
#define ZMESH_GOSSIP_STATE_H_INCLUDED

#include "zmesh_node_ctx.h"
#include "zmesh_state.h"

#define ZMESH_STATE_PROFILE_KEY "profile"  //  the key whose value is an encoded zmesh_profile

typedef struct zmesh_gstate_t zmesh_gstate_t;

//  Deliver one state message body (a zmesh_state_codec encoding) to a peer.
typedef void (zmesh_gstate_send_fn) (void *arg,
                                     const zmesh_id_t *to,
                                     const uint8_t *body,
                                     size_t size);

//  NULL on a bad configuration or out of memory (err says which).
zmesh_gstate_t *zmesh_gstate_new (
    zmesh_node_ctx_t *ctx, zmesh_gstate_send_fn *send, void *arg, char *err, size_t err_size);
void zmesh_gstate_destroy (zmesh_gstate_t **self_p);
//  Events (now: zclock_mono ms).
void zmesh_gstate_tick (zmesh_gstate_t *self, uint64_t now);
void zmesh_gstate_received (
    zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *from, const uint8_t *body, size_t size);
void
zmesh_gstate_peers (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *peers, uint32_t count);
void zmesh_gstate_forget (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *owner);
//  A local write; ZMESH_* error as zmesh_state_set.
int zmesh_gstate_set (
    zmesh_gstate_t *self, uint64_t now, const char *key, const void *value, uint32_t size);
uint64_t zmesh_gstate_deadline (const zmesh_gstate_t *self);

#endif
