"""content_to_str and remove_images: what models without vision get to see."""

from __future__ import annotations

from pydantic import BaseModel

from muster.core import FunctionCall, Image
from muster.models import AssistantMessage, FunctionExecutionResult, SystemMessage, UserMessage
from muster.utils import content_to_str, remove_images

PIXEL = Image.from_base64(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


class Point(BaseModel):
    x: int
    y: int


def test_content_to_str() -> None:
    assert content_to_str("plain") == "plain"
    assert content_to_str(Point(x=1, y=2)) == '{"x":1,"y":2}'
    assert content_to_str(["a", PIXEL, "b"]) == "a\n<image>\nb"
    call = FunctionCall(id="1", name="f", arguments="{}")
    assert content_to_str([call]) == str(call)
    result = FunctionExecutionResult(content="ok", name="f", call_id="1")
    assert content_to_str([result]) == str(result)


def test_remove_images_only_rebuilds_list_user_messages() -> None:
    system = SystemMessage(content="s")
    text_user = UserMessage(content="hi", source="u")
    assistant = AssistantMessage(content="yo", source="a")
    multi = UserMessage(content=["look", PIXEL], source="u")
    out = remove_images([system, text_user, multi, assistant])
    assert out[0] is system and out[1] is text_user and out[3] is assistant
    assert out[2] == UserMessage(content="look\n<image>", source="u")
    # List content without images is flattened too, as AutoGen does.
    assert remove_images([UserMessage(content=["a", "b"], source="u")]) == [
        UserMessage(content="a\nb", source="u")
    ]
