"""Action liveness on frame sequences built from a real photo with the geometry changed, and the
challenge lifecycle."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.face_edits import close_eyes, turn
from models.errors import InvalidInput
from models.liveness.action import ActionDetector
from models.liveness.challenges import ACTIONS, ChallengeExpired, ChallengeStore, ChallengeUsed, UnknownChallenge
from models.liveness.types import ActionInput
from models.registry import create_model
from tests.conftest import rgb


@pytest.fixture(scope="module")
def model():
    return create_model("liveness-action-dlib")


@pytest.fixture(scope="module")
def frames(model, photo_paths):
    """open, eyes closed, turned to the customer's left (nose to image right), turned right."""
    a = rgb(photo_paths["astronaut"])
    face = model.faces.detect(a)[0]
    cx = (face.box[0] + face.box[2]) / 2
    return {"open": a, "closed": close_eyes(a, np.asarray(face.landmarks)),
            "left": turn(a, "right", 0.5, cx), "right": turn(a, "left", 0.5, cx)}


def run(model, seq, actions):
    return model.predict(ActionInput(images=seq, timestamps_ms=[100.0 * i for i in range(len(seq))],
                                     actions=actions))


def test_blink_then_turns_in_order_is_live(model, frames):
    f = frames
    seq = ([f["open"]] * 3 + [f["closed"]] + [f["open"]] * 2 + [f["left"]] * 2 + [f["open"]] * 2
           + [f["right"], f["open"]])
    out = run(model, seq, ["blink", "turn_left", "turn_right"])
    assert out.live, out.reasons
    assert [(r.action, r.frame) for r in out.actions] == [("blink", 3), ("turn_left", 6), ("turn_right", 10)]
    assert out.actions[0].at_ms == 300.0 and out.actions[0].peak < 0.25
    assert out.actions[1].peak >= 15 and out.actions[2].peak <= -15
    assert out.same_person and out.min_similarity > 0.9
    assert out.best_frame is not None and seq[out.best_frame] is f["open"] and out.best_image_b64


def test_a_still_photo_performs_no_action(model, frames):
    out = run(model, [frames["open"]] * 8, ["blink", "turn_left"])
    assert not out.live
    assert [r.detected for r in out.actions] == [False, False]
    assert "blink not seen" in out.reasons


def test_actions_out_of_order_fail(model, frames):
    f = frames
    seq = [f["open"]] * 3 + [f["left"]] + [f["open"]] * 2 + [f["closed"], f["open"]]
    assert run(model, seq, ["turn_left", "blink"]).live
    out = run(model, seq, ["blink", "turn_left"])
    assert not out.live and "turn left not seen after the previous action" in out.reasons


def test_eyes_that_never_reopen_are_not_a_blink(model, frames):
    out = run(model, [frames["open"]] * 3 + [frames["closed"]] * 3, ["blink"])
    assert not out.live


def test_a_different_person_midway_fails(model, frames, photo_paths):
    other = rgb(photo_paths["grace"])
    seq = [frames["open"]] * 3 + [frames["closed"], frames["open"]] + [other] * 3
    out = run(model, seq, ["blink"])
    assert out.actions[0].detected and not out.same_person and not out.live
    assert any("face changed" in r for r in out.reasons)


def test_bad_requests(model, frames):
    with pytest.raises(InvalidInput, match="actions"):
        run(model, [frames["open"]] * 2, ["dance"])
    with pytest.raises(InvalidInput):
        model.predict(ActionInput(images=[], timestamps_ms=[], actions=["blink"]))
    with pytest.raises(InvalidInput, match="timestamps"):
        model.predict(ActionInput(images=[frames["open"]], timestamps_ms=[], actions=["blink"]))


def test_detector_by_hand():
    d = ActionDetector()
    track = [(i, {"yaw": y, "pitch": p, "ear": e, "mar": m}) for i, (y, p, e, m) in enumerate(
        [(0, 0, 0.30, 0.1), (0, 0, 0.30, 0.1), (0, 0, 0.30, 0.1), (0, -10, 0.30, 0.1), (0, -1, 0.12, 0.6),
         (0, 0, 0.31, 0.1), (-20, 0, 0.30, 0.1)])]
    base = d.baseline([t for _, t in track])
    assert base["yaw"] == 0 and base["pitch"] == 0 and base["ear"] == pytest.approx(0.30)
    assert d.find("nod", track, base, 0)[0] == 3
    assert d.find("blink", track, base, 0)[0] == 4
    assert d.find("open_mouth", track, base, 0)[0] == 4
    assert d.find("turn_right", track, base, 0) == (6, -20)
    assert d.find("turn_left", track, base, 0) is None
    assert d.find("blink", track, base, 5) is None


def test_challenge_lifecycle(tmp_path):
    store = ChallengeStore(tmp_path / "c.db", ttl_s=60)
    c = store.issue(now=1000.0)
    assert 2 <= len(c["actions"]) <= 3 and len(set(c["actions"])) == len(c["actions"])
    assert set(c["actions"]) <= set(ACTIONS) and c["expires_at"] == 1060.0
    assert store.redeem(c["challenge_id"], now=1010.0) == c["actions"]
    with pytest.raises(ChallengeUsed):
        store.redeem(c["challenge_id"], now=1011.0)
    late = store.issue(now=2000.0)
    with pytest.raises(ChallengeExpired):
        store.redeem(late["challenge_id"], now=2061.0)
    with pytest.raises(UnknownChallenge):
        store.redeem("no-such-challenge")
    # another store on the same file (another replica) sees the same state
    other = ChallengeStore(tmp_path / "c.db")
    fresh = store.issue(n_actions=2)
    assert other.redeem(fresh["challenge_id"]) == fresh["actions"]
    with pytest.raises(ChallengeUsed):
        store.redeem(fresh["challenge_id"])
    ids = {store.issue()["challenge_id"] for _ in range(20)}
    assert len(ids) == 20
