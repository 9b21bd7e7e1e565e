package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// The pending-audit journal holds the audit entries of reads that could
// not wait for the write lock: another process held it for longer than
// readWait (it may be stuck, or stopped), or the database is marked
// damaged. The read goes ahead; its entry is appended to this file beside
// the database, and the next write transaction, by any irtui process,
// appends the journal's entries to the audit chain and removes it. Each
// line is one JSON object with a random id; the id of the last entry taken
// in is kept in irtui_meta (journal_last), in the same transaction, so a
// crash between the commit and removing the file takes nothing in twice.

// JournalPath is the pending-audit journal of the database at dbPath.
func JournalPath(dbPath string) string { return dbPath + ".pending-audit" }

type journalLine struct {
	ID         string `json:"id"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	IncidentID string `json:"incident_id,omitempty"`
	Outcome    string `json:"outcome"`
	Detail     string `json:"detail,omitempty"`
}

// journalNote marks in the detail of an entry taken from the journal that
// it was recorded late: its time is when the read happened, its place in
// the chain when the journal was taken in.
const journalNote = " (recorded late: the database was busy)"

// RecordRead appends the audit entry of a read. It waits at most readWait
// for the write lock and not at all for the database check; if the lock is
// held longer, or the database is marked damaged, the entry goes to the
// pending-audit journal and journaled is true. durable makes the commit
// (or the journal write) wait for the disk, as an export's must.
func (s *Store) RecordRead(ctx context.Context, e AuditEntry, durable bool) (journaled bool, err error) {
	err = s.update(ctx, writeMode{noSync: !durable, read: true}, func(tx *Tx) error {
		return tx.AppendAudit(ctx, &e)
	})
	if err == nil || !(errors.Is(err, errBusy) || errors.Is(err, ErrDamaged)) {
		return false, err
	}
	if jerr := s.journal(e, durable); jerr != nil {
		return false, fmt.Errorf("record the read in the audit log: %v; nor in %s: %w", err, JournalPath(s.path), jerr)
	}
	return true, nil
}

func (s *Store) journal(e AuditEntry, durable bool) error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	b, err := json.Marshal(journalLine{ID: hex.EncodeToString(id[:]), At: FormatTime(e.At), Actor: e.Actor,
		Action: e.Action, IncidentID: e.IncidentID, Outcome: e.Outcome, Detail: e.Detail})
	if err != nil {
		return err
	}
	// The writer that takes the journal in removes the file under the
	// lock; a line must go to the file that is there, not to one removed
	// while this waited for the lock.
	for range 100 {
		f, err := os.OpenFile(JournalPath(s.path), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		if err := lockFile(f); err != nil {
			f.Close()
			return err
		}
		if unlinked(f) {
			f.Close() // unlocks
			continue
		}
		_, err = f.Write(append(b, '\n'))
		if err == nil && durable {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return fmt.Errorf("%s kept being removed", JournalPath(s.path))
}

// ingestJournal appends the journal's entries to the audit chain, in this
// transaction, holding the journal's lock until the transaction ends; the
// file is removed once the transaction has committed.
func (tx *Tx) ingestJournal(ctx context.Context) error {
	tx.st.filesMu.Lock()
	pending := tx.st.files.journal
	tx.st.filesMu.Unlock()
	if !pending {
		return nil // none at the last full check, and the folder has not changed since
	}
	path := JournalPath(tx.st.path)
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return fmt.Errorf("lock %s: %w", path, err)
	}
	tx.journal = f // unlocked and closed when the transaction ends
	var last string
	err = tx.queryRow(ctx, "SELECT COALESCE((SELECT value FROM irtui_meta WHERE key = 'journal_last'), '')").Scan(&last)
	if err != nil {
		return fmt.Errorf("read the pending-audit journal's mark: %w", err)
	}
	var lines []journalLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var l journalLine
		if err := json.Unmarshal(raw, &l); err != nil || l.ID == "" || l.Action == "" {
			// A torn last line (a crash mid-write) or an edit: recorded as
			// such rather than dropped or trusted.
			l = journalLine{Actor: "(unknown)", Action: "journal", Outcome: OutcomeFailed,
				Detail: fmt.Sprintf("%s:%d: unreadable pending-audit line: %.200q", path, n, raw)}
		}
		if l.ID != "" && l.ID == last {
			lines = lines[:0] // taken in before; the file was not emptied
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	for _, l := range lines {
		at, err := parseTime(l.At)
		if err != nil {
			at = tx.st.clock.Now()
		}
		e := AuditEntry{At: at, Actor: l.Actor, Action: l.Action, IncidentID: l.IncidentID, Outcome: l.Outcome,
			Detail: strings.TrimSpace(l.Detail + journalNote)}
		if e.Outcome != OutcomeOK && e.Outcome != OutcomeRefused && e.Outcome != OutcomeFailed {
			e.Outcome = OutcomeFailed
		}
		if err := tx.AppendAudit(ctx, &e); err != nil {
			return err
		}
		if l.ID != "" {
			last = l.ID
		}
	}
	if len(lines) > 0 {
		if _, err := tx.write(ctx, "irtui_meta", `INSERT INTO irtui_meta (key, value) VALUES ('journal_last', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, last); err != nil {
			return fmt.Errorf("mark the pending-audit journal as taken in: %w", err)
		}
	}
	tx.journalDone = true
	return nil
}

// endJournal releases the journal after the transaction; removed only if
// the transaction committed what it took in.
func (tx *Tx) endJournal(committed bool) {
	if tx.journal == nil {
		return
	}
	if committed && tx.journalDone {
		// Removed, not emptied: a new journal is a new file, which changes
		// the folder, which is how the next write learns of it.
		if err := os.Remove(JournalPath(tx.st.path)); err == nil {
			tx.st.filesMu.Lock()
			tx.st.files.journal = false
			tx.st.filesMu.Unlock()
		}
	}
	_ = unlockFile(tx.journal)
	tx.journal.Close()
	tx.journal = nil
}
