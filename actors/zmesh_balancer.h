/*  zmesh_balancer.h: the in-process requests the balancer takes (internal).

    The node API and the control actor connect a DEALER to ctx->balancer_endpoint and send
    one frame, a zmesh_work_request_t by value; the balancer answers with zmesh_work_reply_t
    frames. Pointers travel (the sender allocates, the receiver owns and frees), as CZMQ's
    actors pass them: both ends live in one process.
*/
#ifndef ZMESH_BALANCER_H_INCLUDED
#define ZMESH_BALANCER_H_INCLUDED

#include "zmesh.h"
#include "zmesh_owner.h"
#include "zmesh_scale.h"

#define ZMESH_WORK_LIST_MAX 1024  //  tasks one LIST answer shows

//  A task to own: the core's description, with its own copy of the payload.
typedef struct {
    zmesh_owner_task_t task;  //  task.payload points at payload; strategy UINT8_MAX and
                              //  max_retries UINT32_MAX mean "the balancer's default"
    uint8_t *payload;
} zmesh_work_submit_t;

//  Build a submission from a public spec: a fresh task id into id_hex (33 bytes, may be
//  NULL). NULL with err set if the spec is invalid.
zmesh_work_submit_t *
zmesh_work_submit_new (const zmesh_task_spec_t *spec, char *id_hex, char *err, size_t err_size);
void zmesh_work_submit_destroy (zmesh_work_submit_t **self_p);

typedef struct {
    char kind;  //  'S' submit, 'L' list
    zmesh_work_submit_t *submit;
} zmesh_work_request_t;

typedef struct {
    uint32_t count;
    zmesh_owner_task_info_t tasks [ZMESH_WORK_LIST_MAX];
    zmesh_owner_stats_t stats;
    uint32_t breakers_open;
    uint32_t nodes_active;
    double latency_ms;
    zmesh_scale_result_t scale;       //  this node's decision
    zmesh_scale_result_t mesh_scale;  //  the mesh's, as this node computes it
    uint32_t mesh_nodes;              //  nodes whose figures it was computed from
    bool mesh_decider;                //  this node acts on the mesh's decision
} zmesh_work_list_t;

typedef struct {
    char kind;  //  'R' result, 'L' list
    zmesh_task_result_t *result;
    zmesh_work_list_t *list;
} zmesh_work_reply_t;

#endif
