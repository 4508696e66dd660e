/*
 * operator.h - the operator's subcommands of pgfleetd that read or move
 * billing state without the public API:
 *
 *   pgfleetd --data-dir DIR clock-advance SECONDS   move the business clock
 *                                                   forward (core/clockfile.h)
 *   pgfleetd --data-dir DIR clock-show              the offset and business now
 *   pgfleetd --data-dir DIR billing-show [ID]       every order and bill (of
 *                                                   instance ID), oldest first
 *
 * Each prints one JSON document on stdout. They work while the daemon runs:
 * the daemon picks up a moved clock on its next supervisor pass.
 */
#ifndef PGFLEET_DAEMON_OPERATOR_H
#define PGFLEET_DAEMON_OPERATOR_H

#include "core/err.h"
#include "store/store.h"

/* 1 when `name` is one of the subcommands above; *needs_arg: 1 required,
 * 2 optional, 0 none. */
int operator_is_command(const char *name, int *needs_arg);

/* Run subcommand `name` with `arg` (NULL when none). */
int operator_run(const char *name, const char *arg, const char *data_dir, struct store *s, struct err *e);

#endif
