/*  zmesh_scale.h: the scaling decision (issue 4, point 8), as a pure core.

    Every cycle the shell feeds the queue depth and the average task latency, of one node or
    of the whole mesh (one core for each), and gets a decision to act on (an optional
    `scale.exec` command, a metric):

        D = queue_weight * (queue_depth / queue_depth_ref) + latency_weight * (latency_ms / sla_ms)

    with defaults 0.6, 50 and 0.4; sla_ms is a config field too (default 1 s). D > up_threshold
    (1.0) is SCALE_UP, D < down_threshold (0.2) is SCALE_DOWN, anything else HOLD: a D exactly
    on a threshold holds.

    That raw decision is not reported at once:
    - Hysteresis: SCALE_UP or SCALE_DOWN is reported only once the raw decision has been the
      same for `cycles` consecutive steps (default 3). A step with another raw decision starts
      the count again from 1 for the new one. A raw HOLD is reported at once: it asks nothing.
    - Cooldown: after a reported SCALE_UP or SCALE_DOWN, only HOLD is reported for cooldown_ms
      (default 60 s), whatever D says, so that the mesh sees the effect of one action before it
      takes the next. The count of consecutive steps starts again at the report and goes on
      during the cooldown, so a load that stays high is reported again at the first step at
      or after the cooldown ends (if it was the raw decision for `cycles` steps by then).

    Arithmetic in double (IEEE 754 binary64). Inputs are checked: a queue depth or latency that
    is negative, NaN or infinite is ZMESH_EINVAL and leaves the core as it was; so is a config
    with sla_ms or queue_depth_ref 0, non-finite or negative weights, or thresholds out of
    order (zmesh_scale_config_check). The core reads no clock: now_ms comes with every step,
    and it allocates nothing.

    Mesh-wide. Every node computes the same decision over the mesh, with a core of its own fed
    by zmesh_scale_mesh_input: from the `zmesh.scale` figures (protocol.md 7.7.7) of the
    members it knows, the input is the mean queue depth over the members counted and the mean
    latency over those of them that have one (latency_ms > 0); a member counts when it has
    figures and is this node (whatever its state) or alive or suspect. The node whose id is
    the lowest of them (bytes compared, as their hex) is the one that acts on the decision.
*/
#ifndef ZMESH_SCALE_H_INCLUDED
#define ZMESH_SCALE_H_INCLUDED

#include "zmesh_error.h"
#include "zmesh_ident.h"
#include "zmesh_peer_state.h"
#include "zmesh_task.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZMESH_SCALE_QUEUE_WEIGHT_DEFAULT    0.6
#define ZMESH_SCALE_LATENCY_WEIGHT_DEFAULT  0.4
#define ZMESH_SCALE_QUEUE_DEPTH_REF_DEFAULT 50.0    //  tasks: a queue this deep is "full"
#define ZMESH_SCALE_SLA_MS_DEFAULT          1000.0  //  latency the tasks are promised
#define ZMESH_SCALE_UP_THRESHOLD_DEFAULT    1.0
#define ZMESH_SCALE_DOWN_THRESHOLD_DEFAULT  0.2
#define ZMESH_SCALE_CYCLES_DEFAULT          3
#define ZMESH_SCALE_CYCLES_LIMIT            1000
#define ZMESH_SCALE_COOLDOWN_MS_DEFAULT     60000

typedef enum { ZMESH_SCALE_HOLD = 0, ZMESH_SCALE_UP, ZMESH_SCALE_DOWN } zmesh_scale_decision_t;

typedef struct {
    double queue_weight;     //  weight of the queue term, >= 0
    double latency_weight;   //  weight of the latency term, >= 0; not both 0
    double queue_depth_ref;  //  tasks; > 0
    double sla_ms;           //  ms; > 0
    double up_threshold;     //  D above it: SCALE_UP
    double down_threshold;   //  D below it: SCALE_DOWN; 0 <= down < up
    uint32_t cycles;         //  steps a raw decision must last to be reported, 1..CYCLES_LIMIT
    uint32_t cooldown_ms;    //  after a reported SCALE_UP / SCALE_DOWN, only HOLD (0: none)
} zmesh_scale_config_t;

typedef struct {
    double queue_depth;     //  tasks waiting (a mean when mesh-wide); >= 0, finite
    double avg_latency_ms;  //  mean task latency of the cycle, ms; >= 0, finite
} zmesh_scale_input_t;

typedef struct {
    zmesh_scale_decision_t decision;  //  what to act on
    zmesh_scale_decision_t raw;       //  what D alone says this cycle
    double d;                         //  the figure D
    uint32_t streak;                  //  steps `raw` has lasted (counted since the last report)
    bool cooling;                     //  in the cooldown: decision is HOLD whatever raw is
    uint64_t cooldown_until_ms;       //  end of the last cooldown (0: none yet)
} zmesh_scale_result_t;

//  The core. Fields are private; it lives where the caller puts it.
typedef struct {
    zmesh_scale_config_t config;
    zmesh_scale_decision_t pending;  //  the last raw decision
    uint32_t streak;                 //  consecutive steps of `pending`
    uint64_t cooldown_until_ms;      //  only HOLD before it (0: no cooldown yet)
} zmesh_scale_t;

//  The documented defaults above.
void zmesh_scale_config_defaults (zmesh_scale_config_t *config);
//  ZMESH_OK, or ZMESH_EINVAL for a field out of the ranges above (NaN included).
int zmesh_scale_config_check (const zmesh_scale_config_t *config);
//  Checks the config: ZMESH_EINVAL. Nothing to free afterwards.
int zmesh_scale_init (zmesh_scale_t *self, const zmesh_scale_config_t *config);
//  One cycle. ZMESH_OK and the result; ZMESH_EINVAL for bad input, with a result of HOLD and
//  D 0, and the core unchanged.
int zmesh_scale_step (zmesh_scale_t *self,
                      const zmesh_scale_input_t *input,
                      uint64_t now_ms,
                      zmesh_scale_result_t *result);
//  "hold", "scale_up", "scale_down" (the metrics' words); "?" for anything else.
const char *zmesh_scale_decision_name (zmesh_scale_decision_t decision);

//  One member as the shell's membership and node states show it, for the mesh-wide figures.
typedef struct {
    zmesh_id_t id;
    zmesh_peer_state_t state;  //  its membership state
    bool self;                 //  this node (counted whatever its state)
    bool has_info;             //  it publishes figures (this node: its own, always)
    zmesh_scale_info_t info;   //  the figures (its `zmesh.scale` value), if has_info
} zmesh_scale_member_t;

//  The mesh-wide figures of one cycle.
typedef struct {
    zmesh_scale_input_t input;  //  for zmesh_scale_step: both means, 0 over no member
    uint32_t nodes;             //  members counted
    uint32_t timed;             //  of which with a latency (the latency mean's divisor)
    bool decider;  //  no member counted but this node has an id below self_id: act on it
} zmesh_scale_mesh_t;

//  The mesh-wide input over members [0 .. count) (see the header comment); self_id is this
//  node's id. ZMESH_OK; ZMESH_EINVAL for self_id or mesh NULL, or members NULL with count
//  above 0 (mesh then zero, not the decider).
int zmesh_scale_mesh_input (const zmesh_id_t *self_id,
                            const zmesh_scale_member_t *members,
                            size_t count,
                            zmesh_scale_mesh_t *mesh);

#endif
