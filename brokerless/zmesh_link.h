/*  zmesh_link.h: CURVE links between nodes, and the envelope check on every message.

    Each node binds one ROUTER as a CURVE server (its inbox) and connects one DEALER as a
    CURVE client to each peer it talks to (as Zyre does): A's messages to B go over A's DEALER
    to B's ROUTER, B's replies over B's DEALER to A's ROUTER. Plaintext is impossible: the
    server speaks only CURVE, and the ZAP handler (zmesh_trust.h) admits only trusted keys.

    On receive, the key CURVE authenticated for the connection (the ZAP User-Id) gives the
    only node id the envelope may claim as its sender; anything else is dropped and counted,
    as is every message that does not decode. Oversized messages are dropped by size before
    decoding; far larger ones never arrive (ZMQ_MAXMSGSIZE closes the connection).
*/
#ifndef ZMESH_LINK_H_INCLUDED
#define ZMESH_LINK_H_INCLUDED

#include "zmesh_identity.h"
#include "zmesh_metrics.h"
#include "zmesh_wire.h"
#include <czmq.h>

#define ZMESH_LINK_SNDHWM_DEFAULT   1000   //  messages queued per peer before sends are dropped
#define ZMESH_LINK_HARD_MAX_FACTOR  4      //  MAXMSGSIZE = factor x message size limit
#define ZMESH_LINK_RCVHWM_DEFAULT   10000  //  messages queued in the inbox from all peers
#define ZMESH_LINK_RECONNECT_MS     100    //  libzmq's first reconnect delay
#define ZMESH_LINK_RECONNECT_MAX_MS 2000   //  and its largest

typedef struct {
    size_t max_message_bytes;  //  larger envelopes are dropped and counted
    int linger_ms;             //  how long close waits to flush (LEAVE at shutdown)
    bool queue_early;          //  clients: queue messages until the link is up (work plane);
                               //  default false: refuse them (ZMQ_IMMEDIATE, membership)
} zmesh_link_config_t;

//  The CURVE server socket, bound to endpoint ("tcp://HOST:PORT", port '*' = any). The actual
//  endpoint is written to bound (capacity ZMESH_ENDPOINT_MAX). domain = the node's ZAP domain,
//  already registered with zmesh_zap_register. NULL on error, with a message in err.
zsock_t *zmesh_link_server_new (const zmesh_identity_t *identity,
                                const char *domain,
                                const char *endpoint,
                                const zmesh_link_config_t *config,
                                char *bound,
                                char *err,
                                size_t err_size);
//  The same for an actor that may be restarting: `again` says endpoint is the one a previous
//  run of the actor bound (a restart keeps its port, so peers still reach it). libzmq closes
//  the old listener in its I/O thread a moment after that run ended, so the bind is retried
//  ZMESH_LINK_REBIND_ATTEMPTS times, ZMESH_LINK_REBIND_PAUSE_MS apart (2 s in all).
#define ZMESH_LINK_REBIND_ATTEMPTS 40
#define ZMESH_LINK_REBIND_PAUSE_MS 50
zsock_t *zmesh_link_server_rebind (const zmesh_identity_t *identity,
                                   const char *domain,
                                   const char *endpoint,
                                   const zmesh_link_config_t *config,
                                   bool again,
                                   char *bound,
                                   char *err,
                                   size_t err_size);
//  The drop counter for a decoder's error: version, unknown_type, oversized, else malformed.
zmesh_metric_t zmesh_link_drop_metric (int rc);
//  A CURVE client connected to a peer's server.
zsock_t *zmesh_link_client_new (const zmesh_identity_t *identity,
                                const uint8_t server_curve_public [ZMESH_KEY_SIZE],
                                const char *endpoint,
                                const zmesh_link_config_t *config);
//  Encode msg and send it without blocking. ZMESH_ELIMIT if it could not go: the link is not
//  up yet (ZMQ_IMMEDIATE) or the peer's queue is full; the caller, who knows which, counts.
int zmesh_link_send (zsock_t *client, const zmesh_msg_t *msg, zmesh_metrics_t *metrics);
//  The same, for an envelope already encoded (size bytes at data).
int
zmesh_link_send_raw (zsock_t *client, const uint8_t *data, size_t size, zmesh_metrics_t *metrics);
//  Receive one message from the server socket. Returns ZMESH_OK with msg filled and the
//  sender's authenticated CURVE key in curve_public; any other return means the message was
//  dropped (and counted); the caller just goes on. A STATE or SWIM body in msg points into the
//  received bytes: valid until the next zmesh_link_recv on the same thread.
int zmesh_link_recv (zsock_t *server,
                     zmesh_msg_t *msg,
                     uint8_t curve_public [ZMESH_KEY_SIZE],
                     const zmesh_link_config_t *config,
                     zmesh_metrics_t *metrics);
//  Who sent a message a server received: the key CURVE authenticated for its connection (the
//  ZAP User-Id) and the node id that key gives. ZMESH_ECRYPTO, counted as unauthenticated, if
//  the message carries none.
int zmesh_link_peer (zmq_msg_t *payload,
                     uint8_t curve_public [ZMESH_KEY_SIZE],
                     zmesh_id_t *id,
                     zmesh_metrics_t *metrics);
//  Watch a server socket's connections and handshakes, to count what never became a link:
//  handshakes libzmq reports failed, and tcp connections closed before any handshake
//  completed (garbage, another protocol). libzmq does not say which connection a handshake
//  result belongs to, so results are matched to accepted connections in accept order
//  (handshakes take the same few round trips, so they finish in that order in practice).
#define ZMESH_LINK_PENDING_MAX 256  //  connections tracked between accept and handshake

typedef struct {
    zsock_t *events;                       //  PAIR receiving libzmq monitor events
    int pending [ZMESH_LINK_PENDING_MAX];  //  fds accepted, no handshake result yet, oldest first
    size_t pending_count;
} zmesh_link_monitor_t;

zmesh_link_monitor_t *zmesh_link_monitor_new (zsock_t *server);
void zmesh_link_monitor_destroy (zmesh_link_monitor_t **self_p);
void zmesh_link_monitor_handle (zmesh_link_monitor_t *self, zmesh_metrics_t *metrics);

#endif
