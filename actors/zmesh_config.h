/*  zmesh_config.h: the configuration of a node (internal view of zmesh_config_t).

    One table (zmesh_config.c) names every key, its type, bounds, default, unit and meaning;
    loading a ZPL file, zmesh_config_set, zmeshd's flags and docs/config.md all go through it,
    so a key cannot exist in one place and not another.
*/
#ifndef ZMESH_CONFIG_H_INCLUDED
#define ZMESH_CONFIG_H_INCLUDED

#include "zmesh.h"
#include "zmesh_ident.h"
#include "zmesh_wire.h"

#define ZMESH_CONFIG_SEEDS_MAX   32   //  seeds one config may list
#define ZMESH_CONFIG_TRUSTED_MAX 256  //  keys one config may admit
#define ZMESH_DATA_PATH_MAX      512  //  bytes of the data directory path
#define ZMESH_CONTROL_PATH_MAX   108  //  sizeof sockaddr_un.sun_path: DATA/control.sock fits

struct _zmesh_config_t {
    char name [ZMESH_NAME_MAX];                  //  node/name
    char data [ZMESH_DATA_PATH_MAX];             //  node/data
    char bind [ZMESH_ENDPOINT_MAX];              //  node/bind
    char advertise [ZMESH_ENDPOINT_MAX];         //  node/advertise ("" = derived from bind)
    char actors [128];                           //  node/actors, space separated
    char trust_mode [16];                        //  trust/mode: "trusted" or "open"
    int beacon_enabled;                          //  beacon/enabled
    int beacon_port;                             //  beacon/port, UDP
    int beacon_interval_ms;                      //  beacon/interval_ms
    char beacon_interface [64];                  //  beacon/interface ("" = CZMQ's choice)
    int probe_interval_ms;                       //  gossip/probe_interval_ms
    int probe_timeout_ms;                        //  gossip/probe_timeout_ms
    int indirect_probes;                         //  gossip/indirect_probes
    int suspicion_min_ms;                        //  gossip/suspicion_min_ms
    int suspicion_max_ms;                        //  gossip/suspicion_max_ms
    int active_view;                             //  gossip/active_view
    int passive_view;                            //  gossip/passive_view
    int packet_bytes;                            //  gossip/packet_bytes
    int reap_after_ms;                           //  gossip/reap_after_ms
    int max_peers;                               //  gossip/max_peers
    int max_message_bytes;                       //  gossip/max_message_bytes
    int linger_ms;                               //  gossip/linger_ms
    int restart_backoff_ms;                      //  supervisor/restart_backoff_ms
    int restart_backoff_max_ms;                  //  supervisor/restart_backoff_max_ms
    int stable_after_ms;                         //  supervisor/stable_after_ms
    int verbose;                                 //  log/verbose
    int health_interval_ms;                      //  health/interval_ms
    int health_bench_budget_ms;                  //  health/bench_budget_ms
    int health_publish_min_ms;                   //  health/publish_min_ms
    int state_interval_ms;                       //  state/interval_ms
    int state_budget_bytes;                      //  state/budget_bytes
    char worker_bind [ZMESH_ENDPOINT_MAX];       //  worker/bind ("" = node/bind's host, any port)
    char worker_advertise [ZMESH_ENDPOINT_MAX];  //  worker/advertise ("" = derived)
    int spin_us;                                 //  node/spin_us
    int worker_slots;                            //  worker/slots (0 = CPU cores)
    int worker_queue;                            //  worker/queue
    int worker_aging_ms;                         //  worker/aging_ms
    int worker_critical_reserve;                 //  worker/critical_reserve
    char worker_tags [512];                      //  worker/tags, space separated
    char worker_exec_allow [1024];  //  worker/exec_allow: NAME=PATH words; "" = exec off
    int worker_cost;                //  worker/cost (permille)
    int worker_lease_interval_ms;   //  worker/lease_interval_ms
    int worker_steal;               //  worker/steal (bool)
    int worker_steal_threshold;     //  worker/steal_threshold (permille)
    int worker_steal_interval_ms;   //  worker/steal_interval_ms
    int balancer_lease_timeout_ms;  //  balancer/lease_timeout_ms
    int balancer_window;            //  balancer/window
    int balancer_max_tasks;         //  balancer/max_tasks
    int balancer_max_retries;       //  balancer/max_retries
    int balancer_retry_base_ms;     //  balancer/retry_base_ms
    int balancer_retry_max_ms;      //  balancer/retry_max_ms
    int balancer_place_timeout_ms;  //  balancer/place_timeout_ms
    char balancer_strategy [16];    //  balancer/strategy
    int balancer_sample;            //  balancer/sample
    int balancer_match_threshold;   //  balancer/match_threshold (permille)
    int balancer_local_threshold;   //  balancer/local_threshold (permille)
    int balancer_weights [8];       //  balancer/weight_*: queue cpu perf latency memory cost
                                    //  match gpu, permille
    int balancer_breaker_failures;  //  balancer/breaker_failures
    int balancer_breaker_open_ms;   //  balancer/breaker_open_ms
    int scale_interval_ms;          //  scale/interval_ms
    int scale_cooldown_ms;          //  scale/cooldown_ms
    int scale_sla_ms;               //  scale/sla_ms
    char scale_exec [512];          //  scale/exec
    int seed_count;
    char seeds [ZMESH_CONFIG_SEEDS_MAX][ZMESH_CONTACT_MAX];  //  seeds/*
    int trusted_count;
    char trusted [ZMESH_CONFIG_TRUSTED_MAX][ZMESH_KEY_HEX_SIZE];  //  trust/keys/*
};

//  Does the config name this actor in node/actors?
bool zmesh_config_has_actor (const zmesh_config_t *self, const char *actor);
//  Checks that need several keys at once (timeouts in order, data set). err names the keys.
int zmesh_config_validate (const zmesh_config_t *self, char *err, size_t err_size);

#endif
