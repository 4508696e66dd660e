/*
 * clockfile.h - the operator's control of the business clock (core/clock.h).
 *
 * The clock's offset lives in DATA_DIR/clock_offset (mode 0600, one decimal
 * number of seconds). Only someone who can write the data directory can
 * move it - the operator, through `pgfleetd --data-dir DIR clock-advance
 * SECONDS`; the public API never can. The running daemon re-reads the file
 * on every supervisor pass (clockfile_load), so expiry, renewal, recycling,
 * hourly charging and switch windows follow the moved clock within one pass.
 * Business time only moves forward: an advance is 0..CLOCKFILE_ADVANCE_MAX.
 */
#ifndef PGFLEET_CORE_CLOCKFILE_H
#define PGFLEET_CORE_CLOCKFILE_H

#include <stdint.h>

#include "core/err.h"

#define CLOCKFILE_NAME "clock_offset"
#define CLOCKFILE_ADVANCE_MAX (10LL * 366 * 86400)   /* one advance: ten years */
#define CLOCKFILE_OFFSET_MAX  (100LL * 366 * 86400)  /* the total offset */

/* The stored offset (0 when the file does not exist). A malformed file:
 * ERR_INTERNAL_ERROR. */
int clockfile_read(const char *data_dir, int64_t *offset, struct err *e);

/* Add `seconds` to the stored offset (serialised by a lock file, written
 * atomically) and return the new offset. Out of range:
 * ERR_INVALID_PARAMETER_VALUE. */
int clockfile_advance(const char *data_dir, int64_t seconds, int64_t *offset, struct err *e);

/* Read the file and set the process's clock offset from it; logs a change.
 * On error the offset is left as it was (and -1 returned). */
int clockfile_load(const char *data_dir, struct err *e);

#endif
