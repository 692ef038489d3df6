/*  zmesh_gossip.c: the gossip actor: CURVE links to peers, HELLO, PEERS, basic liveness.

    This foundation version keeps a full mesh: every node connects to every node it learns of
    (by seed, join, beacon or a peer's PEERS list) whose key it trusts. Each link starts with
    HELLO (name, endpoint, generation, Ed25519 key), resent every heartbeat until the peer
    answers a PING sent after it: links are FIFO, so that PONG proves the HELLO arrived. Every
    heartbeat each peer gets a PING; every message heard feeds the liveness core
    (protocol/zmesh_liveness.c), whose transitions become one event each. On LEAVE from the
    supervisor every peer gets a LEAVE, so peers mark this node left at once.

    The next issue replaces the full mesh and timeouts with SWIM-style membership and a partial
    view; the shell shape stays: the core decides, this file moves bytes.
*/
#include "zmesh_actors.h"
#include "zmesh_gossip_state.h"
#include "zmesh_link.h"
#include "zmesh_liveness.h"
#include "zmesh_node_ctx.h"
#include <sodium.h>

//  A new link retries HELLO quickly (the connection takes a moment to come up), backing off
//  to the heartbeat: a mesh forms in tens of milliseconds, not heartbeats.
#define S_HELLO_RETRY_FIRST_MS 10
//  A link whose HELLO is not acknowledged gets a fresh connection after this long, doubling
//  to the max: libzmq keeps a connection whose CURVE handshake the peer refused (ZAP) open
//  and silent, so only a new one can succeed once the peer trusts us.
#define S_RECONNECT_FIRST_MS      2000
#define S_RECONNECT_MAX_MS        30000
#define S_REBIND_ATTEMPTS         40     //  a restarted gossip tries its old port this many times,
#define S_REBIND_PAUSE_MS         50     //  this far apart (2 s in all)
#define S_RECV_BATCH              256    //  messages handled per wake-up before timers get a turn
#define S_PUBLISH_INTERVAL_MS     1000   //  members snapshot refresh (silent_ms figures)
#define S_VERSION_LOG_INTERVAL_MS 10000  //  at most one version-mismatch log line per this

typedef struct {
    zmesh_public_t pub;  //  keys and id
    char id_hex [ZMESH_ID_HEX_SIZE];
    char endpoint [ZMESH_ENDPOINT_MAX];  //  where it listens ("" if unknown)
    char name [ZMESH_NAME_MAX];          //  from its HELLO ("" before)
    zsock_t *client;                     //  our DEALER to its server, NULL if not connected
    bool has_hello;                      //  we have its HELLO for its current generation
    bool hello_acked;                    //  it has processed our HELLO
    uint64_t hello_seq;                  //  the PING sent right after our last HELLO
    uint64_t generation;                 //  its generation, as last heard
    int64_t next_hello_ms;               //  when to try HELLO again while not acked
    int hello_delay_ms;                  //  current retry delay: 10 ms doubling to heartbeat
    int64_t connected_ms;                //  when our DEALER was (re)created
    int reconnect_delay_ms;              //  a link not acked this long is made anew
} s_peer_t;

typedef struct {
    zmesh_node_ctx_t *ctx;          //  shared node state
    const zmesh_config_t *config;   //  ctx->config
    zsock_t *pipe;                  //  to the supervisor
    zsock_t *server;                //  our CURVE ROUTER
    zmesh_link_monitor_t *monitor;  //  its connection and handshake events
    zpoller_t *poller;
    zhashx_t *peers;                           //  id hex -> s_peer_t *
    zmesh_liveness_t liveness;                 //  the pure core
    zmesh_gstate_t *state;                     //  node state by anti-entropy
    zmesh_id_t links [ZMESH_STATE_LINKS_MAX];  //  the links last published (zmesh.links)
    size_t links_size;                         //  bytes of it
    bool links_published;
    zmesh_link_config_t link;
    char endpoint [ZMESH_ENDPOINT_MAX];  //  advertised
    uint64_t ping_seq;                   //  last PING sequence number used
    int64_t next_heartbeat_ms;
    int64_t next_peers_ms;
    int64_t next_publish_ms;
    int64_t next_hello_ms;        //  earliest HELLO retry of a new link
    int64_t next_version_log_ms;  //  when a version mismatch may be logged again
    uint64_t trust_version;       //  of the trust store when pending peers were tried
    bool members_dirty;           //  publish the snapshot at the next chance
    bool terminated;
    zmesh_msg_t in;   //  scratch for decoding (large: kept off the stack)
    zmesh_msg_t out;  //  scratch for encoding
} self_t;

static void
s_peer_destroy (void **item)
{
    s_peer_t *peer = (s_peer_t *) *item;
    if (peer) {
        zsock_destroy (&peer->client);
        free (peer);
        *item = NULL;
    }
}

static void
s_prepare (self_t *self, zmesh_msg_type_t type)
{
    memset (&self->out, 0, offsetof (zmesh_msg_t, body) + sizeof (zmesh_ping_t));
    self->out.version = ZMESH_WIRE_VERSION;
    self->out.type = (uint8_t) type;
    self->out.sender = self->ctx->identity.pub.id;
}

//  Send self->out to a peer. A send that fails on an established link (its queue is full) is
//  a drop; one on a link still coming up is expected and not counted.
static int
s_send (self_t *self, s_peer_t *peer)
{
    int rc = zmesh_link_send (peer->client, &self->out, &self->ctx->metrics);
    if (rc && peer->hello_acked)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
    return rc;
}

static int
s_send_hello (self_t *self, s_peer_t *peer)
{
    s_prepare (self, ZMESH_MSG_HELLO);
    zmesh_hello_t *hello = &self->out.body.hello;
    snprintf (hello->name, sizeof hello->name, "%s", self->config->name);
    hello->endpoint_count = 1;
    snprintf (hello->endpoints [0], ZMESH_ENDPOINT_MAX, "%s", self->endpoint);
    snprintf (hello->software, sizeof hello->software, "zmesh %s", ZMESH_VERSION);
    hello->generation = self->ctx->generation;
    memcpy (hello->sign_public, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE);
    return s_send (self, peer);
}

static int
s_send_ping (self_t *self, s_peer_t *peer, zmesh_msg_type_t type, uint64_t seq)
{
    s_prepare (self, type);
    self->out.body.ping.seq = seq;
    self->out.body.ping.generation = self->ctx->generation;
    //  Until we have its HELLO we cannot list the peer; ask for it (a restarted gossip, or a
    //  peer that thinks we already know it, would otherwise never send it again).
    self->out.body.ping.flags = peer->has_hello ? 0 : ZMESH_PING_FLAG_NEED_HELLO;
    return s_send (self, peer);
}

//  The peer must see our HELLO again (it restarted, died or left): retry fast.
static void
s_unack (s_peer_t *peer)
{
    peer->hello_acked = false;
    peer->hello_seq = 0;
    peer->next_hello_ms = zclock_mono ();
    peer->hello_delay_ms = S_HELLO_RETRY_FIRST_MS;
}

//  (Re)connect our DEALER to the peer's endpoint, if its key is trusted.
static void
s_peer_connect (self_t *self, s_peer_t *peer)
{
    zsock_destroy (&peer->client);
    s_unack (peer);
    if (!peer->endpoint [0])
        return;
    if (!zmesh_trust_allows_curve (self->ctx->trust, peer->pub.curve_public)) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_UNTRUSTED, 1);
        return;  //  retried when the trust store changes
    }
    peer->connected_ms = zclock_mono ();
    if (!peer->reconnect_delay_ms)
        peer->reconnect_delay_ms = S_RECONNECT_FIRST_MS;
    peer->client = zmesh_link_client_new (&self->ctx->identity, peer->pub.curve_public,
                                          peer->endpoint, &self->link);
    if (!peer->client)
        zsys_warning ("gossip: cannot connect to %s", peer->endpoint);
}

//  A node we heard of, by key and endpoint: remember it and connect.
static s_peer_t *
s_learn (self_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE], const char *endpoint)
{
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, sign_public))
        return NULL;
    if (zmesh_id_equal (&pub.id, &self->ctx->identity.pub.id))
        return NULL;  //  ourselves, via someone's PEERS list or our own beacon
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (&pub.id, id_hex);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
    if (peer) {
        //  A known peer at a new address (it restarted elsewhere) is followed only through its
        //  own HELLO, which CURVE authenticated; hearsay does not move a live link.
        if (!peer->client && endpoint && !peer->endpoint [0]) {
            snprintf (peer->endpoint, sizeof peer->endpoint, "%s", endpoint);
            s_peer_connect (self, peer);
        }
        return peer;
    }
    if (zhashx_size (self->peers) >= (size_t) self->config->max_peers) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_TABLE_FULL, 1);
        return NULL;
    }
    peer = (s_peer_t *) calloc (1, sizeof *peer);
    ZMESH_ASSERT (peer);
    peer->pub = pub;
    memcpy (peer->id_hex, id_hex, sizeof id_hex);
    if (endpoint)
        snprintf (peer->endpoint, sizeof peer->endpoint, "%s", endpoint);
    zhashx_insert (self->peers, id_hex, peer);
    s_peer_connect (self, peer);
    return peer;
}

static void
s_emit_event (self_t *self, const zmesh_liveness_change_t *change)
{
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (&change->id, id_hex);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
    const char *name = peer && peer->name [0] ? peer->name : "?";
    const char *endpoint = peer ? peer->endpoint : "";
    const char *from = zmesh_peer_state_name (change->from);
    const char *to = zmesh_peer_state_name (change->to);
    const char *type = change->from == ZMESH_PEER_NONE ? "joined"
                       : change->to == ZMESH_PEER_LEFT ? "left"
                       : change->to == ZMESH_PEER_NONE ? "forgotten"
                                                       : "state";
    static const zmesh_metric_t s_metric [] = {0, ZMESH_M_PEERS_ALIVE_AGAIN, ZMESH_M_PEERS_SUSPECT,
                                               ZMESH_M_PEERS_DEAD, ZMESH_M_PEERS_LEFT};
    if (change->from == ZMESH_PEER_NONE)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_JOINED, 1);
    else if (change->to != ZMESH_PEER_NONE)
        zmesh_metrics_add (&self->ctx->metrics, s_metric [change->to], 1);
    zsys_info ("gossip: %s %s (%.12s) %s -> %s", name, type, id_hex, from, to);
    zstr_sendx (self->pipe, "EVENT", type, id_hex, name, endpoint, from, to, "", "", NULL);
}

//  Carry out one liveness update: events, and link consequences of each transition.
static void
s_apply (self_t *self, const zmesh_liveness_update_t *update)
{
    if (update->error == ZMESH_ELIMIT)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_TABLE_FULL, 1);
    for (uint32_t i = 0; i < update->change_count; i++) {
        const zmesh_liveness_change_t *change = &update->changes [i];
        s_emit_event (self, change);
        char id_hex [ZMESH_ID_HEX_SIZE];
        zmesh_id_to_hex (&change->id, id_hex);
        s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
        if (!peer)
            continue;
        if (change->to == ZMESH_PEER_NONE) {
            zmesh_gstate_forget (self->state, (uint64_t) zclock_mono (), &change->id);
            zhashx_delete (self->peers, id_hex);
        }
        else if (change->to == ZMESH_PEER_DEAD || change->to == ZMESH_PEER_LEFT) {
            //  If it comes back at the same address, it must learn us again.
            s_unack (peer);
            peer->has_hello = false;
        }
        self->members_dirty = true;
    }
}

static void
s_liveness_event (self_t *self,
                  zmesh_liveness_event_type_t type,
                  s_peer_t *peer,
                  uint64_t generation)
{
    zmesh_liveness_event_t event = {.type = type, .now_ms = (uint64_t) zclock_mono ()};
    if (peer) {
        event.id = peer->pub.id;
        event.generation = generation;
    }
    zmesh_liveness_update_t update;
    zmesh_liveness_step (&self->liveness, &event, &update);
    s_apply (self, &update);
}

static void
s_send_peers (self_t *self, s_peer_t *to)
{
    s_prepare (self, ZMESH_MSG_PEERS);
    zmesh_peers_t *list = &self->out.body.peers;
    list->count = 0;
    //  Start at a random place so that, past ZMESH_PEERS_MAX peers, every peer is told of
    //  in time.
    size_t size = zhashx_size (self->peers),
           skip = size ? randombytes_uniform ((uint32_t) size) : 0;
    for (int round = 0; round < 2 && list->count < ZMESH_PEERS_MAX; round++) {
        size_t index = 0;
        for (s_peer_t *peer = zhashx_first (self->peers); peer && list->count < ZMESH_PEERS_MAX;
             peer = zhashx_next (self->peers), index++) {
            if ((round == 0) != (index >= skip) || peer == to || !peer->has_hello)
                continue;
            const zmesh_liveness_peer_t *live =
                zmesh_liveness_find (&self->liveness, &peer->pub.id);
            if (!live || (live->state != ZMESH_PEER_ALIVE && live->state != ZMESH_PEER_SUSPECT))
                continue;
            memcpy (list->peers [list->count].sign_public, peer->pub.sign_public, ZMESH_KEY_SIZE);
            snprintf (list->peers [list->count].endpoint, ZMESH_ENDPOINT_MAX, "%s", peer->endpoint);
            list->count++;
        }
    }
    if (list->count)
        s_send (self, to);
}

//  The state core's messages go to linked peers only; to others they are dropped (the core
//  retries with another peer at its next exchange).
static void
s_state_send (void *arg, const zmesh_id_t *to, const uint8_t *body, size_t size)
{
    self_t *self = (self_t *) arg;
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (to, id_hex);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
    if (!peer || !peer->client || !peer->hello_acked)
        return;
    s_prepare (self, ZMESH_MSG_STATE);
    self->out.body.state.data = body;
    self->out.body.state.size = size;
    s_send (self, peer);
}

//  A user key changed (here or anywhere): an EVENT for watchers and the API, with the owner's
//  name when known.
static void
s_state_changed (void *arg,
                 const char *kind,
                 const zmesh_id_t *owner,
                 const char *key,
                 const uint8_t *value,
                 size_t size)
{
    self_t *self = (self_t *) arg;
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (owner, id_hex);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
    const char *name = zmesh_id_equal (owner, &self->ctx->identity.pub.id) ? self->config->name
                       : peer && peer->name [0]                            ? peer->name
                                                                           : "?";
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "EVENT");
    zmsg_addstr (msg, kind);
    zmsg_addstr (msg, id_hex);
    zmsg_addstr (msg, name);
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, key ? key : "");
    zmsg_addmem (msg, value, value ? size : 0);
    zmsg_send (&msg, self->pipe);
}

//  This node's profile into its state map (the health actor measured it).
static void
s_state_publish_profile (self_t *self, const uint8_t *data, size_t size)
{
    int rc = zmesh_gstate_set (self->state, (uint64_t) zclock_mono (), ZMESH_STATE_PROFILE_KEY,
                               data, (uint32_t) size);
    if (rc)
        zsys_warning ("gossip: cannot publish the profile (%zu bytes): %s", size,
                      zmesh_strerror (rc));
}

static void
s_on_hello (self_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    const zmesh_hello_t *hello = &self->in.body.hello;
    zmesh_public_t pub;
    //  The Ed25519 key must be the one behind the CURVE key of this connection.
    if (zmesh_public_from_sign_key (&pub, hello->sign_public)
        || memcmp (pub.curve_public, curve_public, ZMESH_KEY_SIZE) != 0) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_SENDER_MISMATCH, 1);
        return;
    }
    s_peer_t *peer = s_learn (self, hello->sign_public, NULL);
    if (!peer || hello->generation < peer->generation)
        return;  //  a HELLO from before the peer restarted
    snprintf (peer->name, sizeof peer->name, "%s", hello->name);
    bool moved = strcmp (peer->endpoint, hello->endpoints [0]) != 0;
    if (moved)
        snprintf (peer->endpoint, sizeof peer->endpoint, "%s", hello->endpoints [0]);
    if (hello->generation > peer->generation)
        s_unack (peer);  //  a new incarnation has not seen our HELLO
    peer->generation = hello->generation;
    peer->has_hello = true;
    if (moved || !peer->client)
        s_peer_connect (self, peer);
    s_liveness_event (self, ZMESH_LIVENESS_HEARD, peer, hello->generation);
    self->members_dirty = true;
}

static void
s_on_message (self_t *self, const uint8_t curve_public [ZMESH_KEY_SIZE])
{
    const zmesh_msg_t *msg = &self->in;
    if (msg->type == ZMESH_MSG_HELLO) {
        s_on_hello (self, curve_public);
        return;
    }
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (&msg->sender, id_hex);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, id_hex);
    bool is_ping = msg->type == ZMESH_MSG_PING || msg->type == ZMESH_MSG_PONG;
    if (peer && is_ping && (msg->body.ping.flags & ZMESH_PING_FLAG_NEED_HELLO) && peer->client
        && peer->hello_acked)
        s_unack (peer);  //  it lost our HELLO (its gossip restarted): send it again
    if (!peer || !peer->has_hello)
        return;  //  it will HELLO us first; until then we cannot place it
    if (msg->type == ZMESH_MSG_PEERS) {
        for (uint32_t i = 0; i < msg->body.peers.count; i++)
            s_learn (self, msg->body.peers.peers [i].sign_public,
                     msg->body.peers.peers [i].endpoint);
        return;
    }
    switch (msg->type) {
        case ZMESH_MSG_STATE:
            zmesh_gstate_received (self->state, (uint64_t) zclock_mono (), &msg->sender,
                                   msg->body.state.data, msg->body.state.size);
            break;
        case ZMESH_MSG_PING:
        case ZMESH_MSG_PONG:
            if (msg->body.ping.generation > peer->generation) {
                peer->has_hello = false;  //  restarted: wait for the new incarnation's HELLO
                s_unack (peer);
                return;
            }
            if (msg->type == ZMESH_MSG_PING && peer->client)
                s_send_ping (self, peer, ZMESH_MSG_PONG, msg->body.ping.seq);
            else if (msg->type == ZMESH_MSG_PONG && !peer->hello_acked && peer->hello_seq
                     && msg->body.ping.seq >= peer->hello_seq) {
                peer->hello_acked = true;
                peer->reconnect_delay_ms = S_RECONNECT_FIRST_MS;
                if (self->config->verbose)
                    zsys_info ("gossip: linked to %s (%.12s) at %s", peer->name, peer->id_hex,
                               peer->endpoint);
                s_send_peers (self, peer);  //  a new link: tell it whom we know, now
            }
            s_liveness_event (self, ZMESH_LIVENESS_HEARD, peer, msg->body.ping.generation);
            break;
        case ZMESH_MSG_LEAVE:
            s_liveness_event (self, ZMESH_LIVENESS_LEAVE, peer, peer->generation);
            break;
        default:
            break;
    }
}

static void
s_handle_server (self_t *self)
{
    //  Bounded batch: the pipe and the timers get their turn under a flood.
    for (int i = 0; i < S_RECV_BATCH; i++) {
        uint8_t curve_public [ZMESH_KEY_SIZE];
        int rc = zmesh_link_recv (self->server, &self->in, curve_public, &self->link,
                                  &self->ctx->metrics);
        if (rc == ZMESH_ETIMEOUT)
            break;
        if (rc == ZMESH_OK)
            s_on_message (self, curve_public);
        else if (rc == ZMESH_EVERSION && zclock_mono () >= self->next_version_log_ms) {
            //  Counted each time; said at most once per interval, so a flood cannot fill logs.
            zsys_warning ("gossip: dropped a message of protocol version %u (this node speaks %d)",
                          self->in.version, ZMESH_WIRE_VERSION);
            self->next_version_log_ms = zclock_mono () + S_VERSION_LOG_INTERVAL_MS;
        }
        if (!(zsock_events (self->server) & ZMQ_POLLIN))
            break;
    }
}

//  HELLO then PING to a peer that has not acknowledged our HELLO yet.
static void
s_hello (self_t *self, s_peer_t *peer, int64_t now)
{
    bool hello_sent = s_send_hello (self, peer) == 0;
    s_send_ping (self, peer, ZMESH_MSG_PING, ++self->ping_seq);
    if (hello_sent)
        peer->hello_seq = self->ping_seq;
    peer->next_hello_ms = now + peer->hello_delay_ms;
    peer->hello_delay_ms = peer->hello_delay_ms * 2 > self->config->heartbeat_ms
                               ? self->config->heartbeat_ms
                               : peer->hello_delay_ms * 2;
}

static void
s_heartbeat (self_t *self, int64_t now)
{
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers)) {
        if (!peer->client)
            continue;
        if (peer->hello_acked)
            s_send_ping (self, peer, ZMESH_MSG_PING, ++self->ping_seq);
        else
            s_hello (self, peer, now);
    }
}

//  Fast HELLO retries of new links, between heartbeats; returns the earliest next one.
static int64_t
s_hello_retries (self_t *self, int64_t now)
{
    int64_t next = INT64_MAX;
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers)) {
        if (!peer->client || peer->hello_acked)
            continue;
        if (now - peer->connected_ms >= peer->reconnect_delay_ms) {
            s_peer_connect (self, peer);
            peer->reconnect_delay_ms = peer->reconnect_delay_ms * 2 > S_RECONNECT_MAX_MS
                                           ? S_RECONNECT_MAX_MS
                                           : peer->reconnect_delay_ms * 2;
            if (!peer->client)
                continue;
        }
        if (now >= peer->next_hello_ms)
            s_hello (self, peer, now);
        if (peer->next_hello_ms < next)
            next = peer->next_hello_ms;
    }
    return next;
}

static void
s_retry_untrusted (self_t *self)
{
    uint64_t version = zmesh_trust_version (self->ctx->trust);
    if (version == self->trust_version)
        return;
    self->trust_version = version;
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
        if (!peer->client && peer->endpoint [0])
            s_peer_connect (self, peer);
}

static int
s_id_compare (const void *a, const void *b)
{
    return memcmp (a, b, ZMESH_ID_SIZE);
}

//  This node's links, as sorted ids, into its state (zmesh.links) when they changed: every
//  node can then draw the mesh (zmeshctl topology). Bounded by ZMESH_STATE_LINKS_MAX.
static void
s_publish_links (self_t *self, zmesh_id_t *linked, uint32_t count)
{
    if (count > ZMESH_STATE_LINKS_MAX)
        count = ZMESH_STATE_LINKS_MAX;
    qsort (linked, count, sizeof *linked, s_id_compare);
    size_t size = count * sizeof *linked;
    if (self->links_published && size == self->links_size
        && memcmp (self->links, linked, size) == 0)
        return;
    memcpy (self->links, linked, size);
    self->links_size = size;
    self->links_published = true;
    int rc = zmesh_gstate_set (self->state, (uint64_t) zclock_mono (), ZMESH_STATE_LINKS_KEY,
                               size ? (const void *) self->links : "", (uint32_t) size);
    if (rc)
        zsys_warning ("gossip: cannot publish links: %s", zmesh_strerror (rc));
}

static void
s_publish_members (self_t *self)
{
    size_t capacity = zhashx_size (self->peers) + 1, count = 0;
    zmesh_member_t *members = (zmesh_member_t *) calloc (capacity, sizeof *members);
    ZMESH_ASSERT (members);
    zmesh_member_t *me = &members [count++];
    const zmesh_identity_t *identity = &self->ctx->identity;
    snprintf (me->id, sizeof me->id, "%s", identity->id_hex);
    snprintf (me->name, sizeof me->name, "%s", self->config->name);
    snprintf (me->endpoint, sizeof me->endpoint, "%s", self->endpoint);
    snprintf (me->public_key, sizeof me->public_key, "%s", identity->key_hex);
    snprintf (me->state, sizeof me->state, "alive");
    me->self = true;
    me->generation = self->ctx->generation;
    uint64_t now = (uint64_t) zclock_mono ();
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers)) {
        const zmesh_liveness_peer_t *live = zmesh_liveness_find (&self->liveness, &peer->pub.id);
        if (!live)
            continue;  //  learned of, never heard: not a member yet
        zmesh_member_t *m = &members [count++];
        snprintf (m->id, sizeof m->id, "%s", peer->id_hex);
        snprintf (m->name, sizeof m->name, "%s", peer->name [0] ? peer->name : "?");
        snprintf (m->endpoint, sizeof m->endpoint, "%s", peer->endpoint);
        zmesh_hex_encode (m->public_key, peer->pub.sign_public, ZMESH_KEY_SIZE);
        snprintf (m->state, sizeof m->state, "%s", zmesh_peer_state_name (live->state));
        m->generation = live->generation;
        m->silent_ms = now > live->last_heard_ms ? now - live->last_heard_ms : 0;
    }
    zmesh_ctx_publish_members (self->ctx, members, count);
    free (members);
    //  The state core exchanges with linked, live peers.
    zmesh_id_t *linked = (zmesh_id_t *) calloc (capacity, sizeof *linked);
    ZMESH_ASSERT (linked);
    uint32_t linked_count = 0;
    for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers)) {
        const zmesh_liveness_peer_t *live = zmesh_liveness_find (&self->liveness, &peer->pub.id);
        if (peer->hello_acked && live && live->state == ZMESH_PEER_ALIVE)
            linked [linked_count++] = peer->pub.id;
    }
    zmesh_gstate_peers (self->state, now, linked, linked_count);
    s_publish_links (self, linked, linked_count);
    free (linked);
    self->members_dirty = false;
}

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (!command || streq (command, "$TERM") || streq (command, "FAULT"))
        self->terminated = true;
    else if (streq (command, "JOIN")) {
        char *contact = zmsg_popstr (msg), endpoint [ZMESH_ENDPOINT_MAX];
        uint8_t key [ZMESH_KEY_SIZE];
        if (contact && zmesh_contact_parse (contact, endpoint, key) == 0)
            s_learn (self, key, endpoint);
        zstr_free (&contact);
    }
    else if (streq (command, "PEER")) {
        zframe_t *key = zmsg_pop (msg);
        char *endpoint = zmsg_popstr (msg);
        if (key && endpoint && zframe_size (key) == ZMESH_KEY_SIZE
            && zmesh_endpoint_check (endpoint, false) == 0)
            s_learn (self, zframe_data (key), endpoint);
        zframe_destroy (&key);
        zstr_free (&endpoint);
    }
    else if (streq (command, "PROFILE")) {
        zframe_t *value = zmsg_pop (msg);
        if (value)
            s_state_publish_profile (self, zframe_data (value), zframe_size (value));
        zframe_destroy (&value);
    }
    else if (streq (command, "TRUST"))
        s_retry_untrusted (self);
    else if (streq (command, "LEAVE")) {
        for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
            if (peer->client) {
                s_prepare (self, ZMESH_MSG_LEAVE);
                s_send (self, peer);
            }
        zstr_send (self->pipe, "LEFT");
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_timers (self_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->next_heartbeat_ms) {
        s_heartbeat (self, now);
        s_retry_untrusted (self);
        self->next_heartbeat_ms = now + self->config->heartbeat_ms;
    }
    if ((uint64_t) now >= zmesh_gstate_deadline (self->state))
        zmesh_gstate_tick (self->state, (uint64_t) now);
    if ((uint64_t) now >= zmesh_liveness_deadline_ms (&self->liveness))
        s_liveness_event (self, ZMESH_LIVENESS_TICK, NULL, 0);
    if (now >= self->next_peers_ms) {
        for (s_peer_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
            if (peer->client && peer->hello_acked)
                s_send_peers (self, peer);
        self->next_peers_ms = now + self->config->peers_interval_ms;
    }
    if (self->members_dirty || now >= self->next_publish_ms) {
        s_publish_members (self);
        self->next_publish_ms = now + S_PUBLISH_INTERVAL_MS;
    }
    self->next_hello_ms = s_hello_retries (self, now);
}

static int
s_timeout (self_t *self)
{
    int64_t now = zclock_mono ();
    int64_t next = self->next_heartbeat_ms;
    if (self->next_peers_ms < next)
        next = self->next_peers_ms;
    if (self->next_publish_ms < next)
        next = self->next_publish_ms;
    if (self->next_hello_ms < next)
        next = self->next_hello_ms;
    uint64_t deadline = zmesh_liveness_deadline_ms (&self->liveness);
    if (zmesh_gstate_deadline (self->state) < deadline)
        deadline = zmesh_gstate_deadline (self->state);
    if (deadline < (uint64_t) next)
        next = (int64_t) deadline;
    return next <= now ? 0 : (int) (next - now);
}

//  The endpoint peers should use: node/advertise, or the bound one with a wildcard host
//  replaced by this host's first non-loopback IPv4 address.
static void
s_advertise (self_t *self, const char *bound)
{
    if (self->config->advertise [0]) {
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->config->advertise);
        return;
    }
    const char *port = strrchr (bound, ':');
    if (strncmp (bound, "tcp://0.0.0.0:", 14) != 0 && strncmp (bound, "tcp://*:", 8) != 0) {
        snprintf (self->endpoint, sizeof self->endpoint, "%s", bound);
        return;
    }
    const char *address = "127.0.0.1";
    ziflist_t *interfaces = ziflist_new ();
    if (interfaces && ziflist_first (interfaces))
        address = ziflist_address (interfaces);
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://%s%s", address, port);
    ziflist_destroy (&interfaces);
}

//  After a restart of this actor, the last members snapshot still names our peers: link to
//  them again at once rather than wait for them to notice and HELLO us.
static void
s_relearn (self_t *self)
{
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    for (size_t i = 0; i < count; i++) {
        uint8_t key [ZMESH_KEY_SIZE];
        if (!members [i].self && zmesh_hex_decode (key, ZMESH_KEY_SIZE, members [i].public_key) == 0
            && (streq (members [i].state, "alive") || streq (members [i].state, "suspect")))
            s_learn (self, key, members [i].endpoint);
    }
    free (members);
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zhashx_destroy (&self->peers);
    zmesh_link_monitor_destroy (&self->monitor);
    zmesh_gstate_destroy (&self->state);
    zsock_destroy (&self->server);
    zmesh_zap_unregister (self->ctx->identity.id_hex);
    zmesh_liveness_fini (&self->liveness);
    free (self);
    *self_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, zmesh_node_ctx_t *ctx, char *err, size_t err_size)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->ctx = ctx;
    self->config = &ctx->config;
    self->pipe = pipe;
    self->link.max_message_bytes = (size_t) ctx->config.max_message_bytes;
    self->link.linger_ms = ctx->config.linger_ms;
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, s_peer_destroy);
    zmesh_liveness_config_t live = {.suspect_timeout_ms = (uint32_t) ctx->config.suspect_timeout_ms,
                                    .dead_timeout_ms = (uint32_t) ctx->config.dead_timeout_ms,
                                    .reap_after_ms = (uint32_t) ctx->config.reap_after_ms,
                                    .max_peers = (uint32_t) ctx->config.max_peers};
    char bound [ZMESH_ENDPOINT_MAX];
    if (zmesh_liveness_init (&self->liveness, &live)) {
        snprintf (err, err_size, "gossip: bad liveness configuration");
        s_self_destroy (&self);
        return NULL;
    }
    self->state = zmesh_gstate_new (ctx, s_state_send, self, err, err_size);
    if (!self->state) {
        s_self_destroy (&self);
        return NULL;
    }
    zmesh_gstate_on_change (self->state, s_state_changed);
    //  A restarted gossip starts an empty state: put back what the health actor measured.
    zmesh_profile_t profile;
    uint64_t at_ms;
    uint8_t encoded [ZMESH_PROFILE_ENCODED_MAX];
    size_t encoded_size;
    if (zmesh_ctx_profile (ctx, &profile, &at_ms)
        && zmesh_profile_encode (&profile, encoded, sizeof encoded, &encoded_size) == ZMESH_OK)
        s_state_publish_profile (self, encoded, encoded_size);
    if (zmesh_zap_register (ctx->identity.id_hex, ctx->trust, &ctx->metrics)) {
        snprintf (err, err_size, "gossip: cannot start the ZAP handler");
        s_self_destroy (&self);
        return NULL;
    }
    //  A restarted gossip binds where the first one did, so peers' links still reach it.
    //  libzmq closes the old listener in its I/O thread, a moment after the old actor ended:
    //  retry the same port for a bounded while.
    const char *bind = ctx->bound [0] ? ctx->bound : ctx->config.bind;
    for (int attempt = 0; !self->server && attempt < S_REBIND_ATTEMPTS; attempt++) {
        self->server = zmesh_link_server_new (&ctx->identity, ctx->identity.id_hex, bind,
                                              &self->link, bound, err, err_size);
        if (!self->server && ctx->bound [0])
            zclock_sleep (S_REBIND_PAUSE_MS);
        else
            break;
    }
    if (!self->server) {
        s_self_destroy (&self);
        return NULL;
    }
    snprintf (ctx->bound, sizeof ctx->bound, "%s", bound);
    self->monitor = zmesh_link_monitor_new (self->server);
    s_advertise (self, bound);
    zmesh_ctx_set_endpoint (ctx, self->endpoint);
    self->poller = zpoller_new (pipe, self->server, NULL);
    if (self->monitor)
        zpoller_add (self->poller, self->monitor->events);
    zpoller_add (self->poller, zmesh_gstate_service (self->state));
    zpoller_set_nonstop (self->poller, true);
    self->trust_version = zmesh_trust_version (ctx->trust);
    for (int i = 0; i < ctx->config.seed_count; i++) {
        char endpoint [ZMESH_ENDPOINT_MAX];
        uint8_t key [ZMESH_KEY_SIZE];
        if (zmesh_contact_parse (ctx->config.seeds [i], endpoint, key) == 0)
            s_learn (self, key, endpoint);
    }
    s_relearn (self);
    self->members_dirty = true;
    return self;
}

void
zmesh_gossip_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    char err [512] = "";
    self_t *self = s_self_new (pipe, (zmesh_node_ctx_t *) args, err, sizeof err);
    if (!self) {
        zmesh_actor_failed (pipe, err);
        return;
    }
    zsys_info ("gossip: %s listening on %s", self->config->name, self->endpoint);
    zmesh_actor_ready (pipe);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_timeout (self));
        if (which == pipe)
            s_handle_pipe (self);
        else if (which == self->server)
            s_handle_server (self);
        else if (which && which == zmesh_gstate_service (self->state))
            zmesh_gstate_serve (self->state);
        else if (which && self->monitor && which == self->monitor->events)
            zmesh_link_monitor_handle (self->monitor, &self->ctx->metrics);
        s_timers (self);
    }
    s_self_destroy (&self);
}
