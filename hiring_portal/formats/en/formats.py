"""English date and time formats for staff: a day, a month by name, a 24-hour
time. Django's own ("Nov. 28, 2026, 10:35 p.m.") ends in a dot that a sentence
then doubles ("… on Nov. 28, 2026, 10:35 p.m..") and reads ambiguously beside
the Chinese pages' 24-hour clock."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
