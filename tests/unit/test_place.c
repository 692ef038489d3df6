/*  test_place.c: task placement: the filter and its threshold, each score term's direction
    and value, the weights, sampling (deterministic for a seed, covering every node, best of
    the sample), the local preference by load, the auction's bid, the consistent-hash ring
    (stable, order-independent, balanced, minimal disruption), r distinct nodes for every
    strategy, ZMESH_ENOTFOUND, the moving average, and nodes full of garbage.
*/
#include "zmesh_error.h"
#include "zmesh_place.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#define S_EPSILON 1e-12
#define S_GIB     (1024ull * 1024 * 1024)
#define S_NODES   64

static zmesh_id_t
s_id (uint32_t n)
{
    zmesh_id_t id;
    memset (&id, 0, sizeof id);
    memcpy (id.bytes, &n, sizeof n);
    return id;
}

static uint32_t
s_n (const zmesh_place_node_t *node)
{
    uint32_t n;
    memcpy (&n, node->id.bytes, sizeof n);
    return n;
}

//  A healthy idle remote node with every handler: 8 cores, 16 GiB, 4 slots, 0.5 ms away.
static zmesh_place_node_t
s_node (uint32_t n)
{
    zmesh_place_node_t node;
    memset (&node, 0, sizeof node);
    node.id = s_id (n);
    node.eligible = true;
    node.cpu_cores = 8;
    node.mem_available_bytes = 16 * S_GIB;
    node.slots = 4;
    node.rtt_us = 500;
    node.all_handlers = true;
    return node;
}

static void
s_tag (zmesh_place_node_t *node, const char *tag)
{
    strcpy (node->tags [node->tag_count++], tag);
}

static void
s_handler (zmesh_place_node_t *node, const char *handler)
{
    node->all_handlers = false;
    strcpy (node->handlers [node->handler_count++], handler);
}

static zmesh_place_request_t
s_request (zmesh_place_strategy_t strategy)
{
    zmesh_place_request_t request;
    zmesh_place_request_init (&request);
    strcpy (request.handler, "work");
    request.strategy = strategy;
    request.task_id = s_id (0xABCD);
    return request;
}

static void
s_require (zmesh_place_request_t *request, const char *tag)
{
    strcpy (request->tags [request->tag_count++], tag);
}

static double
s_match_of (const zmesh_place_config_t *config,
            const zmesh_place_request_t *request,
            const zmesh_place_node_t *node,
            bool passes)
{
    double match = -1;
    assert_int_equal (zmesh_place_match (config, request, node, &match), passes);
    return match;
}

static zmesh_place_terms_t
s_terms (const zmesh_place_config_t *config,
         const zmesh_place_request_t *request,
         const zmesh_place_node_t *node,
         double perf_best_ms)
{
    zmesh_place_terms_t terms;
    assert_int_equal (zmesh_place_terms (config, request, node, perf_best_ms, &terms), ZMESH_OK);
    return terms;
}

//  The one node choose (or scan) picks.
static uint32_t
s_choose_one (const zmesh_place_config_t *config,
              const zmesh_place_request_t *request,
              const zmesh_place_node_t *nodes,
              uint32_t count,
              uint64_t *rng,
              zmesh_place_result_t *result)
{
    assert_int_equal (zmesh_place_choose (config, request, nodes, count, NULL, rng, result),
                      ZMESH_OK);
    assert_true (result->count >= 1);
    return result->nodes [0];
}

static uint32_t
s_scan_one (const zmesh_place_config_t *config,
            const zmesh_place_request_t *request,
            const zmesh_place_node_t *nodes,
            uint32_t count)
{
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_scan (config, request, nodes, count, &result), ZMESH_OK);
    assert_true (result.count >= 1);
    return result.nodes [0];
}

//  --------------------------------------------------------------------------------------------

static void
test_config (void **state)
{
    zmesh_place_config_t c;
    zmesh_place_config_defaults (&c);
    assert_int_equal (c.match_threshold_permille, 700);
    assert_int_equal (c.sample, 2);
    assert_int_equal (c.local_threshold_permille, 500);
    assert_int_equal (c.rtt_ref_us, 1000);
    assert_int_equal (c.ring_vnodes, 64);
    assert_int_equal (c.weight_queue + c.weight_cpu + c.weight_perf + c.weight_latency
                          + c.weight_memory + c.weight_cost + c.weight_match + c.weight_gpu,
                      1000);
    assert_int_equal (c.bid_capability, 400);
    assert_int_equal (c.bid_load, 300);
    assert_int_equal (c.bid_perf, 200);
    assert_int_equal (c.bid_availability, 100);
    assert_int_equal (zmesh_place_config_check (&c), ZMESH_OK);
    assert_int_equal (zmesh_place_config_check (NULL), ZMESH_EINVAL);

    zmesh_place_config_t bad [12];
    for (int i = 0; i < 12; i++)
        bad [i] = c;
    bad [0].match_threshold_permille = 1001;
    bad [1].local_threshold_permille = 1001;
    bad [2].sample = ZMESH_PLACE_SAMPLE_LIMIT + 1;
    bad [3].rtt_ref_us = 0;
    bad [4].ring_vnodes = 0;
    bad [5].ring_vnodes = ZMESH_PLACE_RING_VNODES_LIMIT + 1;
    bad [6].weight_cost = 1001;
    bad [7].bid_availability = 1001;
    bad [8].weight_queue = bad [8].weight_cpu = bad [8].weight_perf = bad [8].weight_latency = 0;
    bad [8].weight_memory = bad [8].weight_cost = bad [8].weight_match = bad [8].weight_gpu = 0;
    bad [9].bid_capability = bad [9].bid_load = bad [9].bid_perf = bad [9].bid_availability = 0;
    bad [10].weight_gpu = UINT32_MAX;
    bad [11].sample = UINT32_MAX;
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_node_t node = s_node (1);
    uint64_t rng = 1;
    for (int i = 0; i < 12; i++) {
        assert_int_equal (zmesh_place_config_check (&bad [i]), ZMESH_ECONFIG);
        zmesh_place_result_t result;
        assert_int_equal (zmesh_place_choose (&bad [i], &request, &node, 1, NULL, &rng, &result),
                          ZMESH_ECONFIG);
        assert_int_equal (result.count, 0);
        assert_int_equal (zmesh_place_scan (&bad [i], &request, &node, 1, &result), ZMESH_ECONFIG);
        assert_false (zmesh_place_match (&bad [i], &request, &node, NULL));
    }
    //  The edges are allowed.
    zmesh_place_config_t edge = c;
    edge.match_threshold_permille = 1000;
    edge.local_threshold_permille = 0;
    edge.sample = 0;
    edge.ring_vnodes = ZMESH_PLACE_RING_VNODES_LIMIT;
    edge.weight_queue = edge.weight_cpu = edge.weight_perf = edge.weight_latency = 0;
    edge.weight_memory = edge.weight_match = edge.weight_gpu = 0;
    edge.weight_cost = 1000;
    assert_int_equal (zmesh_place_config_check (&edge), ZMESH_OK);

    zmesh_place_strategy_t strategy;
    assert_string_equal (zmesh_place_strategy_name (ZMESH_PLACE_SCORE), "score");
    assert_string_equal (zmesh_place_strategy_name (ZMESH_PLACE_AUCTION), "auction");
    assert_string_equal (zmesh_place_strategy_name (ZMESH_PLACE_HASH), "hash");
    assert_string_equal (zmesh_place_strategy_name (ZMESH_PLACE_LOCAL), "local");
    assert_string_equal (zmesh_place_strategy_name (4), "?");
    assert_string_equal (zmesh_place_strategy_name (-1), "?");
    assert_int_equal (zmesh_place_strategy_parse ("Auction", &strategy), ZMESH_OK);
    assert_int_equal (strategy, ZMESH_PLACE_AUCTION);
    assert_int_equal (zmesh_place_strategy_parse ("HASH", &strategy), ZMESH_OK);
    assert_int_equal (strategy, ZMESH_PLACE_HASH);
    assert_int_equal (zmesh_place_strategy_parse ("hashes", &strategy), ZMESH_EINVAL);
    assert_int_equal (zmesh_place_strategy_parse ("", &strategy), ZMESH_EINVAL);
    assert_int_equal (zmesh_place_strategy_parse (NULL, &strategy), ZMESH_EINVAL);

    zmesh_place_request_t fresh;
    memset (&fresh, 0x5A, sizeof fresh);
    zmesh_place_request_init (&fresh);
    assert_int_equal (fresh.strategy, ZMESH_PLACE_SCORE);
    assert_int_equal (fresh.replicas, 1);
    assert_int_equal (fresh.tag_count, 0);
    assert_string_equal (fresh.handler, "");
    assert_null (fresh.affinity_key);
}

//  Requests the core refuses, whatever the strategy.
static void
test_bad_request (void **state)
{
    zmesh_place_node_t nodes [2] = {s_node (1), s_node (2)};
    uint64_t rng = 7;
    zmesh_place_request_t bad [9];
    for (int i = 0; i < 9; i++)
        bad [i] = s_request (ZMESH_PLACE_SCORE);
    bad [0].replicas = 0;
    bad [1].replicas = ZMESH_PLACE_REPLICAS_MAX + 1;
    bad [2].strategy = (zmesh_place_strategy_t) 9;
    memset (bad [3].handler, 'h', sizeof bad [3].handler);  //  not NUL-terminated
    bad [4].tag_count = ZMESH_TASK_TAGS_MAX + 1;
    bad [5].tag_count = 1;  //  an empty tag
    bad [6].tag_count = 1;
    memset (bad [6].tags [0], 't', sizeof bad [6].tags [0]);
    bad [7].perf_best_ms = NAN;
    bad [8].perf_best_ms = -1;
    for (int i = 0; i < 9; i++) {
        zmesh_place_result_t result;
        assert_int_equal (zmesh_place_choose (NULL, &bad [i], nodes, 2, NULL, &rng, &result),
                          ZMESH_EINVAL);
        assert_int_equal (zmesh_place_scan (NULL, &bad [i], nodes, 2, &result), ZMESH_EINVAL);
        assert_false (zmesh_place_match (NULL, &bad [i], &nodes [0], NULL));
        zmesh_place_terms_t terms;
        assert_int_equal (zmesh_place_terms (NULL, &bad [i], &nodes [0], 0, &terms), ZMESH_EINVAL);
        double bid;
        assert_int_equal (zmesh_place_bid (NULL, &bad [i], &nodes [0], 0, &bid), ZMESH_EINVAL);
    }
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, NULL, nodes, 2, NULL, &rng, &result), ZMESH_EINVAL);
    assert_int_equal (zmesh_place_choose (NULL, &request, NULL, 2, NULL, &rng, &result),
                      ZMESH_EINVAL);
    //  SCORE needs the random state; the others do not.
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result),
                      ZMESH_EINVAL);
    request.strategy = ZMESH_PLACE_AUCTION;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result), ZMESH_OK);
    //  A perf reference that is not a figure.
    zmesh_place_terms_t terms;
    assert_int_equal (zmesh_place_terms (NULL, &request, &nodes [0], NAN, &terms), ZMESH_EINVAL);
    double bid;
    assert_int_equal (zmesh_place_bid (NULL, &request, &nodes [0], -2, &bid), ZMESH_EINVAL);
}

static void
test_filter (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_node_t node = s_node (1);

    //  No requirement: match 1.
    assert_true (s_match_of (NULL, &request, &node, true) == 1);
    //  Hard: the flag, the handler, the GPUs; match 0 then.
    node.eligible = false;
    assert_true (s_match_of (NULL, &request, &node, false) == 0);
    node = s_node (1);
    s_handler (&node, "other");
    assert_true (s_match_of (NULL, &request, &node, false) == 0);
    s_handler (&node, "work");
    s_match_of (NULL, &request, &node, true);
    node.handler_count = 1;  //  "work" is beyond the count
    s_match_of (NULL, &request, &node, false);
    node.all_handlers = true;  //  every handler, the list notwithstanding
    s_match_of (NULL, &request, &node, true);
    request.handler [0] = '\0';  //  a request that names no handler
    node.all_handlers = false;
    s_match_of (NULL, &request, &node, true);
    strcpy (request.handler, "work");
    strcpy (node.handlers [0], "wor");  //  a prefix is not the name
    s_match_of (NULL, &request, &node, false);
    strcpy (node.handlers [0], "work2");
    s_match_of (NULL, &request, &node, false);

    node = s_node (1);
    request.gpus = 2;
    node.gpu_count = 1;
    assert_true (s_match_of (NULL, &request, &node, false) == 0);
    node.gpu_count = 2;
    assert_true (s_match_of (NULL, &request, &node, true) == 1);
    request.gpus = 0;

    //  Match score: two tags, CPU, memory; each item weighs 1.
    s_require (&request, "ssd");
    s_require (&request, "avx512");
    request.cpu_millicores = 4000;
    request.memory_bytes = 8 * S_GIB;
    node = s_node (1);
    s_tag (&node, "ssd");
    s_tag (&node, "avx512");
    assert_true (s_match_of (NULL, &request, &node, true) == 1);
    node.tag_count = 1;  //  one tag of two missing: 3 of 4
    assert_true (s_match_of (NULL, &request, &node, true) == 0.75);
    node.tag_count = 0;  //  both missing: 2 of 4, below 0.7
    assert_true (s_match_of (NULL, &request, &node, false) == 0.5);
    //  Partial CPU and memory: 2 cores of 4, 2 GiB of 8.
    node = s_node (1);
    s_tag (&node, "avx512");
    s_tag (&node, "ssd");  //  order does not matter
    node.cpu_cores = 2;
    assert_true (fabs (s_match_of (NULL, &request, &node, true) - 3.5 / 4) < S_EPSILON);
    node.mem_available_bytes = 4 * S_GIB;
    assert_true (fabs (s_match_of (NULL, &request, &node, true) - 3 / 4.0) < S_EPSILON);
    node.mem_available_bytes = 2 * S_GIB;  //  0.6875: out
    assert_true (fabs (s_match_of (NULL, &request, &node, false) - 2.75 / 4) < S_EPSILON);
    //  Tags are exact and case-sensitive.
    node = s_node (1);
    s_tag (&node, "SSD");
    s_tag (&node, "avx");
    assert_true (s_match_of (NULL, &request, &node, false) == 0.5);

    //  The threshold, inclusive: 0.75 passes at 750, not at 751.
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    node = s_node (1);
    s_tag (&node, "ssd");
    config.match_threshold_permille = 750;
    s_match_of (&config, &request, &node, true);
    config.match_threshold_permille = 751;
    s_match_of (&config, &request, &node, false);
    config.match_threshold_permille = 1000;  //  strict
    s_match_of (&config, &request, &node, false);
    s_tag (&node, "avx512");
    s_match_of (&config, &request, &node, true);
    node.tag_count = 0;
    config.match_threshold_permille = 500;
    s_match_of (&config, &request, &node, true);
    config.match_threshold_permille = 0;  //  anything that passes the hard part
    node.cpu_cores = 0;
    node.mem_available_bytes = 0;
    assert_true (s_match_of (&config, &request, &node, true) == 0);

    //  A filtered node has no terms and no bid; choose finds none.
    zmesh_place_terms_t terms;
    assert_int_equal (zmesh_place_terms (NULL, &request, &node, 0, &terms), ZMESH_ENOTFOUND);
    assert_true (terms.match == 0);
    assert_true (terms.score == 0);
    double bid;
    assert_int_equal (zmesh_place_bid (NULL, &request, &node, 0, &bid), ZMESH_ENOTFOUND);
    assert_true (bid == -1);
}

//  Every term moves the right way, and its documented value.
static void
test_terms (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_node_t base = s_node (1);
    zmesh_place_terms_t b = s_terms (NULL, &request, &base, 0);
    assert_true (b.match == 1);
    assert_true (b.queue == 1);
    assert_true (b.cpu == 1);
    assert_true (b.perf == 0.5);  //  unknown
    assert_true (fabs (b.latency - 1.0 / 1.5) < S_EPSILON);
    assert_true (b.cost == 1);
    assert_true (b.gpu == 1);
    assert_true (fabs (b.memory - (1 - 1.0 / 256)) < S_EPSILON);  //  64 MiB of 16 GiB
    double expected = (250 * b.queue + 150 * b.cpu + 150 * b.perf + 100 * b.latency + 100 * b.memory
                       + 100 * b.cost + 100 * b.match + 50 * b.gpu)
                      / 1000;
    assert_true (fabs (b.score - expected) < S_EPSILON);

    zmesh_place_node_t node;
    zmesh_place_terms_t t;
    //  queue: 1 / (1 + load).
    node = base;
    node.busy = 2;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (fabs (t.queue - 1 / 1.5) < S_EPSILON);
    assert_true (t.score < b.score);
    node.queued = 6;  //  load 2: still ranked, lower
    zmesh_place_terms_t deeper = s_terms (NULL, &request, &node, 0);
    assert_true (fabs (deeper.queue - 1.0 / 3) < S_EPSILON);
    assert_true (deeper.score < t.score);
    node.slots = 0;  //  no slots counts as one
    node.busy = 1;
    node.queued = 0;
    assert_true (s_terms (NULL, &request, &node, 0).queue == 0.5);
    //  cpu: headroom.
    node = base;
    node.cpu_util_bp = 2500;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (t.cpu == 0.75);
    assert_true (t.score < b.score);
    node.cpu_util_bp = 99999;
    assert_true (s_terms (NULL, &request, &node, 0).cpu == 0);
    //  memory: more free is better, saturating; the task's demand counts.
    node = base;
    node.mem_available_bytes = S_GIB;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (fabs (t.memory - (1 - 1.0 / 16)) < S_EPSILON);
    assert_true (t.score < b.score);
    request.memory_bytes = 512ull * 1024 * 1024;
    assert_true (s_terms (NULL, &request, &node, 0).memory == 0.5);
    node.mem_available_bytes = 0;  //  nothing free: 0 (the filter would weigh it only if
    request.memory_bytes = 0;      //  the task asked for memory)
    assert_true (s_terms (NULL, &request, &node, 0).memory == 0);
    //  gpu: exact fit 1, idle GPUs cost.
    node = base;
    node.gpu_count = 4;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (t.gpu == 0.5);
    assert_true (t.score < b.score);
    request.gpus = 1;
    assert_true (s_terms (NULL, &request, &node, 0).gpu == 0.625);
    request.gpus = 4;
    assert_true (s_terms (NULL, &request, &node, 0).gpu == 1);
    request.gpus = 0;
    //  latency: 1 / (1 + rtt / 1 ms); unknown 0.5; the local node 1.
    node = base;
    node.rtt_us = 1000;
    assert_true (s_terms (NULL, &request, &node, 0).latency == 0.5);
    node.rtt_us = 9000;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (fabs (t.latency - 0.1) < S_EPSILON);
    assert_true (t.score < b.score);
    node.rtt_us = 0;
    assert_true (s_terms (NULL, &request, &node, 0).latency == 0.5);
    node.is_self = true;
    node.rtt_us = 40000;
    assert_true (s_terms (NULL, &request, &node, 0).latency == 1);
    //  perf: reference / own average; unknown 0.5; no reference 0.5.
    node = base;
    node.perf_ms = 20;
    node.perf_samples = 3;
    assert_true (s_terms (NULL, &request, &node, 10).perf == 0.5);
    assert_true (s_terms (NULL, &request, &node, 5).perf == 0.25);
    assert_true (s_terms (NULL, &request, &node, 40).perf == 1);  //  faster than the reference
    assert_true (s_terms (NULL, &request, &node, 0).perf == 0.5);
    request.perf_best_ms = 4;  //  the request's reference when the call gives none
    assert_true (s_terms (NULL, &request, &node, 0).perf == 0.2);
    request.perf_best_ms = 0;
    node.perf_samples = 0;
    assert_true (s_terms (NULL, &request, &node, 10).perf == 0.5);
    node.perf_samples = 3;
    node.perf_ms = 0;  //  floored at 1 us: as fast as can be
    assert_true (s_terms (NULL, &request, &node, 10).perf == 1);
    node.perf_ms = 10;
    t = s_terms (NULL, &request, &node, 2);
    zmesh_place_terms_t faster = s_terms (NULL, &request, &node, 5);
    assert_true (t.perf < faster.perf);
    assert_true (t.score < faster.score);
    //  cost.
    node = base;
    node.cost_permille = 250;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (t.cost == 0.75);
    assert_true (t.score < b.score);
    node.cost_permille = 5000;
    assert_true (s_terms (NULL, &request, &node, 0).cost == 0);
    //  match: a missing tag lowers the score.
    s_require (&request, "a");
    s_require (&request, "b");
    s_require (&request, "c");
    s_require (&request, "d");
    node = base;
    s_tag (&node, "a");
    s_tag (&node, "b");
    s_tag (&node, "c");
    s_tag (&node, "d");
    zmesh_place_terms_t full = s_terms (NULL, &request, &node, 0);
    node.tag_count = 3;
    t = s_terms (NULL, &request, &node, 0);
    assert_true (t.match == 0.75);
    assert_true (t.score < full.score);
}

//  Weights are normalised by their sum, and move choices.
static void
test_weights (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    config.weight_queue = config.weight_cpu = config.weight_perf = config.weight_latency = 0;
    config.weight_memory = config.weight_match = config.weight_gpu = 0;
    config.weight_cost = 7;
    zmesh_place_node_t node = s_node (1);
    node.cost_permille = 300;
    node.busy = 4;
    assert_true (fabs (s_terms (&config, &request, &node, 0).score - 0.7) < S_EPSILON);
    config.weight_queue = 7;  //  half and half
    assert_true (fabs (s_terms (&config, &request, &node, 0).score - (0.7 + 0.5) / 2) < S_EPSILON);
    //  Doubling every weight changes nothing.
    zmesh_place_config_t twice;
    zmesh_place_config_defaults (&twice);
    zmesh_place_config_t once = twice;
    twice.weight_queue *= 2;
    twice.weight_cpu *= 2;
    twice.weight_perf *= 2;
    twice.weight_latency *= 2;
    twice.weight_memory *= 2;
    twice.weight_cost *= 2;
    twice.weight_match *= 2;
    twice.weight_gpu *= 2;
    node.cpu_util_bp = 3000;
    node.rtt_us = 1234;
    assert_true (fabs (s_terms (&once, &request, &node, 0).score
                       - s_terms (&twice, &request, &node, 0).score)
                 < S_EPSILON);

    //  Cheap but busy against dear but idle: the weights decide.
    zmesh_place_node_t nodes [2] = {s_node (1), s_node (2)};
    nodes [0].cost_permille = 0;
    nodes [0].busy = 4;
    nodes [0].queued = 4;
    nodes [1].cost_permille = 1000;
    zmesh_place_config_t costly, queuey;
    zmesh_place_config_defaults (&costly);
    zmesh_place_config_defaults (&queuey);
    costly.weight_cost = 1000;
    queuey.weight_queue = 1000;
    assert_int_equal (s_scan_one (&costly, &request, nodes, 2), 0);
    assert_int_equal (s_scan_one (&queuey, &request, nodes, 2), 1);
    assert_int_equal (s_scan_one (NULL, &request, nodes, 2), 1);  //  defaults: load matters more
    //  Near nodes against fast nodes.
    nodes [0] = s_node (1);
    nodes [1] = s_node (2);
    nodes [0].rtt_us = 5000;
    nodes [0].perf_ms = 10;
    nodes [0].perf_samples = 10;
    nodes [1].rtt_us = 100;
    nodes [1].perf_ms = 100;
    nodes [1].perf_samples = 10;
    zmesh_place_config_t near, fast;
    zmesh_place_config_defaults (&near);
    zmesh_place_config_defaults (&fast);
    near.weight_latency = 1000;
    fast.weight_perf = 1000;
    assert_int_equal (s_scan_one (&near, &request, nodes, 2), 1);
    assert_int_equal (s_scan_one (&fast, &request, nodes, 2), 0);
}

//  Each node's score is a distinct figure: node i has cpu use i% (the higher i, the worse).
static void
s_graded (zmesh_place_node_t *nodes, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        nodes [i] = s_node (100 + i);
        nodes [i].cpu_util_bp = 100 * i;
    }
}

static void
test_sampling (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_node_t nodes [S_NODES];
    for (uint32_t i = 0; i < S_NODES; i++)
        nodes [i] = s_node (i);
    for (uint32_t i = 0; i < S_NODES; i += 4)
        nodes [i].eligible = false;  //  a quarter out

    //  Same state, same choice, same state after; the state advances.
    uint64_t a = 42, b = 42;
    zmesh_place_result_t ra, rb;
    s_choose_one (NULL, &request, nodes, S_NODES, &a, &ra);
    s_choose_one (NULL, &request, nodes, S_NODES, &b, &rb);
    assert_true (a != 42);
    assert_true (a == b);
    assert_memory_equal (&ra, &rb, sizeof ra);
    assert_true (ra.sampled);
    assert_false (ra.local_preferred);
    //  A sample costs few filter runs: at most DRAWS_PER_CANDIDATE x sample.
    assert_true (ra.examined <= ZMESH_PLACE_DRAWS_PER_CANDIDATE * 2);
    assert_true (ra.passed == 2);

    //  Covers the space: every eligible node is chosen for some state, no other ever is.
    uint32_t chosen [S_NODES] = {0};
    uint64_t rng = 1;
    for (uint32_t t = 0; t < 4000; t++) {
        zmesh_place_result_t result;
        request.task_id = s_id (t);  //  equal scores: ties go by task
        chosen [s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result)]++;
    }
    for (uint32_t i = 0; i < S_NODES; i++) {
        if (nodes [i].eligible)
            assert_true (chosen [i] > 0);
        else
            assert_int_equal (chosen [i], 0);
    }

    //  Best of the sample: with graded nodes and sample 2, the worst is never chosen, and the
    //  best about 2/n of the time (power of two choices).
    zmesh_place_node_t graded [20];
    s_graded (graded, 20);
    uint32_t wins [20] = {0};
    rng = 99;
    for (int t = 0; t < 2000; t++) {
        zmesh_place_result_t result;
        wins [s_choose_one (NULL, &request, graded, 20, &rng, &result)]++;
        assert_true (result.sampled);
        assert_true (result.figures [0] > 0);
    }
    assert_int_equal (wins [19], 0);
    assert_in_range (wins [0], 120, 280);  //  expected 200
    assert_true (wins [0] > wins [10]);
    //  A larger sample finds the best more often.
    zmesh_place_config_t wide;
    zmesh_place_config_defaults (&wide);
    wide.sample = 8;
    uint32_t wide_wins = 0;
    rng = 99;
    for (int t = 0; t < 2000; t++) {
        zmesh_place_result_t result;
        wide_wins += s_choose_one (&wide, &request, graded, 20, &rng, &result) == 0;
    }
    assert_true (wide_wins > 2 * wins [0]);

    //  Within a sample, perf is against the sample's best: graded by past performance only,
    //  the slowest node never wins (ties by task would let it win now and then).
    zmesh_place_node_t by_perf [20];
    for (uint32_t i = 0; i < 20; i++) {
        by_perf [i] = s_node (200 + i);
        by_perf [i].perf_ms = 10 + i;
        by_perf [i].perf_samples = 5;
    }
    for (uint32_t t = 0; t < 1000; t++) {
        zmesh_place_result_t result;
        request.task_id = s_id (t);
        assert_int_not_equal (s_choose_one (NULL, &request, by_perf, 20, &rng, &result), 19);
        assert_true (result.sampled);
    }
    request.task_id = s_id (0xABCD);

    //  sample 0: every node scored, the choice is the scan's, the state is untouched.
    zmesh_place_config_t all;
    zmesh_place_config_defaults (&all);
    all.sample = 0;
    rng = 5;
    zmesh_place_result_t result;
    assert_int_equal (s_choose_one (&all, &request, graded, 20, &rng, &result), 0);
    assert_false (result.sampled);
    assert_int_equal (result.examined, 20);
    assert_true (rng == 5);
    //  So with no more remote nodes than the sample.
    assert_int_equal (s_choose_one (NULL, &request, graded + 18, 2, &rng, &result), 0);
    assert_false (result.sampled);
    assert_true (rng == 5);

    //  Unlucky draws fall back to every node: one eligible node among many.
    for (uint32_t i = 0; i < S_NODES; i++)
        nodes [i].eligible = i == 37;
    for (uint64_t seed = 0; seed < 50; seed++) {
        rng = seed;
        assert_int_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 37);
    }
    //  The sampled choice is never better than the scan's (the cost-optimal node).
    zmesh_place_node_t mixed [S_NODES];
    rng = 3;
    for (uint32_t i = 0; i < S_NODES; i++) {
        mixed [i] = s_node (i);
        mixed [i].cpu_util_bp = (uint32_t) (zmesh_mix64 (i) % 10000);
        mixed [i].busy = (uint32_t) (zmesh_mix64 (i + 1000) % 5);
        mixed [i].rtt_us = 100 + (uint32_t) (zmesh_mix64 (i + 2000) % 3000);
        mixed [i].cost_permille = (uint32_t) (zmesh_mix64 (i + 3000) % 1000);
    }
    zmesh_place_result_t best;
    assert_int_equal (zmesh_place_scan (NULL, &request, mixed, S_NODES, &best), ZMESH_OK);
    //  The scan's node has the highest score of all (same perf reference: none known).
    for (uint32_t i = 0; i < S_NODES; i++)
        assert_true (s_terms (NULL, &request, &mixed [i], 0).score <= best.figures [0]);
    uint32_t optimal = 0;
    for (int t = 0; t < 500; t++) {
        s_choose_one (NULL, &request, mixed, S_NODES, &rng, &result);
        assert_true (result.figures [0] <= best.figures [0]);
        optimal += result.nodes [0] == best.nodes [0];
    }
    assert_true (optimal > 0 && optimal < 500);
}

static void
test_local_preference (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    zmesh_place_node_t nodes [S_NODES];
    for (uint32_t i = 0; i < S_NODES; i++)
        nodes [i] = s_node (i);
    nodes [0].is_self = true;
    nodes [0].slots = 4;
    nodes [0].cpu_util_bp = 9000;  //  scores worse than the idle others

    //  Load 0.25: local, unscored, alone examined.
    nodes [0].busy = 1;
    uint64_t rng = 11;
    zmesh_place_result_t result;
    assert_int_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 0);
    assert_true (result.local_preferred);
    assert_true (result.figures [0] == -1);
    assert_int_equal (result.examined, 1);
    assert_true (rng == 11);
    //  Anywhere in the list.
    zmesh_place_node_t swapped [S_NODES];
    memcpy (swapped, nodes, sizeof swapped);
    swapped [0] = nodes [40];
    swapped [40] = nodes [0];
    assert_int_equal (s_choose_one (NULL, &request, swapped, S_NODES, &rng, &result), 40);
    assert_true (result.local_preferred);
    //  Load 0.5 (busy + queued of the slots) is not below the threshold: scored, and loses.
    nodes [0].busy = 1;
    nodes [0].queued = 1;
    for (int t = 0; t < 50; t++) {
        assert_int_not_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 0);
        assert_false (result.local_preferred);
    }
    //  A threshold above the load: local again.
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    config.local_threshold_permille = 501;
    assert_int_equal (s_choose_one (&config, &request, nodes, S_NODES, &rng, &result), 0);
    assert_true (result.local_preferred);
    //  Threshold 0: no preference even when idle.
    nodes [0].busy = nodes [0].queued = 0;
    config.local_threshold_permille = 0;
    assert_int_not_equal (s_choose_one (&config, &request, nodes, S_NODES, &rng, &result), 0);
    assert_false (result.local_preferred);
    //  An idle local node that fails the filter is not preferred.
    s_handler (&nodes [0], "other");
    assert_int_not_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 0);
    nodes [0].all_handlers = true;
    nodes [0].eligible = false;
    assert_int_not_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 0);
    nodes [0].eligible = true;

    //  The local node is always scored: busy (load 0.75) yet better than every remote node.
    for (uint32_t i = 1; i < S_NODES; i++) {
        nodes [i].cpu_util_bp = 10000;
        nodes [i].cost_permille = 1000;
        nodes [i].busy = 4;
        nodes [i].queued = 8;
    }
    nodes [0].cpu_util_bp = 0;
    nodes [0].busy = 3;
    for (int t = 0; t < 50; t++) {
        assert_int_equal (s_choose_one (NULL, &request, nodes, S_NODES, &rng, &result), 0);
        assert_false (result.local_preferred);
        assert_true (result.sampled);
        assert_true (result.figures [0] > 0);
    }

    //  Redundancy after a preference: the local node, then the best of the rest.
    for (uint32_t i = 1; i < S_NODES; i++)
        nodes [i] = s_node (i);
    nodes [0].busy = 0;
    request.replicas = 3;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, NULL, &rng, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 3);
    assert_int_equal (result.nodes [0], 0);
    assert_true (result.local_preferred);
    assert_true (result.nodes [1] != 0 && result.nodes [2] != 0);
    assert_true (result.nodes [1] != result.nodes [2]);
    assert_true (result.figures [1] >= result.figures [2]);
}

static void
test_auction (void **state)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_AUCTION);
    zmesh_place_node_t node = s_node (1);
    double bid;
    //  Nothing known: 0.4 x 1 + 0.3 x 1 + 0.2 x 0.5 + 0.1 x 0.5.
    assert_int_equal (zmesh_place_bid (NULL, &request, &node, 0, &bid), ZMESH_OK);
    assert_true (fabs (bid - 0.85) < S_EPSILON);
    //  Half loaded, twice as slow as the best, 8 of 8 came back (availability 9/10).
    node.busy = 1;
    node.queued = 1;
    node.perf_ms = 20;
    node.perf_samples = 5;
    node.outcomes_ok = 8;
    assert_int_equal (zmesh_place_bid (NULL, &request, &node, 10, &bid), ZMESH_OK);
    assert_true (fabs (bid - (0.4 + 0.3 * 0.5 + 0.2 * 0.5 + 0.1 * 0.9)) < S_EPSILON);
    //  Capability is the match score: one tag of two (0.5 passes a threshold of 0.5).
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    config.match_threshold_permille = 500;
    s_require (&request, "x");
    s_require (&request, "y");
    s_tag (&node, "y");
    assert_int_equal (zmesh_place_bid (&config, &request, &node, 10, &bid), ZMESH_OK);
    assert_true (fabs (bid - (0.4 * 0.5 + 0.3 * 0.5 + 0.2 * 0.5 + 0.1 * 0.9)) < S_EPSILON);
    request.tag_count = 0;
    //  Overloaded: the load term is 0, not negative. Failures lower availability.
    node.queued = 20;
    node.outcomes_ok = 0;
    node.outcomes_failed = 8;
    assert_int_equal (zmesh_place_bid (NULL, &request, &node, 10, &bid), ZMESH_OK);
    assert_true (fabs (bid - (0.4 + 0 + 0.2 * 0.5 + 0.1 * 0.1)) < S_EPSILON);
    //  Its own weights.
    config.bid_capability = config.bid_perf = config.bid_availability = 0;
    config.bid_load = 1;
    node.queued = 0;
    assert_int_equal (zmesh_place_bid (&config, &request, &node, 10, &bid), ZMESH_OK);
    assert_true (fabs (bid - 0.75) < S_EPSILON);

    //  The highest bid wins; replicas in order of bid; figures are the bids.
    zmesh_place_node_t nodes [5];
    for (uint32_t i = 0; i < 5; i++) {
        nodes [i] = s_node (i);
        nodes [i].busy = 4 - i;  //  node 4 idle: best
    }
    nodes [3].eligible = false;
    zmesh_place_result_t result;
    request.replicas = 3;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 5, NULL, NULL, &result), ZMESH_OK);
    assert_int_equal (result.count, 3);
    assert_int_equal (result.nodes [0], 4);
    assert_int_equal (result.nodes [1], 2);
    assert_int_equal (result.nodes [2], 1);
    assert_true (result.figures [0] > result.figures [1]);
    assert_true (result.figures [1] > result.figures [2]);
    assert_int_equal (zmesh_place_bid (NULL, &request, &nodes [2], 0, &bid), ZMESH_OK);
    assert_true (fabs (result.figures [1] - bid) < S_EPSILON);  //  no perf known anywhere
    //  In choose, perf is against the best bidder's: the faster wins when all else is equal.
    request.replicas = 1;
    nodes [0] = s_node (0);
    nodes [1] = s_node (1);
    nodes [0].perf_ms = 50;
    nodes [0].perf_samples = 4;
    nodes [1].perf_ms = 25;
    nodes [1].perf_samples = 4;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result), ZMESH_OK);
    assert_int_equal (result.nodes [0], 1);
    assert_true (fabs (result.figures [0] - 0.95) < S_EPSILON);  //  perf 1 against itself

    //  A node's own bid (has_bid) replaces the computed one: node 0, slower, bids 990 and
    //  wins; a bid above 1000 counts as 1000; a node that fails the filter loses whatever it
    //  bid.
    nodes [0].has_bid = true;
    nodes [0].bid_permille = 990;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result), ZMESH_OK);
    assert_int_equal (result.nodes [0], 0);
    assert_true (fabs (result.figures [0] - 0.99) < S_EPSILON);
    nodes [0].bid_permille = 5000;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result), ZMESH_OK);
    assert_true (fabs (result.figures [0] - 1.0) < S_EPSILON);
    s_require (&request, "needed");
    s_tag (&nodes [1], "needed");
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 2, NULL, NULL, &result), ZMESH_OK);
    assert_int_equal (result.nodes [0], 1);
    request.tag_count = 0;
    nodes [0].has_bid = false;

    //  Equal bids: the same task goes to the same node, different tasks spread.
    zmesh_place_node_t equal [8];
    for (uint32_t i = 0; i < 8; i++)
        equal [i] = s_node (i);
    uint32_t seen [8] = {0};
    for (uint32_t t = 0; t < 200; t++) {
        request.task_id = s_id (t);
        assert_int_equal (zmesh_place_choose (NULL, &request, equal, 8, NULL, NULL, &result),
                          ZMESH_OK);
        uint32_t first = result.nodes [0];
        assert_int_equal (zmesh_place_choose (NULL, &request, equal, 8, NULL, NULL, &result),
                          ZMESH_OK);
        assert_int_equal (result.nodes [0], first);
        seen [first]++;
    }
    for (uint32_t i = 0; i < 8; i++)
        assert_true (seen [i] > 0);
}

//  The node a HASH placement of key k picks.
static uint32_t
s_hash_node (const zmesh_place_ring_t *ring,
             const zmesh_place_node_t *nodes,
             uint32_t count,
             uint32_t k)
{
    zmesh_place_request_t request = s_request (ZMESH_PLACE_HASH);
    request.task_id = s_id (k);
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, count, ring, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 1);
    assert_true (result.figures [0] == -1);
    return s_n (&nodes [result.nodes [0]]);
}

#define S_KEYS 10000

static void
test_hash (void **state)
{
    zmesh_place_node_t nodes [10], fewer [9], shuffled [10];
    for (uint32_t i = 0; i < 10; i++)
        nodes [i] = s_node (1000 + i);
    for (uint32_t i = 0; i < 10; i++)
        shuffled [i] = nodes [(i * 7) % 10];
    memcpy (fewer, nodes, 3 * sizeof nodes [0]);
    memcpy (fewer + 3, nodes + 4, 6 * sizeof nodes [0]);  //  without node 1003
    zmesh_place_ring_t ring = {0}, ring_shuffled = {0}, ring_fewer = {0};
    assert_int_equal (zmesh_place_ring_build (&ring, NULL, nodes, 10), ZMESH_OK);
    assert_int_equal (ring.point_count, 10 * ZMESH_PLACE_RING_VNODES_DEFAULT);
    assert_int_equal (zmesh_place_ring_build (&ring_shuffled, NULL, shuffled, 10), ZMESH_OK);
    assert_int_equal (zmesh_place_ring_build (&ring_fewer, NULL, fewer, 9), ZMESH_OK);

    static uint32_t owner [S_KEYS];
    uint32_t share [10] = {0};
    uint32_t moved = 0;
    for (uint32_t k = 0; k < S_KEYS; k++) {
        owner [k] = s_hash_node (&ring, nodes, 10, k);
        share [owner [k] - 1000]++;
        //  Same inputs, same node; the order of the list does not matter.
        assert_int_equal (s_hash_node (&ring, nodes, 10, k), owner [k]);
        assert_int_equal (s_hash_node (&ring_shuffled, shuffled, 10, k), owner [k]);
        //  Without one node: only its keys move.
        uint32_t after = s_hash_node (&ring_fewer, fewer, 9, k);
        if (after != owner [k]) {
            assert_int_equal (owner [k], 1003);
            moved++;
        }
        else
            assert_int_not_equal (owner [k], 1003);
    }
    assert_int_equal (moved, share [3]);
    assert_in_range (moved, S_KEYS / 20, S_KEYS * 3 / 20);  //  about 1/10
    for (uint32_t i = 0; i < 10; i++)
        assert_in_range (share [i], S_KEYS / 20, S_KEYS * 3 / 20);

    //  A node that fails the filter is skipped: same as the ring without it, no rebuild.
    nodes [3].eligible = false;
    for (uint32_t k = 0; k < S_KEYS; k += 7)
        assert_int_equal (s_hash_node (&ring, nodes, 10, k),
                          s_hash_node (&ring_fewer, fewer, 9, k));
    nodes [3].eligible = true;

    //  A node added takes about 1/11 of the keys, all from the others, none moves elsewhere.
    zmesh_place_node_t more [11];
    memcpy (more, nodes, sizeof nodes);
    more [10] = s_node (2000);
    zmesh_place_ring_t ring_more = {0};
    assert_int_equal (zmesh_place_ring_build (&ring_more, NULL, more, 11), ZMESH_OK);
    uint32_t gained = 0;
    for (uint32_t k = 0; k < S_KEYS; k++) {
        uint32_t after = s_hash_node (&ring_more, more, 11, k);
        if (after != owner [k]) {
            assert_int_equal (after, 2000);
            gained++;
        }
    }
    assert_in_range (gained, S_KEYS / 22, S_KEYS * 3 / 22);

    //  The affinity key, not the task id, when there is one.
    zmesh_place_request_t request = s_request (ZMESH_PLACE_HASH);
    const uint8_t key [] = "user:42";
    request.affinity_key = key;
    request.affinity_key_size = sizeof key - 1;
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                      ZMESH_OK);
    uint32_t keyed = result.nodes [0];
    uint32_t differs = 0;
    for (uint32_t t = 0; t < 50; t++) {
        request.task_id = s_id (t);
        request.affinity_key = key;
        assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                          ZMESH_OK);
        assert_int_equal (result.nodes [0], keyed);
        request.affinity_key = NULL;
        assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                          ZMESH_OK);
        differs += result.nodes [0] != keyed;
    }
    assert_true (differs > 0);

    //  Replicas: the first r distinct clockwise, and those that pass.
    request.affinity_key = key;
    request.replicas = 4;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 4);
    assert_int_equal (result.nodes [0], keyed);
    uint32_t order [4];
    memcpy (order, result.nodes, sizeof order);
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = i + 1; j < 4; j++)
            assert_int_not_equal (order [i], order [j]);
    nodes [order [1]].eligible = false;  //  the second steps aside: the rest move up
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 4);
    assert_int_equal (result.nodes [0], order [0]);
    assert_int_equal (result.nodes [1], order [2]);
    assert_int_equal (result.nodes [2], order [3]);
    nodes [order [1]].eligible = true;
    request.replicas = 10;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 10);
    request.replicas = 12;  //  more than there are: all of them
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, &ring, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 10);
    request.replicas = 1;

    //  A ring of another list, or none.
    assert_int_equal (zmesh_place_choose (NULL, &request, fewer, 9, &ring, NULL, &result),
                      ZMESH_EINVAL);
    zmesh_place_node_t others [10];
    for (uint32_t i = 0; i < 10; i++)
        others [i] = s_node (5000 + i);
    assert_int_equal (zmesh_place_choose (NULL, &request, others, 10, &ring, NULL, &result),
                      ZMESH_EINVAL);
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, 10, NULL, NULL, &result),
                      ZMESH_EINVAL);
    //  Found out late in a walk for 10 replicas: nothing chosen all the same.
    memcpy (others, nodes, sizeof others);
    others [(keyed + 5) % 10].id = s_id (7777);
    request.replicas = 10;
    assert_int_equal (zmesh_place_choose (NULL, &request, others, 10, &ring, NULL, &result),
                      ZMESH_EINVAL);
    assert_int_equal (result.count, 0);
    request.replicas = 1;
    //  Two nodes with one id.
    zmesh_place_ring_t twice = {0};
    zmesh_place_node_t duplicate [3] = {s_node (1), s_node (2), s_node (1)};
    assert_int_equal (zmesh_place_ring_build (&twice, NULL, duplicate, 3), ZMESH_EINVAL);
    assert_null (twice.points);
    assert_int_equal (twice.point_count, 0);
    assert_int_equal (zmesh_place_ring_build (&twice, NULL, NULL, 3), ZMESH_EINVAL);
    //  Too many points.
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    config.ring_vnodes = ZMESH_PLACE_RING_VNODES_LIMIT;
    assert_int_equal (zmesh_place_ring_build (&twice, &config, nodes, UINT32_MAX), ZMESH_ELIMIT);
    config.ring_vnodes = 0;
    assert_int_equal (zmesh_place_ring_build (&twice, &config, nodes, 10), ZMESH_ECONFIG);
    zmesh_place_ring_fini (&twice);

    //  vnodes from the config.
    config.ring_vnodes = 3;
    assert_int_equal (zmesh_place_ring_build (&twice, &config, nodes, 10), ZMESH_OK);
    assert_int_equal (twice.point_count, 30);
    zmesh_place_ring_fini (&twice);
    zmesh_place_ring_fini (&twice);  //  idempotent
    zmesh_place_ring_fini (NULL);

    zmesh_place_ring_fini (&ring);
    zmesh_place_ring_fini (&ring_shuffled);
    zmesh_place_ring_fini (&ring_fewer);
    zmesh_place_ring_fini (&ring_more);
}

static void
s_assert_distinct (const zmesh_place_result_t *result)
{
    for (uint32_t i = 0; i < result->count; i++)
        for (uint32_t j = i + 1; j < result->count; j++)
            assert_int_not_equal (result->nodes [i], result->nodes [j]);
}

//  Up to r distinct nodes, best first, with every strategy.
static void
test_replicas (void **state)
{
    zmesh_place_node_t nodes [S_NODES];
    s_graded (nodes, S_NODES);
    nodes [63].is_self = true;
    nodes [63].busy = 4;  //  not lightly loaded, and last by score
    zmesh_place_ring_t ring = {0};
    assert_int_equal (zmesh_place_ring_build (&ring, NULL, nodes, S_NODES), ZMESH_OK);
    uint64_t rng = 77;
    const zmesh_place_strategy_t strategies [] = {ZMESH_PLACE_SCORE, ZMESH_PLACE_AUCTION,
                                                  ZMESH_PLACE_HASH};
    for (size_t s = 0; s < 3; s++) {
        zmesh_place_request_t request = s_request (strategies [s]);
        for (uint32_t r = 1; r <= ZMESH_PLACE_REPLICAS_MAX; r++) {
            request.replicas = r;
            zmesh_place_result_t result;
            assert_int_equal (
                zmesh_place_choose (NULL, &request, nodes, S_NODES, &ring, &rng, &result),
                ZMESH_OK);
            assert_int_equal (result.count, r);
            s_assert_distinct (&result);
            if (strategies [s] != ZMESH_PLACE_HASH)
                for (uint32_t i = 1; i < r; i++)
                    assert_true (result.figures [i - 1] >= result.figures [i]);
            assert_int_equal (zmesh_place_scan (NULL, &request, nodes, S_NODES, &result), ZMESH_OK);
            assert_int_equal (result.count, r);
            s_assert_distinct (&result);
            for (uint32_t i = 0; i < r; i++)
                assert_int_equal (result.nodes [i], i);  //  graded: the scan is in order
        }
    }
    //  Only three pass: three, ZMESH_OK.
    for (uint32_t i = 0; i < S_NODES; i++)
        nodes [i].eligible = i == 9 || i == 30 || i == 50;
    for (size_t s = 0; s < 3; s++) {
        zmesh_place_request_t request = s_request (strategies [s]);
        request.replicas = 5;
        zmesh_place_result_t result;
        assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, &ring, &rng, &result),
                          ZMESH_OK);
        assert_int_equal (result.count, 3);
        s_assert_distinct (&result);
        if (strategies [s] == ZMESH_PLACE_SCORE) {  //  (equal bids in an auction)
            assert_int_equal (result.nodes [0], 9);
            assert_int_equal (result.nodes [1], 30);
            assert_int_equal (result.nodes [2], 50);
        }
    }
    //  LOCAL gives at most one.
    nodes [63].eligible = true;
    zmesh_place_request_t request = s_request (ZMESH_PLACE_LOCAL);
    request.replicas = 3;
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, NULL, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.count, 1);
    assert_int_equal (result.nodes [0], 63);
    assert_true (result.figures [0] == -1);
    zmesh_place_ring_fini (&ring);
}

static void
test_not_found (void **state)
{
    zmesh_place_node_t nodes [S_NODES];
    for (uint32_t i = 0; i < S_NODES; i++) {
        nodes [i] = s_node (i);
        s_handler (&nodes [i], "other");
    }
    nodes [0].is_self = true;
    zmesh_place_ring_t ring = {0}, empty = {0};
    assert_int_equal (zmesh_place_ring_build (&ring, NULL, nodes, S_NODES), ZMESH_OK);
    assert_int_equal (zmesh_place_ring_build (&empty, NULL, NULL, 0), ZMESH_OK);
    uint64_t rng = 1;
    for (int s = 0; s < ZMESH_PLACE_STRATEGY_COUNT; s++) {
        zmesh_place_request_t request = s_request ((zmesh_place_strategy_t) s);
        zmesh_place_result_t result;
        //  Nobody has the handler.
        assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, &ring, &rng, &result),
                          ZMESH_ENOTFOUND);
        assert_int_equal (result.count, 0);
        assert_int_equal (result.passed, 0);
        assert_int_equal (zmesh_place_scan (NULL, &request, nodes, S_NODES, &result),
                          ZMESH_ENOTFOUND);
        assert_int_equal (result.count, 0);
        //  No nodes at all.
        assert_int_equal (zmesh_place_choose (NULL, &request, NULL, 0, &empty, &rng, &result),
                          ZMESH_ENOTFOUND);
        assert_int_equal (zmesh_place_scan (NULL, &request, NULL, 0, &result), ZMESH_ENOTFOUND);
    }
    //  LOCAL: only the local node will do.
    nodes [1].all_handlers = true;
    zmesh_place_request_t request = s_request (ZMESH_PLACE_LOCAL);
    zmesh_place_result_t result;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, NULL, NULL, &result),
                      ZMESH_ENOTFOUND);
    nodes [0].is_self = false;
    nodes [0].all_handlers = true;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, NULL, NULL, &result),
                      ZMESH_ENOTFOUND);
    nodes [0].is_self = true;
    assert_int_equal (zmesh_place_choose (NULL, &request, nodes, S_NODES, NULL, NULL, &result),
                      ZMESH_OK);
    assert_int_equal (result.nodes [0], 0);
    zmesh_place_ring_fini (&ring);
    zmesh_place_ring_fini (&empty);
}

static void
test_perf_update (void **state)
{
    double perf = 123;
    uint32_t samples = 0;
    zmesh_place_perf_update (&perf, &samples, 10);
    assert_true (perf == 10);
    assert_int_equal (samples, 1);
    //  The first five: their mean.
    zmesh_place_perf_update (&perf, &samples, 20);
    zmesh_place_perf_update (&perf, &samples, 30);
    zmesh_place_perf_update (&perf, &samples, 40);
    zmesh_place_perf_update (&perf, &samples, 50);
    assert_int_equal (samples, 5);
    assert_true (fabs (perf - 30) < S_EPSILON);
    //  Then alpha 0.2.
    zmesh_place_perf_update (&perf, &samples, 80);
    assert_true (fabs (perf - 40) < S_EPSILON);
    assert_int_equal (samples, 6);
    zmesh_place_perf_update (&perf, &samples, 0);
    assert_true (fabs (perf - 32) < S_EPSILON);
    //  Garbage samples are ignored.
    zmesh_place_perf_update (&perf, &samples, NAN);
    zmesh_place_perf_update (&perf, &samples, INFINITY);
    zmesh_place_perf_update (&perf, &samples, -1);
    assert_true (fabs (perf - 32) < S_EPSILON);
    assert_int_equal (samples, 7);
    //  A garbage average starts again.
    perf = NAN;
    zmesh_place_perf_update (&perf, &samples, 5);
    assert_true (perf == 5);
    assert_int_equal (samples, 1);
    //  The count saturates.
    samples = UINT32_MAX;
    zmesh_place_perf_update (&perf, &samples, 10);
    assert_int_equal (samples, UINT32_MAX);
    assert_true (fabs (perf - 6) < S_EPSILON);
    //  Converges on a steady latency.
    for (int i = 0; i < 200; i++)
        zmesh_place_perf_update (&perf, &samples, 100);
    assert_true (fabs (perf - 100) < 1e-9);
}

//  Node descriptions come from the network: nothing in them may crash or escape [0, 1].
static void
test_garbage_nodes (void **state)
{
    zmesh_place_node_t nodes [S_NODES];
    uint64_t noise = 12345;
    for (uint32_t i = 0; i < S_NODES; i++) {
        for (size_t b = 0; b < sizeof nodes [i]; b += 8) {
            noise = zmesh_mix64 (noise + 1);
            size_t n = sizeof nodes [i] - b < 8 ? sizeof nodes [i] - b : 8;
            memcpy ((uint8_t *) &nodes [i] + b, &noise, n);
        }
        //  bools must hold 0 or 1 in C; the balancer sets them.
        nodes [i].eligible = true;
        nodes [i].is_self = i == 3;
        nodes [i].all_handlers = i % 2 == 0;
        nodes [i].has_bid = i % 4 == 1;  //  with a garbage bid_permille: clamped to 1000
        nodes [i].id = s_id (i);
        if (i % 3 == 0)
            nodes [i].perf_ms = i % 2 ? NAN : -INFINITY;
    }
    zmesh_place_ring_t ring = {0};
    assert_int_equal (zmesh_place_ring_build (&ring, NULL, nodes, S_NODES), ZMESH_OK);
    zmesh_place_config_t config;
    zmesh_place_config_defaults (&config);
    config.match_threshold_permille = 0;
    uint64_t rng = 5;
    for (int s = 0; s < ZMESH_PLACE_STRATEGY_COUNT; s++) {
        zmesh_place_request_t request = s_request ((zmesh_place_strategy_t) s);
        request.replicas = 4;
        s_require (&request, "gpu");
        request.cpu_millicores = 1500;
        request.memory_bytes = 1;
        zmesh_place_result_t result;
        int rc = zmesh_place_choose (&config, &request, nodes, S_NODES, &ring, &rng, &result);
        assert_true (rc == ZMESH_OK || rc == ZMESH_ENOTFOUND);
        for (uint32_t i = 0; i < result.count; i++) {
            assert_true (result.nodes [i] < S_NODES);
            assert_true (result.figures [i] == -1
                         || (result.figures [i] >= 0 && result.figures [i] <= 1));
        }
        rc = zmesh_place_scan (&config, &request, nodes, S_NODES, &result);
        assert_true (rc == ZMESH_OK || rc == ZMESH_ENOTFOUND);
        for (uint32_t i = 0; i < S_NODES; i++) {
            zmesh_place_terms_t t;
            if (zmesh_place_terms (&config, &request, &nodes [i], 0, &t) != ZMESH_OK)
                continue;
            const double terms [] = {t.match,  t.queue, t.cpu, t.perf, t.latency,
                                     t.memory, t.cost,  t.gpu, t.score};
            for (size_t j = 0; j < sizeof terms / sizeof terms [0]; j++)
                assert_true (terms [j] >= 0 && terms [j] <= 1);
            double bid;
            assert_int_equal (zmesh_place_bid (&config, &request, &nodes [i], 3, &bid), ZMESH_OK);
            assert_true (bid >= 0 && bid <= 1);
        }
    }
    //  Strings that fill their arrays without a NUL match nothing.
    zmesh_place_node_t node = s_node (1);
    node.tag_count = 1;
    memset (node.tags [0], 'a', sizeof node.tags [0]);
    node.all_handlers = false;
    node.handler_count = 1000;  //  cut to the array
    memset (node.handlers, 'w', sizeof node.handlers);
    zmesh_place_request_t request = s_request (ZMESH_PLACE_SCORE);
    memset (request.handler, 'w', ZMESH_TASK_HANDLER_MAX - 1);
    request.handler [ZMESH_TASK_HANDLER_MAX - 1] = '\0';
    assert_false (zmesh_place_match (NULL, &request, &node, NULL));
    node.all_handlers = true;
    memset (request.tags [0], 'a', ZMESH_TASK_TAG_MAX - 1);
    request.tags [0][ZMESH_TASK_TAG_MAX - 1] = '\0';
    request.tag_count = 1;
    assert_false (zmesh_place_match (NULL, &request, &node, NULL));
    node.tags [0][ZMESH_TASK_TAG_MAX - 1] = '\0';  //  now it is the same string
    assert_true (zmesh_place_match (NULL, &request, &node, NULL));
    node.tag_count = UINT32_MAX;
    assert_true (zmesh_place_match (NULL, &request, &node, NULL));
    zmesh_place_ring_fini (&ring);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_bad_request),
        cmocka_unit_test (test_filter),
        cmocka_unit_test (test_terms),
        cmocka_unit_test (test_weights),
        cmocka_unit_test (test_sampling),
        cmocka_unit_test (test_local_preference),
        cmocka_unit_test (test_auction),
        cmocka_unit_test (test_hash),
        cmocka_unit_test (test_replicas),
        cmocka_unit_test (test_not_found),
        cmocka_unit_test (test_perf_update),
        cmocka_unit_test (test_garbage_nodes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
