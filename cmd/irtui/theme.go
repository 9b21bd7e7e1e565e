package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/irtui/irtui/internal/config"
)

// chooseTheme decides the app's palette: --theme, else ui.theme in the
// configuration, else the terminal's COLORFGBG ("0;15": black on white,
// light). nil leaves it to the terminal's answer to the background colour
// query.
func chooseTheme(flag, configured, colorfgbg string) (*bool, error) {
	for _, t := range []string{flag, configured} {
		t = strings.ToLower(strings.TrimSpace(t))
		switch t {
		case "", "auto":
			continue
		case "light", "dark":
			dark := t == "dark"
			return &dark, nil
		default:
			return nil, fmt.Errorf("theme %q: use %s", t, strings.Join(config.Themes, ", "))
		}
	}
	return darkFromColorFGBG(colorfgbg), nil
}

// darkFromColorFGBG reads the background from COLORFGBG ("fg;bg" or
// "fg;default;bg", as rxvt and others set it): 7 and 15 are light, 0–6
// and 8 dark; anything else is not known.
func darkFromColorFGBG(v string) *bool {
	parts := strings.Split(strings.TrimSpace(v), ";")
	if len(parts) < 2 {
		return nil
	}
	bg, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		return nil
	}
	switch {
	case slices.Contains([]int{7, 15}, bg):
		dark := false
		return &dark
	case bg >= 0 && bg <= 8:
		dark := true
		return &dark
	}
	return nil
}
