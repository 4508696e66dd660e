/*
 * ratelimit.c - see ratelimit.h.
 */
#include "lib/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

struct rl_slot {
	uint64_t key;     /* 0: empty */
	int64_t second;   /* window the count belongs to */
	int count;
};

struct rl {
	pthread_mutex_t lock;
	struct rl_slot slots[RL_SLOTS];
};

struct rl *rl_create(void)
{
	struct rl *rl = calloc(1, sizeof(*rl));

	if (rl != NULL)
		pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void rl_destroy(struct rl *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* splitmix64 finaliser: spreads sequential tenant/action keys. */
static uint64_t rl_hash(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The slot holding `key`, else a reusable one (empty or stale), else NULL. */
static struct rl_slot *rl_find(struct rl *rl, uint64_t key, int64_t second)
{
	uint64_t h = rl_hash(key);
	struct rl_slot *spare = NULL;

	for (int i = 0; i < RL_PROBES; i++) {
		struct rl_slot *s = &rl->slots[(h + (uint64_t)i) % RL_SLOTS];
		if (s->key == key)
			return s;
		if (spare == NULL && (s->key == 0 || s->second != second))
			spare = s;
	}
	if (spare != NULL) {
		spare->key = key;
		spare->second = second;
		spare->count = 0;
	}
	return spare;
}

int rl_admit(struct rl *rl, uint64_t key, int limit, int64_t now_ms)
{
	int64_t second = now_ms / 1000;
	int ok = 1;

	if (limit <= 0)
		return 1;
	key |= 1ULL << 63; /* never 0, the empty marker */
	pthread_mutex_lock(&rl->lock);
	struct rl_slot *s = rl_find(rl, key, second);
	if (s != NULL) {
		if (s->second != second) {
			s->second = second;
			s->count = 0;
		}
		ok = s->count < limit;
		if (ok)
			s->count++;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
