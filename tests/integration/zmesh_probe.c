/*  zmesh_probe: sends bad input to a node, for the integration tests of its defences.

    zmesh_probe garbage ENDPOINT                 raw tcp: connect and write random bytes
    zmesh_probe plaintext ENDPOINT               ZMTP with the NULL mechanism (no CURVE)
    zmesh_probe curve CONTACT KIND [COUNT]       over an authenticated CURVE link, COUNT times:
        KIND = valid-ping | garbage | oversized | wrong-sender | unknown-type | bad-version |
               multipart | huge (past the hard limit: the node must drop the connection)
    zmesh_probe beacon KIND PORT ADDRESS         one UDP datagram to ADDRESS:PORT (broadcast
        allowed): KIND = garbage | bad-signature | valid

    The probe uses a fresh identity each run (the target must run in open trust mode, or
    trust nothing, as the test wants). Exit 0 when it sent everything, 1 otherwise; every
    wait is bounded (2 s).
*/
#include "zmesh_beacon_packet.h"
#include "zmesh_identity.h"
#include "zmesh_link.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

static int
s_send_retry (void *handle, const void *data, size_t size, int flags)
{
    //  The link is ZMQ_IMMEDIATE: sends fail until the CURVE handshake is done.
    for (int i = 0; i < 200; i++) {
        if (zmq_send (handle, data, size, ZMQ_DONTWAIT | flags) >= 0)
            return 0;
        zclock_sleep (10);
    }
    fprintf (stderr, "zmesh_probe: could not send within 2 s\n");
    return 1;
}

static int
s_garbage (const char *endpoint)
{
    char host [256];
    int port;
    if (sscanf (endpoint, "tcp://%255[^:]:%d", host, &port) != 2)
        return 1;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    inet_pton (AF_INET, host, &address.sin_addr);
    if (fd < 0 || connect (fd, (struct sockaddr *) &address, sizeof address) != 0) {
        perror ("zmesh_probe: connect");
        return 1;
    }
    uint8_t bytes [4096];
    randombytes_buf (bytes, sizeof bytes);
    bytes [0] = 0x01;  //  not a ZMTP signature
    ssize_t sent = write (fd, bytes, sizeof bytes);
    zclock_sleep (200);
    close (fd);
    return sent > 0 ? 0 : 1;
}

static int
s_plaintext (const char *endpoint)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    zsock_connect (dealer, "%s", endpoint);
    zstr_send (dealer, "hello in plaintext");
    zclock_sleep (500);  //  time for the handshake to fail on the node's side
    zsock_destroy (&dealer);
    return 0;
}

//  Build one message of the given kind into buffer; returns its size (0: unknown kind).
static size_t
s_build (const char *kind,
         const zmesh_identity_t *identity,
         uint8_t *buffer,
         size_t capacity,
         uint64_t seq)
{
    zmesh_msg_t msg = {
        .version = ZMESH_WIRE_VERSION, .type = ZMESH_MSG_PING, .sender = identity->pub.id};
    msg.body.ping.seq = seq;
    msg.body.ping.generation = 1;
    size_t size = 0;
    if (streq (kind, "wrong-sender"))
        randombytes_buf (msg.sender.bytes, ZMESH_ID_SIZE);
    if (streq (kind, "garbage")) {
        randombytes_buf (buffer, 200);
        buffer [0] = 0xc1;  //  never valid msgpack
        return 200;
    }
    if (streq (kind, "oversized") || streq (kind, "huge")) {
        size = streq (kind, "huge") ? capacity : 70000;
        memset (buffer, 0xa5, size);
        return size;
    }
    if (zmesh_msg_encode (&msg, buffer, capacity, &size))
        return 0;
    if (streq (kind, "unknown-type"))
        buffer [2] = 0x7f;  //  [0x94, version, type, ...]: type 127
    else if (streq (kind, "bad-version"))
        buffer [1] = 0x09;
    else if (!streq (kind, "valid-ping") && !streq (kind, "wrong-sender")
             && !streq (kind, "multipart"))
        return 0;
    return size;
}

static int
s_curve (const char *contact, const char *kind, int count)
{
    char endpoint [ZMESH_ENDPOINT_MAX];
    uint8_t key [ZMESH_KEY_SIZE];
    zmesh_public_t server;
    zmesh_identity_t identity;
    if (zmesh_contact_parse (contact, endpoint, key) || zmesh_public_from_sign_key (&server, key)
        || zmesh_identity_generate (&identity)) {
        fprintf (stderr, "zmesh_probe: bad contact %s\n", contact);
        return 1;
    }
    zmesh_link_config_t config = {.max_message_bytes = 4 << 20, .linger_ms = 2000};
    zsock_t *client = zmesh_link_client_new (&identity, server.curve_public, endpoint, &config);
    if (!client)
        return 1;
    size_t capacity = 8 << 20;  //  "huge": beyond any node's hard limit
    uint8_t *buffer = malloc (capacity);
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        size_t size = s_build (kind, &identity, buffer, capacity, (uint64_t) i + 1);
        if (size == 0) {
            fprintf (stderr, "zmesh_probe: unknown kind %s\n", kind);
            rc = 1;
            break;
        }
        void *handle = zsock_resolve (client);
        if (streq (kind, "multipart"))
            rc = s_send_retry (handle, buffer, size, ZMQ_SNDMORE)
                 || s_send_retry (handle, buffer, size, 0);
        else
            rc = s_send_retry (handle, buffer, size, 0);
    }
    zclock_sleep (300);  //  let linger flush before the context goes
    free (buffer);
    zsock_destroy (&client);
    return rc;
}

static int
s_beacon (const char *kind, int port, const char *address)
{
    zmesh_identity_t identity;
    zmesh_identity_generate (&identity);
    zmesh_beacon_t beacon = {.port = 7000, .generation = 1};
    memcpy (beacon.sign_public, identity.pub.sign_public, ZMESH_KEY_SIZE);
    uint8_t packet [ZMESH_BEACON_SIZE];
    zmesh_beacon_encode (&beacon, identity.sign_secret, packet);
    if (streq (kind, "bad-signature"))
        packet [ZMESH_BEACON_SIZE - 1] ^= 0x01;
    else if (streq (kind, "garbage"))
        randombytes_buf (packet + 3, sizeof packet - 3);  //  keep "ZMB": reaches our filter
    else if (!streq (kind, "valid"))
        return 1;
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    inet_pton (AF_INET, address, &to.sin_addr);
    ssize_t sent = sendto (fd, packet, sizeof packet, 0, (struct sockaddr *) &to, sizeof to);
    close (fd);
    return sent == (ssize_t) sizeof packet ? 0 : 1;
}

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    if (argc >= 3 && streq (argv [1], "garbage"))
        return s_garbage (argv [2]);
    if (argc >= 3 && streq (argv [1], "plaintext"))
        return s_plaintext (argv [2]);
    if (argc >= 4 && streq (argv [1], "curve"))
        return s_curve (argv [2], argv [3], argc > 4 ? atoi (argv [4]) : 1);
    if (argc >= 5 && streq (argv [1], "beacon"))
        return s_beacon (argv [2], atoi (argv [3]), argv [4]);
    fprintf (stderr, "usage: see the header of tests/integration/zmesh_probe.c\n");
    return 2;
}
