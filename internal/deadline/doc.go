// Package deadline does the clock arithmetic of regulatory and contractual
// breach-notification obligations and ships the rules irtui knows about
// (GDPR, NIS2, DORA, SEC 8-K Item 1.05, HIPAA, California, NYDFS and the
// contractual customer notice).
//
// The package has three layers:
//
//   - Offset and Calendar: durations as the law writes them ("72h", "60d",
//     "4bd", "1mo") and the time-zone and holiday aware arithmetic that turns
//     an anchor time plus an offset into a due time.
//   - Rule and Obligation: a Rule says when an obligation applies, which
//     event starts its clock and how long the clock runs; an Obligation is a
//     rule evaluated for one incident, and Obligation.At tells its state at a
//     given moment (running, due soon, overdue, paused, escalated, met).
//   - Policy: which regimes apply to the organisation. Policy.Obligations
//     evaluates every shipped rule against an incident's flags, facts,
//     events and pauses.
//
// The package never reads the wall clock: callers pass "now" (from
// internal/clock) to Obligation.At. It embeds the IANA time-zone database
// (time/tzdata) so due times are right on machines without one.
//
// The rules encode public reference material and are not legal advice; see
// docs/deadlines.md.
package deadline
