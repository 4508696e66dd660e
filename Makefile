# pgfleet build. One entry point: `make` builds build/pgfleetd and build/pgfleet.
#   make            release build (-O2)
#   make test       unit tests (ASan+UBSan build) + end-to-end tests
#   make unit       unit tests only, under ASan/UBSan
#   make e2e        end-to-end tests (node --test) against build/pgfleetd
#   make fuzz       libFuzzer target, a short run over tests/fuzz/corpus
#   make gen        regenerate src/*/*.gen.[ch] from api/pgfleet-api.json
#   make lint       banned-function check
# Sources are found by wildcard: a new module needs no Makefile edit.

CC      ?= cc
PKGS    := libmicrohttpd jansson openssl sqlite3 libevent libcurl libpq zlib
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Isrc \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I$(shell pg_config --includedir 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpq -lpthread -lm
CFLAGS  ?= -O2 -g
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(sort $(wildcard src/core/*.c src/lib/*.c src/api/*.c src/store/*.c src/task/*.c src/pg/*.c src/proxy/*.c))
D_SRC   := $(wildcard src/daemon/*.c)
A_SRC   := $(wildcard src/archiver/*.c)
C_SRC   := $(wildcard src/cli/*.c)
UT_SRC  := $(wildcard tests/unit/test_*.c)

B       := build
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
SLIB_OBJ:= $(LIB_SRC:%.c=$(B)/san/%.o)
UT_BIN  := $(UT_SRC:tests/unit/%.c=$(B)/unit/%)

all: $(B)/pgfleetd $(B)/pgfleet $(B)/pgfleet_guard.so $(B)/pgfleet-archive

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) -MMD -MP -c $< -o $@

$(B)/libpgfleet.a: $(LIB_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/libpgfleet-san.a: $(SLIB_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/pgfleetd: $(D_SRC:%.c=$(B)/obj/%.o) $(B)/libpgfleet.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# The extension module loaded into every managed server (src/pgext), built
# against PostgreSQL's server headers with their own flags.
PG_SERVER_INC := $(shell pg_config --includedir-server 2>/dev/null)
$(B)/pgfleet_guard.so: src/pgext/pgfleet_guard.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -fPIC -shared -Wall -Werror -I$(PG_SERVER_INC) -o $@ $<

$(B)/pgfleetd-san: $(D_SRC:%.c=$(B)/san/%.o) $(B)/libpgfleet-san.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

$(B)/pgfleet: $(C_SRC:%.c=$(B)/obj/%.o) $(B)/libpgfleet.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# The WAL archive/restore command the nodes run (src/archiver, see pgbackup.h).
$(B)/pgfleet-archive: $(B)/obj/src/archiver/main.o $(B)/libpgfleet.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/unit/%: tests/unit/%.c $(B)/libpgfleet-san.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) -Itests/unit -o $@ $^ $(LIBS) -lcmocka

unit: $(UT_BIN)
	@set -e; for t in $(UT_BIN); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

e2e: all $(B)/pgfleetd-san
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && node --test --test-concurrency=1 --test-timeout=300000

FUZZ_CC ?= clang
$(B)/fuzz_request: tests/fuzz/fuzz_request.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_BASE) -Wno-strict-prototypes -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz: $(B)/fuzz_request
	@mkdir -p $(B)/fuzz-corpus
	$(B)/fuzz_request -max_total_time=$${FUZZ_SECONDS:-20} -timeout=5 -rss_limit_mb=2048 $(B)/fuzz-corpus tests/fuzz/corpus

gen:
	python3 tools/gen_api.py api/pgfleet-api.json

lint:
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|system|popen|gets)\s*\(' $(LIB_SRC) $(D_SRC) $(C_SRC) $(A_SRC) \
		|| (echo "lint: banned function (see docs/ARCHITECTURE.md)"; exit 1)

test: lint unit e2e

clean:
	rm -rf $(B)

.PHONY: all unit e2e fuzz gen lint test clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Regenerating from the committed data file must change nothing.
gen-check: gen
	git diff --exit-code -- src/core/errcodes.gen.h src/api/actions.gen.c docs/ERRORS.md
.PHONY: gen-check
