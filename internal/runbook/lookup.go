package runbook

// Step returns the runbook step with id and its phase.
func (rb *Runbook) Step(id string) (Step, string, bool) {
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			if st.ID == id {
				return st, ph.ID, true
			}
		}
	}
	return Step{}, "", false
}

// Notification returns the runbook notification with id.
func (rb *Runbook) Notification(id string) (Notification, bool) {
	for _, n := range rb.Notify {
		if n.ID == id {
			return n, true
		}
	}
	return Notification{}, false
}
