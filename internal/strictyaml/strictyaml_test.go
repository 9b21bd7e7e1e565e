package strictyaml

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

type sample struct {
	Name  string   `yaml:"name"`
	Count int      `yaml:"count"`
	Tags  []string `yaml:"tags"`
}

func write(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadFileNamesTheKind: a file that cannot be read is named by its
// kind, as the configuration, directory, answers and actions messages have
// always been.
func TestReadFileNamesTheKind(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	for _, kind := range []Kind{Configuration, Directory, Answers, Actions, Scenario, Runbook} {
		_, err := ReadFile(context.Background(), kind, missing)
		var re *ReadError
		if !errors.As(err, &re) || re.Kind != kind || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: got %v", kind, err)
		}
		if want := string(kind) + ": open " + missing + ": no such file or directory"; err.Error() != want {
			t.Errorf("%s:\n got %q\nwant %q", kind, err, want)
		}
		f := ReadOne(context.Background(), kind, missing)
		if got := f.Problems().Error(); got != missing+":1:1: no such file or folder" {
			t.Errorf("%s as a lint problem: %q", kind, got)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadFile(ctx, Runbook, write(t, "a.yaml", "name: x\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestReadFileSizeCap: a file over its kind's limit is not read, and the
// problem gives its real size, in bytes when it is just over.
func TestReadFileSizeCap(t *testing.T) {
	line := "# " + strings.Repeat("p", 97) + "\n" // 100 bytes
	big := write(t, "big.yaml", strings.Repeat(line, MaxFileSize/100+1))
	size := MaxFileSize/100*100 + 100
	_, err := ReadFile(context.Background(), Scenario, big)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("got %v", err)
	}
	if want := big + ":1:1: file is too large (" + strconv.Itoa(size) + " bytes); the limit for scenarios is 1048576 bytes (1 MiB)"; ps.Error() != want {
		t.Errorf("got  %q\nwant %q", ps.Error(), want)
	}
	huge := write(t, "huge.yaml", strings.Repeat("# padding\n", 3*MaxFileSize/10+1))
	_, err = ReadFile(context.Background(), Answers, huge)
	if want := huge + ":1:1: file is too large (3 MiB); the limit for answers files is 1 MiB"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %q", err, want)
	}
	// A directory may be larger, and is parsed with its own limit.
	data, err := ReadFile(context.Background(), Directory, big)
	if err != nil || len(data) != size {
		t.Fatalf("directory: %d bytes, %v", len(data), err)
	}
	if _, probs := Parse(Directory, big, data); len(probs) != 1 || probs[0].Msg != "file has no content, only comments" {
		t.Errorf("parse: %v", probs)
	}
	if _, probs := Parse(Runbook, big, data); len(probs) != 1 || !strings.Contains(probs[0].Msg, "too large") {
		t.Errorf("parse as a runbook: %v", probs)
	}
}

func TestFileSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 812: "812 bytes", 1024: "1 KiB", 1536: "1.5 KiB",
		3 << 20: "3 MiB", 3<<20 + 1<<19: "3.5 MiB", 5 << 30: "5 GiB"} {
		if got := FileSize(n); got != want {
			t.Errorf("FileSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReadDirAndFS(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"a.yaml": "name: a\n", "b.yml": "name: b\n", "notes.txt": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	files, _ := ReadDir(context.Background(), Runbook, dir)
	if len(files) != 2 || string(files[0].Data) != "name: a\n" || files[1].Path != filepath.Join(dir, "b.yml") {
		t.Fatalf("got %+v", files)
	}
	if got, _ := ReadDir(context.Background(), Runbook, filepath.Join(dir, "gone")); len(got) != 1 || got[0].Err == nil {
		t.Fatalf("missing folder: %+v", got)
	}
	fsys := fstest.MapFS{"x.yaml": {Data: []byte("name: x\n")}, "scenarios/y.yaml": {Data: []byte("name: y\n")}}
	root, err := ReadFS(fsys, ".")
	if err != nil || len(root) != 1 || root[0].Path != "bundled:x.yaml" || !root[0].Bundled {
		t.Fatalf("root: %+v %v", root, err)
	}
	sub, err := ReadFS(fsys, "scenarios")
	if err != nil || len(sub) != 1 || sub[0].Path != "bundled:scenarios/y.yaml" {
		t.Fatalf("scenarios: %+v %v", sub, err)
	}
}

// TestDecodeFileReportsEveryProblem: unknown fields with a hint, wrong
// types, each with its line and column, not just the first.
func TestDecodeFileReportsEveryProblem(t *testing.T) {
	var s sample
	probs := DecodeFile(Runbook, "s.yaml", []byte("name: [a]\ncout: 3\ntags: x\n"), &s)
	want := []string{
		`s.yaml:1:7: expected text, found a list`,
		`s.yaml:2:1: unknown field "cout" (did you mean "count"?)`,
		`s.yaml:3:7: expected a list, found text "x"`,
	}
	if len(probs) != len(want) {
		t.Fatalf("got %v", probs)
	}
	for i, w := range want {
		if probs[i].String() != w {
			t.Errorf("%d: got %q, want %q", i, probs[i], w)
		}
	}
	if probs := DecodeFile(Runbook, "s.yaml", []byte("- a\n"), &s); len(probs) != 1 || probs[0].Msg != "expected a mapping of fields, found a list" {
		t.Errorf("list: %v", probs)
	}
}

// TestFastAndSlowAgree: the fast path decodes what the AST decoder does,
// and refuses what it would report.
func TestFastAndSlowAgree(t *testing.T) {
	src := []byte("name: n\ncount: 2\ntags: [a, b]\n")
	var fast, slow sample
	if !DecodeFast(Runbook, src, &fast) {
		t.Fatal("fast path refused a valid file")
	}
	doc, probs := Parse(Runbook, "s.yaml", src)
	if probs != nil {
		t.Fatal(probs)
	}
	if probs := doc.Decode(&slow); probs != nil || !doc.IsMapping() {
		t.Fatal(probs)
	}
	if fast.Name != slow.Name || fast.Count != slow.Count || strings.Join(fast.Tags, ",") != strings.Join(slow.Tags, ",") {
		t.Fatalf("fast %+v, slow %+v", fast, slow)
	}
	for _, bad := range []string{"nme: n\n", "name: n\nname: m\n", "count: lots\n", "name: a\n---\nname: b\n"} {
		if DecodeFast(Runbook, []byte(bad), new(sample)) {
			t.Errorf("fast path accepted %q", bad)
		}
	}
}

// TestReportPlacesIssues: a schema's own checks are placed after decoding,
// and a missing field already explained by a misspelt key is left out.
func TestReportPlacesIssues(t *testing.T) {
	doc, _ := Parse(Runbook, "s.yaml", []byte("nam: n\ntags:\n  - a\n  - \"\"\n"))
	var s sample
	decoded := doc.Decode(&s)
	var c Checker
	c.Required(Path{}, "name", s.Name)
	c.Addf(Path{"tags", 1}, "empty tag")
	got := append(decoded, doc.Report(c.Issues, decoded)...)
	got.Sort()
	want := "s.yaml:1:1: unknown field \"nam\" (did you mean \"name\"?)\ns.yaml:4:5: empty tag"
	if got.Error() != want {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	if line, col := Position(Runbook, "s.yaml", []byte("a: 1\ntags: [x]\n"), Path{"tags", 0}); line != 2 || col != 8 {
		t.Errorf("position %d:%d", line, col)
	}
}

func TestDecodeValues(t *testing.T) {
	vals, probs := DecodeValues(Answers, "a.json", []byte(`{"down": true, "users": 12, "kind": [x, y]}`))
	if probs != nil || len(vals) != 3 || vals[0].Key != "down" || vals[1].Value != 12.0 || vals[2].Line != 1 {
		t.Fatalf("got %+v %v", vals, probs)
	}
	if _, probs := DecodeValues(Answers, "a.yaml", []byte("- a\n")); len(probs) != 1 || !strings.Contains(probs[0].Msg, "expected a mapping of question ids") {
		t.Errorf("list: %v", probs)
	}
}

func TestDidYouMean(t *testing.T) {
	if got := DidYouMean("isolat", []string{"isolate", "restore"}); got != ` (did you mean "isolate"?)` {
		t.Errorf("got %q", got)
	}
	if got := DidYouMean("zzzzzz", []string{"isolate"}); got != "" {
		t.Errorf("got %q", got)
	}
}
