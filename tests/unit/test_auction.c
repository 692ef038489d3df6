/*  test_auction.c: the owner's rounds of bids (zmesh_auction.h), rule by rule, with the
    answers a hostile or confused peer could send. */
#include "zmesh_auction.h"
#include "zmesh_error.h"
#include "zmesh_place.h"
#include "zmesh_task.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define S_WAIT  ZMESH_AUCTION_WAIT_MS_DEFAULT
#define S_VALID ZMESH_AUCTION_VALID_MS_DEFAULT

static zmesh_id_t
s_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    id.bytes [0] = (uint8_t) n;
    id.bytes [1] = (uint8_t) (n >> 8);
    id.bytes [15] = 0x5A;
    return id;
}

//  A call for tasks of handler, with cpu millicores (what tells kinds apart in these tests).
static zmesh_task_call_t
s_call (const char *handler, uint32_t cpu)
{
    zmesh_task_call_t call;
    memset (&call, 0, sizeof call);
    snprintf (call.handler, sizeof call.handler, "%s", handler);
    call.cpu_millicores = cpu;
    return call;
}

static zmesh_task_bid_t
s_bid (uint32_t call_id, bool able, uint32_t permille)
{
    zmesh_task_bid_t bid = {.call_id = call_id, .able = able, .permille = permille};
    return bid;
}

//  Opens a round for call at now, asks nodes 1..asked, says sent; returns its id.
static uint32_t
s_open (zmesh_auction_t *auction, const zmesh_task_call_t *call, uint64_t now, uint32_t asked)
{
    zmesh_auction_round_t round;
    assert_int_equal (zmesh_auction_round (auction, call, now, &round), ZMESH_OK);
    assert_true (round.opened);
    assert_int_equal (round.state, ZMESH_AUCTION_OPEN);
    assert_int_not_equal (round.call_id, 0);
    for (uint32_t n = 1; n <= asked; n++) {
        zmesh_id_t id = s_id (n);
        assert_int_equal (zmesh_auction_ask (auction, round.call_id, &id), ZMESH_OK);
    }
    zmesh_auction_state_t state;
    assert_int_equal (zmesh_auction_sent (auction, round.call_id, now, &state), ZMESH_OK);
    assert_int_equal (state, asked ? ZMESH_AUCTION_OPEN : ZMESH_AUCTION_CLOSED);
    return round.call_id;
}

//  A bid from node n; returns the core's code, checks whether it closed the round.
static int
s_answer (zmesh_auction_t *auction, uint32_t n, zmesh_task_bid_t bid, uint64_t now, bool closes)
{
    zmesh_id_t from = s_id (n);
    bool closed = !closes;
    int rc = zmesh_auction_bid (auction, &from, &bid, now, &closed);
    assert_int_equal (closed, closes);
    return rc;
}

//  Candidates 1..count, eligible, no bid.
static void
s_candidates (zmesh_place_node_t *nodes, uint32_t count)
{
    memset (nodes, 0, count * sizeof nodes [0]);
    for (uint32_t i = 0; i < count; i++) {
        nodes [i].id = s_id (i + 1);
        nodes [i].eligible = true;
        nodes [i].all_handlers = true;
        nodes [i].cpu_cores = 4;
        nodes [i].slots = 4;
        nodes [i].mem_available_bytes = 1ull << 30;
    }
}

static void
test_config (void **state)
{
    zmesh_auction_config_t config;
    zmesh_auction_config_defaults (&config);
    assert_int_equal (config.wait_ms, 50);
    assert_int_equal (config.valid_ms, 500);
    assert_int_equal (config.rounds_max, 64);
    assert_int_equal (config.nodes_max, ZMESH_AUCTION_NODES_MAX_DEFAULT);
    assert_int_equal (zmesh_auction_config_check (&config), ZMESH_OK);
    assert_int_equal (zmesh_auction_config_check (NULL), ZMESH_EINVAL);
    zmesh_auction_config_t bad [8];
    for (int i = 0; i < 8; i++)
        bad [i] = config;
    bad [0].wait_ms = 0;
    bad [1].wait_ms = ZMESH_AUCTION_WAIT_MS_LIMIT + 1;
    bad [2].valid_ms = 0;  //  a round would expire as it closes: tasks would call for ever
    bad [3].valid_ms = ZMESH_AUCTION_VALID_MS_LIMIT + 1;
    bad [4].rounds_max = 0;
    bad [5].rounds_max = ZMESH_AUCTION_ROUNDS_LIMIT + 1;
    bad [6].nodes_max = 0;
    bad [7].nodes_max = ZMESH_AUCTION_NODES_LIMIT + 1;
    for (int i = 0; i < 8; i++) {
        assert_int_equal (zmesh_auction_config_check (&bad [i]), ZMESH_EINVAL);
        assert_null (zmesh_auction_new (&bad [i]));
    }
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    assert_non_null (auction);
    assert_int_equal (zmesh_auction_deadline_ms (auction), UINT64_MAX);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.rounds, 0);
    assert_int_equal (stats.opened, 0);
    zmesh_auction_destroy (&auction);
    assert_null (auction);
    zmesh_auction_destroy (&auction);
}

//  Rounds are shared by the handler and needs; not by the call's id or perf_best_us.
static void
test_alike (void **state)
{
    zmesh_task_call_t a = s_call ("echo", 500), b = a;
    b.id = 77;
    b.perf_best_us = 1234;
    assert_true (zmesh_auction_alike (&a, &b));
    b = a;
    snprintf (b.handler, sizeof b.handler, "echo2");
    assert_false (zmesh_auction_alike (&a, &b));
    b = a;
    b.cpu_millicores = 501;
    assert_false (zmesh_auction_alike (&a, &b));
    b = a;
    b.memory_bytes = 1;
    assert_false (zmesh_auction_alike (&a, &b));
    b = a;
    b.gpus = 1;
    assert_false (zmesh_auction_alike (&a, &b));
    a.tag_count = 2;
    snprintf (a.tags [0], sizeof a.tags [0], "gpu");
    snprintf (a.tags [1], sizeof a.tags [1], "ssd");
    b = a;
    assert_true (zmesh_auction_alike (&a, &b));
    b.tags [0][10] = 'x';  //  after the NUL: the same tag
    assert_true (zmesh_auction_alike (&a, &b));
    b.tag_count = 1;
    assert_false (zmesh_auction_alike (&a, &b));
    b = a;
    snprintf (b.tags [0], sizeof b.tags [0], "ssd");
    snprintf (b.tags [1], sizeof b.tags [1], "gpu");
    assert_false (zmesh_auction_alike (&a, &b));  //  another order: another round
}

//  A round opens with a fresh id, is shared while open and while valid, closes when the last
//  node asked answers (at once, no wait), serves its bids for valid_ms, then a new one opens.
static void
test_round_life (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 1000, 3);
    assert_int_equal (zmesh_auction_deadline_ms (auction), 1000 + S_WAIT);
    assert_int_equal (zmesh_auction_state (auction, id, 1000), ZMESH_AUCTION_OPEN);

    zmesh_auction_round_t round;
    assert_int_equal (zmesh_auction_round (auction, &call, 1010, &round), ZMESH_OK);
    assert_false (round.opened);
    assert_int_equal (round.call_id, id);
    assert_int_equal (round.state, ZMESH_AUCTION_OPEN);
    zmesh_place_node_t nodes [4];
    s_candidates (nodes, 4);
    assert_int_equal (zmesh_auction_apply (auction, id, 1010, nodes, 4), ZMESH_ESTATE);

    assert_int_equal (s_answer (auction, 2, s_bid (id, true, 700), 1011, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 1, s_bid (id, false, 0), 1012, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 3, s_bid (id, true, 250), 1013, true), ZMESH_OK);
    assert_int_equal (zmesh_auction_state (auction, id, 1013), ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_deadline_ms (auction), UINT64_MAX);
    assert_int_equal (zmesh_auction_tick (auction, 1013 + S_WAIT), 0);  //  closed already

    assert_int_equal (zmesh_auction_round (auction, &call, 1100, &round), ZMESH_OK);
    assert_false (round.opened);
    assert_int_equal (round.state, ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_apply (auction, id, 1100, nodes, 4), ZMESH_OK);
    assert_false (nodes [0].eligible);  //  1 answered unable
    assert_false (nodes [0].has_bid);
    assert_true (nodes [1].eligible && nodes [1].has_bid);
    assert_int_equal (nodes [1].bid_permille, 700);
    assert_true (nodes [2].has_bid);
    assert_int_equal (nodes [2].bid_permille, 250);
    assert_true (nodes [3].eligible);  //  4 was not asked: its bid is the shell's to compute
    assert_false (nodes [3].has_bid);

    //  Valid until 1013 + 500: then expired, and the next lookup opens a new round.
    assert_int_equal (zmesh_auction_state (auction, id, 1512), ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_state (auction, id, 1513), ZMESH_AUCTION_EXPIRED);
    s_candidates (nodes, 4);
    assert_int_equal (zmesh_auction_apply (auction, id, 1513, nodes, 4), ZMESH_ETIMEOUT);
    assert_true (nodes [0].eligible);
    uint32_t next = s_open (auction, &call, 1513, 1);
    assert_int_not_equal (next, id);
    assert_int_equal (zmesh_auction_state (auction, id, 1513), ZMESH_AUCTION_NONE);
    //  A bid for the expired round names no round now.
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 1), 1514, false), ZMESH_ENOTFOUND);

    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.opened, 2);
    assert_int_equal (stats.closed_answers, 1);
    assert_int_equal (stats.closed_deadline, 0);
    assert_int_equal (stats.expired, 1);
    assert_int_equal (stats.asked, 4);
    assert_int_equal (stats.bids, 4);
    assert_int_equal (stats.bids_accepted, 3);
    assert_int_equal (stats.bids_unable, 1);
    assert_int_equal (stats.ignored_unknown, 1);
    assert_int_equal (stats.rounds, 1);
    assert_int_equal (stats.open, 1);
    zmesh_auction_destroy (&auction);
}

//  A round with answers missing closes at its deadline (tick), with the bids it has; a bid
//  that comes after is ignored and changes nothing (protocol.md 8.14: "bids of a closed
//  round are ignored"; the balancer used to record it into the closed round).
static void
test_deadline_and_late_bid (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 0, 2);
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 400), 10, false), ZMESH_OK);
    assert_int_equal (zmesh_auction_deadline_ms (auction), S_WAIT);
    assert_int_equal (zmesh_auction_tick (auction, S_WAIT - 1), 0);
    assert_int_equal (zmesh_auction_state (auction, id, S_WAIT - 1), ZMESH_AUCTION_OPEN);
    assert_int_equal (zmesh_auction_tick (auction, S_WAIT), 1);
    assert_int_equal (zmesh_auction_state (auction, id, S_WAIT), ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_deadline_ms (auction), UINT64_MAX);

    assert_int_equal (s_answer (auction, 2, s_bid (id, true, 900), S_WAIT + 1, false),
                      ZMESH_ETIMEOUT);
    zmesh_place_node_t nodes [2];
    s_candidates (nodes, 2);
    assert_int_equal (zmesh_auction_apply (auction, id, S_WAIT + 1, nodes, 2), ZMESH_OK);
    assert_true (nodes [0].has_bid);
    assert_int_equal (nodes [0].bid_permille, 400);
    assert_false (nodes [1].has_bid);  //  silent until the close: computed by the shell
    //  Valid from the close: until S_WAIT + 500.
    assert_int_equal (zmesh_auction_state (auction, id, S_WAIT + S_VALID - 1),
                      ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_state (auction, id, S_WAIT + S_VALID), ZMESH_AUCTION_EXPIRED);

    //  A tick late (the shell was busy): the round closes then, valid from then.
    uint32_t other = s_open (auction, &(zmesh_task_call_t){.handler = "other"}, 100, 1);
    assert_int_equal (zmesh_auction_tick (auction, 100 + S_WAIT + 30), 1);
    assert_int_equal (zmesh_auction_state (auction, other, 100 + S_WAIT + 30 + S_VALID - 1),
                      ZMESH_AUCTION_CLOSED);

    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.closed_deadline, 2);
    assert_int_equal (stats.ignored_late, 1);
    assert_int_equal (stats.bids_accepted, 1);
    zmesh_auction_destroy (&auction);
}

//  Nobody to ask: the round closes at once, every bid computed by the shell.
static void
test_nobody_asked (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 5, 0);
    assert_int_equal (zmesh_auction_state (auction, id, 5), ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_deadline_ms (auction), UINT64_MAX);
    zmesh_place_node_t nodes [3];
    s_candidates (nodes, 3);
    assert_int_equal (zmesh_auction_apply (auction, id, 5, nodes, 3), ZMESH_OK);
    for (int i = 0; i < 3; i++)
        assert_true (nodes [i].eligible && !nodes [i].has_bid);
    assert_int_equal (zmesh_auction_apply (auction, id, 5, NULL, 0), ZMESH_OK);
    assert_int_equal (zmesh_auction_apply (auction, id, 5, NULL, 1), ZMESH_EINVAL);
    //  Anybody's bid for it is late.
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 5), 6, false), ZMESH_ETIMEOUT);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.closed_empty, 1);
    assert_int_equal (stats.closed_answers, 0);
    zmesh_auction_destroy (&auction);
}

//  What a hostile or confused node may send: each ignored, counted, and without effect.
static void
test_hostile_bids (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 0, 2);
    //  Malformed: a permille above 1000, or not able with a permille.
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 1001), 1, false), ZMESH_EPROTO);
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, UINT32_MAX), 1, false), ZMESH_EPROTO);
    assert_int_equal (s_answer (auction, 1, s_bid (id, false, 3), 1, false), ZMESH_EPROTO);
    //  From a node not asked.
    assert_int_equal (s_answer (auction, 9, s_bid (id, true, 1000), 2, false), ZMESH_EINVAL);
    //  For a round that does not exist (a forged id, and 0, never used).
    assert_int_equal (s_answer (auction, 1, s_bid (id + 1000, true, 1000), 3, false),
                      ZMESH_ENOTFOUND);
    assert_int_equal (s_answer (auction, 1, s_bid (0, true, 1000), 3, false), ZMESH_ENOTFOUND);
    //  The first answer counts; a second, of any kind, is ignored.
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 100), 4, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 1000), 5, false), ZMESH_ESTATE);
    assert_int_equal (s_answer (auction, 1, s_bid (id, false, 0), 5, false), ZMESH_ESTATE);
    //  None of it closed the round; the real last answer does.
    assert_int_equal (zmesh_auction_state (auction, id, 6), ZMESH_AUCTION_OPEN);
    assert_int_equal (s_answer (auction, 2, s_bid (id, false, 0), 6, true), ZMESH_OK);
    zmesh_place_node_t nodes [9];
    s_candidates (nodes, 9);
    assert_int_equal (zmesh_auction_apply (auction, id, 6, nodes, 9), ZMESH_OK);
    assert_int_equal (nodes [0].bid_permille, 100);
    assert_false (nodes [1].eligible);
    assert_true (nodes [8].eligible);
    assert_false (nodes [8].has_bid);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.bids, 10);
    assert_int_equal (stats.ignored_malformed, 3);
    assert_int_equal (stats.ignored_not_asked, 1);
    assert_int_equal (stats.ignored_unknown, 2);
    assert_int_equal (stats.ignored_duplicate, 2);
    assert_int_equal (stats.bids_accepted, 2);
    assert_int_equal (stats.bids_unable, 1);
    assert_int_equal (stats.bids, stats.bids_accepted + stats.ignored_unknown + stats.ignored_late
                                      + stats.ignored_not_asked + stats.ignored_duplicate
                                      + stats.ignored_malformed);
    zmesh_auction_destroy (&auction);
}

//  The decoder lets no permille above 1000 through either (the core checks it anyway).
static void
test_codec_permille (void **state)
{
    uint8_t buf [128];
    size_t size;
    zmesh_id_t sender = s_id (1);
    zmesh_task_bid_t bid = s_bid (7, true, 1001);
    assert_int_equal (zmesh_task_encode_bid (buf, sizeof buf, &sender, NULL, &bid, &size),
                      ZMESH_EINVAL);
    bid.permille = 1000;
    assert_int_equal (zmesh_task_encode_bid (buf, sizeof buf, &sender, NULL, &bid, &size),
                      ZMESH_OK);
    //  1000 is packed as uint16 (cd 03 e8), the last field: make it 1001.
    assert_true (size >= 3 && buf [size - 3] == 0xcd && buf [size - 1] == 0xe8);
    static zmesh_task_msg_t msg;
    assert_int_equal (zmesh_task_envelope_decode (&msg, NULL, buf, size), ZMESH_OK);
    assert_int_equal (msg.bid.permille, 1000);
    buf [size - 1] = 0xe9;
    assert_int_equal (zmesh_task_envelope_decode (&msg, NULL, buf, size), ZMESH_EPROTO);
}

//  At most rounds_max rounds: a new one drops the closed round that closed first; when every
//  round kept is open, none opens (ZMESH_ELIMIT): an open round, which tasks wait for, is
//  never dropped.
static void
test_rounds_max (void **state)
{
    zmesh_auction_config_t config;
    zmesh_auction_config_defaults (&config);
    config.rounds_max = 3;
    zmesh_auction_t *auction = zmesh_auction_new (&config);
    uint32_t ids [6];
    for (uint32_t i = 0; i < 3; i++) {
        zmesh_task_call_t call = s_call ("echo", i);
        ids [i] = s_open (auction, &call, i, 1);
    }
    //  All 3 open: a 4th kind gets no round, and nothing changes.
    zmesh_task_call_t call = s_call ("echo", 3);
    zmesh_auction_round_t round;
    assert_int_equal (zmesh_auction_round (auction, &call, 3, &round), ZMESH_ELIMIT);
    assert_false (round.opened);
    assert_int_equal (round.call_id, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal (zmesh_auction_state (auction, ids [i], 3), ZMESH_AUCTION_OPEN);
    //  A kind that has its round still finds it.
    call = s_call ("echo", 1);
    assert_int_equal (zmesh_auction_round (auction, &call, 3, &round), ZMESH_OK);
    assert_int_equal (round.call_id, ids [1]);

    //  ids [2] closes, then ids [1]: the 4th kind takes the place of ids [2], which closed
    //  first, although ids [1] is older.
    assert_int_equal (s_answer (auction, 1, s_bid (ids [2], true, 10), 4, true), ZMESH_OK);
    assert_int_equal (s_answer (auction, 1, s_bid (ids [1], true, 10), 5, true), ZMESH_OK);
    call = s_call ("echo", 3);
    assert_int_equal (zmesh_auction_round (auction, &call, 6, &round), ZMESH_OK);
    assert_true (round.opened);
    ids [3] = round.call_id;
    zmesh_id_t one = s_id (1);
    assert_int_equal (zmesh_auction_ask (auction, ids [3], &one), ZMESH_OK);
    assert_int_equal (zmesh_auction_sent (auction, ids [3], 6, NULL), ZMESH_OK);
    assert_int_equal (zmesh_auction_state (auction, ids [2], 6), ZMESH_AUCTION_NONE);
    assert_int_equal (zmesh_auction_state (auction, ids [1], 6), ZMESH_AUCTION_CLOSED);
    //  The dropped round's bids name no round now.
    assert_int_equal (s_answer (auction, 2, s_bid (ids [2], true, 10), 7, false), ZMESH_ENOTFOUND);
    //  Next goes ids [1] (closed); then all open again: refused.
    call = s_call ("echo", 4);
    ids [4] = s_open (auction, &call, 8, 1);
    assert_int_equal (zmesh_auction_state (auction, ids [1], 8), ZMESH_AUCTION_NONE);
    call = s_call ("echo", 5);
    assert_int_equal (zmesh_auction_round (auction, &call, 9, &round), ZMESH_ELIMIT);
    //  Every id distinct.
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_int_not_equal (ids [i], ids [j]);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.rounds, 3);
    assert_int_equal (stats.open, 3);
    assert_int_equal (stats.opened, 5);
    assert_int_equal (stats.dropped_room, 2);
    assert_int_equal (stats.refused_full, 2);
    assert_int_equal (stats.opened, stats.closed_answers + stats.closed_empty
                                        + stats.closed_deadline + stats.open);

    //  rounds_max 1: the one round is the only one while open; once closed, the next kind
    //  takes its place.
    zmesh_auction_destroy (&auction);
    config.rounds_max = 1;
    auction = zmesh_auction_new (&config);
    call = s_call ("a", 0);
    ids [0] = s_open (auction, &call, 0, 1);
    call = s_call ("b", 0);
    assert_int_equal (zmesh_auction_round (auction, &call, 1, &round), ZMESH_ELIMIT);
    assert_int_equal (zmesh_auction_tick (auction, S_WAIT), 1);
    ids [1] = s_open (auction, &call, S_WAIT, 1);
    assert_int_equal (zmesh_auction_state (auction, ids [0], S_WAIT), ZMESH_AUCTION_NONE);
    zmesh_auction_destroy (&auction);
}

//  Asking: only before sent, a node twice counts once, at most nodes_max.
static void
test_ask (void **state)
{
    zmesh_auction_config_t config;
    zmesh_auction_config_defaults (&config);
    config.nodes_max = 2;
    zmesh_auction_t *auction = zmesh_auction_new (&config);
    zmesh_id_t one = s_id (1), two = s_id (2), three = s_id (3);
    assert_int_equal (zmesh_auction_ask (auction, 42, &one), ZMESH_ENOTFOUND);
    assert_int_equal (zmesh_auction_sent (auction, 42, 0, NULL), ZMESH_ENOTFOUND);
    zmesh_auction_round_t round;
    zmesh_task_call_t call = s_call ("echo", 0);
    assert_int_equal (zmesh_auction_round (auction, &call, 0, &round), ZMESH_OK);
    uint32_t id = round.call_id;
    assert_int_equal (zmesh_auction_ask (auction, id, &one), ZMESH_OK);
    assert_int_equal (zmesh_auction_ask (auction, id, &one), ZMESH_OK);
    assert_int_equal (zmesh_auction_ask (auction, id, &two), ZMESH_ELIMIT);
    assert_int_equal (zmesh_auction_sent (auction, id, 0, NULL), ZMESH_OK);
    assert_int_equal (zmesh_auction_sent (auction, id, 0, NULL), ZMESH_ESTATE);
    assert_int_equal (zmesh_auction_ask (auction, id, &three), ZMESH_ESTATE);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.asked, 1);  //  node 1 once
    //  Its one answer closes the round.
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 10), 1, true), ZMESH_OK);
    assert_int_equal (s_answer (auction, 2, s_bid (id, true, 10), 1, false), ZMESH_ETIMEOUT);
    zmesh_auction_destroy (&auction);
}

//  Answers that come before the shell said sent count; sent then closes a round that has
//  them all. A round never said sent closes at its deadline with what it asked.
static void
test_answer_before_sent (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    zmesh_auction_round_t round;
    assert_int_equal (zmesh_auction_round (auction, &call, 0, &round), ZMESH_OK);
    zmesh_id_t one = s_id (1), two = s_id (2);
    assert_int_equal (zmesh_auction_ask (auction, round.call_id, &one), ZMESH_OK);
    assert_int_equal (s_answer (auction, 1, s_bid (round.call_id, true, 5), 0, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 2, s_bid (round.call_id, true, 5), 0, false),
                      ZMESH_EINVAL);  //  not asked (yet)
    zmesh_auction_state_t state_after;
    assert_int_equal (zmesh_auction_sent (auction, round.call_id, 1, &state_after), ZMESH_OK);
    assert_int_equal (state_after, ZMESH_AUCTION_CLOSED);

    call = s_call ("echo", 1);
    assert_int_equal (zmesh_auction_round (auction, &call, 10, &round), ZMESH_OK);
    assert_int_equal (zmesh_auction_ask (auction, round.call_id, &one), ZMESH_OK);
    assert_int_equal (zmesh_auction_ask (auction, round.call_id, &two), ZMESH_OK);
    assert_int_equal (zmesh_auction_ask (auction, round.call_id, &one), ZMESH_OK);
    assert_int_equal (s_answer (auction, 2, s_bid (round.call_id, true, 9), 11, false), ZMESH_OK);
    assert_int_equal (zmesh_auction_tick (auction, 10 + S_WAIT), 1);
    zmesh_place_node_t nodes [2];
    s_candidates (nodes, 2);
    assert_int_equal (zmesh_auction_apply (auction, round.call_id, 10 + S_WAIT, nodes, 2),
                      ZMESH_OK);
    assert_false (nodes [0].has_bid);
    assert_int_equal (nodes [1].bid_permille, 9);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.asked, 3);  //  1; then 1 and 2
    assert_int_equal (stats.closed_answers, 1);
    assert_int_equal (stats.closed_deadline, 1);
    zmesh_auction_destroy (&auction);
}

//  Calls the wire could not carry are refused and change nothing; time that goes backwards
//  is taken as the latest seen.
static void
test_bad_call_and_time (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_auction_round_t round;
    zmesh_task_call_t call = s_call ("echo", 0);
    call.tag_count = ZMESH_TASK_TAGS_MAX + 1;
    assert_int_equal (zmesh_auction_round (auction, &call, 0, &round), ZMESH_EINVAL);
    call = s_call ("echo", 0);
    memset (call.handler, 'x', sizeof call.handler);
    assert_int_equal (zmesh_auction_round (auction, &call, 0, &round), ZMESH_EINVAL);
    call = s_call ("echo", 0);
    call.tag_count = 1;
    memset (call.tags [0], 'x', sizeof call.tags [0]);
    assert_int_equal (zmesh_auction_round (auction, &call, 0, &round), ZMESH_EINVAL);
    assert_int_equal (zmesh_auction_round (auction, NULL, 0, &round), ZMESH_EINVAL);
    zmesh_auction_stats_t stats;
    zmesh_auction_stats (auction, &stats);
    assert_int_equal (stats.opened, 0);

    call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 1000, 1);
    assert_int_equal (zmesh_auction_deadline_ms (auction), 1000 + S_WAIT);
    //  An earlier time: the round does not close early, and closes later at its deadline.
    assert_int_equal (zmesh_auction_tick (auction, 10), 0);
    assert_int_equal (s_answer (auction, 1, s_bid (id, true, 1), 5, true), ZMESH_OK);
    //  Closed "at 5", that is at 1000: valid until 1500.
    assert_int_equal (zmesh_auction_state (auction, id, 1499), ZMESH_AUCTION_CLOSED);
    assert_int_equal (zmesh_auction_state (auction, id, 1500), ZMESH_AUCTION_EXPIRED);
    zmesh_auction_destroy (&auction);
}

//  With the bids applied, placement by auction never picks a node that said unable, and
//  picks the highest bid.
static void
test_choose (void **state)
{
    zmesh_auction_t *auction = zmesh_auction_new (NULL);
    zmesh_task_call_t call = s_call ("echo", 0);
    uint32_t id = s_open (auction, &call, 0, 3);
    assert_int_equal (s_answer (auction, 1, s_bid (id, false, 0), 1, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 2, s_bid (id, true, 300), 1, false), ZMESH_OK);
    assert_int_equal (s_answer (auction, 3, s_bid (id, true, 600), 1, true), ZMESH_OK);
    zmesh_place_node_t nodes [3];
    s_candidates (nodes, 3);
    assert_int_equal (zmesh_auction_apply (auction, id, 2, nodes, 3), ZMESH_OK);
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    snprintf (request.handler, sizeof request.handler, "echo");
    request.strategy = ZMESH_PLACE_AUCTION;
    request.replicas = 3;
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 3, NULL, NULL, &result), ZMESH_OK);
    assert_int_equal (result.count, 2);  //  node 1 is out
    assert_int_equal (result.nodes [0], 2);
    assert_int_equal (result.nodes [1], 1);
    zmesh_auction_destroy (&auction);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_alike),
        cmocka_unit_test (test_round_life),
        cmocka_unit_test (test_deadline_and_late_bid),
        cmocka_unit_test (test_nobody_asked),
        cmocka_unit_test (test_hostile_bids),
        cmocka_unit_test (test_codec_permille),
        cmocka_unit_test (test_rounds_max),
        cmocka_unit_test (test_ask),
        cmocka_unit_test (test_answer_before_sent),
        cmocka_unit_test (test_bad_call_and_time),
        cmocka_unit_test (test_choose),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
