//! Periods of analysis: ISO-8601 weeks, calendar months and quarters, written `2022-W23`,
//! `2022-06` and `2022-Q2`; the period that contains a date; and inclusive ranges of
//! periods that the panel, the index and the detectors index by position.
//!
//! Every period has an *ordinal*, a count of periods of its granularity since a fixed
//! origin, so that ranges, offsets and positions are integer arithmetic. Years are limited
//! to 1–9999 so that every period has a four-digit name.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A period text or value that was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("period '{input}': {reason}")]
pub struct PeriodError {
    /// What was given.
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl PeriodError {
    fn new(input: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            reason: reason.into(),
        }
    }
}

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// An ISO-8601 week, Monday to Sunday, in its ISO week-numbering year.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter (January–March is Q1).
    Quarter,
}

impl Granularity {
    /// All granularities, shortest first.
    pub const ALL: [Granularity; 3] = [Self::Week, Self::Month, Self::Quarter];

    /// The lowercase name (`week`, `month`, `quarter`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
        }
    }

    /// How many periods make a year, for seasonal comparisons: 52 weeks (an ISO year of 53
    /// weeks shifts the comparison by one week), 12 months, 4 quarters.
    pub fn periods_per_year(&self) -> usize {
        match self {
            Self::Week => 52,
            Self::Month => 12,
            Self::Quarter => 4,
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            "quarter" => Ok(Self::Quarter),
            _ => Err(PeriodError::new(
                s,
                "granularity is one of week, month, quarter",
            )),
        }
    }
}

/// The first year a period may fall in.
pub const MIN_YEAR: i32 = 1;
/// The last year a period may fall in.
pub const MAX_YEAR: i32 = 9999;

/// One week, month or quarter. Periods of the same granularity order by time; comparing
/// periods of different granularities orders weeks before months before quarters, which
/// means nothing in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    granularity: Granularity,
    year: i32,
    number: u8,
}

/// Number of ISO weeks (52 or 53) in an ISO week-numbering year.
fn iso_weeks_in_year(year: i32) -> u8 {
    // 28 December always falls in the last ISO week of its year.
    NaiveDate::from_ymd_opt(year, 12, 28)
        .map(|d| d.iso_week().week() as u8)
        .unwrap_or(52)
}

/// Days from 0001-01-01 (a Monday) to `date`.
fn days_from_origin(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 1
}

impl Period {
    /// Builds a period from its year and number (ISO week 1–52/53, month 1–12, quarter
    /// 1–4), checking both.
    pub fn new(granularity: Granularity, year: i32, number: u32) -> Result<Self, PeriodError> {
        let name = || format!("{year} {granularity} {number}");
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError::new(
                name(),
                format!("year must be {MIN_YEAR}-{MAX_YEAR}"),
            ));
        }
        let max = match granularity {
            Granularity::Week => u32::from(iso_weeks_in_year(year)),
            Granularity::Month => 12,
            Granularity::Quarter => 4,
        };
        if number == 0 || number > max {
            return Err(PeriodError::new(
                name(),
                format!("{granularity} must be 1-{max} in {year}"),
            ));
        }
        Ok(Self {
            granularity,
            year,
            number: number as u8,
        })
    }

    /// The period of `granularity` that contains `date`. Returns `None` only for dates
    /// outside years 1–9999 (of the ISO week-numbering year, for weeks).
    pub fn containing(granularity: Granularity, date: NaiveDate) -> Option<Self> {
        let (year, number) = match granularity {
            Granularity::Week => {
                let w = date.iso_week();
                (w.year(), w.week())
            }
            Granularity::Month => (date.year(), date.month()),
            Granularity::Quarter => (date.year(), (date.month() - 1) / 3 + 1),
        };
        Self::new(granularity, year, number).ok()
    }

    /// The granularity.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// The year (the ISO week-numbering year for weeks).
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The week (1–53), month (1–12) or quarter (1–4) within the year.
    pub fn number(&self) -> u32 {
        u32::from(self.number)
    }

    /// The position of this period in the sequence of all periods of its granularity
    /// (0 for the first period of year 0 for months and quarters; 0 for the week starting
    /// Monday 0001-01-01 for weeks). Consecutive periods have consecutive ordinals.
    pub fn ordinal(&self) -> i64 {
        let y = i64::from(self.year);
        let n = i64::from(self.number);
        match self.granularity {
            Granularity::Month => y * 12 + n - 1,
            Granularity::Quarter => y * 4 + n - 1,
            Granularity::Week => days_from_origin(self.first_day()).div_euclid(7),
        }
    }

    /// The period with this ordinal, if it falls in years 1–9999.
    pub fn from_ordinal(granularity: Granularity, ordinal: i64) -> Option<Self> {
        match granularity {
            Granularity::Month | Granularity::Quarter => {
                let per = if granularity == Granularity::Month {
                    12
                } else {
                    4
                };
                let year = i32::try_from(ordinal.div_euclid(per)).ok()?;
                let number = u32::try_from(ordinal.rem_euclid(per) + 1).ok()?;
                Self::new(granularity, year, number).ok()
            }
            Granularity::Week => {
                let days = ordinal.checked_mul(7)?.checked_add(1)?;
                let monday = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)?;
                Self::containing(Granularity::Week, monday)
            }
        }
    }

    /// The period `n` periods later (earlier when negative), if it falls in years 1–9999.
    pub fn offset(&self, n: i64) -> Option<Self> {
        Self::from_ordinal(self.granularity, self.ordinal().checked_add(n)?)
    }

    /// The next period, if any.
    pub fn next(&self) -> Option<Self> {
        self.offset(1)
    }

    /// The previous period, if any.
    pub fn prev(&self) -> Option<Self> {
        self.offset(-1)
    }

    /// The first day of the period (the Monday, for weeks).
    pub fn first_day(&self) -> NaiveDate {
        let n = self.number();
        let date = match self.granularity {
            Granularity::Week => NaiveDate::from_isoywd_opt(self.year, n, Weekday::Mon),
            Granularity::Month => NaiveDate::from_ymd_opt(self.year, n, 1),
            Granularity::Quarter => NaiveDate::from_ymd_opt(self.year, (n - 1) * 3 + 1, 1),
        };
        // A constructed period always has a valid first day; MIN is an unreachable fallback.
        date.unwrap_or(NaiveDate::MIN)
    }

    /// The last day of the period (the Sunday, for weeks).
    pub fn last_day(&self) -> NaiveDate {
        let n = self.number();
        let last_month = match self.granularity {
            Granularity::Week => {
                return self
                    .first_day()
                    .checked_add_days(chrono::Days::new(6))
                    .unwrap_or(NaiveDate::MAX)
            }
            Granularity::Month => n,
            Granularity::Quarter => n * 3,
        };
        let next_first = if last_month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, last_month + 1, 1)
        };
        next_first
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether `date` falls in this period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.granularity {
            Granularity::Week => write!(f, "{:04}-W{:02}", self.year, self.number),
            Granularity::Month => write!(f, "{:04}-{:02}", self.year, self.number),
            Granularity::Quarter => write!(f, "{:04}-Q{}", self.year, self.number),
        }
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Parses `YYYY-MM` (month), `YYYY-Www` (ISO week) or `YYYY-Qq` (quarter); the letters
    /// may be lowercase.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let bad = || {
            PeriodError::new(
                s,
                "expected YYYY-MM (month), YYYY-Www (ISO week) or YYYY-Qq (quarter)",
            )
        };
        let (year, rest) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 {
            return Err(bad());
        }
        let year = digits(year).ok_or_else(bad)? as i32;
        let (granularity, number) = match rest.as_bytes().first() {
            Some(b'W') | Some(b'w') if rest.len() == 3 => (Granularity::Week, &rest[1..]),
            Some(b'Q') | Some(b'q') if rest.len() == 2 => (Granularity::Quarter, &rest[1..]),
            Some(_) if rest.len() == 2 => (Granularity::Month, rest),
            _ => return Err(bad()),
        };
        let number = digits(number).ok_or_else(bad)?;
        Self::new(granularity, year, number).map_err(|e| PeriodError::new(s, e.reason))
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// An inclusive, non-empty range of consecutive periods of one granularity. Positions
/// `0..len()` index the periods in order; the panel and the index use them as the time
/// axis of their arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeriodRange {
    first: Period,
    last: Period,
    first_ordinal: i64,
    len: usize,
}

impl PeriodRange {
    /// The periods from `first` to `last`, both included. Both must have the same
    /// granularity and `first` must not come after `last`.
    pub fn new(first: Period, last: Period) -> Result<Self, PeriodError> {
        let name = || format!("{first}..{last}");
        if first.granularity != last.granularity {
            return Err(PeriodError::new(
                name(),
                "both ends must have the same granularity",
            ));
        }
        if last < first {
            return Err(PeriodError::new(
                name(),
                "the first period is after the last",
            ));
        }
        let first_ordinal = first.ordinal();
        let len = usize::try_from(last.ordinal() - first_ordinal + 1)
            .map_err(|_| PeriodError::new(name(), "too many periods"))?;
        Ok(Self {
            first,
            last,
            first_ordinal,
            len,
        })
    }

    /// The periods of `granularity` covering `from` to `to` (inclusive), if both dates fall
    /// in years 1–9999 and `from` is not after `to`.
    pub fn covering(
        granularity: Granularity,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Self, PeriodError> {
        let name = || format!("{from}..{to}");
        let first = Period::containing(granularity, from)
            .ok_or_else(|| PeriodError::new(name(), "date outside years 1-9999"))?;
        let last = Period::containing(granularity, to)
            .ok_or_else(|| PeriodError::new(name(), "date outside years 1-9999"))?;
        Self::new(first, last)
    }

    /// The first period.
    pub fn first(&self) -> Period {
        self.first
    }

    /// The last period.
    pub fn last(&self) -> Period {
        self.last
    }

    /// The granularity of every period in the range.
    pub fn granularity(&self) -> Granularity {
        self.first.granularity
    }

    /// The number of periods (at least 1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a range holds at least one period.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The period at position `i`, if `i < len()`.
    pub fn get(&self, i: usize) -> Option<Period> {
        if i >= self.len {
            return None;
        }
        Period::from_ordinal(self.granularity(), self.first_ordinal + i as i64)
    }

    /// The position of `period`, if it has this range's granularity and falls inside it.
    pub fn index_of(&self, period: Period) -> Option<usize> {
        if period.granularity != self.granularity() {
            return None;
        }
        self.position_of_ordinal(period.ordinal())
    }

    /// The position of the period containing `date`, if inside the range.
    pub fn index_of_date(&self, date: NaiveDate) -> Option<usize> {
        self.position_of_ordinal(self.ordinal_of_date(date))
    }

    /// The ordinal, in this range's granularity, of the period containing `date` (plain
    /// arithmetic, so fast; defined for every date). Subtracting `first().ordinal()` gives
    /// a position that is negative before the range and `len()` or more after it.
    pub fn ordinal_of_date(&self, date: NaiveDate) -> i64 {
        match self.granularity() {
            Granularity::Month => i64::from(date.year()) * 12 + i64::from(date.month0()),
            Granularity::Quarter => i64::from(date.year()) * 4 + i64::from(date.month0() / 3),
            Granularity::Week => days_from_origin(date).div_euclid(7),
        }
    }

    fn position_of_ordinal(&self, ordinal: i64) -> Option<usize> {
        let i = ordinal.checked_sub(self.first_ordinal)?;
        usize::try_from(i).ok().filter(|&i| i < self.len)
    }

    /// Whether `period` is in the range.
    pub fn contains(&self, period: Period) -> bool {
        self.index_of(period).is_some()
    }

    /// The periods in order.
    pub fn iter(&self) -> PeriodIter {
        PeriodIter {
            granularity: self.granularity(),
            next: self.first_ordinal,
            end: self.first_ordinal + self.len as i64,
        }
    }
}

impl fmt::Display for PeriodRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

impl FromStr for PeriodRange {
    type Err = PeriodError;

    /// Parses `FIRST..LAST`, e.g. `2020-01..2022-12`, or a single period.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            Some((a, b)) => Self::new(a.parse()?, b.parse()?),
            None => {
                let p: Period = s.parse()?;
                Self::new(p, p)
            }
        }
    }
}

impl IntoIterator for &PeriodRange {
    type Item = Period;
    type IntoIter = PeriodIter;
    fn into_iter(self) -> PeriodIter {
        self.iter()
    }
}

/// Iterates over the periods of a [`PeriodRange`] in order.
#[derive(Debug, Clone)]
pub struct PeriodIter {
    granularity: Granularity,
    next: i64,
    end: i64,
}

impl Iterator for PeriodIter {
    type Item = Period;

    fn next(&mut self) -> Option<Period> {
        if self.next >= self.end {
            return None;
        }
        let p = Period::from_ordinal(self.granularity, self.next);
        self.next += 1;
        p
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.end - self.next).unwrap_or(0);
        (n, Some(n))
    }
}

impl ExactSizeIterator for PeriodIter {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_formats_each_granularity() {
        for s in [
            "2022-06", "2022-W23", "2022-Q2", "0001-01", "9999-Q4", "2020-W53",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(p("2022-w05"), p("2022-W05"));
        assert_eq!(p("2022-q3").to_string(), "2022-Q3");
        assert_eq!(p("2022-06").granularity(), Granularity::Month);
        assert_eq!(p("2022-W23").number(), 23);
        assert_eq!(p("2022-Q2").year(), 2022);
    }

    #[test]
    fn rejects_malformed_and_out_of_range_periods() {
        for s in [
            "",
            "2022",
            "22-06",
            "2022-6",
            "2022-13",
            "2022-00",
            "2022-W00",
            "2022-W5",
            // 2021 has 52 ISO weeks; 2020 has 53.
            "2021-W53",
            "2022-Q0",
            "2022-Q5",
            "2022-M06",
            "2022-06-01",
            "+2022-06",
            "0000-01",
            "2022-0x",
        ] {
            assert!(s.parse::<Period>().is_err(), "{s:?} should be rejected");
        }
        let err = "2021-W53".parse::<Period>().unwrap_err();
        assert!(err.reason.contains("1-52"), "{err}");
    }

    #[test]
    fn the_period_containing_a_date_follows_iso_weeks() {
        // 2021-01-03 is a Sunday in ISO week 53 of 2020; 2021-01-04 starts 2021-W01.
        assert_eq!(
            Period::containing(Granularity::Week, d("2021-01-03")).unwrap(),
            p("2020-W53")
        );
        assert_eq!(
            Period::containing(Granularity::Week, d("2021-01-04")).unwrap(),
            p("2021-W01")
        );
        // 2024-12-30 (a Monday) belongs to 2025-W01.
        assert_eq!(
            Period::containing(Granularity::Week, d("2024-12-30")).unwrap(),
            p("2025-W01")
        );
        assert_eq!(
            Period::containing(Granularity::Month, d("2022-06-30")).unwrap(),
            p("2022-06")
        );
        assert_eq!(
            Period::containing(Granularity::Quarter, d("2022-09-30")).unwrap(),
            p("2022-Q3")
        );
        assert_eq!(
            Period::containing(Granularity::Quarter, d("2022-10-01")).unwrap(),
            p("2022-Q4")
        );
    }

    #[test]
    fn first_and_last_days_bound_each_period() {
        assert_eq!(p("2024-02").last_day(), d("2024-02-29"));
        assert_eq!(p("2023-02").last_day(), d("2023-02-28"));
        assert_eq!(p("2022-12").last_day(), d("2022-12-31"));
        assert_eq!(p("2022-Q1").first_day(), d("2022-01-01"));
        assert_eq!(p("2022-Q1").last_day(), d("2022-03-31"));
        assert_eq!(p("2022-Q4").last_day(), d("2022-12-31"));
        assert_eq!(p("2020-W53").first_day(), d("2020-12-28"));
        assert_eq!(p("2020-W53").last_day(), d("2021-01-03"));
        assert_eq!(p("9999-12").last_day(), d("9999-12-31"));
        assert!(p("2022-06").contains(d("2022-06-15")));
        assert!(!p("2022-06").contains(d("2022-07-01")));
    }

    #[test]
    fn every_day_of_three_years_lies_in_exactly_its_period() {
        let mut day = d("2019-12-25");
        while day <= d("2023-01-10") {
            for g in Granularity::ALL {
                let per = Period::containing(g, day).unwrap();
                assert!(per.contains(day), "{day} not in {per}");
                let next = per.next().unwrap();
                assert_eq!(next.first_day(), per.last_day().succ_opt().unwrap());
                assert_eq!(next.prev().unwrap(), per);
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn ordinals_are_consecutive_and_round_trip() {
        for g in Granularity::ALL {
            let start = Period::containing(g, d("1998-11-20")).unwrap();
            let mut cur = start;
            for k in 0..700 {
                assert_eq!(cur.ordinal(), start.ordinal() + k);
                assert_eq!(Period::from_ordinal(g, cur.ordinal()), Some(cur));
                assert_eq!(start.offset(k), Some(cur));
                assert!(cur < cur.next().unwrap());
                cur = cur.next().unwrap();
            }
        }
        assert_eq!(p("0001-01").prev(), None);
        assert_eq!(p("9999-Q4").next(), None);
        assert_eq!(p("2022-06").offset(-18), Some(p("2020-12")));
        assert_eq!(p("2022-Q1").offset(-1), Some(p("2021-Q4")));
    }

    #[test]
    fn ranges_iterate_and_index() {
        let r: PeriodRange = "2021-11..2022-02".parse().unwrap();
        let names: Vec<String> = r.iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["2021-11", "2021-12", "2022-01", "2022-02"]);
        assert_eq!(r.len(), 4);
        assert_eq!(r.iter().len(), 4);
        assert_eq!(r.get(2), Some(p("2022-01")));
        assert_eq!(r.get(4), None);
        assert_eq!(r.index_of(p("2022-02")), Some(3));
        assert_eq!(r.index_of(p("2022-03")), None);
        assert_eq!(r.index_of(p("2021-10")), None);
        assert_eq!(r.index_of(p("2022-Q1")), None);
        assert_eq!(r.index_of_date(d("2021-12-31")), Some(1));
        assert_eq!(r.index_of_date(d("2022-03-01")), None);
        assert_eq!(r.to_string(), "2021-11..2022-02");

        let w = PeriodRange::covering(Granularity::Week, d("2020-12-20"), d("2021-01-10")).unwrap();
        let names: Vec<String> = (&w).into_iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["2020-W51", "2020-W52", "2020-W53", "2021-W01"]);
        assert_eq!(w.index_of_date(d("2021-01-03")), Some(2));
        for (i, per) in w.iter().enumerate() {
            assert_eq!(w.index_of(per), Some(i));
            assert_eq!(w.index_of_date(per.first_day()), Some(i));
            assert_eq!(w.index_of_date(per.last_day()), Some(i));
        }

        assert!(PeriodRange::new(p("2022-02"), p("2022-01")).is_err());
        assert!(PeriodRange::new(p("2022-01"), p("2022-Q1")).is_err());
        assert_eq!("2022-Q2".parse::<PeriodRange>().unwrap().len(), 1);
    }

    #[test]
    fn granularities_parse_and_serialize() {
        assert_eq!("Month".parse::<Granularity>().unwrap(), Granularity::Month);
        assert!("day".parse::<Granularity>().is_err());
        assert_eq!(Granularity::Week.periods_per_year(), 52);
        let per: Period = String::from("2022-W01").try_into().unwrap();
        assert_eq!(String::from(per), "2022-W01");
    }
}
