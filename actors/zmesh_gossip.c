/*  zmesh_gossip.c: the gossip actor: SWIM membership over a partial view, and node state.

    The decisions are made by two pure cores: protocol/zmesh_swim.c (who is a member, who is
    alive, which few neighbours to link to) and protocol/zmesh_state.c (each node's versioned
    key/value map, by anti-entropy; driven through zmesh_gossip_state.c). This file moves their
    bytes: it turns CURVE traffic and time into core events, and carries out their updates.

    Links. A link is our CURVE DEALER to a peer's ROUTER; the peer answers over its own link to
    us, so every sender is authenticated by the key CURVE checked (zmesh_link_recv). The SWIM
    core names the links to keep (its active view, 3-5 neighbours); other messages it sends
    (answers to joins and shuffles, neighbour requests, partition-healing probes) go over a
    short-lived link made from the contact it gives, closed after S_IDLE_CLOSE_MS unused. A
    contact's key must hash to the member's id (ids are self-certifying) and be trusted, or no
    link is made and the refusal is counted.

    libzmq sends nothing on a link before its CURVE handshake completes (ZMQ_IMMEDIATE), so a
    message to a link still coming up waits in a small per-link queue, retried after 2 ms,
    the delay doubling up to 250 ms (a dead peer's link never comes up), for
    S_PENDING_MAX_AGE_MS. A link that never hears from its peer is made anew
    after 2 s, doubling to 30 s: libzmq keeps a connection whose handshake the peer refused
    (untrusted key) open and silent, so only a new one can succeed once the peer trusts us.

    Joining. Seeds, `zmeshctl join`, beacons and (after a restart of this actor) the last
    members snapshot are join candidates: while the active view is empty the actor joins
    through the next one every S_JOIN_RETRY_MS; a beacon from a node the table does not hold
    (another mesh on the LAN) is joined through at once, so meshes merge.

    Each transition the SWIM core reports is one EVENT to the supervisor (zmeshctl watch, the
    API's event socket) and one log line; the members snapshot in the node context is rebuilt
    from the core's table at each change and every second.
*/
#include "zmesh_actors.h"
#include "zmesh_gossip_state.h"
#include "zmesh_link.h"
#include "zmesh_node_ctx.h"
#include "zmesh_swim.h"
#include <sodium.h>

#define S_RECONNECT_FIRST_MS      2000   //  a link silent this long after it was made is
#define S_RECONNECT_MAX_MS        30000  //  made anew, the delay doubling up to this
#define S_IDLE_CLOSE_MS           60000  //  a link out of the active view, unused this long, closes
#define S_PENDING_MAX             16     //  messages queued per link while it comes up
#define S_PENDING_RETRY_MS        2      //  first retry of them, the delay doubling
#define S_PENDING_RETRY_MAX_MS    250    //  up to this (a dead peer's link never comes up)
#define S_PENDING_MAX_AGE_MS      2000   //  and for how long, before they are dropped
#define S_JOIN_RETRY_MS           2000   //  next join candidate while the active view is empty
#define S_JOIN_CANDIDATES_MAX     64     //  contacts remembered to join through
#define S_RECV_BATCH              256    //  messages handled per wake-up before timers get a turn
#define S_TIMER_SLOT_MS           25     //  timers are coalesced on this grid (s_timeout)
#define S_HOUSEKEEPING_MS         1000   //  link upkeep, joins, members snapshot (silent_ms)
#define S_HOUSEKEEPING_SLACK_MS   750    //  ... done up to this early, on another wake-up
#define S_VERSION_LOG_INTERVAL_MS 10000  //  at most one version-mismatch log line per this
#define S_TRUST_CACHE_MAX         4096   //  trust answers cached

typedef struct {
    zframe_t *frame;  //  an encoded envelope
    int64_t queued_ms;
} s_pending_t;

typedef struct {
    zmesh_id_t id;
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_public_t pub;                  //  from the contact's key; pub.id == id
    char endpoint [ZMESH_ENDPOINT_MAX];  //  where the client connects
    zsock_t *client;                     //  our DEALER to its server, NULL if none
    bool active;                         //  in the SWIM core's active view
    bool up;                             //  a send on this client succeeded
    int64_t connected_ms;                //  when the client was (re)made
    int64_t used_ms;                     //  last send
    int reconnect_delay_ms;
    s_pending_t pending [S_PENDING_MAX];  //  waiting for the handshake, oldest first
    int pending_count;
    int64_t retry_ms;  //  when the pending messages are tried next
    int retry_delay_ms;
    int64_t state_ms;  //  when a differing node-state digest may start an exchange again
} s_link_t;

typedef struct {
    zmesh_node_ctx_t *ctx;          //  shared node state
    const zmesh_config_t *config;   //  ctx->config
    zsock_t *pipe;                  //  to the supervisor
    zsock_t *server;                //  our CURVE ROUTER
    zmesh_link_monitor_t *monitor;  //  its connection and handshake events
    zpoller_t *poller;
    zmesh_swim_t *swim;            //  the membership core
    zmesh_swim_stats_t counted;    //  its stats as last added to the metrics
    zmesh_gstate_t *state;         //  node state by anti-entropy
    zhashx_t *links;               //  id hex -> s_link_t *
    zhashx_t *heard;               //  id hex -> int64_t * (last message from it, mono ms)
    zhashx_t *trusted;             //  key hex -> "y" / "n": trust answers (s_trusts)
    uint64_t trusted_version;      //  of the trust store those answers are from
    zmesh_swim_contact_t contact;  //  this node's, for the core
    zmesh_id_t published [ZMESH_STATE_LINKS_MAX];  //  the links last published (zmesh.links)
    size_t published_size;                         //  bytes of it
    bool links_published;
    zmesh_link_config_t link;
    char endpoint [ZMESH_ENDPOINT_MAX];                       //  advertised
    zmesh_swim_contact_t candidates [S_JOIN_CANDIDATES_MAX];  //  to join through
    uint32_t candidate_count, candidate_next;
    int64_t next_join_ms;          //  the next join attempt, while the active view is empty
    int64_t next_housekeeping_ms;  //  link upkeep, joins, members snapshot
    int64_t next_pending_ms;       //  INT64_MAX when no link has pending messages
    int64_t next_version_log_ms;   //  when a version mismatch may be logged again
    uint64_t trust_version;        //  of the trust store when links were last retried
    uint64_t state_version;        //  this node's node-state version last pushed
    bool members_dirty;            //  publish the snapshot at the next chance
    bool terminated;
    zmesh_msg_t in;                     //  scratch for decoding envelopes (large: off the stack)
    zmesh_msg_t out;                    //  scratch for encoding
    zmesh_swim_space_t space;           //  a decoded SWIM message's records
    uint8_t body [ZMESH_MSG_SIZE_MAX];  //  an encoded SWIM message
    uint8_t envelope [ZMESH_MSG_SIZE_MAX];  //  an encoded envelope
} self_t;

static int64_t
s_now (void)
{
    return zclock_mono ();
}

static void
s_pending_clear (s_link_t *link)
{
    for (int i = 0; i < link->pending_count; i++)
        zframe_destroy (&link->pending [i].frame);
    link->pending_count = 0;
}

static void
s_link_destroy (void **item)
{
    s_link_t *link = (s_link_t *) *item;
    if (link) {
        s_pending_clear (link);
        zsock_destroy (&link->client);
        free (link);
        *item = NULL;
    }
}

static s_link_t *
s_link_find (self_t *self, const zmesh_id_t *id)
{
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (id, id_hex);
    return (s_link_t *) zhashx_lookup (self->links, id_hex);
}

//  (Re)make the link's client.
static void
s_link_connect (self_t *self, s_link_t *link)
{
    s_pending_clear (link);
    zsock_destroy (&link->client);
    link->up = false;
    link->connected_ms = s_now ();
    link->used_ms = link->connected_ms;
    if (!link->reconnect_delay_ms)
        link->reconnect_delay_ms = S_RECONNECT_FIRST_MS;
    link->client = zmesh_link_client_new (&self->ctx->identity, link->pub.curve_public,
                                          link->endpoint, &self->link);
    if (link->client)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_LINKS_OPENED, 1);
    else
        zsys_warning ("gossip: cannot connect to %s", link->endpoint);
}

//  The link to a member, made from its contact if there is none (or if the member moved).
//  NULL, counted, when the contact is missing, does not match the id, or is not trusted.
static s_link_t *
s_link_to (self_t *self, const zmesh_id_t *id, const zmesh_swim_contact_t *contact)
{
    s_link_t *link = s_link_find (self, id);
    if (link && link->client && (!contact || strcmp (contact->endpoint, link->endpoint) == 0))
        return link;
    if (!contact) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_NO_CONTACT, 1);
        return NULL;
    }
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, contact->key) || !zmesh_id_equal (&pub.id, id)
        || zmesh_endpoint_check (contact->endpoint, false)) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_BAD_CONTACT, 1);
        return NULL;
    }
    if (!zmesh_trust_allows_curve (self->ctx->trust, pub.curve_public)) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_UNTRUSTED, 1);
        return NULL;  //  tried again at the next send, maybe after `trust add`
    }
    if (!link) {
        link = (s_link_t *) calloc (1, sizeof *link);
        ZMESH_ASSERT (link);
        link->id = *id;
        zmesh_id_to_hex (id, link->id_hex);
        zhashx_insert (self->links, link->id_hex, link);
    }
    link->pub = pub;
    snprintf (link->endpoint, sizeof link->endpoint, "%s", contact->endpoint);
    s_link_connect (self, link);
    return link->client ? link : NULL;
}

//  Try the link's queued messages, oldest first; drop those too old.
static void
s_link_flush (self_t *self, s_link_t *link, int64_t now)
{
    int sent = 0;
    while (sent < link->pending_count) {
        s_pending_t *pending = &link->pending [sent];
        if (now - pending->queued_ms > S_PENDING_MAX_AGE_MS) {
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
            zframe_destroy (&pending->frame);
            sent++;
            continue;
        }
        if (zmesh_link_send_raw (link->client, zframe_data (pending->frame),
                                 zframe_size (pending->frame), &self->ctx->metrics))
            break;
        link->up = true;
        zframe_destroy (&pending->frame);
        sent++;
    }
    memmove (link->pending, link->pending + sent,
             (size_t) (link->pending_count - sent) * sizeof link->pending [0]);
    link->pending_count -= sent;
}

//  Send an encoded envelope over a link: at once if it is up, else queued until it is.
static void
s_link_send (self_t *self, s_link_t *link, const uint8_t *data, size_t size)
{
    int64_t now = s_now ();
    link->used_ms = now;
    if (link->pending_count)
        s_link_flush (self, link, now);
    if (link->pending_count == 0
        && zmesh_link_send_raw (link->client, data, size, &self->ctx->metrics) == 0) {
        link->up = true;
        return;
    }
    if (link->up && link->pending_count == 0) {
        //  An established link whose queue is full (the peer is not reading): a drop.
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        return;
    }
    if (link->pending_count == S_PENDING_MAX) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        return;
    }
    link->pending [link->pending_count].frame = zframe_new (data, size);
    link->pending [link->pending_count].queued_ms = now;
    if (link->pending_count++ == 0) {
        link->retry_delay_ms = S_PENDING_RETRY_MS;
        link->retry_ms = now + link->retry_delay_ms;
    }
    if (self->next_pending_ms > link->retry_ms)
        self->next_pending_ms = link->retry_ms;
}

//  Wrap a body (STATE or SWIM) in an envelope and send it.
static void
s_send_body (self_t *self, s_link_t *link, zmesh_msg_type_t type, const uint8_t *body, size_t size)
{
    memset (&self->out, 0, offsetof (zmesh_msg_t, body) + sizeof (zmesh_raw_body_t));
    self->out.version = ZMESH_WIRE_VERSION;
    self->out.type = (uint8_t) type;
    self->out.sender = self->ctx->identity.pub.id;
    self->out.body.state.data = body;
    self->out.body.state.size = size;
    size_t envelope_size;
    if (zmesh_msg_encode (&self->out, self->envelope, sizeof self->envelope, &envelope_size)) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_SEND_DROPPED, 1);
        return;
    }
    s_link_send (self, link, self->envelope, envelope_size);
}

//  A member's name: from its contact (it travels with membership), else from its node state,
//  else "?".
static void
s_name_of (self_t *self, const zmesh_id_t *id, char *name, size_t size)
{
    zmesh_swim_member_info_t info;
    if (zmesh_id_equal (id, &self->ctx->identity.pub.id))
        snprintf (name, size, "%s", self->config->name);
    else if (zmesh_swim_member (self->swim, id, &info) == ZMESH_OK && info.has_contact
             && info.contact->name [0]) {
        snprintf (name, size, "%s", info.contact->name);
        for (char *c = name; *c; c++)
            if ((unsigned char) *c < 0x20 || *c == 0x7f)
                *c = '?';  //  hearsay is shown to people: no control characters
    }
    else if (!zmesh_gstate_get_text (self->state, id, ZMESH_STATE_NAME_KEY, name, size)
             || !name [0])
        snprintf (name, size, "?");
}

static void
s_emit_event (self_t *self, const zmesh_swim_change_t *change)
{
    char id_hex [ZMESH_ID_HEX_SIZE], name [ZMESH_NAME_MAX], endpoint [ZMESH_ENDPOINT_MAX] = "";
    zmesh_id_to_hex (&change->id, id_hex);
    s_name_of (self, &change->id, name, sizeof name);
    zmesh_swim_member_info_t info;
    if (zmesh_swim_member (self->swim, &change->id, &info) == ZMESH_OK && info.has_contact)
        snprintf (endpoint, sizeof endpoint, "%s", info.contact->endpoint);
    const char *from = zmesh_peer_state_name (change->from);
    const char *to = zmesh_peer_state_name (change->to);
    bool restarted = change->from == ZMESH_PEER_ALIVE && change->to == ZMESH_PEER_ALIVE;
    const char *type = change->from == ZMESH_PEER_NONE ? "joined"
                       : restarted                     ? "restarted"
                       : change->to == ZMESH_PEER_LEFT ? "left"
                       : change->to == ZMESH_PEER_NONE ? "forgotten"
                                                       : "state";
    static const zmesh_metric_t s_metric [] = {0, ZMESH_M_PEERS_ALIVE_AGAIN, ZMESH_M_PEERS_SUSPECT,
                                               ZMESH_M_PEERS_DEAD, ZMESH_M_PEERS_LEFT};
    if (change->from == ZMESH_PEER_NONE)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_JOINED, 1);
    else if (restarted)
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_RESTARTED, 1);
    else if (change->to != ZMESH_PEER_NONE)
        zmesh_metrics_add (&self->ctx->metrics, s_metric [change->to], 1);
    zsys_info ("gossip: %s %s (%.12s) %s -> %s", name, type, id_hex, from, to);
    zstr_sendx (self->pipe, "EVENT", type, id_hex, name, endpoint, from, to, "", "", NULL);
}

//  The core's counters, as deltas, into the node's metrics.
static void
s_count_stats (self_t *self)
{
    const zmesh_swim_stats_t *now = zmesh_swim_stats (self->swim);
    zmesh_swim_stats_t *was = &self->counted;
    zmesh_metrics_t *metrics = &self->ctx->metrics;
    zmesh_metrics_add (metrics, ZMESH_M_SWIM_PROBES, now->probes - was->probes);
    zmesh_metrics_add (metrics, ZMESH_M_SWIM_PROBE_FAILURES,
                       now->probe_failures - was->probe_failures);
    zmesh_metrics_add (metrics, ZMESH_M_SWIM_INDIRECT,
                       now->indirect_requests - was->indirect_requests);
    zmesh_metrics_add (metrics, ZMESH_M_SWIM_REFUTATIONS, now->refutations - was->refutations);
    zmesh_metrics_add (metrics, ZMESH_M_SWIM_LIMIT_DROPS, now->limit_drops - was->limit_drops);
    zmesh_metrics_add (metrics, ZMESH_M_DROP_MALFORMED, now->bad_messages - was->bad_messages);
    *was = *now;
}

//  Carry out one SWIM update: sends, links, changes.
static void
s_apply (self_t *self, const zmesh_swim_update_t *update)
{
    uint64_t state_digest = 0;
    for (uint32_t i = 0; i < update->send_count; i++) {
        const zmesh_swim_send_t *send = &update->sends [i];
        zmesh_swim_msg_t msg = send->msg;
        if (msg.type == ZMESH_SWIM_PING || msg.type == ZMESH_SWIM_ACK) {
            if (!state_digest)
                state_digest = zmesh_gstate_digest (self->state);
            msg.state = state_digest;  //  node state compared at each probe (s_on_state_digest)
        }
        size_t size;
        //  The core packs within its byte budget: a message that does not encode is a bug.
        ZMESH_ASSERT (zmesh_swim_msg_encode (&msg, self->body, sizeof self->body, &size)
                      == ZMESH_OK);
        s_link_t *link = s_link_to (self, &send->to, send->contact);
        if (link)
            s_send_body (self, link, ZMESH_MSG_SWIM, self->body, size);
    }
    for (uint32_t i = 0; i < update->link_count; i++) {
        const zmesh_swim_link_t *change = &update->links [i];
        s_link_t *link = change->open ? s_link_to (self, &change->id, change->contact)
                                      : s_link_find (self, &change->id);
        if (link)
            link->active = change->open;
        if (link && self->config->verbose)
            zsys_info ("gossip: %s neighbour %.12s at %s", change->open ? "new" : "dropped",
                       link->id_hex, link->endpoint);
        self->members_dirty = true;
    }
    for (uint32_t i = 0; i < update->change_count; i++) {
        const zmesh_swim_change_t *change = &update->changes [i];
        s_emit_event (self, change);
        if (change->to == ZMESH_PEER_NONE) {
            char id_hex [ZMESH_ID_HEX_SIZE];
            zmesh_id_to_hex (&change->id, id_hex);
            zmesh_gstate_forget (self->state, (uint64_t) s_now (), &change->id);
            zhashx_delete (self->heard, id_hex);
            s_link_t *link = (s_link_t *) zhashx_lookup (self->links, id_hex);
            if (link && !link->active)
                zhashx_delete (self->links, id_hex);
        }
        self->members_dirty = true;
    }
    s_count_stats (self);
}

static void
s_step (self_t *self, const zmesh_swim_event_t *event)
{
    zmesh_swim_update_t update;
    zmesh_swim_step (self->swim, event, &update);
    s_apply (self, &update);
}

static void
s_join_via (self_t *self, const zmesh_swim_contact_t *contact)
{
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, contact->key))
        return;
    zmesh_swim_event_t event = {.type = ZMESH_SWIM_JOIN_VIA,
                                .now_ms = (uint64_t) s_now (),
                                .from = pub.id,
                                .contact = contact};
    s_step (self, &event);
}

//  Remember a contact to join through (a seed, a beacon, `join`); true if it is new.
static bool
s_candidate_add (self_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE], const char *endpoint)
{
    if (memcmp (sign_public, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE) == 0
        || zmesh_endpoint_check (endpoint, false))
        return false;  //  ourselves (our own beacon), or nowhere
    for (uint32_t i = 0; i < self->candidate_count; i++) {
        zmesh_swim_contact_t *known = &self->candidates [i];
        if (memcmp (known->key, sign_public, ZMESH_KEY_SIZE) == 0) {
            bool moved = strcmp (known->endpoint, endpoint) != 0;
            snprintf (known->endpoint, sizeof known->endpoint, "%s", endpoint);
            return moved;
        }
    }
    uint32_t slot = self->candidate_count < S_JOIN_CANDIDATES_MAX
                        ? self->candidate_count++
                        : randombytes_uniform (S_JOIN_CANDIDATES_MAX);
    memcpy (self->candidates [slot].key, sign_public, ZMESH_KEY_SIZE);
    snprintf (self->candidates [slot].endpoint, ZMESH_ENDPOINT_MAX, "%s", endpoint);
    self->candidates [slot].name [0] = 0;
    return true;
}

//  While the active view is empty, join through the next candidate.
static void
s_join_tick (self_t *self, int64_t now)
{
    zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT];
    if (now < self->next_join_ms || self->candidate_count == 0 || zmesh_swim_left (self->swim)
        || zmesh_swim_active (self->swim, active) > 0)
        return;
    self->next_join_ms = now + S_JOIN_RETRY_MS;
    s_join_via (self, &self->candidates [self->candidate_next++ % self->candidate_count]);
}

//  A node announced by a beacon (or a seed or `join`): join through it if it is new to us.
static void
s_discovered (self_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE], const char *endpoint)
{
    zmesh_public_t pub;
    if (zmesh_public_from_sign_key (&pub, sign_public)
        || zmesh_id_equal (&pub.id, &self->ctx->identity.pub.id))
        return;
    bool is_new = s_candidate_add (self, sign_public, endpoint);
    zmesh_swim_member_info_t info;
    bool known = zmesh_swim_member (self->swim, &pub.id, &info) == ZMESH_OK;
    if (!known || (is_new && info.state != ZMESH_PEER_ALIVE)) {
        zmesh_swim_contact_t contact = {0};
        memcpy (contact.key, sign_public, ZMESH_KEY_SIZE);
        snprintf (contact.endpoint, sizeof contact.endpoint, "%s", endpoint);
        s_join_via (self, &contact);
    }
}

//  The state core's messages go to linked peers only; to others they are dropped (the core
//  retries with another peer at its next exchange).
static void
s_state_send (void *arg, const zmesh_id_t *to, const uint8_t *body, size_t size)
{
    self_t *self = (self_t *) arg;
    s_link_t *link = s_link_find (self, to);
    if (link && link->client)
        s_send_body (self, link, ZMESH_MSG_STATE, body, size);
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
    char id_hex [ZMESH_ID_HEX_SIZE], name [ZMESH_NAME_MAX];
    zmesh_id_to_hex (owner, id_hex);
    s_name_of (self, owner, name, sizeof name);
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

//  A key of this node's state map, written by zmesh itself.
static void
s_state_publish (self_t *self, const char *key, const void *data, size_t size)
{
    int rc = zmesh_gstate_set (self->state, (uint64_t) s_now (), key, data, (uint32_t) size);
    if (rc)
        zsys_warning ("gossip: cannot publish %s (%zu bytes): %s", key, size, zmesh_strerror (rc));
}

//  Does this node trust the key of a contact? Answers are cached until the trust store
//  changes (a key's CURVE form costs a conversion).
static bool
s_trusts (self_t *self, const uint8_t sign_public [ZMESH_KEY_SIZE])
{
    if (zmesh_trust_is_open (self->ctx->trust))
        return true;
    uint64_t version = zmesh_trust_version (self->ctx->trust);
    if (version != self->trusted_version || zhashx_size (self->trusted) >= S_TRUST_CACHE_MAX) {
        zhashx_purge (self->trusted);
        self->trusted_version = version;
    }
    char key_hex [ZMESH_KEY_HEX_SIZE];
    zmesh_hex_encode (key_hex, sign_public, ZMESH_KEY_SIZE);
    const char *answer = (const char *) zhashx_lookup (self->trusted, key_hex);
    if (!answer) {
        zmesh_public_t pub;
        bool allowed = zmesh_public_from_sign_key (&pub, sign_public) == 0
                       && zmesh_trust_allows_curve (self->ctx->trust, pub.curve_public);
        answer = allowed ? "y" : "n";
        zhashx_insert (self->trusted, key_hex, (void *) answer);
    }
    return answer [0] == 'y';
}

//  A member this node does not trust may be known (others vouch for it), but never becomes
//  a neighbour: its contact is removed before the core sees it (the core links only to
//  members with a contact), and a message about joining or linking it is dropped.
static bool
s_filter_untrusted (self_t *self, zmesh_swim_msg_t *msg)
{
    bool has_node = msg->type == ZMESH_SWIM_JOIN || msg->type == ZMESH_SWIM_FORWARD_JOIN
                    || msg->type == ZMESH_SWIM_NEIGHBOR || msg->type == ZMESH_SWIM_SHUFFLE;
    if (has_node && msg->node.has_contact && !s_trusts (self, msg->node.contact.key))
        return false;
    zmesh_swim_record_t *lists [2] = {self->space.updates, self->space.entries};
    uint32_t counts [2] = {msg->update_count, msg->entry_count};
    for (int l = 0; l < 2; l++)
        for (uint32_t i = 0; i < counts [l]; i++)
            if (lists [l][i].has_contact && !s_trusts (self, lists [l][i].contact.key))
                lists [l][i].has_contact = false;
    return true;
}

//  A neighbour's node-state digest, from its PING or ACK: if it differs from this node's,
//  one side of the link starts an exchange (the one with the smaller id: both see the
//  difference at once, and one push-pull exchange mends both), at most once per
//  state/interval_ms per link. A quiet mesh so sends no state messages (docs/protocol.md).
static void
s_on_state_digest (self_t *self, const zmesh_id_t *from, uint64_t digest)
{
    if (digest == 0 || memcmp (self->ctx->identity.pub.id.bytes, from->bytes, ZMESH_ID_SIZE) > 0)
        return;
    s_link_t *link = s_link_find (self, from);
    int64_t now = s_now ();
    if (!link || !link->active || !link->client || now < link->state_ms
        || digest == zmesh_gstate_digest (self->state))
        return;
    link->state_ms = now + self->config->state_interval_ms;
    zmesh_gstate_exchange (self->state, (uint64_t) now, from);
}

static void
s_on_swim (self_t *self, const zmesh_msg_t *envelope)
{
    zmesh_swim_msg_t msg;
    int rc = zmesh_swim_msg_decode (&msg, &self->space, envelope->body.swim.data,
                                    envelope->body.swim.size);
    if (rc) {
        zmesh_metrics_add (&self->ctx->metrics,
                           rc == ZMESH_ETYPE ? ZMESH_M_DROP_UNKNOWN_TYPE : ZMESH_M_DROP_MALFORMED,
                           1);
        return;
    }
    if (!s_filter_untrusted (self, &msg)) {
        zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_PEERS_UNTRUSTED, 1);
        return;
    }
    zmesh_swim_event_t event = {.type = ZMESH_SWIM_RECEIVED,
                                .now_ms = (uint64_t) s_now (),
                                .from = envelope->sender,
                                .msg = &msg};
    s_step (self, &event);
    if (msg.type == ZMESH_SWIM_PING || msg.type == ZMESH_SWIM_ACK)
        s_on_state_digest (self, &envelope->sender, msg.state);
}

static void
s_on_message (self_t *self)
{
    const zmesh_msg_t *msg = &self->in;
    char id_hex [ZMESH_ID_HEX_SIZE];
    zmesh_id_to_hex (&msg->sender, id_hex);
    int64_t *heard = (int64_t *) zhashx_lookup (self->heard, id_hex);
    if (!heard && zhashx_size (self->heard) < (size_t) self->config->max_peers) {
        heard = (int64_t *) malloc (sizeof *heard);
        ZMESH_ASSERT (heard);
        zhashx_insert (self->heard, id_hex, heard);
    }
    if (heard)
        *heard = s_now ();
    switch (msg->type) {
        case ZMESH_MSG_SWIM:
            s_on_swim (self, msg);
            break;
        case ZMESH_MSG_STATE:
            zmesh_gstate_received (self->state, (uint64_t) s_now (), &msg->sender,
                                   msg->body.state.data, msg->body.state.size);
            break;
        default:
            //  HELLO, PING, PONG, PEERS and LEAVE were the foundation's full mesh; a node of
            //  this version neither sends nor reads them.
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_DROP_UNKNOWN_TYPE, 1);
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
            s_on_message (self);
        else if (rc == ZMESH_EVERSION && s_now () >= self->next_version_log_ms) {
            //  Counted each time; said at most once per interval, so a flood cannot fill logs.
            zsys_warning ("gossip: dropped a message of protocol version %u (this node speaks %d)",
                          self->in.version, ZMESH_WIRE_VERSION);
            self->next_version_log_ms = s_now () + S_VERSION_LOG_INTERVAL_MS;
        }
        if (!(zsock_events (self->server) & ZMQ_POLLIN))
            break;
    }
}

//  Link upkeep: silent links made anew (backing off), unused short-lived ones closed.
static void
s_maintain (self_t *self, int64_t now, bool trust_changed)
{
    zlistx_t *idle = zlistx_new ();
    for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
         link = (s_link_t *) zhashx_next (self->links)) {
        if (!link->active && now - link->used_ms >= S_IDLE_CLOSE_MS) {
            zlistx_add_end (idle, link->id_hex);
            continue;
        }
        if (!link->client)
            continue;
        //  Silent: nothing heard from the peer since the link was made. A neighbour answers
        //  probes, so its silence is a fault (a connection the peer's ZAP refused stays open
        //  and silent in libzmq); a short-lived link often carries one-way messages (a
        //  shuffle reply, a NACK), so it is remade only if its handshake never completed
        //  (up: a send went through, which ZMQ_IMMEDIATE allows only after the handshake).
        int64_t *heard = (int64_t *) zhashx_lookup (self->heard, link->id_hex);
        bool silent = (!heard || *heard < link->connected_ms) && (link->active || !link->up);
        if (silent && (trust_changed || now - link->connected_ms >= link->reconnect_delay_ms)) {
            link->reconnect_delay_ms = trust_changed ? S_RECONNECT_FIRST_MS
                                       : link->reconnect_delay_ms * 2 > S_RECONNECT_MAX_MS
                                           ? S_RECONNECT_MAX_MS
                                           : link->reconnect_delay_ms * 2;
            s_link_connect (self, link);
        }
        else if (!silent)
            link->reconnect_delay_ms = S_RECONNECT_FIRST_MS;
    }
    for (char *id_hex = (char *) zlistx_first (idle); id_hex; id_hex = (char *) zlistx_next (idle))
        zhashx_delete (self->links, id_hex);
    zlistx_destroy (&idle);
}

static void
s_flush_pending (self_t *self, int64_t now)
{
    self->next_pending_ms = INT64_MAX;
    for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
         link = (s_link_t *) zhashx_next (self->links)) {
        if (link->pending_count && now >= link->retry_ms) {
            s_link_flush (self, link, now);
            //  Back off: a handshake takes milliseconds, a link to a dead peer never comes up.
            link->retry_delay_ms = link->retry_delay_ms * 2 > S_PENDING_RETRY_MAX_MS
                                       ? S_PENDING_RETRY_MAX_MS
                                       : link->retry_delay_ms * 2;
            link->retry_ms = now + link->retry_delay_ms;
        }
        if (link->pending_count && link->retry_ms < self->next_pending_ms)
            self->next_pending_ms = link->retry_ms;
    }
}

static int
s_id_compare (const void *a, const void *b)
{
    return memcmp (a, b, ZMESH_ID_SIZE);
}

//  This node's neighbours, as sorted ids, into its state (zmesh.links) when they changed:
//  every node can then draw the mesh (zmeshctl topology).
static void
s_publish_links (self_t *self, zmesh_id_t *linked, uint32_t count)
{
    if (count > ZMESH_STATE_LINKS_MAX)
        count = ZMESH_STATE_LINKS_MAX;
    qsort (linked, count, sizeof *linked, s_id_compare);
    size_t size = count * sizeof *linked;
    if (self->links_published && size == self->published_size
        && memcmp (self->published, linked, size) == 0)
        return;
    memcpy (self->published, linked, size);
    self->published_size = size;
    self->links_published = true;
    s_state_publish (self, ZMESH_STATE_LINKS_KEY, size ? (const void *) self->published : "", size);
}

static void
s_member_from_info (self_t *self,
                    zmesh_member_t *m,
                    const zmesh_swim_member_info_t *info,
                    int64_t now)
{
    zmesh_id_to_hex (&info->id, m->id);
    s_name_of (self, &info->id, m->name, sizeof m->name);
    if (info->has_contact) {
        snprintf (m->endpoint, sizeof m->endpoint, "%s", info->contact->endpoint);
        zmesh_hex_encode (m->public_key, info->contact->key, ZMESH_KEY_SIZE);
    }
    snprintf (m->state, sizeof m->state, "%s", zmesh_peer_state_name (info->state));
    snprintf (m->view, sizeof m->view, "%s",
              info->active    ? "active"
              : info->passive ? "passive"
                              : "");
    m->generation = info->generation;
    m->incarnation = info->incarnation;
    int64_t *heard = (int64_t *) zhashx_lookup (self->heard, m->id);
    m->silent_ms = heard && now > *heard ? (uint64_t) (now - *heard) : 0;
}

static void
s_publish_members (self_t *self)
{
    uint32_t member_count = zmesh_swim_member_count (self->swim);
    size_t count = 0;
    zmesh_member_t *members = (zmesh_member_t *) calloc (member_count + 1, sizeof *members);
    ZMESH_ASSERT (members);
    zmesh_member_t *me = &members [count++];
    const zmesh_identity_t *identity = &self->ctx->identity;
    snprintf (me->id, sizeof me->id, "%s", identity->id_hex);
    snprintf (me->name, sizeof me->name, "%s", self->config->name);
    snprintf (me->endpoint, sizeof me->endpoint, "%s", self->endpoint);
    snprintf (me->public_key, sizeof me->public_key, "%s", identity->key_hex);
    snprintf (me->state, sizeof me->state, "%s", zmesh_swim_left (self->swim) ? "left" : "alive");
    me->self = true;
    me->generation = self->ctx->generation;
    me->incarnation = zmesh_swim_incarnation (self->swim);
    int64_t now = s_now ();
    for (uint32_t i = 0; i < member_count; i++) {
        zmesh_swim_member_info_t info;
        zmesh_swim_member_at (self->swim, i, &info);
        s_member_from_info (self, &members [count++], &info, now);
    }
    zmesh_ctx_publish_members (self->ctx, members, count);
    free (members);
    //  The state core exchanges with the active neighbours that are alive and linked.
    zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT], linked [ZMESH_SWIM_ACTIVE_LIMIT];
    uint32_t active_count = zmesh_swim_active (self->swim, active), linked_count = 0;
    for (uint32_t i = 0; i < active_count; i++) {
        zmesh_swim_member_info_t info;
        s_link_t *link = s_link_find (self, &active [i]);
        if (link && link->client && zmesh_swim_member (self->swim, &active [i], &info) == ZMESH_OK
            && info.state == ZMESH_PEER_ALIVE)
            linked [linked_count++] = active [i];
    }
    zmesh_gstate_peers (self->state, (uint64_t) now, linked, linked_count);
    s_publish_links (self, active, active_count);
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
        if (contact && zmesh_contact_parse (contact, endpoint, key) == 0) {
            s_candidate_add (self, key, endpoint);
            zmesh_swim_contact_t join = {0};
            memcpy (join.key, key, ZMESH_KEY_SIZE);
            snprintf (join.endpoint, sizeof join.endpoint, "%s", endpoint);
            s_join_via (self, &join);
        }
        zstr_free (&contact);
    }
    else if (streq (command, "PEER")) {
        zframe_t *key = zmsg_pop (msg);
        char *endpoint = zmsg_popstr (msg);
        if (key && endpoint && zframe_size (key) == ZMESH_KEY_SIZE)
            s_discovered (self, zframe_data (key), endpoint);
        zframe_destroy (&key);
        zstr_free (&endpoint);
    }
    else if (streq (command, "PROFILE") || streq (command, "WORK") || streq (command, "SCALE")) {
        zframe_t *value = zmsg_pop (msg);
        const char *key = streq (command, "WORK")    ? ZMESH_WORK_STATE_KEY
                          : streq (command, "SCALE") ? ZMESH_SCALE_STATE_KEY
                                                     : ZMESH_STATE_PROFILE_KEY;
        if (value)
            s_state_publish (self, key, zframe_data (value), zframe_size (value));
        zframe_destroy (&value);
    }
    else if (streq (command, "TRUST")) {
        self->trust_version = zmesh_trust_version (self->ctx->trust);
        s_maintain (self, s_now (), true);
        self->next_join_ms = s_now ();
        s_join_tick (self, s_now ());
    }
    else if (streq (command, "LEAVE")) {
        zmesh_swim_event_t event = {.type = ZMESH_SWIM_LEAVE, .now_ms = (uint64_t) s_now ()};
        s_step (self, &event);
        s_flush_pending (self, s_now ());
        zstr_send (self->pipe, "LEFT");
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_timers (self_t *self)
{
    int64_t now = s_now ();
    if ((uint64_t) now >= zmesh_swim_deadline_ms (self->swim)) {
        zmesh_swim_event_t event = {.type = ZMESH_SWIM_TICK, .now_ms = (uint64_t) now};
        s_step (self, &event);
    }
    if ((uint64_t) now >= zmesh_gstate_deadline (self->state))
        zmesh_gstate_tick (self->state, (uint64_t) now);
    if (now >= self->next_pending_ms)
        s_flush_pending (self, now);
    //  Housekeeping rides on another wake-up when one comes within its slack.
    if (now + S_HOUSEKEEPING_SLACK_MS >= self->next_housekeeping_ms) {
        uint64_t version = zmesh_trust_version (self->ctx->trust);
        s_maintain (self, now, version != self->trust_version);
        self->trust_version = version;
        s_join_tick (self, now);
        self->members_dirty = true;
        self->next_housekeeping_ms = now + S_HOUSEKEEPING_MS;
    }
    if (self->members_dirty)
        s_publish_members (self);
    //  A local write (API, CLI, profile, links) goes to every neighbour at once: the digests
    //  in probes spread it further, about one hop per half second.
    uint64_t version = zmesh_gstate_version (self->state);
    if (version != self->state_version) {
        self->state_version = version;
        zmesh_id_t active [ZMESH_SWIM_ACTIVE_LIMIT];
        uint32_t count = zmesh_swim_active (self->swim, active);
        //  (Not while walking self->links: a send looks links up, which moves its cursor.)
        for (uint32_t i = 0; i < count; i++) {
            s_link_t *link = s_link_find (self, &active [i]);
            if (link && link->active && link->client) {
                link->state_ms = now + self->config->state_interval_ms;
                zmesh_gstate_exchange (self->state, (uint64_t) now, &active [i]);
            }
        }
    }
}

static int
s_timeout (self_t *self)
{
    int64_t now = s_now ();
    int64_t next = self->next_housekeeping_ms;
    uint64_t deadline = zmesh_swim_deadline_ms (self->swim);
    if (zmesh_gstate_deadline (self->state) < deadline)
        deadline = zmesh_gstate_deadline (self->state);
    if (deadline < (uint64_t) next)
        next = (int64_t) deadline;
    //  Timers wake on a grid of S_TIMER_SLOT_MS, so those due within one slot share one
    //  wake-up (each costs a dozen system calls in zmq_poll); the cores treat a late tick as
    //  a slow node. Queued messages of links coming up are retried on time.
    if (next > now)
        next = (next + S_TIMER_SLOT_MS - 1) / S_TIMER_SLOT_MS * S_TIMER_SLOT_MS;
    if (self->next_pending_ms < next)
        next = self->next_pending_ms;
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

//  Join candidates: the seeds, then (after a restart of this actor) the members the last
//  snapshot held alive.
static void
s_candidates_init (self_t *self)
{
    for (int i = 0; i < self->config->seed_count; i++) {
        char endpoint [ZMESH_ENDPOINT_MAX];
        uint8_t key [ZMESH_KEY_SIZE];
        if (zmesh_contact_parse (self->config->seeds [i], endpoint, key) == 0)
            s_candidate_add (self, key, endpoint);
    }
    size_t count;
    zmesh_member_t *members = zmesh_ctx_members (self->ctx, &count);
    for (size_t i = 0; i < count; i++) {
        uint8_t key [ZMESH_KEY_SIZE];
        if (!members [i].self && zmesh_hex_decode (key, ZMESH_KEY_SIZE, members [i].public_key) == 0
            && (streq (members [i].state, "alive") || streq (members [i].state, "suspect")))
            s_candidate_add (self, key, members [i].endpoint);
    }
    free (members);
}

static int
s_swim_new (self_t *self, char *err, size_t err_size)
{
    const zmesh_config_t *c = self->config;
    zmesh_swim_config_t config;
    zmesh_swim_config_defaults (&config);
    config.id = self->ctx->identity.pub.id;
    config.generation = self->ctx->generation;
    memcpy (self->contact.key, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE);
    snprintf (self->contact.endpoint, sizeof self->contact.endpoint, "%s", self->endpoint);
    snprintf (self->contact.name, sizeof self->contact.name, "%s", self->config->name);
    config.contact = self->contact;
    config.active_max = (uint32_t) c->active_view;
    config.passive_max = (uint32_t) c->passive_view;
    config.probe_interval_ms = (uint32_t) c->probe_interval_ms;
    config.probe_timeout_ms = (uint32_t) c->probe_timeout_ms;
    config.indirect_probes = (uint32_t) c->indirect_probes;
    if (config.indirect_probes >= config.active_max)
        config.indirect_probes = config.active_max - 1;
    config.suspicion_min_ms = (uint32_t) c->suspicion_min_ms;
    config.suspicion_max_ms = (uint32_t) c->suspicion_max_ms;
    config.max_message_bytes = (uint32_t) c->packet_bytes;
    config.reap_after_ms = (uint32_t) c->reap_after_ms;
    config.max_members = (uint32_t) c->max_peers + 1;
    uint64_t seed;
    randombytes_buf (&seed, sizeof seed);
    int rc = zmesh_swim_new (&self->swim, &config, seed, (uint64_t) s_now ());
    if (rc)
        snprintf (err, err_size, "gossip: bad membership configuration: %s", zmesh_strerror (rc));
    return rc;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zhashx_destroy (&self->links);
    zhashx_destroy (&self->heard);
    zhashx_destroy (&self->trusted);
    zmesh_link_monitor_destroy (&self->monitor);
    zmesh_gstate_destroy (&self->state);
    zsock_destroy (&self->server);
    zmesh_zap_unregister (self->ctx->identity.id_hex);
    zmesh_swim_destroy (&self->swim);
    free (self);
    *self_p = NULL;
}

static void
s_heard_destroy (void **item)
{
    free (*item);
    *item = NULL;
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
    self->links = zhashx_new ();
    zhashx_set_destructor (self->links, s_link_destroy);
    self->heard = zhashx_new ();
    zhashx_set_destructor (self->heard, s_heard_destroy);
    self->trusted = zhashx_new ();
    self->next_pending_ms = INT64_MAX;
    self->state = zmesh_gstate_new (ctx, s_state_send, self, err, err_size);
    if (!self->state) {
        s_self_destroy (&self);
        return NULL;
    }
    zmesh_gstate_on_change (self->state, s_state_changed);
    s_state_publish (self, ZMESH_STATE_NAME_KEY, self->config->name, strlen (self->config->name));
    //  A restarted gossip starts an empty state: put back what the health actor measured.
    zmesh_profile_t profile;
    uint64_t at_ms;
    uint8_t encoded [ZMESH_PROFILE_ENCODED_MAX];
    size_t encoded_size;
    if (zmesh_ctx_profile (ctx, &profile, &at_ms)
        && zmesh_profile_encode (&profile, encoded, sizeof encoded, &encoded_size) == ZMESH_OK)
        s_state_publish (self, ZMESH_STATE_PROFILE_KEY, encoded, encoded_size);
    //  and what the worker offers.
    zchunk_t *work = zmesh_ctx_work (ctx);
    if (work)
        s_state_publish (self, ZMESH_WORK_STATE_KEY, zchunk_data (work), zchunk_size (work));
    zchunk_destroy (&work);
    //  and the figures of the balancer's scaling decision.
    zchunk_t *scale = zmesh_ctx_scale (ctx);
    if (scale)
        s_state_publish (self, ZMESH_SCALE_STATE_KEY, zchunk_data (scale), zchunk_size (scale));
    zchunk_destroy (&scale);
    if (zmesh_zap_register (ctx->identity.id_hex, ctx->trust, &ctx->metrics)) {
        snprintf (err, err_size, "gossip: cannot start the ZAP handler");
        s_self_destroy (&self);
        return NULL;
    }
    //  A restarted gossip binds where the first one did, so peers' links still reach it.
    char bound [ZMESH_ENDPOINT_MAX];
    const char *bind = ctx->bound [0] ? ctx->bound : ctx->config.bind;
    self->server =
        zmesh_link_server_rebind (&ctx->identity, ctx->identity.id_hex, bind, &self->link,
                                  ctx->bound [0] != 0, bound, err, err_size);
    if (!self->server) {
        s_self_destroy (&self);
        return NULL;
    }
    snprintf (ctx->bound, sizeof ctx->bound, "%s", bound);
    self->monitor = zmesh_link_monitor_new (self->server);
    s_advertise (self, bound);
    zmesh_ctx_set_endpoint (ctx, self->endpoint);
    if (s_swim_new (self, err, err_size)) {
        s_self_destroy (&self);
        return NULL;
    }
    self->poller = zpoller_new (pipe, self->server, NULL);
    if (self->monitor)
        zpoller_add (self->poller, self->monitor->events);
    zpoller_add (self->poller, zmesh_gstate_service (self->state));
    zpoller_set_nonstop (self->poller, true);
    self->trust_version = zmesh_trust_version (ctx->trust);
    s_candidates_init (self);
    self->next_join_ms = s_now ();
    s_join_tick (self, s_now ());
    self->members_dirty = true;
    return self;
}

void
zmesh_gossip_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("gossip");
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
