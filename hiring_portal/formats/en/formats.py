"""English date and time formats for staff: a day, a month by name, a 24-hour
time. Django's own ("Nov. 28, 2026, 10:35 p.m.") ends in a dot that a sentence
then doubles ("… on Nov. 28, 2026, 10:35 p.m..") and reads ambiguously beside
the Chinese pages' 24-hour clock.

A moment is written to the second: the audit pages list calls to Feishu made
within the same minute, and reviewers tell them apart (and match them with
Feishu's own logs) by it."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i:s"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
