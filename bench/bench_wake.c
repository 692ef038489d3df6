/*  bench_wake: what it costs this machine for one thread to wake another, the unit of every
    hand-off between zmesh's threads (and libzmq's I/O threads).

    bench_wake [-n ROUND_TRIPS]

    Two threads play ping-pong over two eventfds (a write wakes the other thread's blocking
    read), pinned:
        same CPU     both threads on CPU 0
        across CPUs  one on CPU 0, one on CPU 1, nothing else running
        across, busy the same, with a thread on each CPU that only yields (sched_yield), so
                     neither CPU is ever idle: what a wake costs when the other CPU is not
                     halted
    It prints the round trip (two wakes) p50 and p99 of each, in microseconds. On a virtual
    machine whose idle virtual CPUs halt at once, a wake across CPUs can cost ten times one on
    the same CPU: docs/benchmarks.md ("What a wake-up costs").
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  //  pthread_setaffinity_np, CPU_SET
#endif
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int s_ping = -1, s_pong = -1;
static volatile bool s_stop;

static int64_t
s_now_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

static void
s_pin (int cpu)
{
    cpu_set_t set;
    CPU_ZERO (&set);
    CPU_SET (cpu, &set);
    if (pthread_setaffinity_np (pthread_self (), sizeof set, &set) != 0) {
        fprintf (stderr, "bench_wake: cannot pin a thread to CPU %d\n", cpu);
        exit (1);
    }
}

//  The other end: answers every ping.
static void *
s_echo (void *arg)
{
    s_pin ((int) (intptr_t) arg);
    uint64_t value;
    while (read (s_ping, &value, sizeof value) == sizeof value && !s_stop)
        if (write (s_pong, &value, sizeof value) != sizeof value)
            break;
    return NULL;
}

//  Keeps its CPU from idling.
static void *
s_yielder (void *arg)
{
    s_pin ((int) (intptr_t) arg);
    while (!s_stop)
        sched_yield ();
    return NULL;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static void
s_run (const char *name, int echo_cpu, bool busy, int count)
{
    s_stop = false;
    s_ping = eventfd (0, 0);
    s_pong = eventfd (0, 0);
    if (s_ping < 0 || s_pong < 0) {
        fprintf (stderr, "bench_wake: eventfd failed\n");
        exit (1);
    }
    s_pin (0);
    pthread_t echo, yielders [2];
    pthread_create (&echo, NULL, s_echo, (void *) (intptr_t) echo_cpu);
    if (busy)
        for (int cpu = 0; cpu < 2; cpu++)
            pthread_create (&yielders [cpu], NULL, s_yielder, (void *) (intptr_t) cpu);
    int64_t *samples = (int64_t *) calloc ((size_t) count, sizeof *samples);
    if (!samples)
        exit (1);
    for (int i = -count / 10; i < count; i++) {  //  a tenth more first, to warm up
        uint64_t value = 1;
        int64_t start = s_now_ns ();
        if (write (s_ping, &value, sizeof value) != sizeof value
            || read (s_pong, &value, sizeof value) != sizeof value) {
            fprintf (stderr, "bench_wake: the ping-pong broke\n");
            exit (1);
        }
        if (i >= 0)
            samples [i] = s_now_ns () - start;
    }
    s_stop = true;
    uint64_t value = 1;
    if (write (s_ping, &value, sizeof value) != sizeof value)
        exit (1);
    pthread_join (echo, NULL);
    if (busy)
        for (int cpu = 0; cpu < 2; cpu++)
            pthread_join (yielders [cpu], NULL);
    close (s_ping);
    close (s_pong);
    qsort (samples, (size_t) count, sizeof *samples, s_compare);
    printf ("%-12s %d round trips (2 wake-ups each): p50 %.1f us, p99 %.1f us\n", name, count,
            (double) samples [count / 2] / 1e3, (double) samples [count * 99 / 100] / 1e3);
    free (samples);
}

int
main (int argc, char *argv [])
{
    int count = 20000;
    int option;
    while ((option = getopt (argc, argv, "n:")) != -1) {
        if (option == 'n' && atoi (optarg) >= 100)
            count = atoi (optarg);
        else {
            fprintf (stderr, "usage: bench_wake [-n ROUND_TRIPS (>= 100)]\n");
            return 2;
        }
    }
    if (sysconf (_SC_NPROCESSORS_ONLN) < 2) {
        fprintf (stderr, "bench_wake: needs two CPUs\n");
        return 2;
    }
    s_run ("same CPU", 0, false, count);
    s_run ("across CPUs", 1, false, count);
    s_run ("across, busy", 1, true, count);
    return 0;
}
