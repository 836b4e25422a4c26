"""LeRobotTeleop, the no-prompt guard and the error translation."""

from __future__ import annotations

import builtins
import threading

import pytest
from duck_devices import JOINTS, DuckLeader
from duck_devices import DeviceNotConnectedError as LeRobotNotConnected
from rollout_console.errors import DeviceNotConnectedError, HardwareError
from rollout_console.hardware.lerobot.errors import PromptRefused, calibrate_command, no_prompts, translated
from rollout_console.hardware.lerobot.teleop import LeRobotTeleop
from rollout_console.hardware.protocols import DrivableLeader, Teleoperator


def test_teleop_reads_floats_and_is_not_drivable() -> None:
    leader = DuckLeader()
    teleop = LeRobotTeleop(leader, "duck_leader", {"port": "/dev/ttyACM1", "id": "lead1"})
    assert isinstance(teleop, Teleoperator) and not isinstance(teleop, DrivableLeader)
    assert str(teleop) == "duck_leader lead1" and list(teleop.action_features) == [f"{j}.pos" for j in JOINTS]
    with pytest.raises(DeviceNotConnectedError, match="duck_leader lead1: not connected"):
        teleop.get_action()
    teleop.connect()
    action = teleop.get_action()
    assert action == {f"{j}.pos": float(i) for i, j in enumerate(JOINTS)}
    assert all(type(v) is float for v in action.values())
    teleop.disconnect()
    assert not leader.is_connected and not teleop.is_connected


def test_uncalibrated_leader_is_refused_without_a_prompt() -> None:
    leader = DuckLeader(calibrated=False)
    teleop = LeRobotTeleop(leader, "so101_leader", {"port": "/dev/ttyACM1", "id": "lead1"})
    with pytest.raises(HardwareError) as error:
        teleop.connect()
    command = "lerobot-calibrate --teleop.type=so101_leader --teleop.port=/dev/ttyACM1 --teleop.id=lead1"
    assert command in str(error.value)
    assert not leader.is_connected


def test_calibrate_command_marks_missing_options() -> None:
    assert calibrate_command("robot", "koch_follower", {}) == \
        "lerobot-calibrate --robot.type=koch_follower --robot.port=<port> --robot.id=<id>"


def test_no_prompts_refuses_input_and_restores_it() -> None:
    original = builtins.input
    with no_prompts("arm", "calibrate it first"):
        with pytest.raises(PromptRefused, match=r"^arm: it asked a question on the terminal \('Press ENTER'\).*"
                                                r"calibrate it first$"):
            input("Press   ENTER")
        # other threads are guarded too (input() is looked up in builtins at call time)
        errors = []
        thread = threading.Thread(target=lambda: errors.append(_try_input()))
        thread.start()
        thread.join()
        assert errors == ["refused"]
    assert builtins.input is original
    with pytest.raises(ValueError), no_prompts("arm", "x"):
        raise ValueError("an error inside still restores input()")
    assert builtins.input is original


def _try_input() -> str:
    try:
        input("?")
    except PromptRefused:
        return "refused"
    return "answered"


@pytest.mark.parametrize(("raised", "expected", "text"), [
    (OSError(5, "Input/output error"), HardwareError, "arm: reading failed: OSError: [Errno 5] Input/output error"),
    (LeRobotNotConnected("bus closed"), DeviceNotConnectedError, "arm: reading failed: not connected (bus closed)"),
    (TimeoutError(), HardwareError, "arm: reading failed: TimeoutError: TimeoutError"),
])
def test_translated(raised, expected, text) -> None:
    with pytest.raises(expected) as error, translated("arm", "reading"):
        raise raised
    assert str(error.value) == text and error.value.__cause__ is raised


def test_translated_keeps_our_errors_and_lets_interrupts_through() -> None:
    ours = HardwareError("arm: already ours")
    with pytest.raises(HardwareError) as error, translated("arm", "x"):
        raise ours
    assert error.value is ours
    with pytest.raises(KeyboardInterrupt), translated("arm", "x"):
        raise KeyboardInterrupt
