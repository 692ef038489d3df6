/*  test_breaker.c: the per-peer circuit breaker, by exact transitions and times. */
#include "zmesh_breaker.h"
#include "zmesh_error.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#define S_OPEN_MS ZMESH_BREAKER_OPEN_BASE_MS_DEFAULT

//  A made-up id: a few bytes set, so the table's hash mixing is exercised too.
static zmesh_id_t
s_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = (uint8_t) n;
    id.bytes [1] = (uint8_t) (n >> 8);
    id.bytes [2] = (uint8_t) (n >> 16);
    id.bytes [15] = 0xAB;
    return id;
}

static void
s_init (zmesh_breaker_t *breaker, const zmesh_breaker_config_t *config)
{
    zmesh_breaker_config_t defaults;
    zmesh_breaker_config_defaults (&defaults);
    assert_int_equal (zmesh_breaker_init (breaker, config ? config : &defaults), ZMESH_OK);
}

//  Records one outcome and asserts how many changes it reported.
static void
s_record (zmesh_breaker_t *breaker,
          const zmesh_id_t *peer,
          zmesh_breaker_outcome_t outcome,
          uint64_t now_ms,
          uint32_t changes)
{
    zmesh_breaker_update_t update;
    assert_int_equal (zmesh_breaker_record (breaker, peer, outcome, now_ms, &update), ZMESH_OK);
    assert_int_equal (update.change_count, changes);
}

static void
s_assert_change (const zmesh_breaker_change_t *change,
                 const zmesh_id_t *peer,
                 zmesh_breaker_state_t from,
                 zmesh_breaker_state_t to,
                 uint64_t open_until_ms)
{
    assert_true (zmesh_id_equal (&change->peer, peer));
    assert_int_equal (change->from, from);
    assert_int_equal (change->to, to);
    assert_int_equal (change->open_until_ms, open_until_ms);
}

//  n system failures at now_ms; the last one must open the breaker (and only the last).
static void
s_trip (zmesh_breaker_t *breaker, const zmesh_id_t *peer, uint32_t n, uint64_t now_ms)
{
    for (uint32_t i = 0; i + 1 < n; i++)
        s_record (breaker, peer, ZMESH_BREAKER_SYSTEM_FAILURE, now_ms, 0);
    zmesh_breaker_update_t update;
    assert_int_equal (
        zmesh_breaker_record (breaker, peer, ZMESH_BREAKER_SYSTEM_FAILURE, now_ms, &update),
        ZMESH_OK);
    assert_int_equal (update.change_count, 1);
    assert_int_equal (update.changes [0].to, ZMESH_BREAKER_OPEN);
}

static void
test_config (void **state)
{
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    assert_int_equal (c.peers_max, 1024);
    assert_int_equal (c.failures_in_row, 5);
    assert_int_equal (c.window_size, 20);
    assert_int_equal (c.min_outcomes, 10);
    assert_int_equal (c.failure_rate_pct, 50);
    assert_int_equal (c.open_base_ms, 30000);
    assert_int_equal (c.open_max_ms, 300000);
    assert_int_equal (c.half_open_trials, 3);
    assert_int_equal (zmesh_breaker_config_check (&c), ZMESH_OK);
    assert_int_equal (zmesh_breaker_config_check (NULL), ZMESH_EINVAL);

    //  Each nonsense field alone is refused.
    zmesh_breaker_config_t bad [12];
    for (int i = 0; i < 12; i++)
        bad [i] = c;
    bad [0].peers_max = 0;
    bad [1].peers_max = ZMESH_BREAKER_PEERS_LIMIT + 1;
    bad [2].failures_in_row = 0;
    bad [3].window_size = 0;
    bad [4].window_size = ZMESH_BREAKER_WINDOW_LIMIT + 1;
    bad [5].min_outcomes = 0;
    bad [6].min_outcomes = c.window_size + 1;
    bad [7].failure_rate_pct = 101;
    bad [8].open_base_ms = 0;
    bad [9].open_max_ms = c.open_base_ms - 1;
    bad [10].half_open_trials = 0;
    bad [11].half_open_trials = ZMESH_BREAKER_HALF_OPEN_TRIALS_LIMIT + 1;
    for (int i = 0; i < 12; i++) {
        zmesh_breaker_t breaker;
        assert_int_equal (zmesh_breaker_config_check (&bad [i]), ZMESH_EINVAL);
        assert_int_equal (zmesh_breaker_init (&breaker, &bad [i]), ZMESH_EINVAL);
        zmesh_breaker_fini (&breaker);  //  harmless after a failed init
    }
    //  The edges of the ranges are fine.
    c.window_size = ZMESH_BREAKER_WINDOW_LIMIT;
    c.min_outcomes = c.window_size;
    c.failure_rate_pct = 100;
    c.open_max_ms = c.open_base_ms;
    c.half_open_trials = 1;
    assert_int_equal (zmesh_breaker_config_check (&c), ZMESH_OK);

    assert_string_equal (zmesh_breaker_state_name (ZMESH_BREAKER_CLOSED), "CLOSED");
    assert_string_equal (zmesh_breaker_state_name (ZMESH_BREAKER_OPEN), "OPEN");
    assert_string_equal (zmesh_breaker_state_name (ZMESH_BREAKER_HALF_OPEN), "HALF_OPEN");
    assert_string_equal (zmesh_breaker_state_name ((zmesh_breaker_state_t) 9), "?");
}

//  A peer nobody reported on is CLOSED, allowed, and takes no slot in the table.
static void
test_unknown_peer (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    zmesh_breaker_update_t u;
    assert_true (zmesh_breaker_allow (&b, &p, 100, &u));
    assert_int_equal (u.change_count, 0);
    assert_true (zmesh_breaker_available (&b, &p, 100));
    assert_int_equal (zmesh_breaker_state (&b, &p, 100), ZMESH_BREAKER_CLOSED);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), UINT64_MAX);
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 100, &counts);
    assert_int_equal (counts.peers, 0);
    zmesh_breaker_cancel (&b, &p);  //  nothing to give back: harmless
    zmesh_breaker_forget (&b, &p);
    assert_int_equal (zmesh_breaker_record (&b, &p, (zmesh_breaker_outcome_t) 7, 100, &u),
                      ZMESH_EINVAL);
    zmesh_breaker_counts (&b, 100, &counts);
    assert_int_equal (counts.peers, 0);  //  a refused outcome added nothing
    zmesh_breaker_fini (&b);
    zmesh_breaker_fini (&b);  //  idempotent
}

//  Five system failures in a row open it for exactly 30 s; four do not.
static void
test_consecutive_failures (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    for (int i = 0; i < 4; i++)
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 1000, 0);
    assert_int_equal (zmesh_breaker_state (&b, &p, 1000), ZMESH_BREAKER_CLOSED);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), UINT64_MAX);

    zmesh_breaker_update_t u;
    assert_int_equal (zmesh_breaker_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 1000, &u),
                      ZMESH_OK);
    assert_int_equal (u.change_count, 1);
    s_assert_change (&u.changes [0], &p, ZMESH_BREAKER_CLOSED, ZMESH_BREAKER_OPEN, 31000);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), 31000);
    assert_false (zmesh_breaker_allow (&b, &p, 1001, &u));
    assert_int_equal (u.change_count, 0);
    assert_false (zmesh_breaker_available (&b, &p, 30999));
    assert_int_equal (zmesh_breaker_state (&b, &p, 30999), ZMESH_BREAKER_OPEN);

    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 2000, &counts);
    assert_int_equal (counts.peers, 1);
    assert_int_equal (counts.open, 1);
    assert_int_equal (counts.half_open, 0);
    assert_int_equal (counts.opened_total, 1);
    zmesh_breaker_fini (&b);
}

//  A success breaks a run of failures; so does a handler error.
static void
test_run_broken (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    zmesh_id_t q = s_id (2);
    for (int i = 0; i < 4; i++) {
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 10, 0);
        s_record (&b, &q, ZMESH_BREAKER_SYSTEM_FAILURE, 10, 0);
    }
    s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 10, 0);
    s_record (&b, &q, ZMESH_BREAKER_TASK_ERROR, 10, 0);
    //  Four more each: 8 failures of 9 outcomes, but fewer than min_outcomes (10).
    for (int i = 0; i < 4; i++) {
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 10, 0);
        s_record (&b, &q, ZMESH_BREAKER_SYSTEM_FAILURE, 10, 0);
    }
    assert_int_equal (zmesh_breaker_state (&b, &p, 10), ZMESH_BREAKER_CLOSED);
    assert_int_equal (zmesh_breaker_state (&b, &q, 10), ZMESH_BREAKER_CLOSED);
    //  A success as the 10th outcome never opens, even with the rate at 80%.
    s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 10, 0);
    s_record (&b, &q, ZMESH_BREAKER_TASK_ERROR, 10, 0);
    //  The 11th, a failure: 9 of 11 >= 50%, and only the rate says so (the run is 1).
    s_trip (&b, &p, 1, 10);
    s_trip (&b, &q, 1, 10);
    zmesh_breaker_fini (&b);
}

//  Handler errors alone never open it, however many.
static void
test_task_errors_do_not_count (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    for (int i = 0; i < 1000; i++)
        s_record (&b, &p, ZMESH_BREAKER_TASK_ERROR, (uint64_t) i, 0);
    assert_int_equal (zmesh_breaker_state (&b, &p, 1000), ZMESH_BREAKER_CLOSED);
    //  The window is 20 handler errors: 4 failures then make 4 of 20, no opening.
    for (int i = 0; i < 4; i++)
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 1000, 0);
    s_record (&b, &p, ZMESH_BREAKER_TASK_ERROR, 1000, 0);
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 1000, &counts);
    assert_int_equal (counts.opened_total, 0);
    zmesh_breaker_fini (&b);
}

//  Exactly 50% at exactly min_outcomes opens; the rate is over the last window_size only.
static void
test_failure_rate (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    //  S F S F S F S F S: 9 outcomes, 4 failures.
    for (int i = 0; i < 9; i++)
        s_record (&b, &p, i % 2 ? ZMESH_BREAKER_SYSTEM_FAILURE : ZMESH_BREAKER_SUCCESS, 5, 0);
    s_trip (&b, &p, 1, 5);  //  5 of 10 = 50%
    zmesh_breaker_fini (&b);

    //  A full window of 20 successes, then blocks of F F F F S (never 5 in a row): the
    //  failures reach 10 of the last 20 at the 2nd failure of the 3rd block, not before.
    s_init (&b, NULL);
    for (int i = 0; i < 20; i++)
        s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 5, 0);
    for (int block = 0; block < 2; block++) {
        for (int i = 0; i < 4; i++)
            s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 5, 0);
        s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 5, 0);
    }
    s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 5, 0);  //  9 of 20
    s_trip (&b, &p, 1, 5);                                  //  10 of 20
    zmesh_breaker_fini (&b);

    //  A window of 4 at 75%: old failures slide out and stop counting.
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    c.window_size = 4;
    c.min_outcomes = 4;
    c.failure_rate_pct = 75;
    c.failures_in_row = 10;
    s_init (&b, &c);
    const char *history = "FFSSSSFF";  //  5 failures of 8, but the window holds S S F F
    for (const char *h = history; *h; h++)
        s_record (&b, &p, *h == 'F' ? ZMESH_BREAKER_SYSTEM_FAILURE : ZMESH_BREAKER_SUCCESS, 5, 0);
    s_trip (&b, &p, 1, 5);  //  S F F F: 75%
    zmesh_breaker_fini (&b);
}

//  OPEN -> HALF_OPEN at exactly open_until, reported once by the call that makes it.
static void
test_half_open_by_tick (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    s_trip (&b, &p, 5, 1000);
    zmesh_breaker_update_t u;
    zmesh_breaker_tick (&b, 30999, &u);
    assert_int_equal (u.change_count, 0);
    //  Reads see the new state at once, but change nothing.
    assert_int_equal (zmesh_breaker_state (&b, &p, 31000), ZMESH_BREAKER_HALF_OPEN);
    assert_true (zmesh_breaker_available (&b, &p, 31000));
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 31000, &counts);
    assert_int_equal (counts.open, 0);
    assert_int_equal (counts.half_open, 1);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), 31000);

    zmesh_breaker_tick (&b, 31000, &u);
    assert_int_equal (u.change_count, 1);
    s_assert_change (&u.changes [0], &p, ZMESH_BREAKER_OPEN, ZMESH_BREAKER_HALF_OPEN, 0);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), UINT64_MAX);
    zmesh_breaker_tick (&b, 31001, &u);
    assert_int_equal (u.change_count, 0);  //  not twice

    //  Three trials at once, no fourth.
    for (int i = 0; i < 3; i++) {
        assert_true (zmesh_breaker_available (&b, &p, 31001));
        assert_true (zmesh_breaker_allow (&b, &p, 31001, &u));
        assert_int_equal (u.change_count, 0);
    }
    assert_false (zmesh_breaker_available (&b, &p, 31001));
    assert_false (zmesh_breaker_allow (&b, &p, 31001, &u));
    //  One not sent after all gives its slot back; exactly one.
    zmesh_breaker_cancel (&b, &p);
    assert_true (zmesh_breaker_allow (&b, &p, 31002, &u));
    assert_false (zmesh_breaker_allow (&b, &p, 31002, &u));
    //  A trial's outcome frees its slot... and the first success closes the breaker.
    s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 31500, 1);
    assert_int_equal (zmesh_breaker_state (&b, &p, 31500), ZMESH_BREAKER_CLOSED);
    //  The other trials' outcomes land in a fresh window: 4 more failures do not open it.
    for (int i = 0; i < 4; i++)
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 31600, 0);
    s_trip (&b, &p, 1, 31700);
    zmesh_breaker_counts (&b, 31700, &counts);
    assert_int_equal (counts.opened_total, 2);
    assert_int_equal (counts.closed_total, 1);
    zmesh_breaker_fini (&b);
}

//  Without a tick, allow and record make the due change themselves and report it.
static void
test_half_open_lazily (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    zmesh_id_t q = s_id (2);
    s_trip (&b, &p, 5, 0);
    s_trip (&b, &q, 5, 0);
    zmesh_breaker_update_t u;
    assert_true (zmesh_breaker_allow (&b, &p, S_OPEN_MS, &u));
    assert_int_equal (u.change_count, 1);
    s_assert_change (&u.changes [0], &p, ZMESH_BREAKER_OPEN, ZMESH_BREAKER_HALF_OPEN, 0);

    //  A late success for q: two changes in one call, in order.
    assert_int_equal (zmesh_breaker_record (&b, &q, ZMESH_BREAKER_SUCCESS, S_OPEN_MS + 5, &u),
                      ZMESH_OK);
    assert_int_equal (u.change_count, 2);
    s_assert_change (&u.changes [0], &q, ZMESH_BREAKER_OPEN, ZMESH_BREAKER_HALF_OPEN, 0);
    s_assert_change (&u.changes [1], &q, ZMESH_BREAKER_HALF_OPEN, ZMESH_BREAKER_CLOSED, 0);

    //  A trial ending in a handler error closes it too: the peer ran the task.
    assert_int_equal (zmesh_breaker_record (&b, &p, ZMESH_BREAKER_TASK_ERROR, S_OPEN_MS + 10, &u),
                      ZMESH_OK);
    assert_int_equal (u.change_count, 1);
    s_assert_change (&u.changes [0], &p, ZMESH_BREAKER_HALF_OPEN, ZMESH_BREAKER_CLOSED, 0);
    zmesh_breaker_tick (&b, S_OPEN_MS + 20, &u);
    assert_int_equal (u.change_count, 0);
    zmesh_breaker_fini (&b);
}

//  While OPEN, outcomes of tasks sent before it opened change nothing.
static void
test_open_ignores_outcomes (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    s_trip (&b, &p, 5, 0);
    for (int i = 0; i < 10; i++) {
        s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 100, 0);
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 200, 0);
    }
    assert_int_equal (zmesh_breaker_state (&b, &p, 29999), ZMESH_BREAKER_OPEN);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), 30000);  //  not pushed back
    zmesh_breaker_fini (&b);
}

//  A failed trial reopens for twice as long: 60, 120, 240 s, then 300 s, the cap, for good.
//  A success brings the next opening back to 30 s.
static void
test_doubling_and_cap (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    zmesh_id_t p = s_id (1);
    s_trip (&b, &p, 5, 0);
    uint64_t now = 0;
    uint64_t open_until = S_OPEN_MS;
    const uint64_t expected [] = {60000, 120000, 240000, 300000, 300000, 300000};
    for (int i = 0; i < 6; i++) {
        zmesh_breaker_update_t u;
        now = open_until;
        assert_false (zmesh_breaker_allow (&b, &p, now - 1, &u));
        assert_true (zmesh_breaker_allow (&b, &p, now, &u));
        assert_int_equal (u.change_count, 1);
        now += 7;
        assert_int_equal (zmesh_breaker_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, now, &u),
                          ZMESH_OK);
        assert_int_equal (u.change_count, 1);
        s_assert_change (&u.changes [0], &p, ZMESH_BREAKER_HALF_OPEN, ZMESH_BREAKER_OPEN,
                         now + expected [i]);
        open_until = now + expected [i];
        assert_int_equal (zmesh_breaker_deadline_ms (&b), open_until);
    }
    now = open_until;
    s_record (&b, &p, ZMESH_BREAKER_SUCCESS, now, 2);
    s_trip (&b, &p, 5, now);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), now + S_OPEN_MS);
    zmesh_breaker_fini (&b);
}

//  A single trial slot: allow says yes once, a failure reopens with the trial's slot gone.
static void
test_one_trial (void **state)
{
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    c.half_open_trials = 1;
    c.open_base_ms = 1000;
    c.open_max_ms = 1500;
    zmesh_breaker_t b;
    s_init (&b, &c);
    zmesh_id_t p = s_id (1);
    zmesh_breaker_update_t u;
    s_trip (&b, &p, 5, 0);
    assert_true (zmesh_breaker_allow (&b, &p, 1000, &u));
    assert_false (zmesh_breaker_allow (&b, &p, 1000, &u));
    s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 1100, 1);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), 2600);  //  doubled 2000, capped 1500
    assert_true (zmesh_breaker_allow (&b, &p, 2600, &u));     //  a fresh slot
    assert_false (zmesh_breaker_allow (&b, &p, 2600, &u));
    zmesh_breaker_fini (&b);
}

//  A full table evicts its least recently used CLOSED peer, never an open one.
static void
test_table_full (void **state)
{
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    c.peers_max = 3;
    zmesh_breaker_t b;
    s_init (&b, &c);
    zmesh_id_t p [5];
    for (uint32_t i = 0; i < 5; i++)
        p [i] = s_id (i + 1);
    //  p0, p1, p2 have 4 failures each (one short of opening), used at t = 1, 2, 3.
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            s_record (&b, &p [i], ZMESH_BREAKER_SYSTEM_FAILURE, (uint64_t) i + 1, 0);
    zmesh_breaker_update_t u;
    assert_true (zmesh_breaker_allow (&b, &p [0], 4, &u));  //  p0 is now the most recent
    s_record (&b, &p [3], ZMESH_BREAKER_SUCCESS, 5, 0);     //  evicts p1
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 5, &counts);
    assert_int_equal (counts.peers, 3);
    assert_int_equal (counts.evicted_total, 1);
    //  p1 starts over (its next failure evicts p2), p0 kept its 4 failures.
    s_record (&b, &p [1], ZMESH_BREAKER_SYSTEM_FAILURE, 6, 0);
    s_trip (&b, &p [0], 1, 7);
    //  p2 comes back by evicting p3 (t 5): p1 (t 6) and p0 (OPEN) stay.
    s_trip (&b, &p [2], 5, 8);
    s_trip (&b, &p [1], 4, 9);
    zmesh_breaker_counts (&b, 9, &counts);
    assert_int_equal (counts.evicted_total, 3);
    assert_int_equal (counts.open, 3);
    //  All three OPEN: a new peer is refused, and nothing changes.
    assert_int_equal (zmesh_breaker_record (&b, &p [4], ZMESH_BREAKER_SUCCESS, 10, &u),
                      ZMESH_ELIMIT);
    assert_int_equal (u.change_count, 0);
    zmesh_breaker_counts (&b, 10, &counts);
    assert_int_equal (counts.refused_total, 1);
    assert_int_equal (counts.peers, 3);
    assert_int_equal (counts.open, 3);
    //  An unknown peer is still allowed: it never failed.
    assert_true (zmesh_breaker_allow (&b, &p [4], 10, &u));
    //  Forgetting one makes room.
    zmesh_breaker_forget (&b, &p [1]);
    assert_int_equal (zmesh_breaker_state (&b, &p [1], 10), ZMESH_BREAKER_CLOSED);
    s_record (&b, &p [4], ZMESH_BREAKER_SUCCESS, 11, 0);
    zmesh_breaker_counts (&b, 11, &counts);
    assert_int_equal (counts.open, 2);
    assert_int_equal (counts.closed, 1);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), 7 + S_OPEN_MS);
    zmesh_breaker_fini (&b);
}

//  More due breakers than one update holds: the rest at the next tick.
static void
test_tick_bounded (void **state)
{
    zmesh_breaker_t b;
    s_init (&b, NULL);
    const uint32_t n = ZMESH_BREAKER_CHANGES_MAX + 4;
    for (uint32_t i = 0; i < n; i++) {
        zmesh_id_t p = s_id (i);
        s_trip (&b, &p, 5, i);
    }
    assert_int_equal (zmesh_breaker_deadline_ms (&b), S_OPEN_MS);
    zmesh_breaker_update_t u;
    uint64_t now = S_OPEN_MS + n;
    zmesh_breaker_tick (&b, now, &u);
    assert_int_equal (u.change_count, ZMESH_BREAKER_CHANGES_MAX);
    assert_true (zmesh_breaker_deadline_ms (&b) <= now);
    zmesh_breaker_tick (&b, now, &u);
    assert_int_equal (u.change_count, 4);
    assert_int_equal (zmesh_breaker_deadline_ms (&b), UINT64_MAX);
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, now, &counts);
    assert_int_equal (counts.half_open, n);
    zmesh_breaker_fini (&b);
}

//  splitmix64: random-looking ids, like the BLAKE2b ids of real nodes.
static uint64_t
s_next (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static zmesh_id_t
s_random_id (uint32_t n)
{
    uint64_t x = n;
    uint64_t a = s_next (&x);
    uint64_t b = s_next (&x);
    zmesh_id_t id;
    memcpy (id.bytes, &a, 8);
    memcpy (id.bytes + 8, &b, 8);
    return id;
}

//  A full table (the index half full), half of it forgotten in a scattered order: every
//  survivor keeps its run of failures exactly (the index's backward-shift deletion loses
//  nobody), and every forgotten one starts from nothing.
static void
test_many_peers (void **state)
{
    const uint32_t n = 1024;
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    c.peers_max = n;
    zmesh_breaker_t b;
    s_init (&b, &c);
    for (uint32_t i = 0; i < n; i++) {
        zmesh_id_t p = s_random_id (i);
        for (uint32_t k = 0; k < i % 5; k++)
            s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 1, 0);
        if (i % 5 == 0)
            s_record (&b, &p, ZMESH_BREAKER_SUCCESS, 1, 0);
    }
    zmesh_breaker_counts_t counts;
    zmesh_breaker_counts (&b, 1, &counts);
    assert_int_equal (counts.peers, n);
    //  Forget the even ones, in a scattered order (i * 3 mod n visits every i once).
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (k * 3) % n;
        if (i % 2 == 0) {
            zmesh_id_t p = s_random_id (i);
            zmesh_breaker_forget (&b, &p);
        }
    }
    zmesh_breaker_counts (&b, 2, &counts);
    assert_int_equal (counts.peers, n / 2);
    assert_int_equal (counts.evicted_total, 0);
    for (uint32_t i = 1; i < n; i += 2) {
        zmesh_id_t p = s_random_id (i);
        s_trip (&b, &p, 5 - i % 5, 2);
    }
    zmesh_breaker_counts (&b, 2, &counts);
    assert_int_equal (counts.open, n / 2);
    assert_int_equal (counts.peers, n / 2);  //  nobody was added again
    //  The forgotten ones start from nothing: one failure does not open them.
    for (uint32_t i = 0; i < n; i += 2) {
        zmesh_id_t p = s_random_id (i);
        s_record (&b, &p, ZMESH_BREAKER_SYSTEM_FAILURE, 3, 0);
        assert_int_equal (zmesh_breaker_state (&b, &p, 3), ZMESH_BREAKER_CLOSED);
    }
    zmesh_breaker_counts (&b, 3, &counts);
    assert_int_equal (counts.peers, n);
    assert_int_equal (counts.evicted_total, 0);
    zmesh_breaker_fini (&b);
}

//  Churn in a tiny index (16 peers, 32 slots, so clusters wrap around its end): random
//  records and forgets against a model of what every peer's breaker must hold.
static void
test_churn (void **state)
{
    enum { POOL = 16, ROW = 3 };
    zmesh_breaker_config_t c;
    zmesh_breaker_config_defaults (&c);
    c.peers_max = POOL;
    c.failures_in_row = ROW;
    c.window_size = ZMESH_BREAKER_WINDOW_LIMIT;  //  only runs open: the rate needs 64 of 64
    c.min_outcomes = ZMESH_BREAKER_WINDOW_LIMIT;
    c.failure_rate_pct = 100;
    zmesh_breaker_t b;
    s_init (&b, &c);
    bool known [POOL] = {false};
    bool open [POOL] = {false};
    uint32_t run [POOL] = {0};
    uint64_t x = 42;
    uint32_t epoch = 0;  //  a new pool of ids every 500 steps: new homes in the index
    for (int step = 0; step < 20000; step++) {
        if (step % 500 == 0) {
            for (uint32_t k = 0; k < POOL; k++) {
                zmesh_id_t q = s_random_id (epoch * POOL + k);
                zmesh_breaker_forget (&b, &q);
                known [k] = open [k] = false;
                run [k] = 0;
            }
            epoch = (uint32_t) step / 500;
        }
        uint64_t r = s_next (&x);
        uint32_t i = (uint32_t) (r % POOL);
        uint32_t op = (uint32_t) ((r >> 32) % 10);
        zmesh_id_t p = s_random_id (epoch * POOL + i);
        zmesh_breaker_update_t u;
        if (op < 3) {
            zmesh_breaker_forget (&b, &p);
            known [i] = open [i] = false;
            run [i] = 0;
            continue;
        }
        bool failure = op < 8;
        zmesh_breaker_outcome_t outcome =
            failure ? ZMESH_BREAKER_SYSTEM_FAILURE : ZMESH_BREAKER_SUCCESS;
        assert_int_equal (zmesh_breaker_record (&b, &p, outcome, 0, &u), ZMESH_OK);
        known [i] = true;
        bool opens = !open [i] && failure && run [i] + 1 == ROW;
        if (!open [i])
            run [i] = failure ? run [i] + 1 : 0;
        open [i] = open [i] || opens;
        assert_int_equal (u.change_count, opens ? 1 : 0);
        uint32_t expected_peers = 0, expected_open = 0;
        for (uint32_t k = 0; k < POOL; k++) {
            zmesh_id_t q = s_random_id (epoch * POOL + k);
            expected_peers += known [k];
            expected_open += open [k];
            assert_int_equal (zmesh_breaker_state (&b, &q, 0),
                              open [k] ? ZMESH_BREAKER_OPEN : ZMESH_BREAKER_CLOSED);
        }
        zmesh_breaker_counts_t counts;
        zmesh_breaker_counts (&b, 0, &counts);
        assert_int_equal (counts.peers, expected_peers);
        assert_int_equal (counts.open, expected_open);
        assert_int_equal (counts.evicted_total, 0);
    }
    zmesh_breaker_fini (&b);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_unknown_peer),
        cmocka_unit_test (test_consecutive_failures),
        cmocka_unit_test (test_run_broken),
        cmocka_unit_test (test_task_errors_do_not_count),
        cmocka_unit_test (test_failure_rate),
        cmocka_unit_test (test_half_open_by_tick),
        cmocka_unit_test (test_half_open_lazily),
        cmocka_unit_test (test_open_ignores_outcomes),
        cmocka_unit_test (test_doubling_and_cap),
        cmocka_unit_test (test_one_trial),
        cmocka_unit_test (test_table_full),
        cmocka_unit_test (test_tick_bounded),
        cmocka_unit_test (test_many_peers),
        cmocka_unit_test (test_churn),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
