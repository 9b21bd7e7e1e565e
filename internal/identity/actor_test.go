package identity

import (
	"os"
	"os/user"
	"testing"
)

func TestFromEnv(t *testing.T) {
	t.Setenv("IRTUI_USER", "")
	os.Unsetenv("IRTUI_USER")
	if got := FromEnv(" dana "); got.ID() != "dana" {
		t.Errorf("FromEnv(flag) = %q", got.ID())
	}
	if u, err := user.Current(); err == nil {
		if got := FromEnv(""); got.ID() != u.Username || got.OSUser != u.Username {
			t.Errorf("FromEnv() = %+v; want the OS user %q", got, u.Username)
		}
	}
	t.Setenv("IRTUI_USER", "erin")
	if got := FromEnv(""); got.ID() != "erin" {
		t.Errorf("FromEnv with IRTUI_USER = %q", got.ID())
	}
	if got := FromEnv("dana"); got.ID() != "dana" {
		t.Errorf("the flag must win over IRTUI_USER, got %q", got.ID())
	}
}
