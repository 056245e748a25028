/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Stand-in driver for test/fuzz.c where libFuzzer's runtime is missing:
 * seeded pseudo-random inputs for a bounded time, under ASan/UBSan.
 * Usage: fuzz-loop SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t state = 0x6b6d6f6e2d667a7aull; /* fixed seed: a failure reproduces */

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(int argc, char **argv)
{
	static uint8_t buf[16384];
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 20);
	unsigned long inputs = 0;

	while (time(NULL) < end) {
		size_t len = next() % sizeof(buf), i;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)next();
		LLVMFuzzerTestOneInput(buf, len);
		inputs++;
	}
	printf("fuzz loop: %lu inputs, no crash\n", inputs);
	return 0;
}
