// Package deadline computes working-day deadlines on the Vietnamese civil
// service calendar: Monday to Friday, minus the public holidays of the Labour
// Code (New Year, Tết from the lunar calendar, Hùng Kings' day, 30 April,
// 1 May, National Day and an adjacent day), compensatory days for holidays
// that fall on a weekend, and each year's announced swaps from a versioned
// calendar file.
package deadline

import (
	"fmt"
	"time"
)

// ICT is Vietnam's time zone (UTC+7, no daylight saving since 1975).
var ICT = time.FixedZone("ICT", 7*3600)

// Date is a civil date in Vietnam.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, normalising overflow (31 April is 1 May).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, ICT))
}

func mmonth(m int) time.Month { return time.Month(m) }

// DateOf returns the Vietnamese civil date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(ICT).Date()
	return Date{y, m, d}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, ICT)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// Start is the first instant of the date in Vietnam.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, ICT) }

// End is the last instant of the date in Vietnam (a deadline runs to it).
func (d Date) End() time.Time { return d.Start().AddDate(0, 0, 1).Add(-time.Nanosecond) }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.Start().Weekday() }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.Start().Before(o.Start()) }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return o.Before(d) }

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err == nil {
		*d = v
	}
	return err
}
