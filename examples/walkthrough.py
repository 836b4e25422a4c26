# %% [markdown]
# # rollout-console from Python: a walkthrough
#
# Cells for Jupyter / VS Code (`# %%`), or run it whole: `python examples/walkthrough.py http://127.0.0.1:8000`.
# It expects a console recording with the DAgger strategy, e.g.
# `rollout-console --strategy.type=dagger --strategy.record_autonomous=true --dataset.repo_id=me/walkthrough`.
# Only the light client is needed: `pip install ./client`.

# %%
import os
import sys
import tempfile
from pathlib import Path

from rollout_console.client import CommandRejected, Console, LeaseHeld

URL = sys.argv[1] if len(sys.argv) > 1 and "://" in sys.argv[1] else os.environ.get("CONSOLE_URL", "http://127.0.0.1:8000")
console = Console(URL, token=os.environ.get("ROLLOUT_CONSOLE_TOKEN"), name="walkthrough")

# %% [markdown]
# ## Status: a typed snapshot
# `status()` returns a pydantic model shared with the server (`rollout_console.protocol.status.StatusPublic`);
# fields a newer server adds are kept, so an older client still reads it.

# %%
status = console.wait_for("autonomous", timeout=60)
print(f"{status.strategy}: {status.phase} at {status.loop.measured_hz} Hz, policy {status.policy.name}")
print("would do something now:", status.available_commands)

# %% [markdown]
# ## Commands: applied, or a typed error that says why

# %%
print(console.pause())             # CommandReply(name='pause', phase='paused', ...)
print(console.pause().already)     # True: nothing changed
try:
    console.handback()             # not correcting: refused, nothing changed
except CommandRejected as error:
    print("rejected:", error.reason)

# %% [markdown]
# ## Events: an iterator over the WebSocket (replays by sequence number after a reconnect)

# %%
since = console.status().event_seq
console.resume()
for event in console.events(since=since, kinds={"phase_changed"}):
    print(event.seq, event.kind, event.data["previous"], "->", event.data["phase"])
    break

# %% [markdown]
# ## Control: hold the operator lease while a block runs (heartbeats in the background)

# %%
with console.control(label="walkthrough"):
    other = Console(URL, token=os.environ.get("ROLLOUT_CONSOLE_TOKEN"), name="someone-else")
    try:
        other.pause()
    except LeaseHeld as error:
        print("the other client is told who holds control:", error.holder["label"])
    other.close()
    console.pause()
    console.takeover()                                         # correct with the leader arm ...
    console.wait_for(until=lambda s: s.recording.frames >= 30, timeout=60)
    console.handback()
    print(console.save(outcome="failure").detail)              # durable when this returns
    console.resume()

# %% [markdown]
# ## Episodes: list them, download a video

# %%
episodes = console.episodes()
for episode in episodes:
    print(episode.index, episode.length, "frames", episode.outcome)
last = episodes[-1]
camera = next(iter(console.episode(last.index)["videos"]))
video = console.download_video(last.index, camera, Path(tempfile.mkdtemp()) / f"episode_{last.index}_{camera}.mp4")
print("video:", video, video.stat().st_size, "bytes")

# %% [markdown]
# ## Sessions: what ran on this console (and `start_session(config)` while it is idle)

# %%
for record in console.sessions():
    print(record.id, record.strategy, "running" if record.current else record.end_cause, record.episodes_saved)

# %%
console.close()
