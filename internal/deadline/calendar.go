package deadline

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Holiday is a day off on a weekday or weekend.
type Holiday struct {
	Date Date   `json:"date"`
	Name string `json:"name"` // Vietnamese name
	Kind string `json:"kind"` // "holiday", "compensatory" or "swap"
}

// CalendarFile holds each year's announced decisions: the exact Tết days
// when they differ from the default, the day next to National Day, and the
// swaps (a weekday off, a weekend day worked in exchange). Its Version names
// the edition, so deadlines can say which calendar computed them.
type CalendarFile struct {
	Version string               `json:"version"`
	Years   map[string]YearRules `json:"years"`
}

// YearRules are one year's announced decisions.
type YearRules struct {
	Tet                 []Date     `json:"tet,omitempty"`                   // the whole announced Tết break (weekend days included), replacing the default five days
	NationalDayAdjacent *Date      `json:"national_day_adjacent,omitempty"` // 1 or 3 September
	DaysOff             []NamedDay `json:"days_off,omitempty"`              // extra weekdays off (swaps)
	WorkingDays         []NamedDay `json:"working_days,omitempty"`          // weekend days worked (swaps)
	Source              string     `json:"source,omitempty"`                // the official notice
}

// NamedDay is a date with a note.
type NamedDay struct {
	Date Date   `json:"date"`
	Note string `json:"note"`
}

//go:embed calendar.json
var defaultCalendar []byte

// DefaultCalendarFile returns the calendar file shipped with pakn.
func DefaultCalendarFile() CalendarFile {
	f, err := ParseCalendarFile(defaultCalendar)
	if err != nil {
		panic("embedded calendar.json: " + err.Error())
	}
	return f
}

// LoadCalendarFile reads and checks a calendar file.
func LoadCalendarFile(path string) (CalendarFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return CalendarFile{}, err
	}
	return ParseCalendarFile(b)
}

// MaxCalendarFile bounds the size of a calendar file.
const MaxCalendarFile = 1 << 20

// ParseCalendarFile parses and checks a calendar file: every date must lie
// in its year, days off must be weekdays and working days weekend days.
func ParseCalendarFile(b []byte) (CalendarFile, error) {
	var f CalendarFile
	if len(b) > MaxCalendarFile {
		return f, errors.New("calendar file too large")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("calendar file: %w", err)
	}
	if f.Version == "" {
		return f, errors.New("calendar file: version is required")
	}
	for ys, r := range f.Years {
		y, err := strconv.Atoi(ys)
		if err != nil || y < 1976 || y > 2199 {
			return f, fmt.Errorf("calendar file: year %q", ys)
		}
		check := func(d Date, what string) error {
			if d.Year != y {
				return fmt.Errorf("calendar file: %s %s is not in %d", what, d, y)
			}
			return nil
		}
		for _, d := range r.Tet {
			if err := check(d, "Tết day"); err != nil {
				return f, err
			}
		}
		if r.NationalDayAdjacent != nil {
			if d := *r.NationalDayAdjacent; d != NewDate(y, 9, 1) && d != NewDate(y, 9, 3) {
				return f, fmt.Errorf("calendar file: national_day_adjacent %s must be 1 or 3 September", d)
			}
		}
		for _, d := range r.DaysOff {
			if err := check(d.Date, "day off"); err != nil {
				return f, err
			}
			if wd := d.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				return f, fmt.Errorf("calendar file: day off %s is already a weekend day", d.Date)
			}
		}
		for _, d := range r.WorkingDays {
			if err := check(d.Date, "working day"); err != nil {
				return f, err
			}
			if wd := d.Date.Weekday(); wd != time.Saturday && wd != time.Sunday {
				return f, fmt.Errorf("calendar file: working day %s is not a weekend day", d.Date)
			}
		}
	}
	return f, nil
}

// Calendar answers which days are working days.
type Calendar struct {
	file  CalendarFile
	mu    sync.Mutex
	years map[int]*year
	due   map[Date]Date // NextPublicUpdate by day: every submission of a day has the same due date
}

type year struct {
	off     map[Date]Holiday
	working map[Date]bool
	list    []Holiday
}

// NewCalendar returns a calendar using the decisions in f.
func NewCalendar(f CalendarFile) *Calendar {
	return &Calendar{file: f, years: map[int]*year{}, due: map[Date]Date{}}
}

// Version is the edition of the calendar file in use.
func (c *Calendar) Version() string { return c.file.Version }

func (c *Calendar) year(y int) *year {
	c.mu.Lock()
	defer c.mu.Unlock()
	if yr, ok := c.years[y]; ok {
		return yr
	}
	yr := c.build(y)
	c.years[y] = yr
	return yr
}

// build computes year y's days off.
func (c *Calendar) build(y int) *year {
	rules := c.file.Years[strconv.Itoa(y)]
	yr := &year{off: map[Date]Holiday{}, working: map[Date]bool{}}
	add := func(d Date, name, kind string) {
		if _, ok := yr.off[d]; !ok {
			yr.off[d] = Holiday{Date: d, Name: name, Kind: kind}
		}
	}
	add(NewDate(y, time.January, 1), "Tết Dương lịch", "holiday")
	decided := map[Date]bool{} // announced breaks already include their weekend days
	if len(rules.Tet) > 0 {
		for _, d := range rules.Tet {
			add(d, "Tết Nguyên đán", "holiday")
			decided[d] = true
		}
	} else if tet, ok := FromLunar(LunarDate{Day: 1, Month: 1, Year: y}); ok {
		// Default: the last day of the old lunar year and the first four of the new.
		for i := -1; i <= 3; i++ {
			add(tet.AddDays(i), "Tết Nguyên đán", "holiday")
		}
	}
	if hung, ok := FromLunar(LunarDate{Day: 10, Month: 3, Year: y}); ok {
		add(hung, "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "holiday")
	}
	add(NewDate(y, time.April, 30), "Ngày Chiến thắng", "holiday")
	add(NewDate(y, time.May, 1), "Ngày Quốc tế lao động", "holiday")
	nd := NewDate(y, time.September, 2)
	add(nd, "Quốc khánh", "holiday")
	if rules.NationalDayAdjacent != nil {
		add(*rules.NationalDayAdjacent, "Quốc khánh (ngày liền kề)", "holiday")
	} else if nd.Weekday() == time.Tuesday {
		add(nd.AddDays(-1), "Quốc khánh (ngày liền kề)", "holiday")
	} else {
		add(nd.AddDays(1), "Quốc khánh (ngày liền kề)", "holiday")
	}
	// A holiday on a weekly rest day gives a compensatory day off on the
	// next working day.
	var days []Date
	for d := range yr.off {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	for _, d := range days {
		if wd := d.Weekday(); (wd != time.Saturday && wd != time.Sunday) || decided[d] {
			continue
		}
		n := d.AddDays(1)
		for {
			_, taken := yr.off[n]
			if wd := n.Weekday(); !taken && wd != time.Saturday && wd != time.Sunday {
				break
			}
			n = n.AddDays(1)
		}
		add(n, "Nghỉ bù ("+yr.off[d].Name+")", "compensatory")
	}
	for _, d := range rules.DaysOff {
		add(d.Date, "Nghỉ hoán đổi: "+d.Note, "swap")
	}
	for _, d := range rules.WorkingDays {
		yr.working[d.Date] = true
	}
	for _, h := range yr.off {
		yr.list = append(yr.list, h)
	}
	sort.Slice(yr.list, func(i, j int) bool { return yr.list[i].Date.Before(yr.list[j].Date) })
	return yr
}

// Holidays lists year y's days off (holidays, compensatory days, swaps).
func (c *Calendar) Holidays(y int) []Holiday {
	return append([]Holiday(nil), c.year(y).list...)
}

// IsWorkingDay reports whether civil servants work on d.
func (c *Calendar) IsWorkingDay(d Date) bool {
	yr := c.year(d.Year)
	if yr.working[d] {
		return true
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, off := yr.off[d]
	return !off
}

// AddWorkingDays returns the n-th working day after from.
func (c *Calendar) AddWorkingDays(from Date, n int) Date {
	d := from
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// WorkingDaysBetween counts the working days after from up to and including to.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// Status of a deadline.
type Status string

// The deadline statuses.
const (
	OnTime  Status = "on_time"
	DueSoon Status = "due_soon" // three working days or fewer remain
	Overdue Status = "overdue"
)

// DueSoonDays is how many remaining working days count as "due soon".
const DueSoonDays = 3

// StatusAt says where a deadline stands at now, with the working days left
// after today (0 when due today or overdue).
func (c *Calendar) StatusAt(due Date, now time.Time) (Status, int) {
	today := DateOf(now)
	if today.After(due) {
		return Overdue, 0
	}
	left := c.WorkingDaysBetween(today, due)
	if left <= DueSoonDays {
		return DueSoon, left
	}
	return OnTime, left
}

// PublicUpdateDays is the legal limit, in working days, for an agency to
// publish the status or result of a petition after receipt or after its
// previous public update.
const PublicUpdateDays = 20

// NextPublicUpdate returns the date by which the next public update is due
// when the previous one (or the receipt) happened at last.
func (c *Calendar) NextPublicUpdate(last time.Time) Date {
	from := DateOf(last)
	c.mu.Lock()
	due, ok := c.due[from]
	c.mu.Unlock()
	if ok {
		return due
	}
	due = c.AddWorkingDays(from, PublicUpdateDays)
	c.mu.Lock()
	if len(c.due) > 4096 {
		c.due = map[Date]Date{}
	}
	c.due[from] = due
	c.mu.Unlock()
	return due
}
