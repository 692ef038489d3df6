/*  test_spin.c: spin-then-sleep waits (zmesh_spin.h) with real sockets and threads.

    What arrives while a wait looks, and what arrives after it has gone to sleep, both end
    it; a wait with nothing coming ends at its timeout, whether it looks or not; items of both
    kinds (a zmq socket, a plain file descriptor) are watched while looking; a wait over more
    items than it can look at still works (it sleeps at once); a waiter whose last wait was
    long does not look (no CPU spent); and the counter wait.
*/
#include "zmesh_spin.h"
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    zsock_t *sender;    //  PAIR: sends "ping" after delay_ms
    int fd;             //  or >= 0: an eventfd to write to instead
    uint64_t *counter;  //  or: a counter to bump
    int delay_ms;
} s_later_t;

static void *
s_later (void *arg)
{
    s_later_t *later = (s_later_t *) arg;
    zclock_sleep (later->delay_ms);
    if (later->counter)
        __atomic_add_fetch (later->counter, 1, __ATOMIC_RELEASE);
    else if (later->fd >= 0) {
        uint64_t one = 1;
        assert_int_equal (write (later->fd, &one, sizeof one), sizeof one);
    }
    else
        zstr_send (later->sender, "ping");
    return NULL;
}

//  A connected PAIR: *a sends, *b is polled.
static void
s_pair (zsock_t **a, zsock_t **b)
{
    static int n;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-spin-%d", n++);
    *b = zsock_new (ZMQ_PAIR);
    *a = zsock_new (ZMQ_PAIR);
    assert_non_null (*b);
    assert_non_null (*a);
    assert_int_equal (zsock_bind (*b, "%s", endpoint), 0);
    assert_int_equal (zsock_connect (*a, "%s", endpoint), 0);
}

//  Send after delay_ms from another thread; poll with spin_us; the message must end the wait.
static void
s_arrives (int delay_ms, int spin_us, int timeout_ms)
{
    zsock_t *a, *b;
    s_pair (&a, &b);
    s_later_t later = {a, -1, NULL, delay_ms};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_later, &later), 0);
    zmq_pollitem_t item = {zsock_resolve (b), 0, ZMQ_POLLIN, 0};
    int rc = zmesh_poll_spin (&item, 1, timeout_ms, spin_us, NULL, false);
    assert_int_equal (rc, 1);  //  woken by the message, not the timeout
    assert_true (item.revents & ZMQ_POLLIN);
    char *text = zstr_recv (b);
    assert_string_equal (text, "ping");
    zstr_free (&text);
    pthread_join (thread, NULL);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

static void
test_arrives_while_looking (void **state)
{
    (void) state;
    //  It would look for 60 s, past its timeout of 30 s: only the look can see the message.
    s_arrives (1, 60000000, 30000);
}

static void
test_arrives_after_looking (void **state)
{
    (void) state;
    s_arrives (100, 1000, 30000);  //  looks for 1 ms, then sleeps; the message comes at 100 ms
}

static void
test_arrives_without_looking (void **state)
{
    (void) state;
    s_arrives (20, 0, 30000);
}

//  A message already waiting is seen by the first look.
static void
test_already_there (void **state)
{
    (void) state;
    zsock_t *a, *b;
    s_pair (&a, &b);
    zstr_send (a, "ping");
    zclock_sleep (10);
    zmq_pollitem_t item = {zsock_resolve (b), 0, ZMQ_POLLIN, 0};
    assert_int_equal (zmesh_poll_spin (&item, 1, 30000, 60000000, NULL, false), 1);
    assert_true (item.revents & ZMQ_POLLIN);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

//  Nothing comes: the wait ends at its timeout, looking or not, with nothing reported.
static void
test_timeout (void **state)
{
    (void) state;
    zsock_t *a, *b;
    s_pair (&a, &b);
    zmq_pollitem_t item = {zsock_resolve (b), 0, ZMQ_POLLIN, 0};
    int spins [] = {0, 1000, 30000, 200000};  //  the last looks past the timeout
    for (size_t i = 0; i < sizeof spins / sizeof spins [0]; i++) {
        int64_t start = zclock_mono ();
        assert_int_equal (zmesh_poll_spin (&item, 1, 50, spins [i], NULL, false), 0);
        int64_t took = zclock_mono () - start;
        assert_true (took >= 49);
        assert_int_equal (item.revents, 0);
    }
    assert_int_equal (zmesh_poll_spin (&item, 1, 0, 1000, NULL, false), 0);  //  timeout 0: one look
    zsock_destroy (&a);
    zsock_destroy (&b);
}

//  A socket and an eventfd in one wait: the eventfd's write ends it while looking.
static void
test_fd_while_looking (void **state)
{
    (void) state;
    zsock_t *a, *b;
    s_pair (&a, &b);
    int fd = eventfd (0, EFD_NONBLOCK);
    assert_true (fd >= 0);
    s_later_t later = {NULL, fd, NULL, 2};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_later, &later), 0);
    zmq_pollitem_t items [2] = {{zsock_resolve (b), 0, ZMQ_POLLIN, 0}, {NULL, fd, ZMQ_POLLIN, 0}};
    assert_int_equal (zmesh_poll_spin (items, 2, 30000, 60000000, NULL, false),
                      1);  //  seen by a look
    assert_int_equal (items [0].revents, 0);
    assert_true (items [1].revents & ZMQ_POLLIN);
    pthread_join (thread, NULL);
    close (fd);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

//  More items than a look takes: it sleeps at once, and still wakes for the message.
static void
test_many_items (void **state)
{
    (void) state;
    zsock_t *a, *b;
    s_pair (&a, &b);
    int count = ZMESH_SPIN_ITEMS_MAX + 1;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc ((size_t) count, sizeof *items);
    int fd = eventfd (0, EFD_NONBLOCK);
    for (int i = 0; i < count - 1; i++)
        items [i] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
    items [count - 1] = (zmq_pollitem_t){zsock_resolve (b), 0, ZMQ_POLLIN, 0};
    s_later_t later = {a, -1, NULL, 5};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_later, &later), 0);
    assert_int_equal (zmesh_poll_spin (items, count, 5000, 100000, NULL, false), 1);
    assert_true (items [count - 1].revents & ZMQ_POLLIN);
    pthread_join (thread, NULL);
    free (items);
    close (fd);
    zsock_destroy (&a);
    zsock_destroy (&b);
}

//  CPU time of the calling thread, in microseconds.
static int64_t
s_cpu_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  A waiter that expects an answer looks; one with nothing out looks only if its last wait
//  with nothing out was short: a long one means it sleeps at once (no CPU spent), and a short
//  one turns looking on again. Waits that expect an answer are not recorded.
static void
test_adaptive (void **state)
{
    (void) state;
    zmesh_spin_t fresh = {0}, long_ago = {.idle_wait_us = 5001}, exact = {.idle_wait_us = 5000};
    assert_true (zmesh_spin_wanted (&fresh, 5000, false));
    assert_true (zmesh_spin_wanted (NULL, 5000, false));
    assert_false (zmesh_spin_wanted (&long_ago, 5000, false));
    assert_true (zmesh_spin_wanted (&long_ago, 5000, true));
    assert_true (zmesh_spin_wanted (&exact, 5000, false));
    assert_false (zmesh_spin_wanted (&fresh, 0, true));

    zsock_t *a, *b;
    s_pair (&a, &b);
    zmq_pollitem_t item = {zsock_resolve (b), 0, ZMQ_POLLIN, 0};
    //  Nothing comes for 100 ms: a waiter that looks spends CPU; one whose last idle wait was
    //  long (the wait before, itself 100 ms) does not.
    zmesh_spin_t waiter = {0};
    int64_t cpu = s_cpu_us ();
    assert_int_equal (zmesh_poll_spin (&item, 1, 100, 1000000, &waiter, false), 0);
    int64_t looking = s_cpu_us () - cpu;
    assert_true (waiter.idle_wait_us >= 99000);
    assert_false (zmesh_spin_wanted (&waiter, 1000, false));
    cpu = s_cpu_us ();
    assert_int_equal (zmesh_poll_spin (&item, 1, 100, 1000, &waiter, false), 0);
    int64_t sleeping = s_cpu_us () - cpu;
    assert_true (sleeping * 5 < looking);
    //  Expecting an answer, it looks whatever its memory says, and the wait is not recorded.
    waiter.idle_wait_us = 123456789;
    cpu = s_cpu_us ();
    assert_int_equal (zmesh_poll_spin (&item, 1, 100, 1000000, &waiter, true), 0);
    assert_true (sleeping * 5 < s_cpu_us () - cpu);
    assert_int_equal (waiter.idle_wait_us, 123456789);
    //  A message already waiting: the idle wait is short, so the next one looks again.
    zstr_send (a, "ping");
    zclock_sleep (10);
    assert_int_equal (zmesh_poll_spin (&item, 1, 5000, 1000, &waiter, false), 1);
    char *text = zstr_recv (b);
    zstr_free (&text);
    assert_true (zmesh_spin_wanted (&waiter, 1000, false));
    zsock_destroy (&a);
    zsock_destroy (&b);
}

static void
test_counter (void **state)
{
    (void) state;
    uint64_t counter = 7;
    assert_false (zmesh_spin_counter (&counter, 7, 0));     //  no look: unchanged
    assert_true (zmesh_spin_counter (&counter, 6, 0));      //  no look: changed
    assert_false (zmesh_spin_counter (&counter, 7, 2000));  //  looks 2 ms, nothing
    s_later_t later = {NULL, -1, &counter, 1};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_later, &later), 0);
    assert_true (zmesh_spin_counter (&counter, 7, 60000000));  //  bumped after 1 ms
    pthread_join (thread, NULL);
    assert_int_equal (counter, 8);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_arrives_while_looking),
        cmocka_unit_test (test_arrives_after_looking),
        cmocka_unit_test (test_arrives_without_looking),
        cmocka_unit_test (test_already_there),
        cmocka_unit_test (test_timeout),
        cmocka_unit_test (test_fd_while_looking),
        cmocka_unit_test (test_many_items),
        cmocka_unit_test (test_adaptive),
        cmocka_unit_test (test_counter),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
