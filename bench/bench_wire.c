/*  bench_wire.c: how many envelopes one core encodes and decodes per second.

    For a PING (the smallest, most frequent message) and a HELLO (the largest common one:
    name, two endpoints, software string, key), a loop encodes the message into a buffer
    and decodes it back, for about a second each, and prints messages per second for the
    pair (encode + decode) and for each half. The floor to meet: 1,000,000 PING round trips
    per second on one core, so that the codec never limits a link (libzmq moves about 1 M
    small messages per second).

    Usage: bench_wire [SECONDS_PER_CASE]      (default 1)
*/
#include "zmesh_error.h"
#include "zmesh_wire.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_BATCH 4096  //  iterations between clock reads

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef enum { BENCH_ENCODE = 1, BENCH_DECODE = 2, BENCH_BOTH = 3 } bench_what_t;

//  Run `what` on msg for about `seconds`; returns operations per second.
static double
s_run (const zmesh_msg_t *msg, bench_what_t what, double seconds, size_t *size_out)
{
    static uint8_t buf [ZMESH_MSG_SIZE_MAX];
    static zmesh_msg_t decoded;
    size_t size = 0;
    if (zmesh_msg_encode (msg, buf, sizeof buf, &size) != ZMESH_OK) {
        fprintf (stderr, "bench_wire: encode failed\n");
        exit (1);
    }
    *size_out = size;
    uint64_t count = 0, check = 0;
    double start = s_now_s (), elapsed;
    do {
        for (int i = 0; i < BENCH_BATCH; i++) {
            if (what & BENCH_ENCODE)
                check += zmesh_msg_encode (msg, buf, sizeof buf, &size) == ZMESH_OK;
            if (what & BENCH_DECODE)
                check += zmesh_msg_decode (&decoded, buf, size) == ZMESH_OK;
        }
        count += BENCH_BATCH;
        elapsed = s_now_s () - start;
    } while (elapsed < seconds);
    //  Every call must have succeeded (and the compiler must not drop the work).
    uint64_t expect = count * ((what & BENCH_ENCODE ? 1 : 0) + (what & BENCH_DECODE ? 1 : 0));
    if (check != expect) {
        fprintf (stderr, "bench_wire: %llu of %llu calls failed\n",
                 (unsigned long long) (expect - check), (unsigned long long) expect);
        exit (1);
    }
    return (double) count / elapsed;
}

static void
s_report (const char *name, const zmesh_msg_t *msg, double seconds)
{
    size_t size;
    double both = s_run (msg, BENCH_BOTH, seconds, &size);
    double encode = s_run (msg, BENCH_ENCODE, seconds / 2, &size);
    double decode = s_run (msg, BENCH_DECODE, seconds / 2, &size);
    printf ("%-6s %4zu bytes: encode+decode %10.0f msg/s (%6.0f ns each); "
            "encode %10.0f/s, decode %10.0f/s\n",
            name, size, both, 1e9 / both, encode, decode);
}

int
main (int argc, char *argv [])
{
    double seconds = argc > 1 ? atof (argv [1]) : 1.0;
    if (seconds <= 0)
        seconds = 1.0;

    zmesh_msg_t ping;
    memset (&ping, 0, sizeof ping);
    ping.type = ZMESH_MSG_PING;
    memset (ping.sender.bytes, 0xab, ZMESH_ID_SIZE);
    ping.body.ping.seq = 123456789;
    ping.body.ping.generation = 1700000000000ull;

    zmesh_msg_t hello;
    memset (&hello, 0, sizeof hello);
    hello.type = ZMESH_MSG_HELLO;
    memset (hello.sender.bytes, 0xcd, ZMESH_ID_SIZE);
    strcpy (hello.body.hello.name, "worker-17.rack-3");
    hello.body.hello.endpoint_count = 2;
    strcpy (hello.body.hello.endpoints [0], "tcp://192.168.10.17:7700");
    strcpy (hello.body.hello.endpoints [1], "tcp://[fd00::17]:7700");
    strcpy (hello.body.hello.software, "zmesh 0.1.0");
    hello.body.hello.generation = 1700000000000ull;
    memset (hello.body.hello.sign_public, 0x5a, ZMESH_KEY_SIZE);

    printf ("bench_wire: envelope codec on one core, %.1f s per case\n", seconds);
    s_report ("PING", &ping, seconds);
    s_report ("HELLO", &hello, seconds);
    return 0;
}
