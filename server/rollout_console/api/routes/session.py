"""Read-only views: status, effective configuration, cameras, events, the dataset and its episodes.

While no session runs, ``/status`` is the idle server's, cameras and events are the server's, and the
config, dataset and episodes are those of the session that ran last (404 before the first one).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from ...errors import RecordingError
from ..deps import HostDep, SessionDep, StatusDep
from ..schemas import CameraInfo, EpisodePublic, EpisodesPublic, EventPublic, EventsPublic, StatusPublic

router = APIRouter(prefix="/api/v1", tags=["session"])


@router.get("/status", response_model=StatusPublic, operation_id="status")
def status(cache: StatusDep) -> dict[str, Any]:
    """The current phase, loop health, joints, cameras, policy and strategy state; ``phase`` is ``idle`` (and
    ``session_id`` null) while no session runs. ``server_id`` changes when the server restarts."""
    return cache.get()


@router.get("/config", operation_id="config")
def config(host: HostDep) -> dict[str, Any]:
    """The effective configuration (every option, defaults included) as JSON: the running session's, else the
    last session's, else the command line's."""
    session = host.last_session
    return (session.config if session is not None else host.config).model_dump(mode="json")


@router.get("/cameras", response_model=list[CameraInfo], operation_id="cameras")
def cameras(host: HostDep) -> list[CameraInfo]:
    """Cameras of the robot and the WebSocket path of each preview stream."""
    return [
        CameraInfo(name=name, width=source.width, height=source.height, fps=source.fps,
                   stream=f"/api/v1/cameras/{name}/ws")
        for name, source in host.cameras.items()
    ]


@router.get("/events", response_model=EventsPublic, operation_id="events")
def events(host: HostDep, since: int = Query(0, ge=0, description="Only events after this seq")) -> EventsPublic:
    """Buffered events after ``since`` (for scripts that poll instead of holding a WebSocket)."""
    items = [EventPublic(**event.to_dict()) for event in host.events.since(since)]
    return EventsPublic(data=items, count=len(items), last_seq=host.events.last_seq)


@router.get("/dataset", operation_id="dataset", responses={404: {"description": "This strategy records nothing"}})
def dataset(session: SessionDep) -> dict[str, Any]:
    """The dataset being recorded: repo id, local root, fps, features, totals, Hub URL."""
    info = session.dataset_info()
    if info is None:
        raise HTTPException(404, f"the {session.describe().strategy} strategy records no dataset")
    return info


@router.get("/episodes", response_model=EpisodesPublic, operation_id="episodes",
            responses={404: {"description": "This strategy records nothing"}})
def episodes(session: SessionDep) -> EpisodesPublic:
    """Saved episodes, oldest first: index, length, duration, task, saved time, uploaded, outcome."""
    items = session.episodes()
    if items is None:
        raise HTTPException(404, f"the {session.describe().strategy} strategy records no dataset")
    return EpisodesPublic(data=[EpisodePublic(**item) for item in items], count=len(items))


def _review(session: SessionDep, index: int) -> dict[str, Any]:
    try:
        review = session.episode_review(index)
    except RecordingError as exc:
        raise HTTPException(404, str(exc)) from exc
    if review is None:
        raise HTTPException(404, f"the {session.describe().strategy} strategy records no dataset")
    return review


@router.get("/episodes/{index}", operation_id="episode", responses={404: {"description": "No such episode"}})
def episode(session: SessionDep, index: int) -> dict[str, Any]:
    """A saved episode for review: timestamps, state and action curves, intervention flags, video URLs."""
    review = _review(session, index)
    for camera, video in review["videos"].items():
        video.pop("path")
        video["url"] = f"/api/v1/episodes/{index}/videos/{camera}"
    return review


@router.get("/episodes/{index}/videos/{camera}", operation_id="episode-video",
            responses={200: {"content": {"video/mp4": {}}}, 404: {"description": "No such episode or camera"}},
            response_class=FileResponse)
def episode_video(session: SessionDep, index: int, camera: str) -> FileResponse:
    """The MP4 holding this camera's frames of the episode (seek to ``from_timestamp``)."""
    videos = _review(session, index)["videos"]
    if camera not in videos:
        raise HTTPException(404, f"episode {index} has no video for camera {camera!r}")
    return FileResponse(videos[camera]["path"], media_type="video/mp4")
