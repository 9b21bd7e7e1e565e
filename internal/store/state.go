package store

import "context"

// flushState records the state of the rows this transaction changed.
func (tx *Tx) flushState(ctx context.Context) error { return nil }

// committed runs after a successful commit.
func (tx *Tx) committed() {}
