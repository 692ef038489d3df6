/*  test_profile.c: the node profile, as usage examples.

    Fixture trees under tests/unit/data/profile/ stand in for /proc and /sys: a two-core VM
    (cgroup v1), a 64-core machine with a cgroup v2 quota and more disks and interfaces than
    the bounds, a machine with NVIDIA and AMD GPUs, files that do not parse, files cut short,
    and an empty root. One test reads the real machine and checks only that the figures are
    sane. Then the codec: round trips, and every malformed input refused with the right error.
    The fixtures are found next to this file (__FILE__), since the tests get only
    ZMESH_TEST_TMP in their environment.
*/
#include "zmesh_error.h"
#include "zmesh_mpack.h"
#include "zmesh_profile.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GIB (1024ull * 1024 * 1024)

//  tests/unit/data/profile/<name>, from this file's own path.
static const char *
s_fixture (const char *name)
{
    static char path [1024];
    const char *file = __FILE__;
    const char *slash = strrchr (file, '/');
    int dir_len = slash ? (int) (slash - file) : 1;
    snprintf (path, sizeof path, "%.*s/data/profile/%s", dir_len, slash ? file : ".", name);
    return path;
}

static void
s_read_fixture (zmesh_profile_t *profile, const char *name, const zmesh_profile_t *previous)
{
    zmesh_profile_read_flags (profile, s_fixture (name), previous, ZMESH_PROFILE_READ_NO_STATVFS);
}

//  A profile with every array full and every string as long as it may be.
static void
s_full_profile (zmesh_profile_t *p)
{
    memset (p, 0, sizeof *p);
    p->cpu_cores = 4096;
    memset (p->cpu_model, 'M', sizeof p->cpu_model - 1);
    p->cpu_quota_millicores = UINT32_MAX;
    p->load_avg1_milli = p->load_avg5_milli = p->load_avg15_milli = UINT32_MAX;
    p->cpu_util_bp = 10000;
    p->cpu_util_valid = true;
    p->mem_total_bytes = p->mem_available_bytes = p->mem_limit_bytes = UINT64_MAX;
    p->disk_count = ZMESH_PROFILE_DISKS_MAX;
    p->disks_dropped = p->nets_dropped = p->gpus_dropped = UINT32_MAX;
    for (int i = 0; i < ZMESH_PROFILE_DISKS_MAX; i++) {
        memset (p->disks [i].mount_path, '/', ZMESH_PROFILE_MOUNT_MAX - 1);
        memset (p->disks [i].fstype, 'f', ZMESH_PROFILE_FSTYPE_MAX - 1);
        p->disks [i].total_bytes = p->disks [i].free_bytes = UINT64_MAX;
    }
    p->net_count = ZMESH_PROFILE_NETS_MAX;
    for (int i = 0; i < ZMESH_PROFILE_NETS_MAX; i++) {
        memset (p->nets [i].name, 'n', ZMESH_PROFILE_IFNAME_MAX - 1);
        memset (p->nets [i].operstate, 'o', ZMESH_PROFILE_OPERSTATE_MAX - 1);
        memset (p->nets [i].mac, 'a', ZMESH_PROFILE_MAC_MAX - 1);
        p->nets [i].speed_mbps = p->nets [i].mtu_bytes = UINT32_MAX;
    }
    p->gpu_count = ZMESH_PROFILE_GPUS_MAX;
    for (int i = 0; i < ZMESH_PROFILE_GPUS_MAX; i++) {
        memset (p->gpus [i].vendor, 'v', ZMESH_PROFILE_VENDOR_MAX - 1);
        memset (p->gpus [i].model, 'm', ZMESH_PROFILE_MODEL_MAX - 1);
        memset (p->gpus [i].bus, 'b', ZMESH_PROFILE_BUS_MAX - 1);
        p->gpus [i].vendor_id = p->gpus [i].device_id = 0xffff;
        p->gpus [i].vram_bytes = UINT64_MAX;
    }
    p->bench = (zmesh_profile_bench_t){UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX, true};
    p->missing = p->malformed = UINT32_MAX;
}

//  Encoded fields equal, field by field (the tick counters are local and not encoded).
static void
s_assert_profile_equal (const zmesh_profile_t *a, const zmesh_profile_t *b)
{
    assert_int_equal (a->cpu_cores, b->cpu_cores);
    assert_string_equal (a->cpu_model, b->cpu_model);
    assert_int_equal (a->cpu_quota_millicores, b->cpu_quota_millicores);
    assert_int_equal (a->load_avg1_milli, b->load_avg1_milli);
    assert_int_equal (a->load_avg5_milli, b->load_avg5_milli);
    assert_int_equal (a->load_avg15_milli, b->load_avg15_milli);
    assert_int_equal (a->cpu_util_valid, b->cpu_util_valid);
    assert_int_equal (a->cpu_util_bp, b->cpu_util_bp);
    assert_int_equal (a->mem_total_bytes, b->mem_total_bytes);
    assert_int_equal (a->mem_available_bytes, b->mem_available_bytes);
    assert_int_equal (a->mem_limit_bytes, b->mem_limit_bytes);
    assert_int_equal (a->disk_count, b->disk_count);
    assert_int_equal (a->disks_dropped, b->disks_dropped);
    for (uint32_t i = 0; i < a->disk_count; i++) {
        assert_string_equal (a->disks [i].mount_path, b->disks [i].mount_path);
        assert_string_equal (a->disks [i].fstype, b->disks [i].fstype);
        assert_int_equal (a->disks [i].total_bytes, b->disks [i].total_bytes);
        assert_int_equal (a->disks [i].free_bytes, b->disks [i].free_bytes);
    }
    assert_int_equal (a->net_count, b->net_count);
    assert_int_equal (a->nets_dropped, b->nets_dropped);
    for (uint32_t i = 0; i < a->net_count; i++) {
        assert_string_equal (a->nets [i].name, b->nets [i].name);
        assert_string_equal (a->nets [i].operstate, b->nets [i].operstate);
        assert_string_equal (a->nets [i].mac, b->nets [i].mac);
        assert_int_equal (a->nets [i].speed_mbps, b->nets [i].speed_mbps);
        assert_int_equal (a->nets [i].mtu_bytes, b->nets [i].mtu_bytes);
    }
    assert_int_equal (a->gpu_count, b->gpu_count);
    assert_int_equal (a->gpus_dropped, b->gpus_dropped);
    for (uint32_t i = 0; i < a->gpu_count; i++) {
        assert_string_equal (a->gpus [i].vendor, b->gpus [i].vendor);
        assert_string_equal (a->gpus [i].model, b->gpus [i].model);
        assert_string_equal (a->gpus [i].bus, b->gpus [i].bus);
        assert_int_equal (a->gpus [i].vendor_id, b->gpus [i].vendor_id);
        assert_int_equal (a->gpus [i].device_id, b->gpus [i].device_id);
        assert_int_equal (a->gpus [i].vram_bytes, b->gpus [i].vram_bytes);
    }
    assert_int_equal (a->bench.valid, b->bench.valid);
    assert_int_equal (a->bench.hash_bytes_per_s, b->bench.hash_bytes_per_s);
    assert_int_equal (a->bench.int_ops_per_s, b->bench.int_ops_per_s);
    assert_int_equal (a->bench.mem_copy_bytes_per_s, b->bench.mem_copy_bytes_per_s);
    assert_int_equal (a->bench.duration_ms, b->bench.duration_ms);
    assert_int_equal (a->missing, b->missing);
    assert_int_equal (a->malformed, b->malformed);
    //  And zmesh_profile_changed agrees that nothing differs.
    assert_int_equal (zmesh_profile_changed (a, b, NULL), 0);
}

//  --------------------------------------------------------------------------------------------
//  Reading fixture trees

static void
test_two_core (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "two-core", NULL);
    assert_int_equal (p.missing, 0);
    assert_int_equal (p.malformed, 0);
    assert_int_equal (p.cpu_cores, 2);
    assert_string_equal (p.cpu_model, "AMD EPYC 7B12 64-Core Processor");
    assert_int_equal (p.cpu_quota_millicores, 0);  //  cfs_quota_us -1: no limit
    assert_int_equal (p.load_avg1_milli, 200);
    assert_int_equal (p.load_avg5_milli, 430);
    assert_int_equal (p.load_avg15_milli, 900);
    assert_false (p.cpu_util_valid);  //  a first read has nothing to compare with
    assert_int_equal (p.cpu_total_ticks, 10000);
    assert_int_equal (p.cpu_idle_ticks, 8500);
    assert_int_equal (p.mem_total_bytes, 4030000ull * 1024);
    assert_int_equal (p.mem_available_bytes, 3000000ull * 1024);
    assert_int_equal (p.mem_limit_bytes, 2 * GIB);  //  v1, at this process's cgroup
    //  ext4 on / once (its bind mount skipped), xfs with an escaped space; no proc, tmpfs, nfs
    assert_int_equal (p.disk_count, 2);
    assert_int_equal (p.disks_dropped, 0);
    assert_string_equal (p.disks [0].mount_path, "/");
    assert_string_equal (p.disks [0].fstype, "ext4");
    assert_int_equal (p.disks [0].total_bytes, 0);  //  statvfs skipped
    assert_string_equal (p.disks [1].mount_path, "/srv/my data");
    assert_string_equal (p.disks [1].fstype, "xfs");
    //  lo and the bonding_masters file are skipped; names come sorted
    assert_int_equal (p.net_count, 2);
    assert_string_equal (p.nets [0].name, "eth0");
    assert_string_equal (p.nets [0].operstate, "up");
    assert_int_equal (p.nets [0].speed_mbps, 10000);
    assert_int_equal (p.nets [0].mtu_bytes, 1500);
    assert_string_equal (p.nets [0].mac, "52:54:00:12:34:56");
    assert_string_equal (p.nets [1].name, "ifb0");
    assert_string_equal (p.nets [1].operstate, "down");
    assert_int_equal (p.nets [1].speed_mbps, 0);  //  unknown
    assert_int_equal (p.gpu_count, 0);
    assert_false (p.bench.valid);
}

static void
test_cpu_util_from_previous (void **state)
{
    zmesh_profile_t previous, p;
    memset (&previous, 0, sizeof previous);
    previous.cpu_total_ticks = 5000;
    previous.cpu_idle_ticks = 4500;
    previous.bench = (zmesh_profile_bench_t){1, 2, 3, 4, true};
    s_read_fixture (&p, "two-core", &previous);
    //  5000 ticks passed, 4000 of them idle: 20% busy
    assert_true (p.cpu_util_valid);
    assert_int_equal (p.cpu_util_bp, 2000);
    //  The benchmark is carried over; reading does not run it.
    assert_true (p.bench.valid);
    assert_int_equal (p.bench.int_ops_per_s, 2);
    //  Reading into the previous profile itself: same counters, so no figure.
    s_read_fixture (&p, "two-core", &p);
    assert_false (p.cpu_util_valid);
    assert_true (p.bench.valid);
    //  Counters that went back (another boot): no figure, not a huge one.
    previous.cpu_total_ticks = 1000000;
    s_read_fixture (&p, "two-core", &previous);
    assert_false (p.cpu_util_valid);
}

static void
test_big_machine_with_quota (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "big-64", NULL);
    assert_int_equal (p.missing, 0);
    assert_int_equal (p.malformed, 0);
    assert_int_equal (p.cpu_cores, 64);
    assert_string_equal (p.cpu_model, "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz");
    //  "max" for the service, 800000/100000 for its slice: the parent's 8 cores bind
    assert_int_equal (p.cpu_quota_millicores, 8000);
    assert_int_equal (p.mem_limit_bytes, 16 * GIB);
    assert_int_equal (p.load_avg1_milli, 48720);
    assert_int_equal (p.load_avg5_milli, 40010);
    assert_int_equal (p.load_avg15_milli, 35500);
    assert_int_equal (p.cpu_total_ticks, 27200100);
    assert_int_equal (p.cpu_idle_ticks, 20100000);
    //  22 local filesystems for 16 places; 18 interfaces for 16
    assert_int_equal (p.disk_count, ZMESH_PROFILE_DISKS_MAX);
    assert_int_equal (p.disks_dropped, 6);
    assert_string_equal (p.disks [1].mount_path, "/boot/efi");
    assert_int_equal (p.net_count, ZMESH_PROFILE_NETS_MAX);
    assert_int_equal (p.nets_dropped, 2);
    assert_int_equal (p.nets [0].speed_mbps, 25000);
    assert_int_equal (p.nets [0].mtu_bytes, 9001);
}

static void
test_gpus (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "gpu", NULL);
    assert_int_equal (p.malformed, 0);
    assert_int_equal (p.cpu_cores, 32);  //  online CPUs, not cpuinfo's one entry
    //  ASPEED BMC skipped; the NVIDIA card known to DRM and to its driver counted once
    assert_int_equal (p.gpu_count, 3);
    assert_string_equal (p.gpus [0].vendor, "nvidia");
    assert_int_equal (p.gpus [0].vendor_id, 0x10de);
    assert_int_equal (p.gpus [0].device_id, 0x2684);
    assert_string_equal (p.gpus [0].bus, "0000:01:00.0");
    assert_string_equal (p.gpus [0].model, "NVIDIA GeForce RTX 4090");
    assert_string_equal (p.gpus [1].vendor, "amd");
    assert_int_equal (p.gpus [1].device_id, 0x744c);
    assert_int_equal (p.gpus [1].vram_bytes, 25753026560ull);
    assert_string_equal (p.gpus [1].model, "");
    //  Known only to the NVIDIA driver
    assert_string_equal (p.gpus [2].vendor, "nvidia");
    assert_string_equal (p.gpus [2].bus, "0000:41:00.0");
    assert_string_equal (p.gpus [2].model, "Tesla T4");
    assert_int_equal (p.gpus [2].device_id, 0);
}

static void
test_malformed_files (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "malformed", NULL);
    assert_int_equal (p.missing & ~ZMESH_PROFILE_SRC_NET, 0);
    assert_int_equal (p.malformed, ZMESH_PROFILE_SRC_CPUINFO | ZMESH_PROFILE_SRC_CPU_ONLINE
                                       | ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_LOADAVG
                                       | ZMESH_PROFILE_SRC_MEMINFO | ZMESH_PROFILE_SRC_MOUNTS
                                       | ZMESH_PROFILE_SRC_NET | ZMESH_PROFILE_SRC_CGROUP
                                       | ZMESH_PROFILE_SRC_GPU);
    assert_int_equal (p.cpu_cores, 1);  //  the default: a machine has a core
    assert_string_equal (p.cpu_model, "");
    assert_int_equal (p.load_avg1_milli, 0);
    assert_int_equal (p.cpu_total_ticks, 0);
    assert_int_equal (p.mem_total_bytes, 0);
    assert_int_equal (p.cpu_quota_millicores, 0);
    assert_int_equal (p.mem_limit_bytes, 0);
    assert_int_equal (p.disk_count, 1);  //  the good line is kept
    assert_int_equal (p.net_count, 1);
    assert_int_equal (p.nets [0].mtu_bytes, 0);
    assert_string_equal (p.nets [0].mac, "");
    assert_int_equal (p.nets [0].speed_mbps, 0);
    //  The driver's GPU without a model line is still a GPU.
    assert_int_equal (p.gpu_count, 1);
    assert_string_equal (p.gpus [0].bus, "0000:05:00.0");
}

static void
test_truncated_files (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "truncated", NULL);
    assert_int_equal (p.missing, ZMESH_PROFILE_SRC_NET);
    assert_int_equal (p.malformed, ZMESH_PROFILE_SRC_CPU_ONLINE | ZMESH_PROFILE_SRC_LOADAVG
                                       | ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_MEMINFO
                                       | ZMESH_PROFILE_SRC_MOUNTS);
    assert_int_equal (p.cpu_cores, 1);  //  cpuinfo's one complete processor
    assert_string_equal (p.cpu_model, "");
    assert_int_equal (p.mem_total_bytes, 4030000ull * 1024);
    assert_int_equal (p.mem_available_bytes, 0);
    assert_int_equal (p.disk_count, 1);
}

static void
test_missing_files (void **state)
{
    zmesh_profile_t p;
    s_read_fixture (&p, "missing", NULL);
    assert_int_equal (p.missing, ZMESH_PROFILE_SRC_CPUINFO | ZMESH_PROFILE_SRC_CPU_ONLINE
                                     | ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_LOADAVG
                                     | ZMESH_PROFILE_SRC_MEMINFO | ZMESH_PROFILE_SRC_MOUNTS
                                     | ZMESH_PROFILE_SRC_NET);
    assert_int_equal (p.malformed, 0);
    assert_int_equal (p.cpu_cores, 1);
    assert_int_equal (p.disk_count + p.net_count + p.gpu_count, 0);
    //  Even a root that does not exist at all.
    s_read_fixture (&p, "no-such-root", NULL);
    assert_int_equal (p.cpu_cores, 1);
    assert_int_equal (p.missing & ZMESH_PROFILE_SRC_MEMINFO, ZMESH_PROFILE_SRC_MEMINFO);
    //  Or one too long to be a path: still a profile, never an abort.
    char root [2048];
    memset (root, 'r', sizeof root - 1);
    root [sizeof root - 1] = 0;
    zmesh_profile_read (&p, root, NULL);
    assert_int_equal (p.cpu_cores, 1);
    assert_int_equal (p.missing & ZMESH_PROFILE_SRC_STAT, ZMESH_PROFILE_SRC_STAT);
}

//  A refresh re-reads the figures that move and keeps what the machine is, as read in full.
static void
test_refresh (void **state)
{
    const uint32_t flags = ZMESH_PROFILE_READ_NO_STATVFS;
    zmesh_profile_t p, full;
    //  Over the same files, a refresh gives what a full read would.
    s_read_fixture (&p, "two-core", NULL);
    p.cpu_total_ticks = 5000;
    p.cpu_idle_ticks = 4500;
    p.bench = (zmesh_profile_bench_t){1, 2, 3, 4, true};
    s_read_fixture (&full, "two-core", &p);
    zmesh_profile_refresh (&p, s_fixture ("two-core"), flags);
    s_assert_profile_equal (&p, &full);
    assert_int_equal (p.cpu_util_bp, 2000);
    assert_int_equal (p.cpu_total_ticks, full.cpu_total_ticks);
    assert_int_equal (p.cpu_idle_ticks, full.cpu_idle_ticks);
    //  Over another machine's files: its load, counters and memory; the rest is still ours.
    s_read_fixture (&p, "two-core", NULL);
    zmesh_profile_refresh (&p, s_fixture ("big-64"), flags);
    assert_int_equal (p.load_avg1_milli, 48720);
    assert_int_equal (p.load_avg15_milli, 35500);
    assert_int_equal (p.cpu_total_ticks, 27200100);
    assert_true (p.cpu_util_valid);  //  the counters grew from two-core's
    assert_int_equal (p.cpu_util_bp,
                      (27200100 - 10000 - (20100000 - 8500)) * 10000ull / (27200100 - 10000));
    assert_int_equal (p.mem_total_bytes, 527958528ull * 1024);
    assert_int_equal (p.mem_available_bytes, 400000000ull * 1024);
    assert_int_equal (p.cpu_cores, 2);
    assert_string_equal (p.cpu_model, "AMD EPYC 7B12 64-Core Processor");
    assert_int_equal (p.mem_limit_bytes, 2 * GIB);
    assert_int_equal (p.disk_count, 2);
    assert_int_equal (p.net_count, 2);
    assert_string_equal (p.nets [0].name, "eth0");
    //  Counters that went back: no figure.
    zmesh_profile_refresh (&p, s_fixture ("two-core"), flags);
    assert_false (p.cpu_util_valid);
    //  Sources that fail: defaults and their bits; the bits of the others are kept.
    s_read_fixture (&p, "malformed", NULL);
    zmesh_profile_refresh (&p, s_fixture ("two-core"), flags);
    assert_int_equal (p.load_avg1_milli, 200);
    assert_int_equal (p.malformed, ZMESH_PROFILE_SRC_CPUINFO | ZMESH_PROFILE_SRC_CPU_ONLINE
                                       | ZMESH_PROFILE_SRC_MOUNTS | ZMESH_PROFILE_SRC_NET
                                       | ZMESH_PROFILE_SRC_CGROUP | ZMESH_PROFILE_SRC_GPU);
    s_read_fixture (&p, "two-core", NULL);
    zmesh_profile_refresh (&p, s_fixture ("missing"), flags);
    assert_int_equal (p.missing, ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_LOADAVG
                                     | ZMESH_PROFILE_SRC_MEMINFO);
    assert_int_equal (p.malformed, 0);
    assert_int_equal (p.load_avg1_milli, 0);
    assert_int_equal (p.mem_total_bytes, 0);
    assert_false (p.cpu_util_valid);
    assert_int_equal (p.disk_count, 2);
    zmesh_profile_refresh (&p, s_fixture ("malformed"), flags);
    assert_int_equal (p.missing, 0);
    assert_int_equal (p.malformed, ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_LOADAVG
                                       | ZMESH_PROFILE_SRC_MEMINFO);
    //  A root too long to be a path: every dynamic source missing, never an abort.
    char root [2048];
    memset (root, 'r', sizeof root - 1);
    root [sizeof root - 1] = 0;
    zmesh_profile_refresh (&p, root, 0);
    assert_int_equal (p.missing, ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_LOADAVG
                                     | ZMESH_PROFILE_SRC_MEMINFO);
    assert_int_equal (p.cpu_cores, 2);
}

//  This machine, whatever it is: only sane ranges.
static void
test_real_machine (void **state)
{
    zmesh_profile_t p;
    zmesh_profile_read (&p, NULL, NULL);
    assert_in_range (p.cpu_cores, 1, 1u << 20);
    assert_int_equal (p.missing & (ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_MEMINFO), 0);
    assert_true (p.mem_total_bytes > 64ull * 1024 * 1024);
    assert_true (p.mem_available_bytes <= p.mem_total_bytes);
    assert_true (p.cpu_total_ticks > 0);
    for (uint32_t i = 0; i < p.disk_count; i++)
        assert_true (p.disks [i].free_bytes <= p.disks [i].total_bytes);
    for (uint32_t i = 0; i < p.net_count; i++)
        assert_string_not_equal (p.nets [i].name, "lo");
    //  Spin a little so the tick counters move, then read again for a utilisation figure.
    struct timespec start, now;
    clock_gettime (CLOCK_MONOTONIC, &start);
    do
        clock_gettime (CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 40);
    zmesh_profile_read (&p, "/", &p);
    if (p.cpu_util_valid)
        assert_in_range (p.cpu_util_bp, 0, 10000);
    //  A refresh (with statvfs) keeps the disks a full read listed, with sane free space.
    zmesh_profile_t before = p;
    zmesh_profile_refresh (&p, NULL, 0);
    assert_int_equal (p.disk_count, before.disk_count);
    for (uint32_t i = 0; i < p.disk_count; i++) {
        assert_int_equal (p.disks [i].total_bytes, before.disks [i].total_bytes);
        assert_true (p.disks [i].free_bytes <= p.disks [i].total_bytes);
    }
    assert_int_equal (p.missing & (ZMESH_PROFILE_SRC_STAT | ZMESH_PROFILE_SRC_MEMINFO), 0);
    assert_true (p.cpu_total_ticks >= before.cpu_total_ticks);
    uint8_t buf [ZMESH_PROFILE_ENCODED_MAX];
    size_t size;
    zmesh_profile_t back;
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (zmesh_profile_decode (&back, buf, size), ZMESH_OK);
    s_assert_profile_equal (&p, &back);
}

//  --------------------------------------------------------------------------------------------
//  Codec

static void
test_round_trip (void **state)
{
    const char *fixtures [] = {"two-core", "big-64", "gpu", "malformed", "missing"};
    uint8_t buf [ZMESH_PROFILE_ENCODED_MAX];
    size_t size;
    zmesh_profile_t p, back;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures [0]; i++) {
        s_read_fixture (&p, fixtures [i], NULL);
        assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
        assert_int_equal (zmesh_profile_decode (&back, buf, size), ZMESH_OK);
        s_assert_profile_equal (&p, &back);
    }
    //  An empty machine is a few bytes: zeros are left out.
    s_read_fixture (&p, "missing", NULL);
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
    assert_true (size < 16);
    //  0% busy is a figure, and survives.
    p.cpu_util_valid = true;
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
    assert_int_equal (zmesh_profile_decode (&back, buf, size), ZMESH_OK);
    assert_true (back.cpu_util_valid);
    //  Everything at its largest fits the documented bound.
    s_full_profile (&p);
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
    assert_true (size <= ZMESH_PROFILE_ENCODED_MAX);
    assert_int_equal (zmesh_profile_decode (&back, buf, size), ZMESH_OK);
    s_assert_profile_equal (&p, &back);
    assert_int_equal (zmesh_profile_encode (&p, buf, size - 1, &size), ZMESH_ETOOBIG);
}

static void
test_encode_refuses_bad_profiles (void **state)
{
    uint8_t buf [ZMESH_PROFILE_ENCODED_MAX];
    size_t size;
    zmesh_profile_t p;
    s_read_fixture (&p, "two-core", NULL);
    p.disk_count = ZMESH_PROFILE_DISKS_MAX + 1;
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_read_fixture (&p, "two-core", NULL);
    p.cpu_cores = 0;
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_read_fixture (&p, "two-core", NULL);
    strcpy (p.nets [0].name, "eth\x1b[2J");  //  what the decoder would refuse
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_EINVAL);
    s_read_fixture (&p, "two-core", NULL);
    p.cpu_util_bp = 10001;
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_EINVAL);
}

//  A hand-packed map, as a peer written from the layout comment would send it.
static size_t
s_pack (uint8_t *buf, size_t capacity, void (*body) (msgpack_packer *pk))
{
    zmesh_mp_writer_t w;
    zmesh_mp_writer_init (&w, buf, capacity);
    body (&w.pk);
    assert_int_equal (zmesh_mp_writer_status (&w), ZMESH_OK);
    return w.size;
}

static void
s_version_first (msgpack_packer *pk, uint32_t entries)
{
    msgpack_pack_map (pk, entries);
    msgpack_pack_uint8 (pk, 0);
    msgpack_pack_uint8 (pk, 1);
}

static void
s_minimal (msgpack_packer *pk)
{
    s_version_first (pk, 2);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
}

static void
s_other_version (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 2);
    msgpack_pack_uint8 (pk, 0);
    msgpack_pack_uint8 (pk, 2);
    zmesh_mp_pack_cstr (pk, "cores");  //  a later version may say anything
    msgpack_pack_nil (pk);
}

static void
s_version_not_first (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 2);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 0);
    msgpack_pack_uint8 (pk, 1);
}

static void
s_duplicate_key (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 64);
}

static void
s_unknown_keys (msgpack_packer *pk)
{
    s_version_first (pk, 4);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 99);  //  a later version's field, any shape
    msgpack_pack_array (pk, 2);
    zmesh_mp_pack_cstr (pk, "x");
    msgpack_pack_map (pk, 0);
    msgpack_pack_uint16 (pk, 1000);
    msgpack_pack_nil (pk);
}

static void
s_string_key (msgpack_packer *pk)
{
    s_version_first (pk, 2);
    zmesh_mp_pack_cstr (pk, "cpu.cores");
    msgpack_pack_uint8 (pk, 2);
}

static void
s_no_cores (msgpack_packer *pk)
{
    s_version_first (pk, 2);
    msgpack_pack_uint8 (pk, 4);
    msgpack_pack_uint16 (pk, 500);
}

static void
s_util_over (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 7);
    msgpack_pack_uint16 (pk, 10001);
}

static void
s_cores_as_string (msgpack_packer *pk)
{
    s_version_first (pk, 2);
    msgpack_pack_uint8 (pk, 1);
    zmesh_mp_pack_cstr (pk, "2");
}

static void
s_control_chars (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 2);
    zmesh_mp_pack_cstr (pk, "EPYC\x1b]0;owned\x07");
}

static void
s_too_many_gpus (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 15);
    msgpack_pack_array (pk, ZMESH_PROFILE_GPUS_MAX + 1);
    for (int i = 0; i < ZMESH_PROFILE_GPUS_MAX + 1; i++) {
        msgpack_pack_array (pk, 6);
        zmesh_mp_pack_cstr (pk, "nvidia");
        zmesh_mp_pack_cstr (pk, "");
        zmesh_mp_pack_cstr (pk, "");
        msgpack_pack_uint16 (pk, 0x10de);
        msgpack_pack_uint16 (pk, 1);
        msgpack_pack_uint8 (pk, 0);
    }
}

//  A disk entry with a field from a later version (skipped), then one too short (refused).
static void
s_disk_entry (msgpack_packer *pk, uint32_t fields)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 11);
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, fields);
    zmesh_mp_pack_cstr (pk, "/");
    zmesh_mp_pack_cstr (pk, "ext4");
    msgpack_pack_uint32 (pk, 1000);
    if (fields >= 4)
        msgpack_pack_uint32 (pk, 400);
    if (fields >= 5)
        zmesh_mp_pack_cstr (pk, "ssd");
}

static void
s_disk_longer (msgpack_packer *pk)
{
    s_disk_entry (pk, 5);
}

static void
s_disk_shorter (msgpack_packer *pk)
{
    s_disk_entry (pk, 3);
}

static void
s_free_over_total (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 11);
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 4);
    zmesh_mp_pack_cstr (pk, "/");
    zmesh_mp_pack_cstr (pk, "ext4");
    msgpack_pack_uint32 (pk, 1000);
    msgpack_pack_uint32 (pk, 1001);
}

static void
s_pci_id_over (msgpack_packer *pk)
{
    s_version_first (pk, 3);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2);
    msgpack_pack_uint8 (pk, 15);
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 6);
    zmesh_mp_pack_cstr (pk, "nvidia");
    zmesh_mp_pack_cstr (pk, "");
    zmesh_mp_pack_cstr (pk, "");
    msgpack_pack_uint32 (pk, 0x10000);
    msgpack_pack_uint16 (pk, 1);
    msgpack_pack_uint8 (pk, 0);
}

static void
test_decode_hand_made (void **state)
{
    uint8_t buf [1024];
    size_t size;
    zmesh_profile_t p;
    size = s_pack (buf, sizeof buf, s_minimal);
    assert_int_equal (zmesh_profile_decode (&p, buf, size), ZMESH_OK);
    assert_int_equal (p.cpu_cores, 2);
    assert_false (p.cpu_util_valid);
    size = s_pack (buf, sizeof buf, s_unknown_keys);
    assert_int_equal (zmesh_profile_decode (&p, buf, size), ZMESH_OK);
    size = s_pack (buf, sizeof buf, s_disk_longer);
    assert_int_equal (zmesh_profile_decode (&p, buf, size), ZMESH_OK);
    assert_int_equal (p.disk_count, 1);
    assert_int_equal (p.disks [0].free_bytes, 400);
    size = s_pack (buf, sizeof buf, s_other_version);
    assert_int_equal (zmesh_profile_decode (&p, buf, size), ZMESH_EVERSION);

    void (*refused []) (msgpack_packer *) = {
        s_version_not_first, s_duplicate_key,   s_string_key,    s_no_cores,
        s_util_over,         s_cores_as_string, s_control_chars, s_too_many_gpus,
        s_disk_shorter,      s_free_over_total, s_pci_id_over};
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        size = s_pack (buf, sizeof buf, refused [i]);
        assert_int_equal (zmesh_profile_decode (&p, buf, size), ZMESH_EPROTO);
    }
}

static void
test_decode_refuses_damage (void **state)
{
    static uint8_t buf [ZMESH_PROFILE_ENCODED_MAX + 16];
    size_t size;
    zmesh_profile_t p, back;
    s_read_fixture (&p, "gpu", NULL);
    p.bench = (zmesh_profile_bench_t){1000, 2000, 3000, 300, true};
    assert_int_equal (zmesh_profile_encode (&p, buf, sizeof buf, &size), ZMESH_OK);
    //  Every proper prefix is refused, never read past.
    for (size_t len = 0; len < size; len++)
        assert_int_equal (zmesh_profile_decode (&back, buf, len), ZMESH_EPROTO);
    //  A trailing byte is refused too.
    buf [size] = 0xc0;
    assert_int_equal (zmesh_profile_decode (&back, buf, size + 1), ZMESH_EPROTO);
    //  Every single-byte change decodes or is refused; none crashes.
    for (size_t i = 0; i < size; i++) {
        uint8_t saved = buf [i];
        buf [i] ^= 0xff;
        int rc = zmesh_profile_decode (&back, buf, size);
        assert_true (rc == ZMESH_OK || rc == ZMESH_EPROTO || rc == ZMESH_EVERSION);
        buf [i] = saved;
    }
    assert_int_equal (zmesh_profile_decode (&back, buf, ZMESH_PROFILE_ENCODED_MAX + 1),
                      ZMESH_ETOOBIG);
    assert_int_equal (zmesh_profile_decode (&back, NULL, 0), ZMESH_EPROTO);
}

//  --------------------------------------------------------------------------------------------
//  Key / value pairs and change detection

static const char *
s_kv_get (const zmesh_profile_kv_t *kv, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (kv [i].key, key) == 0)
            return kv [i].value;
    return NULL;
}

static void
test_to_kv (void **state)
{
    static zmesh_profile_kv_t kv [ZMESH_PROFILE_KV_MAX];
    size_t count;
    zmesh_profile_t p;
    s_read_fixture (&p, "two-core", NULL);
    assert_int_equal (
        zmesh_profile_to_kv (&p, ZMESH_PROFILE_SECTION_ALL, kv, ZMESH_PROFILE_KV_MAX, &count),
        ZMESH_OK);
    assert_string_equal (s_kv_get (kv, count, "cpu.cores"), "2");
    assert_string_equal (s_kv_get (kv, count, "cpu.model"), "AMD EPYC 7B12 64-Core Processor");
    assert_string_equal (s_kv_get (kv, count, "cpu.util_bp"), "");  //  no figure yet
    assert_string_equal (s_kv_get (kv, count, "load.avg5_milli"), "430");
    assert_string_equal (s_kv_get (kv, count, "mem.total_bytes"), "4126720000");
    assert_string_equal (s_kv_get (kv, count, "mem.limit_bytes"), "2147483648");
    assert_string_equal (s_kv_get (kv, count, "disk.count"), "2");
    assert_string_equal (s_kv_get (kv, count, "disk.1.mount"), "/srv/my data");
    assert_string_equal (s_kv_get (kv, count, "net.0.mac"), "52:54:00:12:34:56");
    assert_string_equal (s_kv_get (kv, count, "net.1.state"), "down");
    assert_string_equal (s_kv_get (kv, count, "gpu.count"), "0");
    assert_null (s_kv_get (kv, count, "bench.int_ops_per_s"));  //  not run
    assert_string_equal (s_kv_get (kv, count, "profile.missing"), "0");

    //  Only what changed: the load section is three pairs.
    assert_int_equal (
        zmesh_profile_to_kv (&p, ZMESH_PROFILE_SECTION_LOAD, kv, ZMESH_PROFILE_KV_MAX, &count),
        ZMESH_OK);
    assert_int_equal (count, 3);

    s_read_fixture (&p, "gpu", NULL);
    assert_int_equal (
        zmesh_profile_to_kv (&p, ZMESH_PROFILE_SECTION_GPUS, kv, ZMESH_PROFILE_KV_MAX, &count),
        ZMESH_OK);
    assert_string_equal (s_kv_get (kv, count, "gpu.count"), "3");
    assert_string_equal (s_kv_get (kv, count, "gpu.0.pci_id"), "0x10de:0x2684");
    assert_string_equal (s_kv_get (kv, count, "gpu.1.vram_bytes"), "25753026560");
    assert_string_equal (s_kv_get (kv, count, "gpu.2.model"), "Tesla T4");

    //  The largest profile fits ZMESH_PROFILE_KV_MAX, with bounded keys and values.
    s_full_profile (&p);
    assert_int_equal (
        zmesh_profile_to_kv (&p, ZMESH_PROFILE_SECTION_ALL, kv, ZMESH_PROFILE_KV_MAX, &count),
        ZMESH_OK);
    assert_int_equal (count, ZMESH_PROFILE_KV_MAX);
    for (size_t i = 0; i < count; i++) {
        assert_true (strlen (kv [i].key) <= ZMESH_PROFILE_KV_KEY_MAX);
        assert_true (strlen (kv [i].value) <= ZMESH_PROFILE_KV_VALUE_MAX);
    }
    //  Too little room: the first pairs, and the limit reported.
    assert_int_equal (zmesh_profile_to_kv (&p, ZMESH_PROFILE_SECTION_ALL, kv, 5, &count),
                      ZMESH_ELIMIT);
    assert_int_equal (count, 5);
    assert_string_equal (kv [0].key, "cpu.cores");
}

static void
test_changed (void **state)
{
    zmesh_profile_t a, b;
    s_read_fixture (&a, "two-core", NULL);
    b = a;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), 0);
    //  Below the thresholds: nothing to republish.
    b.load_avg1_milli += 249;
    b.mem_available_bytes -= a.mem_total_bytes / 100;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), 0);
    //  Beyond them.
    b.load_avg1_milli += 1;
    b.mem_available_bytes -= a.mem_total_bytes / 20;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL),
                      ZMESH_PROFILE_SECTION_LOAD | ZMESH_PROFILE_SECTION_MEM_AVAIL);
    //  Static fields on any change.
    b = a;
    b.cpu_cores = 3;
    strcpy (b.nets [1].operstate, "up");
    b.mem_limit_bytes = 0;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), ZMESH_PROFILE_SECTION_CPU
                                                                | ZMESH_PROFILE_SECTION_NETS
                                                                | ZMESH_PROFILE_SECTION_MEM);
    //  Utilisation: a first figure counts; then only a move of 10 points.
    b = a;
    b.cpu_util_valid = true;
    b.cpu_util_bp = 0;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), ZMESH_PROFILE_SECTION_UTIL);
    a = b;
    b.cpu_util_bp = 999;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), 0);
    //  Zero thresholds: any move.
    zmesh_profile_thresholds_t eager = {0, 0, 0, 0};
    assert_int_equal (zmesh_profile_changed (&a, &b, &eager), ZMESH_PROFILE_SECTION_UTIL);
    //  Disks: free space by share of the disk, a new disk as a set change.
    b = a;
    a.disks [0].total_bytes = b.disks [0].total_bytes = 100 * GIB;
    a.disks [0].free_bytes = 50 * GIB;
    b.disks [0].free_bytes = 50 * GIB - GIB / 2;  //  0.5%: under 1%
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), 0);
    b.disks [0].free_bytes = 48 * GIB;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL), ZMESH_PROFILE_SECTION_DISK_FREE);
    b.disk_count = 1;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL),
                      ZMESH_PROFILE_SECTION_DISKS | ZMESH_PROFILE_SECTION_DISK_FREE);
    //  The benchmark and the status bits.
    b = a;
    b.bench.valid = true;
    b.malformed = ZMESH_PROFILE_SRC_NET;
    assert_int_equal (zmesh_profile_changed (&a, &b, NULL),
                      ZMESH_PROFILE_SECTION_BENCH | ZMESH_PROFILE_SECTION_STATUS);
}

//  The publication policy: what the machine is at once, small moves of its figures at most
//  every min_ms, large ones at once.
static void
test_publish_due (void **state)
{
    const uint64_t min_ms = 30000;
    zmesh_profile_t published, now;
    s_read_fixture (&published, "two-core", NULL);
    published.cpu_util_valid = true;
    published.cpu_util_bp = 2000;
    published.disks [0].total_bytes = 100 * GIB;
    published.disks [0].free_bytes = 50 * GIB;
    now = published;
    //  Nothing moved: nothing to publish, however long ago the last one was.
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, UINT64_MAX, min_ms), 0);
    //  A move under its threshold: never.
    now.load_avg1_milli += 249;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, UINT64_MAX, min_ms), 0);
    //  A small move past it waits for the interval, then goes out.
    now.load_avg1_milli += 1;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, min_ms - 1, min_ms), 0);
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, min_ms, min_ms),
                      ZMESH_PROFILE_SECTION_LOAD);
    //  With no interval, every move past its threshold, as zmesh_profile_changed says.
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, 0),
                      ZMESH_PROFILE_SECTION_LOAD);
    //  A large move (4x the threshold) at once; one just under it waits.
    now.load_avg1_milli = published.load_avg1_milli + 999;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    now.load_avg1_milli = published.load_avg1_milli + 1000;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_LOAD);
    now.load_avg1_milli = published.load_avg1_milli;
    now.load_avg15_milli -= 900;  //  down counts as much as up
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    //  The other dynamic figures: CPU use by 40 points, memory by 20% of the total, a disk's
    //  free space by 4% of its size.
    now = published;
    now.cpu_util_bp = 2000 + 3999;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    now.cpu_util_bp = 2000 + 4000;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_UTIL);
    now = published;
    now.mem_available_bytes -= published.mem_total_bytes / 10;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    now.mem_available_bytes -= published.mem_total_bytes / 10;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_MEM_AVAIL);
    now = published;
    now.disks [0].free_bytes -= 3 * GIB;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms), 0);
    now.disks [0].free_bytes -= GIB;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_DISK_FREE);
    //  A first CPU figure, however small, at once: the mesh has none yet.
    zmesh_profile_t first = published;
    first.cpu_util_valid = false;
    first.cpu_util_bp = 0;
    assert_int_equal (zmesh_profile_publish_due (&first, &published, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_UTIL);
    //  What the machine is: at once, with the small moves that go along.
    now = published;
    now.load_avg1_milli += 300;
    strcpy (now.nets [1].operstate, "up");
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_LOAD | ZMESH_PROFILE_SECTION_NETS);
    now = published;
    now.cpu_cores = 4;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_CPU);
    now = published;
    now.disk_count = 1;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, NULL, 0, min_ms),
                      ZMESH_PROFILE_SECTION_DISKS | ZMESH_PROFILE_SECTION_DISK_FREE);
    //  Zero thresholds (any change) make every change large.
    zmesh_profile_thresholds_t eager = {0, 0, 0, 0};
    now = published;
    now.load_avg5_milli += 1;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, &eager, 0, min_ms),
                      ZMESH_PROFILE_SECTION_LOAD);
    //  A threshold so large that four times it overflows stays large: the move waits.
    zmesh_profile_thresholds_t huge = {0x40000001u, 1000, 500, 100};
    published.load_avg1_milli = 0;
    now = published;
    now.load_avg1_milli = 0x40000001u;
    assert_int_equal (zmesh_profile_publish_due (&published, &now, &huge, 0, min_ms), 0);
    assert_int_equal (zmesh_profile_publish_due (&published, &now, &huge, min_ms, min_ms),
                      ZMESH_PROFILE_SECTION_LOAD);
}

//  --------------------------------------------------------------------------------------------
//  Benchmark: only that it runs, within its budget, and reports figures (speed is bench/'s).

static void
test_bench (void **state)
{
    zmesh_profile_bench_t bench;
    assert_int_equal (zmesh_profile_bench (&bench, 40), ZMESH_OK);
    assert_true (bench.valid);
    assert_true (bench.hash_bytes_per_s > 0);
    assert_true (bench.int_ops_per_s > 0);
    assert_true (bench.mem_copy_bytes_per_s > 0);
    assert_in_range (bench.duration_ms, 1, 1000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_two_core),
        cmocka_unit_test (test_cpu_util_from_previous),
        cmocka_unit_test (test_big_machine_with_quota),
        cmocka_unit_test (test_gpus),
        cmocka_unit_test (test_malformed_files),
        cmocka_unit_test (test_truncated_files),
        cmocka_unit_test (test_missing_files),
        cmocka_unit_test (test_refresh),
        cmocka_unit_test (test_real_machine),
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_encode_refuses_bad_profiles),
        cmocka_unit_test (test_decode_hand_made),
        cmocka_unit_test (test_decode_refuses_damage),
        cmocka_unit_test (test_to_kv),
        cmocka_unit_test (test_changed),
        cmocka_unit_test (test_publish_due),
        cmocka_unit_test (test_bench),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
