package deadline

import (
	"testing"
	"time"
)

func d(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// The first day of the lunar new year as published for Vietnam.
var tet = map[int]string{
	2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
	2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
	2028: "2028-01-26", 2029: "2029-02-13",
	// The new moon falls at 23:07 on 2 February 2030 in Vietnam (UTC+7) but
	// after midnight in China (UTC+8): Vietnam's Tết is a day earlier.
	2030: "2030-02-02",
}

func TestTetDates2020To2030(t *testing.T) {
	for y, want := range tet {
		got, ok := FromLunar(LunarDate{Day: 1, Month: 1, Year: y})
		if !ok || got.String() != want {
			t.Errorf("Tết %d = %s, want %s", y, got, want)
		}
		if l := ToLunar(d(want)); l != (LunarDate{Day: 1, Month: 1, Year: y}) {
			t.Errorf("ToLunar(%s) = %+v", want, l)
		}
		// The day before is the last day of the old lunar year (month 12).
		if l := ToLunar(d(want).AddDays(-1)); l.Month != 12 || l.Year != y-1 || (l.Day != 29 && l.Day != 30) {
			t.Errorf("eve of Tết %d is lunar %+v", y, l)
		}
	}
}

func TestKnownLunarDates(t *testing.T) {
	tests := []struct {
		solar string
		lunar LunarDate
	}{
		{"2024-04-18", LunarDate{Day: 10, Month: 3, Year: 2024}},            // Giỗ Tổ Hùng Vương 2024
		{"2025-04-07", LunarDate{Day: 10, Month: 3, Year: 2025}},            // 2025
		{"2026-04-26", LunarDate{Day: 10, Month: 3, Year: 2026}},            // 2026
		{"2020-05-23", LunarDate{Day: 1, Month: 4, Year: 2020, Leap: true}}, // leap 4th month of Canh Tý
		{"2023-03-22", LunarDate{Day: 1, Month: 2, Year: 2023, Leap: true}}, // leap 2nd month of Quý Mão
		{"2025-07-25", LunarDate{Day: 1, Month: 6, Year: 2025, Leap: true}}, // leap 6th month of Ất Tỵ
		{"2024-09-17", LunarDate{Day: 15, Month: 8, Year: 2024}},            // Tết Trung thu 2024
	}
	for _, tt := range tests {
		if got := ToLunar(d(tt.solar)); got != tt.lunar {
			t.Errorf("ToLunar(%s) = %+v, want %+v", tt.solar, got, tt.lunar)
		}
		if got, ok := FromLunar(tt.lunar); !ok || got.String() != tt.solar {
			t.Errorf("FromLunar(%+v) = %s, want %s", tt.lunar, got, tt.solar)
		}
	}
	if _, ok := FromLunar(LunarDate{Day: 1, Month: 5, Year: 2024, Leap: true}); ok {
		t.Error("2024 has no leap 5th month")
	}
}

func TestLunarRoundTripEveryDay(t *testing.T) {
	for day := d("2019-12-01"); day.Before(d("2031-03-01")); day = day.AddDays(1) {
		l := ToLunar(day)
		back, ok := FromLunar(l)
		if !ok || back != day {
			t.Fatalf("%s -> %+v -> %s", day, l, back)
		}
		if l.Day < 1 || l.Day > 30 || l.Month < 1 || l.Month > 12 {
			t.Fatalf("%s -> impossible %+v", day, l)
		}
	}
}

func TestHolidays(t *testing.T) {
	c := NewCalendar(DefaultCalendarFile())
	tests := []struct {
		date    string
		working bool
		why     string
	}{
		{"2026-01-01", false, "New Year (Thursday)"},
		{"2026-01-02", true, "ordinary Friday"},
		{"2026-01-03", false, "Saturday"},
		{"2026-02-16", false, "Tết 2026: eve (30 Tết)"},
		{"2026-02-17", false, "Tết 2026: first day"},
		{"2026-02-20", false, "Tết 2026: fourth day"},
		{"2026-02-23", true, "after Tết 2026"},
		{"2026-04-26", false, "Hùng Kings' day 2026 falls on Sunday"},
		{"2026-04-27", false, "compensatory day for Hùng Kings' day"},
		{"2026-04-28", true, "ordinary Tuesday"},
		{"2026-04-30", false, "30 April"},
		{"2026-05-01", false, "1 May"},
		{"2026-09-02", false, "National Day (Wednesday)"},
		{"2026-09-03", false, "the day after National Day (default)"},
		{"2025-09-01", false, "the day before National Day when 2 September is a Tuesday"},
		{"2025-09-03", true, "Wednesday after a Tuesday National Day"},
		{"2022-01-03", false, "compensatory day for New Year 2022 (a Saturday)"},
		{"2027-05-03", false, "compensatory day for 1 May 2027 (a Saturday)"},
		{"2024-02-14", false, "Tết 2024: compensatory for the Saturday"},
		{"2024-02-15", false, "Tết 2024: compensatory for the Sunday"},
		{"2024-02-16", true, "after Tết 2024 and its compensatory days"},
	}
	for _, tt := range tests {
		if got := c.IsWorkingDay(d(tt.date)); got != tt.working {
			t.Errorf("%s (%s): working = %v, want %v", tt.date, tt.why, got, tt.working)
		}
	}
}

func TestCalendarFileSwaps(t *testing.T) {
	f, err := ParseCalendarFile([]byte(`{"version":"test-1","years":{"2026":{
		"days_off":[{"date":"2026-01-02","note":"nghỉ liền Tết Dương lịch"}],
		"working_days":[{"date":"2026-01-10","note":"làm bù cho 02/01"}],
		"national_day_adjacent":"2026-09-01",
		"tet":["2026-02-14","2026-02-15","2026-02-16","2026-02-17","2026-02-18","2026-02-19","2026-02-20","2026-02-21","2026-02-22"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := NewCalendar(f)
	if c.Version() != "test-1" {
		t.Fatal("version lost")
	}
	for date, want := range map[string]bool{
		"2026-01-02": false, "2026-01-10": true, "2026-09-01": false, "2026-09-03": true,
		"2026-02-14": false, "2026-02-23": true, "2026-02-24": true,
	} {
		if got := c.IsWorkingDay(d(date)); got != want {
			t.Errorf("%s: working = %v, want %v", date, got, want)
		}
	}
	for _, bad := range []string{
		`{"years":{}}`,
		`{"version":"x","years":{"2026":{"days_off":[{"date":"2026-01-03","note":"a Saturday"}]}}}`,
		`{"version":"x","years":{"2026":{"working_days":[{"date":"2026-01-05","note":"a Monday"}]}}}`,
		`{"version":"x","years":{"2026":{"days_off":[{"date":"2027-01-05","note":"wrong year"}]}}}`,
		`{"version":"x","years":{"2026":{"national_day_adjacent":"2026-09-05"}}}`,
		`{"version":"x","years":{"twenty":{}}}`,
		`not json`,
	} {
		if _, err := ParseCalendarFile([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestDeadlines(t *testing.T) {
	c := NewCalendar(DefaultCalendarFile())
	tests := []struct {
		received, due string
		why           string
	}{
		{"2026-02-10", "2026-03-17", "across Tết 2026 (five days off) and weekends"},
		{"2026-06-01", "2026-06-29", "an ordinary month: four weeks"},
		{"2026-04-20", "2026-05-21", "across Hùng Kings' compensatory day, 30 April and 1 May"},
		{"2026-08-24", "2026-09-23", "across National Day and the day after"},
		{"2026-02-14", "2026-03-20", "received on a Saturday during the Tết break"},
	}
	for _, tt := range tests {
		at := d(tt.received).Start().Add(15 * time.Hour)
		if got := c.NextPublicUpdate(at); got.String() != tt.due {
			t.Errorf("received %s (%s): due %s, want %s", tt.received, tt.why, got, tt.due)
		}
	}
	due := d("2026-03-17")
	for _, tt := range []struct {
		now    string
		status Status
		left   int
	}{
		{"2026-03-09", OnTime, 6},
		{"2026-03-12", DueSoon, 3},
		{"2026-03-17", DueSoon, 0},
		{"2026-03-18", Overdue, 0},
	} {
		s, left := c.StatusAt(due, d(tt.now).Start().Add(10*time.Hour))
		if s != tt.status || left != tt.left {
			t.Errorf("at %s: %s with %d left, want %s with %d", tt.now, s, left, tt.status, tt.left)
		}
	}
	// Late evening UTC is already the next day in Vietnam.
	if s, _ := c.StatusAt(due, time.Date(2026, 3, 17, 17, 30, 0, 0, time.UTC)); s != Overdue {
		t.Errorf("00:30 ICT on 18 March is overdue, got %s", s)
	}
}

func FuzzParseCalendarFile(f *testing.F) {
	f.Add([]byte(`{"version":"1","years":{"2026":{"days_off":[{"date":"2026-01-02","note":"x"}]}}}`))
	f.Add([]byte(`{"version":"1","years":{"2030":{"tet":["2030-02-02"]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := ParseCalendarFile(b)
		if err != nil {
			return
		}
		c := NewCalendar(cf)
		for ys := range cf.Years {
			var y int
			for _, ch := range ys {
				y = y*10 + int(ch-'0')
			}
			_ = c.Holidays(y)
			_ = c.AddWorkingDays(NewDate(y, 1, 1), 20)
		}
	})
}
