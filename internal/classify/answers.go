package classify

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/strictyaml"
)

// ParseAnswers reads an answers file (YAML or JSON): a mapping of question
// ids to answers. Every problem names the question and its position:
// unknown questions, values outside a question's choices, wrong types.
func ParseAnswers(rb *runbook.Runbook, path string, data []byte) (Answers, error) {
	values, probs := strictyaml.DecodeValues(strictyaml.Answers, path, data)
	answers := Answers{}
	seen := map[string]bool{}
	for _, kv := range values {
		at := func(format string, args ...any) {
			probs = append(probs, strictyaml.Problem{Path: path, Line: kv.Line, Col: kv.Col, Msg: fmt.Sprintf(format, args...)})
		}
		q, ok := question(rb, kv.Key)
		if !ok {
			at("unknown question %q in runbook %s; its questions are %s", kv.Key, rb.ID, strings.Join(questionIDs(rb), ", "))
			continue
		}
		if seen[kv.Key] {
			at("question %q is answered twice", kv.Key)
			continue
		}
		seen[kv.Key] = true
		if kv.Value == nil {
			continue // null: unanswered, so assumed the worst
		}
		val, err := Coerce(q, kv.Value)
		if err != nil {
			at("question %q: %v", kv.Key, err)
			continue
		}
		answers[kv.Key] = val
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return answers, nil
}

// Coerce checks a decoded value (bool, float64, string, []any) against a
// question and returns it in the form expressions use. "yes" and "no" are
// accepted for yes/no questions.
func Coerce(q runbook.Question, value any) (any, error) {
	value = runbook.Normalize(value)
	if q.Type == runbook.YesNo {
		if s, ok := value.(string); ok {
			switch strings.ToLower(s) {
			case "yes", "y", "true":
				value = true
			case "no", "n", "false":
				value = false
			}
		}
	}
	if q.Type == runbook.Number {
		// YAML reads 1e3 as text; a number question takes it as a number,
		// and an estimate as people write it: "12,000", "12k", "~12000".
		if s, ok := value.(string); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				value = f
			} else if f, err := ParseNumber(s); err == nil {
				value = f
			} else {
				return nil, err
			}
		}
	}
	if q.Type == runbook.Multi {
		if s, ok := value.(string); ok {
			value = []any{s} // a single choice written without brackets
		}
	}
	if msg := runbook.CheckAnswer(q, value); msg != "" {
		return nil, fmt.Errorf("%s", msg)
	}
	if q.Type == runbook.Multi {
		list := value.([]any)
		out := make([]string, 0, len(list))
		for _, item := range list {
			if s := item.(string); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return value, nil
}

func question(rb *runbook.Runbook, id string) (runbook.Question, bool) {
	for _, q := range rb.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return runbook.Question{}, false
}

func questionIDs(rb *runbook.Runbook) []string {
	ids := make([]string, len(rb.Questions))
	for i, q := range rb.Questions {
		ids[i] = q.ID
	}
	return ids
}
