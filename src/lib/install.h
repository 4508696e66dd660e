/*
 * install.h - put a file the daemon ships (a helper program, an extension
 * module) under its data directory, where the unprivileged servers can
 * read it whatever the permissions of the build tree.
 */
#ifndef PGFLEET_LIB_INSTALL_H
#define PGFLEET_LIB_INSTALL_H

#include <sys/types.h>

#include "core/err.h"

#define INSTALL_MAX_BYTES (64u * 1024u * 1024u)

/* Copy `src` to `dst` with `mode` (write to a temp file, fsync, rename) unless
 * dst already has the same bytes. The directory of dst must exist. */
int install_file(const char *src, const char *dst, mode_t mode, struct err *e);

/* The directory of the running executable into out. */
int install_exe_dir(char *out, size_t len, struct err *e);

#endif
