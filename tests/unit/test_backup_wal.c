/* test_backup_wal.c - the WAL archive (pgbackup_wal.c) and the node settings
 * file of pgbackup.c: names, LSNs, push/fetch round trips, the
 * never-overwrite rule, corruption detection, listing, copying. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg/pgbackup.h"

static char dir[64];
static char arch[96];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pgfleet-test-bkwal.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(arch, sizeof(arch), "%s/arch", dir);
	assert_int_equal(mkdir(arch, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	struct err e;

	assert_int_equal(pgbackup_remove_tree(dir, &e), 0);
	return 0;
}

/* A file of `n` bytes: a repeating pattern seeded by `seed`. */
static void write_file(const char *path, size_t n, unsigned seed)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 31 + seed * 7 + (i >> 10)) & 0xff), f);
	fclose(f);
}

static int same_files(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = 1;

	assert_non_null(fa);
	assert_non_null(fb);
	do {
		ca = fgetc(fa);
		cb = fgetc(fb);
		same &= ca == cb;
	} while (ca != EOF && cb != EOF && same);
	fclose(fa);
	fclose(fb);
	return same;
}

static void test_names(void **state)
{
	enum pgbackup_wal_kind k;
	uint32_t tli;
	uint64_t seg;
	char name[25];

	assert_int_equal(pgbackup_wal_parse("000000010000000000000003", &k, &tli, &seg), 0);
	assert_int_equal(k, PGBACKUP_WAL_SEGMENT);
	assert_int_equal(tli, 1);
	assert_int_equal(seg, 3);
	assert_int_equal(pgbackup_wal_parse("0000000200000001000000FF", &k, &tli, &seg), 0);
	assert_int_equal(tli, 2);
	assert_int_equal(seg, 256 + 255);
	assert_int_equal(pgbackup_wal_parse("000000020000000100000002.partial", &k, NULL, NULL), 0);
	assert_int_equal(k, PGBACKUP_WAL_PARTIAL);
	assert_int_equal(pgbackup_wal_parse("000000010000000000000002.00000028.backup", &k, NULL, &seg), 0);
	assert_int_equal(k, PGBACKUP_WAL_BACKUP);
	assert_int_equal(seg, 2);
	assert_int_equal(pgbackup_wal_parse("00000002.history", &k, &tli, &seg), 0);
	assert_int_equal(k, PGBACKUP_WAL_HISTORY);
	assert_int_equal(tli, 2);
	/* lower case, wrong lengths, path tricks, trailing junk */
	assert_int_equal(pgbackup_wal_parse("00000001000000000000000a", NULL, NULL, NULL), -1);
	assert_int_equal(pgbackup_wal_parse("00000001000000000000000", NULL, NULL, NULL), -1);
	assert_int_equal(pgbackup_wal_parse("../000000010000000000000003", NULL, NULL, NULL), -1);
	assert_int_equal(pgbackup_wal_parse("000000010000000000000003.gz", NULL, NULL, NULL), -1);
	assert_int_equal(pgbackup_wal_parse("000000010000000000000003/x", NULL, NULL, NULL), -1);
	assert_int_equal(pgbackup_wal_parse("", NULL, NULL, NULL), -1);
	pgbackup_seg_name(1, 256 + 255, name);
	assert_string_equal(name, "0000000100000001000000FF");
}

static void test_lsn(void **state)
{
	uint64_t lsn;

	assert_int_equal(pgbackup_lsn_parse("0/2000028", &lsn), 0);
	assert_int_equal(lsn, 0x2000028);
	assert_int_equal(pgbackup_lsn_segno(lsn), 2);
	assert_int_equal(pgbackup_lsn_parse("1/ff000000", &lsn), 0);
	assert_int_equal(lsn, 0x1ff000000ull);
	assert_int_equal(pgbackup_lsn_segno(lsn), 256 + 255);
	assert_int_equal(pgbackup_lsn_parse("12345", &lsn), -1);
	assert_int_equal(pgbackup_lsn_parse("/1", &lsn), -1);
	assert_int_equal(pgbackup_lsn_parse("1/", &lsn), -1);
	assert_int_equal(pgbackup_lsn_parse("123456789/1", &lsn), -1);
	assert_int_equal(pgbackup_lsn_parse("0/xyz", &lsn), -1);
}

static void test_push_fetch(void **state)
{
	char src[128], out[128], gz[160];
	const char *name = "000000010000000000000005";
	struct stat st;
	struct err e;

	snprintf(src, sizeof(src), "%s/seg", dir);
	snprintf(out, sizeof(out), "%s/restored", dir);
	snprintf(gz, sizeof(gz), "%s/%s.gz", arch, name);
	write_file(src, 3 * 1024 * 1024 + 17, 1);
	assert_int_equal(pgbackup_wal_push(src, name, arch, 1700000000, &e), 0);
	assert_int_equal(stat(gz, &st), 0);
	assert_true(st.st_size > 0 && st.st_size < 3 * 1024 * 1024);
	assert_int_equal(st.st_mtime, 1700000000);
	assert_int_equal(pgbackup_wal_fetch(arch, name, out, &e), 0);
	assert_true(same_files(src, out));
	/* the same content again is fine (archive_command repeated after a crash) */
	assert_int_equal(pgbackup_wal_push(src, name, arch, 1700000100, &e), 0);
	/* a different content under the same name is refused, the archive kept */
	write_file(src, 3 * 1024 * 1024 + 17, 2);
	assert_int_equal(pgbackup_wal_push(src, name, arch, 1700000200, &e), -1);
	assert_int_equal(e.code, ERR_FAILED_OPERATION);
	assert_int_equal(stat(gz, &st), 0);
	assert_int_equal(st.st_mtime, 1700000000);
	/* absent: the normal end of the archive */
	assert_int_equal(pgbackup_wal_fetch(arch, "000000010000000000000006", out, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	/* bad names never reach the file system */
	assert_int_equal(pgbackup_wal_push(src, "../../etc/passwd", arch, 0, &e), -1);
	assert_int_equal(pgbackup_wal_fetch(arch, "../seg", out, &e), -1);
	assert_int_equal(pgbackup_wal_fetch("relative/dir", name, out, &e), -1);
}

/* A damaged archive is detected by the gzip CRC / length and never restored. */
static void test_corruption(void **state)
{
	char src[128], out[128], gz[160];
	const char *name = "000000010000000000000007";
	struct stat st;
	struct err e;
	FILE *f;

	snprintf(src, sizeof(src), "%s/seg", dir);
	snprintf(out, sizeof(out), "%s/restored", dir);
	snprintf(gz, sizeof(gz), "%s/%s.gz", arch, name);
	write_file(src, 1024 * 1024, 3);
	assert_int_equal(pgbackup_wal_push(src, name, arch, 1700000000, &e), 0);
	assert_int_equal(stat(gz, &st), 0);
	f = fopen(gz, "r+b");
	assert_non_null(f);
	fseek(f, st.st_size - 6, SEEK_SET); /* inside the CRC-32 */
	fputc(0x5a, f);
	fclose(f);
	assert_int_equal(pgbackup_wal_fetch(arch, name, out, &e), -1);
	assert_int_equal(access(out, F_OK), -1); /* no half-restored file left */
	assert_int_equal(truncate(gz, st.st_size / 2), 0);
	assert_int_equal(pgbackup_wal_fetch(arch, name, out, &e), -1);
}

static void test_list_remove(void **state)
{
	static const char *const names[] = { "000000010000000000000009", "000000010000000000000008",
					     "00000002.history", "000000010000000000000008.00000028.backup" };
	char src[128], junk[160];
	struct pgbackup_wal_file *w;
	size_t n;
	struct err e;

	snprintf(src, sizeof(src), "%s/seg", dir);
	write_file(src, 1000, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pgbackup_wal_push(src, names[i], arch, 1700000000 + (int64_t)i, &e), 0);
	snprintf(junk, sizeof(junk), "%s/.000000010000000000000010.gz.tmp", arch);
	write_file(junk, 10, 5); /* a temporary file of a killed push is not listed */
	snprintf(junk, sizeof(junk), "%s/notes.gz", arch);
	write_file(junk, 10, 5);
	assert_int_equal(pgbackup_wal_list(arch, &w, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(w[0].name, "000000010000000000000008");
	assert_string_equal(w[1].name, "000000010000000000000008.00000028.backup");
	assert_int_equal(w[1].kind, PGBACKUP_WAL_BACKUP);
	assert_string_equal(w[2].name, "000000010000000000000009");
	assert_int_equal(w[2].segno, 9);
	assert_int_equal(w[2].mtime, 1700000000);
	assert_string_equal(w[3].name, "00000002.history");
	free(w);
	assert_int_equal(pgbackup_wal_remove(arch, "000000010000000000000009", &e), 0);
	assert_int_equal(pgbackup_wal_remove(arch, "000000010000000000000009", &e), 0);
	assert_int_equal(pgbackup_wal_list(arch, &w, &n, &e), 0);
	assert_int_equal(n, 3);
	free(w);
	snprintf(junk, sizeof(junk), "%s/none", dir);
	assert_int_equal(pgbackup_wal_list(junk, &w, &n, &e), 0); /* no archive yet: empty */
	assert_int_equal(n, 0);
}

static void test_copy(void **state)
{
	char src[128], dst[128];
	struct stat a, b;
	struct err e;

	snprintf(src, sizeof(src), "%s/big", dir);
	snprintf(dst, sizeof(dst), "%s/copy", dir);
	write_file(src, 5 * 1024 * 1024 + 3, 6);
	assert_int_equal(pgbackup_file_copy(src, dst, NULL, &e), 0);
	assert_true(same_files(src, dst));
	assert_int_equal(stat(src, &a), 0);
	assert_int_equal(stat(dst, &b), 0);
	assert_int_equal(a.st_mtime, b.st_mtime);
	assert_int_equal(b.st_mode & 0777, 0600);
	assert_int_equal(pgbackup_file_copy(src, dst, NULL, &e), 0); /* done already: kept */
	snprintf(src, sizeof(src), "%s/missing", dir);
	assert_int_equal(pgbackup_file_copy(src, dst, NULL, &e), -1);
}

static void test_settings(void **state)
{
	struct pgbackup_settings s = { .archiver = "/d/bin/pgfleet-archive", .wal_dir = "/d/backups/p-1/wal",
				       .mtime_offset = -3600, .archive_timeout_s = 60 };
	char buf[2048];
	struct err e;

	assert_true(pgbackup_conf_render(&s, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "archive_command = '/d/bin/pgfleet-archive push %p %f /d/backups/p-1/wal -3600'\n"));
	assert_non_null(strstr(buf, "archive_timeout = 60\n"));
	assert_null(strstr(buf, "restore_command"));
	s.restore_dir = "/d/backups/p-2/restore/wal";
	s.target_time = "2026-01-02 03:04:05+00";
	assert_true(pgbackup_conf_render(&s, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "restore_command = '/d/bin/pgfleet-archive fetch %f %p /d/backups/p-2/restore/wal'\n"));
	assert_non_null(strstr(buf, "recovery_target_time = '2026-01-02 03:04:05+00'\n"));
	assert_non_null(strstr(buf, "recovery_target_action = 'promote'\n"));
	assert_non_null(strstr(buf, "hot_standby = off\n"));
	s.target_time = NULL;
	s.target_immediate = true;
	assert_true(pgbackup_conf_render(&s, buf, sizeof(buf), &e) > 0);
	assert_non_null(strstr(buf, "recovery_target = 'immediate'\n"));
	/* nothing but validated paths and times reaches the file */
	s.wal_dir = "/d/x'; rm -rf /; '";
	assert_int_equal(pgbackup_conf_render(&s, buf, sizeof(buf), &e), -1);
	s.wal_dir = "/d/../etc";
	assert_int_equal(pgbackup_conf_render(&s, buf, sizeof(buf), &e), -1);
	s.wal_dir = "/d/w";
	s.target_time = "2026-01-02'; x";
	assert_int_equal(pgbackup_conf_render(&s, buf, sizeof(buf), &e), -1);
	assert_true(pgbackup_path_ok("/a/b-c_d.e"));
	assert_false(pgbackup_path_ok("a/b"));
	assert_false(pgbackup_path_ok("/a//b"));
	assert_false(pgbackup_path_ok("/a/./b"));
	assert_false(pgbackup_path_ok("/a/.."));
	assert_false(pgbackup_path_ok("/a b"));
}

static void test_compression_names(void **state)
{
	enum pgbackup_compression c;

	assert_int_equal(pgbackup_compression_parse("zstd", &c), 0);
	assert_string_equal(pgbackup_base_file(c), "base.tar.zst");
	assert_int_equal(pgbackup_compression_parse("none", &c), 0);
	assert_string_equal(pgbackup_base_file(c), "base.tar");
	assert_int_equal(pgbackup_compression_parse("bzip2", &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lsn),
		cmocka_unit_test_setup_teardown(test_push_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_compression_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
