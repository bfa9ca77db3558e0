"""make run's demo world, read through the client the way the portal will: the
vendor score sheet's candidates (shared/samples/README.md) and the sample
results' applications."""

from __future__ import annotations

import csv

import pytest

from tests.feishu.feishu_helpers import REPO_ROOT

# vendor_scores.csv rows 2-13: 姓名, 邮箱, 手机号 as written in the sheet.
SHEET = [
    ("陈思远", "siyuan.chen@example.com", "13800138001"),
    ("李雪", "Li.Xue@Example.com", ""),
    ("王浩然", "", "+86 139-0013-9002"),
    ("赵一鸣", "", "139 0013 9003"),
    ("孙悦", "yue.sun@example.com", "13900139004"),
    ("周子涵", "zihan.zhou@example.com", ""),
    ("吴佳怡", "jiayi.wu@example.com", ""),
    ("郑凯", "kai.zheng@example.com", ""),
    ("刘洋", "yang.liu@example.com", ""),
    ("黄丽", "li.huang@example.com", ""),
    ("林晨", "chen.lin@example.com", ""),
    ("何静", "jing.he@example.com", ""),
]
MATCHED = SHEET[:8]
SAMPLES = REPO_ROOT.parent / "shared" / "samples"


@pytest.fixture
def demo(sandbox, client):
    sandbox.load_world("demo")
    # Dozens of get_detail calls in a row: lift the 10/s limit for these tests.
    sandbox.configure(rate_limits={"application_detail": [1000, 10000]})
    return client


def talents_of(client, email: str, mobile: str) -> set[str]:
    """Email first, then mobile, one kind per call, as the portal will."""
    if email:
        found = client.find_talents(emails=[email])
        if found:
            return {t.talent_id for t in found}
    if mobile:
        return {t.talent_id for t in client.find_talents(mobiles=[mobile])}
    return set()


def applications_of(client, talent_id: str, active_status: str = "1"):
    page = client.list_applications(talent_id=talent_id, active_status=active_status)
    assert not page.has_more
    return [client.get_application_detail(i) for i in page.items]


@pytest.mark.parametrize(
    ("name", "email", "mobile"), MATCHED, ids=[r[0] for r in MATCHED]
)
def test_rows_2_to_9_match_one_active_application_in_a_written_exam(
    demo, name, email, mobile
):
    (talent_id,) = talents_of(demo, email, mobile)

    (detail,) = applications_of(demo, talent_id)

    assert detail.talent_name == name
    assert detail.in_written_exam


def test_an_email_and_a_mobile_of_the_same_row_find_the_same_talent(demo):
    by_email = demo.find_talents(emails=["yue.sun@example.com"])
    by_mobile = demo.find_talents(mobiles=["13900139004"])

    assert [t.talent_id for t in by_email] == [t.talent_id for t in by_mobile]


def test_liu_yang_has_two_active_applications_both_in_written_exams(demo):
    (talent_id,) = talents_of(demo, "yang.liu@example.com", "")

    details = applications_of(demo, talent_id)

    assert len(details) == 2
    assert all(d.in_written_exam for d in details)
    assert len({d.job_id for d in details}) == 2


def test_huang_lis_only_application_is_terminated_with_a_reason(demo):
    (talent_id,) = talents_of(demo, "li.huang@example.com", "")

    assert applications_of(demo, talent_id) == []
    (detail,) = applications_of(demo, talent_id, active_status="3")
    assert not detail.active
    assert detail.termination_reason_zh == "候选人拒绝"
    assert detail.termination_reason_en == "Candidate declined"


def test_lin_chens_email_belongs_to_lin_chen_with_another_character(demo):
    (talent_id,) = talents_of(demo, "chen.lin@example.com", "")

    (detail,) = applications_of(demo, talent_id)

    assert detail.talent_name == "林琛"
    assert detail.in_written_exam


def test_he_jings_email_is_unknown_to_feishu(demo):
    assert demo.find_talents(emails=["jing.he@example.com"]) == []


def written_exam_worklist(client) -> set[str]:
    """feishu-candidates.md sequence (c): type-3 stages, then their applications."""
    stages = [
        stage.id
        for process in client.list_job_processes().items
        for stage in process.written_exam_stages
    ]
    ids: set[str] = set()
    for stage_id in stages:
        token = None
        while True:
            page = client.list_applications(
                stage_id=stage_id, active_status="1", page_token=token
            )
            ids.update(page.items)
            if not page.has_more:
                break
            token = page.page_token
    return ids


SAMPLE_IDS = {
    "6891565253964859661", "6891565253964867580", "6891565253964875499",
    "6891565253964883418", "6891565253964891337", "6891565253964899256",
    "6891565253964907175", "6891565253964915094", "6891565253964923013",
    "6891565253964930932", "6891565253964938851", "6891565253964946770",
    "6891565253964954689", "6891565253964962608", "6891565253964970527",
    "6891565253964978446", "6891565253964986365", "6891565253964994284",
    "6891565253965002203", "6891565253965010122", "6891565253965018041",
    "6891565253965025960", "6891565253965033879", "6891565253965041798",
    "6891565253965049717", "6891565253965057636", "6891565253965065555",
    "6891565253965073474", "6891565253965081393", "6891565253965089312",
}  # fmt: skip


def test_every_sample_result_application_is_active_in_a_written_exam(demo, sandbox):
    sandbox.configure(strict_world=True)  # the world's own, not made-up ones

    worklist = written_exam_worklist(demo)

    assert worklist >= SAMPLE_IDS
    for application_id in sorted(SAMPLE_IDS)[:5]:
        detail = demo.get_application_detail(application_id)
        assert detail is not None and detail.in_written_exam
        assert detail.talent_name and detail.job_name


def test_the_sample_sheets_still_list_these_ids():
    if not SAMPLES.is_dir():
        pytest.skip(f"no shared samples at {SAMPLES}")
    ids = set()
    for name in ("exam_results.csv", "exam_results_zh.csv"):
        with (SAMPLES / name).open(encoding="utf-8-sig") as fh:
            ids.update(row[0] for row in list(csv.reader(fh))[1:])
    with (SAMPLES / "vendor_scores.csv").open(encoding="utf-8-sig") as fh:
        rows = [tuple(row[:3]) for row in list(csv.reader(fh))[1:]]

    assert ids == SAMPLE_IDS
    assert rows == SHEET


def test_some_candidates_are_past_the_written_exam_or_before_it(demo, sandbox):
    sandbox.configure(strict_world=True)
    page = demo.list_applications(active_status="1")
    assert not page.has_more

    types = {demo.get_application_detail(i).stage_type for i in page.items}

    assert {1, 3, 4, 5} <= types
