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

//  Keys starting with this are zmesh's own (users may not write them; watch does not show them).
#define ZMESH_STATE_RESERVED_PREFIX "zmesh."
#define ZMESH_STATE_PROFILE_KEY     "zmesh.profile"  //  value: an encoded zmesh_profile
#define ZMESH_STATE_NAME_KEY        "zmesh.name"     //  value: the node's name (text)
#define ZMESH_STATE_LINKS_KEY       "zmesh.links"    //  value: linked peers' ids, 16 bytes each,
#define ZMESH_STATE_LINKS_MAX       64               //  sorted, at most this many

typedef struct zmesh_gstate_t zmesh_gstate_t;

//  Deliver one state message body (a zmesh_state_codec encoding) to a peer.
typedef void (zmesh_gstate_send_fn) (void *arg,
                                     const zmesh_id_t *to,
                                     const uint8_t *body,
                                     size_t size);

//  A change of a user key (not reserved) applied here, for watchers: kind "set", "delete" or
//  "drop" (every key of the owner gone); key NULL for drop.
typedef void (zmesh_gstate_change_fn) (void *arg,
                                       const char *kind,
                                       const zmesh_id_t *owner,
                                       const char *key,
                                       const uint8_t *value,
                                       size_t size);

//  NULL on a bad configuration or out of memory (err says which).
zmesh_gstate_t *zmesh_gstate_new (
    zmesh_node_ctx_t *ctx, zmesh_gstate_send_fn *send, void *arg, char *err, size_t err_size);
void zmesh_gstate_destroy (zmesh_gstate_t **self_p);
//  Events (now: zclock_mono ms).
void zmesh_gstate_tick (zmesh_gstate_t *self, uint64_t now);
void zmesh_gstate_received (
    zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *from, const uint8_t *body, size_t size);
//  The digest of what this node holds (zmesh_state_digest), and an exchange with peer now:
//  the gossip actor carries the digest in SWIM's PING and ACK, and starts an exchange with a
//  neighbour whose digest differs.
uint64_t zmesh_gstate_digest (zmesh_gstate_t *self);
//  This node's own version (it grows with each local write).
uint64_t zmesh_gstate_version (const zmesh_gstate_t *self);
void zmesh_gstate_exchange (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *peer);
void
zmesh_gstate_peers (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *peers, uint32_t count);
void zmesh_gstate_forget (zmesh_gstate_t *self, uint64_t now, const zmesh_id_t *owner);
//  A local write; ZMESH_* error as zmesh_state_set.
int zmesh_gstate_set (
    zmesh_gstate_t *self, uint64_t now, const char *key, const void *value, uint32_t size);
uint64_t zmesh_gstate_deadline (const zmesh_gstate_t *self);
//  An owner's key as text into out (truncated to size - 1): true if held, else out is "".
bool zmesh_gstate_get_text (
    zmesh_gstate_t *self, const zmesh_id_t *owner, const char *key, char *out, size_t size);
//  Report changes of user keys to this callback (none by default).
void zmesh_gstate_on_change (zmesh_gstate_t *self, zmesh_gstate_change_fn *fn);
//  The service socket (a ROUTER at ctx->state_endpoint) the API and control call: poll it,
//  and call zmesh_gstate_serve when it is readable. Requests [command args...], replies
//  ["ok" msgpack] or ["error" text code] (code: the ZMESH_E* number, in decimal):
//      "set" KEY VALUE -> {version}        "del" KEY -> {version}
//      "get" OWNER KEY -> {owner, key, value (bin), version}
//      "keys" OWNER    -> [{key, version, size}, ...]      (OWNER: node id, hex)
zsock_t *zmesh_gstate_service (zmesh_gstate_t *self);
//  A synchronous call to the service at endpoint (any thread): ZMESH_OK with *payload (the
//  msgpack answer; caller destroys it), else the service's ZMESH_E* (err: its words) or
//  ZMESH_ETIMEOUT after ZMESH_STATE_CALL_TIMEOUT_MS.
#define ZMESH_STATE_CALL_TIMEOUT_MS 2000
int zmesh_gstate_call (const char *endpoint,
                       const char *command,
                       const char *a,
                       const void *b,
                       size_t b_size,
                       zframe_t **payload,
                       char *err,
                       size_t err_size);
void zmesh_gstate_serve (zmesh_gstate_t *self);

#endif
