/*  test_liveness.c: the timeout-based liveness core, as usage examples.

    The shell feeds events (HEARD, LEAVE, TICK) that carry the time, and reads back the
    transitions each step caused. Each test drives a small table by hand and checks what a
    user of the core relies on: every transition reported exactly once, in order (ALIVE ->
    SUSPECT -> DEAD, LEFT on a LEAVE, back to ALIVE only when the peer is really back),
    forgetting after reap_after_ms, ZMESH_ELIMIT rather than growth, and a deadline that
    says when the next tick matters.
*/
#include "zmesh_error.h"
#include "zmesh_liveness.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#define SUSPECT_MS 100
#define DEAD_MS    300
#define REAP_MS    1000

typedef struct {
    zmesh_liveness_t core;
    zmesh_liveness_update_t update;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    zmesh_liveness_config_t config;
    zmesh_liveness_config_defaults (&config);
    config.suspect_timeout_ms = SUSPECT_MS;
    config.dead_timeout_ms = DEAD_MS;
    config.reap_after_ms = REAP_MS;
    config.max_peers = 4;
    if (zmesh_liveness_init (&self->core, &config) != ZMESH_OK)
        return -1;
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    zmesh_liveness_fini (&self->core);
    free (self);
    return 0;
}

static zmesh_id_t
s_id (uint8_t n)
{
    zmesh_id_t id;
    memset (id.bytes, n, sizeof id.bytes);
    return id;
}

//  One step; returns how many transitions it reported.
static uint32_t
s_step (s_fixture_t *self,
        zmesh_liveness_event_type_t type,
        uint64_t now_ms,
        uint8_t peer,
        uint64_t generation)
{
    zmesh_liveness_event_t event = {.type = type, .now_ms = now_ms, .generation = generation};
    event.id = s_id (peer);
    zmesh_liveness_step (&self->core, &event, &self->update);
    return self->update.change_count;
}

static uint32_t
s_heard (s_fixture_t *self, uint64_t now_ms, uint8_t peer, uint64_t generation)
{
    return s_step (self, ZMESH_LIVENESS_HEARD, now_ms, peer, generation);
}

static uint32_t
s_leave (s_fixture_t *self, uint64_t now_ms, uint8_t peer, uint64_t generation)
{
    return s_step (self, ZMESH_LIVENESS_LEAVE, now_ms, peer, generation);
}

static uint32_t
s_tick (s_fixture_t *self, uint64_t now_ms)
{
    return s_step (self, ZMESH_LIVENESS_TICK, now_ms, 0, 0);
}

//  Check transition `index` of the last update.
static void
s_assert_change (const s_fixture_t *self,
                 uint32_t index,
                 uint8_t peer,
                 zmesh_peer_state_t from,
                 zmesh_peer_state_t to)
{
    assert_true (index < self->update.change_count);
    const zmesh_liveness_change_t *change = &self->update.changes [index];
    zmesh_id_t id = s_id (peer);
    assert_true (zmesh_id_equal (&change->id, &id));
    if (change->from != from || change->to != to)
        fail_msg ("peer %u: %s -> %s, expected %s -> %s", peer,
                  zmesh_peer_state_name (change->from), zmesh_peer_state_name (change->to),
                  zmesh_peer_state_name (from), zmesh_peer_state_name (to));
}

static zmesh_peer_state_t
s_state (const s_fixture_t *self, uint8_t peer)
{
    zmesh_id_t id = s_id (peer);
    const zmesh_liveness_peer_t *found = zmesh_liveness_find (&self->core, &id);
    return found ? found->state : ZMESH_PEER_NONE;
}

static void
test_config (void **state)
{
    zmesh_liveness_config_t config;
    zmesh_liveness_config_defaults (&config);
    assert_int_equal (config.suspect_timeout_ms, ZMESH_LIVENESS_SUSPECT_TIMEOUT_MS_DEFAULT);
    assert_int_equal (config.dead_timeout_ms, ZMESH_LIVENESS_DEAD_TIMEOUT_MS_DEFAULT);
    assert_int_equal (config.reap_after_ms, ZMESH_LIVENESS_REAP_AFTER_MS_DEFAULT);
    assert_int_equal (config.max_peers, ZMESH_LIVENESS_MAX_PEERS_DEFAULT);
    zmesh_liveness_t core;
    assert_int_equal (zmesh_liveness_init (&core, &config), ZMESH_OK);
    assert_true (zmesh_liveness_deadline_ms (&core) == UINT64_MAX);
    zmesh_liveness_fini (&core);
    zmesh_liveness_fini (&core);  //  idempotent

    //  Each config a shell must refuse, with the error it refuses it with.
    static const zmesh_liveness_config_t bad [] = {
        {0, 3000, 60000, 16},     //  suspect 0
        {1500, 1500, 60000, 16},  //  dead not after suspect
        {1500, 1000, 60000, 16},  //  dead before suspect
        {1500, 3000, 0, 16},      //  reap at once
        {1500, 3000, 60000, 0},   //  no room
        {1500, 3000, 60000, 1000001},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int rc = zmesh_liveness_init (&core, &bad [i]);
        if (rc != ZMESH_EINVAL)
            fail_msg ("config %zu: %s, expected ZMESH_EINVAL", i, zmesh_error_name (rc));
        zmesh_liveness_fini (&core);
    }
}

//  A new peer is reported once; hearing it again changes nothing.
static void
test_new_peer_reported_once (void **state)
{
    s_fixture_t *self = *state;
    assert_int_equal (s_heard (self, 1000, 1, 1), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_NONE, ZMESH_PEER_ALIVE);
    assert_int_equal (self->update.error, ZMESH_OK);
    assert_int_equal (s_heard (self, 1010, 1, 1), 0);
    assert_int_equal (s_tick (self, 1050), 0);
    const zmesh_id_t id = s_id (1);
    const zmesh_liveness_peer_t *peer = zmesh_liveness_find (&self->core, &id);
    assert_non_null (peer);
    assert_int_equal (peer->state, ZMESH_PEER_ALIVE);
    assert_int_equal (peer->last_heard_ms, 1010);
    assert_int_equal (peer->state_since_ms, 1000);
    assert_int_equal (peer->generation, 1);
    const zmesh_id_t other = s_id (9);
    assert_null (zmesh_liveness_find (&self->core, &other));
}

//  Silence: SUSPECT at suspect_timeout_ms, DEAD at dead_timeout_ms, each exactly once.
static void
test_suspect_then_dead (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 1000, 1, 1);
    assert_int_equal (s_tick (self, 1000 + SUSPECT_MS - 1), 0);
    assert_int_equal (s_tick (self, 1000 + SUSPECT_MS), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_ALIVE, ZMESH_PEER_SUSPECT);
    //  Later ticks do not repeat it (the Zyre complaint: events every second).
    assert_int_equal (s_tick (self, 1000 + SUSPECT_MS), 0);
    assert_int_equal (s_tick (self, 1000 + DEAD_MS - 1), 0);
    assert_int_equal (s_tick (self, 1000 + DEAD_MS), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_SUSPECT, ZMESH_PEER_DEAD);
    for (uint64_t t = 1000 + DEAD_MS; t < 1000 + DEAD_MS + REAP_MS; t += 50)
        assert_int_equal (s_tick (self, t), 0);
    assert_int_equal (s_state (self, 1), ZMESH_PEER_DEAD);
}

//  A shell that ticks late sees both transitions in one update, in order.
static void
test_late_tick_reports_both (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 1);
    assert_int_equal (s_tick (self, DEAD_MS + 50), 2);
    s_assert_change (self, 0, 1, ZMESH_PEER_ALIVE, ZMESH_PEER_SUSPECT);
    s_assert_change (self, 1, 1, ZMESH_PEER_SUSPECT, ZMESH_PEER_DEAD);
}

//  Heard while SUSPECT or DEAD: ALIVE again, silence counted from the new message.
static void
test_heard_again (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 1);
    s_tick (self, SUSPECT_MS);
    assert_int_equal (s_heard (self, SUSPECT_MS + 10, 1, 1), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_SUSPECT, ZMESH_PEER_ALIVE);
    assert_int_equal (s_tick (self, 2 * SUSPECT_MS), 0);
    s_tick (self, 2 * SUSPECT_MS + 10);
    s_tick (self, SUSPECT_MS + 10 + DEAD_MS);
    assert_int_equal (s_state (self, 1), ZMESH_PEER_DEAD);
    assert_int_equal (s_heard (self, 2000, 1, 1), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_DEAD, ZMESH_PEER_ALIVE);
}

//  LEAVE: LEFT at once; neither silence nor late messages of that generation change it.
static void
test_leave (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 5);
    assert_int_equal (s_leave (self, 10, 1, 5), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_ALIVE, ZMESH_PEER_LEFT);
    assert_int_equal (s_leave (self, 11, 1, 5), 0);  //  duplicate
    assert_int_equal (s_heard (self, 12, 1, 5), 0);  //  late heartbeat, same generation
    assert_int_equal (s_heard (self, 13, 1, 4), 0);  //  older still
    assert_int_equal (s_tick (self, 10 + DEAD_MS + 1), 0);
    assert_int_equal (s_state (self, 1), ZMESH_PEER_LEFT);
    //  A LEAVE from a peer never heard, or from an older generation, changes nothing.
    assert_int_equal (s_leave (self, 400, 2, 1), 0);
    assert_int_equal (s_state (self, 2), ZMESH_PEER_NONE);
    s_heard (self, 400, 3, 7);
    assert_int_equal (s_leave (self, 401, 3, 6), 0);
    assert_int_equal (s_state (self, 3), ZMESH_PEER_ALIVE);
    //  From SUSPECT and from DEAD, LEAVE still means LEFT.
    s_tick (self, 400 + SUSPECT_MS);
    assert_int_equal (s_leave (self, 400 + SUSPECT_MS + 1, 3, 7), 1);
    s_assert_change (self, 0, 3, ZMESH_PEER_SUSPECT, ZMESH_PEER_LEFT);
    s_heard (self, 600, 4, 1);
    s_tick (self, 600 + DEAD_MS);
    assert_int_equal (s_leave (self, 600 + DEAD_MS + 1, 4, 1), 1);
    s_assert_change (self, 0, 4, ZMESH_PEER_DEAD, ZMESH_PEER_LEFT);
}

//  A restart shows as a higher generation: ALIVE again, and the old one is ignored after.
static void
test_rejoin_with_higher_generation (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 1);
    s_leave (self, 10, 1, 1);
    assert_int_equal (s_heard (self, 20, 1, 2), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_LEFT, ZMESH_PEER_ALIVE);
    const zmesh_id_t id = s_id (1);
    assert_int_equal (zmesh_liveness_find (&self->core, &id)->generation, 2);
    //  A late message of generation 1 refreshes nothing: the peer still goes SUSPECT on time.
    assert_int_equal (s_heard (self, 20 + SUSPECT_MS - 1, 1, 1), 0);
    assert_int_equal (s_tick (self, 20 + SUSPECT_MS), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_ALIVE, ZMESH_PEER_SUSPECT);
    //  A restart without a LEAVE (crash, quick restart) is just ALIVE with a new generation.
    assert_int_equal (s_heard (self, 200, 1, 3), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_SUSPECT, ZMESH_PEER_ALIVE);
    assert_int_equal (s_heard (self, 210, 1, 4), 0);
    assert_int_equal (zmesh_liveness_find (&self->core, &id)->generation, 4);
}

//  The peer left, restarted and left again before its new generation was heard here; a
//  heartbeat of that new generation overtaken by its LEAVE must not resurrect it. (Found by
//  tests/sim/sim_liveness.c: the core ignored the second LEAVE because the peer was already
//  LEFT, so it kept generation 1, and the late generation-2 heartbeat looked newer.)
static void
test_late_message_after_second_leave (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 1);
    s_leave (self, 10, 1, 1);
    assert_int_equal (s_leave (self, 500, 1, 2), 0);  //  already LEFT: nothing to report
    assert_int_equal (s_heard (self, 510, 1, 2), 0);  //  sent before that LEAVE
    assert_int_equal (s_state (self, 1), ZMESH_PEER_LEFT);
    //  Generation 2 is remembered for reap_after_ms from its LEAVE, not from the first one,
    //  so a message of it still in flight cannot come back as a new peer after a reap.
    assert_int_equal (s_tick (self, 10 + REAP_MS), 0);
    assert_int_equal (s_state (self, 1), ZMESH_PEER_LEFT);
    assert_int_equal (s_heard (self, 10 + REAP_MS, 1, 2), 0);
    assert_int_equal (s_heard (self, 10 + REAP_MS, 1, 3), 1);  //  a real third start
    s_assert_change (self, 0, 1, ZMESH_PEER_LEFT, ZMESH_PEER_ALIVE);
}

//  DEAD and LEFT peers are forgotten after reap_after_ms, reported once as -> NONE.
static void
test_reaping (void **state)
{
    s_fixture_t *self = *state;
    s_heard (self, 0, 1, 1);
    s_heard (self, 0, 2, 1);
    s_heard (self, 0, 3, 1);
    s_leave (self, 50, 2, 1);
    s_heard (self, DEAD_MS - 10, 3, 1);
    assert_int_equal (s_tick (self, DEAD_MS), 2);           //  peer 1 suspect and dead
    assert_int_equal (s_tick (self, 50 + REAP_MS - 1), 2);  //  peer 3 suspect and dead
    assert_int_equal (s_tick (self, 50 + REAP_MS), 1);
    s_assert_change (self, 0, 2, ZMESH_PEER_LEFT, ZMESH_PEER_NONE);
    assert_int_equal (s_tick (self, DEAD_MS + REAP_MS), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_DEAD, ZMESH_PEER_NONE);
    assert_int_equal (self->core.peer_count, 1);
    assert_int_equal (s_state (self, 1), ZMESH_PEER_NONE);
    assert_int_equal (s_state (self, 2), ZMESH_PEER_NONE);
    assert_int_equal (s_state (self, 3), ZMESH_PEER_DEAD);
    //  A forgotten peer that comes back is new again.
    assert_int_equal (s_heard (self, 5000, 1, 1), 1);
    s_assert_change (self, 0, 1, ZMESH_PEER_NONE, ZMESH_PEER_ALIVE);
    //  Reaping several in one tick, with the table compacted under the loop.
    assert_int_equal (s_tick (self, 10000), 3);
    assert_int_equal (s_tick (self, 20000), 1);
    assert_int_equal (self->core.peer_count, 0);
}

//  A full table refuses a new peer with ZMESH_ELIMIT and reports nothing; known peers and
//  room made by reaping still work.
static void
test_table_full (void **state)
{
    s_fixture_t *self = *state;
    for (uint8_t peer = 1; peer <= 4; peer++)
        assert_int_equal (s_heard (self, 0, peer, 1), 1);
    assert_int_equal (s_heard (self, 1, 5, 1), 0);
    assert_int_equal (self->update.error, ZMESH_ELIMIT);
    assert_int_equal (s_state (self, 5), ZMESH_PEER_NONE);
    assert_int_equal (s_heard (self, 2, 4, 1), 0);
    assert_int_equal (self->update.error, ZMESH_OK);
    s_leave (self, 3, 4, 1);
    assert_int_equal (self->update.error, ZMESH_OK);
    s_heard (self, 3 + REAP_MS - 1, 1, 1);
    s_heard (self, 3 + REAP_MS - 1, 2, 1);
    s_heard (self, 3 + REAP_MS - 1, 3, 1);
    assert_int_equal (s_tick (self, 3 + REAP_MS), 1);
    assert_int_equal (s_heard (self, 3 + REAP_MS, 5, 1), 1);
    assert_int_equal (self->update.error, ZMESH_OK);
    s_assert_change (self, 0, 5, ZMESH_PEER_NONE, ZMESH_PEER_ALIVE);
}

//  A table full of peers that all expire in one late tick: every transition fits the update.
static void
test_everything_at_once (void **state)
{
    s_fixture_t *self = *state;
    for (uint8_t peer = 1; peer <= 4; peer++)
        s_heard (self, 0, peer, 1);
    assert_int_equal (s_tick (self, 1000000), 8);
    assert_int_equal (s_tick (self, 1000000 + REAP_MS), 4);
    assert_int_equal (self->core.peer_count, 0);
}

//  The deadline: the earliest moment a tick would change something.
static void
test_deadline (void **state)
{
    s_fixture_t *self = *state;
    assert_true (zmesh_liveness_deadline_ms (&self->core) == UINT64_MAX);
    s_heard (self, 1000, 1, 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1000 + SUSPECT_MS);
    s_heard (self, 1040, 2, 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1000 + SUSPECT_MS);
    s_heard (self, 1050, 1, 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1040 + SUSPECT_MS);
    //  Ticking at the deadline changes something, and moves it.
    assert_int_equal (s_tick (self, 1040 + SUSPECT_MS), 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1050 + SUSPECT_MS);
    assert_int_equal (s_tick (self, 1050 + SUSPECT_MS), 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1040 + DEAD_MS);
    s_leave (self, 1200, 1, 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1040 + DEAD_MS);
    assert_int_equal (s_tick (self, 1040 + DEAD_MS), 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1200 + REAP_MS);
    assert_int_equal (s_tick (self, 1200 + REAP_MS - 1), 0);
    assert_int_equal (s_tick (self, 1200 + REAP_MS), 1);
    assert_int_equal (zmesh_liveness_deadline_ms (&self->core), 1040 + DEAD_MS + REAP_MS);
    assert_int_equal (s_tick (self, 1040 + DEAD_MS + REAP_MS), 1);
    assert_true (zmesh_liveness_deadline_ms (&self->core) == UINT64_MAX);
}

static void
test_state_names (void **state)
{
    assert_string_equal (zmesh_peer_state_name (ZMESH_PEER_ALIVE), "alive");
    assert_string_equal (zmesh_peer_state_name (ZMESH_PEER_SUSPECT), "suspect");
    assert_string_equal (zmesh_peer_state_name (ZMESH_PEER_DEAD), "dead");
    assert_string_equal (zmesh_peer_state_name (ZMESH_PEER_LEFT), "left");
    assert_string_equal (zmesh_peer_state_name (ZMESH_PEER_NONE), "none");
}

#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),
        TEST (test_new_peer_reported_once),
        TEST (test_suspect_then_dead),
        TEST (test_late_tick_reports_both),
        TEST (test_heard_again),
        TEST (test_leave),
        TEST (test_rejoin_with_higher_generation),
        TEST (test_late_message_after_second_leave),
        TEST (test_reaping),
        TEST (test_table_full),
        TEST (test_everything_at_once),
        TEST (test_deadline),
        cmocka_unit_test (test_state_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
