/*  zmesh_link.c: CURVE server and client sockets, envelope send/recv (see zmesh_link.h). */
#include "zmesh_link.h"
#include "zmesh_error.h"
#include <pthread.h>

static void
s_apply_common (zsock_t *sock, const zmesh_identity_t *identity, const zmesh_link_config_t *config)
{
    zsock_set_curve_publickey_bin (sock, identity->pub.curve_public);
    zsock_set_curve_secretkey_bin (sock, identity->curve_secret);
    zsock_set_maxmsgsize (sock, (int64_t) config->max_message_bytes * ZMESH_LINK_HARD_MAX_FACTOR);
    zsock_set_linger (sock, config->linger_ms);
    zsock_set_sndhwm (sock, ZMESH_LINK_SNDHWM_DEFAULT);
    zsock_set_rcvhwm (sock, ZMESH_LINK_RCVHWM_DEFAULT);
}

zsock_t *
zmesh_link_server_new (const zmesh_identity_t *identity,
                       const char *domain,
                       const char *endpoint,
                       const zmesh_link_config_t *config,
                       char *bound,
                       char *err,
                       size_t err_size)
{
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    if (!server) {
        snprintf (err, err_size, "cannot create socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    s_apply_common (server, identity, config);
    zsock_set_zap_domain (server, domain);
    zsock_set_curve_server (server, 1);
    //  Only for an [IPv6] endpoint: with IPv6 on, an IPv4 bind reports a v4-mapped address.
    zsock_set_ipv6 (server, strchr (endpoint, '[') != NULL);
    zsock_set_router_handover (server, 1);  //  a peer that reconnects replaces its old pipe
    int port = zsock_bind (server, "%s", endpoint);
    if (port < 0) {
        snprintf (err, err_size, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&server);
        return NULL;
    }
    //  Report the real port when binding to '*'.
    char *last = zsock_last_endpoint (server);  //  ours to free
    snprintf (bound, ZMESH_ENDPOINT_MAX, "%s", last ? last : endpoint);
    zstr_free (&last);
    (void) port;
    return server;
}

zsock_t *
zmesh_link_server_rebind (const zmesh_identity_t *identity,
                          const char *domain,
                          const char *endpoint,
                          const zmesh_link_config_t *config,
                          bool again,
                          char *bound,
                          char *err,
                          size_t err_size)
{
    zsock_t *server = NULL;
    for (int attempt = 0; !server && attempt < ZMESH_LINK_REBIND_ATTEMPTS; attempt++) {
        server = zmesh_link_server_new (identity, domain, endpoint, config, bound, err, err_size);
        if (!server && again)
            zclock_sleep (ZMESH_LINK_REBIND_PAUSE_MS);
        else
            break;
    }
    return server;
}

zsock_t *
zmesh_link_client_new (const zmesh_identity_t *identity,
                       const uint8_t server_curve_public [ZMESH_KEY_SIZE],
                       const char *endpoint,
                       const zmesh_link_config_t *config)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    if (!client)
        return NULL;
    s_apply_common (client, identity, config);
    zsock_set_curve_serverkey_bin (client, server_curve_public);
    zsock_set_ipv6 (client, strchr (endpoint, '[') != NULL);
    //  Queue nothing for a peer that is not connected: liveness, not a backlog, tells.
    zsock_set_immediate (client, config->queue_early ? 0 : 1);
    zsock_set_reconnect_ivl (client, ZMESH_LINK_RECONNECT_MS);
    zsock_set_reconnect_ivl_max (client, ZMESH_LINK_RECONNECT_MAX_MS);
    if (zsock_connect (client, "%s", endpoint) != 0) {
        zsock_destroy (&client);
        return NULL;
    }
    return client;
}

int
zmesh_link_send (zsock_t *client, const zmesh_msg_t *msg, zmesh_metrics_t *metrics)
{
    uint8_t buffer [ZMESH_MSG_SIZE_MAX];
    size_t size;
    int rc = zmesh_msg_encode (msg, buffer, sizeof buffer, &size);
    ZMESH_ASSERT (rc == 0);  //  we only send what we built
    return zmesh_link_send_raw (client, buffer, size, metrics);
}

int
zmesh_link_send_raw (zsock_t *client, const uint8_t *data, size_t size, zmesh_metrics_t *metrics)
{
    if (zmq_send (zsock_resolve (client), data, size, ZMQ_DONTWAIT) < 0)
        return ZMESH_ELIMIT;  //  the caller knows whether the link was up, and counts
    zmesh_metrics_add (metrics, ZMESH_M_MSG_SENT, 1);
    zmesh_metrics_add (metrics, ZMESH_M_BYTES_SENT, size);
    return ZMESH_OK;
}

//  Drain what is left of a multipart message.
static void
s_drain (void *handle)
{
    int more = 1;
    size_t more_size = sizeof more;
    while (zmq_getsockopt (handle, ZMQ_RCVMORE, &more, &more_size) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        zmq_msg_recv (&part, handle, ZMQ_DONTWAIT);
        zmq_msg_close (&part);
    }
}

zmesh_metric_t
zmesh_link_drop_metric (int rc)
{
    switch (rc) {
        case ZMESH_EVERSION:
            return ZMESH_M_DROP_VERSION;
        case ZMESH_ETYPE:
            return ZMESH_M_DROP_UNKNOWN_TYPE;
        case ZMESH_ETOOBIG:
            return ZMESH_M_DROP_OVERSIZED;
        default:
            return ZMESH_M_DROP_MALFORMED;
    }
}

//  The payload of the last message this thread received. A decoded STATE or SWIM body points
//  into it (zmesh_raw_body_t), so it must outlive zmesh_link_recv: it is kept until the next
//  call on the same thread, and closed when the thread ends. (Closing it on return let libzmq's
//  I/O thread reuse the bytes while the caller still read them: receivers applied keys and
//  versions it had overwritten.)
static pthread_once_t s_payload_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_payload_key;

static void
s_payload_free (void *payload)
{
    zmq_msg_close ((zmq_msg_t *) payload);
    free (payload);
}

static void
s_payload_key_create (void)
{
    ZMESH_ASSERT (pthread_key_create (&s_payload_key, s_payload_free) == 0);
}

//  This thread's payload, the previous one released; NULL if out of memory.
static zmq_msg_t *
s_payload_next (void)
{
    pthread_once (&s_payload_once, s_payload_key_create);
    zmq_msg_t *payload = (zmq_msg_t *) pthread_getspecific (s_payload_key);
    if (payload)
        zmq_msg_close (payload);
    else {
        payload = (zmq_msg_t *) malloc (sizeof *payload);
        if (!payload || pthread_setspecific (s_payload_key, payload) != 0) {
            free (payload);
            return NULL;
        }
    }
    zmq_msg_init (payload);
    return payload;
}

int
zmesh_link_peer (zmq_msg_t *payload,
                 uint8_t curve_public [ZMESH_KEY_SIZE],
                 zmesh_id_t *id,
                 zmesh_metrics_t *metrics)
{
    const char *user_id = zmq_msg_gets (payload, "User-Id");
    if (!user_id || zmesh_hex_decode (curve_public, ZMESH_KEY_SIZE, user_id) != 0) {
        zmesh_metrics_add (metrics, ZMESH_M_DROP_UNAUTHENTICATED, 1);
        return ZMESH_ECRYPTO;
    }
    zmesh_id_from_curve_key (id, curve_public);
    return ZMESH_OK;
}

int
zmesh_link_recv (zsock_t *server,
                 zmesh_msg_t *msg,
                 uint8_t curve_public [ZMESH_KEY_SIZE],
                 const zmesh_link_config_t *config,
                 zmesh_metrics_t *metrics)
{
    void *handle = zsock_resolve (server);
    zmq_msg_t routing_id;
    zmq_msg_t *payload = s_payload_next ();
    zmq_msg_init (&routing_id);
    int rc = ZMESH_EPROTO;
    if (zmq_msg_recv (&routing_id, handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&routing_id);
        return ZMESH_ETIMEOUT;  //  nothing there after all
    }
    if (!payload) {
        s_drain (handle);
        zmq_msg_close (&routing_id);
        return ZMESH_ENOMEM;
    }
    if (!zmq_msg_more (&routing_id) || zmq_msg_recv (payload, handle, ZMQ_DONTWAIT) < 0
        || zmq_msg_more (payload)) {
        s_drain (handle);
        zmesh_metrics_add (metrics, ZMESH_M_DROP_MALFORMED, 1);
        goto done;
    }
    size_t size = zmq_msg_size (payload);
    zmesh_metrics_add (metrics, ZMESH_M_BYTES_RECEIVED, size);
    zmesh_id_t authenticated;
    if (zmesh_link_peer (payload, curve_public, &authenticated, metrics))
        goto done;
    if (size > config->max_message_bytes) {
        zmesh_metrics_add (metrics, ZMESH_M_DROP_OVERSIZED, 1);
        rc = ZMESH_ETOOBIG;
        goto done;
    }
    rc = zmesh_msg_decode (msg, (const uint8_t *) zmq_msg_data (payload), size);
    if (rc) {
        zmesh_metrics_add (metrics, zmesh_link_drop_metric (rc), 1);
        goto done;
    }
    if (!zmesh_id_equal (&authenticated, &msg->sender)) {
        zmesh_metrics_add (metrics, ZMESH_M_DROP_SENDER_MISMATCH, 1);
        rc = ZMESH_ECRYPTO;
        goto done;
    }
    zmesh_metrics_add (metrics, ZMESH_M_MSG_RECEIVED, 1);
done:
    //  The payload stays (see s_payload_next): msg may point into it.
    zmq_msg_close (&routing_id);
    return rc;
}

zmesh_link_monitor_t *
zmesh_link_monitor_new (zsock_t *server)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://zmesh-monitor-%p", (void *) server);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                 | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor (zsock_resolve (server), endpoint, events) != 0)
        return NULL;
    zmesh_link_monitor_t *self = (zmesh_link_monitor_t *) calloc (1, sizeof *self);
    ZMESH_ASSERT (self);
    self->events = zsock_new (ZMQ_PAIR);
    if (!self->events || zsock_connect (self->events, "%s", endpoint) != 0)
        zmesh_link_monitor_destroy (&self);
    return self;
}

void
zmesh_link_monitor_destroy (zmesh_link_monitor_t **self_p)
{
    if (*self_p) {
        zsock_destroy (&(*self_p)->events);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Drop pending entry i, keeping the others in accept order.
static void
s_pending_drop (zmesh_link_monitor_t *self, size_t i)
{
    memmove (&self->pending [i], &self->pending [i + 1],
             (self->pending_count - i - 1) * sizeof self->pending [0]);
    self->pending_count--;
}

void
zmesh_link_monitor_handle (zmesh_link_monitor_t *self, zmesh_metrics_t *metrics)
{
    //  Frame 1: 16-bit event + 32-bit value (the fd for accept/close); frame 2: the endpoint.
    zmsg_t *event = zmsg_recv (self->events);
    zframe_t *first = event ? zmsg_first (event) : NULL;
    if (first && zframe_size (first) >= 6) {
        uint16_t id;
        uint32_t value;
        memcpy (&id, zframe_data (first), sizeof id);
        memcpy (&value, zframe_data (first) + 2, sizeof value);
        if (id == ZMQ_EVENT_ACCEPTED) {
            zmesh_metrics_add (metrics, ZMESH_M_TCP_ACCEPTED, 1);
            if (self->pending_count == ZMESH_LINK_PENDING_MAX)
                s_pending_drop (self, 0);  //  a flood: forget the oldest
            self->pending [self->pending_count++] = (int) value;
        }
        else if (id == ZMQ_EVENT_DISCONNECTED) {
            //  Still pending: it closed before any handshake result.
            for (size_t i = 0; i < self->pending_count; i++)
                if (self->pending [i] == (int) value) {
                    s_pending_drop (self, i);
                    zmesh_metrics_add (metrics, ZMESH_M_CONN_REFUSED_DROPPED, 1);
                    break;
                }
        }
        else {
            if (self->pending_count)
                s_pending_drop (self, 0);
            if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                zmesh_metrics_add (metrics, ZMESH_M_CONN_ACCEPTED, 1);
            else if (id != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)  //  ZAP refusals are counted by reason
                zmesh_metrics_add (metrics, ZMESH_M_CONN_REFUSED_HANDSHAKE, 1);
        }
    }
    zmsg_destroy (&event);
}
