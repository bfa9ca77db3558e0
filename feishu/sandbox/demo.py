"""The worlds the sandbox starts with.

- :func:`catalogue`: job processes and jobs only. Always present, so that the
  candidates the lenient sandbox makes up for unknown ids have a job and a
  written-exam stage that ``job_processes`` lists.
- :func:`demo_world` (``--world demo``): the catalogue plus talents and
  applications for ``make run``. It holds the candidates of the sample sheets in
  ``shared/samples`` (copied here; the sandbox never reads ``shared/``):

  - ``vendor_scores.csv`` rows 2-9: one active application each in a written-exam
    stage, found by the email or mobile the sheet gives;
  - 刘洋: two active applications, both in written-exam stages;
  - 黄丽: her only application is terminated (候选人拒绝);
  - 林晨's email belongs to 林琛; 何静's email is unknown to Feishu;
  - every application id of ``exam_results.csv`` and ``exam_results_zh.csv``:
    active, in a written-exam stage;
  - a few candidates in screening, interview and offer stages.
"""

from __future__ import annotations

from typing import Any

DAY_MS = 86_400_000

# (id, zh_name, en_name, type, stages as (id, zh_name, en_name, type))
PROCESSES: list[tuple[str, str, str, int, list[tuple[str, str, str, int]]]] = [
    (
        "6960663240925956501",
        "社招标准流程",
        "Experienced hire",
        1,
        [
            ("6960663240925956511", "简历筛选", "Resume screening", 1),
            ("6960663240925956512", "笔试", "Written test", 3),
            ("6960663240925956513", "技术面试", "Technical interview", 4),
            ("6960663240925956514", "终面", "Final interview", 4),
            ("6960663240925956515", "Offer 沟通", "Offer", 5),
            ("6960663240925956516", "待入职", "Awaiting onboarding", 6),
            ("6960663240925956517", "已入职", "Onboarded", 7),
        ],
    ),
    (
        "6960663240925956502",
        "校招流程",
        "Campus hire",
        2,
        [
            ("6960663240925956521", "简历初筛", "Screening", 1),
            ("6960663240925956522", "在线笔试", "Online test", 3),
            ("6960663240925956523", "专业笔试", "Subject test", 3),
            ("6960663240925956524", "业务面试", "Interview", 4),
            ("6960663240925956525", "HR 面试", "HR interview", 4),
            ("6960663240925956526", "Offer", "Offer", 5),
            ("6960663240925956527", "待入职", "Awaiting onboarding", 6),
        ],
    ),
    (
        "6960663240925956503",
        "产品岗流程",
        "Product roles",
        1,
        [
            ("6960663240925956531", "简历筛选", "Resume screening", 1),
            ("6960663240925956532", "逻辑测评", "Logic assessment", 3),
            ("6960663240925956533", "面试", "Interview", 4),
            ("6960663240925956534", "Offer", "Offer", 5),
        ],
    ),
]

# short name -> (id, title, code, process id)
JOBS = {
    "backend": (
        "6990000000000000101",
        "后端工程师",
        "BE-2026-01",
        "6960663240925956501",
    ),
    "frontend": (
        "6990000000000000102",
        "前端工程师",
        "FE-2026-01",
        "6960663240925956501",
    ),
    "data": ("6990000000000000103", "数据分析师", "DA-2026-C1", "6960663240925956502"),
    "algo": ("6990000000000000104", "算法工程师", "ALG-2026-C1", "6960663240925956502"),
    "pm": ("6990000000000000105", "产品经理", "PM-2026-01", "6960663240925956503"),
    "java": (
        "6990000000000000106",
        "Java 后端开发（校招）",
        "JAVA-2026-C1",
        "6960663240925956502",
    ),
}
SCREENING = {
    "6960663240925956501": "6960663240925956511",
    "6960663240925956502": "6960663240925956521",
    "6960663240925956503": "6960663240925956531",
}

# vendor_scores.csv: (name, email, mobile, [(application id, job, stage id)])
VENDOR = [
    (
        "陈思远",
        "siyuan.chen@example.com",
        "13800138001",
        [("6912000000000000001", "backend", "6960663240925956512")],
    ),
    (
        "李雪",
        "li.xue@example.com",
        "13800138002",
        [("6912000000000000002", "backend", "6960663240925956512")],
    ),
    (
        "王浩然",
        "haoran.wang@example.com",
        "13900139002",
        [("6912000000000000003", "frontend", "6960663240925956512")],
    ),
    (
        "赵一鸣",
        "yiming.zhao@example.com",
        "13900139003",
        [("6912000000000000004", "frontend", "6960663240925956512")],
    ),
    (
        "孙悦",
        "yue.sun@example.com",
        "13900139004",
        [("6912000000000000005", "data", "6960663240925956522")],
    ),
    (
        "周子涵",
        "zihan.zhou@example.com",
        "13900139005",
        [("6912000000000000006", "data", "6960663240925956523")],
    ),
    (
        "吴佳怡",
        "jiayi.wu@example.com",
        "13900139006",
        [("6912000000000000007", "algo", "6960663240925956522")],
    ),
    (
        "郑凯",
        "kai.zheng@example.com",
        "13900139007",
        [("6912000000000000008", "algo", "6960663240925956523")],
    ),
    (
        "刘洋",
        "yang.liu@example.com",
        "13900139008",
        [
            ("6912000000000000009", "backend", "6960663240925956512"),
            ("6912000000000000010", "java", "6960663240925956522"),
        ],
    ),
    (
        "黄丽",
        "li.huang@example.com",
        "13900139009",
        [("6912000000000000011", "pm", "6960663240925956532")],
    ),
    (
        "林琛",
        "chen.lin@example.com",
        "13900139010",
        [("6912000000000000012", "pm", "6960663240925956532")],
    ),
]
TERMINATED = {"6912000000000000011": ("候选人拒绝", "Candidate declined", 22)}

# exam_results.csv and exam_results_zh.csv: application id -> paper's job
SHEET_APPLICATIONS = {
    "6891565253964859661": "backend", "6891565253964867580": "frontend",
    "6891565253964875499": "frontend", "6891565253964883418": "pm",
    "6891565253964891337": "backend", "6891565253964899256": "java",
    "6891565253964907175": "pm", "6891565253964915094": "backend",
    "6891565253964923013": "frontend", "6891565253964930932": "data",
    "6891565253964938851": "pm", "6891565253964946770": "pm",
    "6891565253964954689": "backend", "6891565253964962608": "backend",
    "6891565253964970527": "java", "6891565253964978446": "pm",
    "6891565253964986365": "frontend", "6891565253964994284": "java",
    "6891565253965002203": "backend", "6891565253965010122": "pm",
    "6891565253965018041": "backend", "6891565253965025960": "java",
    "6891565253965033879": "java", "6891565253965041798": "java",
    "6891565253965049717": "java", "6891565253965057636": "java",
    "6891565253965065555": "pm", "6891565253965073474": "backend",
    "6891565253965081393": "pm", "6891565253965089312": "java",
}  # fmt: skip
SHEET_NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘敏",
    "陈杰",
    "杨磊",
    "赵强",
    "黄婷",
    "周涛",
    "吴昊",
    "徐静怡",
    "孙浩",
    "马丽娟",
    "朱晓明",
    "胡斌",
    "郭鹏",
    "何宇",
    "高翔",
    "林雨桐",
    "罗晨阳",
    "郑雅文",
    "梁博",
    "谢欣然",
    "宋佳",
    "唐俊杰",
    "许梦琪",
    "韩旭",
    "冯子轩",
    "邓文博",
    "曹雨萱",
]
# The written-exam stage a job's applications wait in (Java alternates).
EXAM_STAGE = {
    "backend": "6960663240925956512",
    "frontend": "6960663240925956512",
    "data": "6960663240925956522",
    "algo": "6960663240925956522",
    "pm": "6960663240925956532",
    "java": "6960663240925956522",
}

# Candidates further along or not yet there: (name, job, path of stage ids)
ELSEWHERE = [
    (
        "彭嘉怡",
        "backend",
        ["6960663240925956511", "6960663240925956512", "6960663240925956513"],
    ),
    (
        "曾思雨",
        "frontend",
        [
            "6960663240925956511",
            "6960663240925956512",
            "6960663240925956513",
            "6960663240925956515",
        ],
    ),
    (
        "萧云飞",
        "data",
        ["6960663240925956521", "6960663240925956522", "6960663240925956524"],
    ),
    ("田甜", "algo", ["6960663240925956521"]),
    (
        "董立",
        "pm",
        [
            "6960663240925956531",
            "6960663240925956532",
            "6960663240925956533",
            "6960663240925956534",
        ],
    ),
]
TALENT_ONLY = [("袁野", "ye.yuan@example.com", "13900139011")]


def catalogue() -> dict[str, Any]:
    return {
        "processes": [
            {
                "id": pid,
                "zh_name": zh,
                "en_name": en,
                "type": kind,
                "stages": [
                    {"id": sid, "zh_name": szh, "en_name": sen, "type": stype}
                    for sid, szh, sen, stype in stages
                ],
            }
            for pid, zh, en, kind, stages in PROCESSES
        ],
        "jobs": [
            {"id": jid, "name": title, "code": code, "process_id": pid}
            for jid, title, code, pid in JOBS.values()
        ],
    }


def _application(
    app_id: str, talent_id: str, job: str, path: list[str], now: int, age_days: int
) -> dict[str, Any]:
    """An application that went through ``path`` (stage ids), a day per stage,
    the last one entered ``age_days`` before ``now`` minus the path length."""
    start = now - (age_days + len(path)) * DAY_MS
    times = []
    for i, stage_id in enumerate(path):
        entry: dict[str, Any] = {"stage_id": stage_id, "enter_time": start + i * DAY_MS}
        if i + 1 < len(path):
            entry["exit_time"] = start + (i + 1) * DAY_MS
        times.append(entry)
    return {
        "id": app_id,
        "talent_id": talent_id,
        "job_id": JOBS[job][0],
        "stage_id": path[-1],
        "active": True,
        "create_time": start,
        "stage_time_list": times,
    }


def demo_world(now: int) -> dict[str, Any]:
    talents: list[dict[str, Any]] = []
    applications: list[dict[str, Any]] = []

    def talent(name: str, email: str | None, mobile: str) -> str:
        talent_id = f"70100000000000{len(talents) + 1:05d}"
        talents.append(
            {
                "id": talent_id,
                "name": name,
                "email": email,
                "mobile_code": "86",
                "mobile_number": mobile,
            }
        )
        return talent_id

    for name, email, mobile, apps in VENDOR:
        talent_id = talent(name, email, mobile)
        for app_id, job, stage_id in apps:
            path = [SCREENING[JOBS[job][3]], stage_id]
            app = _application(app_id, talent_id, job, path, now, len(applications))
            if app_id in TERMINATED:
                zh, en, kind = TERMINATED[app_id]
                app["active"] = False
                app["termination"] = {"reason_zh": zh, "reason_en": en, "type": kind}
            applications.append(app)
    for i, (app_id, job) in enumerate(SHEET_APPLICATIONS.items()):
        email = f"cand{app_id[-6:]}@example.com"
        talent_id = talent(SHEET_NAMES[i], email, f"1370000{i:04d}")
        stage_id = EXAM_STAGE[job]
        if job == "java" and i % 2:
            stage_id = "6960663240925956523"
        path = [SCREENING[JOBS[job][3]], stage_id]
        applications.append(_application(app_id, talent_id, job, path, now, i % 9))
    for i, (name, job, path) in enumerate(ELSEWHERE):
        talent_id = talent(name, None, f"1360000{i:04d}")
        app_id = f"69120000000000001{i:02d}"
        applications.append(_application(app_id, talent_id, job, path, now, i))
    for name, email, mobile in TALENT_ONLY:
        talent(name, email, mobile)
    return {**catalogue(), "talents": talents, "applications": applications}


WORLDS = {"empty": lambda now: catalogue(), "demo": demo_world}
