/*  test_scale.c: the scaling decision, its figure D, hysteresis and cooldown. */
#include "zmesh_error.h"
#include "zmesh_scale.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#define S_CYCLE_MS 1000
#define S_EPSILON  1e-12

//  Inputs whose D is 1.2 (up), 0.45 (hold) and 0.04 (down) with the default config.
static const zmesh_scale_input_t s_busy = {100, 0};
static const zmesh_scale_input_t s_fine = {25, 375};
static const zmesh_scale_input_t s_idle = {0, 100};

static void
s_init (zmesh_scale_t *scale, uint32_t cooldown_ms)
{
    zmesh_scale_config_t config;
    zmesh_scale_config_defaults (&config);
    config.cooldown_ms = cooldown_ms;
    assert_int_equal (zmesh_scale_init (scale, &config), ZMESH_OK);
}

//  One step; returns the reported decision and checks the raw one.
static zmesh_scale_decision_t
s_step (zmesh_scale_t *scale,
        const zmesh_scale_input_t *input,
        uint64_t now_ms,
        zmesh_scale_decision_t raw)
{
    zmesh_scale_result_t result;
    assert_int_equal (zmesh_scale_step (scale, input, now_ms, &result), ZMESH_OK);
    assert_int_equal (result.raw, raw);
    return result.decision;
}

static double
s_d (double queue_depth, double latency_ms, zmesh_scale_decision_t raw)
{
    zmesh_scale_t scale;
    s_init (&scale, 0);
    zmesh_scale_input_t input = {queue_depth, latency_ms};
    zmesh_scale_result_t result;
    assert_int_equal (zmesh_scale_step (&scale, &input, 0, &result), ZMESH_OK);
    assert_int_equal (result.raw, raw);
    assert_int_equal (result.streak, 1);
    return result.d;
}

static void
test_config (void **state)
{
    zmesh_scale_config_t c;
    zmesh_scale_config_defaults (&c);
    assert_true (c.queue_weight == 0.6);
    assert_true (c.latency_weight == 0.4);
    assert_true (c.queue_depth_ref == 50);
    assert_true (c.sla_ms == 1000);
    assert_true (c.up_threshold == 1.0);
    assert_true (c.down_threshold == 0.2);
    assert_int_equal (c.cycles, 3);
    assert_int_equal (c.cooldown_ms, 60000);
    assert_int_equal (zmesh_scale_config_check (&c), ZMESH_OK);
    assert_int_equal (zmesh_scale_config_check (NULL), ZMESH_EINVAL);

    zmesh_scale_config_t bad [16];
    for (int i = 0; i < 16; i++)
        bad [i] = c;
    bad [0].sla_ms = 0;
    bad [1].sla_ms = -5;
    bad [2].sla_ms = NAN;
    bad [3].sla_ms = INFINITY;
    bad [4].queue_depth_ref = 0;
    bad [5].queue_weight = -0.1;
    bad [6].latency_weight = NAN;
    bad [7].queue_weight = 0;
    bad [7].latency_weight = 0;
    bad [8].down_threshold = 1.0;  //  down == up
    bad [9].down_threshold = 2.0;  //  down > up
    bad [10].down_threshold = -0.1;
    bad [11].up_threshold = NAN;
    bad [12].cycles = 0;
    bad [13].cycles = ZMESH_SCALE_CYCLES_LIMIT + 1;
    bad [14].queue_depth_ref = NAN;
    bad [15].up_threshold = INFINITY;
    for (int i = 0; i < 16; i++) {
        zmesh_scale_t scale;
        assert_int_equal (zmesh_scale_config_check (&bad [i]), ZMESH_EINVAL);
        assert_int_equal (zmesh_scale_init (&scale, &bad [i]), ZMESH_EINVAL);
    }
    //  One weight 0 is fine (decide on the queue alone), so is no cooldown.
    c.latency_weight = 0;
    c.cooldown_ms = 0;
    c.cycles = ZMESH_SCALE_CYCLES_LIMIT;
    assert_int_equal (zmesh_scale_config_check (&c), ZMESH_OK);

    assert_string_equal (zmesh_scale_decision_name (ZMESH_SCALE_HOLD), "hold");
    assert_string_equal (zmesh_scale_decision_name (ZMESH_SCALE_UP), "scale_up");
    assert_string_equal (zmesh_scale_decision_name (ZMESH_SCALE_DOWN), "scale_down");
    assert_string_equal (zmesh_scale_decision_name ((zmesh_scale_decision_t) 7), "?");
}

//  D = 0.6 * queue / 50 + 0.4 * latency / sla, and a D on a threshold holds.
static void
test_figure (void **state)
{
    assert_true (fabs (s_d (100, 0, ZMESH_SCALE_UP) - 1.2) < S_EPSILON);
    assert_true (fabs (s_d (25, 375, ZMESH_SCALE_HOLD) - 0.45) < S_EPSILON);
    assert_true (fabs (s_d (0, 100, ZMESH_SCALE_DOWN) - 0.04) < S_EPSILON);
    assert_true (fabs (s_d (10, 250, ZMESH_SCALE_HOLD) - 0.22) < S_EPSILON);
    assert_true (fabs (s_d (0, 3000, ZMESH_SCALE_UP) - 1.2) < S_EPSILON);
    assert_true (s_d (0, 0, ZMESH_SCALE_DOWN) == 0);
    //  Exactly on the thresholds (exact in binary64): hold.
    assert_true (s_d (50, 1000, ZMESH_SCALE_HOLD) == 1.0);
    assert_true (s_d (0, 500, ZMESH_SCALE_HOLD) == 0.2);
    //  Just past them.
    s_d (50, 1000.001, ZMESH_SCALE_UP);
    s_d (0, 499.999, ZMESH_SCALE_DOWN);
    //  Huge but finite inputs: a huge finite D, a scale-up, not an error.
    assert_true (isfinite (s_d (1e308, 1e308, ZMESH_SCALE_UP)));
}

//  SCALE_UP is reported at the 3rd step in a row, not before.
static void
test_hysteresis (void **state)
{
    zmesh_scale_t scale;
    s_init (&scale, 0);
    zmesh_scale_result_t result;
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 0, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_HOLD);
    assert_int_equal (result.streak, 1);
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 1000, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_HOLD);
    assert_int_equal (result.streak, 2);
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 2000, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_UP);
    assert_int_equal (result.streak, 0);  //  counted again from the report
    assert_false (result.cooling);
    //  No cooldown here: another 3 steps, another report.
    assert_int_equal (s_step (&scale, &s_busy, 3000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 4000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 5000, ZMESH_SCALE_UP), ZMESH_SCALE_UP);
}

//  A step with another raw decision starts the count again.
static void
test_hysteresis_reset (void **state)
{
    zmesh_scale_t scale;
    s_init (&scale, 0);
    uint64_t t = 0;
    //  UP UP HOLD UP UP: nothing; the 3rd UP in a row is reported.
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_fine, t += S_CYCLE_MS, ZMESH_SCALE_HOLD),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_UP);
    //  DOWN DOWN UP DOWN DOWN DOWN: down at the last one only.
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, t += S_CYCLE_MS, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_DOWN);
    //  A hold in between costs the streak even right after a report.
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_fine, t += S_CYCLE_MS, ZMESH_SCALE_HOLD),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, t += S_CYCLE_MS, ZMESH_SCALE_DOWN),
                      ZMESH_SCALE_DOWN);
}

//  After a report, 60 s of HOLD whatever D says; a load still high at the end is reported
//  at the first step at or after the end of the cooldown.
static void
test_cooldown (void **state)
{
    zmesh_scale_t scale;
    s_init (&scale, ZMESH_SCALE_COOLDOWN_MS_DEFAULT);
    zmesh_scale_result_t result;
    assert_int_equal (s_step (&scale, &s_busy, 0, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 1000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 2000, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_UP);
    assert_int_equal (result.cooldown_until_ms, 62000);
    for (uint64_t t = 3000; t < 62000; t += S_CYCLE_MS) {
        assert_int_equal (zmesh_scale_step (&scale, &s_busy, t, &result), ZMESH_OK);
        assert_int_equal (result.raw, ZMESH_SCALE_UP);
        assert_int_equal (result.decision, ZMESH_SCALE_HOLD);
        assert_true (result.cooling);
    }
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 61999, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_HOLD);
    assert_int_equal (zmesh_scale_step (&scale, &s_busy, 62000, &result), ZMESH_OK);
    assert_int_equal (result.decision, ZMESH_SCALE_UP);
    assert_false (result.cooling);
    assert_int_equal (result.cooldown_until_ms, 122000);

    //  The opposite decision waits out the cooldown too, then goes at once (streak >= 3).
    for (uint64_t t = 63000; t < 122000; t += S_CYCLE_MS)
        assert_int_equal (s_step (&scale, &s_idle, t, ZMESH_SCALE_DOWN), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_idle, 122000, ZMESH_SCALE_DOWN), ZMESH_SCALE_DOWN);

    //  A cooldown's end does not skip the hysteresis: a streak of 1 at its end is not enough.
    for (uint64_t t = 123000; t < 182000; t += S_CYCLE_MS)
        assert_int_equal (s_step (&scale, &s_fine, t, ZMESH_SCALE_HOLD), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 182000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 183000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 184000, ZMESH_SCALE_UP), ZMESH_SCALE_UP);
}

//  cycles = 1: every step decides on its own (cooldown permitting).
static void
test_one_cycle (void **state)
{
    zmesh_scale_config_t c;
    zmesh_scale_config_defaults (&c);
    c.cycles = 1;
    c.cooldown_ms = 500;
    zmesh_scale_t scale;
    assert_int_equal (zmesh_scale_init (&scale, &c), ZMESH_OK);
    assert_int_equal (s_step (&scale, &s_idle, 0, ZMESH_SCALE_DOWN), ZMESH_SCALE_DOWN);
    assert_int_equal (s_step (&scale, &s_busy, 499, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 500, ZMESH_SCALE_UP), ZMESH_SCALE_UP);
    assert_int_equal (s_step (&scale, &s_fine, 1000, ZMESH_SCALE_HOLD), ZMESH_SCALE_HOLD);
}

//  Bad input is refused with HOLD and D 0, and leaves the streak as it was.
static void
test_bad_input (void **state)
{
    zmesh_scale_t scale;
    s_init (&scale, 0);
    const zmesh_scale_input_t bad [] = {
        {0, -1}, {0, NAN}, {0, INFINITY}, {-1, 0}, {NAN, 0}, {INFINITY, 0}, {-INFINITY, 5},
    };
    assert_int_equal (s_step (&scale, &s_busy, 0, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    assert_int_equal (s_step (&scale, &s_busy, 1000, ZMESH_SCALE_UP), ZMESH_SCALE_HOLD);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        zmesh_scale_result_t result;
        result.d = 42;
        result.decision = ZMESH_SCALE_UP;
        assert_int_equal (zmesh_scale_step (&scale, &bad [i], 1500, &result), ZMESH_EINVAL);
        assert_int_equal (result.decision, ZMESH_SCALE_HOLD);
        assert_int_equal (result.raw, ZMESH_SCALE_HOLD);
        assert_true (result.d == 0);
    }
    zmesh_scale_result_t result;
    assert_int_equal (zmesh_scale_step (&scale, NULL, 1500, &result), ZMESH_EINVAL);
    //  The streak survived: this is the 3rd good step.
    assert_int_equal (s_step (&scale, &s_busy, 2000, ZMESH_SCALE_UP), ZMESH_SCALE_UP);
}

static zmesh_scale_member_t
s_member (uint8_t id,
          zmesh_peer_state_t state,
          bool self,
          bool has_info,
          uint32_t queue,
          uint32_t latency)
{
    zmesh_scale_member_t member;
    memset (&member, 0, sizeof member);
    member.id.bytes [0] = id;
    member.id.bytes [15] = 0x77;
    member.state = state;
    member.self = self;
    member.has_info = has_info;
    member.info.queue_depth = queue;
    member.info.latency_ms = latency;
    return member;
}

//  The mesh-wide input: mean queue over the members counted (alive, suspect or this node,
//  with figures), mean latency over those with one; the lowest id of them decides.
static void
test_mesh_input (void **state)
{
    zmesh_scale_member_t members [] = {
        s_member (0x50, ZMESH_PEER_ALIVE, true, true, 10, 0),         //  this node, no latency yet
        s_member (0x60, ZMESH_PEER_ALIVE, false, true, 20, 300),      //  counted
        s_member (0x70, ZMESH_PEER_SUSPECT, false, true, 30, 100),    //  counted
        s_member (0x10, ZMESH_PEER_DEAD, false, true, 1000, 9000),    //  dead: out
        s_member (0x11, ZMESH_PEER_LEFT, false, true, 1000, 9000),    //  left: out
        s_member (0x12, ZMESH_PEER_NONE, false, true, 1000, 9000),    //  not a member: out
        s_member (0x13, ZMESH_PEER_ALIVE, false, false, 1000, 9000),  //  no figures: out
    };
    zmesh_scale_mesh_t mesh;
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, members, 7, &mesh), ZMESH_OK);
    assert_int_equal (mesh.nodes, 3);
    assert_int_equal (mesh.timed, 2);
    assert_true (fabs (mesh.input.queue_depth - 20.0) < S_EPSILON);
    assert_true (fabs (mesh.input.avg_latency_ms - 200.0) < S_EPSILON);
    assert_true (mesh.decider);  //  0x10..0x13 are lower, but not counted

    //  A live member with a lower id takes the decision over.
    members [4] = s_member (0x40, ZMESH_PEER_SUSPECT, false, true, 0, 0);
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, members, 7, &mesh), ZMESH_OK);
    assert_int_equal (mesh.nodes, 4);
    assert_int_equal (mesh.timed, 2);
    assert_true (fabs (mesh.input.queue_depth - 15.0) < S_EPSILON);
    assert_false (mesh.decider);

    //  This node counts whatever its own state says.
    members [4].state = ZMESH_PEER_DEAD;
    members [0].state = ZMESH_PEER_SUSPECT;
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, members, 7, &mesh), ZMESH_OK);
    assert_int_equal (mesh.nodes, 3);
    assert_true (mesh.decider);

    //  Alone, or with nobody counted: zero figures; the node decides for itself.
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, members, 1, &mesh), ZMESH_OK);
    assert_int_equal (mesh.nodes, 1);
    assert_true (mesh.input.queue_depth == 10 && mesh.input.avg_latency_ms == 0);
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, NULL, 0, &mesh), ZMESH_OK);
    assert_int_equal (mesh.nodes, 0);
    assert_true (mesh.input.queue_depth == 0 && mesh.input.avg_latency_ms == 0);
    assert_true (mesh.decider);

    //  Figures at their largest do not overflow the means.
    zmesh_scale_member_t big [2] = {
        s_member (1, ZMESH_PEER_ALIVE, true, true, UINT32_MAX, UINT32_MAX),
        s_member (2, ZMESH_PEER_ALIVE, false, true, UINT32_MAX, UINT32_MAX),
    };
    assert_int_equal (zmesh_scale_mesh_input (&big [0].id, big, 2, &mesh), ZMESH_OK);
    assert_true (mesh.input.queue_depth == (double) UINT32_MAX);
    assert_true (mesh.input.avg_latency_ms == (double) UINT32_MAX);
    zmesh_scale_t scale;
    s_init (&scale, 0);
    zmesh_scale_result_t result;
    assert_int_equal (zmesh_scale_step (&scale, &mesh.input, 0, &result), ZMESH_OK);
    assert_int_equal (result.raw, ZMESH_SCALE_UP);

    //  Bad arguments.
    assert_int_equal (zmesh_scale_mesh_input (NULL, members, 7, &mesh), ZMESH_EINVAL);
    assert_false (mesh.decider);
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, NULL, 3, &mesh), ZMESH_EINVAL);
    assert_int_equal (zmesh_scale_mesh_input (&members [0].id, members, 7, NULL), ZMESH_EINVAL);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),     cmocka_unit_test (test_figure),
        cmocka_unit_test (test_hysteresis), cmocka_unit_test (test_hysteresis_reset),
        cmocka_unit_test (test_cooldown),   cmocka_unit_test (test_one_cycle),
        cmocka_unit_test (test_bad_input),  cmocka_unit_test (test_mesh_input),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
