/* SPDX-License-Identifier: MIT */
/*
 * `bpfx map list | dump ID | lookup ID KEY | update ID KEY VALUE [FLAG] |
 *  delete ID KEY` with `--json` for machine-readable output.
 * Keys and values are hex bytes ("01 00 00 00") or one integer ("0x1",
 * "42": little-endian, the size of the key/value).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "emu/emu.h"
#include "shm/shm.h"

static bool json;

static bool percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static size_t value_size(const struct bpf_map_info *info)
{
	if (percpu(info->type))
		return (size_t)((info->value_size + 7) & ~7u) * shm_ncpus();
	return info->value_size;
}

static int open_map(const char *arg, struct bpf_map_info *info)
{
	uint32_t len = sizeof(*info);
	char *end;
	unsigned long id = strtoul(arg, &end, 0);
	int fd;

	if (*end || !id) {
		fprintf(stderr, "bpfx map: '%s' is not a map id\n", arg);
		return -1;
	}
	fd = bpf_map_get_fd_by_id((uint32_t)id);
	if (fd < 0) {
		fprintf(stderr, "bpfx map: no map %lu: %s\n", id, strerror(errno));
		return -1;
	}
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		fprintf(stderr, "bpfx map: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void json_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	printf("[");
	for (i = 0; i < n; i++)
		printf("%s\"0x%02x\"", i ? "," : "", b[i]);
	printf("]");
}

/* Integers of 1, 2, 4, 8 bytes also print as decimal. */
static void print_bytes(const void *p, size_t n)
{
	uint64_t v = 0;

	cli_print_hex(p, n);
	if (n == 1 || n == 2 || n == 4 || n == 8) {
		memcpy(&v, p, n);
		printf("  (%llu)", (unsigned long long)v);
	}
}

static void print_entry(const struct bpf_map_info *info, const void *key,
			const void *val, bool first)
{
	size_t vs = value_size(info);

	if (json) {
		printf("%s{\"key\":", first ? "" : ",");
		json_bytes(key, info->key_size);
		printf(",\"value\":");
		json_bytes(val, vs);
		printf("}");
		return;
	}
	printf("key: ");
	print_bytes(key, info->key_size);
	if (percpu(info->type)) {
		size_t stride = (info->value_size + 7) & ~7u;
		unsigned c;

		printf("\n");
		for (c = 0; c < shm_ncpus(); c++) {
			printf("  cpu%u: ", c);
			print_bytes((const char *)val + c * stride, info->value_size);
			printf("\n");
		}
		return;
	}
	printf("  value: ");
	print_bytes(val, vs);
	printf("\n");
}

static int map_list(void)
{
	uint32_t id = 0;
	bool first = true;

	if (json)
		printf("[");
	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			if (json)
				printf("%s{\"id\":%u,\"type\":\"%s\",\"name\":\"%s\",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"flags\":%u}",
				       first ? "" : ",", info.id,
				       cli_map_type_name(info.type), info.name,
				       info.key_size, info.value_size,
				       info.max_entries, info.map_flags);
			else
				printf("%u: %s  name %s  key %uB  value %uB  max_entries %u  flags 0x%x\n",
				       info.id, cli_map_type_name(info.type),
				       info.name[0] ? info.name : "-", info.key_size,
				       info.value_size, info.max_entries,
				       info.map_flags);
			first = false;
		}
		close(fd);
	}
	if (json)
		printf("]\n");
	else if (first)
		printf("no maps in session '%s'\n", cli_session_name());
	return 0;
}

static int map_dump(const char *arg)
{
	struct bpf_map_info info;
	void *key = NULL, *next = NULL, *val = NULL;
	bool first = true, have = false;
	int fd = open_map(arg, &info), n = 0;

	if (fd < 0)
		return 1;
	key = calloc(1, info.key_size + 1);
	next = calloc(1, info.key_size + 1);
	val = calloc(1, value_size(&info) + 1);
	if (!key || !next || !val)
		goto out;
	if (json)
		printf("[");
	if (info.type == BPF_MAP_TYPE_RINGBUF || info.type == BPF_MAP_TYPE_QUEUE ||
	    info.type == BPF_MAP_TYPE_STACK) {
		if (!json)
			printf("map %u (%s) has no keys to dump\n", info.id,
			       cli_map_type_name(info.type));
		goto done;
	}
	while (!bpf_map_get_next_key(fd, have ? key : NULL, next)) {
		memcpy(key, next, info.key_size);
		have = true;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		print_entry(&info, key, val, first);
		first = false;
		n++;
	}
	if (!json)
		printf("Found %d element%s\n", n, n == 1 ? "" : "s");
done:
	if (json)
		printf("]\n");
out:
	free(key);
	free(next);
	free(val);
	close(fd);
	return 0;
}

static int map_elem(const char *op, int argc, char **argv)
{
	struct bpf_map_info info;
	void *key = NULL, *val = NULL;
	int fd, err = 0, ret = 1;
	uint64_t flags = BPF_ANY;

	if (argc < 2 || (!strcmp(op, "update") && argc < 3)) {
		fprintf(stderr, "usage: bpfx map %s ID KEY%s\n", op,
			strcmp(op, "update") ? "" : " VALUE [any|noexist|exist]");
		return 2;
	}
	fd = open_map(argv[0], &info);
	if (fd < 0)
		return 1;
	key = calloc(1, info.key_size + 1);
	val = calloc(1, value_size(&info) + 1);
	if (!key || !val)
		goto out;
	if (cli_parse_bytes(argv[1], key, info.key_size)) {
		fprintf(stderr, "bpfx map: key must be %u bytes\n", info.key_size);
		goto out;
	}
	if (!strcmp(op, "lookup")) {
		err = bpf_map_lookup_elem(fd, key, val);
		if (!err) {
			print_entry(&info, key, val, true);
			if (json)
				printf("\n");
		}
	} else if (!strcmp(op, "update")) {
		if (cli_parse_bytes(argv[2], val, info.value_size)) {
			fprintf(stderr, "bpfx map: value must be %u bytes\n",
				info.value_size);
			goto out;
		}
		if (argc > 3)
			flags = !strcmp(argv[3], "noexist") ? BPF_NOEXIST
				: !strcmp(argv[3], "exist") ? BPF_EXIST : BPF_ANY;
		err = bpf_map_update_elem(fd, key, val, flags);
	} else {
		err = bpf_map_delete_elem(fd, key);
	}
	if (err)
		fprintf(stderr, "bpfx map %s: %s\n", op, strerror(errno));
	else
		ret = 0;
out:
	free(key);
	free(val);
	close(fd);
	return ret;
}

int cmd_map(int argc, char **argv)
{
	int i, j = 0;

	for (i = 0; i < argc; i++) { /* strip --json anywhere */
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			argv[j++] = argv[i];
	}
	argc = j;
	if (argc < 2 || !strcmp(argv[1], "list"))
		return map_list();
	if (!strcmp(argv[1], "dump") && argc == 3)
		return map_dump(argv[2]);
	if (!strcmp(argv[1], "lookup") || !strcmp(argv[1], "update") ||
	    !strcmp(argv[1], "delete"))
		return map_elem(argv[1], argc - 2, argv + 2);
	fprintf(stderr, "usage: bpfx map list | dump ID | lookup ID KEY | update ID KEY VALUE | delete ID KEY  [--json]\n");
	return 2;
}
