//! IANA time zones, named as the tz database names them.

use chrono_tz::Tz;

/// Parses an IANA zone name ("Asia/Almaty"); the error says what was wrong.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!("`{name}` is not an IANA time zone name (e.g. Asia/Almaty, Europe/Moscow)")
    })
}

/// The version of the tz database compiled into this binary; recorded beside
/// every instant derived from a wall time, so instants can be recomputed when
/// the rules change.
pub fn tzdata_version() -> &'static str {
    chrono_tz::IANA_TZDB_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_by_iana_name() {
        assert_eq!(parse_zone("Asia/Almaty").unwrap(), chrono_tz::Asia::Almaty);
        assert_eq!(
            parse_zone("Asia/Qostanay").unwrap(),
            chrono_tz::Asia::Qostanay
        );
        assert!(parse_zone("Asia/Astana")
            .unwrap_err()
            .contains("Asia/Astana"));
        assert!(parse_zone("UTC+5").is_err());
    }

    #[test]
    fn tzdata_knows_kazakhstan_moved_to_utc_plus_5() {
        // tzdata 2024a is the first release with the 2024-03-01 change.
        assert!(tzdata_version() >= "2024a", "{}", tzdata_version());
    }
}

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("{local} does not exist in {zone}: the clocks jump from {gap_start} to {gap_end} that day (a daylight-saving gap); choose a time outside it")]
    Gap {
        local: NaiveDateTime,
        zone: String,
        gap_start: String,
        gap_end: String,
    },
    #[error("{local} in {zone} is at offset {allowed}, not {given}")]
    OffsetMismatch {
        local: NaiveDateTime,
        zone: String,
        given: String,
        allowed: String,
    },
}

/// The instant of a wall time in a zone. A time in a daylight-saving gap does
/// not exist and is rejected, naming the gap. A time in an overlap (it occurs
/// twice) is the earlier instant, unless `offset` picks the later one.
pub fn resolve_local(
    local: NaiveDateTime,
    zone: Tz,
    offset: Option<FixedOffset>,
) -> Result<DateTime<Utc>, LocalTimeError> {
    let candidates: Vec<DateTime<Tz>> = match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t],
        LocalResult::Ambiguous(earlier, later) => vec![earlier, later],
        LocalResult::None => {
            let (gap_start, gap_end) = gap_around(local, zone);
            return Err(LocalTimeError::Gap {
                local,
                zone: zone.name().to_string(),
                gap_start,
                gap_end,
            });
        }
    };
    match offset {
        None => Ok(candidates[0].with_timezone(&Utc)),
        Some(wanted) => candidates
            .iter()
            .find(|t| t.offset().fix() == wanted)
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| LocalTimeError::OffsetMismatch {
                local,
                zone: zone.name().to_string(),
                given: wanted.to_string(),
                allowed: candidates
                    .iter()
                    .map(|t| t.offset().fix().to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            }),
    }
}

/// The wall-clock bounds of the gap that swallows `local`, for the error
/// message: the last valid minute before, and the first valid after.
fn gap_around(local: NaiveDateTime, zone: Tz) -> (String, String) {
    let step = chrono::Duration::minutes(1);
    let mut before = local;
    let mut after = local;
    // Gaps are at most a few hours (a day at the very worst: Samoa 2011).
    for _ in 0..(26 * 60) {
        if zone.from_local_datetime(&before).earliest().is_some() {
            break;
        }
        before -= step;
    }
    for _ in 0..(26 * 60) {
        if zone.from_local_datetime(&after).earliest().is_some() {
            break;
        }
        after += step;
    }
    (
        (before + step).format("%H:%M").to_string(),
        after.format("%H:%M").to_string(),
    )
}

#[cfg(test)]
mod local_time_tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&at(y, m, d, h, min))
    }

    #[test]
    fn kazakhstan_moved_from_utc_plus_6_to_plus_5_on_2024_03_01() {
        let almaty = chrono_tz::Asia::Almaty;
        assert_eq!(
            resolve_local(at(2023, 6, 10, 10, 0), almaty, None).unwrap(),
            utc(2023, 6, 10, 4, 0)
        );
        assert_eq!(
            resolve_local(at(2025, 6, 10, 10, 0), almaty, None).unwrap(),
            utc(2025, 6, 10, 5, 0)
        );
        // The night of the change the clocks went back from 00:00 on 1 March to 23:00 on 29 February,
        // so 23:30 on 29 February happened twice: the earlier instant is at UTC+6.
        assert_eq!(
            resolve_local(at(2024, 2, 29, 23, 30), almaty, None).unwrap(),
            utc(2024, 2, 29, 17, 30)
        );
        assert_eq!(
            resolve_local(at(2024, 3, 1, 12, 0), almaty, None).unwrap(),
            utc(2024, 3, 1, 7, 0)
        );
    }

    #[test]
    fn a_time_in_a_dst_gap_is_rejected_naming_the_gap() {
        let err =
            resolve_local(at(2025, 3, 30, 2, 30), chrono_tz::Europe::Berlin, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2025-03-30 02:30:00 does not exist in Europe/Berlin: the clocks jump from 02:00 to 03:00 \
             that day (a daylight-saving gap); choose a time outside it"
        );
    }

    #[test]
    fn an_ambiguous_time_takes_the_earlier_instant_unless_an_offset_says_otherwise() {
        let berlin = chrono_tz::Europe::Berlin;
        let local = at(2025, 10, 26, 2, 30);
        assert_eq!(
            resolve_local(local, berlin, None).unwrap(),
            utc(2025, 10, 26, 0, 30)
        );
        let cet = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            resolve_local(local, berlin, Some(cet)).unwrap(),
            utc(2025, 10, 26, 1, 30)
        );
        let cest = FixedOffset::east_opt(7200).unwrap();
        assert_eq!(
            resolve_local(local, berlin, Some(cest)).unwrap(),
            utc(2025, 10, 26, 0, 30)
        );
        let wrong = FixedOffset::east_opt(5 * 3600).unwrap();
        let err = resolve_local(local, berlin, Some(wrong))
            .unwrap_err()
            .to_string();
        assert!(err.contains("+02:00 or +01:00"), "{err}");
    }

    #[test]
    fn moscow_has_no_dst_since_2014() {
        let moscow = chrono_tz::Europe::Moscow;
        assert_eq!(
            resolve_local(at(2025, 3, 30, 2, 30), moscow, None).unwrap(),
            utc(2025, 3, 29, 23, 30)
        );
        assert_eq!(
            resolve_local(at(2025, 10, 26, 2, 30), moscow, None).unwrap(),
            utc(2025, 10, 25, 23, 30)
        );
    }
}

/// Years a wall time may be in: those of timeframes, which also keeps instants
/// within what both databases store.
const WALL_TIME_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// A local wall time as people write it ("2025-06-10T10:00", seconds and a
/// space instead of `T` allowed), with the offset when one is given to pick
/// one reading of an ambiguous time ("2025-10-26T02:30+01:00").
pub fn parse_wall_time(text: &str) -> Result<(NaiveDateTime, Option<FixedOffset>), String> {
    use chrono::Datelike;
    let text = text.trim();
    let parsed = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        Some((t.naive_local(), Some(*t.offset())))
    } else {
        ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%:z"]
            .iter()
            .find_map(|form| DateTime::parse_from_str(text, form).ok())
            .map(|t| (t.naive_local(), Some(*t.offset())))
            .or_else(|| {
                [
                    "%Y-%m-%dT%H:%M",
                    "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%d %H:%M",
                    "%Y-%m-%d %H:%M:%S",
                ]
                .iter()
                .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
                .map(|t| (t, None))
            })
    };
    let (local, offset) = parsed.ok_or_else(|| {
        format!("`{text}` is not a local date and time; write e.g. 2025-06-10T10:00 (or 2025-10-26T02:30+01:00 to pick an offset)")
    })?;
    if !WALL_TIME_YEARS.contains(&local.year()) {
        return Err(format!(
            "year {} is out of range: years are {} to {}",
            local.year(),
            WALL_TIME_YEARS.start(),
            WALL_TIME_YEARS.end()
        ));
    }
    Ok((local, offset))
}

#[cfg(test)]
mod wall_time_tests {
    use super::*;

    #[test]
    fn wall_times_with_and_without_offsets() {
        let (t, o) = parse_wall_time("2025-06-10T10:00").unwrap();
        assert_eq!(
            (t.to_string(), o),
            ("2025-06-10 10:00:00".to_string(), None)
        );
        assert_eq!(
            parse_wall_time("2025-06-10 10:00:30")
                .unwrap()
                .0
                .to_string(),
            "2025-06-10 10:00:30"
        );
        let (_, o) = parse_wall_time("2025-10-26T02:30+01:00").unwrap();
        assert_eq!(o, FixedOffset::east_opt(3600));
        assert!(parse_wall_time("10 June 2025")
            .unwrap_err()
            .contains("is not a local date and time"));
        assert!(parse_wall_time("1800-01-01T10:00")
            .unwrap_err()
            .contains("out of range"));
    }
}
