/*  test_taskq.c: the worker's priority task queue, as usage examples.

    Exact order of next (priorities, enqueue order, aging at its boundary), the reserve of
    slots for CRITICAL, stealing half of the backlog least-likely-first, refusal of a
    duplicate id and of a push beyond capacity, remove, the figures for metrics, bad
    configurations, and last a seeded random run checked step by step against a plain
    reference model (an array scanned in full), which also exercises the id index.
*/
#include "zmesh_error.h"
#include "zmesh_taskq.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

//  A task id whose first bytes say n (sequential ids: the index must still spread them).
static zmesh_id_t
s_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    memcpy (id.bytes, &n, sizeof n);
    return id;
}

//  The n an id of s_id was made from.
static uint32_t
s_n (const zmesh_taskq_entry_t *entry)
{
    uint32_t n;
    memcpy (&n, entry->id.bytes, sizeof n);
    return n;
}

static void
s_init (zmesh_taskq_t *q, uint32_t capacity, uint32_t aging_ms, uint32_t slots, uint32_t reserve)
{
    zmesh_taskq_config_t config = {capacity, aging_ms, slots, reserve};
    assert_int_equal (zmesh_taskq_init (q, &config, 0), ZMESH_OK);
}

static void
s_push (zmesh_taskq_t *q, uint64_t now_ms, uint32_t n, zmesh_priority_t priority)
{
    zmesh_id_t id = s_id (n);
    assert_int_equal (zmesh_taskq_push (q, now_ms, &id, priority, 1000 + n, 10 * n), ZMESH_OK);
}

//  next must give task n (busy 0).
static void
s_expect_next (zmesh_taskq_t *q, uint64_t now_ms, uint32_t n)
{
    zmesh_taskq_entry_t e;
    assert_true (zmesh_taskq_next (q, now_ms, 0, &e));
    assert_int_equal (s_n (&e), n);
    assert_int_equal (e.handle, 1000 + n);
    assert_int_equal (e.cpu_millicores, 10 * n);
}

static void
test_priority_names (void **state)
{
    (void) state;
    zmesh_priority_t p = ZMESH_PRIORITY_NORMAL;
    assert_string_equal (zmesh_priority_name (ZMESH_PRIORITY_CRITICAL), "critical");
    assert_string_equal (zmesh_priority_name (ZMESH_PRIORITY_LOW), "low");
    assert_string_equal (zmesh_priority_name (4), "?");
    assert_string_equal (zmesh_priority_name (-1), "?");
    assert_int_equal (zmesh_priority_parse ("HIGH", &p), ZMESH_OK);
    assert_int_equal (p, ZMESH_PRIORITY_HIGH);
    assert_int_equal (zmesh_priority_parse ("critical", &p), ZMESH_OK);
    assert_int_equal (p, ZMESH_PRIORITY_CRITICAL);
    assert_int_equal (zmesh_priority_parse ("crit", &p), ZMESH_EINVAL);
    assert_int_equal (zmesh_priority_parse ("criticals", &p), ZMESH_EINVAL);
    assert_int_equal (zmesh_priority_parse ("", &p), ZMESH_EINVAL);
    assert_int_equal (zmesh_priority_parse (NULL, &p), ZMESH_EINVAL);
    assert_int_equal (p, ZMESH_PRIORITY_CRITICAL);
    assert_true (ZMESH_PRIORITY_CRITICAL > ZMESH_PRIORITY_HIGH);
    assert_true (ZMESH_PRIORITY_HIGH > ZMESH_PRIORITY_NORMAL);
    assert_true (ZMESH_PRIORITY_NORMAL > ZMESH_PRIORITY_LOW);
}

static void
test_config (void **state)
{
    (void) state;
    zmesh_taskq_config_t c;
    zmesh_taskq_config_defaults (&c);
    assert_int_equal (c.capacity, 4096);
    assert_int_equal (c.aging_ms, 5000);
    assert_int_equal (c.critical_reserve, 1);
    assert_int_equal (zmesh_taskq_config_check (&c), ZMESH_OK);

    zmesh_taskq_config_t bad [] = {
        {0, 5000, 4, 1},                               //  no capacity
        {ZMESH_TASKQ_CAPACITY_LIMIT + 1, 5000, 4, 1},  //  too large
        {16, 0, 4, 1},                                 //  no aging
        {16, ZMESH_TASKQ_AGING_MS_LIMIT + 1, 4, 1},    //  aging too slow
        {16, 5000, 0, 0},                              //  no slot
        {16, 5000, ZMESH_TASKQ_SLOTS_LIMIT + 1, 1},    //  too many slots
        {16, 5000, 4, 4},                              //  every slot reserved
        {16, 5000, 1, 1},                              //  one slot, reserved
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        zmesh_taskq_t q;
        assert_int_equal (zmesh_taskq_config_check (&bad [i]), ZMESH_ECONFIG);
        assert_int_equal (zmesh_taskq_init (&q, &bad [i], 0), ZMESH_ECONFIG);
        zmesh_taskq_fini (&q);
    }
    //  One slot and no reserve is fine; NULL config is the defaults.
    zmesh_taskq_t q;
    s_init (&q, 1, 1, 1, 0);
    zmesh_taskq_fini (&q);
    zmesh_taskq_fini (&q);
    assert_int_equal (zmesh_taskq_init (&q, NULL, 0), ZMESH_OK);
    assert_int_equal (q.config.capacity, ZMESH_TASKQ_CAPACITY_DEFAULT);
    zmesh_taskq_fini (&q);
}

//  Pushed in a jumble at one time: CRITICAL first, then HIGH, NORMAL, LOW, each in push order.
static void
test_next_order (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 64, 5000, 4, 1);
    zmesh_priority_t p [] = {ZMESH_PRIORITY_LOW,    ZMESH_PRIORITY_NORMAL,   ZMESH_PRIORITY_HIGH,
                             ZMESH_PRIORITY_LOW,    ZMESH_PRIORITY_CRITICAL, ZMESH_PRIORITY_NORMAL,
                             ZMESH_PRIORITY_HIGH,   ZMESH_PRIORITY_CRITICAL, ZMESH_PRIORITY_LOW,
                             ZMESH_PRIORITY_NORMAL, ZMESH_PRIORITY_HIGH};
    for (uint32_t i = 0; i < 11; i++)
        s_push (&q, 100, i, p [i]);
    uint32_t expected [] = {4, 7, 2, 6, 10, 1, 5, 9, 0, 3, 8};
    for (uint32_t i = 0; i < 11; i++)
        s_expect_next (&q, 100, expected [i]);
    assert_false (zmesh_taskq_next (&q, 100, 0, NULL));
    assert_int_equal (zmesh_taskq_depth (&q), 0);
    zmesh_taskq_fini (&q);
}

//  A NORMAL entry ranks with a HIGH one queued aging_ms later: before it if that one came
//  later still, after it if earlier, and on a tie of virtual time, by enqueue order.
static void
test_aging_boundary (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 16, 5000, 4, 1);
    s_push (&q, 0, 1, ZMESH_PRIORITY_NORMAL);      //  virtual 5000
    s_push (&q, 4999, 2, ZMESH_PRIORITY_HIGH);     //  virtual 4999: first
    s_push (&q, 5000, 3, ZMESH_PRIORITY_HIGH);     //  virtual 5000, pushed after 1: after it
    s_push (&q, 5001, 4, ZMESH_PRIORITY_HIGH);     //  virtual 5001
    s_push (&q, 5001, 5, ZMESH_PRIORITY_LOW);      //  virtual 15001
    s_push (&q, 10000, 6, ZMESH_PRIORITY_NORMAL);  //  virtual 15000
    s_push (&q, 15000, 7, ZMESH_PRIORITY_HIGH);    //  virtual 15000, after 6
    s_expect_next (&q, 20000, 2);
    s_expect_next (&q, 20000, 1);
    s_expect_next (&q, 20000, 3);
    s_expect_next (&q, 20000, 4);
    s_expect_next (&q, 20000, 6);
    s_expect_next (&q, 20000, 7);
    s_expect_next (&q, 20000, 5);

    //  Nothing ages into CRITICAL: a LOW entry a day old still waits for a fresh CRITICAL one.
    s_push (&q, 20000, 8, ZMESH_PRIORITY_LOW);
    s_push (&q, 20000 + 86400000, 9, ZMESH_PRIORITY_CRITICAL);
    s_expect_next (&q, 20000 + 86400000, 9);
    s_expect_next (&q, 20000 + 86400000, 8);

    //  A clock that goes back counts as standing still: queued at the latest time seen.
    zmesh_taskq_entry_t e;
    s_push (&q, 5, 10, ZMESH_PRIORITY_HIGH);
    assert_true (zmesh_taskq_next (&q, 0, 0, &e));
    assert_int_equal (e.enqueue_ms, 20000 + 86400000);
    zmesh_taskq_fini (&q);
}

//  One slot, a standing backlog of HIGH work, one HIGH task arriving for each one that
//  finishes: without aging the LOW task would wait forever. It must start after 2 x aging_ms
//  (before that every HIGH task ranks ahead) and before 2 x aging_ms plus the time to run the
//  backlog that was queued ahead of it by then.
static uint64_t
s_low_start_ms (uint32_t aging_ms, uint64_t horizon_ms)
{
    const uint32_t backlog = 20, run_ms = 100;
    zmesh_taskq_t q;
    s_init (&q, 64, aging_ms, 1, 0);
    uint32_t n = 0;
    for (; n < backlog; n++)
        s_push (&q, 0, n, ZMESH_PRIORITY_HIGH);
    s_push (&q, 0, 999999, ZMESH_PRIORITY_LOW);
    uint64_t started_ms = UINT64_MAX;
    for (uint64_t now = 0; now < horizon_ms && started_ms == UINT64_MAX; now += run_ms) {
        zmesh_taskq_entry_t e;
        assert_true (zmesh_taskq_next (&q, now, 0, &e));
        if (e.priority == ZMESH_PRIORITY_LOW)
            started_ms = now;
        else
            s_push (&q, now, n++, ZMESH_PRIORITY_HIGH);
        assert_int_equal (zmesh_taskq_depth (&q), started_ms == UINT64_MAX ? backlog + 1 : backlog);
    }
    zmesh_taskq_fini (&q);
    return started_ms;
}

static void
test_aging_no_starvation (void **state)
{
    (void) state;
    uint64_t started = s_low_start_ms (5000, 600000);
    assert_true (started >= 2 * 5000);
    assert_true (started <= 2 * 5000 + 20 * 100);
    //  The control: aging slower than the horizon, and the LOW task never starts.
    assert_int_equal (s_low_start_ms (ZMESH_TASKQ_AGING_MS_LIMIT, 600000), UINT64_MAX);
}

static void
test_critical_reserve (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 16, 5000, 4, 1);
    for (uint32_t i = 0; i < 4; i++)
        s_push (&q, 0, i, ZMESH_PRIORITY_HIGH);
    zmesh_taskq_entry_t e;
    //  Non-CRITICAL work starts while busy < 4 - 1 and not at 3: the head stays queued.
    assert_true (zmesh_taskq_next (&q, 0, 0, &e));
    assert_true (zmesh_taskq_next (&q, 0, 2, &e));
    assert_int_equal (s_n (&e), 1);
    assert_false (zmesh_taskq_next (&q, 0, 3, &e));
    assert_false (zmesh_taskq_next (&q, 0, 4, &e));
    assert_false (zmesh_taskq_next (&q, 0, 100, &e));
    assert_int_equal (zmesh_taskq_depth (&q), 2);
    //  CRITICAL may take the last slot, not more; it jumps the HIGH work ahead of it.
    s_push (&q, 1, 10, ZMESH_PRIORITY_CRITICAL);
    s_push (&q, 1, 11, ZMESH_PRIORITY_CRITICAL);
    assert_false (zmesh_taskq_next (&q, 1, 4, &e));
    assert_true (zmesh_taskq_next (&q, 1, 3, &e));
    assert_int_equal (s_n (&e), 10);
    assert_false (zmesh_taskq_next (&q, 1, 4, &e));
    assert_true (zmesh_taskq_next (&q, 1, 3, &e));
    assert_int_equal (s_n (&e), 11);
    assert_false (zmesh_taskq_next (&q, 1, 3, &e));
    assert_true (zmesh_taskq_next (&q, 1, 2, &e));
    assert_int_equal (s_n (&e), 2);
    zmesh_taskq_fini (&q);

    //  A larger reserve: 2 of 4 slots.
    s_init (&q, 16, 5000, 4, 2);
    s_push (&q, 0, 1, ZMESH_PRIORITY_LOW);
    assert_false (zmesh_taskq_next (&q, 0, 2, &e));
    assert_true (zmesh_taskq_next (&q, 0, 1, &e));
    zmesh_taskq_fini (&q);

    //  No reserve: every slot for anyone.
    s_init (&q, 16, 5000, 2, 0);
    s_push (&q, 0, 1, ZMESH_PRIORITY_LOW);
    assert_false (zmesh_taskq_next (&q, 0, 2, &e));
    assert_true (zmesh_taskq_next (&q, 0, 1, &e));
    zmesh_taskq_fini (&q);
}

static void
test_steal (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 32, 5000, 4, 1);
    zmesh_taskq_entry_t out [16];
    assert_int_equal (zmesh_taskq_steal (&q, 0, 16, out), 0);  //  empty

    //  2 CRITICAL, 3 HIGH, 3 NORMAL, 2 LOW at one time: 8 stealable, half is 4.
    zmesh_priority_t p [] = {ZMESH_PRIORITY_CRITICAL, ZMESH_PRIORITY_HIGH,
                             ZMESH_PRIORITY_NORMAL,   ZMESH_PRIORITY_LOW,
                             ZMESH_PRIORITY_HIGH,     ZMESH_PRIORITY_NORMAL,
                             ZMESH_PRIORITY_LOW,      ZMESH_PRIORITY_CRITICAL,
                             ZMESH_PRIORITY_NORMAL,   ZMESH_PRIORITY_HIGH};
    for (uint32_t i = 0; i < 10; i++)
        s_push (&q, 0, i, p [i]);
    assert_int_equal (zmesh_taskq_stealable (&q), 4);
    assert_int_equal (zmesh_taskq_steal (&q, 0, 0, out), 0);
    //  Least likely to run soon first: LOW newest, LOW, then NORMAL newest.
    assert_int_equal (zmesh_taskq_steal (&q, 0, 3, out), 3);
    assert_int_equal (s_n (&out [0]), 6);
    assert_int_equal (s_n (&out [1]), 3);
    assert_int_equal (s_n (&out [2]), 8);
    assert_int_equal (out [2].handle, 1008);
    assert_false (zmesh_taskq_contains (&q, &out [0].id));
    assert_int_equal (zmesh_taskq_depth (&q), 7);
    //  5 stealable left: 2 go (NORMAL 5, then NORMAL 2); CRITICAL never.
    assert_int_equal (zmesh_taskq_steal (&q, 0, 16, out), 2);
    assert_int_equal (s_n (&out [0]), 5);
    assert_int_equal (s_n (&out [1]), 2);
    //  3 HIGH left: 1 goes, the newest.
    assert_int_equal (zmesh_taskq_steal (&q, 0, 16, out), 1);
    assert_int_equal (s_n (&out [0]), 9);
    //  2 CRITICAL + 2 HIGH: 1 HIGH; then 2 CRITICAL + 1 HIGH: nothing.
    assert_int_equal (zmesh_taskq_steal (&q, 0, 16, out), 1);
    assert_int_equal (s_n (&out [0]), 4);
    assert_int_equal (zmesh_taskq_steal (&q, 0, 16, out), 0);
    assert_int_equal (zmesh_taskq_depth_of (&q, ZMESH_PRIORITY_CRITICAL), 2);
    //  What stays runs here in order, and nothing stolen runs here.
    s_expect_next (&q, 0, 0);
    s_expect_next (&q, 0, 7);
    s_expect_next (&q, 0, 1);
    assert_false (zmesh_taskq_next (&q, 0, 0, NULL));
    //  A stolen task may come back (the thief gave it up): it is a new entry.
    s_push (&q, 0, 6, ZMESH_PRIORITY_LOW);
    zmesh_taskq_stats_t s;
    zmesh_taskq_stats (&q, &s);
    assert_int_equal (s.stolen, 7);
    assert_int_equal (s.started, 3);
    zmesh_taskq_fini (&q);

    //  Aging counts in the choice: an old NORMAL entry is more likely to run soon than a new
    //  HIGH one (virtual 5000 < 6000), so the HIGH one is stolen.
    s_init (&q, 32, 5000, 4, 1);
    s_push (&q, 0, 1, ZMESH_PRIORITY_NORMAL);
    s_push (&q, 6000, 2, ZMESH_PRIORITY_HIGH);
    assert_int_equal (zmesh_taskq_steal (&q, 6000, 16, out), 1);
    assert_int_equal (s_n (&out [0]), 2);
    zmesh_taskq_fini (&q);
}

static void
test_duplicate_and_full (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 3, 5000, 4, 1);
    zmesh_id_t id1 = s_id (1), id4 = s_id (4);
    s_push (&q, 0, 1, ZMESH_PRIORITY_LOW);
    //  The same id again, at any priority: refused, the queued entry untouched.
    assert_int_equal (zmesh_taskq_push (&q, 0, &id1, ZMESH_PRIORITY_CRITICAL, 7, 7), ZMESH_ESTATE);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id1, ZMESH_PRIORITY_LOW, 1001, 10), ZMESH_ESTATE);
    assert_int_equal (zmesh_taskq_depth (&q), 1);
    assert_int_equal (zmesh_taskq_depth_of (&q, ZMESH_PRIORITY_CRITICAL), 0);
    //  A priority out of range is refused.
    assert_int_equal (zmesh_taskq_push (&q, 0, &id4, (zmesh_priority_t) 4, 0, 0), ZMESH_EINVAL);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id4, (zmesh_priority_t) -1, 0, 0), ZMESH_EINVAL);
    //  Full at 3: the fourth is refused until one leaves; a duplicate is still a duplicate.
    s_push (&q, 0, 2, ZMESH_PRIORITY_HIGH);
    s_push (&q, 0, 3, ZMESH_PRIORITY_NORMAL);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id4, ZMESH_PRIORITY_CRITICAL, 0, 0), ZMESH_ELIMIT);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id1, ZMESH_PRIORITY_LOW, 0, 0), ZMESH_ESTATE);
    assert_false (zmesh_taskq_contains (&q, &id4));
    s_expect_next (&q, 0, 2);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id4, ZMESH_PRIORITY_CRITICAL, 1004, 40), ZMESH_OK);
    assert_int_equal (zmesh_taskq_push (&q, 0, &id4, ZMESH_PRIORITY_CRITICAL, 0, 0), ZMESH_ESTATE);
    zmesh_taskq_stats_t s;
    zmesh_taskq_stats (&q, &s);
    assert_int_equal (s.refused_full, 1);
    assert_int_equal (s.refused_duplicate, 4);
    assert_int_equal (s.pushed, 4);
    s_expect_next (&q, 0, 4);
    s_expect_next (&q, 0, 3);
    s_expect_next (&q, 0, 1);
    zmesh_taskq_fini (&q);
}

static void
test_remove (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 16, 5000, 4, 1);
    for (uint32_t i = 1; i <= 5; i++)
        s_push (&q, 0, i, ZMESH_PRIORITY_NORMAL);
    zmesh_taskq_entry_t e;
    zmesh_id_t id;
    //  Middle, head, tail; a second remove and an unknown id are not found.
    id = s_id (3);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, &e), ZMESH_OK);
    assert_int_equal (s_n (&e), 3);
    assert_int_equal (e.handle, 1003);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, &e), ZMESH_ENOTFOUND);
    id = s_id (1);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, NULL), ZMESH_OK);
    id = s_id (5);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, NULL), ZMESH_OK);
    id = s_id (77);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, NULL), ZMESH_ENOTFOUND);
    assert_int_equal (zmesh_taskq_depth (&q), 2);
    zmesh_taskq_stats_t s;
    zmesh_taskq_stats (&q, &s);
    assert_int_equal (s.removed, 3);
    assert_int_equal (s.cpu_millicores, 20 + 40);
    //  A taken task is not queued any more: remove says so.
    s_expect_next (&q, 0, 2);
    id = s_id (2);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, NULL), ZMESH_ENOTFOUND);
    s_expect_next (&q, 0, 4);
    assert_false (zmesh_taskq_next (&q, 0, 0, NULL));
    //  Removing the only entry of a list leaves it empty and reusable.
    s_push (&q, 0, 9, ZMESH_PRIORITY_LOW);
    id = s_id (9);
    assert_int_equal (zmesh_taskq_remove (&q, 0, &id, NULL), ZMESH_OK);
    s_push (&q, 0, 9, ZMESH_PRIORITY_LOW);
    s_expect_next (&q, 0, 9);
    zmesh_taskq_fini (&q);
}

static void
test_figures (void **state)
{
    (void) state;
    zmesh_taskq_t q;
    s_init (&q, 16, 5000, 4, 1);
    s_push (&q, 0, 1, ZMESH_PRIORITY_LOW);
    s_push (&q, 0, 2, ZMESH_PRIORITY_HIGH);
    s_push (&q, 0, 3, ZMESH_PRIORITY_HIGH);
    assert_int_equal (zmesh_taskq_depth (&q), 3);
    assert_int_equal (zmesh_taskq_depth_of (&q, ZMESH_PRIORITY_HIGH), 2);
    assert_int_equal (zmesh_taskq_depth_of (&q, ZMESH_PRIORITY_LOW), 1);
    assert_int_equal (zmesh_taskq_depth_of (&q, ZMESH_PRIORITY_NORMAL), 0);
    assert_int_equal (zmesh_taskq_depth_of (&q, 9), 0);
    zmesh_taskq_stats_t s;
    zmesh_taskq_stats (&q, &s);
    assert_int_equal (s.cpu_millicores, 60);
    assert_int_equal (s.depth_by_priority [ZMESH_PRIORITY_HIGH], 2);
    //  (busy + depth) / slots: 0 busy = 750, 1 busy = 1000; above the default threshold.
    assert_int_equal (zmesh_taskq_load_permille (&q, 0), 750);
    assert_int_equal (zmesh_taskq_load_permille (&q, 1), 1000);
    assert_true (zmesh_taskq_load_permille (&q, 0) < ZMESH_TASKQ_STEAL_THRESHOLD_PERMILLE_DEFAULT);
    assert_int_equal (zmesh_taskq_load_permille (&q, UINT32_MAX), UINT32_MAX);
    zmesh_taskq_fini (&q);
}

//  --------------------------------------------------------------------------------------------
//  Random operations against a reference model: an array, scanned in full every time.

typedef struct {
    zmesh_taskq_entry_t entry;
    uint64_t seq;
} s_ref_t;

static uint64_t
s_rand (uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static uint64_t
s_ref_virtual (const s_ref_t *r, uint32_t aging_ms)
{
    return r->entry.enqueue_ms + (uint64_t) (ZMESH_PRIORITY_HIGH - r->entry.priority) * aging_ms;
}

//  Index of the reference entry that goes first (first) or last (!first); CRITICAL ranks
//  ahead of all and is never picked last; -1 if none.
static int
s_ref_pick (const s_ref_t *ref, int count, uint32_t aging_ms, bool first)
{
    int best = -1;
    for (int i = 0; i < count; i++) {
        bool ci = ref [i].entry.priority == ZMESH_PRIORITY_CRITICAL;
        if (!first && ci)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        bool cb = ref [best].entry.priority == ZMESH_PRIORITY_CRITICAL;
        bool before;  //  i before best
        if (ci != cb)
            before = ci;
        else if (ci || s_ref_virtual (&ref [i], aging_ms) == s_ref_virtual (&ref [best], aging_ms))
            before = ref [i].seq < ref [best].seq;
        else
            before = s_ref_virtual (&ref [i], aging_ms) < s_ref_virtual (&ref [best], aging_ms);
        if (before == first)
            best = i;
    }
    return best;
}

static void
s_ref_drop (s_ref_t *ref, int *count, int i)
{
    ref [i] = ref [--*count];
}

static int
s_ref_find (const s_ref_t *ref, int count, const zmesh_id_t *id)
{
    for (int i = 0; i < count; i++)
        if (memcmp (ref [i].entry.id.bytes, id->bytes, ZMESH_ID_SIZE) == 0)
            return i;
    return -1;
}

static void
s_expect_entry (const zmesh_taskq_entry_t *got, const zmesh_taskq_entry_t *want)
{
    assert_memory_equal (got->id.bytes, want->id.bytes, ZMESH_ID_SIZE);
    assert_int_equal (got->priority, want->priority);
    assert_int_equal (got->enqueue_ms, want->enqueue_ms);
    assert_int_equal (got->handle, want->handle);
    assert_int_equal (got->cpu_millicores, want->cpu_millicores);
}

static void
test_random_against_model (void **state)
{
    (void) state;
    enum { CAPACITY = 200, STEPS = 200000, IDS = 400, SLOTS = 3 };
    const uint32_t aging_ms = 50;
    static s_ref_t ref [CAPACITY];
    int count = 0;
    uint64_t seq = 0, now = 0, x = 0x2545f4914f6cdd1dull;
    zmesh_taskq_t q;
    s_init (&q, CAPACITY, aging_ms, SLOTS, 1);
    for (int step = 0; step < STEPS; step++) {
        now += s_rand (&x) % 7;
        uint32_t n = (uint32_t) (s_rand (&x) % IDS);
        zmesh_id_t id = s_id (n);
        int op = (int) (s_rand (&x) % 10);
        zmesh_taskq_entry_t got, out [8];
        if (op < 5) {  //  push
            zmesh_priority_t p = (zmesh_priority_t) (s_rand (&x) % ZMESH_PRIORITY_COUNT);
            int rc = zmesh_taskq_push (&q, now, &id, p, n * 3, n);
            if (s_ref_find (ref, count, &id) >= 0)
                assert_int_equal (rc, ZMESH_ESTATE);
            else if (count == CAPACITY)
                assert_int_equal (rc, ZMESH_ELIMIT);
            else {
                assert_int_equal (rc, ZMESH_OK);
                ref [count].entry = (zmesh_taskq_entry_t){id, p, now, n * 3, n};
                ref [count++].seq = seq++;
            }
        }
        else if (op < 8) {  //  next
            uint32_t busy = (uint32_t) (s_rand (&x) % (SLOTS + 1));
            int i = s_ref_pick (ref, count, aging_ms, true);
            bool may = i >= 0 && busy < SLOTS
                       && (ref [i].entry.priority == ZMESH_PRIORITY_CRITICAL || busy < SLOTS - 1);
            assert_int_equal (zmesh_taskq_next (&q, now, busy, &got), may);
            if (may) {
                s_expect_entry (&got, &ref [i].entry);
                s_ref_drop (ref, &count, i);
            }
        }
        else if (op < 9) {  //  remove
            int i = s_ref_find (ref, count, &id);
            int rc = zmesh_taskq_remove (&q, now, &id, &got);
            assert_int_equal (rc, i >= 0 ? ZMESH_OK : ZMESH_ENOTFOUND);
            if (i >= 0) {
                s_expect_entry (&got, &ref [i].entry);
                s_ref_drop (ref, &count, i);
            }
        }
        else {  //  steal
            size_t max = (size_t) (s_rand (&x) % 9);
            int stealable = 0;
            for (int i = 0; i < count; i++)
                stealable += ref [i].entry.priority != ZMESH_PRIORITY_CRITICAL;
            size_t want = (size_t) stealable / 2 < max ? (size_t) stealable / 2 : max;
            assert_int_equal (zmesh_taskq_steal (&q, now, max, out), want);
            for (size_t k = 0; k < want; k++) {
                int i = s_ref_pick (ref, count, aging_ms, false);
                s_expect_entry (&out [k], &ref [i].entry);
                s_ref_drop (ref, &count, i);
            }
        }
        assert_int_equal (zmesh_taskq_depth (&q), (uint32_t) count);
        if (step % 97 == 0)
            assert_true (zmesh_taskq_contains (&q, &id) == (s_ref_find (ref, count, &id) >= 0));
    }
    zmesh_taskq_fini (&q);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_priority_names),
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_next_order),
        cmocka_unit_test (test_aging_boundary),
        cmocka_unit_test (test_aging_no_starvation),
        cmocka_unit_test (test_critical_reserve),
        cmocka_unit_test (test_steal),
        cmocka_unit_test (test_duplicate_and_full),
        cmocka_unit_test (test_remove),
        cmocka_unit_test (test_figures),
        cmocka_unit_test (test_random_against_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
