"""NIK and KK number validation and masks (server/services/nik.py): pure, no database."""
from __future__ import annotations

from datetime import date

import pytest

from server.services.errors import ValidationError
from server.services.nik import (
    PROVINCE_CODES, is_valid_nik, mask_name, mask_nik, parse_nik, validate_kk_number,
)

TODAY = date(2026, 11, 21)


def nik(region: str = "317101", ddmmyy: str = "120585", serial: str = "0001") -> str:
    return region + ddmmyy + serial


def refused(value: str, part: str, field: str = "nik") -> ValidationError:
    check = parse_nik if field == "nik" else validate_kk_number
    with pytest.raises(ValidationError) as err:
        check(value, today=TODAY)
    assert err.value.details["field"] == field
    assert err.value.details["part"] == part
    assert " / " in err.value.message  # Indonesian / English
    return err.value


def test_male_nik():
    info = parse_nik(nik(), today=TODAY)
    assert (info.province, info.regency, info.district) == ("31", "71", "01")
    assert info.region == "317101"
    assert info.birth_date == date(1985, 5, 12)
    assert info.sex == "M"
    assert info.serial == "0001"
    assert info.nik == "3171011205850001"


def test_female_nik_has_forty_added_to_the_day():
    info = parse_nik(nik(ddmmyy="520585"), today=TODAY)
    assert info.sex == "F"
    assert info.birth_date == date(1985, 5, 12)
    assert parse_nik(nik(ddmmyy="710190"), today=TODAY).birth_date == date(1990, 1, 31)
    assert parse_nik(nik(ddmmyy="410190"), today=TODAY).birth_date == date(1990, 1, 1)


def test_separators_and_whitespace_are_ignored():
    assert parse_nik("  3171 0112 0585 0001 ", today=TODAY).nik == "3171011205850001"
    assert parse_nik("3171.0112.0585.0001", today=TODAY).nik == "3171011205850001"


@pytest.mark.parametrize("ddmmyy, expected", [
    ("010124", date(2024, 1, 1)),      # 2024 is past: 20yy
    ("211126", date(2026, 11, 21)),    # today itself is not in the future
    ("221126", date(1926, 11, 22)),    # tomorrow would be future: 19yy
    ("011226", date(1926, 12, 1)),
    ("010199", date(1999, 1, 1)),
    ("290200", date(2000, 2, 29)),     # 2000 was a leap year
    ("290296", date(1996, 2, 29)),
    ("690296", date(1996, 2, 29)),     # female, 29 Feb
])
def test_century_is_the_latest_date_not_in_the_future(ddmmyy, expected):
    assert parse_nik(nik(ddmmyy=ddmmyy), today=TODAY).birth_date == expected


def test_today_defaults_to_the_current_date():
    assert parse_nik(nik()).birth_date == date(1985, 5, 12)


@pytest.mark.parametrize("value", ["317101120585000", "31710112058500011", "", "   ",
                                   "3171O11205850001", "３１７１０１１２０５８５０００１"])
def test_length_and_digits(value):
    refused(value, "length")


def test_non_string_is_refused():
    with pytest.raises(ValidationError):
        parse_nik(3171011205850001)  # type: ignore[arg-type]


def test_length_message_names_the_count():
    err = refused("317101120585000", "length")
    assert "16" in err.message and "15" in err.message


@pytest.mark.parametrize("province", ["00", "10", "20", "22", "30", "37", "50", "54", "60", "66",
                                      "70", "77", "80", "83", "90", "97", "98", "99"])
def test_unknown_province(province):
    err = refused(nik(region=province + "7101"), "province")
    assert province in err.message


def test_province_list():
    expected = ({*map(str, range(11, 20)), "21", *map(str, range(31, 37)), "51", "52", "53",
                 *map(str, range(61, 66)), *map(str, range(71, 77)), "81", "82", *map(str, range(91, 97))})
    assert PROVINCE_CODES == expected
    for code in ["11", "21", "36", "53", "65", "76", "82", "93", "94", "95", "96"]:
        assert is_valid_nik(nik(region=code + "0101"), today=TODAY)


def test_regency_and_district_not_00():
    refused(nik(region="310001"), "regency")
    refused(nik(region="317100"), "district")


@pytest.mark.parametrize("ddmmyy", ["000585", "320585", "350585", "400585", "720585", "990585"])
def test_impossible_day(ddmmyy):
    refused(nik(ddmmyy=ddmmyy), "birth_date")


@pytest.mark.parametrize("ddmmyy", ["120085", "121385", "129985"])
def test_impossible_month(ddmmyy):
    refused(nik(ddmmyy=ddmmyy), "birth_date")


@pytest.mark.parametrize("ddmmyy", ["310285", "300290", "290201", "310485", "710285", "700285", "690201"])
def test_dates_that_do_not_exist(ddmmyy):
    err = refused(nik(ddmmyy=ddmmyy), "birth_date")
    assert "tidak ada" in err.message and "does not exist" in err.message


def test_serial_not_0000():
    refused(nik(serial="0000"), "serial")
    assert parse_nik(nik(serial="9999"), today=TODAY).serial == "9999"


def test_is_valid_nik():
    assert is_valid_nik(nik(), today=TODAY)
    assert not is_valid_nik(nik(serial="0000"), today=TODAY)


def test_kk_number():
    info = validate_kk_number("3171011503200007", today=TODAY)
    assert (info.province, info.regency, info.district) == ("31", "71", "01")
    assert info.issue_date == date(2020, 3, 15)
    assert info.serial == "0007"
    assert info.number == "3171011503200007"
    assert validate_kk_number(" 1471 0105 0121 0003 ", today=TODAY).issue_date == date(2021, 1, 5)


def test_kk_number_has_no_forty_rule_and_the_same_prefix_rules():
    refused("3171015503200007", "issue_date", field="no_kk")   # day 55: no +40 for KK
    refused("3171010003200007", "issue_date", field="no_kk")
    refused("3171013002200007", "issue_date", field="no_kk")   # 30 Feb
    refused("3171011513200007", "issue_date", field="no_kk")   # month 13
    refused("9971011503200007", "province", field="no_kk")
    refused("3100011503200007", "regency", field="no_kk")
    refused("3171001503200007", "district", field="no_kk")
    refused("3171011503200000", "serial", field="no_kk")
    refused("317101150320000", "length", field="no_kk")
    err = refused("317101150320000X", "length", field="no_kk")
    assert err.message.startswith("No. KK")


def test_mask_name():
    assert mask_name("Budi Santoso") == "B*** S******"
    assert mask_name("  Siti   Nur'aini ") == "S*** N*******"
    assert mask_name("A") == "A"
    assert mask_name("") == ""
    assert mask_name("Muhammad bin Abdullah") == "M******* b** A*******"


def test_mask_nik():
    assert mask_nik("3171012345670001") == "317101******0001"
    assert mask_nik("3171 0123 4567 0001") == "317101******0001"
    with pytest.raises(ValidationError):
        mask_nik("12345")
