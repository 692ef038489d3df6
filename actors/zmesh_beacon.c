/*  zmesh_beacon.c: the beacon actor: LAN discovery by signed UDP broadcast.

    Uses CZMQ's zbeacon for the UDP work (one broadcast socket per interface, SO_REUSEPORT so
    several nodes on a host share the port). Each beacon is a zmesh_beacon_packet: the node's
    tcp port, Ed25519 key and generation, signed. A valid beacon from another node goes to
    gossip as "PEER key endpoint", the endpoint built from the datagram's source address, so a
    forged address cannot redirect traffic to a node whose key it does not hold: CURVE would
    fail the handshake. Malformed and mis-signed beacons are dropped and counted. zbeacon
    does not broadcast on loopback: tests of this actor run in network namespaces.
*/
#include "zmesh_actors.h"
#include "zmesh_beacon_packet.h"
#include "zmesh_node_ctx.h"

typedef struct {
    zmesh_node_ctx_t *ctx;
    zsock_t *pipe;
    zactor_t *speaker;   //  zbeacon publishing our packet
    zactor_t *listener;  //  zbeacon receiving others'
    zpoller_t *poller;
    uint8_t packet [ZMESH_BEACON_SIZE];  //  our signed announcement
    bool terminated;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        zpoller_destroy (&self->poller);
        zactor_destroy (&self->speaker);
        zactor_destroy (&self->listener);
        free (self);
        *self_p = NULL;
    }
}

//  A zbeacon configured on the node's port; NULL if there is no usable interface.
static zactor_t *
s_zbeacon_new (int port)
{
    zactor_t *beacon = zactor_new (zbeacon, NULL);
    if (!beacon)
        return NULL;
    zsock_send (beacon, "si", "CONFIGURE", port);
    char *hostname = zstr_recv (beacon);
    bool ok = hostname && *hostname;
    zstr_free (&hostname);
    if (!ok)
        zactor_destroy (&beacon);
    return beacon;
}

static self_t *
s_self_new (zsock_t *pipe, zmesh_node_ctx_t *ctx, char *err, size_t err_size)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->ctx = ctx;
    self->pipe = pipe;
    const zmesh_config_t *config = &ctx->config;
    if (config->beacon_interface [0])
        zsys_set_interface (config->beacon_interface);
    self->speaker = s_zbeacon_new (config->beacon_port);
    self->listener = s_zbeacon_new (config->beacon_port);
    if (!self->speaker || !self->listener) {
        snprintf (err, err_size,
                  "beacon: no broadcast-capable interface%s%s (or UDP port %d unusable)",
                  config->beacon_interface [0] ? " named " : "", config->beacon_interface,
                  config->beacon_port);
        s_self_destroy (&self);
        return NULL;
    }
    char endpoint [ZMESH_ENDPOINT_MAX];
    zmesh_ctx_endpoint (ctx, endpoint);
    const char *colon = strrchr (endpoint, ':');
    zmesh_beacon_t beacon = {.port = (uint16_t) (colon ? atoi (colon + 1) : 0),
                             .generation = ctx->generation};
    memcpy (beacon.sign_public, ctx->identity.pub.sign_public, ZMESH_KEY_SIZE);
    if (zmesh_beacon_encode (&beacon, ctx->identity.sign_secret, self->packet)) {
        snprintf (err, err_size, "beacon: node endpoint '%.200s' has no port", endpoint);
        s_self_destroy (&self);
        return NULL;
    }
    zsock_send (self->listener, "sb", "SUBSCRIBE", "ZMB", 3);
    self->poller = zpoller_new (pipe, self->listener, NULL);
    zpoller_set_nonstop (self->poller, true);
    return self;
}

static void
s_handle_listener (self_t *self)
{
    char *address = zstr_recv (self->listener);
    zframe_t *content = address ? zframe_recv (self->listener) : NULL;
    zmesh_beacon_t beacon;
    int rc = content ? zmesh_beacon_decode (&beacon, zframe_data (content), zframe_size (content))
                     : ZMESH_EPROTO;
    zmesh_metrics_t *metrics = &self->ctx->metrics;
    if (rc == ZMESH_ECRYPTO)
        zmesh_metrics_add (metrics, ZMESH_M_DROP_BEACON_SIGNATURE, 1);
    else if (rc)
        zmesh_metrics_add (metrics, ZMESH_M_DROP_BEACON_MALFORMED, 1);
    else if (memcmp (beacon.sign_public, self->ctx->identity.pub.sign_public, ZMESH_KEY_SIZE) != 0
             && !(beacon.flags & ZMESH_BEACON_FLAG_LEAVING)) {
        zmesh_metrics_add (metrics, ZMESH_M_BEACON_RECEIVED, 1);
        char endpoint [ZMESH_ENDPOINT_MAX];
        bool v6 = strchr (address, ':') != NULL;
        snprintf (endpoint, sizeof endpoint, v6 ? "tcp://[%s]:%u" : "tcp://%s:%u", address,
                  beacon.port);
        if (zmesh_endpoint_check (endpoint, false) == 0)
            zsock_send (self->pipe, "sssbs", "ROUTE", "gossip", "PEER", beacon.sign_public,
                        (size_t) ZMESH_KEY_SIZE, endpoint);
    }
    zstr_free (&address);
    zframe_destroy (&content);
}

void
zmesh_beacon_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zmesh_actor_name ("beacon");
    char err [256] = "";
    self_t *self = s_self_new (pipe, (zmesh_node_ctx_t *) args, err, sizeof err);
    if (!self) {
        zmesh_actor_failed (pipe, err);
        return;
    }
    zmesh_actor_ready (pipe);
    int interval_ms = self->ctx->config.beacon_interval_ms;
    int64_t next_send = zclock_mono ();
    while (!self->terminated) {
        //  zbeacon sends at once on PUBLISH; we PUBLISH each interval ourselves (its own
        //  repeat set far out), so the count of beacons sent is exact.
        if (zclock_mono () >= next_send) {
            zsock_send (self->speaker, "sbi", "PUBLISH", self->packet, ZMESH_BEACON_SIZE,
                        interval_ms * 10);
            zmesh_metrics_add (&self->ctx->metrics, ZMESH_M_BEACON_SENT, 1);
            next_send = zclock_mono () + interval_ms;
        }
        int64_t wait = next_send - zclock_mono ();
        void *which = zpoller_wait (self->poller, wait > 0 ? (int) wait : 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            self->terminated = !command || streq (command, "$TERM") || streq (command, "FAULT");
            zstr_free (&command);
        }
        else if (which == self->listener)
            s_handle_listener (self);
    }
    s_self_destroy (&self);
}
