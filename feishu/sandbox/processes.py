"""``GET /hire/v1/job_processes`` (feishu-candidates.md section 5)."""

from __future__ import annotations

from feishu.sandbox.gateway import authorize
from feishu.sandbox.protocol import Reply, Request, page, page_args, success
from feishu.sandbox.state import State


def list_job_processes(req: Request, state: State) -> Reply:
    authorize(req, state, "job_processes")
    page_size, offset = page_args(req, default_size=10, max_size=100)
    with state.lock:
        items = [
            {
                "id": process.id,
                "zh_name": process.zh_name,
                "en_name": process.en_name,
                "type": process.type,
                "stage_list": [
                    {
                        "id": stage.id,
                        "zh_name": stage.zh_name,
                        "en_name": stage.en_name,
                        "type": stage.type,
                    }
                    for stage in process.stages
                ],
            }
            for process in state.world.processes.values()
        ]
    return success(page(items, page_size, offset))
