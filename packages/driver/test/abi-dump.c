/*
 * Prints the record ABI as the C compiler lays it out, as JSON:
 *   {"constants": {...}, "structs": {"kmon_exec": {"size": 104, "fields": {"ppid": [64, 4], ...}}}}
 * @kmon/core's abi.test.ts compiles and runs this and compares every entry
 * with its own layout table, so the decoder and the drivers cannot drift.
 */
#include <stddef.h>
#include <stdio.h>
#include "../include/kmon_abi.h"

static int first;

#define BEGIN(type)                                                        \
	printf("%s\"%s\": {\"size\": %zu, \"fields\": {", first ? "" : ", ", #type, \
	       sizeof(struct type));                                           \
	first = 0;                                                             \
	{                                                                      \
		int first_field = 1;                                           \
		typedef struct type kmon_dumped_t;
#define FIELD(name)                                                             \
		printf("%s\"%s\": [%zu, %zu]", first_field ? "" : ", ", #name,    \
		       offsetof(kmon_dumped_t, name), sizeof(((kmon_dumped_t *)0)->name)); \
		first_field = 0;
#define END() \
	}         \
	printf("}}");
#define CONST(name, last) printf("\"%s\": %llu%s", #name, (unsigned long long)(name), last ? "" : ", ");

int main(void)
{
	printf("{\"constants\": {");
	CONST(KMON_ABI_VERSION, 0) CONST(KMON_RECORD_ALIGN, 0) CONST(KMON_COMM_LEN, 0)
	CONST(KMON_PATH_MAX, 0) CONST(KMON_ARGV_MAX, 0) CONST(KMON_ARGV_DEFAULT, 0)
	CONST(KMON_PAYLOAD_MAX, 0) CONST(KMON_KEY_MAX, 0) CONST(KMON_RECORD_MAX, 0)
	CONST(KMON_KIND_EXEC, 0) CONST(KMON_KIND_EXIT, 0) CONST(KMON_KIND_FORK, 0)
	CONST(KMON_KIND_SYNTH, 0) CONST(KMON_KIND_IMAGE_LOAD, 0) CONST(KMON_KIND_REGISTRY_SET, 0)
	CONST(KMON_KIND_COUNT, 0) CONST(KMON_F_TRUNCATED_MASK, 0) CONST(KMON_F_THREAD, 0)
	CONST(KMON_F_CORE_DUMPED, 1)
	printf("}, \"structs\": {");
	first = 1;
	BEGIN(kmon_header) FIELD(abi_version) FIELD(kind) FIELD(size) FIELD(flags) FIELD(cpu)
		FIELD(seq) FIELD(ts_ns) FIELD(tgid) FIELD(tid) FIELD(cgroup_id) END()
	BEGIN(kmon_exec) FIELD(start_ns) FIELD(parent_start_ns) FIELD(ppid) FIELD(uid) FIELD(gid)
		FIELD(argc) FIELD(comm) FIELD(path_len) FIELD(argv_len) END()
	BEGIN(kmon_exit) FIELD(start_ns) FIELD(exit_code) FIELD(signal) FIELD(comm) END()
	BEGIN(kmon_fork) FIELD(parent_start_ns) FIELD(child_start_ns) FIELD(child_tgid)
		FIELD(child_tid) FIELD(comm) END()
	BEGIN(kmon_synth) FIELD(value) FIELD(payload_len) END()
	BEGIN(kmon_image_load) FIELD(image_base) FIELD(image_size) FIELD(path_len) END()
	BEGIN(kmon_registry_set) FIELD(value_type) FIELD(data_size) FIELD(key_len)
		FIELD(value_name_len) END()
	BEGIN(kmon_cpu_stats) FIELD(attempted) FIELD(dropped) FIELD(truncated) END()
	printf("}}\n");
	return 0;
}
