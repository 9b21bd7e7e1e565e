package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Checkpoint is a signed record of the ends of both chains at a moment,
// kept outside the database (see package witness). Verify checks that the
// entries it names are still there, unchanged.
type Checkpoint struct {
	At           time.Time `json:"at"`
	DatabaseID   string    `json:"db"`
	TimelineID   int64     `json:"timeline_id"`
	TimelineHash string    `json:"timeline_hash"`
	AuditID      int64     `json:"audit_id"`
	AuditHash    string    `json:"audit_hash"`
	// Incident is the newest incident then ("" when there was none).
	Incident string `json:"incident,omitempty"`
	// Source says where it came from, for messages ("witness:12").
	Source string `json:"-"`
}

func (c Checkpoint) name() string {
	n := "the checkpoint of " + c.At.UTC().Format("2006-01-02 15:04:05 UTC")
	if c.Source != "" {
		n += " (" + c.Source + ")"
	}
	return n
}

// VerifyOptions adjust Verify.
type VerifyOptions struct {
	// Checkpoints to hold the chains to.
	Checkpoints []Checkpoint
	// Immutable opens the file as a read-only copy (a file on a write
	// blocker): no locks, no write-ahead log.
	Immutable bool
	// Integrity also runs PRAGMA integrity_check, which reads every page.
	Integrity bool
}

// Verify checks the database at path: both hash chains, the audit
// entries' references to the timeline, the state tables against the
// state the audit log recorded, the append-only triggers, and the given
// checkpoints; with Integrity, also SQLite's own integrity check. It opens
// the file for reading only, takes no lock a writer waits for, and reads
// one consistent snapshot. An error means it could not read; what it
// found wrong is in the Report.
func Verify(ctx context.Context, path string, opt VerifyOptions) (Report, error) {
	if err := checkFile(path); err != nil {
		return Report{}, err
	}
	b, err := openBulk(path, opt.Immutable)
	if err != nil {
		return Report{}, err
	}
	defer b.Close()
	b2, err := openBulk(path, opt.Immutable)
	if err != nil {
		return Report{}, err
	}
	defer b2.Close()
	defer b.watch(ctx)()
	defer b2.watch(ctx)()
	v := &verifier{ctx: ctx, b: b, b2: b2, opt: opt}
	rep, err := v.run()
	if err != nil {
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		var be *bulkError
		if errors.As(err, &be) && be.corrupt() {
			// The file is damaged past reading: that is the finding.
			rep.Integrity = "SQLite reports the file damaged: " + be.Error()
			rep.Problems = append(rep.Problems, Problem{Table: "file", Kind: Altered, Detail: rep.Integrity})
			rep.OK = false
			return rep, nil
		}
		return Report{}, fmt.Errorf("verify %s: %w", path, err)
	}
	return rep, nil
}

// VerifyChains verifies the database this Store has open (Verify without
// checkpoints or the integrity check).
func (s *Store) VerifyChains(ctx context.Context) (Report, error) {
	return Verify(ctx, s.path, VerifyOptions{})
}

type verifier struct {
	ctx context.Context
	b   *bulkDB // the timeline and the state tables
	b2  *bulkDB // the audit log, read at the same time
	opt VerifyOptions
	rep Report

	// The last entries of the snapshot the main connection reads: the
	// second reads up to them, which is the same rows (both are
	// append-only).
	maxTimeline, maxAudit int64

	dbID     string
	hasState bool
	// The auth columns (schema 6 on): hashed when set.
	tlAuth, auAuth bool
	tables         []*tableInfo

	// Checkpoints, by chain, sorted by the entry they name.
	tlCPs, auCPs []Checkpoint
}

func (v *verifier) run() (Report, error) {
	if err := v.b.exec("BEGIN"); err != nil {
		return v.rep, err
	}
	defer v.b.exec("ROLLBACK") //nolint:errcheck // read-only
	if err := v.schema(); err != nil {
		return v.rep, err
	}
	res, err := v.b.query("SELECT COALESCE((SELECT MAX(id) FROM timeline), 0), COALESCE((SELECT MAX(id) FROM audit), 0)")
	if err != nil {
		return v.rep, err
	}
	c := res.cursor()
	v.maxTimeline, v.maxAudit = c.int(), c.int()
	if err := v.b2.exec("BEGIN"); err != nil {
		return v.rep, err
	}
	defer v.b2.exec("ROLLBACK") //nolint:errcheck // read-only
	if v.opt.Integrity {
		res, err := v.b.query("PRAGMA integrity_check")
		if err != nil {
			return v.rep, err
		}
		var lines []string
		c := res.cursor()
		for range res.rows {
			lines = append(lines, string(c.text(nil)))
		}
		v.rep.Integrity = strings.Join(lines, "\n")
		if v.rep.Integrity != "ok" {
			v.rep.Problems = append(v.rep.Problems, Problem{Table: "file", Kind: Altered,
				Detail: "PRAGMA integrity_check: " + strings.ReplaceAll(v.rep.Integrity, "\n", "; ")})
		}
	}
	v.sortCheckpoints()
	ch, err := v.chains()
	if err != nil {
		return v.rep, err
	}
	if err := v.explain(ch); err != nil {
		return v.rep, err
	}
	if v.hasState {
		if err := v.state(ch); err != nil {
			return v.rep, err
		}
	}
	if err := v.checkpoints(ch); err != nil {
		return v.rep, err
	}
	if err := v.triggers(); err != nil {
		return v.rep, err
	}
	if err := v.counts(); err != nil {
		return v.rep, err
	}
	v.rep.OK = len(v.rep.Problems) == 0
	return v.rep, nil
}

// schema checks that the file is irtui's and reads what verifying needs.
func (v *verifier) schema() error {
	res, err := v.b.query(`SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('timeline', 'audit')),
		(SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'state'),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'irtui_meta'),
		(SELECT count(*) FROM pragma_table_info('timeline') WHERE name = 'auth'),
		(SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'auth')`)
	if err != nil {
		return err
	}
	c := res.cursor()
	appID, version, chains, state, meta := c.int(), c.int(), c.int(), c.int(), c.int()
	v.tlAuth, v.auAuth = c.int() == 1, c.int() == 1
	if (appID != 0 && appID != applicationID) || chains != 2 {
		return fmt.Errorf("%s is %w", v.b.path, ErrNotIrtui)
	}
	if known := SchemaVersion(); version > int64(known) {
		return fmt.Errorf("%w: database schema version %d is newer than this irtui understands (%d); upgrade irtui",
			ErrSchemaTooNew, version, known)
	}
	v.rep.Schema = int(version)
	v.hasState = state == 1
	v.rep.StateCovered = v.hasState
	if meta == 1 {
		res, err := v.b.query("SELECT value FROM irtui_meta WHERE key = 'database_id'")
		if err != nil {
			return err
		}
		if res.rows > 0 {
			c := res.cursor()
			v.dbID = string(c.text(nil))
		}
	}
	v.rep.DatabaseID = v.dbID
	if !v.hasState {
		return nil
	}
	for _, t := range coveredTables {
		ti, err := v.tableInfo(t)
		if err != nil {
			return err
		}
		v.tables = append(v.tables, ti)
	}
	return nil
}

// tableInfo is loadTableInfo through the bulk connection.
func (v *verifier) tableInfo(t coveredTable) (*tableInfo, error) {
	res, err := v.b.query("SELECT name, dflt_value FROM pragma_table_info(?) ORDER BY name", t.name)
	if err != nil {
		return nil, err
	}
	if res.rows == 0 {
		return nil, fmt.Errorf("table %s is missing", t.name)
	}
	ti := &tableInfo{name: t.name, keyNames: t.key, exempt: t.exempt}
	var list []string
	c := res.cursor()
	for range res.rows {
		name := string(c.text(nil))
		typ, dflt, _ := c.next()
		ti.cols = append(ti.cols, name)
		list = append(list, quoteIdent(name))
		def := []byte{valNull}
		if typ == colText {
			d, err := v.b.query("SELECT " + string(dflt))
			if err != nil {
				return nil, fmt.Errorf("default of %s.%s: %w", t.name, name, err)
			}
			dc := d.cursor()
			def = dc.canon(nil)
		}
		ti.defaults = append(ti.defaults, def)
	}
	if err := ti.locate(t, list); err != nil {
		return nil, err
	}
	return ti, nil
}

func (v *verifier) sortCheckpoints() {
	for _, cp := range v.opt.Checkpoints {
		if v.dbID != "" && cp.DatabaseID != v.dbID {
			v.rep.OtherCheckpoints++
			continue
		}
		v.rep.Checkpoints++
		v.tlCPs = append(v.tlCPs, cp)
		v.auCPs = append(v.auCPs, cp)
	}
	sort.SliceStable(v.tlCPs, func(i, j int) bool { return v.tlCPs[i].TimelineID < v.tlCPs[j].TimelineID })
	sort.SliceStable(v.auCPs, func(i, j int) bool { return v.auCPs[i].AuditID < v.auCPs[j].AuditID })
}

// chainState is what the pass over one chain found.
type chainState struct {
	head ChainHead
	prob *Problem
	// The first entry whose link is broken though its ids are
	// contiguous: explained after the pass.
	brokenID   int64
	brokenPrev string
	brokenInc  string // timeline: its incident and seq
	brokenSeq  int64
	lastHash   []byte // the last entry's stored hash
	lastID     int64
	cpMismatch []Problem // entries that differ from a checkpoint
	cpNext     int
}

// passResult is what the chain pass hands on.
type passResult struct {
	tl, au    chainState
	ref       *Problem // the first bad reference from the audit log to the timeline
	lateRefs  []lateRef
	state     *stateLog
	tableBad  map[string]*tableProblems // state rows that differ, by table
	stateRows int64
}

type lateRef struct {
	auditID, timelineID int64
	hash                string
}

// job is a batch on its way from the reader, through a hasher, to the
// checker. Hashers work on jobs in any order; the checker takes them in
// the reader's order, once their hashes are done.
type job struct {
	kind  int // jobTimeline, jobAudit, jobTable
	table int
	b     batch
	err   error
	// What a hasher computed: the hex hash of each row, and for table
	// rows the key (keyEnds[i] is where row i's ends in keys).
	sums    []byte
	keys    []byte
	keyEnds []int
	done    chan struct{}
}

const (
	jobTimeline = iota
	jobAudit
	jobTable
)

const (
	batchSize = 1 << 20
	buffers   = 6
	ringSize  = 1 << 16 // timeline hashes kept for the audit log's references
)

// timeline and audit columns as the pass reads them.
const (
	timelineQuery = `SELECT id, incident_id, seq, at, actor, kind, summary, data, prev_hash, hash`
	auditQuery    = `SELECT id, at, actor, action, incident_id, outcome, detail, timeline_id, timeline_hash, prev_hash, hash`
	auditRefCol   = 7 // timeline_id
)

// progress is how far the timeline reader has got, for the audit reader
// to wait on: an audit batch may refer only to timeline entries already
// on their way to the checker.
type progress struct {
	mu        sync.Mutex
	upTo      int64 // timeline entries up to here are sent
	auditAt   int64 // audit entries referring up to here are sent
	auditDone bool
	wake      chan struct{} // closed and replaced on every change
}

func newProgress() *progress { return &progress{upTo: -1, auditAt: -1, wake: make(chan struct{})} }

func (p *progress) update(f func()) {
	p.mu.Lock()
	f()
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

func (p *progress) get() (upTo int64, auditDone bool, wake <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.upTo, p.auditDone, p.wake
}

// lead is how far the timeline reader is ahead of the audit reader.
func (p *progress) lead() (lead int64, auditDone bool, wake <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.upTo - p.auditAt, p.auditDone, p.wake
}

// sender hands jobs to the hashers and the checker.
type sender struct {
	ctx           context.Context
	free          chan *job
	hashQ, checkQ chan<- *job
}

func (s *sender) next() *job {
	j := <-s.free
	j.err, j.sums, j.keys, j.keyEnds = nil, j.sums[:0], j.keys[:0], j.keyEnds[:0]
	return j
}

func (s *sender) send(j *job) bool {
	j.done = make(chan struct{})
	select {
	case s.hashQ <- j:
	case <-s.ctx.Done():
		return false
	}
	select {
	case s.checkQ <- j:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *sender) fail(err error) {
	j := &job{err: err, done: make(chan struct{})}
	close(j.done)
	select {
	case s.checkQ <- j:
	case <-s.ctx.Done():
	}
}

// readTimeline reads the timeline (up to the snapshot's last entry), then,
// once the audit log is read, the state tables, on the main connection.
func (v *verifier) readTimeline(s *sender, p *progress) {
	defer p.update(func() { p.upTo = math.MaxInt64 }) // never leave the audit reader waiting
	q := timelineQuery
	if v.tlAuth {
		q += ", auth"
	}
	tl, err := v.b.prepare(q+" FROM timeline WHERE id <= ? ORDER BY id", v.maxTimeline)
	if err != nil {
		s.fail(err)
		return
	}
	defer tl.close()
	for {
		// The checker keeps the newest ringSize timeline hashes for the
		// audit log's references: stay within that of the audit reader.
		for {
			lead, done, wake := p.lead()
			if done || lead < ringSize/2 {
				break
			}
			select {
			case <-wake:
			case <-v.ctx.Done():
				return
			}
		}
		j := s.next()
		b, st, err := tl.fill(j.b.data, -1, 0)
		if err != nil {
			s.fail(err)
			return
		}
		j.kind, j.b = jobTimeline, b
		if !s.send(j) {
			return
		}
		if st == fillDone {
			break
		}
		p.update(func() { p.upTo = b.last })
	}
	p.update(func() { p.upTo = math.MaxInt64 })
	// The state tables are checked against every state line: after the
	// whole audit log.
	for {
		_, done, wake := p.get()
		if done {
			break
		}
		select {
		case <-wake:
		case <-v.ctx.Done():
			return
		}
	}
	for i, ti := range v.tables {
		st, err := v.b.prepare("SELECT " + ti.selectList + " FROM " + quoteIdent(ti.name))
		if err != nil {
			s.fail(err)
			return
		}
		for {
			j := s.next()
			b, state, err := st.fill(j.b.data, -1, 0)
			if err != nil {
				st.close()
				s.fail(err)
				return
			}
			j.kind, j.table, j.b = jobTable, i, b
			if !s.send(j) {
				st.close()
				return
			}
			if state == fillDone {
				break
			}
		}
		st.close()
	}
}

// readAudit reads the audit log on the second connection, never further
// than the timeline entries already sent.
func (v *verifier) readAudit(s *sender, p *progress) {
	defer p.update(func() { p.auditDone = true })
	q := auditQuery
	if v.auAuth {
		q += ", auth"
	}
	if v.hasState {
		q += ", state"
	}
	au, err := v.b2.prepare(q+" FROM audit WHERE id <= ? ORDER BY id", v.maxAudit)
	if err != nil {
		s.fail(err)
		return
	}
	defer au.close()
	for {
		upTo, _, wake := p.get()
		j := s.next()
		b, st, err := au.fill(j.b.data, auditRefCol, upTo)
		if err != nil {
			s.fail(err)
			return
		}
		j.kind, j.b = jobAudit, b
		if b.rows == 0 && st != fillDone {
			s.free <- j
		} else if !s.send(j) {
			return
		}
		if st == fillDone {
			return
		}
		at := b.lastStop
		if st == fillStopped {
			at = upTo // everything referring up to it is sent
		}
		p.update(func() { p.auditAt = max(p.auditAt, at) })
		if st == fillStopped {
			select {
			case <-wake:
			case <-v.ctx.Done():
				return
			}
		}
	}
}

// chains runs the pass: a reader goroutine fills batches, hashers hash
// them (as many as there are processors), and this goroutine checks them
// in order, so reading, hashing and checking overlap.
func (v *verifier) chains() (*passResult, error) {
	free := make(chan *job, buffers)
	for range buffers {
		free <- &job{b: batch{data: make([]byte, batchSize)}}
	}
	hashQ := make(chan *job, buffers)
	checkQ := make(chan *job, buffers)
	snd := &sender{ctx: v.ctx, free: free, hashQ: hashQ, checkQ: checkQ}
	p := newProgress()
	var readers sync.WaitGroup
	readers.Go(func() { v.readTimeline(snd, p) })
	readers.Go(func() { v.readAudit(snd, p) })
	go func() {
		readers.Wait()
		close(hashQ)
		close(checkQ)
	}()
	for range max(1, runtime.GOMAXPROCS(0)) {
		go v.hasher(hashQ)
	}
	c := newChecker(v)
	var err error
	for j := range checkQ {
		<-j.done
		if err == nil {
			switch {
			case j.err != nil:
				err = j.err
			case j.kind == jobTimeline:
				c.timeline(j)
			case j.kind == jobAudit:
				c.audit(j)
			case j.kind == jobTable:
				c.table(v.tables[j.table], j)
			}
		}
		if j.b.data != nil {
			j.b.data = j.b.data[:cap(j.b.data)]
			free <- j
		}
	}
	if err == nil && v.ctx.Err() != nil {
		err = v.ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return c.res, nil
}

// hasher hashes the rows of jobs, each on its own: an entry's hash covers
// its own fields only (its prev_hash as stored), so batches need no order.
func (v *verifier) hasher(in <-chan *job) {
	var (
		h       chainHasher
		rows    rowHasher
		canon   [][]byte
		scratch [20]byte
	)
	for j := range in {
		cur := j.b.cursor()
		switch j.kind {
		case jobTimeline:
			for range j.b.rows {
				cur.next() // id
				_, inc, _ := cur.next()
				seq := cur.int()
				h.begin(timelineDomain)
				h.field(inc)
				h.field(appendInt(scratch[:0], seq))
				for range 6 { // at, actor, kind, summary, data, prev_hash
					_, f, _ := cur.next()
					h.field(f)
				}
				cur.next() // hash
				if v.tlAuth {
					if _, auth, _ := cur.next(); len(auth) > 0 {
						h.field(auth)
					}
				}
				j.sums = append(j.sums, h.finish()...)
			}
		case jobAudit:
			for range j.b.rows {
				// Auth and state come last in the row, and state decides
				// the domain: find them first.
				start := cur.off
				for range 11 {
					cur.next()
				}
				var auth, state []byte
				if v.auAuth {
					_, auth, _ = cur.next()
				}
				if v.hasState {
					_, state, _ = cur.next()
				}
				end := cur.off
				cur.off = start
				if len(state) > 0 {
					h.begin(auditDomainV2)
				} else {
					h.begin(auditDomain)
				}
				cur.next()    // id
				for range 6 { // at, actor, action, incident_id, outcome, detail
					_, f, _ := cur.next()
					h.field(f)
				}
				if tid := cur.int(); tid != 0 {
					h.field(appendInt(scratch[:0], tid))
				} else {
					h.field(nil)
				}
				for range 2 { // timeline_hash, prev_hash
					_, f, _ := cur.next()
					h.field(f)
				}
				switch {
				case len(state) > 0: // v2: auth, even when empty, then state
					h.field(auth)
					h.field(state)
				case len(auth) > 0: // v1 with auth
					h.field(auth)
				}
				cur.off = end
				j.sums = append(j.sums, h.finish()...)
			}
		case jobTable:
			ti := v.tables[j.table]
			if len(canon) < len(ti.cols) {
				canon = make([][]byte, len(ti.cols))
			}
			for range j.b.rows {
				for i := range ti.cols {
					canon[i] = cur.canon(canon[i][:0])
				}
				sum := rows.hash(ti, canon[:len(ti.cols)])
				j.sums = hex.AppendEncode(j.sums, sum[:])
				j.keys = appendCanonKey(j.keys, ti, canon)
				j.keyEnds = append(j.keyEnds, len(j.keys))
			}
		}
		close(j.done)
	}
}

// appendCanonKey appends a row's key as appendKey writes it, from the
// canonical values of its columns.
func appendCanonKey(b []byte, ti *tableInfo, canon [][]byte) []byte {
	b = append(b, '[')
	for n, k := range ti.key {
		if n > 0 {
			b = append(b, ',')
		}
		switch v := canon[k]; v[0] {
		case valInteger, valReal:
			b = append(b, v[1:]...)
		case valNull:
			b = append(b, "null"...)
		default:
			b = appendJSONBytes(b, v[1:])
		}
	}
	return append(b, ']')
}

// checker checks batches in order, without allocating per entry.
type checker struct {
	v   *verifier
	res *passResult

	// The newest timeline hashes, by id, for the audit log's references.
	ring    [ringSize][64]byte
	ringIDs [ringSize]int64
	keyBuf  []byte
}

type tableProblems struct {
	first *Problem
	bad   int
}

func newChecker(v *verifier) *checker {
	c := &checker{v: v, res: &passResult{tableBad: map[string]*tableProblems{}}}
	if v.hasState {
		c.res.state = newStateLog()
	}
	return c
}

// chainHasher builds an entry's hash input in a reused buffer.
type chainHasher struct {
	pre []byte
	sum [32]byte
	hex [64]byte
}

func (h *chainHasher) begin(domain string) { h.pre = appendFieldString(h.pre[:0], domain) }
func (h *chainHasher) field(b []byte)      { h.pre = appendField(h.pre, b) }
func (h *chainHasher) finish() []byte {
	h.sum = sha256.Sum256(h.pre)
	hex.Encode(h.hex[:], h.sum[:])
	return h.hex[:]
}

func (c *checker) timeline(j *job) {
	st := &c.res.tl
	cur := j.b.cursor()
	for i := range j.b.rows {
		id := cur.int()
		_, inc, _ := cur.next()
		seq := cur.int()
		for range 5 { // at, actor, kind, summary, data
			cur.next()
		}
		_, prev, _ := cur.next()
		_, hash, _ := cur.next()
		if c.v.tlAuth {
			cur.next()
		}
		st.head.Entries++
		st.head.LastID = id
		if st.prob == nil && st.brokenID == 0 {
			if c.link(st, "timeline", id, prev, hash, j.sums[i*64:(i+1)*64]) {
				st.brokenInc, st.brokenSeq = string(inc), seq
			}
		}
		c.checkpoint(st, c.v.tlCPs, "timeline", id, hash, func(cp Checkpoint) (int64, string) { return cp.TimelineID, cp.TimelineHash })
		slot := id & (ringSize - 1)
		c.ringIDs[slot] = id
		if len(hash) != 64 {
			c.ringIDs[slot] = -1 // a malformed hash matches no reference
		}
		copy(c.ring[slot][:], hash)
		st.lastID = id
		st.lastHash = append(st.lastHash[:0], hash...)
	}
	st.head.Hash = string(st.lastHash)
}

// link checks one entry against the one before it and reports whether
// only its link is broken, to be explained after the pass.
func (c *checker) link(st *chainState, table string, id int64, prev, stored, computed []byte) bool {
	if !bytes.Equal(computed, stored) {
		st.prob = &Problem{Table: table, ID: id, Kind: Altered, Detail: "its content does not match its hash"}
		return false
	}
	if id != st.lastID+1 {
		if id == st.lastID+2 {
			st.prob = &Problem{Table: table, ID: st.lastID + 1, Kind: Removed, Detail: "the entry is missing"}
		} else {
			st.prob = &Problem{Table: table, ID: st.lastID + 1, Kind: Removed,
				Detail: fmt.Sprintf("entries #%d to #%d are missing", st.lastID+1, id-1)}
		}
		return false
	}
	if !bytes.Equal(prev, st.lastHash) {
		st.brokenID, st.brokenPrev = id, string(prev)
		return true
	}
	return false
}

// checkpoint compares an entry with the checkpoints that name it.
func (c *checker) checkpoint(st *chainState, cps []Checkpoint, table string, id int64, hash []byte,
	of func(Checkpoint) (int64, string)) {
	for st.cpNext < len(cps) {
		cid, chash := of(cps[st.cpNext])
		if cid > id {
			return
		}
		if cid == id && string(hash) != chash {
			st.cpMismatch = append(st.cpMismatch, Problem{Table: table, ID: id, Kind: Altered,
				Detail: fmt.Sprintf("it is not the entry %s recorded: the %s up to here was rewritten and its hashes recomputed",
					cps[st.cpNext].name(), chainName(table))})
		}
		st.cpNext++
	}
}

func chainName(table string) string {
	if table == "audit" {
		return "audit log"
	}
	return table
}

func (c *checker) audit(j *job) {
	st := &c.res.au
	cur := j.b.cursor()
	for i := range j.b.rows {
		id := cur.int()
		for range 6 { // at, actor, action, incident_id, outcome, detail
			cur.next()
		}
		tid := cur.int()
		_, thash, _ := cur.next()
		_, prev, _ := cur.next()
		_, hash, _ := cur.next()
		if c.v.auAuth {
			cur.next()
		}
		var state []byte
		if c.v.hasState {
			_, state, _ = cur.next()
		}
		st.head.Entries++
		st.head.LastID = id
		if st.prob == nil && st.brokenID == 0 {
			c.link(st, "audit", id, prev, hash, j.sums[i*64:(i+1)*64])
		}
		if tid != 0 && c.res.ref == nil {
			c.reference(id, tid, thash)
		}
		if len(state) > 0 {
			c.res.state.replay(id, state)
		}
		c.checkpoint(st, c.v.auCPs, "audit", id, hash, func(cp Checkpoint) (int64, string) { return cp.AuditID, cp.AuditHash })
		st.lastID = id
		st.lastHash = append(st.lastHash[:0], hash...)
	}
	st.head.Hash = string(st.lastHash)
}

// reference checks that the timeline entry an audit entry names is there
// with the hash it recorded.
func (c *checker) reference(auditID, tid int64, thash []byte) {
	tl := &c.res.tl
	slot := tid & (ringSize - 1)
	switch {
	case tid > tl.head.LastID:
		c.res.ref = &Problem{Table: "timeline", ID: tid, Kind: Removed,
			Detail: fmt.Sprintf("audit entry #%d refers to it, but the timeline ends at #%d", auditID, tl.head.LastID)}
	case c.ringIDs[slot] != tid:
		// Older than the window, or ids not contiguous: looked up later.
		c.res.lateRefs = append(c.res.lateRefs, lateRef{auditID: auditID, timelineID: tid, hash: string(thash)})
	case !bytes.Equal(thash, c.ring[slot][:]):
		c.res.ref = &Problem{Table: "timeline", ID: tid, Kind: Altered,
			Detail: fmt.Sprintf("its hash differs from the one audit entry #%d recorded", auditID)}
	}
}

// stateLog is the replayed state lines: for every row, the hash the audit
// log last recorded and the entry that recorded it.
type stateLog struct {
	index map[string]int32 // table \x00 key -> rows
	rows  []recordedRow
}

type recordedRow struct {
	key   string   // table \x00 key
	hash  [64]byte // hex; "-" (deleted) or anything not a hash is kept as it was
	entry int64
	seen  bool
}

func (r *recordedRow) deleted() bool { return r.hash[0] == '-' && r.hash[1] == 0 }

func newStateLog() *stateLog { return &stateLog{index: map[string]int32{}} }

func (s *stateLog) replay(entry int64, state []byte) {
	for len(state) > 0 {
		line := state
		if i := bytes.IndexByte(state, '\n'); i >= 0 {
			line, state = state[:i], state[i+1:]
		} else {
			state = nil
		}
		i := bytes.LastIndexByte(line, '\t')
		if i < 0 {
			continue
		}
		key, hash := line[:i], line[i+1:]
		if j := bytes.IndexByte(key, '\t'); j >= 0 {
			key[j] = 0 // table \x00 key; the batch is ours to change
		}
		r := recordedRow{entry: entry}
		copy(r.hash[:], hash)
		if n, ok := s.index[string(key)]; ok {
			r.key = s.rows[n].key
			s.rows[n] = r
			continue
		}
		r.key = string(key)
		s.index[r.key] = int32(len(s.rows))
		s.rows = append(s.rows, r)
	}
}

// table checks a batch of a state table's rows against the state log.
func (c *checker) table(ti *tableInfo, j *job) {
	sl := c.res.state
	c.res.stateRows += int64(j.b.rows)
	start := 0
	for i := range j.b.rows {
		key := j.keys[start:j.keyEnds[i]]
		start = j.keyEnds[i]
		if len(ti.exempt) > 0 && slices.Contains(ti.exempt, string(key)) {
			c.res.stateRows--
			continue
		}
		c.keyBuf = append(append(append(c.keyBuf[:0], ti.name...), 0), key...)
		sum := j.sums[i*64 : (i+1)*64]
		n, ok := sl.index[string(c.keyBuf)]
		switch {
		case !ok || sl.rows[n].deleted():
			c.stateProblem(ti.name, Problem{Table: ti.name, Key: string(key), Kind: Added,
				Detail: "the audit log never recorded this row: it was added outside irtui"})
		case !bytes.Equal(sl.rows[n].hash[:], sum):
			c.stateProblem(ti.name, Problem{Table: ti.name, Key: string(key), Kind: Altered,
				Detail: fmt.Sprintf("it differs from what audit entry #%d recorded", sl.rows[n].entry)})
		}
		if ok {
			sl.rows[n].seen = true
		}
	}
}

func (c *checker) stateProblem(table string, p Problem) {
	tp := c.res.tableBad[table]
	if tp == nil {
		tp = &tableProblems{}
		c.res.tableBad[table] = tp
	}
	tp.bad++
	if tp.first == nil || p.Key < tp.first.Key {
		tp.first = &p
	}
}

// explain finishes the chain pass: it explains broken links, checks late
// references, and puts the chains' problems in the report.
func (v *verifier) explain(ch *passResult) error {
	v.rep.Timeline, v.rep.Audit = ch.tl.head, ch.au.head
	for _, st := range []struct {
		table string
		cs    *chainState
	}{{"timeline", &ch.tl}, {"audit", &ch.au}} {
		if st.cs.prob != nil || st.cs.brokenID == 0 {
			continue
		}
		seqGap := false
		if st.table == "timeline" {
			res, err := v.b.query("SELECT COALESCE(MAX(seq), 0) FROM timeline WHERE incident_id = ? AND id < ?",
				st.cs.brokenInc, st.cs.brokenID)
			if err != nil {
				return err
			}
			c := res.cursor()
			seqGap = st.cs.brokenSeq != c.int()+1
		}
		p, err := v.linkProblem(st.table, st.cs.brokenID, st.cs.brokenPrev, seqGap)
		if err != nil {
			return err
		}
		st.cs.prob = p
	}
	if ch.ref == nil && len(ch.lateRefs) > 0 {
		p, err := v.lateReferences(ch.lateRefs)
		if err != nil {
			return err
		}
		ch.ref = p
	}
	tp := ch.tl.prob
	if tp == nil {
		// Entries cut off the end of the timeline leave an intact chain;
		// only the audit log's references to them tell.
		tp = ch.ref
	}
	if tp != nil {
		v.rep.Problems = append(v.rep.Problems, *tp)
	}
	if ch.au.prob != nil {
		v.rep.Problems = append(v.rep.Problems, *ch.au.prob)
	}
	return nil
}

// lateReferences checks the references the pass could not (older than the
// timeline hashes it kept, or ids out of order) in one more pass over the
// timeline, and returns the first that is wrong.
func (v *verifier) lateReferences(refs []lateRef) (*Problem, error) {
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].timelineID < refs[j].timelineID })
	st, err := v.b.prepare("SELECT id, hash FROM timeline WHERE id >= ? AND id <= ? ORDER BY id",
		refs[0].timelineID, refs[len(refs)-1].timelineID)
	if err != nil {
		return nil, err
	}
	defer st.close()
	var (
		found = map[int64]string{}
		buf   = make([]byte, batchSize)
		first *Problem
		next  = 0
	)
	check := func(upTo int64, done bool) {
		for ; next < len(refs) && (done || refs[next].timelineID <= upTo); next++ {
			r := refs[next]
			h, ok := found[r.timelineID]
			var p *Problem
			switch {
			case !ok:
				p = &Problem{Table: "timeline", ID: r.timelineID, Kind: Removed,
					Detail: fmt.Sprintf("audit entry #%d refers to it, but it is not there", r.auditID)}
			case h != r.hash:
				p = &Problem{Table: "timeline", ID: r.timelineID, Kind: Altered,
					Detail: fmt.Sprintf("its hash differs from the one audit entry #%d recorded", r.auditID)}
			}
			if p != nil && (first == nil || r.auditID < firstAudit(first, refs)) {
				first = p
			}
		}
		clear(found)
	}
	for {
		b, state, err := st.fill(buf, -1, 0)
		if err != nil {
			return nil, err
		}
		c := b.cursor()
		var upTo int64
		for range b.rows {
			id := c.int()
			_, h, _ := c.next()
			found[id] = string(h)
			upTo = id
		}
		// Keep the batch's hashes only until the references up to its
		// last id are checked; the rest come with later batches.
		if state == fillDone {
			check(0, true)
			return first, nil
		}
		check(upTo, false)
		buf = b.data[:cap(b.data)]
	}
}

// firstAudit is the audit entry a reference problem names.
func firstAudit(p *Problem, refs []lateRef) int64 {
	for _, r := range refs {
		if r.timelineID == p.ID {
			return r.auditID
		}
	}
	return 0
}

// linkProblem explains an entry whose prev_hash is not the hash of the
// entry before it, though their ids are contiguous. seqGap says the entry's
// per-incident sequence number does not follow the previous one of its
// incident (timeline only): entries of that incident went missing.
func (v *verifier) linkProblem(table string, id int64, prev string, seqGap bool) (*Problem, error) {
	// Where is the entry this one was written after?
	res, err := v.b.query("SELECT id FROM "+table+" WHERE hash = ? ORDER BY id LIMIT 1", prev)
	if err != nil {
		return nil, err
	}
	var at int64
	if res.rows > 0 {
		c := res.cursor()
		at = c.int()
	}
	switch {
	case res.rows > 0 && at > id:
		return &Problem{Table: table, ID: id, Kind: Reordered,
			Detail: fmt.Sprintf("it was written after the entry now at #%d", at)}, nil
	case res.rows > 0:
		return &Problem{Table: table, ID: at + 1, Kind: Removed,
			Detail: fmt.Sprintf("entries after #%d were removed and the rest renumbered", at)}, nil
	case id == 1:
		return &Problem{Table: table, ID: 1, Kind: Removed,
			Detail: "the first entry does not start the chain: entries before it were removed and the rest renumbered"}, nil
	case seqGap:
		return &Problem{Table: table, ID: id, Kind: Removed,
			Detail: "the entry written here was removed and the rest renumbered"}, nil
	default:
		return &Problem{Table: table, ID: id - 1, Kind: Altered,
			Detail: fmt.Sprintf("its hash is not the one entry #%d recorded for it: it was rewritten, "+
				"or an entry after it removed and the rest renumbered", id)}, nil
	}
}

// state reports the state tables' problems: rows that differ from what
// the audit log recorded (found during the pass) and recorded rows that
// are gone.
func (v *verifier) state(ch *passResult) error {
	c := ch.state
	bad := map[string]*tableProblems{}
	note := func(table string, p Problem) {
		tp := bad[table]
		if tp == nil {
			tp = &tableProblems{}
			bad[table] = tp
		}
		tp.bad++
		if tp.first == nil || p.Key < tp.first.Key {
			tp.first = &p
		}
	}
	for _, r := range c.rows {
		if r.seen || r.deleted() {
			continue
		}
		table, key, _ := strings.Cut(r.key, "\x00")
		note(table, Problem{Table: table, Key: key, Kind: Removed,
			Detail: fmt.Sprintf("audit entry #%d recorded it, but it is not there", r.entry)})
	}
	v.rep.StateRows = ch.stateRows
	for _, ti := range v.tables {
		var first *Problem
		n := 0
		for _, tp := range []*tableProblems{ch.tableBad[ti.name], bad[ti.name]} {
			if tp == nil {
				continue
			}
			n += tp.bad
			if first == nil || tp.first.Key < first.Key {
				first = tp.first
			}
		}
		if first == nil {
			continue
		}
		p := *first
		if n > 1 {
			p.Detail += fmt.Sprintf(" (%d rows of %s differ from the audit log)", n, ti.name)
		}
		v.rep.Problems = append(v.rep.Problems, p)
	}
	return nil
}

// checkpoints reports what the checkpoints name that is no longer there.
func (v *verifier) checkpoints(ch *passResult) error {
	if v.rep.OtherCheckpoints > 0 && v.rep.Checkpoints == 0 {
		v.rep.Problems = append(v.rep.Problems, Problem{Table: "checkpoint", Kind: Altered,
			Detail: fmt.Sprintf("none of the %d checkpoints is of this database (%s): it was replaced by another, "+
				"or the checkpoints are another database's", v.rep.OtherCheckpoints, orUnknown(v.dbID))})
		return nil
	}
	if len(v.tlCPs) == 0 {
		return nil
	}
	// Rewritten entries: the earliest checkpoint an entry no longer
	// matches says from where on the record cannot be trusted.
	for _, cs := range []*chainState{&ch.tl, &ch.au} {
		if len(cs.cpMismatch) > 0 {
			v.rep.Problems = append(v.rep.Problems, cs.cpMismatch[0])
		}
	}
	// Entries cut off the end: the newest checkpoint names the most.
	newestTL, newestAU := v.tlCPs[len(v.tlCPs)-1], v.auCPs[len(v.auCPs)-1]
	if last := ch.tl.head.LastID; newestTL.TimelineID > last {
		v.rep.Problems = append(v.rep.Problems, Problem{Table: "timeline", ID: last + 1, Kind: Removed,
			Detail: fmt.Sprintf("%s: %s recorded the timeline up to #%d",
				missing("timeline", last+1, newestTL.TimelineID), newestTL.name(), newestTL.TimelineID)})
	}
	if last := ch.au.head.LastID; newestAU.AuditID > last {
		v.rep.Problems = append(v.rep.Problems, Problem{Table: "audit", ID: last + 1, Kind: Removed,
			Detail: fmt.Sprintf("%s: %s recorded the audit log up to #%d",
				missing("audit", last+1, newestAU.AuditID), newestAU.name(), newestAU.AuditID)})
	}
	// The newest incident of each checkpoint must still be there.
	seen := map[string]bool{}
	for i := len(v.tlCPs) - 1; i >= 0; i-- {
		cp := v.tlCPs[i]
		if cp.Incident == "" || seen[cp.Incident] {
			continue
		}
		seen[cp.Incident] = true
		res, err := v.b.query("SELECT count(*) FROM incidents WHERE id = ?", cp.Incident)
		if err != nil {
			return err
		}
		if c := res.cursor(); c.int() == 0 {
			v.rep.Problems = append(v.rep.Problems, Problem{Table: "incidents", Key: `["` + cp.Incident + `"]`, Kind: Removed,
				Detail: fmt.Sprintf("incident %s is gone: it was the newest incident at %s", cp.Incident, cp.name())})
		}
	}
	return nil
}

// missing says that entries from..to of a chain ("timeline", "audit")
// are missing.
func missing(chain string, from, to int64) string {
	if from == to {
		return fmt.Sprintf("%s entry #%d is missing", chain, from)
	}
	return fmt.Sprintf("%s entries #%d to #%d are missing", chain, from, to)
}

func orUnknown(s string) string {
	if s == "" {
		return "no database id"
	}
	return "database " + s
}

func (v *verifier) triggers() error {
	res, err := v.b.query("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	c := res.cursor()
	for range res.rows {
		have[string(c.text(nil))] = true
	}
	for _, n := range appendOnlyTriggers {
		if !have[n] {
			table, _, _ := strings.Cut(n, "_no_")
			v.rep.Problems = append(v.rep.Problems, Problem{Table: "schema", Kind: Unprotected,
				Detail: fmt.Sprintf("trigger %s is missing: %s is no longer append-only", n, table)})
		}
	}
	if v.rep.Schema >= countsSchema {
		for _, n := range countTriggers {
			if !have[n] {
				v.rep.Problems = append(v.rep.Problems, Problem{Table: "schema", Kind: Altered,
					Detail: fmt.Sprintf("trigger %s is missing: the incident counts the lists show are no longer kept", n)})
			}
		}
	}
	return nil
}

// countsSchema is the schema version that added incident_counts, and
// countTriggers the triggers that keep it.
const countsSchema = 9

var countTriggers = []string{"incident_counts_insert", "incident_counts_update", "incident_counts_delete"}

// counts compares incident_counts, which the lists show, with the
// incidents themselves.
func (v *verifier) counts() error {
	if v.rep.Schema < countsSchema {
		return nil
	}
	res, err := v.b.query(`SELECT drill, status, kind, sum(kept), sum(real) FROM (
			SELECT drill, status, kind, n AS kept, 0 AS real FROM incident_counts
			UNION ALL SELECT drill, status, kind, 0, count(*) FROM incidents GROUP BY drill, status, kind)
		GROUP BY drill, status, kind HAVING sum(kept) != sum(real) ORDER BY drill, status, kind`)
	if err != nil {
		return err
	}
	c := res.cursor()
	for range res.rows {
		drill, status, kind, kept, real := c.int(), string(c.text(nil)), string(c.text(nil)), c.int(), c.int()
		what := status + " " + kind + "s"
		if drill == 1 {
			what = status + " drill " + kind + "s"
		}
		v.rep.Problems = append(v.rep.Problems, Problem{Table: "incident_counts",
			Key: fmt.Sprintf(`[%d,%q,%q]`, drill, status, kind), Kind: Altered,
			Detail: fmt.Sprintf("it counts %d %s, but there are %d: it was changed outside irtui", kept, what, real)})
	}
	return nil
}
