/*  bench_swim_sweep.c: the issue 3 membership floors, measured in the SWIM simulator.

    Runs the deterministic simulator of tests/sim/sim_swim.c (included, without its main) on
    larger meshes than the test suite does, one scenario per floor, and prints a table of the
    figures next to their floors. Virtual time: the figures do not depend on this machine.

    Usage: bench_swim_sweep [-n NODES] [-s SEED] [-d SECONDS] [-r 123456] [tunables]
             -n  mesh size (default 1000; 100 and 3000 are the other points of the sweep)
             -s  seed of the scenarios (default 1)
             -d  virtual seconds of the steady part of each scenario (default 60)
             -r  the scenarios to run (default all)
           tunables (default: zmesh_swim.h), to weigh other defaults against the floors:
             -p PROBE_INTERVAL_MS  -t PROBE_TIMEOUT_MS  -m SUSPICION_MIN_MS
             -M SUSPICION_MAX_MS   -S SHUFFLE_INTERVAL_MS
*/
#define SIM_SWIM_NO_MAIN
#include "../tests/sim/sim_swim.c"

typedef struct {
    const char *name;
    const char *floor;
    char figure [96];
    bool pass;
} s_row_t;

//  Tunables given on the command line (0: the default of zmesh_swim.h).
static uint32_t s_probe_interval_ms, s_probe_timeout_ms, s_suspicion_min_ms, s_suspicion_max_ms,
    s_shuffle_interval_ms;

static void
s_base (sim_scenario_t *sc, uint32_t nodes, uint32_t seconds)
{
    memset (sc, 0, sizeof *sc);
    zmesh_swim_config_defaults (&sc->config);
    if (s_probe_interval_ms)
        sc->config.probe_interval_ms = s_probe_interval_ms;
    if (s_probe_timeout_ms)
        sc->config.probe_timeout_ms = s_probe_timeout_ms;
    if (s_suspicion_min_ms)
        sc->config.suspicion_min_ms = s_suspicion_min_ms;
    if (s_suspicion_max_ms)
        sc->config.suspicion_max_ms = s_suspicion_max_ms;
    if (s_shuffle_interval_ms)
        sc->config.shuffle_interval_ms = s_shuffle_interval_ms;
    sc->config.max_members = nodes + 16;
    sc->nodes = nodes;
    sc->delay_min_ms = 1;
    sc->delay_max_ms = 5;
    sc->bootstrap_ms = nodes * 4;  //  a join every 4 ms
    sc->duration_ms = sc->bootstrap_ms + 20000 + (uint64_t) seconds * 1000;
    sc->quiet_ms = 15000;
    sc->steady_from_ms = sc->bootstrap_ms + 15000;
}

static sim_t *
s_bench_run (const sim_scenario_t *sc, uint32_t seed)
{
    static sim_t sim;
    memset (&sim, 0, sizeof sim);
    sim.seed = seed;
    sim.sc = *sc;
    s_run (&sim);
    return &sim;
}

//  Where the steady-state bytes go: per message type, per node per second.
static void
s_print_types (const sim_t *sim, double seconds)
{
    double per = (double) sim->sc.nodes * seconds;
    uint64_t total = 0;
    for (int t = 1; t <= ZMESH_SWIM_TYPE_MAX; t++)
        total += sim->steady_type_count [t];
    printf ("steady state, per node per second: %.2f msg;", (double) total / per);
    for (int t = 1; t <= ZMESH_SWIM_TYPE_MAX; t++)
        if (sim->steady_type_count [t])
            printf (" %s %.1f msg %.0f B;", zmesh_swim_msg_type_name (t),
                    (double) sim->steady_type_count [t] / per,
                    (double) sim->steady_type_bytes [t] / per);
    printf (
        " piggybacked records %.1f, %.0f B (alive %.1f suspect %.1f dead %.1f left %.1f); %" PRIu64
        " suspicions\n",
        (double) sim->steady_update_count / per, (double) sim->steady_update_bytes / per,
        sim->steady_update_states [1] / per, sim->steady_update_states [2] / per,
        sim->steady_update_states [3] / per, sim->steady_update_states [0] / per,
        sim->false_suspicions);
}

int
main (int argc, char *argv [])
{
    uint32_t nodes = 1000, seed = 1, seconds = 60;
    const char *only = NULL;  //  -r: the scenarios to run ("1".."6"), all by default
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp (argv [i], "-n") == 0)
            nodes = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-s") == 0)
            seed = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-d") == 0)
            seconds = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-r") == 0)
            only = argv [i + 1];
        else if (strcmp (argv [i], "-p") == 0)
            s_probe_interval_ms = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-t") == 0)
            s_probe_timeout_ms = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-m") == 0)
            s_suspicion_min_ms = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-M") == 0)
            s_suspicion_max_ms = (uint32_t) atoi (argv [i + 1]);
        else if (strcmp (argv [i], "-S") == 0)
            s_shuffle_interval_ms = (uint32_t) atoi (argv [i + 1]);
    }
    if (nodes < 3 || nodes > SIM_NODES_MAX || seconds < 10) {
        fprintf (stderr,
                 "usage: %s [-n NODES (3..%d)] [-s SEED] [-d SECONDS (>= 10)] [-r 123456]\n"
                 "       [-p PROBE_INTERVAL_MS] [-t PROBE_TIMEOUT_MS] [-m SUSPICION_MIN_MS]\n"
                 "       [-M SUSPICION_MAX_MS] [-S SHUFFLE_INTERVAL_MS]\n",
                 argv [0], SIM_NODES_MAX);
        return 2;
    }
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (getenv ("ZMESH_SIM_TRACE"))
        s_trace = atoi (getenv ("ZMESH_SIM_TRACE"));
    if (getenv ("ZMESH_SIM_TRACE2"))
        s_trace2 = atoi (getenv ("ZMESH_SIM_TRACE2"));
    sim_scenario_t shown;
    s_base (&shown, 3, 10);
    printf ("bench_swim_sweep: -n %u -s %u -d %u (virtual time): probe %u/%u ms, suspicion "
            "%u..%u ms, shuffle %u ms\n",
            nodes, seed, seconds, shown.config.probe_interval_ms, shown.config.probe_timeout_ms,
            shown.config.suspicion_min_ms, shown.config.suspicion_max_ms,
            shown.config.shuffle_interval_ms);
    s_row_t rows [8];
    uint32_t row_count = 0;
    sim_scenario_t sc;
    sim_t *sim;

    bool first_ok = true;
    if (!only || strchr (only, '1')) {
        //  1. 1% loss: leaves (LEFT floods from the leaver), crashes (detection), steady bytes.
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 10000;
        sc.fault_gap_ms = 2000;
        sc.crashes = sc.leaves = true;
        sim = s_bench_run (&sc, seed);
        uint32_t dis99 = s_percentile (&sim->disseminate, 99),
                 det99 = s_percentile (&sim->detect, 99);
        rows [row_count++] = (s_row_t){.name = "update to 100% of nodes, p99, 1% loss",
                                       .floor = "<= 600 ms",
                                       .pass = dis99 <= 600 && sim->disseminate.count > 0};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "p50 %u ms, p99 %u ms (%u)",
                  s_percentile (&sim->disseminate, 50), dis99, sim->disseminate.count);
        rows [row_count++] = (s_row_t){.name = "crash -> DEAD on every node, p99",
                                       .floor = "<= 7000 ms",
                                       .pass = det99 <= 7000 && sim->detect.count > 0};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "p50 %u ms, p99 %u ms (%u)",
                  s_percentile (&sim->detect, 50), det99, sim->detect.count);
        first_ok = !sim->failed;
    }

    if (!only || strchr (only, '2')) {
        //  2. Steady state, no faults, 1% loss: bytes per node per second.
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 10000;
        sim = s_bench_run (&sc, seed + 1);
        double steady = (double) sim->steady_bytes / nodes
                        / ((double) (sc.duration_ms - sc.steady_from_ms) / 1000.0);
        rows [row_count++] = (s_row_t){.name = "steady-state traffic per node",
                                       .floor = "<= 1200 B/s",
                                       .pass = steady <= 1200 && !sim->failed};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "%.0f B/s", steady);
        s_print_types (sim, (double) (sc.duration_ms - sc.steady_from_ms) / 1000.0);
    }

    if (!only || strchr (only, '3')) {
        //  3. 20% loss, crashes: no false death (the simulator fails on the first one).
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 200000;
        sc.fault_gap_ms = 5000;
        sc.crashes = true;
        sim = s_bench_run (&sc, seed + 2);
        rows [row_count++] = (s_row_t){.name = "false deaths at 20% loss",
                                       .floor = "0",
                                       .pass = sim->false_deaths == 0 && !sim->failed};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "%" PRIu64 "%s",
                  sim->false_deaths, sim->failed ? " (run failed: see above)" : "");
    }

    if (!only || strchr (only, '4')) {
        //  4. 10% of the nodes slow for 1 s every 10 s, 1% loss: suspicions they raise of
        //  healthy nodes (Lifeguard's measure), per minute per slow node.
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 10000;
        sc.slow_nodes = nodes / 10 ? nodes / 10 : 1;
        sc.slow_ms = 1000;
        sc.slow_period_ms = 10000;
        sim = s_bench_run (&sc, seed + 3);
        double minutes = (double) sim->slow_node_ms / 60000.0;
        double per_minute = minutes > 0 ? (double) sim->accusations_by_slow / minutes : 0;
        rows [row_count++] = (s_row_t){.name = "false suspicions raised / min / slow node",
                                       .floor = "<= 0.5",
                                       .pass = per_minute <= 0.5 && !sim->failed};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure,
                  "%.2f (reports of slow nodes SUSPECT: %.0f/min/slow node)", per_minute,
                  minutes > 0 ? (double) sim->false_suspicions_slow / minutes : 0);
    }

    if (!only || strchr (only, '5')) {
        //  5. Nodes stalled up to 4 s (never declared dead: the simulator's invariant).
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 10000;
        sc.fault_gap_ms = 1000;
        sc.stalls = true;
        sc.stall_max_ms = 4000;
        sim = s_bench_run (&sc, seed + 4);
        rows [row_count++] = (s_row_t){
            .name = "node stalled <= 4 s declared dead", .floor = "never", .pass = !sim->failed};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "%s (%" PRIu64 " stalls)",
                  sim->failed ? "DECLARED DEAD" : "never", sim->stalls);
    }

    if (!only || strchr (only, '6')) {
        //  6. Two halves apart for 10 s, then healed: one membership again.
        s_base (&sc, nodes, seconds);
        sc.loss_ppm = 10000;
        sc.fault_gap_ms = (uint32_t) (seconds * 1000);  //  one partition
        sc.partitions = true;
        sc.partition_ms = 10000;
        sc.check_end = true;
        sim = s_bench_run (&sc, seed + 5);
        uint32_t heal = s_percentile (&sim->heal, 100);
        rows [row_count++] = (s_row_t){.name = "partition of two halves healed -> one membership",
                                       .floor = "<= 5000 ms",
                                       .pass = sim->heal.count > 0 && heal <= 5000 && !sim->failed};
        snprintf (rows [row_count - 1].figure, sizeof rows [0].figure, "%u ms (%u heals)%s", heal,
                  sim->heal.count, sim->failed ? ", run failed: see above" : "");
    }

    printf ("\n%-52s %-12s %-48s %s\n", "floor (N = nodes)", "target", "measured", "");
    for (uint32_t i = 0; i < row_count; i++)
        printf ("%-52s %-12s %-48s %s\n", rows [i].name, rows [i].floor, rows [i].figure,
                rows [i].pass ? "ok" : "MISSED");
    if (!first_ok)
        printf ("(the 1%% loss run failed an invariant: see above)\n");
    return 0;
}
