/*  zmesh_place.c: task placement (see zmesh_place.h for the design and every formula).

    Shape. Pure functions over the caller's list of nodes; the only state is the ring
    (allocated by build) and the caller's random state. A placement keeps its candidates in
    fixed arrays on the stack: the best `replicas` so far (insertion into a sorted array of
    at most ZMESH_PLACE_REPLICAS_MAX), and for a sample the nodes drawn so far.
*/
#include "zmesh_place.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE       UINT32_MAX             //  no node
#define S_GOLDEN     0x9e3779b97f4a7c15ull  //  splitmix64's increment
#define S_FNV_SEED   0xcbf29ce484222325ull  //  FNV-1a-64 offset basis
#define S_FNV_PRIME  0x100000001b3ull       //  FNV-1a-64 prime
#define S_DRAWS_MAX  (ZMESH_PLACE_DRAWS_PER_CANDIDATE * ZMESH_PLACE_SAMPLE_LIMIT)
#define S_SAMPLE_MAX (ZMESH_PLACE_SAMPLE_LIMIT + 1)  //  the sample and the local node

static const zmesh_place_config_t s_defaults = {
    .match_threshold_permille = ZMESH_PLACE_MATCH_THRESHOLD_PERMILLE_DEFAULT,
    .sample = ZMESH_PLACE_SAMPLE_DEFAULT,
    .local_threshold_permille = ZMESH_PLACE_LOCAL_THRESHOLD_PERMILLE_DEFAULT,
    .rtt_ref_us = ZMESH_PLACE_RTT_REF_US_DEFAULT,
    .ring_vnodes = ZMESH_PLACE_RING_VNODES_DEFAULT,
    .weight_queue = ZMESH_PLACE_WEIGHT_QUEUE_DEFAULT,
    .weight_cpu = ZMESH_PLACE_WEIGHT_CPU_DEFAULT,
    .weight_perf = ZMESH_PLACE_WEIGHT_PERF_DEFAULT,
    .weight_latency = ZMESH_PLACE_WEIGHT_LATENCY_DEFAULT,
    .weight_memory = ZMESH_PLACE_WEIGHT_MEMORY_DEFAULT,
    .weight_cost = ZMESH_PLACE_WEIGHT_COST_DEFAULT,
    .weight_match = ZMESH_PLACE_WEIGHT_MATCH_DEFAULT,
    .weight_gpu = ZMESH_PLACE_WEIGHT_GPU_DEFAULT,
    .bid_capability = ZMESH_PLACE_BID_CAPABILITY_DEFAULT,
    .bid_load = ZMESH_PLACE_BID_LOAD_DEFAULT,
    .bid_perf = ZMESH_PLACE_BID_PERF_DEFAULT,
    .bid_availability = ZMESH_PLACE_BID_AVAILABILITY_DEFAULT,
};

//  --------------------------------------------------------------------------------------------
//  Configuration, request, strategy names

void
zmesh_place_config_defaults (zmesh_place_config_t *config)
{
    ZMESH_ASSERT (config);
    *config = s_defaults;
}

int
zmesh_place_config_check (const zmesh_place_config_t *config)
{
    if (!config)
        return ZMESH_EINVAL;
    if (config->match_threshold_permille > 1000 || config->local_threshold_permille > 1000)
        return ZMESH_ECONFIG;
    if (config->sample > ZMESH_PLACE_SAMPLE_LIMIT)
        return ZMESH_ECONFIG;
    if (config->rtt_ref_us < 1)
        return ZMESH_ECONFIG;
    if (config->ring_vnodes < 1 || config->ring_vnodes > ZMESH_PLACE_RING_VNODES_LIMIT)
        return ZMESH_ECONFIG;
    const uint32_t weights [] = {
        config->weight_queue,   config->weight_cpu,    config->weight_perf,
        config->weight_latency, config->weight_memory, config->weight_cost,
        config->weight_match,   config->weight_gpu,    config->bid_capability,
        config->bid_load,       config->bid_perf,      config->bid_availability};
    uint32_t score_sum = 0, bid_sum = 0;
    for (size_t i = 0; i < sizeof weights / sizeof weights [0]; i++) {
        if (weights [i] > ZMESH_PLACE_WEIGHT_LIMIT)
            return ZMESH_ECONFIG;
        if (i < 8)
            score_sum += weights [i];
        else
            bid_sum += weights [i];
    }
    if (score_sum == 0 || bid_sum == 0)
        return ZMESH_ECONFIG;
    return ZMESH_OK;
}

void
zmesh_place_request_init (zmesh_place_request_t *request)
{
    ZMESH_ASSERT (request);
    memset (request, 0, sizeof *request);
    request->strategy = ZMESH_PLACE_SCORE;
    request->replicas = 1;
}

static const char *const s_strategy_names [ZMESH_PLACE_STRATEGY_COUNT] = {"score", "auction",
                                                                          "hash", "local"};

const char *
zmesh_place_strategy_name (int strategy)
{
    if (strategy < 0 || strategy >= ZMESH_PLACE_STRATEGY_COUNT)
        return "?";
    return s_strategy_names [strategy];
}

int
zmesh_place_strategy_parse (const char *text, zmesh_place_strategy_t *strategy)
{
    ZMESH_ASSERT (strategy);
    int index = zmesh_name_index (text, s_strategy_names, ZMESH_PLACE_STRATEGY_COUNT);
    if (index < 0)
        return ZMESH_EINVAL;
    *strategy = (zmesh_place_strategy_t) index;
    return ZMESH_OK;
}

//  The config to use (NULL: the defaults), or NULL if it is bad (*rc says why).
static const zmesh_place_config_t *
s_config (const zmesh_place_config_t *config, int *rc)
{
    *rc = ZMESH_OK;
    if (!config)
        return &s_defaults;
    if (zmesh_place_config_check (config) != ZMESH_OK) {
        *rc = ZMESH_ECONFIG;
        return NULL;
    }
    return config;
}

static bool
s_terminated (const char *text, size_t size)
{
    return memchr (text, '\0', size) != NULL;
}

static int
s_request_check (const zmesh_place_request_t *request)
{
    if (!request)
        return ZMESH_EINVAL;
    if ((unsigned) request->strategy >= ZMESH_PLACE_STRATEGY_COUNT)
        return ZMESH_EINVAL;
    if (request->replicas < 1 || request->replicas > ZMESH_PLACE_REPLICAS_MAX)
        return ZMESH_EINVAL;
    if (!s_terminated (request->handler, sizeof request->handler))
        return ZMESH_EINVAL;
    if (request->tag_count > ZMESH_TASK_TAGS_MAX)
        return ZMESH_EINVAL;
    for (uint32_t i = 0; i < request->tag_count; i++)
        if (request->tags [i][0] == '\0'
            || !s_terminated (request->tags [i], sizeof request->tags [i]))
            return ZMESH_EINVAL;
    if (!isfinite (request->perf_best_ms) || request->perf_best_ms < 0)
        return ZMESH_EINVAL;
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Hashes and random draws

static uint64_t
s_hash (const uint8_t *bytes, size_t size)
{
    uint64_t hash = S_FNV_SEED;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes [i];
        hash *= S_FNV_PRIME;
    }
    return zmesh_mix64 (hash);
}

//  Where the task's key sits on the ring (also salts the ties).
static uint64_t
s_key_hash (const zmesh_place_request_t *request)
{
    if (request->affinity_key && request->affinity_key_size > 0)
        return s_hash (request->affinity_key, request->affinity_key_size);
    return s_hash (request->task_id.bytes, ZMESH_ID_SIZE);
}

//  The j-th ring point of a node.
static uint64_t
s_point_position (const zmesh_id_t *id, uint32_t j)
{
    uint64_t fnv = S_FNV_SEED;
    for (size_t i = 0; i < ZMESH_ID_SIZE; i++) {
        fnv ^= id->bytes [i];
        fnv *= S_FNV_PRIME;
    }
    return zmesh_mix64 (fnv + (uint64_t) (j + 1) * S_GOLDEN);
}

//  splitmix64: one draw, an index in [0, count).
static uint32_t
s_draw (uint64_t *rng, uint32_t count)
{
    *rng += S_GOLDEN;
    uint64_t draw = zmesh_mix64 (*rng);
    return (uint32_t) (((draw >> 32) * (uint64_t) count) >> 32);
}

//  --------------------------------------------------------------------------------------------
//  Filter and terms

//  Whether name (NUL-terminated, shorter than stride) is one of count entries of stride
//  bytes. An entry matches only if it holds the same bytes and its NUL in the same place.
static bool
s_listed (const char *list, size_t stride, uint32_t count, const char *name)
{
    size_t size = strlen (name) + 1;
    if (size > stride)
        return false;
    if (count > ZMESH_TASK_TAGS_MAX)
        count = ZMESH_TASK_TAGS_MAX;
    for (uint32_t i = 0; i < count; i++)
        if (memcmp (list + i * stride, name, size) == 0)
            return true;
    return false;
}

static bool
s_match (const zmesh_place_config_t *config,
         const zmesh_place_request_t *request,
         const zmesh_place_node_t *node,
         double *match)
{
    *match = 0;
    if (!node->eligible)
        return false;
    if (request->handler [0] && !node->all_handlers
        && !s_listed (&node->handlers [0][0], ZMESH_TASK_HANDLER_MAX, node->handler_count,
                      request->handler))
        return false;
    if (node->gpu_count < request->gpus)
        return false;
    double sum = 0;
    uint32_t items = 0;
    for (uint32_t i = 0; i < request->tag_count; i++) {
        items++;
        if (s_listed (&node->tags [0][0], ZMESH_TASK_TAG_MAX, node->tag_count, request->tags [i]))
            sum += 1;
    }
    if (request->cpu_millicores > 0) {
        items++;
        double share = 1000.0 * node->cpu_cores / request->cpu_millicores;
        sum += share < 1 ? share : 1;
    }
    if (request->memory_bytes > 0) {
        items++;
        double share = (double) node->mem_available_bytes / (double) request->memory_bytes;
        sum += share < 1 ? share : 1;
    }
    if (items == 0) {
        *match = 1;
        return true;
    }
    *match = sum / items;
    //  sum / items >= threshold / 1000, without dividing (exact for whole items).
    return sum * 1000 >= (double) config->match_threshold_permille * items;
}

double
zmesh_place_load (const zmesh_place_node_t *node)
{
    ZMESH_ASSERT (node);
    uint32_t slots = node->slots > 0 ? node->slots : 1;
    return ((double) node->busy + (double) node->queued) / slots;
}

static bool
s_perf_known (const zmesh_place_node_t *node)
{
    return node->perf_samples > 0 && isfinite (node->perf_ms) && node->perf_ms >= 0;
}

//  best: the reference, > 0, or 0 for none.
static double
s_perf_term (const zmesh_place_node_t *node, double best)
{
    if (!s_perf_known (node) || !(best > 0))
        return 0.5;
    double perf =
        node->perf_ms > ZMESH_PLACE_PERF_FLOOR_MS ? node->perf_ms : ZMESH_PLACE_PERF_FLOOR_MS;
    if (best < ZMESH_PLACE_PERF_FLOOR_MS)
        best = ZMESH_PLACE_PERF_FLOOR_MS;
    return best >= perf ? 1.0 : best / perf;
}

//  The terms of a node that passed the filter with match score `match`.
static void
s_terms (const zmesh_place_config_t *config,
         const zmesh_place_request_t *request,
         const zmesh_place_node_t *node,
         double match,
         double perf_best,
         zmesh_place_terms_t *terms)
{
    terms->match = match;
    terms->queue = 1.0 / (1.0 + zmesh_place_load (node));
    uint32_t util = node->cpu_util_bp < 10000 ? node->cpu_util_bp : 10000;
    terms->cpu = 1.0 - util / 10000.0;
    terms->perf = s_perf_term (node, perf_best);
    if (node->is_self)
        terms->latency = 1;
    else if (node->rtt_us == 0)
        terms->latency = 0.5;
    else
        terms->latency = 1.0 / (1.0 + (double) node->rtt_us / config->rtt_ref_us);
    terms->memory = 0;
    if (node->mem_available_bytes > 0) {
        uint64_t demand = request->memory_bytes > ZMESH_PLACE_MEM_FLOOR ? request->memory_bytes
                                                                        : ZMESH_PLACE_MEM_FLOOR;
        double left = 1.0 - (double) demand / (double) node->mem_available_bytes;
        terms->memory = left > 0 ? left : 0;
    }
    uint32_t cost = node->cost_permille < 1000 ? node->cost_permille : 1000;
    terms->cost = 1.0 - cost / 1000.0;
    //  The filter let through only nodes with gpu_count >= gpus.
    if (node->gpu_count == request->gpus)
        terms->gpu = 1;
    else
        terms->gpu = 1.0 - 0.5 * (double) (node->gpu_count - request->gpus) / node->gpu_count;

    double weighted = config->weight_queue * terms->queue + config->weight_cpu * terms->cpu
                      + config->weight_perf * terms->perf + config->weight_latency * terms->latency
                      + config->weight_memory * terms->memory + config->weight_cost * terms->cost
                      + config->weight_match * terms->match + config->weight_gpu * terms->gpu;
    double sum = (double) config->weight_queue + config->weight_cpu + config->weight_perf
                 + config->weight_latency + config->weight_memory + config->weight_cost
                 + config->weight_match + config->weight_gpu;
    terms->score = weighted / sum;
}

static double
s_bid (const zmesh_place_config_t *config,
       const zmesh_place_node_t *node,
       double match,
       double perf_best)
{
    double load = zmesh_place_load (node);
    double idle = load < 1 ? 1 - load : 0;
    double perf = s_perf_term (node, perf_best);
    double availability = ((double) node->outcomes_ok + 1)
                          / ((double) node->outcomes_ok + (double) node->outcomes_failed + 2);
    double weighted = config->bid_capability * match + config->bid_load * idle
                      + config->bid_perf * perf + config->bid_availability * availability;
    double sum = (double) config->bid_capability + config->bid_load + config->bid_perf
                 + config->bid_availability;
    return weighted / sum;
}

bool
zmesh_place_match (const zmesh_place_config_t *config,
                   const zmesh_place_request_t *request,
                   const zmesh_place_node_t *node,
                   double *match)
{
    double scratch;
    if (!match)
        match = &scratch;
    *match = 0;
    int rc;
    config = s_config (config, &rc);
    if (!config || s_request_check (request) != ZMESH_OK || !node)
        return false;
    return s_match (config, request, node, match);
}

int
zmesh_place_terms (const zmesh_place_config_t *config,
                   const zmesh_place_request_t *request,
                   const zmesh_place_node_t *node,
                   double perf_best_ms,
                   zmesh_place_terms_t *terms)
{
    ZMESH_ASSERT (terms);
    memset (terms, 0, sizeof *terms);
    int rc;
    config = s_config (config, &rc);
    if (!config)
        return rc;
    if (s_request_check (request) != ZMESH_OK || !node || !isfinite (perf_best_ms)
        || perf_best_ms < 0)
        return ZMESH_EINVAL;
    double match;
    if (!s_match (config, request, node, &match)) {
        terms->match = match;
        return ZMESH_ENOTFOUND;
    }
    s_terms (config, request, node, match, perf_best_ms > 0 ? perf_best_ms : request->perf_best_ms,
             terms);
    return ZMESH_OK;
}

int
zmesh_place_bid (const zmesh_place_config_t *config,
                 const zmesh_place_request_t *request,
                 const zmesh_place_node_t *node,
                 double perf_best_ms,
                 double *bid)
{
    ZMESH_ASSERT (bid);
    *bid = -1;
    int rc;
    config = s_config (config, &rc);
    if (!config)
        return rc;
    if (s_request_check (request) != ZMESH_OK || !node || !isfinite (perf_best_ms)
        || perf_best_ms < 0)
        return ZMESH_EINVAL;
    double match;
    if (!s_match (config, request, node, &match))
        return ZMESH_ENOTFOUND;
    *bid = s_bid (config, node, match, perf_best_ms > 0 ? perf_best_ms : request->perf_best_ms);
    return ZMESH_OK;
}

//  --------------------------------------------------------------------------------------------
//  Ranking

typedef struct {
    uint32_t index;  //  in the list
    double match;
    double figure;  //  score or bid
    uint64_t tie;   //  orders equal figures
} s_candidate_t;

//  The best `want` candidates offered so far, best first.
typedef struct {
    uint32_t want;
    uint32_t count;
    s_candidate_t best [ZMESH_PLACE_REPLICAS_MAX];
} s_top_t;

static bool
s_better (const zmesh_place_node_t *nodes, const s_candidate_t *a, const s_candidate_t *b)
{
    if (a->figure != b->figure)
        return a->figure > b->figure;
    if (a->tie != b->tie)
        return a->tie < b->tie;
    int order = memcmp (nodes [a->index].id.bytes, nodes [b->index].id.bytes, ZMESH_ID_SIZE);
    if (order != 0)
        return order < 0;
    return a->index < b->index;
}

static void
s_offer (s_top_t *top, const zmesh_place_node_t *nodes, const s_candidate_t *candidate)
{
    if (top->want == 0)
        return;
    if (top->count == top->want && !s_better (nodes, candidate, &top->best [top->want - 1]))
        return;
    uint32_t at = top->count < top->want ? top->count++ : top->want - 1;
    while (at > 0 && s_better (nodes, candidate, &top->best [at - 1])) {
        top->best [at] = top->best [at - 1];
        at--;
    }
    top->best [at] = *candidate;
}

static uint64_t
s_tie (const zmesh_place_node_t *node, uint64_t key_hash)
{
    return zmesh_mix64 (s_hash (node->id.bytes, ZMESH_ID_SIZE) ^ key_hash);
}

static void
s_result_add (zmesh_place_result_t *result, uint32_t index, double figure)
{
    ZMESH_ASSERT (result->count < ZMESH_PLACE_REPLICAS_MAX);
    result->nodes [result->count] = index;
    result->figures [result->count] = figure;
    result->count++;
}

static void
s_result_take (zmesh_place_result_t *result, const s_top_t *top)
{
    for (uint32_t i = 0; i < top->count; i++)
        s_result_add (result, top->best [i].index, top->best [i].figure);
}

//  Every node but `skip` that passes the filter, ranked by score (bid: by bid), into top.
//  Two passes when the perf reference is the set's: its best, then the figures.
static void
s_rank_all (const zmesh_place_config_t *config,
            const zmesh_place_request_t *request,
            const zmesh_place_node_t *nodes,
            uint32_t count,
            uint32_t skip,
            bool bid,
            s_top_t *top,
            zmesh_place_result_t *result)
{
    double match;
    double perf_best = request->perf_best_ms;
    if (perf_best == 0) {
        for (uint32_t i = 0; i < count; i++)
            if (i != skip && s_perf_known (&nodes [i])
                && (perf_best == 0 || nodes [i].perf_ms < perf_best)
                && s_match (config, request, &nodes [i], &match))
                perf_best = nodes [i].perf_ms > ZMESH_PLACE_PERF_FLOOR_MS
                                ? nodes [i].perf_ms
                                : ZMESH_PLACE_PERF_FLOOR_MS;
    }
    uint64_t key_hash = s_key_hash (request);
    for (uint32_t i = 0; i < count; i++) {
        if (i == skip)
            continue;
        result->examined++;
        if (!s_match (config, request, &nodes [i], &match))
            continue;
        result->passed++;
        s_candidate_t candidate = {i, match, 0, s_tie (&nodes [i], key_hash)};
        if (bid)
            candidate.figure =
                nodes [i].has_bid
                    ? (nodes [i].bid_permille > 1000 ? 1000 : nodes [i].bid_permille) / 1000.0
                    : s_bid (config, &nodes [i], match, perf_best);
        else {
            zmesh_place_terms_t terms;
            s_terms (config, request, &nodes [i], match, perf_best, &terms);
            candidate.figure = terms.score;
        }
        s_offer (top, nodes, &candidate);
    }
}

static uint32_t
s_find_self (const zmesh_place_node_t *nodes, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        if (nodes [i].is_self)
            return i;
    return S_NONE;
}

//  --------------------------------------------------------------------------------------------
//  Strategies

static int
s_choose_score (const zmesh_place_config_t *config,
                const zmesh_place_request_t *request,
                const zmesh_place_node_t *nodes,
                uint32_t count,
                uint64_t *rng,
                zmesh_place_result_t *result)
{
    double match;
    uint32_t self = s_find_self (nodes, count);
    bool self_passes = false;
    double self_match = 0;
    if (self != S_NONE) {
        result->examined++;
        self_passes = s_match (config, request, &nodes [self], &self_match);
        if (self_passes)
            result->passed++;
    }
    //  Local preference: lightly loaded, chosen without scoring anything.
    if (self_passes && config->local_threshold_permille > 0
        && zmesh_place_load (&nodes [self]) * 1000 < config->local_threshold_permille) {
        s_result_add (result, self, -1);
        result->local_preferred = true;
        if (request->replicas == 1)
            return ZMESH_OK;
    }
    uint32_t wanted = request->replicas - result->count;
    uint32_t remote = count - (self != S_NONE ? 1 : 0);
    uint32_t draws_wanted = config->sample > wanted ? config->sample : wanted;
    s_top_t top = {.want = wanted};

    if (config->sample > 0 && remote > draws_wanted) {
        s_candidate_t sample [S_SAMPLE_MAX + ZMESH_PLACE_REPLICAS_MAX];
        uint32_t sample_count = 0;
        if (self_passes && !result->local_preferred)
            sample [sample_count++] = (s_candidate_t){self, self_match, 0, 0};
        uint32_t drawn [S_DRAWS_MAX + ZMESH_PLACE_DRAWS_PER_CANDIDATE * ZMESH_PLACE_REPLICAS_MAX];
        uint32_t drawn_count = 0;
        uint32_t budget = ZMESH_PLACE_DRAWS_PER_CANDIDATE * draws_wanted;
        uint32_t found = 0;
        for (uint32_t draw = 0; draw < budget && found < draws_wanted; draw++) {
            uint32_t index = s_draw (rng, count);
            if (index == self)
                continue;
            bool again = false;
            for (uint32_t i = 0; i < drawn_count && !again; i++)
                again = drawn [i] == index;
            if (again)
                continue;
            drawn [drawn_count++] = index;
            result->examined++;
            if (!s_match (config, request, &nodes [index], &match))
                continue;
            result->passed++;
            sample [sample_count++] = (s_candidate_t){index, match, 0, 0};
            found++;
        }
        if (sample_count >= wanted) {
            result->sampled = true;
            double perf_best = request->perf_best_ms;
            if (perf_best == 0)
                for (uint32_t i = 0; i < sample_count; i++) {
                    const zmesh_place_node_t *node = &nodes [sample [i].index];
                    if (s_perf_known (node) && (perf_best == 0 || node->perf_ms < perf_best))
                        perf_best = node->perf_ms > ZMESH_PLACE_PERF_FLOOR_MS
                                        ? node->perf_ms
                                        : ZMESH_PLACE_PERF_FLOOR_MS;
                }
            uint64_t key_hash = s_key_hash (request);
            for (uint32_t i = 0; i < sample_count; i++) {
                zmesh_place_terms_t terms;
                s_terms (config, request, &nodes [sample [i].index], sample [i].match, perf_best,
                         &terms);
                sample [i].figure = terms.score;
                sample [i].tie = s_tie (&nodes [sample [i].index], key_hash);
                s_offer (&top, nodes, &sample [i]);
            }
            s_result_take (result, &top);
            return ZMESH_OK;
        }
        //  Unlucky or few nodes pass: score them all.
    }
    s_rank_all (config, request, nodes, count, result->local_preferred ? self : S_NONE, false, &top,
                result);
    s_result_take (result, &top);
    return result->count > 0 ? ZMESH_OK : ZMESH_ENOTFOUND;
}

static int
s_choose_hash (const zmesh_place_config_t *config,
               const zmesh_place_request_t *request,
               const zmesh_place_node_t *nodes,
               uint32_t count,
               const zmesh_place_ring_t *ring,
               zmesh_place_result_t *result)
{
    if (!ring || ring->node_count != count || (ring->point_count > 0 && !ring->points))
        return ZMESH_EINVAL;
    if (ring->point_count == 0)
        return ZMESH_ENOTFOUND;
    uint64_t key = s_key_hash (request);
    //  The first point at or after the key, wrapping to the first.
    uint32_t low = 0, high = ring->point_count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        if (ring->points [middle].position < key)
            low = middle + 1;
        else
            high = middle;
    }
    uint32_t start = low == ring->point_count ? 0 : low;
    for (uint32_t k = 0; k < ring->point_count && result->count < request->replicas; k++) {
        const zmesh_place_point_t *point = &ring->points [(start + k) % ring->point_count];
        if (point->node >= count || !zmesh_id_equal (&nodes [point->node].id, &point->id)) {
            memset (result, 0, sizeof *result);
            return ZMESH_EINVAL;  //  a ring of another list
        }
        bool taken = false;
        for (uint32_t i = 0; i < result->count && !taken; i++)
            taken = result->nodes [i] == point->node;
        if (taken)
            continue;
        double match;
        result->examined++;
        if (s_match (config, request, &nodes [point->node], &match)) {
            result->passed++;
            s_result_add (result, point->node, -1);
        }
    }
    return result->count > 0 ? ZMESH_OK : ZMESH_ENOTFOUND;
}

int
zmesh_place_choose (const zmesh_place_config_t *config,
                    const zmesh_place_request_t *request,
                    const zmesh_place_node_t *nodes,
                    uint32_t count,
                    const zmesh_place_ring_t *ring,
                    uint64_t *rng,
                    zmesh_place_result_t *result)
{
    ZMESH_ASSERT (result);
    memset (result, 0, sizeof *result);
    int rc;
    config = s_config (config, &rc);
    if (!config)
        return rc;
    if (s_request_check (request) != ZMESH_OK || (!nodes && count > 0))
        return ZMESH_EINVAL;
    if (request->strategy == ZMESH_PLACE_SCORE && !rng)
        return ZMESH_EINVAL;
    if (request->strategy == ZMESH_PLACE_HASH)
        return s_choose_hash (config, request, nodes, count, ring, result);
    if (count == 0)
        return ZMESH_ENOTFOUND;

    switch (request->strategy) {
        case ZMESH_PLACE_SCORE:
            return s_choose_score (config, request, nodes, count, rng, result);
        case ZMESH_PLACE_AUCTION: {
            s_top_t top = {.want = request->replicas};
            s_rank_all (config, request, nodes, count, S_NONE, true, &top, result);
            s_result_take (result, &top);
            return result->count > 0 ? ZMESH_OK : ZMESH_ENOTFOUND;
        }
        default: {  //  LOCAL
            uint32_t self = s_find_self (nodes, count);
            if (self == S_NONE)
                return ZMESH_ENOTFOUND;
            double match;
            result->examined++;
            if (!s_match (config, request, &nodes [self], &match))
                return ZMESH_ENOTFOUND;
            result->passed++;
            s_result_add (result, self, -1);
            return ZMESH_OK;
        }
    }
}

int
zmesh_place_scan (const zmesh_place_config_t *config,
                  const zmesh_place_request_t *request,
                  const zmesh_place_node_t *nodes,
                  uint32_t count,
                  zmesh_place_result_t *result)
{
    ZMESH_ASSERT (result);
    memset (result, 0, sizeof *result);
    int rc;
    config = s_config (config, &rc);
    if (!config)
        return rc;
    if (s_request_check (request) != ZMESH_OK || (!nodes && count > 0))
        return ZMESH_EINVAL;
    s_top_t top = {.want = request->replicas};
    s_rank_all (config, request, nodes, count, S_NONE, false, &top, result);
    s_result_take (result, &top);
    return result->count > 0 ? ZMESH_OK : ZMESH_ENOTFOUND;
}

//  --------------------------------------------------------------------------------------------
//  The ring

static int
s_point_compare (const void *a_, const void *b_)
{
    const zmesh_place_point_t *a = a_;
    const zmesh_place_point_t *b = b_;
    if (a->position != b->position)
        return a->position < b->position ? -1 : 1;
    int order = memcmp (a->id.bytes, b->id.bytes, ZMESH_ID_SIZE);
    if (order != 0)
        return order;
    return a->node < b->node ? -1 : a->node > b->node ? 1 : 0;
}

int
zmesh_place_ring_build (zmesh_place_ring_t *ring,
                        const zmesh_place_config_t *config,
                        const zmesh_place_node_t *nodes,
                        uint32_t count)
{
    ZMESH_ASSERT (ring);
    memset (ring, 0, sizeof *ring);
    int rc;
    config = s_config (config, &rc);
    if (!config)
        return rc;
    if (!nodes && count > 0)
        return ZMESH_EINVAL;
    uint64_t points = (uint64_t) count * config->ring_vnodes;
    if (points > ZMESH_PLACE_RING_POINTS_LIMIT)
        return ZMESH_ELIMIT;
    if (points == 0)
        return ZMESH_OK;
    zmesh_place_point_t *point = malloc ((size_t) points * sizeof *point);
    if (!point)
        return ZMESH_ENOMEM;
    size_t at = 0;
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t j = 0; j < config->ring_vnodes; j++, at++) {
            point [at].position = s_point_position (&nodes [i].id, j);
            point [at].id = nodes [i].id;
            point [at].node = i;
        }
    qsort (point, (size_t) points, sizeof *point, s_point_compare);
    //  Two nodes with one id have every point at the same positions: side by side now.
    for (size_t i = 1; i < points; i++)
        if (point [i].position == point [i - 1].position
            && zmesh_id_equal (&point [i].id, &point [i - 1].id)) {
            free (point);
            return ZMESH_EINVAL;
        }
    ring->points = point;
    ring->point_count = (uint32_t) points;
    ring->node_count = count;
    return ZMESH_OK;
}

void
zmesh_place_ring_fini (zmesh_place_ring_t *ring)
{
    if (!ring)
        return;
    free (ring->points);
    memset (ring, 0, sizeof *ring);
}

//  --------------------------------------------------------------------------------------------
//  Past performance

void
zmesh_place_perf_update (double *perf_ms, uint32_t *perf_samples, double sample_ms)
{
    ZMESH_ASSERT (perf_ms && perf_samples);
    if (!isfinite (sample_ms) || sample_ms < 0)
        return;
    if (*perf_samples == 0 || !isfinite (*perf_ms) || *perf_ms < 0) {
        *perf_ms = sample_ms;
        *perf_samples = 1;
        return;
    }
    uint32_t n = *perf_samples < UINT32_MAX ? *perf_samples + 1 : UINT32_MAX;
    double weight = 1.0 / n;
    if (weight < ZMESH_PLACE_PERF_ALPHA)
        weight = ZMESH_PLACE_PERF_ALPHA;
    *perf_ms += weight * (sample_ms - *perf_ms);
    *perf_samples = n;
}
