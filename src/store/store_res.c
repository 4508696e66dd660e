/*
 * store_res.c - resources as JSON documents (table resources) and the
 * private-address pool (table addresses).
 *
 * A resource row keeps the fields that are looked up or constrained in
 * columns (kind, id, tenant, status) and everything else in `doc`. Updates
 * are optimistic: they name the rev they read, so two writers never lose
 * each other's change silently.
 */
#include "store/store_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define STORE_RES_COLS "kind, id, tenant_id, status, doc, created, updated, rev"

static int64_t store_now(void)
{
	return (int64_t)time(NULL);
}

/* Fill `r` from a row selected with STORE_RES_COLS. */
static int store_res_read_row(struct store *s, sqlite3_stmt *st, struct store_res *r, struct err *e)
{
	json_error_t je;

	memset(r, 0, sizeof(*r));
	store_column_copy(st, 0, r->kind, sizeof(r->kind));
	store_column_copy(st, 1, r->id, sizeof(r->id));
	r->tenant_id = sqlite3_column_int64(st, 2);
	store_column_copy(st, 3, r->status, sizeof(r->status));
	r->doc = json_loads((const char *)sqlite3_column_text(st, 4), 0, &je);
	r->created = sqlite3_column_int64(st, 5);
	r->updated = sqlite3_column_int64(st, 6);
	r->rev = sqlite3_column_int64(st, 7);
	if (r->doc == NULL) {
		log_error(STORE_LOG_CTX, "resource %s/%s: bad document: %s", r->kind, r->id, je.text);
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	return 0;
}

static char *store_doc_text(const struct store_res *r, struct err *e)
{
	char *text = r->doc ? json_dumps(r->doc, JSON_COMPACT) : strdup("{}");

	if (text == NULL)
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	return text;
}

int store_res_insert(struct store *s, const struct store_res *r, struct err *e)
{
	char *doc = store_doc_text(r, e);
	int64_t now = store_now();
	int rc = -1;

	if (doc == NULL)
		return -1;
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_RES_INSERT,
				      "INSERT INTO resources (" STORE_RES_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?6,1)", e);
	if (st != NULL) {
		store_bind_text(st, 1, r->kind, sizeof(r->kind));
		store_bind_text(st, 2, r->id, sizeof(r->id));
		sqlite3_bind_int64(st, 3, r->tenant_id);
		store_bind_text(st, 4, r->status, sizeof(r->status));
		sqlite3_bind_text(st, 5, doc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		int src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			rc = 0;
		else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = err_set(e, ERR_RESOURCE_IN_USE, "%s %s already exists", r->kind, r->id);
		else
			rc = store_fail(s, "insert resource", e);
		sqlite3_reset(st);
	}
	store_unlock(s);
	free(doc);
	return rc;
}

int store_res_get(struct store *s, const char *kind, const char *id, int64_t tenant_id,
		  struct store_res *out, struct err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_RES_GET_TENANT,
				      "SELECT " STORE_RES_COLS " FROM resources WHERE kind = ?1 AND id = ?2"
				      " AND (?3 = 0 OR tenant_id = ?3)", e);
	if (st == NULL) {
		store_unlock(s);
		return -1;
	}
	store_bind_text(st, 1, kind, STORE_KIND_MAX);
	store_bind_text(st, 2, id, STORE_ID_MAX);
	sqlite3_bind_int64(st, 3, tenant_id);
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = store_res_read_row(s, st, out, e);
	else if (src == SQLITE_DONE)
		rc = err_set(e, ERR_RESOURCE_NOT_FOUND, "%s %.64s not found", kind, id);
	else
		rc = store_fail(s, "get resource", e);
	sqlite3_reset(st);
	store_unlock(s);
	return rc;
}

/* Grow *list by one slot; returns the new slot or NULL. */
static struct store_res *store_res_push(struct store_res **list, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct store_res *nl = realloc(*list, nc * sizeof(**list));
		if (nl == NULL)
			return NULL;
		*list = nl;
		*cap = nc;
	}
	return &(*list)[(*n)++];
}

int store_res_list(struct store *s, const char *kind, int64_t tenant_id, struct store_res **out,
		   size_t *n, struct err *e)
{
	size_t cap = 0;
	int src, rc = 0;

	*out = NULL;
	*n = 0;
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_RES_LIST,
				      "SELECT " STORE_RES_COLS " FROM resources WHERE kind = ?1"
				      " AND (?2 = 0 OR tenant_id = ?2) ORDER BY created, id", e);
	if (st == NULL) {
		store_unlock(s);
		return -1;
	}
	store_bind_text(st, 1, kind, STORE_KIND_MAX);
	sqlite3_bind_int64(st, 2, tenant_id);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_res *slot = store_res_push(out, n, &cap);
		if (slot == NULL)
			rc = err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		else if (store_res_read_row(s, st, slot, e) != 0)
			rc = -1;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = store_fail(s, "list resources", e);
	sqlite3_reset(st);
	store_unlock(s);
	if (rc != 0) {
		store_res_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int store_res_update(struct store *s, struct store_res *r, struct err *e)
{
	char *doc = store_doc_text(r, e);
	int64_t now = store_now();
	int rc = -1;

	if (doc == NULL)
		return -1;
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_RES_UPDATE,
				      "UPDATE resources SET status = ?3, doc = ?4, updated = ?5, rev = rev + 1"
				      " WHERE kind = ?1 AND id = ?2 AND rev = ?6", e);
	if (st != NULL) {
		store_bind_text(st, 1, r->kind, sizeof(r->kind));
		store_bind_text(st, 2, r->id, sizeof(r->id));
		store_bind_text(st, 3, r->status, sizeof(r->status));
		sqlite3_bind_text(st, 4, doc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, r->rev);
		rc = store_step_done(s, st, "update resource", e);
		if (rc == 0 && sqlite3_changes(s->db) == 0)
			rc = err_set(e, ERR_FAILED_OPERATION, "%s %s was changed concurrently; retry", r->kind, r->id);
		if (rc == 0) {
			r->rev++;
			r->updated = now;
		}
	}
	store_unlock(s);
	free(doc);
	return rc;
}

int store_res_delete(struct store *s, const char *kind, const char *id, struct err *e)
{
	int rc = -1;

	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_RES_DELETE,
				      "DELETE FROM resources WHERE kind = ?1 AND id = ?2", e);
	if (st != NULL) {
		store_bind_text(st, 1, kind, STORE_KIND_MAX);
		store_bind_text(st, 2, id, STORE_ID_MAX);
		rc = store_step_done(s, st, "delete resource", e);
	}
	store_unlock(s);
	return rc;
}

int store_res_modify(struct store *s, const char *kind, const char *id, int64_t tenant_id,
		     int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg,
		     struct err *e)
{
	struct store_res r;

	if (store_txn_begin(s, e) != 0)
		return -1;
	if (store_res_get(s, kind, id, tenant_id, &r, e) != 0) {
		store_txn_rollback(s);
		return -1;
	}
	if (fn(&r, arg, e) != 0 || store_res_update(s, &r, e) != 0) {
		store_res_free(&r);
		store_txn_rollback(s);
		return -1;
	}
	store_res_free(&r);
	return store_txn_commit(s, e);
}

void store_res_free(struct store_res *r)
{
	if (r == NULL)
		return;
	json_decref(r->doc);
	r->doc = NULL;
}

void store_res_list_free(struct store_res *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_res_free(&list[i]);
	free(list);
}

/* ---- addresses ---- */

/* The address `owner` already holds, if any, into out. 1 found, 0 not, -1 error. */
static int store_addr_owned(struct store *s, const char *owner, char out[16], struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_ADDR_OWNER,
				      "SELECT addr FROM addresses WHERE owner = ?1 LIMIT 1", e);
	int src;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, owner, STORE_ID_MAX);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		store_column_copy(st, 0, out, 16);
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return store_fail(s, "address owner", e);
	return src == SQLITE_ROW;
}

/* 1 when `addr` is taken, 0 when free, -1 on error. */
static int store_addr_taken(struct store *s, const char *addr, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_ADDR_USED, "SELECT 1 FROM addresses WHERE addr = ?1", e);
	int src;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, addr, 16);
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return store_fail(s, "address lookup", e);
	return src == SQLITE_ROW;
}

static int store_addr_take(struct store *s, const char *addr, const char *owner, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_ADDR_INSERT,
				      "INSERT INTO addresses (addr, owner) VALUES (?1, ?2)", e);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, addr, 16);
	store_bind_text(st, 2, owner, STORE_ID_MAX);
	return store_step_done(s, st, "take address", e);
}

/* Scan [lo, hi] for the first free address and give it to owner. */
static int store_addr_scan(struct store *s, uint32_t lo, uint32_t hi, const char *owner, char out[16],
			   struct err *e)
{
	for (uint32_t a = lo; a <= hi && a >= lo; a++) {
		struct in_addr ia = { .s_addr = htonl(a) };
		uint8_t last = (uint8_t)(a & 0xff);
		if (last == 0 || last == 255)
			continue; /* network/broadcast-looking addresses confuse people */
		inet_ntop(AF_INET, &ia, out, 16);
		int taken = store_addr_taken(s, out, e);
		if (taken < 0)
			return -1;
		if (!taken)
			return store_addr_take(s, out, owner, e);
	}
	return err_set(e, ERR_RESOURCE_INSUFFICIENT, "no private address is free");
}

int store_addr_alloc(struct store *s, const char *first, const char *last, const char *owner,
		     char out[16], struct err *e)
{
	struct in_addr a, b;
	int rc;

	if (inet_pton(AF_INET, first, &a) != 1 || inet_pton(AF_INET, last, &b) != 1 ||
	    ntohl(a.s_addr) > ntohl(b.s_addr))
		return err_set(e, ERR_INTERNAL_ERROR, "bad address range %s-%s", first, last);
	if (store_txn_begin(s, e) != 0)
		return -1;
	rc = store_addr_owned(s, owner, out, e);
	if (rc == 0)
		rc = store_addr_scan(s, ntohl(a.s_addr), ntohl(b.s_addr), owner, out, e);
	else if (rc == 1)
		rc = 0;
	if (rc == 0)
		return store_txn_commit(s, e);
	store_txn_rollback(s);
	return -1;
}

int store_addr_release(struct store *s, const char *owner, struct err *e)
{
	int rc = -1;

	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_ADDR_FREE, "DELETE FROM addresses WHERE owner = ?1", e);
	if (st != NULL) {
		store_bind_text(st, 1, owner, STORE_ID_MAX);
		rc = store_step_done(s, st, "release address", e);
	}
	store_unlock(s);
	return rc;
}
