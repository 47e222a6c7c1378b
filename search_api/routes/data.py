"""/data/: the bulk data dumps (gzipped JSON Lines of the whole public catalogue), their schema and manifests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from indexer.dump import DUMP_NAME, SCHEMA_FILE, dump_directory, list_dumps, manifest_name
from search_api.http.errors import NotFoundError
from search_api.http.harvesting import public_base, refused
from search_api.http.schemas import error_responses

router = APIRouter(tags=["data"])
_MEDIA = {".gz": "application/gzip", ".json": "application/json"}


@router.get("/data/", responses=error_responses(429))
async def data_index(request: Request) -> Any:
    """The published dumps, newest first: file URL, records, bytes, sha256, and each platform's attribution.

    Each line of a dump is one record as /api/v1/records/{id} gives it (without `raw`), valid against `schema`.
    """
    if (limited := refused(request)) is not None:
        return limited
    base = public_base(request)
    dumps = await run_in_threadpool(list_dumps, dump_directory(request.app.state.settings))
    for manifest in dumps:
        manifest["url"] = f"{base}/data/{manifest['file']}"
        manifest["manifest_url"] = f"{base}/data/{manifest_name(str(manifest['file']))}"
    return {"schema": f"{base}/data/{SCHEMA_FILE}", "dumps": dumps}


@router.get("/data/{name}", include_in_schema=False)  # files: listed by /data/
async def data_file(request: Request, name: str) -> Response:
    """One dump file, its manifest or the schema."""
    if (limited := refused(request)) is not None:
        return limited
    directory = dump_directory(request.app.state.settings)
    dump = name.removesuffix(".json") + ".jsonl.gz" if name.endswith(".json") and name != SCHEMA_FILE else name
    if name != SCHEMA_FILE and not DUMP_NAME.match(dump):
        raise NotFoundError("no such data file; /data/ lists them")
    path = directory / name
    if not path.is_file():
        raise NotFoundError("no such data file; /data/ lists them")
    suffix = ".gz" if name.endswith(".gz") else ".json"
    return FileResponse(path, media_type=_MEDIA[suffix], headers={"Cache-Control": "public, max-age=3600"})
