/*  zmesh_metrics.h: a node's counters, shared by its actors, lock-free.

    One fixed table of monotonic counters per node (relaxed atomics: each is exact, and no
    two need to be read as one snapshot). The table below is the single place that names
    every counter; zmeshctl metrics prints them as Prometheus text or JSON, and
    docs/operations.md lists them. A counter here is never reset while the node runs.
*/
#ifndef ZMESH_METRICS_H_INCLUDED
#define ZMESH_METRICS_H_INCLUDED

#include <stdatomic.h>
#include <stdint.h>

//  X (enum, prometheus name, labels, help)
#define ZMESH_METRICS(X)                                                                           \
    X (MSG_RECEIVED, "zmesh_messages_received_total", "", "Envelopes received and accepted")       \
    X (MSG_SENT, "zmesh_messages_sent_total", "", "Envelopes sent")                                \
    X (BYTES_RECEIVED, "zmesh_bytes_received_total", "", "Bytes of envelopes received")            \
    X (BYTES_SENT, "zmesh_bytes_sent_total", "", "Bytes of envelopes sent")                        \
    X (SEND_DROPPED, "zmesh_send_dropped_total", "",                                               \
       "Envelopes not sent on an established link: queue full")                                    \
    X (DROP_MALFORMED, "zmesh_dropped_total", "reason=\"malformed\"", "Inputs dropped")            \
    X (DROP_VERSION, "zmesh_dropped_total", "reason=\"version\"", "Inputs dropped")                \
    X (DROP_UNKNOWN_TYPE, "zmesh_dropped_total", "reason=\"unknown_type\"", "Inputs dropped")      \
    X (DROP_SENDER_MISMATCH, "zmesh_dropped_total", "reason=\"sender_mismatch\"",                  \
       "Inputs dropped")                                                                           \
    X (DROP_OVERSIZED, "zmesh_dropped_total", "reason=\"oversized\"", "Inputs dropped")            \
    X (DROP_UNAUTHENTICATED, "zmesh_dropped_total", "reason=\"unauthenticated\"",                  \
       "Inputs dropped")                                                                           \
    X (DROP_BEACON_MALFORMED, "zmesh_dropped_total", "reason=\"beacon_malformed\"",                \
       "Inputs dropped")                                                                           \
    X (DROP_BEACON_SIGNATURE, "zmesh_dropped_total", "reason=\"beacon_signature\"",                \
       "Inputs dropped")                                                                           \
    X (CONN_ACCEPTED, "zmesh_connections_accepted_total", "", "CURVE handshakes that succeeded")   \
    X (CONN_REFUSED_UNTRUSTED, "zmesh_connections_refused_total", "reason=\"untrusted\"",          \
       "Connections refused")                                                                      \
    X (CONN_REFUSED_MECHANISM, "zmesh_connections_refused_total", "reason=\"not_curve\"",          \
       "Connections refused")                                                                      \
    X (CONN_REFUSED_HANDSHAKE, "zmesh_connections_refused_total", "reason=\"handshake\"",          \
       "Connections refused")                                                                      \
    X (CONN_REFUSED_DROPPED, "zmesh_connections_refused_total", "reason=\"dropped\"",              \
       "Connections refused")                                                                      \
    X (TCP_ACCEPTED, "zmesh_tcp_accepted_total", "", "TCP connections accepted on the link port")  \
    X (BEACON_SENT, "zmesh_beacons_sent_total", "", "Beacons broadcast")                           \
    X (BEACON_RECEIVED, "zmesh_beacons_received_total", "", "Valid beacons from other nodes")      \
    X (PEERS_JOINED, "zmesh_peer_events_total", "event=\"joined\"", "Peer state changes")          \
    X (PEERS_SUSPECT, "zmesh_peer_events_total", "event=\"suspect\"", "Peer state changes")        \
    X (PEERS_DEAD, "zmesh_peer_events_total", "event=\"dead\"", "Peer state changes")              \
    X (PEERS_LEFT, "zmesh_peer_events_total", "event=\"left\"", "Peer state changes")              \
    X (PEERS_ALIVE_AGAIN, "zmesh_peer_events_total", "event=\"alive_again\"",                      \
       "Peer state changes")                                                                       \
    X (PEERS_RESTARTED, "zmesh_peer_events_total", "event=\"restarted\"", "Peer state changes")    \
    X (PEERS_UNTRUSTED, "zmesh_peers_not_connected_total", "reason=\"untrusted\"",                 \
       "Peers learned but not connected")                                                          \
    X (PEERS_NO_CONTACT, "zmesh_peers_not_connected_total", "reason=\"no_contact\"",               \
       "Peers learned but not connected")                                                          \
    X (PEERS_BAD_CONTACT, "zmesh_peers_not_connected_total", "reason=\"bad_contact\"",             \
       "Peers learned but not connected")                                                          \
    X (LINKS_OPENED, "zmesh_links_opened_total", "", "CURVE links this node opened to peers")      \
    X (SWIM_PROBES, "zmesh_swim_probes_total", "", "Probes of active neighbours")                  \
    X (SWIM_PROBE_FAILURES, "zmesh_swim_probe_failures_total", "",                                 \
       "Probes without an ack in their interval")                                                  \
    X (SWIM_INDIRECT, "zmesh_swim_indirect_probes_total", "", "PING_REQ sent to neighbours")       \
    X (SWIM_REFUTATIONS, "zmesh_swim_refutations_total", "", "Suspicions of this node it refuted") \
    X (SWIM_LIMIT_DROPS, "zmesh_swim_limit_drops_total", "",                                       \
       "Membership records dropped by a bound (table, relays)")                                    \
    X (RESTARTS_GOSSIP, "zmesh_actor_restarts_total", "actor=\"gossip\"", "Actor restarts")        \
    X (RESTARTS_HEALTH, "zmesh_actor_restarts_total", "actor=\"health\"", "Actor restarts")        \
    X (RESTARTS_BEACON, "zmesh_actor_restarts_total", "actor=\"beacon\"", "Actor restarts")        \
    X (RESTARTS_CONTROL, "zmesh_actor_restarts_total", "actor=\"control\"", "Actor restarts")      \
    X (RESTARTS_WORKER, "zmesh_actor_restarts_total", "actor=\"worker\"", "Actor restarts")        \
    X (RESTARTS_BALANCER, "zmesh_actor_restarts_total", "actor=\"balancer\"", "Actor restarts")    \
    X (TASKS_SUBMITTED, "zmesh_tasks_submitted_total", "", "Tasks this node took ownership of")    \
    X (TASKS_SUCCEEDED, "zmesh_tasks_done_total", "result=\"success\"",                            \
       "Tasks of this node that ended (one result each)")                                          \
    X (TASKS_FAILED, "zmesh_tasks_done_total", "result=\"failure\"",                               \
       "Tasks of this node that ended (one result each)")                                          \
    X (TASKS_DISPATCHED, "zmesh_task_attempts_total", "", "Attempts this node's tasks were sent")  \
    X (TASKS_RETRIED, "zmesh_tasks_retried_total", "", "Re-dispatches after a system failure")     \
    X (TASKS_LOST, "zmesh_tasks_lost_total", "",                                                   \
       "Attempts lost with their worker (dead, lease expired, missing)")                           \
    X (TASKS_DUPLICATE, "zmesh_task_results_duplicate_total", "",                                  \
       "Results dropped because their task already had one (exactly-once at the owner)")           \
    X (TASKS_DISAGREE, "zmesh_task_disagreements_total", "",                                       \
       "Redundant replicas whose result differed from the quorum's")                               \
    X (TASKS_RUN_OK, "zmesh_tasks_run_total", "result=\"ok\"", "Tasks this worker ran")            \
    X (TASKS_RUN_ERROR, "zmesh_tasks_run_total", "result=\"handler_error\"",                       \
       "Tasks this worker ran")                                                                    \
    X (TASKS_RUN_TIMEOUT, "zmesh_tasks_run_total", "result=\"timeout\"", "Tasks this worker ran")  \
    X (TASKS_NO_HANDLER, "zmesh_tasks_refused_total", "reason=\"no_handler\"",                     \
       "Tasks this worker did not run")                                                            \
    X (TASKS_REFUSED_FULL, "zmesh_tasks_refused_total", "reason=\"queue_full\"",                   \
       "Tasks this worker did not run")                                                            \
    X (TASKS_CANCELLED, "zmesh_tasks_refused_total", "reason=\"cancelled\"",                       \
       "Tasks this worker did not run")                                                            \
    X (TASKS_STOLEN_IN, "zmesh_tasks_stolen_total", "direction=\"in\"",                            \
       "Queued tasks moved by work stealing")                                                      \
    X (TASKS_STOLEN_OUT, "zmesh_tasks_stolen_total", "direction=\"out\"",                          \
       "Queued tasks moved by work stealing")                                                      \
    X (STEAL_REQUESTS, "zmesh_steal_requests_total", "", "Steal requests this worker sent")        \
    X (CHECKPOINTS, "zmesh_task_checkpoints_total", "", "Checkpoints this worker sent owners")     \
    X (TASKS_BIDS, "zmesh_task_bids_total", "", "Bids this worker sent owners (auction calls)")    \
    X (TASKS_CALLS, "zmesh_task_calls_total", "", "Calls for bids this node's balancer sent")      \
    X (TASKS_BIDS_IGNORED, "zmesh_task_bids_ignored_total", "",                                    \
       "Bids this node's balancer ignored: malformed, late, unknown round, not asked, repeated")   \
    X (CONTROL_REQUESTS, "zmesh_control_requests_total", "", "zmeshctl requests served")           \
    X (CONTROL_ERRORS, "zmesh_control_errors_total", "", "zmeshctl requests refused")              \
    X (STATE_CHANGES, "zmesh_state_changes_total", "",                                             \
       "Node-state writes applied, local and remote")                                              \
    X (STATE_DROPPED, "zmesh_state_dropped_total", "",                                             \
       "Node-state input refused: malformed, or over a bound")                                     \
    X (STATE_SKIPPED, "zmesh_state_skipped_total", "",                                             \
       "Node-state runs not applied by the protocol's rules: already held, a gap, stale")          \
    X (EVENTS_DROPPED, "zmesh_events_dropped_total", "",                                           \
       "Membership events an API reader did not take")

typedef enum {
#define ZMESH_METRIC_ENUM(id, name, labels, help) ZMESH_M_##id,
    ZMESH_METRICS (ZMESH_METRIC_ENUM)
#undef ZMESH_METRIC_ENUM
        ZMESH_M_COUNT
} zmesh_metric_t;

typedef struct {
    _Atomic uint64_t counters [ZMESH_M_COUNT];
} zmesh_metrics_t;

typedef struct {
    const char *name;    //  Prometheus metric name
    const char *labels;  //  label set without braces, "" for none
    const char *help;    //  one line for # HELP
} zmesh_metric_info_t;

static inline void
zmesh_metrics_add (zmesh_metrics_t *self, zmesh_metric_t metric, uint64_t value)
{
    atomic_fetch_add_explicit (&self->counters [metric], value, memory_order_relaxed);
}

static inline uint64_t
zmesh_metrics_get (const zmesh_metrics_t *self, zmesh_metric_t metric)
{
    return atomic_load_explicit (&self->counters [metric], memory_order_relaxed);
}

//  Name, labels and help of a counter.
const zmesh_metric_info_t *zmesh_metric_info (zmesh_metric_t metric);

#endif
