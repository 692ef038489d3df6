/*  zmesh_work.h: what the worker and balancer actors share (internal). */
#ifndef ZMESH_WORK_H_INCLUDED
#define ZMESH_WORK_H_INCLUDED

#include "zmesh_metrics.h"
#include "zmesh_node_ctx.h"
#include "zmesh_place.h"
#include "zmesh_task.h"
#include <zmq.h>

//  Check and decode one work-plane message received on a CURVE socket: its size, its
//  envelope, and that its sender is the node whose key CURVE authenticated (the ZAP User-Id;
//  on a DEALER, expect names the server's node instead, as User-Id is not set there).
//  ZMESH_OK with msg and *sender filled; otherwise the drop is counted and the error returned.
int zmesh_work_recv_check (zmesh_metrics_t *metrics,
                           zmq_msg_t *payload,
                           zmesh_task_msg_t *msg,
                           zmesh_id_t *sender);
int zmesh_work_recv_from (zmesh_metrics_t *metrics,
                          zmq_msg_t *payload,
                          const zmesh_id_t *expect,
                          zmesh_task_msg_t *msg);
//  A coarse figure of load for publication: 0 idle (a slot free, nothing queued), 1 busy,
//  2 worth stealing from (load >= threshold permille, and at least twice its slots stealable).
uint32_t zmesh_work_load_band (const zmesh_task_load_t *load, uint32_t threshold_permille);
//  "tcp://HOST:PORT" of endpoint with its port replaced by port (into out, ZMESH_ENDPOINT_MAX).
void zmesh_work_endpoint_with_port (char *out, const char *endpoint, const char *port);
//  The tasks this node's worker has queued, as it last published them in its zmesh.work value
//  (it republishes when its load changes band); 0 if it runs no worker.
uint32_t zmesh_work_own_queued (zmesh_node_ctx_t *ctx);
//  Placement's configuration from the node's (balancer/sample, match and local thresholds,
//  weights): the balancer's, and the worker's when it bids.
void zmesh_work_place_config (const zmesh_config_t *config, zmesh_place_config_t *place);
//  A node's placement record from its zmesh.work value (endpoint aside) and its profile (NULL:
//  not profiled yet, so assume what a task asks is there). id and the rest are the caller's.
void zmesh_work_place_node (zmesh_place_node_t *node,
                            const zmesh_work_info_t *work,
                            const zmesh_profile_t *profile);
//  The inproc endpoint where a node's worker takes its own node's tasks (into out,
//  ZMESH_ENDPOINT_MAX): its balancer reaches it there without tcp and CURVE, which nothing
//  outside the process can reach.
void zmesh_work_local_endpoint (char *out, const char *id_hex);
//  Register the built-in handlers (echo, sleep, exec) in the context.
void zmesh_worker_builtins (zmesh_node_ctx_t *ctx);

#endif
