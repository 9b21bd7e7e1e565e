package store

/*
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

// The SQLite that github.com/mattn/go-sqlite3 links into the binary; only
// the few functions the bulk reader calls are declared here.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
extern int sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs);
extern int sqlite3_close_v2(sqlite3 *db);
extern int sqlite3_busy_timeout(sqlite3 *db, int ms);
extern int sqlite3_exec(sqlite3 *db, const char *sql, void *callback, void *arg, char **errmsg);
extern int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **stmt, const char **tail);
extern int sqlite3_bind_int64(sqlite3_stmt *stmt, int i, long long v);
extern int sqlite3_bind_text(sqlite3_stmt *stmt, int i, const char *v, int n, void (*destructor)(void *));
extern int sqlite3_step(sqlite3_stmt *stmt);
extern int sqlite3_reset(sqlite3_stmt *stmt);
extern int sqlite3_finalize(sqlite3_stmt *stmt);
extern int sqlite3_column_count(sqlite3_stmt *stmt);
typedef struct sqlite3_value sqlite3_value;
extern sqlite3_value *sqlite3_column_value(sqlite3_stmt *stmt, int i);
extern int sqlite3_value_type(sqlite3_value *v);
extern long long sqlite3_value_int64(sqlite3_value *v);
extern double sqlite3_value_double(sqlite3_value *v);
extern const void *sqlite3_value_blob(sqlite3_value *v);
extern int sqlite3_value_bytes(sqlite3_value *v);
extern const char *sqlite3_errmsg(sqlite3 *db);
extern int sqlite3_extended_errcode(sqlite3 *db);
extern void sqlite3_interrupt(sqlite3 *db);
extern void sqlite3_free(void *p);

#define IRTUI_ROW 100
#define IRTUI_DONE 101
#define IRTUI_OPEN_READONLY 0x00000001
#define IRTUI_OPEN_URI 0x00000040
#define IRTUI_OPEN_NOMUTEX 0x00008000
#define IRTUI_TRANSIENT ((void (*)(void *))-1)

static int irtui_open(const char *uri, sqlite3 **db) {
	int rc = sqlite3_open_v2(uri, db, IRTUI_OPEN_READONLY | IRTUI_OPEN_URI | IRTUI_OPEN_NOMUTEX, 0);
	if (rc == 0) sqlite3_busy_timeout(*db, 10000);
	return rc;
}

static int irtui_bind_text(sqlite3_stmt *st, int i, const char *v, int n) {
	return sqlite3_bind_text(st, i, v, n, IRTUI_TRANSIENT);
}

// irtui_fill writes rows of st into buf until the next one does not fit,
// setting *last to the first column of the last row written, until the
// statement is done, or (stopcol >= 0) a row's column stopcol holds an
// integer above stopval. A row stepped to but not written stays current
// (*pending = 1) for the next call. It returns the number of rows written
// and sets *state: 0 buffer full, 1 done, 2 stopped at stopval, 3 the
// pending row alone does not fit (grow the buffer), or an SQLite error
// code above 3.
//
// Per column it writes one type byte and then 8 bytes (integer, real) or
// a 4-byte length and the bytes (text, blob). Columns are read as values
// (sqlite3_column_value), whose accessors are cheaper than the column_
// ones, and text as a blob: the bytes as they are, with no terminating
// NUL for SQLite to copy in.
static int irtui_fill(sqlite3_stmt *st, unsigned char *buf, long cap, long *used, int *pending,
		int stopcol, long long stopval, int *state, long long *last, long long *laststop) {
	int ncol = sqlite3_column_count(st), n = 0;
	long off = 0;
	*state = 0;
	for (;;) {
		if (!*pending) {
			int rc = sqlite3_step(st);
			if (rc == IRTUI_DONE) { *state = 1; break; }
			if (rc != IRTUI_ROW) { *state = rc < 4 ? 4 : rc; break; }
			*pending = 1;
		}
		if (stopcol >= 0) {
			sqlite3_value *v = sqlite3_column_value(st, stopcol);
			if (sqlite3_value_type(v) == 1 && sqlite3_value_int64(v) > stopval) { *state = 2; break; }
		}
		long start = off;
		int fits = 1;
		for (int i = 0; i < ncol; i++) {
			sqlite3_value *v = sqlite3_column_value(st, i);
			int t = sqlite3_value_type(v);
			if (t == 1 || t == 2) {
				if (off + 9 > cap) { fits = 0; break; }
				buf[off] = (unsigned char)t;
				if (t == 1) {
					long long x = sqlite3_value_int64(v);
					memcpy(buf + off + 1, &x, 8);
				} else {
					double x = sqlite3_value_double(v);
					memcpy(buf + off + 1, &x, 8);
				}
				off += 9;
			} else if (t == 3 || t == 4) {
				const void *p = sqlite3_value_blob(v);
				int l = sqlite3_value_bytes(v);
				if (off + 5 + (long)l > cap) { fits = 0; break; }
				buf[off] = (unsigned char)t;
				uint32_t l32 = (uint32_t)l;
				memcpy(buf + off + 1, &l32, 4);
				if (l > 0) memcpy(buf + off + 5, p, l);
				off += 5 + l;
			} else {
				if (off + 1 > cap) { fits = 0; break; }
				buf[off++] = (unsigned char)t;
			}
		}
		if (!fits) {
			off = start;
			*state = n == 0 ? 3 : 0;
			break;
		}
		*last = sqlite3_value_int64(sqlite3_column_value(st, 0));
		if (stopcol >= 0) {
			sqlite3_value *v = sqlite3_column_value(st, stopcol);
			if (sqlite3_value_type(v) == 1 && sqlite3_value_int64(v) > *laststop) *laststop = sqlite3_value_int64(v);
		}
		*pending = 0;
		n++;
	}
	*used = off;
	return n;
}

*/
import "C"

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"
)

// bulkDB is a read-only connection of its own, for reading whole tables
// fast: rows come out of SQLite many at a time, into a buffer, with one
// call into C per batch and no allocation per row. It is opened without
// SQLite's per-call mutex, so it must be used by one goroutine at a time.
type bulkDB struct {
	db   *C.sqlite3
	mu   sync.Mutex // guards db against Close during interrupt
	path string
}

// openBulk opens path for reading. immutable tells SQLite the file cannot
// change (a copy on read-only media): no locks, no write-ahead log.
func openBulk(path string, immutable bool) (*bulkDB, error) {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := "mode=ro"
	if immutable {
		q += "&immutable=1"
	}
	uri := C.CString(u.String() + "?" + q)
	defer C.free(unsafe.Pointer(uri))
	b := &bulkDB{path: path}
	if rc := C.irtui_open(uri, &b.db); rc != 0 {
		err := b.err(rc)
		b.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	return b, nil
}

// bulkError is an error SQLite reported to the bulk reader.
type bulkError struct {
	code int
	msg  string
}

func (e *bulkError) Error() string { return e.msg }

// corrupt reports whether the error is SQLite finding the file damaged.
func (e *bulkError) corrupt() bool { return e.code&0xff == 11 || e.code&0xff == 26 }

func (b *bulkDB) err(rc C.int) error {
	msg := "unknown error"
	if b.db != nil {
		msg = C.GoString(C.sqlite3_errmsg(b.db))
		if ext := C.sqlite3_extended_errcode(b.db); ext != 0 {
			rc = ext
		}
	}
	return &bulkError{code: int(rc), msg: msg}
}

func (b *bulkDB) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.db != nil {
		C.sqlite3_close_v2(b.db)
		b.db = nil
	}
}

// interrupt stops whatever the connection is doing; safe from any
// goroutine.
func (b *bulkDB) interrupt() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.db != nil {
		C.sqlite3_interrupt(b.db)
	}
}

// watch interrupts the connection when ctx is done; call the result when
// done with it.
func (b *bulkDB) watch(ctx context.Context) func() bool {
	return context.AfterFunc(ctx, b.interrupt)
}

func (b *bulkDB) exec(sql string) error {
	cs := C.CString(sql)
	defer C.free(unsafe.Pointer(cs))
	var msg *C.char
	if rc := C.sqlite3_exec(b.db, cs, nil, nil, &msg); rc != 0 {
		err := b.err(rc)
		if msg != nil {
			C.sqlite3_free(unsafe.Pointer(msg))
		}
		return err
	}
	return nil
}

// bulkStmt is a prepared statement read in batches.
type bulkStmt struct {
	b       *bulkDB
	st      *C.sqlite3_stmt
	ncol    int
	pending C.int
	done    bool
}

func (b *bulkDB) prepare(sql string, args ...any) (*bulkStmt, error) {
	cs := C.CString(sql)
	defer C.free(unsafe.Pointer(cs))
	s := &bulkStmt{b: b}
	if rc := C.sqlite3_prepare_v2(b.db, cs, -1, &s.st, nil); rc != 0 {
		return nil, fmt.Errorf("%w (in %.60s)", b.err(rc), sql)
	}
	for i, a := range args {
		var rc C.int
		switch v := a.(type) {
		case int64:
			rc = C.sqlite3_bind_int64(s.st, C.int(i+1), C.longlong(v))
		case int:
			rc = C.sqlite3_bind_int64(s.st, C.int(i+1), C.longlong(v))
		case string:
			cv := C.CString(v)
			rc = C.irtui_bind_text(s.st, C.int(i+1), cv, C.int(len(v)))
			C.free(unsafe.Pointer(cv))
		default:
			s.close()
			return nil, fmt.Errorf("bulk reader: cannot bind %T", a)
		}
		if rc != 0 {
			err := b.err(rc)
			s.close()
			return nil, err
		}
	}
	s.ncol = int(C.sqlite3_column_count(s.st))
	return s, nil
}

func (s *bulkStmt) close() {
	if s.st != nil {
		C.sqlite3_finalize(s.st)
		s.st = nil
	}
}

// fill stop states.
const (
	fillFull    = 0
	fillDone    = 1
	fillStopped = 2
	fillTooBig  = 3
)

// fill reads rows into buf (reusing its memory) until it is full, the
// statement is done, or (stopCol >= 0) the next row's integer column
// stopCol is above stopVal. It returns the batch and the stop state.
func (s *bulkStmt) fill(buf []byte, stopCol int, stopVal int64) (batch, int, error) {
	if s.done {
		return batch{ncol: s.ncol}, fillDone, nil
	}
	buf = buf[:cap(buf)]
	for {
		var used C.long
		var state C.int
		var last C.longlong
		lastStop := C.longlong(-1)
		n := C.irtui_fill(s.st, (*C.uchar)(unsafe.Pointer(&buf[0])), C.long(len(buf)), &used, &s.pending,
			C.int(stopCol), C.longlong(stopVal), &state, &last, &lastStop)
		runtime.KeepAlive(buf)
		switch {
		case state == fillTooBig:
			buf = make([]byte, 2*len(buf))
			continue
		case state > fillTooBig:
			return batch{}, 0, s.b.err(state)
		case state == fillDone:
			s.done = true
		}
		return batch{data: buf[:used], rows: int(n), ncol: s.ncol, last: int64(last), lastStop: int64(lastStop)}, int(state), nil
	}
}

// all reads every row into one batch (small results: schema, lookups).
func (s *bulkStmt) all() (batch, error) {
	defer s.close()
	var out batch
	buf := make([]byte, 64<<10)
	for {
		b, state, err := s.fill(buf, -1, 0)
		if err != nil {
			return batch{}, err
		}
		out.data = append(out.data, b.data...)
		out.rows += b.rows
		out.ncol = b.ncol
		if state == fillDone {
			return out, nil
		}
		buf = b.data[:cap(b.data)]
	}
}

// query runs a small query and returns its rows.
func (b *bulkDB) query(sql string, args ...any) (batch, error) {
	s, err := b.prepare(sql, args...)
	if err != nil {
		return batch{}, err
	}
	return s.all()
}
