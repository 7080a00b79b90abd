/* SPDX-License-Identifier: MIT */
/* rbtool.h - the record rbtool's BPF side sends, shared by both sides. */
#ifndef RBTOOL_H
#define RBTOOL_H

#include <linux/types.h>

struct rbtool_event {
	__u32 pid;
	__u32 pad;
	__s64 arg;
	__u64 tag;
};

#endif
