package main

import "testing"

func TestChooseTheme(t *testing.T) {
	light, dark, unknown := "light", "dark", "unknown"
	for _, c := range []struct {
		flag, config, colorfgbg, want string
	}{
		{"", "", "0;15", light}, // black on white: the terminal says light
		{"", "", "15;0", dark},
		{"", "", "12;default;7", light},
		{"", "", "default;default", unknown}, // ask the terminal
		{"", "", "", unknown},
		{"", "dark", "0;15", dark},   // the configuration wins over the terminal
		{"light", "dark", "", light}, // the flag wins over the configuration
		{"auto", "", "0;15", light},
	} {
		got, err := chooseTheme(c.flag, c.config, c.colorfgbg)
		if err != nil {
			t.Fatal(err)
		}
		name := unknown
		if got != nil {
			name = map[bool]string{true: dark, false: light}[*got]
		}
		if name != c.want {
			t.Errorf("theme(%q, %q, COLORFGBG=%q) = %s, want %s", c.flag, c.config, c.colorfgbg, name, c.want)
		}
	}
	if _, err := chooseTheme("purple", "", ""); err == nil {
		t.Error("an unknown theme was accepted")
	}
}
