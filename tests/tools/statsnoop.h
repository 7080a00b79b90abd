/* SPDX-License-Identifier: MIT */
/* statsnoop.h - the record statsnoop's BPF side sends (libbpf-tools' layout). */
#ifndef STATSNOOP_H
#define STATSNOOP_H

#define NAME_MAX 255
#define TASK_COMM_LEN 16

struct event {
	unsigned long long ts_ns;
	int pid;
	int ret;
	char comm[TASK_COMM_LEN];
	char pathname[NAME_MAX];
};

#endif
