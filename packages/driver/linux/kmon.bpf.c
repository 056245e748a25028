// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * kmon's Linux driver: one BPF CO-RE object, one program per hook, every
 * record written to one BPF ring buffer in the layout of kmon_abi.h.
 *
 * Layout (one translation unit, Falco modern_bpf style): maps.h holds every
 * map; helpers/ are layered base -> extract -> store; programs/ has one
 * program per hook, grouped by event family.
 *
 * Invariant the tests pin: every record a program decides to emit counts in
 * kmon_stats[cpu].attempted (its header seq is the value before the
 * increment) and then either lands in the ring or counts in dropped[kind].
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kmon_config.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "maps.h"
#include "helpers/base.h"
#include "helpers/filter.h"
#include "helpers/path.h"
#include "helpers/extract.h"
#include "helpers/store.h"
#include "helpers/file_filter.h"
#include "helpers/syscall.h"
#include "programs/process.h"
#include "programs/exec_failed.h"
#include "programs/network.h"
#include "programs/file.h"
#include "programs/synth.h"
#include "programs/iter.h"
