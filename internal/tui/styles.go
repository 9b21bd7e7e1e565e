package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// palette names every colour the app uses by its role. There is one for
// dark and one for light backgrounds; components never hold colours.
type palette struct {
	fg, subtle, faint, accent, border     color.Color
	ok, warn, danger, info, highlightBg   color.Color
	sev1, sev2, sev3, sev4                color.Color
	selectedFg, selectedBg, headerBg      color.Color
	overdueFg, overdueBg, tabActiveBorder color.Color
}

func darkPalette() palette {
	return palette{
		fg: lipgloss.Color("#E6E6E6"), subtle: lipgloss.Color("#9A9AA6"), faint: lipgloss.Color("#5C5C66"),
		accent: lipgloss.Color("#7AA2F7"), border: lipgloss.Color("#3B3F51"),
		ok: lipgloss.Color("#73C991"), warn: lipgloss.Color("#E5C07B"), danger: lipgloss.Color("#F7768E"),
		info: lipgloss.Color("#7DCFFF"), highlightBg: lipgloss.Color("#2A2E3F"),
		sev1: lipgloss.Color("#FF5370"), sev2: lipgloss.Color("#FF9E64"), sev3: lipgloss.Color("#E0AF68"), sev4: lipgloss.Color("#7DCFFF"),
		selectedFg: lipgloss.Color("#FFFFFF"), selectedBg: lipgloss.Color("#3D59A1"), headerBg: lipgloss.Color("#1F2335"),
		overdueFg: lipgloss.Color("#FFFFFF"), overdueBg: lipgloss.Color("#C0392B"), tabActiveBorder: lipgloss.Color("#7AA2F7"),
	}
}

func lightPalette() palette {
	return palette{
		fg: lipgloss.Color("#1F2328"), subtle: lipgloss.Color("#57606A"), faint: lipgloss.Color("#8C959F"),
		accent: lipgloss.Color("#0550AE"), border: lipgloss.Color("#D0D7DE"),
		ok: lipgloss.Color("#1A7F37"), warn: lipgloss.Color("#9A6700"), danger: lipgloss.Color("#CF222E"),
		info: lipgloss.Color("#0969DA"), highlightBg: lipgloss.Color("#EAEEF2"),
		sev1: lipgloss.Color("#CF222E"), sev2: lipgloss.Color("#BC4C00"), sev3: lipgloss.Color("#9A6700"), sev4: lipgloss.Color("#0969DA"),
		selectedFg: lipgloss.Color("#FFFFFF"), selectedBg: lipgloss.Color("#0969DA"), headerBg: lipgloss.Color("#EAEEF2"),
		overdueFg: lipgloss.Color("#FFFFFF"), overdueBg: lipgloss.Color("#CF222E"), tabActiveBorder: lipgloss.Color("#0969DA"),
	}
}

// Styles are every style the app draws with, built from one palette.
type Styles struct {
	Dark bool

	App, Header, HeaderTitle, HeaderUser lipgloss.Style
	Title, Subtle, Faint, Bold, Accent   lipgloss.Style
	OK, Warn, Danger, Info               lipgloss.Style
	Selected, Cursor                     lipgloss.Style
	Box, BoxFocused                      lipgloss.Style
	Tab, TabActive                       lipgloss.Style
	StatusInfo, StatusErr                lipgloss.Style
	Overlay                              lipgloss.Style
	Overdue                              lipgloss.Style
	BarFull, BarEmpty                    lipgloss.Style
	Sev                                  [5]lipgloss.Style // index 1..4
	Label                                lipgloss.Style
}

// NewStyles builds the styles for a dark or light background.
func NewStyles(dark bool) Styles {
	p := lightPalette()
	if dark {
		p = darkPalette()
	}
	s := Styles{Dark: dark}
	base := lipgloss.NewStyle().Foreground(p.fg)
	s.App = base
	s.Header = lipgloss.NewStyle().Background(p.headerBg).Foreground(p.fg).Padding(0, 1)
	s.HeaderTitle = lipgloss.NewStyle().Background(p.headerBg).Foreground(p.accent).Bold(true)
	s.HeaderUser = lipgloss.NewStyle().Background(p.headerBg).Foreground(p.subtle)
	s.Title = lipgloss.NewStyle().Foreground(p.accent).Bold(true)
	s.Subtle = lipgloss.NewStyle().Foreground(p.subtle)
	s.Faint = lipgloss.NewStyle().Foreground(p.faint)
	s.Bold = base.Bold(true)
	s.Accent = lipgloss.NewStyle().Foreground(p.accent)
	s.OK = lipgloss.NewStyle().Foreground(p.ok)
	s.Warn = lipgloss.NewStyle().Foreground(p.warn)
	s.Danger = lipgloss.NewStyle().Foreground(p.danger).Bold(true)
	s.Info = lipgloss.NewStyle().Foreground(p.info)
	s.Selected = lipgloss.NewStyle().Foreground(p.selectedFg).Background(p.selectedBg)
	s.Cursor = lipgloss.NewStyle().Foreground(p.accent).Bold(true)
	s.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.border).Padding(0, 1)
	s.BoxFocused = s.Box.BorderForeground(p.accent)
	s.Tab = lipgloss.NewStyle().Foreground(p.subtle).Padding(0, 1)
	s.TabActive = lipgloss.NewStyle().Foreground(p.accent).Bold(true).Underline(true).Padding(0, 1)
	s.StatusInfo = lipgloss.NewStyle().Foreground(p.info)
	s.StatusErr = lipgloss.NewStyle().Foreground(p.danger).Bold(true)
	s.Overlay = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).Padding(1, 2)
	s.Overdue = lipgloss.NewStyle().Foreground(p.overdueFg).Background(p.overdueBg).Bold(true)
	s.BarFull = lipgloss.NewStyle().Foreground(p.ok)
	s.BarEmpty = lipgloss.NewStyle().Foreground(p.faint)
	s.Sev[1] = lipgloss.NewStyle().Foreground(p.sev1).Bold(true)
	s.Sev[2] = lipgloss.NewStyle().Foreground(p.sev2).Bold(true)
	s.Sev[3] = lipgloss.NewStyle().Foreground(p.sev3)
	s.Sev[4] = lipgloss.NewStyle().Foreground(p.sev4)
	s.Label = lipgloss.NewStyle().Foreground(p.subtle).Width(12)
	return s
}

// severity renders "SEV1".."SEV4" in its colour.
func (s Styles) severity(sev string) string {
	r := sevRank(sev)
	return s.Sev[r].Render(sev)
}

func sevRank(sev string) int {
	if len(sev) == 4 && sev[:3] == "SEV" && sev[3] >= '1' && sev[3] <= '4' {
		return int(sev[3] - '0')
	}
	return 4
}
