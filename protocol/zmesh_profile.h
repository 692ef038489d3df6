/*  zmesh_profile.h: what this node can do, read from /proc and /sys, and a baseline benchmark.

    A profile is a plain value (no pointers, no allocation) that the health actor fills from the
    kernel's text files, compares with the last one it published, and turns into key=value
    pairs for the gossip state map (or a compact msgpack map for the control socket).

    Design. Every read takes a root directory, so the same code reads the real machine ("" or
    NULL) or a fixture tree in tests (tests/unit/data/profile/). Every array has a named bound;
    what does not fit is counted in a *_dropped field, never a crash. A file that is missing
    gives defaults and sets a bit in `missing`; a file that does not parse gives defaults and
    sets a bit in `malformed`. Optional sources (cgroup limits, GPUs, link speed) are not
    "missing" when absent: most machines have none. Fields carry their unit in their name;
    fractional kernel figures are fixed point (load_avg1_milli = load x 1000, util in basis
    points of 1/10000), so a profile encodes, decodes and compares exactly.

    CPU utilisation is a difference of /proc/stat counters between two reads: pass the previous
    profile (it may be `out` itself) and cpu_util_valid says whether a figure exists yet.

    Sources: proc(5) (cpuinfo, stat, loadavg, meminfo, self/mounts, self/cgroup), sysfs-class-net
    (operstate, speed, mtu, address), the cgroup v2 interface (cpu.max, memory.max) with the v1
    equivalents (cpu.cfs_quota_us / cpu.cfs_period_us, memory.limit_in_bytes), DRM
    (/sys/class/drm/cardN/device/{vendor,device,uevent,mem_info_vram_total}) and the NVIDIA
    driver's /proc/driver/nvidia/gpus/BUS/information.
*/
#ifndef ZMESH_PROFILE_H_INCLUDED
#define ZMESH_PROFILE_H_INCLUDED

#include "zmesh_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Bounds. Text sizes include the terminating NUL.
#define ZMESH_PROFILE_DISKS_MAX     16   //  mounted local filesystems
#define ZMESH_PROFILE_NETS_MAX      16   //  network interfaces (lo excluded)
#define ZMESH_PROFILE_GPUS_MAX      8    //  GPUs
#define ZMESH_PROFILE_MODEL_MAX     64   //  CPU or GPU model name
#define ZMESH_PROFILE_MOUNT_MAX     128  //  mount point path
#define ZMESH_PROFILE_FSTYPE_MAX    16   //  filesystem type ("ext4")
#define ZMESH_PROFILE_IFNAME_MAX    16   //  interface name (IFNAMSIZ)
#define ZMESH_PROFILE_OPERSTATE_MAX 16   //  "up", "down", "lowerlayerdown", ...
#define ZMESH_PROFILE_MAC_MAX       24   //  "aa:bb:cc:dd:ee:ff" (longer link addresses dropped)
#define ZMESH_PROFILE_VENDOR_MAX    16   //  "nvidia", "amd", "intel", "0x1d0f"
#define ZMESH_PROFILE_BUS_MAX       16   //  PCI address "0000:01:00.0"
//  A msgpack-encoded profile is never larger than this (all arrays full, all strings full).
#define ZMESH_PROFILE_ENCODED_MAX 8192
//  Key / value text of zmesh_profile_to_kv, in bytes without the NUL.
#define ZMESH_PROFILE_KV_KEY_MAX   64
#define ZMESH_PROFILE_KV_VALUE_MAX 256
//  Pairs zmesh_profile_to_kv produces at most (all sections, all arrays full).
#define ZMESH_PROFILE_KV_MAX \
    (22 + 4 * ZMESH_PROFILE_DISKS_MAX + 5 * ZMESH_PROFILE_NETS_MAX + 5 * ZMESH_PROFILE_GPUS_MAX)
//  Default time the benchmark may take, all parts together.
#define ZMESH_PROFILE_BENCH_BUDGET_MS_DEFAULT 300
//  Memory the copy benchmark walks (source and destination halves): above any L2 cache.
#define ZMESH_PROFILE_BENCH_MEM_BYTES (64u * 1024 * 1024)

//  Bits of `missing` and `malformed`: which source gave defaults.
#define ZMESH_PROFILE_SRC_CPUINFO    (1u << 0)  //  /proc/cpuinfo
#define ZMESH_PROFILE_SRC_CPU_ONLINE (1u << 1)  //  /sys/devices/system/cpu/online
#define ZMESH_PROFILE_SRC_STAT       (1u << 2)  //  /proc/stat
#define ZMESH_PROFILE_SRC_LOADAVG    (1u << 3)  //  /proc/loadavg
#define ZMESH_PROFILE_SRC_MEMINFO    (1u << 4)  //  /proc/meminfo
#define ZMESH_PROFILE_SRC_MOUNTS     (1u << 5)  //  /proc/self/mounts
#define ZMESH_PROFILE_SRC_NET        (1u << 6)  //  /sys/class/net
#define ZMESH_PROFILE_SRC_CGROUP     (1u << 7)  //  cgroup limits (malformed only)
#define ZMESH_PROFILE_SRC_GPU        (1u << 8)  //  DRM or NVIDIA files (malformed only)

//  Flags of zmesh_profile_read_flags.
#define ZMESH_PROFILE_READ_NO_STATVFS (1u << 0)  //  leave disk sizes 0 (fixture trees)

typedef struct {
    char mount_path [ZMESH_PROFILE_MOUNT_MAX];  //  where it is mounted
    char fstype [ZMESH_PROFILE_FSTYPE_MAX];     //  filesystem type
    uint64_t total_bytes;                       //  size (statvfs f_blocks x f_frsize); 0 unknown
    uint64_t free_bytes;                        //  available to unprivileged users (f_bavail)
} zmesh_profile_disk_t;

typedef struct {
    char name [ZMESH_PROFILE_IFNAME_MAX];          //  interface name
    char operstate [ZMESH_PROFILE_OPERSTATE_MAX];  //  RFC 2863 state as the kernel says it
    char mac [ZMESH_PROFILE_MAC_MAX];              //  link address; "" if none
    uint32_t speed_mbps;                           //  link speed; 0 unknown (virtual, down)
    uint32_t mtu_bytes;                            //  MTU; 0 unknown
} zmesh_profile_net_t;

typedef struct {
    char vendor [ZMESH_PROFILE_VENDOR_MAX];  //  "nvidia", "amd", "intel", else "0x" + PCI id
    char model [ZMESH_PROFILE_MODEL_MAX];    //  NVIDIA driver's model name; "" if unknown
    char bus [ZMESH_PROFILE_BUS_MAX];        //  PCI address; "" if unknown
    uint16_t vendor_id;                      //  PCI vendor id; 0 unknown
    uint16_t device_id;                      //  PCI device id; 0 unknown
    uint64_t vram_bytes;                     //  video memory (amdgpu reports it); 0 unknown
} zmesh_profile_gpu_t;

//  Figures of zmesh_profile_bench. All are per second on one core, measured in one run.
typedef struct {
    uint64_t hash_bytes_per_s;      //  BLAKE2b (libsodium crypto_generichash) over 16 KiB blocks
    uint64_t int_ops_per_s;         //  xorshift64* steps, each one dependent on the last
    uint64_t mem_copy_bytes_per_s;  //  bytes copied by memcpy across a 64 MiB working set
    uint32_t duration_ms;           //  wall time the benchmark took
    bool valid;                     //  false until a benchmark has run
} zmesh_profile_bench_t;

typedef struct {
    //  CPU
    uint32_t cpu_cores;                        //  logical cores online (>= 1)
    char cpu_model [ZMESH_PROFILE_MODEL_MAX];  //  "model name" of /proc/cpuinfo; "" unknown
    uint32_t cpu_quota_millicores;             //  cgroup CPU limit, 1000 = one core; 0 = none
    uint32_t load_avg1_milli;                  //  load averages x 1000 (1, 5, 15 minutes)
    uint32_t load_avg5_milli;
    uint32_t load_avg15_milli;
    uint32_t cpu_util_bp;      //  busy share of all cores since `previous`,
                               //  in basis points (10000 = all busy)
    bool cpu_util_valid;       //  false on a first read (no previous counters)
    uint64_t cpu_total_ticks;  //  /proc/stat counters behind cpu_util_bp: kept
    uint64_t cpu_idle_ticks;   //  for the next read, never encoded
    //  Memory
    uint64_t mem_total_bytes;      //  MemTotal
    uint64_t mem_available_bytes;  //  MemAvailable (MemFree + Buffers + Cached before 3.14)
    uint64_t mem_limit_bytes;      //  cgroup memory limit; 0 = none
    //  Storage, network, accelerators; *_dropped counts what did not fit
    uint32_t disk_count;
    uint32_t disks_dropped;
    zmesh_profile_disk_t disks [ZMESH_PROFILE_DISKS_MAX];
    uint32_t net_count;
    uint32_t nets_dropped;
    zmesh_profile_net_t nets [ZMESH_PROFILE_NETS_MAX];
    uint32_t gpu_count;
    uint32_t gpus_dropped;
    zmesh_profile_gpu_t gpus [ZMESH_PROFILE_GPUS_MAX];
    //  Baseline benchmark: not read from the system; carried over from `previous`, filled by
    //  zmesh_profile_bench (&profile.bench, ...)
    zmesh_profile_bench_t bench;
    //  Sources that gave defaults (ZMESH_PROFILE_SRC_* bits)
    uint32_t missing;
    uint32_t malformed;
} zmesh_profile_t;

//  Read the profile of the machine whose files are under root ("" or NULL: the real "/").
//  previous (may be NULL, may be out) gives the counters for cpu_util_bp and the bench figures
//  to carry over. Never fails: what cannot be read is a default and a bit in missing/malformed.
//  Disk sizes come from statvfs on the real mount point, whatever root is.
void zmesh_profile_read (zmesh_profile_t *out, const char *root, const zmesh_profile_t *previous);
//  The same, with ZMESH_PROFILE_READ_* flags.
void zmesh_profile_read_flags (zmesh_profile_t *out,
                               const char *root,
                               const zmesh_profile_t *previous,
                               uint32_t flags);

//  Refresh in place the figures that move from one read to the next: load averages, CPU
//  utilisation (against self's counters), memory available (and total, which the same file
//  gives) and the free bytes of the disks self lists. The rest (cores, model, quota, memory
//  limit, the lists of disks, interfaces and GPUs, the bench figures) stays as the last
//  zmesh_profile_read left it: those change rarely and cost most of a read, so the health actor
//  reads them less often. Flags are ZMESH_PROFILE_READ_* bits. Never fails, like a read: the
//  sources it reads get defaults and their bits in missing/malformed, the others keep theirs.
void zmesh_profile_refresh (zmesh_profile_t *self, const char *root, uint32_t flags);

//  Run the baseline benchmark (hash, integer, memory copy), a deterministic workload repeated
//  until budget_ms (0: ZMESH_PROFILE_BENCH_BUDGET_MS_DEFAULT) is spent, at least once each.
//  Returns ZMESH_ENOMEM if the copy buffer cannot be had (the other figures are still set).
int zmesh_profile_bench (zmesh_profile_bench_t *out, uint32_t budget_ms);

//  Encode as a msgpack map with small integer keys (layout in zmesh_profile.c). The local
//  counters cpu_total_ticks / cpu_idle_ticks are not encoded. ZMESH_ETOOBIG if capacity is
//  short (ZMESH_PROFILE_ENCODED_MAX always suffices); ZMESH_EINVAL if a count is out of bounds.
int zmesh_profile_encode (const zmesh_profile_t *self, uint8_t *buf, size_t capacity, size_t *size);
//  Strict decoder of untrusted bytes: ZMESH_OK, ZMESH_EVERSION for another format version,
//  ZMESH_ETOOBIG beyond ZMESH_PROFILE_ENCODED_MAX, else ZMESH_EPROTO (unknown keys are
//  skipped; duplicate keys, bad types, out-of-range values, non-printable text and trailing
//  bytes are refused). On error *out is unspecified.
int zmesh_profile_decode (zmesh_profile_t *out, const uint8_t *data, size_t size);

//  Sections of a profile, as zmesh_profile_changed reports them and zmesh_profile_to_kv emits.
#define ZMESH_PROFILE_SECTION_CPU       (1u << 0)   //  cores, model, quota
#define ZMESH_PROFILE_SECTION_LOAD      (1u << 1)   //  load averages
#define ZMESH_PROFILE_SECTION_UTIL      (1u << 2)   //  CPU utilisation
#define ZMESH_PROFILE_SECTION_MEM       (1u << 3)   //  memory total and limit
#define ZMESH_PROFILE_SECTION_MEM_AVAIL (1u << 4)   //  memory available
#define ZMESH_PROFILE_SECTION_DISKS     (1u << 5)   //  which disks, their types and sizes
#define ZMESH_PROFILE_SECTION_DISK_FREE (1u << 6)   //  free bytes per disk
#define ZMESH_PROFILE_SECTION_NETS      (1u << 7)   //  interfaces
#define ZMESH_PROFILE_SECTION_GPUS      (1u << 8)   //  GPUs
#define ZMESH_PROFILE_SECTION_BENCH     (1u << 9)   //  benchmark figures
#define ZMESH_PROFILE_SECTION_STATUS    (1u << 10)  //  missing / malformed bits
#define ZMESH_PROFILE_SECTION_ALL       ((1u << 11) - 1)

//  How far a fluctuating figure moves before it is worth republishing. Static fields count
//  on any change. A threshold of 0 means any change.
typedef struct {
    uint32_t load_milli;        //  any load average, x 1000 (default 250: 0.25)
    uint32_t cpu_util_bp;       //  utilisation, basis points (default 1000: 10 points)
    uint32_t mem_available_bp;  //  available memory, basis points of total (default 500: 5%)
    uint32_t disk_free_bp;      //  free space, basis points of the disk's size (default 100)
} zmesh_profile_thresholds_t;

void zmesh_profile_thresholds_default (zmesh_profile_thresholds_t *self);
//  ZMESH_PROFILE_SECTION_* bits of what differs enough between a (published) and b (new);
//  0 if nothing is worth republishing. thresholds NULL: the defaults.
uint32_t zmesh_profile_changed (const zmesh_profile_t *a,
                                const zmesh_profile_t *b,
                                const zmesh_profile_thresholds_t *thresholds);

//  Sections whose figures move by themselves from one read to the next; the others are
//  structural (what the machine is) and change only when the machine does.
#define ZMESH_PROFILE_SECTIONS_DYNAMIC                                                         \
    (ZMESH_PROFILE_SECTION_LOAD | ZMESH_PROFILE_SECTION_UTIL | ZMESH_PROFILE_SECTION_MEM_AVAIL \
     | ZMESH_PROFILE_SECTION_DISK_FREE)
//  A dynamic figure that moved this many times its threshold has moved a lot (a load of 1.0,
//  40 points of CPU use, 20% of memory, 4% of a disk with the default thresholds).
#define ZMESH_PROFILE_LARGE_FACTOR 4

//  The publication policy: the sections (zmesh_profile_changed's bits) that make `current`
//  worth publishing now, given the `published` one, the thresholds (NULL: the defaults), the
//  time since that publication and the least time between two publications of small dynamic
//  changes (health/publish_min_ms); 0 to wait. A structural change is published at once, so
//  is a dynamic figure that moved ZMESH_PROFILE_LARGE_FACTOR times its threshold (a threshold
//  of 0, any change, makes every change large); a smaller dynamic change is published once
//  min_interval_ms have passed (0: at once, which is zmesh_profile_changed alone).
uint32_t zmesh_profile_publish_due (const zmesh_profile_t *published,
                                    const zmesh_profile_t *current,
                                    const zmesh_profile_thresholds_t *thresholds,
                                    uint64_t since_published_ms,
                                    uint64_t min_interval_ms);

//  One pair for the gossip state map: key like "cpu.cores", "disk.0.free_bytes", value as text
//  (integers in decimal, PCI ids as "0x10de").
typedef struct {
    char key [ZMESH_PROFILE_KV_KEY_MAX + 1];
    char value [ZMESH_PROFILE_KV_VALUE_MAX + 1];
} zmesh_profile_kv_t;

//  Flatten the given sections (ZMESH_PROFILE_SECTION_*) into kv[0..*count). Keys of one
//  section are always the same set for the same array counts, so a publisher can delete what a
//  previous set had and this one lacks. ZMESH_ELIMIT if kv_max is short (the first kv_max pairs
//  are written; *count says how many); ZMESH_PROFILE_KV_MAX always suffices.
int zmesh_profile_to_kv (const zmesh_profile_t *self,
                         uint32_t sections,
                         zmesh_profile_kv_t *kv,
                         size_t kv_max,
                         size_t *count);

#endif
