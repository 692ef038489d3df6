/*  zmesh_place.h: task placement (issue 4, point 2), as a pure core: which node runs a task.

    The balancer fills one zmesh_place_node_t per candidate node (from gossip: the profile
    and `zmesh.work`; from its own observations: round-trip time, past performance, outcomes,
    the breaker) and asks zmesh_place_choose for the node(s) of one task. It also asks
    zmesh_place_scan for the cost-optimal node, the one an exhaustive scan by the full score
    would pick, so that a result can report both `selected_node` and `cost_optimal_node`.

    1. Filter (zmesh_place_match). A node is out when
       - its `eligible` flag is false (the balancer's word: not alive, or its breaker says no);
       - its handler list is known (`all_handlers` false) and does not name the task's handler
         (an empty handler in the request asks for none);
       - it has fewer GPUs than the task needs;
       - its match score is below match_threshold_permille / 1000 (default 0.7).
       The match score m in [0, 1] is the mean of one item per requirement, each weighing 1:
       - each required tag: 1 if the node has it (exact, case-sensitive), else 0;
       - CPU, if the task asks cpu_millicores > 0: min (1, 1000 x cpu_cores / cpu_millicores);
       - memory, if it asks memory_bytes > 0: min (1, mem_available_bytes / memory_bytes);
       and m = 1 when the task asks nothing. So with the default threshold a task with two
       tags, CPU and memory may miss one tag (m = 0.75) but not two (0.5); one that asks only
       CPU and memory is out on a node with less than 40% of the memory it asks when its CPU
       demand is met. Set the threshold to 1000 for strict matching. Node figures are taken
       as they are: a node whose profile is unknown has 0 cores and 0 bytes, so the balancer
       should mark it not eligible or fill in what it knows.

    2. Score (zmesh_place_terms), higher is better, of a node that passed the filter:

           score = sum (w_i x t_i) / sum (w_i)                     (in [0, 1])

       over the terms t_i below, each in [0, 1], with the weights w_i of the config, in
       permille (0..1000 each, not all 0; defaults in brackets, summing to 1000):
       - queue [250]: 1 / (1 + load), load = (busy + queued) / max (slots, 1). Not
         1 - load: that is 0 for every node at or beyond full, and among saturated nodes the
         one with the shortest queue should still win. Idle 1, half full 0.67, full 0.5.
       - cpu [150]: 1 - min (cpu_util_bp, 10000) / 10000, the node's CPU headroom (all
         processes, not only tasks).
       - perf [150]: past performance of this handler on this node, a moving average of its
         latency (zmesh_place_perf_update): ref / perf_ms, at most 1, where ref is the
         request's perf_best_ms if it gives one, else the smallest known moving average among
         the nodes scored together (the sample, or all eligible nodes in a full scan); both
         floored at ZMESH_PLACE_PERF_FLOOR_MS. Unknown (perf_samples 0), or no reference:
         0.5, so a node never tried ranks above one known to be more than twice as slow as
         the best, and below one known to be faster than that.
       - latency [100]: 1 / (1 + rtt_us / rtt_ref_us), rtt_ref_us default 1000 (1 ms gives
         0.5, 0.2 ms 0.83, 10 ms 0.09); the local node 1; rtt_us 0 (unknown) 0.5.
       - memory [100]: 1 - max (memory_bytes, ZMESH_PLACE_MEM_FLOOR) / mem_available_bytes,
         clamped to [0, 1]: the share of free memory left after the task, so more free memory
         is better but saturates (the floor, 64 MiB, makes it count for tasks that ask 0).
       - cost [100]: 1 - min (cost_permille, 1000) / 1000 (the operator's cost weight).
       - match [100]: the match score m.
       - gpu [50]: 1 when the node has exactly the GPUs the task needs (0 and 0 included),
         else 1 - 0.5 x (gpu_count - gpus) / gpu_count: GPUs the task would leave idle cost,
         so CPU tasks lean towards nodes without GPUs and keep those free for GPU tasks.
       The weights reflect what predicts the wait and run time of a task: the work-plane queue
       most directly, then the CPU the node has left and how fast it ran this handler before.

    3. Strategies (zmesh_place_choose; request.strategy):
       - SCORE (default). Local preference: if the local node (is_self) passes the filter
         and its load (above) is below local_threshold_permille / 1000 (default 0.5; 0 turns
         the preference off), it is chosen without scoring anything. Otherwise, power of d
         choices (Mitzenmacher 2001): score a random sample of d = max (sample, replicas)
         remote nodes that pass the filter, plus the local node whenever it passes, and take
         the best. sample defaults to 2: two random choices already turn the maximum load
         from log n / log log n into log log n / log 2, and each more choice gains only a
         constant factor, while load figures that arrive by gossip are up to a second old
         and every owner places concurrently, and with stale figures larger samples herd
         onto the same few nodes (Mitzenmacher 2000, "How useful is old information?"). The
         local node, always scored, makes three candidates. sample 0 scores every node.
         Drawing: uniform over the list, without repetition, skipping the local node and
         nodes that fail the filter, until d pass or ZMESH_PLACE_DRAWS_PER_CANDIDATE x d
         draws are spent; if fewer than the nodes still wanted passed, or the list has at
         most d remote nodes, every node is scored instead (so a placement is never missed
         for want of luck). Draws use the caller's 64-bit state (splitmix64: the state
         advances by 0x9e3779b97f4a7c15 per draw, the draw is zmesh_mix64 of it; an index is
         ((draw >> 32) x count) >> 32), so the same state and inputs give the same choice.
       - AUCTION. Every node that passes the filter bids, the highest bids win: no sample and
         no local preference (an auction hears every eligible node; the balancer may pass a
         shorter list). A node with has_bid set bid for itself (the balancer asked it with a
         CALL): its bid_permille / 1000 is its bid. For the others the bid is computed from
         the node's description (zmesh_place_bid), the same function a worker uses to bid:
             bid = (400 x capability + 300 x (1 - load') + 200 x perf + 100 x availability)
                   / 1000
         with capability = m, load' = min (1, load), perf as in the score (against the
         request's perf_best_ms; in zmesh_place_choose, if the request gives none, against
         the best known among the bidders), availability = (ok + 1) / (ok + failed + 2)
         over the node's recent outcomes (Laplace's rule of succession: 0.5 for a node with
         no history, approaching its success ratio as outcomes accrue). The four weights are
         config fields (permille, normalised by their sum); the defaults are the issue's.
       - HASH. Consistent hashing (Karger et al. 1997) on a ring built by
         zmesh_place_ring_build from the node list, ring_vnodes points per node (default 64).
         The key is the request's affinity key, or the task id when it has none; the
         chosen nodes are the first `replicas` distinct nodes clockwise from the key that pass
         the filter. Skipping a node that fails the filter is the same as a ring without it,
         so the ring is rebuilt only when the list changes (membership), not when a node's
         breaker opens or its load changes. Removing one node of N moves only the keys it
         held, about 1/N of them. Positions (stable, defined here): h (bytes) = zmesh_mix64
         (FNV-1a-64 (bytes)); a key is at h (key); the j-th point of a node (j from 0) is at
         zmesh_mix64 (FNV-1a-64 (id) + (j + 1) x 0x9e3779b97f4a7c15); a key maps to the first
         point at or after it, wrapping; points sort by position, then id.
       - LOCAL. The local node if it passes the filter, else ZMESH_ENOTFOUND.

    Redundancy. request.replicas r (1..ZMESH_PLACE_REPLICAS_MAX) asks for up to r distinct
    nodes, best first: the r best scores or bids, the first r clockwise, or, after a local
    preference, the local node followed by the r - 1 best of the rest. LOCAL gives at most
    one. Fewer than r pass the filter: those, ZMESH_OK (result.count says how many).

    Ties. Equal scores or bids are ordered by zmesh_mix64 (h (id) ^ h (key)), key as for
    HASH, then by id: deterministic and independent of the order of the list, yet equal
    nodes share the tasks instead of the lowest id taking them all.

    Past performance. zmesh_place_perf_update folds one observed latency into a node's
    moving average for one handler: the n-th sample (n from 1) weighs max (alpha, 1 / n),
    alpha = ZMESH_PLACE_PERF_ALPHA = 0.2: the plain mean of the first five samples, then an
    exponential moving average whose memory is about 1 / alpha = 5 samples. Keeping one per
    (node, handler) is the balancer's business.

    Complexity. Filter: O(tags x node tags + node handlers) string compares. choose:
    SCORE O(sample + position of the local node in the list; put it first), O(n) when it
    falls back to scoring all; AUCTION O(n); HASH O(log (n x vnodes)) plus the points walked
    (about r / f when a fraction f of the nodes pass the filter; every point when none does);
    LOCAL O(position of the local node). scan: O(n). A full pass (scan, AUCTION, fallback)
    runs the filter twice per node when the perf reference comes from the set.
    ring_build: O(n x vnodes x log (n x vnodes)), 32 bytes per point (at most
    ZMESH_PLACE_RING_POINTS_LIMIT points, 128 MiB), the only allocation.

    Arithmetic in double, the same operations in the same order for the same inputs, so the
    same inputs give the same answer. Node descriptions come from the network: every field
    is clamped or checked (tags and handlers that are not NUL-terminated within their size
    match nothing; counts beyond their arrays are cut to them; perf_ms NaN, infinite or
    negative is unknown); nothing in them reaches an assertion. No clock, no I/O, no logging.
*/
#ifndef ZMESH_PLACE_H_INCLUDED
#define ZMESH_PLACE_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_task.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_PLACE_MATCH_THRESHOLD_PERMILLE_DEFAULT 700
#define ZMESH_PLACE_SAMPLE_DEFAULT                   2
#define ZMESH_PLACE_SAMPLE_LIMIT                     64
#define ZMESH_PLACE_LOCAL_THRESHOLD_PERMILLE_DEFAULT 500
#define ZMESH_PLACE_RTT_REF_US_DEFAULT               1000
#define ZMESH_PLACE_RING_VNODES_DEFAULT              64
#define ZMESH_PLACE_RING_VNODES_LIMIT                1024
#define ZMESH_PLACE_RING_POINTS_LIMIT                (1u << 22)  //  nodes x vnodes of one ring
#define ZMESH_PLACE_REPLICAS_MAX                     16
#define ZMESH_PLACE_DRAWS_PER_CANDIDATE              4
#define ZMESH_PLACE_WEIGHT_LIMIT                     1000

//  Score weights, permille (sum 1000).
#define ZMESH_PLACE_WEIGHT_QUEUE_DEFAULT   250
#define ZMESH_PLACE_WEIGHT_CPU_DEFAULT     150
#define ZMESH_PLACE_WEIGHT_PERF_DEFAULT    150
#define ZMESH_PLACE_WEIGHT_LATENCY_DEFAULT 100
#define ZMESH_PLACE_WEIGHT_MEMORY_DEFAULT  100
#define ZMESH_PLACE_WEIGHT_COST_DEFAULT    100
#define ZMESH_PLACE_WEIGHT_MATCH_DEFAULT   100
#define ZMESH_PLACE_WEIGHT_GPU_DEFAULT     50
//  Bid weights, permille (the 0.4, 0.3, 0.2, 0.1).
#define ZMESH_PLACE_BID_CAPABILITY_DEFAULT   400
#define ZMESH_PLACE_BID_LOAD_DEFAULT         300
#define ZMESH_PLACE_BID_PERF_DEFAULT         200
#define ZMESH_PLACE_BID_AVAILABILITY_DEFAULT 100

#define ZMESH_PLACE_MEM_FLOOR     (64ull * 1024 * 1024)  //  bytes: memory term's least demand
#define ZMESH_PLACE_PERF_FLOOR_MS 0.001                  //  1 us: perf term's least latency
#define ZMESH_PLACE_PERF_ALPHA    0.2                    //  weight of a new perf sample

typedef enum {
    ZMESH_PLACE_SCORE = 0,  //  filter, sample, score (default)
    ZMESH_PLACE_AUCTION,    //  every eligible node bids
    ZMESH_PLACE_HASH,       //  consistent hashing on the affinity key or task id
    ZMESH_PLACE_LOCAL       //  this node or nothing
} zmesh_place_strategy_t;

#define ZMESH_PLACE_STRATEGY_COUNT 4

typedef struct {
    uint32_t match_threshold_permille;  //  least match score to pass, 0..1000 (700)
    uint32_t sample;                    //  remote nodes scored, 0..SAMPLE_LIMIT; 0: all (2)
    uint32_t local_threshold_permille;  //  local load below it: local; 0..1000, 0 off (500)
    uint32_t rtt_ref_us;                //  RTT whose latency term is 0.5; >= 1 (1000)
    uint32_t ring_vnodes;               //  ring points per node, 1..RING_VNODES_LIMIT (64)
    //  Score weights, permille, each 0..WEIGHT_LIMIT, not all 0.
    uint32_t weight_queue;
    uint32_t weight_cpu;
    uint32_t weight_perf;
    uint32_t weight_latency;
    uint32_t weight_memory;
    uint32_t weight_cost;
    uint32_t weight_match;
    uint32_t weight_gpu;
    //  Bid weights, permille, each 0..WEIGHT_LIMIT, not all 0.
    uint32_t bid_capability;
    uint32_t bid_load;
    uint32_t bid_perf;
    uint32_t bid_availability;
} zmesh_place_config_t;

//  One candidate node, filled by the balancer. Every field may come from the network.
typedef struct {
    zmesh_id_t id;                 //  distinct within one list
    bool is_self;                  //  the local node (the first one flagged counts)
    bool eligible;                 //  alive and its breaker lets tasks through
    uint32_t cpu_cores;            //  logical cores
    uint32_t cpu_util_bp;          //  CPU in use, basis points 0..10000 (more: 10000)
    uint64_t mem_available_bytes;  //  memory free for tasks
    uint32_t gpu_count;
    uint32_t slots;            //  work plane: executor slots (0 counts as 1)
    uint32_t busy;             //  work plane: slots running a task
    uint32_t queued;           //  work plane: tasks waiting
    uint32_t rtt_us;           //  round trip from here; 0 unknown
    double perf_ms;            //  moving average latency of the handler there
    uint32_t perf_samples;     //  samples in perf_ms; 0 unknown
    uint32_t outcomes_ok;      //  recent tasks there that came back (availability)
    uint32_t outcomes_failed;  //  recent tasks there lost to system failures
    uint32_t cost_permille;    //  operator's cost weight of the node, 0..1000
    uint32_t tag_count;        //  0..ZMESH_TASK_TAGS_MAX
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];
    bool all_handlers;       //  has every handler, or its list is unknown
    uint32_t handler_count;  //  0..ZMESH_TASK_TAGS_MAX
    char handlers [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_HANDLER_MAX];
    bool has_bid;           //  AUCTION: the node bid itself (a BID): bid_permille is its bid,
    uint32_t bid_permille;  //  0..1000 (more counts as 1000), used instead of zmesh_place_bid
} zmesh_place_node_t;

//  One task's needs and how to place it. zmesh_place_request_init, then fill.
typedef struct {
    char handler [ZMESH_TASK_HANDLER_MAX];                //  "" asks no handler
    uint32_t tag_count;                                   //  0..ZMESH_TASK_TAGS_MAX
    char tags [ZMESH_TASK_TAGS_MAX][ZMESH_TASK_TAG_MAX];  //  required, non-empty
    uint32_t cpu_millicores;                              //  1000 = one core
    uint64_t memory_bytes;
    uint32_t gpus;
    zmesh_place_strategy_t strategy;
    uint32_t replicas;            //  distinct nodes wanted, 1..REPLICAS_MAX
    zmesh_id_t task_id;           //  HASH key when there is no affinity key
    const uint8_t *affinity_key;  //  HASH key (borrowed for the call)
    size_t affinity_key_size;     //  0 (or key NULL): the key is the task id
    double perf_best_ms;          //  perf reference, > 0; 0: from the nodes compared
} zmesh_place_request_t;

//  What choose or scan decided. nodes [] are indices into the caller's list.
typedef struct {
    uint32_t count;                             //  nodes chosen, best first
    uint32_t nodes [ZMESH_PLACE_REPLICAS_MAX];  //  their index in the list
    double figures [ZMESH_PLACE_REPLICAS_MAX];  //  score (SCORE, scan) or bid (AUCTION);
                                                //  -1 not computed (HASH, LOCAL, local
                                                //  preference)
    bool local_preferred;  //  nodes [0] is the local node, chosen for its light load
    bool sampled;          //  SCORE looked at a sample, not at every node
    uint32_t examined;     //  filter runs that counted (a node may count twice when a
                           //  sample falls back to a full pass, or a ring walk meets it again)
    uint32_t passed;       //  of which passed
} zmesh_place_result_t;

//  A filled node's score in parts (zmesh_place_terms). Each term in [0, 1].
typedef struct {
    double match;
    double queue;
    double cpu;
    double perf;
    double latency;
    double memory;
    double cost;
    double gpu;
    double score;  //  the weighted mean
} zmesh_place_terms_t;

//  One point of the ring (private).
typedef struct {
    uint64_t position;
    zmesh_id_t id;
    uint32_t node;  //  index in the list the ring was built from
} zmesh_place_point_t;

//  The consistent-hash ring (fields private). Build, use with the same list, fini.
typedef struct {
    zmesh_place_point_t *points;  //  point_count, sorted
    uint32_t point_count;
    uint32_t node_count;  //  length of the list it was built from
} zmesh_place_ring_t;

//  The documented defaults.
void zmesh_place_config_defaults (zmesh_place_config_t *config);
//  ZMESH_OK, or ZMESH_ECONFIG for a field out of its range (NULL: ZMESH_EINVAL).
int zmesh_place_config_check (const zmesh_place_config_t *config);
//  Zero, strategy SCORE, one replica.
void zmesh_place_request_init (zmesh_place_request_t *request);

//  "score", "auction", "hash", "local"; "?" out of range. Never NULL.
const char *zmesh_place_strategy_name (int strategy);
//  The strategy named by text (any case); ZMESH_EINVAL if it names none.
int zmesh_place_strategy_parse (const char *text, zmesh_place_strategy_t *strategy);

//  In every call below config NULL means the defaults; a bad config is ZMESH_ECONFIG, a bad
//  request (a field out of its range, a tag or handler not NUL-terminated) ZMESH_EINVAL.

//  The filter: true if node passes; *match (may be NULL) gets its match score, also when it
//  fails on the threshold (0 when it fails before: flag, handler, GPUs). A bad config or
//  request: false, match 0.
bool zmesh_place_match (const zmesh_place_config_t *config,
                        const zmesh_place_request_t *request,
                        const zmesh_place_node_t *node,
                        double *match);

//  One node's score and its terms, perf against perf_best_ms (0: no reference, the request's
//  perf_best_ms if it has one). ZMESH_ENOTFOUND if it fails the filter (terms zero but match).
int zmesh_place_terms (const zmesh_place_config_t *config,
                       const zmesh_place_request_t *request,
                       const zmesh_place_node_t *node,
                       double perf_best_ms,
                       zmesh_place_terms_t *terms);

//  One node's bid for the task, from its own description, perf against perf_best_ms as in
//  terms. ZMESH_ENOTFOUND if it fails the filter (*bid -1).
int zmesh_place_bid (const zmesh_place_config_t *config,
                     const zmesh_place_request_t *request,
                     const zmesh_place_node_t *node,
                     double perf_best_ms,
                     double *bid);

//  Place a task among nodes [0 .. count) by request->strategy. ring: built from this very
//  list (same order and count; HASH only, else may be NULL). rng: the caller's random state,
//  advanced by each draw (SCORE; others may pass NULL). ZMESH_OK and result->count >= 1;
//  ZMESH_ENOTFOUND if no node passes the filter; ZMESH_EINVAL for bad arguments (NULL list
//  with count > 0, HASH without a ring or with one of another list (as far as the walk sees:
//  a point whose node's index is beyond count or holds another id), SCORE without rng);
//  ZMESH_ECONFIG for a bad config. On any error result->count is 0.
int zmesh_place_choose (const zmesh_place_config_t *config,
                        const zmesh_place_request_t *request,
                        const zmesh_place_node_t *nodes,
                        uint32_t count,
                        const zmesh_place_ring_t *ring,
                        uint64_t *rng,
                        zmesh_place_result_t *result);

//  The cost-optimal nodes: the request->replicas best by score over every node that passes
//  the filter, whatever the strategy (no sample, no local preference). Codes as choose.
int zmesh_place_scan (const zmesh_place_config_t *config,
                      const zmesh_place_request_t *request,
                      const zmesh_place_node_t *nodes,
                      uint32_t count,
                      zmesh_place_result_t *result);

//  Build the ring over nodes [0 .. count) (every node, whatever its flags: lookups skip
//  those that fail the filter), config->ring_vnodes points each. ring: zeroed, or fini'ed
//  since it was last built (build does not free what it holds). ZMESH_EINVAL for a NULL
//  list with count > 0 or two nodes with the same id, ZMESH_ELIMIT beyond
//  ZMESH_PLACE_RING_POINTS_LIMIT points, ZMESH_ENOMEM; on error the ring is empty (fini is
//  harmless).
int zmesh_place_ring_build (zmesh_place_ring_t *ring,
                            const zmesh_place_config_t *config,
                            const zmesh_place_node_t *nodes,
                            uint32_t count);
//  Free the ring. Idempotent.
void zmesh_place_ring_fini (zmesh_place_ring_t *ring);

//  A node's work-plane load: (busy + queued) / max (slots, 1).
double zmesh_place_load (const zmesh_place_node_t *node);

//  Fold one observed latency (ms, finite, >= 0; anything else is ignored) into a moving
//  average and its sample count (see the header comment). The count saturates.
void zmesh_place_perf_update (double *perf_ms, uint32_t *perf_samples, double sample_ms);

#endif
