/*  bench_link.c: round trip over zmesh's CURVE link against raw libzmq CURVE, in one run.

    Usage: bench_link [N]     N round trips measured per side (default 20000), after 1000
                              warm-up round trips per side that are not recorded.

    (a) raw: a DEALER (CURVE client) and a ROUTER (CURVE server) in a zmq context of their own
        (zmq_ctx_new), so they never meet the ZAP handler zmesh binds in CZMQ's context: with
        no handler, libzmq admits every CURVE client. A second thread echoes each message back
        over the same connection. The main thread sends with zmq_send and waits in a blocking
        zmq_recv bounded by ZMQ_RCVTIMEO: the cheapest way raw libzmq does a round trip.
    (b) zmesh: two nodes A and B, each with a generated identity, a server made by
        zmesh_link_server_new (ZAP domain = its id, registered against an open trust store)
        and a client made by zmesh_link_client_new to the other's server, as zmeshd does: each
        direction has its own DEALER -> ROUTER connection. A sends PING envelopes with
        zmesh_link_send; B (second thread) takes each with zmesh_link_recv, which decodes it
        and checks the claimed sender against the CURVE key, and answers PONG over its own
        client to A's server, where zmesh_link_recv takes it. zmesh_link_recv never blocks,
        so each receive waits first in zmq_poll on the server socket: the cost of that API.

    Both sides carry payloads of the same size (that of a PING envelope, 40 bytes), apply the
    same socket options, and run in rounds of BENCH_ROUND round trips that alternate in ABBA
    order (raw, zmesh, zmesh, raw, ...) so the machine's noise falls on both alike. Times come
    from clock_gettime (CLOCK_MONOTONIC) around each round trip.

    Prints, per side, round trips per second and p50 / p99 / max round trip in microseconds,
    then the floor verdict (zmesh p50 within BENCH_FLOOR x raw p50) and, last,
    "ratio p50 zmesh/raw: X.XX". Exit status: 0 when the floor is met, 3 when it is not,
    1 on any failure (a reply missing for 2 s, a dropped envelope, a setup error).
    Everything listens on 127.0.0.1 only.
*/
#include "zmesh_link.h"
#include "zmesh_trust.h"
#include "zmesh_error.h"
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BENCH_N_DEFAULT  20000
#define BENCH_N_MAX      10000000
#define BENCH_WARMUP     1000
#define BENCH_ROUND      100   //  round trips per round; sides alternate between rounds
#define BENCH_TIMEOUT_MS 2000  //  a reply later than this fails the run
#define BENCH_CONNECT_MS 5000  //  time allowed for both links' CURVE handshakes
#define BENCH_ECHO_IDLE  100   //  ms an echo thread waits before it looks at its stop flag
#define BENCH_FLOOR      1.5   //  zmesh p50 must be within this factor of raw p50
#define BENCH_SEQ_BASE   (UINT64_C (1) << 32)  //  sequence numbers packed as 9 bytes
#define BENCH_ERR_MAX    512
#define BENCH_ECHO_ERR   128  //  error text of an echo thread

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

//  Wait until socket has input, at most timeout_ms. 1 = ready, 0 = timed out, -1 = error.
static int
s_wait_input (void *socket, int timeout_ms)
{
    uint64_t deadline = s_now_ns () + (uint64_t) timeout_ms * 1000000u;
    while (true) {
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        uint64_t now = s_now_ns ();
        long left = now < deadline ? (long) ((deadline - now + 999999u) / 1000000u) : 0;
        int rc = zmq_poll (&item, 1, left);
        if (rc > 0)
            return 1;
        if (rc == 0 && left == 0)
            return 0;
        if (rc < 0 && zmq_errno () != EINTR)
            return -1;
        if (zsys_interrupted)
            return -1;
    }
}

//  --------------------------------------------------------------------------------------------
//  (a) raw libzmq

typedef struct {
    void *ctx;
    void *server;  //  ROUTER, CURVE server: owned by the echo thread once it runs
    void *client;  //  DEALER, CURVE client: the main thread's
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_bool failed;
    char error [BENCH_ECHO_ERR];  //  written by the echo thread before it sets failed
    uint8_t payload [64];
    size_t payload_size;
} raw_bench_t;

//  The options zmesh_link applies, so that only zmesh's own work differs.
static int
s_raw_options (void *socket, size_t max_message_bytes)
{
    int64_t maxmsgsize = (int64_t) max_message_bytes * ZMESH_LINK_HARD_MAX_FACTOR;
    int linger = 0, sndhwm = ZMESH_LINK_SNDHWM_DEFAULT, rcvhwm = ZMESH_LINK_SNDHWM_DEFAULT * 10;
    int timeout = BENCH_TIMEOUT_MS;
    if (zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &maxmsgsize, sizeof maxmsgsize)
        || zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_setsockopt (socket, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm)
        || zmq_setsockopt (socket, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm)
        || zmq_setsockopt (socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout))
        return -1;
    return 0;
}

static int
s_raw_setup (raw_bench_t *self, size_t payload_size, size_t max_message_bytes, char *err)
{
    char server_public [41], server_secret [41], client_public [41], client_secret [41];
    char endpoint [256];
    size_t endpoint_size = sizeof endpoint;
    int one = 1;
    if (zmq_curve_keypair (server_public, server_secret)
        || zmq_curve_keypair (client_public, client_secret)) {
        snprintf (err, BENCH_ERR_MAX, "raw: zmq_curve_keypair: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->ctx = zmq_ctx_new ();
    self->server = self->ctx ? zmq_socket (self->ctx, ZMQ_ROUTER) : NULL;
    self->client = self->ctx ? zmq_socket (self->ctx, ZMQ_DEALER) : NULL;
    bool ok = self->server && self->client && !s_raw_options (self->server, max_message_bytes)
              && !s_raw_options (self->client, max_message_bytes)
              && !zmq_setsockopt (self->server, ZMQ_CURVE_SERVER, &one, sizeof one)
              && !zmq_setsockopt (self->server, ZMQ_CURVE_SECRETKEY, server_secret, 40)
              && !zmq_setsockopt (self->server, ZMQ_ROUTER_HANDOVER, &one, sizeof one)
              && !zmq_setsockopt (self->client, ZMQ_CURVE_SERVERKEY, server_public, 40)
              && !zmq_setsockopt (self->client, ZMQ_CURVE_PUBLICKEY, client_public, 40)
              && !zmq_setsockopt (self->client, ZMQ_CURVE_SECRETKEY, client_secret, 40)
              && !zmq_setsockopt (self->client, ZMQ_IMMEDIATE, &one, sizeof one)
              && !zmq_bind (self->server, "tcp://127.0.0.1:*")
              && !zmq_getsockopt (self->server, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size)
              && !zmq_connect (self->client, endpoint);
    if (!ok)
        snprintf (err, BENCH_ERR_MAX, "raw: socket setup: %s", zmq_strerror (zmq_errno ()));
    explicit_bzero (server_secret, sizeof server_secret);
    explicit_bzero (client_secret, sizeof client_secret);
    if (!ok)
        return -1;
    self->payload_size = payload_size;
    memset (self->payload, 0x5a, sizeof self->payload);
    return 0;
}

static void
s_raw_fail (raw_bench_t *self, const char *what)
{
    snprintf (self->error, sizeof self->error, "raw echo: %s: %s", what,
              zmq_strerror (zmq_errno ()));
    atomic_store (&self->failed, true);
}

//  Echo one ROUTER message back to where it came from. 1 = echoed, 0 = nothing came, -1 = error.
static int
s_raw_echo_one (raw_bench_t *self)
{
    zmq_msg_t routing_id, body;
    zmq_msg_init (&routing_id);
    zmq_msg_init (&body);
    int rc = -1;
    if (zmq_msg_recv (&routing_id, self->server, 0) < 0) {
        rc = (zmq_errno () == EAGAIN || zmq_errno () == EINTR) ? 0 : -1;
        if (rc < 0)
            s_raw_fail (self, "receive");
    }
    else if (!zmq_msg_more (&routing_id) || zmq_msg_recv (&body, self->server, 0) < 0)
        s_raw_fail (self, "receive body");
    else if (zmq_msg_send (&routing_id, self->server, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
             || zmq_msg_send (&body, self->server, ZMQ_DONTWAIT) < 0)
        s_raw_fail (self, "send");
    else
        rc = 1;
    zmq_msg_close (&routing_id);
    zmq_msg_close (&body);
    return rc;
}

static void *
s_raw_echo_thread (void *args)
{
    raw_bench_t *self = (raw_bench_t *) args;
    int idle = BENCH_ECHO_IDLE;
    zmq_setsockopt (self->server, ZMQ_RCVTIMEO, &idle, sizeof idle);
    while (!atomic_load_explicit (&self->stop, memory_order_relaxed))
        if (s_raw_echo_one (self) < 0)
            break;
    return NULL;
}

//  One round trip; rtt_ns gets its time. 0 or -1 with a message in err.
static int
s_raw_round_trip (raw_bench_t *self, uint64_t seq, uint64_t *rtt_ns, char *err)
{
    uint8_t reply [sizeof self->payload];
    memcpy (self->payload, &seq, sizeof seq);
    uint64_t start = s_now_ns ();
    if (zmq_send (self->client, self->payload, self->payload_size, ZMQ_DONTWAIT) < 0) {
        snprintf (err, BENCH_ERR_MAX, "raw: send: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    int size = zmq_recv (self->client, reply, sizeof reply, 0);
    *rtt_ns = s_now_ns () - start;
    if (size < 0) {
        bool echo_failed = atomic_load (&self->failed);  //  then error is written
        if (zmq_errno () == EAGAIN)
            snprintf (err, BENCH_ERR_MAX,
                      "raw: no reply to round trip %" PRIu64 " within %d ms%s%s",
                      seq - BENCH_SEQ_BASE, BENCH_TIMEOUT_MS, echo_failed ? "; " : "",
                      echo_failed ? self->error : "");
        else
            snprintf (err, BENCH_ERR_MAX, "raw: receive: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    if ((size_t) size != self->payload_size || memcmp (reply, &seq, sizeof seq) != 0) {
        snprintf (err, BENCH_ERR_MAX, "raw: reply %" PRIu64 " is not the echo of its request",
                  seq - BENCH_SEQ_BASE);
        return -1;
    }
    return 0;
}

//  First round trip, before the echo thread runs: waits for the CURVE handshake.
static int
s_raw_connect (raw_bench_t *self, char *err)
{
    uint64_t deadline = s_now_ns () + (uint64_t) BENCH_CONNECT_MS * 1000000u;
    while (zmq_send (self->client, self->payload, self->payload_size, ZMQ_DONTWAIT) < 0) {
        if (zmq_errno () != EAGAIN || s_now_ns () > deadline || zsys_interrupted) {
            snprintf (err, BENCH_ERR_MAX, "raw: cannot connect within %d ms: %s", BENCH_CONNECT_MS,
                      zmq_strerror (zmq_errno ()));
            return -1;
        }
        s_sleep_ms (1);
    }
    uint8_t reply [sizeof self->payload];
    if (s_raw_echo_one (self) != 1 || zmq_recv (self->client, reply, sizeof reply, 0) < 0) {
        snprintf (err, BENCH_ERR_MAX, "raw: first round trip failed: %s%s",
                  zmq_strerror (zmq_errno ()), self->error);
        return -1;
    }
    return 0;
}

static void
s_raw_teardown (raw_bench_t *self)
{
    atomic_store (&self->stop, true);
    if (self->thread_started)
        pthread_join (self->thread, NULL);
    self->thread_started = false;
    if (self->client)
        zmq_close (self->client);
    if (self->server)
        zmq_close (self->server);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    self->client = self->server = self->ctx = NULL;
}

//  --------------------------------------------------------------------------------------------
//  (b) zmesh links

typedef struct {
    zmesh_identity_t identity;
    zmesh_metrics_t metrics;
    bool registered;  //  ZAP domain registered
    zsock_t *server;  //  this node's inbox (ROUTER, CURVE server)
    zsock_t *client;  //  DEALER to the other node's server
    uint64_t generation;
    char bound [ZMESH_ENDPOINT_MAX];
} node_t;

typedef struct {
    char dir [64];  //  temporary directory of the trust store
    bool dir_made;
    zmesh_trust_t *trust;
    zmesh_link_config_t config;
    node_t a;  //  main thread: sends PING, receives PONG
    node_t b;  //  echo thread: receives PING, answers PONG
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_bool failed;
    char error [BENCH_ECHO_ERR];
} link_bench_t;

static void
s_link_ping (const node_t *node, zmesh_msg_t *msg, int type, uint64_t seq)
{
    msg->version = ZMESH_WIRE_VERSION;
    msg->type = (uint8_t) type;
    msg->sender = node->identity.pub.id;
    msg->body.ping.seq = seq;
    msg->body.ping.generation = node->generation;
}

static int
s_link_setup (link_bench_t *self, char *err)
{
    self->config.max_message_bytes = ZMESH_MSG_SIZE_MAX;  //  what zmeshd's config allows at most
    self->config.linger_ms = 0;
    snprintf (self->dir, sizeof self->dir, "/tmp/zmesh-bench-link-XXXXXX");
    if (!mkdtemp (self->dir)) {
        snprintf (err, BENCH_ERR_MAX, "cannot create a temporary directory: %s", strerror (errno));
        return -1;
    }
    self->dir_made = true;
    self->trust = zmesh_trust_new (self->dir, true);
    if (!self->trust) {
        snprintf (err, BENCH_ERR_MAX, "zmesh_trust_new failed");
        return -1;
    }
    struct timeval now;
    gettimeofday (&now, NULL);
    node_t *nodes [2] = {&self->a, &self->b};
    for (int i = 0; i < 2; i++) {
        node_t *node = nodes [i];
        //  As zmesh_node does: milliseconds since the epoch.
        node->generation = (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_usec / 1000;
        int rc = zmesh_identity_generate (&node->identity);
        if (rc == 0) {
            rc = zmesh_zap_register (node->identity.id_hex, self->trust, &node->metrics);
            node->registered = rc == 0;
        }
        if (rc) {
            snprintf (err, BENCH_ERR_MAX, "identity / ZAP setup: %s", zmesh_strerror (rc));
            return -1;
        }
        node->server =
            zmesh_link_server_new (&node->identity, node->identity.id_hex, "tcp://127.0.0.1:*",
                                   &self->config, node->bound, err, BENCH_ERR_MAX);
        if (!node->server)
            return -1;
    }
    self->a.client = zmesh_link_client_new (&self->a.identity, self->b.identity.pub.curve_public,
                                            self->b.bound, &self->config);
    self->b.client = zmesh_link_client_new (&self->b.identity, self->a.identity.pub.curve_public,
                                            self->a.bound, &self->config);
    if (!self->a.client || !self->b.client) {
        snprintf (err, BENCH_ERR_MAX, "zmesh_link_client_new failed");
        return -1;
    }
    return 0;
}

//  Send on a link; until the handshake is done (ZMQ_IMMEDIATE) wait and try again.
static int
s_link_send_connecting (node_t *node, const zmesh_msg_t *msg, char *err)
{
    uint64_t deadline = s_now_ns () + (uint64_t) BENCH_CONNECT_MS * 1000000u;
    int rc;
    while ((rc = zmesh_link_send (node->client, msg, &node->metrics)) == ZMESH_ELIMIT) {
        if (s_now_ns () > deadline || zsys_interrupted) {
            snprintf (err, BENCH_ERR_MAX, "zmesh: link not connected within %d ms",
                      BENCH_CONNECT_MS);
            return -1;
        }
        s_sleep_ms (1);
    }
    return 0;
}

//  Receive one envelope of the expected type and sender, within timeout_ms.
static int
s_link_receive (link_bench_t *self,
                node_t *node,
                const node_t *from,
                int type,
                zmesh_msg_t *msg,
                int timeout_ms,
                char *err)
{
    int ready = s_wait_input (zsock_resolve (node->server), timeout_ms);
    if (ready <= 0) {
        if (ready == 0)
            snprintf (err, BENCH_ERR_MAX, "zmesh: no %s within %d ms", zmesh_msg_type_name (type),
                      timeout_ms);
        else
            snprintf (err, BENCH_ERR_MAX, "zmesh: poll: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    uint8_t curve_public [ZMESH_KEY_SIZE];
    int rc = zmesh_link_recv (node->server, msg, curve_public, &self->config, &node->metrics);
    if (rc != ZMESH_OK) {
        snprintf (err, BENCH_ERR_MAX, "zmesh: envelope dropped: %s", zmesh_strerror (rc));
        return -1;
    }
    if (msg->type != type || !zmesh_id_equal (&msg->sender, &from->identity.pub.id)
        || memcmp (curve_public, from->identity.pub.curve_public, ZMESH_KEY_SIZE) != 0) {
        snprintf (err, BENCH_ERR_MAX, "zmesh: unexpected %s envelope",
                  zmesh_msg_type_name (msg->type));
        return -1;
    }
    return 0;
}

//  First PING and PONG, before the echo thread runs: waits for both handshakes.
static int
s_link_connect (link_bench_t *self, char *err)
{
    zmesh_msg_t ping, received, pong;
    s_link_ping (&self->a, &ping, ZMESH_MSG_PING, BENCH_SEQ_BASE);
    if (s_link_send_connecting (&self->a, &ping, err)
        || s_link_receive (self, &self->b, &self->a, ZMESH_MSG_PING, &received, BENCH_CONNECT_MS,
                           err))
        return -1;
    s_link_ping (&self->b, &pong, ZMESH_MSG_PONG, received.body.ping.seq);
    if (s_link_send_connecting (&self->b, &pong, err)
        || s_link_receive (self, &self->a, &self->b, ZMESH_MSG_PONG, &received, BENCH_CONNECT_MS,
                           err))
        return -1;
    return 0;
}

static void
s_link_fail (link_bench_t *self, const char *what)
{
    snprintf (self->error, sizeof self->error, "zmesh echo: %s", what);
    atomic_store (&self->failed, true);
}

//  Node B: answer every PING with a PONG over B's own link to A.
static void *
s_link_echo_thread (void *args)
{
    link_bench_t *self = (link_bench_t *) args;
    node_t *node = &self->b;
    void *server = zsock_resolve (node->server);
    while (!atomic_load_explicit (&self->stop, memory_order_relaxed)) {
        zmq_pollitem_t item = {server, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, BENCH_ECHO_IDLE);
        if (rc < 0 && zmq_errno () != EINTR) {
            s_link_fail (self, zmq_strerror (zmq_errno ()));
            break;
        }
        if (rc <= 0)
            continue;
        zmesh_msg_t msg;
        uint8_t curve_public [ZMESH_KEY_SIZE];
        rc = zmesh_link_recv (node->server, &msg, curve_public, &self->config, &node->metrics);
        if (rc == ZMESH_ETIMEOUT)
            continue;  //  woken for nothing
        if (rc != ZMESH_OK || msg.type != ZMESH_MSG_PING) {
            s_link_fail (self, rc != ZMESH_OK ? zmesh_strerror (rc) : "not a PING");
            break;
        }
        s_link_ping (node, &msg, ZMESH_MSG_PONG, msg.body.ping.seq);
        rc = zmesh_link_send (node->client, &msg, &node->metrics);
        if (rc != ZMESH_OK) {
            s_link_fail (self, zmesh_strerror (rc));
            break;
        }
    }
    return NULL;
}

static int
s_link_round_trip (link_bench_t *self, uint64_t seq, uint64_t *rtt_ns, char *err)
{
    zmesh_msg_t ping, pong;
    s_link_ping (&self->a, &ping, ZMESH_MSG_PING, seq);
    uint64_t start = s_now_ns ();
    int rc = zmesh_link_send (self->a.client, &ping, &self->a.metrics);
    if (rc != ZMESH_OK) {
        snprintf (err, BENCH_ERR_MAX, "zmesh: send: %s", zmesh_strerror (rc));
        return -1;
    }
    rc = s_link_receive (self, &self->a, &self->b, ZMESH_MSG_PONG, &pong, BENCH_TIMEOUT_MS, err);
    *rtt_ns = s_now_ns () - start;
    if (rc) {
        if (atomic_load (&self->failed)) {
            size_t len = strlen (err);
            snprintf (err + len, BENCH_ERR_MAX - len, "; %s", self->error);
        }
        return -1;
    }
    if (pong.body.ping.seq != seq) {
        snprintf (err, BENCH_ERR_MAX, "zmesh: PONG seq %" PRIu64 " answers PING seq %" PRIu64,
                  pong.body.ping.seq, seq);
        return -1;
    }
    return 0;
}

static uint64_t
s_drops (const zmesh_metrics_t *metrics)
{
    static const zmesh_metric_t counted [] = {
        ZMESH_M_SEND_DROPPED,        ZMESH_M_DROP_MALFORMED,       ZMESH_M_DROP_VERSION,
        ZMESH_M_DROP_UNKNOWN_TYPE,   ZMESH_M_DROP_SENDER_MISMATCH, ZMESH_M_DROP_OVERSIZED,
        ZMESH_M_DROP_UNAUTHENTICATED};
    uint64_t drops = 0;
    for (size_t i = 0; i < sizeof counted / sizeof counted [0]; i++)
        drops += zmesh_metrics_get (metrics, counted [i]);
    return drops;
}

static void
s_link_teardown (link_bench_t *self)
{
    atomic_store (&self->stop, true);
    if (self->thread_started)
        pthread_join (self->thread, NULL);
    self->thread_started = false;
    node_t *nodes [2] = {&self->a, &self->b};
    for (int i = 0; i < 2; i++) {
        zsock_destroy (&nodes [i]->client);
        zsock_destroy (&nodes [i]->server);
        if (nodes [i]->registered)
            zmesh_zap_unregister (nodes [i]->identity.id_hex);
        nodes [i]->registered = false;
        zmesh_identity_wipe (&nodes [i]->identity);
    }
    zmesh_trust_destroy (&self->trust);
    if (self->dir_made && rmdir (self->dir) != 0)
        fprintf (stderr, "bench_link: cannot remove %s: %s\n", self->dir, strerror (errno));
    self->dir_made = false;
}

//  --------------------------------------------------------------------------------------------
//  Measurement

typedef struct {
    const char *name;
    uint64_t *samples;  //  round trip times, ns
    size_t count;
    uint64_t elapsed_ns;  //  wall time of the measured rounds
    uint64_t next_seq;
} side_t;

typedef int (round_trip_fn) (void *bench, uint64_t seq, uint64_t *rtt_ns, char *err);

static int
s_raw_fn (void *bench, uint64_t seq, uint64_t *rtt_ns, char *err)
{
    return s_raw_round_trip ((raw_bench_t *) bench, seq, rtt_ns, err);
}

static int
s_link_fn (void *bench, uint64_t seq, uint64_t *rtt_ns, char *err)
{
    return s_link_round_trip ((link_bench_t *) bench, seq, rtt_ns, err);
}

//  Run count round trips; record them in side's samples when record is set.
static int
s_run (side_t *side, round_trip_fn *fn, void *bench, size_t count, bool record, char *err)
{
    uint64_t start = s_now_ns ();
    for (size_t i = 0; i < count; i++) {
        uint64_t rtt;
        if (zsys_interrupted) {
            snprintf (err, BENCH_ERR_MAX, "interrupted");
            return -1;
        }
        if (fn (bench, side->next_seq++, &rtt, err))
            return -1;
        if (record)
            side->samples [side->count++] = rtt;
    }
    if (record)
        side->elapsed_ns += s_now_ns () - start;
    return 0;
}

static int
s_compare_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

//  Nearest-rank percentile of sorted samples, in microseconds.
static double
s_percentile_us (const uint64_t *sorted, size_t count, double p)
{
    size_t rank = (size_t) (p * (double) count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return (double) sorted [rank - 1] / 1000.0;
}

static void
s_report (side_t *side, double *p50_us)
{
    qsort (side->samples, side->count, sizeof side->samples [0], s_compare_u64);
    double rate = (double) side->count * 1e9 / (double) side->elapsed_ns;
    *p50_us = s_percentile_us (side->samples, side->count, 0.50);
    printf ("%-22s %12.0f %10.1f %10.1f %10.1f\n", side->name, rate, *p50_us,
            s_percentile_us (side->samples, side->count, 0.99),
            (double) side->samples [side->count - 1] / 1000.0);
}

int
main (int argc, char *argv [])
{
    size_t n = BENCH_N_DEFAULT;
    if (argc > 2) {
        fprintf (stderr, "usage: %s [round-trips]\n", argv [0]);
        return 1;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        unsigned long long value = strtoull (argv [1], &end, 10);
        if (errno || *end || end == argv [1] || argv [1][0] == '-' || value < 1
            || value > BENCH_N_MAX) {
            fprintf (stderr, "bench_link: round trips must be 1..%d, not '%s'\n", BENCH_N_MAX,
                     argv [1]);
            return 1;
        }
        n = (size_t) value;
    }
    char err [BENCH_ERR_MAX] = "";
    int status = 1;
    raw_bench_t *raw = (raw_bench_t *) calloc (1, sizeof *raw);
    link_bench_t *link = (link_bench_t *) calloc (1, sizeof *link);
    side_t sides [2] = {{.name = "raw libzmq CURVE", .next_seq = BENCH_SEQ_BASE + 1},
                        {.name = "zmesh link CURVE", .next_seq = BENCH_SEQ_BASE + 1}};
    sides [0].samples = (uint64_t *) malloc (n * sizeof (uint64_t));
    sides [1].samples = (uint64_t *) malloc (n * sizeof (uint64_t));
    if (!raw || !link || !sides [0].samples || !sides [1].samples) {
        snprintf (err, sizeof err, "out of memory");
        goto done;
    }

    //  The raw payload has the size of a PING envelope.
    zmesh_msg_t probe;
    uint8_t encoded [ZMESH_MSG_SIZE_MAX];
    size_t payload_size;
    if (s_link_setup (link, err))
        goto done;
    s_link_ping (&link->a, &probe, ZMESH_MSG_PING, BENCH_SEQ_BASE);
    if (zmesh_msg_encode (&probe, encoded, sizeof encoded, &payload_size) != ZMESH_OK) {
        snprintf (err, sizeof err, "cannot encode a PING");
        goto done;
    }
    if (s_raw_setup (raw, payload_size, link->config.max_message_bytes, err)
        || s_raw_connect (raw, err) || s_link_connect (link, err))
        goto done;
    if (pthread_create (&raw->thread, NULL, s_raw_echo_thread, raw) != 0) {
        snprintf (err, sizeof err, "cannot start the raw echo thread");
        goto done;
    }
    raw->thread_started = true;
    if (pthread_create (&link->thread, NULL, s_link_echo_thread, link) != 0) {
        snprintf (err, sizeof err, "cannot start the zmesh echo thread");
        goto done;
    }
    link->thread_started = true;

    round_trip_fn *fns [2] = {s_raw_fn, s_link_fn};
    void *benches [2] = {raw, link};
    if (s_run (&sides [0], fns [0], benches [0], BENCH_WARMUP, false, err)
        || s_run (&sides [1], fns [1], benches [1], BENCH_WARMUP, false, err))
        goto done;
    //  Counted from here: every envelope of the measured rounds must arrive.
    uint64_t a_sent = zmesh_metrics_get (&link->a.metrics, ZMESH_M_MSG_SENT);
    uint64_t b_received = zmesh_metrics_get (&link->b.metrics, ZMESH_M_MSG_RECEIVED);
    uint64_t drops = s_drops (&link->a.metrics) + s_drops (&link->b.metrics);

    size_t rounds = (n + BENCH_ROUND - 1) / BENCH_ROUND;
    for (size_t round = 0; round < rounds; round++) {
        size_t count =
            n - round * BENCH_ROUND < BENCH_ROUND ? n - round * BENCH_ROUND : BENCH_ROUND;
        //  ABBA: raw first in rounds 0, 3, 4, 7, 8, ...; zmesh first in the others.
        int first = ((round + 1) / 2) % 2;
        for (int k = 0; k < 2; k++) {
            int side = k == 0 ? first : 1 - first;
            if (s_run (&sides [side], fns [side], benches [side], count, true, err))
                goto done;
        }
    }
    a_sent = zmesh_metrics_get (&link->a.metrics, ZMESH_M_MSG_SENT) - a_sent;
    b_received = zmesh_metrics_get (&link->b.metrics, ZMESH_M_MSG_RECEIVED) - b_received;
    drops = s_drops (&link->a.metrics) + s_drops (&link->b.metrics) - drops;

    printf ("bench_link: %zu round trips per side after %d warm-up, %zu alternating rounds "
            "(ABBA) of up to %d\n",
            n, BENCH_WARMUP, rounds, BENCH_ROUND);
    printf ("payload %zu bytes each way (a PING envelope), tcp://127.0.0.1, CURVE on both\n",
            payload_size);
    printf ("%-22s %12s %10s %10s %10s\n", "", "round-trip/s", "p50 us", "p99 us", "max us");
    double raw_p50, link_p50;
    s_report (&sides [0], &raw_p50);
    s_report (&sides [1], &link_p50);
    printf ("zmesh envelopes in measured rounds: A sent %" PRIu64 ", B accepted %" PRIu64
            ", dropped %" PRIu64 "\n",
            a_sent, b_received, drops);
    if (a_sent != n || b_received != n || drops != 0) {
        snprintf (err, sizeof err, "zmesh counters do not match the round trips made");
        goto done;
    }
    double ratio = link_p50 / raw_p50;
    bool met = ratio <= BENCH_FLOOR;
    printf ("floor: zmesh p50 within %.2fx of raw p50: %s\n", BENCH_FLOOR, met ? "met" : "NOT met");
    printf ("ratio p50 zmesh/raw: %.2f\n", ratio);
    status = met ? 0 : 3;

done:
    if (status == 1)
        fprintf (stderr, "bench_link: %s\n", err [0] ? err : "failed");
    if (raw)
        s_raw_teardown (raw);
    if (link)
        s_link_teardown (link);
    free (sides [0].samples);
    free (sides [1].samples);
    free (raw);
    free (link);
    zsys_shutdown ();
    return status;
}
